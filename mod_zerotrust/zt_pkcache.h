/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_pkcache.h
 * @brief The DPoP proof-key cache: one per process, shared by its threads.
 *
 * A client signs many proofs with one key, and every proof carries that
 * key in its header.  Importing it (zt_jwk_from_json: the checks, the
 * point or modulus, an OpenSSL key) costs about a quarter of an ES256
 * proof's check; this cache keeps the imported key and its RFC 7638
 * thumbprint, so the next proof by the same key skips the import.
 *
 * Key: the proof's protected header exactly as sent (its base64url text),
 * compared in full.  The thumbprint alone would name the key's public
 * members and nothing else, while zt_jwk_from_json also reads "alg",
 * "use", "key_ops" and refuses private members: keyed on the whole
 * header, which holds the whole "jwk", a hit is what the import gave for
 * these very bytes, so a cached key can never stand for a jwk that
 * differs in any member.  A client that changes its header's bytes just
 * misses.
 *
 * Bounded in entries and in bytes (the entry's block, the header, and an
 * estimate of the OpenSSL key's memory, by key type); the least recently
 * used entry goes first.  Entries do not expire: a key is a key, and the
 * bounds push out those no longer used.
 *
 * Thread safety: every function may be called from any thread between
 * zt_pkcache_create and the destruction of its pool.  A hit hands out the
 * cached EVP_PKEY with a reference of its own (EVP_PKEY_up_ref), dropped
 * when the caller's pool is cleared; OpenSSL keys are read-only once
 * made, so threads verify with the same key at once, as they do with the
 * keys of a JWK Set.
 */
#ifndef ZT_PKCACHE_H
#define ZT_PKCACHE_H

#include <apr_pools.h>
#include <stdint.h>

#include "zt_dpop.h"
#include "zt_jwk.h"

#define ZT_PKCACHE_ENTRIES_DEFAULT  1024                /**< per process */
#define ZT_PKCACHE_BYTES_DEFAULT    (4 * 1024 * 1024)   /**< per process */

/** Counters, as one snapshot. */
typedef struct {
    uint64_t hits;
    uint64_t misses;
    uint64_t inserts;
    uint64_t evictions;             /**< pushed out by a bound */
    uint64_t refused;               /**< put, but not stored */
    apr_size_t entries;
    apr_size_t bytes;
    apr_size_t max_entries;
    apr_size_t max_bytes;
} zt_pkcache_stats_t;

/**
 * A cache of at most @a max_entries keys and @a max_bytes bytes (0: the
 * defaults), emptied and freed with @a pool.
 */
apr_status_t zt_pkcache_create(zt_pkcache_t **c, apr_pool_t *pool,
                               apr_size_t max_entries, apr_size_t max_bytes);

/**
 * Look up the proof header @a hdr (@a len bytes of base64url, as sent).
 * On a hit, 1: *key is the key zt_jwk_from_json made of it (kty, crv,
 * bits, algs, pkey; kid, alg, use and key_ops NULL, nothing prepared),
 * its pkey referenced until @a pool is cleared, and @a jkt its thumbprint.
 * 0 on a miss.
 */
int zt_pkcache_get(zt_pkcache_t *c, const char *hdr, apr_size_t len,
                   apr_pool_t *pool, zt_jwk_t *key, char jkt[ZT_THUMB_SIZE]);

/**
 * Keep @a key, which zt_jwk_from_json made of the "jwk" in the proof
 * header @a hdr (@a len bytes, as sent), and its thumbprint @a jkt.  The
 * entry takes its own reference on key->pkey.  An entry for the same
 * header is replaced.  Returns 1 if stored.
 */
int zt_pkcache_put(zt_pkcache_t *c, const char *hdr, apr_size_t len,
                   const zt_jwk_t *key, const char *jkt);

/** Drop every entry. */
void zt_pkcache_clear(zt_pkcache_t *c);

/** Counters and sizes. */
void zt_pkcache_stats(zt_pkcache_t *c, zt_pkcache_stats_t *st);

#endif /* ZT_PKCACHE_H */
