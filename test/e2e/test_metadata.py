# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""OAuth 2.0 Protected Resource Metadata (RFC 9728): SetHandler
zerotrust-metadata serves the document derived from the table over real
mod_ssl, read-only; 401 challenges carry resource_metadata; what is
missing or wrong in the configuration is refused clearly."""

import http.client
import json
import os
import re

import pytest

import zt_e2e
from test_config import assert_configtest_fails
from test_tls import tls_server
from zt_e2e import (CORP, PARTNER, api_body, assert_challenge,
                    assert_problem, claims, client_context, sign)

WELL_KNOWN = "/.well-known/oauth-protected-resource"
# ZeroTrustDPoPAlgorithms' default, in the module's order.
DPOP_ALGS = "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA"

# api.ztp, plus: a scope that only an allow with a `not` beside it
# grants, one only under that `not`, one only in a deny, and a step-up.
EXTRA_POLICY = """
route GET    /audit
allow GET /audit    when "audit:read" in token.scope and not "banned" in token.scope
deny  GET /audit    when "legacy" in token.scope
stepup DELETE /orders/{id}  acr "urn:test:mfa"
"""

META = """\
ZeroTrustResource "https://127.0.0.1:@TLS@/"
ZeroTrustResourceMetadata "https://127.0.0.1:@TLS@%s"
<Location "%s">
    SetHandler zerotrust-metadata
    Require all granted
</Location>
""" % (WELL_KNOWN, WELL_KNOWN)


def compile_meta(cfg):
    def prepare(root):
        src = os.path.join(root, "policy/api.ztp")
        with open(src) as f:
            text = f.read()
        dst = os.path.join(root, "policy/meta.ztp")
        with open(dst, "w") as f:
            f.write(text + EXTRA_POLICY)
        zt_e2e.compile_policy(cfg, dst, dst[:-4] + ".ztb")
    return prepare


@pytest.fixture(scope="module")
def meta(zt_cfg, roots):
    T = tls_server(zt_cfg, roots, "meta", META, "", table="policy/meta.ztb",
                   prepare=compile_meta(zt_cfg))
    T.source = os.path.join(T.srv.root, "policy/meta.ztp")
    T.resource = "https://127.0.0.1:%d/" % T.port
    T.metadata_url = "https://127.0.0.1:%d%s" % (T.port, WELL_KNOWN)
    yield T
    T.srv.stop()


def https(T, method, path, body=None, headers=None):
    """One request over TLS, with a body if given: (status, headers,
    body text)."""
    conn = http.client.HTTPSConnection("127.0.0.1", T.port, timeout=15,
                                       context=client_context(T.ca))
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read().decode()
    finally:
        conn.close()


def policy_facts(path):
    """Issuers and `"S" in token.scope` literals of allow rules, read from
    the policy text itself (lets included), to check the document by."""
    with open(path) as f:
        text = f.read()
    issuers = re.findall(r'^issuer\s+\w+\s+"([^"]+)"', text, re.M)
    lets = dict(re.findall(r'^let\s+(\w+)\s*=\s*"([^"]+)"\s+in\s+token\.scope',
                           text, re.M))
    scopes = set()
    for rule in re.findall(r"^allow\s.*$", text, re.M):
        cond = rule.split(" when ", 1)[1] if " when " in rule else ""
        # Literals under a `not` help no allow.
        cond = re.sub(r'not\s+"[^"]+"\s+in\s+token\.scope', "", cond)
        scopes.update(re.findall(r'"([^"]+)"\s+in\s+token\.scope', cond))
        scopes.update(v for k, v in lets.items()
                      if re.search(r"\b%s\b" % k, cond))
    return issuers, scopes


def test_document_is_derived_from_the_table(meta):
    status, headers, body = https(meta, "GET", WELL_KNOWN)
    assert status == 200, body
    assert headers["Content-Type"].split(";")[0] == "application/json"
    doc = json.loads(body)
    issuers, scopes = policy_facts(meta.source)
    assert issuers == [CORP, PARTNER]
    assert scopes == {"orders:read", "orders:write", "audit:read"}
    assert doc == {
        "resource": meta.resource,
        "authorization_servers": issuers,
        "scopes_supported": doc["scopes_supported"],
        "bearer_methods_supported": ["header"],
        # ZeroTrustDPoPAlgorithms' default: every asymmetric algorithm.
        "dpop_signing_alg_values_supported": [
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512", "EdDSA"],
    }, doc
    # Every scope once; none from a deny ("legacy") or under a not.
    assert sorted(doc["scopes_supported"]) == sorted(scopes)
    assert len(set(doc["scopes_supported"])) == len(doc["scopes_supported"])


def test_head_and_query_string(meta):
    status, headers, body = https(meta, "HEAD", WELL_KNOWN)
    assert (status, body) == (200, "")
    assert headers["Content-Type"].split(";")[0] == "application/json"
    status, _, body = https(meta, "GET", WELL_KNOWN + "?resource=evil")
    assert status == 200
    assert "evil" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH",
                                    "OPTIONS"])
def test_read_only(meta, method):
    status, headers, body = https(meta, method, WELL_KNOWN,
                                  body=b'{"resource": "https://evil.test/"}',
                                  headers={"Content-Type":
                                           "application/json"})
    assert status == 405, (method, body)
    assert headers["Allow"] == "GET, HEAD"
    assert headers["Content-Type"].split(";")[0] == \
        "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 405 and "read-only" in problem["detail"]
    # Nothing changed.
    status, _, body = https(meta, "GET", WELL_KNOWN)
    assert "evil" not in body


def test_plain_http_refused_by_default(meta):
    r = meta.srv.get(WELL_KNOWN)
    body = assert_problem(r, 403)
    assert "TLS" in body["detail"]
    assert "ZT00038" in meta.srv.errlog.since(0)


def test_challenges_carry_resource_metadata(meta, keys):
    param = 'resource_metadata="%s"' % meta.metadata_url
    # No token: both schemes (RFC 9449 section 7.2), each with the
    # parameter, in one field.
    r = meta.https("GET", "/orders")
    chal = assert_challenge(r)
    assert r.headers.get_all("WWW-Authenticate") == [
        'Bearer realm="api", %s, DPoP realm="api", algs="%s", %s'
        % (param, DPOP_ALGS, param)], chal
    # A bad token.
    r = meta.https("GET", "/orders", "not.a.token")
    assert param in assert_challenge(r, "invalid_token")
    # Step-up (RFC 9470), the admin without the acr.
    r = meta.https("DELETE", "/orders/9", sign(keys, claims(
        realm_access={"roles": ["admin"]})))
    chal = assert_challenge(r, "insufficient_user_authentication")
    assert 'acr_values="urn:test:mfa"' in chal and param in chal, chal
    # 403 and 404 have no challenge at all.
    r = meta.https("GET", "/nowhere")
    assert r.status_code == 404 and "WWW-Authenticate" not in r.headers


def test_no_parameter_unless_configured(servers):
    srv = servers(api_body("policy/api.ztb"))
    chal = assert_challenge(srv.get("/orders"))
    assert "resource_metadata" not in chal


# What the handler cannot serve: answered 404 (a client takes it as "no
# metadata here" and does not retry), and ZT00039 names what is missing.
@pytest.mark.parametrize("conf,missing", [
    ('<Location "/m">\n    SetHandler zerotrust-metadata\n'
     '    Require all granted\n</Location>\n', "needs ZeroTrustResource"),
    ('<Location "/m">\n    SetHandler zerotrust-metadata\n'
     '    ZeroTrustResource "https://api.test/"\n'
     '    ZeroTrustPolicy "policy/api.ztb"\n'
     '    Require all granted\n</Location>\n', None),
])
def test_missing_resource(servers, allow_log, conf, missing):
    allow_log.append("ZT00039")
    srv = servers(api_body("policy/api.ztb", conf))
    r = srv.get("/m")
    if missing is None:
        assert r.status_code == 200 and r.json()["resource"] == \
            "https://api.test/"
        return
    body = assert_problem(r, 404)
    assert "metadata" in body["detail"]
    assert missing in srv.errlog.since(0)


def test_missing_table(servers, allow_log):
    allow_log.append("ZT00039")
    # No ZeroTrustPolicy applies to this server at all.
    srv = servers("""\
<Location "/m">
    SetHandler zerotrust-metadata
    ZeroTrustResource "https://api.test/"
    Require all granted
</Location>
""")
    assert_problem(srv.get("/m"), 404)
    assert "needs ZeroTrustPolicy" in srv.errlog.since(0)


@pytest.mark.parametrize("directive", ["ZeroTrustResource",
                                       "ZeroTrustResourceMetadata"])
@pytest.mark.parametrize("url,needle", [
    ("http://api.test/", "is not an https:// URL"),
    ("api.test", "is not an https:// URL"),
    ("https://api.test/#frag", "has a fragment"),
    ('https://api.test/\\"x', "cannot hold"),
    ("https://user:pw@api.test/", "user information"),
    ("https://api.test/a b", "cannot hold"),
    ("https://:443/", "has no host"),
])
def test_bad_urls_fail_configtest(servers, directive, url, needle):
    srv = servers(api_body("policy/api.ztb",
                           '%s "%s"\n' % (directive, url)), start=False)
    assert_configtest_fails(srv, directive, needle)
