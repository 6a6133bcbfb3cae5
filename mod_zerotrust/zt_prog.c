/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * zt_eval_prepare: compile a verified table's rules into per-route
 * decision programs (layout and meaning in zt_prog.h) and number its
 * claim paths (zt_claims.h slots).  Runs once per load; everything lives
 * in the table's pool.  The table was verified, so indices are in range,
 * and a condition is a tree of at most ZT_MAX_COND_NODES nodes (shared
 * subtrees counted each time) and ZT_MAX_COND_DEPTH levels, which bounds
 * the compiler's recursion and one rule's instructions.
 */
#include <stdlib.h>
#include <string.h>

#include "zt_eval.h"
#include "zt_prog.h"

/* Blocks beyond this budget are not built (their routes are decided
 * from the table): a table whose rules cover many routes each must not
 * make a load take unbounded memory. */
#define ZT_PROG_BUDGET(t)   (8 * (uint64_t)(t)->size + (1u << 20))

typedef struct {
    const zt_table_t *t;
    const uint32_t *opnd_slot;
    const zt_route_rec_t *r;        /* the route being compiled */
    zt_pins_t *ins;                 /* its instructions, last first */
    uint32_t n;
    int full;                       /* more than ZT_PC_MAX */
} zt_pbuild_t;

/* Segment index of capture @a name in the route, or ZT_NONE. */
static uint32_t zt_prog_capture(const zt_pbuild_t *b, const char *name)
{
    const zt_table_t *t = b->t;

    for (uint32_t i = 0; i < b->r->seg_count; i++) {
        const zt_seg_rec_t *s = &t->segs[b->r->seg_first + i];
        if (s->kind == ZT_SEG_CAPTURE && strcmp(zt_table_str(t, s->str), name) == 0) {
            return i;
        }
    }
    return ZT_NONE;
}

static void zt_prog_operand(const zt_pbuild_t *b, uint32_t idx, zt_popnd_t *o)
{
    const zt_table_t *t = b->t;
    const zt_opnd_rec_t *r = &t->opnds[idx];

    o->kind = r->kind;
    o->x = 0;
    o->y.idx = idx;
    switch (r->kind) {
    case ZT_OPND_TOKEN:
        o->x = b->opnd_slot[idx];
        break;
    case ZT_OPND_PATH:
        o->x = zt_prog_capture(b, zt_table_str(t, r->str));
        break;
    case ZT_OPND_STR:
        o->x = t->opnd_len[idx];
        o->y.s = zt_table_str(t, r->str);
        break;
    case ZT_OPND_INT:
    case ZT_OPND_BOOL:
        o->y.num = r->num;
        break;
    default:
        break;
    }
}

/* Emit the instructions of node @a ni, to continue at @a yes when it holds
 * and at @a no when not; returns where it starts.  Instructions are
 * emitted successors first and reversed later, so indices here count from
 * the end. */
static uint32_t zt_prog_cond(zt_pbuild_t *b, uint32_t ni, uint32_t yes, uint32_t no)
{
    const zt_node_rec_t *n = &b->t->nodes[ni];
    zt_pins_t *in;

    switch (n->op) {
    case ZT_OP_TRUE:
        return yes;
    case ZT_OP_AND:
        return zt_prog_cond(b, n->a, zt_prog_cond(b, n->b, yes, no), no);
    case ZT_OP_OR:
        return zt_prog_cond(b, n->a, yes, zt_prog_cond(b, n->b, yes, no));
    case ZT_OP_NOT:
        return zt_prog_cond(b, n->a, no, yes);
    case ZT_OP_IN_CIDR:
        if (b->t->opnds[n->a].kind != ZT_OPND_CLIENT_IP) {
            return no;
        }
        break;
    default:
        break;
    }
    if (b->n >= ZT_PC_MAX) {
        b->full = 1;
        return no;
    }
    in = &b->ins[b->n];
    memset(in, 0, sizeof(*in));
    in->op = (uint16_t)n->op;
    in->t = (uint16_t)yes;
    in->f = (uint16_t)no;
    zt_prog_operand(b, n->a, &in->a);
    if (n->op == ZT_OP_IN_LIST || n->op == ZT_OP_IN_CIDR) {
        in->b.kind = ZT_OPND__COUNT;    /* not an operand: LIST/CIDR range */
        in->b.x = n->b;
        in->b.y.num = n->c;
    }
    else {
        zt_prog_operand(b, n->b, &in->b);
    }
    return b->n++;
}

static uint16_t zt_prog_flip(uint32_t pc, uint32_t n)
{
    return (uint16_t)(pc >= ZT_PC_YES ? pc : n - 1 - pc);
}

/* Append route @a ri's block to @a code (at *len, capacity *cap); 0 when
 * it does not fit its limits (the route keeps no block). */
static int zt_prog_route(zt_pbuild_t *b, uint32_t ri, zt_prule_t *rules,
                         unsigned char **code, uint64_t *len, uint64_t *cap,
                         uint64_t budget)
{
    const zt_table_t *t = b->t;
    const zt_route_rec_t *r = &t->routes[ri];
    zt_proute_t *pr;
    zt_pins_t *out;
    uint64_t need;

    b->r = r;
    b->n = 0;
    b->full = 0;
    for (uint32_t k = 0; k < r->rref_count; k++) {
        uint32_t rix = t->rrefs[r->rref_first + k];
        const zt_rule_rec_t *rule = &t->rules[rix];

        rules[k].rule = rix;
        rules[k].effect = (uint8_t)rule->effect;
        rules[k].public = (rule->flags & ZT_RULE_PUBLIC) != 0;
        rules[k].pc = rule->cond == ZT_NONE
                      ? ZT_PC_YES : (uint16_t)zt_prog_cond(b, rule->cond, ZT_PC_YES, ZT_PC_NO);
    }
    need = sizeof(zt_proute_t) + (uint64_t)r->rref_count * sizeof(zt_prule_t)
           + (uint64_t)b->n * sizeof(zt_pins_t);
    if (b->full || *len + need > budget) {
        return 0;
    }
    if (*len + need > *cap) {
        uint64_t ncap = *cap ? *cap : 4096;
        unsigned char *p;
        while (ncap < *len + need) {
            ncap *= 2;
        }
        if ((p = realloc(*code, ncap)) == NULL) {
            return 0;
        }
        *code = p;
        *cap = ncap;
    }
    pr = (zt_proute_t *)(void *)(*code + *len);
    pr->nrules = r->rref_count;
    pr->stepup = r->stepup;
    for (uint32_t k = 0; k < r->rref_count; k++) {
        pr->rule[k] = rules[k];
        pr->rule[k].pc = zt_prog_flip(rules[k].pc, b->n);
    }
    out = (zt_pins_t *)(void *)&pr->rule[pr->nrules];
    for (uint32_t i = 0; i < b->n; i++) {
        out[i] = b->ins[b->n - 1 - i];
        out[i].t = zt_prog_flip(out[i].t, b->n);
        out[i].f = zt_prog_flip(out[i].f, b->n);
    }
    *len += need;
    return 1;
}

static void zt_prog_build(zt_table_t *t, struct zt_prog_s *p, apr_pool_t *pool)
{
    uint32_t *route = apr_palloc(pool, ((size_t)t->nroutes + 1) * sizeof(uint32_t));
    uint32_t maxrefs = 0;
    uint64_t len = 0, cap = 0, budget = ZT_PROG_BUDGET(t);
    unsigned char *code = NULL;
    zt_prule_t *rules;
    zt_pbuild_t b;

    for (uint32_t i = 0; i < t->nroutes; i++) {
        maxrefs = t->routes[i].rref_count > maxrefs ? t->routes[i].rref_count : maxrefs;
        route[i] = ZT_NONE;
    }
    b.t = t;
    b.opnd_slot = p->opnd_slot;
    b.ins = malloc(ZT_PC_MAX * sizeof(zt_pins_t));
    rules = malloc(((size_t)maxrefs + 1) * sizeof(zt_prule_t));
    for (uint32_t i = 0; i < t->nroutes && b.ins != NULL && rules != NULL; i++) {
        uint64_t at = len;
        if (at <= UINT32_MAX - 1 && zt_prog_route(&b, i, rules, &code, &len, &cap, budget)) {
            route[i] = (uint32_t)at;
            p->nblocks++;
        }
    }
    free(b.ins);
    free(rules);
    /* Copy to the pool at its size; 8-aligned, as the blocks need. */
    p->code = apr_palloc(pool, len + 8);
    if (len > 0) {
        memcpy((void *)p->code, code, len);
    }
    free(code);
    p->code_len = len;
    p->route = route;
}

void zt_eval_prepare(zt_table_t *t, apr_pool_t *pool)
{
    uint32_t *len = apr_palloc(pool, ((size_t)t->nopnds + 1) * sizeof(uint32_t));
    uint32_t *slot = apr_palloc(pool, ((size_t)t->nopnds + 1) * sizeof(uint32_t));
    struct zt_prog_s *p = apr_pcalloc(pool, sizeof(*p));
    zt_claim_slots_t *cs = zt_claim_slots_make(pool);

    for (uint32_t i = 0; i < t->nopnds; i++) {
        const zt_opnd_rec_t *o = &t->opnds[i];
        len[i] = (uint32_t)strlen(zt_table_str(t, o->str));
        slot[i] = o->kind == ZT_OPND_TOKEN
                  ? zt_claim_slots_add(cs, zt_table_str(t, o->str), o->n) : ZT_NONE;
    }
    zt_claim_slots_seal(cs);
    t->opnd_len = len;
    p->opnd_slot = slot;
    p->slots = cs;
    zt_prog_build(t, p, pool);
    t->prog = p;
}

uint32_t zt_eval_view_size(const zt_table_t *t)
{
    return t->prog != NULL ? zt_claim_slots_count(t->prog->slots) : 0;
}

void zt_eval_view(const zt_table_t *t, const zt_claims_t *c, uint32_t *view)
{
    if (t->prog != NULL) {
        zt_claims_view(c, t->prog->slots, view);
    }
}
