# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Helpers of the end-to-end tests: configuration, keys and tokens, a real
Apache started on 127.0.0.1, and readers for its error and audit logs."""

import base64
import configparser
import datetime
import gc
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

HERE = os.path.dirname(os.path.abspath(__file__))

CORP = "https://idp.test/realms/corp"
PARTNER = "https://partner.test"
AUDIENCE = "orders-api"

# Error log lines that always fail a test: anything at error level or
# worse, and every sign of a crashed child.
BAD_LOG = re.compile(r"\[[a-z0-9_]*:(error|crit|alert|emerg)\]"
                     r"|segfault|Segmentation fault|exit signal|core dump"
                     r"|AH00051|AH00052|AddressSanitizer|runtime error:")


class SetupError(Exception):
    """What the tests need is missing: a failure, never a skip."""


# ---------------------------------------------------------------------------
# Where things are

def find_config():
    """config.ini as configure wrote it into the build directory."""
    explicit = os.environ.get("ZT_E2E_CONFIG")
    if explicit:
        if not os.path.isfile(explicit):
            raise SetupError("ZT_E2E_CONFIG=%s does not exist" % explicit)
        return explicit
    candidates = []
    if os.environ.get("ZT_BUILDDIR"):
        candidates.append(os.path.join(os.environ["ZT_BUILDDIR"],
                                       "test/e2e/config.ini"))
    top = os.path.dirname(os.path.dirname(HERE))
    candidates += [os.path.join(HERE, "config.ini"),
                   os.path.join(top, "build/test/e2e/config.ini")]
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise SetupError("no test/e2e/config.ini: run configure in a build "
                     "directory and point ZT_E2E_CONFIG at it (looked in: "
                     + ", ".join(candidates) + ")")


class Config:
    def __init__(self, path):
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(path)
        g = cp["global"]
        self.path = path
        self.httpd = g.get("httpd", "")
        self.apachectl = g.get("apachectl", "")
        self.libexecdir = g.get("libexecdir", "")
        self.srcdir = g.get("srcdir", "")
        self.builddir = g.get("builddir", "")
        self.module = g.get("module", "")
        self.zpc = g.get("zpc", "")

    def check(self):
        problems = []
        if not (self.httpd and os.access(self.httpd, os.X_OK)):
            problems.append("Apache httpd not found (httpd = %r in %s; "
                            "apt-get install apache2)" % (self.httpd, self.path))
        if not os.path.isfile(os.path.join(self.libexecdir,
                                           "mod_authz_core.so")):
            problems.append("Apache modules not found in %r" % self.libexecdir)
        if not os.path.isfile(self.module):
            problems.append("the module is not built: %s is missing "
                            "(make mod_zerotrust.la in %s)"
                            % (self.module, self.builddir))
        if not os.access(self.zpc, os.X_OK):
            problems.append("zpc is not built: %s is missing (make zpc/zpc "
                            "in %s)" % (self.zpc, self.builddir))
        if problems:
            raise SetupError("; ".join(problems))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port6():
    """A free port on [::1], or None when this machine has no IPv6
    loopback."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
            return s.getsockname()[1]
    except OSError:
        return None


def make_tree(root):
    """A directory tree Apache's children (another user, when we are root)
    can read."""
    for sub in ("", "logs", "run", "htdocs", "cgi", "policy"):
        d = os.path.join(root, sub)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)


# ---------------------------------------------------------------------------
# Keys and tokens

def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwk(key, kid, alg):
    pub = key.public_key()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        d = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(pub))
    elif isinstance(key, rsa.RSAPrivateKey):
        d = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(pub))
    else:
        d = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(pub))
    d.update({"kid": kid, "alg": alg, "use": "sig"})
    return d


class Keys:
    """The issuers' signing keys; their public halves go into JWK sets."""

    def __init__(self):
        self.es = ec.generate_private_key(ec.SECP256R1())
        self.rs = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ed = ed25519.Ed25519PrivateKey.generate()
        # Same kids, other keys: what an attacker signs with.
        self.es_evil = ec.generate_private_key(ec.SECP256R1())
        self.rs_evil = rsa.generate_private_key(public_exponent=65537,
                                                key_size=2048)
        self.ed_evil = ed25519.Ed25519PrivateKey.generate()
        # The partner issuer allows ES256 only, but publishes an RSA key too.
        self.p_es = ec.generate_private_key(ec.SECP256R1())
        self.p_rs = rsa.generate_private_key(public_exponent=65537,
                                             key_size=2048)

    def write_jwks(self, directory):
        corp = {"keys": [_jwk(self.es, "es1", "ES256"),
                         _jwk(self.rs, "rs1", "RS256"),
                         _jwk(self.ed, "ed1", "EdDSA")]}
        partner = {"keys": [_jwk(self.p_es, "pes1", "ES256"),
                            _jwk(self.p_rs, "prs1", "RS256")]}
        for name, doc in (("corp.jwks.json", corp),
                          ("partner.jwks.json", partner)):
            path = os.path.join(directory, name)
            with open(path, "w") as f:
                json.dump(doc, f, indent=1)
            os.chmod(path, 0o644)

    def signer(self, alg, evil=False):
        if alg == "ES256":
            return (self.es_evil if evil else self.es), "es1"
        if alg == "RS256":
            return (self.rs_evil if evil else self.rs), "rs1"
        if alg == "EdDSA":
            return (self.ed_evil if evil else self.ed), "ed1"
        raise ValueError(alg)

    def rs_public_pem(self):
        return self.rs.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo)


def claims(sub="alice", iss=CORP, aud=AUDIENCE, lifetime=300, iat=None,
           drop=(), **extra):
    now = int(time.time())
    iat = now if iat is None else iat
    c = {"iss": iss, "sub": sub, "aud": aud, "iat": iat, "exp": iat + lifetime}
    c.update(extra)
    for k in drop:
        c.pop(k, None)
    return {k: v for k, v in c.items() if v is not None}


def sign(keys, payload, alg="ES256", kid=None, evil=False, headers=None,
         key=None):
    if key is None:
        key, default_kid = keys.signer(alg, evil)
        kid = default_kid if kid is None else kid
    h = {"kid": kid} if kid else {}
    h.update(headers or {})
    return jwt.encode(payload, key, algorithm=alg, headers=h)


def raw_token(header, payload, signature=b""):
    """A token built by hand: unsigned, or with a signature we forge."""
    return "%s.%s.%s" % (b64u(json.dumps(header)), b64u(json.dumps(payload)),
                         b64u(signature) if signature else "")


def hs256_token(secret, header, payload):
    signing_input = "%s.%s" % (b64u(json.dumps(header)),
                               b64u(json.dumps(payload)))
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64u(mac)


# ---------------------------------------------------------------------------
# Certificates: a CA, a server certificate for 127.0.0.1, client certificates

def _name(attrs):
    """An X.509 name from (oid, value) pairs, in the order given (the
    first is the outermost RDN: RFC 2253 prints them reversed)."""
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs])


class Pki:
    """A throw-away certificate authority writing PEM files into
    @directory (readable by Apache's children)."""

    def __init__(self, directory, name="e2e-ca"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        os.chmod(directory, 0o755)
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        subject = _name([(x509.NameOID.COMMON_NAME, name)])
        self.cert = (x509.CertificateBuilder()
                     .subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(hours=1))
                     .not_valid_after(now + datetime.timedelta(days=2))
                     .add_extension(x509.BasicConstraints(ca=True,
                                                          path_length=None),
                                    critical=True)
                     .add_extension(x509.KeyUsage(
                         digital_signature=True, key_cert_sign=True,
                         crl_sign=True, content_commitment=False,
                         key_encipherment=False, data_encipherment=False,
                         key_agreement=False, encipher_only=False,
                         decipher_only=False), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.ca_file = self._write(name + ".pem", self.cert.public_bytes(
            serialization.Encoding.PEM))

    def _write(self, name, data, mode=0o644):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    def issue(self, name, subject, sans=(), server=False):
        """A leaf certificate; @subject is [(oid, value), ...] and @sans a
        list of x509.GeneralName.  Returns (cert_file, key_file)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        usage = (x509.oid.ExtendedKeyUsageOID.SERVER_AUTH if server
                 else x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH)
        b = (x509.CertificateBuilder()
             .subject_name(_name(subject)).issuer_name(self.cert.subject)
             .public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(hours=1))
             .not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                            critical=True)
             .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(list(sans)),
                                critical=False)
        cert = b.sign(self.key, hashes.SHA256())
        cert_file = self._write(name + ".pem", cert.public_bytes(
            serialization.Encoding.PEM))
        key_file = self._write(name + ".key", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()), mode=0o644)
        return cert_file, key_file

    def server(self, name="server"):
        return self.issue(name, [(x509.NameOID.COMMON_NAME, "127.0.0.1")],
                          [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                           x509.DNSName("localhost")], server=True)


def client_context(ca_file, cert=None, tls_max=None):
    """A TLS client context that trusts @ca_file, presents @cert
    ((cert_file, key_file)) if given, and speaks at most @tls_max
    (an ssl.TLSVersion)."""
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.check_hostname = False      # the server certificate names an IP
    if cert:
        ctx.load_cert_chain(*cert)
    if tls_max is not None:
        ctx.maximum_version = tls_max
    return ctx


class Answer:
    """What raw_request got: status, headers, body, and the audit records
    the request produced."""

    def __init__(self, resp, body, audit):
        self.status_code = resp.status
        self.headers = resp.headers
        self.text = body.decode("utf-8", "replace")
        self.audit = audit

    def json(self):
        return json.loads(self.text)


def raw_request(audit, host, port, method, path, headers=None, context=None,
                source=None, timeout=15):
    """One request on a fresh connection, with what requests cannot do:
    a chosen source address, a client certificate, a TLS version; the path
    is sent as given.  @audit is the server's AuditLog."""
    pos = audit.size()
    if context is not None:
        conn = http.client.HTTPSConnection(host, port, context=context,
                                           timeout=timeout,
                                           source_address=source)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                          source_address=source)
    try:
        conn.request(method, path, headers=dict(headers or {}))
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    return Answer(resp, body, audit.records(pos, wait=0.5))


# ---------------------------------------------------------------------------
# Logs

class LogFile:
    """A log that grows: mark() where we are, read what came since."""

    def __init__(self, path):
        self.path = path
        self.pos = 0

    def size(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def mark(self):
        self.pos = self.size()
        return self.pos

    def since(self, pos=None):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos if pos is None else pos)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def all(self):
        return self.since(0)


class ErrorLog(LogFile):
    def bad_lines(self, text, allowed=()):
        out = []
        for line in text.splitlines():
            if BAD_LOG.search(line) and not any(a in line for a in allowed):
                out.append(line)
        return out


class AuditLog(LogFile):
    def records(self, pos=None, wait=0.0):
        deadline = time.time() + wait
        while True:
            text = self.since(pos)
            if text or time.time() >= deadline:
                break
            time.sleep(0.05)
        recs = []
        for line in text.splitlines():
            recs.append(json.loads(line))   # every line must be JSON
        return recs


# ---------------------------------------------------------------------------
# Apache

CONF_HEAD = """\
ServerRoot "{root}"
DefaultRuntimeDir "{root}/run"
PidFile "{root}/run/httpd.pid"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
{user}
LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authn_core_module {mods}/mod_authn_core.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule authz_host_module {mods}/mod_authz_host.so
LoadModule mime_module {mods}/mod_mime.so
LoadModule alias_module {mods}/mod_alias.so
LoadModule cgid_module {mods}/mod_cgid.so
LoadModule setenvif_module {mods}/mod_setenvif.so
LoadModule zerotrust_module {module}

# Two children from the start and never reaped: the idle-process killer
# would close keep-alive connections under the client's feet.
StartServers 2
ServerLimit 2
ThreadsPerChild 8
MaxRequestWorkers 16
MinSpareThreads 1
MaxSpareThreads 16
Timeout 10
ErrorLog "{root}/logs/error.log"
LogLevel warn zerotrust:info
LogFormat "%h %u %t \\"%r\\" %>s %b" common
CustomLog "{root}/logs/access.log" common
ScriptSock "{root}/run/cgid.sock"
TypesConfig /etc/mime.types
DocumentRoot "{root}/htdocs"
"""

ECHO_CGI = """\
#!/usr/bin/python3
# The API behind Apache: shows what the backend receives.
import json, os, sys
# Read the body, as a real API would (and so Apache can finish sending it).
n = int(os.environ.get("CONTENT_LENGTH") or 0)
if n:
    sys.stdin.buffer.read(n)
names = ("REMOTE_USER", "AUTH_TYPE", "PATH_INFO", "REQUEST_METHOD",
         "SSL_PROTOCOL", "SSL_CLIENT_S_DN", "SSL_CLIENT_VERIFY")
env = {k: v for k, v in os.environ.items()
       if k in names or k.startswith("ZT_") or k.startswith("HTTP_")}
sys.stdout.write("Content-Type: application/json\\r\\n\\r\\n")
sys.stdout.write(json.dumps(env))
"""


def api_body(table, extra=""):
    """The usual server body: audit log, the echo CGI as the API, and
    mod_zerotrust guarding everything with @table (relative to the root)."""
    return """\
ZeroTrustAuditLog "logs/audit.log"
ScriptAliasMatch "^/(.*)$" "{root}/cgi/echo.py/$1"
<Directory "{root}/cgi">
    Options +ExecCGI
</Directory>
<Location "/">
    ZeroTrustPolicy "%s"
    AuthType ZeroTrust
    AuthName "api"
    Require zerotrust
</Location>
""" % table + extra


class Httpd:
    """One Apache: a config, a port, its logs; start, stop, configtest."""

    def __init__(self, cfg, root, body, name="httpd"):
        self.cfg = cfg
        self.root = root
        self.port = free_port()
        self.conf = os.path.join(root, name + ".conf")
        self.body = body
        self.errlog = ErrorLog(os.path.join(root, "logs/error.log"))
        self.audit = AuditLog(os.path.join(root, "logs/audit.log"))
        self.pidfile = os.path.join(root, "run/httpd.pid")
        self.started = False
        self.write_conf()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def write_conf(self, body=None):
        if body is not None:
            self.body = body
        user = ""
        if os.geteuid() == 0:
            user = "User www-data\nGroup www-data"
        head = CONF_HEAD.format(root=self.root, port=self.port, user=user,
                                mods=self.cfg.libexecdir,
                                module=self.cfg.module)
        # Cores of crashed children, for debugging: the directory must be
        # writable by the children's user, and `ulimit -c` non-zero.
        if os.environ.get("ZT_E2E_COREDIR"):
            head += 'CoreDumpDirectory "%s"\n' % os.environ["ZT_E2E_COREDIR"]
        with open(self.conf, "w") as f:
            f.write(head + self.body.format(root=self.root))

    def run(self, *args, timeout=30):
        env = dict(os.environ)
        # A module built with --enable-sanitizers needs the runtime loaded
        # first: ZT_E2E_HTTPD_PRELOAD=$(gcc -print-file-name=libasan.so).
        # Its reports land in the error log, which the guard reads.
        if os.environ.get("ZT_E2E_HTTPD_PRELOAD"):
            env["LD_PRELOAD"] = os.environ["ZT_E2E_HTTPD_PRELOAD"]
            env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        p = subprocess.run([self.cfg.httpd, "-f", self.conf] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, cwd=self.root, env=env)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def configtest(self):
        return self.run("-t")

    def pid(self):
        try:
            with open(self.pidfile) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def alive(self, pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def start(self):
        rc, out = self.run("-k", "start")
        if rc != 0:
            raise SetupError("apache did not start (exit %d):\n%s\n%s"
                             % (rc, out, self.errlog.all()[-3000:]))
        self.started = True
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5):
                    if self.pid():
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise SetupError("apache started but does not listen on port %d:\n%s"
                         % (self.port, self.errlog.all()[-3000:]))

    def graceful(self):
        rc, out = self.run("-k", "graceful")
        assert rc == 0, out

    @staticmethod
    def settle():
        """Let the server finish with the connections the test has just
        closed before stopping it.  An ungraceful stop (`-k stop`, SIGTERM)
        makes httpd 2.4's event MPM close the sockets its workers hold
        (close_worker_sockets); a worker that is just destroying a closed
        connection's pool leaves a dangling pointer there, and the child
        segfaults in apr_os_sock_get.  A core of this suite showed exactly
        that, with no module frame on any stack.  So: drop the clients'
        unreferenced connections now, and give the workers a moment."""
        gc.collect()
        time.sleep(0.2)

    def stop(self):
        if not self.started:
            return
        pid = self.pid()
        # `-k stop` parses the configuration first and refuses when a test
        # has broken it (a mangled table), which left whole servers running
        # after the suite: then send its SIGTERM ourselves.
        self.settle()
        rc, _ = self.run("-k", "stop")
        if rc != 0 and pid and self.alive(pid):
            os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 15
        while pid and self.alive(pid) and time.time() < deadline:
            time.sleep(0.05)
        if pid and self.alive(pid):
            os.kill(pid, signal.SIGKILL)
        # Children outlive a killed parent: none may stay behind.
        subprocess.run(["pkill", "-KILL", "-f", os.path.join(self.root, "httpd.conf")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started = False


def compile_policy(cfg, src, out):
    # From the policy's directory, as an operator would: rules then name
    # "api.ztp:34" in logs and ZT_RULE.
    p = subprocess.run([cfg.zpc, "compile", os.path.basename(src), "-o",
                        os.path.abspath(out)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60, cwd=os.path.dirname(os.path.abspath(src)))
    if p.returncode != 0:
        raise SetupError("zpc compile %s failed (exit %d):\n%s"
                         % (src, p.returncode, p.stdout.decode()))
    os.chmod(out, 0o644)
    return out


def install_cgi(root):
    path = os.path.join(root, "cgi/echo.py")
    with open(path, "w") as f:
        f.write(ECHO_CGI)
    os.chmod(path, 0o755)
    return path


def copy_policy(root, name="api.ztp"):
    dst = os.path.join(root, "policy", name)
    shutil.copy(os.path.join(HERE, name), dst)
    return dst


# ---------------------------------------------------------------------------
# Assertions on answers

def assert_problem(r, status):
    """An RFC 9457 problem+json answer with @status; returns the body."""
    assert r.status_code == status, (r.status_code, r.headers, r.text)
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/problem+json", ctype
    body = r.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    return body


def assert_challenge(r, error=None):
    """401 with a Bearer challenge; @error is None for "no credentials"."""
    assert r.status_code == 401, (r.status_code, r.text)
    chal = r.headers.get("WWW-Authenticate", "")
    assert chal.startswith("Bearer "), chal
    assert 'realm="' in chal
    if error is None:
        assert "error=" not in chal, chal
    else:
        assert 'error="%s"' % error in chal, chal
        assert 'error_description="' in chal, chal
    assert_problem(r, 401)
    return chal


def one_record(r):
    assert len(r.audit) == 1, r.audit
    return r.audit[0]
