/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * bench_eval: what one decision costs on one core (docs/BENCHMARKS.md,
 * "Decision engine").
 *
 *   bench_eval [-r ROUNDS] [-N] [-s STAGE] TABLE.ztb REQUESTS.txt
 *
 * -r 0 only decides and checks each request once: one decision per
 * request, for counting instructions under callgrind
 * (--toggle-collect=zt_route_match --toggle-collect=zt_eval_decide).
 *
 * REQUESTS.txt is written by test/bench/gen_policy.py, one request a line:
 *
 *   EXPECT METHOD PATH IP NOW TLS CLAIMS
 *
 * EXPECT is the generator's own verdict (allow, deny, token, stepup,
 * notfound), IP a v4 or v6 address, NOW Unix seconds, TLS "TLSv1.3" or
 * "-", CLAIMS the token's payload as one line of JSON or "-" (no token).
 *
 * First every request is decided once and compared with EXPECT: a single
 * difference fails the run (exit 1), because a fast wrong answer is not a
 * result.  Then ROUNDS passes over all requests time each decision --
 * zt_route_match plus zt_eval_decide, what the module does per request
 * after the token stage -- with CLOCK_MONOTONIC around the single call,
 * less the timer's own median cost.  A request's cost is the best of its
 * ROUNDS samples (the passes interleave, so each sample sees the table as
 * the other requests left it; the minimum drops preemption and interrupts,
 * which a shared machine has plenty of); p50, p99 and the mean are over
 * those.  raw_p50/raw_p99 are over every sample, noise included.
 * Claims are parsed (zt_jdoc, as the token stage keeps them) and the
 * request records filled before timing: that is the token stage's and the
 * glue's work, measured elsewhere (bench_token).  Just before its timed call, each request's own claims
 * and path are read through once, as the token stage and httpd have just
 * done in the module; the table is not, so a large table's misses count.
 *
 * A token's claim view (zt_eval_view: the claims the table reads, looked
 * up once per token) is built with the claims, as the token stage does
 * once per token; -N leaves requests without one, so claims are looked up
 * by name in every decision (the evaluator's fallback).  What building a
 * view costs is timed apart, as view_p50_ns and view_p99_ns (best of
 * ROUNDS, over the requests with a token).
 *
 * -s times only the first part of each decision, to show where its time
 * goes ("stage" in the output): "route", zt_route_match alone; "entry",
 * that and the read of the route's entry in prog->route; "line", those
 * and the read of its block's first instruction, the first line of the
 * table the rule side reads.  The default, "full", is the decision.
 * Every decision is still checked in full first.
 *
 * Prints one JSON line for test/bench/run_policy.sh; "blocks" and
 * "code_bytes" are the routes decided by a program (zt_prog.h; the rest
 * from the table) and the programs' size.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "zt_claims.h"
#include "zt_jdoc.h"
#include "zt_eval.h"
#include "zt_prog.h"
#include "zt_table.h"

#define BENCH_LINE_MAX  65536

typedef enum { V_ALLOW, V_DENY, V_TOKEN, V_STEPUP, V_NOTFOUND, V__COUNT } bench_verdict_e;

static const char *const verdict_names[V__COUNT] = {
    "allow", "deny", "token", "stepup", "notfound"
};

typedef enum { S_ROUTE, S_ENTRY, S_LINE, S_FULL, S__COUNT } bench_stage_e;

static const char *const stage_names[S__COUNT] = { "route", "entry", "line", "full" };

typedef struct {
    bench_verdict_e expect;
    char *method;
    char *path;
    zt_request_t rq;
    uint32_t *view;
    unsigned lineno;
} bench_req_t;

static void die(const char *fmt, const char *a, unsigned line)
{
    fprintf(stderr, "bench_eval: ");
    fprintf(stderr, fmt, a, line);
    fputc('\n', stderr);
    exit(2);
}

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bench_verdict_e verdict_of(const char *word, unsigned line)
{
    for (int v = 0; v < V__COUNT; v++) {
        if (strcmp(word, verdict_names[v]) == 0) {
            return (bench_verdict_e)v;
        }
    }
    die("line %2$u: unknown verdict \"%1$s\"", word, line);
    return V_DENY;
}

/* Claims in the token stage's own form (zt_jdoc.h), from the pool that
 * holds every request of the run, with views for this table unless -N. */
static apr_pool_t *claims_pool;
static const zt_table_t *view_table;

static const zt_claims_t *claims_of(const char *json, unsigned line)
{
    const char *err = NULL;
    const zt_claims_t *c = zt_jdoc_parse(json, strlen(json), strlen(json),
                                         claims_pool, &err);

    if (c == NULL) {
        die("line %2$u: claims are not a JSON object (%1$s)", err, line);
    }
    return c;
}

static char *next_word(char **cur, unsigned line, const char *what)
{
    char *w = *cur, *end;

    while (*w == ' ') {
        w++;
    }
    if (*w == '\0') {
        die("line %2$u: %1$s missing", what, line);
    }
    end = strchr(w, ' ');
    if (end != NULL) {
        *end = '\0';
        *cur = end + 1;
    }
    else {
        *cur = w + strlen(w);
    }
    return w;
}

static void parse_request(char *s, unsigned line, bench_req_t *b)
{
    char *ip, *now, *tls, *end;

    memset(b, 0, sizeof(*b));
    b->lineno = line;
    b->expect = verdict_of(next_word(&s, line, "verdict"), line);
    b->method = strdup(next_word(&s, line, "method"));
    b->path = strdup(next_word(&s, line, "path"));
    ip = next_word(&s, line, "client address");
    now = next_word(&s, line, "time");
    tls = next_word(&s, line, "TLS version");
    while (*s == ' ') {
        s++;
    }
    if (*s == '\0') {
        die("line %2$u: %1$s missing", "claims", line);
    }
    if (b->method == NULL || b->path == NULL) {
        die("%s at line %u", "out of memory", line);
    }
    if (inet_pton(AF_INET, ip, b->rq.ip) == 1) {
        b->rq.ip_family = 4;
    }
    else if (inet_pton(AF_INET6, ip, b->rq.ip) == 1) {
        b->rq.ip_family = 6;
    }
    else {
        die("line %2$u: bad client address \"%1$s\"", ip, line);
    }
    errno = 0;
    b->rq.now = strtoll(now, &end, 10);
    if (errno != 0 || *end != '\0' || end == now) {
        die("line %2$u: bad time \"%1$s\"", now, line);
    }
    b->rq.tls_version = strcmp(tls, "-") == 0 ? NULL : strdup(tls);
    b->rq.claims = strcmp(s, "-") == 0 ? NULL : claims_of(s, line);
    if (b->rq.claims != NULL) {
        b->view = apr_palloc(claims_pool, (zt_eval_view_size(view_table) + 1)
                                          * sizeof(uint32_t));
        zt_eval_view(view_table, b->rq.claims, b->view);
        b->rq.claim_view = b->view;
    }
}

static bench_req_t *read_requests(const char *path, size_t *count)
{
    FILE *f = fopen(path, "r");
    char *line = malloc(BENCH_LINE_MAX);
    bench_req_t *reqs = NULL;
    size_t n = 0, cap = 0;
    unsigned lineno = 0;

    if (f == NULL || line == NULL) {
        die("cannot read %s (line %u)", path, 0);
    }
    while (fgets(line, BENCH_LINE_MAX, f) != NULL) {
        size_t len = strlen(line);

        lineno++;
        if (len > 0 && line[len - 1] == '\n') {
            line[--len] = '\0';
        }
        else if (!feof(f)) {
            die("%s: line %u is too long", path, lineno);
        }
        if (len == 0) {
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            reqs = realloc(reqs, cap * sizeof(*reqs));
            if (reqs == NULL) {
                die("%s: out of memory at line %u", path, lineno);
            }
        }
        parse_request(line, lineno, &reqs[n++]);
    }
    if (ferror(f)) {
        die("%s: read error near line %u", path, lineno);
    }
    fclose(f);
    free(line);
    if (n == 0) {
        die("%s: no requests (%u lines)", path, lineno);
    }
    *count = n;
    return reqs;
}

/* The module's work per request after the token stage; the verdict. */
static inline bench_verdict_e decide(const zt_table_t *t, bench_req_t *b,
                                     zt_match_t *m, zt_decision_t *d)
{
    if (zt_route_match(t, b->method, b->path, m) != ZT_ROUTE_OK) {
        d->rule = ZT_NONE;
        return V_NOTFOUND;
    }
    b->rq.match = m;
    zt_eval_decide(t, &b->rq, d);
    switch (d->verdict) {
    case ZT_ALLOW:      return V_ALLOW;
    case ZT_NEED_TOKEN: return V_TOKEN;
    case ZT_STEPUP:     return V_STEPUP;
    default:            return V_DENY;
    }
}

/* The decision's work up to @a stage (S_FULL: decide), for the sink. */
static inline unsigned part(const zt_table_t *t, bench_req_t *b, zt_match_t *m,
                            zt_decision_t *d, bench_stage_e stage)
{
    uint32_t entry;

    if (stage == S_FULL) {
        return decide(t, b, m, d);
    }
    if (zt_route_match(t, b->method, b->path, m) != ZT_ROUTE_OK
        || stage == S_ROUTE || t->prog == NULL) {
        return m->route;
    }
    entry = t->prog->route[m->route];
    if (stage == S_ENTRY || entry == ZT_NONE) {
        return entry;
    }
    return zt_prog_head(t->prog->code, entry)->ins[0].code;
}

/* Decide every request once; 0 when all agree with the generator. */
static unsigned check(const zt_table_t *t, bench_req_t *reqs, size_t n,
                      size_t counts[V__COUNT])
{
    unsigned bad = 0;
    zt_match_t m;
    zt_decision_t d;

    for (size_t i = 0; i < n; i++) {
        bench_verdict_e got = decide(t, &reqs[i], &m, &d);

        counts[got]++;
        if (got == reqs[i].expect) {
            continue;
        }
        if (bad++ < 10) {
            const zt_rule_rec_t *r = d.rule < t->nrules ? &t->rules[d.rule] : NULL;
            fprintf(stderr, "bench_eval: line %u: %s %s: expected %s, got %s",
                    reqs[i].lineno, reqs[i].method, reqs[i].path,
                    verdict_names[reqs[i].expect], verdict_names[got]);
            if (r != NULL) {
                fprintf(stderr, " (rule at %s:%u)", zt_table_str(t, r->file), r->line);
            }
            fputc('\n', stderr);
        }
    }
    return bad;
}

/* Read every claim once: in the module the token stage has just parsed
 * them, so they are in cache when the evaluator runs.  A zt_jdoc_t is one
 * block of b->size bytes. */
static unsigned warm_claims(const zt_jdoc_t *d)
{
    const unsigned char *p = (const unsigned char *)d;
    unsigned sum = 0;

    for (uint32_t k = 0; k < d->size; k += 64) {
        sum += p[k];
    }
    return sum;
}

static unsigned warm(const bench_req_t *b)
{
    unsigned sum = (unsigned)strlen(b->path) + (unsigned char)b->method[0];

    if (b->rq.claims != NULL) {
        sum += warm_claims(b->rq.claims);
    }
    if (b->rq.claim_view != NULL) {     /* kept with the claims */
        for (uint32_t k = 0; k < zt_eval_view_size(view_table); k += 16) {
            sum += b->rq.claim_view[k];
        }
    }
    return sum;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The median cost of reading the clock twice back to back. */
static int64_t timer_cost(void)
{
    enum { N = 100001 };
    static int64_t s[N];

    for (int i = 0; i < N; i++) {
        int64_t a = now_ns();
        s[i] = now_ns() - a;
    }
    qsort(s, N, sizeof(s[0]), cmp_i64);
    return s[N / 2];
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    zt_table_t *t;
    const char *err = NULL;
    bench_req_t *reqs;
    size_t n, counts[V__COUNT] = { 0 };
    int rounds = 5, opt, views = 1;
    bench_stage_e stage = S_FULL;
    int64_t t0, load_ns, timer, *samples, *best, *vbest, total = 0;
    size_t nview = 0;
    unsigned bad;
    volatile unsigned sink = 0;
    zt_match_t m;
    zt_decision_t d;

    while ((opt = getopt(argc, argv, "r:Ns:")) != -1) {
        if (opt == 'r' && atoi(optarg) >= 0) {
            rounds = atoi(optarg);
        }
        else if (opt == 'N') {
            views = 0;
        }
        else if (opt == 's') {
            for (stage = 0; stage < S__COUNT && strcmp(optarg, stage_names[stage]) != 0; ) {
                stage++;
            }
            if (stage == S__COUNT) {
                argc = 0;       /* usage */
                break;
            }
        }
        else {
            argc = 0;
            break;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "usage: bench_eval [-r ROUNDS] [-N] [-s route|entry|line|full] "
                "TABLE.ztb REQUESTS.txt\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&pool, NULL);
    t0 = now_ns();
    if (zt_table_open(&t, argv[optind], pool, &err) != APR_SUCCESS) {
        fprintf(stderr, "bench_eval: %s\n", err);
        return 2;
    }
    load_ns = now_ns() - t0;
    claims_pool = pool;
    view_table = t;
    reqs = read_requests(argv[optind + 1], &n);
    for (size_t i = 0; i < n && !views; i++) {
        reqs[i].rq.claim_view = NULL;
    }

    bad = check(t, reqs, n, counts);
    if (bad != 0) {
        fprintf(stderr, "bench_eval: %u of %zu decisions differ from the "
                "generator's: not timing a wrong answer\n", bad, n);
        return 1;
    }

    if (rounds == 0) {
        printf("{\"requests\": %zu, \"table_bytes\": %u", n, t->size);
        for (int v = 0; v < V__COUNT; v++) {
            printf(", \"%s\": %zu", verdict_names[v], counts[v]);
        }
        printf("}\n");
        return 0;
    }
    samples = malloc((size_t)rounds * n * sizeof(*samples));
    if (samples == NULL) {
        die("%s for %u rounds", "out of memory", (unsigned)rounds);
    }
    timer = timer_cost();
    vbest = malloc(n * sizeof(*vbest));
    if (vbest == NULL) {
        die("%s for %u requests", "out of memory", (unsigned)n);
    }
    for (size_t i = 0; i < n; i++) {    /* views: the token stage's work */
        if (reqs[i].rq.claims == NULL) {
            continue;
        }
        vbest[nview] = INT64_MAX;
        for (int r = 0; r < rounds; r++) {
            int64_t a, ns;

            sink += warm(&reqs[i]);
            a = now_ns();
            zt_eval_view(t, reqs[i].rq.claims, reqs[i].view);
            ns = now_ns() - a - timer;
            vbest[nview] = ns < vbest[nview] ? ns : vbest[nview];
        }
        nview++;
    }
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) {
            int64_t a, ns;

            sink += warm(&reqs[i]);
            a = now_ns();
            sink += part(t, &reqs[i], &m, &d, stage);
            ns = now_ns() - a - timer;
            samples[(size_t)r * n + i] = ns;
        }
    }
    best = malloc(n * sizeof(*best));
    if (best == NULL) {
        die("%s for %u requests", "out of memory", (unsigned)n);
    }
    for (size_t i = 0; i < n; i++) {
        best[i] = samples[i];
        for (int r = 1; r < rounds; r++) {
            int64_t ns = samples[(size_t)r * n + i];
            best[i] = ns < best[i] ? ns : best[i];
        }
        total += best[i];
    }
    qsort(best, n, sizeof(*best), cmp_i64);
    qsort(vbest, nview, sizeof(*vbest), cmp_i64);
    qsort(samples, (size_t)rounds * n, sizeof(*samples), cmp_i64);

    printf("{\"requests\": %zu, \"rounds\": %d, \"table_bytes\": %u, "
           "\"routes\": %u, \"rules\": %u, \"nodes\": %u, \"load_us\": %.0f, "
           "\"timer_ns\": %lld, \"p50_ns\": %lld, \"p99_ns\": %lld, "
           "\"mean_ns\": %.1f, \"raw_p50_ns\": %lld, \"raw_p99_ns\": %lld",
           n, rounds, t->size, t->nroutes, t->nrules, t->nnodes,
           (double)load_ns / 1e3, (long long)timer,
           (long long)best[n / 2], (long long)best[n * 99 / 100],
           (double)total / (double)n,
           (long long)samples[(size_t)rounds * n / 2],
           (long long)samples[(size_t)rounds * n * 99 / 100]);
    printf(", \"stage\": \"%s\", \"views\": %d, \"view_words\": %u", stage_names[stage],
           views, zt_eval_view_size(t));
    if (t->prog != NULL) {      /* routes with a program, and its bytes */
        printf(", \"blocks\": %u, \"code_bytes\": %llu", t->prog->nblocks,
               (unsigned long long)t->prog->code_len);
    }
    if (nview > 0) {
        printf(", \"view_p50_ns\": %lld, \"view_p99_ns\": %lld",
               (long long)vbest[nview / 2], (long long)vbest[nview * 99 / 100]);
    }
    for (int v = 0; v < V__COUNT; v++) {
        printf(", \"%s\": %zu", verdict_names[v], counts[v]);
    }
    printf("}\n");
    return sink == 0xffffffffu ? 3 : 0;
}
