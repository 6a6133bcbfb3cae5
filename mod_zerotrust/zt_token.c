/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Order of the checks, and why:
 *   size; JWS structure and header (zt_jws_parse); payload a strict JSON
 *   object; "iss" picks the issuer (the only claim read before the
 *   signature, and only to pick the keys); typ as that issuer wants it;
 *   the issuer's algorithm allowlist; the key: for HS* the issuer's
 *   secret and nothing else, for the others the key by kid from the
 *   issuer's JWK Set and never the secret; the signature; only then the
 *   claims: exp, nbf, iat (zt_token_check_times; out->exp and
 *   out->valid_from keep the window they leave, for the token cache),
 *   again), lifetime, aud, sub, the issuer's required claims.
 * Time claims are JSON numbers, integer or not (RFC 7519 NumericDate);
 * they are compared as doubles, which hold every second until 2^53.
 */

#include <math.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "zt_format.h"
#include "zt_jdoc.h"
#include "zt_jws.h"
#include "zt_token.h"


static const char *const zt_tok_names[] = {
    [ZT_TOK_OK] = "ok",
    [ZT_TOK_MALFORMED] = "malformed",
    [ZT_TOK_TOO_LARGE] = "too_large",
    [ZT_TOK_BAD_HEADER] = "bad_header",
    [ZT_TOK_ALG] = "alg",
    [ZT_TOK_UNKNOWN_ISSUER] = "unknown_issuer",
    [ZT_TOK_UNKNOWN_KEY] = "unknown_key",
    [ZT_TOK_SIGNATURE] = "signature",
    [ZT_TOK_EXPIRED] = "expired",
    [ZT_TOK_NOT_YET_VALID] = "not_yet_valid",
    [ZT_TOK_ISSUED_IN_FUTURE] = "issued_in_future",
    [ZT_TOK_LIFETIME] = "lifetime",
    [ZT_TOK_AUDIENCE] = "audience",
    [ZT_TOK_MISSING_CLAIM] = "missing_claim",
    [ZT_TOK_BAD_CLAIM] = "bad_claim",
};

const char *zt_tok_status_name(zt_tok_status_e st)
{
    if ((unsigned)st >= sizeof(zt_tok_names) / sizeof(zt_tok_names[0])) {
        return "unknown";
    }
    return zt_tok_names[st];
}

static zt_tok_status_e zt_tok_from_jws(zt_jws_status_e st)
{
    switch (st) {
    case ZT_JWS_OK:          return ZT_TOK_OK;
    case ZT_JWS_MALFORMED:   return ZT_TOK_MALFORMED;
    case ZT_JWS_BAD_HEADER:  return ZT_TOK_BAD_HEADER;
    case ZT_JWS_ALG:         return ZT_TOK_ALG;
    case ZT_JWS_UNKNOWN_KEY: return ZT_TOK_UNKNOWN_KEY;
    default:                 return ZT_TOK_SIGNATURE;
    }
}

/* A media type without its optional "application/" (RFC 7515 4.1.9). */
static const char *zt_tok_media(const char *typ)
{
    return strncasecmp(typ, "application/", 12) == 0 ? typ + 12 : typ;
}

/*
** The header "typ": with the issuer's typ set it must be there and equal it
** (any case, either with "application/"); otherwise, when present, "JWT"
** or "at+jwt" (RFC 9068).
*/
static zt_tok_status_e zt_tok_typ(const zt_jdoc_t *header,
                                  const zt_issuer_t *is, apr_pool_t *pool,
                                  const char **reason)
{
    const zt_jnode_t *v = zt_jdoc_get(header, "typ");
    const char *typ;

    if (v != NULL && v->type != ZT_J_STR) {
        *reason = "the token's type is not a string";
        return ZT_TOK_BAD_HEADER;
    }
    typ = v != NULL ? zt_tok_media(zt_jnode_str(v)) : NULL;
    if (is->typ != NULL && *is->typ != '\0') {
        if (typ == NULL || strcasecmp(typ, zt_tok_media(is->typ)) != 0) {
            *reason = apr_psprintf(pool, "the token's type is not %s",
                                   is->typ);
            return ZT_TOK_BAD_HEADER;
        }
        return ZT_TOK_OK;
    }
    if (typ != NULL && strcasecmp(typ, "JWT") != 0
        && strcasecmp(typ, "at+jwt") != 0) {
        *reason = "the token's type is not JWT";
        return ZT_TOK_BAD_HEADER;
    }
    return ZT_TOK_OK;
}

/* Time claim @a name: 1 present (a number, in *out), 0 absent, -1 not a number. */
static int zt_tok_time(const zt_claims_t *claims, const char *name,
                       double *out)
{
    const zt_jnode_t *v = zt_jdoc_get(claims, name);

    if (v == NULL) {
        return 0;
    }
    if (!zt_jnode_number(v, out)) {
        return -1;
    }
    return isfinite(*out) ? 1 : -1;
}

/* "aud": the audience as the string, or as one string of an array. */
static zt_tok_status_e zt_tok_audience(const zt_claims_t *claims,
                                       const char *audience,
                                       const char **reason)
{
    const zt_jnode_t *aud = zt_jdoc_get(claims, "aud"), *v;
    uint32_t i;
    int match = 0;

    if (aud == NULL) {
        if (audience == NULL) {
            return ZT_TOK_OK;
        }
        *reason = "the token has no audience";
        return ZT_TOK_MISSING_CLAIM;
    }
    if (aud->type == ZT_J_STR) {
        match = audience != NULL && strcmp(zt_jnode_str(aud), audience) == 0;
    }
    else if (aud->type == ZT_J_ARRAY) {
        for (i = 0, v = zt_jnode_first(aud); i < aud->u.n;
             i++, v = zt_jnode_next(v)) {
            if (v->type != ZT_J_STR) {
                *reason = "the token's audience is not a string or a list of strings";
                return ZT_TOK_BAD_CLAIM;
            }
            match |= audience != NULL && strcmp(zt_jnode_str(v), audience) == 0;
        }
    }
    else {
        *reason = "the token's audience is not a string or a list of strings";
        return ZT_TOK_BAD_CLAIM;
    }
    if (audience != NULL && !match) {
        *reason = "the token is not valid for this audience";
        return ZT_TOK_AUDIENCE;
    }
    return ZT_TOK_OK;
}

/*
** The claim checks, one function each, in zt_token_verify's order.  Each
** returns ZT_TOK_OK or a failure with the sentence for the client.
*/
typedef zt_tok_status_e (*zt_tok_claim_fn)(const zt_claims_t *claims,
                                           const zt_issuer_t *is, int64_t now,
                                           apr_pool_t *pool,
                                           const char **reason);

static zt_tok_status_e zt_tok_exp(const zt_claims_t *claims,
                                  const zt_issuer_t *is,
                                  int64_t now, apr_pool_t *pool,
                                  const char **reason)
{
    double exp;
    int rc = zt_tok_time(claims, "exp", &exp);

    if (rc == 0) {
        *reason = "the token has no expiry";
        return ZT_TOK_MISSING_CLAIM;
    }
    if (rc < 0) {
        *reason = "the token's exp is not a number";
        return ZT_TOK_BAD_CLAIM;
    }
    if (!((double)now < exp + (double)is->leeway)) {
        *reason = "the token expired";
        return ZT_TOK_EXPIRED;
    }
    return ZT_TOK_OK;
}

static zt_tok_status_e zt_tok_nbf(const zt_claims_t *claims,
                                  const zt_issuer_t *is,
                                  int64_t now, apr_pool_t *pool,
                                  const char **reason)
{
    double nbf;
    int rc = zt_tok_time(claims, "nbf", &nbf);

    if (rc < 0) {
        *reason = "the token's nbf is not a number";
        return ZT_TOK_BAD_CLAIM;
    }
    if (rc > 0 && !((double)now >= nbf - (double)is->leeway)) {
        *reason = "the token is not valid yet";
        return ZT_TOK_NOT_YET_VALID;
    }
    return ZT_TOK_OK;
}

static zt_tok_status_e zt_tok_iat(const zt_claims_t *claims,
                                  const zt_issuer_t *is,
                                  int64_t now, apr_pool_t *pool,
                                  const char **reason)
{
    double iat;
    int rc = zt_tok_time(claims, "iat", &iat);

    if (rc < 0) {
        *reason = "the token's iat is not a number";
        return ZT_TOK_BAD_CLAIM;
    }
    if (rc > 0 && !(iat <= (double)now + (double)is->leeway)) {
        *reason = "the token was issued in the future";
        return ZT_TOK_ISSUED_IN_FUTURE;
    }
    return ZT_TOK_OK;
}

zt_tok_status_e zt_token_check_times(const zt_claims_t *claims,
                                     const zt_issuer_t *is,
                                     int64_t now, const char **reason)
{
    zt_tok_status_e st;

    if ((st = zt_tok_exp(claims, is, now, NULL, reason)) != ZT_TOK_OK
        || (st = zt_tok_nbf(claims, is, now, NULL, reason)) != ZT_TOK_OK
        || (st = zt_tok_iat(claims, is, now, NULL, reason)) != ZT_TOK_OK) {
        return st;
    }
    return ZT_TOK_OK;
}

/* The first integer second at which zt_tok_nbf and zt_tok_iat both hold:
 * now >= nbf - leeway and now >= iat - leeway, so the ceiling of the
 * larger; INT64_MIN without either (they were checked to be numbers). */
static int64_t zt_tok_valid_from(const zt_claims_t *claims,
                                 const zt_issuer_t *is)
{
    double t, from = -HUGE_VAL;

    if (zt_tok_time(claims, "nbf", &t) > 0 && t > from) {
        from = t;
    }
    if (zt_tok_time(claims, "iat", &t) > 0 && t > from) {
        from = t;
    }
    from = ceil(from - (double)is->leeway);
    return from >= 9.2e18 ? INT64_MAX : from <= -9.2e18 ? INT64_MIN
                                                         : (int64_t)from;
}

/* exp - iat <= max_lifetime, when the issuer sets one (then iat is required). */
static zt_tok_status_e zt_tok_lifetime(const zt_claims_t *claims,
                                       const zt_issuer_t *is,
                                       int64_t now, apr_pool_t *pool,
                                       const char **reason)
{
    double exp = 0, iat = 0;
    int rc_exp, rc_iat;

    if (is->max_lifetime == 0) {
        return ZT_TOK_OK;
    }
    rc_exp = zt_tok_time(claims, "exp", &exp);
    rc_iat = zt_tok_time(claims, "iat", &iat);
    /* An unusable exp or iat fails its own check first; say so again
     * rather than pass (zt_token_verify_report runs every check). */
    if (rc_exp <= 0) {
        *reason = rc_exp == 0 ? "the token has no expiry"
                              : "the token's exp is not a number";
        return rc_exp == 0 ? ZT_TOK_MISSING_CLAIM : ZT_TOK_BAD_CLAIM;
    }
    if (rc_iat == 0) {
        *reason = "the token has no issue time";
        return ZT_TOK_MISSING_CLAIM;
    }
    if (rc_iat < 0) {
        *reason = "the token's iat is not a number";
        return ZT_TOK_BAD_CLAIM;
    }
    if (!(exp - iat <= (double)is->max_lifetime)) {
        *reason = "the token's lifetime is too long";
        return ZT_TOK_LIFETIME;
    }
    return ZT_TOK_OK;
}

static zt_tok_status_e zt_tok_aud(const zt_claims_t *claims,
                                  const zt_issuer_t *is,
                                  int64_t now, apr_pool_t *pool,
                                  const char **reason)
{
    return zt_tok_audience(claims, is->audience, reason);
}

static zt_tok_status_e zt_tok_sub(const zt_claims_t *claims,
                                  const zt_issuer_t *is,
                                  int64_t now, apr_pool_t *pool,
                                  const char **reason)
{
    const zt_jnode_t *sub = zt_jdoc_get(claims, "sub");

    if (sub != NULL && sub->type != ZT_J_STR) {
        *reason = "the token's subject is not a string";
        return ZT_TOK_BAD_CLAIM;
    }
    return ZT_TOK_OK;
}

/* Claims the issuer block names `required`: present and not null. */
static zt_tok_status_e zt_tok_required(const zt_claims_t *claims,
                                       const zt_issuer_t *is,
                                       int64_t now, apr_pool_t *pool,
                                       const char **reason)
{
    for (int i = 0; i < is->nrequired; i++) {
        const char *name = is->required[i];
        const zt_jnode_t *v = name != NULL ? zt_jdoc_get(claims, name) : NULL;

        if (v == NULL || v->type == ZT_J_NULL) {
            *reason = apr_psprintf(pool, "the token lacks the required claim "
                                   "'%s'", name != NULL ? name : "?");
            return ZT_TOK_MISSING_CLAIM;
        }
    }
    return ZT_TOK_OK;
}

static const struct {
    const char *name;
    zt_tok_claim_fn check;
} zt_tok_claim_checks[] = {
    { "exp", zt_tok_exp }, { "nbf", zt_tok_nbf }, { "iat", zt_tok_iat },
    { "lifetime", zt_tok_lifetime }, { "aud", zt_tok_aud },
    { "sub", zt_tok_sub }, { "required", zt_tok_required },
};

/* A reporter and the check being told, for zt_token_verify_report. */
typedef struct {
    zt_tok_report_fn *report;
    void *ctx;
    zt_tok_check_t check;
} zt_tok_teller_t;

/* Tell the reporter, if any, that check @a name ended with @a st. */
static zt_tok_status_e zt_tok_tell(zt_tok_teller_t *t, const char *name,
                                   zt_tok_status_e st, const char *reason)
{
    if (t->report != NULL) {
        t->check.name = name;
        t->check.status = st;
        t->check.reason = st == ZT_TOK_OK ? NULL : reason;
        t->report(t->ctx, &t->check);
    }
    return st;
}

/*
** The claims, once the signature holds.  Without a reporter the first
** failure ends it; with one every check runs and is told, and the first
** failure is still the result.
*/
static zt_tok_status_e zt_tok_claims(const zt_claims_t *claims, const zt_issuer_t *is,
                                     int64_t now, apr_pool_t *pool,
                                     zt_tok_teller_t *t, const char **reason)
{
    zt_tok_status_e first = ZT_TOK_OK, st;
    const char *r;

    for (size_t i = 0; i < sizeof(zt_tok_claim_checks)
                           / sizeof(zt_tok_claim_checks[0]); i++) {
        r = NULL;
        st = zt_tok_claim_checks[i].check(claims, is, now, pool, &r);
        zt_tok_tell(t, zt_tok_claim_checks[i].name, st, r);
        if (st != ZT_TOK_OK && first == ZT_TOK_OK) {
            first = st;
            *reason = r;
            if (t->report == NULL) {
                break;
            }
        }
    }
    return first;
}

zt_tok_status_e zt_token_verify(const char *jwt, apr_size_t len,
                                const zt_issuer_t *issuers, int nissuers,
                                int64_t now, apr_size_t max_len,
                                apr_pool_t *pool, zt_token_t *out,
                                const char **reason)
{
    return zt_token_verify_report(jwt, len, issuers, nissuers, now, max_len,
                                  pool, out, reason, NULL, NULL);
}

zt_tok_status_e zt_token_verify_report(const char *jwt, apr_size_t len,
                                       const zt_issuer_t *issuers, int nissuers,
                                       int64_t now, apr_size_t max_len,
                                       apr_pool_t *pool, zt_token_t *out,
                                       const char **reason,
                                       zt_tok_report_fn *report, void *ctx)
{
    zt_tok_teller_t t = { report, ctx, { NULL, ZT_TOK_OK, NULL, NULL, NULL } };
    zt_jws_t jws;
    zt_jws_status_e jst;
    const zt_issuer_t *is = NULL;
    const zt_jwk_t *key;
    const zt_keyset_t *ks;
    const zt_claims_t *claims;
    const zt_jnode_t *v;
    const char *jerr;
    double exp = 0;
    zt_tok_status_e st;

    memset(out, 0, sizeof(*out));
    *reason = NULL;
    if (max_len == 0) {
        max_len = ZT_TOKEN_MAX_LEN;
    }
    if (len > max_len) {
        *reason = "the token is too large";
        return zt_tok_tell(&t, "size", ZT_TOK_TOO_LARGE, *reason);
    }
    zt_tok_tell(&t, "size", ZT_TOK_OK, NULL);
    if (jwt == NULL) {
        *reason = "the token is empty";
        return zt_tok_tell(&t, "structure", ZT_TOK_MALFORMED, *reason);
    }
    jst = zt_jws_parse(&jws, jwt, len, pool, reason);
    out->header = jws.header;
    if (zt_tok_tell(&t, "structure", zt_tok_from_jws(jst), *reason) != ZT_TOK_OK) {
        return zt_tok_from_jws(jst);
    }
    claims = zt_jdoc_parse((const char *)jws.payload, jws.payload_len,
                           jws.payload_len, pool, &jerr);
    if (claims == NULL) {
        *reason = "the token's payload is not a JSON object";
        return zt_tok_tell(&t, "payload", ZT_TOK_MALFORMED, *reason);
    }
    zt_tok_tell(&t, "payload", ZT_TOK_OK, NULL);
    out->claims = claims;

    /* "iss" only picks whose keys to try; it is trusted after the signature. */
    v = zt_jdoc_get(claims, "iss");
    if (v == NULL) {
        *reason = "the token has no issuer";
        return zt_tok_tell(&t, "issuer", ZT_TOK_MISSING_CLAIM, *reason);
    }
    if (v->type != ZT_J_STR) {
        *reason = "the token's issuer is not a string";
        return zt_tok_tell(&t, "issuer", ZT_TOK_BAD_CLAIM, *reason);
    }
    for (int i = 0; i < nissuers && is == NULL; i++) {
        if (issuers[i].iss != NULL && strlen(issuers[i].iss) == v->u.s.len
            && memcmp(issuers[i].iss, zt_jnode_str(v), v->u.s.len) == 0) {
            is = &issuers[i];
        }
    }
    if (is == NULL) {
        *reason = "the token's issuer is not trusted";
        return zt_tok_tell(&t, "issuer", ZT_TOK_UNKNOWN_ISSUER, *reason);
    }
    t.check.issuer = is;
    zt_tok_tell(&t, "issuer", ZT_TOK_OK, NULL);
    st = zt_tok_typ(jws.header, is, pool, reason);
    if (zt_tok_tell(&t, "typ", st, *reason) != ZT_TOK_OK) {
        return st;
    }
    if ((jws.alg & is->algs) == 0) {
        *reason = "the token's algorithm is not allowed for its issuer";
        return zt_tok_tell(&t, "algorithm", ZT_TOK_ALG, *reason);
    }
    zt_tok_tell(&t, "algorithm", ZT_TOK_OK, NULL);
    /* HS* only with the secret, the others only with the JWK Set: the
     * token's alg never makes a public key an HMAC key, nor the reverse. */
    if (jws.alg & ZT_ALG_HS_ALL) {
        ks = is->secret;
        if (!zt_keyset_is_secret(ks)) {
            *reason = "the token's issuer has no shared secret";
            return zt_tok_tell(&t, "key", ZT_TOK_ALG, *reason);
        }
    }
    else {
        /* No set yet (one fetched by URL) is an unknown key, which the
         * caller may answer with a refetch. */
        ks = is->keys;
        if (zt_keyset_is_secret(ks)) {
            *reason = "the token's algorithm does not fit its issuer's keys";
            return zt_tok_tell(&t, "key", ZT_TOK_ALG, *reason);
        }
    }
    jst = zt_jws_select_key(&jws, ks, &key, reason);
    t.check.key = key;
    if (zt_tok_tell(&t, "key", zt_tok_from_jws(jst), *reason) != ZT_TOK_OK) {
        return zt_tok_from_jws(jst);
    }
    jst = zt_jws_verify(&jws, key, reason);
    if (zt_tok_tell(&t, "signature", zt_tok_from_jws(jst), *reason) != ZT_TOK_OK) {
        return zt_tok_from_jws(jst);
    }

    /* Signed by a trusted key: now the claims mean something. */
    st = zt_tok_claims(claims, is, now, pool, &t, reason);
    if (st != ZT_TOK_OK) {
        return st;
    }
    zt_tok_time(claims, "exp", &exp);   /* a number: checked above */
    out->valid_from = zt_tok_valid_from(claims, is);
    out->sub = zt_jdoc_get_str(claims, "sub");
    out->azp = zt_jdoc_get_str(claims, "azp");
    out->issuer = is;
    out->alg = jws.alg_name;
    out->kid = key->kid;
    /* Floor, so a cache keyed on it never outlives the real expiry. */
    exp = floor(exp);
    out->exp = exp >= 9.2e18 ? INT64_MAX : exp <= -9.2e18 ? INT64_MIN
                                                          : (int64_t)exp;
    *reason = "the token is valid";
    return ZT_TOK_OK;
}
