/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_dpop.h
 * @brief Sender-constrained tokens: DPoP proofs (RFC 9449) and the
 *        confirmation ("cnf") a token carries (RFC 9449 jkt, RFC 8705
 *        x5t#S256), with the thumbprints both compare (RFC 7638).
 *
 * A proof is a compact JWS checked in this order: size; structure and
 * header (zt_jws_parse_ex: the one JWS parser, here allowing "jwk");
 * typ "dpop+jwt"; alg in the allowlist (never none, never HS*); "jwk" a
 * public key (private members refused: zt_jwk_from_jnode, on the header
 * as parsed, not a second parse); the signature
 * with that key; then the claims: jti, htm, htu, iat present and typed;
 * htm equal to the request method; htu equal to the request's URI, both
 * normalised (zt_dpop_htu); iat inside [now - max_age, now + skew]; ath
 * the hash of the access token; when the configuration has a nonce key,
 * "nonce" one of zt_dpop_nonce's, current or of the period before (RFC
 * 9449 section 9).  Whether the proof's key is the one the
 * token is bound to, and whether its jti was seen before, is the caller's
 * (zt_dpop_proof_t.jkt, zt_dpop_replay_key, zt_replay.h).
 */
#ifndef ZT_DPOP_H
#define ZT_DPOP_H

#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>

#include "zt_jdoc.h"

#define ZT_DPOP_MAX_LEN     8192    /**< largest proof accepted */
#define ZT_DPOP_JTI_MAX     256     /**< longest jti, in bytes */
#define ZT_DPOP_MAX_AGE     60      /**< default: seconds a proof lives */
#define ZT_DPOP_SKEW        5       /**< default: seconds iat may be ahead */
/** Default proof algorithms: every asymmetric one (ZT_ALG_* bits 0..9). */
#define ZT_DPOP_ALGS_DEFAULT  0x3ffu

/** A SHA-256 thumbprint in base64url: 43 characters and a NUL. */
#define ZT_THUMB_SIZE       44

/** A server nonce in base64url: 4 bytes of period, 16 of MAC; and a NUL. */
#define ZT_NONCE_SIZE       28

typedef struct zt_pkcache_s zt_pkcache_t;     /* zt_pkcache.h */

typedef struct {
    uint32_t algs;              /**< ZT_ALG_* allowed for proofs; HS* ignored */
    uint32_t max_age;           /**< seconds iat may lie in the past */
    uint32_t skew;              /**< seconds iat may lie in the future */
    const unsigned char *nonce_key; /**< 32 bytes: proofs must carry a nonce
                                     made with it (zt_dpop_nonce); NULL: none */
    uint32_t nonce_period;      /**< seconds a nonce is current (> 0) */
    zt_pkcache_t *keys;         /**< this process's proof keys
                                     (zt_pkcache.h), or NULL: none kept */
} zt_dpop_conf_t;

typedef enum {
    ZT_DPOP_OK = 0,
    ZT_DPOP_TOO_LARGE,
    ZT_DPOP_MALFORMED,          /**< not a compact JWS of JSON objects */
    ZT_DPOP_TYP,                /**< typ is not dpop+jwt */
    ZT_DPOP_ALG,                /**< none, HS*, not allowed, not the key's */
    ZT_DPOP_JWK,                /**< no jwk, or not a usable public key */
    ZT_DPOP_SIGNATURE,
    ZT_DPOP_CLAIMS,             /**< jti, htm, htu or iat missing or ill-typed */
    ZT_DPOP_HTM,
    ZT_DPOP_HTU,
    ZT_DPOP_IAT,                /**< outside the window */
    ZT_DPOP_ATH,                /**< missing, or not the token's hash */
    ZT_DPOP_NONCE               /**< nonce required: missing, stale or forged */
} zt_dpop_status_e;

/** What a valid proof tells. */
typedef struct {
    const char *jti;            /**< in the pool */
    int64_t iat;                /**< floor of the proof's iat */
    char jkt[ZT_THUMB_SIZE];    /**< RFC 7638 thumbprint of its key */
    const char *nonce;          /**< its "nonce", when nonces are required */
    int key_cached;             /**< its key came from conf->keys (a hit) */
} zt_dpop_proof_t;

/**
 * Verify the DPoP proof @a proof (@a len bytes) for a request with
 * @a method and target URI @a uri ("https://host[:port]/path", query
 * ignored), presenting the access token @a token (@a token_len bytes; NULL
 * when there is none: then "ath" is not required), at time @a now.  On
 * failure *reason is a sentence safe for the client.
 */
zt_dpop_status_e zt_dpop_verify(const char *proof, size_t len,
                                const char *method, const char *uri,
                                const char *token, size_t token_len,
                                int64_t now, const zt_dpop_conf_t *conf,
                                apr_pool_t *pool, zt_dpop_proof_t *out,
                                const char **reason);

/**
 * The server nonce current at @a now: base64url of the period number
 * (now / @a period, 4 bytes big-endian) and the first 16 bytes of
 * HMAC-SHA256(@a key, that number).  Stateless: every process holding the
 * key makes and checks the same nonces.
 */
void zt_dpop_nonce(const unsigned char key[32], uint32_t period, int64_t now,
                   char out[ZT_NONCE_SIZE]);

/** 1 when @a nonce is zt_dpop_nonce's at @a now or one period before. */
int zt_dpop_nonce_ok(const unsigned char key[32], uint32_t period,
                     int64_t now, const char *nonce);

/** Stable name of a status for logs and the audit record ("dpop_htu"). */
const char *zt_dpop_status_name(zt_dpop_status_e st);

/**
 * An http(s) URI normalised for comparison (RFC 3986 6.2.2 and 6.2.3):
 * scheme and host in lower case, the scheme's default port dropped,
 * percent-escapes in upper case and unreserved ones decoded, dot segments
 * removed, an empty path "/", query and fragment dropped.  NULL when it
 * is not an absolute http or https URI (userinfo, control bytes, spaces,
 * a bad escape or port are refused).
 */
const char *zt_dpop_htu(apr_pool_t *pool, const char *uri, size_t len);

/** The seconds a proof made at @a iat stays acceptable under @a conf,
 *  from @a now: how long its jti must be remembered. */
uint32_t zt_dpop_lifetime(const zt_dpop_conf_t *conf, int64_t iat,
                          int64_t now);

/** The key under which a proof's jti is remembered: SHA-256 over its
 *  key's thumbprint and its jti, so one client cannot spend another's. */
void zt_dpop_replay_key(const zt_dpop_proof_t *proof, unsigned char key[32]);

/**
 * RFC 7638 thumbprint of the public JWK object @a jwk (EC, RSA or OKP;
 * members already checked by zt_jwk_from_jnode).  0 when a required
 * member is missing or not a string.
 */
int zt_dpop_jwk_thumb(const zt_jnode_t *jwk, apr_pool_t *pool,
                      char out[ZT_THUMB_SIZE]);

/** RFC 8705 x5t#S256: base64url(SHA-256(DER certificate)). */
void zt_dpop_cert_thumb(const unsigned char *der, size_t len,
                   char out[ZT_THUMB_SIZE]);

/** The "cnf" (confirmation) claim of a token. */
typedef struct {
    const char *jkt;            /**< DPoP key thumbprint, or NULL */
    const char *x5t;            /**< "x5t#S256" certificate thumbprint, or NULL */
} zt_dpop_cnf_t;

/**
 * Read "cnf" from verified claims into *cnf.  Returns 0, or -1 when cnf
 * is not an object or jkt / x5t#S256 is present but not a string (a
 * token that claims a binding it does not state is refused, not read as
 * unbound).
 */
int zt_dpop_cnf_read(const zt_claims_t *claims, zt_dpop_cnf_t *cnf);

/**
 * The names of the algorithms in @a algs (ZT_ALG_* bits, HS* left out),
 * space-separated, for WWW-Authenticate's algs= (RFC 9449 7.1) and the
 * metadata's dpop_signing_alg_values_supported (RFC 9728).
 */
const char *zt_dpop_alg_names(apr_pool_t *pool, uint32_t algs);

#endif /* ZT_DPOP_H */
