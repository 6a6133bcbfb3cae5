/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Decision programs: what zt_eval_prepare (zt_prog.c) derives from a
 * verified table once, at load, and zt_eval_decide (zt_eval.c) runs.
 * Internal to those two files.
 *
 * Each route gets one block holding, in rule order, the rules that apply
 * to it and their conditions compiled to a branch program:
 *
 *   +-------------+---------------------+------------------------------+
 *   | zt_proute_t | nrules x zt_prule_t | instructions (zt_pins_t)     |
 *   +-------------+---------------------+------------------------------+
 *
 * An instruction is one comparison (EQ .. IN_CIDR) with two successors,
 * the instruction to run next when it holds and when it does not, or a
 * verdict for the whole condition (ZT_PC_YES, ZT_PC_NO).  AND, OR, NOT
 * and TRUE become edges, not instructions, so a condition runs without
 * recursion and each comparison at most once.  Successors always lie
 * after their instruction, so a run ends within the block.  Operands are
 * resolved for the route: a TOKEN operand is a claim slot (zt_claims.h),
 * a PATH operand the index of its segment in this route's path, a string
 * literal its bytes and length; the rest keep their OPND index.
 *
 * So a decision reads the route's block, adjacent to its neighbours', and
 * not the table's rules, nodes, operands and strings scattered over a
 * large table.  A route whose block would exceed ZT_PC_MAX instructions,
 * or that would take the blocks past the memory budget, has none and is
 * decided from the table itself, with the same semantics.
 */
#ifndef ZT_PROG_H
#define ZT_PROG_H

#include <stdint.h>
#include "zt_claims.h"
#include "zt_table.h"

#define ZT_PC_YES   0xfffeu     /* the condition holds */
#define ZT_PC_NO    0xffffu     /* it does not */
#define ZT_PC_MAX   0xfff0u     /* instructions in one route's block */

/* An operand resolved for one route. */
typedef struct {
    uint32_t kind;              /* ZT_OPND_* */
    uint32_t x;                 /* TOKEN: claim slot; PATH: segment index,
                                   or ZT_NONE; STR: length; list or CIDR
                                   operand b: first index */
    union {
        const char *s;          /* STR: the bytes */
        int64_t num;            /* INT, BOOL: value; list or CIDR b: count */
        uint64_t idx;           /* anything else, and TOKEN: OPND index */
    } y;
} zt_popnd_t;

typedef struct {
    uint16_t op;                /* ZT_OP_EQ .. ZT_OP_IN_CIDR */
    uint16_t unused;
    uint16_t t, f;              /* next pc when it holds / not, or ZT_PC_* */
    zt_popnd_t a, b;
} zt_pins_t;

typedef struct {
    uint32_t rule;              /* RULE index */
    uint8_t effect;             /* ZT_EFFECT_* */
    uint8_t public;             /* ZT_RULE_PUBLIC set */
    uint16_t pc;                /* first instruction, or ZT_PC_YES */
} zt_prule_t;

typedef struct {
    uint32_t nrules;
    uint32_t stepup;            /* STEP index, or ZT_NONE */
    zt_prule_t rule[];          /* then the instructions */
} zt_proute_t;

struct zt_prog_s {
    const uint32_t *route;      /* per ROUT: byte offset of its block in
                                   code, or ZT_NONE: no block */
    const unsigned char *code;
    const uint32_t *opnd_slot;  /* per OPND: its claim slot (TOKEN), else
                                   ZT_NONE */
    const zt_claim_slots_t *slots;
    uint32_t nblocks;           /* routes with a block */
    uint64_t code_len;
};

static inline const zt_pins_t *zt_proute_code(const zt_proute_t *pr)
{
    return (const zt_pins_t *)(const void *)&pr->rule[pr->nrules];
}

#endif /* ZT_PROG_H */
