/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Which routes a rule, step-up or limit target covers.  Comparing every
 * target with every route costs targets x routes (150 000 x 50 000 in a
 * policy of 100 000 rules), so the routes are put once into a tree of
 * their segments and each target walks it: a literal goes to one child,
 * {x} to the capture child, '*' to every child but a route's '**', a final
 * '**' takes the whole subtree.  zpc_target_covers() states the same
 * semantics pair by pair; test_zpc checks the walk against it.
 */

#include <string.h>

#include <apr_hash.h>

#include "zpc_check.h"

int zpc_target_covers(const zpc_ast_target_t *t, const zpc_ast_route_t *r,
                      int how)
{
    int j = 0;

    if ((how & ZPC_MATCH_METHOD) && !(t->methods & r->methods)) {
        return 0;
    }
    for (int i = 0; i < t->segs->nelts; i++, j++) {
        const zpc_ast_seg_t *ts = &APR_ARRAY_IDX(t->segs, i, zpc_ast_seg_t);
        const zpc_ast_seg_t *rs;

        if (ts->kind == ZPC_SEG_GLOB) {
            return 1;
        }
        if (j >= r->segs->nelts) {
            return 0;
        }
        rs = &APR_ARRAY_IDX(r->segs, j, zpc_ast_seg_t);
        switch (ts->kind) {
        case ZPC_SEG_LIT:
            if (rs->kind != ZPC_SEG_LIT || strcmp(ts->text, rs->text) != 0) {
                return 0;
            }
            break;
        case ZPC_SEG_CAP:
            if (rs->kind != ZPC_SEG_CAP) {
                return 0;
            }
            break;
        default:        /* STAR: one segment, never a route's '**' */
            if (rs->kind == ZPC_SEG_GLOB) {
                return 0;
            }
            break;
        }
    }
    return j == r->segs->nelts;
}

/* One node per distinct path prefix of the routes. */
typedef struct zpc_rnode_t zpc_rnode_t;
struct zpc_rnode_t {
    apr_hash_t *lits;           /* literal text -> child; NULL until one */
    zpc_rnode_t *first;         /* the literal children, as a list ... */
    zpc_rnode_t *next;          /* ... linked through their next */
    zpc_rnode_t *cap, *star, *glob;
    apr_array_header_t *ends;   /* uint32_t: routes whose path ends here */
};

struct zpc_route_tree_t {
    const apr_array_header_t *routes;   /* zpc_ast_route_t * */
    zpc_rnode_t root;
};

/* The walk's state: what it collects and what it may spend. */
typedef struct {
    const zpc_route_tree_t *tree;
    const zpc_ast_target_t *t;
    uint32_t methods;
    apr_array_header_t *out;
    uint64_t *work, max_work;
} zpc_walk_t;

static zpc_rnode_t *zpc_rnode_new(apr_pool_t *pool)
{
    return apr_pcalloc(pool, sizeof(zpc_rnode_t));
}

static zpc_rnode_t *zpc_rnode_child(apr_pool_t *pool, zpc_rnode_t *n,
                                    const zpc_ast_seg_t *s)
{
    zpc_rnode_t **slot, *child;

    switch (s->kind) {
    case ZPC_SEG_CAP:
        slot = &n->cap;
        break;
    case ZPC_SEG_STAR:
        slot = &n->star;
        break;
    case ZPC_SEG_GLOB:
        slot = &n->glob;
        break;
    default:
        if (n->lits == NULL) {
            n->lits = apr_hash_make(pool);
        }
        child = apr_hash_get(n->lits, s->text, APR_HASH_KEY_STRING);
        if (child == NULL) {
            child = zpc_rnode_new(pool);
            child->next = n->first;
            n->first = child;
            apr_hash_set(n->lits, s->text, APR_HASH_KEY_STRING, child);
        }
        return child;
    }
    if (*slot == NULL) {
        *slot = zpc_rnode_new(pool);
    }
    return *slot;
}

zpc_route_tree_t *zpc_route_tree(apr_pool_t *pool, const apr_array_header_t *routes)
{
    zpc_route_tree_t *tree = apr_pcalloc(pool, sizeof(*tree));

    tree->routes = routes;
    for (int i = 0; i < routes->nelts; i++) {
        const zpc_ast_route_t *r = APR_ARRAY_IDX(routes, i, zpc_ast_route_t *);
        zpc_rnode_t *n = &tree->root;

        /* a route in error still counts as declared: no second error */
        if (r->segs == NULL || r->methods == 0) {
            continue;
        }
        for (int j = 0; j < r->segs->nelts; j++) {
            n = zpc_rnode_child(pool, n, &APR_ARRAY_IDX(r->segs, j, zpc_ast_seg_t));
        }
        if (n->ends == NULL) {
            n->ends = apr_array_make(pool, 1, sizeof(uint32_t));
        }
        APR_ARRAY_PUSH(n->ends, uint32_t) = (uint32_t)i;
    }
    return tree;
}

/* Is the walk over budget?  Every node visited and route taken counts. */
static int zpc_walk_spend(zpc_walk_t *w)
{
    return ++*w->work > w->max_work;
}

static int zpc_walk_take(zpc_walk_t *w, const zpc_rnode_t *n)
{
    for (int i = 0; n->ends != NULL && i < n->ends->nelts; i++) {
        uint32_t idx = APR_ARRAY_IDX(n->ends, i, uint32_t);
        const zpc_ast_route_t *r = APR_ARRAY_IDX(w->tree->routes, idx,
                                                 zpc_ast_route_t *);
        if (zpc_walk_spend(w)) {
            return 0;
        }
        if (w->methods == 0 || (r->methods & w->methods)) {
            APR_ARRAY_PUSH(w->out, uint32_t) = idx;
        }
    }
    return 1;
}

/* Every route at or below @a n: what a final '**' covers. */
static int zpc_walk_all(zpc_walk_t *w, const zpc_rnode_t *n)
{
    if (n == NULL) {
        return 1;
    }
    if (zpc_walk_spend(w) || !zpc_walk_take(w, n)) {
        return 0;
    }
    for (const zpc_rnode_t *k = n->first; k != NULL; k = k->next) {
        if (!zpc_walk_all(w, k)) {
            return 0;
        }
    }
    return zpc_walk_all(w, n->cap) && zpc_walk_all(w, n->star)
           && zpc_walk_all(w, n->glob);
}

/* The routes below @a n that the target's segments from @a i on cover. */
static int zpc_walk(zpc_walk_t *w, const zpc_rnode_t *n, int i)
{
    const zpc_ast_seg_t *ts;

    if (n == NULL) {
        return 1;
    }
    if (zpc_walk_spend(w)) {
        return 0;
    }
    if (i == w->t->segs->nelts) {
        return zpc_walk_take(w, n);
    }
    ts = &APR_ARRAY_IDX(w->t->segs, i, zpc_ast_seg_t);
    switch (ts->kind) {
    case ZPC_SEG_GLOB:          /* the rest, nothing included */
        return zpc_walk_all(w, n);
    case ZPC_SEG_LIT:
        return n->lits == NULL
               || zpc_walk(w, apr_hash_get(n->lits, ts->text, APR_HASH_KEY_STRING),
                           i + 1);
    case ZPC_SEG_CAP:
        return zpc_walk(w, n->cap, i + 1);
    default:                    /* STAR: one segment, never a route's '**' */
        for (const zpc_rnode_t *k = n->first; k != NULL; k = k->next) {
            if (!zpc_walk(w, k, i + 1)) {
                return 0;
            }
        }
        return zpc_walk(w, n->cap, i + 1) && zpc_walk(w, n->star, i + 1);
    }
}

int zpc_route_tree_match(const zpc_route_tree_t *tree, const zpc_ast_target_t *t,
                         uint32_t methods, apr_array_header_t *out,
                         uint64_t *work, uint64_t max_work)
{
    zpc_walk_t w = { tree, t, methods, out, work, max_work };

    return zpc_walk(&w, &tree->root, 0);
}
