# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Interop with an independent JOSE implementation: npm `jose` makes the
keys (a JWK Set and an HS secret) and mints tokens for every algorithm we
support; a real Apache with the module decides on them.  The other way
round, tokens PyJWT signs with jose's keys are judged by the module and by
jose's jwtVerify, and both must agree.

Node.js and the npm packages in test/interop/ are required: missing, the
tests fail with the command that installs them."""

import json
import os
import time

import jwt
import pytest

import zt_e2e
import zt_node
from zt_e2e import SetupError, assert_challenge, b64u, one_record

ISS = "https://jose.interop.test"
AUD = "interop-api"
SCOPE = "interop:read"
LEEWAY = 30
ASYM = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "EdDSA"]
HS = ["HS256", "HS384", "HS512"]
ALGS = ASYM + HS


class Jose:
    """The interop server and the files jose made for it."""

    def __init__(self, roots):
        self.info = None
        self.priv = None
        self.srv = None
        with open(os.path.join(zt_e2e.HERE, "interop.ztp")) as f:
            text = f.read()
        self.srv = zt_node.start_api(roots, "interop", "interop.ztp", text,
                                     self._keys)
        self.pub = os.path.join(self.srv.root, "policy")
        with open(os.path.join(self.priv, "jose.private.json")) as f:
            self.private = {k["kid"]: k for k in json.load(f)["keys"]}
        with open(os.path.join(self.pub, "hs.key"), "rb") as f:
            self.secret = f.read()

    def _keys(self, policy_dir):
        self.priv = os.path.join(os.path.dirname(policy_dir), "private")
        os.makedirs(self.priv, mode=0o700, exist_ok=True)
        self.info = zt_node.jose_tool("keys", policy_dir, self.priv)

    def sign(self, requests):
        return zt_node.jose_tool("sign", self.pub, self.priv, stdin=requests)

    def verify(self, tokens):
        return zt_node.jose_tool("verify", stdin={
            "tokens": tokens,
            "jwks": os.path.join(self.pub, "jose.jwks.json"),
            "secret": os.path.join(self.pub, "hs.key"),
            "issuer": ISS, "audience": AUD, "algorithms": ALGS,
            # What the module enforces too: the issuer block's leeway,
            # and exp is required.
            "options": {"clockTolerance": LEEWAY, "requiredClaims": ["exp"]},
        })

    def pyjwt_key(self, alg, kid=None):
        """PyJWT's signing key for @alg, read from jose's private JWK."""
        if alg in HS:
            return self.secret
        jwk = dict(self.private[kid or "jose-" + alg.lower()])
        jwk.pop("alg", None)
        jwk.pop("use", None)
        return jwt.PyJWK(jwk, algorithm=alg).key


@pytest.fixture(scope="module")
def jose(roots):
    j = problem = None
    try:
        j = Jose(roots)
    except SetupError as e:
        problem = str(e)
    if problem:
        pytest.fail(problem, pytrace=False)
    yield j
    j.srv.stop()


def claims(sub, **kw):
    now = int(time.time())
    c = {"iss": ISS, "aud": AUD, "sub": sub, "scope": SCOPE,
         "iat": now, "exp": now + 300}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}


def tamper(token, **changes):
    """@token with its payload changed and the signature kept."""
    h, p, s = token.split(".")
    body = json.loads(jwt.utils.base64url_decode(p))
    body.update(changes)
    return "%s.%s.%s" % (h, b64u(json.dumps(body)), s)


def expired():
    now = int(time.time())
    return dict(iat=now - 900, exp=now - 600)


def assert_accepted(srv, token, sub):
    r = srv.get("/whoami", token)
    assert r.status_code == 200, (r.status_code, r.headers, r.text, r.audit)
    env = r.json()
    assert env["REMOTE_USER"] == sub
    assert env["ZT_ISSUER"] == ISS
    rec = one_record(r)
    assert (rec["decision"], rec["sub"]) == ("allow", sub)


def assert_refused(srv, token, reason):
    r = srv.get("/whoami", token)
    assert_challenge(r, "invalid_token")
    rec = one_record(r)
    assert (rec["decision"], rec["stage"]) == ("deny", "token"), rec
    assert rec["reason"] == reason, rec
    return r


# ---------------------------------------------------------------------------
# jose mints, the module verifies

@pytest.fixture(scope="module")
def jose_tokens(jose):
    """Tokens signed by jose: one per algorithm, then the ones below."""
    reqs = [{"alg": a, "claims": claims("jose-" + a)} for a in ALGS]
    noalg = jose.info["noalg"]
    reqs += [{"alg": a, "key": noalg, "claims": claims("noalg-" + a)}
             for a in NOALG]
    reqs += [dict(r, claims=claims("bad-" + name, **r.get("claims", {})))
             for name, r, _ in REFUSED]
    toks = jose.sign(reqs)
    return {"alg": dict(zip(ALGS, toks)),
            "noalg": dict(zip(NOALG, toks[len(ALGS):])),
            "refused": dict(zip([c[0] for c in REFUSED],
                                toks[len(ALGS) + len(NOALG):]))}


# RSA algorithms used with the key whose JWK names no "alg".
NOALG = ["RS256", "PS384", "RS512"]

# name, jose sign request (claims merged into valid ones), audit reason.
REFUSED = [
    ("expired", {"alg": "ES256", "claims": expired()}, "expired"),
    ("wrong audience", {"alg": "RS256", "claims": {"aud": "other-api"}},
     "audience"),
    ("wrong audience in a list", {"alg": "EdDSA",
                                  "claims": {"aud": ["a", "b"]}}, "audience"),
    ("unknown issuer", {"alg": "ES384",
                        "claims": {"iss": "https://evil.test"}},
     "unknown_issuer"),
    # The key's JWK says RS256; the same RSA key signing PS256 or RS512
    # gives a valid signature under an algorithm the key is not for.
    ("PS256 with the RS256 key", {"alg": "PS256", "key": "jose-rs256"},
     "alg"),
    ("RS512 with the RS256 key", {"alg": "RS512", "key": "jose-rs256"},
     "alg"),
    # The header names the P-384 key for an ES256 token.
    ("ES256 naming the ES384 key", {"alg": "ES256", "key": "jose-es256",
                                    "kid": "jose-es384"}, "alg"),
    ("unknown kid", {"alg": "ES512", "kid": "jose-nope"}, "unknown_key"),
    ("expired HS256", {"alg": "HS256", "claims": expired()}, "expired"),
    ("HS384 for another audience", {"alg": "HS384",
                                    "claims": {"aud": "other-api"}},
     "audience"),
]


@pytest.mark.parametrize("alg", ALGS)
def test_jose_token_accepted(jose, jose_tokens, alg):
    assert_accepted(jose.srv, jose_tokens["alg"][alg], "jose-" + alg)


@pytest.mark.parametrize("alg", NOALG)
def test_jose_token_on_key_without_alg(jose, jose_tokens, alg):
    """A JWK without "alg" (what jose's exportJWK gives) serves every
    algorithm of its key type."""
    assert_accepted(jose.srv, jose_tokens["noalg"][alg], "noalg-" + alg)


@pytest.mark.parametrize("name,reason", [(c[0], c[2]) for c in REFUSED])
def test_jose_token_refused(jose, jose_tokens, name, reason):
    assert_refused(jose.srv, jose_tokens["refused"][name], reason)


@pytest.mark.parametrize("alg", ["RS384", "PS512", "ES256", "EdDSA", "HS512"])
def test_jose_token_tampered_payload(jose, jose_tokens, alg):
    tok = tamper(jose_tokens["alg"][alg], sub="mallory")
    assert_refused(jose.srv, tok, "signature")


def test_jose_keys_are_all_usable(jose):
    """Every key jose published was loaded: no start-up warning about an
    unusable key (ZT00019) in the error log."""
    assert "ZT00019" not in jose.srv.errlog.all()
    with open(os.path.join(jose.pub, "jose.jwks.json")) as f:
        kids = [k["kid"] for k in json.load(f)["keys"]]
    assert len(kids) == len(ASYM) + 1


# ---------------------------------------------------------------------------
# PyJWT mints with jose's keys; the module and jose's jwtVerify agree

def pyjwt_cases(jose):
    """(name, token, accepted?) -- PyJWT-signed, jose's key material."""
    def sign(alg, c, kid=None, key=None):
        hdr = {} if alg in HS else {"kid": kid or "jose-" + alg.lower()}
        return jwt.encode(c, jose.pyjwt_key(alg, key), algorithm=alg,
                          headers=hdr)

    out = [("pyjwt " + a, sign(a, claims("py-" + a)), True) for a in ALGS]
    pem = jose.private["jose-rs256"]
    rsa_pub = jwt.PyJWK(dict(pem, alg="RS256")).key.public_key()
    from cryptography.hazmat.primitives import serialization
    pem_bytes = rsa_pub.public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    out += [
        ("expired", sign("ES512", claims("py-x", **expired())), False),
        ("expired within leeway",
         sign("PS384", claims("py-l", iat=int(time.time()) - 200,
                              exp=int(time.time()) - LEEWAY // 2)), True),
        ("wrong audience", sign("RS384", claims("py-x", aud="other")), False),
        ("audience in a list",
         sign("ES384", claims("py-list", aud=["other", AUD])), True),
        ("no exp", sign("EdDSA", claims("py-x", exp=None)), False),
        ("tampered", tamper(sign("ES256", claims("py-x")), sub="mallory"),
         False),
        ("PS256 with the RS256 key",
         sign("PS256", claims("py-x"), kid="jose-rs256", key="jose-rs256"),
         False),
        ("HS256 with another secret",
         jwt.encode(claims("py-x"), b"x" * 64, algorithm="HS256"), False),
        ("HS256 keyed with the RSA public key",
         zt_e2e.hs256_token(pem_bytes, {"alg": "HS256", "kid": "jose-rs256"},
                            claims("py-x")), False),
        ("alg none",
         zt_e2e.raw_token({"alg": "none"}, claims("py-x")), False),
    ]
    return out


@pytest.fixture(scope="module")
def agreement(jose):
    cases = pyjwt_cases(jose)
    verdicts = jose.verify([c[1] for c in cases])
    return {c[0]: (c[1], c[2], v) for c, v in zip(cases, verdicts)}


AGREE = (["pyjwt " + a for a in ALGS]
         + ["expired", "expired within leeway", "wrong audience",
            "audience in a list", "no exp", "tampered",
            "PS256 with the RS256 key", "HS256 with another secret",
            "HS256 keyed with the RSA public key", "alg none"])


@pytest.mark.parametrize("name", AGREE)
def test_module_and_jose_agree(jose, agreement, name):
    token, accepted, by_jose = agreement[name]
    r = jose.srv.get("/whoami", token)
    by_module = r.status_code == 200
    if not by_module:
        assert_challenge(r, "invalid_token")
    assert by_jose["ok"] == accepted, by_jose
    assert by_module == accepted, (r.status_code, r.text, r.audit)
    if accepted:
        assert r.json()["REMOTE_USER"] == by_jose["payload"]["sub"]


def test_agreement_covers_every_case(agreement):
    """The parametrization above and the cases made agree (no case is
    silently left out)."""
    assert sorted(agreement) == sorted(AGREE)
