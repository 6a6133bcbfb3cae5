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
 *   claims: exp, nbf, iat (zt_token_check_times, which a cache hit runs
 *   again), lifetime, aud, sub, the issuer's required claims.
 * Time claims are JSON numbers, integer or not (RFC 7519 NumericDate);
 * they are compared as doubles, which hold every second until 2^53.
 */

#include <math.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "zt_format.h"
#include "zt_json.h"
#include "zt_jws.h"
#include "zt_token.h"

#define ZT_ALG_HS (ZT_ALG_HS256 | ZT_ALG_HS384 | ZT_ALG_HS512)

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
** or "at+jwt" (RFC 9068).  A typ holding a NUL never matches.
*/
static zt_tok_status_e zt_tok_typ(json_t *header, const zt_issuer_t *is,
                                  apr_pool_t *pool, const char **reason)
{
    json_t *v = json_object_get(header, "typ");
    const char *typ;

    if (v != NULL && (!json_is_string(v)
                      || strlen(json_string_value(v)) != json_string_length(v))) {
        *reason = "the token's type is not a string";
        return ZT_TOK_BAD_HEADER;
    }
    typ = v != NULL ? zt_tok_media(json_string_value(v)) : NULL;
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
static int zt_tok_time(json_t *claims, const char *name, double *out)
{
    json_t *v = json_object_get(claims, name);

    if (v == NULL) {
        return 0;
    }
    if (!json_is_number(v)) {
        return -1;
    }
    *out = json_number_value(v);
    return isfinite(*out) ? 1 : -1;
}

/* "aud": the audience as the string, or as one string of an array. */
static zt_tok_status_e zt_tok_audience(json_t *claims, const char *audience,
                                       const char **reason)
{
    json_t *aud = json_object_get(claims, "aud"), *v;
    size_t i;
    int match = 0;

    if (aud == NULL) {
        if (audience == NULL) {
            return ZT_TOK_OK;
        }
        *reason = "the token has no audience";
        return ZT_TOK_MISSING_CLAIM;
    }
    if (json_is_string(aud)) {
        match = audience != NULL && strcmp(json_string_value(aud), audience) == 0;
    }
    else if (json_is_array(aud)) {
        json_array_foreach(aud, i, v) {
            if (!json_is_string(v)) {
                *reason = "the token's audience is not a string or a list of strings";
                return ZT_TOK_BAD_CLAIM;
            }
            match |= audience != NULL
                     && strcmp(json_string_value(v), audience) == 0;
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

zt_tok_status_e zt_token_check_times(json_t *claims, const zt_issuer_t *is,
                                     int64_t now, const char **reason)
{
    double t = (double)now, lee = (double)is->leeway, exp, nbf, iat;
    int rc;

    rc = zt_tok_time(claims, "exp", &exp);
    if (rc == 0) {
        *reason = "the token has no expiry";
        return ZT_TOK_MISSING_CLAIM;
    }
    if (rc < 0) {
        *reason = "the token's exp is not a number";
        return ZT_TOK_BAD_CLAIM;
    }
    if (!(t < exp + lee)) {
        *reason = "the token expired";
        return ZT_TOK_EXPIRED;
    }
    rc = zt_tok_time(claims, "nbf", &nbf);
    if (rc < 0) {
        *reason = "the token's nbf is not a number";
        return ZT_TOK_BAD_CLAIM;
    }
    if (rc > 0 && !(t >= nbf - lee)) {
        *reason = "the token is not valid yet";
        return ZT_TOK_NOT_YET_VALID;
    }
    rc = zt_tok_time(claims, "iat", &iat);
    if (rc < 0) {
        *reason = "the token's iat is not a number";
        return ZT_TOK_BAD_CLAIM;
    }
    if (rc > 0 && !(iat <= t + lee)) {
        *reason = "the token was issued in the future";
        return ZT_TOK_ISSUED_IN_FUTURE;
    }
    return ZT_TOK_OK;
}

/* Claims the issuer block names `required`: present and not null. */
static zt_tok_status_e zt_tok_required(json_t *claims, const zt_issuer_t *is,
                                       apr_pool_t *pool, const char **reason)
{
    for (int i = 0; i < is->nrequired; i++) {
        const char *name = is->required[i];
        json_t *v = name != NULL ? json_object_get(claims, name) : NULL;

        if (v == NULL || json_is_null(v)) {
            *reason = apr_psprintf(pool, "the token lacks the required claim "
                                   "'%s'", name != NULL ? name : "?");
            return ZT_TOK_MISSING_CLAIM;
        }
    }
    return ZT_TOK_OK;
}

static zt_tok_status_e zt_tok_claims(json_t *claims, const zt_issuer_t *is,
                                     int64_t now, apr_pool_t *pool,
                                     double *exp_out, const char **reason)
{
    double exp = 0, iat = 0;
    json_t *sub;
    int rc;
    zt_tok_status_e st;

    st = zt_token_check_times(claims, is, now, reason);
    if (st != ZT_TOK_OK) {
        return st;
    }
    /* Both numbers now: checked just above. */
    zt_tok_time(claims, "exp", &exp);
    rc = zt_tok_time(claims, "iat", &iat);
    if (is->max_lifetime > 0) {
        if (rc == 0) {
            *reason = "the token has no issue time";
            return ZT_TOK_MISSING_CLAIM;
        }
        if (!(exp - iat <= (double)is->max_lifetime)) {
            *reason = "the token's lifetime is too long";
            return ZT_TOK_LIFETIME;
        }
    }
    st = zt_tok_audience(claims, is->audience, reason);
    if (st != ZT_TOK_OK) {
        return st;
    }
    sub = json_object_get(claims, "sub");
    if (sub != NULL && !json_is_string(sub)) {
        *reason = "the token's subject is not a string";
        return ZT_TOK_BAD_CLAIM;
    }
    st = zt_tok_required(claims, is, pool, reason);
    if (st != ZT_TOK_OK) {
        return st;
    }
    *exp_out = exp;
    return ZT_TOK_OK;
}

zt_tok_status_e zt_token_verify(const char *jwt, apr_size_t len,
                                const zt_issuer_t *issuers, int nissuers,
                                int64_t now, apr_size_t max_len,
                                apr_pool_t *pool, zt_token_t *out,
                                const char **reason)
{
    zt_jws_t jws;
    zt_jws_status_e jst;
    const zt_issuer_t *is = NULL;
    const zt_jwk_t *key;
    const zt_keyset_t *ks;
    json_t *claims, *v;
    const char *jerr, *iss;
    double exp = 0;
    zt_tok_status_e st;

    memset(out, 0, sizeof(*out));
    *reason = NULL;
    if (max_len == 0) {
        max_len = ZT_TOKEN_MAX_LEN;
    }
    if (len > max_len) {
        *reason = "the token is too large";
        return ZT_TOK_TOO_LARGE;
    }
    if (jwt == NULL) {
        *reason = "the token is empty";
        return ZT_TOK_MALFORMED;
    }
    jst = zt_jws_parse(&jws, jwt, len, pool, reason);
    out->header = jws.header;
    if (jst != ZT_JWS_OK) {
        return zt_tok_from_jws(jst);
    }
    claims = zt_json_parse((const char *)jws.payload, jws.payload_len,
                           jws.payload_len, pool, &jerr);
    if (claims == NULL) {
        *reason = "the token's payload is not a JSON object";
        return ZT_TOK_MALFORMED;
    }
    zt_json_pool_own(pool, claims);
    out->claims = claims;

    /* "iss" only picks whose keys to try; it is trusted after the signature. */
    v = json_object_get(claims, "iss");
    if (v == NULL) {
        *reason = "the token has no issuer";
        return ZT_TOK_MISSING_CLAIM;
    }
    if (!json_is_string(v)) {
        *reason = "the token's issuer is not a string";
        return ZT_TOK_BAD_CLAIM;
    }
    iss = json_string_value(v);
    for (int i = 0; i < nissuers && is == NULL; i++) {
        if (issuers[i].iss != NULL && strlen(issuers[i].iss) == json_string_length(v)
            && strcmp(issuers[i].iss, iss) == 0) {
            is = &issuers[i];
        }
    }
    if (is == NULL) {
        *reason = "the token's issuer is not trusted";
        return ZT_TOK_UNKNOWN_ISSUER;
    }
    st = zt_tok_typ(jws.header, is, pool, reason);
    if (st != ZT_TOK_OK) {
        return st;
    }
    if ((jws.alg & is->algs) == 0) {
        *reason = "the token's algorithm is not allowed for its issuer";
        return ZT_TOK_ALG;
    }
    /* HS* only with the secret, the others only with the JWK Set: the
     * token's alg never makes a public key an HMAC key, nor the reverse. */
    if (jws.alg & ZT_ALG_HS) {
        ks = is->secret;
        if (!zt_keyset_is_secret(ks)) {
            *reason = "the token's issuer has no shared secret";
            return ZT_TOK_ALG;
        }
    }
    else {
        /* No set yet (one fetched by URL) is an unknown key, which the
         * caller may answer with a refetch. */
        ks = is->keys;
        if (zt_keyset_is_secret(ks)) {
            *reason = "the token's algorithm does not fit its issuer's keys";
            return ZT_TOK_ALG;
        }
    }
    jst = zt_jws_select_key(&jws, ks, &key, reason);
    if (jst != ZT_JWS_OK) {
        return zt_tok_from_jws(jst);
    }
    jst = zt_jws_verify(&jws, key, reason);
    if (jst != ZT_JWS_OK) {
        return zt_tok_from_jws(jst);
    }

    /* Signed by a trusted key: now the claims mean something. */
    st = zt_tok_claims(claims, is, now, pool, &exp, reason);
    if (st != ZT_TOK_OK) {
        return st;
    }
    v = json_object_get(claims, "sub");
    out->sub = v != NULL ? json_string_value(v) : NULL;
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
