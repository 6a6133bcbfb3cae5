# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Keys and tokens of the end-to-end benchmark.

One issuer with an ES256, an RS256 and an EdDSA key; their public halves
as a JWK Set (mod_zerotrust), as a JWK Set of ES256 and RS256 only (mod_auth_openidc) and as single
JWKs (mod_oauth2).  Tokens are minted straight with
`cryptography` on every core (python-jwt would spend more time than the
signature on small tokens): an RSA 2048 signature costs ~1.5 ms, so
200 000 RS256 tokens are two minutes of both cores; ES256 and EdDSA
tokens cost ~50 us each.
"""

import base64
import json
import multiprocessing
import os
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import \
    decode_dss_signature

ISSUER = "https://idp.bench.test/realms/corp"
AUDIENCE = "orders-api"
CLIENT = "bench-client"
LIFETIME = 3600          # within the policy's max_lifetime 2h
ALGS = ("ES256", "RS256", "EdDSA")
KIDS = {"ES256": "es1", "RS256": "rs1", "EdDSA": "ed1"}


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_int(n, size):
    return b64u(n.to_bytes(size, "big"))


def new_key(alg):
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(alg)


def sign(alg, key, data):
    """The JWS signature of @data (RFC 7518 encoding: r||s for ECDSA)."""
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if alg == "RS256":
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data)


def jwk(alg, key):
    pub = key.public_key()
    if alg == "ES256":
        nums = pub.public_numbers()
        d = {"kty": "EC", "crv": "P-256", "x": b64u_int(nums.x, 32),
             "y": b64u_int(nums.y, 32)}
    elif alg == "RS256":
        nums = pub.public_numbers()
        d = {"kty": "RSA", "n": b64u_int(nums.n, 256),
             "e": b64u_int(nums.e, 3)}
    else:
        raw = pub.public_bytes(serialization.Encoding.Raw,
                               serialization.PublicFormat.Raw)
        d = {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
    d.update({"kid": KIDS[alg], "alg": alg, "use": "sig"})
    return d


def claims(i, role, now, **over):
    c = {"iss": ISSUER, "sub": "user-%d" % i, "aud": AUDIENCE, "azp": CLIENT,
         "iat": now, "exp": now + LIFETIME, "jti": "bench-%d" % i,
         "roles": [role, "profile:read"], "scope": "openid orders:read"}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def token(alg, key, payload, kid=None):
    header = {"alg": alg, "typ": "JWT", "kid": kid or KIDS[alg]}
    signing_input = (b64u(json.dumps(header, separators=(",", ":")).encode())
                     + "." + b64u(json.dumps(payload,
                                             separators=(",", ":")).encode()))
    return signing_input + "." + b64u(sign(alg, key, signing_input.encode()))


def _private_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _mint_chunk(job):
    alg, pem, role, now, start, count = job
    key = serialization.load_pem_private_key(pem, None)
    return "".join(token(alg, key, claims(i, role, now)) + "\n"
                   for i in range(start, start + count))


def mint_file(path, alg, key, role, count, procs=None):
    """@count distinct valid tokens, one a line, minted on every core;
    returns the seconds it took."""
    t0 = time.time()
    now = int(t0)
    procs = procs or os.cpu_count() or 1
    step = max(1, min(5000, count // (4 * procs) or 1))
    jobs = [(alg, _private_pem(key), role, now, s, min(step, count - s))
            for s in range(0, count, step)]
    # Spawned, not forked: a worker forked while another thread of the
    # bench (the JWKS server's) held a lock could hang at its exit, and
    # the pool waits for every worker as it closes.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(procs) as pool, open(path, "w") as f:
        for text in pool.imap(_mint_chunk, jobs):
            f.write(text)
    return time.time() - t0


class Keys:
    """The issuer's keys, an attacker's keys with the same kids, and the
    files each server reads them from."""

    def __init__(self):
        self.good = {alg: new_key(alg) for alg in ALGS}
        self.evil = {alg: new_key(alg) for alg in ALGS}

    def write(self, directory):
        """corp.jwks.json (every key), peers.jwks.json (ES256 and RS256:
        the peers' cjose knows no Ed25519); returns {alg: jwk json}."""
        for name, algs in (("corp", ALGS), ("peers", ("ES256", "RS256"))):
            path = os.path.join(directory, name + ".jwks.json")
            with open(path, "w") as f:
                json.dump({"keys": [jwk(alg, self.good[alg]) for alg in algs]},
                          f, indent=1)
            os.chmod(path, 0o644)
        return {alg: json.dumps(jwk(alg, self.good[alg]),
                                separators=(",", ":")) for alg in ALGS}

    def valid(self, alg, role, **over):
        return token(alg, self.good[alg], claims(0, role, int(time.time()),
                                                 **over))

    def bad(self, alg, role):
        """Tokens each server must refuse with 401, by name."""
        now = int(time.time())
        k = self.good[alg]
        return {
            "bad signature": token(alg, self.evil[alg], claims(1, role, now)),
            "expired": token(alg, k, claims(2, role, now - 2 * LIFETIME,
                                            exp=now - LIFETIME)),
            "wrong issuer": token(alg, k, claims(3, role, now,
                                                 iss="https://evil.test")),
            "wrong audience": token(alg, k, claims(4, role, now,
                                                   aud="another-api")),
            "role missing": token(alg, k, claims(5, "s0000:read", now)),
        }
