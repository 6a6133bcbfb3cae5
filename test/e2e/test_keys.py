# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Key sets that change while Apache runs (zt_keys): a JWKS file rewritten
in place of the old one, `jwks url` and `jwks discover` against a small
HTTP server on 127.0.0.1 started by the test, key rotation picked up on
the first token that names the new key, the last good set kept when the
server fails, refetches bounded by refetch_min, and TLS verified.

Nothing leaves the machine: every server is on 127.0.0.1."""

import datetime
import http.server
import ipaddress
import json
import os
import re
import ssl
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import zt_e2e
from zt_e2e import api_body, assert_challenge, claims, free_port, sign

ISS = "https://idp.test/keys"
AUD = "orders-api"

POLICY = """\
# Written by test_keys.py.
policy "keys"

issuer corp "{iss}" {{
    audience     "{aud}"
    algorithms   ES256
    {source}
}}

route GET /orders

allow GET /orders when "orders:read" in token.scope
"""


# ---------------------------------------------------------------------------
# A JWKS server on loopback

class JwksServer:
    """Serves {path: (status, content type, body)} on 127.0.0.1 and counts
    the GETs of each path.  Over TLS with a self-signed certificate when
    @tls is set."""

    def __init__(self, tls=False, certdir=None):
        self.routes = {}
        self.hits = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):           # noqa: N802 - http.server's name
                with outer.lock:
                    outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                    status, ctype, body = outer.routes.get(
                        self.path, (404, "text/plain", b"not here"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.scheme = "http"
        if tls:
            cert, key = self_signed(certdir)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                                server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def base(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def url(self, path):
        return self.base + path

    def set(self, path, doc, status=200, ctype="application/json"):
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        with self.lock:
            self.routes[path] = (status, ctype, body)

    def count(self, path):
        with self.lock:
            return self.hits.get(path, 0)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def self_signed(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(key, hashes.SHA256()))
    cpath = os.path.join(directory, "tls.crt")
    kpath = os.path.join(directory, "tls.key")
    with open(cpath, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(kpath, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cpath, kpath


@pytest.fixture
def jwks_server():
    made = []

    def make(**kw):
        s = JwksServer(**kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


# ---------------------------------------------------------------------------
# Keys, tokens, servers

class Signer:
    def __init__(self, kid):
        self.kid = kid
        self.key = ec.generate_private_key(ec.SECP256R1())

    def jwk(self):
        return zt_e2e._jwk(self.key, self.kid, "ES256")

    def token(self, iss=ISS, **extra):
        return sign(None, claims(iss=iss, aud=AUD, scope="orders:read",
                                 **extra),
                    alg="ES256", kid=self.kid, key=self.key)


def jwks(*signers):
    return {"keys": [s.jwk() for s in signers]}


def write_json(path, doc):
    """Replace @path atomically, as an operator's tooling should."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


def keys_server(servers, zt_cfg, source, iss=ISS, before_start=None):
    """An Apache whose one issuer takes its keys from @source (a `jwks`
    line of the language)."""
    srv = servers(api_body("policy/keys.ztb"), start=False, policy=None)
    src = os.path.join(srv.root, "policy", "keys.ztp")
    with open(src, "w") as f:
        f.write(POLICY.format(iss=iss, aud=AUD, source=source))
    if before_start:
        before_start(srv)
    zt_e2e.compile_policy(zt_cfg, src, os.path.join(srv.root, "policy",
                                                    "keys.ztb"))
    srv.start()
    return srv


def wait_for(pred, timeout=8.0, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def status(srv, token):
    return srv.get("/orders", token).status_code


def description(r):
    m = re.search(r'error_description="([^"]*)"', r.headers.get(
        "WWW-Authenticate", ""))
    return m.group(1) if m else None


# Two children (zt_e2e.CONF_HEAD: StartServers 2), each with its own
# refresher: at start each fetches once.
CHILDREN = 2


# ---------------------------------------------------------------------------
# jwks file

def test_file_rewritten_while_running(servers, zt_cfg, allow_log):
    """A new kid in the JWKS file is accepted without a restart, a kid
    dropped from it is refused, a broken rewrite keeps the last good set."""
    k1, k2 = Signer("f1"), Signer("f2")
    path = {}

    def write_keys(srv):
        path["p"] = os.path.join(srv.root, "policy", "corp.jwks.json")
        write_json(path["p"], jwks(k1))

    srv = keys_server(servers, zt_cfg, 'jwks file "corp.jwks.json"',
                      before_start=write_keys)
    assert status(srv, k1.token()) == 200
    r = srv.get("/orders", k2.token())
    assert_challenge(r, "invalid_token")
    assert description(r) == "no key with the token's kid"

    pos = srv.errlog.mark()
    write_json(path["p"], jwks(k1, k2))
    assert wait_for(lambda: status(srv, k2.token()) == 200, 5)
    # Every child has it within a second, by its refresher (requests
    # cannot choose their child, so wait that second out).
    time.sleep(1.5)
    for _ in range(8):
        assert status(srv, k2.token()) == 200
    assert status(srv, k1.token()) == 200
    log = srv.errlog.since(pos)
    assert "ZT00021" in log and "corp.jwks.json" in log, log

    # Broken: kept, with a warning (once per child, not every second).
    allow_log.append("ZT00022")
    pos = srv.errlog.mark()
    write_json(path["p"], '{"keys": [')
    assert wait_for(lambda: srv.errlog.since(pos).count("ZT00022") >= CHILDREN,
                    5)
    time.sleep(2.5)
    assert srv.errlog.since(pos).count("ZT00022") == CHILDREN
    assert "keeping the key set" in srv.errlog.since(pos)
    for _ in range(6):
        assert status(srv, k2.token()) == 200

    # k1 retired: its tokens are refused once every child re-read the file.
    write_json(path["p"], jwks(k2))
    assert wait_for(lambda: all(status(srv, k1.token()) == 401
                                for _ in range(8)), 5)
    assert status(srv, k2.token()) == 200


# ---------------------------------------------------------------------------
# jwks url

def test_url_fetched_at_child_start(servers, zt_cfg, jwks_server):
    js = jwks_server()
    k1 = Signer("u1")
    js.set("/jwks", jwks(k1))
    srv = keys_server(servers, zt_cfg,
                      'jwks url "%s"' % js.url("/jwks"))
    # Each child fetches once at start, before any token asks.
    assert wait_for(lambda: js.count("/jwks") >= CHILDREN, 5)
    for _ in range(10):
        assert status(srv, k1.token()) == 200
    assert js.count("/jwks") == CHILDREN
    log = srv.errlog.all()
    assert "ZT00021" in log and js.url("/jwks") in log, log


def test_url_rotation_first_use(servers, zt_cfg, jwks_server):
    """The IdP adds a key and signs with it at once: the first token that
    names it is accepted (unknown kid -> one refetch), the old key's tokens
    still pass while the set holds it, and unknown kids cannot make the
    module fetch more than once per refetch_min per child."""
    js = jwks_server()
    k1, k2 = Signer("r1"), Signer("r2")
    js.set("/jwks", jwks(k1))
    srv = keys_server(servers, zt_cfg,
                      'jwks url "%s"\n    refresh 1h\n    refetch_min 60s'
                      % js.url("/jwks"))
    assert wait_for(lambda: js.count("/jwks") >= CHILDREN, 5)
    assert status(srv, k1.token()) == 200

    js.set("/jwks", jwks(k2, k1))
    pos = srv.errlog.mark()
    # First use, and every later use, in whichever child serves it.
    for _ in range(10):
        r = srv.get("/orders", k2.token())
        assert r.status_code == 200, (r.status_code, r.headers)
    assert status(srv, k1.token()) == 200
    fetched = js.count("/jwks")
    assert CHILDREN < fetched <= 2 * CHILDREN, fetched
    assert "ZT00025" in srv.errlog.since(pos)

    # A flood of unknown kids: no fetch beyond refetch_min's allowance.
    for i in range(30):
        r = srv.get("/orders", Signer("nope%d" % i).token())
        assert_challenge(r, "invalid_token")
        assert description(r) == "no key with the token's kid"
    assert js.count("/jwks") <= 2 * CHILDREN


def test_url_refresh_and_last_good(servers, zt_cfg, jwks_server, allow_log):
    """Refreshed every `refresh`: a key removed at the IdP stops working
    without any token asking; a failing IdP leaves the last good set."""
    js = jwks_server()
    k1, k2 = Signer("s1"), Signer("s2")
    js.set("/jwks", jwks(k1, k2))
    srv = keys_server(servers, zt_cfg,
                      'jwks url "%s"\n    refresh 1s\n    refetch_min 1h'
                      % js.url("/jwks"))
    assert wait_for(lambda: js.count("/jwks") >= CHILDREN, 5)
    assert status(srv, k1.token()) == 200
    js.set("/jwks", jwks(k2))
    assert wait_for(lambda: all(status(srv, k1.token()) == 401
                                for _ in range(8)), 6)
    assert status(srv, k2.token()) == 200

    allow_log.append("ZT00022")
    pos = srv.errlog.mark()
    js.set("/jwks", b"<html>maintenance</html>", ctype="text/html")
    assert wait_for(lambda: "ZT00022" in srv.errlog.since(pos), 6)
    js.set("/jwks", b"", status=503, ctype="text/plain")
    time.sleep(2)
    for _ in range(8):
        assert status(srv, k2.token()) == 200
    log = srv.errlog.since(pos)
    assert "keeping the key set" in log, log
    assert "text/html" in log or "HTTP 503" in log, log


def test_url_unreachable_fails_closed(servers, zt_cfg, allow_log):
    """No set ever fetched: tokens are refused, saying why, and the
    operator reads the cause in the error log."""
    allow_log.append("ZT00023")
    port = free_port()              # nothing listens there
    srv = keys_server(servers, zt_cfg,
                      'jwks url "http://127.0.0.1:%d/jwks"' % port)
    r = srv.get("/orders", Signer("x1").token())
    assert_challenge(r, "invalid_token")
    assert description(r) == "the issuer's keys are not available"
    assert wait_for(lambda: "ZT00023" in srv.errlog.all(), 5)
    assert "no key set yet" in srv.errlog.all()


def test_url_tls_is_verified(servers, zt_cfg, jwks_server, workdir,
                             allow_log):
    """https with a certificate no CA vouches for: refused, not fetched
    blindly."""
    allow_log.append("ZT00023")
    js = jwks_server(tls=True, certdir=workdir)
    k1 = Signer("t1")
    js.set("/jwks", jwks(k1))
    srv = keys_server(servers, zt_cfg, 'jwks url "%s"' % js.url("/jwks"))
    assert wait_for(lambda: "ZT00023" in srv.errlog.all(), 5)
    r = srv.get("/orders", k1.token())
    assert_challenge(r, "invalid_token")
    assert description(r) == "the issuer's keys are not available"
    assert js.count("/jwks") == 0       # the handshake failed: no GET
    assert re.search(r"ZT00023.*(SSL|certificate)", srv.errlog.all()), \
        srv.errlog.all()


# ---------------------------------------------------------------------------
# jwks discover

def test_discover(servers, zt_cfg, jwks_server):
    js = jwks_server()
    k1 = Signer("d1")
    iss = js.base
    js.set("/.well-known/openid-configuration",
           {"issuer": iss, "jwks_uri": js.url("/certs"),
            "id_token_signing_alg_values_supported": ["ES256"]})
    js.set("/certs", jwks(k1))
    srv = keys_server(servers, zt_cfg, "jwks discover", iss=iss)
    assert wait_for(lambda: js.count("/certs") >= CHILDREN, 5)
    assert status(srv, k1.token(iss=iss)) == 200
    assert js.count("/.well-known/openid-configuration") == CHILDREN


def test_discover_issuer_mismatch(servers, zt_cfg, jwks_server, allow_log):
    """OpenID Discovery 4.3: metadata naming another issuer is refused,
    and its jwks_uri is never fetched."""
    allow_log.append("ZT00023")
    js = jwks_server()
    k1 = Signer("m1")
    iss = js.base
    js.set("/.well-known/openid-configuration",
           {"issuer": "https://evil.test", "jwks_uri": js.url("/certs")})
    js.set("/certs", jwks(k1))
    srv = keys_server(servers, zt_cfg, "jwks discover", iss=iss)
    assert wait_for(lambda: "ZT00023" in srv.errlog.all(), 5)
    r = srv.get("/orders", k1.token(iss=iss))
    assert_challenge(r, "invalid_token")
    assert description(r) == "the issuer's keys are not available"
    assert js.count("/certs") == 0
    assert 'names the issuer "https://evil.test"' in srv.errlog.all()
