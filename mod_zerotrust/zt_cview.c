/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Claim slots and views (zt_claims.h): a table's claim paths numbered at
 * load, and a token's claims resolved to them once.
 *
 * The names of the paths form a small tree (the root's children are
 * top-level claim names, "realm_access" has a child "roles", ...), kept
 * in one open-addressing hash table keyed by (parent entry, name).  A
 * view walks the token's members, not the slots: each member costs one
 * probe, and only objects the tree names are entered.  A claim found is
 * decoded into its slot (zt_cval_t); slots read as sets get an index of
 * their members (zt_cset_t) in the view as well.
 */
#include <string.h>

#include <apr_hash.h>
#include <apr_tables.h>
#include <apr_strings.h>

#include "zt_claims.h"
#include "zt_jdoc.h"
#include "zt_word.h"

#define ZT_CS_ROOT  UINT32_MAX          /* parent of a top-level name */
#define ZT_CS_NONE  UINT32_MAX          /* entry that is only a prefix */

typedef struct {
    const char *name;                   /* in the table's string pool */
    uint32_t len;
    uint32_t parent;                    /* entry index, or ZT_CS_ROOT */
    uint32_t slot;                      /* or ZT_CS_NONE */
    uint32_t kids;                      /* entries with this parent */
    uint32_t hash;
} zt_cs_entry_t;

/* A slot of the lookup table: the key as words, so that a name of up to
 * 16 bytes is compared without reading the entry. */
typedef struct {
    uint64_t head, tail;                /* first and last min(8, len) bytes */
    uint32_t len, parent;
    uint32_t entry;                     /* entry + 1; 0: empty slot */
    uint32_t hash;
} zt_cs_slot_t;

struct zt_claim_slots_s {
    apr_pool_t *pool;
    apr_hash_t *build;                  /* "parent + name" -> entry + 1 */
    zt_cs_entry_t *e;
    uint32_t n, cap;
    uint32_t nslots;
    apr_array_header_t *indexed;        /* slots to index as sets */
    uint32_t *set_at;                   /* per slot: its set in a view */
    uint32_t nsets;
    uint32_t *sets;                     /* the slots indexed, in set order */
    zt_cs_slot_t *table;
    uint32_t mask;
};

/* Hash of a name of @a len bytes under @a parent from its first and its
 * last min(8, len) bytes (@a head, @a tail, as words); names that agree
 * on those are told apart by the full comparison. */
static uint32_t zt_cs_mix(uint32_t parent, uint32_t len, uint64_t head, uint64_t tail)
{
    uint64_t h = ((uint64_t)parent + 1) * 0x9e3779b97f4a7c15ull ^ len;

    h = (h ^ head) * 0xff51afd7ed558ccdull;
    h = (h ^ (h >> 32) ^ tail) * 0xff51afd7ed558ccdull;
    return (uint32_t)(h ^ (h >> 32));
}

/* The head and tail words of a name anywhere: its bytes only. */
static void zt_cs_words(const char *s, uint32_t len, uint64_t *head, uint64_t *tail)
{
    uint32_t n = len < 8 ? len : 8;

    *head = *tail = 0;
    for (uint32_t k = 0; k < n; k++) {
        *head |= (uint64_t)(unsigned char)s[k] << (8 * k);
        *tail |= (uint64_t)(unsigned char)s[len - n + k] << (8 * k);
    }
}

/* The same of a member name of a zt_jdoc_t, read as words: the text of a
 * document follows its 8-byte header and its nodes in one block, and a
 * string is followed by its NUL, so the 8 bytes ending at the name's last
 * byte and, for 8 bytes or more, the 8 starting at its first lie in the
 * block. */
static void zt_cs_words_jdoc(const char *s, uint32_t len, uint64_t *head,
                             uint64_t *tail)
{
    if (len >= 8) {
        *tail = zt_load8(s + len - 8);
        *head = zt_load8(s);
        return;
    }
    *tail = len > 0 ? zt_load8(s + len - 8) >> (8 * (8 - len)) : 0;
    *head = *tail;
}

zt_claim_slots_t *zt_claim_slots_make(apr_pool_t *pool)
{
    zt_claim_slots_t *cs = apr_pcalloc(pool, sizeof(*cs));

    cs->pool = pool;
    cs->build = apr_hash_make(pool);
    cs->indexed = apr_array_make(pool, 4, sizeof(uint32_t));
    return cs;
}

static uint32_t zt_cs_entry(zt_claim_slots_t *cs, uint32_t parent,
                            const char *name, uint32_t len)
{
    char key[sizeof(uint32_t) + 256];
    char *k = len <= 256 ? key : apr_palloc(cs->pool, sizeof(uint32_t) + len);
    uintptr_t found;
    zt_cs_entry_t *e;

    memcpy(k, &parent, sizeof(parent));
    memcpy(k + sizeof(parent), name, len);
    found = (uintptr_t)apr_hash_get(cs->build, k, (apr_ssize_t)(sizeof(parent) + len));
    if (found != 0) {
        return (uint32_t)(found - 1);
    }
    if (cs->n == cs->cap) {
        uint32_t cap = cs->cap ? 2 * cs->cap : 16;
        zt_cs_entry_t *ne = apr_palloc(cs->pool, cap * sizeof(*ne));
        if (cs->n > 0) {
            memcpy(ne, cs->e, cs->n * sizeof(*ne));
        }
        cs->e = ne;
        cs->cap = cap;
    }
    e = &cs->e[cs->n];
    e->name = name;
    e->len = len;
    e->parent = parent;
    e->slot = ZT_CS_NONE;
    e->kids = 0;
    {
        uint64_t head, tail;
        zt_cs_words(name, len, &head, &tail);
        e->hash = zt_cs_mix(parent, len, head, tail);
    }
    if (parent != ZT_CS_ROOT) {
        cs->e[parent].kids++;
    }
    if (k == key) {
        k = apr_pmemdup(cs->pool, key, sizeof(parent) + len);
    }
    apr_hash_set(cs->build, k, (apr_ssize_t)(sizeof(parent) + len),
                 (void *)(uintptr_t)(cs->n + 1));
    return cs->n++;
}

uint32_t zt_claim_slots_add(zt_claim_slots_t *cs, const char *path,
                            uint32_t nparts)
{
    uint32_t parent = ZT_CS_ROOT;

    for (uint32_t k = 0; k < nparts; k++) {
        size_t len = strlen(path);
        parent = zt_cs_entry(cs, parent, path, (uint32_t)len);
        path += len + 1;
    }
    if (parent == ZT_CS_ROOT) {
        return ZT_CS_NONE;          /* no parts: never matches */
    }
    if (cs->e[parent].slot == ZT_CS_NONE) {
        cs->e[parent].slot = cs->nslots++;
    }
    return cs->e[parent].slot;
}

void zt_claim_slots_index(zt_claim_slots_t *cs, uint32_t slot)
{
    if (slot < cs->nslots) {
        APR_ARRAY_PUSH(cs->indexed, uint32_t) = slot;
    }
}

#define ZT_SET_WORDS    (uint32_t)(sizeof(zt_cset_t) / sizeof(uint32_t))

void zt_claim_slots_seal(zt_claim_slots_t *cs)
{
    cs->set_at = apr_palloc(cs->pool, ((size_t)cs->nslots + 1) * sizeof(uint32_t));
    cs->sets = apr_palloc(cs->pool, ((size_t)cs->indexed->nelts + 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i < cs->nslots; i++) {
        cs->set_at[i] = UINT32_MAX;
    }
    for (int k = 0; k < cs->indexed->nelts; k++) {
        uint32_t slot = APR_ARRAY_IDX(cs->indexed, k, uint32_t);
        if (cs->set_at[slot] == UINT32_MAX) {
            cs->set_at[slot] = cs->nslots * ZT_CVAL_WORDS + cs->nsets * ZT_SET_WORDS;
            cs->sets[cs->nsets++] = slot;
        }
    }

    uint32_t size = 8;

    while (size < 4 * (uint64_t)cs->n) {     /* sparse: most probes miss */
        size *= 2;
    }
    cs->table = apr_pcalloc(cs->pool, size * sizeof(cs->table[0]));
    cs->mask = size - 1;
    for (uint32_t i = 0; i < cs->n; i++) {
        const zt_cs_entry_t *e = &cs->e[i];
        uint32_t k = e->hash & cs->mask;
        zt_cs_slot_t *sl;

        while (cs->table[k].entry != 0) {
            k = (k + 1) & cs->mask;
        }
        sl = &cs->table[k];
        zt_cs_words(e->name, e->len, &sl->head, &sl->tail);
        sl->len = e->len;
        sl->parent = e->parent;
        sl->entry = i + 1;
        sl->hash = e->hash;
    }
    cs->build = NULL;
}

uint32_t zt_claim_slots_view_size(const zt_claim_slots_t *cs)
{
    return cs->nslots * ZT_CVAL_WORDS + cs->nsets * ZT_SET_WORDS;
}

uint32_t zt_claim_slots_set(const zt_claim_slots_t *cs, uint32_t slot)
{
    return slot < cs->nslots ? cs->set_at[slot] : UINT32_MAX;
}

static const zt_cs_entry_t *zt_cs_find(const zt_claim_slots_t *cs,
                                       uint32_t parent, const char *name,
                                       uint32_t len)
{
    uint64_t head, tail;
    uint32_t h;

    zt_cs_words_jdoc(name, len, &head, &tail);
    h = zt_cs_mix(parent, len, head, tail);
    for (uint32_t k = h & cs->mask;; k = (k + 1) & cs->mask) {
        const zt_cs_slot_t *sl = &cs->table[k];
        if (sl->entry == 0) {
            return NULL;
        }
        if (sl->head == head && sl->tail == tail && sl->len == len
            && sl->parent == parent) {
            const zt_cs_entry_t *e = &cs->e[sl->entry - 1];
            /* head and tail cover a name of up to 16 bytes */
            if (len <= 16 || memcmp(e->name + 8, name + 8, len - 16) == 0) {
                return e;
            }
        }
    }
}

/* Claim @a j of @a c, decoded into its slot @a cv. */
static void zt_cval_set(zt_cval_t *cv, const zt_claims_t *c, const zt_jnode_t *j)
{
    cv->node = (uint32_t)(j - c->node);
    cv->a = 0;
    cv->b = 0;
    switch (j->type) {
    case ZT_J_STR:
        cv->type = ZT_V_STR;
        cv->a = j->u.s.len;
        cv->b = (uint32_t)(zt_jnode_str(j) - (const char *)c);
        break;
    case ZT_J_INT:
        cv->type = ZT_V_INT;
        cv->a = (uint32_t)(uint64_t)j->u.i;
        cv->b = (uint32_t)((uint64_t)j->u.i >> 32);
        break;
    case ZT_J_TRUE:
    case ZT_J_FALSE:
        cv->type = ZT_V_BOOL;
        cv->a = j->type == ZT_J_TRUE;
        break;
    default:
        cv->type = ZT_V_OTHER;
        break;
    }
}

/* The members of object @a obj named under entry @a parent.  Recursion
 * only follows the names' tree, so it is at most ZT_MAX_CLAIM_DEPTH deep. */
static void zt_cs_view_object(const zt_claim_slots_t *cs, const zt_claims_t *c,
                              const zt_jnode_t *obj, uint32_t parent,
                              uint32_t *view)
{
    const zt_jnode_t *k = obj + 1;

    for (uint32_t m = 0; m < obj->u.n; m++) {
        const zt_jnode_t *v = k + 1;
        const zt_cs_entry_t *e = zt_cs_find(cs, parent, zt_jnode_str(k), k->u.s.len);

        if (e != NULL) {
            if (e->slot != ZT_CS_NONE) {
                zt_cval_set((zt_cval_t *)(void *)(view + (size_t)ZT_CVAL_WORDS * e->slot),
                            c, v);
            }
            if (e->kids != 0 && v->type == ZT_J_OBJECT) {
                zt_cs_view_object(cs, c, v, (uint32_t)(e - cs->e), view);
            }
        }
        k = zt_jnode_next(v);
    }
}

#define ZT_SET_SEED  0x5e75e7u          /* member hashes: not a name's */

uint32_t zt_claims_member_hash(const char *s, size_t len)
{
    uint64_t head, tail;

    zt_cs_words(s, (uint32_t)len, &head, &tail);
    return zt_cs_mix(ZT_SET_SEED, (uint32_t)len, head, tail);
}

/* Add member @a s (a string of the claims @a c) to set index @a x; 0
 * when it is full. */
static inline int zt_set_add(zt_cset_t *x, const zt_claims_t *c, const char *s,
                             uint32_t len)
{
    uint64_t head, tail;
    uint32_t h;

    if (x->n == ZT_CLAIM_SET_MAX) {
        return 0;
    }
    zt_cs_words_jdoc(s, len, &head, &tail);
    h = zt_cs_mix(ZT_SET_SEED, len, head, tail);
    x->m[x->n].hash = h;
    x->m[x->n].len = len;
    x->m[x->n].off = (uint32_t)(s - (const char *)c);
    x->filter[(h >> 5) & 1] |= 1u << (h & 31);
    x->n++;
    return 1;
}

/* Index claim @a v of @a c (NULL: missing), slot @a slot, into @a x: the
 * words of a string, the string elements of an array; nothing else has
 * members. */
static void zt_set_index(const zt_claims_t *c, const zt_jnode_t *v, uint32_t slot,
                         zt_cset_t *x)
{
    int full = 0;

    x->n = 0;
    x->slot = slot;
    x->filter[0] = x->filter[1] = 0;
    if (v != NULL && v->type == ZT_J_STR) {
        const char *str = zt_jnode_str(v), *end = str + v->u.s.len;

        for (const char *w = str; w <= end && !full; ) {
            const char *sp = memchr(w, ' ', (size_t)(end - w));
            if (sp == NULL) {
                sp = end;
            }
            full = sp > w && !zt_set_add(x, c, w, (uint32_t)(sp - w));
            w = sp + 1;
        }
    }
    else if (v != NULL && v->type == ZT_J_ARRAY) {
        const zt_jnode_t *e = zt_jnode_first(v);

        for (uint32_t k = 0; k < v->u.n && !full; k++, e = zt_jnode_next(e)) {
            full = e->type == ZT_J_STR && !zt_set_add(x, c, zt_jnode_str(e), e->u.s.len);
        }
    }
    if (full) {
        x->n = ZT_CSET_UNKNOWN;
        x->filter[0] = x->filter[1] = UINT32_MAX;
    }
}

void zt_claims_view(const zt_claims_t *c, const zt_claim_slots_t *cs,
                    uint32_t *view)
{
    if (cs->nslots == 0) {
        return;
    }
    memset(view, 0, (size_t)cs->nslots * ZT_CVAL_WORDS * sizeof(uint32_t));
    if (c != NULL && c->node[0].type == ZT_J_OBJECT) {
        zt_cs_view_object(cs, c, c->node, ZT_CS_ROOT, view);
    }
    for (uint32_t k = 0; k < cs->nsets; k++) {
        const zt_cval_t *cv = zt_cval(view, cs->sets[k]);

        zt_set_index(c, cv->type != ZT_V_MISSING ? &c->node[cv->node] : NULL, cs->sets[k],
                     (zt_cset_t *)(void *)(view + cs->set_at[cs->sets[k]]));
    }
}
