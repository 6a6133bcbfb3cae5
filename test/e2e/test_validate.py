# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Input validation in a real Apache (issue #5, parameters): the route's
declared contract -- typed captures, query and header parameters -- is
checked right after the route matched and before the token: 404 route,
400 input, 401 token, 403 policy.

Every refusal is an RFC 9457 problem+json naming the parameter in
"invalid-params", audited with stage "input" and the same reason, and
Apache keeps serving.  Also here: parameter pollution, and what Apache
does with encoded slashes and dot segments before the module sees the
path (docs/VALIDATION.md)."""

import pytest

import zt_e2e
from conftest import Api, SERVERS
from zt_e2e import SetupError, assert_problem, claims, raw_request, sign

AUD = "valid-api"
TENANT = "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70"

BODY = zt_e2e.api_body("policy/valid.ztb")


@pytest.fixture(scope="module")
def srv(zt_cfg, roots):
    """An Apache with valid.ztp (compiled by roots.make)."""
    s = Api(zt_cfg, roots.make("validate", "valid.ztp"), BODY)
    SERVERS.append(s)
    try:
        s.start()
    except SetupError as e:
        pytest.fail(str(e), pytrace=False)
    yield s
    s.stop()


@pytest.fixture
def token(keys):
    return sign(keys, claims(aud=AUD, scope="api:read"), alg="ES256")


def refused(r, name, reason):
    """400 problem+json naming @name with @reason, audited as input."""
    body = assert_problem(r, 400)
    assert body["invalid-params"] == [{"name": name, "reason": reason}], body
    assert name in body["detail"] and reason in body["detail"], body
    assert len(r.audit) == 1, r.audit
    rec = r.audit[0]
    assert rec["decision"] == "deny", rec
    assert rec["stage"] == "input", rec
    assert rec["reason"] == "%s: %s" % (name, reason), rec
    return body


def get(srv, path, token=None, tenant=TENANT, headers=None):
    h = dict(headers or {})
    if tenant is not None:
        h["X-Tenant"] = tenant
    return srv.req("GET", path, token, headers=h)


def ok(srv, path, token, **kw):
    r = get(srv, path, token, **kw)
    assert r.status_code == 200, (path, r.status_code, r.text)
    assert r.audit[0]["decision"] == "allow", r.audit
    return r


# Each case: path, X-Tenant (None: absent), the parameter, the reason.
VIOLATIONS = [
    ("/items/42", TENANT, "path.id", 'found "42", expected a UUID'),
    ("/items/%7B" + TENANT + "%7D", TENANT, "path.id",
     'found "{' + TENANT + '}", expected a UUID'),
    ("/pages/0/a", TENANT, "path.n", 'found "0", expected an integer 1..500'),
    ("/pages/501/a", TENANT, "path.n", 'found "501", expected an integer 1..500'),
    ("/pages/007/a", TENANT, "path.n", 'found "007", expected an integer 1..500'),
    ("/pages/1/" + "s" * 17, TENANT, "path.slug",
     'found "sssssssssssssssss", expected 1..16 bytes'),
    ("/orders?limit=0", TENANT, "query.limit",
     'found "0", expected an integer 1..100'),
    ("/orders?limit=1e3", TENANT, "query.limit",
     'found "1e3", expected an integer 1..100'),
    ("/orders?limit=-0", TENANT, "query.limit",
     'found "-0", expected an integer 1..100'),
    ("/orders?limit=%2B5", TENANT, "query.limit",
     'found "+5", expected an integer 1..100'),
    ("/orders?limit=99999999999999999999999", TENANT, "query.limit",
     'found "99999999999999999999999", expected an integer 1..100'),
    ("/orders?status=lost", TENANT, "query.status",
     'found "lost", expected one of open, shipped'),
    ("/orders?min=.5", TENANT, "query.min",
     'found ".5", expected a number (JSON syntax)'),
    ("/orders?flag=yes", TENANT, "query.flag",
     'found "yes", expected true or false'),
    ("/orders?tag=", TENANT, "query.tag", 'found "", expected 1..16 bytes'),
    # Patterns (compiled to automata): whole value, after the length.
    ("/orders?cursor=ABC", TENANT, "query.cursor",
     'found "ABC", expected 1..64 bytes matching /^[a-z0-9]+$/'),
    ("/orders?cursor=abc%20", TENANT, "query.cursor",
     'found "abc ", expected 1..64 bytes matching /^[a-z0-9]+$/'),
    ("/orders?cursor=ab%C3%A9", TENANT, "query.cursor",
     'found "ab\\xc3\\xa9", expected 1..64 bytes matching /^[a-z0-9]+$/'),
    ("/codes/abc", TENANT, "path.code",
     'found "abc", expected exactly 3 bytes matching /[A-Z]{3}/'),
    ("/codes/AB%C3%89", TENANT, "path.code",
     'found "AB\\xc3\\x89", expected exactly 3 bytes matching /[A-Z]{3}/'),
    ("/codes/ABC?name=a%20%20b", TENANT, "query.name",
     'found "a  b", expected 1..32 bytes matching /\\w+( \\w+)*|caf\\xc3\\xa9/'),
    ("/orders?debug=1", TENANT, "query.debug",
     "undeclared, expected declared parameters: limit, cursor, status, "
     "tag, min, flag"),
    ("/orders", None, "header.x-tenant", "missing, expected a UUID"),
    ("/orders", "not-a-uuid", "header.x-tenant",
     'found "not-a-uuid", expected a UUID'),
    ("/search", TENANT, "query.q", "missing, expected 1..32 bytes"),
    # Apache's LimitRequestLine (8190) caps a query; 10 000 is a 414.
    ("/search?q=" + "x" * 7000, TENANT, "query.q",
     'found "' + "x" * 40 + '..." (7000 bytes), expected 1..32 bytes'),
]


@pytest.mark.parametrize("path,tenant,name,reason", VIOLATIONS,
                         ids=[v[2] + ":" + v[0][:40] for v in VIOLATIONS])
def test_violation_is_400_naming_the_parameter(srv, token, path, tenant,
                                               name, reason):
    refused(get(srv, path, token, tenant=tenant), name, reason)


def test_valid_requests_pass(srv, token):
    ok(srv, "/items/" + TENANT, token)
    ok(srv, "/items/" + TENANT.upper(), token)
    ok(srv, "/pages/1/a", token)
    ok(srv, "/pages/500/" + "s" * 16, token)
    ok(srv, "/orders", token)
    ok(srv, "/orders?limit=100&cursor=abc&status=shipped&tag=a&tag=b"
            "&min=-1.5e3&flag=false", token)
    # query * any: undeclared names pass, even repeated.
    ok(srv, "/search?q=x&page=2&page=3", token)


def test_pollution(srv, token):
    """?limit=1&limit=2: two values a backend could read either way."""
    reason = "appears twice, expected one value (not declared as a list)"
    refused(get(srv, "/orders?limit=1&limit=2", token), "query.limit", reason)
    refused(get(srv, "/orders?limit=5&limit=5", token), "query.limit", reason)
    refused(get(srv, "/search?q=a&q=b", token), "query.q", reason)


def test_order_input_before_token(srv, keys, token):
    """404 route, 400 input, 401 token, 403 policy."""
    r = get(srv, "/nothing", token)
    assert_problem(r, 404)
    assert r.audit[0]["stage"] == "route"
    # Broken contract: 400 with no token, a bad token, or a good one.
    for t in (None, "not.a.token", token):
        refused(get(srv, "/orders?limit=0", t), "query.limit",
                'found "0", expected an integer 1..100')
    # Valid input: now the token decides.
    r = get(srv, "/orders?limit=5", None)
    assert r.status_code == 401 and r.audit[0]["stage"] == "token"
    r = get(srv, "/orders?limit=5", "not.a.token")
    assert r.status_code == 401 and r.audit[0]["stage"] == "token"
    other = sign(keys, claims(aud=AUD, scope="other"), alg="ES256")
    r = get(srv, "/orders?limit=5", other)
    assert r.status_code == 403 and r.audit[0]["stage"] == "policy"


def test_public_route_is_validated_too(srv):
    ok(srv, "/open/7", None)
    refused(get(srv, "/open/10", None), "path.id",
            'found "10", expected an integer 0..9')


def test_query_string_refused_by_the_parser(srv, token):
    """Strict decoding comes first, named as the query string (sent raw:
    requests would re-encode "%zz")."""
    for query in ("limit=%zz", "limit=%00", "limit=%C0%AF", "=5"):
        r = raw_request(srv.audit, "127.0.0.1", srv.port, "GET",
                        "/orders?" + query,
                        {"Authorization": "Bearer " + token, "X-Tenant": TENANT})
        body = assert_problem(r, 400)
        assert body["invalid-params"][0]["name"] == "query", (query, body)
        assert r.audit[0]["stage"] == "input"
        assert r.audit[0]["reason"] == "bad query"


def test_as_many_parameters_as_the_query_holds(srv, token):
    """Room for the parameters is (length + 1) / 2 up to 64 bytes, a count
    of '&' above: queries of one-byte pairs on either side, decoded ones
    beside them (their buffer follows the parameters), and empty pairs."""
    for k in (29, 30, 31, 32, 60):
        # "q=x" then k one-byte names: 3 + 2k bytes, k + 1 pairs
        ok(srv, "/search?q=x" + "&a" * k, token)
        ok(srv, "/search?" + "a&" * k + "q=x", token)
        ok(srv, "/search?" + "%41&" * k + "q=%78", token)
    ok(srv, "/search?&&q=x&&&a&&", token)
    ok(srv, "/search?" + "&" * 63 + "q=x", token)
    refused(get(srv, "/search?" + "a&" * 31 + "q=" + "y" * 33, token),
            "query.q", 'found "' + "y" * 33 + '", expected 1..32 bytes')


def test_apache_limits_come_first(srv, token):
    """A 10 000-byte query is Apache's 414, before the module (no audit)."""
    r = get(srv, "/search?q=" + "x" * 10000, token)
    assert r.status_code == 414
    assert r.audit == []


def test_hostile_values_and_apache_keeps_serving(srv, token):
    for path in ("/orders?limit=" + "9" * 5000,
                 "/orders?status=%C3%A9",
                 "/orders?%E2%80%AE=1",
                 "/orders?limit=1&" + "&".join("t%d=1" % i for i in range(300))):
        r = get(srv, path, token)
        body = assert_problem(r, 400)
        reason = body["invalid-params"][0]["reason"]
        assert len(reason) < 400, reason
        assert all(0x20 <= ord(c) < 0x7f for c in reason), reason
        assert r.audit[0]["stage"] == "input"
    # Control bytes in a declared header: Apache refuses most itself (a DEL
    # is its 400, no audit record); a tab inside a value is legal HTTP and
    # reaches the module, which refuses it.
    a = raw_request(srv.audit, "127.0.0.1", srv.port, "GET", "/orders",
                    {"X-Tenant": TENANT[:-1] + "\x7f"})
    assert a.status_code == 400, (a.status_code, a.text)
    assert a.audit == [], a.audit
    a = raw_request(srv.audit, "127.0.0.1", srv.port, "GET", "/orders",
                    {"X-Tenant": "ab\tcd", "Authorization": "Bearer " + token})
    refused(a, "header.x-tenant", 'found "ab\\x09cd", expected no control bytes')
    ok(srv, "/orders?limit=5", token)


def test_encoded_slash_and_dot_segments(srv, token, allow_log):
    """What Apache does before the module: %2F in a path is refused by
    Apache itself (AllowEncodedSlashes Off: 404, no audit record); dot
    segments are resolved first ("/items/x/../<uuid>" is "/items/<uuid>"),
    and an encoded dot segment %2e%2e is decoded and resolved the same way;
    so no capture ever holds a slash or a dot segment."""
    a = raw_request(srv.audit, "127.0.0.1", srv.port, "GET",
                    "/items/a%2Fb", {"Authorization": "Bearer " + token})
    assert a.status_code == 404, a.status_code
    assert a.audit == [], a.audit
    a = raw_request(srv.audit, "127.0.0.1", srv.port, "GET",
                    "/items/x/../" + TENANT, {"Authorization": "Bearer " + token})
    assert a.status_code == 200, (a.status_code, a.text)
    assert a.audit[0]["path"] == "/items/" + TENANT, a.audit
    a = raw_request(srv.audit, "127.0.0.1", srv.port, "GET",
                    "/items/x/%2e%2e/" + TENANT,
                    {"Authorization": "Bearer " + token})
    assert a.status_code == 200, (a.status_code, a.text)
    assert a.audit[0]["path"] == "/items/" + TENANT, a.audit
    # A path that climbs above the root is Apache's 400 (AH10244), before us.
    allow_log.append("AH10244")
    a = raw_request(srv.audit, "127.0.0.1", srv.port, "GET",
                    "/../items/" + TENANT, {"Authorization": "Bearer " + token})
    assert a.status_code == 400, a.status_code
    assert a.audit == [], a.audit


def test_patterns_enforced(srv, token):
    """Captures, query and header parameters with a pattern: matching
    values pass, others are the 400 that names the pattern; nothing about
    patterns at start-up (ZT00034 is retired)."""
    ok(srv, "/orders?cursor=abc123", token)
    ok(srv, "/codes/XYZ", token)
    ok(srv, "/codes/XYZ?name=caf%C3%A9", token)
    ok(srv, "/codes/XYZ?name=hello%20big_world", token)
    ok(srv, "/codes/XYZ", token, headers={"X-Request-Id": "0b9f-11aa-2c"})
    refused(get(srv, "/codes/XYZ", token, headers={"X-Request-Id": "0b9f--11aa"}),
            "header.x-request-id",
            'found "0b9f--11aa", expected 8..64 bytes matching '
            '/^[0-9a-f]+(-[0-9a-f]+)*$/')
    # Linear time: a value that makes a backtracker explode is answered
    # at once ("a a a ... a!" against \w+( \w+)*, within the 32 bytes).
    refused(get(srv, "/codes/XYZ?name=" + "a%20" * 15 + "!", token),
            "query.name",
            'found "' + "a " * 15 + '!", expected 1..32 bytes matching '
            '/\\w+( \\w+)*|caf\\xc3\\xa9/')
    with open(srv.errlog.path, errors="replace") as f:
        text = f.read()
    assert "ZT00034" not in text and "not enforced" not in text, text
