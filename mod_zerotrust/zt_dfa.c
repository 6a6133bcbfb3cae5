/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Regular expression -> minimal DFA image, its verifier and its matcher.
 *
 *   parse     pattern -> syntax tree (zt_re.c); every construct an
 *             automaton cannot express is an error naming it, with its place
 *   nfa       tree -> Thompson NFA over byte sets, built back to front so
 *             sequences and alternations need no patch lists
 *   classes   the bytes split into classes no NFA edge tells apart
 *   subsets   NFA -> DFA by subset construction, at most ZT_DFA_MAX_STATES
 *   minimise  Hopcroft's partition refinement, then classes and states put
 *             in a canonical order (dead 0, start 1) and written as an
 *             image: equal languages give equal images
 *
 * All scratch memory is a subpool of the caller's pool, destroyed before
 * returning; the image itself is allocated in the caller's pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_tables.h>
#include <apr_strings.h>

#include "zt_dfa.h"
#include "zt_re.h"

_Static_assert(sizeof(zt_dfa_hdr_t) == 272, "zt_dfa_hdr_t layout");

#define ZT_DFA_MAX_WORK   (1u << 27)    /* NFA states visited while building */
#define ZT_NFA_NONE       UINT32_MAX
#define ZT_DFA_STR_(x)    #x
#define ZT_DFA_STR(x)     ZT_DFA_STR_(x)            /* a limit in a message */

/* ------------------------------------------------------------------ */
/* Thompson NFA                                                        */

enum { ZT_NFA_SPLIT, ZT_NFA_SET, ZT_NFA_MATCH };

typedef struct {
    uint32_t kind;
    uint32_t out, out2;         /* SPLIT: both; SET: out */
    uint32_t set;               /* SET: index into the distinct sets */
} zt_nfa_state_t;

typedef struct {
    zt_re_parser_t *ps;         /* for errors */
    apr_pool_t *pool;
    zt_nfa_state_t *st;
    uint32_t n, cap;
    apr_array_header_t *sets;   /* of uint8_t[32]: distinct byte sets */
    apr_hash_t *set_ids;        /* 32 bytes -> uint32_t * index */
} zt_nfa_t;

static uint32_t zt_nfa_add(zt_nfa_t *nfa, uint32_t kind, uint32_t out,
                           uint32_t out2, uint32_t set)
{
    zt_nfa_state_t *s;

    if (nfa->ps->failed) {
        return ZT_NFA_NONE;
    }
    if (nfa->n == ZT_DFA_MAX_NFA) {
        zt_re_fail(nfa->ps, 0, nfa->ps->len, "the pattern is too large: its "
                   "automaton needs more than %d NFA states (nested counts?)",
                   ZT_DFA_MAX_NFA);
        return ZT_NFA_NONE;
    }
    if (nfa->n == nfa->cap) {
        zt_nfa_state_t *grown = apr_palloc(nfa->pool, 2 * nfa->cap * sizeof(*grown));
        memcpy(grown, nfa->st, nfa->n * sizeof(*grown));
        nfa->st = grown;
        nfa->cap *= 2;
    }
    s = &nfa->st[nfa->n];
    s->kind = kind;
    s->out = out;
    s->out2 = out2;
    s->set = set;
    return nfa->n++;
}

static uint32_t zt_nfa_set(zt_nfa_t *nfa, const uint8_t bits[32], uint32_t out)
{
    uint32_t *id = apr_hash_get(nfa->set_ids, bits, 32);

    if (id == NULL) {
        uint8_t *slot = apr_array_push(nfa->sets);

        memcpy(slot, bits, 32);
        id = apr_palloc(nfa->pool, sizeof(*id));
        *id = (uint32_t)nfa->sets->nelts - 1;
        apr_hash_set(nfa->set_ids, apr_pmemdup(nfa->pool, bits, 32), 32, id);
    }
    return zt_nfa_add(nfa, ZT_NFA_SET, out, 0, *id);
}

/* A chain of byte ranges ending at @a next. */
static uint32_t zt_nfa_ranges(zt_nfa_t *nfa, const uint8_t (*r)[2], int n,
                              uint32_t next)
{
    for (int i = n; i-- > 0 && next != ZT_NFA_NONE;) {
        zt_re_set_t s;

        memset(&s, 0, sizeof(s));
        zt_set_range(&s, r[i][0], r[i][1]);
        next = zt_nfa_set(nfa, s.bits, next);
    }
    return next;
}

/* Any valid non-ASCII UTF-8 character (RFC 3629 table), then @a next. */
static uint32_t zt_nfa_utf8(zt_nfa_t *nfa, uint32_t next)
{
    static const uint8_t seq[8][4][2] = {
        { {0xc2, 0xdf}, {0x80, 0xbf} },
        { {0xe0, 0xe0}, {0xa0, 0xbf}, {0x80, 0xbf} },
        { {0xe1, 0xec}, {0x80, 0xbf}, {0x80, 0xbf} },
        { {0xed, 0xed}, {0x80, 0x9f}, {0x80, 0xbf} },
        { {0xee, 0xef}, {0x80, 0xbf}, {0x80, 0xbf} },
        { {0xf0, 0xf0}, {0x90, 0xbf}, {0x80, 0xbf}, {0x80, 0xbf} },
        { {0xf1, 0xf3}, {0x80, 0xbf}, {0x80, 0xbf}, {0x80, 0xbf} },
        { {0xf4, 0xf4}, {0x80, 0x8f}, {0x80, 0xbf}, {0x80, 0xbf} },
    };
    static const int nseq[8] = { 2, 3, 3, 3, 3, 4, 4, 4 };
    uint32_t start = ZT_NFA_NONE;

    for (int i = 0; i < 8; i++) {
        uint32_t s = zt_nfa_ranges(nfa, seq[i], nseq[i], next);
        start = i == 0 ? s : zt_nfa_add(nfa, ZT_NFA_SPLIT, s, start, 0);
    }
    return start;
}

/* The NFA of @a re followed by state @a next; returns its start. */
static uint32_t zt_nfa_build(zt_nfa_t *nfa, const zt_re_t *re, uint32_t next)
{
    zt_re_t **sub = re->subs ? (zt_re_t **)re->subs->elts : NULL;
    uint32_t s, loop;

    if (next == ZT_NFA_NONE) {
        return next;
    }
    switch (re->kind) {
    case ZT_RE_SET: {
        static const uint8_t none[32];
        int bytes = memcmp(re->set.bits, none, 32) != 0;

        s = bytes ? zt_nfa_set(nfa, re->set.bits, next) : ZT_NFA_NONE;
        if (re->set.utf8) {
            uint32_t u = zt_nfa_utf8(nfa, next);
            s = bytes ? zt_nfa_add(nfa, ZT_NFA_SPLIT, s, u, 0) : u;
        }
        else if (!bytes) {
            /* [^\x00-\x7f\D]-like: matches nothing; a set edge nothing takes */
            s = zt_nfa_set(nfa, none, next);
        }
        return s;
    }
    case ZT_RE_SEQ:
        for (int i = re->subs->nelts; i-- > 0;) {
            next = zt_nfa_build(nfa, sub[i], next);
        }
        return next;
    case ZT_RE_ALT:
        s = zt_nfa_build(nfa, sub[0], next);
        for (int i = 1; i < re->subs->nelts; i++) {
            s = zt_nfa_add(nfa, ZT_NFA_SPLIT, zt_nfa_build(nfa, sub[i], next), s, 0);
        }
        return s;
    case ZT_RE_REP:
        if (re->max < 0) {
            /* x{m,} = x...x x*, the star a loop through one split */
            if ((loop = zt_nfa_add(nfa, ZT_NFA_SPLIT, ZT_NFA_NONE, next, 0))
                == ZT_NFA_NONE) {
                return loop;
            }
            s = zt_nfa_build(nfa, sub[0], loop);
            if (s == ZT_NFA_NONE) {
                return s;
            }
            nfa->st[loop].out = s;
            next = loop;
        }
        else {
            /* x{m,n} = x...x (x(x(x)?)?)?: nested, so never ambiguous */
            for (int i = 0; i < re->max - re->min; i++) {
                next = zt_nfa_add(nfa, ZT_NFA_SPLIT,
                                  zt_nfa_build(nfa, sub[0], next), next, 0);
            }
        }
        for (int i = 0; i < re->min; i++) {
            next = zt_nfa_build(nfa, sub[0], next);
        }
        return next;
    default:
        return next;
    }
}

/* ------------------------------------------------------------------ */
/* Subset construction                                                 */

typedef struct {
    zt_nfa_t *nfa;
    apr_pool_t *pool;
    uint32_t ncls;
    uint8_t cls[256];           /* byte -> class */
    uint8_t *set_cls;           /* per distinct set: bitmap of its classes */
    uint32_t *mark, gen;        /* per NFA state: visited in closure gen */
    uint32_t *stack, *buf, *seeds;
    uint64_t work;
    /* the DFA so far: state 0 dead, 1 start */
    uint32_t n, cap;
    uint32_t **keys, *nkeys;    /* sorted NFA states of each DFA state */
    uint32_t *next;             /* [cap * ncls] */
    uint8_t *accept;
    apr_hash_t *ids;            /* key bytes -> uint32_t * state */
    uint32_t match;             /* the NFA's one MATCH state */
} zt_dfa_build_t;

/*
 * Split the 256 bytes into classes that every distinct set of the NFA
 * holds whole or not at all; then the DFA needs one edge per class.
 */
static void zt_dfa_classes(zt_dfa_build_t *b)
{
    const zt_nfa_t *nfa = b->nfa;

    memset(b->cls, 0, sizeof(b->cls));
    b->ncls = 1;
    for (int i = 0; i < nfa->sets->nelts; i++) {
        const uint8_t *bits = (const uint8_t *)nfa->sets->elts + 32 * i;
        int map[512];
        uint32_t k = 0;

        memset(map, 0xff, sizeof(map));
        for (unsigned c = 0; c < 256; c++) {
            unsigned key = b->cls[c] * 2u + ((bits[c >> 3] >> (c & 7)) & 1u);
            if (map[key] < 0) {
                map[key] = (int)k++;
            }
            b->cls[c] = (uint8_t)map[key];
        }
        b->ncls = k;
    }
    b->set_cls = apr_pcalloc(b->pool, 32 * (size_t)(nfa->sets->nelts + 1));
    for (int i = 0; i < nfa->sets->nelts; i++) {
        const uint8_t *bits = (const uint8_t *)nfa->sets->elts + 32 * i;
        uint8_t *mask = b->set_cls + 32 * i;

        for (unsigned c = 0; c < 256; c++) {
            if ((bits[c >> 3] >> (c & 7)) & 1u) {
                mask[b->cls[c] >> 3] |= (uint8_t)(1u << (b->cls[c] & 7));
            }
        }
    }
}

static int zt_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* The sorted SET and MATCH states reachable from @a seeds by splits,
 * into b->buf; returns how many. */
static uint32_t zt_dfa_closure(zt_dfa_build_t *b, const uint32_t *seeds,
                               uint32_t nseeds)
{
    const zt_nfa_state_t *st = b->nfa->st;
    uint32_t sp = 0, n = 0;

    b->gen++;
    for (uint32_t i = 0; i < nseeds; i++) {
        if (b->mark[seeds[i]] != b->gen) {
            b->mark[seeds[i]] = b->gen;
            b->stack[sp++] = seeds[i];
        }
    }
    while (sp > 0) {
        uint32_t s = b->stack[--sp];

        b->work++;
        if (st[s].kind != ZT_NFA_SPLIT) {
            b->buf[n++] = s;
            continue;
        }
        if (b->mark[st[s].out] != b->gen) {
            b->mark[st[s].out] = b->gen;
            b->stack[sp++] = st[s].out;
        }
        if (b->mark[st[s].out2] != b->gen) {
            b->mark[st[s].out2] = b->gen;
            b->stack[sp++] = st[s].out2;
        }
    }
    qsort(b->buf, n, sizeof(uint32_t), zt_u32_cmp);
    return n;
}

/* The DFA state of the closure in b->buf[0..n), added if new; or
 * ZT_NFA_NONE past the state limit. */
static uint32_t zt_dfa_state(zt_dfa_build_t *b, uint32_t n)
{
    uint32_t *id;

    if (n == 0) {
        return 0;
    }
    if ((id = apr_hash_get(b->ids, b->buf, n * sizeof(uint32_t))) != NULL) {
        return *id;
    }
    if (b->n == ZT_DFA_MAX_STATES) {
        return ZT_NFA_NONE;
    }
    if (b->n == b->cap) {
        uint32_t cap = 2 * b->cap;
        uint32_t **keys = apr_palloc(b->pool, cap * sizeof(*keys));
        uint32_t *nkeys = apr_palloc(b->pool, cap * sizeof(*nkeys));
        uint32_t *next = apr_palloc(b->pool, (size_t)cap * b->ncls * sizeof(*next));
        uint8_t *accept = apr_palloc(b->pool, cap);

        memcpy(keys, b->keys, b->n * sizeof(*keys));
        memcpy(nkeys, b->nkeys, b->n * sizeof(*nkeys));
        memcpy(next, b->next, (size_t)b->n * b->ncls * sizeof(*next));
        memcpy(accept, b->accept, b->n);
        b->keys = keys;
        b->nkeys = nkeys;
        b->next = next;
        b->accept = accept;
        b->cap = cap;
    }
    b->keys[b->n] = apr_pmemdup(b->pool, b->buf, n * sizeof(uint32_t));
    b->nkeys[b->n] = n;
    b->accept[b->n] = 0;
    for (uint32_t i = 0; i < n; i++) {
        b->accept[b->n] |= b->buf[i] == b->match;
    }
    id = apr_palloc(b->pool, sizeof(*id));
    *id = b->n;
    apr_hash_set(b->ids, b->keys[b->n], n * sizeof(uint32_t), id);
    return b->n++;
}

static int zt_dfa_subsets(zt_dfa_build_t *b, uint32_t start)
{
    const zt_nfa_state_t *st = b->nfa->st;
    uint32_t nfa_n = b->nfa->n;

    b->mark = apr_pcalloc(b->pool, nfa_n * sizeof(uint32_t));
    b->stack = apr_palloc(b->pool, nfa_n * sizeof(uint32_t));
    b->buf = apr_palloc(b->pool, nfa_n * sizeof(uint32_t));
    b->seeds = apr_palloc(b->pool, nfa_n * sizeof(uint32_t));
    b->ids = apr_hash_make(b->pool);
    b->cap = 16;
    b->keys = apr_palloc(b->pool, b->cap * sizeof(*b->keys));
    b->nkeys = apr_palloc(b->pool, b->cap * sizeof(*b->nkeys));
    b->next = apr_palloc(b->pool, (size_t)b->cap * b->ncls * sizeof(*b->next));
    b->accept = apr_palloc(b->pool, b->cap);
    b->keys[0] = NULL;
    b->nkeys[0] = 0;
    b->accept[0] = 0;
    b->n = 1;
    for (uint32_t c = 0; c < b->ncls; c++) {
        b->next[c] = 0;
    }
    /* never empty: every split leads on to the MATCH state */
    if (zt_dfa_state(b, zt_dfa_closure(b, &start, 1)) != 1) {
        zt_re_fail(b->nfa->ps, 0, 0, "internal error: empty start state");
        return -1;
    }
    for (uint32_t d = 1; d < b->n; d++) {
        for (uint32_t c = 0; c < b->ncls; c++) {
            uint32_t nseeds = 0, to;

            for (uint32_t k = 0; k < b->nkeys[d]; k++) {
                const zt_nfa_state_t *s = &st[b->keys[d][k]];
                if (s->kind == ZT_NFA_SET
                    && ((b->set_cls[32 * s->set + (c >> 3)] >> (c & 7)) & 1u)) {
                    b->seeds[nseeds++] = s->out;
                }
            }
            b->work += b->nkeys[d];
            to = zt_dfa_state(b, zt_dfa_closure(b, b->seeds, nseeds));
            if (to == ZT_NFA_NONE) {
                zt_re_fail(b->nfa->ps, 0, b->nfa->ps->len, "the pattern needs "
                           "more than %d automaton states (the limit)",
                           ZT_DFA_MAX_STATES);
                return -1;
            }
            if (b->work > ZT_DFA_MAX_WORK) {
                zt_re_fail(b->nfa->ps, 0, b->nfa->ps->len, "the pattern is too "
                           "complex to compile (more than %u steps)",
                           ZT_DFA_MAX_WORK);
                return -1;
            }
            b->next[(size_t)d * b->ncls + c] = to;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Minimisation and the image                                          */

/*
 * Hopcroft's partition refinement, O(k n log n) for n states and k
 * classes: states start split by acceptance; a splitter (block B, class
 * c) splits every block whose states lead on c partly into B, and of the
 * two halves only the smaller need be a splitter again.  Returns the
 * number of blocks; blk[s] is the block of state s.
 */
static uint32_t zt_dfa_minimise(zt_dfa_build_t *b, uint32_t *blk)
{
    uint32_t n = b->n, k = b->ncls, nblk = 0, nwl = 0, nacc = 0;
    size_t cells = (size_t)n * k;
    uint32_t *poff = apr_pcalloc(b->pool, (cells + 1) * sizeof(uint32_t));
    uint32_t *pred = apr_palloc(b->pool, cells * sizeof(uint32_t));
    uint32_t *elems = apr_palloc(b->pool, n * sizeof(uint32_t));
    uint32_t *loc = apr_palloc(b->pool, n * sizeof(uint32_t));
    uint32_t *first = apr_palloc(b->pool, n * sizeof(uint32_t));
    uint32_t *end = apr_palloc(b->pool, n * sizeof(uint32_t));
    uint32_t *marked = apr_pcalloc(b->pool, n * sizeof(uint32_t));
    uint32_t *touched = apr_palloc(b->pool, n * sizeof(uint32_t));
    uint32_t *x = apr_palloc(b->pool, n * sizeof(uint32_t));
    uint32_t *wl = apr_palloc(b->pool, cells * sizeof(uint32_t));
    uint8_t *inwl = apr_pcalloc(b->pool, cells);
    uint8_t *mark = apr_pcalloc(b->pool, n);

    /* predecessors of (class c, state t) at pred[poff[c*n+t] .. poff[c*n+t+1]) */
    for (uint32_t s = 0; s < n; s++) {
        for (uint32_t c = 0; c < k; c++) {
            poff[(size_t)c * n + b->next[(size_t)s * k + c] + 1]++;
        }
    }
    for (size_t i = 0; i < cells; i++) {
        poff[i + 1] += poff[i];
    }
    {
        uint32_t *cur = apr_palloc(b->pool, cells * sizeof(uint32_t));

        memcpy(cur, poff, cells * sizeof(uint32_t));
        for (uint32_t s = 0; s < n; s++) {
            for (uint32_t c = 0; c < k; c++) {
                pred[cur[(size_t)c * n + b->next[(size_t)s * k + c]]++] = s;
            }
        }
    }
    /* blocks: the rejecting states (the dead state among them), then the
     * accepting ones */
    for (uint32_t s = 0; s < n; s++) {
        nacc += b->accept[s];
    }
    for (uint32_t s = 0, lo = 0, hi = n - nacc; s < n; s++) {
        uint32_t pos = b->accept[s] ? hi++ : lo++;
        elems[pos] = s;
        loc[s] = pos;
        blk[s] = b->accept[s];
    }
    first[0] = 0;
    end[0] = n - nacc;
    nblk = 1;
    if (nacc > 0 && nacc < n) {
        uint32_t small = nacc <= n - nacc ? 1 : 0;

        first[1] = n - nacc;
        end[1] = n;
        nblk = 2;
        for (uint32_t c = 0; c < k; c++) {
            wl[nwl++] = small * k + c;
            inwl[(size_t)small * k + c] = 1;
        }
    }
    while (nwl > 0) {
        uint32_t split = wl[--nwl], B = split / k, c = split % k;
        uint32_t nx = 0, ntouched = 0;

        inwl[split] = 0;
        /* the states that lead into B on c, collected before any split */
        for (uint32_t i = first[B]; i < end[B]; i++) {
            size_t key = (size_t)c * n + elems[i];
            for (uint32_t q = poff[key]; q < poff[key + 1]; q++) {
                if (!mark[pred[q]]) {
                    mark[pred[q]] = 1;
                    x[nx++] = pred[q];
                }
            }
        }
        /* move them to the front of their blocks */
        for (uint32_t i = 0; i < nx; i++) {
            uint32_t p = x[i], Y = blk[p], dst, other;

            if (marked[Y] == 0) {
                touched[ntouched++] = Y;
            }
            dst = first[Y] + marked[Y]++;
            other = elems[dst];
            elems[loc[p]] = other;
            loc[other] = loc[p];
            elems[dst] = p;
            loc[p] = dst;
        }
        for (uint32_t i = 0; i < ntouched; i++) {
            uint32_t Y = touched[i], Z;

            if (marked[Y] < end[Y] - first[Y]) {
                Z = nblk++;
                first[Z] = first[Y];
                end[Z] = first[Y] + marked[Y];
                first[Y] = end[Z];
                for (uint32_t e = first[Z]; e < end[Z]; e++) {
                    blk[elems[e]] = Z;
                }
                for (uint32_t d = 0; d < k; d++) {
                    uint32_t add = inwl[(size_t)Y * k + d]
                                   || end[Z] - first[Z] <= end[Y] - first[Y] ? Z : Y;
                    wl[nwl++] = add * k + d;
                    inwl[(size_t)add * k + d] = 1;
                }
            }
            marked[Y] = 0;
        }
        for (uint32_t i = 0; i < nx; i++) {
            mark[x[i]] = 0;
        }
    }
    return nblk;
}

/*
 * Write the minimal DFA in canonical form, so equal languages give equal
 * images: classes whose columns (the next block from every block) are
 * equal are merged and numbered in the order of their smallest byte; the
 * blocks are numbered breadth-first from the start over those classes,
 * the dead block 0 and the start 1.
 */
static void *zt_dfa_image(zt_dfa_build_t *b, const uint32_t *blk,
                          uint32_t nblk, apr_pool_t *pool, size_t *image_len)
{
    uint32_t *brep = apr_palloc(b->pool, nblk * sizeof(uint32_t));
    uint32_t *num = apr_palloc(b->pool, nblk * sizeof(uint32_t));
    uint32_t *order = apr_palloc(b->pool, (nblk + 1) * sizeof(uint32_t));
    uint32_t *vec = apr_palloc(b->pool, nblk * sizeof(uint32_t));
    uint32_t merged[256], canon[256], crep[256], n = 2, nc = 0, nmerged = 0;
    apr_hash_t *cols = apr_hash_make(b->pool);
    zt_dfa_hdr_t *h;
    uint32_t *next;
    uint8_t *accept;
    size_t len;

#define ZT_NEXT(state, c) blk[b->next[(size_t)(state) * b->ncls + (c)]]
    for (uint32_t k = 0; k < nblk; k++) {
        brep[k] = num[k] = ZT_NFA_NONE;
    }
    for (uint32_t s = 0; s < b->n; s++) {
        if (brep[blk[s]] == ZT_NFA_NONE) {
            brep[blk[s]] = s;
        }
    }
    for (uint32_t c = 0; c < b->ncls; c++) {
        uint32_t *id;

        for (uint32_t k = 0; k < nblk; k++) {
            vec[k] = ZT_NEXT(brep[k], c);
        }
        if ((id = apr_hash_get(cols, vec, nblk * sizeof(uint32_t))) == NULL) {
            id = apr_palloc(b->pool, sizeof(*id));
            *id = nmerged++;
            apr_hash_set(cols, apr_pmemdup(b->pool, vec, nblk * sizeof(uint32_t)),
                         nblk * sizeof(uint32_t), id);
        }
        merged[c] = *id;
        canon[c] = ZT_NFA_NONE;
    }
    for (unsigned c = 0; c < 256; c++) {
        uint32_t m = merged[b->cls[c]];

        if (canon[m] == ZT_NFA_NONE) {
            canon[m] = nc;
            crep[nc++] = b->cls[c];
        }
    }
    num[blk[0]] = 0;
    order[0] = blk[0];
    order[1] = blk[0];              /* matches nothing: the start is dead too */
    if (blk[1] != blk[0]) {
        num[blk[1]] = 1;
        order[1] = blk[1];
        for (uint32_t q = 1; q < n; q++) {
            for (uint32_t k = 0; k < nc; k++) {
                uint32_t to = ZT_NEXT(brep[order[q]], crep[k]);
                if (num[to] == ZT_NFA_NONE) {
                    num[to] = n;
                    order[n++] = to;
                }
            }
        }
    }
    len = (sizeof(zt_dfa_hdr_t) + 4 * (size_t)n * nc + n + 7) & ~(size_t)7;
    h = apr_pcalloc(pool, len);
    h->magic = ZT_DFA_MAGIC;
    h->len = (uint32_t)len;
    h->nstates = n;
    h->nclasses = nc;
    next = (uint32_t *)(h + 1);
    accept = (uint8_t *)(next + (size_t)n * nc);
    for (unsigned c = 0; c < 256; c++) {
        h->cls[c] = (uint8_t)canon[merged[b->cls[c]]];
    }
    for (uint32_t q = 0; q < n; q++) {
        for (uint32_t k = 0; k < nc; k++) {
            next[(size_t)q * nc + k] = num[ZT_NEXT(brep[order[q]], crep[k])] * nc;
        }
        accept[q] = b->accept[brep[order[q]]];
    }
#undef ZT_NEXT
    *image_len = len;
    return h;
}

/* ------------------------------------------------------------------ */
/* The public face                                                     */

int zt_dfa_compile_at(const char *re, size_t len, apr_pool_t *pool,
                      const void **image, size_t *image_len,
                      char *err, size_t errlen,
                      size_t *err_off, size_t *err_len)
{
    char own[8];
    zt_re_parser_t ps;
    zt_nfa_t nfa;
    zt_dfa_build_t b;
    apr_pool_t *tmp = NULL;
    zt_re_t *tree;
    uint32_t start, nblk, *blk;
    void *img = NULL;
    size_t img_len = 0;

    memset(&ps, 0, sizeof(ps));
    ps.p = (const unsigned char *)re;
    ps.len = re != NULL ? len : 0;
    ps.err = err != NULL && errlen > 0 ? err : own;
    ps.errlen = err != NULL && errlen > 0 ? errlen : sizeof(own);
    ps.err[0] = '\0';
    *image = NULL;
    *image_len = 0;
    if (apr_pool_create(&tmp, pool) != APR_SUCCESS) {
        zt_re_fail(&ps, 0, 0, "out of memory");
        goto done;
    }
    ps.pool = tmp;
    if ((tree = zt_re_parse(&ps)) == NULL) {
        goto done;
    }
    memset(&nfa, 0, sizeof(nfa));
    nfa.ps = &ps;
    nfa.pool = tmp;
    nfa.cap = 64;
    nfa.st = apr_palloc(tmp, nfa.cap * sizeof(*nfa.st));
    nfa.sets = apr_array_make(tmp, 16, 32);
    nfa.set_ids = apr_hash_make(tmp);
    memset(&b, 0, sizeof(b));
    b.nfa = &nfa;
    b.pool = tmp;
    b.match = zt_nfa_add(&nfa, ZT_NFA_MATCH, 0, 0, 0);
    start = zt_nfa_build(&nfa, tree, b.match);
    if (ps.failed) {
        goto done;
    }
    zt_dfa_classes(&b);
    if (zt_dfa_subsets(&b, start) < 0) {
        goto done;
    }
    blk = apr_palloc(tmp, b.n * sizeof(uint32_t));
    if ((nblk = zt_dfa_minimise(&b, blk)) == 0) {
        zt_re_fail(&ps, 0, 0, "out of memory");
        goto done;
    }
    img = zt_dfa_image(&b, blk, nblk, pool, &img_len);
done:
    if (tmp != NULL) {
        apr_pool_destroy(tmp);
    }
    if (ps.failed) {
        if (err_off != NULL) {
            *err_off = ps.err_off;
        }
        if (err_len != NULL) {
            *err_len = ps.err_len;
        }
        return -1;
    }
    *image = img;
    *image_len = img_len;
    return 0;
}

int zt_dfa_compile(const char *re, size_t len, apr_pool_t *pool,
                   const void **image, size_t *image_len,
                   char *err, size_t errlen)
{
    size_t off = 0, n = 0, used;

    if (zt_dfa_compile_at(re, len, pool, image, image_len, err, errlen,
                          &off, &n) == 0) {
        return 0;
    }
    if (err != NULL && errlen > 0 && (used = strlen(err)) < errlen) {
        snprintf(err + used, errlen - used, ", at column %zu", off + 1);
    }
    return -1;
}

const char *zt_dfa_problem(const void *image, size_t len)
{
    const zt_dfa_hdr_t *h = image;
    const uint32_t *next;
    const uint8_t *accept, *end;
    size_t cells, need;

    if (image == NULL || ((uintptr_t)image & 7) != 0) {
        return "the image is not 8-aligned";
    }
    if (len < sizeof(*h)) {
        return "the image is shorter than its head";
    }
    if (h->magic != ZT_DFA_MAGIC) {
        return "bad magic, not an automaton";
    }
    if (h->len != len || len % 8 != 0) {
        return "the image length disagrees with its head or is not a multiple of 8";
    }
    if (h->nstates < 2 || h->nstates > ZT_DFA_MAX_STATES) {
        return "the state count is outside 2.." ZT_DFA_STR(ZT_DFA_MAX_STATES);
    }
    if (h->nclasses < 1 || h->nclasses > 256) {
        return "the class count is outside 1..256";
    }
    cells = (size_t)h->nstates * h->nclasses;
    need = (sizeof(*h) + 4 * cells + h->nstates + 7) & ~(size_t)7;
    if (need != len) {
        return "the image length does not fit its state and class counts";
    }
    for (unsigned c = 0; c < 256; c++) {
        if (h->cls[c] >= h->nclasses) {
            return "a byte maps to a class past the class count";
        }
    }
    next = (const uint32_t *)(h + 1);
    accept = (const uint8_t *)(next + cells);
    for (size_t i = 0; i < cells; i++) {
        if (next[i] >= cells || next[i] % h->nclasses != 0) {
            return "an edge leads past the last state or inside a row";
        }
        if (i < h->nclasses && next[i] != 0) {
            return "the dead state 0 has an edge out";
        }
    }
    for (uint32_t s = 0; s < h->nstates; s++) {
        if (accept[s] > 1 || (s == 0 && accept[s] != 0)) {
            return "an accept flag is not 0 or 1, or the dead state accepts";
        }
    }
    end = (const uint8_t *)image + len;
    for (const uint8_t *p = accept + h->nstates; p < end; p++) {
        if (*p != 0) {
            return "the padding is not 0";
        }
    }
    return NULL;
}

int zt_dfa_verify(const void *image, size_t len)
{
    return zt_dfa_problem(image, len) == NULL;
}

int zt_dfa_match(const void *image, const char *s, size_t n)
{
    const zt_dfa_hdr_t *h = image;
    const uint8_t *cls = h->cls;
    const uint32_t *next = (const uint32_t *)(h + 1);
    const uint8_t *accept = (const uint8_t *)(next + (size_t)h->nstates * h->nclasses);
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    uint32_t q = h->nclasses;       /* the row of the start state, 1 */

    /* Edges hold row offsets, so a step is two loads and an add.  The
     * dead state only leads to itself (zt_dfa_verify), so it is looked
     * for once every four steps: the answer is the same, and a hopeless
     * value still stops within four bytes. */
    while (end - p >= 4) {
        q = next[q + cls[p[0]]];
        q = next[q + cls[p[1]]];
        q = next[q + cls[p[2]]];
        q = next[q + cls[p[3]]];
        if (q == 0) {
            return 0;
        }
        p += 4;
    }
    while (p < end) {
        q = next[q + cls[*p++]];
    }
    return accept[q / h->nclasses];
}

uint32_t zt_dfa_nstates(const void *image)
{
    return ((const zt_dfa_hdr_t *)image)->nstates;
}
