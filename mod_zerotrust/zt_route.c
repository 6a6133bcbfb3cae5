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
 * Routes are scanned linearly.  That is O(routes x segments) per request,
 * acceptable while tables hold tens of routes; the SPEC asks that the cost
 * not grow with rules that cannot apply, which holds (rules are reached
 * only through the matched route's RREF run).  A later version will build
 * a per-method segment trie at load time (literal children sorted for
 * binary search, one capture child each), making the lookup
 * O(segments x log fan-out) without changing the precedence rule below.
 */
#include <string.h>

#include "zt_alg.h"
#include "zt_eval.h"

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

static int zt_route_fits(const zt_table_t *t, const zt_route_rec_t *r,
                         const zt_match_t *m)
{
    const zt_seg_rec_t *seg = &t->segs[r->seg_first];

    for (uint32_t i = 0; i < r->seg_count; i++) {
        if (seg[i].kind == ZT_SEG_LITERAL) {
            const char *lit = zt_table_str(t, seg[i].str);
            if (strncmp(lit, m->seg[i].ptr, m->seg[i].len) != 0
                || lit[m->seg[i].len] != '\0') {
                return 0;
            }
        }
    }
    return 1;
}

/* 1 if @a r ranks above @a best: the first segment where their kinds
 * differ is a literal in @a r.  Equal rank keeps the earlier route. */
static int zt_route_better(const zt_table_t *t, const zt_route_rec_t *r,
                           const zt_route_rec_t *best)
{
    for (uint32_t i = 0; i < r->seg_count; i++) {
        uint32_t kr = t->segs[r->seg_first + i].kind;
        uint32_t kb = t->segs[best->seg_first + i].kind;
        if (kr != kb) {
            return kr == ZT_SEG_LITERAL;
        }
    }
    return 0;
}

zt_route_status_e zt_route_match(const zt_table_t *t, const char *method,
                                 const char *path, zt_match_t *m)
{
    uint32_t mbit, best = ZT_NONE;

    m->route = ZT_NONE;
    if (!zt_route_split(path, m)) {
        m->nseg = 0;
        return ZT_ROUTE_BAD_PATH;
    }
    mbit = method != NULL ? zt_method_from_name(method, strlen(method)) : 0;
    if (mbit == 0) {
        return ZT_ROUTE_NONE;
    }
    for (uint32_t i = 0; i < t->nroutes; i++) {
        const zt_route_rec_t *r = &t->routes[i];

        if ((r->methods & mbit) == 0 || r->seg_count != m->nseg
            || !zt_route_fits(t, r, m)) {
            continue;
        }
        if (best == ZT_NONE || zt_route_better(t, r, &t->routes[best])) {
            best = i;
        }
    }
    m->route = best;
    return best == ZT_NONE ? ZT_ROUTE_NONE : ZT_ROUTE_OK;
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
