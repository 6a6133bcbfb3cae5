/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The query string, split and decoded for conditions (query.NAME) and for
 * input validation.  Strict, because two components that decode one query
 * differently are a classic way around a check:
 *
 *   - pairs are separated by '&' only (not ';'), name and value by the
 *     first '=';
 *   - "%XX" needs two hex digits (either case); '+' is a space;
 *   - a NUL or control byte (below 0x20, or 0x7f), raw or decoded, is
 *     refused, and so is a name or value that is not valid UTF-8 once
 *     decoded (overlong forms, surrogates, above U+10FFFF);
 *   - a pair with an empty name ("=x") is refused: it names nothing;
 *   - empty pairs ("a=1&&b=2", a leading or trailing '&') are skipped, as
 *     browsers and the WHATWG URL parser do: they carry nothing that a
 *     check could read differently.
 *
 * A name without '=' has the empty value.  Nothing is allocated.  A part
 * (name or value) of printable ASCII without '%' or '+', the common case,
 * is its own decoding: its span points into the query itself, found by
 * one table lookup a byte.  Any other part is decoded into the caller's
 * buffer, which is never longer than the input.
 */
#include <stdint.h>
#include <string.h>

#include "zt_ascii.h"
#include "zt_eval.h"
#include "zt_utf8.h"

/* Where the scan of a part stops: bytes with ZT_Q_NAME stop a name, with
 * ZT_Q_VALUE a value (3 is both; '=', 1, belongs to a value).  Besides
 * '&' and the NUL that ends the query, these are the bytes a part cannot
 * be taken with as it stands: '%', '+', controls, DEL and every byte above
 * it (UTF-8, to be checked).  Of those, the ones that end a part carry
 * its bit shifted by ZT_Q_END too: '&' and the NUL end both (15), '=' a
 * name (5). */
#define ZT_Q_NAME   1
#define ZT_Q_VALUE  2
#define ZT_Q_END    2

static const unsigned char zt_qclass[256] = {
    /* 0x00-0x1f: NUL and controls */
    15, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    /*    !  "  #  $  %  &  '  (  )  *  +  ,  -  .  / */
    0, 0, 0, 0, 0, 3, 15, 0, 0, 0, 0, 3, 0, 0, 0, 0,
    /* 0  1  2  3  4  5  6  7  8  9  :  ;  <  =  >  ? */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x70-0x7e, then DEL */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3,
    /* 0x80-0xff */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3
};

/* Does @a c end a part of class @a stop: '&', the NUL, or '=' after a
 * name? */
static inline int zt_query_ends(char c, unsigned stop)
{
    return zt_qclass[(unsigned char)c] & stop << ZT_Q_END;
}

/*
** The part from @a p, whose bytes before @a q stand as they are and @a q
** one to decode: decoded to *o (advanced) into *out, up to the part's end,
** which is returned.  The one place of the rules: "%XX" needs two hex
** digits (a part's end, '&', '=' or the NUL, is none, so an escape never
** crosses it); '+' is a space; a control byte or DEL, raw or decoded, is
** refused, in byte order, then the part's UTF-8 from its first byte above
** 0x7f.  *err is set on failure.
*/
static __attribute__((noinline))
const char *zt_query_part_decode(const char *p, const char *q, unsigned stop,
                                 char **o, zt_span_t *out, const char **err)
{
    unsigned char *start = (unsigned char *)*o, *d, *high = NULL;

    memcpy(start, p, (size_t)(q - p));
    d = start + (q - p);
    for (;; q++) {
        unsigned char c = (unsigned char)*q;
        int hi, lo;

        if (!(zt_qclass[c] & stop)) {
            *d++ = c;
            continue;
        }
        if (zt_query_ends((char)c, stop)) {
            break;
        }
        if (c == '%') {
            if ((hi = zt_hexval((unsigned char)q[1])) < 0
                || (lo = zt_hexval((unsigned char)q[2])) < 0) {
                *err = "invalid percent escape";
                return q;
            }
            c = (unsigned char)(hi << 4 | lo);
            q += 2;
        }
        else if (c == '+') {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f) {
            *err = "NUL or control byte";
            return q;
        }
        if (c >= 0x80 && high == NULL) {
            high = d;
        }
        *d++ = c;
    }
    for (unsigned char *u = high; u != NULL && u < d; ) {
        size_t n = zt_utf8_seq(u, (size_t)(d - u));

        if (n == 0) {
            *err = "invalid UTF-8";
            return q;
        }
        u += n;
    }
    out->ptr = (const char *)start;
    out->len = (uint32_t)(d - start);
    *o = (char *)d;
    return q;
}

/*
** The part that starts at @a p, a name or a value as @a stop says, into
** *out: taken as it stands when nothing in it needs decoding, else
** decoded (zt_query_part_decode).  Returns its end (a separator or the NUL), with *err set on
** failure.  Inlined with @a stop a constant: the loop is then a load, a
** table lookup and a test a byte.
*/
static inline __attribute__((always_inline))
const char *zt_query_part(const char *p, unsigned stop, char **o,
                          zt_span_t *out, const char **err)
{
    const char *q = p;

    /* two bytes a turn: q[1] exists when q[0] did not stop the scan */
    while (!(zt_qclass[(unsigned char)q[0]] & stop)) {
        if (zt_qclass[(unsigned char)q[1]] & stop) {
            q++;
            break;
        }
        q += 2;
    }
    if (!zt_query_ends(*q, stop)) {
        return zt_query_part_decode(p, q, stop, o, out, err);
    }
    out->ptr = p;
    out->len = (uint32_t)(q - p);
    return q;
}

int zt_query_parse(const char *raw, char *buf, zt_qparam_t *out, uint32_t max,
                   const char **err)
{
    if (raw == NULL) {
        return 0;
    }
    return zt_query_parse_len(raw, strlen(raw), buf, out, max, err);
}

int zt_query_parse_len(const char *raw, size_t len, char *buf,
                       zt_qparam_t *out, uint32_t max, const char **err)
{
    const char *p = raw, *why = NULL;
    char *o = buf;
    uint32_t n = 0;

    if (max > INT32_MAX) {
        max = INT32_MAX;                /* the count is returned as an int */
    }
    if (len > UINT32_MAX) {
        *err = "query too long";
        return -1;
    }
    while (*p != '\0') {
        if (*p == '&') {
            p++;                        /* "&&", or a leading '&' */
            continue;
        }
        if (*p == '=') {
            *err = "parameter without a name";
            return -1;
        }
        if (n == max) {
            *err = "too many parameters";
            return -1;
        }
        p = zt_query_part(p, ZT_Q_NAME, &o, &out[n].name, &why);
        if (why == NULL && *p == '=') {
            p = zt_query_part(p + 1, ZT_Q_VALUE, &o, &out[n].value, &why);
        }
        else {
            out[n].value.ptr = p;       /* "a": the empty value */
            out[n].value.len = 0;
        }
        if (why != NULL) {
            *err = why;
            return -1;
        }
        n++;
    }
    return (int)n;
}
