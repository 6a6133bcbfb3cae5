/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/* What fuzz_jschema and fuzz_xml share: the pool they run in, and the
 * check that a body fault, which goes into answers and logs, is printable
 * ASCII. */
#ifndef FUZZ_BODY_H
#define FUZZ_BODY_H

#include <stdlib.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "zt_body.h"

static apr_pool_t *fz_pool;

static void fz_done(void)
{
    apr_pool_destroy(fz_pool);
    apr_terminate();
}

/* Once: APR and the pool every input's subpool comes from. */
static void fz_start(void)
{
    apr_initialize();
    apr_pool_create(&fz_pool, NULL);
    atexit(fz_done);
}

static void fz_printable(const zt_body_fault_t *f)
{
    char text[512];

    zt_body_fault_text(f, text, sizeof(text));
    for (const char *p = text; *p; p++) {
        if (*p < 0x20 || *p > 0x7e) {
            abort();
        }
    }
}

#endif /* FUZZ_BODY_H */
