/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Fuzz target: a DPoP proof (zt_dpop_verify) and a URI (zt_dpop_htu).
 * The input is "proof\nhtu": the proof is checked against a fixed request
 * and the second line is normalised; nothing may crash or read outside
 * the input, and a normalised URI must normalise to itself.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "zt_dpop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    static const unsigned char key[32] = { 7 };
    static const zt_dpop_conf_t conf = {
        .algs = ZT_DPOP_ALGS_DEFAULT, .max_age = 60, .skew = 5,
        .nonce_key = key, .nonce_period = 60
    };
    apr_pool_t *pool;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    zt_dpop_proof_t p;
    const char *why, *htu, *again;

    if (!init) {
        apr_initialize();
        init = 1;
    }
    apr_pool_create(&pool, NULL);
    zt_dpop_verify((const char *)data, plen, "GET",
                   "https://api.example.com/orders/7", "tok", 3, 1700000000,
                   &conf, pool, &p, &why);
    if (nl != NULL) {
        htu = zt_dpop_htu(pool, (const char *)nl + 1, size - plen - 1);
        if (htu != NULL) {
            again = zt_dpop_htu(pool, htu, strlen(htu));
            if (again == NULL || strcmp(again, htu) != 0) {
                fprintf(stderr, "not idempotent: %s -> %s\n", htu,
                        again ? again : "NULL");
                abort();
            }
        }
    }
    apr_pool_destroy(pool);
    return 0;
}
