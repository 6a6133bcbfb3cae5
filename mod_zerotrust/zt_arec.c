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

/* The last second a thread wrote, and its text (bytes 21 to 23 unused:
 * three words are copied). */
typedef struct {
    int64_t sec;
    char text[24];
} zt_arec_clock_t;

static _Thread_local zt_arec_clock_t zt_arec_clock = { -1, { 0 } };

char *zt_arec_time(char *o, int64_t t)
{
    zt_arec_clock_t *c = &zt_arec_clock;
    int64_t sec;
    unsigned ms;

    if (t < 0) {
        return NULL;
    }
    sec = t / ZT_USEC_PER_SEC;
    ms = (unsigned)(t % ZT_USEC_PER_SEC) / 1000;
    if (c->sec != sec) {
        zt_arec_second(c->text, (uint64_t)sec);
        c->sec = sec;
    }
    memcpy(o, c->text, sizeof(c->text));
    o[21] = (char)('0' + ms / 100);
    zt_put_2digits(o + 22, ms % 100);
    o[24] = 'Z';
    o[25] = '"';
    return o + 26;
}

/* The 24 bits of @a b[0..2] as @a n (3 or 4) base64 characters at @a o. */
static char *zt_arec_b64(char *o, const unsigned char *b, int n)
{
    uint32_t v = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];

    o[0] = zt_arec_b64_chars[v >> 18];
    o[1] = zt_arec_b64_chars[v >> 12 & 0x3f];
    o[2] = zt_arec_b64_chars[v >> 6 & 0x3f];
    if (n == 4) {
        o[3] = zt_arec_b64_chars[v & 0x3f];
    }
    return o + n;
}

void zt_arec_id(char *o, uint64_t id)
{
    unsigned char b[9];

    memcpy(b, &id, 8);
    b[8] = 0;           /* the last group has 2 bytes: 3 characters, '=' */
    o = zt_arec_b64(o, b, 4);
    o = zt_arec_b64(o, b + 3, 4);
    zt_arec_b64(o, b + 6, 3);
}
