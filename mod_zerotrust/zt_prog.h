/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Decision programs: what zt_eval_prepare (zt_prog.c) derives from a
 * verified table once, at load, and zt_eval_decide (zt_eval.c) runs.
 * Internal to the core (the route trie shares zt_palloc_large; test_eval
 * reads the layout to compare programs with the node trees).
 *
 * Each route gets a block listing the rules that apply to it, its deny
 * rules first, then its allow rules, each in rule order; right after it,
 * one program decides among them:
 *
 *   route:      +-------------+--------------------+----------------------+
 *               | zt_proute_t | nrules x zt_prule_t| its program:         |
 *               +-------------+--------------------+----------------------+
 *   program:    +-----------+------------+-------------+----------------+
 *               | zt_pcond_t| ninsns x   | nconsts x   | literal bytes  |
 *               |           | zt_pins_t  | zt_popnd_t  |                |
 *               +-----------+------------+-------------+----------------+
 *
 * An instruction is one comparison (EQ .. IN_CIDR) with two successors,
 * the instruction to run next when it holds and when it does not, or an
 * end: ZT_PC_RULE + k, block rule k's condition holds; ZT_PC_NO, none
 * did.  AND, OR, NOT and TRUE become edges, not instructions, and so do
 * the rules: a condition that does not hold goes on to the next rule's,
 * so a decision is one run with no recursion, each comparison at most
 * once.  Successors always lie after their instruction, so a run ends
 * within the program.  A route's program has three ways in: its denies
 * (deny), its allows (allow) and its public allows (anon, without a
 * token), each a chain in block order ending at ZT_PC_NO.  Deny overrides
 * allow and the first deny in rule order decides, so the denies run
 * first; then the first allow that holds is the one that decides.
 *
 * Operands are resolved: a TOKEN operand is a claim slot (zt_claims.h), a
 * PATH operand the index of its segment in the route's path, a string
 * literal its length and its bytes, copied into the program; the members
 * of an IN_LIST are constants of the program; the rest keep their OPND
 * index.  Each instruction also says how to run it when the claims are
 * read through a view (ZT_PI_*, chosen from its operands' kinds): most
 * are a few loads and compares of the claim's decoded value against a
 * literal, with no call.
 *
 * A condition without PATH operands is the same for every route: when
 * it is large (over ZT_PROG_INLINE instructions) it is compiled once, as
 * a program of its own that ends at ZT_PC_YES or ZT_PC_NO, and the
 * routes' programs call it (ZT_PI_CALL), so a policy's global rules
 * stay in cache and in budget; a small one is copied into each route's
 * program.  Shared programs come before the block of the first route
 * that uses them, so a route's program is one run of memory near its
 * neighbours', instead of the table's rules, nodes, operands and strings
 * scattered over a large table.  A route whose program would take the
 * code past the memory budget, or past 16-bit pcs, has no block and is
 * decided from the table itself, with the same semantics.
 */
#ifndef ZT_PROG_H
#define ZT_PROG_H

#include <stdint.h>
#include "zt_claims.h"
#include "zt_table.h"

#define ZT_PC_RULE  0x8000u     /* + k: block rule k holds; below it,
                                   pcs of instructions */
#define ZT_PC_YES   0xfffeu     /* a shared program's condition holds */
#define ZT_PC_NO    0xffffu     /* it does not; no rule of the chain holds */

/* The op of an instruction that runs a shared program (ZT_PI_CALL). */
#define ZT_OP_CALL  ZT_OP__COUNT

/* An operand resolved for one route. */
typedef struct {
    uint32_t kind;              /* ZT_OPND_* */
    uint32_t x;                 /* TOKEN: claim slot; PATH: segment index,
                                   or ZT_NONE; STR: length; IN_LIST b: its
                                   first constant; IN_CIDR b: first CIDR */
    union {
        int64_t num;            /* INT, BOOL: value; list or CIDR b: count */
        uint64_t idx;           /* STR: offset of its bytes in the program;
                                   anything else, and TOKEN: OPND index */
    } y;
} zt_popnd_t;

/* How an instruction runs with a claim view.  A TOKEN operand of the
 * specialised ones is always a (a comparison with the claim on the right
 * is turned round at load), its slot in a.x. */
enum {
    ZT_PI_GENERIC = 0,  /* operand by operand, as without a view */
    ZT_PI_SET_HAS,      /* IN_CLAIM of STR a in TOKEN b, a set every view
                           indexes (zt_claim_slots_index): hash is a's
                           member hash, set the index's place in the view */
    ZT_PI_CLAIM_STR,    /* EQ, NE: TOKEN a, STR b (CLAIM_*: a's claim
                           is read before the case) */
    ZT_PI_CLAIM_NUM,    /* EQ, NE: TOKEN a, INT or BOOL b */
    ZT_PI_CLAIM_PATH,   /* EQ, NE: TOKEN a, PATH b */
    ZT_PI_CLAIM_ORDER,  /* LT, LE, GT, GE: TOKEN a, INT b */
    ZT_PI_CLAIM_IN_STRS,/* IN_LIST: TOKEN a, every constant a STR; hash
                           has bit (length % 32) of each */
    ZT_PI_TLS_IN_STRS,  /* IN_LIST: TLS_VERSION a, every constant a STR */
    ZT_PI_WEEKDAY_IN,   /* IN_LIST: TIME_WEEKDAY a; hash the days listed,
                           bit d for day d after a Thursday */
    ZT_PI_IN_CIDR,      /* IN_CIDR */
    ZT_PI_CALL          /* ZT_OP_CALL: set is the offset of the shared
                           program in the code; holds when it does */
};

typedef struct {
    uint16_t op;                /* ZT_OP_EQ .. ZT_OP_IN_CIDR */
    uint16_t code;              /* ZT_PI_* */
    uint16_t t, f;              /* next pc when it holds / not, or ZT_PC_* */
    uint32_t hash, set;         /* ZT_PI_SET_HAS, ZT_PI_WEEKDAY_IN; set:
                                   ZT_PI_CLAIM_NUM: b's ZT_V_INT/BOOL */
    zt_popnd_t a, b;
} zt_pins_t;

typedef struct {
    uint32_t rule;              /* RULE index */
    uint8_t effect;             /* ZT_EFFECT_* */
    uint8_t public;             /* ZT_RULE_PUBLIC set */
    uint16_t unused;
} zt_prule_t;

typedef struct {
    uint32_t nrules;
    uint32_t stepup;            /* STEP index, or ZT_NONE */
    uint32_t prog;              /* offset of its zt_pcond_t in the code */
    uint16_t deny, allow, anon; /* first pcs of its chains (or ends) */
    uint16_t unused;
    zt_prule_t rule[];          /* denies, then allows */
} zt_proute_t;

typedef struct {
    uint32_t ninsns;
    uint32_t nconsts;
    uint32_t start;             /* a shared program's first pc, or its
                                   verdict */
    uint32_t unused;
    zt_pins_t ins[];            /* then the constants, then the bytes */
} zt_pcond_t;

struct zt_prog_s {
    const uint32_t *route;      /* per ROUT: byte offset of its block in
                                   code, or ZT_NONE: no block */
    const unsigned char *code;
    const uint32_t *opnd_slot;  /* per OPND: its claim slot (TOKEN), else
                                   ZT_NONE */
    const zt_claim_slots_t *slots;
    const uint32_t *no_claims;  /* the view of no token: all missing */
    uint32_t nblocks;           /* routes with a block */
    uint64_t code_len;
};

/**
 * @a len bytes for a large derived array (programs, the route trie) that
 * live as long as @a pool: from 1 MiB on, mapped apart in 2 MiB units and
 * offered to the kernel as huge pages (MADV_HUGEPAGE), so that the
 * scattered reads of one decision in a large table do not each miss the
 * TLB; smaller, from the pool.  64-byte aligned either way; not zeroed.
 */
void *zt_palloc_large(apr_pool_t *pool, size_t len);

/** @a len bytes of @a pool starting on a 64-byte cache line. */
void *zt_palloc_aligned(apr_pool_t *pool, size_t len);

/** The names of the days, from a Thursday (1970-01-01): "thu", "fri"... */
extern const char zt_weekdays[7][4];

static inline const zt_popnd_t *zt_pcond_consts(const zt_pcond_t *pc)
{
    return (const zt_popnd_t *)(const void *)(pc->ins + pc->ninsns);
}

#endif /* ZT_PROG_H */
