# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Routes and rules: what the compiled policy allows and refuses."""

import os

import pytest

from zt_e2e import (api_body, assert_challenge, assert_problem, claims,
                    one_record, sign)

READ = "orders:read"


def tok(keys, **kw):
    return sign(keys, claims(**kw))


def test_refused_by_policy_is_403_problem(api, keys):
    r = api.req("POST", "/orders", tok(keys, scope=READ))
    body = assert_problem(r, 403)
    # Nothing about the policy's internals reaches the client.
    text = r.text.lower()
    for leak in ("api.ztp", "rule", "writer", "orders:write", "scope"):
        assert leak not in text, leak
    assert "WWW-Authenticate" not in r.headers
    assert body["title"] == "Forbidden"
    rec = one_record(r)
    assert (rec["decision"], rec["stage"], rec["reason"]) == (
        "deny", "policy", "no rule allows")
    assert rec["rule"] is None
    # ...but the operator's log says which request and why (INFO, ZT00006).
    assert "ZT00006" in api.errlog.since(max(0, api.errlog.size() - 4000))


def test_undeclared_route_is_404_problem(api, keys):
    for path in ("/nothing", "/orders/1/2", "/health/x", "/"):
        r = api.get(path, tok(keys, scope=READ))
        assert_problem(r, 404)
        rec = one_record(r)
        assert (rec["decision"], rec["stage"], rec["route"]) == (
            "deny", "route", None)


def test_undeclared_method_is_404(api, keys):
    r = api.req("PUT", "/orders", tok(keys, scope="orders:read orders:write"))
    assert_problem(r, 404)


def test_undeclared_route_without_token_is_404(api):
    # The route is checked first: an unknown path does not ask for a token.
    r = api.get("/nothing")
    assert_problem(r, 404)
    assert "WWW-Authenticate" not in r.headers


def test_public_route_without_token(api):
    r = api.get("/health")
    assert r.status_code == 200, r.text
    env = r.json()
    assert "REMOTE_USER" not in env and "ZT_SUBJECT" not in env
    assert env["ZT_RULE"].startswith("api.ztp:")
    rec = one_record(r)
    assert (rec["decision"], rec["reason"], rec["route"]) == (
        "allow", "public", "/health")


def test_public_route_with_bad_token(api, keys):
    r = api.get("/health", sign(keys, claims(), evil=True))
    assert_challenge(r, "invalid_token")


def test_public_route_with_good_token(api, keys):
    r = api.get("/health", tok(keys, sub="carol"))
    assert r.status_code == 200
    assert r.json()["REMOTE_USER"] == "carol"


def test_head_is_served_by_get_routes(api):
    r = api.req("HEAD", "/health")
    assert r.status_code == 200


def test_head_of_refusal_has_problem_type(api, keys):
    r = api.req("HEAD", "/orders")
    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("application/problem+json")


def test_deny_overrides_allow(api, keys):
    good = tok(keys, scope=READ, azp="web")
    assert api.get("/orders/42", good).status_code == 200
    r = api.get("/orders/42", tok(keys, scope=READ, azp="legacy-batch"))
    assert_problem(r, 403)
    rec = one_record(r)
    assert rec["reason"] == "denied by rule"
    assert rec["rule"].startswith("api.ztp:")
    assert rec["azp"] == "legacy-batch"


@pytest.mark.parametrize("sub,uid,status", [
    ("alice", "alice", 200),
    ("alice", "bob", 403),
    ("bob", "bob", 200),
    ("alic", "alice", 403),
    ("alice", "alice2", 403),
])
def test_path_capture_against_subject(api, keys, sub, uid, status):
    r = api.get("/users/%s/orders" % uid, tok(keys, sub=sub))
    assert r.status_code == status, r.text
    if status == 200:
        assert r.json()["REMOTE_USER"] == sub
    else:
        assert_problem(r, 403)


def test_path_capture_is_decoded_once(api, keys):
    # %2F must not split a capture, and %61 is just "a".
    r = api.get("/users/%61lice/orders", tok(keys, sub="alice"))
    assert r.status_code == 200
    r = api.get("/users/al%2Fice/orders", tok(keys, sub="al/ice"))
    assert r.status_code in (403, 404)


@pytest.mark.parametrize("roles,status", [
    (["admin"], 200),
    (["user", "admin"], 200),
    (["user"], 403),
    ([], 403),
    ("admin", 200),          # a space-separated string counts as a set too
    (None, 403),
])
def test_nested_claim_realm_access_roles(api, keys, roles, status):
    extra = {} if roles is None else {"realm_access": {"roles": roles}}
    r = api.req("DELETE", "/orders/7", tok(keys, **extra))
    assert r.status_code == status, r.text


def test_role_at_top_level_is_not_nested(api, keys):
    r = api.req("DELETE", "/orders/7", tok(keys, roles=["admin"]))
    assert r.status_code == 403


@pytest.mark.parametrize("scope,status", [
    ("orders:read", 200),
    ("openid orders:read profile", 200),
    ("openid profile orders:read", 200),
    (["orders:read", "openid"], 200),
    ("orders:reader", 403),
    ("xorders:read", 403),
    ("orders:rea", 403),
    ("openid,orders:read", 403),
    ("", 403),
    (None, 403),
])
def test_space_separated_scope(api, keys, scope, status):
    r = api.get("/orders", tok(keys, scope=scope))
    assert r.status_code == status, (scope, r.text)


def test_writer_may_post(api, keys):
    # POST /orders declares no body in api.ztp, so it takes none (a body
    # there is a 413: test_body.py).
    r = api.req("POST", "/orders", tok(keys, scope="orders:write"))
    assert r.status_code == 200
    assert r.json()["REQUEST_METHOD"] == "POST"


def test_authz_send_forbidden_off_still_403(api, keys):
    # The main server sets AuthzSendForbiddenOnFailure Off explicitly.
    r = api.get("/orders", tok(keys, scope="nothing"))
    assert_problem(r, 403)
    assert "WWW-Authenticate" not in r.headers


def test_require_all_with_require_ip(api, keys):
    r = api.get("/internal/orders", tok(keys, scope=READ))
    assert r.status_code == 200
    assert r.json()["REMOTE_USER"] == "alice"
    r = api.get("/internal/orders", tok(keys, scope="nothing"))
    assert_problem(r, 403)
    assert_challenge(api.get("/internal/orders"))


def test_require_all_ip_refused(api, keys, allow_log):
    # Require ip 192.0.2.0/24 fails for 127.0.0.1 whatever the token says.
    allow_log.append("AH01630")     # authz_core: client denied
    r = api.get("/elsewhere/orders", tok(keys, scope=READ))
    assert r.status_code == 403


# Servers of their own, with authz_core's verdicts in the error log
# (AH01626 "authorization result of Require zerotrust : ..."), one line
# per call of the provider.
def one_pass(require="    Require zerotrust\n", extra=""):
    return ("LogLevel warn zerotrust:info authz_core:debug\n"
            + api_body("policy/api.ztb", extra).replace(
                "    Require zerotrust\n", require))


def provider_calls(srv, pos):
    return [line.split(": ")[-1]
            for line in srv.errlog.since(pos).splitlines()
            if "AH01626: authorization result of Require zerotrust" in line]


def test_lone_require_decides_in_one_pass(servers, keys):
    # Nothing composes with the line: the provider's first call decides,
    # and authz_core has no second pass to make.
    srv = servers(one_pass())
    pos = srv.errlog.size()
    r = srv.get("/orders", tok(keys, sub="alice", scope=READ))
    assert r.status_code == 200
    assert r.json()["REMOTE_USER"] == "alice"
    assert one_record(r)["decision"] == "allow"
    assert provider_calls(srv, pos) == ["granted"]
    # A refusal is still answered by the authn hook, with its own status.
    pos = srv.errlog.size()
    r = srv.req("POST", "/orders", tok(keys, scope=READ))
    assert_problem(r, 403)
    assert one_record(r)["reason"] == "no rule allows"
    assert provider_calls(srv, pos) == ["denied (no authenticated user yet)"]
    r = srv.get("/orders", "not.a.token")
    assert_challenge(r, "invalid_token")


def test_require_any_granted_by_another_requirement(servers, keys):
    # Require ip grants 127.0.0.1 without a user: the token is never
    # looked at, so nothing is refused, audited or challenged.
    srv = servers(one_pass("""\
    <RequireAny>
        Require zerotrust
        Require ip 127.0.0.1
    </RequireAny>
"""))
    pos = srv.errlog.size()
    r = srv.get("/orders", "not.a.token")
    assert r.status_code == 200
    assert "REMOTE_USER" not in r.json()
    assert r.audit == []
    assert "WWW-Authenticate" not in r.headers
    assert provider_calls(srv, pos) == ["denied (no authenticated user yet)"]


def test_auth_merging_elsewhere_keeps_two_passes(servers, keys, allow_log):
    # AuthMerging And in another section composes it with ours: the line
    # that is alone in "/" is not alone for /orders/1, where Require ip
    # refuses before any token is decided (no audit record).  Anywhere in
    # the configuration, it turns the first-pass decision off.
    allow_log.append("AH01630")     # authz_core: client denied
    srv = servers(one_pass(extra="""\
<Location "/orders/">
    AuthMerging And
    Require ip 192.0.2.0/24
</Location>
"""))
    r = srv.get("/orders/1", tok(keys, scope=READ))
    assert r.status_code == 403
    assert r.audit == []
    pos = srv.errlog.size()
    r = srv.get("/orders", tok(keys, scope=READ))
    assert r.status_code == 200
    assert provider_calls(srv, pos) == ["denied (no authenticated user yet)",
                                        "granted"]


def test_htaccess_composing_keeps_two_passes(servers, keys, allow_log):
    # A .htaccess file, read per request, can compose with a line in its
    # directory's section too.
    allow_log.append("AH01630")     # authz_core: client denied
    body = api_body("policy/api.ztb").replace(
        '<Location "/">',
        '<Directory "{root}/cgi">\n    AllowOverride AuthConfig')
    srv = servers(body.replace("</Location>", "</Directory>"))
    with open(os.path.join(srv.root, "cgi/.htaccess"), "w") as f:
        f.write("AuthMerging And\nRequire ip 192.0.2.0/24\n")
    os.chmod(os.path.join(srv.root, "cgi/.htaccess"), 0o644)
    r = srv.get("/orders", tok(keys, scope=READ))
    assert r.status_code == 403
    assert r.audit == []
