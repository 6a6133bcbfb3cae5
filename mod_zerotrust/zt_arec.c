/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The audit record's time and request id (zt_arec.h).  Both were made by
 * APR and httpd per request: ap_explode_recent_gmt and the digits of
 * seven fields cost ~160 instructions, apr_base64_encode of 8 bytes
 * ~120 (it sizes and loops for any length).
 */
#include <string.h>

#include "zt_arec.h"
#include "zt_ascii.h"

#define ZT_USEC_PER_SEC 1000000

static const char zt_arec_b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
** The civil date of day @a days since 1970-01-01 (any sign), proleptic
** Gregorian with a year 0 (ISO 8601's, 1 BC): H. Hinnant's
** days_from_civil inverse ("chrono-Compatible Low-Level Date
** Algorithms"), in 400-year eras from 0000-03-01, so a leap day ends its
** year; the era floored, so a day before 0000-03-01 falls in era -1 with
** the same arithmetic.  Divisions by constants only.
*/
static void zt_arec_civil(int64_t days, int64_t *y, unsigned *m,
                          unsigned *d)
{
    int64_t z = days + 719468;                  /* days from 0000-03-01 */
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);            /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                       /* March: 0 */

    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = era * 400 + yoe + (*m <= 2);
}

/*
** '"' and "YYYY-MM-DDTHH:MM:SS." of second @a sec (any sign) at @a o;
** returns the end.  A year outside 0000..9999 is written as a sign and
** six digits, ISO 8601's expanded form as ECMAScript's toISOString
** writes it ("-000001", "+010000"): an int64 of microseconds spans
** -290308 to +294247, so six always do.  21 bytes, or 24.
*/
static char *zt_arec_second(char *o, int64_t sec)
{
    int64_t days = sec / 86400, y;
    int64_t s = sec - days * 86400;
    unsigned m, d;

    if (s < 0) {                                /* floored */
        s += 86400;
        days--;
    }
    zt_arec_civil(days, &y, &m, &d);
    *o++ = '"';
    if (y >= 0 && y <= 9999) {
        zt_put_4digits(o, (unsigned)y);
        o += 4;
    }
    else {
        uint64_t u = y < 0 ? (uint64_t)-y : (uint64_t)y;    /* < 10^6 */

        *o++ = y < 0 ? '-' : '+';
        o = zt_put_2digits(o, (unsigned)(u / 10000));
        zt_put_4digits(o, (unsigned)(u % 10000));
        o += 4;
    }
    o[0] = '-';
    zt_put_2digits(o + 1, m);
    o[3] = '-';
    zt_put_2digits(o + 4, d);
    o[6] = 'T';
    zt_put_2digits(o + 7, (unsigned)s / 3600);
    o[9] = ':';
    zt_put_2digits(o + 10, (unsigned)s / 60 % 60);
    o[12] = ':';
    zt_put_2digits(o + 13, (unsigned)s % 60);
    o[15] = '.';
    return o + 16;
}

/* The milliseconds @a ms (below 1000), 'Z' and the closing quote. */
static inline char *zt_arec_ms(char *o, unsigned ms)
{
    o[0] = (char)('0' + ms / 100);
    zt_put_2digits(o + 1, ms % 100);
    o[3] = 'Z';
    o[4] = '"';
    return o + 5;
}

/* Bytes of the text zt_arec_second writes for a year of four digits. */
#define ZT_AREC_SECOND_LEN 21

/* The first second of year 10000. */
#define ZT_AREC_SEC_10000 INT64_C(253402300800)

/* The last second a thread wrote and its text, if that second is from
 * the epoch to year 9999 (the text is copied as 3 words; bytes 21 to 23
 * are not read).  Per thread, so no lock: a process-wide copy under a
 * sequence lock saved 6 instructions a record (of ~60) for 50 lines. */
typedef struct {
    int64_t sec;
    char text[24];
} zt_arec_clock_t;

static _Thread_local zt_arec_clock_t zt_arec_clock = { -1, { 0 } };

/*
** A time whose second the thread's cache does not hold: written whole,
** the seconds and milliseconds floored (-1 is 1969-12-31T23:59:59.999),
** and kept for the next if it is one the cache may hold.  Once a second
** per thread, or a clock set far wrong; not inlined, so that the cached
** path keeps few registers.
*/
static __attribute__((noinline)) char *zt_arec_time_slow(char *o, int64_t t)
{
    int64_t sec = t / ZT_USEC_PER_SEC;
    int64_t us = t % ZT_USEC_PER_SEC;
    char *end;

    if (us < 0) {
        us += ZT_USEC_PER_SEC;
        sec--;
    }
    end = zt_arec_second(o, sec);
    if (sec >= 0 && sec < ZT_AREC_SEC_10000) {
        zt_arec_clock_t *c = &zt_arec_clock;

        memcpy(c->text, o, ZT_AREC_SECOND_LEN);
        c->sec = sec;
    }
    return zt_arec_ms(end, (unsigned)us / 1000);
}

char *zt_arec_time(char *o, int64_t t)
{
    zt_arec_clock_t *c;
    int64_t sec;

    /* the cache holds no second before the epoch, where the division
     * would have to be floored */
    if (t < 0) {
        return zt_arec_time_slow(o, t);
    }
    sec = t / ZT_USEC_PER_SEC;
    /* read once: each look-up of a module's thread-local is a call
     * (__tls_get_addr) */
    c = &zt_arec_clock;
    if (c->sec != sec) {
        return zt_arec_time_slow(o, t);
    }
    memcpy(o, c->text, sizeof(c->text));
    return zt_arec_ms(o + ZT_AREC_SECOND_LEN,
                      (unsigned)(t % ZT_USEC_PER_SEC) / 1000);
}

/* Base64 character @a i (from 0) of the 64 bits of @a v, first first. */
#define ZT_AREC_B64(v, i) zt_arec_b64_chars[(v) >> (58 - 6 * (i)) & 0x3f]

void zt_arec_id(char *o, uint64_t id)
{
    /* the bytes in memory order, the first one's high bit first */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint64_t v = id;
#else
    uint64_t v = __builtin_bswap64(id);
#endif

    /* written out: a loop here is not unrolled at -O2 */
    o[0] = ZT_AREC_B64(v, 0);
    o[1] = ZT_AREC_B64(v, 1);
    o[2] = ZT_AREC_B64(v, 2);
    o[3] = ZT_AREC_B64(v, 3);
    o[4] = ZT_AREC_B64(v, 4);
    o[5] = ZT_AREC_B64(v, 5);
    o[6] = ZT_AREC_B64(v, 6);
    o[7] = ZT_AREC_B64(v, 7);
    o[8] = ZT_AREC_B64(v, 8);
    o[9] = ZT_AREC_B64(v, 9);
    /* the last 4 bits, and 2 of padding; the '=' after them is dropped */
    o[10] = zt_arec_b64_chars[(v & 0x0f) << 2];
}

/* ,"key": then @a s quoted, or null: @a s needs no escape. */
static char *zt_arec_field(char *o, const char *key, size_t key_n,
                           const char *s, size_t n)
{
    memcpy(o, key, key_n);
    o += key_n;
    if (s == NULL) {
        memcpy(o, "null", 4);
        return o + 4;
    }
    *o++ = '"';
    memcpy(o, s, n);
    o += n;
    *o++ = '"';
    return o;
}

#define ZT_AREC_KEY(k) ",\"" k "\":", sizeof(",\"" k "\":") - 1

char *zt_arec_ids(char *o, const char *sub, size_t sub_n, const char *iss,
                  size_t iss_n, const char *azp, size_t azp_n)
{
    o = zt_arec_field(o, ZT_AREC_KEY("sub"), sub, sub_n);
    o = zt_arec_field(o, ZT_AREC_KEY("iss"), iss, iss_n);
    return zt_arec_field(o, ZT_AREC_KEY("azp"), azp, azp_n);
}
