/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/* A loaded policy: the verified table plus every issuer's key set. */

#include <string.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include "zt_policy.h"
#include "zt_jwk.h"

apr_status_t zt_policy_from_table(zt_policy_t **policy, const zt_table_t *table,
                                  const char *dir, apr_pool_t *pool,
                                  const char **err)
{
    zt_policy_t *pol;
    uint32_t i;

    *policy = NULL;
    if (table->nissuers > ZT_MAX_ISSUERS) {
        /* The loader refuses this already; never trust a count blindly. */
        *err = apr_psprintf(pool, "%s: %u issuers (the limit is %d)",
                            table->name, (unsigned int)table->nissuers,
                            ZT_MAX_ISSUERS);
        return APR_EINVAL;
    }
    pol = apr_pcalloc(pool, sizeof(*pol));
    pol->table = table;
    pol->dir = dir;
    pol->nissuers = (int)table->nissuers;
    pol->issuers = apr_pcalloc(pool, sizeof(zt_issuer_t)
                                     * (table->nissuers ? table->nissuers : 1));

    for (i = 0; i < table->nissuers; i++) {
        const zt_issuer_rec_t *rec = &table->issuers[i];
        zt_issuer_t *is = &pol->issuers[i];
        const char *rel, *kerr = NULL;
        char *path = NULL;
        zt_keyset_t *ks = NULL;
        apr_status_t rv;

        is->name = zt_table_str(table, rec->name);
        is->iss = zt_table_str(table, rec->iss);
        is->audience = zt_table_str(table, rec->audience);
        is->algs = rec->algs;
        is->max_lifetime = rec->max_lifetime;
        is->leeway = rec->leeway;

        if (rec->jwks_kind != ZT_JWKS_FILE) {
            *err = apr_psprintf(pool, "%s: issuer %s (line %u): key source "
                                "kind %u is not supported", table->name,
                                is->name, (unsigned int)rec->line,
                                (unsigned int)rec->jwks_kind);
            return APR_ENOTIMPL;
        }
        rel = zt_table_str(table, rec->jwks);
        if (!*rel) {
            *err = apr_psprintf(pool, "%s: issuer %s (line %u): the jwks "
                                "file name is empty", table->name, is->name,
                                (unsigned int)rec->line);
            return APR_EINVAL;
        }
        /* Relative to the table's directory; an absolute name stays. */
        rv = apr_filepath_merge(&path, (dir && *dir) ? dir : NULL,
                                rel, 0, pool);
        if (rv != APR_SUCCESS) {
            *err = apr_psprintf(pool, "%s: issuer %s (line %u): bad jwks "
                                "file name '%s'", table->name, is->name,
                                (unsigned int)rec->line, rel);
            return rv;
        }
        rv = zt_jwks_load_file(&ks, path, pool, &kerr);
        if (rv != APR_SUCCESS) {
            *err = apr_psprintf(pool, "%s: issuer %s (line %u): %s",
                                table->name, is->name,
                                (unsigned int)rec->line,
                                kerr ? kerr : path);
            return rv;
        }
        is->keys = ks;
    }
    *policy = pol;
    return APR_SUCCESS;
}

apr_status_t zt_policy_open(zt_policy_t **policy, const char *path,
                            apr_pool_t *pool, const char **err)
{
    zt_table_t *table = NULL;
    const char *slash, *dir;
    apr_status_t rv;

    *policy = NULL;
    rv = zt_table_open(&table, path, pool, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    slash = strrchr(path, '/');
    if (!slash) {
        dir = ".";
    }
    else if (slash == path) {
        dir = "/";
    }
    else {
        dir = apr_pstrmemdup(pool, path, (apr_size_t)(slash - path));
    }
    return zt_policy_from_table(policy, table, dir, pool, err);
}
