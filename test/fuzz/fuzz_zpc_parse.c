/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Fuzz target: the zpc front end over arbitrary bytes.  Each input is
 * compiled in a fresh pool with diagnostics going to /dev/null (printed,
 * so that the diagnostic printer is fuzzed too), and the pool destroyed,
 * so a leak shows up in LeakSanitizer or valgrind.  The IR of an input
 * that compiles must keep the invariants the emitter relies on; a broken
 * one aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "zpc_front.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

static void fuzz_check_ir(const zpc_ir_t *ir)
{
    uint32_t nn = (uint32_t)ir->nodes->nelts;

    for (uint32_t i = 0; i < nn; i++) {
        const zpc_ir_node_t *n = &APR_ARRAY_IDX(ir->nodes, i, zpc_ir_node_t);
        int two = n->op == ZT_OP_AND || n->op == ZT_OP_OR;

        if (n->op >= ZT_OP__COUNT
            || ((two || n->op == ZT_OP_NOT) && (n->a <= i || n->a >= nn))
            || (two && (n->b <= i || n->b >= nn))) {
            abort();
        }
    }
    for (int i = 0; i < ir->routes->nelts; i++) {
        const zpc_ir_route_t *r = &APR_ARRAY_IDX(ir->routes, i, zpc_ir_route_t);
        for (int j = 1; j < r->rules->nelts; j++) {
            if (APR_ARRAY_IDX(r->rules, j, uint32_t)
                <= APR_ARRAY_IDX(r->rules, j - 1, uint32_t)) {
                abort();
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    zpc_ir_t *ir;
    int nerr = 0, nwarn = 0;

    if (devnull == NULL) {
        apr_initialize();
        devnull = fopen("/dev/null", "w");
        if (devnull == NULL) {
            abort();
        }
    }
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        abort();
    }
    ir = zpc_compile_string("fuzz.ztp", (const char *)data, size, devnull,
                            pool, &nerr, &nwarn);
    if ((ir == NULL) != (nerr > 0)) {
        abort();
    }
    if (ir != NULL) {
        fuzz_check_ir(ir);
    }
    apr_pool_destroy(pool);
    return 0;
}
