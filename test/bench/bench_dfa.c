/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * bench_dfa: what matching a value against a pattern costs, the table's
 * automaton (zt_dfa_match) beside PCRE2 with its JIT and its interpreter
 * on the same pattern and value (docs/BENCHMARKS.md, "Patterns").
 *
 *   bench_dfa [-s SECONDS]
 *
 * Each row is one pattern and one value; every matcher runs it in a loop
 * for SECONDS (default 0.3) of the thread's CPU time (a shared machine
 * preempts; CPU time leaves that out), three times, and the best of the
 * three is printed as ns per call and ns per byte.  Before timing,
 * the matchers must agree on the answer, or the run fails: a fast wrong
 * answer is not a result.  PCRE2 is compiled as zpc's semantics are
 * (UTF, anchored at both ends, $ only at the end).  Its match limit
 * stays the default, so a backtracking blow-up shows as an error ("limit")
 * rather than hanging.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "zt_dfa.h"

#ifdef ZT_HAVE_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif

static double bench_seconds = 0.3;
static volatile int bench_sink;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef int (*bench_fn)(void *ctx, const char *s, size_t n);

/* Best of three runs of SECONDS each: ns per call. */
static double bench_time(bench_fn fn, void *ctx, const char *s, size_t n)
{
    double best = 1e30;

    for (int round = 0; round < 3; round++) {
        double t0 = now(), t;
        long calls = 0;

        do {
            for (int k = 0; k < 64; k++) {
                bench_sink += fn(ctx, s, n);
            }
            calls += 64;
            t = now() - t0;
        } while (t < bench_seconds);
        if (t / calls * 1e9 < best) {
            best = t / calls * 1e9;
        }
    }
    return best;
}

static int run_dfa(void *ctx, const char *s, size_t n)
{
    return zt_dfa_match(ctx, s, n);
}

#ifdef ZT_HAVE_PCRE2
typedef struct {
    pcre2_code *code;
    pcre2_match_data *md;
    int jit;
} bench_pcre_t;

/* 1 match, 0 no match, -1 an error such as the match limit. */
static int run_pcre(void *ctx, const char *s, size_t n)
{
    bench_pcre_t *p = ctx;
    int rc = p->jit ? pcre2_jit_match(p->code, (PCRE2_SPTR)s, n, 0, 0, p->md, NULL)
                    : pcre2_match(p->code, (PCRE2_SPTR)s, n, 0, PCRE2_NO_JIT, p->md, NULL);

    return rc >= 0 ? 1 : rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}
#endif

static void row(apr_pool_t *pool, const char *name, const char *re,
                const char *s, size_t n)
{
    const void *img;
    size_t len;
    char err[256];
    int want;
    double dfa;

    if (zt_dfa_compile(re, strlen(re), pool, &img, &len, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_dfa: /%s/: %s\n", re, err);
        exit(1);
    }
    want = zt_dfa_match(img, s, n);
    dfa = bench_time(run_dfa, (void *)img, s, n);
    printf("| %-24s | %6zu | %5s | %6u | %9.1f | %6.2f |", name, n,
           want ? "yes" : "no", zt_dfa_nstates(img), dfa, dfa / (n ? n : 1));
#ifdef ZT_HAVE_PCRE2
    {
        int ecode, jit_ok;
        size_t eoff;
        bench_pcre_t p;

        p.code = pcre2_compile((PCRE2_SPTR)re, strlen(re),
                               PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED
                               | PCRE2_DOLLAR_ENDONLY, &ecode, &eoff, NULL);
        if (p.code == NULL) {
            fprintf(stderr, "bench_dfa: PCRE2 refuses /%s/\n", re);
            exit(1);
        }
        p.md = pcre2_match_data_create_from_pattern(p.code, NULL);
        jit_ok = pcre2_jit_compile(p.code, PCRE2_JIT_COMPLETE) == 0;
        for (int jit = 1; jit >= 0; jit--) {
            int got;

            p.jit = jit;
            if (jit && !jit_ok) {
                printf(" %9s | %6s |", "no JIT", "");
                continue;
            }
            got = run_pcre(&p, s, n);
            if (got < 0) {
                printf(" %9s | %6s |", "limit", "");
                continue;
            }
            if (got != want) {
                fprintf(stderr, "bench_dfa: /%s/ on %zu bytes: dfa %d, pcre2%s %d\n",
                        re, n, want, jit ? " JIT" : "", got);
                exit(1);
            }
            {
                double t = bench_time(run_pcre, &p, s, n);
                printf(" %9.1f | %6.2f |", t, t / (n ? n : 1));
            }
        }
        pcre2_match_data_free(p.md);
        pcre2_code_free(p.code);
    }
#endif
    putchar('\n');
    fflush(stdout);
}

static char *repeat(apr_pool_t *pool, const char *unit, size_t n, const char *tail)
{
    size_t u = strlen(unit), t = strlen(tail);
    char *s = apr_palloc(pool, n * u + t + 1);

    for (size_t i = 0; i < n; i++) {
        memcpy(s + i * u, unit, u);
    }
    memcpy(s + n * u, tail, t + 1);
    return s;
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    int opt;
    static const char ident[] = "^[A-Za-z0-9_-]+$";
    static const char uuidish[] = "[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}";
    static const char words[] = "\\w+( \\w+)*";
    static const char hostile[] = "(a|aa)*[bc]";

    while ((opt = getopt(argc, argv, "s:")) != -1) {
        if (opt == 's') {
            bench_seconds = atof(optarg);
        }
        else {
            fputs("usage: bench_dfa [-s SECONDS]\n", stderr);
            return 2;
        }
    }
    apr_initialize();
    apr_pool_create(&pool, NULL);
    printf("| %-24s | %6s | %5s | %6s | %9s | %6s |", "pattern", "bytes", "match",
           "states", "dfa ns", "ns/B");
#ifdef ZT_HAVE_PCRE2
    printf(" %9s | %6s | %9s | %6s |", "JIT ns", "ns/B", "interp ns", "ns/B");
#endif
    printf("\n");
    row(pool, ident, ident, "order_42-x", 10);
    row(pool, ident, ident, repeat(pool, "aZ9_-", 13, ""), 65);
    row(pool, ident, ident, repeat(pool, "aZ9_-", 820, ""), 4100);
    row(pool, ident, ident, repeat(pool, "aZ9_-", 820, "!"), 4101);
    row(pool, uuidish, uuidish, "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70", 36);
    row(pool, words, words, repeat(pool, "word ", 12, "end"), 63);
    row(pool, words, words, repeat(pool, "a ", 16, "!"), 33);
    row(pool, hostile, hostile, repeat(pool, "a", 24, ""), 24);
    row(pool, hostile, hostile, repeat(pool, "a", 40, ""), 40);
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}
