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
 * A name without '=' has the empty value.  Nothing is allocated: decoded
 * bytes go to the caller's buffer, which is never longer than the input.
 */
#include <stdint.h>
#include <string.h>

#include "zt_ascii.h"
#include "zt_eval.h"
#include "zt_utf8.h"

/* Decode [s, s+len) to *o, advancing it, into @a out; NULL or a reason.
 * Printable ASCII is the common case: it is copied with one range test,
 * and the UTF-8 pass runs only from the first decoded byte above 0x7f. */
static const char *zt_query_decode(const char *s, size_t len, char **o,
                                   zt_span_t *out)
{
    unsigned char *start = (unsigned char *)*o, *d = start, *high = NULL;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c - 0x20u < 0x5fu && c != '%' && c != '+') {
            *d++ = c;
            continue;
        }
        if (c == '%') {
            int hi, lo;
            if (len - i < 3 || (hi = zt_hexval((unsigned char)s[i + 1])) < 0
                || (lo = zt_hexval((unsigned char)s[i + 2])) < 0) {
                return "invalid percent escape";
            }
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        else if (c == '+') {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f) {
            return "NUL or control byte";
        }
        if (c >= 0x80 && high == NULL) {
            high = d;
        }
        *d++ = c;
    }
    for (unsigned char *p = high; p != NULL && p < d; ) {
        size_t n = zt_utf8_seq(p, (size_t)(d - p));
        if (n == 0) {
            return "invalid UTF-8";
        }
        p += n;
    }
    out->ptr = (const char *)start;
    out->len = (uint32_t)(d - start);
    *o = (char *)d;
    return NULL;
}

int zt_query_parse(const char *raw, char *buf, zt_qparam_t *out, uint32_t max,
                   const char **err)
{
    const char *p = raw;
    char *o = buf;
    uint32_t n = 0;

    if (raw == NULL) {
        return 0;
    }
    if (max > INT32_MAX) {
        max = INT32_MAX;                /* the count is returned as an int */
    }
    if (strlen(raw) > UINT32_MAX) {
        *err = "query too long";
        return -1;
    }
    while (*p != '\0') {
        const char *end = strchr(p, '&'), *eq;
        size_t len;

        if (end == NULL) {
            end = p + strlen(p);
        }
        len = (size_t)(end - p);
        if (len == 0) {
            p++;                        /* "&&", or a leading '&' */
            continue;
        }
        eq = memchr(p, '=', len);
        if (eq == p) {
            *err = "parameter without a name";
            return -1;
        }
        if (n == max) {
            *err = "too many parameters";
            return -1;
        }
        if ((*err = zt_query_decode(p, eq ? (size_t)(eq - p) : len, &o,
                                    &out[n].name)) != NULL
            || (*err = zt_query_decode(eq ? eq + 1 : end,
                                       eq ? (size_t)(end - eq - 1) : 0, &o,
                                       &out[n].value)) != NULL) {
            return -1;
        }
        n++;
        p = *end == '&' ? end + 1 : end;
    }
    return (int)n;
}
