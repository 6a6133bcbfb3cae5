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

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

    if (ps->incl->depth > 0) {
        zpc_diag_error(ps->diag, loc, "an included file cannot declare the "
                       "policy (only the main file does)");
        return;
    }
    p->name = name;
    p->name_loc = *name_loc;
    p->loc = *loc;
    ++*ps->seq;
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
    ++*ps->seq;
    zpc_ast_push(ps->ast->issuers, is);
}

static const char *const zpc_attr_names[ZPC_ATTR__COUNT] = {
    "audience", "algorithms", "jwks", "max_lifetime", "leeway", "secret",
    "typ", "required", "refresh", "refetch_min", "binding", NULL,
    "max", "schema", "root", "acr", "max_age"
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
    l->seq = ++*ps->seq;
    zpc_ast_push(ps->ast->lets, l);
}

void zpc_ast_route(zpc_parser_t *ps, const char *method,
                   const zpc_loc_t *method_loc, const char *path,
                   const zpc_loc_t *path_loc, apr_array_header_t *params,
                   const zpc_loc_t *loc)
{
    zpc_ast_route_t *r = apr_pcalloc(ps->pool, sizeof(*r));

    r->params = params != NULL ? params : zpc_ast_list(ps);
    r->stepup_index = -1;
    r->method = method;
    r->method_loc = *method_loc;
    r->path = path;
    r->path_loc = *path_loc;
    r->loc = *loc;
    r->seq = ++*ps->seq;
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

zpc_ast_tail_t *zpc_ast_public(zpc_parser_t *ps, zpc_ast_tail_t *tail,
                               const zpc_loc_t *loc)
{
    (void)ps;
    tail->public = 1;
    tail->public_loc = *loc;
    return tail;
}

void zpc_ast_rule(zpc_parser_t *ps, int effect, apr_array_header_t *targets,
                  zpc_ast_tail_t *tail, const zpc_loc_t *loc)
{
    zpc_ast_rule_t *r = apr_pcalloc(ps->pool, sizeof(*r));

    r->effect = effect;
    r->targets = targets;
    r->tail = tail;
    r->loc = *loc;
    r->seq = ++*ps->seq;
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

zpc_ast_opnd_t *zpc_ast_addr(zpc_parser_t *ps, const char *text,
                             const zpc_loc_t *loc)
{
    zpc_ast_opnd_t *o = zpc_ast_opnd(ps, ZPC_OPND_ADDR, loc);

    o->str = text;
    return o;
}

zpc_ast_opnd_t *zpc_ast_index(zpc_parser_t *ps, zpc_ast_opnd_t *name,
                              const char *index, const zpc_loc_t *loc)
{
    (void)ps;
    name->str = index;
    name->loc = *loc;
    return name;
}

/* ------------------------------------------------------------------ */
/* Route contracts                                                     */

zpc_ast_type_t *zpc_ast_type(zpc_parser_t *ps, const char *name,
                             const zpc_loc_t *loc)
{
    zpc_ast_type_t *t = apr_pcalloc(ps->pool, sizeof(*t));

    t->name = name;
    t->name_loc = t->loc = *loc;
    return t;
}

zpc_ast_type_t *zpc_ast_type_enum(zpc_parser_t *ps, const char *name,
                                  apr_array_header_t *values,
                                  const zpc_loc_t *loc)
{
    zpc_ast_type_t *t = zpc_ast_type(ps, name, loc);

    t->name_loc.last_line = t->name_loc.first_line;
    t->name_loc.last_column = t->name_loc.first_column + (int)strlen(name) - 1;
    t->values = values;
    return t;
}

zpc_ast_type_t *zpc_ast_type_range(zpc_parser_t *ps, zpc_ast_type_t *t,
                                   int64_t min, int64_t max,
                                   const zpc_loc_t *loc)
{
    (void)ps;
    if (t->ranges++ == 0) {
        t->min = min;
        t->max = max;
        t->range_loc = *loc;
    }
    return t;
}

zpc_ast_type_t *zpc_ast_type_regex(zpc_parser_t *ps, zpc_ast_type_t *t,
                                   const char *re, const zpc_loc_t *loc)
{
    (void)ps;
    if (t->regexes++ == 0) {
        t->regex = re;
        t->regex_loc = *loc;
    }
    return t;
}

zpc_ast_param_t *zpc_ast_param(zpc_parser_t *ps, int kind, const char *name,
                               const zpc_loc_t *name_loc,
                               zpc_ast_type_t *type,
                               apr_array_header_t *flags,
                               const zpc_loc_t *loc)
{
    zpc_ast_param_t *p = apr_pcalloc(ps->pool, sizeof(*p));

    p->kind = kind;
    p->name = name;
    p->name_loc = *name_loc;
    p->loc = *loc;
    p->type = type;
    p->flags = flags;
    return p;
}

zpc_ast_param_t *zpc_ast_body(zpc_parser_t *ps, const char *kind,
                              const zpc_loc_t *kind_loc,
                              apr_array_header_t *opts, const zpc_loc_t *loc)
{
    zpc_ast_param_t *p = zpc_ast_param(ps, ZPC_PARAM_BODY, kind, kind_loc,
                                       NULL, NULL, loc);

    p->opts = opts;
    return p;
}

zpc_ast_attr_t *zpc_ast_opt(zpc_parser_t *ps, int kind, const char *s,
                            int64_t num, const zpc_loc_t *val_loc,
                            const zpc_loc_t *loc)
{
    zpc_ast_attr_t *a = zpc_ast_attr(ps, kind, loc);

    a->str = s;
    a->num = num;
    a->val_loc = *val_loc;
    return a;
}

/* ------------------------------------------------------------------ */
/* stepup, limit, test                                                 */

void zpc_ast_stepup(zpc_parser_t *ps, apr_array_header_t *targets,
                    apr_array_header_t *opts, const zpc_loc_t *loc)
{
    zpc_ast_stepup_t *st = apr_pcalloc(ps->pool, sizeof(*st));

    st->targets = targets;
    st->opts = opts;
    st->loc = *loc;
    ++*ps->seq;
    zpc_ast_push(ps->ast->stepups, st);
}

void zpc_ast_limit(zpc_parser_t *ps, apr_array_header_t *targets,
                   const char *rate, const zpc_loc_t *rate_loc,
                   const char *per, const zpc_loc_t *per_loc,
                   zpc_ast_opnd_t *key, const zpc_loc_t *loc)
{
    zpc_ast_limit_t *l = apr_pcalloc(ps->pool, sizeof(*l));

    l->targets = targets;
    l->rate = rate;
    l->rate_loc = *rate_loc;
    l->per = per;
    l->per_loc = *per_loc;
    l->key = key;
    l->loc = *loc;
    ++*ps->seq;
    zpc_ast_push(ps->ast->limits, l);
}

void zpc_ast_test(zpc_parser_t *ps, const char *name,
                  const zpc_loc_t *name_loc, apr_array_header_t *items,
                  const zpc_loc_t *loc)
{
    zpc_ast_test_t *t = apr_pcalloc(ps->pool, sizeof(*t));

    t->name = name;
    t->name_loc = *name_loc;
    t->items = items;
    t->loc = *loc;
    ++*ps->seq;
    zpc_ast_push(ps->ast->tests, t);
}

zpc_ast_titem_t *zpc_ast_titem(zpc_parser_t *ps, int kind,
                               const char *a, const zpc_loc_t *a_loc,
                               const char *b, const zpc_loc_t *b_loc,
                               zpc_ast_value_t *value, const zpc_loc_t *loc)
{
    zpc_ast_titem_t *it = apr_pcalloc(ps->pool, sizeof(*it));

    it->kind = kind;
    it->loc = *loc;
    it->a = a;
    it->b = b;
    it->a_loc = a_loc != NULL ? *a_loc : *loc;
    it->b_loc = b_loc != NULL ? *b_loc : *loc;
    it->value = value;
    return it;
}

zpc_ast_titem_t *zpc_ast_tbody(zpc_parser_t *ps, const char *type,
                               const zpc_loc_t *type_loc, int quoted,
                               const char *how, const zpc_loc_t *how_loc,
                               const char *text, const zpc_loc_t *text_loc,
                               const zpc_loc_t *loc)
{
    zpc_ast_titem_t *it = zpc_ast_titem(ps, ZPC_TITEM_BODY, type, type_loc,
                                        text, text_loc, NULL, loc);

    it->how = how;
    it->how_loc = how_loc != NULL ? *how_loc : *loc;
    it->quoted = quoted;
    return it;
}

zpc_ast_value_t *zpc_ast_value(zpc_parser_t *ps, int kind, const char *s,
                               int64_t num, const zpc_loc_t *loc)
{
    zpc_ast_value_t *v = apr_pcalloc(ps->pool, sizeof(*v));

    v->kind = kind;
    v->loc = *loc;
    v->str = s;
    v->num = num;
    v->depth = 1;
    return v;
}

/* Objects and arrays; their depth is bounded like a condition's, so that
 * printing them as JSON never recurses deeply. */
zpc_ast_value_t *zpc_ast_value_list(zpc_parser_t *ps, int kind,
                                    apr_array_header_t *items,
                                    const zpc_loc_t *loc)
{
    zpc_ast_value_t *v = zpc_ast_value(ps, kind, NULL, 0, loc);
    unsigned depth = 0;

    for (int i = 0; i < items->nelts; i++) {
        const zpc_ast_value_t *x = kind == ZPC_VAL_ARR
            ? APR_ARRAY_IDX(items, i, zpc_ast_value_t *)
            : APR_ARRAY_IDX(items, i, zpc_ast_member_t *)->value;
        if (x->depth > depth) {
            depth = x->depth;
        }
    }
    v->items = items;
    v->depth = depth + 1;
    if (v->depth > ZPC_MAX_VALUE_DEPTH) {
        if (!ps->depth_reported) {
            ps->depth_reported = 1;
            zpc_diag_error(ps->diag, loc, "claims nested too deeply (the "
                           "limit is %d levels)", ZPC_MAX_VALUE_DEPTH);
        }
        v->kind = ZPC_VAL_INT;      /* cut: the compile fails anyway */
        v->items = NULL;
        v->depth = ZPC_MAX_VALUE_DEPTH;
    }
    return v;
}

zpc_ast_member_t *zpc_ast_member(zpc_parser_t *ps, const char *key,
                                 const zpc_loc_t *key_loc,
                                 zpc_ast_value_t *value)
{
    zpc_ast_member_t *m = apr_palloc(ps->pool, sizeof(*m));

    m->key = key;
    m->key_loc = *key_loc;
    m->value = value;
    return m;
}

/* ------------------------------------------------------------------ */
/* Numbers with a unit                                                 */

/* digits, then one unit letter of @a units; 0 when malformed (*unit 0) */
static int zpc_ast_unit(const char *text, uint64_t max, const char *units,
                        const int64_t *scale, int64_t *out, int *unit)
{
    size_t nd = strspn(text, "0123456789");
    const char *u;
    uint64_t v = 0;

    *unit = 0;
    if (text[nd] == '\0' || text[nd + 1] != '\0'
        || (u = strchr(units, text[nd])) == NULL) {
        return 0;
    }
    *unit = 1;
    for (size_t i = 0; i < nd; i++) {
        if (v > (max - (uint64_t)(text[i] - '0')) / 10) {
            return 0;
        }
        v = v * 10 + (uint64_t)(text[i] - '0');
    }
    if (v > max / (uint64_t)scale[u - units]) {
        return 0;
    }
    *out = (int64_t)v * scale[u - units];
    return 1;
}

int64_t zpc_ast_duration(zpc_parser_t *ps, const char *text,
                         const zpc_loc_t *loc)
{
    static const int64_t scale[] = { 1, 60, 3600, 86400 };
    int64_t v = 0;
    int unit;

    if (!zpc_ast_unit(text, INT64_MAX, "smhd", scale, &v, &unit)) {
        if (unit) {
            zpc_diag_error(ps->diag, loc, "duration out of range");
        }
        else {
            zpc_diag_error(ps->diag, loc, "unknown unit '%s' in '%s' (a duration "
                           "is a number of seconds, or ends in s, m, h or d: 30s "
                           "15m 1h 1d)", text + strspn(text, "0123456789"), text);
        }
        return 0;
    }
    return v;
}

int64_t zpc_ast_size(zpc_parser_t *ps, const char *text, const zpc_loc_t *loc)
{
    static const int64_t scale[] = { 1024, 1024 * 1024 };
    int64_t v = 0;
    int unit;

    if (!zpc_ast_unit(text, INT64_MAX, "km", scale, &v, &unit)) {
        if (unit) {
            zpc_diag_error(ps->diag, loc, "size out of range");
            return -1;
        }
        else {
            zpc_diag_error(ps->diag, loc, "unknown unit '%s' in '%s' (a size is "
                           "a number of bytes, or ends in k or m: 512 16k 1m)",
                           text + strspn(text, "0123456789"), text);
        }
        return -1;          /* reported */
    }
    return v;
}

/* ------------------------------------------------------------------ */
/* include                                                             */

const char *zpc_relative(apr_pool_t *pool, const char *file, const char *name)
{
    const char *slash = strrchr(file, '/');

    if (name[0] == '/' || slash == NULL) {
        return name;
    }
    return apr_pstrcat(pool, apr_pstrmemdup(pool, file, (apr_size_t)(slash - file + 1)),
                       name, NULL);
}

char *zpc_read_file(apr_pool_t *pool, const char *path, apr_size_t max,
                    apr_size_t *len, const char **why)
{
    struct stat st;
    FILE *f;
    char *buf;
    size_t n = 0, got;

    /* stat first: a FIFO or a device would block or never end */
    if (stat(path, &st) != 0) {
        *why = strerror(errno);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        *why = S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file";
        return NULL;
    }
    if ((uintmax_t)st.st_size > max) {
        *why = apr_psprintf(pool, "larger than %" APR_SIZE_T_FMT " bytes", max);
        return NULL;
    }
    if ((f = fopen(path, "rb")) == NULL) {
        *why = strerror(errno);
        return NULL;
    }
    /* one byte more than allowed notices a file that grew */
    buf = apr_palloc(pool, max + 2);
    while (n <= max && (got = fread(buf + n, 1, max + 1 - n, f)) > 0) {
        n += got;
    }
    if (ferror(f)) {
        *why = strerror(errno);
        fclose(f);
        return NULL;
    }
    fclose(f);
    if (n > max) {
        *why = apr_psprintf(pool, "larger than %" APR_SIZE_T_FMT " bytes", max);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/*
** include "FILE": the file is read and parsed at once, into the same tree,
** so its statements take their place in source order (a let it defines is
** defined from here on).  Its tokens carry its own file index, so every
** message about them names it.
*/
void zpc_ast_include(zpc_parser_t *ps, const char *name,
                     const zpc_loc_t *name_loc, const zpc_loc_t *loc)
{
    const char *path, *why = NULL;
    char *src, real[PATH_MAX];
    apr_size_t len = 0;
    zpc_incl_t *incl;
    zpc_parser_t sub;

    (void)loc;
    ++*ps->seq;
    if (name[0] == '\0') {
        zpc_diag_error(ps->diag, name_loc, "the include file name is empty");
        return;
    }
    if (ps->incl->depth >= ZPC_MAX_INCLUDE) {
        zpc_diag_error(ps->diag, name_loc, "includes nested too deeply (the "
                       "limit is %d levels)", ZPC_MAX_INCLUDE);
        return;
    }
    path = zpc_relative(ps->pool, ps->file, name);
    src = zpc_read_file(ps->pool, path, ZPC_MAX_SOURCE, &len, &why);
    if (src == NULL) {
        zpc_diag_error(ps->diag, name_loc, "cannot include %s: %s",
                       zpc_diag_quote(ps->pool, path, strlen(path), 200), why);
        return;
    }
    if (realpath(path, real) == NULL) {
        apr_cpystrn(real, path, sizeof(real));
    }
    for (const zpc_incl_t *up = ps->incl; up != NULL; up = up->up) {
        if (strcmp(up->real, real) == 0) {
            zpc_diag_error(ps->diag, name_loc, "include cycle: %s includes %s, "
                           "which is already being read", ps->file, path);
            return;
        }
    }
    incl = apr_pcalloc(ps->pool, sizeof(*incl));
    incl->path = path;
    incl->real = apr_pstrdup(ps->pool, real);
    incl->up = ps->incl;
    incl->depth = ps->incl->depth + 1;

    sub = *ps;
    sub.file = path;
    sub.file_index = zpc_diag_add_file(ps->diag, path, src, len);
    sub.incl = incl;
    sub.scanner = NULL;
    sub.syntax_errors = 0;
    sub.start_token = 0;
    sub.end_name = NULL;
    sub.last_ident = NULL;
    sub.line = sub.col = 1;
    zpc_parse(&sub, src, len);
    ps->syntax_errors += sub.syntax_errors;
    ps->depth_reported |= sub.depth_reported;
}

const char *zpc_ast_name_text(apr_pool_t *pool, const zpc_ast_opnd_t *o)
{
    return apr_array_pstrcat(pool, o->parts, '.');
}
