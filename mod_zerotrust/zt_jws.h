/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_jws.h
 * @brief JWS compact serialisation (RFC 7515) and signature verification.
 *
 * Steps, each usable alone (zt_token.c chains them with the issuer choice
 * in between, zt_jws_verify_compact chains them for a fixed key set):
 *  - zt_jws_parse: three strict base64url parts, a strict JSON object
 *    header with a string "alg" that is a known JWS algorithm and not
 *    "none" (in any case); no "crit" (no extension is understood), no "jwk",
 *    "jku", "x5u" or "x5c" (a token never chooses its own key: their
 *    presence is refused, not ignored), "b64" only as true, "kid" a string;
 *    a non-empty signature.
 *  - zt_jws_select_key: by "kid" among the keys that fit the algorithm;
 *    without "kid" the one key that fits; several candidates is an error.
 *  - zt_jws_verify: the signature over the ASCII bytes "header.payload".
 *
 * Algorithms: RS256/384/512 (PKCS #1 v1.5), PS256/384/512 (PSS, MGF1 with
 * the same hash, salt length = hash length), ES256/384/512 (r || s of
 * exactly twice the coordinate size, 0 < r, s < n), EdDSA (Ed25519), and
 * HS256/384/512 only with a secret made by zt_keyset_from_secret (a JWK Set
 * holds no secrets): the MAC is recomputed and compared in constant time
 * (CRYPTO_memcmp).  zt_jws_select_key on such a set returns its one key
 * whatever the token's kid.
 */
#ifndef ZT_JWS_H
#define ZT_JWS_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include "zt_jdoc.h"
#include "zt_jwk.h"

typedef enum {
    ZT_JWS_OK = 0,
    ZT_JWS_MALFORMED,           /**< not three strict base64url parts, header not an object */
    ZT_JWS_BAD_HEADER,          /**< crit, jwk, jku, x5u, x5c, b64, kid of the wrong type */
    ZT_JWS_ALG,                 /**< none, unknown, not allowed, or not fitting the key */
    ZT_JWS_UNKNOWN_KEY,         /**< no key with that kid, or ambiguous */
    ZT_JWS_SIGNATURE            /**< the signature does not verify */
} zt_jws_status_e;

/** A parsed, not yet verified, JWS. */
typedef struct {
    const zt_jdoc_t *header;    /**< JOSE header, in the pool */
    const char *alg_name;       /**< header "alg" */
    uint32_t alg;               /**< its ZT_ALG_* bit (one bit) */
    const char *kid;            /**< header "kid", or NULL */
    const char *signing_input;  /**< "header.payload", pointing into the input */
    size_t signing_input_len;
    const unsigned char *payload; /**< decoded payload, NUL-terminated */
    size_t payload_len;
    const unsigned char *sig;   /**< decoded signature */
    size_t sig_len;
} zt_jws_t;

/**
 * Split and decode a compact JWS and check its header.  On failure *reason
 * is a short English sentence safe to show a client.
 */
zt_jws_status_e zt_jws_parse(zt_jws_t *jws, const char *compact, size_t len,
                             apr_pool_t *pool, const char **reason);

/** zt_jws_parse_ex flag: the header may hold "jwk" (a DPoP proof, which
 *  is verified with that key and no other); jku, x5u, x5c stay refused. */
#define ZT_JWS_EMBEDDED_JWK  0x1

/** zt_jws_parse with ZT_JWS_* @a flags (0: exactly zt_jws_parse). */
zt_jws_status_e zt_jws_parse_ex(zt_jws_t *jws, const char *compact, size_t len,
                                unsigned int flags, apr_pool_t *pool,
                                const char **reason);

/** Choose the verification key for @a jws from @a ks (may be NULL). */
zt_jws_status_e zt_jws_select_key(const zt_jws_t *jws, const zt_keyset_t *ks,
                                  const zt_jwk_t **key, const char **reason);

/** Verify the signature of @a jws with @a key. */
zt_jws_status_e zt_jws_verify(const zt_jws_t *jws, const zt_jwk_t *key,
                              const char **reason);

/**
 * The primitive: does @a sig sign @a data under @a key with @a alg (one
 * ZT_ALG_* bit)?  ZT_JWS_OK, ZT_JWS_ALG when the key may not be used with
 * @a alg (type, curve, its "alg"), ZT_JWS_SIGNATURE otherwise.
 */
zt_jws_status_e zt_jws_verify_sig(uint32_t alg, const zt_jwk_t *key,
                                  const unsigned char *data, size_t len,
                                  const unsigned char *sig, size_t siglen);

/**
 * Parse, check the algorithm against @a algs (ZT_ALG_* allowlist), select
 * the key from @a ks and verify.  The payload is not interpreted.
 */
zt_jws_status_e zt_jws_verify_compact(zt_jws_t *jws, const char *compact,
                                      size_t len, const zt_keyset_t *ks,
                                      uint32_t algs, apr_pool_t *pool,
                                      const zt_jwk_t **key,
                                      const char **reason);

#endif /* ZT_JWS_H */
