/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/* Building zpc_ir_t by hand, so that the table tests need no parser.
 *
 *   zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
 *   uint32_t r = zb_route(ir, ZT_M_GET, "/orders/{id}");
 *   zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(in \"orders:read\" token.scope)",
 *           "GET /orders/{id}", 1, r);
 *
 * Conditions are written as S-expressions and lowered in preorder, so
 * children get larger indices than their parents, as the format wants:
 *   (true) (and C C) (or C C) (not C) (eq X Y) (ne X Y)
 *   (in X token.a.b)            IN_CLAIM
 *   (in_list X [Y Z ...])       IN_LIST
 *   (lt X Y) (le X Y) (gt X Y) (ge X Y)
 *   (in_cidr client.ip [10.0.0.0/8 ::1 ...])   IN_CIDR (an address alone
 *                               is /32 or /128)
 * operands: "string" 42 -7 true false token.a.b path.name query.name
 *   header.name client.ip client.cert client.cert.subject client.cert.san
 *   tls.version time.hour time.weekday
 * Path patterns: "/a/{b}/c", "/a/{id:uuid}" (a typed capture: see
 * zb_typename), "/a/x/any" and "/files/any-tail" -- a segment "*" or "**".
 * Malformed input aborts: these are fixtures, not user input. */
#ifndef ZT_IR_BUILD_H
#define ZT_IR_BUILD_H

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "zpc_ir.h"

static inline void zb_die(const char *what, const char *at)
{
    fprintf(stderr, "zt_ir_build: %s at '%s'\n", what, at);
    abort();
}

static inline zpc_ir_t *zb_new(apr_pool_t *p, const char *name,
                               const char *source)
{
    zpc_ir_t *ir = apr_pcalloc(p, sizeof(*ir));

    ir->name = name;
    ir->source = source;
    ir->issuers = apr_array_make(p, 2, sizeof(zpc_ir_issuer_t));
    ir->routes = apr_array_make(p, 8, sizeof(zpc_ir_route_t));
    ir->rules = apr_array_make(p, 8, sizeof(zpc_ir_rule_t));
    ir->nodes = apr_array_make(p, 16, sizeof(zpc_ir_node_t));
    ir->opnds = apr_array_make(p, 16, sizeof(zpc_ir_opnd_t));
    ir->lists = apr_array_make(p, 4, sizeof(uint32_t));
    ir->cidrs = apr_array_make(p, 2, sizeof(zpc_ir_cidr_t));
    ir->stepups = apr_array_make(p, 2, sizeof(zpc_ir_stepup_t));
    ir->limits = apr_array_make(p, 2, sizeof(zpc_ir_limit_t));
    ir->tests = apr_array_make(p, 2, sizeof(zpc_ir_test_t));
    return ir;
}

static inline apr_pool_t *zb_pool(zpc_ir_t *ir)
{
    return ir->routes->pool;
}

/* An issuer with a jwks file (see zb_issuer_keys for the other sources). */
static inline uint32_t zb_issuer(zpc_ir_t *ir, const char *name,
                                 const char *iss, const char *aud,
                                 uint32_t algs, const char *jwks,
                                 uint32_t max_lifetime, uint32_t leeway)
{
    zpc_ir_issuer_t *s = &APR_ARRAY_PUSH(ir->issuers, zpc_ir_issuer_t);

    memset(s, 0, sizeof(*s));
    s->name = name;
    s->iss = iss;
    s->audience = aud;
    s->algs = algs;
    s->jwks_kind = ZT_JWKS_FILE;
    s->jwks = jwks;
    s->max_lifetime = max_lifetime;
    s->leeway = leeway;
    s->line = (uint32_t)ir->issuers->nelts + 2;
    return (uint32_t)ir->issuers->nelts - 1;
}

/* Issuer @a i's key sources: jwks kind and text (a path or URL; NULL for
 * discover / none), HS* secret file (or NULL), refresh and refetch_min. */
static inline void zb_issuer_keys(zpc_ir_t *ir, uint32_t i, uint32_t kind,
                                  const char *jwks, const char *secret,
                                  uint32_t refresh, uint32_t refetch_min)
{
    zpc_ir_issuer_t *s = &APR_ARRAY_IDX(ir->issuers, i, zpc_ir_issuer_t);

    s->jwks_kind = kind;
    s->jwks = jwks;
    s->secret = secret;
    s->refresh = refresh;
    s->refetch_min = refetch_min;
}

/* Issuer @a i's claim checks: typ (or NULL) and space-separated required
 * claim names (or NULL). */
static inline void zb_issuer_claims(zpc_ir_t *ir, uint32_t i, const char *typ,
                                    const char *required)
{
    apr_pool_t *p = zb_pool(ir);
    zpc_ir_issuer_t *s = &APR_ARRAY_IDX(ir->issuers, i, zpc_ir_issuer_t);
    char *copy, *last, *w;

    s->typ = typ;
    s->required = NULL;
    if (required == NULL) {
        return;
    }
    s->required = apr_array_make(p, 4, sizeof(const char *));
    copy = apr_pstrdup(p, required);
    for (w = apr_strtok(copy, " ", &last); w != NULL; w = apr_strtok(NULL, " ", &last)) {
        APR_ARRAY_PUSH(s->required, const char *) = w;
    }
}

/* A value type; @a values is space-separated (ENUM), else NULL. */
static inline zpc_ir_type_t *zb_type(zpc_ir_t *ir, uint32_t kind, int64_t min,
                                     int64_t max, const char *regex,
                                     const char *values)
{
    apr_pool_t *p = zb_pool(ir);
    zpc_ir_type_t *t = apr_pcalloc(p, sizeof(*t));
    char *copy, *last, *w;

    t->kind = kind;
    t->min = min;
    t->max = max;
    t->regex = regex;
    if (values != NULL) {
        t->values = apr_array_make(p, 4, sizeof(const char *));
        copy = apr_pstrdup(p, values);
        for (w = apr_strtok(copy, " ", &last); w != NULL;
             w = apr_strtok(NULL, " ", &last)) {
            APR_ARRAY_PUSH(t->values, const char *) = w;
        }
    }
    return t;
}

/* The type named in a capture "{id:NAME}": uuid, int (0..1000000), bool,
 * number, or a string of 1..64 bytes. */
static inline zpc_ir_type_t *zb_typename(zpc_ir_t *ir, const char *name)
{
    if (strcmp(name, "uuid") == 0) {
        return zb_type(ir, ZT_TYPE_UUID, 0, 0, NULL, NULL);
    }
    if (strcmp(name, "int") == 0) {
        return zb_type(ir, ZT_TYPE_INT, 0, 1000000, NULL, NULL);
    }
    if (strcmp(name, "bool") == 0) {
        return zb_type(ir, ZT_TYPE_BOOL, 0, 0, NULL, NULL);
    }
    if (strcmp(name, "number") == 0) {
        return zb_type(ir, ZT_TYPE_NUMBER, 0, 0, NULL, NULL);
    }
    if (strcmp(name, "string") == 0) {
        return zb_type(ir, ZT_TYPE_STRING, 1, 64, NULL, NULL);
    }
    zb_die("unknown type", name);
    return NULL;
}

/* "/a/{b}/c": literal, capture, "*" and "**" segments; "/" has none. */
static inline uint32_t zb_route(zpc_ir_t *ir, uint32_t method,
                                const char *pattern)
{
    apr_pool_t *p = zb_pool(ir);
    zpc_ir_route_t *r = &APR_ARRAY_PUSH(ir->routes, zpc_ir_route_t);
    const char *s = pattern + 1;

    memset(r, 0, sizeof(*r));
    r->methods = method;
    r->pattern = pattern;
    r->segs = apr_array_make(p, 4, sizeof(zpc_ir_seg_t));
    r->rules = apr_array_make(p, 4, sizeof(uint32_t));
    r->params = apr_array_make(p, 2, sizeof(zpc_ir_param_t));
    r->limits = apr_array_make(p, 2, sizeof(uint32_t));
    r->stepup = -1;
    r->file = ir->source;
    r->line = 10 + (uint32_t)ir->routes->nelts;
    while (*s != '\0') {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        zpc_ir_seg_t *g = &APR_ARRAY_PUSH(r->segs, zpc_ir_seg_t);
        memset(g, 0, sizeof(*g));
        if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
            const char *colon = memchr(s, ':', n);
            g->kind = ZT_SEG_CAPTURE;
            if (colon != NULL) {
                g->text = apr_pstrndup(p, s + 1, (size_t)(colon - s - 1));
                g->type = zb_typename(ir, apr_pstrndup(p, colon + 1,
                                      (size_t)(s + n - 1 - colon - 1)));
            }
            else {
                g->text = apr_pstrndup(p, s + 1, n - 2);
            }
        }
        else if (n == 1 && s[0] == '*') {
            g->kind = ZT_SEG_STAR;
        }
        else if (n == 2 && s[0] == '*' && s[1] == '*') {
            g->kind = ZT_SEG_GLOBSTAR;
        }
        else {
            g->kind = ZT_SEG_LITERAL;
            g->text = apr_pstrndup(p, s, n);
        }
        s += n;
        if (*s == '/') {
            s++;
        }
    }
    return (uint32_t)ir->routes->nelts - 1;
}

static inline zpc_ir_route_t *zb_route_at(zpc_ir_t *ir, uint32_t route)
{
    return &APR_ARRAY_IDX(ir->routes, route, zpc_ir_route_t);
}

/* A query or header parameter of @a route. */
static inline void zb_param(zpc_ir_t *ir, uint32_t route, uint32_t where,
                            const char *name, zpc_ir_type_t *type,
                            uint32_t flags)
{
    zpc_ir_param_t *q = &APR_ARRAY_PUSH(zb_route_at(ir, route)->params,
                                        zpc_ir_param_t);

    q->where = where;
    q->name = name;
    q->type = type;
    q->flags = flags;
}

/* The request body of @a route; @a schema (or NULL) is the file's text. */
static inline zpc_ir_body_t *zb_body(zpc_ir_t *ir, uint32_t route,
                                     uint32_t kind, uint32_t max,
                                     const char *schema_name,
                                     const char *schema, const char *root)
{
    zpc_ir_body_t *b = apr_pcalloc(zb_pool(ir), sizeof(*b));

    b->kind = kind;
    b->max = max;
    b->schema_name = schema_name;
    b->schema = schema;
    b->schema_len = schema != NULL ? strlen(schema) : 0;
    b->root = root;
    zb_route_at(ir, route)->body = b;
    return b;
}

/* A step-up requirement (acr values space-separated, or NULL) on the
 * routes that follow (@a nroutes route indices). */
static inline uint32_t zb_stepup(zpc_ir_t *ir, const char *acr,
                                 uint32_t max_age, int nroutes, ...)
{
    apr_pool_t *p = zb_pool(ir);
    zpc_ir_stepup_t *s = &APR_ARRAY_PUSH(ir->stepups, zpc_ir_stepup_t);
    uint32_t idx = (uint32_t)ir->stepups->nelts - 1;
    char *last, *w;
    va_list ap;

    s->acr = apr_array_make(p, 2, sizeof(const char *));
    for (w = acr ? apr_strtok(apr_pstrdup(p, acr), " ", &last) : NULL; w != NULL;
         w = apr_strtok(NULL, " ", &last)) {
        APR_ARRAY_PUSH(s->acr, const char *) = w;
    }
    s->max_age = max_age;
    s->file = ir->source;
    s->line = 200 + idx;
    va_start(ap, nroutes);
    for (int k = 0; k < nroutes; k++) {
        zb_route_at(ir, va_arg(ap, uint32_t))->stepup = (int32_t)idx;
    }
    va_end(ap);
    return idx;
}

/* A rate limit on the routes that follow; add limits in order, so each
 * route's list stays ascending. */
static inline uint32_t zb_limit(zpc_ir_t *ir, uint32_t count, uint32_t period,
                                uint32_t key, int nroutes, ...)
{
    zpc_ir_limit_t *l = &APR_ARRAY_PUSH(ir->limits, zpc_ir_limit_t);
    uint32_t idx = (uint32_t)ir->limits->nelts - 1;
    va_list ap;

    l->count = count;
    l->period = period;
    l->key = key;
    l->file = ir->source;
    l->line = 300 + idx;
    va_start(ap, nroutes);
    for (int k = 0; k < nroutes; k++) {
        APR_ARRAY_PUSH(zb_route_at(ir, va_arg(ap, uint32_t))->limits,
                       uint32_t) = idx;
    }
    va_end(ap);
    return idx;
}

/* "10.0.0.0/8", "2001:db8::/32", "::1" -> a CIDR record's index. */
static inline uint32_t zb_cidr(zpc_ir_t *ir, const char *text)
{
    apr_pool_t *p = zb_pool(ir);
    zpc_ir_cidr_t *c = &APR_ARRAY_PUSH(ir->cidrs, zpc_ir_cidr_t);
    const char *slash = strchr(text, '/');
    char *addr = slash ? apr_pstrndup(p, text, (size_t)(slash - text))
                       : apr_pstrdup(p, text);

    memset(c, 0, sizeof(*c));
    if (inet_pton(AF_INET, addr, c->addr) == 1) {
        c->family = 4;
    }
    else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
        c->family = 6;
    }
    else {
        zb_die("bad address", text);
    }
    c->prefix = (uint8_t)(slash ? atoi(slash + 1) : (c->family == 4 ? 32 : 128));
    return (uint32_t)ir->cidrs->nelts - 1;
}

static inline uint32_t zb_node_raw(zpc_ir_t *ir, uint32_t op, uint32_t a,
                                   uint32_t b, uint32_t c)
{
    zpc_ir_node_t *n = &APR_ARRAY_PUSH(ir->nodes, zpc_ir_node_t);

    n->op = op;
    n->a = a;
    n->b = b;
    n->c = c;
    return (uint32_t)ir->nodes->nelts - 1;
}

static inline uint32_t zb_opnd(zpc_ir_t *ir, uint32_t kind, const char *str,
                               int64_t num)
{
    zpc_ir_opnd_t *o = &APR_ARRAY_PUSH(ir->opnds, zpc_ir_opnd_t);

    memset(o, 0, sizeof(*o));
    o->kind = kind;
    o->str = str;
    o->num = num;
    return (uint32_t)ir->opnds->nelts - 1;
}

/* "a.b.c" -> a TOKEN operand with three parts */
static inline uint32_t zb_token(zpc_ir_t *ir, const char *path)
{
    apr_pool_t *p = zb_pool(ir);
    uint32_t i = zb_opnd(ir, ZT_OPND_TOKEN, NULL, 0);
    apr_array_header_t *parts = apr_array_make(p, 4, sizeof(const char *));
    const char *s = path;

    for (;;) {
        const char *e = strchr(s, '.');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrndup(p, s, n);
        if (e == NULL) {
            break;
        }
        s = e + 1;
    }
    APR_ARRAY_IDX(ir->opnds, i, zpc_ir_opnd_t).parts = parts;
    return i;
}

static inline void zb_skip(const char **s)
{
    while (isspace((unsigned char)**s)) {
        (*s)++;
    }
}

static inline int zb_word(const char **s, const char *w)
{
    size_t n = strlen(w);

    zb_skip(s);
    if (strncmp(*s, w, n) == 0 && !isalnum((unsigned char)(*s)[n])
        && (*s)[n] != '_' && (*s)[n] != '.') {
        *s += n;
        return 1;
    }
    return 0;
}

static inline uint32_t zb_parse_opnd(zpc_ir_t *ir, const char **s)
{
    apr_pool_t *p = zb_pool(ir);
    const char *q;

    zb_skip(s);
    q = *s;
    if (*q == '"') {
        const char *e = strchr(q + 1, '"');
        if (e == NULL) {
            zb_die("unterminated string", q);
        }
        *s = e + 1;
        return zb_opnd(ir, ZT_OPND_STR, apr_pstrndup(p, q + 1, (size_t)(e - q - 1)), 0);
    }
    if (*q == '-' || isdigit((unsigned char)*q)) {
        char *end;
        long long v = strtoll(q, &end, 10);
        *s = end;
        return zb_opnd(ir, ZT_OPND_INT, NULL, v);
    }
    if (zb_word(s, "true")) {
        return zb_opnd(ir, ZT_OPND_BOOL, NULL, 1);
    }
    if (zb_word(s, "false")) {
        return zb_opnd(ir, ZT_OPND_BOOL, NULL, 0);
    }
    {
        static const struct { const char *word; uint32_t kind; } req[] = {
            { "client.ip", ZT_OPND_CLIENT_IP },
            { "client.cert.subject", ZT_OPND_CERT_SUBJECT },
            { "client.cert.san", ZT_OPND_CERT_SAN },
            { "client.cert", ZT_OPND_CERT },
            { "tls.version", ZT_OPND_TLS_VERSION },
            { "time.hour", ZT_OPND_TIME_HOUR },
            { "time.weekday", ZT_OPND_TIME_WEEKDAY },
        };
        for (size_t k = 0; k < sizeof(req) / sizeof(req[0]); k++) {
            if (zb_word(s, req[k].word)) {
                return zb_opnd(ir, req[k].kind, NULL, 0);
            }
        }
    }
    if (strncmp(q, "query.", 6) == 0 || strncmp(q, "header.", 7) == 0) {
        int query = q[0] == 'q';
        const char *b = q + (query ? 6 : 7), *e = b;
        while (*e != '\0' && !isspace((unsigned char)*e) && *e != ')' && *e != ']') {
            e++;
        }
        *s = e;
        return zb_opnd(ir, query ? ZT_OPND_QUERY : ZT_OPND_HEADER,
                       apr_pstrndup(p, b, (size_t)(e - b)), 0);
    }
    if (strncmp(q, "token.", 6) == 0 || strncmp(q, "path.", 5) == 0) {
        int tok = q[0] == 't';
        const char *b = q + (tok ? 6 : 5), *e = b;
        while (*e != '\0' && !isspace((unsigned char)*e) && *e != ')' && *e != ']') {
            e++;
        }
        *s = e;
        if (tok) {
            return zb_token(ir, apr_pstrndup(p, b, (size_t)(e - b)));
        }
        return zb_opnd(ir, ZT_OPND_PATH, apr_pstrndup(p, b, (size_t)(e - b)), 0);
    }
    zb_die("bad operand", q);
    return 0;
}

static inline void zb_expect(const char **s, char c)
{
    zb_skip(s);
    if (**s != c) {
        char what[] = "expected 'x'";
        what[10] = c;
        zb_die(what, *s);
    }
    (*s)++;
}

static inline uint32_t zb_parse_cond(zpc_ir_t *ir, const char **s)
{
    uint32_t i = zb_node_raw(ir, ZT_OP_TRUE, 0, 0, 0);   /* preorder slot */
    zpc_ir_node_t n = { ZT_OP_TRUE, 0, 0, 0 };

    zb_expect(s, '(');
    if (zb_word(s, "true")) {
        /* all fields 0 */
    }
    else if (zb_word(s, "and") || zb_word(s, "or")) {
        n.op = (*s)[-1] == 'd' ? ZT_OP_AND : ZT_OP_OR;
        n.a = zb_parse_cond(ir, s);
        n.b = zb_parse_cond(ir, s);
    }
    else if (zb_word(s, "not")) {
        n.op = ZT_OP_NOT;
        n.a = zb_parse_cond(ir, s);
    }
    else if (zb_word(s, "eq") || zb_word(s, "ne")) {
        n.op = (*s)[-2] == 'e' ? ZT_OP_EQ : ZT_OP_NE;
        n.a = zb_parse_opnd(ir, s);
        n.b = zb_parse_opnd(ir, s);
    }
    else if (zb_word(s, "in_list")) {
        n.op = ZT_OP_IN_LIST;
        n.a = zb_parse_opnd(ir, s);
        zb_expect(s, '[');
        /* operands first, then their list entries, kept contiguous */
        {
            uint32_t tmp[64], k = 0;
            zb_skip(s);
            while (**s != ']') {
                if (k == 64) {
                    zb_die("list too long", *s);
                }
                tmp[k++] = zb_parse_opnd(ir, s);
                zb_skip(s);
            }
            (*s)++;
            n.b = (uint32_t)ir->lists->nelts;
            n.c = k;
            for (uint32_t j = 0; j < k; j++) {
                APR_ARRAY_PUSH(ir->lists, uint32_t) = tmp[j];
            }
        }
    }
    else if (zb_word(s, "lt") || zb_word(s, "le") || zb_word(s, "gt")
             || zb_word(s, "ge")) {
        static const char *const ops = "ltlegtge";
        char w[3] = { (*s)[-2], (*s)[-1], '\0' };
        n.op = ZT_OP_LT + (uint32_t)((strstr(ops, w) - ops) / 2);
        n.a = zb_parse_opnd(ir, s);
        n.b = zb_parse_opnd(ir, s);
    }
    else if (zb_word(s, "in_cidr")) {
        n.op = ZT_OP_IN_CIDR;
        n.a = zb_parse_opnd(ir, s);
        zb_expect(s, '[');
        n.b = (uint32_t)ir->cidrs->nelts;
        zb_skip(s);
        while (**s != ']') {
            const char *b = *s;
            while (**s != '\0' && !isspace((unsigned char)**s) && **s != ']') {
                (*s)++;
            }
            zb_cidr(ir, apr_pstrndup(zb_pool(ir), b, (size_t)(*s - b)));
            n.c++;
            zb_skip(s);
        }
        (*s)++;
    }
    else if (zb_word(s, "in")) {
        n.op = ZT_OP_IN_CLAIM;
        n.a = zb_parse_opnd(ir, s);
        n.b = zb_parse_opnd(ir, s);
    }
    else {
        zb_die("unknown condition", *s);
    }
    zb_expect(s, ')');
    APR_ARRAY_IDX(ir->nodes, i, zpc_ir_node_t) = n;
    return i;
}

/* A condition from its S-expression; NULL or "" is ZT_NONE (always). */
static inline uint32_t zb_cond(zpc_ir_t *ir, const char *src)
{
    const char *s = src;
    uint32_t i;

    if (src == NULL || *src == '\0') {
        return ZT_NONE;
    }
    i = zb_parse_cond(ir, &s);
    zb_skip(&s);
    if (*s != '\0') {
        zb_die("trailing text", s);
    }
    return i;
}

/* A rule applying to @a nroutes routes (route indices follow).  Rules must
 * be added in order, so each route's rule list stays ascending. */
static inline uint32_t zb_rule(zpc_ir_t *ir, uint32_t effect, uint32_t flags,
                               const char *cond, const char *text,
                               int nroutes, ...)
{
    zpc_ir_rule_t *r;
    uint32_t idx, c = zb_cond(ir, cond);
    va_list ap;

    r = &APR_ARRAY_PUSH(ir->rules, zpc_ir_rule_t);
    idx = (uint32_t)ir->rules->nelts - 1;
    r->effect = effect;
    r->flags = flags;
    r->cond = c;
    r->file = ir->source;
    r->line = 100 + idx;
    r->text = text;
    va_start(ap, nroutes);
    for (int k = 0; k < nroutes; k++) {
        uint32_t ri = va_arg(ap, uint32_t);
        zpc_ir_route_t *rt = &APR_ARRAY_IDX(ir->routes, ri, zpc_ir_route_t);
        APR_ARRAY_PUSH(rt->rules, uint32_t) = idx;
    }
    va_end(ap);
    return idx;
}

/* The example policy, examples/orders/orders.ztp, lowered by hand. */
static inline zpc_ir_t *zb_orders(apr_pool_t *p)
{
    zpc_ir_t *ir = zb_new(p, "orders-api", "examples/orders/orders.ztp");
    uint32_t health, list, get, post, del, user;

    zb_issuer(ir, "corp", "https://idp.example.com/realms/corp", "orders-api",
              ZT_ALG_ES256 | ZT_ALG_RS256 | ZT_ALG_EDDSA, "corp.jwks.json",
              900, 30);
    health = zb_route(ir, ZT_M_GET, "/health");
    list = zb_route(ir, ZT_M_GET, "/orders");
    get = zb_route(ir, ZT_M_GET, "/orders/{id}");
    post = zb_route(ir, ZT_M_POST, "/orders");
    del = zb_route(ir, ZT_M_DELETE, "/orders/{id}");
    user = zb_route(ir, ZT_M_GET, "/users/{uid}/orders");

    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, NULL, "GET /health", 1, health);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(in \"orders:read\" token.scope)",
            "GET /orders, GET /orders/{id}", 2, list, get);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(in \"orders:write\" token.scope)",
            "POST /orders", 1, post);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0,
            "(and (in \"admin\" token.realm_access.roles)"
            "     (not (eq token.azp \"web-spa\")))",
            "DELETE /orders/{id}", 1, del);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0,
            "(or (eq token.sub path.uid) (in \"admin\" token.realm_access.roles))",
            "GET /users/{uid}/orders", 1, user);
    zb_rule(ir, ZT_EFFECT_DENY, 0, "(in_list token.azp [\"legacy-batch\"])",
            "* /orders/**", 4, list, get, post, del);
    return ir;
}

/* The example policy and, on routes of their own, every part of format v2:
 * `*` and `**`, typed captures, query and header parameters of every type,
 * JSON and XML bodies with schemas, step-ups, rate limits, address blocks,
 * orderings and every request operand.  Routes 6.., rules 6.. */
static inline zpc_ir_t *zb_full(apr_pool_t *p)
{
    zpc_ir_t *ir = zb_orders(p);
    uint32_t files, items, search, put, xml, cert;

    ir->name = "full";
    files = zb_route(ir, ZT_M_GET, "/files/**");
    items = zb_route(ir, ZT_M_GET, "/items/*/meta");
    search = zb_route(ir, ZT_M_GET, "/search");
    put = zb_route(ir, ZT_M_PUT, "/docs/{id:uuid}");
    xml = zb_route(ir, ZT_M_POST, "/docs/{id:uuid}/xml/{n:int}");
    cert = zb_route(ir, ZT_M_GET, "/cert/{name}");
    zb_route_at(ir, files)->flags = ZT_ROUTE_QUERY_ANY;

    zb_param(ir, search, ZT_PARAM_QUERY, "q",
             zb_type(ir, ZT_TYPE_STRING, 1, 64, "[a-z]+", NULL), 0);
    zb_param(ir, search, ZT_PARAM_QUERY, "limit",
             zb_type(ir, ZT_TYPE_INT, 1, 100, NULL, NULL), ZT_PARAM_OPTIONAL);
    zb_param(ir, search, ZT_PARAM_QUERY, "tag",
             zb_type(ir, ZT_TYPE_ENUM, 0, 0, NULL, "red green blue"),
             ZT_PARAM_OPTIONAL | ZT_PARAM_LIST);
    zb_param(ir, search, ZT_PARAM_QUERY, "exact",
             zb_type(ir, ZT_TYPE_BOOL, 0, 0, NULL, NULL), ZT_PARAM_OPTIONAL);
    zb_param(ir, search, ZT_PARAM_QUERY, "score",
             zb_type(ir, ZT_TYPE_NUMBER, 0, 0, NULL, NULL), ZT_PARAM_OPTIONAL);
    zb_param(ir, search, ZT_PARAM_HEADER, "x-tenant",
             zb_type(ir, ZT_TYPE_STRING, 1, 64, NULL, NULL), 0);
    zb_param(ir, search, ZT_PARAM_HEADER, "x-request-id",
             zb_type(ir, ZT_TYPE_UUID, 0, 0, NULL, NULL), ZT_PARAM_OPTIONAL);
    zb_param(ir, files, ZT_PARAM_QUERY, "v",
             zb_type(ir, ZT_TYPE_ANY, 0, 0, NULL, NULL), ZT_PARAM_OPTIONAL);
    zb_body(ir, put, ZT_BODY_JSON, 65536, "doc.schema.json",
            "{\"type\":\"object\",\"required\":[\"title\"]}\n", NULL);
    zb_body(ir, xml, ZT_BODY_XML, 1024, "doc.xsd",
            "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"/>\n", "doc");

    zb_stepup(ir, "gold platinum", 300, 1, 4);     /* DELETE /orders/{id} */
    zb_stepup(ir, NULL, 600, 1, put);
    zb_limit(ir, 100, 60, ZT_LIMIT_SUB, 2, 1, 2);
    zb_limit(ir, 10, 1, ZT_LIMIT_IP, 2, 2, put);
    zb_limit(ir, 5000, 3600, ZT_LIMIT_AZP, 1, put);

    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC,
            "(in_cidr client.ip [10.0.0.0/8 2001:db8::/32 192.168.1.7])",
            "GET /files/**", 1, files);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0,
            "(and (ge time.hour 8) (lt time.hour 18))", "GET /items/*/meta", 1, items);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0,
            "(and (eq header.x-tenant \"t1\") (eq query.q \"abc\"))",
            "GET /search", 1, search);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0,
            "(and (eq client.cert true) (in \"spiffe://corp/svc-a\" client.cert.san))",
            "PUT /docs/{id}", 1, put);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0,
            "(or (in_list tls.version [\"TLSv1.2\" \"TLSv1.3\"])"
            "    (eq client.cert.subject \"CN=svc\"))",
            "POST /docs/{id}/xml/{n}", 1, xml);
    zb_rule(ir, ZT_EFFECT_DENY, 0, "(in_list time.weekday [\"sun\"])",
            "GET /files/**, GET /items/*/meta", 2, files, items);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(and (gt token.level 1) (le token.level 3))",
            "GET /items/*/meta", 1, items);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0,
            "(in_list client.cert.san [\"spiffe://corp/svc-b\"])", "GET /cert/{name}",
            1, cert);
    zb_rule(ir, ZT_EFFECT_DENY, 0, "(not (in_cidr client.ip [::1 127.0.0.0/8]))",
            "GET /cert/{name}", 1, cert);
    return ir;
}

#endif /* ZT_IR_BUILD_H */
