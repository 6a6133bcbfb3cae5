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
 *   - its literal children, sorted by (length, bytes) for binary search,
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
 * in practice, is a few binary searches per segment.
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

#define ZT_NMETHODS 6               /* bits of ZT_M_ALL */

typedef struct {
    const char *text;               /* literal, in the table's string pool */
    uint32_t len;
    uint32_t parent;                /* trie node (only used while building) */
    uint32_t child;                 /* trie node */
} zt_trie_edge_t;

typedef struct {
    uint32_t lit_first, lit_count;  /* run of edges, sorted by (len, bytes) */
    uint32_t capture, star;         /* child node, or ZT_NONE */
    uint32_t methods;               /* ZT_M_* of the routes at or below */
    uint32_t end[ZT_NMETHODS];      /* route ending here, or ZT_NONE */
    uint32_t glob[ZT_NMETHODS];     /* route ending in `**` here, or ZT_NONE */
} zt_trie_node_t;

struct zt_trie_s {
    zt_trie_node_t *nodes;          /* node 0 is the root ("/") */
    uint32_t nnodes;
    zt_trie_edge_t *edges;          /* array of literal edges */
    uint32_t nedges;
};

/* ------------------------------------------------------------------ */
/* Building                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
    const zt_table_t *t;
    struct zt_trie_s *tr;
    apr_hash_t *lit;                /* "parent index + literal" -> edge + 1 */
    apr_pool_t *tmp;
    const char **err;
    apr_pool_t *pool;
} zt_trie_build_t;

static uint32_t zt_trie_node_new(struct zt_trie_s *tr)
{
    uint32_t i = tr->nnodes++;
    zt_trie_node_t *n = &tr->nodes[i];

    n->lit_first = n->lit_count = 0;
    n->capture = n->star = ZT_NONE;
    n->methods = 0;
    for (int k = 0; k < ZT_NMETHODS; k++) {
        n->end[k] = n->glob[k] = ZT_NONE;
    }
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
        return tr->edges[found - 1].child;
    }
    e = &tr->edges[tr->nedges++];
    e->text = text;
    e->len = (uint32_t)len;
    e->parent = parent;
    e->child = zt_trie_node_new(tr);
    apr_hash_set(b->lit, key, (apr_ssize_t)(sizeof(parent) + len),
                 (void *)(uintptr_t)tr->nedges);
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

    tr->nodes[0].methods |= methods;
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
        tr->nodes[node].methods |= methods;
    }
    for (uint32_t bit = 0; bit < ZT_NMETHODS; bit++) {
        zt_trie_node_t *n = &tr->nodes[node];
        if ((methods & (1u << bit)) != 0
            && !zt_trie_claim(b, glob ? &n->glob[bit] : &n->end[bit], ri, bit)) {
            return 0;
        }
    }
    return 1;
}

/* Order of literal children: (length, bytes); edges of one parent together. */
static int zt_trie_edge_cmp(const void *pa, const void *pb)
{
    const zt_trie_edge_t *a = pa, *b = pb;

    if (a->parent != b->parent) {
        return a->parent < b->parent ? -1 : 1;
    }
    if (a->len != b->len) {
        return a->len < b->len ? -1 : 1;
    }
    return memcmp(a->text, b->text, a->len);
}

apr_status_t zt_route_trie_build(zt_table_t *t, apr_pool_t *pool,
                                 const char **err)
{
    struct zt_trie_s *tr = apr_pcalloc(pool, sizeof(*tr));
    size_t cap = (size_t)t->nsegs + 1;
    zt_trie_node_t *nodes;
    zt_trie_edge_t *edges;
    zt_trie_build_t b;
    apr_status_t rv = APR_SUCCESS;

    /* At most one node per segment plus the root, one edge per segment.
     * Built in malloc'd space (a large block is mapped lazily, so only
     * what is used costs memory), then copied to the pool at its size:
     * routes that share prefixes share nodes. */
    nodes = tr->nodes = malloc(cap * sizeof(zt_trie_node_t));
    edges = tr->edges = malloc(cap * sizeof(zt_trie_edge_t));
    if (nodes == NULL || edges == NULL
        || apr_pool_create(&b.tmp, pool) != APR_SUCCESS) {
        free(nodes);
        free(edges);
        *err = apr_psprintf(pool, "%s: out of memory building the route trie",
                            t->name);
        return APR_ENOMEM;
    }
    zt_trie_node_new(tr);
    b.t = t;
    b.tr = tr;
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
        qsort(edges, tr->nedges, sizeof(zt_trie_edge_t), zt_trie_edge_cmp);
        for (uint32_t i = 0; i < tr->nedges; i++) {
            zt_trie_node_t *p = &nodes[edges[i].parent];
            if (p->lit_count++ == 0) {
                p->lit_first = i;
            }
        }
        tr->nodes = apr_pmemdup(pool, nodes, tr->nnodes * sizeof(zt_trie_node_t));
        tr->edges = apr_pmemdup(pool, edges, tr->nedges * sizeof(zt_trie_edge_t));
        t->trie = tr;
    }
    free(nodes);
    free(edges);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Matching                                                            */
/* ------------------------------------------------------------------ */

/* Split @a path into m->seg; 0 if it is not a canonical absolute path. */
static int zt_route_split(const char *path, zt_match_t *m)
{
    const char *p;

    m->nseg = 0;
    if (path == NULL || path[0] != '/') {
        return 0;
    }
    if (path[1] == '\0') {
        return 1;               /* "/" has no segments */
    }
    p = path + 1;
    for (;;) {
        const char *s = p;
        size_t n;

        while (*p != '/' && *p != '\0') {
            unsigned char c = (unsigned char)*p;
            if (c < 0x20 || c == 0x7f) {
                return 0;
            }
            p++;
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
        if (*p == '\0') {
            return 1;
        }
        p++;
    }
}

/* The literal child of @a n equal to @a seg, or ZT_NONE. */
static uint32_t zt_trie_find(const struct zt_trie_s *tr, const zt_trie_node_t *n,
                             const zt_span_t *seg)
{
    uint32_t lo = n->lit_first, hi = n->lit_first + n->lit_count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const zt_trie_edge_t *e = &tr->edges[mid];
        int c = e->len != seg->len ? (e->len < seg->len ? -1 : 1)
                                   : memcmp(e->text, seg->ptr, seg->len);
        if (c == 0) {
            return e->child;
        }
        if (c < 0) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return ZT_NONE;
}

/* The best route of method @a bit for segments i.. below node @a ni.
 * Recursion depth is at most ZT_MAX_SEGMENTS + 1. */
static uint32_t zt_trie_walk(const struct zt_trie_s *tr, uint32_t ni,
                             const zt_match_t *m, uint32_t i, uint32_t bit)
{
    const zt_trie_node_t *n = &tr->nodes[ni];
    uint32_t r, c;

    if ((n->methods & (1u << bit)) == 0) {
        return ZT_NONE;
    }
    if (i == m->nseg) {
        return n->end[bit] != ZT_NONE ? n->end[bit] : n->glob[bit];
    }
    if (n->lit_count != 0 && (c = zt_trie_find(tr, n, &m->seg[i])) != ZT_NONE
        && (r = zt_trie_walk(tr, c, m, i + 1, bit)) != ZT_NONE) {
        return r;
    }
    if (n->capture != ZT_NONE
        && (r = zt_trie_walk(tr, n->capture, m, i + 1, bit)) != ZT_NONE) {
        return r;
    }
    if (n->star != ZT_NONE
        && (r = zt_trie_walk(tr, n->star, m, i + 1, bit)) != ZT_NONE) {
        return r;
    }
    return n->glob[bit];
}

zt_route_status_e zt_route_match(const zt_table_t *t, const char *method,
                                 const char *path, zt_match_t *m)
{
    uint32_t mbit, bit = 0;

    m->route = ZT_NONE;
    if (!zt_route_split(path, m)) {
        m->nseg = 0;
        return ZT_ROUTE_BAD_PATH;
    }
    mbit = method != NULL ? zt_method_from_name(method, strlen(method)) : 0;
    if (mbit == 0 || t->trie == NULL) {
        return ZT_ROUTE_NONE;
    }
    while ((mbit & (1u << bit)) == 0) {
        bit++;
    }
    m->route = zt_trie_walk(t->trie, 0, m, 0, bit);
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
