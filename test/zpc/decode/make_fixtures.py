#!/usr/bin/python3
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""Make the `zpc decode` golden fixtures once: keys.jwks.json and *.jwt.

Run from anywhere: python3 test/zpc/decode/make_fixtures.py [hs]
Fresh keys each run; only the public halves are written (keys.jwks.json)
and the private ones are dropped, so the committed tokens cannot be
re-signed.  The HS256 tokens use the throwaway test secret SECRET, which
golden.sh writes to hs256.key (mode 0600) for the policy's `apps` issuer;
`hs` remakes only those tokens.  After a run, refresh the expected outputs with
ZPC_GOLDEN_UPDATE=1 test/zpc/golden.sh and review the diff.

Tokens are made with PyJWT (Debian python3-jwt) and `cryptography`, an
implementation independent of ours; the hostile ones are spelled by hand.
NOW is the --now every case passes.
"""
import base64
import json
import os
import sys

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

NOW = 1700000000
ISS = "https://idp.example.com/realms/corp"
APPS = "https://apps.example.com"
SECRET = b"decode-test-secret-not-for-use-0"    # 32 bytes, HS256's minimum
AUD = "orders-api"
HERE = os.path.dirname(os.path.abspath(__file__))


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key, kid):
    k = json.loads(jwt.algorithms.get_default_algorithms()[
        "RS256" if isinstance(key, rsa.RSAPrivateKey) else
        "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else
        "EdDSA"].to_jwk(key.public_key()))
    k["kid"] = kid
    k["use"] = "sig"
    return k


def claims(**over):
    c = {
        "iss": ISS,
        "sub": "f3b1c2d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
        "aud": AUD,
        "exp": NOW + 600,
        "nbf": NOW - 60,
        "iat": NOW - 60,
        "auth_time": NOW - 3600,
        "azp": "orders-web",
        "scope": "openid orders:read",
        "realm_access": {"roles": ["orders-clerk"]},
    }
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def write(name, text):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(text if isinstance(text, bytes) else text.encode())
        if not isinstance(text, bytes):
            f.write(b"\n")


def hs_tokens():
    """HS256 for the `apps` issuer: secret, typ at+jwt, required claims."""
    def hs(name, typ, body, secret=SECRET):
        write(name, jwt.encode(body, secret, algorithm="HS256",
                               headers={"typ": typ}))

    good = claims(iss=APPS, client_id="orders-cli")
    hs("apps_hs256.jwt", "at+jwt", good)
    hs("apps_typ.jwt", "JWT", good)
    hs("apps_required.jwt", "at+jwt", claims(iss=APPS, azp=None))
    hs("apps_other_secret.jwt", "at+jwt", good,
       secret=b"another-secret-of-thirty-two-by!")


def main():
    if sys.argv[1:] == ["hs"]:
        hs_tokens()
        return
    hs_tokens()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()
    jwks = {"keys": [public_jwk(rsa_key, "rsa-1"), public_jwk(ec_key, "ec-1"),
                     public_jwk(ed_key, "ed-1")]}
    write("keys.jwks.json", json.dumps(jwks, indent=2))

    def sign(key, alg, kid, body, **hdr):
        h = {"kid": kid, "typ": "JWT"} if kid else {"typ": "JWT"}
        h.update(hdr)
        return jwt.encode(body, key, algorithm=alg, headers=h)

    write("rs256.jwt", sign(rsa_key, "RS256", "rsa-1", claims()))
    write("es256.jwt", sign(ec_key, "ES256", "ec-1", claims()))
    write("eddsa.jwt", sign(ed_key, "EdDSA", "ed-1", claims()))
    write("ps256.jwt", sign(rsa_key, "PS256", "rsa-1", claims()))
    write("hs256.jwt", sign(b"a-shared-secret-of-32-bytes-long", "HS256",
                            None, claims()))
    write("expired.jwt", sign(ec_key, "ES256", "ec-1",
                              claims(exp=NOW - 3 * 3600, nbf=NOW - 4 * 3600,
                                     iat=NOW - 4 * 3600)))
    write("not_yet.jwt", sign(ec_key, "ES256", "ec-1",
                              claims(nbf=NOW + 300, iat=NOW + 300,
                                     exp=NOW + 900)))
    # Several claim faults at once: every one is listed.
    write("claims_bad.jwt", sign(ed_key, "EdDSA", "ed-1",
                                 claims(aud=["billing", "account"],
                                        exp=NOW + 7200, iat=NOW - 10,
                                        sub=42)))
    write("unknown_kid.jwt", sign(rsa_key, "RS256", "rotated-away", claims()))
    write("other_iss.jwt", sign(ec_key, "ES256", "ec-1",
                                claims(iss="https://evil.example")))
    # Valid signature over other claims: the payload swapped afterwards.
    good = sign(rsa_key, "RS256", "rsa-1", claims()).split(".")
    forged = b64(json.dumps(claims(scope="openid orders:read admin"),
                            separators=(",", ":")).encode())
    write("bad_sig.jwt", ".".join([good[0], forged, good[2]]))

    # Hostile spellings, by hand.
    body = b64(json.dumps(claims(), separators=(",", ":")).encode())
    write("alg_none.jwt", b64(b'{"alg":"none","typ":"JWT"}') + "." + body + ".")
    write("alg_nOnE.jwt", b64(b'{"alg":"nOnE"}') + "." + body + "." + good[2])
    write("jku.jwt", b64(b'{"alg":"RS256","kid":"rsa-1","jku":"https://evil.example/k"}')
          + "." + body + "." + good[2])
    dup = b'{"iss":"%s","sub":"alice","sub":"admin","exp":%d}' % (ISS.encode(), NOW + 600)
    write("dup_claims.jwt", good[0] + "." + b64(dup) + "." + good[2])
    write("padded.jwt", good[0] + "=." + good[1] + "." + good[2])
    std = base64.b64encode(b'{"alg":"RS256","kid":"rsa-1"}>>>?').decode().rstrip("=")
    write("std_b64.jwt", std + "." + good[1] + "." + good[2])
    write("two_parts.jwt", good[0] + "." + good[1])
    write("not_a_token.jwt", "hello, world")
    write("nul_bytes.jwt", good[0].encode() + b"\0." + good[1].encode() + b"." +
          good[2].encode() + b"\0\0")
    write("control.jwt", b64(b'{"alg":"ES256","kid":"\\u001b[31mred"}') + "." + body
          + "." + good[2])


if __name__ == "__main__":
    main()
