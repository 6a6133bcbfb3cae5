/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * zpc decode: a JWT taken apart for a person (docs/ZPC.md).
 *
 *   header and claims   pretty-printed (JSON_INDENT, non-ASCII escaped so a
 *                       hostile claim cannot drive the terminal)
 *   times               exp, nbf, iat, auth_time in UTC and relative to now
 *   structure           size, three parts, each part strict base64url, the
 *                       header and payload strict JSON, the JWS header rules
 *   checks              with --jwks or --policy: every check the module
 *                       makes, in its order, as the token core reports them
 *                       (zt_token_verify_report)
 *   verdict             zt_token_verify's own result
 *
 * Nothing here decides validity: the parts are decoded with the core's
 * zt_b64url and zt_json, the header judged by zt_jws_parse, the token by
 * zt_token_verify_report.  What decode adds is only for the reader: the
 * notes after "ok", the details after a failure's reason.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>                   /* isfinite, fabs: no libm needed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <jansson.h>

#include "zpc_decode.h"
#include "zt_alg.h"
#include "zt_b64.h"
#include "zt_format.h"
#include "zt_json.h"
#include "zt_jwk.h"
#include "zt_jws.h"
#include "zt_policy.h"
#include "zt_token.h"

#define ZPC_EXIT_OK     0
#define ZPC_EXIT_INPUT  1
#define ZPC_EXIT_USAGE  2

#define ZPC_DECODE_SHOW_MAX  (64 * 1024)  /* longest JSON text printed */
#define ZPC_DECODE_QUOTE_MAX 200          /* longest string quoted in a note */

typedef struct {
    FILE *out;
    apr_pool_t *pool;
    int64_t now;
    apr_size_t len;             /* of the token */
    json_t *header;             /* decoded for display, or NULL */
    json_t *claims;             /* decoded for display, or NULL */
    const char *keys_from;      /* "corp.jwks.json", or the policy's path */
    const zt_policy_t *policy;  /* --policy, or NULL */
    int claims_checked;         /* the core reached the claim checks */
    apr_array_header_t *held;   /* lines held back (zpc_decode_line_t), or NULL */
} zpc_decode_t;

typedef struct {
    int ok;
    const char *what, *note;
} zpc_decode_line_t;

/* ------------------------------------------------------------------ */
/* Text helpers                                                        */
/* ------------------------------------------------------------------ */

/* @a s (@a len bytes, any bytes) as a quoted string of printable ASCII. */
static const char *zpc_decode_quote(apr_pool_t *pool, const char *s, size_t len)
{
    size_t n = len < ZPC_DECODE_QUOTE_MAX ? len : ZPC_DECODE_QUOTE_MAX;
    char *buf = apr_palloc(pool, 4 * n + 8), *p = buf;

    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            *p++ = (char)c;
        }
        else {
            p += sprintf(p, "\\x%02x", c);
        }
    }
    *p++ = '"';
    if (n < len) {
        memcpy(p, "...", 3);
        p += 3;
    }
    *p = '\0';
    return buf;
}

static const char *zpc_decode_qstr(apr_pool_t *pool, const char *s)
{
    return s == NULL ? "(none)" : zpc_decode_quote(pool, s, strlen(s));
}

/* A JSON value, compact, ASCII only, shortened for a one-line note. */
static const char *zpc_decode_compact(apr_pool_t *pool, const json_t *v)
{
    char *s;
    const char *r;

    if (v == NULL) {
        return "(absent)";
    }
    s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
    if (s == NULL) {
        return "(unprintable)";
    }
    r = strlen(s) > ZPC_DECODE_QUOTE_MAX
        ? apr_pstrcat(pool, apr_pstrndup(pool, s, ZPC_DECODE_QUOTE_MAX), "...",
                      NULL)
        : apr_pstrdup(pool, s);
    free(s);
    return r;
}

/* floor(@a t) for |t| < 2^62, without libm. */
static long long zpc_decode_floor(double t)
{
    long long v = (long long)t;

    return (double)v > t ? v - 1 : v;
}

/* "2023-11-14 22:13:20 UTC" for @a t, or a note when it has no date. */
static const char *zpc_decode_utc(apr_pool_t *pool, double t)
{
    struct tm tm;
    time_t tt;
    char buf[64];

    /* Years 1 to 9999: what a date can show. */
    if (!(t >= -62135596800.0 && t < 253402300800.0)) {
        return "(no date: out of range)";
    }
    tt = (time_t)zpc_decode_floor(t);
    if (gmtime_r(&tt, &tm) == NULL
        || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        return "(no date)";
    }
    return apr_pstrdup(pool, buf);
}

/* A duration as the two largest units: "13m20s", "3h", "2d4h". */
static const char *zpc_decode_span(apr_pool_t *pool, double secs)
{
    static const struct { const char *u; double s; } units[] = {
        { "d", 86400 }, { "h", 3600 }, { "m", 60 }, { "s", 1 },
    };
    long long v, hi, lo;

    if (secs >= 1e12) {
        return "more than 30000 years";
    }
    v = zpc_decode_floor(secs);
    for (int i = 0; i < 3; i++) {
        if (v >= (long long)units[i].s) {
            hi = v / (long long)units[i].s;
            lo = (v % (long long)units[i].s) / (long long)units[i + 1].s;
            return lo ? apr_psprintf(pool, "%" APR_INT64_T_FMT "%s%"
                                     APR_INT64_T_FMT "%s", (apr_int64_t)hi,
                                     units[i].u, (apr_int64_t)lo, units[i + 1].u)
                      : apr_psprintf(pool, "%" APR_INT64_T_FMT "%s",
                                     (apr_int64_t)hi, units[i].u);
        }
    }
    return apr_psprintf(pool, "%" APR_INT64_T_FMT "s", (apr_int64_t)v);
}

/* "in 5m", "3h ago" or "now", relative to @a now. */
static const char *zpc_decode_rel(apr_pool_t *pool, double t, int64_t now)
{
    double d = t - (double)now;

    if (fabs(d) < 1) {
        return "now";
    }
    return d > 0 ? apr_pstrcat(pool, "in ", zpc_decode_span(pool, d), NULL)
                 : apr_pstrcat(pool, zpc_decode_span(pool, -d), " ago", NULL);
}

/* A NumericDate as written, in UTC and relative: "exp 1700000600 (2023-..., in 10m)". */
static const char *zpc_decode_when(zpc_decode_t *d, const char *name)
{
    json_t *v = d->claims != NULL ? json_object_get(d->claims, name) : NULL;
    double t;

    if (v == NULL) {
        return apr_psprintf(d->pool, "no %s", name);
    }
    if (!json_is_number(v) || !isfinite(t = json_number_value(v))) {
        return apr_psprintf(d->pool, "%s is %s, not a number", name,
                            zpc_decode_compact(d->pool, v));
    }
    return apr_psprintf(d->pool, "%s %s (%s, %s)", name,
                        zpc_decode_compact(d->pool, v),
                        zpc_decode_utc(d->pool, t),
                        zpc_decode_rel(d->pool, t, d->now));
}

static void zpc_decode_line(zpc_decode_t *d, int ok, const char *what,
                            const char *note)
{
    if (d->held != NULL) {
        zpc_decode_line_t *l = apr_array_push(d->held);

        l->ok = ok;
        l->what = what;
        l->note = note;
        return;
    }
    fprintf(d->out, "  %-7s %-10s %s\n", ok ? "ok" : "FAILED", what,
            note != NULL ? note : "");
}

/* Pretty JSON, or the bytes themselves when they are not JSON. */
static void zpc_decode_show(zpc_decode_t *d, const char *title, json_t *json,
                            const unsigned char *raw, size_t rawlen)
{
    char *s;

    fprintf(d->out, "%s\n", title);
    if (json == NULL) {
        fprintf(d->out, "  (not JSON) %s\n",
                raw != NULL ? zpc_decode_quote(d->pool, (const char *)raw, rawlen)
                            : "(not decoded)");
        return;
    }
    s = json_dumps(json, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    if (s == NULL) {
        fputs("  (unprintable)\n", d->out);
        return;
    }
    if (strlen(s) > ZPC_DECODE_SHOW_MAX) {
        fprintf(d->out, "%.*s\n... (%zu more bytes)\n", ZPC_DECODE_SHOW_MAX, s,
                strlen(s) - ZPC_DECODE_SHOW_MAX);
    }
    else {
        fprintf(d->out, "%s\n", s);
    }
    free(s);
}

static void zpc_decode_times(zpc_decode_t *d)
{
    static const char *const names[] = { "iat", "auth_time", "nbf", "exp" };

    fprintf(d->out, "times (now %" APR_INT64_T_FMT ", %s)\n", d->now,
            zpc_decode_utc(d->pool, (double)d->now));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *v = json_object_get(d->claims, names[i]);
        double t;

        if (v == NULL) {
            continue;
        }
        if (!json_is_number(v) || !isfinite(t = json_number_value(v))) {
            fprintf(d->out, "  %-10s %s (not a number)\n", names[i],
                    zpc_decode_compact(d->pool, v));
            continue;
        }
        fprintf(d->out, "  %-10s %-12s %s  %s\n", names[i],
                zpc_decode_compact(d->pool, v), zpc_decode_utc(d->pool, t),
                zpc_decode_rel(d->pool, t, d->now));
    }
}

/* ------------------------------------------------------------------ */
/* Structure: each part on its own                                     */
/* ------------------------------------------------------------------ */

/* Why @a part is not canonical base64url, for the reader. */
static const char *zpc_decode_b64_why(apr_pool_t *pool, const char *part,
                                      size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!zt_b64url_is_char((unsigned char)part[i])) {
            return apr_psprintf(pool, "%s at byte %" APR_SIZE_T_FMT " of "
                                "the part is outside the base64url alphabet",
                                zpc_decode_quote(pool, part + i, 1), i);
        }
    }
    if (len % 4 == 1) {
        return apr_psprintf(pool, "%" APR_SIZE_T_FMT " characters cannot "
                            "end a byte string", len);
    }
    return "the unused low bits of the last character are not zero";
}

/* One part: base64url, then (header, payload) JSON.  1 if it decoded. */
static int zpc_decode_part(zpc_decode_t *d, const char *what, const char *part,
                           size_t len, int is_json, json_t **json,
                           const unsigned char **raw, size_t *rawlen)
{
    const char *err = NULL;
    unsigned char *bytes = zt_b64url_decode_pool(d->pool, part, len, rawlen);

    *raw = bytes;
    if (bytes == NULL) {
        zpc_decode_line(d, 0, what, apr_pstrcat(d->pool, "not canonical "
                        "base64url: ", zpc_decode_b64_why(d->pool, part, len),
                        NULL));
        return 0;
    }
    if (!is_json) {
        zpc_decode_line(d, 1, what, apr_psprintf(d->pool, "canonical "
                        "base64url, %" APR_SIZE_T_FMT " bytes", *rawlen));
        return 1;
    }
    *json = zt_json_parse((const char *)bytes, *rawlen, *rawlen, d->pool, &err);
    if (*json == NULL) {
        zpc_decode_line(d, 0, what, apr_psprintf(d->pool, "canonical base64url, "
                        "%" APR_SIZE_T_FMT " bytes, but not a strict JSON "
                        "object: %s", *rawlen, err));
        return 0;
    }
    zt_json_pool_own(d->pool, *json);
    zpc_decode_line(d, 1, what, apr_psprintf(d->pool, "canonical base64url, "
                    "%" APR_SIZE_T_FMT " bytes, a strict JSON object with %"
                    APR_SIZE_T_FMT " member%s", *rawlen, json_object_size(*json),
                    json_object_size(*json) == 1 ? "" : "s"));
    return 1;
}

/*
** The anatomy: size, parts, each part, then zt_jws_parse's verdict on the
** header.  Printed after the header and claims, which it decodes first.
** Returns 1 when the token is well-formed (zt_jws_parse and the payload).
*/
static int zpc_decode_structure(zpc_decode_t *d, const char *tok, size_t len)
{
    const char *dot1 = memchr(tok, '.', len), *dot2 = NULL, *reason = NULL;
    const unsigned char *hraw = NULL, *praw = NULL, *sraw = NULL;
    size_t hlen = 0, plen = 0, slen = 0, dots = 0;
    json_t *sj = NULL;
    apr_array_header_t *held;
    zt_jws_t jws;
    int ok = 1;

    for (size_t i = 0; i < len; i++) {
        dots += tok[i] == '.';
    }
    if (dot1 != NULL) {
        dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - tok));
    }
    /* Lines held back: the header and claims they decode come first. */
    d->held = apr_array_make(d->pool, 8, sizeof(zpc_decode_line_t));
    zpc_decode_line(d, len <= ZT_TOKEN_MAX_LEN, "size",
                    apr_psprintf(d->pool, "%" APR_SIZE_T_FMT " bytes (limit "
                                 "%d, the ZeroTrustTokenMaxSize default)",
                                 len, ZT_TOKEN_MAX_LEN));
    ok &= len <= ZT_TOKEN_MAX_LEN;
    zpc_decode_line(d, dots == 2, "parts",
                    dots == 2 ? "three, separated by dots"
                    : dots == 0 ? "one, no dot: a JWS has three parts"
                    : apr_psprintf(d->pool, "%" APR_SIZE_T_FMT ", separated by %"
                                   APR_SIZE_T_FMT " dot%s: a JWS has three",
                                   dots + 1, dots, dots == 1 ? "" : "s"));
    ok &= dots == 2;
    /* Whatever parts there are, shown: two of three still tell a lot. */
    if (dot1 != NULL) {
        const char *pend = dot2 != NULL ? dot2 : tok + len;

        ok &= zpc_decode_part(d, "header", tok, (size_t)(dot1 - tok), 1,
                              &d->header, &hraw, &hlen);
        ok &= zpc_decode_part(d, "payload", dot1 + 1, (size_t)(pend - dot1 - 1),
                              1, &d->claims, &praw, &plen);
    }
    if (dot2 != NULL) {
        const char *sig = dot2 + 1;
        const char *end = memchr(sig, '.', len - (size_t)(sig - tok));

        ok &= zpc_decode_part(d, "signature", sig, end != NULL
                              ? (size_t)(end - sig) : len - (size_t)(sig - tok),
                              0, &sj, &sraw, &slen);
    }
    if (zt_jws_parse(&jws, tok, len, d->pool, &reason) == ZT_JWS_OK) {
        zpc_decode_line(d, 1, "jws", apr_psprintf(d->pool, "alg %s, kid %s: "
                        "no none, crit, jwk, jku, x5u or x5c", jws.alg_name,
                        zpc_decode_qstr(d->pool, jws.kid)));
    }
    else {
        zpc_decode_line(d, 0, "jws", reason);
        ok = 0;
    }
    held = d->held;
    d->held = NULL;

    zpc_decode_show(d, "header", d->header, hraw, hlen);
    zpc_decode_show(d, "claims", d->claims, praw, plen);
    if (d->claims != NULL) {
        zpc_decode_times(d);
    }
    fputs("structure\n", d->out);
    for (int i = 0; i < held->nelts; i++) {
        const zpc_decode_line_t *l = &APR_ARRAY_IDX(held, i, zpc_decode_line_t);

        zpc_decode_line(d, l->ok, l->what, l->note);
    }
    return ok;
}

/* ------------------------------------------------------------------ */
/* Checks: what zt_token_verify_report tells                           */
/* ------------------------------------------------------------------ */

static const char *zpc_decode_algs(apr_pool_t *pool, uint32_t algs)
{
    const char *s = "";

    for (uint32_t bit = 1; bit != 0 && bit <= ZT_ALG_ALL; bit <<= 1) {
        if ((algs & bit) && zt_alg_name(bit) != NULL) {
            s = apr_pstrcat(pool, s, *s ? " " : "", zt_alg_name(bit), NULL);
        }
    }
    return s;
}

/* The issuer's settings, one line under its check. */
static void zpc_decode_issuer(zpc_decode_t *d, const zt_issuer_t *is)
{
    const char *req = "";

    for (int i = 0; i < is->nrequired; i++) {
        req = apr_pstrcat(d->pool, req, " ", is->required[i], NULL);
    }
    fprintf(d->out, "%20saudience %s, algorithms %s,\n"
            "%20smax_lifetime %s, leeway %us, typ %s, required%s\n", "",
            zpc_decode_qstr(d->pool, is->audience),
            zpc_decode_algs(d->pool, is->algs), "",
            is->max_lifetime ? apr_psprintf(d->pool, "%us", is->max_lifetime)
                             : "(none)",
            (unsigned int)is->leeway,
            is->typ && *is->typ ? zpc_decode_qstr(d->pool, is->typ)
                                : "JWT, at+jwt or absent",
            *req ? req : " (none)");
}

/* Where @a key (NULL: the keys) of @a is comes from, in the table's words. */
static const char *zpc_decode_keysrc(zpc_decode_t *d, const zt_issuer_t *is,
                                     const zt_jwk_t *key)
{
    const zt_table_t *t;
    const zt_issuer_rec_t *rec;
    const char *jwks;

    if (d->policy == NULL) {
        return d->keys_from;
    }
    t = d->policy->table;
    if (is == NULL || is < d->policy->issuers
        || is >= d->policy->issuers + d->policy->nissuers
        || (uint32_t)(is - d->policy->issuers) >= t->nissuers) {
        return "the policy";
    }
    rec = &t->issuers[is - d->policy->issuers];
    if (key != NULL && key->pkey == NULL) {
        return apr_pstrcat(d->pool, "secret file ", zpc_decode_qstr(d->pool,
                           zt_table_str(t, rec->secret)), NULL);
    }
    jwks = zpc_decode_qstr(d->pool, zt_table_str(t, rec->jwks));
    switch (rec->jwks_kind) {
    case ZT_JWKS_FILE:
        return apr_pstrcat(d->pool, "jwks file ", jwks, NULL);
    case ZT_JWKS_URL:
        return apr_pstrcat(d->pool, "jwks url ", jwks, " (not fetched by "
                           "decode: use --jwks with a saved copy)", NULL);
    case ZT_JWKS_DISCOVER:
        return "jwks discover (not fetched by decode: use --jwks with a "
               "saved copy)";
    case ZT_JWKS_NONE:
        return "no jwks (the issuer has only a secret)";
    default:
        return apr_psprintf(d->pool, "key source kind %u",
                            (unsigned int)rec->jwks_kind);
    }
}

/* What a passed check saw, for the reader. */
static const char *zpc_decode_note(zpc_decode_t *d, const zt_tok_check_t *c)
{
    apr_pool_t *p = d->pool;
    const char *n = c->name;
    json_t *v;

    if (strcmp(n, "size") == 0) {
        return apr_psprintf(p, "%" APR_SIZE_T_FMT " bytes, limit %d",
                            d->len, ZT_TOKEN_MAX_LEN);
    }
    if (strcmp(n, "structure") == 0) {
        return "three canonical base64url parts, the header passes";
    }
    if (strcmp(n, "payload") == 0) {
        return "a strict JSON object";
    }
    if (strcmp(n, "signature") == 0) {
        return apr_psprintf(p, "%s verifies", zpc_decode_compact(p,
                            json_object_get(d->header, "alg")));
    }
    if (strcmp(n, "issuer") == 0 && c->issuer != NULL) {
        return d->policy != NULL
            ? apr_psprintf(p, "%s, chosen by iss %s", c->issuer->name,
                           zpc_decode_qstr(p, c->issuer->iss))
            : apr_psprintf(p, "iss %s (--jwks: any issuer)",
                           zpc_decode_qstr(p, c->issuer->iss));
    }
    if (strcmp(n, "typ") == 0) {
        return zpc_decode_compact(p, json_object_get(d->header, "typ"));
    }
    if (strcmp(n, "algorithm") == 0 && c->issuer != NULL) {
        return apr_psprintf(p, "%s, allowed: %s",
                            zpc_decode_compact(p, json_object_get(d->header, "alg")),
                            zpc_decode_algs(p, c->issuer->algs));
    }
    if (strcmp(n, "key") == 0 && c->key != NULL) {
        if (c->key->pkey == NULL) {
            return apr_psprintf(p, "the issuer's shared secret (%d bits), "
                                "from %s", c->key->bits,
                                zpc_decode_keysrc(d, c->issuer, c->key));
        }
        return apr_psprintf(p, "kid %s, %s %s%s%d bits, from %s",
                            zpc_decode_qstr(p, c->key->kid), c->key->kty,
                            c->key->crv ? c->key->crv : "",
                            c->key->crv ? " " : "", c->key->bits,
                            zpc_decode_keysrc(d, c->issuer, c->key));
    }
    if (strcmp(n, "exp") == 0 || strcmp(n, "nbf") == 0 || strcmp(n, "iat") == 0) {
        return apr_psprintf(p, "%s%s", zpc_decode_when(d, n),
                            c->issuer && c->issuer->leeway
                            ? apr_psprintf(p, ", leeway %us", c->issuer->leeway)
                            : "");
    }
    if (strcmp(n, "lifetime") == 0 && c->issuer != NULL) {
        json_t *e = json_object_get(d->claims, "exp");
        json_t *i = json_object_get(d->claims, "iat");
        double life;

        if (c->issuer->max_lifetime == 0) {
            return "no max_lifetime";
        }
        life = json_number_value(e) - json_number_value(i);
        if (!json_is_number(e) || !json_is_number(i) || !(fabs(life) < 1e15)) {
            return apr_psprintf(p, "max_lifetime %us", c->issuer->max_lifetime);
        }
        return apr_psprintf(p, "exp - iat = %.0fs, max_lifetime %us", life,
                            c->issuer->max_lifetime);
    }
    if (strcmp(n, "aud") == 0 && c->issuer != NULL) {
        return apr_psprintf(p, "%s, wanted %s",
                            zpc_decode_compact(p, json_object_get(d->claims,
                                                                  "aud")),
                            c->issuer->audience
                            ? zpc_decode_qstr(p, c->issuer->audience) : "(any)");
    }
    if (strcmp(n, "sub") == 0) {
        return zpc_decode_compact(p, json_object_get(d->claims, "sub"));
    }
    if (strcmp(n, "required") == 0 && c->issuer != NULL) {
        const char *s = "";

        for (int k = 0; k < c->issuer->nrequired; k++) {
            v = json_object_get(d->claims, c->issuer->required[k]);
            s = apr_pstrcat(p, s, *s ? ", " : "", c->issuer->required[k], " ",
                            zpc_decode_compact(p, v), NULL);
        }
        return *s ? s : "none required";
    }
    return NULL;
}

/* What a failed check saw, after the core's reason. */
static const char *zpc_decode_detail(zpc_decode_t *d, const zt_tok_check_t *c)
{
    const char *n = c->name;

    if (strcmp(n, "issuer") == 0 && d->policy != NULL) {
        const char *s = "";

        for (int i = 0; i < d->policy->nissuers; i++) {
            s = apr_pstrcat(d->pool, s, *s ? ", " : "",
                            zpc_decode_qstr(d->pool, d->policy->issuers[i].iss),
                            NULL);
        }
        return apr_psprintf(d->pool, "iss %s; trusted: %s",
                            zpc_decode_compact(d->pool,
                                               json_object_get(d->claims, "iss")),
                            *s ? s : "(no issuer)");
    }
    if (strcmp(n, "key") == 0) {
        return apr_psprintf(d->pool, "kid %s, keys from %s",
                            zpc_decode_compact(d->pool,
                                               json_object_get(d->header, "kid")),
                            zpc_decode_keysrc(d, c->issuer, NULL));
    }
    if (strcmp(n, "size") == 0 || strcmp(n, "typ") == 0
        || strcmp(n, "algorithm") == 0
        || strcmp(n, "exp") == 0 || strcmp(n, "nbf") == 0
        || strcmp(n, "iat") == 0 || strcmp(n, "lifetime") == 0
        || strcmp(n, "aud") == 0 || strcmp(n, "required") == 0) {
        return zpc_decode_note(d, c);
    }
    return NULL;
}

static void zpc_decode_check(void *ctx, const zt_tok_check_t *c)
{
    zpc_decode_t *d = ctx;
    const char *note;

    if (strcmp(c->name, "exp") == 0) {
        d->claims_checked = 1;
    }
    if (c->status == ZT_TOK_OK) {
        zpc_decode_line(d, 1, c->name, zpc_decode_note(d, c));
    }
    else {
        note = zpc_decode_detail(d, c);
        zpc_decode_line(d, 0, c->name, note != NULL
                        ? apr_psprintf(d->pool, "%s (%s)", c->reason, note)
                        : c->reason);
    }
    if (strcmp(c->name, "issuer") == 0 && c->issuer != NULL && d->policy != NULL) {
        zpc_decode_issuer(d, c->issuer);
    }
}

/* ------------------------------------------------------------------ */
/* Input, options, verdict                                             */
/* ------------------------------------------------------------------ */

/* The token from stdin: at most ZPC_DECODE_MAX_INPUT bytes, any bytes. */
static int zpc_decode_stdin(apr_pool_t *pool, char **tok, size_t *len)
{
    char *buf = apr_palloc(pool, ZPC_DECODE_MAX_INPUT + 1);
    size_t n = 0, got;

    while ((got = fread(buf + n, 1, ZPC_DECODE_MAX_INPUT + 1 - n, stdin)) > 0) {
        n += got;
        if (n > ZPC_DECODE_MAX_INPUT) {
            fprintf(stderr, "zpc decode: the input is larger than %d bytes\n",
                    ZPC_DECODE_MAX_INPUT);
            return ZPC_EXIT_INPUT;
        }
    }
    if (ferror(stdin)) {
        fprintf(stderr, "zpc decode: cannot read the standard input: %s\n",
                strerror(errno));
        return ZPC_EXIT_USAGE;
    }
    /* `echo $TOKEN | zpc decode -`: the line end is not part of it. */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'
                     || buf[n - 1] == ' ' || buf[n - 1] == '\t')) {
        n--;
    }
    buf[n] = '\0';
    *tok = buf;
    *len = n;
    return ZPC_EXIT_OK;
}

static void zpc_decode_usage(void)
{
    fputs("usage: zpc decode JWT [--jwks FILE | --policy POLICY.ztb] "
          "[--now UNIXTIME]\n"
          "       JWT '-' reads the token from the standard input\n", stderr);
}

int zpc_decode_main(int argc, char **argv, apr_pool_t *pool)
{
    const char *arg = NULL, *jwks = NULL, *policy = NULL, *err = NULL;
    const char *reason = NULL;
    char *tok = NULL, *end;
    size_t len = 0;
    zpc_decode_t d;
    zt_keyset_t *ks = NULL;
    zt_policy_t *pol = NULL;
    zt_issuer_t any;
    zt_token_t out;
    zt_tok_status_e st;
    int rc, well_formed;

    memset(&d, 0, sizeof(d));
    d.out = stdout;
    d.pool = pool;
    d.now = (int64_t)time(NULL);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--jwks") == 0 && i + 1 < argc && jwks == NULL) {
            jwks = argv[++i];
        }
        else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc && policy == NULL) {
            policy = argv[++i];
        }
        else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
            long long v;

            errno = 0;
            v = strtoll(argv[++i], &end, 10);
            if (errno != 0 || end == argv[i] || *end != '\0') {
                fprintf(stderr, "zpc decode: --now wants seconds since the "
                        "epoch, not '%s'\n", argv[i]);
                return ZPC_EXIT_USAGE;
            }
            d.now = (int64_t)v;
        }
        else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "zpc decode: unknown or repeated option '%s'\n",
                    argv[i]);
            zpc_decode_usage();
            return ZPC_EXIT_USAGE;
        }
        else if (arg == NULL) {
            arg = argv[i];
        }
        else {
            fprintf(stderr, "zpc decode: more than one token given\n");
            return ZPC_EXIT_USAGE;
        }
    }
    if (arg == NULL || (jwks != NULL && policy != NULL)) {
        fprintf(stderr, "zpc decode: %s\n", arg == NULL ? "need a JWT (or '-')"
                : "--jwks and --policy do not go together");
        zpc_decode_usage();
        return ZPC_EXIT_USAGE;
    }
    if (strcmp(arg, "-") == 0) {
        if ((rc = zpc_decode_stdin(pool, &tok, &len)) != ZPC_EXIT_OK) {
            return rc;
        }
    }
    else {
        tok = apr_pstrdup(pool, arg);
        len = strlen(tok);
        if (len > ZPC_DECODE_MAX_INPUT) {
            fprintf(stderr, "zpc decode: the input is larger than %d bytes\n",
                    ZPC_DECODE_MAX_INPUT);
            return ZPC_EXIT_INPUT;
        }
    }
    /* A pasted Authorization header value. */
    if (len > 7 && strncasecmp(tok, "Bearer ", 7) == 0) {
        tok += 7;
        len -= 7;
        printf("(the 'Bearer ' prefix was removed)\n");
    }

    /* Keys before any output: a bad key file is a usage error, not a verdict. */
    if (jwks != NULL && zt_jwks_load_file(&ks, jwks, pool, &err) != APR_SUCCESS) {
        fprintf(stderr, "zpc decode: %s\n", err);
        return ZPC_EXIT_USAGE;
    }
    if (policy != NULL && zt_policy_open(&pol, policy, pool, &err) != APR_SUCCESS) {
        fprintf(stderr, "zpc decode: %s\n", err);
        return ZPC_EXIT_USAGE;
    }

    d.len = len;
    well_formed = zpc_decode_structure(&d, tok, len);
    if (ks == NULL && pol == NULL) {
        fprintf(d.out, "verdict: %s\n", well_formed
                ? "well-formed; signature and claims not checked (give --jwks "
                  "FILE or --policy POLICY.ztb)"
                : "MALFORMED");
        return well_formed ? ZPC_EXIT_OK : ZPC_EXIT_INPUT;
    }

    memset(&any, 0, sizeof(any));
    if (ks != NULL) {
        /* --jwks: whichever issuer the token names, with these keys and no
         * audience, lifetime or leeway; HS* finds no secret here. */
        json_t *iss = d.claims != NULL ? json_object_get(d.claims, "iss") : NULL;

        any.name = "jwks";
        any.iss = json_is_string(iss) ? json_string_value(iss) : NULL;
        any.algs = ZT_ALG_ALL;
        any.keys = ks;
        d.keys_from = jwks;
    }
    else {
        d.policy = pol;
    }
    fprintf(d.out, "checks (%s%s, now %" APR_INT64_T_FMT ")\n",
            pol != NULL ? "policy " : "keys ", pol != NULL ? policy : jwks, d.now);
    st = zt_token_verify_report(tok, len, pol != NULL ? pol->issuers : &any,
                                pol != NULL ? pol->nissuers : 1, d.now, 0, pool,
                                &out, &reason, zpc_decode_check, &d);
    if (st != ZT_TOK_OK && !d.claims_checked) {
        fputs("  -       (the module stops at this failure: the checks after "
              "it are not run)\n", d.out);
    }
    if (st == ZT_TOK_OK) {
        fprintf(d.out, "verdict: VALID (issuer %s, %s, kid %s)\n",
                out.issuer->name, out.alg, zpc_decode_qstr(pool, out.kid));
        return ZPC_EXIT_OK;
    }
    fprintf(d.out, "verdict: INVALID (%s): %s\n", zt_tok_status_name(st), reason);
    return ZPC_EXIT_INPUT;
}
