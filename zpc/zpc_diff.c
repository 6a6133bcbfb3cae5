/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * `zpc diff OLD.ztb NEW.ztb`: which permissions changed, computed from the
 * two tables, not sampled.
 *
 * Routes are paired by method and shape (segment kinds and literal texts:
 * what matching sees).  For a pair, the decision is a function of the
 * atoms its rules read: the comparisons (identified by their printed
 * text, so the same condition in both tables is one atom) and "a token
 * was presented".  Every assignment of the atoms is decided by both
 * tables, with the evaluator's rules (zpc_diff_decide); without a token
 * every comparison on a claim is false.  The
 * assignments whose decision changed are grouped into conjunctions, each
 * as short as the change allows, and printed.  Atoms are taken as
 * independent: two comparisons that cannot both hold (token.azp == "a",
 * token.azp == "b") may still appear together in a combination.
 *
 * Exit status, as diff(1): 0 no change, 1 changes, 2 trouble.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "zpc_tools.h"

#define ZPC_DIFF_MAX_ATOMS  16      /* comparisons enumerated; 2^17 assignments */
#define ZPC_DIFF_MAX_LINES  64      /* combinations printed per route */
#define ZPC_DIFF_NO_ATOM    UINT32_MAX

/* Decisions, as `expect` spells them. */
enum { ZPC_D_ALLOW = 0, ZPC_D_DENY, ZPC_D_TOKEN };
static const char *const zpc_diff_decision[] = { "allow", "deny", "token" };

/* The atoms of one pair of routes.  Atom 0 is "a token was presented". */
typedef struct {
    apr_array_header_t *text;   /* const char * */
    apr_array_header_t *token;  /* int: reads a claim (false without a token) */
    apr_hash_t *index;          /* text -> uint32_t * */
} zpc_atoms_t;

/* One route of one table, with each node's atom. */
typedef struct {
    const zt_table_t *t;
    uint32_t route;
    uint32_t *atom;             /* per node; ZPC_DIFF_NO_ATOM when not an atom */
} zpc_side_t;

/* The route's shape, the key that pairs routes across tables. */
static const char *zpc_diff_shape(const zt_table_t *t, uint32_t ri, apr_pool_t *pool)
{
    const zt_route_rec_t *r = &t->routes[ri];
    const char *key = apr_psprintf(pool, "%u", (unsigned int)r->methods);

    for (uint32_t k = 0; k < r->seg_count; k++) {
        const zt_seg_rec_t *s = &t->segs[r->seg_first + k];
        key = apr_psprintf(pool, "%s/%u%s", key, (unsigned int)s->kind,
                           s->kind == ZT_SEG_LITERAL ? zt_table_str(t, s->str) : "");
    }
    return key;
}

static uint32_t zpc_diff_intern(zpc_atoms_t *a, const char *text, int token,
                                apr_pool_t *pool)
{
    uint32_t *idx = apr_hash_get(a->index, text, APR_HASH_KEY_STRING);

    if (idx == NULL) {
        idx = apr_palloc(pool, sizeof(*idx));
        *idx = (uint32_t)a->text->nelts;
        APR_ARRAY_PUSH(a->text, const char *) = text;
        APR_ARRAY_PUSH(a->token, int) = token;
        apr_hash_set(a->index, text, APR_HASH_KEY_STRING, idx);
    }
    return *idx;
}

static void zpc_diff_collect(zpc_side_t *s, zpc_atoms_t *a, uint32_t node,
                             apr_pool_t *pool)
{
    const zt_node_rec_t *n = &s->t->nodes[node];

    if (s->atom[node] != ZPC_DIFF_NO_ATOM) {
        return;                 /* shared node, seen already */
    }
    if (zpc_node_is_atom(s->t, node)) {
        s->atom[node] = zpc_diff_intern(a, zpc_cond_text(s->t, node, pool),
                                        zpc_node_reads_token(s->t, node), pool);
        return;
    }
    if (n->op == ZT_OP_AND || n->op == ZT_OP_OR) {
        zpc_diff_collect(s, a, n->a, pool);
        zpc_diff_collect(s, a, n->b, pool);
    }
    else if (n->op == ZT_OP_NOT) {
        zpc_diff_collect(s, a, n->a, pool);
    }
}

static void zpc_diff_side(zpc_side_t *s, const zt_table_t *t, uint32_t route,
                          zpc_atoms_t *a, apr_pool_t *pool)
{
    const zt_route_rec_t *r = &t->routes[route];

    s->t = t;
    s->route = route;
    s->atom = apr_palloc(pool, sizeof(uint32_t) * (t->nnodes ? t->nnodes : 1));
    memset(s->atom, 0xff, sizeof(uint32_t) * t->nnodes);
    for (uint32_t k = 0; k < r->rref_count; k++) {
        const zt_rule_rec_t *rule = &t->rules[t->rrefs[r->rref_first + k]];
        if (rule->cond != ZT_NONE) {
            zpc_diff_collect(s, a, rule->cond, pool);
        }
    }
}

static int zpc_diff_eval(const zpc_side_t *s, uint32_t node, uint32_t bits)
{
    const zt_node_rec_t *n = &s->t->nodes[node];

    switch (n->op) {
    case ZT_OP_TRUE:
        return 1;
    case ZT_OP_AND:
        return zpc_diff_eval(s, n->a, bits) && zpc_diff_eval(s, n->b, bits);
    case ZT_OP_OR:
        return zpc_diff_eval(s, n->a, bits) || zpc_diff_eval(s, n->b, bits);
    case ZT_OP_NOT:
        return !zpc_diff_eval(s, n->a, bits);
    }
    return (bits >> s->atom[node]) & 1;
}

/*
 * The route's decision when the atoms are @a bits (bit 0: a token), as
 * zt_eval_decide makes it: without a token an allow must be public, but
 * every deny is evaluated (a matching deny then asks for a token unless it
 * is public), and a step-up route asks for a token.
 */
static int zpc_diff_decide(const zpc_side_t *s, uint32_t bits)
{
    const zt_table_t *t = s->t;
    const zt_route_rec_t *r = &t->routes[s->route];
    int token = bits & 1, allow = 0;

    for (uint32_t k = 0; k < r->rref_count; k++) {
        const zt_rule_rec_t *rule = &t->rules[t->rrefs[r->rref_first + k]];
        int public = (rule->flags & ZT_RULE_PUBLIC) != 0;

        if (rule->effect == ZT_EFFECT_ALLOW && (allow || (!token && !public))) {
            continue;
        }
        if (rule->cond != ZT_NONE && !zpc_diff_eval(s, rule->cond, bits)) {
            continue;
        }
        if (rule->effect == ZT_EFFECT_DENY) {
            return token || public ? ZPC_D_DENY : ZPC_D_TOKEN;
        }
        allow = 1;
    }
    if (!allow) {
        return token ? ZPC_D_DENY : ZPC_D_TOKEN;
    }
    return token || r->stepup == ZT_NONE ? ZPC_D_ALLOW : ZPC_D_TOKEN;
}

/* The rules of a route as text: equal texts decide alike. */
static const char *zpc_diff_rules(const zt_table_t *t, uint32_t route,
                                  apr_pool_t *pool)
{
    const zt_route_rec_t *r = &t->routes[route];
    const char *text = "";

    for (uint32_t k = 0; k < r->rref_count; k++) {
        const zt_rule_rec_t *rule = &t->rules[t->rrefs[r->rref_first + k]];
        text = apr_pstrcat(pool, text, rule->effect == ZT_EFFECT_DENY ? "deny" : "allow",
                           rule->flags & ZT_RULE_PUBLIC ? " public" : "",
                           rule->cond != ZT_NONE ? " when " : "",
                           rule->cond != ZT_NONE ? zpc_cond_text(t, rule->cond, pool) : "",
                           "\n", NULL);
    }
    return text;
}

static const char *zpc_diff_stepup(const zt_table_t *t, uint32_t route,
                                   apr_pool_t *pool)
{
    const zt_route_rec_t *r = &t->routes[route];
    const zt_stepup_rec_t *s;
    const char *text = "";

    if (r->stepup == ZT_NONE) {
        return "none";
    }
    s = &t->stepups[r->stepup];
    if (s->acr_count > 0) {
        text = "acr";
        for (uint32_t k = 0; k < s->acr_count; k++) {
            const char *acr = zt_table_str(t, t->opnds[t->lists[s->acr_first + k]].str);
            text = apr_pstrcat(pool, text, " ", zpc_escape(acr, strlen(acr), 1, pool),
                               NULL);
        }
    }
    if (s->max_age > 0) {
        text = apr_psprintf(pool, "%s%smax_age %us", text, *text ? " " : "",
                            (unsigned int)s->max_age);
    }
    return text;
}

/* One conjunction: the literals of the bits in @a mask. */
static const char *zpc_diff_cube(const zpc_atoms_t *a, uint32_t mask,
                                 uint32_t value, apr_pool_t *pool)
{
    const char *text = "";

    if (mask == 0) {
        return "every request";
    }
    for (int v = 0; v < a->text->nelts; v++) {
        const char *lit;

        if (!((mask >> v) & 1)) {
            continue;
        }
        if (v == 0) {
            lit = (value & 1) ? "a token" : "no token";
        }
        else {
            lit = APR_ARRAY_IDX(a->text, v, const char *);
            if (!((value >> v) & 1)) {
                lit = apr_pstrcat(pool, "not ", lit, NULL);
            }
        }
        text = apr_pstrcat(pool, text, *text ? " and " : "", lit, NULL);
    }
    return text;
}

/*
 * Every assignment decided by both sides; the changed ones grouped
 * greedily into conjunctions: from each changed assignment not yet
 * covered, drop each literal whose removal keeps the conjunction inside
 * the same change (or impossible assignments).  Returns the lines printed.
 */
static int zpc_diff_enumerate(FILE *out, const zpc_side_t *old,
                              const zpc_side_t *new, const zpc_atoms_t *a,
                              apr_pool_t *pool)
{
    uint32_t nvars = (uint32_t)a->text->nelts, total = 1u << nvars;
    uint32_t token_atoms = 0, all = total - 1;
    unsigned char *change = apr_palloc(pool, total);    /* 0xff: none or impossible */
    unsigned char *covered = apr_pcalloc(pool, total);
    int lines = 0, more = 0;

    for (uint32_t v = 1; v < nvars; v++) {
        if (APR_ARRAY_IDX(a->token, v, int)) {
            token_atoms |= 1u << v;
        }
    }
    for (uint32_t m = 0; m < total; m++) {
        int d0, d1;

        change[m] = 0xff;
        if (!(m & 1) && (m & token_atoms)) {
            continue;           /* a claim compared without a token */
        }
        d0 = zpc_diff_decide(old, m);
        d1 = zpc_diff_decide(new, m);
        if (d0 != d1) {
            change[m] = (unsigned char)(d0 * 3 + d1);
        }
    }
    for (uint32_t m = 0; m < total; m++) {
        uint32_t mask = all;

        if (change[m] == 0xff || covered[m]) {
            continue;
        }
        for (uint32_t v = 0; v < nvars; v++) {
            uint32_t try = mask & ~(1u << v), free = all & ~try, x = 0;
            int ok = 1;

            do {                /* every x in the cube (try, m) */
                uint32_t y = (m & try) | x;
                if (change[y] != change[m] && !(!(y & 1) && (y & token_atoms))) {
                    ok = 0;
                    break;
                }
                x = (x - free) & free;
            } while (x != 0);
            if (ok) {
                mask = try;
            }
        }
        {
            uint32_t free = all & ~mask, x = 0;
            do {
                covered[(m & mask) | x] = 1;
                x = (x - free) & free;
            } while (x != 0);
        }
        if (lines < ZPC_DIFF_MAX_LINES) {
            fprintf(out, "    %s: %s -> %s\n", zpc_diff_cube(a, mask, m, pool),
                    zpc_diff_decision[change[m] / 3], zpc_diff_decision[change[m] % 3]);
            lines++;
        }
        else {
            more++;
        }
    }
    if (more > 0) {
        fprintf(out, "    ... and %d more combination%s\n", more, more == 1 ? "" : "s");
    }
    return lines + more;
}

/* Compare one pair of routes; 1 if anything changed. */
static int zpc_diff_route(FILE *out, const zt_table_t *t0, uint32_t r0,
                          const zt_table_t *t1, uint32_t r1, apr_pool_t *pool)
{
    zpc_atoms_t a;
    zpc_side_t old, new;
    const char *name = zpc_route_text(t1, r1, pool);
    const char *s0 = zpc_diff_stepup(t0, r0, pool), *s1 = zpc_diff_stepup(t1, r1, pool);
    int changed = 0;

    if (strcmp(s0, s1) != 0) {
        fprintf(out, "~ %s: step-up %s -> %s\n", name, s0, s1);
        changed = 1;
    }
    if (strcmp(zpc_diff_rules(t0, r0, pool), zpc_diff_rules(t1, r1, pool)) == 0) {
        return changed;         /* the same rules decide alike */
    }
    a.text = apr_array_make(pool, 8, sizeof(const char *));
    a.token = apr_array_make(pool, 8, sizeof(int));
    a.index = apr_hash_make(pool);
    zpc_diff_intern(&a, "", 0, pool);       /* atom 0: a token */
    zpc_diff_side(&old, t0, r0, &a, pool);
    zpc_diff_side(&new, t1, r1, &a, pool);
    if (a.text->nelts - 1 > ZPC_DIFF_MAX_ATOMS) {
        fprintf(out, "~ %s: decision may change (%d atoms; too many to "
                "enumerate)\n", name, a.text->nelts - 1);
        return 1;
    }
    {
        /* Print the heading only when some combination changed: rules may
         * be rewritten without changing what they decide. */
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        int n;

        if (mem == NULL) {
            fprintf(out, "~ %s: decision may change (out of memory)\n", name);
            return 1;
        }
        n = zpc_diff_enumerate(mem, &old, &new, &a, pool);
        fclose(mem);
        if (n > 0) {
            fprintf(out, "~ %s\n%s", name, buf);
            changed = 1;
        }
        free(buf);
    }
    return changed;
}

static int zpc_diff_usage(void)
{
    fputs("usage: zpc diff OLD.ztb NEW.ztb\n", stderr);
    return ZPC_EXIT_USAGE;
}

int zpc_diff_main(int argc, char **argv, apr_pool_t *pool)
{
    zt_table_t *t0, *t1;
    const char *err = NULL;
    apr_hash_t *by_shape = apr_hash_make(pool);
    char *paired;
    uint32_t *pair;
    int added = 0, removed = 0, changed = 0;

    if (argc != 2 || argv[0][0] == '-' || argv[1][0] == '-') {
        return zpc_diff_usage();
    }
    if (zt_table_open(&t0, argv[0], pool, &err) != APR_SUCCESS
        || zt_table_open(&t1, argv[1], pool, &err) != APR_SUCCESS) {
        fprintf(stderr, "zpc diff: %s\n", err);
        return ZPC_EXIT_USAGE;
    }
    fprintf(stdout, "--- %s (policy %s)\n+++ %s (policy %s)\n",
            zpc_escape(argv[0], strlen(argv[0]), 0, pool),
            zpc_escape(zt_table_str(t0, t0->meta->name),
                       strlen(zt_table_str(t0, t0->meta->name)), 1, pool),
            zpc_escape(argv[1], strlen(argv[1]), 0, pool),
            zpc_escape(zt_table_str(t1, t1->meta->name),
                       strlen(zt_table_str(t1, t1->meta->name)), 1, pool));

    for (uint32_t i = 0; i < t1->nroutes; i++) {
        uint32_t *idx = apr_palloc(pool, sizeof(*idx));
        *idx = i;
        apr_hash_set(by_shape, zpc_diff_shape(t1, i, pool), APR_HASH_KEY_STRING, idx);
    }
    paired = apr_pcalloc(pool, t1->nroutes + 1);
    pair = apr_palloc(pool, sizeof(*pair) * (t0->nroutes + 1));
    for (uint32_t i = 0; i < t0->nroutes; i++) {
        uint32_t *j = apr_hash_get(by_shape, zpc_diff_shape(t0, i, pool),
                                   APR_HASH_KEY_STRING);
        pair[i] = j != NULL ? *j : ZT_NONE;
        if (j == NULL) {
            fprintf(stdout, "- route %s\n", zpc_route_text(t0, i, pool));
            removed++;
        }
        else {
            paired[*j] = 1;
        }
    }
    for (uint32_t j = 0; j < t1->nroutes; j++) {
        if (!paired[j]) {
            fprintf(stdout, "+ route %s\n", zpc_route_text(t1, j, pool));
            added++;
        }
    }
    for (uint32_t i = 0; i < t0->nroutes; i++) {
        if (pair[i] != ZT_NONE) {
            changed += zpc_diff_route(stdout, t0, i, t1, pair[i], pool);
        }
    }
    if (added + removed + changed == 0) {
        fputs("no change: every route decides as before\n", stdout);
        return ZPC_EXIT_OK;
    }
    fprintf(stdout, "%d route%s changed, %d added, %d removed\n",
            changed, changed == 1 ? "" : "s", added, removed);
    return ZPC_EXIT_INPUT;
}
