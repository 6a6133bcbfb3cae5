/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Decision programs: what zt_eval_prepare (zt_prog.c) derives from a
 * verified table once, at load, and zt_eval_decide (zt_eval.c) runs.
 * Internal to the core (the route trie shares zt_palloc_large; test_eval
 * and bench_eval read the counts).
 *
 * Each route gets a block: a header (read only by a step-up, and by an
 * allow that is not public when there is no token), then,
 * from the start of a cache line, one program that decides among the
 * rules that apply to the route, in the order a decision reads them;
 * then what its GENERIC instructions read:
 *
 *   +-------------+--------------------+-----------------+-------+--------+
 *   | zt_proute_t | ninsns x zt_pins_t | nends x         | sides | consts |
 *   | (8 bytes)   | (16 bytes each)    | zt_pend_t (8)   |       |        |
 *   +-------------+--------------------+-----------------+-------+--------+
 *
 * An instruction is one comparison with two successors, the instruction
 * to run next when it holds and when it does not, or an end, which says
 * what the decision is: ZT_PI_DENY or ZT_PI_ALLOW, a rule of the table
 * holds; ZT_PI_NONE, none does.  AND, OR, NOT and TRUE become edges, not
 * instructions, and so do the rules: a condition that does not hold goes
 * on to the next rule's, and one that holds to the rule's end.  So a
 * decision is one run with no recursion, each comparison at most once,
 * and it reads no rule record.  Successors always lie after their
 * instruction (an instruction holds how far ahead they are), so a run
 * ends within the program.
 *
 * A route's program runs its denies first (deny overrides allow, and the
 * first deny in rule order decides), each in rule order, then its
 * allows; the first allow that holds decides, but without a token only a
 * public one does: another goes on at the next allow (zt_pend_t next:
 * its condition, back before the ends, or its end), the one successor
 * that may lie before its instruction, and always a later rule's, so
 * each rule's end is reached once at most and a run still ends.  A run
 * starts at the first instruction (ZT_PI_JUMP when it must go on
 * elsewhere).  The ends (8 bytes: an end is read only to decide), in
 * rule order, follow all the comparisons, so that the comparisons a run
 * reads lie together and it reads one end.
 *
 * An instruction is 16 bytes, four to a cache line, and says how it runs
 * (ZT_PI_*, chosen at load from its operands' kinds): most are a few
 * loads and compares of a claim's decoded value in the token's view
 * (zt_claims.h) against a literal, with no call.  What does not fit in
 * 16 bytes runs ZT_PI_GENERIC, whose operands (zt_pside_t) follow the
 * instructions, out of the way; so do the members of its IN_LIST.
 *
 * Operands are resolved: a TOKEN operand is a claim slot, a PATH operand
 * the index of its segment in the route's path, a string literal its
 * length and the offset of its bytes in the code.  Literals (zt_plit) and
 * lists of them are stored once in the code, before the first program
 * that reads them, and shared by every later one: the words every route
 * checks stay in cache and cost no room per route.
 *
 * A condition without PATH operands is the same for every route: when
 * it is large (over ZT_PROG_INLINE instructions) it is compiled once, as
 * a program of its own that ends at ZT_PI_YES or ZT_PI_NO, and the
 * routes' programs call it (ZT_PI_CALL); a small one is copied into each
 * route's program.  A route whose program would take the code past the
 * memory budget, or past ZT_PROG_MAX_INSNS, has no block and is decided
 * from the table itself, with the same semantics; so is every decision
 * made without a claim view (claims looked up by name: zpc test,
 * explain).
 */
#ifndef ZT_PROG_H
#define ZT_PROG_H

#include <stdint.h>
#include <string.h>
#include "zt_claims.h"
#include "zt_table.h"

#define ZT_PROG_MAX_INSNS 0x8000u     /* a program's instructions, so
                                         that zt_pins_t t and f fit */

/* An operand resolved for one route (ZT_PI_GENERIC's, in a zt_pside_t). */
typedef struct {
    uint32_t kind;              /* ZT_OPND_* */
    uint32_t x;                 /* TOKEN: claim slot; PATH: segment index,
                                   or ZT_NONE; STR: length; IN_LIST b:
                                   offset of its constants in the code;
                                   IN_CIDR b: first CIDR */
    union {
        int64_t num;            /* INT, BOOL: value; list or CIDR b: count */
        uint64_t idx;           /* STR: offset of its bytes in the code;
                                   anything else, and TOKEN: OPND index */
    } y;
} zt_popnd_t;

typedef struct {
    zt_popnd_t a, b;
} zt_pside_t;

/* How an instruction runs.  A TOKEN operand of the specialised ones is
 * always a (a comparison with the claim on the right is turned round at
 * load), its slot in slot. */
enum {
    ZT_PI_GENERIC = 0,  /* operand by operand from its zt_pside_t, at
                           offset x of the code */
    ZT_PI_SET_HAS,      /* IN_CLAIM of a literal in a set every view
                           indexes (zt_claim_slots_index): slot is the
                           index's place in the view, x the literal, y
                           its member hash */
    ZT_PI_CLAIM_STR,    /* EQ, NE: claim, literal x of y bytes */
    ZT_PI_CLAIM_INT,    /* EQ, NE: claim, the integer x | y << 32 */
    ZT_PI_CLAIM_BOOL,   /* EQ, NE: claim, the boolean x */
    ZT_PI_CLAIM_PATH,   /* EQ, NE: claim, path segment x (ZT_NONE: no
                           capture) */
    ZT_PI_CLAIM_ORDER,  /* LT, LE, GT, GE: claim, the integer x | y << 32 */
    ZT_PI_CLAIM_IN_STRS,/* IN_LIST: claim, list x of literals (zt_plist);
                           y has bit (length % 32) of each */
    ZT_PI_TLS_IN_STRS,  /* IN_LIST: TLS_VERSION, list x of literals; y
                           has bit k when zt_tls_versions[k] is listed */
    ZT_PI_WEEKDAY_IN,   /* IN_LIST: TIME_WEEKDAY; y the days listed, bit
                           d for day d after a Thursday */
    ZT_PI_IN_CIDR,      /* IN_CIDR: CIDR records x .. x + y - 1 */
    ZT_PI_CALL,         /* the shared program at offset x of the code,
                           from 8-byte unit slot; holds when it does */
    ZT_PI_JUMP,         /* always holds: to a run's start, when that is
                           not the first instruction */
    /* Ends (zt_pend_t): the instructions that follow none. */
    ZT_PI_DENY,         /* deny rule `rule` holds */
    ZT_PI_ALLOW,        /* allow rule `rule` holds, with a token or when
                           public; else the next allow, at next */
    ZT_PI_NONE,         /* no rule holds */
    ZT_PI_YES,          /* a shared program's condition holds */
    ZT_PI_NO,           /* it does not */
    ZT_PI__COUNT
};

typedef struct {
    uint8_t code;               /* ZT_PI_* */
    uint8_t op;                 /* ZT_OP_EQ .. ZT_OP_IN_CIDR */
    uint16_t t, f;              /* the instruction to run next when it
                                   holds / not: how far after this one,
                                   in units of 8 bytes (so that one
                                   address computation takes it; an end
                                   takes one unit, others two) */
    uint16_t slot;              /* see ZT_PI_* */
    uint32_t x, y;
} zt_pins_t;

/* An end: 8 bytes, after all the instructions of its program. */
typedef struct {
    uint8_t code;               /* ZT_PI_DENY and after */
    uint8_t flags;              /* DENY, ALLOW: ZT_PEND_* */
    uint16_t next;              /* ALLOW: where the next allow starts, in
                                   8-byte units from the first
                                   instruction */
    uint32_t rule;              /* DENY, ALLOW: RULE index */
} zt_pend_t;

#define ZT_PEND_PUBLIC  1u      /* the rule is public */
#define ZT_PEND_STEPUP  2u      /* ALLOW: the route has a step-up
                                   requirement (zt_proute_t stepup) */

typedef struct {
    uint32_t stepup;            /* STEP index, or ZT_NONE */
    uint16_t ninsns;            /* zt_pins_t, then */
    uint16_t nends;             /* zt_pend_t */
    zt_pins_t ins[];            /* from the start of a cache line */
} zt_proute_t;

_Static_assert(sizeof(zt_proute_t) == 8, "a block's header is 8 bytes");

/* A route's entry in zt_prog_s route: the offset in the code of its
 * first instruction, on a cache line's start, plus the number of lines
 * after that one its instructions and ends take (ZT_PROG_LINES at most),
 * so that a decision can ask for all of them at once, before it reads
 * the first: the lines of a block then arrive together, not one after
 * the other as the run reaches them. */
#define ZT_PROG_LINES   63u

/* The header of the block at route entry @a ref (not ZT_NONE). */
static inline const zt_proute_t *zt_prog_head(const unsigned char *code, uint32_t ref)
{
    return (const zt_proute_t *)(const void *)
           (code + (ref & ~ZT_PROG_LINES) - sizeof(zt_proute_t));
}

/* A literal in the code: its length (4 bytes, before its first byte at
 * offset @a at), its bytes, a NUL.  Every literal lies 16 bytes or more
 * into the code, so the 8 bytes ending at its last byte can be read. */
static inline uint32_t zt_plit_len(const unsigned char *code, uint32_t at)
{
    uint32_t len;

    memcpy(&len, code + at - 4, sizeof(len));
    return len;
}

/* A list of literals (zt_plist): their count (4 bytes), then each one as
 * zt_plit stores it; @a at is the offset of the count.  The first. */
static inline uint32_t zt_plist_first(const unsigned char *code, uint32_t at,
                                      uint32_t *count)
{
    memcpy(count, code + at, sizeof(*count));
    return at + 8;
}

/* The literal after literal @a at of a list. */
static inline uint32_t zt_plist_next(const unsigned char *code, uint32_t at)
{
    return at + zt_plit_len(code, at) + 1 + 4;
}

struct zt_prog_s {
    const uint32_t *route;      /* per ROUT: where its block is
                                   (zt_prog_head), or ZT_NONE: none */
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

/** The TLS versions ZT_PI_TLS_IN_STRS knows by bit, in the order
 *  zt_eval.c's zt_tls_index() reads them: "TLSv1", "TLSv1.1" ... */
extern const char zt_tls_versions[4][8];

#endif /* ZT_PROG_H */
