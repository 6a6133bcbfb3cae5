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
** The civil date of day @a days since 1970-01-01 (days >= 0), proleptic
** Gregorian: H. Hinnant's days_from_civil inverse ("chrono-Compatible
** Low-Level Date Algorithms"), in 400-year eras from 0000-03-01, so a
** leap day ends its year.  Divisions by constants only.
*/
static void zt_arec_civil(uint64_t days, uint64_t *y, unsigned *m,
                          unsigned *d)
{
    uint64_t z = days + 719468;                 /* days from 0000-03-01 */
    uint64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);            /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                       /* March: 0 */

    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = era * 400 + yoe + (*m <= 2);
}

/* '"' and "YYYY-MM-DDTHH:MM:SS." of second @a sec: 21 bytes at @a o. */
static void zt_arec_second(char *o, uint64_t sec)
{
    uint64_t y;
    unsigned m, d, s = (unsigned)(sec % 86400), year;

    zt_arec_civil(sec / 86400, &y, &m, &d);
    year = (unsigned)(y % 10000);
    o[0] = '"';
    zt_put_2digits(o + 1, year / 100);
    zt_put_2digits(o + 3, year % 100);
    o[5] = '-';
    zt_put_2digits(o + 6, m);
    o[8] = '-';
    zt_put_2digits(o + 9, d);
    o[11] = 'T';
    zt_put_2digits(o + 12, s / 3600);
    o[14] = ':';
    zt_put_2digits(o + 15, s / 60 % 60);
    o[17] = ':';
    zt_put_2digits(o + 18, s % 60);
    o[20] = '.';
}

/* The last second a thread wrote and its text (bytes 21 to 23 are not
 * read: the text is copied as 3 words).  Per thread, so no lock: a
 * process-wide copy under a sequence lock saved 6 instructions a record
 * (of ~60) for 50 lines. */
typedef struct {
    int64_t sec;
    char text[24];
} zt_arec_clock_t;

static _Thread_local zt_arec_clock_t zt_arec_clock = { -1, { 0 } };

char *zt_arec_time(char *o, int64_t t)
{
    /* Read once: each look-up of a module's thread-local is a call
     * (__tls_get_addr). */
    zt_arec_clock_t *c = &zt_arec_clock;
    int64_t sec;
    unsigned ms;

    if (t < 0) {
        return NULL;
    }
    sec = t / ZT_USEC_PER_SEC;
    ms = (unsigned)(t % ZT_USEC_PER_SEC) / 1000;
    memcpy(o, c->text, sizeof(c->text));
    if (c->sec != sec) {
        zt_arec_second(o, (uint64_t)sec);
        memcpy(c->text, o, sizeof(c->text));
        c->sec = sec;
    }
    o[21] = (char)('0' + ms / 100);
    zt_put_2digits(o + 22, ms % 100);
    o[24] = 'Z';
    o[25] = '"';
    return o + 26;
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
