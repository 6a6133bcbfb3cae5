/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_claims.h
 * @brief Read-only access to a verified token's claims, for the evaluator.
 *
 * The evaluator sees claims only through these calls, so the token stage
 * may keep them in whatever form verifies fastest.  Only the
 * zt_claim_slots_* calls, made once per table at load, allocate.
 */
#ifndef ZT_CLAIMS_H
#define ZT_CLAIMS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <apr_pools.h>

#include "zt_word.h"

/** A verified token's payload; made by the token stage (zt_token.h). */
typedef struct zt_claims zt_claims_t;

/** A value a condition operand yields.  Only strings, integers and
 *  booleans take part in comparisons; any other JSON type (null, real,
 *  object, array) is ZT_V_OTHER and counts as missing there. */
typedef enum {
    ZT_V_MISSING = 0, ZT_V_STR, ZT_V_INT, ZT_V_BOOL, ZT_V_OTHER
} zt_vtype_e;

typedef struct {
    zt_vtype_e type;
    const char *s;          /**< ZT_V_STR: bytes, not NUL-terminated */
    size_t len;
    int64_t i;              /**< ZT_V_INT; ZT_V_BOOL 0 or 1 */
    const void *ref;        /**< a claim's own node (zt_claims_array_has) */
} zt_val_t;

/**
 * The claim at @a path: @a nparts names joined by NUL ("realm_access\0roles"),
 * each one a member of the object before it.  ZT_V_MISSING when @a c is
 * NULL or any part is absent or not an object.
 */
void zt_claims_get(const zt_claims_t *c, const char *path, uint32_t nparts,
                   zt_val_t *v);

/** zt_claims_get() with the first name's length, @a len0, known. */
void zt_claims_get_len(const zt_claims_t *c, const char *path, size_t len0,
                       uint32_t nparts, zt_val_t *v);

/**
 * Claim slots: the claim paths one decision table reads, numbered 0..n-1
 * once at load, so that a token's claims are looked up by name once (a
 * "view", zt_claims_view) and the evaluator then reads slot k with one
 * array load instead of a name search per operand.
 */
typedef struct zt_claim_slots_s zt_claim_slots_t;

/** An empty set of claim paths, in @a pool. */
zt_claim_slots_t *zt_claim_slots_make(apr_pool_t *pool);

/** The slot of @a path (@a nparts names joined by NUL, as
 *  zt_claims_get), added when new.  Call zt_claim_slots_seal() after the
 *  last one. */
uint32_t zt_claim_slots_add(zt_claim_slots_t *cs, const char *path,
                            uint32_t nparts);

/**
 * Index slot @a slot as a set in every view: the words of a string claim
 * (OAuth "scope") or the string elements of an array claim, at most
 * ZT_CLAIM_SET_MAX of them, so that zt_claims_set_has() answers without
 * scanning.  Before zt_claim_slots_seal().
 */
void zt_claim_slots_index(zt_claim_slots_t *cs, uint32_t slot);

/** Finish the set: no zt_claim_slots_add() after this. */
void zt_claim_slots_seal(zt_claim_slots_t *cs);

/** Entries (uint32_t) of a view: the slots, then the set indexes. */
uint32_t zt_claim_slots_view_size(const zt_claim_slots_t *cs);

/** Where in a view slot @a slot's set index starts, or UINT32_MAX when
 *  it is not indexed. */
uint32_t zt_claim_slots_set(const zt_claim_slots_t *cs, uint32_t slot);

#define ZT_CLAIM_SET_MAX 16     /**< members a set index holds */

/**
 * Resolve every slot of @a cs in @a c into @a view (view_size entries):
 * each claim decoded (zt_cval_t), or ZT_V_MISSING (the same answer
 * zt_claims_get gives), then index the sets.  Costs one hash probe per
 * member of the token's objects that @a cs names, whatever the number of
 * slots.  A view holds no address, so it stays valid with any copy of
 * @a c.
 */
void zt_claims_view(const zt_claims_t *c, const zt_claim_slots_t *cs,
                    uint32_t *view);

/**
 * A claim as a view holds it: decoded once per token, so that a decision
 * reads it with one load and no call.  Words only, since a view is an
 * array of uint32_t (copied as such into the token cache).
 */
typedef struct {
    uint32_t type;          /**< zt_vtype_e; ZT_V_MISSING: absent */
    uint32_t node;          /**< the claim's position in the claims */
    uint32_t a, b;          /**< STR: length, and offset of its bytes from
                                 the claims; INT, BOOL: low, high 32 bits */
} zt_cval_t;

#define ZT_CVAL_WORDS   4   /**< view entries a slot takes */

/** Slot @a slot of @a view. */
static inline const zt_cval_t *zt_cval(const uint32_t *view, uint32_t slot)
{
    return (const zt_cval_t *)(const void *)(view + (size_t)ZT_CVAL_WORDS * slot);
}

static inline int64_t zt_cval_int(const zt_cval_t *v)
{
    return (int64_t)((uint64_t)v->b << 32 | v->a);
}

/** A ZT_V_STR claim's bytes, in the claims @a c the view was made of
 *  (or any copy).  The 8 bytes ending at its last byte, and for 8 bytes
 *  or more the 8 starting at its first, can be read. */
static inline const char *zt_cval_str(const zt_claims_t *c, const zt_cval_t *v)
{
    return (const char *)c + v->b;
}

/**
 * The @a len bytes at @a s, a claim's string (zt_cval_str) or a set
 * member of one, are those at @a lit, which can be read the same way:
 * from 8 bytes before its end, and from its start when @a len is 8 or
 * more.  Up to 32 bytes, words are compared instead of the bytes.
 */
static inline int zt_claims_str_eq(const char *s, const char *lit, size_t len)
{
    if (len > 32) {
        return memcmp(s, lit, len) == 0;
    }
    if (len > 16) {
        return zt_load8(s) == zt_load8(lit) && zt_load8(s + 8) == zt_load8(lit + 8)
               && zt_load8(s + len - 16) == zt_load8(lit + len - 16)
               && zt_load8(s + len - 8) == zt_load8(lit + len - 8);
    }
    if (len >= 8) {
        return (len == 8 || zt_load8(s) == zt_load8(lit))
               && zt_load8(s + len - 8) == zt_load8(lit + len - 8);
    }
    return len == 0
           || ((zt_load8(s + len - 8) ^ zt_load8(lit + len - 8)) >> (64 - 8 * len)) == 0;
}

static inline int zt_cval_scalar(const zt_cval_t *v)
{
    return v->type == ZT_V_STR || v->type == ZT_V_INT || v->type == ZT_V_BOOL;
}

/** zt_claims_get() of slot @a slot through a view of @a c. */
void zt_claims_get_slot(const zt_claims_t *c, const uint32_t *view,
                        uint32_t slot, zt_val_t *v);

/** The hash a set index keeps of a member of @a len bytes. */
uint32_t zt_claims_member_hash(const char *s, size_t len);

/**
 * A set index in a view: the words of a string claim or the string
 * elements of an array claim, as their hash, length and the offset of
 * their bytes from the claims; a member's hash also sets bit hash % 64
 * of the filter, so most members that are not there cost one test.
 */
typedef struct {
    uint32_t n;             /**< members, or ZT_CSET_UNKNOWN */
    uint32_t slot;          /**< the claim slot it indexes */
    uint32_t filter[2];     /**< bit (hash % 64) of every member (its
                                 bit % 32 of word hash % 64 / 32); all
                                 bits when ZT_CSET_UNKNOWN */
    struct {
        uint32_t hash, len, off;
    } m[ZT_CLAIM_SET_MAX];
} zt_cset_t;

#define ZT_CSET_UNKNOWN UINT32_MAX  /**< over ZT_CLAIM_SET_MAX members */

/** The set index at @a set of a view. */
static inline const zt_cset_t *zt_cset(const uint32_t *view, uint32_t set)
{
    return (const zt_cset_t *)(const void *)(view + set);
}

/** 0 when no member of @a x has @a hash (its filter bit is clear); 1
 *  when one may. */
static inline int zt_cset_may_have(const zt_cset_t *x, uint32_t hash)
{
    /* one 64-bit word (a single load where the bytes are in that order) */
    uint64_t f = (uint64_t)x->filter[1] << 32 | x->filter[0];

    return (f >> (hash & 63)) & 1;
}

/** zt_claims_set_has() on the index at @a set of a view of @a c; @a s is
 *  compared by zt_claims_str_eq() when @a words (it can be read so),
 *  else by memcmp(). */
static inline int zt_cset_has(const zt_claims_t *c, const uint32_t *view, uint32_t set,
                              const char *s, uint32_t len, uint32_t hash, int words)
{
    const zt_cset_t *x = zt_cset(view, set);

    if (!zt_cset_may_have(x, hash)) {
        return 0;
    }
    if (x->n == ZT_CSET_UNKNOWN) {
        return -1;
    }
    for (uint32_t k = 0; k < x->n; k++) {
        if (x->m[k].hash == hash && x->m[k].len == len
            && (words ? zt_claims_str_eq((const char *)c + x->m[k].off, s, len)
                      : memcmp((const char *)c + x->m[k].off, s, len) == 0)) {
            return 1;
        }
    }
    return 0;
}

/**
 * Is the string @a s (@a len bytes, hash @a hash) a member of the claim
 * indexed at @a set of @a view: a word of a string claim (words are
 * separated by single spaces and never empty) or an element of an array
 * claim?  1 or 0 (0 too when the claim is missing or neither a string
 * nor an array); -1 when the index cannot tell (no claims @a c, or more
 * than ZT_CLAIM_SET_MAX members): then ask the claim itself.
 */
static inline int zt_claims_set_has(const zt_claims_t *c, const uint32_t *view,
                                    uint32_t set, const char *s, uint32_t len,
                                    uint32_t hash)
{
    return c != NULL ? zt_cset_has(c, view, set, s, len, hash, 0) : -1;
}

/** Is scalar @a a equal (same type and value) to an element of the array
 *  claim @a arr?  0 when @a arr is not an array claim. */
int zt_claims_array_has(const zt_val_t *arr, const zt_val_t *a);

/** Same type and value; both must be scalars (STR, INT, BOOL). */
int zt_val_equal(const zt_val_t *a, const zt_val_t *b);

static inline int zt_val_scalar(const zt_val_t *v)
{
    return v->type == ZT_V_STR || v->type == ZT_V_INT || v->type == ZT_V_BOOL;
}

#endif /* ZT_CLAIMS_H */
