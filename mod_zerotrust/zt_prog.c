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

#include <apr_hash.h>
#include <apr_strings.h>

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

/* The code being built, in malloc'd space: it moves as it grows, so it
 * is addressed by offsets.  Literals and lists are kept once (lits:
 * their bytes, with a first byte telling the two apart, to their
 * offset). */
typedef struct {
    unsigned char *p;
    uint64_t len, cap, budget;
    apr_hash_t *lits;
    apr_pool_t *tmp;
} zt_pcode_t;

/* An instruction being built: its operands as resolved, before it is
 * packed into a zt_pins_t (zt_prog_pack). */
typedef struct {
    uint16_t op, code, t, f;
    uint32_t hash, set;         /* as zt_pins_t y and slot, by code */
    uint32_t list;              /* CLAIM_IN_STRS, TLS_IN_STRS: zt_plist */
    zt_popnd_t a, b;
} zt_pwide_t;

/* A rule of the route block being built, in the order it runs. */
typedef struct {
    uint32_t rule;              /* RULE index */
    uint32_t end;               /* its end instruction */
    int deny, public;
} zt_pbrule_t;

/* A program being built. */
typedef struct {
    const zt_table_t *t;
    const uint32_t *opnd_slot;
    const zt_claim_slots_t *slots;
    const zt_route_rec_t *r;        /* the route being compiled */
    zt_pcode_t *code;
    zt_pvec_t ins;                  /* zt_pwide_t, last first */
    uint32_t nends;                 /* the ends: emitted first of all
                                       (zt_prog_write checks) */
    zt_pvec_t consts;               /* zt_popnd_t: IN_LIST members */
    zt_pvec_t rules;                /* zt_pbrule_t: the route's block */
    int full;                       /* over ZT_PROG_MAX_INSNS, the budget,
                                       or out of memory */
} zt_pbuild_t;

/* A condition without PATH operands and of more instructions than this
 * is compiled once and called (ZT_PI_CALL) by every route that has it;
 * a smaller one is copied into each route's program. */
#define ZT_PROG_INLINE  4

#define ZT_PROG_UNSET   0xfffffffeu /* a shared condition not compiled yet */
#define ZT_PROG_LIMIT   0xfffffff0u /* code offsets stay below */
#define ZT_PROG_HEAD    16          /* zero bytes the code starts with */
#define ZT_PROG_ALIGN   64          /* where blocks and programs start */
/* A route's entry keeps its line count in the bits the alignment leaves
 * zero; and never equals ZT_NONE: that would need a block of 63 more
 * lines starting past ZT_PROG_LIMIT. */
_Static_assert(ZT_PROG_ALIGN > ZT_PROG_LINES, "an entry's line count fits below its offset");

/* @a need bytes (rounded up to 8) zeroed at the end of the code, the
 * one @a lead bytes in (a multiple of 8) on a multiple of @a align (a
 * power of two, 8 or more): their offset, or ZT_NONE past the budget or
 * out of memory. */
static uint32_t zt_pcode_alloc(zt_pcode_t *c, uint64_t need, uint64_t align, uint64_t lead)
{
    uint64_t from = c->len, at = ((from + lead + align - 1) & ~(align - 1)) - lead;

    need = (need + 7) & ~(uint64_t)7;
    if (at + need > c->budget || at + need >= ZT_PROG_LIMIT) {
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
    memset(c->p + from, 0, at + need - from);
    c->len = at + need;
    return (uint32_t)at;
}

/* The offset of @a len bytes at @a key (its first byte a kind) once in
 * the code: the same bytes asked for again get the same offset.  The
 * bytes themselves are key + 1, stored @a skip bytes into the place. */
static uint32_t zt_pcode_intern(zt_pcode_t *c, const char *key, size_t len, uint32_t skip)
{
    uintptr_t found = (uintptr_t)apr_hash_get(c->lits, key, (apr_ssize_t)len);
    uint32_t at;

    if (found != 0) {
        return (uint32_t)(found - 1);
    }
    if ((at = zt_pcode_alloc(c, len - 1 + 1, 8, 0)) == ZT_NONE) {    /* and a NUL */
        return ZT_NONE;
    }
    memcpy(c->p + at, key + 1, len - 1);
    at += skip;
    apr_hash_set(c->lits, apr_pmemdup(c->tmp, key, len), (apr_ssize_t)len,
                 (void *)(uintptr_t)(at + 1));
    return at;
}

/* The code offset of literal @a s (zt_plit), or ZT_NONE. */
static uint32_t zt_pcode_lit(zt_pcode_t *c, const char *s, uint32_t len)
{
    char *key = malloc((size_t)len + 5);
    uint32_t at;

    if (key == NULL) {
        return ZT_NONE;
    }
    key[0] = 's';
    memcpy(key + 1, &len, 4);
    memcpy(key + 5, s, len);
    at = zt_pcode_intern(c, key, (size_t)len + 5, 4);
    free(key);
    return at;
}

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
        break;
    case ZT_OPND_STR:
        o->x = t->opnd_len[idx];
        o->y.idx = zt_pcode_lit(b->code, zt_table_str(t, r->str), t->opnd_len[idx]);
        b->full |= o->y.idx == ZT_NONE;
        break;
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

const char zt_tls_versions[4][8] = { "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" };

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

/* The @a count string literals listed at LIST index @a first as one
 * zt_plist in the code: its offset, or ZT_NONE (also when one is not a
 * string). */
static uint32_t zt_prog_list(zt_pbuild_t *b, uint32_t first, uint32_t count)
{
    const zt_table_t *t = b->t;
    size_t len = 1 + 4;
    char *key, *p;
    uint32_t at;

    for (uint32_t k = 0; k < count; k++) {
        uint32_t o = t->lists[first + k];
        if (t->opnds[o].kind != ZT_OPND_STR) {
            return ZT_NONE;
        }
        len += 4 + (size_t)t->opnd_len[o] + 1;
    }
    if ((key = p = malloc(len)) == NULL) {
        return ZT_NONE;
    }
    *p++ = 'l';
    memcpy(p, &count, 4);
    p += 4;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t o = t->lists[first + k], n = t->opnd_len[o];
        memcpy(p, &n, 4);
        memcpy(p + 4, zt_table_str(t, t->opnds[o].str), n);
        p[4 + n] = '\0';
        p += 4 + (size_t)n + 1;
    }
    at = zt_pcode_intern(b->code, key, len, 0);
    free(key);
    return at;
}

static int zt_prog_is_claim(const zt_popnd_t *o)
{
    return o->kind == ZT_OPND_TOKEN && o->x != ZT_NONE;
}

/* Turn comparison @a in round: b op a, as a op' b. */
static void zt_prog_turn(zt_pwide_t *in)
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

/* Choose how instruction @a in (of node @a n) runs: in->code, and what
 * that code reads besides the operands. */
static void zt_prog_special(zt_pbuild_t *b, const zt_node_rec_t *n, zt_pwide_t *in)
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
        else if ((zt_prog_is_claim(&in->a) || in->a.kind == ZT_OPND_TLS_VERSION)
                 && (in->list = zt_prog_list(b, n->b, n->c)) != ZT_NONE) {
            in->code = in->a.kind == ZT_OPND_TLS_VERSION ? ZT_PI_TLS_IN_STRS
                                                          : ZT_PI_CLAIM_IN_STRS;
            for (uint32_t k = 0; k < n->c; k++) {
                const char *m = zt_table_str(t, t->opnds[t->lists[n->b + k]].str);
                for (uint32_t v = 0; in->code == ZT_PI_TLS_IN_STRS && v < 4; v++) {
                    in->hash |= (uint32_t)(strcmp(m, zt_tls_versions[v]) == 0) << v;
                }
                if (in->code == ZT_PI_CLAIM_IN_STRS) {
                    in->hash |= 1u << (t->opnd_len[t->lists[n->b + k]] & 31);
                }
            }
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
        in->code = eq ? ZT_PI_CLAIM_BOOL : ZT_PI_GENERIC;
        break;
    case ZT_OPND_INT:
        in->code = eq ? ZT_PI_CLAIM_INT : ZT_PI_CLAIM_ORDER;
        break;
    default:
        break;
    }
}

/* Room for one more instruction, zeroed; NULL (and the program full)
 * past 16-bit pcs or out of memory. */
static zt_pwide_t *zt_prog_ins(zt_pbuild_t *b)
{
    zt_pwide_t *in;

    if (b->ins.n >= ZT_PROG_MAX_INSNS
        || (in = zt_pvec_grow(&b->ins, 1, sizeof(zt_pwide_t))) == NULL) {
        b->full = 1;
        return NULL;
    }
    memset(in, 0, sizeof(*in));
    return in;
}

/* Emit end @a code (zt_pend_t) of RULE @a rule with ZT_PEND_* @a flags;
 * returns where it is (0 when the program is full: it is not run).  A
 * program's ends are emitted before its other instructions, so that
 * they are laid out after them (zt_prog_write). */
static uint32_t zt_prog_end(zt_pbuild_t *b, uint32_t code, uint32_t rule, uint32_t flags)
{
    zt_pwide_t *in;

    if ((in = zt_prog_ins(b)) == NULL) {
        return 0;
    }
    b->nends++;
    in->code = (uint16_t)code;
    in->op = (uint16_t)flags;
    in->list = rule;
    in->a.kind = in->b.kind = ZT_OPND__COUNT;
    return (uint32_t)b->ins.n++;
}

/* Emit the instructions of node @a ni, to continue at @a yes when it holds
 * and at @a no when not; returns where it starts.  Instructions are
 * emitted successors first and reversed later, so indices here count from
 * the end. */
static uint32_t zt_prog_cond(zt_pbuild_t *b, uint32_t ni, uint32_t yes, uint32_t no)
{
    const zt_node_rec_t *n = &b->t->nodes[ni];
    zt_pwide_t *in;

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
    if ((in = zt_prog_ins(b)) == NULL) {
        return no;
    }
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

/* Emit a call of the shared program at @a sub in the code, which starts
 * at @a start. */
static uint32_t zt_prog_call(zt_pbuild_t *b, uint32_t sub, uint32_t start,
                             uint32_t yes, uint32_t no)
{
    zt_pwide_t *in = zt_prog_ins(b);

    if (in == NULL) {
        return no;
    }
    in->code = ZT_PI_CALL;
    in->t = (uint16_t)yes;
    in->f = (uint16_t)no;
    in->set = start;
    in->list = sub;
    in->a.kind = in->b.kind = ZT_OPND__COUNT;
    return (uint32_t)b->ins.n++;
}

/* Where instruction @a pc (as emitted) of the @a n of a program lies, in
 * 8-byte units from its first: they are laid out last first, so its
 * @a nends ends last, 8 bytes each, after the others' 16. */
static uint16_t zt_prog_unit(uint32_t pc, uint32_t n, uint32_t nends)
{
    uint32_t i = n - 1 - pc, nfull = n - nends;

    return (uint16_t)(i < nfull ? 2 * i : 2 * nfull + (i - nfull));
}

/* Pack @a w into 16 bytes; ZT_PI_GENERIC (its operands in a zt_pside_t)
 * when a field does not fit. */
static void zt_prog_pack(const zt_pwide_t *w, zt_pins_t *in)
{
    uint32_t slot = w->code == ZT_PI_SET_HAS ? w->set : w->a.x;
    uint64_t num = (uint64_t)w->b.y.num;

    in->code = (uint8_t)w->code;
    in->op = (uint8_t)w->op;
    in->slot = (uint16_t)slot;
    in->x = in->y = 0;
    switch (w->code) {
    case ZT_PI_SET_HAS:
        in->x = (uint32_t)w->a.y.idx;
        in->y = w->hash;
        break;
    case ZT_PI_CLAIM_STR:
        in->x = (uint32_t)w->b.y.idx;
        in->y = w->b.x;
        break;
    case ZT_PI_CLAIM_INT:
    case ZT_PI_CLAIM_BOOL:
    case ZT_PI_CLAIM_ORDER:
        in->x = (uint32_t)num;
        in->y = (uint32_t)(num >> 32);
        break;
    case ZT_PI_CLAIM_PATH:
        in->x = w->b.x;
        break;
    case ZT_PI_CLAIM_IN_STRS:
    case ZT_PI_TLS_IN_STRS:
        in->x = w->list;
        in->y = w->hash;
        break;
    case ZT_PI_WEEKDAY_IN:
        in->y = w->hash;
        break;
    case ZT_PI_IN_CIDR:
        in->x = w->b.x;
        in->y = (uint32_t)w->b.y.num;
        break;
    case ZT_PI_CALL:
        in->slot = (uint16_t)w->set;
        in->x = w->list;
        break;
    default:
        break;
    }
    if (w->code >= ZT_PI_SET_HAS && w->code <= ZT_PI_CLAIM_IN_STRS && slot > UINT16_MAX) {
        in->code = ZT_PI_GENERIC;       /* a claim or set past 16 bits */
    }
}

/* Place the program built in @a b at the end of the code, its first
 * instruction on a cache line: for a route (@a route), its header (just
 * before that line), then the instructions, then its ends; its GENERIC
 * instructions' operands follow, then the constants of their lists.  The offset of the header, or of the first instruction of a
 * shared program; ZT_NONE over the limits. */
static uint32_t zt_prog_write(const zt_pbuild_t *b, int route)
{
    uint32_t n = (uint32_t)b->ins.n, nends = b->nends, nside = 0, nconsts = 0, at;
    const zt_pwide_t *w = b->ins.p;
    uint64_t ins = route ? sizeof(zt_proute_t) : 0, side, consts;
    unsigned char *first;
    zt_pside_t *sd;
    zt_popnd_t *c;

    for (uint32_t i = nends; i < n; i++) {
        zt_pins_t probe;
        if (w[i].code >= ZT_PI_DENY) {
            return ZT_NONE;     /* an end emitted late: not laid out last */
        }
        zt_prog_pack(&w[i], &probe);
        if (probe.code == ZT_PI_GENERIC) {
            nside++;
            nconsts += w[i].op == ZT_OP_IN_LIST ? (uint32_t)w[i].b.y.num : 0;
        }
    }
    side = ins + (uint64_t)(n - nends) * sizeof(zt_pins_t) + (uint64_t)nends * sizeof(zt_pend_t);
    consts = side + (uint64_t)nside * sizeof(zt_pside_t);
    if (b->full || (at = zt_pcode_alloc(b->code, consts + (uint64_t)nconsts * sizeof(zt_popnd_t),
                                        ZT_PROG_ALIGN, ins)) == ZT_NONE) {
        return ZT_NONE;
    }
    first = b->code->p + at + ins;
    sd = (zt_pside_t *)(void *)(b->code->p + at + side);
    c = (zt_popnd_t *)(void *)(b->code->p + at + consts);
    for (uint32_t pc = 0; pc < n; pc++) {
        const zt_pwide_t *wi = &w[pc];
        uint16_t here = zt_prog_unit(pc, n, nends);
        zt_pins_t *in = (zt_pins_t *)(void *)(first + 8 * (size_t)here);

        if (wi->code >= ZT_PI_DENY) {
            zt_pend_t *e = (zt_pend_t *)(void *)in;
            e->code = (uint8_t)wi->code;
            e->flags = (uint8_t)wi->op;
            e->next = wi->code == ZT_PI_ALLOW ? zt_prog_unit(wi->set, n, nends) : 0;
            e->rule = wi->list;
            continue;
        }
        zt_prog_pack(wi, in);           /* successors: how far ahead */
        in->t = (uint16_t)(zt_prog_unit(wi->t, n, nends) - here);
        in->f = (uint16_t)(zt_prog_unit(wi->f, n, nends) - here);
        if (in->code != ZT_PI_GENERIC) {
            continue;
        }
        in->x = (uint32_t)((unsigned char *)sd - b->code->p);
        sd->a = wi->a;
        sd->b = wi->b;
        if (wi->op == ZT_OP_IN_LIST) {     /* its constants, after the sides */
            sd->b.x = (uint32_t)((unsigned char *)c - b->code->p);
            memcpy(c, (const zt_popnd_t *)b->consts.p + wi->b.x,
                   (size_t)wi->b.y.num * sizeof(zt_popnd_t));
            c += wi->b.y.num;
        }
        sd++;
    }
    return at;
}

/* Instructions of condition node @a ni and whether it reads a capture
 * (*path), without emitting them. */
static uint32_t zt_prog_size(const zt_table_t *t, uint32_t ni, int *path)
{
    const zt_node_rec_t *n = &t->nodes[ni];

    switch (n->op) {
    case ZT_OP_TRUE:
        return 0;
    case ZT_OP_AND:
    case ZT_OP_OR:
        return zt_prog_size(t, n->a, path) + zt_prog_size(t, n->b, path);
    case ZT_OP_NOT:
        return zt_prog_size(t, n->a, path);
    case ZT_OP_IN_CIDR:
        return t->opnds[n->a].kind == ZT_OPND_CLIENT_IP;
    case ZT_OP_IN_LIST:
        for (uint32_t k = 0; k < n->c; k++) {
            *path |= t->opnds[t->lists[n->b + k]].kind == ZT_OPND_PATH;
        }
        break;
    default:
        *path |= t->opnds[n->b].kind == ZT_OPND_PATH;
        break;
    }
    *path |= t->opnds[n->a].kind == ZT_OPND_PATH;
    return 1;
}

/* Compile condition node @a cond into a shared program of its own at the
 * end of the code (using the builder @a sb), ending at ZT_PI_YES or
 * ZT_PI_NO; its offset and, in *start, its first pc; ZT_NONE over the
 * limits. */
static uint32_t zt_prog_condition(zt_pbuild_t *sb, uint32_t cond, uint32_t *start)
{
    uint32_t pc, no, yes;

    sb->ins.n = 0;
    sb->nends = 0;
    sb->consts.n = 0;
    sb->full = 0;
    no = zt_prog_end(sb, ZT_PI_NO, 0, 0);
    yes = zt_prog_end(sb, ZT_PI_YES, 0, 0);
    pc = zt_prog_cond(sb, cond, yes, no);
    *start = zt_prog_unit(pc, (uint32_t)sb->ins.n, sb->nends);
    return zt_prog_write(sb, 0);
}

/* Per RULE: ZT_PROG_UNSET, ZT_PROG_COPY (copied into each route's
 * program), ZT_NONE (shared, but past the limits), or the offset of its
 * shared program, with its start. */
typedef struct {
    uint32_t at, start;
} zt_pshared_t;

#define ZT_PROG_COPY    0xfffffffdu

/* Emit block rule @a k's condition into the route's program, to go to
 * its end when it holds and on at @a next when not.  Whether a condition
 * is shared is decided once, by its size, whatever route meets it
 * first. */
static uint32_t zt_prog_rule(zt_pbuild_t *b, zt_pbuild_t *sb, uint32_t k, uint32_t next,
                             zt_pshared_t *shared)
{
    const zt_pbrule_t *br = &((const zt_pbrule_t *)b->rules.p)[k];
    uint32_t rix = br->rule, cond = b->t->rules[rix].cond, yes = br->end;
    zt_pshared_t *sh = &shared[rix];

    if (cond == ZT_NONE) {
        return yes;
    }
    if (sh->at == ZT_PROG_UNSET) {
        int path = 0;
        sh->at = ZT_PROG_COPY;
        if (zt_prog_size(b->t, cond, &path) > ZT_PROG_INLINE && !path) {
            sh->at = zt_prog_condition(sb, cond, &sh->start);
        }
    }
    if (sh->at == ZT_NONE) {
        b->full = 1;
        return next;
    }
    if (sh->at == ZT_PROG_COPY) {
        return zt_prog_cond(b, cond, yes, next);
    }
    return zt_prog_call(b, sh->at, sh->start, yes, next);
}

/* Emit the chain of block rules @a from .. @a to - 1, each tried when
 * the one before does not hold; the chain ends at @a next, and so does
 * an allow's end without a token when the allow is not public.  Returns
 * where it starts. */
static uint32_t zt_prog_chain(zt_pbuild_t *b, zt_pbuild_t *sb, uint32_t from, uint32_t to,
                              uint32_t next, zt_pshared_t *shared)
{
    for (uint32_t k = to; k-- > from; ) {
        const zt_pbrule_t *br = &((const zt_pbrule_t *)b->rules.p)[k];
        if (!br->deny && !b->full) {
            ((zt_pwide_t *)b->ins.p)[br->end].set = next;
        }
        next = zt_prog_rule(b, sb, k, next, shared);
    }
    return next;
}

/* Append route @a ri's block (zt_prog.h) to the code, and before it the
 * literals and shared programs it reads that are not there yet: the
 * route's entry (ZT_PROG_LINES), or ZT_NONE over the limits. */
static uint32_t zt_prog_route(zt_pbuild_t *b, zt_pbuild_t *sb, uint32_t ri,
                              zt_pshared_t *shared)
{
    const zt_table_t *t = b->t;
    const zt_route_rec_t *r = &t->routes[ri];
    uint32_t ndeny = 0, deny, allow, none, at, n, lines;
    zt_pbrule_t *rule;
    zt_proute_t *pr;

    b->rules.n = 0;
    if (r->rref_count > 0
        && zt_pvec_grow(&b->rules, r->rref_count, sizeof(zt_pbrule_t)) == NULL) {
        return ZT_NONE;
    }
    rule = b->rules.p;
    /* The denies, then the allows, each in rule order. */
    for (uint32_t pass = 0; pass < 2; pass++) {
        for (uint32_t k = 0; k < r->rref_count; k++) {
            uint32_t rix = t->rrefs[r->rref_first + k];
            const zt_rule_rec_t *rr = &t->rules[rix];

            if ((rr->effect == ZT_EFFECT_DENY) == (pass == 0)) {
                zt_pbrule_t *x = &rule[b->rules.n++];
                x->rule = rix;
                x->deny = pass == 0;
                x->public = (rr->flags & ZT_RULE_PUBLIC) != 0;
                ndeny += x->deny;
            }
        }
    }
    b->ins.n = 0;
    b->nends = 0;
    b->consts.n = 0;
    b->full = 0;
    b->r = r;
    sb->r = r;
    /* Emitted last first.  Laid out: the denies, the allows, the end of
     * no rule, then the rules' ends in rule order, out of the way of the
     * comparisons a run reads; a run reads one end. */
    for (uint32_t k = b->rules.n; k-- > 0; ) {
        zt_pbrule_t *x = &rule[k];
        x->end = zt_prog_end(b, x->deny ? ZT_PI_DENY : ZT_PI_ALLOW, x->rule,
                             (x->public ? ZT_PEND_PUBLIC : 0)
                             | (!x->deny && r->stepup != ZT_NONE ? ZT_PEND_STEPUP : 0));
    }
    none = zt_prog_end(b, ZT_PI_NONE, 0, 0);
    allow = zt_prog_chain(b, sb, ndeny, r->rref_count, none, shared);
    deny = zt_prog_chain(b, sb, 0, ndeny, allow, shared);
    if (deny + 1 != b->ins.n) {         /* a run starts at the first */
        zt_pwide_t *in = zt_prog_ins(b);
        if (in != NULL) {
            in->code = ZT_PI_JUMP;
            in->t = in->f = (uint16_t)deny;
            in->a.kind = in->b.kind = ZT_OPND__COUNT;
            b->ins.n++;
        }
    }
    at = zt_prog_write(b, 1);
    if (at == ZT_NONE) {
        return ZT_NONE;
    }
    n = (uint32_t)b->ins.n;
    pr = (zt_proute_t *)(void *)(b->code->p + at);
    pr->stepup = r->stepup;
    pr->ninsns = (uint16_t)(n - b->nends);
    pr->nends = (uint16_t)b->nends;
    lines = ((uint32_t)pr->ninsns * sizeof(zt_pins_t)
             + (uint32_t)pr->nends * sizeof(zt_pend_t) - 1) / 64;
    return (at + (uint32_t)sizeof(*pr)) | (lines < ZT_PROG_LINES ? lines : ZT_PROG_LINES);
}

static void zt_pbuild_free(zt_pbuild_t *b)
{
    free(b->ins.p);
    free(b->consts.p);
    free(b->rules.p);
}

static void zt_prog_build(zt_table_t *t, struct zt_prog_s *p, apr_pool_t *pool)
{
    uint32_t *route = apr_palloc(pool, ((size_t)t->nroutes + 1) * sizeof(uint32_t));
    zt_pshared_t *shared = malloc(((size_t)t->nrules + 1) * sizeof(zt_pshared_t));
    zt_pcode_t code;
    zt_pbuild_t b, sb;

    memset(&code, 0, sizeof(code));
    code.budget = ZT_PROG_BUDGET(t);
    memset(&b, 0, sizeof(b));
    b.t = t;
    b.opnd_slot = p->opnd_slot;
    b.slots = p->slots;
    b.code = &code;
    sb = b;
    for (uint32_t i = 0; i < t->nrules && shared != NULL; i++) {
        shared[i].at = ZT_PROG_UNSET;
    }
    if (shared == NULL || apr_pool_create(&code.tmp, pool) != APR_SUCCESS
        || zt_pcode_alloc(&code, ZT_PROG_HEAD, 8, 0) == ZT_NONE) {
        free(shared);
        shared = NULL;
    }
    else {
        code.lits = apr_hash_make(code.tmp);
    }
    for (uint32_t i = 0; i < t->nroutes; i++) {
        route[i] = shared != NULL ? zt_prog_route(&b, &sb, i, shared) : ZT_NONE;
        p->nblocks += route[i] != ZT_NONE;
    }
    zt_pbuild_free(&b);
    zt_pbuild_free(&sb);
    free(shared);
    if (code.tmp != NULL) {
        apr_pool_destroy(code.tmp);
    }
    /* Copy at its size, in large pages when it is large. */
    p->code = zt_palloc_large(pool, code.len + 8);
    if (code.len > 0) {
        memcpy((void *)p->code, code.p, code.len);
    }
    free(code.p);
    p->code_len = code.len;
    p->route = route;
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
