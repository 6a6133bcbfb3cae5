/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The decision: the matched route's rules, their conditions over the
 * token's claims and the path's captures.  Deny overrides allow; nothing
 * matching means deny.  Reads only a verified table (zt_table_load), so
 * indices are used without bounds checks, and allocates nothing.
 */
#include <string.h>

#include "zt_eval.h"

typedef struct {
    const zt_table_t *t;
    const zt_match_t *m;
    const zt_claims_t *claims;  /* NULL: no token */
} zt_eval_ctx_t;

static void zt_operand(const zt_eval_ctx_t *cx, uint32_t idx, zt_val_t *v)
{
    const zt_table_t *t = cx->t;
    const zt_opnd_rec_t *o = &t->opnds[idx];

    v->type = ZT_V_MISSING;
    v->ref = NULL;
    switch (o->kind) {
    case ZT_OPND_TOKEN:
        zt_claims_get(cx->claims, zt_table_str(t, o->str), o->n, v);
        break;
    case ZT_OPND_PATH: {
        const zt_span_t *sp = zt_route_capture(t, cx->m, zt_table_str(t, o->str));
        if (sp != NULL) {
            v->type = ZT_V_STR;
            v->s = sp->ptr;
            v->len = sp->len;
        }
        break;
    }
    case ZT_OPND_STR:
        v->type = ZT_V_STR;
        v->s = zt_table_str(t, o->str);
        v->len = strlen(v->s);
        break;
    case ZT_OPND_INT:
        v->type = ZT_V_INT;
        v->i = o->num;
        break;
    case ZT_OPND_BOOL:
        v->type = ZT_V_BOOL;
        v->i = o->num;
        break;
    }
}

/* @a a is a word of the space-separated string @a b (OAuth "scope"). */
static int zt_val_word_of(const zt_val_t *a, const zt_val_t *b)
{
    size_t i = 0;

    while (i < b->len) {
        size_t start;
        while (i < b->len && b->s[i] == ' ') {
            i++;
        }
        start = i;
        while (i < b->len && b->s[i] != ' ') {
            i++;
        }
        if (i > start && i - start == a->len
            && memcmp(b->s + start, a->s, a->len) == 0) {
            return 1;
        }
    }
    return 0;
}

static int zt_in_claim(const zt_val_t *a, const zt_val_t *b)
{
    if (!zt_val_scalar(a)) {
        return 0;
    }
    if (b->type == ZT_V_OTHER) {
        return zt_claims_array_has(b, a);
    }
    return a->type == ZT_V_STR && b->type == ZT_V_STR && zt_val_word_of(a, b);
}

/*
 * Evaluate node @a i.  This recurses, which is safe because the loader
 * verified that children come after their parents and that every node's
 * depth is at most ZT_MAX_COND_DEPTH and its tree size at most
 * ZT_MAX_COND_NODES: the stack holds at most 128 small frames and one
 * rule costs at most 4096 node visits.
 */
static int zt_eval_node(const zt_eval_ctx_t *cx, uint32_t i)
{
    const zt_node_rec_t *n = &cx->t->nodes[i];
    zt_val_t a, b;

    switch (n->op) {
    case ZT_OP_TRUE:
        return 1;
    case ZT_OP_AND:
        return zt_eval_node(cx, n->a) && zt_eval_node(cx, n->b);
    case ZT_OP_OR:
        return zt_eval_node(cx, n->a) || zt_eval_node(cx, n->b);
    case ZT_OP_NOT:
        return !zt_eval_node(cx, n->a);
    case ZT_OP_EQ:
    case ZT_OP_NE:
        zt_operand(cx, n->a, &a);
        zt_operand(cx, n->b, &b);
        if (!zt_val_scalar(&a) || !zt_val_scalar(&b)) {
            return 0;
        }
        return zt_val_equal(&a, &b) == (n->op == ZT_OP_EQ);
    case ZT_OP_IN_CLAIM:
        zt_operand(cx, n->a, &a);
        zt_operand(cx, n->b, &b);
        return zt_in_claim(&a, &b);
    case ZT_OP_IN_LIST:
        zt_operand(cx, n->a, &a);
        if (!zt_val_scalar(&a)) {
            return 0;
        }
        for (uint32_t k = 0; k < n->c; k++) {
            zt_operand(cx, cx->t->lists[n->b + k], &b);
            if (zt_val_scalar(&b) && zt_val_equal(&a, &b)) {
                return 1;
            }
        }
        return 0;
    }
    return 0;   /* not reached: opcodes are verified at load */
}

void zt_eval_decide(const zt_table_t *t, const zt_match_t *m,
                    const zt_claims_t *claims, zt_decision_t *d)
{
    zt_eval_ctx_t cx;
    const zt_route_rec_t *r;
    uint32_t allow = ZT_NONE;

    d->verdict = ZT_DENY;
    d->rule = ZT_NONE;
    if (m == NULL || m->route >= t->nroutes) {
        return;             /* no route: nothing can allow */
    }
    cx.t = t;
    cx.m = m;
    cx.claims = claims;
    r = &t->routes[m->route];
    for (uint32_t k = 0; k < r->rref_count; k++) {
        uint32_t ri = t->rrefs[r->rref_first + k];
        const zt_rule_rec_t *rule = &t->rules[ri];

        if (claims == NULL && (rule->flags & ZT_RULE_PUBLIC) == 0) {
            continue;       /* only a token can satisfy this rule */
        }
        if (rule->effect == ZT_EFFECT_ALLOW && allow != ZT_NONE) {
            continue;       /* an earlier allow already matched */
        }
        if (rule->cond != ZT_NONE && !zt_eval_node(&cx, rule->cond)) {
            continue;
        }
        if (rule->effect == ZT_EFFECT_DENY) {
            d->rule = ri;   /* refs ascend: the first deny in rule order */
            return;
        }
        allow = ri;
    }
    if (allow != ZT_NONE) {
        d->verdict = ZT_ALLOW;
        d->rule = allow;
    }
    else if (claims == NULL) {
        d->verdict = ZT_NEED_TOKEN;
    }
}
