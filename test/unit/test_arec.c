/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The audit record's time and request id (zt_arec.h) against what the
 * record wrote before them: the time as gmtime_r (which httpd's
 * ap_explode_recent_gmt calls) and the fields' digits, the id as a
 * standard base64 encoder (OpenSSL's EVP_EncodeBlock, the alphabet and
 * padding of apr_base64_encode).  Every day from year -1 to 2503, leap
 * days and century years, random times over all of int64, its ends and
 * the years where the form changes (0000 and 9999), written out by hand
 * too; each thread's cache of its last second, within a second and
 * across, in four threads at once.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "zt_test.h"
#include "zt_arec.h"

/* The time as gmtime_r sees its second, floored, written as the record
 * writes it: a year outside 0000..9999 as a sign and 6 digits, as
 * ECMAScript's toISOString. */
static void ref_time(char *out, size_t size, int64_t t)
{
    int64_t sec = t / 1000000, us = t % 1000000, year;
    time_t tt;
    struct tm tm;

    if (us < 0) {
        us += 1000000;
        sec--;
    }
    tt = (time_t)sec;
    if (gmtime_r(&tt, &tm) == NULL) {
        ck_abort_msg("gmtime_r(%lld) failed", (long long)sec);
    }
    year = (int64_t)tm.tm_year + 1900;
    snprintf(out, size,
             year >= 0 && year <= 9999
             ? "\"%04lld-%02d-%02dT%02d:%02d:%02d.%03uZ\""
             : "\"%+07lld-%02d-%02dT%02d:%02d:%02d.%03uZ\"",
             (long long)year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (unsigned)us / 1000);
}

/* One ck_assert per time: each is a write(2) to Check's pipe, and the
 * tests check some 3 million. */
static void check_time(int64_t t)
{
    char want[64], got[ZT_AREC_TIME_MAX + 8];
    char *end;
    size_t n;

    ref_time(want, sizeof(want), t);
    n = strlen(want);
    memset(got, 'x', sizeof(got));
    end = zt_arec_time(got, t);
    ck_assert_msg(end == got + n && memcmp(got, want, n) == 0
                  && got[n] == 'x'              /* nothing past it */
                  && (n == ZT_AREC_TIME_LEN || n == ZT_AREC_TIME_MAX)
                  /* a JSON string that needs no escape */
                  && strspn(got + 1, "0123456789+-:.TZ") == n - 2
                  && got[n - 1] == '"',
                  "%lld: got %.*s, want %s", (long long)t,
                  ZT_AREC_TIME_MAX, got, want);
}

/* The text of @a t, checked against gmtime_r, and against @a want. */
static void check_time_is(int64_t t, const char *want)
{
    char got[ZT_AREC_TIME_MAX];
    char *end;

    check_time(t);
    end = zt_arec_time(got, t);
    ck_assert_msg((size_t)(end - got) == strlen(want)
                  && memcmp(got, want, strlen(want)) == 0,
                  "%lld: got %.*s, want %s", (long long)t,
                  (int)(end - got), got, want);
}

/* xorshift64*: the same texts every run. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static int64_t utc(int y, int mon, int d, int h, int min, int s)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d,
                     .tm_hour = h, .tm_min = min, .tm_sec = s };

    return (int64_t)timegm(&tm) * 1000000;
}

/* Every day from year -1 to 2503, at its first and last microsecond and
 * at a time in between: each a new second, so the cache is refilled
 * (from 1970), or not used (before). */
START_TEST(every_day)
{
    int64_t first = utc(-1, 1, 1, 0, 0, 0) / (86400 * INT64_C(1000000));
    uint64_t seed = 42;

    ck_assert_int_eq(first, -719893);
    for (int64_t day = first; day < 194724; day++) {
        int64_t t = day * 86400 * INT64_C(1000000);

        check_time(t);
        check_time(t + 86400 * INT64_C(1000000) - 1);
        check_time(t + (int64_t)(rnd(&seed) % (86400 * UINT64_C(1000000))));
    }
}
END_TEST

START_TEST(calendar_edges)
{
    static const int days[][3] = {
        { -10000, 1, 1 }, { -9999, 12, 31 }, { -400, 2, 29 },
        { -100, 3, 1 }, { -4, 2, 29 }, { -1, 1, 1 }, { -1, 12, 31 },
        { 0, 1, 1 }, { 0, 2, 29 }, { 1, 1, 1 }, { 1582, 10, 15 },
        { 1900, 2, 28 }, { 1900, 3, 1 }, { 1969, 12, 31 },
        { 1970, 1, 1 }, { 1972, 2, 29 }, { 1999, 12, 31 }, { 2000, 2, 29 },
        { 2000, 3, 1 }, { 2026, 11, 29 }, { 2038, 1, 19 }, { 2100, 2, 28 },
        { 2100, 3, 1 }, { 2400, 2, 29 }, { 2400, 12, 31 }, { 9999, 12, 31 },
        { 10000, 1, 1 }, { 12345, 6, 7 }, { 99996, 2, 29 },
        { 199999, 12, 31 }
    };

    for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
        int64_t t = utc(days[i][0], days[i][1], days[i][2], 23, 59, 59);

        check_time(t);
        check_time(t + 999999);                 /* .999 */
        check_time(t + 1000000);                /* the next day */
        check_time(t - 86399 * INT64_C(1000000) + 1000);
        check_time(t - 86399 * INT64_C(1000000) - 1);   /* the day before */
    }
    /* the written form itself, by hand (each as node's
     * new Date(t / 1000).toISOString() writes it) */
    check_time_is(utc(2026, 11, 29, 1, 2, 3) + 456789,
                  "\"2026-11-29T01:02:03.456Z\"");
    check_time_is(0, "\"1970-01-01T00:00:00.000Z\"");
    /* before the epoch: floored, not truncated toward 0 */
    check_time_is(-1, "\"1969-12-31T23:59:59.999Z\"");
    check_time_is(-1000, "\"1969-12-31T23:59:59.999Z\"");
    check_time_is(-1001, "\"1969-12-31T23:59:59.998Z\"");
    check_time_is(-1000000, "\"1969-12-31T23:59:59.000Z\"");
    check_time_is(-1000001, "\"1969-12-31T23:59:58.999Z\"");
    /* where the form changes: year 0 has four digits, -1 and 10000 not */
    check_time_is(INT64_C(-62167219200000000), "\"0000-01-01T00:00:00.000Z\"");
    check_time_is(INT64_C(-62167219200000001),
                  "\"-000001-12-31T23:59:59.999Z\"");
    check_time_is(INT64_C(253402300799999999), "\"9999-12-31T23:59:59.999Z\"");
    check_time_is(INT64_C(253402300800000000),
                  "\"+010000-01-01T00:00:00.000Z\"");
    /* ECMAScript's own ends, +-8.64e15 ms */
    check_time_is(INT64_C(8640000000000000000),
                  "\"+275760-09-13T00:00:00.000Z\"");
    check_time_is(INT64_C(-8640000000000000000),
                  "\"-271821-04-20T00:00:00.000Z\"");
    /* the ends of int64 */
    check_time_is(INT64_MAX, "\"+294247-01-10T04:00:54.775Z\"");
    check_time_is(INT64_MIN, "\"-290308-12-21T19:59:05.224Z\"");
    check_time(INT64_MAX - 999999);
    check_time(INT64_MIN + 999999);
    check_time(INT64_MIN + 1000000);
}
END_TEST

START_TEST(random_times)
{
    uint64_t seed = 7;

    for (int i = 0; i < 400000; i++) {
        uint64_t r = rnd(&seed);

        /* from year 0 to 9999 mostly, any int64 sometimes */
        check_time(i % 8 ? (int64_t)(r % (UINT64_C(315569520000) * 1000000))
                           - INT64_C(62167219200000000)
                         : (int64_t)r);
    }
}
END_TEST

/* Within one second, back to an earlier one and forward again: the cache
 * answers only for its own second. */
START_TEST(cache_follows_the_second)
{
    int64_t t0 = utc(2026, 11, 29, 14, 0, 0);

    for (int i = 0; i < 3; i++) {
        check_time(t0);
        check_time(t0 + 1);
        check_time(t0 + 999999);
        check_time(t0 + 1000000);               /* the next second */
        check_time(t0 + 999999);                /* back */
        check_time(t0 + 86400 * INT64_C(1000000));     /* a day on */
        check_time(t0);
        /* times the cache does not hold leave it as it was */
        check_time(-1);
        check_time(t0 + 2);
        check_time(INT64_MAX);
        check_time(t0 + 3);
        check_time(INT64_C(253402300800000000));
        check_time(t0 + 4);
    }
}
END_TEST

/* Four threads, each writing seconds of its own and one they share, over
 * and over, each text checked: a cache shared by mistake would hand one
 * thread another's second. */
static void *time_thread(void *arg)
{
    int64_t t0 = *(const int64_t *)arg;
    int64_t shared = utc(2026, 11, 29, 14, 0, 0);

    for (int i = 0; i < 20000; i++) {
        check_time(t0 + (i % 1000) * 1000);
        check_time(t0 + (i % 7) * 1000000);
        check_time(shared + (i % 3) * 1000000 + 1000);
    }
    return NULL;
}

START_TEST(cache_per_thread)
{
    int64_t t[4] = { utc(2026, 11, 29, 14, 0, 0), utc(1999, 12, 31, 23, 59, 50),
                     utc(2000, 2, 29, 12, 0, 0), utc(2100, 3, 1, 0, 0, 0) };
    pthread_t th[4];

    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_create(&th[i], NULL, time_thread, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    }
}
END_TEST

static void check_id(uint64_t id)
{
    unsigned char want[16];
    char got[ZT_AREC_ID_LEN + 1];

    /* 8 bytes: 12 characters, the last the padding '=' */
    ck_assert_int_eq(EVP_EncodeBlock(want, (const unsigned char *)&id, 8), 12);
    ck_assert_int_eq(want[11], '=');
    memset(got, 'x', sizeof(got));
    zt_arec_id(got, id);
    ck_assert_msg(memcmp(got, want, ZT_AREC_ID_LEN) == 0,
                  "%016llx: got %.11s, want %.11s", (unsigned long long)id,
                  got, want);
    ck_assert_int_eq(got[ZT_AREC_ID_LEN], 'x');
}

START_TEST(ids_as_base64)
{
    uint64_t seed = 3;

    check_id(0);
    check_id(UINT64_MAX);
    for (int bit = 0; bit < 64; bit++) {
        check_id(UINT64_C(1) << bit);
        check_id(~(UINT64_C(1) << bit));
    }
    for (int i = 0; i < 100000; i++) {
        check_id(rnd(&seed));
    }
}
END_TEST

/* The token's three fields: each quoted, or null, in that order, with
 * exactly the bytes ZT_AREC_IDS_LEN counts. */
START_TEST(ids_fields)
{
    static const struct {
        const char *sub, *iss, *azp, *want;
    } cases[] = {
        { "alice", "https://idp", "web",
          ",\"sub\":\"alice\",\"iss\":\"https://idp\",\"azp\":\"web\"" },
        { "", "i", NULL, ",\"sub\":\"\",\"iss\":\"i\",\"azp\":null" },
        { NULL, NULL, NULL, ",\"sub\":null,\"iss\":null,\"azp\":null" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *sub = cases[i].sub, *iss = cases[i].iss;
        const char *azp = cases[i].azp;
        size_t sub_n = sub ? strlen(sub) : 0, iss_n = iss ? strlen(iss) : 0;
        size_t azp_n = azp ? strlen(azp) : 0;
        size_t want_n = strlen(cases[i].want);
        char got[128], *end;

        memset(got, 'x', sizeof(got));
        end = zt_arec_ids(got, sub, sub_n, iss, iss_n, azp, azp_n);
        ck_assert_uint_eq((size_t)(end - got), want_n);
        ck_assert_uint_eq(ZT_AREC_IDS_LEN(sub, sub_n, iss, iss_n, azp, azp_n),
                          want_n);
        ck_assert_int_eq(memcmp(got, cases[i].want, want_n), 0);
        ck_assert_int_eq(got[want_n], 'x');
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("arec");
    TCase *tc = tcase_create("record");

    zt_test_timeout(tc, 120);
    tcase_add_test(tc, every_day);
    tcase_add_test(tc, calendar_edges);
    tcase_add_test(tc, random_times);
    tcase_add_test(tc, cache_follows_the_second);
    tcase_add_test(tc, cache_per_thread);
    tcase_add_test(tc, ids_as_base64);
    tcase_add_test(tc, ids_fields);
    suite_add_tcase(s, tc);
    return zt_test_main(s);
}
