/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/* The contract that test_validate.c and fuzz_validate.c check requests
 * against, built by hand (zt_ir_build.h), emitted and loaded:
 *
 *   GET /t/{id: uuid}/{n: int 0..1000000}
 *   GET /items/{id: uuid}
 *   GET /n/{n: int 0..1000000}/{s: string 1..64}
 *   GET /orders   query limit int 1..100, cursor string 1..64 /^[a-z]+$/,
 *                 status enum(open shipped), tag string 0..16 list,
 *                 x number, flag bool (all optional); header x-tenant
 *                 uuid (required), x-note string 0..8 (optional)
 *   GET /any      query * any; limit int 1..10, w int INT64_MIN..MAX
 *   GET /req      query q string 3..3 (required)
 *   GET /wide     query w int INT64_MIN..INT64_MAX, s string 0..10000
 *   GET /none     no parameters
 *
 * A public allow covers them all. */
#ifndef ZT_VALIDATE_TABLE_H
#define ZT_VALIDATE_TABLE_H

#include <stdint.h>

#include "zt_ir_build.h"
#include "zpc_back.h"
#include "zt_table.h"

/** @a ir emitted and loaded, or NULL with *err set. */
static inline zt_table_t *zv_build(const zpc_ir_t *ir, apr_pool_t *pool,
                                   const char **err)
{
    zt_table_t *tab;
    void *buf;
    apr_size_t len;

    if (zpc_emit(ir, pool, &buf, &len, err) != APR_SUCCESS
        || zt_table_load(&tab, buf, len, "v.ztb", pool, err) != APR_SUCCESS) {
        return NULL;
    }
    return tab;
}

/** The table above, or NULL with *err set. */
static inline zt_table_t *zv_table(apr_pool_t *pool, const char **err)
{
    zpc_ir_t *ir = zb_new(pool, "v", "v.ztp");
    uint32_t t = zb_route(ir, ZT_M_GET, "/t/{id:uuid}/{n:int}");
    uint32_t items = zb_route(ir, ZT_M_GET, "/items/{id:uuid}");
    uint32_t n = zb_route(ir, ZT_M_GET, "/n/{n:int}/{s:string}");
    uint32_t orders = zb_route(ir, ZT_M_GET, "/orders");
    uint32_t any = zb_route(ir, ZT_M_GET, "/any");
    uint32_t req = zb_route(ir, ZT_M_GET, "/req");
    uint32_t wide = zb_route(ir, ZT_M_GET, "/wide");
    uint32_t none = zb_route(ir, ZT_M_GET, "/none");
    zpc_ir_type_t *int64 = zb_type(ir, ZT_TYPE_INT, INT64_MIN, INT64_MAX, NULL, NULL);

    zb_param(ir, orders, ZT_PARAM_QUERY, "limit",
             zb_type(ir, ZT_TYPE_INT, 1, 100, NULL, NULL), ZT_PARAM_OPTIONAL);
    zb_param(ir, orders, ZT_PARAM_QUERY, "cursor",
             zb_type(ir, ZT_TYPE_STRING, 1, 64, "^[a-z]+$", NULL), ZT_PARAM_OPTIONAL);
    zb_param(ir, orders, ZT_PARAM_QUERY, "status",
             zb_type(ir, ZT_TYPE_ENUM, 0, 0, NULL, "open shipped"), ZT_PARAM_OPTIONAL);
    zb_param(ir, orders, ZT_PARAM_QUERY, "tag",
             zb_type(ir, ZT_TYPE_STRING, 0, 16, NULL, NULL),
             ZT_PARAM_OPTIONAL | ZT_PARAM_LIST);
    zb_param(ir, orders, ZT_PARAM_QUERY, "x",
             zb_type(ir, ZT_TYPE_NUMBER, 0, 0, NULL, NULL), ZT_PARAM_OPTIONAL);
    zb_param(ir, orders, ZT_PARAM_QUERY, "flag",
             zb_type(ir, ZT_TYPE_BOOL, 0, 0, NULL, NULL), ZT_PARAM_OPTIONAL);
    zb_param(ir, orders, ZT_PARAM_HEADER, "x-tenant",
             zb_type(ir, ZT_TYPE_UUID, 0, 0, NULL, NULL), 0);
    zb_param(ir, orders, ZT_PARAM_HEADER, "x-note",
             zb_type(ir, ZT_TYPE_STRING, 0, 8, NULL, NULL), ZT_PARAM_OPTIONAL);
    zb_route_at(ir, any)->flags |= ZT_ROUTE_QUERY_ANY;
    zb_param(ir, any, ZT_PARAM_QUERY, "limit",
             zb_type(ir, ZT_TYPE_INT, 1, 10, NULL, NULL), ZT_PARAM_OPTIONAL);
    zb_param(ir, any, ZT_PARAM_QUERY, "w", int64, ZT_PARAM_OPTIONAL);
    zb_param(ir, req, ZT_PARAM_QUERY, "q",
             zb_type(ir, ZT_TYPE_STRING, 3, 3, NULL, NULL), 0);
    zb_param(ir, wide, ZT_PARAM_QUERY, "w", int64, ZT_PARAM_OPTIONAL);
    zb_param(ir, wide, ZT_PARAM_QUERY, "s",
             zb_type(ir, ZT_TYPE_STRING, 0, 10000, NULL, NULL), ZT_PARAM_OPTIONAL);
    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, "(true)", "allow", 8,
            t, items, n, orders, any, req, wide, none);
    return zv_build(ir, pool, err);
}

#endif /* ZT_VALIDATE_TABLE_H */
