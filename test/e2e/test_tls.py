# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""ZeroTrustRequireTLS over real mod_ssl, with certificates made here: by
default plain HTTP is refused (403 problem+json, audited at stage
"transport") before the route, the query or the token are looked at, and
TLS is decided as usual; Off, per server or per section, decides plain
HTTP too."""

import json
import os
import subprocess

import pytest

import zt_e2e
from conftest import Api, SERVERS
from test_config import assert_configtest_fails
from test_language import SSL_BODY
from zt_e2e import (Pki, SetupError, api_body, assert_challenge,
                    assert_problem, claims, client_context, raw_request, sign)

READ = "orders:read"

# The default (no ZeroTrustRequireTLS anywhere) but for one section.
USERS_PLAIN = """\
<Location "/users/">
    ZeroTrustRequireTLS Off
</Location>
"""


class Tls:
    """The server, its TLS port and the CA its certificate comes from."""

    def https(self, method, path, token=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        return raw_request(self.srv.audit, "127.0.0.1", self.port, method,
                           path, h, context=client_context(self.ca))


def tls_server(zt_cfg, roots, name, extra, plain_http,
               table="policy/api.ztb", prepare=None):
    """api_body(@table, @extra) plus a TLS virtual host; "@TLS@" in @extra
    is its port.  @prepare(root), if given, runs before the start (to
    compile another table)."""
    T = Tls()
    root = roots.make(name)
    pki = Pki(os.path.join(root, "pki"))
    T.ca = pki.ca_file
    cert, key = pki.server()
    T.port = zt_e2e.free_port()
    if prepare:
        prepare(root)
    body = api_body(table, extra.replace("@TLS@", str(T.port))) \
        + SSL_BODY.format(mods=zt_cfg.libexecdir, tls=T.port, cert=cert,
                          key=key, ca=T.ca)
    T.srv = Api(zt_cfg, root, body)
    T.srv.plain_http = plain_http
    T.srv.write_conf()
    SERVERS.append(T.srv)
    try:
        T.srv.start()
    except SetupError as e:
        pytest.fail(str(e), pytrace=False)
    return T


@pytest.fixture(scope="module")
def strict(zt_cfg, roots):
    """ZeroTrustRequireTLS left at its default."""
    T = tls_server(zt_cfg, roots, "tls-default", USERS_PLAIN, "")
    yield T
    T.srv.stop()


@pytest.fixture(scope="module")
def lenient(zt_cfg, roots):
    """ZeroTrustRequireTLS Off for the whole server (zt_e2e.PLAIN_HTTP)."""
    T = tls_server(zt_cfg, roots, "tls-off", "", zt_e2e.PLAIN_HTTP)
    yield T
    T.srv.stop()


def token(keys, **kw):
    return sign(keys, claims(sub="alice", scope=READ, **kw))


def assert_plain_refused(r):
    body = assert_problem(r, 403)
    assert "TLS" in body["detail"]
    assert "WWW-Authenticate" not in r.headers
    assert len(r.audit) == 1, r.audit
    rec = r.audit[0]
    assert (rec["decision"], rec["status"]) == ("deny", 403), rec
    assert (rec["stage"], rec["reason"]) == ("transport", "tls_required")
    assert rec["tls"] is False
    # Nothing past the transport was looked at.
    assert rec["sub"] is None and rec["route"] is None, rec
    return rec


def assert_allowed_plain(r):
    assert r.status_code == 200, r.text
    rec = zt_e2e.one_record(r)
    assert (rec["decision"], rec["tls"]) == ("allow", False), rec


def test_default_refuses_plain_http_everywhere(strict, keys):
    S = strict.srv
    good = token(keys)
    for method, path, tok, raw in (
            ("GET", "/health", None, None),         # public route
            ("GET", "/orders/9", good, None),       # would be allowed
            ("GET", "/orders", None, None),         # would be 401
            ("GET", "/orders", None, "Bearer x.y"),  # malformed token
            ("GET", "/nowhere", good, None),        # would be 404
            ("GET", "/orders?state=%zz", good, None),   # would be 400
            ("DELETE", "/orders/9", good, None),    # would be 403 by policy
            ("POST", "/orders", good, None)):
        mark = S.errlog.mark()
        r = S.req(method, path, tok, raw_auth=raw)
        assert_plain_refused(r)
        log = S.errlog.since(mark)
        assert "ZT00037" in log and "plain HTTP refused" in log, log
        # The token is never read: no token message of any kind.
        for other in ("ZT00003", "ZT00004", "ZT00005", "ZT00013",
                      "ZT00031"):
            assert other not in log, (other, log)


def test_default_decides_tls_as_usual(strict, keys):
    T = strict
    r = T.https("GET", "/health")
    assert r.status_code == 200, r.text
    rec = zt_e2e.one_record(r)
    assert (rec["decision"], rec["tls"]) == ("allow", True), rec
    r = T.https("GET", "/orders/9", token(keys))
    assert r.status_code == 200, r.text
    assert r.json()["REMOTE_USER"] == "alice"
    assert r.json()["SSL_PROTOCOL"].startswith("TLSv1.")
    assert_challenge(T.https("GET", "/orders"))
    assert_problem(T.https("GET", "/nowhere", token(keys)), 404)
    rec = zt_e2e.one_record(T.https("DELETE", "/orders/9", token(keys)))
    assert (rec["stage"], rec["status"], rec["tls"]) == ("policy", 403, True)


def test_off_in_a_section(strict, keys):
    S = strict.srv
    assert_allowed_plain(S.get("/users/alice/orders", token(keys)))
    # Only there: the rest of the server still refuses plain HTTP.
    assert_plain_refused(S.get("/orders/9", token(keys)))
    # Off does not relax anything else.
    assert_challenge(S.get("/users/alice/orders"))
    assert S.get("/users/bob/orders", token(keys)).status_code == 403


def test_off_allows_plain_http(lenient, keys):
    S = lenient.srv
    assert_allowed_plain(S.get("/orders/9", token(keys)))
    assert S.get("/health").status_code == 200
    assert_challenge(S.get("/orders"))
    # And TLS still works.
    assert lenient.https("GET", "/orders/9", token(keys)).status_code == 200


def test_on_in_a_section_overrides_server_off(servers, keys):
    srv = servers(api_body("policy/api.ztb", """\
<Location "/orders">
    ZeroTrustRequireTLS On
</Location>
"""))
    assert srv.get("/health").status_code == 200
    assert_plain_refused(srv.get("/orders/9", token(keys)))


# httpd drops an empty argument: then the argument count is wrong.
@pytest.mark.parametrize("arg,needle", [
    ("maybe", "'maybe' is not On or Off"), ("1", "'1' is not On or Off"),
    ('""', "one argument"), ("On Off", "one argument"),
    ("Off # a comment", "one argument")])
def test_bad_value_fails_configtest(servers, arg, needle):
    srv = servers(api_body("policy/api.ztb",
                           "ZeroTrustRequireTLS %s\n" % arg), start=False)
    assert_configtest_fails(srv, "ZeroTrustRequireTLS", needle)


def test_values_are_case_insensitive(servers, keys):
    srv = servers(api_body("policy/api.ztb", "ZeroTrustRequireTLS oN\n"))
    assert_plain_refused(srv.get("/health"))


# HTTP/2: over TLS (h2) a stream's connection is the TLS one (mod_ssl
# looks through to it), so it is decided; cleartext h2c is plain HTTP.
H2 = """\
LoadModule http2_module %s/mod_http2.so
Protocols h2 h2c http/1.1
"""


@pytest.fixture(scope="module")
def h2(zt_cfg, roots):
    T = tls_server(zt_cfg, roots, "tls-h2", H2 % zt_cfg.libexecdir, "")
    yield T
    T.srv.stop()


def curl(*args):
    """curl's status line, HTTP version and body, separated by '|'."""
    p = subprocess.run(["curl", "-sS", "--max-time", "15", "-o", "-",
                        "-w", "|%{http_code}|%{http_version}"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    assert p.returncode == 0, p.stderr.decode()
    body, status, version = p.stdout.decode().rsplit("|", 2)
    return int(status), version, body


def test_http2_over_tls_is_decided(h2, keys):
    url = "https://127.0.0.1:%d/orders/9" % h2.port
    status, version, body = curl("--http2", "--cacert", h2.ca, "-H",
                                 "Authorization: Bearer " + token(keys), url)
    assert (status, version) == (200, "2"), body
    assert json.loads(body)["REMOTE_USER"] == "alice"
    status, version, _ = curl("--http2", "--cacert", h2.ca, url)
    assert (status, version) == (401, "2")


def test_cleartext_http2_is_plain_http(h2, keys):
    for flag in ("--http2-prior-knowledge", "--http2"):     # h2c, Upgrade
        status, version, body = curl(
            flag, "-H", "Authorization: Bearer " + token(keys),
            h2.srv.url + "/orders/9")
        assert status == 403, (flag, version, body)
        assert "TLS" in json.loads(body)["detail"]
    status, version, _ = curl("--http2-prior-knowledge",
                              h2.srv.url + "/health")
    assert (status, version) == (403, "2")
