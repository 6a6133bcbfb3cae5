/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_token.h
 * @brief Verify a compact-serialised JWT bearer token.
 *
 * The issuer is chosen by the token's "iss" among the configured ones; the
 * algorithm must be in that issuer's allowlist and fit the key; the key
 * comes only from that issuer's key set: a header with jku, x5u, jwk or x5c
 * is refused outright, as is crit and any spelling of alg "none".
 */
#ifndef ZT_TOKEN_H
#define ZT_TOKEN_H

#include <apr_pools.h>
#include <stdint.h>

#include "zt_jdoc.h"
#include "zt_jwk.h"

#define ZT_TOKEN_MAX_LEN  8192      /**< default size limit of a token */

/** One trusted issuer, as the module or zpc builds it from the table. */
typedef struct {
    const char *name;           /**< local name ("corp") */
    const char *iss;            /**< exact "iss" */
    const char *audience;       /**< required "aud" (string or array member) */
    uint32_t algs;              /**< ZT_ALG_* allowlist */
    uint32_t max_lifetime;      /**< seconds, 0 = unlimited */
    uint32_t leeway;            /**< seconds */
    const char *typ;            /**< required JOSE "typ" ("at+jwt"), or NULL:
                                     then "JWT", "at+jwt" or none is accepted */
    const char *const *required;/**< names of claims that must be present */
    int nrequired;
    const zt_keyset_t *keys;    /**< JWK Set keys, or NULL (secret only) */
    const zt_keyset_t *secret;  /**< HS* shared secret as a one-key set, or NULL */
    uint32_t binding;           /**< ZT_BIND_* its tokens must carry, 0 = none */
} zt_issuer_t;

typedef enum {
    ZT_TOK_OK = 0,
    ZT_TOK_MALFORMED,           /**< not three strict base64url parts of JSON objects */
    ZT_TOK_TOO_LARGE,
    ZT_TOK_BAD_HEADER,          /**< crit, typ, or a header we refuse */
    ZT_TOK_ALG,                 /**< alg not allowed for the issuer or key */
    ZT_TOK_UNKNOWN_ISSUER,
    ZT_TOK_UNKNOWN_KEY,         /**< no key with that kid, or kid missing and ambiguous */
    ZT_TOK_SIGNATURE,
    ZT_TOK_EXPIRED,
    ZT_TOK_NOT_YET_VALID,       /**< nbf in the future */
    ZT_TOK_ISSUED_IN_FUTURE,    /**< iat in the future */
    ZT_TOK_LIFETIME,            /**< exp - iat > max_lifetime */
    ZT_TOK_AUDIENCE,
    ZT_TOK_MISSING_CLAIM,       /**< exp, iat (when max_lifetime is set), sub... */
    ZT_TOK_BAD_CLAIM            /**< a registered claim of the wrong type */
} zt_tok_status_e;

/** What the audit record writes of a verified token's sub and azp,
 *  measured once: their lengths, and the strings themselves when they
 *  need no JSON escape (zt_jescape.h), else NULL; and, when sub, azp
 *  and the issuer's "iss" all need none, the three fields as the record
 *  writes them (zt_arec_ids). */
typedef struct {
    const char *sub, *azp;      /**< zt_token_t's when plain, or NULL */
    uint32_t sub_len, azp_len;
    const char *iss;            /**< the issuer's "iss" @a fields holds */
    const char *fields;         /**< ,"sub":…,"iss":…,"azp":…, or NULL */
    uint32_t fields_len;
} zt_token_ids_t;

/** A verified token.  Its documents live in the pool (zt_jdoc.h). */
typedef struct {
    const zt_jdoc_t *header;    /**< JOSE header */
    const zt_claims_t *claims;  /**< payload */
    const zt_issuer_t *issuer;  /**< the issuer that verified it */
    const char *sub;            /**< "sub", or NULL */
    const char *azp;            /**< "azp" (the audit names it), or NULL */
    const char *alg;            /**< the verified algorithm */
    const char *kid;            /**< kid of the verifying key, or NULL */
    int64_t exp;                /**< "exp" (floor) */
    /** The first second at which "nbf" and "iat" hold with the issuer's
     *  leeway (INT64_MIN when the token has neither): with exp, the
     *  window in which the token cache may answer for it */
    int64_t valid_from;
    /** zt_eval_view() of claims for the table the token was verified
     *  under (the module's, kept by the token cache), or NULL */
    const uint32_t *claim_view;
    uint32_t nview;             /**< its entries */
    /** sub and azp for the audit, kept by the token cache with the token
     *  (set on a hit), or NULL */
    const zt_token_ids_t *ids;
} zt_token_t;

/**
 * Verify @a jwt (without the "Bearer " prefix) at time @a now (seconds
 * since the epoch).  @a max_len 0 means ZT_TOKEN_MAX_LEN.  On failure
 * *reason is a short English sentence safe to send to the client (no key
 * material), e.g. "the token expired"; out->header and out->claims may
 * then be set for diagnostics (never trust them), the rest of *out is zero.
 * The checks and their order are described in zt_token.c and zt_jws.h.
 */
zt_tok_status_e zt_token_verify(const char *jwt, apr_size_t len,
                                const zt_issuer_t *issuers, int nissuers,
                                int64_t now, apr_size_t max_len,
                                apr_pool_t *pool, zt_token_t *out,
                                const char **reason);

/** One check of zt_token_verify, as zt_token_verify_report tells it. */
typedef struct {
    const char *name;           /**< "size", "structure", "payload", "issuer",
                                     "typ", "algorithm", "key", "signature",
                                     then the claims: "exp", "nbf", "iat",
                                     "lifetime", "aud", "sub", "required" */
    zt_tok_status_e status;     /**< ZT_TOK_OK, or the failure */
    const char *reason;         /**< on failure: zt_token_verify's sentence */
    const zt_issuer_t *issuer;  /**< the issuer "iss" chose, once chosen */
    const zt_jwk_t *key;        /**< the key selected, once selected */
} zt_tok_check_t;

/** Receives each check of zt_token_verify_report as it is made. */
typedef void zt_tok_report_fn(void *ctx, const zt_tok_check_t *check);

/**
 * zt_token_verify, telling @a report (may be NULL) about every check as it
 * is made, passed or failed, in the order described in zt_token.c.  Up to
 * and including the signature the first failure ends the run, as in
 * zt_token_verify; once the signature holds, every claim check runs and is
 * told, and the first failure is the result.  The status, *out and *reason
 * are exactly zt_token_verify's (which is this with no reporter).  For
 * `zpc decode`, which lists the checks.
 */
zt_tok_status_e zt_token_verify_report(const char *jwt, apr_size_t len,
                                       const zt_issuer_t *issuers, int nissuers,
                                       int64_t now, apr_size_t max_len,
                                       apr_pool_t *pool, zt_token_t *out,
                                       const char **reason,
                                       zt_tok_report_fn *report, void *ctx);

/**
 * The checks that depend on the time, run by zt_token_verify (the token
 * cache answers only inside the window they leave: zt_tcache.h): "exp" present, a number, and
 * now < exp + leeway; "nbf", when present, a number and now >= nbf -
 * leeway; "iat", when present, a number and iat <= now + leeway.  On
 * failure *reason is a sentence safe for the client.
 */
zt_tok_status_e zt_token_check_times(const zt_claims_t *claims,
                                     const zt_issuer_t *is, int64_t now,
                                     const char **reason);

/** Stable identifier of a status for logs and audit ("expired"). */
const char *zt_tok_status_name(zt_tok_status_e st);

#endif /* ZT_TOKEN_H */
