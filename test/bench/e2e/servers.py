# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""The Apache servers of the end-to-end benchmark: one configuration head
(MPM event, identical for all), and a body per configuration.  Start and
stop come from the end-to-end tests' Httpd (test/e2e/zt_e2e.py)."""

import datetime
import http.server
import os
import ssl
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import zt_e2e

SYSTEM_MODULES = "/usr/lib/apache2/modules"

# The same for every server; docs/BENCHMARKS.md repeats it.  Two children
# from the start, never reaped (MaxSpareThreads = MaxRequestWorkers), so
# the process count and the memory figures are those of the whole run;
# keep-alive without a request limit, so wrk measures requests, not
# connection setup; no access log (the module's audit log is on).
HEAD = """\
ServerRoot "{root}"
DefaultRuntimeDir "{root}/run"
PidFile "{root}/run/httpd.pid"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
{user}
LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authn_core_module {mods}/mod_authn_core.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule mime_module {mods}/mod_mime.so
LoadModule alias_module {mods}/mod_alias.so
StartServers 2
ServerLimit 2
ThreadLimit 32
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 1
MaxSpareThreads 64
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 15
Timeout 10
ErrorLog "{root}/logs/error.log"
LogLevel warn
TypesConfig /etc/mime.types
DocumentRoot "{root}/htdocs"
# As Debian's apache2.conf: no .htaccess lookups on every request.
<Directory />
    AllowOverride None
</Directory>
# Every API path is one small static file: what varies is the guard.
AliasMatch "^/s[0-9]+/orders(/[^/]+)?$" "{root}/htdocs/order.json"
"""

ORDER_JSON = '{"id":"42","status":"shipped","items":3,"total":"129.90"}\n'

PLAIN = """\
<Location "/">
    Require all granted
</Location>
"""

ZEROTRUST = """\
LoadModule zerotrust_module {module}
{audit}ZeroTrustAuditLog "logs/audit.log"
# wrk talks plain HTTP on loopback, as it does to the other servers.
ZeroTrustRequireTLS Off
<Location "/">
    ZeroTrustPolicy "{policy}"
    AuthType ZeroTrust
    AuthName "bench"
    Require zerotrust
</Location>
"""

# OAuth 2.0 resource server mode, local verification with the issuer's
# key set, fetched once over https from JwksServer (the Debian 2.4.12.3
# crashes in configtest on an EC key in OIDCOAuthVerifyCertFiles, and
# wants an https URL); issuer, audience and the role by Require claim.
OPENIDC = """\
LoadModule auth_openidc_module {sysmods}/mod_auth_openidc.so
OIDCCryptoPassphrase "bench-only-passphrase"
OIDCOAuthVerifyJwksUri "{jwks_url}"
OIDCOAuthSSLValidateServer Off
OIDCOAuthRemoteUserClaim sub
<Location "/">
    AuthType oauth20
    <RequireAll>
        Require claim iss:{issuer}
        Require claim aud:{audience}
        Require claim roles:{role}
    </RequireAll>
</Location>
"""

# mod_oauth2 with the key as a JWK; exp and iat required; issuer, audience
# and the role by Require oauth2_claim.
OAUTH2 = """\
LoadModule oauth2_module {sysmods}/mod_oauth2.so
<Location "/">
    AuthType oauth2
    OAuth2TokenVerify jwk "{jwk}" verify.exp=required&verify.iat=required
    <RequireAll>
        Require oauth2_claim iss:{issuer}
        Require oauth2_claim aud:{audience}
        Require oauth2_claim roles:{role}
    </RequireAll>
</Location>
"""


class Server(zt_e2e.Httpd):
    """An Apache of the benchmark: HEAD plus @body, in its own root."""

    def __init__(self, cfg, root, name, body, algs):
        self.name = name
        self.algs = algs            # token algorithms it verifies
        zt_e2e.make_tree(root)
        path = os.path.join(root, "htdocs/order.json")
        with open(path, "w") as f:
            f.write(ORDER_JSON)
        os.chmod(path, 0o644)
        super().__init__(cfg, root, body, name="httpd")

    def write_conf(self, body=None):
        if body is not None:
            self.body = body
        user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
        head = HEAD.format(root=self.root, port=self.port, user=user,
                           mods=self.cfg.libexecdir)
        with open(self.conf, "w") as f:
            f.write(head + self.body)

    def children(self):
        """PIDs of the master's child processes."""
        master = self.pid()
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                out.append(int(entry))
        return sorted(out)

    def cpu_seconds(self):
        """User + system CPU time of the master and its children so far
        (children that exited are not counted: ours never do)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in [self.pid()] + self.children():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])   # utime, stime
        return total / tick

    def memory_kib(self):
        """{pid: (Rss, Pss, Private)} in KiB, master and children."""
        out = {}
        for pid in [self.pid()] + self.children():
            vals = {}
            try:
                with open("/proc/%d/smaps_rollup" % pid) as f:
                    for line in f:
                        k, _, v = line.partition(":")
                        if k in ("Rss", "Pss", "Private_Clean",
                                 "Private_Dirty"):
                            vals[k] = int(v.split()[0])
            except OSError:
                continue
            out[pid] = (vals.get("Rss", 0), vals.get("Pss", 0),
                        vals.get("Private_Clean", 0)
                        + vals.get("Private_Dirty", 0))
        return out


class JwksServer:
    """A key set served over https on 127.0.0.1 from a thread of this
    process, with a throw-away self-signed certificate."""

    def __init__(self, directory, jwks_path):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                             "127.0.0.1")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name)
                .issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=7))
                .sign(key, hashes.SHA256()))
        pem = os.path.join(directory, "jwks-tls.pem")
        with open(pem, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(jwks_path, "rb") as f:
            body = f.read()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pem)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                            server_side=True)
        self.url = "https://127.0.0.1:%d/jwks.json" % \
            self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever,
                         daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
