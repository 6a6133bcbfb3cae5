/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The DPoP proof-key cache (zt_pkcache.h for what it keeps and why).
 *
 * One lock, not shards as in zt_tcache.c: a lookup holds it for a hash
 * compare, one memcmp of a header (a few hundred bytes) and an LRU move,
 * about 0.1 us, in front of a signature check of 100 us and more; even 64
 * threads checking proofs at once would wait on it for a few percent of
 * their time.
 *
 * An entry is one malloc'd block: the links, the key's members, the
 * thumbprint and the header bytes, plus one reference on the EVP_PKEY.
 * Nothing in it changes after the put.  A hit copies the members out
 * and takes a reference on the EVP_PKEY under the lock (while the entry
 * is linked, its own reference keeps the key alive); an evicted entry
 * drops its reference outside the lock, and the key is freed by whoever
 * drops the last one.
 */

#include <string.h>

#include <apr_thread_mutex.h>
#include <openssl/rand.h>

#include "zt_hash.h"
#include "zt_lru.h"
#include "zt_pkcache.h"

#define ZT_PKC_MALLOC_HDR   16      /* bytes glibc spends per block */

typedef struct zt_pkc_entry_s zt_pkc_entry_t;

struct zt_pkc_entry_s {
    zt_pkc_entry_t *chain;          /* next in the bucket */
    zt_lru_link_t lru;              /* in the cache's recency list */
    uint64_t hash;
    apr_size_t bytes;               /* charged to the cache */
    zt_jwk_t key;                   /* kty, crv: literals; pkey: our ref */
    char jkt[ZT_THUMB_SIZE];
    apr_size_t len;
    char hdr[];                     /* len bytes */
};

struct zt_pkcache_s {
    apr_thread_mutex_t *lock;
    zt_pkc_entry_t **buckets;       /* mask + 1 chains */
    apr_size_t mask;
    zt_lru_t lru;                   /* of the entries */
    apr_size_t entries, bytes;
    apr_size_t max_entries, max_bytes;
    uint64_t seed[2];
    uint64_t hits, misses, inserts, evictions, refused;
};

/*
** What an OpenSSL public key holds in memory, measured with mallinfo2
** over 1000 imports (OpenSSL 3.0, x86-64): P-256 2127 bytes (its own
** copy of the group), Ed25519 414.  RSA: the modulus in the key and in
** its Montgomery context, and some.  An estimate, so that the byte bound
** means about what it says.
*/
static apr_size_t zt_pkc_key_bytes(const zt_jwk_t *k)
{
    if (strcmp(k->kty, "EC") == 0) {
        return 2048 + (apr_size_t)k->bits;
    }
    if (strcmp(k->kty, "RSA") == 0) {
        return 1024 + (apr_size_t)k->bits / 2;
    }
    return 512;
}

/* Drop an unlinked chain of entries and their references on the keys. */
static void zt_pkc_free(zt_pkc_entry_t *e)
{
    while (e != NULL) {
        zt_pkc_entry_t *next = e->chain;

        EVP_PKEY_free(e->key.pkey);
        free(e);
        e = next;
    }
}

/* Take @a e out of its bucket and the LRU list onto *dead. */
static void zt_pkc_unlink(zt_pkcache_t *c, zt_pkc_entry_t *e,
                          zt_pkc_entry_t **dead)
{
    zt_pkc_entry_t **pp = &c->buckets[e->hash & c->mask];

    while (*pp != e) {
        pp = &(*pp)->chain;
    }
    *pp = e->chain;
    zt_lru_detach(&c->lru, &e->lru);
    c->entries--;
    c->bytes -= e->bytes;
    e->chain = *dead;
    *dead = e;
}

static zt_pkc_entry_t *zt_pkc_find(zt_pkcache_t *c, uint64_t h,
                                   const char *hdr, apr_size_t len)
{
    zt_pkc_entry_t *e;

    for (e = c->buckets[h & c->mask]; e != NULL; e = e->chain) {
        if (e->hash == h && e->len == len && memcmp(e->hdr, hdr, len) == 0) {
            return e;
        }
    }
    return NULL;
}

static apr_status_t zt_pkc_cleanup(void *data)
{
    zt_pkcache_clear(data);
    return APR_SUCCESS;
}

/* A hit's reference on the key, held by the caller's pool. */
static apr_status_t zt_pkc_unref(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

apr_status_t zt_pkcache_create(zt_pkcache_t **cp, apr_pool_t *pool,
                               apr_size_t max_entries, apr_size_t max_bytes)
{
    zt_pkcache_t *c;
    apr_size_t nb;
    apr_status_t rv;

    *cp = NULL;
    c = apr_pcalloc(pool, sizeof(*c));
    c->max_entries = max_entries ? max_entries : ZT_PKCACHE_ENTRIES_DEFAULT;
    c->max_bytes = max_bytes ? max_bytes : ZT_PKCACHE_BYTES_DEFAULT;
    if (RAND_bytes((unsigned char *)c->seed, sizeof(c->seed)) != 1) {
        return APR_EGENERAL;
    }
    for (nb = 16; nb < c->max_entries && nb < ((apr_size_t)1 << 30); nb *= 2) {
    }
    c->buckets = apr_pcalloc(pool, nb * sizeof(zt_pkc_entry_t *));
    c->mask = nb - 1;
    rv = apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* Registered after the mutex, so it runs before it is destroyed. */
    apr_pool_cleanup_register(pool, c, zt_pkc_cleanup, apr_pool_cleanup_null);
    *cp = c;
    return APR_SUCCESS;
}

int zt_pkcache_get(zt_pkcache_t *c, const char *hdr, apr_size_t len,
                   apr_pool_t *pool, zt_jwk_t *key, char jkt[ZT_THUMB_SIZE])
{
    uint64_t h;
    zt_pkc_entry_t *e;

    if (c == NULL || hdr == NULL) {
        return 0;
    }
    h = zt_hash64(c->seed, (const unsigned char *)hdr, len);
    apr_thread_mutex_lock(c->lock);
    if ((e = zt_pkc_find(c, h, hdr, len)) == NULL) {
        c->misses++;
        apr_thread_mutex_unlock(c->lock);
        return 0;
    }
    /* Linked, so the entry's own reference keeps the key alive here. */
    if (EVP_PKEY_up_ref(e->key.pkey) != 1) {
        c->misses++;
        apr_thread_mutex_unlock(c->lock);
        return 0;
    }
    c->hits++;
    zt_lru_touch(&c->lru, &e->lru);
    *key = e->key;
    memcpy(jkt, e->jkt, ZT_THUMB_SIZE);
    apr_thread_mutex_unlock(c->lock);
    apr_pool_cleanup_register(pool, key->pkey, zt_pkc_unref,
                              apr_pool_cleanup_null);
    return 1;
}

int zt_pkcache_put(zt_pkcache_t *c, const char *hdr, apr_size_t len,
                   const zt_jwk_t *key, const char *jkt)
{
    uint64_t h;
    zt_pkc_entry_t *e, *old, *dead = NULL;
    apr_size_t bytes;

    if (c == NULL || hdr == NULL || key == NULL || key->pkey == NULL
        || key->kty == NULL || jkt == NULL
        || strlen(jkt) != ZT_THUMB_SIZE - 1) {
        return 0;
    }
    h = zt_hash64(c->seed, (const unsigned char *)hdr, len);
    bytes = sizeof(*e) + len + ZT_PKC_MALLOC_HDR + zt_pkc_key_bytes(key);
    /* One header larger than a quarter of the budget would push out many
     * keys that are in use; such a proof is checked in full every time. */
    e = bytes <= c->max_bytes / 4 ? malloc(sizeof(*e) + len) : NULL;
    if (e == NULL || EVP_PKEY_up_ref(key->pkey) != 1) {
        free(e);
        apr_thread_mutex_lock(c->lock);
        c->refused++;
        apr_thread_mutex_unlock(c->lock);
        return 0;
    }
    memset(e, 0, sizeof(*e));
    e->hash = h;
    e->bytes = bytes;
    /* The members that verify; the descriptive ones live in the caller's
     * pool, and nothing here needs them. */
    e->key.kty = key->kty;
    e->key.crv = key->crv;
    e->key.bits = key->bits;
    e->key.algs = key->algs;
    e->key.pkey = key->pkey;        /* with the reference taken above */
    memcpy(e->jkt, jkt, ZT_THUMB_SIZE);
    e->len = len;
    memcpy(e->hdr, hdr, len);

    apr_thread_mutex_lock(c->lock);
    if ((old = zt_pkc_find(c, h, hdr, len)) != NULL) {
        zt_pkc_unlink(c, old, &dead);
    }
    e->chain = c->buckets[h & c->mask];
    c->buckets[h & c->mask] = e;
    zt_lru_push_front(&c->lru, &e->lru);
    c->entries++;
    c->bytes += e->bytes;
    c->inserts++;
    while (c->entries > c->max_entries || c->bytes > c->max_bytes) {
        zt_pkc_unlink(c, ZT_LRU_ENTRY(c->lru.tail, zt_pkc_entry_t, lru),
                      &dead);
        c->evictions++;
    }
    apr_thread_mutex_unlock(c->lock);
    zt_pkc_free(dead);
    return 1;
}

void zt_pkcache_clear(zt_pkcache_t *c)
{
    zt_pkc_entry_t *dead = NULL;

    if (c == NULL) {
        return;
    }
    apr_thread_mutex_lock(c->lock);
    while (c->lru.head != NULL) {
        zt_pkc_unlink(c, ZT_LRU_ENTRY(c->lru.head, zt_pkc_entry_t, lru), &dead);
    }
    apr_thread_mutex_unlock(c->lock);
    zt_pkc_free(dead);
}

void zt_pkcache_stats(zt_pkcache_t *c, zt_pkcache_stats_t *st)
{
    memset(st, 0, sizeof(*st));
    if (c == NULL) {
        return;
    }
    apr_thread_mutex_lock(c->lock);
    st->hits = c->hits;
    st->misses = c->misses;
    st->inserts = c->inserts;
    st->evictions = c->evictions;
    st->refused = c->refused;
    st->entries = c->entries;
    st->bytes = c->bytes;
    st->max_entries = c->max_entries;
    st->max_bytes = c->max_bytes;
    apr_thread_mutex_unlock(c->lock);
}
