/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * bench_memlat: what one load costs that must wait for the one before it,
 * at a random place in N MiB (docs/BENCHMARKS.md, "Decision engine").
 *
 *   bench_memlat [MIB...]            # default 1 2 4 8 16 32 64
 *
 * A decision in a large table reads a few lines no recent decision read:
 * the route trie's last levels and the route's program block.  This is
 * the floor each such line puts under it on this machine, measured the
 * way the table's derived arrays are allocated (zt_palloc_large: large
 * pages from 1 MiB on).  The lines of the region form one random cycle
 * (Sattolo's shuffle), each holding the address of the next, so every
 * load depends on the one before and none can be predicted or overlapped.
 *
 * Prints one JSON line per size: {"mib": N, "ns": per load}.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "zt_prog.h"

#define LINE 64

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* xorshift64*: the shuffle needs no quality beyond covering the region. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static double chase(apr_pool_t *pool, size_t mib)
{
    size_t n = mib * 1024 * 1024 / LINE, steps = 4 * n < 4000000 ? 4000000 : 4 * n;
    char *base = zt_palloc_large(pool, n * LINE);
    uint32_t *order = malloc(n * sizeof(*order));
    uint64_t seed = 0x9e3779b97f4a7c15u;
    void **p;
    int64_t t0;

    if (base == NULL || order == NULL) {
        fprintf(stderr, "bench_memlat: out of memory for %zu MiB\n", mib);
        exit(2);
    }
    for (size_t i = 0; i < n; i++) {
        order[i] = (uint32_t)i;
    }
    for (size_t i = n - 1; i > 0; i--) {        /* Sattolo: one cycle */
        size_t j = next_random(&seed) % i;
        uint32_t x = order[i];
        order[i] = order[j];
        order[j] = x;
    }
    for (size_t i = 0; i < n; i++) {
        *(void **)(void *)(base + (size_t)order[i] * LINE)
            = base + (size_t)order[(i + 1) % n] * LINE;
    }
    free(order);
    p = (void **)(void *)base;
    for (size_t i = 0; i < n; i++) {            /* once round: faulted in */
        p = *p;
    }
    t0 = now_ns();
    for (size_t i = 0; i < steps; i++) {
        p = *p;
    }
    t0 = now_ns() - t0;
    if (p == NULL) {                            /* keeps the chase */
        return -1;
    }
    return (double)t0 / (double)steps;
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = { 1, 2, 4, 8, 16, 32, 64 };
    apr_pool_t *pool;

    apr_initialize();
    for (int i = 0; i < (argc > 1 ? argc - 1 : (int)(sizeof(sizes) / sizeof(sizes[0]))); i++) {
        size_t mib = argc > 1 ? strtoul(argv[i + 1], NULL, 10) : sizes[i];

        if (mib == 0 || mib > 4096) {
            fprintf(stderr, "usage: bench_memlat [MIB (1..4096)...]\n");
            return 2;
        }
        apr_pool_create(&pool, NULL);
        printf("{\"mib\": %zu, \"ns\": %.1f}\n", mib, chase(pool, mib));
        fflush(stdout);
        apr_pool_destroy(pool);
    }
    return 0;
}
