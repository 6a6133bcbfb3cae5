/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Syntax tree builders: the grammar's actions.  They only record what was
 * written and where; zpc_check.c judges it.  The one exception is nesting
 * depth: a condition deeper than ZPC_MAX_DEPTH is refused here, so that no
 * later stage ever recurses deeper than that.
 */

#include <apr_strings.h>

#include "zpc_ast.h"

apr_array_header_t *zpc_ast_list(zpc_parser_t *ps)
{
    return apr_array_make(ps->pool, 4, sizeof(void *));
}

apr_array_header_t *zpc_ast_push(apr_array_header_t *list, void *item)
{
    APR_ARRAY_PUSH(list, void *) = item;
    return list;
}

void zpc_ast_policy(zpc_parser_t *ps, const char *name,
                    const zpc_loc_t *name_loc, const zpc_loc_t *loc)
{
    zpc_ast_policy_t *p = apr_pcalloc(ps->pool, sizeof(*p));

    p->name = name;
    p->name_loc = *name_loc;
    p->loc = *loc;
    ps->seq++;
    zpc_ast_push(ps->ast->policies, p);
}

void zpc_ast_issuer(zpc_parser_t *ps, const char *name,
                    const zpc_loc_t *name_loc, const char *iss,
                    const zpc_loc_t *iss_loc, apr_array_header_t *attrs,
                    const zpc_loc_t *loc)
{
    zpc_ast_issuer_t *is = apr_pcalloc(ps->pool, sizeof(*is));

    is->name = name;
    is->name_loc = *name_loc;
    is->iss = iss;
    is->iss_loc = *iss_loc;
    is->loc = *loc;
    is->attrs = attrs;
    ps->seq++;
    zpc_ast_push(ps->ast->issuers, is);
}

static const char *const zpc_attr_names[ZPC_ATTR__COUNT] = {
    "audience", "algorithms", "jwks", "max_lifetime", "leeway", "secret",
    "typ", "required", "refresh", "refetch_min", NULL
};

static zpc_ast_attr_t *zpc_ast_attr(zpc_parser_t *ps, int kind,
                                    const zpc_loc_t *loc)
{
    zpc_ast_attr_t *a = apr_pcalloc(ps->pool, sizeof(*a));

    a->kind = kind;
    a->name = zpc_attr_names[kind];
    a->loc = *loc;
    return a;
}

zpc_ast_attr_t *zpc_ast_attr_str(zpc_parser_t *ps, int kind, const char *s,
                                 const zpc_loc_t *val_loc,
                                 const zpc_loc_t *loc)
{
    zpc_ast_attr_t *a = zpc_ast_attr(ps, kind, loc);

    a->str = s;
    a->val_loc = *val_loc;
    return a;
}

zpc_ast_attr_t *zpc_ast_attr_num(zpc_parser_t *ps, int kind, int64_t n,
                                 const zpc_loc_t *val_loc,
                                 const zpc_loc_t *loc)
{
    zpc_ast_attr_t *a = zpc_ast_attr(ps, kind, loc);

    a->num = n;
    a->val_loc = *val_loc;
    return a;
}

zpc_ast_attr_t *zpc_ast_attr_words(zpc_parser_t *ps,
                                   apr_array_header_t *words,
                                   const zpc_loc_t *loc)
{
    zpc_ast_attr_t *a = zpc_ast_attr(ps, ZPC_ATTR_ALGORITHMS, loc);

    a->words = words;
    return a;
}

zpc_ast_attr_t *zpc_ast_attr_source(zpc_parser_t *ps, int kind,
                                    const char *source,
                                    const zpc_loc_t *source_loc,
                                    const char *s, const zpc_loc_t *val_loc,
                                    const zpc_loc_t *loc)
{
    zpc_ast_attr_t *a = zpc_ast_attr(ps, kind, loc);

    a->source = source;
    a->source_loc = source_loc != NULL ? *source_loc : *loc;
    a->str = s;
    a->val_loc = val_loc != NULL ? *val_loc : a->source_loc;
    return a;
}

zpc_ast_attr_t *zpc_ast_attr_names(zpc_parser_t *ps,
                                   apr_array_header_t *names,
                                   const zpc_loc_t *loc)
{
    zpc_ast_attr_t *a = zpc_ast_attr(ps, ZPC_ATTR_REQUIRED, loc);

    a->names = names;
    return a;
}

zpc_ast_attr_t *zpc_ast_attr_unknown(zpc_parser_t *ps, const char *name,
                                     const zpc_loc_t *loc)
{
    zpc_ast_attr_t *a = zpc_ast_attr(ps, ZPC_ATTR_UNKNOWN, loc);

    a->name = name;
    return a;
}

zpc_ast_word_t *zpc_ast_word(zpc_parser_t *ps, const char *text,
                             const zpc_loc_t *loc)
{
    zpc_ast_word_t *w = apr_palloc(ps->pool, sizeof(*w));

    w->text = text;
    w->loc = *loc;
    return w;
}

void zpc_ast_let(zpc_parser_t *ps, const char *name,
                 const zpc_loc_t *name_loc, zpc_ast_expr_t *expr,
                 const zpc_loc_t *loc)
{
    zpc_ast_let_t *l = apr_pcalloc(ps->pool, sizeof(*l));

    l->name = name;
    l->name_loc = *name_loc;
    l->loc = *loc;
    l->expr = expr;
    l->seq = ++ps->seq;
    zpc_ast_push(ps->ast->lets, l);
}

void zpc_ast_route(zpc_parser_t *ps, const char *method,
                   const zpc_loc_t *method_loc, const char *path,
                   const zpc_loc_t *path_loc, const zpc_loc_t *loc)
{
    zpc_ast_route_t *r = apr_pcalloc(ps->pool, sizeof(*r));

    r->method = method;
    r->method_loc = *method_loc;
    r->path = path;
    r->path_loc = *path_loc;
    r->loc = *loc;
    r->seq = ++ps->seq;
    zpc_ast_push(ps->ast->routes, r);
}

zpc_ast_target_t *zpc_ast_target(zpc_parser_t *ps, const char *method,
                                 const zpc_loc_t *method_loc,
                                 const char *path, const zpc_loc_t *path_loc)
{
    zpc_ast_target_t *t = apr_pcalloc(ps->pool, sizeof(*t));

    t->method = method;
    t->method_loc = *method_loc;
    t->path = path;
    t->path_loc = *path_loc;
    return t;
}

zpc_ast_tail_t *zpc_ast_tail(zpc_parser_t *ps, int kind,
                             zpc_ast_expr_t *cond, const zpc_loc_t *loc)
{
    zpc_ast_tail_t *t = apr_pcalloc(ps->pool, sizeof(*t));

    t->kind = kind;
    t->cond = cond;
    t->loc = *loc;
    return t;
}

void zpc_ast_rule(zpc_parser_t *ps, int effect, apr_array_header_t *targets,
                  zpc_ast_tail_t *tail, const zpc_loc_t *loc)
{
    zpc_ast_rule_t *r = apr_pcalloc(ps->pool, sizeof(*r));

    r->effect = effect;
    r->targets = targets;
    r->tail = tail;
    r->loc = *loc;
    r->seq = ++ps->seq;
    zpc_ast_push(ps->ast->rules, r);
}

static zpc_ast_expr_t *zpc_ast_expr(zpc_parser_t *ps, int kind,
                                    const zpc_loc_t *loc)
{
    zpc_ast_expr_t *e = apr_pcalloc(ps->pool, sizeof(*e));

    e->kind = kind;
    e->loc = *loc;
    e->depth = 1;
    return e;
}

/*
** A node over children of depth @a depth - 1.  Past ZPC_MAX_DEPTH the
** subtree is replaced by a BAD leaf (reported once), which keeps every
** later walk shallow however the input nests.
*/
static zpc_ast_expr_t *zpc_ast_deep(zpc_parser_t *ps, zpc_ast_expr_t *e,
                                    unsigned depth)
{
    if (depth <= ZPC_MAX_DEPTH) {
        e->depth = depth;
        return e;
    }
    if (!ps->depth_reported) {
        ps->depth_reported = 1;
        zpc_diag_error(ps->diag, &e->loc, "condition nested too deeply (the "
                       "limit is %d levels)", ZPC_MAX_DEPTH);
    }
    e->kind = ZPC_EXPR_BAD;
    e->a = e->b = NULL;
    e->depth = ZPC_MAX_DEPTH;
    return e;
}

zpc_ast_expr_t *zpc_ast_binary(zpc_parser_t *ps, int kind, zpc_ast_expr_t *a,
                               zpc_ast_expr_t *b, const zpc_loc_t *loc)
{
    zpc_ast_expr_t *e = zpc_ast_expr(ps, kind, loc);

    e->a = a;
    e->b = b;
    return zpc_ast_deep(ps, e, 1 + (a->depth > b->depth ? a->depth : b->depth));
}

zpc_ast_expr_t *zpc_ast_not(zpc_parser_t *ps, zpc_ast_expr_t *a,
                            const zpc_loc_t *loc)
{
    zpc_ast_expr_t *e = zpc_ast_expr(ps, ZPC_EXPR_NOT, loc);

    e->a = a;
    return zpc_ast_deep(ps, e, 1 + a->depth);
}

zpc_ast_expr_t *zpc_ast_cmp(zpc_parser_t *ps, int kind, zpc_ast_opnd_t *lhs,
                            zpc_ast_opnd_t *rhs, const zpc_loc_t *loc)
{
    zpc_ast_expr_t *e = zpc_ast_expr(ps, kind, loc);

    e->lhs = lhs;
    e->rhs = rhs;
    return e;
}

zpc_ast_expr_t *zpc_ast_in_list(zpc_parser_t *ps, zpc_ast_opnd_t *lhs,
                                apr_array_header_t *list,
                                const zpc_loc_t *loc)
{
    zpc_ast_expr_t *e = zpc_ast_expr(ps, ZPC_EXPR_IN_LIST, loc);

    e->lhs = lhs;
    e->list = list;
    return e;
}

zpc_ast_expr_t *zpc_ast_ref(zpc_parser_t *ps, zpc_ast_opnd_t *name,
                            const zpc_loc_t *loc)
{
    zpc_ast_expr_t *e = zpc_ast_expr(ps, ZPC_EXPR_REF, loc);

    e->lhs = name;
    return e;
}

static zpc_ast_opnd_t *zpc_ast_opnd(zpc_parser_t *ps, int kind,
                                    const zpc_loc_t *loc)
{
    zpc_ast_opnd_t *o = apr_pcalloc(ps->pool, sizeof(*o));

    o->kind = kind;
    o->loc = *loc;
    return o;
}

zpc_ast_opnd_t *zpc_ast_name(zpc_parser_t *ps, const char *part,
                             const zpc_loc_t *loc)
{
    zpc_ast_opnd_t *o = zpc_ast_opnd(ps, ZPC_OPND_NAME, loc);

    o->parts = apr_array_make(ps->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(o->parts, const char *) = part;
    return o;
}

zpc_ast_opnd_t *zpc_ast_name_add(zpc_parser_t *ps, zpc_ast_opnd_t *name,
                                 const char *part, const zpc_loc_t *loc)
{
    (void)ps;
    APR_ARRAY_PUSH(name->parts, const char *) = part;
    name->loc = *loc;
    return name;
}

zpc_ast_opnd_t *zpc_ast_str(zpc_parser_t *ps, const char *s,
                            const zpc_loc_t *loc)
{
    zpc_ast_opnd_t *o = zpc_ast_opnd(ps, ZPC_OPND_STR, loc);

    o->str = s;
    return o;
}

zpc_ast_opnd_t *zpc_ast_int(zpc_parser_t *ps, int64_t n, const zpc_loc_t *loc)
{
    zpc_ast_opnd_t *o = zpc_ast_opnd(ps, ZPC_OPND_INT, loc);

    o->num = n;
    return o;
}

zpc_ast_opnd_t *zpc_ast_bool(zpc_parser_t *ps, int v, const zpc_loc_t *loc)
{
    zpc_ast_opnd_t *o = zpc_ast_opnd(ps, ZPC_OPND_BOOL, loc);

    o->num = v != 0;
    return o;
}

const char *zpc_ast_name_text(apr_pool_t *pool, const zpc_ast_opnd_t *o)
{
    return apr_array_pstrcat(pool, o->parts, '.');
}
