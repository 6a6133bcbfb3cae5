/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * JSON string escaping (zt_jescape.h) held to a reference, for
 * test_jescape and fuzz_jescape: the reference is written the plain way
 * (a byte loop, a UTF-8 decoder from RFC 3629's table, sprintf), and
 * jansson reads every result back.
 */
#ifndef ZT_JESCAPE_REF_H
#define ZT_JESCAPE_REF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "zt_jescape.h"

/* The scalar value of the UTF-8 sequence at @a s (RFC 3629 section 4)
 * and its length in *len, or -1. */
static long ref_utf8(const unsigned char *s, size_t avail, size_t *len)
{
    static const long min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    long cp;

    if (n == 0 || s[0] > 0xf7 || avail < n) {
        return -1;
    }
    cp = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return -1;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return -1;
    }
    *len = n;
    return cp;
}

static int ref_is_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0, k;

    while (i < n) {
        if (s[i] < 0x80) {
            i++;
        }
        else if (ref_utf8(s + i, n - i, &k) < 0) {
            return 0;
        }
        else {
            i += k;
        }
    }
    return 1;
}

/* The escaped text, NUL-terminated, in @a out (big enough). */
static size_t ref_escape(char *out, const unsigned char *s, size_t n)
{
    int utf8 = ref_is_utf8(s, n);
    char *o = out;
    size_t i = 0, k;

    while (i < n) {
        unsigned char c = s[i];
        long cp;

        if (c == '"' || c == '\\') {
            o += sprintf(o, "\\%c", c);
        }
        else if (c == '\b' || c == '\f' || c == '\n' || c == '\r'
                 || c == '\t') {
            o += sprintf(o, "\\%c", c == '\b' ? 'b' : c == '\f' ? 'f'
                         : c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
        }
        else if (c < 0x20 || c == 0x7f) {
            o += sprintf(o, "\\u%04X", c);
        }
        else if (c < 0x80) {
            *o++ = (char)c;
        }
        else if (!utf8) {
            o += sprintf(o, "\\\\x%02X", c);
        }
        else {
            cp = ref_utf8(s + i, n - i, &k);
            if (cp < 0x10000) {
                o += sprintf(o, "\\u%04lX", cp);
            }
            else {
                o += sprintf(o, "\\u%04lX\\u%04lX",
                             0xd800 + ((cp - 0x10000) >> 10),
                             0xdc00 + ((cp - 0x10000) & 0x3ff));
            }
            i += k;
            continue;
        }
        i++;
    }
    *o = '\0';
    return (size_t)(o - out);
}

/* ------------------------------------------------------------------ */
/* Running one text                                                    */

/*
** NULL when zt_json_escape writes the @a n bytes at @a s right, else what
** is wrong (in @a why, of @a cap bytes).  Right: the text and the output
** in memory of their exact sizes (a sanitizer sees a byte read or written
** past either), the reference's text, printable ASCII, and a JSON string
** jansson reads back to the text (valid UTF-8) or to its \xHH spelling.
*/
static const char *zt_jescape_wrong(const unsigned char *s, size_t n,
                                    char *why, size_t cap)
{
    size_t room = ZT_JSON_ESCAPE_ROOM(n), len, want_len, high = 0;
    unsigned char *in = malloc(n ? n : 1);
    char *out = malloc(room), *want = malloc(room + 1);
    char *doc = malloc(room + 3);
    const char *wrong = NULL;
    json_error_t err;
    json_t *back = NULL;

    if (!in || !out || !want || !doc) {
        wrong = "out of memory";
        goto done;
    }
    memcpy(in, s, n);
    len = (size_t)(zt_json_escape(out, (const char *)in, n) - out);
    want_len = ref_escape(want, s, n);
    if (len != want_len || memcmp(out, want, len) != 0) {
        snprintf(why, cap, "%zu bytes: got \"%.*s\", want \"%s\"", n,
                 (int)len, out, want);
        wrong = why;
        goto done;
    }
    for (size_t i = 0; i < len; i++) {
        if (out[i] < 0x20 || out[i] >= 0x7f) {
            snprintf(why, cap, "byte 0x%02x at %zu of the escape",
                     (unsigned char)out[i], i);
            wrong = why;
            goto done;
        }
    }
    doc[0] = '"';
    memcpy(doc + 1, out, len);
    doc[len + 1] = '"';
    back = json_loadb(doc, len + 2, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!back || !json_is_string(back)) {
        snprintf(why, cap, "jansson: %s", err.text);
        wrong = why;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        high += s[i] >= 0x80;
    }
    if (ref_is_utf8(s, n)
        ? json_string_length(back) != n
          || memcmp(json_string_value(back), s, n) != 0
        /* every byte above 0x7F became the four characters \xHH */
        : json_string_length(back) != n + 3 * high) {
        snprintf(why, cap, "%zu bytes: jansson reads back %zu",
                 n, json_string_length(back));
        wrong = why;
    }
done:
    json_decref(back);
    free(doc);
    free(want);
    free(out);
    free(in);
    return wrong;
}

#endif /* ZT_JESCAPE_REF_H */
