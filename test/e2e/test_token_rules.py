# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""HS256/HS384 with a secret file, the issuer's required typ and required
claims, end to end in a real Apache (policy rules.ztp)."""

import hashlib
import hmac
import json
import os

import jwt
import pytest

from zt_e2e import (api_body, assert_challenge, b64u, claims,
                    compile_policy, copy_policy, sign)

READ = "orders:read"
HS = "https://hs.test"
# 48 bytes: enough for HS384 (RFC 7518 3.2), and so for HS256.
SECRET = bytes(range(48))


def write(path, data):
    """A secret file as an operator keeps it: only its owner reads it (the
    loader refuses one that others may read)."""
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


@pytest.fixture
def rules(servers, zt_cfg):
    """A server deciding with rules.ztp; @secret goes into policy/hs.key."""
    def make(secret=SECRET, start=True):
        srv = servers(api_body("policy/rules.ztb"), start=False, policy=None)
        write(os.path.join(srv.root, "policy", "hs.key"), secret)
        src = copy_policy(srv.root, "rules.ztp")
        compile_policy(zt_cfg, src, src[:-4] + ".ztb")
        if start:
            srv.start()
        return srv
    return make


def hs(payload, alg="HS256", key=SECRET, headers=None):
    return jwt.encode(payload, key, algorithm=alg, headers=headers)


def description(r):
    return r.headers.get("WWW-Authenticate", "")


def test_hmac_tokens_end_to_end(rules, keys):
    srv = rules()
    for alg in ("HS256", "HS384"):
        r = srv.get("/orders", hs(claims(iss=HS, scope=READ), alg))
        assert r.status_code == 200, (alg, r.text)
        assert r.json()["REMOTE_USER"] == "alice"
        assert r.json()["ZT_ISSUER"] == HS
    # A kid in an HS token names nothing: the issuer's one secret verifies.
    r = srv.get("/orders", hs(claims(iss=HS, scope=READ),
                              headers={"kid": "anything"}))
    assert r.status_code == 200, r.text
    # Another secret; an algorithm the issuer does not allow.
    r = srv.get("/orders", hs(claims(iss=HS, scope=READ), key=b"x" * 48))
    assert_challenge(r, "invalid_token")
    assert r.audit[-1]["reason"] == "signature"
    r = srv.get("/orders", hs(claims(iss=HS, scope=READ), "HS512",
                              key=SECRET + SECRET))
    assert_challenge(r, "invalid_token")
    assert r.audit[-1]["reason"] == "alg"
    # Still a token like the others: expired is expired.
    r = srv.get("/orders", hs(claims(iss=HS, scope=READ, iat=1, lifetime=60)))
    assert_challenge(r, "invalid_token")
    assert r.audit[-1]["reason"] == "expired"


def test_hmac_keyed_with_the_public_key_is_refused(rules, keys):
    """The classic confusion: HS256 with the RSA public key as the secret,
    under the issuer whose key set holds that key."""
    srv = rules()
    pem = keys.rs_public_pem()
    payload = claims(scope=READ, azp="web", client_id="web")
    header = {"alg": "HS256", "kid": "rs1", "typ": "at+jwt"}
    signing_input = "%s.%s" % (b64u(json.dumps(header)),
                               b64u(json.dumps(payload)))
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    r = srv.get("/orders", signing_input + "." + b64u(mac))
    assert_challenge(r, "invalid_token")
    assert r.audit[-1]["reason"] == "alg"
    # ... and under the HMAC issuer, the public key is not its secret.
    payload["iss"] = HS
    signing_input = "%s.%s" % (b64u(json.dumps(header)),
                               b64u(json.dumps(payload)))
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    r = srv.get("/orders", signing_input + "." + b64u(mac))
    assert_challenge(r, "invalid_token")
    assert r.audit[-1]["reason"] == "signature"


def test_short_secret_fails_configtest(rules):
    srv = rules(secret=bytes(47), start=False)
    rc, out = srv.configtest()
    assert rc != 0, out
    assert "hs.key" in out and "HS384 needs at least 48" in out, out


def test_required_typ(rules, keys):
    srv = rules()
    good = claims(scope=READ, azp="web", client_id="web")
    for typ in ("at+jwt", "application/at+jwt", "AT+JWT"):
        r = srv.get("/orders", sign(keys, good, headers={"typ": typ}))
        assert r.status_code == 200, (typ, r.text)
    for typ in ("JWT", None):
        r = srv.get("/orders", sign(keys, good, headers={"typ": typ}))
        assert_challenge(r, "invalid_token")
        assert r.audit[-1]["reason"] == "bad_header"
        assert "type is not at+jwt" in description(r)


@pytest.mark.parametrize("name", ["azp", "client_id", "sub"])
def test_required_claims(rules, keys, name):
    srv = rules()
    typ = {"typ": "at+jwt"}
    c = claims(scope=READ, azp="web", client_id="web", drop=(name,))
    r = srv.get("/orders", sign(keys, c, headers=typ))
    assert_challenge(r, "invalid_token")
    assert r.audit[-1]["reason"] == "missing_claim"
    assert "required claim '%s'" % name in description(r)
    if name == "sub":
        return
    # null is not there; any other value, false included, is.
    c[name] = None
    r = srv.get("/orders", sign(keys, c, headers=typ))
    assert_challenge(r, "invalid_token")
    assert r.audit[-1]["reason"] == "missing_claim"
    c[name] = False
    r = srv.get("/orders", sign(keys, c, headers=typ))
    assert r.status_code == 200, r.text
