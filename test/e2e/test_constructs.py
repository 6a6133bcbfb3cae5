# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Every construct of the language slice, decided by a real Apache.

The policy is test/zpc/ok/constructs.ztp, the same file whose compiled
table the golden test pins (test/zpc/ok/constructs.dump), so what zpc
emits and what the module decides are checked on one source."""

import os
import shutil

import pytest

import zt_e2e
from conftest import Api, SERVERS
from zt_e2e import SetupError, claims, sign

SRC = os.path.join(os.path.dirname(zt_e2e.HERE), "zpc", "ok", "constructs.ztp")
AUD = "api"

BODY = zt_e2e.api_body("policy/constructs.ztb")


@pytest.fixture(scope="module")
def srv(zt_cfg, keys, workdir):
    root = os.path.join(workdir, "constructs")
    zt_e2e.make_tree(root)
    zt_e2e.install_cgi(root)
    policy = os.path.join(root, "policy")
    # The policy names "keys/corp.jwks.json" and "partner.jwks.json".
    os.makedirs(os.path.join(policy, "keys"), exist_ok=True)
    os.chmod(os.path.join(policy, "keys"), 0o755)
    keys.write_jwks(policy)
    shutil.copy(os.path.join(policy, "corp.jwks.json"),
                os.path.join(policy, "keys", "corp.jwks.json"))
    dst = os.path.join(policy, "constructs.ztp")
    shutil.copy(SRC, dst)
    s = Api(zt_cfg, root, BODY)
    SERVERS.append(s)
    try:
        zt_e2e.compile_policy(zt_cfg, dst, dst[:-4] + ".ztb")
        s.start()
    except SetupError as e:
        pytest.fail(str(e), pytrace=False)
    yield s
    s.stop()


def tok(keys, alg="ES256", **kw):
    kw.setdefault("aud", AUD)
    return sign(keys, claims(**kw), alg=alg)


def status(srv, method, path, token=None):
    r = srv.req(method, path, token)
    assert len(r.audit) == 1, r.audit
    return r.status_code


def test_public_routes_need_no_token(srv):
    assert status(srv, "GET", "/") == 200
    assert status(srv, "OPTIONS", "/items") == 200


def test_allow_without_condition_needs_any_valid_token(srv, keys):
    assert status(srv, "GET", "/items") == 401
    for alg in ("ES256", "RS256", "EdDSA"):
        assert status(srv, "GET", "/items", tok(keys, alg)) == 200, alg
    assert status(srv, "HEAD", "/items/9", tok(keys)) == 200


def test_deny_unless_let(srv, keys):
    """deny GET /items/new unless staff: the deny beats the open allow."""
    assert status(srv, "GET", "/items/new", tok(keys)) == 403
    assert status(srv, "GET", "/items/new", tok(keys, groups=["staff"])) == 200
    # The literal route wins over GET /items/{id}; another id is not denied.
    assert status(srv, "GET", "/items/old", tok(keys)) == 200


@pytest.mark.parametrize("extra,want", [
    ({"groups": ["staff"], "level": 3}, 200),          # senior: let in let, int
    ({"groups": ["staff"], "level": 2}, 403),
    ({"groups": ["staff"], "level": "3"}, 403),        # a string is not 3
    ({"level": 3}, 403),                               # not staff
    ({"amr_done": True, "contract": "permanent"}, 200),  # parentheses, not, !=
    ({"amr_done": True, "contract": "temporary"}, 403),
    ({"amr_done": "true", "contract": "permanent"}, 403),  # bool vs string
    ({"amr_done": False, "contract": "permanent"}, 403),
    # A missing claim makes != false, so not(...) is true: documented.
    ({"amr_done": True}, 200),
])
def test_and_or_not_parentheses_int_bool(srv, keys, extra, want):
    assert status(srv, "PUT", "/items/5", tok(keys, **extra)) == want


@pytest.mark.parametrize("label,want", [
    ("green", 200), ("frozen", 403), ("legal", 403), ("Legal", 200)])
def test_unless_path_capture_in_list(srv, keys, label, want):
    assert status(srv, "PATCH", "/items/5/labels/" + label, tok(keys)) == want


@pytest.mark.parametrize("sub,roles,want", [
    ("alice", ["admin"], 200),
    ("7", ["admin"], 403),           # token.sub != path.id fails
    ("alice", ["user"], 403),
    ("alice", "admin", 200),         # a string claim: its words count
])
def test_nested_claim_and_not_equal_capture(srv, keys, sub, roles, want):
    t = tok(keys, sub=sub, realm_access={"roles": roles})
    assert status(srv, "DELETE", "/items/7", t) == want


@pytest.mark.parametrize("org,blocked,want", [
    ({"tenant": "acme"}, None, 200),
    ({"tenant": "other"}, None, 403),
    ({"tenant": "acme"}, "read", 403),     # deny * /tenants/** ... in [..]
    ({"tenant": "acme"}, "none", 200),
    ({}, None, 403),
])
def test_nested_claim_equals_capture_and_glob_deny(srv, keys, org, blocked, want):
    t = tok(keys, org=org, tenant_blocked=blocked)
    assert status(srv, "GET", "/tenants/acme/items/1", t) == want


def test_glob_deny_covers_every_route_below(srv, keys):
    bad = tok(keys, suspended=True, groups=["staff"], level=3)
    for method, path in (("GET", "/items"), ("GET", "/items/3"),
                         ("PUT", "/items/3"), ("OPTIONS", "/items")):
        assert status(srv, method, path, bad) == 403, (method, path)
    # A bool claim that is false, or absent, does not match.
    assert status(srv, "GET", "/items", tok(keys, suspended=False)) == 200


def test_second_issuer_with_its_own_allowlist(srv, keys):
    # partner allows ES384 only; its key set holds an ES256 key.
    t = sign(keys, claims(iss=zt_e2e.PARTNER, aud="partner-api"),
             key=keys.p_es, kid="pes1", alg="ES256")
    r = srv.req("GET", "/items", t)
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", "")
