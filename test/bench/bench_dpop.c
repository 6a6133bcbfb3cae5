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
 * Options: -n checks every proof without the proof-key cache
 * (zt_pkcache.h; with it, as the module does, the first proof imports
 * the key and the others find it); -p PROOFS sets how many proofs
 * (2000); -R skips the replay set.  For instruction counts on a shared
 * machine:
 *
 *   valgrind --tool=callgrind --toggle-collect=zt_dpop_verify \
 *       test/bench/bench_dpop -R test/fuzz/corpus/dpop/valid
 *
 * The corpus proofs are for GET https://api.example.com/orders/7 with
 * the access token "tok", made at 1700000000.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <openssl/sha.h>

#include "zt_dpop.h"
#include "zt_pkcache.h"
#include "zt_replay.h"

static double zt_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    zt_dpop_conf_t conf = {
        .algs = ZT_DPOP_ALGS_DEFAULT, .max_age = 60, .skew = 5
    };
    enum { CHECKS = 1000000, SLOTS = 65536 };
    int proofs = 2000, cache = 1, replay = 1, opt;
    char buf[ZT_DPOP_MAX_LEN + 1], *nl;
    unsigned char key[32];
    zt_dpop_proof_t p;
    zt_replay_t *rp;
    apr_pool_t *pool, *keep;
    const char *why;
    double t0, t1;
    size_t n, size;
    FILE *f;
    int ok = 0, fresh = 0;

    while ((opt = getopt(argc, argv, "np:R")) != -1) {
        switch (opt) {
        case 'n':
            cache = 0;
            break;
        case 'p':
            proofs = atoi(optarg);
            break;
        case 'R':
            replay = 0;
            break;
        default:
            proofs = 0;
        }
    }
    if (optind != argc - 1 || proofs < 1
        || (f = fopen(argv[optind], "r")) == NULL) {
        fprintf(stderr, "usage: bench_dpop [-n] [-p PROOFS] [-R] PROOF-FILE\n");
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
    apr_pool_create(&keep, NULL);
    if (cache && zt_pkcache_create(&conf.keys, keep, 0, 0) != APR_SUCCESS) {
        fprintf(stderr, "bench_dpop: cannot make the proof-key cache\n");
        return 1;
    }
    t0 = zt_now();
    for (int i = 0; i < proofs; i++) {
        apr_pool_clear(pool);
        ok += zt_dpop_verify(buf, strlen(buf), "GET",
                             "https://api.example.com/orders/7", "tok", 3,
                             1700000000, &conf, pool, &p, &why) == ZT_DPOP_OK;
    }
    t1 = zt_now();
    printf("zt_dpop_verify: %d of %d valid, %.1f us a proof (%s)\n", ok,
           proofs, (t1 - t0) / proofs * 1e6,
           cache ? "proof-key cache" : "no proof-key cache");
    if (!replay) {
        return 0;
    }

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
