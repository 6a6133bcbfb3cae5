# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""What the backend receives: the verified identity, and nothing forged."""

import os

from zt_e2e import CORP, claims, sign

READ = "orders:read"

FORGED = {
    "ZT-Subject": "mallory",
    "ZT-Issuer": "https://evil.test",
    "ZT-Rule": "api.ztp:1",
    "Remote-User": "mallory",
    "X-Forge": "mallory",       # SetEnvIf copies it into ZT_SUBJECT
}


def assert_no_mallory(env):
    # Only the harmless X-Forge header itself may still carry the name.
    leaked = {k: v for k, v in env.items()
              if "mallory" in v and k != "HTTP_X_FORGE"}
    assert not leaked, leaked


def test_backend_sees_verified_identity(api, keys):
    r = api.get("/orders/9", sign(keys, claims(sub="alice", scope=READ)))
    assert r.status_code == 200
    env = r.json()
    assert env["REMOTE_USER"] == "alice"
    assert env["AUTH_TYPE"] == "ZeroTrust"
    assert env["ZT_SUBJECT"] == "alice"
    assert env["ZT_ISSUER"] == CORP
    rule = env["ZT_RULE"]
    file, line = rule.rsplit(":", 1)
    assert file.endswith("api.ztp") and int(line) > 0


def test_forged_identity_headers_do_not_take_effect(api, keys):
    r = api.get("/orders/9", sign(keys, claims(sub="alice", scope=READ)),
                headers=FORGED)
    assert r.status_code == 200
    env = r.json()
    assert env["REMOTE_USER"] == "alice"
    assert env["ZT_SUBJECT"] == "alice"
    assert env["ZT_ISSUER"] == CORP
    assert env["ZT_RULE"] != "api.ztp:1"
    # The incoming look-alikes are gone before the backend runs.
    for name in ("HTTP_ZT_SUBJECT", "HTTP_ZT_ISSUER", "HTTP_ZT_RULE",
                 "HTTP_REMOTE_USER"):
        assert name not in env, (name, env)
    assert_no_mallory(env)


def test_forged_identity_on_public_route(api):
    r = api.get("/health", headers=FORGED)
    assert r.status_code == 200
    env = r.json()
    assert "REMOTE_USER" not in env
    assert "ZT_SUBJECT" not in env
    assert_no_mallory(env)


def test_forged_identity_without_token_is_still_401(api):
    r = api.get("/orders", headers=FORGED)
    assert r.status_code == 401


def test_rule_named_for_each_rule_again_and_again(api, keys):
    # ZT_RULE's "file:line" is made once per rule and process, then
    # reused: each rule keeps its own, request after request.
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "api.ztp")) as f:
        lines = f.read().splitlines()

    def line_of(prefix):
        [n] = [i + 1 for i, t in enumerate(lines) if t.startswith(prefix)]
        return "api.ztp:%d" % n

    alice = claims(sub="alice", scope="orders:read orders:write")
    cases = [("GET", "/health", None, line_of("allow GET /health")),
             ("GET", "/orders", alice, line_of("allow GET /orders,")),
             ("POST", "/orders", alice, line_of("allow POST /orders")),
             ("GET", "/users/alice/orders", alice,
              line_of("allow GET /users/{uid}/orders"))]
    for _ in range(2):
        for method, path, payload, want in cases:
            tok = sign(keys, payload) if payload else None
            r = api.req(method, path, tok)
            assert r.status_code == 200, (path, r.text)
            assert r.json()["ZT_RULE"] == want, path
            assert r.audit[-1]["rule"] == want, path
