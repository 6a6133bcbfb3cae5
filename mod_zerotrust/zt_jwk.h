/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_jwk.h
 * @brief JSON Web Key sets (RFC 7517) turned into OpenSSL public keys.
 */
#ifndef ZT_JWK_H
#define ZT_JWK_H

#include <apr_pools.h>
#include <stdint.h>

typedef struct zt_keyset_s zt_keyset_t;

/**
 * Parse a JWK Set document.  Keys that cannot be used for verification are
 * skipped with a note in *warn (may be NULL); a set with no usable key, or
 * malformed JSON, is an error.  Keys are freed with @a pool.
 */
apr_status_t zt_jwks_parse(zt_keyset_t **ks, const char *json, apr_size_t len,
                           apr_pool_t *pool, const char **err);

/** Read and parse a JWK Set file (at most 1 MiB). */
apr_status_t zt_jwks_load_file(zt_keyset_t **ks, const char *path,
                               apr_pool_t *pool, const char **err);

/** Number of usable keys in the set. */
int zt_jwks_count(const zt_keyset_t *ks);

#endif /* ZT_JWK_H */
