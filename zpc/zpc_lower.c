/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Lowering a checked tree to the IR (zpc_ir.h), and the front end's entry
 * points zpc_compile_file() and zpc_compile_string().
 *
 * - Routes and rules keep source order; a route's rule list holds, in
 *   ascending order, every rule with a target that covers it.  Method '*'
 *   covers every method; a target ending in '**' covers the routes whose
 *   pattern begins with the segments before it, that prefix itself
 *   included: ** after /orders covers /orders, /orders/{id}, ...
 * - Conditions: `when C` is C, `unless C` is NOT(C), `public` and no
 *   condition at all have cond ZT_NONE (public also sets ZT_RULE_PUBLIC).
 *   A let is expanded in place at each use.  Nodes are numbered in
 *   pre-order (a parent's slot is reserved before its children are
 *   lowered), so every child index is greater than its parent's.
 * - Operands are shared: two equal operands get one index.
 *
 * Parsing and checking run in a pool of their own; the IR is copied into
 * the caller's pool and the rest is dropped as soon as the compile ends.
 */

#include <errno.h>
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
    default:
        /* snprintf: APR's formatter has no %lld */
        key = apr_palloc(l->tmp, 32);
        klen = (apr_size_t)snprintf(key, 32, "%c%lld",
                                    o->zt_kind == ZT_OPND_INT ? 'I' : 'B',
                                    (long long)o->num);
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
    default:
        io->num = o->num;
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

/* Lower @a e; returns its root.  The checker bounded the depth. */
static uint32_t zpc_lower_expr(zpc_lower_t *l, const zpc_ast_expr_t *e)
{
    uint32_t i, a, b;

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
    case ZPC_EXPR_EQ:
    case ZPC_EXPR_NE:
    case ZPC_EXPR_IN:
        i = zpc_lower_node(l, e->kind == ZPC_EXPR_EQ ? ZT_OP_EQ
                              : e->kind == ZPC_EXPR_NE ? ZT_OP_NE : ZT_OP_IN_CLAIM);
        a = zpc_lower_opnd(l, e->lhs);
        b = zpc_lower_opnd(l, e->rhs);
        ZPC_NODE(l, i)->a = a;
        ZPC_NODE(l, i)->b = b;
        return i;
    default: {          /* IN_LIST */
        uint32_t first = (uint32_t)l->ir->lists->nelts;
        i = zpc_lower_node(l, ZT_OP_IN_LIST);
        a = zpc_lower_opnd(l, e->lhs);
        for (int k = 0; k < e->list->nelts; k++) {
            uint32_t o = zpc_lower_opnd(l, APR_ARRAY_IDX(e->list, k, zpc_ast_opnd_t *));
            APR_ARRAY_PUSH(l->ir->lists, uint32_t) = o;
        }
        ZPC_NODE(l, i)->a = a;
        ZPC_NODE(l, i)->b = first;
        ZPC_NODE(l, i)->c = (uint32_t)e->list->nelts;
        return i;
    }
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

zpc_ir_t *zpc_lower(zpc_parser_t *ps)
{
    zpc_ast_t *ast = ps->ast;
    zpc_lower_t l;
    zpc_ir_t *ir;
    const char *file;

    /* ps->pool is dropped after the compile: the IR lives in its parent */
    l.pool = apr_pool_parent_get(ps->pool);
    l.tmp = ps->pool;
    l.opnds = apr_hash_make(l.tmp);
    ir = l.ir = apr_pcalloc(l.pool, sizeof(*ir));
    ir->name = zpc_dup(&l, APR_ARRAY_IDX(ast->policies, 0, zpc_ast_policy_t *)->name);
    ir->source = file = zpc_dup(&l, ps->file);
    ir->issuers = apr_array_make(l.pool, ast->issuers->nelts, sizeof(zpc_ir_issuer_t));
    ir->routes = apr_array_make(l.pool, ast->routes->nelts, sizeof(zpc_ir_route_t));
    ir->rules = apr_array_make(l.pool, ast->rules->nelts, sizeof(zpc_ir_rule_t));
    ir->nodes = apr_array_make(l.pool, 16, sizeof(zpc_ir_node_t));
    ir->opnds = apr_array_make(l.pool, 16, sizeof(zpc_ir_opnd_t));
    ir->lists = apr_array_make(l.pool, 4, sizeof(uint32_t));

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
        if (is->ir.required != NULL) {
            o->required = apr_array_make(l.pool, is->ir.required->nelts,
                                         sizeof(const char *));
            for (int k = 0; k < is->ir.required->nelts; k++) {
                APR_ARRAY_PUSH(o->required, const char *) =
                    zpc_dup(&l, APR_ARRAY_IDX(is->ir.required, k, const char *));
            }
        }
    }
    for (int i = 0; i < ast->routes->nelts; i++) {
        const zpc_ast_route_t *r = APR_ARRAY_IDX(ast->routes, i, zpc_ast_route_t *);
        zpc_ir_route_t *o = apr_array_push(ir->routes);

        o->methods = r->methods;
        o->pattern = zpc_dup(&l, r->path);
        o->segs = apr_array_make(l.pool, r->segs->nelts, sizeof(zpc_ir_seg_t));
        for (int j = 0; j < r->segs->nelts; j++) {
            const zpc_ast_seg_t *s = &APR_ARRAY_IDX(r->segs, j, zpc_ast_seg_t);
            zpc_ir_seg_t *os = apr_array_push(o->segs);
            os->kind = s->kind == ZPC_SEG_CAP ? ZT_SEG_CAPTURE : ZT_SEG_LITERAL;
            os->text = zpc_dup(&l, s->text);
        }
        o->rules = apr_array_make(l.pool, 4, sizeof(uint32_t));
        o->line = (uint32_t)r->loc.first_line;
        o->stepup = -1;         /* IR v2: no step-up */
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
        o->flags = r->tail->kind == ZPC_TAIL_PUBLIC ? ZT_RULE_PUBLIC : 0;
        o->cond = cond;
        o->file = file;
        o->line = (uint32_t)r->loc.first_line;
        o->text = zpc_lower_text(&l, r);
        for (int j = 0; j < r->covers->nelts; j++) {
            zpc_ir_route_t *rt = &APR_ARRAY_IDX(ir->routes,
                APR_ARRAY_IDX(r->covers, j, uint32_t), zpc_ir_route_t);
            APR_ARRAY_PUSH(rt->rules, uint32_t) = (uint32_t)i;
        }
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
