/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_tcache.h
 * @brief The verified-token cache: one per process, shared by its threads.
 *
 * A token that zt_token_verify accepted is kept with its parsed header and
 * claims, so the next request with the same bearer token skips base64,
 * JSON and the signature.  A hit needs no zt_token_check_times: an entry
 * answers only from the token's valid_from (nbf and iat with leeway) to
 * its expiry below, both computed by zt_token_verify; what the caller
 * still checks per request is the rest (revocation, the policy).
 *
 * Key: the token's bytes, compared in full (a fast keyed hash picks the
 * bucket; see zt_tcache.c for why not SHA-256), plus a trust-boundary tag:
 * the decision table's SHA-256, the index of the issuer that verified the
 * token, and that issuer's key-set generation at verification.  A token
 * verified under one table, or under a key set since replaced, is a miss.
 *
 * An entry expires at the token's "exp" (floor, so before exp + leeway
 * ends), and never later than
 * max_ttl seconds after it was stored.  Bounded in entries and in bytes
 * (each entry's one block: the token and flat copies of its header and
 * claims); the least recently used entry goes first.  An entry larger
 * than a quarter of a shard's byte budget is not stored.
 *
 * Thread safety: every function may be called from any thread at any time
 * between zt_tcache_create and the destruction of its pool.  A put copies
 * the header and claims documents (zt_jdoc.h: one flat block each) and
 * the claims' view (zt_token_t.claim_view, when set) into the entry; a
 * hit hands out pointers to those copies, shared read-only
 * between threads and kept alive by a reference on the entry until the
 * caller's pool is cleared.  The caller must never modify them.
 */
#ifndef ZT_TCACHE_H
#define ZT_TCACHE_H

#include <apr_pools.h>
#include <stdint.h>

#include "zt_format.h"
#include "zt_token.h"

#define ZT_TCACHE_ENTRIES_DEFAULT  4096                 /**< per process */
#define ZT_TCACHE_BYTES_DEFAULT    (4 * 1024 * 1024)    /**< per process */
#define ZT_TCACHE_TTL_DEFAULT      300                  /**< seconds */

typedef struct zt_tcache_s zt_tcache_t;

/**
 * The entry one caller used last (zt_tcache_get_memo), with a reference
 * on it: a connection's, which one thread at a time uses.  Zeroed, it
 * holds nothing; zt_tcache_memo_clear lets go (a cleanup of the owner's
 * pool).  So an entry can outlive its eviction by as long as the memo
 * holds it: one entry per memo beyond the cache's bounds.
 */
typedef struct {
    struct zt_tc_entry_s *entry;    /**< opaque */
    unsigned int note;              /**< the caller's bits about that entry
                                         (what it read of its claims once):
                                         0 whenever the memo changes entry */
} zt_tcache_memo_t;

/** The trust boundary a token is verified in. */
typedef struct {
    const unsigned char *table;     /**< SHA-256 of the decision table
                                         (ZT_HASH_LEN bytes) */
    const zt_issuer_t *issuers;     /**< the issuers verification used; a
                                         hit's out->issuer points here */
    uint32_t nissuers;
    const uint64_t *generations;    /**< key-set generation per issuer, as
                                         in the set verification used; NULL:
                                         all 0 (key sets that never change) */
} zt_tcache_tag_t;

/** Counters, as one snapshot. */
typedef struct {
    uint64_t hits;                  /**< includes memo_hits */
    uint64_t memo_hits;             /**< answered by a memo, no lock taken */
    uint64_t misses;                /**< includes expired and stale */
    uint64_t expired;               /**< found, but past its expiry */
    uint64_t stale;                 /**< found, but the key set changed */
    uint64_t inserts;
    uint64_t evictions;             /**< pushed out by the entry or byte bound */
    uint64_t refused;               /**< put, but not stored (too large,
                                         expired, issuer outside the tag) */
    apr_size_t entries;
    apr_size_t bytes;
    apr_size_t max_entries;
    apr_size_t max_bytes;
    int shards;
} zt_tcache_stats_t;

/**
 * A cache of at most @a max_entries tokens and about @a max_bytes bytes
 * (0: the defaults), whose entries live at most @a max_ttl seconds (0:
 * ZT_TCACHE_TTL_DEFAULT).  It is emptied and freed with @a pool.
 */
apr_status_t zt_tcache_create(zt_tcache_t **c, apr_pool_t *pool,
                              apr_size_t max_entries, apr_size_t max_bytes,
                              uint32_t max_ttl);

/**
 * Look up @a token (@a len bytes, exactly as verified) in @a tag at @a now.
 * On a hit, 1: *out is the verified token as zt_token_verify gave it
 * (header, claims, sub, alg, kid, exp; issuer points into tag->issuers),
 * valid until @a pool is cleared.  0 on a miss, *out zeroed.
 */
int zt_tcache_get(zt_tcache_t *c, const char *token, apr_size_t len,
                  const zt_tcache_tag_t *tag, int64_t now, apr_pool_t *pool,
                  zt_token_t *out);

/**
 * zt_tcache_get, asking @a memo first: when it holds the entry for these
 * very bytes in @a tag, verified under the issuer's current generation,
 * and @a now is inside its window, that is the hit, without the shard's
 * lock, the hash or the LRU (an entry evicted meanwhile still says what
 * it said: nothing in it changes).  Otherwise @a memo lets go of what it
 * held, and holds what zt_tcache_get then finds, if anything.
 */
int zt_tcache_get_memo(zt_tcache_t *c, zt_tcache_memo_t *memo,
                       const char *token, apr_size_t len,
                       const zt_tcache_tag_t *tag, int64_t now,
                       apr_pool_t *pool, zt_token_t *out);

/** Drop @a memo's reference, if it holds one; it is then empty. */
void zt_tcache_memo_clear(zt_tcache_memo_t *memo);

/**
 * Store @a tok, which zt_token_verify returned ZT_TOK_OK for, for @a token
 * in @a tag (tok->issuer must point into tag->issuers) at @a now.  An entry
 * for the same token and table is replaced.  Returns 1 if stored.
 */
int zt_tcache_put(zt_tcache_t *c, const char *token, apr_size_t len,
                  const zt_tcache_tag_t *tag, int64_t now,
                  const zt_token_t *tok);

/** Drop every entry. */
void zt_tcache_clear(zt_tcache_t *c);

/** Counters and sizes, summed over the shards. */
void zt_tcache_stats(zt_tcache_t *c, zt_tcache_stats_t *st);

#endif /* ZT_TCACHE_H */
