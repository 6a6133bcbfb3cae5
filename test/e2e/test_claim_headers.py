# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""ZeroTrustClaimHeader: claims reach the backend as headers, forged
incoming headers of those names never do."""

import http.server
import json
import threading

import pytest

from zt_e2e import api_body, claims, sign
from test_config import assert_configtest_fails

READ = "orders:read"
CLAIM_HEADERS = """\
<Location "/">
    ZeroTrustClaimHeader email X-User-Email
    ZeroTrustClaimHeader realm_access.roles X-User-Roles
    ZeroTrustClaimHeader level X-User-Level
    ZeroTrustClaimHeader verified X-User-Verified
    ZeroTrustClaimHeader extra X-User-Extra
</Location>
"""
FORGED = {"X-User-Email": "mallory@evil.test", "X-User-Roles": "admin",
          "X-User-Extra": "mallory"}


@pytest.fixture
def srv(servers):
    return servers(api_body("policy/api.ztb", CLAIM_HEADERS))


def token(keys, **extra):
    return sign(keys, claims(sub="alice", scope=READ, **extra))


def test_allowed_request_gets_claim_headers(srv, keys):
    r = srv.get("/orders/9", token(
        keys, email="alice@corp.test", level=3, verified=True,
        realm_access={"roles": ["user", "auditor"]}, extra={"a": 1}))
    assert r.status_code == 200
    env = r.json()
    assert env["HTTP_X_USER_EMAIL"] == "alice@corp.test"
    assert env["HTTP_X_USER_ROLES"] == "user, auditor"
    assert env["HTTP_X_USER_LEVEL"] == "3"
    assert env["HTTP_X_USER_VERIFIED"] == "true"
    assert "HTTP_X_USER_EXTRA" not in env       # an object: no header


def test_missing_claim_and_mixed_array_give_no_header(srv, keys):
    r = srv.get("/orders/9", token(keys, realm_access={"roles": ["a", 1]}),
                headers=FORGED)
    assert r.status_code == 200
    env = r.json()
    for name in ("HTTP_X_USER_EMAIL", "HTTP_X_USER_ROLES",
                 "HTTP_X_USER_EXTRA"):
        assert name not in env, (name, env)


def test_forged_header_stripped_on_allowed(srv, keys):
    r = srv.get("/orders/9", token(keys, email="alice@corp.test"),
                headers=FORGED)
    assert r.status_code == 200
    env = r.json()
    assert env["HTTP_X_USER_EMAIL"] == "alice@corp.test"
    assert "HTTP_X_USER_ROLES" not in env
    assert "mallory" not in repr(env)


def test_forged_header_stripped_on_public_route(srv):
    r = srv.get("/health", headers=FORGED)
    assert r.status_code == 200
    env = r.json()
    assert "HTTP_X_USER_EMAIL" not in env
    assert "HTTP_X_USER_ROLES" not in env
    assert "mallory" not in repr(env)


def test_forged_header_on_refused_request(srv, keys):
    # A refusal never reaches the backend (the module answers itself), so
    # the strip, done before any decision, cannot be seen here; what is
    # checked is that the forged value is neither echoed nor obeyed.
    for method, path, tok in (("DELETE", "/orders/9", True),
                              ("GET", "/orders", False)):
        r = srv.req(method, path,
                    token(keys, email="alice@corp.test") if tok else None,
                    headers=FORGED)
        assert r.status_code == (403 if tok else 401), (method, r.text)
        assert r.headers["content-type"].startswith("application/problem")
        assert "mallory" not in r.text and "HTTP_" not in r.text


def test_control_characters_never_reach_backend(srv, keys):
    for bad in ("alice\r\nX-Admin: 1", "alice\nx", "alice\rx",
                "alice\u007f", "\u001b[31m"):
        r = srv.get("/orders/9", token(
            keys, email=bad, realm_access={"roles": ["user", bad]}),
            headers=FORGED)
        assert r.status_code == 200, bad
        env = r.json()
        assert "HTTP_X_USER_EMAIL" not in env, (bad, env)
        assert "HTTP_X_USER_ROLES" not in env, (bad, env)
        assert "HTTP_X_ADMIN" not in env, (bad, env)
        assert "mallory" not in repr(env)


def test_nul_in_claim_refuses_the_token(srv, keys):
    # The token stage refuses a NUL in any string; nothing reaches the API.
    r = srv.get("/orders/9", token(keys, email="alice\u0000root"),
                headers=FORGED)
    assert r.status_code == 401
    assert "mallory" not in r.text


def assert_directive_fails(servers, args, needle):
    body = api_body("policy/api.ztb", '<Location "/">\n'
                    '    ZeroTrustClaimHeader %s\n</Location>\n' % args)
    srv = servers(body, start=False)
    assert_configtest_fails(srv, "ZeroTrustClaimHeader", needle)


# httpd drops an empty argument: then the argument count is wrong.
@pytest.mark.parametrize("name", ["X User", "X-User:", "", "X-\u00dcser",
                                  "X(User)"])
def test_bad_header_name_fails_configtest(servers, name):
    assert_directive_fails(servers, 'email "%s"' % name,
                           "header name" if name else "two arguments")


# Stripped from every request, these would break it: the body (framing),
# the token, the virtual host.
@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding",
                                  "Authorization", "DPoP", "Host",
                                  "Connection", "Expect", "Cookie"])
def test_request_headers_cannot_carry_claims(servers, name):
    assert_directive_fails(servers, "email %s" % name,
                           "part of the request itself")


@pytest.mark.parametrize("claim", ["", ".email", "a..b", "email."])
def test_bad_claim_path_fails_configtest(servers, claim):
    assert_directive_fails(servers, '"%s" X-User' % claim,
                           "claim name" if claim else "two arguments")


# ---------------------------------------------------------------------------
# Through mod_proxy to a real backend on loopback that echoes the headers
# it received: what an API behind a reverse proxy actually sees.

class Backend:
    """An HTTP server in this process: every request is answered with the
    JSON of its path and headers and kept in .seen; a path ending in /404
    is answered 404."""

    def __init__(self):
        seen = self.seen = []

        class Echo(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                got = {"path": self.path,
                       "headers": {k.lower(): v for k, v
                                   in self.headers.items()}}
                seen.append(got)
                body = json.dumps(got).encode()
                self.send_response(404 if self.path.endswith("/404")
                                   else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def backend():
    b = Backend()
    yield b
    b.close()


# /open/ is under the API but needs no token (Require all granted, so
# mod_zerotrust never runs there): forged claim headers are still removed.
# A 404 from the backend becomes an internal redirect to /health
# (ErrorDocument): the redirected request keeps the headers the module set
# and gets no forged ones back.
PROXY_HEAD = """\
ZeroTrustAuditLog "logs/audit.log"
LoadModule proxy_module %(mods)s/mod_proxy.so
LoadModule proxy_http_module %(mods)s/mod_proxy_http.so
ProxyPass "/" "http://127.0.0.1:%(port)d/"
ProxyErrorOverride On
ErrorDocument 404 /health
"""
API = """\
    ZeroTrustPolicy "policy/api.ztb"
    AuthType ZeroTrust
    AuthName "api"
    Require zerotrust
"""
PROXIED = PROXY_HEAD + '<Location "/">\n' + API + """\
    ZeroTrustClaimHeader email X-User-Email
    ZeroTrustClaimHeader realm_access.roles X-User-Roles
</Location>
<Location "/open/">
    Require all granted
</Location>
"""


@pytest.fixture
def proxied(servers, zt_cfg, backend):
    return servers(PROXIED % {"mods": zt_cfg.libexecdir,
                              "port": backend.port})


def proxied_get(srv, backend, path, tok=None):
    """The request, and what the backend saw of it (None: nothing)."""
    n = len(backend.seen)
    r = srv.get(path, tok, headers=dict(FORGED, **{"x-user-email":
                                                    "mallory@evil.test"}))
    got = backend.seen[n:]
    assert len(got) <= 1, got
    return r, (got[0]["headers"] if got else None)


def test_proxied_allowed_request(proxied, backend, keys):
    r, seen = proxied_get(proxied, backend, "/orders/9", token(
        keys, email="alice@corp.test",
        realm_access={"roles": ["user", "auditor"]}))
    assert r.status_code == 200, r.text
    assert seen["x-user-email"] == "alice@corp.test"
    assert seen["x-user-roles"] == "user, auditor"
    # X-User-Extra is not configured here: it passes as any header does.
    assert seen["x-user-extra"] == "mallory"
    assert "mallory" not in repr({k: v for k, v in seen.items()
                                  if k != "x-user-extra"})


def test_proxied_public_route(proxied, backend):
    r, seen = proxied_get(proxied, backend, "/health")
    assert r.status_code == 200, r.text
    assert "x-user-email" not in seen and "x-user-roles" not in seen
    assert "mallory@evil.test" not in repr(seen)


def test_proxied_section_without_zerotrust(proxied, backend):
    r, seen = proxied_get(proxied, backend, "/open/thing")
    assert r.status_code == 200, r.text
    assert seen is not None
    assert "x-user-email" not in seen and "x-user-roles" not in seen


def test_proxied_refusals_never_reach_backend(proxied, backend, keys):
    for method, path, tok, status in (
            ("GET", "/orders", None, 401),
            ("DELETE", "/orders/9", token(keys, email="a@corp.test"), 403),
            ("GET", "/nowhere", None, 404),
            ("GET", "/orders/9", "not-a-token", 401)):
        n = len(backend.seen)
        r = proxied.req(method, path, tok, headers=FORGED)
        assert r.status_code == status, (method, path, r.text)
        assert backend.seen[n:] == [], (method, path)
        assert "mallory" not in r.text


def test_proxied_internal_redirect_keeps_verified_headers(proxied, backend,
                                                          keys):
    n = len(backend.seen)
    r = proxied.get("/orders/404", token(keys, email="alice@corp.test"),
                    headers=FORGED)
    got = backend.seen[n:]
    assert [g["path"] for g in got] == ["/orders/404", "/health"], got
    for g in got:
        assert g["headers"]["x-user-email"] == "alice@corp.test", g
        assert "x-user-roles" not in g["headers"], g
    assert r.status_code == 404


# Two API sections that name X-User-Email after different claims.  The
# 404 of /orders/404 becomes an internal redirect to /health, another
# configuration, so that request is decided anew: what the request before
# set under the other section's meaning must not reach the backend.
TWO_SECTIONS = (
    PROXY_HEAD
    + '<Location "/orders">\n' + API
    + "    ZeroTrustClaimHeader email X-User-Email\n</Location>\n"
    + '<Location "/health">\n' + API
    + "    ZeroTrustClaimHeader preferred_username X-User-Email\n"
      "</Location>\n")


def test_redirect_to_another_section_is_stripped_again(servers, zt_cfg,
                                                       backend, keys):
    srv = servers(TWO_SECTIONS % {"mods": zt_cfg.libexecdir,
                                  "port": backend.port})
    for extra, want in (({}, None),
                        ({"preferred_username": "al"}, "al")):
        n = len(backend.seen)
        r = srv.get("/orders/404", token(keys, email="alice@corp.test",
                                         **extra), headers=FORGED)
        assert r.status_code == 404, r.text
        got = backend.seen[n:]
        assert [g["path"] for g in got] == ["/orders/404", "/health"], got
        assert got[0]["headers"]["x-user-email"] == "alice@corp.test", got
        assert got[1]["headers"].get("x-user-email") == want, got


# A subrequest skips the header_parser hook and carries a copy of its main
# request's headers: an SSI page outside the API (whose section names no
# claim header, so forged ones stay in its headers) includes API
# resources: two proxied to the backend, one a CGI, which also gets the
# environment mod_include made of the page's request (HTTP_X_USER_EMAIL
# from the forged header among it).
SSI = """\
ZeroTrustAuditLog "logs/audit.log"
LoadModule include_module %(mods)s/mod_include.so
LoadModule proxy_module %(mods)s/mod_proxy.so
LoadModule proxy_http_module %(mods)s/mod_proxy_http.so
ProxyPass "/health" "http://127.0.0.1:%(port)d/health"
ProxyPass "/orders/" "http://127.0.0.1:%(port)d/orders/"
ScriptAliasMatch "^/(internal/orders)$" "{root}/cgi/echo.py/$1"
<Directory "{root}/cgi">
    Options +ExecCGI
</Directory>
<Directory "{root}/htdocs">
    Options +Includes
    AddType text/html .shtml
    AddOutputFilter INCLUDES .shtml
    Require all granted
</Directory>
<LocationMatch "^/(health|orders/|internal/)">
""" + API + """\
    ZeroTrustClaimHeader email X-User-Email
</LocationMatch>
"""


def test_subrequest_is_stripped(servers, zt_cfg, backend, keys):
    srv = servers(SSI % {"mods": zt_cfg.libexecdir, "port": backend.port})
    for name, paths in (("both", ("/health", "/orders/9")),
                        ("public", ("/health",)),
                        ("cgi", ("/internal/orders",))):
        with open("%s/htdocs/%s.shtml" % (srv.root, name), "w") as f:
            f.write("".join('<!--#include virtual="%s" -->\n' % p
                            for p in paths))
    # With the page's token, each include is decided and sets its own.
    n = len(backend.seen)
    r = srv.get("/both.shtml", token(keys, email="alice@corp.test"),
                headers=FORGED)
    assert r.status_code == 200, r.text
    got = backend.seen[n:]
    assert [g["path"] for g in got] == ["/health", "/orders/9"], got
    for g in got:
        assert g["headers"]["x-user-email"] == "alice@corp.test", g
    # Without one, the public include drops the forged header.
    n = len(backend.seen)
    r = srv.get("/public.shtml", headers=FORGED)
    assert r.status_code == 200, r.text
    got = backend.seen[n:]
    assert [g["path"] for g in got] == ["/health"], got
    assert "x-user-email" not in got[0]["headers"], got
    assert got[0]["headers"]["x-user-roles"] == "admin", got  # not named
    # A CGI include with a token that has no email: the forged header is
    # dropped from its request and from the environment it inherits; so
    # are headers named like our output (ZT-*, Remote-User).
    forged = dict(FORGED, **{"ZT-Subject": "mallory",
                             "Remote-User": "mallory"})
    r = srv.get("/cgi.shtml", token(keys), headers=forged)
    assert r.status_code == 200, r.text
    env = json.loads(r.text)
    assert env["PATH_INFO"] == "/internal/orders", env
    assert env["REMOTE_USER"] == "alice", env
    assert env["ZT_SUBJECT"] == "alice", env
    assert "HTTP_X_USER_EMAIL" not in env, env
    assert env["HTTP_X_USER_ROLES"] == "admin", env     # not named here
    assert "HTTP_ZT_SUBJECT" not in env, env
    assert "HTTP_REMOTE_USER" not in env, env
