/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_jwk.h
 * @brief JSON Web Key sets (RFC 7517) turned into OpenSSL public keys.
 *
 * Accepted: "RSA" (n, e; 2048 to 16384 bits, odd e of at most 64 bits, no
 * ROCA fingerprint), "EC" (crv P-256, P-384, P-521; x and y of at most the
 * coordinate size, shorter ones padded with a warning; a valid point on the
 * curve) and "OKP" (crv Ed25519, x of exactly 32 bytes).  Each key gets the set of JWS algorithms it may verify: the ones
 * its type and curve fit, narrowed to its "alg" when given.
 *
 * Skipped with a warning, the rest of the set still loads: other kty
 * ("oct": no shared secrets here), other curves, "use" other than "sig",
 * "key_ops" without "verify", an "alg" that is not a JWS signature
 * algorithm fitting the key, and keys with missing or ill-typed members or
 * weak parameters.
 *
 * Refused outright: a document that is not strict JSON (zt_jdoc.h), has no
 * "keys" array, has a non-object in it, has any key holding private
 * material ("d", "p", "q", "dp", "dq", "qi", "oth": a verifier has no use
 * for it and its presence means a secret has leaked), or has no usable key.
 *
 * HMAC secrets (HS256/384/512) never come from a JWK Set ("k" is refused
 * like private material): an issuer's shared secret is a one-key set of its
 * own, made by zt_keyset_from_secret, and the token verifier uses it for HS*
 * tokens only and never for the others (zt_token.c).  So a token cannot
 * have its HMAC keyed with a public key of the set.
 */
#ifndef ZT_JWK_H
#define ZT_JWK_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/evp.h>
#include <stdint.h>

#include "zt_jdoc.h"

#define ZT_JWKS_MAX_LEN   (1024 * 1024)   /**< largest key set document */
#define ZT_JWKS_MAX_KEYS  256             /**< most keys in one set */
#define ZT_SECRET_MAX_LEN 4096            /**< longest HMAC secret */

typedef struct zt_keyset_s zt_keyset_t;

#define ZT_JWK_SPARES 8          /**< contexts kept per key and algorithm */

/**
 * Working contexts kept for the next verification: one is taken (an
 * atomic exchange per slot, no lock), used, and given back, so a busy key
 * neither copies nor frees a context per request.  When every slot is
 * empty (more threads verifying at once than slots) the caller makes one
 * and frees it after.  What is in the slots is freed with the key.
 */
typedef struct {
    void *slot[ZT_JWK_SPARES];
} zt_jwk_spares_t;

/** A context from @a s, or NULL when none is free. */
static inline void *zt_jwk_spare_take(zt_jwk_spares_t *s)
{
    for (int k = 0; k < ZT_JWK_SPARES; k++) {
        if (__atomic_load_n(&s->slot[k], __ATOMIC_RELAXED) != NULL) {
            void *p = __atomic_exchange_n(&s->slot[k], NULL, __ATOMIC_ACQUIRE);

            if (p != NULL) {
                return p;
            }
        }
    }
    return NULL;
}

/** Keep @a p in @a s; 0 when every slot is taken (then free it). */
static inline int zt_jwk_spare_give(zt_jwk_spares_t *s, void *p)
{
    for (int k = 0; k < ZT_JWK_SPARES; k++) {
        void *none = NULL;

        if (__atomic_load_n(&s->slot[k], __ATOMIC_RELAXED) == NULL
            && __atomic_compare_exchange_n(&s->slot[k], &none, p, 0,
                                           __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
            return 1;
        }
    }
    return 0;
}

/**
 * Verification contexts prepared once per key (zt_jwk.c) for the
 * algorithms it may verify: for RS256 to ES512 EVP_PKEY_verify initialised,
 * padding and hash set; for EdDSA EVP_DigestVerifyInit done.  The
 * templates are never written, so threads share them; zt_jws_verify_sig
 * works on copies kept in spare_ctx (and hashes with a context kept in
 * spare_md), which spares every request OpenSSL's per-call setup
 * (provider fetches, context creation, copies).
 */
typedef struct {
    EVP_PKEY_CTX *ctx[9];       /**< by bit index of ZT_ALG_RS256..ES512, or NULL */
    EVP_MD *md[9];              /**< the hash fetched for ctx[i] */
    EVP_MD_CTX *eddsa;          /**< EdDSA, or NULL */
    zt_jwk_spares_t *spare_ctx; /**< [9]: copies of ctx[i], EVP_PKEY_CTX */
    zt_jwk_spares_t *spare_md;  /**< [9]: EVP_MD_CTX, last used with md[i] */
} zt_jwk_prep_t;

/** One usable verification key. */
typedef struct {
    const char *kid;            /**< "kid", or NULL */
    const char *kty;            /**< "RSA", "EC", "OKP", or "oct" (a secret) */
    const char *alg;            /**< "alg" as given, or NULL */
    const char *use;            /**< "use" as given ("sig"), or NULL */
    const apr_array_header_t *key_ops; /**< array of const char *, or NULL */
    const char *crv;            /**< "P-256", "P-384", "P-521", "Ed25519"; NULL for RSA */
    int bits;                   /**< RSA modulus size, the curve size, or
                                     the secret's size */
    uint32_t algs;              /**< ZT_ALG_* this key may verify, never 0 */
    int index;                  /**< position in the document's "keys" */
    EVP_PKEY *pkey;             /**< the public key, freed with the set's pool;
                                     NULL for a secret */
    const zt_jwk_prep_t *prep;  /**< prepared contexts, or NULL (then each
                                     verification sets up its own) */
    EVP_MAC_CTX *hmac[3];       /**< a secret: HMAC with SHA-256, -384, -512,
                                     keyed, for the HS* in algs (else NULL);
                                     read-only templates, each verification
                                     works on a duplicate */
    zt_jwk_spares_t *hmac_spares; /**< [3]: duplicates of hmac[i], keyed and
                                     ready (EVP_MAC_CTX), or NULL */
} zt_jwk_t;

/**
 * Parse a JWK Set document.  Keys that cannot be used for verification are
 * skipped with a note (zt_jwks_warnings); a set with no usable key, or
 * malformed JSON, is an error with a message in *err.  Keys are freed with
 * @a pool.
 */
apr_status_t zt_jwks_parse(zt_keyset_t **ks, const char *json, apr_size_t len,
                           apr_pool_t *pool, const char **err);

/** Read and parse a JWK Set file (at most ZT_JWKS_MAX_LEN bytes). */
apr_status_t zt_jwks_load_file(zt_keyset_t **ks, const char *path,
                               apr_pool_t *pool, const char **err);

/**
 * An issuer's HMAC shared secret as a set of one key (kty "oct", no kid)
 * that may verify the HS* algorithms among @a algs (ZT_ALG_* bits; the
 * other bits are ignored, and without an HS* bit it is an error).  A secret shorter than the hash
 * output of any of those algorithms is refused (RFC 7518 section 3.2), as
 * is one longer than ZT_SECRET_MAX_LEN.  @a secret is not kept: the HMAC
 * contexts hold their own copy, cleansed when @a pool is cleared.
 */
apr_status_t zt_keyset_from_secret(zt_keyset_t **ks,
                                   const unsigned char *secret, apr_size_t len,
                                   uint32_t algs, apr_pool_t *pool,
                                   const char **err);

/**
 * Read a secret file (raw bytes, all of them: a trailing newline is part of
 * the secret) and make it a set with zt_keyset_from_secret.  *err names
 * the file, never the secret.
 */
apr_status_t zt_keyset_from_secret_file(zt_keyset_t **ks, const char *path,
                                        uint32_t algs, apr_pool_t *pool,
                                        const char **err);

/** 1 if @a ks was made by zt_keyset_from_secret. */
int zt_keyset_is_secret(const zt_keyset_t *ks);

/**
 * One public key from the JWK object @a jwk, a node of an already parsed
 * document (a DPoP proof's "jwk" header, as zt_jws_parse_ex read it),
 * under the rules of a key set member: private material ("d", "k", ...)
 * is refused, as are unusable or weak keys.  Nothing is prepared for
 * repeated use; the key is freed with @a pool.  On failure *err says why.
 */
apr_status_t zt_jwk_from_jnode(zt_jwk_t *k, const zt_jnode_t *jwk,
                               apr_pool_t *pool, const char **err);

/** Number of usable keys in the set. */
int zt_jwks_count(const zt_keyset_t *ks);

/** Usable key @a i (0 <= i < zt_jwks_count), or NULL. */
const zt_jwk_t *zt_jwks_key(const zt_keyset_t *ks, int i);

/** Notes on skipped keys and duplicate kids: array of const char *. */
const apr_array_header_t *zt_jwks_warnings(const zt_keyset_t *ks);

#endif /* ZT_JWK_H */
