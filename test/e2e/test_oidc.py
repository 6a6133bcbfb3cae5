# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""A real OpenID Provider on loopback (npm oidc-provider, started by the
test with Node.js): it issues RFC 9068 JWT access tokens by the
client_credentials grant; the module finds its keys by OpenID discovery
(`jwks discover`) and accepts them -- also while the provider rotates its
signing key under a continuous load, without one failed request.

Node.js and the npm packages in test/interop/ are required: missing, the
tests fail with the command that installs them."""

import threading
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

import zt_node
from zt_e2e import SetupError, assert_challenge, b64u, one_record
from zt_node import OidcProvider

POLICY = """\
# Written by test_oidc.py: the provider's issuer is its loopback URL.
policy "oidc"

issuer op "{issuer}" {{
    audience     "{resource}"
    algorithms   ES256
    jwks         discover
    typ          "at+jwt"
    required     client_id scope jti
    refetch_min  1s
    max_lifetime 10m
    leeway       30s
}}

route GET /orders

allow GET /orders when "{scope}" in token.scope
"""

# The load run: bounded in requests, on loopback only.  The rotations
# follow the calls made, not the clock, so a fast or a slow machine runs
# the same three phases; nothing asserts how fast.  LOAD_DEADLINE only
# ends a run that hangs (seen: a loaded machine needs minutes, not 45 s).
# A second rotation waits ROTATION_GAP after most k2 calls: sooner, a
# child that just refetched for k2 would refuse k3 for refetch_min (1 s)
# -- as designed, and as a real provider, which does not rotate twice
# within a second, never sees.
LOAD_DEADLINE = 900
ROTATION_GAP = 2.0
CALL_TIMEOUT = 60
LOAD_THREADS = 4
LOAD_MAX_CALLS = 1500
PHASE_CALLS = 120
CALLS_PER_TOKEN = 3


@pytest.fixture
def provider(workdir):
    op = OidcProvider(workdir)
    problem = None
    try:
        op.start()
    except SetupError as e:
        problem = str(e)
    if problem:
        op.stop()
        pytest.fail(problem, pytrace=False)
    yield op
    op.stop()
    # Whatever went wrong inside the provider is shown, not swallowed.
    assert "server_error" not in op.stderr(), op.stderr()


@pytest.fixture
def guarded(provider, roots):
    """An Apache whose policy trusts @provider by discovery."""
    text = POLICY.format(issuer=provider.issuer, resource=provider.RESOURCE,
                         scope=provider.SCOPE)
    srv = problem = None
    try:
        srv = zt_node.start_api(roots, "oidc", "oidc.ztp", text)
    except SetupError as e:
        problem = str(e)
    if problem:
        pytest.fail(problem, pytrace=False)
    yield srv
    srv.stop()


def kid_of(token):
    return jwt.get_unverified_header(token).get("kid")


def pyjwt_verify(op, token):
    """PyJWT's verdict with the keys the provider publishes (found, like
    the module finds them, by discovery)."""
    keys = jwt.PyJWKSet.from_dict(op.jwks())
    key = next(k for k in keys.keys if k.key_id == kid_of(token))
    return jwt.decode(token, key.key, algorithms=["ES256"],
                      audience=op.RESOURCE, issuer=op.issuer)


# ---------------------------------------------------------------------------
# The provider alone (PyJWT checks what it issues)

def test_provider_issues_jwt_access_tokens(provider):
    meta = provider.discovery()
    assert meta["issuer"] == provider.issuer
    assert meta["jwks_uri"].startswith(provider.issuer + "/")
    assert "client_credentials" in meta["grant_types_supported"]
    tok = provider.token()
    header = jwt.get_unverified_header(tok)
    assert header == {"alg": "ES256", "typ": "at+jwt", "kid": "k1"}
    c = pyjwt_verify(provider, tok)
    assert c["iss"] == provider.issuer
    assert c["aud"] == provider.RESOURCE
    assert c["sub"] == c["client_id"] == provider.CLIENT[0]
    assert c["scope"] == provider.SCOPE
    assert 0 < c["exp"] - c["iat"] <= 300
    assert c["jti"]


def test_provider_rotation_keeps_the_old_key_published(provider):
    old = provider.token()
    assert provider.rotate() == "k2"
    new = provider.token()
    assert kid_of(new) == "k2"
    assert [k["kid"] for k in provider.jwks()["keys"]] == ["k2", "k1"]
    # Both verify against what the provider now publishes.
    assert pyjwt_verify(provider, old)["sub"] == provider.CLIENT[0]
    assert pyjwt_verify(provider, new)["sub"] == provider.CLIENT[0]


def test_provider_refuses_a_wrong_client_secret(provider):
    r = requests.post(provider.issuer + "/token",
                      auth=(provider.CLIENT[0], "wrong"),
                      data={"grant_type": "client_credentials",
                            "scope": provider.SCOPE}, timeout=10)
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_client"


# ---------------------------------------------------------------------------
# The module trusts the provider by discovery

def test_module_accepts_provider_tokens_after_discovery(provider, guarded):
    tok = provider.token()
    r = guarded.get("/orders", tok)
    assert r.status_code == 200, (r.status_code, r.text, r.audit)
    env = r.json()
    assert env["REMOTE_USER"] == provider.CLIENT[0]
    assert env["ZT_ISSUER"] == provider.issuer
    rec = one_record(r)
    assert (rec["decision"], rec["sub"]) == ("allow", provider.CLIENT[0])


def test_module_refuses_what_the_provider_did_not_sign(provider, guarded):
    tok = provider.token()
    h, p, s = tok.split(".")
    # A claim changed under the provider's signature.
    forged = jwt.utils.base64url_decode(p).replace(b'"orders:read"',
                                                   b'"orders:read admin"')
    assert forged != jwt.utils.base64url_decode(p)
    r = guarded.get("/orders", "%s.%s.%s" % (h, b64u(forged), s))
    assert_challenge(r, "invalid_token")
    assert one_record(r)["reason"] == "signature"
    # The provider's claims and header, signed by someone else's key.
    mine = ec.generate_private_key(ec.SECP256R1())
    claims = jwt.decode(tok, options={"verify_signature": False})
    resigned = jwt.encode(claims, mine, algorithm="ES256",
                          headers={"kid": kid_of(tok), "typ": "at+jwt"})
    r = guarded.get("/orders", resigned)
    assert_challenge(r, "invalid_token")
    assert one_record(r)["reason"] == "signature"
    # A kid the provider never published.
    r = guarded.get("/orders", jwt.encode(claims, mine, algorithm="ES256",
                                          headers={"kid": "k99",
                                                   "typ": "at+jwt"}))
    assert_challenge(r, "invalid_token")
    assert one_record(r)["reason"] == "unknown_key"
    # The genuine token still passes.
    assert guarded.get("/orders", tok).status_code == 200


class Load:
    """Client threads: each gets a token from the provider, calls the API
    with it a few times, and starts over, until the time or the request
    budget is spent.  Every answer is recorded."""

    def __init__(self, op, srv):
        self.op, self.srv = op, srv
        self.lock = threading.Lock()
        self.calls = []          # (kid, status, detail)
        self.token_errors = []
        self.kids_seen = [set() for _ in range(LOAD_THREADS)]
        self.stop_at = time.time() + LOAD_DEADLINE
        self.finished = threading.Event()

    def done(self):
        with self.lock:
            return self.finished.is_set() or len(self.calls) >= LOAD_MAX_CALLS

    def count(self, kid=None):
        with self.lock:
            return sum(1 for c in self.calls if kid is None or c[0] == kid)

    def wait_calls(self, n, kid=None):
        """Until @n calls (with @kid's tokens) were made, or the run ends."""
        return self.wait(lambda: self.count(kid) >= n)

    def wait(self, cond):
        while not self.done() and time.time() < self.stop_at:
            if cond():
                return True
            time.sleep(0.05)
        return cond()

    def client(self, n):
        api = requests.Session()
        idp = requests.Session()
        while time.time() < self.stop_at and not self.done():
            try:
                tok = self.op.token(session=idp, timeout=CALL_TIMEOUT)
            except requests.RequestException as e:
                with self.lock:
                    self.token_errors.append(repr(e))
                time.sleep(0.05)
                continue
            kid = kid_of(tok)
            self.kids_seen[n].add(kid)
            for _ in range(CALLS_PER_TOKEN):
                try:
                    # A fresh connection each time: a busy event MPM may
                    # close a kept-alive one just as it is reused.
                    r = api.get(self.srv.url + "/orders", timeout=CALL_TIMEOUT,
                                headers={"Authorization": "Bearer " + tok,
                                         "Connection": "close"})
                    status, detail = r.status_code, (
                        "" if r.status_code == 200 else
                        r.headers.get("WWW-Authenticate", "") + r.text[:200])
                except requests.RequestException as e:
                    status, detail = 0, repr(e)
                with self.lock:
                    self.calls.append((kid, status, detail))

    def wait_all_saw(self, kid):
        return self.wait(lambda: all(kid in s for s in self.kids_seen))


def test_key_rotation_under_load(provider, guarded):
    load = Load(provider, guarded)
    threads = [threading.Thread(target=load.client, args=(n,), daemon=True)
               for n in range(LOAD_THREADS)]
    for t in threads:
        t.start()
    assert load.wait_calls(PHASE_CALLS), load.count()
    # k2 first in the JWK Set and signing; k1 still published.
    assert provider.rotate() == "k2"
    # Once every client holds a k2 token, k1 may go: k3 first, k2 kept.
    assert load.wait_all_saw("k2"), load.kids_seen
    assert load.wait_calls(PHASE_CALLS // 2, "k2"), load.count("k2")
    most_k2 = time.time()
    assert load.wait_calls(PHASE_CALLS, "k2"), load.count("k2")
    time.sleep(max(0.0, most_k2 + ROTATION_GAP - time.time()))
    assert provider.rotate() == "k3"
    assert load.wait_calls(PHASE_CALLS, "k3"), load.count("k3")
    load.finished.set()
    for t in threads:
        t.join(CALL_TIMEOUT * 2 + 30)
    assert not any(t.is_alive() for t in threads)

    failed = [c for c in load.calls if c[1] != 200]
    by_kid = {}
    for kid, _, _ in load.calls:
        by_kid[kid] = by_kid.get(kid, 0) + 1
    summary = "%d calls by kid %s" % (len(load.calls), by_kid)
    print("load run:", summary)
    assert not failed, "%d failed of %s; first: %s" % (len(failed), summary,
                                                       failed[:5])
    assert not load.token_errors, load.token_errors[:5]
    # The run was a real load, and saw every key the provider signed with.
    assert len(load.calls) >= 100, summary
    assert len(load.calls) <= LOAD_MAX_CALLS + LOAD_THREADS * CALLS_PER_TOKEN
    for kid in ("k1", "k2", "k3"):
        assert by_kid.get(kid, 0) > 0, summary
    # The audit log agrees: one allow per call, no refusal.
    deadline = time.time() + 60
    recs = guarded.audit.records(0)
    while len(recs) < len(load.calls) and time.time() < deadline:
        time.sleep(0.1)
        recs = guarded.audit.records(0)
    assert len(recs) == len(load.calls), (len(recs), summary)
    assert {r["decision"] for r in recs} == {"allow"}
