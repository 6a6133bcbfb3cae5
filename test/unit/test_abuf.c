/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The audit buffer (zt_abuf, ZeroTrustAuditBuffer): records leave whole
 * and in order, when the next one does not fit, when the oldest is a
 * second old at the next put, on flush and at the pool's cleanup; a
 * record larger than the buffer; a failing writer; threads hammering one
 * buffer without tearing or losing a record.
 */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "zt_test.h"
#include "zt_abuf.h"

ZT_TEST_POOL_FIXTURE

#define SEC apr_time_from_sec(1)
#define T0  apr_time_from_sec(1700000000)

/* What the writer was handed: every call, and all bytes in order. */
typedef struct {
    char out[4 << 20];
    apr_size_t len;
    apr_size_t calls[64];           /* lengths of the first 64 calls */
    int ncalls;
    int fail;                       /* answer APR_EGENERAL, keep nothing */
    int torn;                       /* a call that did not end a record */
} sink_t;

static sink_t g_sink;

static apr_status_t sink_write(void *ctx, const char *data, apr_size_t len)
{
    sink_t *k = ctx;

    if (k->ncalls < 64) {
        k->calls[k->ncalls] = len;
    }
    k->ncalls++;
    if (len == 0 || data[len - 1] != '\n') {
        k->torn++;
    }
    if (k->fail) {
        return APR_EGENERAL;
    }
    ck_assert_uint_le(k->len + len, sizeof(k->out));
    memcpy(k->out + k->len, data, len);
    k->len += len;
    return APR_SUCCESS;
}

static zt_abuf_t *make(apr_size_t size)
{
    zt_abuf_t *b = NULL;

    memset(&g_sink, 0, sizeof(g_sink));
    ck_assert_int_eq(zt_abuf_create(&b, pool, size, SEC, sink_write, &g_sink),
                     APR_SUCCESS);
    return b;
}

/* A record of exactly @a len bytes: @a tag, dots, newline. */
static const char *rec(const char *tag, apr_size_t len)
{
    char *s = apr_palloc(pool, len + 1);
    apr_size_t n = strlen(tag);

    ck_assert_uint_gt(len, n);
    memset(s, '.', len);
    memcpy(s, tag, n);
    s[len - 1] = '\n';
    s[len] = '\0';
    return s;
}

static void put(zt_abuf_t *b, const char *r, apr_time_t now)
{
    ck_assert_int_eq(zt_abuf_put(b, r, strlen(r), now), APR_SUCCESS);
}

START_TEST(kept_until_full)
{
    zt_abuf_t *b = make(256);
    const char *a = rec("a", 100), *c = rec("c", 100), *d = rec("d", 56);

    put(b, a, T0);
    put(b, c, T0);
    ck_assert_int_eq(g_sink.ncalls, 0);
    put(b, d, T0);                  /* exactly full: still kept */
    ck_assert_int_eq(g_sink.ncalls, 0);
    put(b, rec("e", 10), T0);       /* does not fit: the three go out */
    ck_assert_int_eq(g_sink.ncalls, 1);
    ck_assert_uint_eq(g_sink.calls[0], 256);
    ck_assert(!memcmp(g_sink.out, apr_pstrcat(pool, a, c, d, NULL), 256));
    ck_assert_int_eq(zt_abuf_flush(b), APR_SUCCESS);
    ck_assert_int_eq(g_sink.ncalls, 2);
    ck_assert_uint_eq(g_sink.calls[1], 10);
    ck_assert_int_eq(zt_abuf_flush(b), APR_SUCCESS);    /* empty: no call */
    ck_assert_int_eq(g_sink.ncalls, 2);
    ck_assert_int_eq(g_sink.torn, 0);
}
END_TEST

START_TEST(larger_than_the_buffer)
{
    zt_abuf_t *b = make(256);
    const char *small = rec("s", 40), *big = rec("B", 1000);

    put(b, small, T0);
    put(b, big, T0);                /* buffered first, then the big one */
    ck_assert_int_eq(g_sink.ncalls, 2);
    ck_assert_uint_eq(g_sink.calls[0], 40);
    ck_assert_uint_eq(g_sink.calls[1], 1000);
    ck_assert(!memcmp(g_sink.out, apr_pstrcat(pool, small, big, NULL), 1040));
    put(b, rec("x", 256), T0);      /* as large as the buffer: also direct */
    ck_assert_int_eq(g_sink.ncalls, 3);
    put(b, rec("y", 255), T0);      /* fits */
    ck_assert_int_eq(g_sink.ncalls, 3);
    ck_assert_int_eq(g_sink.torn, 0);
}
END_TEST

START_TEST(age_flush_at_the_next_put)
{
    zt_abuf_t *b = make(4096);

    put(b, rec("a", 50), T0);
    put(b, rec("b", 50), T0 + SEC - 1);
    ck_assert_int_eq(g_sink.ncalls, 0);
    put(b, rec("c", 50), T0 + SEC);         /* a is one second old */
    ck_assert_int_eq(g_sink.ncalls, 1);
    ck_assert_uint_eq(g_sink.calls[0], 150);
    /* The clock restarts with the next first record. */
    put(b, rec("d", 50), T0 + 5 * SEC);
    put(b, rec("e", 50), T0 + 6 * SEC - 1);
    ck_assert_int_eq(g_sink.ncalls, 1);
    put(b, rec("f", 50), T0 + 6 * SEC);
    ck_assert_int_eq(g_sink.ncalls, 2);
    ck_assert_uint_eq(g_sink.calls[1], 150);
    /* A clock that went back never flushes early nor wraps. */
    put(b, rec("g", 50), T0 + 9 * SEC);
    put(b, rec("h", 50), T0);
    ck_assert_int_eq(g_sink.ncalls, 2);
}
END_TEST

START_TEST(cleanup_writes_the_rest)
{
    apr_pool_t *sub;
    zt_abuf_t *b = NULL;

    memset(&g_sink, 0, sizeof(g_sink));
    apr_pool_create(&sub, pool);
    ck_assert_int_eq(zt_abuf_create(&b, sub, 4096, SEC, sink_write, &g_sink),
                     APR_SUCCESS);
    put(b, rec("a", 30), T0);
    put(b, rec("b", 30), T0);
    ck_assert_int_eq(g_sink.ncalls, 0);
    apr_pool_destroy(sub);          /* the child's exit */
    ck_assert_int_eq(g_sink.ncalls, 1);
    ck_assert_uint_eq(g_sink.len, 60);
    ck_assert(g_sink.out[0] == 'a' && g_sink.out[30] == 'b');
}
END_TEST

START_TEST(failing_writer_drops_the_run)
{
    zt_abuf_t *b = make(128);

    put(b, rec("a", 100), T0);
    g_sink.fail = 1;
    /* "a" goes out and fails: dropped; "b" is kept. */
    ck_assert_int_ne(zt_abuf_put(b, rec("b", 100), 100, T0), APR_SUCCESS);
    g_sink.fail = 0;
    ck_assert_int_eq(zt_abuf_flush(b), APR_SUCCESS);
    ck_assert_uint_eq(g_sink.len, 100);
    ck_assert(g_sink.out[0] == 'b');
    /* A record too large for the buffer fails on its own. */
    g_sink.fail = 1;
    ck_assert_int_ne(zt_abuf_put(b, rec("c", 500), 500, T0), APR_SUCCESS);
    g_sink.fail = 0;
    put(b, rec("d", 20), T0);
    ck_assert_int_eq(zt_abuf_flush(b), APR_SUCCESS);
    ck_assert_uint_eq(g_sink.len, 120);
    ck_assert(g_sink.out[100] == 'd');
    ck_assert_int_eq(zt_abuf_create(&b, pool, 0, SEC, sink_write, &g_sink),
                     APR_EINVAL);
}
END_TEST

/* Threads: every record arrives once, whole, and each thread's records in
 * the order it put them. */
#define NTHREADS 8
#define PER_THREAD 3000

static zt_abuf_t *g_shared;

static void *APR_THREAD_FUNC hammer(apr_thread_t *t, void *arg)
{
    int id = (int)(intptr_t)arg;
    char line[160];

    for (int j = 0; j < PER_THREAD; j++) {
        /* 20 to 139 bytes, so records straddle every boundary. */
        int pad = 8 + (j * 7 + id * 13) % 120;
        int n = snprintf(line, sizeof(line), "%d %d %.*s\n", id, j, pad,
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");

        zt_abuf_put(g_shared, line, (apr_size_t)n,
                    T0 + (apr_time_t)j * 1000);
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

START_TEST(threads_never_tear)
{
    apr_thread_t *th[NTHREADS];
    int next[NTHREADS] = { 0 };
    apr_status_t rv;
    char *p, *end;
    int n = 0;

    g_shared = make(1000);
    for (int i = 0; i < NTHREADS; i++) {
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, hammer,
                                           (void *)(intptr_t)i, pool),
                         APR_SUCCESS);
    }
    for (int i = 0; i < NTHREADS; i++) {
        apr_thread_join(&rv, th[i]);
    }
    zt_abuf_flush(g_shared);
    ck_assert_int_eq(g_sink.torn, 0);
    ck_assert_int_gt(g_sink.ncalls, 100);
    for (p = g_sink.out, end = p + g_sink.len; p < end; n++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        int id, j, len;

        ck_assert_ptr_nonnull(nl);
        ck_assert_int_eq(sscanf(p, "%d %d %n", &id, &j, &len), 2);
        ck_assert(id >= 0 && id < NTHREADS);
        ck_assert_int_eq(j, next[id]);
        next[id]++;
        ck_assert_int_eq((int)(nl - p) - len,
                         8 + (j * 7 + id * 13) % 120);
        p = nl + 1;
    }
    ck_assert_int_eq(n, NTHREADS * PER_THREAD);
}
END_TEST

static Suite *abuf_suite(void)
{
    Suite *s = suite_create("abuf");
    TCase *tc = tcase_create("buffer");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, kept_until_full);
    tcase_add_test(tc, larger_than_the_buffer);
    tcase_add_test(tc, age_flush_at_the_next_put);
    tcase_add_test(tc, cleanup_writes_the_rest);
    tcase_add_test(tc, failing_writer_drops_the_run);
    tcase_add_test(tc, threads_never_tear);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return zt_test_main(abuf_suite());
}
