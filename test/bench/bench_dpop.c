/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The cost of a DPoP proof (zt_dpop_verify) and of the shared replay set
 * (zt_replay_check).  Not run by make check:
 *
 *   make test/bench/bench_dpop
 *   test/bench/bench_dpop test/fuzz/corpus/dpop/valid        # ES256
 *   test/bench/bench_dpop test/fuzz/corpus/dpop/valid-eddsa  # EdDSA
 *
 * The corpus proofs are for GET https://api.example.com/orders/7 with
 * the access token "tok", made at 1700000000.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <openssl/sha.h>

#include "zt_dpop.h"
#include "zt_replay.h"

static double zt_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static const zt_dpop_conf_t conf = {
        .algs = ZT_DPOP_ALGS_DEFAULT, .max_age = 60, .skew = 5
    };
    enum { PROOFS = 2000, CHECKS = 1000000, SLOTS = 65536 };
    char buf[ZT_DPOP_MAX_LEN + 1], *nl;
    unsigned char key[32];
    zt_dpop_proof_t p;
    zt_replay_t *rp;
    apr_pool_t *pool;
    const char *why;
    double t0, t1;
    size_t n, size;
    FILE *f;
    int ok = 0, fresh = 0;

    if (argc != 2 || (f = fopen(argv[1], "r")) == NULL) {
        fprintf(stderr, "usage: bench_dpop PROOF-FILE\n");
        return 2;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if ((nl = strchr(buf, '\n')) != NULL) {
        *nl = '\0';
    }
    apr_initialize();
    apr_pool_create(&pool, NULL);
    t0 = zt_now();
    for (int i = 0; i < PROOFS; i++) {
        apr_pool_clear(pool);
        ok += zt_dpop_verify(buf, strlen(buf), "GET",
                             "https://api.example.com/orders/7", "tok", 3,
                             1700000000, &conf, pool, &p, &why) == ZT_DPOP_OK;
    }
    t1 = zt_now();
    printf("zt_dpop_verify: %d of %d valid, %.1f us a proof\n", ok, PROOFS,
           (t1 - t0) / PROOFS * 1e6);

    size = zt_replay_size(SLOTS);
    rp = zt_replay_init(aligned_alloc(8, size), size, SLOTS);
    t0 = zt_now();
    for (int i = 0; i < CHECKS; i++) {
        SHA256((const unsigned char *)&i, sizeof(i), key);
        /* 500 new keys a second, each remembered for 60 s: 30000 live */
        fresh += zt_replay_check(rp, key, 1700000000 + i / 500, 60)
                 == ZT_REPLAY_FRESH;
    }
    t1 = zt_now();
    printf("zt_replay_check: %d fresh of %d (%d slots), %.3f us a check "
           "with its SHA-256\n", fresh, CHECKS, SLOTS,
           (t1 - t0) / CHECKS * 1e6);
    return 0;
}
