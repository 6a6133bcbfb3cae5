/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Lowering a checked tree to the IR (zpc_ir.h), and the front end's entry
 * points zpc_compile_file() and zpc_compile_string().
 *
 * - Everything the checker judged (types, parameters, bodies, step-ups,
 *   limits, tests, address blocks) is copied into the IR's pool; routes,
 *   rules, step-ups and limits keep the file they were written in.
 * - An ordering on tls.version becomes an IN_LIST of the versions that
 *   satisfy it; client.ip in [...] an IN_CIDR.
 * - Routes and rules keep source order; a route's rule list holds, in
 *   ascending order, every rule with a target that covers it.  Method '*'
 *   covers every method; a target ending in '**' covers the routes whose
 *   pattern begins with the segments before it, that prefix itself
 *   included: ** after /orders covers /orders, /orders/{id}, ...
 * - Conditions: `when C` is C, `unless C` is NOT(C), no condition is
 *   cond ZT_NONE; `public`, with a condition or without, sets
 *   ZT_RULE_PUBLIC.
 *   A let is expanded in place at each use.  Nodes are numbered in
 *   pre-order (a parent's slot is reserved before its children are
 *   lowered), so every child index is greater than its parent's.
 * - Operands are shared: two equal operands get one index.
 *
 * Parsing and checking run in a pool of their own; the IR is copied into
 * the caller's pool and the rest is dropped as soon as the compile ends.
 */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "zpc_ast.h"
#include "zpc_front.h"

typedef struct {
    apr_pool_t *pool;           /* the IR's pool */
    apr_pool_t *tmp;
    zpc_ir_t *ir;
    apr_hash_t *opnds;          /* key -> index + 1 (as uintptr_t) */
} zpc_lower_t;

static const char *zpc_dup(zpc_lower_t *l, const char *s)
{
    return s != NULL ? apr_pstrdup(l->pool, s) : NULL;
}

/* Header names are compared without case: the IR holds them lower case. */
static const char *zpc_lower_case(apr_pool_t *pool, const char *s)
{
    char *d = apr_pstrdup(pool, s);

    for (char *p = d; *p != '\0'; p++) {
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    }
    return d;
}

/* An array of strings, copied into the IR's pool. */
static apr_array_header_t *zpc_dup_strs(zpc_lower_t *l, const apr_array_header_t *a)
{
    apr_array_header_t *o;

    if (a == NULL) {
        return NULL;
    }
    o = apr_array_make(l->pool, a->nelts, sizeof(const char *));
    for (int i = 0; i < a->nelts; i++) {
        APR_ARRAY_PUSH(o, const char *) = zpc_dup(l, APR_ARRAY_IDX(a, i, const char *));
    }
    return o;
}

/* The index of operand @a o, added to the IR unless an equal one is there. */
static uint32_t zpc_lower_opnd(zpc_lower_t *l, const zpc_ast_opnd_t *o)
{
    zpc_ir_opnd_t *io;
    char *key;
    apr_size_t klen;
    uintptr_t found;

    switch (o->zt_kind) {
    case ZT_OPND_TOKEN: {
        /* the parts after "token.", NUL-separated: no part contains a NUL */
        apr_size_t len = 2;
        for (int i = 1; i < o->parts->nelts; i++) {
            len += strlen(APR_ARRAY_IDX(o->parts, i, const char *)) + 1;
        }
        key = apr_palloc(l->tmp, len);
        key[0] = 'T';
        klen = 1;
        for (int i = 1; i < o->parts->nelts; i++) {
            const char *p = APR_ARRAY_IDX(o->parts, i, const char *);
            size_t n = strlen(p) + 1;
            memcpy(key + klen, p, n);
            klen += n;
        }
        break;
    }
    case ZT_OPND_PATH:
        key = apr_pstrcat(l->tmp, "P", APR_ARRAY_IDX(o->parts, 1, const char *), NULL);
        klen = strlen(key);
        break;
    case ZT_OPND_STR:
        key = apr_pstrcat(l->tmp, "S", o->str, NULL);
        klen = strlen(key);
        break;
    case ZT_OPND_QUERY:
        key = apr_pstrcat(l->tmp, "Q", APR_ARRAY_IDX(o->parts, 1, const char *), NULL);
        klen = strlen(key);
        break;
    case ZT_OPND_HEADER:
        key = apr_pstrcat(l->tmp, "H", zpc_lower_case(l->tmp, o->str), NULL);
        klen = strlen(key);
        break;
    case ZT_OPND_INT:
    case ZT_OPND_BOOL:
        /* snprintf: APR's formatter has no %lld */
        key = apr_palloc(l->tmp, 32);
        klen = (apr_size_t)snprintf(key, 32, "%c%lld",
                                    o->zt_kind == ZT_OPND_INT ? 'I' : 'B',
                                    (long long)o->num);
        break;
    default:            /* the request's own values: one of each */
        key = apr_psprintf(l->tmp, "R%u", (unsigned)o->zt_kind);
        klen = strlen(key);
        break;
    }
    found = (uintptr_t)apr_hash_get(l->opnds, key, (apr_ssize_t)klen);
    if (found != 0) {
        return (uint32_t)(found - 1);
    }
    io = apr_array_push(l->ir->opnds);
    memset(io, 0, sizeof(*io));
    io->kind = o->zt_kind;
    switch (o->zt_kind) {
    case ZT_OPND_TOKEN:
        io->parts = apr_array_make(l->pool, o->parts->nelts - 1, sizeof(const char *));
        for (int i = 1; i < o->parts->nelts; i++) {
            APR_ARRAY_PUSH(io->parts, const char *) =
                zpc_dup(l, APR_ARRAY_IDX(o->parts, i, const char *));
        }
        break;
    case ZT_OPND_PATH:
        io->str = zpc_dup(l, APR_ARRAY_IDX(o->parts, 1, const char *));
        break;
    case ZT_OPND_STR:
        io->str = zpc_dup(l, o->str);
        break;
    case ZT_OPND_QUERY:
        io->str = zpc_dup(l, APR_ARRAY_IDX(o->parts, 1, const char *));
        break;
    case ZT_OPND_HEADER:
        io->str = zpc_lower_case(l->pool, o->str);
        break;
    case ZT_OPND_INT:
    case ZT_OPND_BOOL:
        io->num = o->num;
        break;
    default:
        break;
    }
    apr_hash_set(l->opnds, key, (apr_ssize_t)klen,
                 (void *)(uintptr_t)l->ir->opnds->nelts);
    return (uint32_t)(l->ir->opnds->nelts - 1);
}

static uint32_t zpc_lower_node(zpc_lower_t *l, uint32_t op)
{
    zpc_ir_node_t *n = apr_array_push(l->ir->nodes);

    memset(n, 0, sizeof(*n));
    n->op = op;
    return (uint32_t)(l->ir->nodes->nelts - 1);
}

#define ZPC_NODE(l, i) (&APR_ARRAY_IDX((l)->ir->nodes, (i), zpc_ir_node_t))

/* tls.version >= "TLSv1.2": IN_LIST of the versions zpc_check found. */
static uint32_t zpc_lower_versions(zpc_lower_t *l, const zpc_ast_expr_t *e)
{
    uint32_t first = (uint32_t)l->ir->lists->nelts, i, a;
    const zpc_ast_opnd_t *v = e->lhs->zt_kind == ZT_OPND_TLS_VERSION ? e->lhs : e->rhs;

    i = zpc_lower_node(l, ZT_OP_IN_LIST);
    a = zpc_lower_opnd(l, v);
    for (int k = 0; k < e->versions->nelts; k++) {
        zpc_ast_opnd_t s;
        memset(&s, 0, sizeof(s));
        s.kind = ZPC_OPND_STR;
        s.zt_kind = ZT_OPND_STR;
        s.str = APR_ARRAY_IDX(e->versions, k, const char *);
        APR_ARRAY_PUSH(l->ir->lists, uint32_t) = zpc_lower_opnd(l, &s);
    }
    ZPC_NODE(l, i)->a = a;
    ZPC_NODE(l, i)->b = first;
    ZPC_NODE(l, i)->c = (uint32_t)e->versions->nelts;
    return i;
}

/* Lower @a e; returns its root.  The checker bounded the depth. */
static uint32_t zpc_lower_expr(zpc_lower_t *l, const zpc_ast_expr_t *e)
{
    uint32_t i, a, b, c;

    switch (e->kind) {
    case ZPC_EXPR_REF:
        return zpc_lower_expr(l, e->let->expr);
    case ZPC_EXPR_AND:
    case ZPC_EXPR_OR:
        i = zpc_lower_node(l, e->kind == ZPC_EXPR_AND ? ZT_OP_AND : ZT_OP_OR);
        a = zpc_lower_expr(l, e->a);
        b = zpc_lower_expr(l, e->b);
        ZPC_NODE(l, i)->a = a;
        ZPC_NODE(l, i)->b = b;
        return i;
    case ZPC_EXPR_NOT:
        i = zpc_lower_node(l, ZT_OP_NOT);
        a = zpc_lower_expr(l, e->a);
        ZPC_NODE(l, i)->a = a;
        return i;
    case ZPC_EXPR_LT: case ZPC_EXPR_LE: case ZPC_EXPR_GT: case ZPC_EXPR_GE:
        if (e->lowered_op == ZT_OP_IN_LIST) {
            return zpc_lower_versions(l, e);
        }
        /* fall through */
    case ZPC_EXPR_EQ:
    case ZPC_EXPR_NE:
    case ZPC_EXPR_IN: {
        static const uint32_t ops[] = {
            [ZPC_EXPR_EQ] = ZT_OP_EQ, [ZPC_EXPR_NE] = ZT_OP_NE,
            [ZPC_EXPR_IN] = ZT_OP_IN_CLAIM, [ZPC_EXPR_LT] = ZT_OP_LT,
            [ZPC_EXPR_LE] = ZT_OP_LE, [ZPC_EXPR_GT] = ZT_OP_GT,
            [ZPC_EXPR_GE] = ZT_OP_GE,
        };
        i = zpc_lower_node(l, ops[e->kind]);
        a = zpc_lower_opnd(l, e->lhs);
        b = zpc_lower_opnd(l, e->rhs);
        ZPC_NODE(l, i)->a = a;
        ZPC_NODE(l, i)->b = b;
        return i;
    }
    default:            /* IN_LIST, or client.ip's IN_CIDR */
        if (e->lowered_op == ZT_OP_IN_CIDR) {
            uint32_t first = (uint32_t)l->ir->cidrs->nelts;
            i = zpc_lower_node(l, ZT_OP_IN_CIDR);
            a = zpc_lower_opnd(l, e->lhs);
            for (int k = 0; k < e->cidrs->nelts; k++) {
                APR_ARRAY_PUSH(l->ir->cidrs, zpc_ir_cidr_t) =
                    APR_ARRAY_IDX(e->cidrs, k, zpc_ir_cidr_t);
            }
            b = first;
            c = (uint32_t)e->cidrs->nelts;
        }
        else {
            uint32_t first = (uint32_t)l->ir->lists->nelts;
            i = zpc_lower_node(l, ZT_OP_IN_LIST);
            a = zpc_lower_opnd(l, e->lhs);
            for (int k = 0; k < e->list->nelts; k++) {
                uint32_t o = zpc_lower_opnd(l, APR_ARRAY_IDX(e->list, k, zpc_ast_opnd_t *));
                APR_ARRAY_PUSH(l->ir->lists, uint32_t) = o;
            }
            b = first;
            c = (uint32_t)e->list->nelts;
        }
        ZPC_NODE(l, i)->a = a;
        ZPC_NODE(l, i)->b = b;
        ZPC_NODE(l, i)->c = c;
        return i;
    }
}

/* The targets, normalised: "GET /orders, * /orders" and so on.  Built in
 * one pass: a rule may have many thousands of targets. */
static const char *zpc_lower_text(zpc_lower_t *l, const zpc_ast_rule_t *r)
{
    apr_size_t len = 1, pos = 0;
    char *text;

    for (int i = 0; i < r->targets->nelts; i++) {
        const zpc_ast_target_t *t = APR_ARRAY_IDX(r->targets, i, zpc_ast_target_t *);
        len += strlen(t->method) + strlen(t->path) + 3;
    }
    text = apr_palloc(l->pool, len);
    for (int i = 0; i < r->targets->nelts; i++) {
        const zpc_ast_target_t *t = APR_ARRAY_IDX(r->targets, i, zpc_ast_target_t *);
        pos += (apr_size_t)sprintf(text + pos, "%s%s %s", i > 0 ? ", " : "",
                                   t->method, t->path);
    }
    text[pos] = '\0';
    return text;
}

static zpc_ir_type_t *zpc_lower_type(zpc_lower_t *l, const zpc_ir_type_t *t)
{
    zpc_ir_type_t *o;

    if (t == NULL) {
        return NULL;
    }
    o = apr_pmemdup(l->pool, t, sizeof(*t));
    o->regex = zpc_dup(l, t->regex);
    o->values = zpc_dup_strs(l, t->values);
    return o;
}

static void zpc_lower_route(zpc_lower_t *l, const zpc_parser_t *ps,
                            const zpc_ast_route_t *r, zpc_ir_route_t *o)
{
    o->methods = r->methods;
    o->pattern = zpc_dup(l, r->path);
    o->segs = apr_array_make(l->pool, r->segs->nelts, sizeof(zpc_ir_seg_t));
    for (int j = 0; j < r->segs->nelts; j++) {
        static const uint32_t kinds[] = {
            [ZPC_SEG_LIT] = ZT_SEG_LITERAL, [ZPC_SEG_CAP] = ZT_SEG_CAPTURE,
            [ZPC_SEG_STAR] = ZT_SEG_STAR, [ZPC_SEG_GLOB] = ZT_SEG_GLOBSTAR,
        };
        const zpc_ast_seg_t *s = &APR_ARRAY_IDX(r->segs, j, zpc_ast_seg_t);
        zpc_ir_seg_t *os = apr_array_push(o->segs);

        os->kind = kinds[s->kind];
        os->text = s->kind == ZPC_SEG_LIT || s->kind == ZPC_SEG_CAP
                   ? zpc_dup(l, s->text) : NULL;
        os->type = s->type != NULL ? zpc_lower_type(l, s->type->ir) : NULL;
    }
    o->rules = apr_array_make(l->pool, 4, sizeof(uint32_t));
    o->file = zpc_dup(l, zpc_diag_file_name(ps->diag, r->loc.file));
    o->line = (uint32_t)r->loc.first_line;
    o->flags = r->flags;
    o->params = apr_array_make(l->pool, r->iparams->nelts, sizeof(zpc_ir_param_t));
    for (int j = 0; j < r->iparams->nelts; j++) {
        zpc_ir_param_t *p = apr_array_push(o->params);
        *p = APR_ARRAY_IDX(r->iparams, j, zpc_ir_param_t);
        p->name = zpc_dup(l, p->name);
        p->type = zpc_lower_type(l, p->type);
    }
    if (r->body != NULL) {
        zpc_ir_body_t *b = apr_pmemdup(l->pool, r->body, sizeof(*b));
        b->schema_name = zpc_dup(l, b->schema_name);
        b->schema = b->schema != NULL ? apr_pmemdup(l->pool, b->schema, b->schema_len)
                                      : NULL;
        b->root = zpc_dup(l, b->root);
        o->body = b;
    }
    o->stepup = r->stepup_index;
    o->limits = apr_array_copy(l->pool, r->limits);
}

zpc_ir_t *zpc_lower(zpc_parser_t *ps)
{
    zpc_ast_t *ast = ps->ast;
    zpc_lower_t l;
    zpc_ir_t *ir;

    /* ps->pool is dropped after the compile: the IR lives in its parent */
    l.pool = apr_pool_parent_get(ps->pool);
    l.tmp = ps->pool;
    l.opnds = apr_hash_make(l.tmp);
    ir = l.ir = apr_pcalloc(l.pool, sizeof(*ir));
    ir->name = zpc_dup(&l, APR_ARRAY_IDX(ast->policies, 0, zpc_ast_policy_t *)->name);
    ir->source = zpc_dup(&l, ps->file);
    ir->issuers = apr_array_make(l.pool, ast->issuers->nelts, sizeof(zpc_ir_issuer_t));
    ir->routes = apr_array_make(l.pool, ast->routes->nelts, sizeof(zpc_ir_route_t));
    ir->rules = apr_array_make(l.pool, ast->rules->nelts, sizeof(zpc_ir_rule_t));
    ir->nodes = apr_array_make(l.pool, 16, sizeof(zpc_ir_node_t));
    ir->opnds = apr_array_make(l.pool, 16, sizeof(zpc_ir_opnd_t));
    ir->lists = apr_array_make(l.pool, 4, sizeof(uint32_t));
    ir->cidrs = apr_array_make(l.pool, 1, sizeof(zpc_ir_cidr_t));
    ir->stepups = apr_array_make(l.pool, ast->stepups->nelts, sizeof(zpc_ir_stepup_t));
    ir->limits = apr_array_make(l.pool, ast->limits->nelts, sizeof(zpc_ir_limit_t));
    ir->tests = apr_array_make(l.pool, ps->tests->nelts, sizeof(zpc_ir_test_t));

    for (int i = 0; i < ast->issuers->nelts; i++) {
        const zpc_ast_issuer_t *is = APR_ARRAY_IDX(ast->issuers, i, zpc_ast_issuer_t *);
        zpc_ir_issuer_t *o = apr_array_push(ir->issuers);

        *o = is->ir;
        o->name = zpc_dup(&l, o->name);
        o->iss = zpc_dup(&l, o->iss);
        o->audience = zpc_dup(&l, o->audience);
        o->jwks = zpc_dup(&l, o->jwks);
        o->typ = zpc_dup(&l, o->typ);
        o->secret = zpc_dup(&l, o->secret);
        o->required = zpc_dup_strs(&l, is->ir.required);
    }
    for (int i = 0; i < ast->routes->nelts; i++) {
        zpc_ir_route_t *o = apr_array_push(ir->routes);

        memset(o, 0, sizeof(*o));
        zpc_lower_route(&l, ps, APR_ARRAY_IDX(ast->routes, i, zpc_ast_route_t *), o);
    }
    for (int i = 0; i < ast->rules->nelts; i++) {
        const zpc_ast_rule_t *r = APR_ARRAY_IDX(ast->rules, i, zpc_ast_rule_t *);
        zpc_ir_rule_t *o = apr_array_push(ir->rules);
        uint32_t cond = ZT_NONE;

        if (r->tail->kind == ZPC_TAIL_UNLESS) {
            uint32_t a;

            /* Lower first, store after: lowering may move ir->nodes. */
            cond = zpc_lower_node(&l, ZT_OP_NOT);
            a = zpc_lower_expr(&l, r->tail->cond);
            ZPC_NODE(&l, cond)->a = a;
        }
        else if (r->tail->kind == ZPC_TAIL_WHEN) {
            cond = zpc_lower_expr(&l, r->tail->cond);
        }
        o = &APR_ARRAY_IDX(ir->rules, i, zpc_ir_rule_t);
        o->effect = (uint32_t)r->effect;
        o->flags = r->tail->public ? ZT_RULE_PUBLIC : 0;
        o->cond = cond;
        o->file = zpc_dup(&l, zpc_diag_file_name(ps->diag, r->loc.file));
        o->line = (uint32_t)r->loc.first_line;
        o->text = zpc_lower_text(&l, r);
        for (int j = 0; j < r->covers->nelts; j++) {
            zpc_ir_route_t *rt = &APR_ARRAY_IDX(ir->routes,
                APR_ARRAY_IDX(r->covers, j, uint32_t), zpc_ir_route_t);
            APR_ARRAY_PUSH(rt->rules, uint32_t) = (uint32_t)i;
        }
    }
    for (int i = 0; i < ast->stepups->nelts; i++) {
        const zpc_ast_stepup_t *st = APR_ARRAY_IDX(ast->stepups, i, zpc_ast_stepup_t *);
        zpc_ir_stepup_t *o = apr_array_push(ir->stepups);

        *o = st->ir;
        o->acr = zpc_dup_strs(&l, st->ir.acr);
        o->file = zpc_dup(&l, o->file);
    }
    for (int i = 0; i < ast->limits->nelts; i++) {
        const zpc_ast_limit_t *lim = APR_ARRAY_IDX(ast->limits, i, zpc_ast_limit_t *);
        zpc_ir_limit_t *o = apr_array_push(ir->limits);

        *o = lim->ir;
        o->file = zpc_dup(&l, o->file);
    }
    for (int i = 0; i < ps->tests->nelts; i++) {
        zpc_ir_test_t *o = apr_array_push(ir->tests);

        *o = APR_ARRAY_IDX(ps->tests, i, zpc_ir_test_t);
        o->name = zpc_dup(&l, o->name);
        o->file = zpc_dup(&l, o->file);
        o->claims_json = zpc_dup(&l, o->claims_json);
        o->method = zpc_dup(&l, o->method);
        o->target = zpc_dup(&l, o->target);
        o->from = zpc_dup(&l, o->from);
        o->headers = zpc_dup_strs(&l, o->headers);
        o->cert_subject = zpc_dup(&l, o->cert_subject);
        o->cert_san = zpc_dup_strs(&l, o->cert_san);
        o->tls = zpc_dup(&l, o->tls);
        o->body_type = zpc_dup(&l, o->body_type);
        /* bytes, not a C string: a body file may hold a NUL */
        o->body_text = o->body_text != NULL
                       ? apr_pmemdup(l.pool, o->body_text, o->body_len + 1)
                       : NULL;
    }
    return ir;
}

/* ------------------------------------------------------------------ */

zpc_ir_t *zpc_compile_string(const char *name, const char *src, apr_size_t len,
                             FILE *diag, apr_pool_t *pool,
                             int *nerrors, int *nwarnings)
{
    apr_pool_t *cp;
    zpc_parser_t *ps;
    zpc_ir_t *ir = NULL;
    zpc_incl_t *incl;
    char real[PATH_MAX];
    int errors;

    /* one pool per compile; the IR alone goes to @a pool */
    if (apr_pool_create(&cp, pool) != APR_SUCCESS) {
        if (nerrors) *nerrors = 1;
        if (nwarnings) *nwarnings = 0;
        return NULL;
    }
    ps = apr_pcalloc(cp, sizeof(*ps));
    ps->pool = cp;
    ps->file = name;
    ps->diag = zpc_diag_create(cp, diag, name, src, len);
    ps->ast = apr_pcalloc(cp, sizeof(*ps->ast));
    ps->ast->policies = apr_array_make(cp, 1, sizeof(void *));
    ps->ast->issuers = apr_array_make(cp, 2, sizeof(void *));
    ps->ast->lets = apr_array_make(cp, 8, sizeof(void *));
    ps->ast->routes = apr_array_make(cp, 16, sizeof(void *));
    ps->ast->rules = apr_array_make(cp, 16, sizeof(void *));
    ps->ast->stepups = apr_array_make(cp, 2, sizeof(void *));
    ps->ast->limits = apr_array_make(cp, 2, sizeof(void *));
    ps->ast->tests = apr_array_make(cp, 4, sizeof(void *));
    ps->seq = apr_pcalloc(cp, sizeof(*ps->seq));
    incl = apr_pcalloc(cp, sizeof(*incl));
    incl->path = name;
    incl->real = realpath(name, real) != NULL ? apr_pstrdup(cp, real) : name;
    ps->incl = incl;
    ps->line = ps->col = 1;

    if (len > ZPC_MAX_SOURCE) {
        zpc_diag_error(ps->diag, NULL, "file too large (%lu bytes; the limit "
                       "is %u)", (unsigned long)len, ZPC_MAX_SOURCE);
    }
    else if (zpc_parse(ps, src, len) == 0) {
        zpc_check(ps);
        if (zpc_diag_errors(ps->diag) == 0) {
            ir = zpc_lower(ps);
        }
    }
    errors = zpc_diag_errors(ps->diag);
    if (nerrors) *nerrors = errors;
    if (nwarnings) *nwarnings = zpc_diag_warnings(ps->diag);
    apr_pool_destroy(cp);
    return errors == 0 ? ir : NULL;
}

zpc_ir_t *zpc_compile_file(const char *path, FILE *diag, apr_pool_t *pool,
                           int *nerrors, int *nwarnings)
{
    apr_pool_t *tmp;
    FILE *f;
    struct stat st;
    char *buf;
    size_t cap = ZPC_MAX_SOURCE + 1, len = 0, n;
    zpc_ir_t *ir;
    const char *why = NULL;

    if (nerrors) *nerrors = 1;
    if (nwarnings) *nwarnings = 0;
    if ((f = fopen(path, "rb")) == NULL) {
        why = strerror(errno);
    }
    else if (fstat(fileno(f), &st) != 0) {
        why = strerror(errno);
    }
    else if (S_ISDIR(st.st_mode)) {
        why = "it is a directory";
    }
    else if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > ZPC_MAX_SOURCE) {
        if (diag != NULL) {
            fprintf(diag, "%s: error: file too large (%ju bytes; the limit is "
                    "%u)\n", path, (uintmax_t)st.st_size, ZPC_MAX_SOURCE);
        }
        fclose(f);
        return NULL;
    }
    if (why != NULL) {
        if (diag != NULL) {
            fprintf(diag, "%s: error: cannot read: %s\n", path, why);
        }
        if (f != NULL) {
            fclose(f);
        }
        return NULL;
    }
    if (S_ISREG(st.st_mode) && (size_t)st.st_size < ZPC_MAX_SOURCE) {
        cap = (size_t)st.st_size + 1;   /* +1 notices a file that grew */
    }
    if (apr_pool_create(&tmp, pool) != APR_SUCCESS) {
        fclose(f);
        return NULL;
    }
    buf = apr_palloc(tmp, cap);
    while (len < cap && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap && cap <= ZPC_MAX_SOURCE) {
            /* it grew since fstat: read on, up to just past the limit */
            char *nb = apr_palloc(tmp, ZPC_MAX_SOURCE + 1);
            memcpy(nb, buf, len);
            buf = nb;
            cap = ZPC_MAX_SOURCE + 1;
        }
    }
    if (ferror(f)) {
        if (diag != NULL) {
            fprintf(diag, "%s: error: cannot read: %s\n", path, strerror(errno));
        }
        fclose(f);
        apr_pool_destroy(tmp);
        return NULL;
    }
    fclose(f);
    ir = zpc_compile_string(path, buf, len, diag, pool, nerrors, nwarnings);
    apr_pool_destroy(tmp);
    return ir;
}
