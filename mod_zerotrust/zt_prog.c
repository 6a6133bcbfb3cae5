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
#include <sys/mman.h>

#include "zt_eval.h"
#include "zt_prog.h"

/* Blocks beyond this budget are not built (their routes are decided
 * from the table): a table whose rules cover many routes each must not
 * make a load take unbounded memory. */
#define ZT_PROG_BUDGET(t)   (8 * (uint64_t)(t)->size + (1u << 20))

/* A growable array in malloc'd space. */
typedef struct {
    void *p;
    size_t n, cap;                  /* elements */
} zt_pvec_t;

/* Room for @a more elements of @a size bytes (none: still not NULL, so
 * that an empty string literal is not taken for a failure); NULL when
 * out of memory. */
static void *zt_pvec_grow(zt_pvec_t *v, size_t more, size_t size)
{
    if (v->p == NULL || v->n + more > v->cap) {
        size_t cap = v->cap ? v->cap : 64;
        void *p;
        while (cap < v->n + more) {
            cap *= 2;
        }
        if ((p = realloc(v->p, cap * size)) == NULL) {
            return NULL;
        }
        v->p = p;
        v->cap = cap;
    }
    return (char *)v->p + v->n * size;
}

/* A program being built. */
typedef struct {
    const zt_table_t *t;
    const uint32_t *opnd_slot;
    const zt_claim_slots_t *slots;
    const zt_route_rec_t *r;        /* the route being compiled */
    zt_pvec_t ins;                  /* zt_pins_t, last first */
    zt_pvec_t consts;               /* zt_popnd_t: IN_LIST members */
    zt_pvec_t bytes;                /* char: string literals */
    zt_pvec_t rules;                /* zt_prule_t: the route's block */
    int full;                       /* over ZT_PC_RULE, or out of memory */
    int path;                       /* a PATH operand was resolved */
} zt_pbuild_t;

/* A condition without PATH operands and of more instructions than this
 * is compiled once and called (ZT_PI_CALL) by every route that has it;
 * a smaller one is copied into each route's program. */
#define ZT_PROG_INLINE  4

/* The code being built, in malloc'd space: it moves as it grows, so it
 * is addressed by offsets. */
typedef struct {
    unsigned char *p;
    uint64_t len, cap, budget;
} zt_pcode_t;

#define ZT_PROG_UNSET   0xfffffffeu /* a shared condition not compiled yet */
#define ZT_PROG_INLINED 0xfffffffdu /* small: copied into each route */

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

static void zt_prog_operand(zt_pbuild_t *b, uint32_t idx, zt_popnd_t *o)
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
        b->path = 1;
        break;
    case ZT_OPND_STR: {   /* offset in the bytes; made the block's later */
        char *at = zt_pvec_grow(&b->bytes, t->opnd_len[idx], 1);
        if (at == NULL) {
            b->full = 1;
            break;
        }
        memcpy(at, zt_table_str(t, r->str), t->opnd_len[idx]);
        o->x = t->opnd_len[idx];
        o->y.idx = b->bytes.n;
        b->bytes.n += t->opnd_len[idx];
        break;
    }
    case ZT_OPND_INT:
    case ZT_OPND_BOOL:
        o->y.num = r->num;
        break;
    default:
        break;
    }
}

const char zt_weekdays[7][4] = {
    "thu", "fri", "sat", "sun", "mon", "tue", "wed"     /* 1970-01-01: Thu */
};

/* The days (bit d: zt_weekdays[d]) among the @a count listed at LIST
 * index @a first; anything else listed is never a weekday. */
static uint32_t zt_prog_days(const zt_table_t *t, uint32_t first, uint32_t count)
{
    uint32_t days = 0;

    for (uint32_t k = 0; k < count; k++) {
        uint32_t o = t->lists[first + k];
        for (uint32_t d = 0; d < 7 && t->opnds[o].kind == ZT_OPND_STR; d++) {
            int same = strcmp(zt_table_str(t, t->opnds[o].str), zt_weekdays[d]) == 0;
            days |= (uint32_t)same << d;
        }
    }
    return days;
}

/* Every one of the @a count constants at @a c is a string literal. */
static int zt_prog_all_strs(const zt_popnd_t *c, uint32_t count)
{
    for (uint32_t k = 0; k < count; k++) {
        if (c[k].kind != ZT_OPND_STR) {
            return 0;
        }
    }
    return 1;
}

static int zt_prog_is_claim(const zt_popnd_t *o)
{
    return o->kind == ZT_OPND_TOKEN && o->x != ZT_NONE;
}

/* Turn comparison @a in round: b op a, as a op' b. */
static void zt_prog_turn(zt_pins_t *in)
{
    zt_popnd_t o = in->a;

    in->a = in->b;
    in->b = o;
    switch (in->op) {
    case ZT_OP_LT: in->op = ZT_OP_GT; break;
    case ZT_OP_LE: in->op = ZT_OP_GE; break;
    case ZT_OP_GT: in->op = ZT_OP_LT; break;
    case ZT_OP_GE: in->op = ZT_OP_LE; break;
    default:       break;   /* EQ, NE */
    }
}

/* Choose how instruction @a in (of node @a n) runs with a claim view:
 * in->code, and what that code reads besides the operands. */
static void zt_prog_special(zt_pbuild_t *b, const zt_node_rec_t *n, zt_pins_t *in)
{
    const zt_table_t *t = b->t;
    int eq = in->op == ZT_OP_EQ || in->op == ZT_OP_NE;

    switch (in->op) {
    case ZT_OP_IN_CIDR:
        in->code = ZT_PI_IN_CIDR;
        return;
    case ZT_OP_IN_CLAIM:
        if (in->a.kind == ZT_OPND_STR && in->b.kind == ZT_OPND_TOKEN
            && (in->set = zt_claim_slots_set(b->slots, in->b.x)) != UINT32_MAX) {
            in->code = ZT_PI_SET_HAS;
            in->hash = zt_claims_member_hash(zt_table_str(t, t->opnds[n->a].str),
                                             t->opnd_len[n->a]);
        }
        return;
    case ZT_OP_IN_LIST:
        if (in->a.kind == ZT_OPND_TIME_WEEKDAY) {
            in->code = ZT_PI_WEEKDAY_IN;
            in->hash = zt_prog_days(t, n->b, n->c);
        }
        else if (b->full
                 || !zt_prog_all_strs((const zt_popnd_t *)b->consts.p + in->b.x, n->c)) {
            return;
        }
        else if (zt_prog_is_claim(&in->a)) {
            const zt_popnd_t *c = (const zt_popnd_t *)b->consts.p + in->b.x;
            in->code = ZT_PI_CLAIM_IN_STRS;
            for (uint32_t k = 0; k < n->c; k++) {
                in->hash |= 1u << (c[k].x & 31);
            }
        }
        else if (in->a.kind == ZT_OPND_TLS_VERSION) {
            in->code = ZT_PI_TLS_IN_STRS;
        }
        return;
    default:
        break;
    }
    if (zt_prog_is_claim(&in->b) && (in->a.kind == ZT_OPND_STR || in->a.kind == ZT_OPND_INT
                                     || in->a.kind == ZT_OPND_BOOL
                                     || in->a.kind == ZT_OPND_PATH)) {
        zt_prog_turn(in);   /* a literal or capture on the left */
    }
    if (!zt_prog_is_claim(&in->a)) {
        return;
    }
    switch (in->b.kind) {
    case ZT_OPND_STR:
        in->code = eq ? ZT_PI_CLAIM_STR : ZT_PI_GENERIC;
        break;
    case ZT_OPND_PATH:
        in->code = eq ? ZT_PI_CLAIM_PATH : ZT_PI_GENERIC;
        break;
    case ZT_OPND_BOOL:
    case ZT_OPND_INT:
        if (eq) {
            in->code = ZT_PI_CLAIM_NUM;
            in->set = in->b.kind == ZT_OPND_INT ? ZT_V_INT : ZT_V_BOOL;
        }
        else if (in->b.kind == ZT_OPND_INT) {
            in->code = ZT_PI_CLAIM_ORDER;
        }
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
    if (b->ins.n >= ZT_PC_RULE
        || (in = zt_pvec_grow(&b->ins, 1, sizeof(zt_pins_t))) == NULL) {
        b->full = 1;
        return no;
    }
    memset(in, 0, sizeof(*in));
    in->op = (uint16_t)n->op;
    in->t = (uint16_t)yes;
    in->f = (uint16_t)no;
    zt_prog_operand(b, n->a, &in->a);
    if (n->op == ZT_OP_IN_CIDR) {
        in->b.kind = ZT_OPND__COUNT;    /* not an operand: a CIDR range */
        in->b.x = n->b;
        in->b.y.num = n->c;
    }
    else if (n->op == ZT_OP_IN_LIST) {
        zt_popnd_t *c = zt_pvec_grow(&b->consts, n->c, sizeof(zt_popnd_t));
        in->b.kind = ZT_OPND__COUNT;    /* not an operand: constants */
        in->b.x = (uint32_t)b->consts.n;
        in->b.y.num = n->c;
        if (c == NULL) {
            b->full = 1;
        }
        for (uint32_t k = 0; c != NULL && k < n->c; k++) {
            zt_prog_operand(b, b->t->lists[n->b + k], &c[k]);
        }
        b->consts.n += c != NULL ? n->c : 0;
    }
    else {
        zt_prog_operand(b, n->b, &in->b);
    }
    zt_prog_special(b, n, in);
    return (uint32_t)b->ins.n++;
}

/* Emit a call of the program at @a sub in the code. */
static uint32_t zt_prog_call(zt_pbuild_t *b, uint32_t sub, uint32_t yes, uint32_t no)
{
    zt_pins_t *in = zt_pvec_grow(&b->ins, 1, sizeof(zt_pins_t));

    if (b->ins.n >= ZT_PC_RULE || in == NULL) {
        b->full = 1;
        return no;
    }
    memset(in, 0, sizeof(*in));
    in->op = ZT_OP_CALL;
    in->code = ZT_PI_CALL;
    in->t = (uint16_t)yes;
    in->f = (uint16_t)no;
    in->set = sub;
    in->a.kind = in->b.kind = ZT_OPND__COUNT;
    return (uint32_t)b->ins.n++;
}

static uint16_t zt_prog_flip(uint32_t pc, uint32_t n)
{
    return (uint16_t)(pc >= ZT_PC_RULE ? pc : n - 1 - pc);
}

/* A string literal's bytes at @a base + its offset in the bytes. */
static void zt_prog_place(zt_popnd_t *o, uint64_t base)
{
    if (o->kind == ZT_OPND_STR) {
        o->y.idx += base;
    }
}

static apr_status_t zt_unmap(void *data)
{
    void **m = data;

    munmap(m[0], (size_t)(uintptr_t)m[1]);
    return APR_SUCCESS;
}

void *zt_palloc_large(apr_pool_t *pool, size_t len)
{
    size_t huge = (size_t)2 << 20, size = (len + huge - 1) & ~(huge - 1);
    void *p, **m;

    if (len < huge / 2) {       /* small: the pool's own memory */
        return zt_palloc_aligned(pool, len);
    }
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return zt_palloc_aligned(pool, len);
    }
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE);    /* a hint; refused is fine */
#endif
    m = apr_palloc(pool, 2 * sizeof(void *));
    m[0] = p;
    m[1] = (void *)(uintptr_t)size;
    apr_pool_cleanup_register(pool, m, zt_unmap, apr_pool_cleanup_null);
    return p;
}

void *zt_palloc_aligned(apr_pool_t *pool, size_t len)
{
    uintptr_t p = (uintptr_t)apr_palloc(pool, len + 63);

    return (void *)((p + 63) & ~(uintptr_t)63);
}

/* @a need bytes (rounded up to 8) zeroed at the end of the code: their
 * offset, or ZT_NONE past the budget or out of memory. */
static uint32_t zt_pcode_alloc(zt_pcode_t *c, uint64_t need)
{
    uint64_t at = c->len;

    need = (need + 7) & ~(uint64_t)7;
    if (at + need > c->budget || at + need >= ZT_PROG_INLINED) {
        return ZT_NONE;
    }
    if (at + need > c->cap) {
        uint64_t cap = c->cap ? c->cap : 4096;
        unsigned char *p;
        while (cap < at + need) {
            cap *= 2;
        }
        if ((p = realloc(c->p, cap)) == NULL) {
            return ZT_NONE;
        }
        c->p = p;
        c->cap = cap;
    }
    memset(c->p + at, 0, need);
    c->len = at + need;
    return (uint32_t)at;
}

static void zt_prog_reset(zt_pbuild_t *b)
{
    b->ins.n = 0;
    b->consts.n = 0;
    b->bytes.n = 0;
    b->full = 0;
    b->path = 0;
}

/* Bytes of the program built in @a b, and where its literals start. */
static uint64_t zt_prog_base(const zt_pbuild_t *b)
{
    return sizeof(zt_pcond_t) + (uint64_t)b->ins.n * sizeof(zt_pins_t)
           + (uint64_t)b->consts.n * sizeof(zt_popnd_t);
}

/* Place the program built in @a b at the end of @a code, to start at
 * @a start: its offset, or ZT_NONE over the limits. */
static uint32_t zt_prog_write(const zt_pbuild_t *b, zt_pcode_t *code, uint32_t start)
{
    uint32_t n = (uint32_t)b->ins.n, at;
    uint64_t base = zt_prog_base(b);
    const zt_pins_t *ins = b->ins.p;
    zt_pcond_t *pc;
    zt_popnd_t *consts;

    if (b->full || (at = zt_pcode_alloc(code, base + b->bytes.n)) == ZT_NONE) {
        return ZT_NONE;
    }
    pc = (zt_pcond_t *)(void *)(code->p + at);
    pc->ninsns = n;
    pc->nconsts = (uint32_t)b->consts.n;
    pc->start = zt_prog_flip(start, n);     /* 0, or a verdict */
    for (uint32_t i = 0; i < n; i++) {
        zt_pins_t *in = &pc->ins[i];
        *in = ins[n - 1 - i];
        in->t = zt_prog_flip(in->t, n);
        in->f = zt_prog_flip(in->f, n);
        zt_prog_place(&in->a, base);
        zt_prog_place(&in->b, base);
    }
    consts = (zt_popnd_t *)(void *)(pc->ins + n);
    for (size_t k = 0; k < b->consts.n; k++) {
        consts[k] = ((const zt_popnd_t *)b->consts.p)[k];
        zt_prog_place(&consts[k], base);
    }
    if (b->bytes.n > 0) {
        memcpy((char *)pc + base, b->bytes.p, b->bytes.n);
    }
    return at;
}

/* Compile condition node @a cond into a program of its own at the end
 * of @a code (using the builder @a sb): its offset, or ZT_NONE. */
static uint32_t zt_prog_condition(zt_pbuild_t *sb, zt_pcode_t *code, uint32_t cond)
{
    zt_prog_reset(sb);
    return zt_prog_write(sb, code, zt_prog_cond(sb, cond, ZT_PC_YES, ZT_PC_NO));
}

/* Emit block rule @a k's condition into the route's program, to end at
 * ZT_PC_RULE + k when it holds and go on at @a next when not. */
static uint32_t zt_prog_rule(zt_pbuild_t *b, zt_pbuild_t *sb, zt_pcode_t *code,
                             uint32_t k, uint32_t next, uint32_t *shared)
{
    uint32_t rix = ((const zt_prule_t *)b->rules.p)[k].rule;
    uint32_t cond = b->t->rules[rix].cond, yes = ZT_PC_RULE + k, start;
    size_t nins = b->ins.n, nconsts = b->consts.n, nbytes = b->bytes.n;
    int path = b->path;

    if (cond == ZT_NONE) {
        return yes;
    }
    if (shared[rix] == ZT_PROG_UNSET || shared[rix] == ZT_PROG_INLINED) {
        b->path = 0;
        start = zt_prog_cond(b, cond, yes, next);
        if (b->path || b->ins.n - nins <= ZT_PROG_INLINE || b->full) {
            shared[rix] = b->path ? ZT_PROG_UNSET : ZT_PROG_INLINED;
            b->path |= path;
            return start;
        }
        b->ins.n = nins;            /* large and the same everywhere */
        b->consts.n = nconsts;
        b->bytes.n = nbytes;
        b->path = path;
        shared[rix] = zt_prog_condition(sb, code, cond);
    }
    if (shared[rix] == ZT_NONE) {
        b->full = 1;
        return next;
    }
    return zt_prog_call(b, shared[rix], yes, next);
}

/* Emit the chain of block rules @a from .. @a to - 1 (those that are
 * public only, when @a public), each tried when the one before does not
 * hold; the chain ends at ZT_PC_NO.  Returns where it starts. */
static uint32_t zt_prog_chain(zt_pbuild_t *b, zt_pbuild_t *sb, zt_pcode_t *code,
                              uint32_t from, uint32_t to, int public, uint32_t *shared)
{
    uint32_t next = ZT_PC_NO;

    for (uint32_t k = to; k-- > from; ) {
        if (!public || ((const zt_prule_t *)b->rules.p)[k].public) {
            next = zt_prog_rule(b, sb, code, k, next, shared);
        }
    }
    return next;
}

/* Append route @a ri's block and program (zt_prog.h) to @a code, and
 * before them the shared programs it calls that are not there yet: the
 * block's offset, or ZT_NONE over the limits. */
static uint32_t zt_prog_route(zt_pbuild_t *b, zt_pbuild_t *sb, zt_pcode_t *code,
                              uint32_t ri, uint32_t *shared)
{
    const zt_table_t *t = b->t;
    const zt_route_rec_t *r = &t->routes[ri];
    uint32_t ndeny = 0, deny, allow, anon, at, prog;
    zt_prule_t *rule;
    zt_proute_t *pr;

    if (r->rref_count >= ZT_PC_YES - ZT_PC_RULE) {
        return ZT_NONE;
    }
    b->rules.n = 0;
    if (r->rref_count > 0
        && zt_pvec_grow(&b->rules, r->rref_count, sizeof(zt_prule_t)) == NULL) {
        return ZT_NONE;
    }
    rule = b->rules.p;
    /* The denies, then the allows, each in rule order. */
    for (uint32_t pass = 0; pass < 2; pass++) {
        for (uint32_t k = 0; k < r->rref_count; k++) {
            uint32_t rix = t->rrefs[r->rref_first + k];
            const zt_rule_rec_t *rr = &t->rules[rix];

            if ((rr->effect == ZT_EFFECT_DENY) == (pass == 0)) {
                zt_prule_t *x = &rule[b->rules.n++];
                x->rule = rix;
                x->effect = (uint8_t)rr->effect;
                x->public = (rr->flags & ZT_RULE_PUBLIC) != 0;
                x->unused = 0;
                ndeny += pass == 0;
            }
        }
    }
    zt_prog_reset(b);
    b->r = r;
    allow = zt_prog_chain(b, sb, code, ndeny, r->rref_count, 0, shared);
    anon = zt_prog_chain(b, sb, code, ndeny, r->rref_count, 1, shared);
    deny = zt_prog_chain(b, sb, code, 0, ndeny, 0, shared);
    at = b->full ? ZT_NONE
                 : zt_pcode_alloc(code, sizeof(zt_proute_t)
                                        + (uint64_t)r->rref_count * sizeof(zt_prule_t));
    if (at == ZT_NONE || (prog = zt_prog_write(b, code, ZT_PC_NO)) == ZT_NONE) {
        return ZT_NONE;
    }
    pr = (zt_proute_t *)(void *)(code->p + at);
    pr->nrules = r->rref_count;
    pr->stepup = r->stepup;
    pr->prog = prog;
    pr->deny = zt_prog_flip(deny, (uint32_t)b->ins.n);
    pr->allow = zt_prog_flip(allow, (uint32_t)b->ins.n);
    pr->anon = zt_prog_flip(anon, (uint32_t)b->ins.n);
    pr->unused = 0;
    if (r->rref_count > 0) {
        memcpy(pr->rule, b->rules.p, r->rref_count * sizeof(zt_prule_t));
    }
    return at;
}

static void zt_pbuild_free(zt_pbuild_t *b)
{
    free(b->ins.p);
    free(b->consts.p);
    free(b->bytes.p);
    free(b->rules.p);
}

static void zt_prog_build(zt_table_t *t, struct zt_prog_s *p, apr_pool_t *pool)
{
    uint32_t *route = apr_palloc(pool, ((size_t)t->nroutes + 1) * sizeof(uint32_t));
    uint32_t *shared = malloc(((size_t)t->nrules + 1) * sizeof(uint32_t));
    zt_pcode_t code = { NULL, 0, 0, ZT_PROG_BUDGET(t) };
    zt_pbuild_t b, sb;

    memset(&b, 0, sizeof(b));
    b.t = t;
    b.opnd_slot = p->opnd_slot;
    b.slots = p->slots;
    sb = b;
    for (uint32_t i = 0; i < t->nrules && shared != NULL; i++) {
        shared[i] = ZT_PROG_UNSET;
    }
    for (uint32_t i = 0; i < t->nroutes; i++) {
        sb.r = &t->routes[i];
        route[i] = shared != NULL ? zt_prog_route(&b, &sb, &code, i, shared) : ZT_NONE;
        p->nblocks += route[i] != ZT_NONE;
    }
    zt_pbuild_free(&b);
    zt_pbuild_free(&sb);
    free(shared);
    /* Copy at its size, in large pages when it is large. */
    p->code = zt_palloc_large(pool, code.len + 8);
    if (code.len > 0) {
        memcpy((void *)p->code, code.p, code.len);
    }
    free(code.p);
    p->code_len = code.len;
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
    for (uint32_t i = 0; i < t->nnodes; i++) {     /* "x" in token.scope */
        const zt_node_rec_t *n = &t->nodes[i];
        if (n->op == ZT_OP_IN_CLAIM && t->opnds[n->a].kind == ZT_OPND_STR
            && slot[n->b] != ZT_NONE) {
            zt_claim_slots_index(cs, slot[n->b]);
        }
    }
    zt_claim_slots_seal(cs);
    t->opnd_len = len;
    p->opnd_slot = slot;
    p->slots = cs;
    p->no_claims = zt_palloc_aligned(pool, ((size_t)zt_claim_slots_view_size(cs) + 1)
                                           * sizeof(uint32_t));
    zt_claims_view(NULL, cs, (uint32_t *)p->no_claims);
    zt_prog_build(t, p, pool);
    t->prog = p;
}

uint32_t zt_eval_view_size(const zt_table_t *t)
{
    return t->prog != NULL ? zt_claim_slots_view_size(t->prog->slots) : 0;
}

void zt_eval_view(const zt_table_t *t, const zt_claims_t *c, uint32_t *view)
{
    if (t->prog != NULL) {
        zt_claims_view(c, t->prog->slots, view);
    }
}
