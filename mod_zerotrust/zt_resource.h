/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_resource.h
 * @brief What a verified table says about the resource it protects, for
 *        its OAuth 2.0 Protected Resource Metadata (RFC 9728): the
 *        authorization servers it trusts and the scopes its rules grant.
 *        Core code: APR only.
 */
#ifndef ZT_RESOURCE_H
#define ZT_RESOURCE_H

#include <stdint.h>
#include <apr_pools.h>

#include "zt_table.h"

typedef struct {
    /** "iss" of every issuer, in the table's order (RFC 9728
     *  authorization_servers). */
    const char **issuers;
    uint32_t nissuers;
    /** Every scope an allow rule's condition tests with `"S" in
     *  token.scope` where it helps the allow (not under an odd number of
     *  `not`), in the table's node order, each once (scopes_supported).
     *  A literal that is not an RFC 6749 scope-token (empty, a space, a
     *  byte outside printable ASCII) can never match a scope word and is
     *  left out. */
    const char **scopes;
    uint32_t nscopes;
} zt_resource_t;

/**
 * Describe verified table @a t into @a out; the arrays come from @a pool.
 * Linear in the table's rules and nodes: done once per ZeroTrustPolicy
 * directive, at configuration time, never per request.
 */
void zt_resource_describe(const zt_table_t *t, apr_pool_t *pool,
                          zt_resource_t *out);

#endif /* ZT_RESOURCE_H */
