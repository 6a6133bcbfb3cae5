/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The verified-token cache.
 *
 * Why not SHA-256 of the token as the key: measured on the project's
 * machine (2 vCPU Xeon with SHA-NI, OpenSSL 3), SHA-256 of a token costs
 * about 0.9 us at 300 bytes, 1.1 us at 800 and 1.5 us at 1500: the whole
 * hit budget (1 us) and more.  A keyed 64-bit multiply-mix hash costs
 * 30 / 100 / 200 ns for the same sizes, and the full memcmp that confirms
 * a match 10 / 16 / 25 ns.  So the hash only picks a shard and a bucket;
 * an entry matches when its stored token bytes equal the request's, all
 * of them.  A collision, crafted or not, can only cost a longer chain,
 * never a wrong hit, and the per-process random seed keeps chains short
 * against an attacker who cannot read memory.
 *
 * The hash reads only the token's length and its last 64 bytes: the end
 * of the signature, which differs between any two tokens and which no
 * one but the signer chooses.  Chains hold stored entries only, which
 * are verified tokens, so a client cannot fill a bucket with tails of
 * its choosing; a JWT's first few hundred bytes (header, issuer, the
 * same claims) are much alike between tokens, and hashing them bought
 * nothing for 270 of the ~800 instructions of a hit.
 *
 * Layout: 1 to 16 shards (each with at least 64 entries of budget), each
 * with its own mutex, bucket array, LRU list and share of the bounds.  A
 * hit takes one lock, compares, moves the entry to the front and takes a
 * reference on the entry; entries are freed outside the locks.  Measured
 * with 8 threads on this 2-core machine (test_tcache "fits"), one lock
 * and 16 shards both cost 230 to 480 ns per get: no difference beyond the
 * noise with only two cores to contend; the shards stay for machines with
 * more cores, where one lock would serialise every hit, and cost nothing
 * to a single thread.
 *
 * Sharing between threads: an entry is one malloc'd block holding the
 * token, the kid and flat copies of the header and claims documents
 * (zt_jdoc.h: position-independent, so a memcpy is the copy) and of the
 * claims' view for the table in the tag (zt_eval_view: positions, not
 * addresses, so it holds for the copy; the tag's table hash makes it the
 * right table's).  Nothing in
 * it changes after the put; a hit takes a reference on the entry (an
 * atomic count) and hands out pointers into it, and the block is freed
 * by whoever drops the last reference, after every reader has dropped
 * its own.
 *
 * Bytes: an entry costs its block plus a malloc header, exactly.
 */

#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/rand.h>

#include "zt_alg.h"
#include "zt_arec.h"
#include "zt_hash.h"
#include "zt_jdoc.h"
#include "zt_jescape.h"
#include "zt_lru.h"
#include "zt_tcache.h"

#ifndef ZT_TCACHE_MAX_SHARDS
#define ZT_TCACHE_MAX_SHARDS   16
#endif
#define ZT_TCACHE_SHARD_MIN    64          /* entries a shard holds at least */
#define ZT_TCACHE_MALLOC_HDR   16          /* bytes glibc spends per block */

typedef struct zt_tc_entry_s zt_tc_entry_t;

struct zt_tc_entry_s {
    zt_tc_entry_t *chain;                   /* next in the bucket */
    zt_lru_link_t lru;                      /* in the shard's recency list */
    uint64_t hash;
    int64_t expires;
    int64_t exp;
    int64_t valid_from;                     /* zt_token_t's */
    uint64_t gen;
    uint32_t refs;                          /* the cache's + each hit's
                                               + a memo's */
    uint32_t issuer;
    const char *alg;                        /* zt_alg_name's, static */
    apr_size_t bytes;                       /* charged to the shard */
    const zt_jdoc_t *header;                /* in data[], the entry's own */
    const zt_jdoc_t *claims;
    const uint32_t *view;                   /* the claims' view, or NULL */
    uint32_t nview;
    const char *sub;                        /* inside claims, or NULL */
    const char *azp;                        /* inside claims, or NULL */
    zt_token_ids_t ids;                     /* sub and azp, measured */
    const char *kid;                        /* after the token, or NULL */
    const char *token;                      /* in data[] */
    unsigned char table[ZT_HASH_LEN];
    apr_size_t len;
    uint64_t data[];                        /* header, claims, view (each
                                               8-aligned), len bytes of
                                               token, the kid, the audit's
                                               fields (ids.fields) */
};

typedef struct {
    apr_thread_mutex_t *lock;
    zt_tc_entry_t **buckets;                /* nbuckets chains */
    apr_size_t mask;                        /* nbuckets - 1 */
    zt_lru_t lru;                           /* of the entries */
    apr_size_t entries, bytes;
    apr_size_t max_entries, max_bytes;
    uint64_t hits, misses, expired, stale, inserts, evictions, refused;
    char pad[64];                           /* keep shards off one cache line */
} zt_tc_shard_t;

struct zt_tcache_s {
    zt_tc_shard_t *shards;
    int nshards;                            /* a power of two */
    uint64_t memo_hits;                     /* atomic: no shard's lock */
    uint32_t max_ttl;
    uint64_t seed[2];
    apr_size_t max_entries, max_bytes;
};

/* ------------------------------------------------------------------ */
/* Entry sizes                                                         */

#define ZT_TC_BLOCK(n) ((apr_size_t)(n) + ZT_TCACHE_MALLOC_HDR)
#define ZT_TC_ALIGN8(n) (((apr_size_t)(n) + 7) & ~(apr_size_t)7)

/* ------------------------------------------------------------------ */
/* Entries and shards (callers hold the shard's lock)                  */

/* Drop one reference; the last one frees the entry and its documents. */
static void zt_tc_release(zt_tc_entry_t *e)
{
    if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(e);
    }
}

/* The cache's references to a chain of unlinked entries. */
static void zt_tc_free(zt_tc_entry_t *e)
{
    while (e != NULL) {
        zt_tc_entry_t *next = e->chain;

        zt_tc_release(e);
        e = next;
    }
}

/* Take @a e out of its bucket and the LRU list; the caller frees it. */
static void zt_tc_unlink(zt_tc_shard_t *s, zt_tc_entry_t *e)
{
    zt_tc_entry_t **pp = &s->buckets[e->hash & s->mask];

    while (*pp != e) {
        pp = &(*pp)->chain;
    }
    *pp = e->chain;
    zt_lru_detach(&s->lru, &e->lru);
    s->entries--;
    s->bytes -= e->bytes;
    e->chain = NULL;
}

static zt_tc_entry_t *zt_tc_find(zt_tc_shard_t *s, uint64_t h,
                                 const char *token, apr_size_t len,
                                 const unsigned char *table)
{
    zt_tc_entry_t *e;

    for (e = s->buckets[h & s->mask]; e != NULL; e = e->chain) {
        if (e->hash == h && e->len == len
            && memcmp(e->token, token, len) == 0
            && memcmp(e->table, table, ZT_HASH_LEN) == 0) {
            return e;
        }
    }
    return NULL;
}

static zt_tc_shard_t *zt_tc_shard(zt_tcache_t *c, uint64_t h)
{
    /* High bits for the shard, low bits for the bucket. */
    return &c->shards[(h >> 56) & (uint64_t)(c->nshards - 1)];
}

static apr_status_t zt_tc_cleanup(void *data)
{
    zt_tcache_clear(data);
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* API                                                                 */

apr_status_t zt_tcache_create(zt_tcache_t **cp, apr_pool_t *pool,
                              apr_size_t max_entries, apr_size_t max_bytes,
                              uint32_t max_ttl)
{
    zt_tcache_t *c;
    apr_size_t per, nb;
    apr_status_t rv;

    *cp = NULL;
    c = apr_pcalloc(pool, sizeof(*c));
    c->max_entries = max_entries ? max_entries : ZT_TCACHE_ENTRIES_DEFAULT;
    c->max_bytes = max_bytes ? max_bytes : ZT_TCACHE_BYTES_DEFAULT;
    c->max_ttl = max_ttl ? max_ttl : ZT_TCACHE_TTL_DEFAULT;
    for (c->nshards = ZT_TCACHE_MAX_SHARDS;
         c->nshards > 1
         && c->max_entries / (apr_size_t)c->nshards < ZT_TCACHE_SHARD_MIN;
         c->nshards /= 2) {
    }
    if (RAND_bytes((unsigned char *)c->seed, sizeof(c->seed)) != 1) {
        return APR_EGENERAL;
    }
    per = (c->max_entries + (apr_size_t)c->nshards - 1) / (apr_size_t)c->nshards;
    for (nb = 16; nb < per && nb < ((apr_size_t)1 << 30); nb *= 2) {
    }
    c->shards = apr_pcalloc(pool, sizeof(zt_tc_shard_t) * (apr_size_t)c->nshards);
    for (int i = 0; i < c->nshards; i++) {
        zt_tc_shard_t *s = &c->shards[i];

        rv = apr_thread_mutex_create(&s->lock, APR_THREAD_MUTEX_DEFAULT, pool);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        s->buckets = apr_pcalloc(pool, nb * sizeof(zt_tc_entry_t *));
        s->mask = nb - 1;
        s->max_entries = per;
        s->max_bytes = c->max_bytes / (apr_size_t)c->nshards;
    }
    /* Registered after the mutexes, so it runs before they are destroyed. */
    apr_pool_cleanup_register(pool, c, zt_tc_cleanup, apr_pool_cleanup_null);
    *cp = c;
    return APR_SUCCESS;
}

#define ZT_TC_HASHED_TAIL 64

/* The bucket hash of @a len token bytes (above: the length and the tail). */
static uint64_t zt_tc_hash(const zt_tcache_t *c, const char *token,
                           apr_size_t len)
{
    apr_size_t n = len < ZT_TC_HASHED_TAIL ? len : ZT_TC_HASHED_TAIL;

    return zt_hash64(c->seed, (const unsigned char *)token + len - n, n)
           ^ (uint64_t)len * UINT64_C(0x9e3779b97f4a7c15);
}

/* A hit's reference, held by the caller's pool. */
static apr_status_t zt_tc_unref(void *data)
{
    zt_tc_release(data);
    return APR_SUCCESS;
}

/* Hand out @a e, on which the caller holds a reference for @a pool. */
static void zt_tc_hand_out(zt_tc_entry_t *e, const zt_tcache_tag_t *tag,
                           apr_pool_t *pool, zt_token_t *out)
{
    /* Read outside the lock: these members never change after the put. */
    out->header = e->header;
    out->claims = e->claims;
    out->claim_view = e->view;
    out->nview = e->nview;
    out->issuer = &tag->issuers[e->issuer];
    out->sub = e->sub;
    out->azp = e->azp;
    out->alg = e->alg;
    out->kid = e->kid;
    out->exp = e->exp;
    out->valid_from = e->valid_from;
    out->ids = &e->ids;
    apr_pool_cleanup_register(pool, e, zt_tc_unref, apr_pool_cleanup_null);
}

/* Whether entry @a e answers for @a tag at @a now: the one rule of a hit,
 * which the shard lookup and a connection's memo both apply. */
typedef enum {
    ZT_TC_CURRENT,
    ZT_TC_EXPIRED,
    ZT_TC_EARLY,        /* began after the put, or the clock went back */
    ZT_TC_STALE,        /* verified under a key set since replaced */
    ZT_TC_ABSENT
} zt_tc_state_e;

static zt_tc_state_e zt_tc_state(const zt_tc_entry_t *e,
                                 const zt_tcache_tag_t *tag, int64_t now)
{
    if (now >= e->expires) {
        return ZT_TC_EXPIRED;
    }
    if (now < e->valid_from) {
        return ZT_TC_EARLY;
    }
    if (e->issuer >= tag->nissuers
        || (tag->generations ? tag->generations[e->issuer] : 0) != e->gen) {
        return ZT_TC_STALE;
    }
    return ZT_TC_CURRENT;
}

/* The entry for @a token in @a tag at @a now, with a reference taken for
 * the caller, or NULL. */
static zt_tc_entry_t *zt_tc_lookup(zt_tcache_t *c, const char *token,
                                   apr_size_t len, const zt_tcache_tag_t *tag,
                                   int64_t now)
{
    uint64_t h;
    zt_tc_shard_t *s;
    zt_tc_entry_t *e, *dead = NULL;
    zt_tc_state_e st;

    h = zt_tc_hash(c, token, len);
    s = zt_tc_shard(c, h);
    apr_thread_mutex_lock(s->lock);
    e = zt_tc_find(s, h, token, len, tag->table);
    st = e == NULL ? ZT_TC_ABSENT : zt_tc_state(e, tag, now);
    if (st == ZT_TC_CURRENT) {
        s->hits++;
        zt_lru_touch(&s->lru, &e->lru);
        /* Linked, so the cache's reference keeps it alive meanwhile. */
        __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
    }
    else {
        s->misses++;
        if (st == ZT_TC_EXPIRED || st == ZT_TC_STALE) {
            /* Never current again; an early one may serve a later
             * request, and verification will say why not this one. */
            s->expired += st == ZT_TC_EXPIRED;
            s->stale += st == ZT_TC_STALE;
            zt_tc_unlink(s, e);
            dead = e;
        }
        e = NULL;
    }
    apr_thread_mutex_unlock(s->lock);
    zt_tc_free(dead);
    return e;
}

int zt_tcache_get(zt_tcache_t *c, const char *token, apr_size_t len,
                  const zt_tcache_tag_t *tag, int64_t now, apr_pool_t *pool,
                  zt_token_t *out)
{
    zt_tc_entry_t *e;

    memset(out, 0, sizeof(*out));
    if (c == NULL || token == NULL || tag == NULL || tag->table == NULL
        || (e = zt_tc_lookup(c, token, len, tag, now)) == NULL) {
        return 0;
    }
    zt_tc_hand_out(e, tag, pool, out);
    return 1;
}

/*
** What zt_tc_lookup would answer for @a e, held by a memo, without the
** shard: the same bytes in the same table, verified under the issuer's
** current key set, inside the window.  Whether @a e is still linked does
** not matter: nothing in it changes, and what it says stays true.
*/
static int zt_tc_memo_fits(const zt_tc_entry_t *e, const char *token,
                           apr_size_t len, const zt_tcache_tag_t *tag,
                           int64_t now)
{
    return e->len == len && zt_tc_state(e, tag, now) == ZT_TC_CURRENT
           && memcmp(e->table, tag->table, ZT_HASH_LEN) == 0
           && memcmp(e->token, token, len) == 0;
}

int zt_tcache_get_memo(zt_tcache_t *c, zt_tcache_memo_t *memo,
                       const char *token, apr_size_t len,
                       const zt_tcache_tag_t *tag, int64_t now,
                       apr_pool_t *pool, zt_token_t *out)
{
    zt_tc_entry_t *e = memo->entry;

    memset(out, 0, sizeof(*out));
    if (c == NULL || token == NULL || tag == NULL || tag->table == NULL) {
        return 0;
    }
    if (e != NULL && zt_tc_memo_fits(e, token, len, tag, now)) {
        /* The memo's reference keeps it alive while the caller's is
         * taken. */
        __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&c->memo_hits, 1, __ATOMIC_RELAXED);
        zt_tc_hand_out(e, tag, pool, out);
        return 1;
    }
    zt_tcache_memo_clear(memo);
    if ((e = zt_tc_lookup(c, token, len, tag, now)) == NULL) {
        return 0;
    }
    /* One reference for the caller's pool, one for the memo. */
    __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
    memo->entry = e;
    zt_tc_hand_out(e, tag, pool, out);
    return 1;
}

void zt_tcache_memo_clear(zt_tcache_memo_t *memo)
{
    if (memo->entry != NULL) {
        zt_tc_release(memo->entry);
        memo->entry = NULL;
    }
    memo->note = 0;
}

/* A string the audit writes: its length in *n (0 when NULL), and 1 when
 * it needs no JSON escape (NULL needs none). */
static int zt_tc_plain(const char *s, size_t *n)
{
    *n = s != NULL ? strlen(s) : 0;
    return *n <= UINT32_MAX / 4 && zt_json_plain_strings(s, *n);
}

/* A token's sub and azp and its issuer's "iss", as the audit writes them,
 * measured once per put: their lengths, and whether each is plain. */
typedef struct {
    const char *sub, *azp, *iss;    /* iss: NULL without an issuer */
    size_t sub_n, azp_n, iss_n;
    int sub_plain, azp_plain, iss_plain;
} zt_tc_ids_len_t;

static void zt_tc_measure(zt_tc_ids_len_t *m, const zt_token_t *tok)
{
    m->sub = tok->sub;          /* zt_token_verify's, from the claims */
    m->azp = tok->azp;
    m->iss = tok->issuer != NULL ? tok->issuer->iss : NULL;
    m->iss_n = 0;
    m->sub_plain = zt_tc_plain(m->sub, &m->sub_n);
    m->azp_plain = zt_tc_plain(m->azp, &m->azp_n);
    m->iss_plain = m->iss != NULL && zt_tc_plain(m->iss, &m->iss_n);
}

/* Bytes of the audit's sub, iss and azp fields (zt_arec_ids), or 0 when
 * one of them needs an escape or there is no issuer. */
static apr_size_t zt_tc_fields_len(const zt_tc_ids_len_t *m)
{
    if (!m->sub_plain || !m->azp_plain || !m->iss_plain) {
        return 0;
    }
    return ZT_AREC_IDS_LEN(m->sub, m->sub_n, m->iss, m->iss_n, m->azp,
                           m->azp_n);
}

/* What the audit writes of @a sub and @a azp (zt_token_ids_t: the entry's
 * copies of @a m's), once per token rather than per request; and the
 * three fields at @a fields (@a fields_len bytes, zt_tc_fields_len), when
 * it is not 0. */
static void zt_tc_ids(zt_token_ids_t *ids, const char *sub, const char *azp,
                      const zt_tc_ids_len_t *m, char *fields,
                      apr_size_t fields_len)
{
    if (sub != NULL) {
        ids->sub_len = (uint32_t)m->sub_n;
        ids->sub = m->sub_plain ? sub : NULL;
    }
    if (azp != NULL) {
        ids->azp_len = (uint32_t)m->azp_n;
        ids->azp = m->azp_plain ? azp : NULL;
    }
    if (fields_len != 0) {
        ids->iss = m->iss;
        ids->fields = fields;
        ids->fields_len = (uint32_t)(zt_arec_ids(fields, sub, m->sub_n, m->iss,
                                                 m->iss_n, azp, m->azp_n)
                                     - fields);
    }
}

int zt_tcache_put(zt_tcache_t *c, const char *token, apr_size_t len,
                  const zt_tcache_tag_t *tag, int64_t now,
                  const zt_token_t *tok)
{
    uint64_t h;
    zt_tc_shard_t *s;
    zt_tc_entry_t *e, *old, *dead = NULL;
    apr_size_t kidlen, hsize, csize, vsize, fsize, size, idx;
    zt_tc_ids_len_t m;
    int64_t expires;
    const char *alg;
    char *at;

    if (c == NULL || token == NULL || tag == NULL || tag->table == NULL
        || tok == NULL || tok->claims == NULL || tok->header == NULL) {
        return 0;
    }
    h = zt_tc_hash(c, token, len);
    s = zt_tc_shard(c, h);
    expires = now > INT64_MAX - c->max_ttl ? INT64_MAX : now + c->max_ttl;
    if (tok->exp < expires) {
        expires = tok->exp;
    }
    /* Which of the tag's issuers (== only: the pointer may be anyone's). */
    for (idx = 0; idx < tag->nissuers && tok->issuer != &tag->issuers[idx];
         idx++) {
    }
    kidlen = tok->kid != NULL ? strlen(tok->kid) + 1 : 0;
    /* The name as zt_alg.h spells it, a static string: no lookup per hit. */
    alg = tok->alg != NULL
          ? zt_alg_name(zt_alg_from_name(tok->alg, strlen(tok->alg))) : NULL;
    hsize = ZT_TC_ALIGN8(zt_jdoc_size(tok->header));
    csize = ZT_TC_ALIGN8(zt_jdoc_size(tok->claims));
    vsize = tok->claim_view != NULL ? ZT_TC_ALIGN8((apr_size_t)tok->nview * sizeof(uint32_t)) : 0;
    zt_tc_measure(&m, tok);
    fsize = zt_tc_fields_len(&m);
    size = sizeof(*e) + hsize + csize + vsize + len + kidlen + fsize;
    if (expires <= now || idx >= tag->nissuers
        || ZT_TC_BLOCK(size) > s->max_bytes / 4
        || alg == NULL || (e = malloc(size)) == NULL) {
        apr_thread_mutex_lock(s->lock);
        s->refused++;
        apr_thread_mutex_unlock(s->lock);
        return 0;
    }
    memset(e, 0, sizeof(*e));
    e->refs = 1;
    e->hash = h;
    e->expires = expires;
    e->exp = tok->exp;
    e->valid_from = tok->valid_from;
    e->issuer = (uint32_t)idx;
    e->gen = tag->generations ? tag->generations[idx] : 0;
    e->alg = alg;
    e->bytes = ZT_TC_BLOCK(size);
    at = (char *)e->data;
    memcpy(at, tok->header, zt_jdoc_size(tok->header));
    e->header = (const zt_jdoc_t *)at;
    memcpy(at + hsize, tok->claims, zt_jdoc_size(tok->claims));
    e->claims = (const zt_jdoc_t *)(at + hsize);
    at += hsize + csize;
    if (tok->claim_view != NULL) {
        memcpy(at, tok->claim_view, (apr_size_t)tok->nview * sizeof(uint32_t));
        e->view = (const uint32_t *)(const void *)at;
        e->nview = tok->nview;
        at += vsize;
    }
    /* "sub" as a pointer into the claims this entry keeps alive. */
    e->sub = zt_jdoc_get_str(e->claims, "sub");
    e->azp = zt_jdoc_get_str(e->claims, "azp");
    zt_tc_ids(&e->ids, e->sub, e->azp, &m,
              (char *)e->data + hsize + csize + vsize + len + kidlen, fsize);
    memcpy(e->table, tag->table, ZT_HASH_LEN);
    e->len = len;
    memcpy(at, token, len);
    e->token = at;
    if (tok->kid != NULL) {
        memcpy(at + len, tok->kid, kidlen);
        e->kid = at + len;
    }

    apr_thread_mutex_lock(s->lock);
    if ((old = zt_tc_find(s, h, token, len, tag->table)) != NULL) {
        zt_tc_unlink(s, old);
        old->chain = dead;
        dead = old;
    }
    e->chain = s->buckets[h & s->mask];
    s->buckets[h & s->mask] = e;
    zt_lru_push_front(&s->lru, &e->lru);
    s->entries++;
    s->bytes += e->bytes;
    s->inserts++;
    while (s->entries > s->max_entries || s->bytes > s->max_bytes) {
        zt_tc_entry_t *lru = ZT_LRU_ENTRY(s->lru.tail, zt_tc_entry_t, lru);

        zt_tc_unlink(s, lru);
        lru->chain = dead;
        dead = lru;
        s->evictions++;
    }
    apr_thread_mutex_unlock(s->lock);
    zt_tc_free(dead);
    return 1;
}

void zt_tcache_clear(zt_tcache_t *c)
{
    for (int i = 0; c != NULL && i < c->nshards; i++) {
        zt_tc_shard_t *s = &c->shards[i];
        zt_tc_entry_t *dead = NULL, *e;

        apr_thread_mutex_lock(s->lock);
        while (s->lru.head != NULL) {
            e = ZT_LRU_ENTRY(s->lru.head, zt_tc_entry_t, lru);
            zt_tc_unlink(s, e);
            e->chain = dead;
            dead = e;
        }
        apr_thread_mutex_unlock(s->lock);
        zt_tc_free(dead);
    }
}

void zt_tcache_stats(zt_tcache_t *c, zt_tcache_stats_t *st)
{
    memset(st, 0, sizeof(*st));
    if (c == NULL) {
        return;
    }
    st->memo_hits = __atomic_load_n(&c->memo_hits, __ATOMIC_RELAXED);
    st->hits = st->memo_hits;
    st->max_entries = c->max_entries;
    st->max_bytes = c->max_bytes;
    st->shards = c->nshards;
    for (int i = 0; i < c->nshards; i++) {
        zt_tc_shard_t *s = &c->shards[i];

        apr_thread_mutex_lock(s->lock);
        st->hits += s->hits;
        st->misses += s->misses;
        st->expired += s->expired;
        st->stale += s->stale;
        st->inserts += s->inserts;
        st->evictions += s->evictions;
        st->refused += s->refused;
        st->entries += s->entries;
        st->bytes += s->bytes;
        apr_thread_mutex_unlock(s->lock);
    }
}
