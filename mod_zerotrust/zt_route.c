/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Route matching: method + normalised path -> the declared route.
 *
 * The path is split in place into spans (no allocation) and refused when
 * it is not in the canonical form Apache's normalisation produces: routes
 * and captures must never see "..", ".", empty segments or control bytes.
 *
 * The routes of every method share one trie, built once at load from ROUT
 * and SEGS.  A node is a sequence of segment shapes (kind, literal text)
 * from the root; it has
 *
 *   - its literal children, found through a hash table of every literal
 *     edge of at most 8 bytes keyed by (parent node, the literal as a
 *     word), and one of the longer ones that holds their first and last
 *     8 bytes: usually one slot, on one cache line, is read, and the
 *     child node is in that slot,
 *   - at most one capture child and one `*` child (capture names and types
 *     take no part in matching, so all captures at one place share a node),
 *   - per method, the route that ends here and the route whose `**` starts
 *     here,
 *   - the methods of every route at or below it, to prune the walk.
 *
 * Matching is a depth-first walk that tries, at each segment, the literal
 * child, then the capture child, then the `*` child, then the node's `**`
 * route.  The first route the walk reaches is the best by the format's
 * rank (literal > capture > `*` > `**`, compared left to right), because
 * the walk visits shapes in exactly that order.  A failed branch backtracks
 * to the next alternative; since the trie is a tree, each node is entered
 * at most once per request, so the work is bounded by the trie's size.
 * The first branch of that walk is followed without recursion, as the
 * path is split (zt_trie_step); it is the answer for nearly every request.
 *
 * The split reads the path 16 bytes at a time with SSE2 (8 with plain
 * words where SSE2 is missing, or with -DZT_ROUTE_WORDS): one step makes
 * bit masks of the '/' and '.' bytes and tests for control bytes and DEL,
 * the refused segments are found from the masks, and the segments are
 * then taken from the '/' mask, lowest bit first.  Only the string's own
 * bytes are read (its length is measured first), so a path at the end of
 * a page or of a malloc'd block is safe.
 *
 * Two routes of one method with the same shape could match the same
 * request with equal rank; zpc refuses them and so does the build here.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "zt_alg.h"
#include "zt_eval.h"
#include "zt_prog.h"
#include "zt_word.h"

#define ZT_NMETHODS 6               /* bits of ZT_M_ALL */

/* Paths of 32 to 63 bytes are scanned 32 bytes a step where the CPU has
 * AVX2 (zt_scan_wide); -DZT_ROUTE_NO_AVX2 (test_route_sse2) keeps the
 * 16-byte steps, as on a CPU without it. */
#if defined(__SSE2__) && !defined(ZT_ROUTE_WORDS) && !defined(ZT_ROUTE_NO_AVX2) \
    && defined(__GNUC__)
#define ZT_ROUTE_AVX2 1
#endif

typedef struct {
    const char *text;               /* literal, in the table's string pool */
    uint32_t len;
    uint32_t parent;                /* trie node (only used while building) */
    uint32_t child;                 /* trie node */
} zt_trie_edge_t;

/* A node of the trie as it is built, named by index (its children too). */
typedef struct {
    uint16_t methods;               /* ZT_M_* of the routes at or below */
    uint16_t lits;                  /* 1: it has literal children */
    uint32_t capture, star;         /* child node, or 0 */
    uint32_t ends;                  /* its zt_trie_ends_t, or ZT_NONE */
    uint32_t weight;                /* routes at or below it */
} zt_trie_bnode_t;

/* A node of the built trie, named by its byte offset from the trie's
 * base (a "ref"), which a step adds to that address without a shift.
 * Node 0 is a sentinel with no methods, so "no child" (0) fails the
 * walk's one test of a child, that it has routes of the request's
 * method; node 1 is the root ("/").
 *
 * A literal child lives in the slot of the hash table of literal edges
 * that finds it, keyed by its parent and its text: the probe that finds
 * a literal has read the node it leads to, on the same line.  A slot of
 * the table of literals of at most 8 bytes is a line: the node, then
 * its capture child when it has one (the request's next segment is
 * usually that capture: /items/{id}).  The table is at the base, so slot
 * k is node k * 64; its slots 0 and 1 are the sentinel and the root,
 * whose parent ZT_TRIE_TAKEN no lookup asks for.  The other capture and
 * `*` children follow in an array, then the table of longer literals.
 * The routes that end at a node are in the node itself when they fit
 * (zt_trie_routes_pack), so the last node of a match needs no other line
 * either. */
typedef struct {
    uint16_t methods;               /* ZT_M_* of the routes at or below */
    uint16_t flags;                 /* ZT_TRIE_LITS, ZT_TRIE_BESIDE */
    uint32_t capture, star;         /* child refs, or 0 */
    uint32_t parent;                /* a literal: its parent's ref; else 0 */
    uint64_t routes;                /* ZT_ROUTES_*: the routes ending here */
    uint64_t head;                  /* a literal: its key (see below) */
} zt_trie_node_t;
_Static_assert(sizeof(zt_trie_node_t) == 32, "two trie nodes to a cache line");

#define ZT_TRIE_LITS    1u          /* the node has literal children */
#define ZT_TRIE_BESIDE  2u          /* its capture child is the node beside
                                       it, in its slot (ref + 32) */

/* zt_trie_node_t.routes: either ZT_ROUTES_FULL and the index of a
 * zt_trie_ends_t, or (packed) a base route in the low 32 bits and, per
 * method bit b, 5 bits at 32 + 5b: the route of that method ending here
 * is the base plus those bits, none when they are 31.  Packed when the
 * node has no `**` route and its routes are at most 30 apart (the routes
 * of one path usually are declared together). */
#define ZT_ROUTES_FULL  (UINT64_C(1) << 63)
#define ZT_ROUTES_NONE  (UINT64_C(0x3fffffff) << 32)
#define ZT_ROUTES_SHIFT(bit) (32 + 5 * (bit))

/* A literal of at most 8 bytes is its node's head, its bytes on top and
 * zeros below (zt_lit_key; no literal and no segment holds a NUL, so the
 * word is the literal, length and all): its slot (ZT_SLOT_SIZE) is the
 * node and its capture child.  A longer one's head is its first 8 bytes;
 * its slot, a line of its own, adds the last 8 bytes and the length, so a
 * literal of up to 16 bytes is checked on one line, and the bytes between
 * are compared in the string pool only past 16.  An empty slot has parent
 * 0 (the sentinel, never a parent). */
typedef struct {
    zt_trie_node_t node;
    uint64_t tail;
    uint32_t len;
    uint32_t str;                   /* the literal: offset in the pool */
    uint64_t unused[2];
} zt_trie_lslot_t;
_Static_assert(sizeof(zt_trie_lslot_t) == 64, "a long slot to a cache line");

/* An open-addressed table of either kind of slot, in the trie's block. */
typedef struct {
    uint32_t off;                   /* byte offset of slot 0 from the base
                                       (0 for the short literals) */
    uint32_t mask;                  /* slots - 1; a power of two minus one */
    uint32_t shift;                 /* 64 - log2(slots): a hash's top bits */
} zt_trie_hash_t;

#define ZT_TRIE_ROOT 1
#define ZT_TRIE_REF(i) ((uint32_t)(i) * (uint32_t)sizeof(zt_trie_node_t))
#define ZT_TRIE_TAKEN UINT32_MAX    /* the parent of slots 0 and 1 */
#define ZT_SLOT_SIZE 64             /* a short literal's slot: two nodes */
#define ZT_SLOT_REF(k) ((uint32_t)(k) * ZT_SLOT_SIZE)
#define ZT_TRIE_ROOT_REF ZT_SLOT_REF(ZT_TRIE_ROOT)

/* The node at byte offset @a ref of @a nodes. */
static inline const zt_trie_node_t *zt_trie_at(const zt_trie_node_t *nodes,
                                               uint32_t ref)
{
    return (const zt_trie_node_t *)(const void *)((const char *)nodes + ref);
}

/* The routes of a node where a route ends, when they do not pack. */
typedef struct {
    uint32_t end[ZT_NMETHODS];      /* route ending here, or ZT_NONE */
    uint32_t glob[ZT_NMETHODS];     /* route ending in `**` here, or ZT_NONE */
} zt_trie_ends_t;

struct zt_trie_s {
    zt_trie_node_t *nodes;          /* the base: the array, then the tables */
    zt_trie_ends_t *ends;           /* of the nodes whose routes do not pack */
    zt_trie_hash_t lits;            /* zt_trie_node_t: literals <= 8 bytes */
    zt_trie_hash_t longs;           /* zt_trie_lslot_t: longer literals */
    const char *strs;               /* the table's string pool */
    int wide;                       /* the CPU has AVX2 (zt_scan_wide) */
};

/* The route of method @a bit ending at @a n, else the one whose `**`
 * starts there (@a glob_only: only that one); ZT_NONE when neither. */
static inline uint32_t zt_trie_route(const struct zt_trie_s *tr,
                                     const zt_trie_node_t *n, uint32_t bit,
                                     int glob_only)
{
    uint64_t r = n->routes;
    uint32_t d = (uint32_t)(r >> ZT_ROUTES_SHIFT(bit)) & 31;

    if ((r & ZT_ROUTES_FULL) != 0) {
        const zt_trie_ends_t *e = &tr->ends[(uint32_t)r];
        return e->end[bit] != ZT_NONE && !glob_only ? e->end[bit] : e->glob[bit];
    }
    return d == 31 || glob_only ? ZT_NONE : (uint32_t)r + d;
}

/* ------------------------------------------------------------------ */
/* Literal keys                                                        */
/* ------------------------------------------------------------------ */

/* The slot of @a h where the search for (@a x, @a parent) starts, @a x
 * the head (a long literal's further words folded in by zt_lit_fold):
 * multiplicative hashing of the head plus the parent's offset, the
 * product's top bits (which every bit of the factor moves).  A short
 * literal's key has its bytes on top, so the parent mostly lands in
 * zeros; a sum that collides costs a probe, never a wrong match. */
static inline uint32_t zt_lit_slot(const zt_trie_hash_t *h, uint64_t x,
                                   uint32_t parent)
{
    x += parent;
    return (uint32_t)((x * UINT64_C(0xff51afd7ed558ccd)) >> h->shift);
}

/* @a head with the bytes of @a s past the first 8 folded in (@a len > 8;
 * all of them are inside @a s; the last word overlaps the one before). */
static inline uint64_t zt_lit_fold(uint64_t head, const char *s, uint32_t len)
{
    uint64_t x = head ^ len;

    if (len <= 16) {                /* the usual: one word, the last 8 bytes */
        return (x * UINT64_C(0xc4ceb9fe1a85ec53)) ^ zt_load8(s + len - 8);
    }
    for (uint32_t i = 8; i < len; i += 8) {
        x = (x * UINT64_C(0xc4ceb9fe1a85ec53))
            ^ zt_load8(i + 8 <= len ? s + i : s + len - 8);
    }
    return x;
}

/* The first min(@a len, 8) bytes of pool literal @a s, zero-padded;
 * read byte by byte, never past the literal. */
static uint64_t zt_lit_head(const char *s, uint32_t len)
{
    uint64_t w = 0;

    for (uint32_t k = 0; k < len && k < 8; k++) {
        w |= (uint64_t)(unsigned char)s[k] << (8 * k);
    }
    return w;
}

/* The key of a word @a x holding @a n <= 8 bytes of a literal from its
 * low byte up: they are shifted to the top, which drops the bytes past
 * them (so a segment's key is one load and one shift). */
static inline uint64_t zt_lit_key(uint64_t x, uint32_t n)
{
    return x << ((0u - 8 * n) & 63);
}

/* ------------------------------------------------------------------ */
/* Building                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
    const zt_table_t *t;
    zt_trie_bnode_t *nodes;         /* in malloc'd space, by index */
    uint32_t nnodes;
    zt_trie_ends_t *ends;           /* in malloc'd space */
    uint32_t nends;
    zt_trie_edge_t *edges;          /* literal edges, in malloc'd space */
    uint32_t nedges;
    apr_hash_t *lit;                /* "parent index + literal" -> edge + 1 */
    apr_pool_t *tmp;
    const char **err;
    apr_pool_t *pool;
} zt_trie_build_t;

static uint32_t zt_trie_node_new(zt_trie_build_t *b)
{
    uint32_t i = b->nnodes++;
    zt_trie_bnode_t *n = &b->nodes[i];

    n->lits = 0;
    n->capture = n->star = 0;
    n->methods = 0;
    n->ends = ZT_NONE;
    n->weight = 0;
    return i;
}

static uint32_t zt_trie_literal_child(zt_trie_build_t *b, uint32_t parent,
                                      const char *text)
{
    size_t len = strlen(text);
    char *key = apr_palloc(b->tmp, sizeof(parent) + len);
    uintptr_t found;
    zt_trie_edge_t *e;

    memcpy(key, &parent, sizeof(parent));
    memcpy(key + sizeof(parent), text, len);
    found = (uintptr_t)apr_hash_get(b->lit, key, (apr_ssize_t)(sizeof(parent) + len));
    if (found != 0) {
        return b->edges[found - 1].child;
    }
    e = &b->edges[b->nedges++];
    e->text = text;
    e->len = (uint32_t)len;
    e->parent = parent;
    e->child = zt_trie_node_new(b);
    b->nodes[parent].lits = 1;
    apr_hash_set(b->lit, key, (apr_ssize_t)(sizeof(parent) + len),
                 (void *)(uintptr_t)b->nedges);
    return e->child;
}

static const char *zt_route_where(const zt_table_t *t, uint32_t ri, uint32_t bit,
                                  apr_pool_t *pool)
{
    const zt_route_rec_t *r = &t->routes[ri];

    return apr_psprintf(pool, "%s %s (%s:%u)", zt_method_name(1u << bit),
                        zt_table_str(t, r->pattern), zt_table_str(t, r->file),
                        r->line);
}

/* Claim @a slot for route @a ri; refuse a second route of the same shape. */
static int zt_trie_claim(zt_trie_build_t *b, uint32_t *slot, uint32_t ri,
                         uint32_t bit)
{
    if (*slot != ZT_NONE) {
        *b->err = apr_psprintf(b->pool, "routes %s and %s can match the "
                               "same request with equal rank",
                               zt_route_where(b->t, *slot, bit, b->tmp),
                               zt_route_where(b->t, ri, bit, b->tmp));
        return 0;
    }
    *slot = ri;
    return 1;
}

static int zt_trie_add(zt_trie_build_t *b, uint32_t ri)
{
    const zt_table_t *t = b->t;
    const zt_route_rec_t *r = &t->routes[ri];
    uint32_t node = ZT_TRIE_ROOT, methods = r->methods & ZT_M_ALL;
    int glob = 0;

    b->nodes[node].methods |= (uint16_t)methods;
    b->nodes[node].weight++;
    for (uint32_t k = 0; k < r->seg_count; k++) {
        const zt_seg_rec_t *s = &t->segs[r->seg_first + k];
        uint32_t next;

        switch (s->kind) {
        case ZT_SEG_LITERAL:
            next = zt_trie_literal_child(b, node, zt_table_str(t, s->str));
            break;
        case ZT_SEG_CAPTURE:
        case ZT_SEG_STAR: {
            uint32_t *c = s->kind == ZT_SEG_CAPTURE ? &b->nodes[node].capture
                                                    : &b->nodes[node].star;
            if (*c == 0) {
                *c = zt_trie_node_new(b);   /* nodes never move: sized at start */
            }
            next = *c;
            break;
        }
        case ZT_SEG_GLOBSTAR:
            if (k + 1 != r->seg_count) {
                *b->err = apr_psprintf(b->pool, "route %u (%s): ** is not "
                                       "the last segment", ri,
                                       zt_table_str(t, r->pattern));
                return 0;
            }
            glob = 1;
            next = node;
            break;
        default:
            *b->err = apr_psprintf(b->pool, "route %u: segment kind %u",
                                   ri, s->kind);
            return 0;
        }
        if (next != node) {
            b->nodes[next].weight++;
        }
        node = next;
        b->nodes[node].methods |= (uint16_t)methods;
    }
    if (b->nodes[node].ends == ZT_NONE) {      /* at most one per route */
        zt_trie_ends_t *e = &b->ends[b->nends];
        for (int k = 0; k < ZT_NMETHODS; k++) {
            e->end[k] = e->glob[k] = ZT_NONE;
        }
        b->nodes[node].ends = b->nends++;
    }
    for (uint32_t bit = 0; bit < ZT_NMETHODS; bit++) {
        zt_trie_ends_t *e = &b->ends[b->nodes[node].ends];
        if ((methods & (1u << bit)) != 0
            && !zt_trie_claim(b, glob ? &e->glob[bit] : &e->end[bit], ri, bit)) {
            return 0;
        }
    }
    return 1;
}

/* A table of at least four times @a n slots of @a size bytes, at least
 * 64, at byte @a *off of the block, which it advances.  A quarter full,
 * few literals are past the slot they hash to (which costs a call), and
 * those are literals few routes pass through (zt_trie_order_cmp); the
 * tables are small beside the rest of a large policy. */
static void zt_trie_hash_place(zt_trie_hash_t *h, uint32_t n, size_t size,
                               size_t *off)
{
    uint32_t slots = 64, shift = 58;

    while (slots < 4 * (uint64_t)n) {
        slots *= 2;
        shift--;
    }
    h->off = (uint32_t)*off;        /* the caller checks the block's size */
    h->mask = slots - 1;
    h->shift = shift;
    *off += (size_t)slots * size;
}

/* zt_trie_node_t.routes of a node with ends record @a e (index @a i),
 * packed when they fit. */
static uint64_t zt_trie_routes_pack(const zt_trie_ends_t *e, uint32_t i)
{
    uint32_t base = ZT_NONE;
    uint64_t r;

    for (int k = 0; k < ZT_NMETHODS; k++) {
        if (e->glob[k] != ZT_NONE) {
            return ZT_ROUTES_FULL | i;
        }
        base = e->end[k] < base ? e->end[k] : base;
    }
    r = base;
    for (int k = 0; k < ZT_NMETHODS; k++) {
        if (e->end[k] != ZT_NONE && e->end[k] - base >= 31) {
            return ZT_ROUTES_FULL | i;
        }
        r |= (uint64_t)(e->end[k] == ZT_NONE ? 31 : e->end[k] - base)
             << ZT_ROUTES_SHIFT(k);
    }
    return r;
}

/* Enter literal edge @a e, whose parent is at @a parent, in its table of
 * the block at @a base; *@a ref is its node's. */
static void zt_trie_enter(struct zt_trie_s *tr, char *base,
                          const zt_trie_edge_t *e, uint32_t parent,
                          uint32_t *ref)
{
    uint64_t head = zt_lit_head(e->text, e->len);
    const zt_trie_hash_t *h = e->len <= 8 ? &tr->lits : &tr->longs;
    size_t size = e->len <= 8 ? ZT_SLOT_SIZE : sizeof(zt_trie_lslot_t);
    uint32_t k;
    zt_trie_node_t *n;

    if (e->len <= 8) {
        head = zt_lit_key(head, e->len);
        k = zt_lit_slot(h, head, parent);
    }
    else {
        k = zt_lit_slot(h, zt_lit_fold(head, e->text, e->len), parent);
    }
    while (((zt_trie_node_t *)(void *)(base + h->off + k * size))->parent != 0) {
        k = (k + 1) & h->mask;
    }
    *ref = h->off + (uint32_t)(k * size);
    n = (zt_trie_node_t *)(void *)(base + *ref);
    n->head = head;
    n->parent = parent;
    if (e->len > 8) {
        zt_trie_lslot_t *l = (zt_trie_lslot_t *)n;
        l->tail = zt_load8(e->text + e->len - 8);
        l->len = e->len;
        l->str = (uint32_t)(e->text - tr->strs);
    }
}

/* An edge to enter, in the order zt_trie_order_cmp sorts them. */
typedef struct {
    uint32_t weight, child, edge;
} zt_trie_order_t;

/* The edges with more routes below first: they take the slots they hash
 * to, so the literals most requests look up are found in one probe (the
 * ones pushed along are those of few routes).  A child has at most its
 * parent's weight and a larger index, so its parent comes first. */
static int zt_trie_order_cmp(const void *a, const void *b)
{
    const zt_trie_order_t *x = a, *y = b;

    if (x->weight != y->weight) {
        return x->weight > y->weight ? -1 : 1;
    }
    return x->child < y->child ? -1 : x->child > y->child;
}

/* Lay the built trie out in one block of @a pool: the array of the
 * nodes no literal leads to, then the two tables, each literal node in
 * its slot; name every node by its ref. */
static int zt_trie_layout(struct zt_trie_s *tr, const zt_trie_build_t *b,
                          apr_pool_t *pool)
{
    uint32_t *ref = malloc(b->nnodes * sizeof(uint32_t));
    zt_trie_order_t *order = malloc(((size_t)b->nedges + 1) * sizeof(zt_trie_order_t));
    uint64_t *routes = malloc(((size_t)b->nends + 1) * sizeof(uint64_t));
    uint32_t narray = 0, nlong = 0, nfull = 0;
    size_t off;
    char *base;

    if (ref == NULL || order == NULL || routes == NULL) {
        free(ref);
        free(order);
        free(routes);
        return 0;
    }
    for (uint32_t i = 0; i < b->nnodes; i++) {
        ref[i] = ZT_NONE;
    }
    for (uint32_t i = 0; i < b->nedges; i++) {
        uint32_t c = b->edges[i].child, cc = b->nodes[c].capture;
        nlong += b->edges[i].len > 8;
        ref[c] = 0;                         /* in a slot */
        if (b->edges[i].len <= 8 && cc != 0) {
            ref[cc] = 0;                    /* in the same slot */
        }
        order[i].weight = b->nodes[c].weight;
        order[i].child = c;
        order[i].edge = i;
    }
    qsort(order, b->nedges, sizeof(*order), zt_trie_order_cmp);
    off = 0;                        /* the sentinel and the root: two more */
    zt_trie_hash_place(&tr->lits, b->nedges - nlong + 2, ZT_SLOT_SIZE, &off);
    ref[0] = 0;
    ref[ZT_TRIE_ROOT] = ZT_TRIE_ROOT_REF;
    if (b->nodes[ZT_TRIE_ROOT].capture != 0) {
        ref[b->nodes[ZT_TRIE_ROOT].capture] = ZT_TRIE_ROOT_REF + ZT_TRIE_REF(1);
    }
    for (uint32_t i = 0; i < b->nnodes; i++) {
        if (ref[i] == ZT_NONE) {
            ref[i] = (uint32_t)off + ZT_TRIE_REF(narray++);
        }
    }
    off = (off + (size_t)narray * sizeof(zt_trie_node_t) + 63) & ~(size_t)63;
    zt_trie_hash_place(&tr->longs, nlong, sizeof(zt_trie_lslot_t), &off);
    if (off > UINT32_MAX) {                 /* refs are u32 */
        free(ref);
        free(order);
        free(routes);
        return 0;
    }
    for (uint32_t i = 0; i < b->nends; i++) {
        routes[i] = zt_trie_routes_pack(&b->ends[i], nfull);
        nfull += (routes[i] & ZT_ROUTES_FULL) != 0;
    }
    tr->ends = zt_palloc_large(pool, ((size_t)nfull + 1) * sizeof(zt_trie_ends_t));
    for (uint32_t i = 0; i < b->nends; i++) {
        if ((routes[i] & ZT_ROUTES_FULL) != 0) {
            tr->ends[(uint32_t)routes[i]] = b->ends[i];
        }
    }
    base = zt_palloc_large(pool, off);
    memset(base, 0, off);
    tr->nodes = (zt_trie_node_t *)(void *)base;
    tr->nodes[0].parent = ZT_TRIE_TAKEN;
    ((zt_trie_node_t *)(void *)(base + ZT_TRIE_ROOT_REF))->parent = ZT_TRIE_TAKEN;
    for (uint32_t i = 0; i < b->nedges; i++) {
        const zt_trie_edge_t *e = &b->edges[order[i].edge];
        uint32_t cc = b->nodes[e->child].capture;
        zt_trie_enter(tr, base, e, ref[e->parent], &ref[e->child]);
        if (e->len <= 8 && cc != 0) {
            ref[cc] = ref[e->child] + ZT_TRIE_REF(1);
        }
    }
    free(order);
    for (uint32_t i = 0; i < b->nnodes; i++) {
        const zt_trie_bnode_t *bn = &b->nodes[i];
        zt_trie_node_t *n = (zt_trie_node_t *)(void *)(base + ref[i]);

        n->methods = bn->methods;
        n->flags = (bn->lits != 0 ? ZT_TRIE_LITS : 0)
                   | (bn->capture != 0 && ref[bn->capture] == ref[i] + ZT_TRIE_REF(1)
                      ? ZT_TRIE_BESIDE : 0);
        n->capture = ref[bn->capture];
        n->star = ref[bn->star];
        n->routes = bn->ends == ZT_NONE ? ZT_ROUTES_NONE : routes[bn->ends];
    }
    free(ref);
    free(routes);
    return 1;
}

apr_status_t zt_route_trie_build(zt_table_t *t, apr_pool_t *pool,
                                 const char **err)
{
    struct zt_trie_s *tr = apr_pcalloc(pool, sizeof(*tr));
    size_t cap = (size_t)t->nsegs + 2;
    zt_trie_build_t b;
    apr_status_t rv = APR_SUCCESS;

    /* At most one node per segment plus two, one edge per segment.
     * Built in malloc'd space (a large block is mapped lazily, so only
     * what is used costs memory), then laid out in the pool at its size:
     * routes that share prefixes share nodes. */
    if (cap >= UINT32_MAX / sizeof(zt_trie_lslot_t)) {  /* refs are u32 */
        *err = apr_psprintf(pool, "too many route segments (%u)",
                            t->nsegs);
        return APR_EINVAL;
    }
    b.nodes = malloc(cap * sizeof(zt_trie_bnode_t));
    b.ends = malloc(((size_t)t->nroutes + 1) * sizeof(zt_trie_ends_t));
    b.edges = malloc(cap * sizeof(zt_trie_edge_t));
    if (b.nodes == NULL || b.ends == NULL || b.edges == NULL
        || apr_pool_create(&b.tmp, pool) != APR_SUCCESS) {
        free(b.nodes);
        free(b.ends);
        free(b.edges);
        *err = apr_psprintf(pool, "out of memory building the route trie");
        return APR_ENOMEM;
    }
    tr->strs = t->strs;
#ifdef ZT_ROUTE_AVX2
    __builtin_cpu_init();
    tr->wide = __builtin_cpu_supports("avx2");
#endif
    b.t = t;
    b.nnodes = b.nends = b.nedges = 0;
    zt_trie_node_new(&b);           /* 0: the sentinel */
    zt_trie_node_new(&b);           /* the root */
    b.err = err;
    b.pool = pool;
    b.lit = apr_hash_make(b.tmp);
    for (uint32_t i = 0; i < t->nroutes && rv == APR_SUCCESS; i++) {
        if (!zt_trie_add(&b, i)) {
            rv = APR_EINVAL;
        }
    }
    apr_pool_destroy(b.tmp);
    if (rv == APR_SUCCESS) {
        if (zt_trie_layout(tr, &b, pool)) {
            t->trie = tr;
        }
        else {
            *err = apr_psprintf(pool, "the route trie is too large "
                                "(%u segments)", t->nsegs);
            rv = APR_ENOMEM;
        }
    }
    free(b.nodes);
    free(b.ends);
    free(b.edges);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Matching                                                            */
/* ------------------------------------------------------------------ */

#define ZT_SHORT_PATH 64                /* bytes: split by one 64-bit mask */
/* A path shorter than that has fewer than 32 segments (each takes a '/'
 * and a byte), so its split counts none. */
_Static_assert(ZT_MAX_SEGMENTS >= ZT_SHORT_PATH / 2 - 1,
               "a short path cannot have too many segments");

typedef struct {
    const struct zt_trie_s *tr;
    const zt_match_t *m;
    const char *path, *end;             /* the request path, its NUL */
    uint32_t bit;                       /* the method's ZT_M_* bit number */
    uint32_t want;                      /* 1 << bit; 0: no route can match */
    /* A path under ZT_SHORT_PATH bytes is copied here as it is scanned,
     * with 16 more bytes after it, so a segment's first word is one load
     * wherever it ends; copy is NULL for a longer path. */
    const char *copy;
    char buf[ZT_SHORT_PATH + 16];
} zt_walk_t;

/* The '/' mask @a S of a path of @a len (< 64) bytes with the bit past
 * its end (E) set, or 0 when the path is refused: a byte @a bad, or, by
 * its '/' and '.' masks @a S and @a D, an empty, "." or ".." segment.  A
 * slash starts one when the next bytes are "/" or the end, "." then "/"
 * or the end, or ".." then "/" or the end.  (At 63 bytes, E is bit 63:
 * no bit is free for a flag.) */
static inline __attribute__((always_inline))
uint64_t zt_split_check(uint64_t S, uint64_t D, uint32_t bad, size_t len)
{
    uint64_t SE = S | (UINT64_C(1) << len);
    uint64_t T = SE >> 1;           /* bit i: byte i + 1 is '/' or the end */

    if (bad != 0 || (S & (T | ((D & (T | ((D >> 1) & (T >> 1)))) >> 1))) != 0) {
        return 0;
    }
    return SE;
}

#if defined(__SSE2__) && !defined(ZT_ROUTE_WORDS)
#include <emmintrin.h>

#define ZT_SCAN 16                      /* bytes a scan step reads */

/* The '/' and '.' bytes of the 16 at @a p as masks (bit i: byte i);
 * not 0 when one of them is a control byte (its unsigned min with 0x1f
 * is itself) or DEL. */
static inline uint32_t zt_scan(const char *p, uint32_t *slash, uint32_t *dot)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i ctl = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v),
                               _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));

    *slash = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')));
    *dot = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')));
    return (uint32_t)_mm_movemask_epi8(ctl);
}

#ifdef ZT_ROUTE_AVX2
#include <immintrin.h>

/* Bytes @a c repeated, for zt_scan32's compares (one memory operand
 * each, where a set1 would be built with three instructions). */
#define ZT_BYTES32(c) { c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, \
                        c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c }
static const unsigned char zt_scan32_bytes[4][32] __attribute__((aligned(32))) = {
    ZT_BYTES32(0x1f), ZT_BYTES32(0x7f), ZT_BYTES32('/'), ZT_BYTES32('.')
};

/* zt_scan for the 32 bytes of @a v, compiled for AVX2 (called only when
 * the CPU has it). */
static inline __attribute__((target("avx2"), always_inline))
uint32_t zt_scan32(__m256i v, uint32_t *slash, uint32_t *dot)
{
    const __m256i *k = (const __m256i *)(const void *)zt_scan32_bytes;
    __m256i ctl = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_load_si256(&k[0])), v),
                                  _mm256_cmpeq_epi8(v, _mm256_load_si256(&k[1])));

    *slash = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_load_si256(&k[2])));
    *dot = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_load_si256(&k[3])));
    return (uint32_t)_mm256_movemask_epi8(ctl);
}

/* zt_split_check of a path of 32 to 63 bytes, from two 32-byte steps
 * (the second overlapping the first), copied to @a buf with 16 zeros
 * after it: the three or four 16-byte steps of zt_route_split in two. */
static __attribute__((target("avx2"), noinline))
uint64_t zt_scan_wide(const char *path, size_t len, char *buf)
{
    __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)path);
    __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(path + len - 32));
    uint32_t s0, d0, s1, d1, bad = zt_scan32(v0, &s0, &d0) | zt_scan32(v1, &s1, &d1);

    _mm256_storeu_si256((__m256i *)(void *)buf, v0);
    _mm256_storeu_si256((__m256i *)(void *)(buf + len - 32), v1);
    _mm_storeu_si128((__m128i *)(void *)(buf + len), _mm_setzero_si128());
    return zt_split_check(s0 | (uint64_t)s1 << (len - 32),
                          d0 | (uint64_t)d1 << (len - 32), bad, len);
}
#endif
#else

#define ZT_SCAN 8

/* Bit i of the result: the high bit of byte i of @a x (the only bits). */
static inline uint32_t zt_gather(uint64_t x)
{
    return (uint32_t)(((x >> 7) * UINT64_C(0x0102040810204080)) >> 56);
}

/* The same with one word. */
static inline uint32_t zt_scan(const char *p, uint32_t *slash, uint32_t *dot)
{
    uint64_t w = zt_load8(p);

    *slash = zt_gather(zt_bytes_equal_to(w, '/'));
    *dot = zt_gather(zt_bytes_equal_to(w, '.'));
    return zt_controls8(w) != 0;
}
#endif

/* One step of zt_route_split: the bytes at @a at of @a path scanned into
 * *@a S and *@a D and copied to @a buf; not 0 when one is refused. */
static inline __attribute__((always_inline))
uint32_t zt_scan_copy(const char *path, char *buf, size_t at, uint64_t *S,
                      uint64_t *D)
{
    uint32_t slash, dot, bad = zt_scan(path + at, &slash, &dot);

    memcpy(buf + at, path + at, ZT_SCAN);
    *S |= (uint64_t)slash << at;
    *D |= (uint64_t)dot << at;
    return bad;
}

/* Append segment [@a s, @a s + @a n) to m->seg[*nseg]; 0 when it is
 * empty ("//", a trailing '/'), "." or "..", or one too many. */
static inline int zt_seg_add(zt_match_t *m, uint32_t *nseg, const char *s,
                             uint32_t n)
{
    if ((n <= 2 && (n == 0 || (s[0] == '.' && (n == 1 || s[1] == '.'))))
        || *nseg == ZT_MAX_SEGMENTS) {
        return 0;
    }
    m->seg[*nseg].ptr = s;
    m->seg[*nseg].len = n;
    (*nseg)++;
    return 1;
}

/* Split a path of 64 bytes or more, ZT_SCAN bytes a step (the last step
 * reads the last ZT_SCAN bytes, its mask shifted past what was seen),
 * checking each segment as it is taken. */
static int zt_route_split_long(const char *path, size_t len, zt_match_t *m)
{
    uint32_t start = 1, nseg = 0;   /* the current segment's first byte */

    if (len > UINT32_MAX) {
        return 0;
    }
    for (size_t o = 0; o < len; o += ZT_SCAN) {
        uint32_t slash, dot;
        size_t at = o + ZT_SCAN <= len ? o : len - ZT_SCAN;

        if (zt_scan(path + at, &slash, &dot) != 0) {
            return 0;
        }
        slash >>= o - at;
        if (o == 0) {
            slash &= slash - 1;     /* the leading '/' */
        }
        for (; slash != 0; slash &= slash - 1) {
            uint32_t k = (uint32_t)o + (uint32_t)__builtin_ctz(slash);
            if (!zt_seg_add(m, &nseg, path + start, k - start)) {
                return 0;
            }
            start = k + 1;
        }
    }
    if (!zt_seg_add(m, &nseg, path + start, (uint32_t)len - start)) {
        return 0;
    }
    m->nseg = nseg;
    return 1;
}

static inline uint32_t zt_trie_step(const zt_walk_t *w, uint32_t ni,
                                    const char *s, uint32_t n, const char *cs);

/* Split @a path into m->seg and set *@a plen to its length; 0 if it is
 * not a canonical absolute path.  A path under 64 bytes is also
 * followed down the trie as it is split (zt_trie_step from *@a ni, where
 * the node reached is left: 0 when that failed); a longer one is not
 * (*@a ni is then ZT_NONE).
 *
 * A path under 64 bytes (nearly all) becomes two 64-bit masks, of its '/'
 * (S) and '.' (D) bytes, from at most four steps (the last overlapping
 * the one before; a path shorter than one step is copied into a buffer
 * padded with 'a'), which zt_split_check tests for refused segments.
 * The segments are then read off S and the bit past the end, lowest bit
 * first: under 64 bytes there are at most 31, so no count is checked. */
static int zt_route_split(const char *path, zt_match_t *m, zt_walk_t *w,
                          uint32_t *ni, size_t *plen)
{
    uint64_t S = 0, D = 0, SE;
    uint32_t bad = 0;
    char *buf = w->buf;
    zt_span_t *sg = m->seg;
    uint32_t node = *ni, st = 1;    /* the current segment's first byte */
    size_t len;

    if (path == NULL || path[0] != '/') {
        return 0;                   /* the caller sets m->nseg */
    }
    *plen = len = strlen(path);
    if (len >= ZT_SHORT_PATH) {
        *ni = ZT_NONE;
        return zt_route_split_long(path, len, m);
    }
#ifdef ZT_ROUTE_AVX2
    if (len >= 32 && w->tr->wide) {
        SE = zt_scan_wide(path, len, buf);
    }
    else
#endif
    if (len >= ZT_SCAN) {
        /* the first step, the middle ones, then the last (overlapping) */
        bad = zt_scan_copy(path, buf, 0, &S, &D);
        for (size_t o = ZT_SCAN; o + ZT_SCAN < len; o += ZT_SCAN) {
            bad |= zt_scan_copy(path, buf, o, &S, &D);
        }
        bad |= zt_scan_copy(path, buf, len - ZT_SCAN, &S, &D);
        memset(buf + len, 0, 16);
        SE = zt_split_check(S, D, bad, len);
    }
    else if (len == 1) {
        m->nseg = 0;                /* "/" has no segments */
        return 1;
    }
    else {
        uint32_t slash, dot;
        memset(buf, 'a', 2 * ZT_SCAN);
        memcpy(buf, path, len);
        bad = zt_scan(buf, &slash, &dot);
        SE = zt_split_check(slash, dot, bad, len);
    }
    if (SE == 0) {
        return 0;
    }
    for (uint64_t x = SE & (SE - 1); x != 0; x &= x - 1) {
        uint32_t k = (uint32_t)__builtin_ctzll(x), n = k - st;

        sg->ptr = path + st;
        sg->len = n;
        sg++;
        node = zt_trie_step(w, node, path + st, n, buf + st);   /* 0 stays 0 */
        st = k + 1;
    }
    *ni = node;
    m->nseg = (uint32_t)(sg - m->seg);
    return 1;
}

/* The first min(@a n, 8) bytes of segment @a s as a word, zero-padded.
 * A word is read only where the path has 8 bytes: from @a s, else its
 * last 8 bytes, which hold the segment (it ends by w->end) at byte d. */
static inline uint64_t zt_seg_head(const zt_walk_t *w, const char *s, uint32_t n)
{
    const char *q = w->end - s >= 8 ? s : w->end - 8;
    uint32_t d = (uint32_t)(s - q), k = n < 8 ? n : 8, hi = 64 - 8 * (d + k);

    if (w->end - w->path < 8) {
        return zt_lit_head(s, n);
    }
    return zt_load8(q) << hi >> (hi + 8 * d);
}

/* zt_seg_head; from @a cs, the segment in the copy of a short path, when
 * there is one, with one load (its bytes past min(@a n, 8) are left for
 * the caller to drop, or are the segment's own when @a n > 8). */
static inline __attribute__((always_inline))
uint64_t zt_walk_head(const zt_walk_t *w, const char *s, uint32_t n, const char *cs)
{
    return cs != NULL ? zt_load8(cs) : zt_seg_head(w, s, n);
}

/* The search for (@a head, @a parent) from the slot after the one at
 * @a ref on: the child, or 0 at an empty slot.  Apart from zt_trie_find,
 * which only looks at the first slot, so that its caller's loop keeps its
 * registers. */
static __attribute__((noinline))
uint32_t zt_trie_probe(const struct zt_trie_s *tr, uint32_t ref, uint64_t head,
                       uint32_t parent)
{
    for (uint32_t k = ref / ZT_SLOT_SIZE;;) {
        const zt_trie_node_t *e;
        k = (k + 1) & tr->lits.mask;
        ref = ZT_SLOT_REF(k);
        e = zt_trie_at(tr->nodes, ref);
        if (e->head == head && e->parent == parent) {
            return ref;
        }
        if (e->parent == 0) {
            return 0;
        }
    }
}

/* The child of node @a parent by segment (@a s, @a n > 8 bytes, the
 * first 8 @a head), or 0. */
static inline __attribute__((always_inline))
uint32_t zt_trie_find_long(const struct zt_trie_s *tr, uint32_t parent,
                           const char *s, uint32_t n, uint64_t head)
{
    uint64_t tail = zt_load8(s + n - 8);    /* inside the segment: n > 8 */

    for (uint32_t k = zt_lit_slot(&tr->longs, zt_lit_fold(head, s, n), parent);;
         k = (k + 1) & tr->longs.mask) {
        uint32_t ref = tr->longs.off + k * (uint32_t)sizeof(zt_trie_lslot_t);
        const zt_trie_lslot_t *e = (const zt_trie_lslot_t *)zt_trie_at(tr->nodes, ref);
        if (e->node.head == head && e->tail == tail && e->node.parent == parent
            && e->len == n
            && (n <= 16 || memcmp(tr->strs + e->str + 8, s + 8, n - 16) == 0)) {
            return ref;
        }
        if (e->node.parent == 0) {
            return 0;
        }
    }
}

/* zt_trie_find_long for @a n > 16: the only one that calls (memcmp). */
static __attribute__((noinline))
uint32_t zt_trie_find_longer(const struct zt_trie_s *tr, uint32_t parent,
                             const char *s, uint32_t n, uint64_t head)
{
    return zt_trie_find_long(tr, parent, s, n, head);
}

/* zt_trie_find_long; apart from zt_trie_find's caller, whose loop keeps
 * its registers, and from zt_trie_find_longer, so that the usual literal
 * of at most 16 bytes saves no register and folds one word. */
static __attribute__((noinline))
uint32_t zt_trie_find_lit(const struct zt_trie_s *tr, uint32_t parent,
                          const char *s, uint32_t n, uint64_t head)
{
    if (n <= 8) {
        __builtin_unreachable();    /* zt_trie_find's shorter ones */
    }
    if (n > 16) {
        return zt_trie_find_longer(tr, parent, s, n, head);
    }
    return zt_trie_find_long(tr, parent, s, n, head);
}

/* The literal child of node @a ni equal to segment (@a s, @a n), or 0.
 * A segment is keyed only here: captures never are.  A literal of at
 * most 8 bytes in the slot it hashes to, the usual case, is one compare
 * of its key and one of its parent. */
static inline __attribute__((always_inline))
uint32_t zt_trie_find(const zt_walk_t *w, uint32_t ni, const char *s, uint32_t n,
                      const char *cs)
{
    const struct zt_trie_s *tr = w->tr;
    const zt_trie_node_t *e;
    uint64_t head = zt_walk_head(w, s, n, cs);
    uint32_t ref;

    if (n > 8) {
        return zt_trie_find_lit(tr, ni, s, n, head);
    }
    head = zt_lit_key(head, n);
    ref = ZT_SLOT_REF(zt_lit_slot(&tr->lits, head, ni));
    e = zt_trie_at(tr->nodes, ref);
    if (__builtin_expect(e->head == head && e->parent == ni, 1)) {
        if (ref == 0) {
            __builtin_unreachable();    /* slot 0's parent is no ref */
        }
        return ref;
    }
    return zt_trie_probe(tr, ref, head, ni);
}

/* The child the walk tries first from node @a ni for segment (@a s,
 * @a n): the literal child, else the capture child, else the `*` child,
 * of those with a route of the method below; 0 when none has.  But a
 * literal child is taken untested: when it has no route of the method,
 * no node below it has one, so the match ends on no route and the walk
 * runs, which finds the capture's or `*`'s (/a/b for a method only
 * /a/{x} has).  Every request that ends on a route saves the test. */
static inline __attribute__((always_inline))
uint32_t zt_trie_step(const zt_walk_t *w, uint32_t ni, const char *s, uint32_t n,
                      const char *cs)
{
    const zt_trie_node_t *nodes = w->tr->nodes, *nd = zt_trie_at(nodes, ni);
    uint32_t c;

    if ((nd->flags & ZT_TRIE_LITS) && (c = zt_trie_find(w, ni, s, n, cs)) != 0) {
        return c;
    }
    /* The capture child beside the node is named from the node's own ref,
     * not read from it: the next segment's probe then does not wait for
     * this line, and the CPU can have the lines of every level of a path
     * in flight at once. */
    if ((nd->flags & ZT_TRIE_BESIDE)
        && (zt_trie_at(nodes, c = ni + ZT_TRIE_REF(1))->methods & w->want) != 0) {
        return c;
    }
    if ((zt_trie_at(nodes, c = nd->capture)->methods & w->want) != 0
        || (zt_trie_at(nodes, c = nd->star)->methods & w->want) != 0) {
        return c;
    }
    return 0;
}

/* The node the first branch of the walk reaches from the root by the
 * segments of a path the split did not follow; 0 when it fails. */
static uint32_t zt_trie_descend(const zt_walk_t *w)
{
    const zt_span_t *sg = w->m->seg, *end = sg + w->m->nseg;
    uint32_t ni = ZT_TRIE_ROOT_REF;

    if ((zt_trie_at(w->tr->nodes, ni)->methods & w->want) == 0) {
        return 0;
    }
    for (; sg < end && ni != 0; sg++) {
        ni = zt_trie_step(w, ni, sg->ptr, sg->len, NULL);
    }
    return ni;
}

/* The best route for segments i.. below node @a ni.
 * Recursion depth is at most ZT_MAX_SEGMENTS + 1. */
static uint32_t zt_trie_walk(const zt_walk_t *w, uint32_t ni, uint32_t i)
{
    const zt_trie_node_t *n = zt_trie_at(w->tr->nodes, ni);
    const zt_span_t *sg = &w->m->seg[i];
    uint32_t r, bit = w->bit;

    if ((n->methods & w->want) == 0) {
        return ZT_NONE;
    }
    if (i == w->m->nseg) {
        return zt_trie_route(w->tr, n, bit, 0);
    }
    if (((n->flags & ZT_TRIE_LITS) != 0
         && (r = zt_trie_walk(w, zt_trie_find(w, ni, sg->ptr, sg->len,
                                              w->copy != NULL
                                              ? w->copy + (sg->ptr - w->path) : NULL),
                              i + 1)) != ZT_NONE)
        || (r = zt_trie_walk(w, n->capture, i + 1)) != ZT_NONE
        || (r = zt_trie_walk(w, n->star, i + 1)) != ZT_NONE) {
        return r;
    }
    return zt_trie_route(w->tr, n, bit, 1);
}

/* ZT_M_* bit of @a m: its first byte, then the rest a byte at a time
 * (never past the NUL of a shorter name); 0 for any other.  Tests, not a
 * switch: its jump table cost more than the two or three tests before
 * the usual methods' cases. */
static uint32_t zt_method_bit(const char *m)
{
#define ZT_REST(s, c1, c2, c3) (s[1] == c1 && s[2] == c2 && s[3] == c3)
    char c = m[0];

    if (c == 'G') {
        return ZT_REST(m, 'E', 'T', '\0') ? ZT_M_GET : 0;
    }
    if (c == 'P') {
        if (m[1] == 'U') {
            return m[2] == 'T' && m[3] == '\0' ? ZT_M_PUT : 0;
        }
        if (m[1] == 'O') {
            return m[2] == 'S' && m[3] == 'T' && m[4] == '\0' ? ZT_M_POST : 0;
        }
        return ZT_REST(m, 'A', 'T', 'C') && m[4] == 'H' && m[5] == '\0'
               ? ZT_M_PATCH : 0;
    }
    if (c == 'D') {
        return ZT_REST(m, 'E', 'L', 'E') && m[4] == 'T' && m[5] == 'E'
               && m[6] == '\0' ? ZT_M_DELETE : 0;
    }
    if (c == 'H') {
        return ZT_REST(m, 'E', 'A', 'D') && m[4] == '\0' ? ZT_M_GET : 0;
    }
    if (c == 'O') {
        return ZT_REST(m, 'P', 'T', 'I') && m[4] == 'O' && m[5] == 'N'
               && m[6] == 'S' && m[7] == '\0' ? ZT_M_OPTIONS : 0;
    }
    return 0;
#undef ZT_REST
}

/* What a table without a trie matches: nothing (a root with no methods). */
static const zt_trie_node_t zt_no_nodes[3] = {
    { .routes = ZT_ROUTES_NONE }, { .routes = ZT_ROUTES_NONE }, { .routes = ZT_ROUTES_NONE }
};
static const struct zt_trie_s zt_no_trie = { .nodes = (zt_trie_node_t *)zt_no_nodes };

/* The split follows the path down the trie as it goes (the first branch
 * of the walk, which is the answer for nearly every request); only when
 * that ends without a route does the walk itself run, and backtrack. */
zt_route_status_e zt_route_match(const zt_table_t *t, const char *method,
                                 const char *path, zt_match_t *m)
{
    zt_walk_t w;
    uint32_t mbit = method != NULL ? zt_method_bit(method) : 0, ni;
    size_t len;

    m->route = ZT_NONE;
    w.tr = t->trie != NULL ? t->trie : &zt_no_trie;
    w.bit = mbit != 0 ? (uint32_t)__builtin_ctz(mbit) : 0;
    w.want = t->trie != NULL ? mbit : 0;
    ni = ZT_TRIE_ROOT_REF;          /* a child has no method its parent lacks */
    if (!zt_route_split(path, m, &w, &ni, &len)) {
        m->nseg = 0;
        return ZT_ROUTE_BAD_PATH;
    }
    if (w.want == 0) {
        return ZT_ROUTE_NONE;
    }
    if (ni != 0 && ni != ZT_NONE) {
        m->route = zt_trie_route(w.tr, zt_trie_at(w.tr->nodes, ni), w.bit, 0);
        if (m->route != ZT_NONE) {
            return ZT_ROUTE_OK;
        }
    }
    /* What the walk reads besides the trie, set only now: the split
     * followed nearly every request to its route without it. */
    w.m = m;
    w.path = path;
    w.end = path + len;
    w.copy = len < ZT_SHORT_PATH ? w.buf : NULL;
    if (ni == ZT_NONE && (ni = zt_trie_descend(&w)) != 0) {
        m->route = zt_trie_route(w.tr, zt_trie_at(w.tr->nodes, ni), w.bit, 0);
    }
    if (m->route == ZT_NONE) {
        m->route = zt_trie_walk(&w, ZT_TRIE_ROOT_REF, 0);
    }
    return m->route == ZT_NONE ? ZT_ROUTE_NONE : ZT_ROUTE_OK;
}

const zt_span_t *zt_route_capture(const zt_table_t *t, const zt_match_t *m,
                                  const char *name)
{
    const zt_route_rec_t *r;

    if (m == NULL || name == NULL || m->route >= t->nroutes) {
        return NULL;
    }
    r = &t->routes[m->route];
    for (uint32_t i = 0; i < r->seg_count && i < m->nseg; i++) {
        const zt_seg_rec_t *s = &t->segs[r->seg_first + i];
        if (s->kind == ZT_SEG_CAPTURE && strcmp(zt_table_str(t, s->str), name) == 0) {
            return &m->seg[i];
        }
    }
    return NULL;
}
