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
 * Each route gets a block listing, in rule order, the rules that apply to
 * it; each rule with a condition points to the condition's program:
 *
 *   route:      +-------------+---------------------------+
 *               | zt_proute_t | nrules x zt_prule_t       |
 *               +-------------+---------------------------+
 *   condition:  +-----------+------------+-------------+----------------+
 *               | zt_pcond_t| ninsns x   | nconsts x   | literal bytes  |
 *               |           | zt_pins_t  | zt_popnd_t  |                |
 *               +-----------+------------+-------------+----------------+
 *
 * An instruction is one comparison (EQ .. IN_CIDR) with two successors,
 * the instruction to run next when it holds and when it does not, or a
 * verdict for the whole condition (ZT_PC_YES, ZT_PC_NO).  AND, OR, NOT
 * and TRUE become edges, not instructions, so a condition runs without
 * recursion and each comparison at most once.  Successors always lie
 * after their instruction, so a run ends within the program.  Operands
 * are resolved: a TOKEN operand is a claim slot (zt_claims.h), a PATH
 * operand the index of its segment in the route's path, a string literal
 * its length and its bytes, copied into the program; the members of an
 * IN_LIST are constants of the program; the rest keep their OPND index.
 * Each instruction also says how to run it when the claims are read
 * through a view (ZT_PI_*, chosen from its operands' kinds): most are a
 * few loads and compares of the claim's decoded value against a
 * literal, with no call.
 *
 * A route's block lists its deny rules before its allow rules, each in
 * rule order: deny overrides allow and the first deny in rule order is
 * the one that decides, so the first allow that holds after every deny
 * was refuted ends the decision, and the rules after it are not run.
 *
 * A condition without PATH operands is the same for every route, so it
 * is compiled once and shared (a policy's global rules stay in cache);
 * one with a PATH operand gets a program per route.  Programs follow the
 * block of the first route that uses them, so a route's block and its
 * rules' programs are near each other and its neighbours', instead of
 * the table's rules, nodes, operands and strings scattered over a large
 * table.  A route whose programs would take the code past the memory
 * budget has no block and is decided from the table itself, with the
 * same semantics.
 */
#ifndef ZT_PROG_H
#define ZT_PROG_H

#include <stdint.h>
#include "zt_claims.h"
#include "zt_table.h"

#define ZT_PC_YES   0xfffeu     /* the condition holds */
#define ZT_PC_NO    0xffffu     /* it does not */
/* Instructions in one program: at most one per node of the condition's
 * tree, which the loader bounds (ZT_MAX_COND_NODES); pcs and the
 * verdicts above fit in 16 bits. */
#define ZT_PC_MAX   ZT_MAX_COND_NODES

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
    ZT_PI_CLAIM_STR,    /* EQ, NE: TOKEN a, STR b */
    ZT_PI_CLAIM_NUM,    /* EQ, NE: TOKEN a, INT or BOOL b */
    ZT_PI_CLAIM_PATH,   /* EQ, NE: TOKEN a, PATH b */
    ZT_PI_CLAIM_ORDER,  /* LT, LE, GT, GE: TOKEN a, INT b */
    ZT_PI_CLAIM_IN_STRS,/* IN_LIST: TOKEN a, every constant a STR */
    ZT_PI_TLS_IN_STRS,  /* IN_LIST: TLS_VERSION a, every constant a STR */
    ZT_PI_WEEKDAY_IN,   /* IN_LIST: TIME_WEEKDAY a; hash the days listed,
                           bit d for day d after a Thursday */
    ZT_PI_IN_CIDR       /* IN_CIDR */
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
    uint32_t cond;              /* offset of its zt_pcond_t in the code,
                                   or ZT_NONE: no condition */
    uint8_t effect;             /* ZT_EFFECT_* */
    uint8_t public;             /* ZT_RULE_PUBLIC set */
    uint16_t unused;
} zt_prule_t;

typedef struct {
    uint32_t nrules;
    uint32_t stepup;            /* STEP index, or ZT_NONE */
    zt_prule_t rule[];
} zt_proute_t;

typedef struct {
    uint32_t ninsns;
    uint32_t nconsts;
    uint32_t start;             /* first pc: 0, or ZT_PC_NO: never holds */
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
