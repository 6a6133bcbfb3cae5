/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * A loaded policy: the verified table plus what each issuer verifies with.
 * Key set files and secret files are read here, relative to the table's
 * directory; key sets fetched by URL (jwks url, jwks discover) are not:
 * they are zt_keys' to fetch and refresh, and is->keys stays NULL here.
 */

#include <string.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include "zt_ascii.h"
#include "zt_policy.h"
#include "zt_jwk.h"

/* @a rel relative to @a dir (an absolute name stays), or NULL. */
static char *zt_policy_path(const char *dir, const char *rel, apr_pool_t *pool)
{
    char *path = NULL;

    if (apr_filepath_merge(&path, (dir && *dir) ? dir : NULL, rel, 0, pool)
        != APR_SUCCESS) {
        return NULL;
    }
    return path;
}

/* APR permission bits as the octal mode a person knows from ls and chmod. */
static unsigned int zt_policy_mode(apr_fileperms_t p)
{
    return ((p & APR_UREAD) ? 0400u : 0) | ((p & APR_UWRITE) ? 0200u : 0)
           | ((p & APR_UEXECUTE) ? 0100u : 0) | ((p & APR_GREAD) ? 040u : 0)
           | ((p & APR_GWRITE) ? 020u : 0) | ((p & APR_GEXECUTE) ? 010u : 0)
           | ((p & APR_WREAD) ? 04u : 0) | ((p & APR_WWRITE) ? 02u : 0)
           | ((p & APR_WEXECUTE) ? 01u : 0);
}

/* The required claim names, NUL-joined in the (verified) pool. */
static void zt_policy_required(const zt_table_t *table,
                               const zt_issuer_rec_t *rec, zt_issuer_t *is,
                               apr_pool_t *pool)
{
    const char **names;
    const char *p = zt_table_str(table, rec->required);

    is->nrequired = (int)rec->nrequired;
    if (rec->nrequired == 0) {
        is->required = NULL;
        return;
    }
    names = apr_palloc(pool, sizeof(*names) * rec->nrequired);
    for (uint32_t k = 0; k < rec->nrequired; k++) {
        names[k] = p;
        p += strlen(p) + 1;
    }
    is->required = names;
}

/*
** The issuer's HS* secret: the raw bytes of a file relative to the table's
** directory, every byte of it (a trailing newline is part of the secret:
** write the file with `head -c 64 /dev/urandom` or `printf '%s'`), at
** least as long as the hash of the strongest HS* algorithm allowed (RFC
** 7518 3.2; zt_keyset_from_secret).  Anyone who can read the file can
** mint tokens, and so can anyone who can change it: a file other users
** may read, or that its group or other users may write, is refused.
*/
static apr_status_t zt_policy_secret(const zt_table_t *table,
                                     const zt_issuer_rec_t *rec,
                                     zt_issuer_t *is, const char *dir,
                                     apr_pool_t *pool, const char **err)
{
    const char *rel = zt_table_str(table, rec->secret), *kerr = NULL;
    zt_keyset_t *ks = NULL;
    apr_finfo_t fi;
    char *path, ebuf[128];
    apr_status_t rv;

    if ((path = zt_policy_path(dir, rel, pool)) == NULL) {
        *err = apr_psprintf(pool, "%s: issuer %s (line %u): bad secret file "
                            "name '%s'", table->name, is->name,
                            (unsigned int)rec->line, rel);
        return APR_EINVAL;
    }
    rv = apr_stat(&fi, path, APR_FINFO_TYPE | APR_FINFO_PROT, pool);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
        *err = apr_psprintf(pool, "%s: issuer %s (line %u): secret file %s: "
                            "%s", table->name, is->name,
                            (unsigned int)rec->line, path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    if (!(fi.valid & APR_FINFO_TYPE) || fi.filetype != APR_REG) {
        *err = apr_psprintf(pool, "%s: issuer %s (line %u): secret file %s is "
                            "not a regular file", table->name, is->name,
                            (unsigned int)rec->line, path);
        return APR_EINVAL;
    }
    if (!(fi.valid & APR_FINFO_PROT)
        || (fi.protection & (APR_WREAD | APR_WWRITE | APR_GWRITE))) {
        *err = apr_psprintf(pool, "%s: issuer %s (line %u): secret file %s may "
                            "be read by other users or changed by its group "
                            "or others (mode %04o); whoever can read or change "
                            "it can mint tokens: chmod 0600 (or 0640 for a "
                            "group that only reads it)", table->name, is->name,
                            (unsigned int)rec->line, path,
                            zt_policy_mode((fi.valid & APR_FINFO_PROT)
                                           ? fi.protection : 0));
        return APR_EINVAL;
    }
    rv = zt_keyset_from_secret_file(&ks, path, rec->algs, pool, &kerr);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(pool, "%s: issuer %s (line %u): %s", table->name,
                            is->name, (unsigned int)rec->line,
                            kerr ? kerr : path);
        return rv;
    }
    is->secret = ks;
    return APR_SUCCESS;
}

/* A JWK Set file, read now.  Fetched key sets (url, discover) are zt_keys'. */
static apr_status_t zt_policy_jwks_file(const zt_table_t *table,
                                        const zt_issuer_rec_t *rec,
                                        zt_issuer_t *is, const char *dir,
                                        apr_pool_t *pool, const char **err)
{
    const char *rel = zt_table_str(table, rec->jwks), *kerr = NULL;
    zt_keyset_t *ks = NULL;
    char *path;
    apr_status_t rv;

    if (!*rel) {
        *err = apr_psprintf(pool, "%s: issuer %s (line %u): the jwks file name "
                            "is empty", table->name, is->name,
                            (unsigned int)rec->line);
        return APR_EINVAL;
    }
    if ((path = zt_policy_path(dir, rel, pool)) == NULL) {
        *err = apr_psprintf(pool, "%s: issuer %s (line %u): bad jwks file name "
                            "'%s'", table->name, is->name,
                            (unsigned int)rec->line, rel);
        return APR_EINVAL;
    }
    rv = zt_jwks_load_file(&ks, path, pool, &kerr);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(pool, "%s: issuer %s (line %u): %s", table->name,
                            is->name, (unsigned int)rec->line,
                            kerr ? kerr : path);
        return rv;
    }
    is->keys = ks;
    return APR_SUCCESS;
}

/*
** Every rule's "file:line", written once for the policy: one buffer of the
** strings one after another, and each rule's offset in it.  A request
** that names its rule (ZT_RULE, the logs) then only indexes it: nothing is
** formatted or allocated per request, and the module's policies, made in
** the parent before it forks, are one copy for every child.
*/
static apr_status_t zt_policy_where(zt_policy_t *pol, apr_pool_t *pool,
                                    const char **err)
{
    const zt_table_t *t = pol->table;
    uint32_t *at = apr_palloc(pool, sizeof(*at) * ((size_t)t->nrules + 1));
    uint64_t size = 0;
    char num[24], *buf, *o;

    /* At most ZT_MAX_RULES times a 4 GiB name: no overflow in 64 bits. */
    for (uint32_t i = 0; i < t->nrules; i++) {
        const zt_rule_rec_t *rl = &t->rules[i];

        size += strlen(zt_table_str(t, rl->file)) + 2
                + (uint64_t)(zt_put_decimal(num, rl->line) - num);
    }
    if (size > UINT32_MAX) {
        *err = apr_psprintf(pool, "%s: the rules' \"file:line\" names take "
                            "%" APR_UINT64_T_FMT " bytes (the limit is "
                            "4 GiB)", t->name, size);
        return APR_EINVAL;
    }
    o = buf = apr_palloc(pool, size ? (apr_size_t)size : 1);
    for (uint32_t i = 0; i < t->nrules; i++) {
        const zt_rule_rec_t *rl = &t->rules[i];
        const char *file = zt_table_str(t, rl->file);
        size_t n = strlen(file);

        at[i] = (uint32_t)(o - buf);
        memcpy(o, file, n);
        o[n] = ':';
        o = zt_put_decimal(o + n + 1, rl->line);
        *o++ = '\0';
    }
    at[t->nrules] = (uint32_t)(o - buf);
    pol->where = buf;
    pol->where_at = at;
    return APR_SUCCESS;
}

apr_status_t zt_policy_from_table(zt_policy_t **policy, const zt_table_t *table,
                                  const char *dir, apr_pool_t *pool,
                                  const char **err)
{
    zt_policy_t *pol;
    uint32_t i;
    apr_status_t rv;

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
        const char *typ = zt_table_str(table, rec->typ);

        is->name = zt_table_str(table, rec->name);
        is->iss = zt_table_str(table, rec->iss);
        is->audience = zt_table_str(table, rec->audience);
        is->algs = rec->algs;
        is->max_lifetime = rec->max_lifetime;
        is->leeway = rec->leeway;
        is->typ = *typ ? typ : NULL;
        is->binding = rec->binding;
        zt_policy_required(table, rec, is, pool);

        rv = APR_SUCCESS;
        switch (rec->jwks_kind) {
        case ZT_JWKS_FILE:
            rv = zt_policy_jwks_file(table, rec, is, dir, pool, err);
            break;
        case ZT_JWKS_URL:
        case ZT_JWKS_DISCOVER:
            /* Fetched and refreshed by zt_keys, never here: a policy opens
             * without the network, and is->keys stays NULL until then. */
        case ZT_JWKS_NONE:
            break;
        default:
            *err = apr_psprintf(pool, "%s: issuer %s (line %u): key source "
                                "kind %u is not supported", table->name,
                                is->name, (unsigned int)rec->line,
                                (unsigned int)rec->jwks_kind);
            return APR_ENOTIMPL;
        }
        if (rv == APR_SUCCESS && *zt_table_str(table, rec->secret)) {
            rv = zt_policy_secret(table, rec, is, dir, pool, err);
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if ((rv = zt_policy_where(pol, pool, err)) != APR_SUCCESS) {
        return rv;
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
