/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The DPoP proof-key cache (zt_pkcache): hits and misses on the header's
 * exact bytes, eviction by entries (least recently used first) and by
 * bytes, a hit's key outliving its entry, and threads sharing one cache.
 * How zt_dpop_verify uses it (what is kept, and that a cached key still
 * has to sign) is tested in test_dpop.c.
 *
 * Keys are real: Ed25519 keys made at start, imported with
 * zt_jwk_from_json as a proof's key is.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <openssl/evp.h>

#include "zt_test.h"
#include "zt_b64.h"
#include "zt_dpop.h"
#include "zt_jdoc.h"
#include "zt_jwk.h"
#include "zt_pkcache.h"

#define NKEYS 16

ZT_TEST_POOL_FIXTURE

static EVP_PKEY *g_pkey[NKEYS];

/* Key @a i as a proof would carry it: its header text (any bytes will do:
 * the cache never decodes them), its imported key and thumbprint. */
typedef struct {
    const char *hdr;
    zt_jwk_t key;
    char jkt[ZT_THUMB_SIZE];
} zt_pk_fixture_t;

static void fixture(int i, zt_pk_fixture_t *f)
{
    unsigned char raw[32];
    size_t n = sizeof(raw);
    char *text;
    zt_jdoc_t *j;
    const char *err;

    ck_assert_int_eq(EVP_PKEY_get_raw_public_key(g_pkey[i], raw, &n), 1);
    text = apr_psprintf(pool, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}",
                        zt_b64url_encode_pool(pool, raw, n));
    f->hdr = zt_b64url_encode_pool(pool, (const unsigned char *)text,
                                   strlen(text));
    j = zt_jdoc_parse(text, strlen(text), 4096, pool, &err);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(zt_jwk_from_jnode(&f->key, &j->node[0], pool, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(zt_dpop_jwk_thumb(&j->node[0], pool, f->jkt), 1);
}

static void keys_make(void)
{
    for (int i = 0; i < NKEYS; i++) {
        g_pkey[i] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        if (g_pkey[i] == NULL) {
            fprintf(stderr, "cannot make an Ed25519 key\n");
            exit(EXIT_FAILURE);
        }
    }
}

static void keys_free(void)
{
    for (int i = 0; i < NKEYS; i++) {
        EVP_PKEY_free(g_pkey[i]);
    }
}

static int get(zt_pkcache_t *c, const char *hdr, apr_size_t len,
               zt_jwk_t *out, char jkt[ZT_THUMB_SIZE])
{
    return zt_pkcache_get(c, hdr, len, pool, out, jkt);
}

/* ------------------------------------------------------------------ */

START_TEST(hit_and_miss)
{
    zt_pkcache_t *c;
    zt_pk_fixture_t a, b;
    zt_pkcache_stats_t st;
    zt_jwk_t out;
    char jkt[ZT_THUMB_SIZE];
    char *flip;
    size_t len;

    fixture(0, &a);
    fixture(1, &b);
    len = strlen(a.hdr);
    ck_assert_int_eq(zt_pkcache_create(&c, pool, 0, 0), APR_SUCCESS);
    ck_assert_int_eq(get(c, a.hdr, len, &out, jkt), 0);
    ck_assert_int_eq(zt_pkcache_put(c, a.hdr, len, &a.key, a.jkt), 1);

    memset(&out, 0xa5, sizeof(out));
    ck_assert_int_eq(get(c, a.hdr, len, &out, jkt), 1);
    ck_assert_int_eq(EVP_PKEY_eq(out.pkey, g_pkey[0]), 1);
    ck_assert_str_eq(jkt, a.jkt);
    ck_assert_str_eq(out.kty, "OKP");
    ck_assert_str_eq(out.crv, "Ed25519");
    ck_assert_uint_eq(out.algs, a.key.algs);
    ck_assert_int_eq(out.bits, 255);
    ck_assert_ptr_null(out.kid);
    ck_assert_ptr_null(out.alg);
    ck_assert_ptr_null(out.prep);

    /* The exact bytes, all of them: a prefix, one flipped byte, another
     * key's header are misses. */
    ck_assert_int_eq(get(c, a.hdr, len - 1, &out, jkt), 0);
    flip = apr_pstrdup(pool, a.hdr);
    flip[len / 2] ^= 1;
    ck_assert_int_eq(get(c, flip, len, &out, jkt), 0);
    ck_assert_int_eq(get(c, b.hdr, strlen(b.hdr), &out, jkt), 0);

    /* The same header again replaces its entry. */
    ck_assert_int_eq(zt_pkcache_put(c, a.hdr, len, &a.key, a.jkt), 1);
    zt_pkcache_stats(c, &st);
    ck_assert_uint_eq(st.entries, 1);
    ck_assert_uint_eq(st.hits, 1);
    ck_assert_uint_eq(st.misses, 4);
    ck_assert_uint_eq(st.inserts, 2);
    /* 0 and 0 are the defaults ZeroTrustDPoPKeyCache documents. */
    ck_assert_uint_eq(st.max_entries, ZT_PKCACHE_ENTRIES_DEFAULT);
    ck_assert_uint_eq(st.max_bytes, ZT_PKCACHE_BYTES_DEFAULT);

    /* What cannot be a proof's key is not kept. */
    ck_assert_int_eq(zt_pkcache_put(c, b.hdr, strlen(b.hdr), &b.key, "short"), 0);
    out = b.key;
    out.pkey = NULL;
    ck_assert_int_eq(zt_pkcache_put(c, b.hdr, strlen(b.hdr), &out, b.jkt), 0);
    ck_assert_int_eq(zt_pkcache_get(NULL, a.hdr, len, pool, &out, jkt), 0);
    ck_assert_int_eq(zt_pkcache_put(NULL, a.hdr, len, &a.key, a.jkt), 0);
}
END_TEST

/* A hit's key is the caller's until its pool is cleared, whatever the
 * cache does meanwhile (ASan would see a use after free). */
START_TEST(hit_outlives_entry)
{
    zt_pkcache_t *c;
    zt_pk_fixture_t a;
    zt_jwk_t out;
    char jkt[ZT_THUMB_SIZE];
    apr_pool_t *req, *keep;
    size_t n = 0;

    apr_pool_create(&keep, pool);
    apr_pool_create(&req, NULL);
    fixture(2, &a);
    ck_assert_int_eq(zt_pkcache_create(&c, keep, 0, 0), APR_SUCCESS);
    ck_assert_int_eq(zt_pkcache_put(c, a.hdr, strlen(a.hdr), &a.key, a.jkt), 1);
    ck_assert_int_eq(zt_pkcache_get(c, a.hdr, strlen(a.hdr), req, &out, jkt), 1);
    /* The cache goes, and the pool that made the key. */
    apr_pool_destroy(keep);
    apr_pool_clear(pool);
    ck_assert_int_eq(EVP_PKEY_eq(out.pkey, g_pkey[2]), 1);
    ck_assert_int_eq(EVP_PKEY_get_raw_public_key(out.pkey, NULL, &n), 1);
    ck_assert_uint_eq(n, 32);
    apr_pool_destroy(req);
}
END_TEST

START_TEST(eviction_by_entries)
{
    zt_pkcache_t *c;
    zt_pk_fixture_t f[5];
    zt_pkcache_stats_t st;
    zt_jwk_t out;
    char jkt[ZT_THUMB_SIZE];

    ck_assert_int_eq(zt_pkcache_create(&c, pool, 4, 0), APR_SUCCESS);
    for (int i = 0; i < 5; i++) {
        fixture(i, &f[i]);
    }
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(zt_pkcache_put(c, f[i].hdr, strlen(f[i].hdr),
                                        &f[i].key, f[i].jkt), 1);
    }
    /* Key 0 used again: key 1 is now the least recently used. */
    ck_assert_int_eq(get(c, f[0].hdr, strlen(f[0].hdr), &out, jkt), 1);
    ck_assert_int_eq(zt_pkcache_put(c, f[4].hdr, strlen(f[4].hdr),
                                    &f[4].key, f[4].jkt), 1);
    ck_assert_int_eq(get(c, f[1].hdr, strlen(f[1].hdr), &out, jkt), 0);
    for (int i = 0; i < 5; i++) {
        if (i != 1) {
            ck_assert_int_eq(get(c, f[i].hdr, strlen(f[i].hdr), &out, jkt), 1);
            ck_assert_int_eq(EVP_PKEY_eq(out.pkey, g_pkey[i]), 1);
            ck_assert_str_eq(jkt, f[i].jkt);
        }
    }
    zt_pkcache_stats(c, &st);
    ck_assert_uint_eq(st.entries, 4);
    ck_assert_uint_eq(st.evictions, 1);
    /* Entries alone (ZeroTrustDPoPKeyCache 4): 0 bytes is the default. */
    ck_assert_uint_eq(st.max_entries, 4);
    ck_assert_uint_eq(st.max_bytes, ZT_PKCACHE_BYTES_DEFAULT);
    zt_pkcache_clear(c);
    zt_pkcache_stats(c, &st);
    ck_assert_uint_eq(st.entries, 0);
    ck_assert_uint_eq(st.bytes, 0);
    ck_assert_int_eq(get(c, f[0].hdr, strlen(f[0].hdr), &out, jkt), 0);
}
END_TEST

START_TEST(eviction_by_bytes)
{
    zt_pkcache_t *c;
    zt_pk_fixture_t f;
    zt_pkcache_stats_t st;
    zt_jwk_t out;
    char jkt[ZT_THUMB_SIZE];
    char *big;
    apr_size_t one;

    fixture(3, &f);
    /* One entry's bytes, as charged. */
    ck_assert_int_eq(zt_pkcache_create(&c, pool, 0, 0), APR_SUCCESS);
    ck_assert_int_eq(zt_pkcache_put(c, f.hdr, strlen(f.hdr), &f.key, f.jkt), 1);
    zt_pkcache_stats(c, &st);
    one = st.bytes;
    ck_assert_uint_gt(one, 512 + strlen(f.hdr));

    /* Room for four such entries by bytes, a hundred by count: ten
     * headers of that length (the key's bytes stand for any) leave four. */
    ck_assert_int_eq(zt_pkcache_create(&c, pool, 100, 4 * one), APR_SUCCESS);
    for (int i = 0; i < 10; i++) {
        char *h = apr_pstrdup(pool, f.hdr);

        h[0] = (char)('A' + i);
        ck_assert_int_eq(zt_pkcache_put(c, h, strlen(h), &f.key, f.jkt), 1);
    }
    zt_pkcache_stats(c, &st);
    ck_assert_uint_eq(st.entries, 4);
    ck_assert_uint_le(st.bytes, 4 * one);
    ck_assert_uint_eq(st.evictions, 6);

    /* A header larger than a quarter of the budget is not kept. */
    big = apr_palloc(pool, one + 1);
    memset(big, 'h', one);
    big[one] = '\0';
    ck_assert_int_eq(zt_pkcache_put(c, big, one, &f.key, f.jkt), 0);
    ck_assert_int_eq(get(c, big, one, &out, jkt), 0);
    zt_pkcache_stats(c, &st);
    ck_assert_uint_eq(st.refused, 1);
    ck_assert_uint_eq(st.entries, 4);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Threads                                                             */

#define ZT_PK_THREADS 8

typedef struct {
    zt_pkcache_t *c;
    zt_pk_fixture_t *f;
    int iterations;
    int clearer;
    unsigned seed;
    unsigned long gets, hits, wrong;
} zt_pk_worker_t;

static void *APR_THREAD_FUNC zt_pk_worker(apr_thread_t *th, void *data)
{
    zt_pk_worker_t *w = data;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    for (int i = 0; i < w->iterations; i++) {
        int k = (int)(rand_r(&w->seed) % NKEYS);
        const zt_pk_fixture_t *f = &w->f[k];
        zt_jwk_t out;
        char jkt[ZT_THUMB_SIZE];

        if (w->clearer && i % 500 == 0) {
            zt_pkcache_clear(w->c);
        }
        w->gets++;
        if (zt_pkcache_get(w->c, f->hdr, strlen(f->hdr), p, &out, jkt)) {
            w->hits++;
            /* A hit must be this header's key, never another's. */
            if (EVP_PKEY_eq(out.pkey, g_pkey[k]) != 1
                || strcmp(jkt, f->jkt) != 0) {
                w->wrong++;
            }
        }
        else {
            zt_pkcache_put(w->c, f->hdr, strlen(f->hdr), &f->key, f->jkt);
        }
        if (i % 64 == 63) {
            apr_pool_clear(p);
        }
    }
    apr_pool_destroy(p);
    /* Returning, not apr_thread_exit: see test_tcache.c. */
    (void)th;
    return NULL;
}

/* Threads get and put on one cache of @a max_entries; hits are checked. */
static void zt_pk_hammer(apr_size_t max_entries, int clearer)
{
    zt_pkcache_t *c;
    zt_pk_fixture_t f[NKEYS];
    zt_pk_worker_t w[ZT_PK_THREADS];
    apr_thread_t *th[ZT_PK_THREADS];
    zt_pkcache_stats_t st;
    unsigned long gets = 0, hits = 0, wrong = 0;

    for (int i = 0; i < NKEYS; i++) {
        fixture(i, &f[i]);
    }
    ck_assert_int_eq(zt_pkcache_create(&c, pool, max_entries, 0), APR_SUCCESS);
    for (int i = 0; i < ZT_PK_THREADS; i++) {
        w[i] = (zt_pk_worker_t){ c, f, 20000, clearer && i == 0,
                                 (unsigned)i * 7919u + 1, 0, 0, 0 };
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, zt_pk_worker, &w[i],
                                           pool), APR_SUCCESS);
    }
    for (int i = 0; i < ZT_PK_THREADS; i++) {
        apr_status_t rv;

        ck_assert_int_eq(apr_thread_join(&rv, th[i]), APR_SUCCESS);
        gets += w[i].gets;
        hits += w[i].hits;
        wrong += w[i].wrong;
    }
    zt_pkcache_stats(c, &st);
    ck_assert_uint_eq(wrong, 0);
    ck_assert_uint_eq(st.hits, hits);
    ck_assert_uint_eq(st.hits + st.misses, gets);
    ck_assert_uint_le(st.entries, max_entries);
    ck_assert_uint_gt(hits, 0);
    if (max_entries < NKEYS) {
        ck_assert_uint_gt(st.evictions, 0);
    }
}

START_TEST(threads_share)
{
    zt_pk_hammer(64, 0);        /* every key fits: nearly all hits */
    zt_pk_hammer(4, 1);         /* 16 keys, 4 places, clears: evictions
                                   race with hits */
}
END_TEST

static Suite *pkcache_suite(void)
{
    Suite *s = suite_create("pkcache");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_unchecked_fixture(tc, keys_make, keys_free);
    zt_test_timeout(tc, 120);
    tcase_add_test(tc, hit_and_miss);
    tcase_add_test(tc, hit_outlives_entry);
    tcase_add_test(tc, eviction_by_entries);
    tcase_add_test(tc, eviction_by_bytes);
    tcase_add_test(tc, threads_share);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return zt_test_main(pkcache_suite());
}
