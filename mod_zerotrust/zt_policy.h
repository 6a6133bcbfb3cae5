/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_policy.h
 * @brief A loaded policy: the verified table plus its issuers' key sets.
 *
 * This is what the module keeps per ZeroTrustPolicy path and what zpc uses
 * to explain a request.  Key set files named by "jwks file" are read
 * relative to the table's directory.
 */
#ifndef ZT_POLICY_H
#define ZT_POLICY_H

#include <apr_pools.h>
#include "zt_table.h"
#include "zt_token.h"

typedef struct {
    const zt_table_t *table;
    zt_issuer_t *issuers;       /**< array of table->nissuers */
    int nissuers;
    const char *dir;            /**< base of relative key files (the table's dir) */
    struct zt_keys_s *keys;     /**< run-time key sources (zt_keys.h), set by the
                                     module; NULL: the issuers' keys are static */
    const struct zt_audit_tab_s *audit; /**< what the module's audit
                                     (zt_audit.c) measured of the table's
                                     strings once, or NULL */
    const char *where;          /**< every rule's "file:line" and a NUL, one
                                     after another (zt_policy_rule_where) */
    const uint32_t *where_at;   /**< where rule i's starts in @a where;
                                     nrules + 1 of them, the last the end */
} zt_policy_t;

/**
 * Open and verify the table at @a path and load every issuer's keys.
 * Everything lives in @a pool.  On failure *err names the file and the fault.
 */
apr_status_t zt_policy_open(zt_policy_t **policy, const char *path,
                            apr_pool_t *pool, const char **err);

/** Build the issuers of an already loaded @a table (keys relative to @a dir). */
apr_status_t zt_policy_from_table(zt_policy_t **policy, const zt_table_t *table,
                                  const char *dir, apr_pool_t *pool,
                                  const char **err);

/** "file:line" of rule @a rule (below the table's nrules), as ZT_RULE and
 *  the logs name it: written when the policy was made, so a request only
 *  looks it up. */
static inline const char *zt_policy_rule_where(const zt_policy_t *policy,
                                               uint32_t rule)
{
    return policy->where + policy->where_at[rule];
}

/** The length of zt_policy_rule_where(@a policy, @a rule). */
static inline apr_size_t zt_policy_rule_where_len(const zt_policy_t *policy,
                                                  uint32_t rule)
{
    return policy->where_at[rule + 1] - policy->where_at[rule] - 1;
}

#endif /* ZT_POLICY_H */
