// Licensed under the Apache License, Version 2.0 (the "License"); you may
// not use this file except in compliance with the License.  You may obtain
// a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
//
// Keys and tokens from an independent JOSE implementation (npm `jose`),
// for test/e2e/test_interop.py.  Every command answers one JSON document
// on stdout; errors go to stderr with exit status 2.
//
//   node jose_tool.mjs keys PUBDIR PRIVDIR
//       One key per JWS algorithm we support, plus an RSA key whose JWK
//       has no "alg" (usable for any RS / PS algorithm).  Writes
//       PUBDIR/jose.jwks.json (public JWK Set), PUBDIR/hs.key (64 random
//       bytes, the HS* shared secret) and PRIVDIR/jose.private.json
//       (the private JWKs, for the tests' other signer, PyJWT).
//       Prints {"kids": {ALG: KID, ...}, "noalg": KID}.
//
//   node jose_tool.mjs sign PUBDIR PRIVDIR < [{alg, claims, kid?, key?,
//                                              header?}, ...]
//       One compact JWS per request, signed by jose's SignJWT.  "key" names
//       the kid of the signing key (default: the key made for "alg"); "kid"
//       the kid put in the header (default: the signing key's; null: none).
//       HS* requests sign with hs.key and carry no kid by default.
//       Prints [TOKEN, ...].
//
//   node jose_tool.mjs verify < {tokens, jwks, secret?, issuer, audience,
//                                algorithms, options?}
//       jose's jwtVerify on each token with the JWK Set file "jwks" (and
//       the raw secret file "secret" for HS*), the issuer, audience and
//       algorithm allowlist, plus any other jwtVerify "options"
//       (clockTolerance, requiredClaims, ...).  Prints [{"ok": true, "payload": {...}} |
//       {"ok": false, "code": "ERR_...", "message": "..."}, ...].
//
//   node jose_tool.mjs dpop < {alg, key?, proofs: [{htm, htu, ath?}, ...]}
//       One DPoP proof (RFC 9449) per entry, signed by jose's SignJWT with
//       typ dpop+jwt, the public jwk in the header and a random jti, with
//       the private JWK "key" (from an earlier answer), or a fresh key pair
//       for @alg.  Prints {"jkt": RFC 7638 thumbprint by jose's
//       calculateJwkThumbprint, "key": the private JWK, "proofs": [...]}.
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  SignJWT, calculateJwkThumbprint, createLocalJWKSet, exportJWK,
  generateKeyPair, importJWK, jwtVerify,
} from 'jose';

// Algorithm -> generateKeyPair options.  RSA sizes vary so the verifier
// sees 2048, 3072 and 4096-bit moduli (one each above 2048: they are slow
// to make).
const ASYM = {
  RS256: { modulusLength: 2048 }, RS384: { modulusLength: 3072 },
  RS512: { modulusLength: 4096 }, PS256: { modulusLength: 2048 },
  PS384: { modulusLength: 2048 }, PS512: { modulusLength: 2048 },
  ES256: {}, ES384: {}, ES512: {},
  EdDSA: { crv: 'Ed25519' },
};
const HS = ['HS256', 'HS384', 'HS512'];
const NOALG_KID = 'jose-rsa-noalg';

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function writeFile(path, data, mode) {
  writeFileSync(path, data);
  chmodSync(path, mode);
}

async function keys(pubdir, privdir) {
  const pub = [];
  const priv = [];
  const kids = {};
  const add = async (alg, opts, kid, withAlg) => {
    const { publicKey, privateKey } = await generateKeyPair(
      alg, { ...opts, extractable: true });
    const p = await exportJWK(publicKey);
    const s = await exportJWK(privateKey);
    for (const jwk of [p, s]) {
      jwk.kid = kid;
      if (withAlg) {
        jwk.alg = alg;
        jwk.use = 'sig';
      }
    }
    return [p, s];
  };
  // Generated in parallel (the work runs on libuv's thread pool), kept
  // in a fixed order.
  const jobs = Object.entries(ASYM).map(([alg, opts]) => {
    kids[alg] = 'jose-' + alg.toLowerCase();
    return add(alg, opts, kids[alg], true);
  });
  jobs.push(add('RS256', { modulusLength: 2048 }, NOALG_KID, false));
  const made = await Promise.all(jobs);
  for (const [p, s] of made) {
    pub.push(p);
    priv.push(s);
  }
  writeFile(join(pubdir, 'jose.jwks.json'),
    JSON.stringify({ keys: pub }, null, 1), 0o644);
  writeFile(join(privdir, 'jose.private.json'),
    JSON.stringify({ keys: priv }, null, 1), 0o600);
  // Only its owner may read a secret that mints tokens (the module
  // refuses a group- or world-readable one).
  writeFile(join(pubdir, 'hs.key'), randomBytes(64), 0o600);
  return { kids, noalg: NOALG_KID };
}

async function sign(pubdir, privdir, requests) {
  const priv = readJson(join(privdir, 'jose.private.json')).keys;
  const secret = readFileSync(join(pubdir, 'hs.key'));
  const out = [];
  for (const r of requests) {
    let key;
    let kid;
    if (HS.includes(r.alg)) {
      key = secret;
      kid = null;
    } else {
      const want = r.key || 'jose-' + r.alg.toLowerCase();
      const jwk = priv.find((k) => k.kid === want);
      if (!jwk) throw new Error('no private key with kid ' + want);
      // importJWK refuses a JWK whose "alg" differs from the one asked
      // for; an alg-mismatch token is made from the key material alone.
      const { alg: _alg, use: _use, ...material } = jwk;
      key = await importJWK(material, r.alg);
      kid = jwk.kid;
    }
    if (r.kid !== undefined) kid = r.kid;
    const header = { alg: r.alg, ...(r.header || {}) };
    if (kid !== null) header.kid = kid;
    out.push(await new SignJWT(r.claims).setProtectedHeader(header).sign(key));
  }
  return out;
}

async function verify(req) {
  const jwks = createLocalJWKSet(readJson(req.jwks));
  const secret = req.secret ? readFileSync(req.secret) : null;
  const opts = {
    issuer: req.issuer,
    audience: req.audience,
    algorithms: req.algorithms,
    ...(req.options || {}),
  };
  const out = [];
  for (const token of req.tokens) {
    try {
      const key = async (header) => (
        HS.includes(header.alg) && secret ? secret : jwks(header));
      const { payload } = await jwtVerify(token, key, opts);
      out.push({ ok: true, payload });
    } catch (e) {
      out.push({ ok: false, code: e.code || e.name, message: e.message });
    }
  }
  return out;
}

async function dpop(req) {
  let key = req.key;
  if (!key) {
    const made = await generateKeyPair(
      req.alg, { ...(ASYM[req.alg] || {}), extractable: true });
    key = await exportJWK(made.privateKey);
  }
  const privateKey = await importJWK(key, req.alg);
  // The public members only: what a proof may carry.
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...jwk } = key;
  const proofs = [];
  for (const p of req.proofs) {
    const claims = { htm: p.htm, htu: p.htu, ...(p.ath ? { ath: p.ath } : {}) };
    proofs.push(await new SignJWT(claims)
      .setProtectedHeader({ alg: req.alg, typ: 'dpop+jwt', jwk })
      .setJti(randomBytes(16).toString('hex'))
      .setIssuedAt()
      .sign(privateKey));
  }
  return { jkt: await calculateJwkThumbprint(jwk, 'sha256'), key, proofs };
}

async function main() {
  const [cmd, ...args] = process.argv.slice(2);
  let result;
  if (cmd === 'keys' && args.length === 2) {
    result = await keys(args[0], args[1]);
  } else if (cmd === 'sign' && args.length === 2) {
    result = await sign(args[0], args[1], await readStdin());
  } else if (cmd === 'verify' && args.length === 0) {
    result = await verify(await readStdin());
  } else if (cmd === 'dpop' && args.length === 0) {
    result = await dpop(await readStdin());
  } else {
    throw new Error('usage: jose_tool.mjs keys PUBDIR PRIVDIR | '
                    + 'sign PUBDIR PRIVDIR < requests | verify < request | '
                    + 'dpop < request');
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  process.stderr.write('jose_tool: ' + (e.stack || e) + '\n');
  process.exit(2);
});
