/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * libFuzzer target for the token path's JSON reader (zt_jdoc_parse): the
 * input is one document.  Besides "no crash, no leak, no sanitizer
 * report", it aborts when
 *  - zt_jdoc and zt_json (jansson with our strictness rules) disagree on
 *    whether the document is acceptable, or on any value in it;
 *  - a copy of an accepted document's block, moved elsewhere, does not
 *    read the same (the block holds no addresses);
 *  - a member lookup does not find every member of every object.
 *
 * The seed corpus (test/fuzz/corpus/jdoc/) holds real token payloads and
 * headers, and a case for each rule of zt_jdoc.h, accepted or not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "jdoc_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *fz_pool;

static void fz_done(void)
{
    apr_pool_destroy(fz_pool);
    apr_terminate();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    apr_pool_t *p;
    const char *err;
    const zt_jdoc_t *d;

    if (!ready) {
        apr_initialize();
        apr_pool_create(&fz_pool, NULL);
        atexit(fz_done);
        ready = 1;
    }
    apr_pool_create(&p, fz_pool);
    if (zt_jdoc_both((const char *)data, size, 1 << 20, p) < 0) {
        abort();
    }
    d = zt_jdoc_parse((const char *)data, size, 1 << 20, p, &err);
    if (d != NULL) {
        json_t *j = zt_json_parse((const char *)data, size, 1 << 20, p, &err);
        zt_jdoc_t *moved = malloc(zt_jdoc_size(d));

        if (j == NULL || moved == NULL) {
            abort();
        }
        memcpy(moved, d, zt_jdoc_size(d));
        memset((void *)d, 0xa5, zt_jdoc_size(d));     /* the original is gone */
        if (!zt_jdoc_same(moved->node, j)) {
            abort();
        }
        free(moved);
        json_decref(j);
    }
    apr_pool_destroy(p);
    return 0;
}
