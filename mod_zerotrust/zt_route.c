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
 *   - its literal children, found through one hash table of every literal
 *     edge keyed by (parent node, segment hash): one probe, usually,
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
 * at most once per request, so the work is bounded by the trie's size and,
 * in practice, is one hash probe per segment.
 *
 * The path is read a word (8 bytes) at a time: one test finds a control
 * byte or DEL among eight, another the first '/', so the split costs a
 * few instructions per segment rather than per byte.
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

typedef struct {
    const char *text;               /* literal, in the table's string pool */
    uint32_t len;
    uint32_t parent;                /* trie node (only used while building) */
    uint32_t child;                 /* trie node */
} zt_trie_edge_t;

/* A slot of the literal-edge hash table; child 0 (the root, never a child)
 * marks an empty slot. */
typedef struct {
    uint32_t parent, hash;          /* the key: node and zt_seg_hash(text) */
    uint32_t len, child;
    uint64_t head;                  /* zt_seg_head(text): first 8 bytes */
    const char *text;
} zt_trie_slot_t;

/* A node is small (four to a cache line), so the nodes of one route's
 * path, made one after another, share lines; what only the last node of
 * a match needs, its routes, is apart. */
typedef struct {
    uint16_t methods;               /* ZT_M_* of the routes at or below */
    uint16_t lits;                  /* literal children (saturating) */
    uint32_t capture, star;         /* child node, or ZT_NONE */
    uint32_t ends;                  /* its zt_trie_ends_t, or ZT_NONE */
} zt_trie_node_t;
_Static_assert(sizeof(zt_trie_node_t) == 16, "four trie nodes to a cache line");

/* The routes of a node where a route ends. */
typedef struct {
    uint32_t end[ZT_NMETHODS];      /* route ending here, or ZT_NONE */
    uint32_t glob[ZT_NMETHODS];     /* route ending in `**` here, or ZT_NONE */
} zt_trie_ends_t;

struct zt_trie_s {
    zt_trie_node_t *nodes;          /* node 0 is the root ("/") */
    uint32_t nnodes;
    zt_trie_ends_t *ends;
    uint32_t nends;
    zt_trie_slot_t *slots;          /* literal edges, open addressing */
    uint32_t mask;                  /* slots - 1; a power of two minus one */
};

/* The route of method @a bit ending at @a n, else the one whose `**`
 * starts there (@a glob_only: only that one); ZT_NONE when neither. */
static inline uint32_t zt_trie_route(const struct zt_trie_s *tr,
                                     const zt_trie_node_t *n, uint32_t bit,
                                     int glob_only)
{
    const zt_trie_ends_t *e;

    if (n->ends == ZT_NONE) {
        return ZT_NONE;
    }
    e = &tr->ends[n->ends];
    return e->end[bit] != ZT_NONE && !glob_only ? e->end[bit] : e->glob[bit];
}

/* ------------------------------------------------------------------ */
/* Words                                                               */
/* ------------------------------------------------------------------ */

/* Bytes that refuse a path: below 0x20, DEL (only "any" is exact). */
static inline uint64_t zt_control_bytes(uint64_t w)
{
    return ((w - ZT_ONES * 0x20) & ~w & ZT_HIGHS) | zt_bytes_equal_to(w, 0x7f);
}

/* The first min(@a len, 8) bytes of @a s as a word, zero-padded; @a avail
 * bytes from @a s may be read (a request segment can read on into the
 * path, a literal of the string pool only its own bytes). */
static inline uint64_t zt_seg_head(const char *s, uint32_t len, size_t avail)
{
    uint64_t w = 0;

    if (avail >= 8) {
        w = zt_load8(s);
        return len >= 8 ? w : w & ((UINT64_C(1) << (8 * len)) - 1);
    }
    for (uint32_t k = 0; k < len && k < 8; k++) {
        w |= (uint64_t)(unsigned char)s[k] << (8 * k);
    }
    return w;
}

/* Hash of a segment: its head, then its further bytes 8 at a time (the
 * last word zero-padded).  Build and match share it. */
static inline uint32_t zt_seg_hash(const char *s, uint32_t len, uint64_t head)
{
    uint64_t h = (head ^ len) * 0xff51afd7ed558ccdull;

    for (uint32_t i = 8; i < len; i += 8) {
        h ^= h >> 32;
        h = (h ^ zt_seg_head(s + i, len - i, len - i)) * 0xff51afd7ed558ccdull;
    }
    return (uint32_t)(h ^ (h >> 32));
}

static inline uint32_t zt_slot_of(uint32_t parent, uint32_t hash, uint32_t mask)
{
    return (hash ^ (parent * 0x9e3779b1u)) & mask;
}

/* ------------------------------------------------------------------ */
/* Building                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
    const zt_table_t *t;
    struct zt_trie_s *tr;
    zt_trie_edge_t *edges;          /* literal edges, in malloc'd space */
    uint32_t nedges;
    apr_hash_t *lit;                /* "parent index + literal" -> edge + 1 */
    apr_pool_t *tmp;
    const char **err;
    apr_pool_t *pool;
} zt_trie_build_t;

static uint32_t zt_trie_node_new(struct zt_trie_s *tr)
{
    uint32_t i = tr->nnodes++;
    zt_trie_node_t *n = &tr->nodes[i];

    n->lits = 0;
    n->capture = n->star = ZT_NONE;
    n->methods = 0;
    n->ends = ZT_NONE;
    return i;
}

static uint32_t zt_trie_literal_child(zt_trie_build_t *b, uint32_t parent,
                                      const char *text)
{
    struct zt_trie_s *tr = b->tr;
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
    e->child = zt_trie_node_new(tr);
    if (tr->nodes[parent].lits < UINT16_MAX) {
        tr->nodes[parent].lits++;
    }
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
        *b->err = apr_psprintf(b->pool, "%s: routes %s and %s can match the "
                               "same request with equal rank", b->t->name,
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
    struct zt_trie_s *tr = b->tr;
    uint32_t node = 0, methods = r->methods & ZT_M_ALL;
    int glob = 0;

    tr->nodes[0].methods |= (uint16_t)methods;
    for (uint32_t k = 0; k < r->seg_count; k++) {
        const zt_seg_rec_t *s = &t->segs[r->seg_first + k];
        uint32_t next;

        switch (s->kind) {
        case ZT_SEG_LITERAL:
            next = zt_trie_literal_child(b, node, zt_table_str(t, s->str));
            break;
        case ZT_SEG_CAPTURE:
        case ZT_SEG_STAR: {
            uint32_t *c = s->kind == ZT_SEG_CAPTURE ? &tr->nodes[node].capture
                                                    : &tr->nodes[node].star;
            if (*c == ZT_NONE) {
                *c = zt_trie_node_new(tr);  /* nodes never move: sized at start */
            }
            next = *c;
            break;
        }
        case ZT_SEG_GLOBSTAR:
            if (k + 1 != r->seg_count) {
                *b->err = apr_psprintf(b->pool, "%s: route %u (%s): ** is not "
                                       "the last segment", t->name, ri,
                                       zt_table_str(t, r->pattern));
                return 0;
            }
            glob = 1;
            next = node;
            break;
        default:
            *b->err = apr_psprintf(b->pool, "%s: route %u: segment kind %u",
                                   t->name, ri, s->kind);
            return 0;
        }
        node = next;
        tr->nodes[node].methods |= (uint16_t)methods;
    }
    if (tr->nodes[node].ends == ZT_NONE) {     /* at most one per route */
        zt_trie_ends_t *e = &tr->ends[tr->nends];
        for (int k = 0; k < ZT_NMETHODS; k++) {
            e->end[k] = e->glob[k] = ZT_NONE;
        }
        tr->nodes[node].ends = tr->nends++;
    }
    for (uint32_t bit = 0; bit < ZT_NMETHODS; bit++) {
        zt_trie_ends_t *e = &tr->ends[tr->nodes[node].ends];
        if ((methods & (1u << bit)) != 0
            && !zt_trie_claim(b, glob ? &e->glob[bit] : &e->end[bit], ri, bit)) {
            return 0;
        }
    }
    return 1;
}

/* Enter the @a nedges edges into a table of at least twice as many slots. */
static void zt_trie_index(struct zt_trie_s *tr, const zt_trie_edge_t *edges,
                          uint32_t nedges, apr_pool_t *pool)
{
    uint32_t size = 8;

    while (size < 2 * (uint64_t)nedges) {
        size *= 2;
    }
    tr->slots = zt_palloc_large(pool, size * sizeof(zt_trie_slot_t));
    memset(tr->slots, 0, size * sizeof(zt_trie_slot_t));
    tr->mask = size - 1;
    for (uint32_t i = 0; i < nedges; i++) {
        const zt_trie_edge_t *e = &edges[i];
        uint64_t head = zt_seg_head(e->text, e->len, e->len);
        uint32_t h = zt_seg_hash(e->text, e->len, head);
        uint32_t k = zt_slot_of(e->parent, h, tr->mask);

        while (tr->slots[k].child != 0) {
            k = (k + 1) & tr->mask;
        }
        tr->slots[k].parent = e->parent;
        tr->slots[k].hash = h;
        tr->slots[k].len = e->len;
        tr->slots[k].child = e->child;
        tr->slots[k].head = head;
        tr->slots[k].text = e->text;
    }
}

apr_status_t zt_route_trie_build(zt_table_t *t, apr_pool_t *pool,
                                 const char **err)
{
    struct zt_trie_s *tr = apr_pcalloc(pool, sizeof(*tr));
    size_t cap = (size_t)t->nsegs + 1;
    zt_trie_node_t *nodes;
    zt_trie_ends_t *ends;
    zt_trie_edge_t *edges;
    zt_trie_build_t b;
    apr_status_t rv = APR_SUCCESS;

    /* At most one node per segment plus the root, one edge per segment.
     * Built in malloc'd space (a large block is mapped lazily, so only
     * what is used costs memory), then copied to the pool at its size:
     * routes that share prefixes share nodes. */
    nodes = tr->nodes = malloc(cap * sizeof(zt_trie_node_t));
    ends = tr->ends = malloc(((size_t)t->nroutes + 1) * sizeof(zt_trie_ends_t));
    edges = malloc(cap * sizeof(zt_trie_edge_t));
    if (nodes == NULL || ends == NULL || edges == NULL
        || apr_pool_create(&b.tmp, pool) != APR_SUCCESS) {
        free(nodes);
        free(ends);
        free(edges);
        *err = apr_psprintf(pool, "%s: out of memory building the route trie",
                            t->name);
        return APR_ENOMEM;
    }
    zt_trie_node_new(tr);
    b.t = t;
    b.tr = tr;
    b.edges = edges;
    b.nedges = 0;
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
        tr->nodes = zt_palloc_large(pool, tr->nnodes * sizeof(zt_trie_node_t));
        memcpy(tr->nodes, nodes, tr->nnodes * sizeof(zt_trie_node_t));
        tr->ends = zt_palloc_large(pool, ((size_t)tr->nends + 1) * sizeof(zt_trie_ends_t));
        memcpy(tr->ends, ends, tr->nends * sizeof(zt_trie_ends_t));
        zt_trie_index(tr, edges, b.nedges, pool);
        t->trie = tr;
    }
    free(nodes);
    free(ends);
    free(edges);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Matching                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
    const struct zt_trie_s *tr;
    const zt_match_t *m;
    const char *path, *end;             /* the request path, its NUL */
    uint32_t bit;                       /* the method's ZT_M_* bit number */
    uint32_t keyed;                     /* bit i: hash[i] and head[i] are set */
    uint32_t hash[ZT_MAX_SEGMENTS];     /* zt_seg_hash of segment i */
    uint64_t head[ZT_MAX_SEGMENTS];     /* zt_seg_head of segment i */
} zt_walk_t;

/* The @a r bytes at @a p, zero-padded to a word, all of them when r >= 8;
 * [base, end) may be read and holds them.  A short tail is read as the
 * last word of [base, end), shifted, rather than byte by byte. */
static inline uint64_t zt_load_upto8(const char *p, size_t r,
                                     const char *base, const char *end)
{
    if (r >= 8) {
        return zt_load8(p);
    }
    if (r == 0) {
        return 0;
    }
    if (end - base >= 8) {
        return zt_load8(end - 8) >> (8 * (8 - r));
    }
    return zt_seg_head(p, (uint32_t)r, r);
}

/* Split @a path into m->seg, and set w->path and w->end; 0 if it is not
 * a canonical absolute path. */
static int zt_route_split(const char *path, zt_match_t *m, zt_walk_t *w)
{
    const char *p, *end;

    m->nseg = 0;
    if (path == NULL || path[0] != '/') {
        return 0;
    }
    if (path[1] == '\0') {
        return 1;               /* "/" has no segments */
    }
    p = path + 1;
    end = p + strlen(p);
    w->path = path;
    w->end = end;
    if (end - path >= 8) {      /* words, the last one overlapping */
        const char *q = path;
        for (; end - q > 8; q += 8) {
            if (zt_control_bytes(zt_load8(q)) != 0) {
                return 0;
            }
        }
        if (zt_control_bytes(zt_load8(end - 8)) != 0) {
            return 0;
        }
    }
    else {
        for (const char *q = p; q < end; q++) {
            if ((unsigned char)*q < 0x20 || *q == 0x7f) {
                return 0;
            }
        }
    }
    for (;;) {
        const char *s = p;
        uint64_t stop;
        size_t n;

        for (;;) {              /* p = the next '/', or end */
            size_t r = (size_t)(end - p);
            stop = zt_bytes_equal_to(zt_load_upto8(p, r, path, end), '/');
            if (r < 8) {
                stop &= (UINT64_C(1) << (8 * r)) - 1;   /* not the padding */
                p = stop != 0 ? p + __builtin_ctzll(stop) / 8 : end;
                break;
            }
            if (stop != 0) {
                p += __builtin_ctzll(stop) / 8;
                break;
            }
            p += 8;
        }
        n = (size_t)(p - s);
        if (n == 0                                  /* "//" or trailing "/" */
            || (n == 1 && s[0] == '.')
            || (n == 2 && s[0] == '.' && s[1] == '.')
            || n > UINT32_MAX
            || m->nseg == ZT_MAX_SEGMENTS) {
            return 0;
        }
        m->seg[m->nseg].ptr = s;
        m->seg[m->nseg].len = (uint32_t)n;
        m->nseg++;
        if (p == end) {
            return 1;
        }
        p++;
    }
}

/* The literal child of node @a ni equal to segment @a i, or ZT_NONE.
 * A segment is hashed when first looked up: captures never are. */
static inline __attribute__((always_inline))
uint32_t zt_trie_find(zt_walk_t *w, uint32_t ni, uint32_t i)
{
    const zt_span_t *seg = &w->m->seg[i];
    uint32_t h, mask = w->tr->mask;

    if ((w->keyed & (1u << i)) == 0) {
        uint64_t head = zt_load_upto8(seg->ptr, (size_t)(w->end - seg->ptr),
                                      w->path, w->end);
        if (seg->len < 8) {
            head &= (UINT64_C(1) << (8 * seg->len)) - 1;
        }
        w->head[i] = head;
        w->hash[i] = zt_seg_hash(seg->ptr, seg->len, head);
        w->keyed |= 1u << i;
    }
    h = w->hash[i];

    for (uint32_t k = zt_slot_of(ni, h, mask);; k = (k + 1) & mask) {
        const zt_trie_slot_t *e = &w->tr->slots[k];
        if (e->child == 0) {
            return ZT_NONE;
        }
        if (e->hash == h && e->parent == ni && e->len == seg->len
            && e->head == w->head[i]
            && (seg->len <= 8
                || (seg->len <= 16   /* the last 8 bytes, inside both */
                    ? zt_load8(e->text + seg->len - 8) == zt_load8(seg->ptr + seg->len - 8)
                    : memcmp(e->text + 8, seg->ptr + 8, seg->len - 8) == 0))) {
            return e->child;
        }
    }
}

/* The best route for segments i.. below node @a ni.
 * Recursion depth is at most ZT_MAX_SEGMENTS + 1. */
static uint32_t zt_trie_walk(zt_walk_t *w, uint32_t ni, uint32_t i)
{
    const zt_trie_node_t *n = &w->tr->nodes[ni];
    uint32_t r, c, bit = w->bit;

    if ((n->methods & (1u << bit)) == 0) {
        return ZT_NONE;
    }
    if (i == w->m->nseg) {
        return zt_trie_route(w->tr, n, bit, 0);
    }
    if (n->lits != 0 && (c = zt_trie_find(w, ni, i)) != ZT_NONE
        && (r = zt_trie_walk(w, c, i + 1)) != ZT_NONE) {
        return r;
    }
    if (n->capture != ZT_NONE
        && (r = zt_trie_walk(w, n->capture, i + 1)) != ZT_NONE) {
        return r;
    }
    if (n->star != ZT_NONE
        && (r = zt_trie_walk(w, n->star, i + 1)) != ZT_NONE) {
        return r;
    }
    return zt_trie_route(w->tr, n, bit, 1);
}

/* The first path zt_trie_walk tries -- at each segment the literal child,
 * else the capture child, else the `*` child, of those with a route of
 * the method below -- followed without recursion.  When it ends on a
 * route that route is the walk's answer (the walk returns the first route
 * it reaches); otherwise ZT_NONE, and the walk itself must backtrack. */
static uint32_t zt_trie_descend(zt_walk_t *w)
{
    const struct zt_trie_s *tr = w->tr;
    uint32_t ni = 0, bit = w->bit, want = 1u << bit;

    if ((tr->nodes[0].methods & want) == 0) {
        return ZT_NONE;
    }
    for (uint32_t i = 0; i < w->m->nseg; i++) {
        const zt_trie_node_t *n = &tr->nodes[ni];
        uint32_t c = ZT_NONE;

        if (n->lits != 0) {
            c = zt_trie_find(w, ni, i);
        }
        if (c == ZT_NONE || (tr->nodes[c].methods & want) == 0) {
            c = n->capture;
            if (c == ZT_NONE || (tr->nodes[c].methods & want) == 0) {
                c = n->star;
                if (c == ZT_NONE || (tr->nodes[c].methods & want) == 0) {
                    return ZT_NONE;
                }
            }
        }
        ni = c;
    }
    return zt_trie_route(tr, &tr->nodes[ni], bit, 0);
}

/* @a s is @a name, compared byte by byte: never read past the NUL of a
 * shorter @a s. */
static inline int zt_is(const char *s, const char *name)
{
    while (*name != '\0' && *s == *name) {
        s++;
        name++;
    }
    return *name == '\0' && *s == '\0';
}

/* ZT_M_* bit of @a method: the common names by their first byte. */
static uint32_t zt_method_bit(const char *method)
{
    static const struct { const char *name; uint32_t bit; } common[] = {
        { "GET", ZT_M_GET }, { "POST", ZT_M_POST }, { "PUT", ZT_M_PUT },
        { "PATCH", ZT_M_PATCH }, { "DELETE", ZT_M_DELETE },
    };

    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
        if (method[0] == common[i].name[0] && zt_is(method + 1, common[i].name + 1)) {
            return common[i].bit;
        }
    }
    return zt_method_from_name(method, strlen(method));
}

zt_route_status_e zt_route_match(const zt_table_t *t, const char *method,
                                 const char *path, zt_match_t *m)
{
    zt_walk_t w;
    uint32_t mbit;

    m->route = ZT_NONE;
    if (!zt_route_split(path, m, &w)) {
        m->nseg = 0;
        return ZT_ROUTE_BAD_PATH;
    }
    mbit = method != NULL ? zt_method_bit(method) : 0;
    if (mbit == 0 || t->trie == NULL) {
        return ZT_ROUTE_NONE;
    }
    w.tr = t->trie;
    w.m = m;
    w.bit = (uint32_t)__builtin_ctz(mbit);
    w.keyed = 0;
    m->route = zt_trie_descend(&w);
    if (m->route == ZT_NONE) {
        m->route = zt_trie_walk(&w, 0, 0);
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
