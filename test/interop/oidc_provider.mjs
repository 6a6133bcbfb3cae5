// Licensed under the Apache License, Version 2.0 (the "License"); you may
// not use this file except in compliance with the License.  You may obtain
// a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
//
// A real OpenID Provider (npm oidc-provider) on loopback, for
// test/e2e/test_oidc.py: it issues JWT access tokens (RFC 9068, typ
// at+jwt) to a confidential client by the client_credentials grant, for
// one resource (the API's audience), and publishes its keys by discovery.
//
//   node oidc_provider.mjs [PORT]
//       Listens on http://127.0.0.1:PORT (0 or absent: a free port); the
//       issuer is that URL.  Client "zt-client", secret "zt-secret",
//       resource "urn:zt:orders-api", scope "orders:read".
//
// Signing keys are ES256, made at start (kid "k1").  SIGHUP rotates: a
// new key (k2, k3, ...) goes first in the JWK Set and signs from then on;
// the previous key stays published (second) so tokens it signed remain
// verifiable; older ones are dropped.  The rotation swaps the provider
// behind the same listening socket: no request is refused meanwhile.
//
// stdout carries one JSON object per line:
//   {"event": "listening", "issuer": URL, "port": N, "kid": "k1"}
//   {"event": "rotated", "kid": "k2", "published": ["k2", "k1"]}
// SIGTERM / SIGINT close the server and exit 0.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';

const CLIENT_ID = 'zt-client';
const CLIENT_SECRET = 'zt-secret';
const RESOURCE = 'urn:zt:orders-api';
const SCOPE = 'orders:read';

let serial = 0;

async function newKey() {
  serial += 1;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: 'k' + serial, alg: 'ES256', use: 'sig' };
}

function makeProvider(issuer, keys) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    }],
    jwks: { keys },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', SCOPE],
    ttl: { ClientCredentials: 300 },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== RESOURCE) {
            throw new Provider.errors.InvalidTarget();
          }
          return {
            scope: SCOPE,
            audience: RESOURCE,
            accessTokenTTL: 300,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  });
  // Errors a client provokes are its business; anything else is ours.
  provider.on('server_error', (_ctx, err) => {
    process.stderr.write('oidc_provider: server_error: ' + err.stack + '\n');
  });
  return provider;
}

function say(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function main() {
  const port = Number(process.argv[2] || 0);
  let handler = null;
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = server.address().port;
  const issuer = 'http://127.0.0.1:' + bound;
  let keys = [await newKey()];
  handler = makeProvider(issuer, keys).callback();
  say({ event: 'listening', issuer, port: bound, kid: keys[0].kid });

  let rotating = Promise.resolve();
  process.on('SIGHUP', () => {
    rotating = rotating.then(async () => {
      keys = [await newKey(), keys[0]];
      // Requests already inside the old provider finish there.
      handler = makeProvider(issuer, keys).callback();
      say({ event: 'rotated', kid: keys[0].kid,
            published: keys.map((k) => k.kid) });
    }).catch((e) => {
      process.stderr.write('oidc_provider: rotation failed: ' + e.stack + '\n');
      process.exit(3);
    });
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  process.stderr.write('oidc_provider: ' + (e.stack || e) + '\n');
  process.exit(2);
});
