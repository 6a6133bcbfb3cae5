/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Input validation: the route's declared contract over a matched request.
 *
 * Reject, don't fix: a value is taken exactly as the client wrote it
 * (after the one strict percent-decoding of zt_query_parse, or httpd's of
 * the path) and either holds or is refused.  Integers are canonical
 * decimal ("-"? no leading zeros, no '+', no spaces, no "-0"), because a
 * backend that reads "010" as octal, or " 7" as 7, must not see a value
 * this check read differently.  Numbers follow JSON's syntax.  Lengths
 * are in bytes.  Header values may not hold control bytes (tab included).
 *
 * Messages are written into fixed buffers of the violation record, with
 * every byte outside printable ASCII as \xNN, so they can go to a log, a
 * terminal or a JSON string as they are.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "zt_ascii.h"
#include "zt_dfa.h"
#include "zt_validate.h"
#include "zt_word.h"

/* Longest part of a value quoted back in "found". */
#define ZT_VALUE_QUOTED 40

/* ------------------------------------------------------------------ */
/* Bounded text                                                        */

typedef struct {
    char *p;
    size_t size, len;       /* len < size; p[len] == '\0' */
    int cut;                /* "..." written: the text is full */
} zt_text_t;

static void zt_text_init(zt_text_t *b, char *p, size_t size)
{
    b->p = p;
    b->size = size;
    b->len = 0;
    b->cut = 0;
    p[0] = '\0';
}

/* Append @a n bytes.  The last 3 bytes before the NUL are kept for
 * "...", written once when a part does not fit; then the text is full.
 * A message is so cut between its parts, never inside an escape. */
static int zt_text_put(zt_text_t *b, const char *s, size_t n)
{
    if (b->cut) {
        return -1;
    }
    if (b->len + n + 3 >= b->size) {
        memcpy(b->p + b->len, "...", 4);
        b->len += 3;
        b->cut = 1;
        return -1;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int zt_text_str(zt_text_t *b, const char *s)
{
    return zt_text_put(b, s, strlen(s));
}

/* @a s with bytes outside printable ASCII and '"' as \xNN; '\\' too
 * unless @a keep_backslash (a pattern, whose escapes stay readable). */
static int zt_text_esc_as(zt_text_t *b, const char *s, size_t n,
                          int keep_backslash)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

        if (c >= 0x20 && c < 0x7f && c != '"' && (c != '\\' || keep_backslash)) {
            if (zt_text_put(b, (const char *)&s[i], 1) < 0) {
                return -1;
            }
        }
        else if (zt_text_put(b, e, 4) < 0) {
            return -1;
        }
    }
    return 0;
}

static int zt_text_esc(zt_text_t *b, const char *s, size_t n)
{
    return zt_text_esc_as(b, s, n, 0);
}

/* "\"value\"", or "\"first 40 bytes...\" (N bytes)" for a long one. */
static void zt_text_value(zt_text_t *b, const char *s, size_t n)
{
    char len[40];

    zt_text_str(b, "\"");
    zt_text_esc(b, s, n > ZT_VALUE_QUOTED ? ZT_VALUE_QUOTED : n);
    zt_text_str(b, n > ZT_VALUE_QUOTED ? "...\"" : "\"");
    if (n > ZT_VALUE_QUOTED) {
        snprintf(len, sizeof(len), " (%zu bytes)", n);
        zt_text_str(b, len);
    }
}

/* ------------------------------------------------------------------ */
/* Value types                                                         */

/* zt_parse_int for 19 digits or more (from s[i], after any '-'), where
 * the value may leave int64: each step checks the bound. */
static __attribute__((noinline)) int zt_parse_int_wide(const char *s,
                                                      size_t i, size_t n,
                                                      int64_t *v)
{
    uint64_t acc = 0, lim = i ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    int big = 0;

    for (size_t k = i; k < n; k++) {
        unsigned d = (unsigned char)s[k] - '0';

        if (d > 9) {
            return 0;
        }
        if (acc > (lim - d) / 10) {
            big = 1;            /* keep reading: "99...9x" is not an integer */
        }
        else {
            acc = acc * 10 + d;
        }
    }
    if (big) {
        return 2;
    }
    *v = i ? (int64_t)(0 - acc) : (int64_t)acc;
    return 1;
}

/* Canonical decimal within int64: "0", or "-"? [1-9][0-9]*.  Returns 1
 * with *v set; 0 when not an integer; 2 when one, but beyond int64. */
static inline int zt_parse_int(const char *s, size_t n, int64_t *v)
{
    size_t i = (n > 0 && s[0] == '-') ? 1 : 0;
    uint64_t acc = 0;

    if (n == i || (s[i] == '0' && (n - i > 1 || i == 1))) {
        return 0;               /* empty, "-", leading zero, "-0" */
    }
    if (n - i > 18) {
        return zt_parse_int_wide(s, i, n, v);
    }
    for (size_t k = i; k < n; k++) {    /* below 10^18: no bound to watch */
        unsigned d = (unsigned char)s[k] - '0';

        if (d > 9) {
            return 0;
        }
        acc = acc * 10 + d;
    }
    *v = i ? -(int64_t)acc : (int64_t)acc;
    return 1;
}

/* A JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int zt_is_number(const char *s, size_t n)
{
    size_t i = 0, d;

    if (i < n && s[i] == '-') {
        i++;
    }
    for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
    }
    if (i == d || (s[d] == '0' && i - d > 1)) {
        return 0;
    }
    if (i < n && s[i] == '.') {
        for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        }
        if (i == d) {
            return 0;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        }
        if (i == d) {
            return 0;
        }
    }
    return i == n;
}

static const char *zt_enum_value(const zt_table_t *t, const zt_type_rec_t *ty,
                                 uint32_t k)
{
    return zt_table_str(t, t->opnds[t->lists[ty->first + k]].str);
}

/* What a value of @a ty looks like: "an integer 1..100", "one of a, b". */
static void zt_type_expected(const zt_table_t *t, const zt_type_rec_t *ty,
                             zt_text_t *b)
{
    char num[64];

    switch (ty->kind) {
    case ZT_TYPE_STRING:
        if (ty->min == ty->max) {
            snprintf(num, sizeof(num), "exactly %" PRId64 " bytes", ty->max);
        }
        else if (ty->min <= 0) {
            snprintf(num, sizeof(num), "at most %" PRId64 " bytes", ty->max);
        }
        else {
            snprintf(num, sizeof(num), "%" PRId64 "..%" PRId64 " bytes",
                     ty->min, ty->max);
        }
        zt_text_str(b, num);
        if (ty->dfa != ZT_NONE) {
            const char *re = zt_table_str(t, ty->str);

            zt_text_str(b, " matching /");
            zt_text_esc_as(b, re, strlen(re), 1);
            zt_text_str(b, "/");
        }
        return;
    case ZT_TYPE_INT:
        snprintf(num, sizeof(num), "an integer %" PRId64 "..%" PRId64,
                 ty->min, ty->max);
        zt_text_str(b, num);
        return;
    case ZT_TYPE_NUMBER:
        zt_text_str(b, "a number (JSON syntax)");
        return;
    case ZT_TYPE_BOOL:
        zt_text_str(b, "true or false");
        return;
    case ZT_TYPE_UUID:
        zt_text_str(b, "a UUID");
        return;
    case ZT_TYPE_ENUM:
        zt_text_str(b, "one of ");
        for (uint32_t k = 0; k < ty->count; k++) {
            const char *e = zt_enum_value(t, ty, k);

            if ((k > 0 && zt_text_str(b, ", ") < 0)
                || zt_text_esc(b, e, strlen(e)) < 0) {
                return;
            }
        }
        return;
    default:
        zt_text_str(b, "any value");
        return;
    }
}

/* zt_type_ok for the kinds other than INT and STRING. */
static __attribute__((noinline)) int zt_type_ok_other(const zt_table_t *t,
                                                     const zt_type_rec_t *ty,
                                                     const char *s, size_t n)
{
    switch (ty->kind) {
    case ZT_TYPE_NUMBER:
        return zt_is_number(s, n);
    case ZT_TYPE_BOOL:
        return (n == 4 && memcmp(s, "true", 4) == 0)
               || (n == 5 && memcmp(s, "false", 5) == 0);
    case ZT_TYPE_UUID:
        return zt_uuid_shape(s, n);
    case ZT_TYPE_ENUM:
        for (uint32_t k = 0; k < ty->count; k++) {
            const char *e = zt_enum_value(t, ty, k);

            if (strlen(e) == n && memcmp(e, s, n) == 0) {
                return 1;
            }
        }
        return 0;
    default:
        return 1;               /* ZT_TYPE_ANY: `query * any` */
    }
}

/* Does @a s (@a n bytes) hold as a value of TYPE @a ti?  Integers and
 * strings, the common kinds, inline where it is asked. */
static inline __attribute__((always_inline))
int zt_type_ok(const zt_table_t *t, uint32_t ti, const char *s, size_t n)
{
    const zt_type_rec_t *ty = &t->types[ti];
    int64_t x = 0;

    if (ty->kind == ZT_TYPE_INT) {
        return zt_parse_int(s, n, &x) == 1 && x >= ty->min && x <= ty->max;
    }
    if (ty->kind == ZT_TYPE_STRING) {
        if ((int64_t)n < ty->min || (int64_t)n > ty->max) {
            return 0;
        }
        return ty->dfa == ZT_NONE || zt_dfa_match(t->dfas + ty->dfa, s, n);
    }
    return zt_type_ok_other(t, ty, s, n);
}

/* ------------------------------------------------------------------ */
/* The contract                                                        */

/* Start the violation record: where, name and (unless NULL) found.  The
 * record is written only on a violation, whole, so that it is the same
 * however the request got there. */
static int zt_viol(zt_violation_t *v, zt_viol_where_e where,
                   const char *name, size_t name_len, const char *found)
{
    zt_text_t b;

    memset(v, 0, sizeof(*v));
    v->where = where;
    zt_text_init(&b, v->name, sizeof(v->name));
    zt_text_esc(&b, name, name_len);
    if (found != NULL) {
        zt_text_init(&b, v->found, sizeof(v->found));
        zt_text_str(&b, found);
    }
    return -1;
}

/* A value of TYPE @a ti that does not hold: found and expected. */
static int zt_type_viol(zt_violation_t *v, const zt_table_t *t, uint32_t ti,
                        zt_viol_where_e where, const char *name,
                        size_t name_len, const char *s, size_t n)
{
    zt_text_t b;

    zt_viol(v, where, name, name_len, NULL);
    zt_text_init(&b, v->found, sizeof(v->found));
    zt_text_value(&b, s, n);
    zt_text_init(&b, v->expected, sizeof(v->expected));
    zt_type_expected(t, &t->types[ti], &b);
    return -1;
}

/* ------------------------------------------------------------------ */
/* The prepared contract                                               */

/*
** A name's key: its bytes in two words read from both ends, which
** overlap when it is short, so that for names of one length up to
** ZT_KEY_MAX bytes equal keys are equal names; a longer name is also
** compared whole.  No byte outside the name is read.  (zt_load_n would
** do for the short ones, but its shift and or cost a lookup 9 more
** instructions: here the two halves need not be one zero-padded word.)
*/
#define ZT_KEY_MAX 16

typedef struct {
    uint64_t head, tail;
} zt_key_t;

static inline zt_key_t zt_name_key(const char *s, uint32_t n)
{
    zt_key_t k = { 0, 0 };
    uint32_t h, t;

    if (n >= 8) {
        k.head = zt_load8(s);
        k.tail = zt_load8(s + n - 8);
    }
    else if (n >= 4) {
        memcpy(&h, s, 4);
        memcpy(&t, s + n - 4, 4);
        k.head = h;
        k.tail = t;
    }
    else if (n > 0) {
        k.head = (uint64_t)(unsigned char)s[0] << 8 | (unsigned char)s[n / 2];
        k.tail = (unsigned char)s[n - 1];
    }
    return k;
}

/* A typed query parameter of a route, as the query loop reads it. */
typedef struct {
    zt_key_t key;           /* zt_name_key(name, len) */
    const char *name;
    uint32_t len;           /* strlen(name) */
    uint32_t k;             /* its place in the route's PARM run */
    uint32_t type;          /* TYPE index */
    uint32_t flags;         /* ZT_PARAM_* */
} zt_vparam_t;

/* zt_table_t.vroutes[i]: route i's contract, derived at load.  Its masks
 * hold a bit per segment and per query parameter: */
_Static_assert(ZT_MAX_SEGMENTS <= 32 && ZT_MAX_PARAMS <= 64, "zt_vroute_t's masks");
typedef struct zt_vroute_s {
    const zt_vparam_t *query;   /* typed query parameters, in run order */
    uint32_t nquery;
    uint32_t captures;          /* bit i: segment i is a typed capture */
    uint64_t required;          /* bit k: query parameter k, not optional */
    int headers;                /* the route has typed header parameters */
} zt_vroute_t;

void zt_validate_prepare(zt_table_t *t, apr_pool_t *pool)
{
    zt_vroute_t *vr = apr_pcalloc(pool, (t->nroutes + 1) * sizeof(*vr));
    zt_vparam_t *vp = apr_palloc(pool, (t->nparams + 1) * sizeof(*vp));

    for (uint32_t i = 0; i < t->nroutes; i++) {
        const zt_route_rec_t *route = &t->routes[i];

        vr[i].query = vp;
        for (uint32_t k = 0; k < route->seg_count; k++) {
            const zt_seg_rec_t *sg = &t->segs[route->seg_first + k];

            if (sg->kind == ZT_SEG_CAPTURE && sg->type != ZT_NONE) {
                vr[i].captures |= UINT32_C(1) << k;
            }
        }
        for (uint32_t k = 0; k < route->param_count; k++) {
            const zt_param_rec_t *p = &t->params[route->param_first + k];

            if (t->types[p->type].kind == ZT_TYPE_ANY) {
                continue;       /* `query * any` */
            }
            if (p->where != ZT_PARAM_QUERY) {
                vr[i].headers = 1;
                continue;
            }
            if (!(p->flags & ZT_PARAM_OPTIONAL)) {
                vr[i].required |= UINT64_C(1) << k;
            }
            vp->name = zt_table_str(t, p->name);
            vp->len = (uint32_t)strlen(vp->name);
            vp->key = zt_name_key(vp->name, vp->len);
            vp->k = k;
            vp->type = p->type;
            vp->flags = p->flags;
            vp++;
            vr[i].nquery++;
        }
    }
    t->vroutes = vr;
}

/* The typed query parameter named @a name of route @a vr, or NULL (the
 * loader saw each name once): by length and key, and whole beyond
 * ZT_KEY_MAX bytes. */
static const zt_vparam_t *zt_param_find(const zt_vroute_t *vr,
                                        const zt_span_t *name)
{
    zt_key_t key = zt_name_key(name->ptr, name->len);

    for (uint32_t j = 0; j < vr->nquery; j++) {
        const zt_vparam_t *p = &vr->query[j];

        if (p->len == name->len && p->key.head == key.head
            && p->key.tail == key.tail
            && (p->len <= ZT_KEY_MAX
                || memcmp(p->name, name->ptr, p->len) == 0)) {
            return p;
        }
    }
    return NULL;
}

/* "declared parameters: limit, cursor", or "no query parameters". */
static void zt_declared_query(const zt_table_t *t, const zt_route_rec_t *route,
                              zt_text_t *b)
{
    int listed = 0;

    for (uint32_t k = 0; k < route->param_count; k++) {
        const zt_param_rec_t *p = &t->params[route->param_first + k];
        const char *pn = zt_table_str(t, p->name);

        if (p->where != ZT_PARAM_QUERY || t->types[p->type].kind == ZT_TYPE_ANY) {
            continue;
        }
        if (zt_text_str(b, listed ? ", " : "declared parameters: ") < 0
            || zt_text_esc(b, pn, strlen(pn)) < 0) {
            return;
        }
        listed = 1;
    }
    if (!listed) {
        zt_text_str(b, "no query parameters");
    }
}

/*
** The query in request order: each name declared (unless the route takes
** any), once (unless a list), of its type.  Sets a bit of *seen for each
** declared parameter present, by its place in the route's run (at most
** ZT_MAX_PARAMS): a repeat is a bit already set, and who is missing is
** found without another pass over the query.
*/
static int zt_validate_query(const zt_table_t *t, const zt_route_rec_t *route,
                             const zt_vroute_t *vr, const zt_request_t *rq,
                             uint64_t *seen, zt_violation_t *v)
{
    zt_text_t b;

    for (uint32_t i = 0; i < rq->nquery; i++) {
        const zt_qparam_t *qp = &rq->query[i];
        const zt_vparam_t *decl = zt_param_find(vr, &qp->name);

        if (decl == NULL) {
            if (route->flags & ZT_ROUTE_QUERY_ANY) {
                continue;
            }
            zt_viol(v, ZT_VIOL_QUERY, qp->name.ptr, qp->name.len,
                    "undeclared");
            zt_text_init(&b, v->expected, sizeof(v->expected));
            zt_declared_query(t, route, &b);
            return -1;
        }
        if ((*seen >> decl->k & 1) && !(decl->flags & ZT_PARAM_LIST)) {
            zt_viol(v, ZT_VIOL_QUERY, qp->name.ptr, qp->name.len,
                    "appears twice");
            zt_text_init(&b, v->expected, sizeof(v->expected));
            zt_text_str(&b, "one value (not declared as a list)");
            return -1;
        }
        if (!zt_type_ok(t, decl->type, qp->value.ptr, qp->value.len)) {
            return zt_type_viol(v, t, decl->type, ZT_VIOL_QUERY, qp->name.ptr,
                                qp->name.len, qp->value.ptr, qp->value.len);
        }
        *seen |= UINT64_C(1) << decl->k;
    }
    return 0;
}

/* Does @a s (@a n bytes) hold a control byte?  A word at a time, the
 * last one short (zt_load_n) with its padding masked off. */
static int zt_has_control(const char *s, size_t n)
{
    size_t i = 0;

    for (; n - i >= 8; i += 8) {
        if (zt_controls8(zt_load8(s + i)) != 0) {
            return 1;
        }
    }
    return i < n && (zt_controls8(zt_load_n(s + i, n - i))
                     & (ZT_HIGHS >> (8 * (8 - (n - i))))) != 0;
}

/* Declared parameter @a p is missing. */
static int zt_missing(zt_violation_t *v, const zt_table_t *t,
                      const zt_param_rec_t *p)
{
    const char *pn = zt_table_str(t, p->name);
    zt_text_t b;

    zt_viol(v, p->where == ZT_PARAM_QUERY ? ZT_VIOL_QUERY : ZT_VIOL_HEADER,
            pn, strlen(pn), "missing");
    zt_text_init(&b, v->expected, sizeof(v->expected));
    zt_type_expected(t, &t->types[p->type], &b);
    return -1;
}

/*
** A route with typed headers: its declared parameters in declaration
** order, so that the first violation is the first declared.  A query
** parameter is missing when its bit of @a missing says so (the mask
** zt_validate_request decides with for every route); a header when the
** request has none and it is not optional, and one present must hold no
** control byte and be of its type.
*/
static int zt_validate_params(const zt_table_t *t, const zt_route_rec_t *route,
                              const zt_request_t *rq, uint64_t missing,
                              zt_violation_t *v)
{
    zt_text_t b;

    for (uint32_t k = 0; k < route->param_count; k++) {
        const zt_param_rec_t *p = &t->params[route->param_first + k];
        const char *pn, *hv;
        size_t hn;

        if (p->where == ZT_PARAM_QUERY) {
            if ((missing >> k) & 1) {
                return zt_missing(v, t, p);
            }
            continue;           /* present and checked, optional, or any */
        }
        if (t->types[p->type].kind == ZT_TYPE_ANY) {
            continue;
        }
        pn = zt_table_str(t, p->name);
        hv = rq->header != NULL ? rq->header(rq->header_ctx, pn) : NULL;
        if (hv == NULL) {
            if (p->flags & ZT_PARAM_OPTIONAL) {
                continue;
            }
            return zt_missing(v, t, p);
        }
        hn = strlen(hv);
        if (zt_has_control(hv, hn)) {
            zt_viol(v, ZT_VIOL_HEADER, pn, strlen(pn), NULL);
            zt_text_init(&b, v->found, sizeof(v->found));
            zt_text_value(&b, hv, hn);
            zt_text_init(&b, v->expected, sizeof(v->expected));
            zt_text_str(&b, "no control bytes");
            return -1;
        }
        if (!zt_type_ok(t, p->type, hv, hn)) {
            return zt_type_viol(v, t, p->type, ZT_VIOL_HEADER, pn, strlen(pn),
                                hv, hn);
        }
    }
    return 0;
}

int zt_validate_request(const zt_table_t *t, const zt_request_t *rq,
                        zt_violation_t *v)
{
    const zt_match_t *m = rq->match;
    const zt_route_rec_t *route = &t->routes[m->route];
    const zt_vroute_t *vr = &t->vroutes[m->route];
    uint64_t seen = 0, missing;

    /* typed captures, left to right */
    for (uint32_t c = vr->captures; c != 0; c &= c - 1) {
        uint32_t i = (uint32_t)__builtin_ctz(c);
        const zt_seg_rec_t *s = &t->segs[route->seg_first + i];

        if (i >= m->nseg) {
            break;
        }
        if (!zt_type_ok(t, s->type, m->seg[i].ptr, m->seg[i].len)) {
            const char *name = zt_table_str(t, s->str);

            return zt_type_viol(v, t, s->type, ZT_VIOL_PATH, name,
                                strlen(name), m->seg[i].ptr, m->seg[i].len);
        }
    }
    if (zt_validate_query(t, route, vr, rq, &seen, v) < 0) {
        return -1;
    }
    /* The required query parameters that did not come: this mask alone
     * says which are missing, on every route.  With typed headers, the
     * walk reports them in declaration order among the headers'. */
    missing = vr->required & ~seen;
    if (vr->headers) {
        return zt_validate_params(t, route, rq, missing, v);
    }
    /* Only a query parameter can be missing: the first in declaration
     * order is the lowest bit. */
    if (missing != 0) {
        return zt_missing(v, t, &t->params[route->param_first
                                           + (uint32_t)__builtin_ctzll(missing)]);
    }
    return 0;
}

const char *zt_violation_where(const zt_violation_t *v)
{
    return v->where == ZT_VIOL_PATH ? "path"
           : v->where == ZT_VIOL_QUERY ? "query" : "header";
}

const char *zt_violation_why(const zt_violation_t *v, char *buf, size_t size)
{
    if (size > 0) {
        /* A value is quoted; "missing", "undeclared", "appears twice" not. */
        snprintf(buf, size, "%s%s, expected %s",
                 v->found[0] == '"' ? "found " : "", v->found, v->expected);
    }
    return buf;
}

const char *zt_violation_text(const zt_violation_t *v, char *buf, size_t size)
{
    char why[ZT_VIOLATION_WHY_SIZE];

    if (size > 0) {
        snprintf(buf, size, "%s.%s: %s", zt_violation_where(v), v->name,
                 zt_violation_why(v, why, sizeof(why)));
    }
    return buf;
}

