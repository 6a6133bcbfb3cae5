# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Sender-constrained tokens in a real Apache with mod_ssl (issue #6
points 3 and 4).

DPoP proofs (RFC 9449) and bound tokens are made here with PyJWT and
cryptography, client certificates with cryptography: none of it shares
code with the module.  Thumbprints (RFC 7638, RFC 8705 x5t#S256) are
computed here by hand.  Every refusal checks the status, the challenge
(scheme, error, algs) and the audit record's reason."""

import base64
import hashlib
import http.client
import json
import os
import time
import uuid

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

import zt_e2e
import zt_node
from conftest import Api, SERVERS
from test_language import SSL_BODY
from zt_e2e import (Pki, SetupError, assert_problem, claims, client_context,
                    raw_request)

AUD = "bind-api"
CORP = zt_e2e.CORP
ISS_DPOP = "https://dpop.test"
ISS_MTLS = "https://mtls.test"
ISS_ANY = "https://any.test"

# Which child served each request: %P, the status, our X-Probe header.
PID_LOG = 'CustomLog "{root}/logs/pid.log" "%P %>s %{{X-Probe}}i"\n'
GLOBAL = ("ZeroTrustDPoPAlgorithms ES256 EdDSA PS256\n"
          "ZeroTrustDPoPMaxAge 30 3\n"
          "LimitRequestFieldSize 32768\n")


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Client:
    """A DPoP client: its key pair, its public JWK and RFC 7638 thumbprint."""

    def __init__(self, kind="EC"):
        if kind == "EC":
            self.key, self.alg = ec.generate_private_key(ec.SECP256R1()), "ES256"
            pub = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(
                self.key.public_key()))
            members = ("crv", "kty", "x", "y")
        else:
            self.key, self.alg = ed25519.Ed25519PrivateKey.generate(), "EdDSA"
            pub = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(
                self.key.public_key()))
            members = ("crv", "kty", "x")
        self.jwk = {k: pub[k] for k in members}
        canon = json.dumps(self.jwk, sort_keys=True, separators=(",", ":"))
        self.jkt = b64u(hashlib.sha256(canon.encode()).digest())

    def proof(self, method, url, token=None, iat=None, jti=None, alg=None,
              jwk=None, typ="dpop+jwt", drop=(), key=None, **extra):
        payload = {"jti": jti or str(uuid.uuid4()), "htm": method, "htu": url,
                   "iat": int(time.time()) if iat is None else iat}
        if token is not None:
            payload["ath"] = b64u(hashlib.sha256(token.encode()).digest())
        payload.update(extra)
        for k in drop:
            payload.pop(k, None)
        headers = {"typ": typ, "jwk": jwk if jwk is not None else self.jwk}
        return jwt.encode(payload, key if key is not None else self.key,
                          algorithm=alg or self.alg, headers=headers)


def cert_thumb(cert_file):
    with open(cert_file, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return b64u(hashlib.sha256(
        cert.public_bytes(serialization.Encoding.DER)).digest())


class Bind:
    """The server, its ports and the client certificates."""

    def url(self, path, tls=True):
        return ("https://127.0.0.1:%d%s" % (self.tls, path) if tls
                else "http://127.0.0.1:%d%s" % (self.srv.port, path))


@pytest.fixture(scope="module")
def bind(zt_cfg, keys, workdir):
    B = Bind()
    root = os.path.join(workdir, "binding")
    zt_e2e.make_tree(root)
    zt_e2e.install_cgi(root)
    keys.write_jwks(os.path.join(root, "policy"))
    pki = Pki(os.path.join(root, "pki"))
    srv_cert, srv_key = pki.server()
    B.ca = pki.ca_file
    B.svc_a = pki.issue("svc-a", [(NameOID.COMMON_NAME, "svc-a")])
    B.svc_b = pki.issue("svc-b", [(NameOID.COMMON_NAME, "svc-b")])
    B.tls = zt_e2e.free_port()
    body = (GLOBAL + PID_LOG + zt_e2e.api_body("policy/binding.ztb")
            + SSL_BODY.format(mods=zt_cfg.libexecdir, tls=B.tls, cert=srv_cert,
                              key=srv_key, ca=B.ca))
    src = zt_e2e.copy_policy(root, "binding.ztp")
    B.srv = Api(zt_cfg, root, body)
    SERVERS.append(B.srv)
    try:
        zt_e2e.compile_policy(zt_cfg, src, src[:-4] + ".ztb")
        B.srv.start()
    except SetupError as e:
        pytest.fail(str(e), pytrace=False)
    yield B
    B.srv.stop()


def token(keys, iss=CORP, **extra):
    return zt_e2e.sign(keys, claims(iss=iss, aud=AUD, **extra))


def go(B, method, path, tok=None, proof=None, scheme="DPoP", cert=None,
       tls=True, headers=None):
    h = dict(headers or {})
    if tok is not None:
        h["Authorization"] = "%s %s" % (scheme, tok)
    if proof is not None:
        h["DPoP"] = proof
    if tls:
        return raw_request(B.srv.audit, "127.0.0.1", B.tls, method, path, h,
                           context=client_context(B.ca, cert))
    return raw_request(B.srv.audit, "127.0.0.1", B.srv.port, method, path, h)


def record(r):
    assert len(r.audit) == 1, r.audit
    return r.audit[0]


def ok(r):
    assert r.status_code == 200, (r.status_code, r.headers, r.text)
    assert record(r)["decision"] == "allow"
    return r


def refused(r, reason, error="invalid_dpop_proof", scheme="DPoP"):
    """401 with a @scheme challenge naming @error; audit reason @reason."""
    assert_problem(r, 401)
    chal = r.headers.get("WWW-Authenticate", "")
    assert chal.startswith(scheme + " "), chal
    assert 'error="%s"' % error in chal, chal
    if scheme == "DPoP":
        assert 'algs="PS256 ES256 EdDSA"' in chal, chal
    rec = record(r)
    assert (rec["decision"], rec["stage"], rec["status"], rec["reason"]) == (
        "deny", "token", 401, reason), rec
    return rec


# ---------------------------------------------------------------------------
# DPoP

def test_dpop_bound_token_with_its_proof(bind, keys):
    B, c = bind, Client()
    t = token(keys, cnf={"jkt": c.jkt})
    r = ok(go(B, "GET", "/orders", t, c.proof("GET", B.url("/orders"), t)))
    assert json.loads(r.text)["REMOTE_USER"] == "alice"
    # EdDSA, POST, and a URL written differently but equal once normalised
    e = Client("OKP")
    t = token(keys, cnf={"jkt": e.jkt})
    url = "HTTPS://127.0.0.1:%d/./orders?x=1#f" % B.tls
    ok(go(B, "POST", "/orders", t, e.proof("POST", url, t)))
    # the scheme name is case-insensitive (RFC 9110 11.1)
    ok(go(B, "GET", "/orders", t, e.proof("GET", B.url("/orders"), t),
          scheme="dpop"))


def test_replayed_proof_is_refused_by_every_process(bind, keys):
    """Each proof once, then again on new connections: the two children
    (StartServers 2) share the seen-set, so a replay is refused whichever
    child gets it, including the one that did not see the first use."""
    B, c = bind, Client()
    t = token(keys, cnf={"jkt": c.jkt})
    pidlog = os.path.join(B.srv.root, "logs/pid.log")
    for n in range(25):
        p = c.proof("GET", B.url("/orders"), t)
        ok(go(B, "GET", "/orders", t, p, headers={"X-Probe": "first-%d" % n}))
        for k in range(3):
            refused(go(B, "GET", "/orders", t, p,
                       headers={"X-Probe": "again-%d" % n}), "dpop_replay")
    time.sleep(0.3)
    with open(pidlog) as f:
        rows = [line.split() for line in f if len(line.split()) == 3]
    first = {probe[6:]: pid for pid, st, probe in rows
             if probe.startswith("first-")}
    again = [(probe[6:], pid, st) for pid, st, probe in rows
             if probe.startswith("again-")]
    assert len(first) == 25 and len(again) == 75, rows
    assert all(st == "401" for _, _, st in again)
    crossed = [n for n, pid, _ in again if pid != first[n]]
    assert crossed, "every replay reached the child of the first use: %s" % rows
    assert len({pid for pid, _, _ in rows}) == 2, rows


def test_stolen_token_with_the_thiefs_own_proof(bind, keys):
    B, victim, thief = bind, Client(), Client()
    t = token(keys, cnf={"jkt": victim.jkt})
    refused(go(B, "GET", "/orders", t, thief.proof("GET", B.url("/orders"), t)),
            "dpop_jkt")
    # ... or a proof signed by the thief but carrying the victim's jwk
    refused(go(B, "GET", "/orders", t,
               victim.proof("GET", B.url("/orders"), t, key=thief.key)),
            "dpop_signature")
    # ... or the token as a plain bearer token (RFC 9449 7.2)
    refused(go(B, "GET", "/orders", t, scheme="Bearer"), "dpop_as_bearer",
            error="invalid_token", scheme="Bearer")
    refused(go(B, "GET", "/orders", t, victim.proof("GET", B.url("/orders"), t),
               scheme="Bearer"), "dpop_as_bearer", error="invalid_token",
            scheme="Bearer")


def test_proof_for_another_request(bind, keys):
    B, c = bind, Client()
    t = token(keys, cnf={"jkt": c.jkt})
    for p, reason in [
            (c.proof("POST", B.url("/orders"), t), "dpop_htm"),
            (c.proof("get", B.url("/orders"), t), "dpop_htm"),
            (c.proof("GET", B.url("/orders/1"), t), "dpop_htu"),
            (c.proof("GET", B.url("/orders", tls=False), t), "dpop_htu"),
            (c.proof("GET", "https://localhost:%d/orders" % B.tls, t),
             "dpop_htu"),
            (c.proof("GET", "https://127.0.0.1:%d/orders" % (B.tls + 1), t),
             "dpop_htu"),
            (c.proof("GET", B.url("/orders")), "dpop_ath"),
            (c.proof("GET", B.url("/orders"), token(keys)), "dpop_ath"),
            (c.proof("GET", B.url("/orders"), t, iat=int(time.time()) - 40),
             "dpop_iat"),
            (c.proof("GET", B.url("/orders"), t, iat=int(time.time()) + 30),
             "dpop_iat"),
            (c.proof("GET", B.url("/orders"), t, drop=("jti",)), "dpop_claims"),
            (c.proof("GET", B.url("/orders"), t, typ="JWT"), "dpop_typ")]:
        refused(go(B, "GET", "/orders", t, p), reason)
    # the proof of a plain-HTTP request is for plain HTTP
    ok(go(B, "GET", "/orders", t, c.proof("GET", B.url("/orders", tls=False), t),
          tls=False))


def test_hostile_proofs(bind, keys):
    B, c = bind, Client()
    t = token(keys, cnf={"jkt": c.jkt})
    url = B.url("/orders")
    priv = dict(c.jwk, d=b64u(c.key.private_numbers().private_value
                                .to_bytes(32, "big")))
    for p, reason in [
            (c.proof("GET", url, t, jwk=priv), "dpop_jwk"),
            (c.proof("GET", url, t, alg="HS256", key=b"secret" * 6), "dpop_alg"),
            (c.proof("GET", url, t, alg="ES384",
                     key=ec.generate_private_key(ec.SECP384R1())), "dpop_alg"),
            (c.proof("GET", url, t).rsplit(".", 1)[0] + "."
             + c.proof("GET", url, t).rsplit(".", 1)[1], "dpop_signature"),
            ("a.b.c", "dpop_malformed"),
            ("x" * 9000, "dpop_too_large")]:
        refused(go(B, "GET", "/orders", t, p), reason)
    unsigned = "%s.%s." % (
        b64u(json.dumps({"typ": "dpop+jwt", "alg": "none", "jwk": c.jwk})
             .encode()),
        b64u(json.dumps({"jti": "n", "htm": "GET", "htu": url,
                         "iat": int(time.time())}).encode()))
    refused(go(B, "GET", "/orders", t, unsigned), "dpop_alg")
    refused(go(B, "GET", "/orders", t), "dpop_missing")


def test_two_dpop_headers(bind, keys):
    """Two DPoP fields (httpd would join them with ", "): refused."""
    B, c = bind, Client()
    t = token(keys, cnf={"jkt": c.jkt})
    pos = B.srv.audit.size()
    conn = http.client.HTTPSConnection("127.0.0.1", B.tls, timeout=15,
                                       context=client_context(B.ca))
    try:
        conn.putrequest("GET", "/orders")
        conn.putheader("Authorization", "DPoP " + t)
        conn.putheader("DPoP", c.proof("GET", B.url("/orders"), t))
        conn.putheader("DPoP", c.proof("GET", B.url("/orders"), t))
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    r = zt_e2e.Answer(resp, body, B.srv.audit.records(pos, wait=0.5))
    refused(r, "dpop_many")


def test_no_credentials_offers_both_schemes(bind, keys):
    """RFC 9449 section 7.2, figure 17: without credentials (none, or in
    a scheme the module does not read) the 401 offers Bearer and DPoP, in
    one field, neither with an error; a request that used one scheme is
    answered in that scheme alone (figure 18's rule)."""
    B = bind
    both = 'Bearer realm="api", DPoP realm="api", algs="PS256 ES256 EdDSA"'
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        r = go(B, "GET", "/orders", headers=headers)
        assert_problem(r, 401)
        assert r.headers.get_all("WWW-Authenticate") == [both], r.headers
        rec = record(r)
        assert (rec["decision"], rec["stage"], rec["reason"]) == (
            "deny", "token", "no token"), rec
    # Over plain HTTP as well: the challenge does not depend on TLS.
    r = go(B, "GET", "/orders", tls=False)
    assert r.headers.get_all("WWW-Authenticate") == [both], r.headers
    # A Bearer token that fails: the Bearer challenge carries the error,
    # and no DPoP challenge comes with it.
    r = go(B, "GET", "/orders", "not.a.token", scheme="Bearer")
    chal = r.headers.get_all("WWW-Authenticate")
    assert len(chal) == 1, chal
    assert chal[0].startswith('Bearer realm="api", error="invalid_token", '
                              'error_description="'), chal
    assert "DPoP" not in chal[0], chal
    # The DPoP scheme without its proof: DPoP alone.
    t = token(keys, cnf={"jkt": Client().jkt})
    r = go(B, "GET", "/orders", t)
    chal = r.headers.get_all("WWW-Authenticate")
    assert chal == ['DPoP realm="api", error="invalid_dpop_proof", '
                    'error_description="the DPoP scheme needs a DPoP proof '
                    'header", algs="PS256 ES256 EdDSA"'], chal


def test_unbound_token_with_dpop_scheme(bind, keys):
    B, c = bind, Client()
    t = token(keys)
    refused(go(B, "GET", "/orders", t, c.proof("GET", B.url("/orders"), t)),
            "dpop_unbound", error="invalid_token")
    # unbound bearer tokens of an issuer without `binding` still pass
    ok(go(B, "GET", "/orders", t, scheme="Bearer"))
    # a bad token under the DPoP scheme is answered in that scheme
    forged = zt_e2e.sign(keys, claims(aud=AUD), evil=True)
    refused(go(B, "GET", "/orders", forged, c.proof("GET", B.url("/orders"),
                                                     forged)),
            "signature", error="invalid_token")


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "PS256"])
def test_proofs_made_by_jose(bind, keys, alg):
    """npm jose makes the key pair, its thumbprint and the proofs; PyJWT
    the token bound to that thumbprint."""
    B = bind
    url = B.url("/orders")
    first = zt_node.jose_tool("dpop", stdin={"alg": alg, "proofs": []})
    t = token(keys, cnf={"jkt": first["jkt"]})
    ath = b64u(hashlib.sha256(t.encode()).digest())
    made = zt_node.jose_tool("dpop", stdin={"alg": alg, "key": first["key"],
                                            "proofs": [
        {"htm": "GET", "htu": url, "ath": ath},
        {"htm": "POST", "htu": url, "ath": ath},
        {"htm": "GET", "htu": url}]})
    assert made["jkt"] == first["jkt"]
    ok(go(B, "GET", "/orders", t, made["proofs"][0]))
    ok(go(B, "POST", "/orders", t, made["proofs"][1]))
    refused(go(B, "GET", "/orders", t, made["proofs"][0]), "dpop_replay")
    refused(go(B, "GET", "/orders", t, made["proofs"][2]), "dpop_ath")
    # another key pair's proof, for the same token: stolen token
    other = zt_node.jose_tool("dpop", stdin={"alg": alg, "proofs": [
        {"htm": "GET", "htu": url, "ath": ath}]})
    assert other["jkt"] != first["jkt"]
    refused(go(B, "GET", "/orders", t, other["proofs"][0]), "dpop_jkt")


# ---------------------------------------------------------------------------
# Certificate-bound tokens (RFC 8705)

def test_certificate_bound_token(bind, keys):
    B = bind
    t = token(keys, cnf={"x5t#S256": cert_thumb(B.svc_a[0])})
    ok(go(B, "GET", "/orders", t, scheme="Bearer", cert=B.svc_a))
    refused(go(B, "GET", "/orders", t, scheme="Bearer", cert=B.svc_b),
            "cnf_mismatch", error="invalid_token", scheme="Bearer")
    refused(go(B, "GET", "/orders", t, scheme="Bearer"), "cnf_no_cert",
            error="invalid_token", scheme="Bearer")
    refused(go(B, "GET", "/orders", t, scheme="Bearer", tls=False),
            "cnf_no_cert", error="invalid_token", scheme="Bearer")
    refused(go(B, "GET", "/orders", token(keys, cnf="x"), scheme="Bearer"),
            "cnf_malformed", error="invalid_token", scheme="Bearer")


def test_binding_read_again_on_a_kept_alive_connection(bind, keys):
    """One connection, three tokens in turn, each three times (verified,
    then the cache's entry, then the connection's memo of it, whose cnf
    the connection keeps): each answer is its own token's, never the one
    before's."""
    B, c = bind, Client()
    bound = token(keys, cnf={"jkt": c.jkt})
    plain = token(keys)
    broken = token(keys, cnf="x")
    want = {bound: (401, "bound to a DPoP key"), plain: (200, None),
            broken: (401, "cnf claim is not an object")}
    conn = http.client.HTTPSConnection("127.0.0.1", B.tls, timeout=10,
                                       context=client_context(B.ca, None))
    try:
        for tok in [bound] * 3 + [plain] * 3 + [broken] * 3 + [bound] * 3 \
                + [plain] * 3:
            conn.request("GET", "/orders",
                         headers={"Authorization": "Bearer " + tok})
            r = conn.getresponse()
            r.read()
            status, says = want[tok]
            assert r.status == status, (r.status, says)
            if says:
                assert says in r.getheader("WWW-Authenticate"), says
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# Issuers that require a binding

def test_issuer_binding(bind, keys):
    B, c = bind, Client()
    a = cert_thumb(B.svc_a[0])
    url = B.url("/orders")
    for iss, need in [(ISS_DPOP, "dpop"), (ISS_MTLS, "mtls"), (ISS_ANY, "any")]:
        t = token(keys, iss=iss)
        rec = refused(go(B, "GET", "/orders", t, scheme="Bearer", cert=B.svc_a),
                      "unbound_token", error="invalid_token", scheme="Bearer")
        assert rec["iss"] == iss
        td = token(keys, iss=iss, cnf={"jkt": c.jkt})
        tm = token(keys, iss=iss, cnf={"x5t#S256": a})
        rd = go(B, "GET", "/orders", td, c.proof("GET", url, td))
        rm = go(B, "GET", "/orders", tm, scheme="Bearer", cert=B.svc_a)
        if need in ("dpop", "any"):
            ok(rd)
        else:
            refused(rd, "unbound_token", error="invalid_token")
        if need in ("mtls", "any"):
            ok(rm)
        else:
            refused(rm, "unbound_token", error="invalid_token", scheme="Bearer")


# ---------------------------------------------------------------------------
# Directives

def test_replay_survives_graceful_restart(zt_cfg, servers, keys):
    """A proof used just before `apachectl graceful` is still refused by
    the new generation's children: the set outlives the generation."""
    srv = servers(GLOBAL + zt_e2e.api_body("policy/binding.ztb"),
                  policy="binding.ztp")
    c = Client()
    t = token(keys, cnf={"jkt": c.jkt})
    url = srv.url + "/orders"
    proofs = [c.proof("GET", url, t) for _ in range(5)]
    for p in proofs:
        r = srv.req("GET", "/orders", raw_auth="DPoP " + t, headers={"DPoP": p})
        assert r.status_code == 200, (r.status_code, r.text)
    # a new size takes effect at the next full start only (ZT00048)
    srv.write_conf("ZeroTrustDPoPReplayCache 128\n" + srv.body)
    srv.graceful()
    time.sleep(1.5)
    for p in proofs:
        r = srv.req("GET", "/orders", raw_auth="DPoP " + t, headers={"DPoP": p})
        refused(r, "dpop_replay")
    ok(srv.req("GET", "/orders", raw_auth="DPoP " + t,
               headers={"DPoP": c.proof("GET", url, t)}))
    assert "ZT00048" in srv.errlog.all()


def test_replay_cache_full_fails_closed(zt_cfg, servers, keys, allow_log):
    allow_log.append("ZT00044")
    srv = servers("ZeroTrustDPoPReplayCache 64\n" + zt_e2e.api_body(
        "policy/binding.ztb"), policy="binding.ztp")
    c = Client()
    t = token(keys, cnf={"jkt": c.jkt})
    url = srv.url + "/orders"
    seen = {}
    for _ in range(100):
        r = srv.req("GET", "/orders", raw_auth="DPoP " + t,
                    headers={"DPoP": c.proof("GET", url, t)})
        seen[r.status_code] = seen.get(r.status_code, 0) + 1
        if r.status_code == 503:
            assert_problem(r, 503)
            assert r.audit[0]["reason"] == "dpop_replay_full"
    assert seen.get(200, 0) <= 64 and seen.get(503, 0) >= 36, seen
    assert "ZT00044" in srv.errlog.all()


def test_server_nonce(zt_cfg, servers, keys):
    """ZeroTrustDPoPNonce on: a proof without our nonce gets
    use_dpop_nonce and a DPoP-Nonce to retry with (RFC 9449 section 9)."""
    srv = servers(GLOBAL + "ZeroTrustDPoPNonce on 60\n" + zt_e2e.api_body(
        "policy/binding.ztb"), policy="binding.ztp")
    c = Client()
    t = token(keys, cnf={"jkt": c.jkt})
    url = srv.url + "/orders"

    def send(**kw):
        return srv.req("GET", "/orders", raw_auth="DPoP " + t,
                       headers={"DPoP": c.proof("GET", url, t, **kw)})

    r = send()
    rec = refused(r, "dpop_nonce", error="use_dpop_nonce")
    nonce = r.headers.get("DPoP-Nonce", "")
    assert len(nonce) == 27, r.headers
    ok_ = send(nonce=nonce)
    assert ok_.status_code == 200, (ok_.status_code, ok_.text)
    assert "DPoP-Nonce" not in ok_.headers      # still current
    forged = nonce[:-2] + ("AA" if nonce[-2:] != "AA" else "BA")
    r = send(nonce=forged)
    refused(r, "dpop_nonce", error="use_dpop_nonce")
    assert r.headers.get("DPoP-Nonce") == nonce
    # a bad proof is told what is wrong with it first
    refused(send(nonce=nonce, iat=int(time.time()) - 600), "dpop_iat")
    # and another server generation (graceful) makes its own nonces
    srv.graceful()
    time.sleep(1.5)
    refused(send(nonce=nonce), "dpop_nonce", error="use_dpop_nonce")
    assert rec["reason"] == "dpop_nonce"


# ---------------------------------------------------------------------------
# ZeroTrustDPoPKeyCache: each process keeps the proof keys it imported.
# Every request of one test goes over one keep-alive connection, so one
# child answers them all, and the debug line ZT00071 says which proof's
# key came from that child's cache.

KEY_HIT = "ZT00071"


def key_cache_server(servers, line=""):
    return servers(GLOBAL + line + "\nLogLevel warn zerotrust:debug\n"
                   + zt_e2e.api_body("policy/binding.ztb"),
                   policy="binding.ztp")


def key_hits(srv, session, clients, t=None):
    """Each client's bound token and a fresh proof, one request each;
    which of them logged a key-cache hit."""
    hits = []
    for c in clients:
        tok = t or c.tok
        url = srv.url + "/orders"
        pos = srv.errlog.size()
        r = session.get(url, timeout=15, headers={
            "Authorization": "DPoP " + tok, "DPoP": c.proof("GET", url, tok)})
        assert r.status_code == 200, (r.status_code, r.text)
        hits.append(KEY_HIT in srv.errlog.since(pos))
    return hits


def bound_clients(keys, n, kind="EC"):
    out = [Client(kind) for _ in range(n)]
    for c in out:
        c.tok = token(keys, cnf={"jkt": c.jkt})
    return out


@pytest.mark.parametrize("kind", ["EC", "OKP"])
def test_key_cache_default_keeps_keys(servers, keys, kind):
    srv = key_cache_server(servers)
    c = bound_clients(keys, 1, kind)
    # The first proof imports the key; the next ones, new proofs by the
    # same key, find it.
    assert key_hits(srv, requests.Session(), c * 4) == [False] + [True] * 3


def test_key_cache_off_imports_every_key(servers, keys):
    srv = key_cache_server(servers, "ZeroTrustDPoPKeyCache Off")
    assert key_hits(srv, requests.Session(),
                    bound_clients(keys, 1) * 4) == [False] * 4


def test_key_cache_bounds_take_effect(servers, keys):
    srv = key_cache_server(servers, "ZeroTrustDPoPKeyCache 16 64K")
    s = requests.Session()
    clients = bound_clients(keys, 24)
    # 24 keys in turn through 16 places, least recently used out: the
    # second round finds none of them.
    assert not any(key_hits(srv, s, clients))
    assert not any(key_hits(srv, s, clients))
    # The last 16 stay: used again, every one is a hit.
    assert all(key_hits(srv, s, clients[-16:]))
    # With the default size, the same traffic hits from the second round.
    srv = key_cache_server(servers)
    s = requests.Session()
    assert not any(key_hits(srv, s, clients))
    assert all(key_hits(srv, s, clients))


@pytest.mark.parametrize("line, message", [
    ("ZeroTrustDPoPKeyCache 8", "ZeroTrustDPoPKeyCache: '8' is not 'off' or "
     "a number of entries from 16 to 1000000"),
    ("ZeroTrustDPoPKeyCache lots", "'lots' is not 'off' or a number"),
    ("ZeroTrustDPoPKeyCache 100 1K", "ZeroTrustDPoPKeyCache: '1K' is not a "
     "size from 64K to 1G (bytes, or with K, M or G)"),
    ("ZeroTrustDPoPKeyCache 100 2G", "from 64K to 1G"),
    ("ZeroTrustDPoPKeyCache off 100", "ZeroTrustDPoPKeyCache off takes no "
     "other argument"),
    ("ZeroTrustDPoPKeyCache", "takes 1-2 arguments"),
    ("ZeroTrustDPoPKeyCache 100 1M 2", "takes 1-2 arguments"),
    ("<VirtualHost 127.0.0.1:1>\nZeroTrustDPoPKeyCache 100\n</VirtualHost>",
     "cannot occur within <VirtualHost> section"),
    ('<Location "/x">\nZeroTrustDPoPKeyCache 100\n</Location>',
     "not allowed in <Location> context"),
])
def test_key_cache_directive_errors(servers, line, message):
    srv = servers(line + "\n" + zt_e2e.api_body("policy/binding.ztb"),
                  start=False, policy="binding.ztp")
    rc, out = srv.configtest()
    assert rc != 0 and message in out, out


@pytest.mark.parametrize("line", [
    "ZeroTrustDPoPKeyCache 16", "ZeroTrustDPoPKeyCache 1024 4M",
    "ZeroTrustDPoPKeyCache 1000000 1G", "ZeroTrustDPoPKeyCache 100 65536",
    "ZeroTrustDPoPKeyCache OFF", "ZeroTrustDPoPKeyCache off",
    "ZeroTrustDPoPKeyCache 20000 64M",      # DIRECTIVES.md's example
])
def test_key_cache_directive_accepted(servers, line):
    srv = servers(line + "\n" + zt_e2e.api_body("policy/binding.ztb"),
                  start=False, policy="binding.ztp")
    rc, out = srv.configtest()
    assert rc == 0 and "Syntax OK" in out, out


@pytest.mark.parametrize("line, message", [
    ("ZeroTrustDPoPAlgorithms ES256 HS256", "'HS256' is not an asymmetric"),
    ("ZeroTrustDPoPAlgorithms", "needs at least one algorithm"),
    ("ZeroTrustDPoPMaxAge 0", "not a number of seconds from 1 to 3600"),
    ("ZeroTrustDPoPMaxAge 60 301", "clock skew '301'"),
    ("ZeroTrustDPoPReplayCache 10", "from 64 to 16777216"),
    ("ZeroTrustDPoPNonce yes", "takes 'on [seconds]' or 'off'"),
    ("ZeroTrustDPoPNonce on 5", "from 10 to 86400"),
    ('<Location "/x">\nZeroTrustDPoPMaxAge 60\n</Location>',
     "not allowed in <Location> context"),
])
def test_bad_directives(zt_cfg, servers, line, message):
    srv = servers(line + "\n" + zt_e2e.api_body("policy/api.ztb"), start=False)
    rc, out = srv.configtest()
    assert rc != 0 and message in out, out
