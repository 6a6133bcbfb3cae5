/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * A verified table without its route programs, for test_eval and
 * fuzz_table_load: every route is then decided from the table's node
 * trees (the loader's fallback), which must answer as the programs do.
 */
#ifndef ZT_TREE_ONLY_H
#define ZT_TREE_ONLY_H

#include <apr_pools.h>
#include <apr_strings.h>

#include "zt_prog.h"
#include "zt_table.h"

/* A copy of @a t in @a pool whose routes have no block; claim slots and
 * views as @a t has them. */
static inline const zt_table_t *zt_tree_only(const zt_table_t *t, apr_pool_t *pool)
{
    zt_table_t *c = apr_pmemdup(pool, t, sizeof(*t));
    struct zt_prog_s *p = apr_pmemdup(pool, t->prog, sizeof(*t->prog));
    uint32_t *route = apr_palloc(pool, ((size_t)t->nroutes + 1) * sizeof(uint32_t));

    for (uint32_t i = 0; i < t->nroutes; i++) {
        route[i] = ZT_NONE;
    }
    p->route = route;
    c->prog = p;
    return c;
}

#endif /* ZT_TREE_ONLY_H */
