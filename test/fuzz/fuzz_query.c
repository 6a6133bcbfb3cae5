/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * libFuzzer target for the query parser (zt_query_parse).  The input, up
 * to its first NUL, is a raw query string; it is decoded into a buffer of
 * exactly its length, so ASan sees any write past it.
 *
 * Besides "no crash, no sanitizer report", a successful parse must hold:
 *   - at most max parameters, every name non-empty;
 *   - every span inside the buffer, decoded bytes free of NUL and control
 *     bytes, and valid UTF-8 (checked here by a second, simpler decoder of
 *     code points);
 *   - as many parameters as the input has non-empty '&'-separated pairs;
 *   - decoding is one-to-one: re-encoding each pair (every byte but
 *     unreserved ones as %XX) and parsing that gives the same pairs.
 * A refused query must have a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zt_eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX 64

static void fz_fail(const char *what)
{
    fprintf(stderr, "fuzz_query: %s\n", what);
    abort();
}

/* Code point decoder for the check, written differently from zt_query.c:
 * accumulate, then reject overlong, surrogate and out-of-range values. */
static int fz_utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i], need, cp, min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) { need = 1; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { need = 2; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { need = 3; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (n - i <= need) {
            return 0;
        }
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        i += need + 1;
    }
    return 1;
}

static void fz_check_span(const zt_span_t *sp, const char *buf, size_t len)
{
    if (sp->len != 0 && (sp->ptr < buf || sp->len > len
                         || (size_t)(sp->ptr - buf) > len - sp->len)) {
        fz_fail("span outside the buffer");
    }
    for (uint32_t k = 0; k < sp->len; k++) {
        unsigned char c = (unsigned char)sp->ptr[k];
        if (c < 0x20 || c == 0x7f) {
            fz_fail("control byte decoded");
        }
    }
    if (!fz_utf8_ok((const unsigned char *)sp->ptr, sp->len)) {
        fz_fail("invalid UTF-8 decoded");
    }
}

static char *fz_encode(char *o, const zt_span_t *sp)
{
    static const char hex[] = "0123456789ABCDEF";

    for (uint32_t k = 0; k < sp->len; k++) {
        unsigned char c = (unsigned char)sp->ptr[k];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        }
        else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static zt_qparam_t out[FZ_MAX], again[FZ_MAX];
    char *raw, *buf, *enc, *ebuf, *o;
    const char *err = NULL;
    size_t len, pairs = 0;
    int n, m;

    raw = malloc(size + 1);
    if (raw == NULL) {
        return 0;
    }
    memcpy(raw, data, size);
    raw[size] = '\0';
    len = strlen(raw);
    buf = malloc(len ? len : 1);
    if (buf == NULL) {
        free(raw);
        return 0;
    }
    n = zt_query_parse(raw, buf, out, FZ_MAX, &err);
    if (n < 0) {
        if (err == NULL || *err == '\0') {
            fz_fail("refused without a reason");
        }
        goto done;
    }
    if (n > FZ_MAX) {
        fz_fail("more parameters than allowed");
    }
    for (const char *p = raw; *p != '\0'; ) {
        const char *e = strchr(p, '&');
        size_t plen = e ? (size_t)(e - p) : strlen(p);
        pairs += plen > 0;
        p += plen + (e != NULL);
    }
    if ((size_t)n != pairs) {
        fz_fail("parameter count differs from the pairs");
    }
    /* each decoded byte becomes at most 3: '=' '&' included */
    enc = malloc(3 * len + 2 * (size_t)n + 1);
    ebuf = malloc(3 * len + 2 * (size_t)n + 1);
    if (enc == NULL || ebuf == NULL) {
        free(enc);
        free(ebuf);
        goto done;
    }
    o = enc;
    for (int k = 0; k < n; k++) {
        if (out[k].name.len == 0) {
            fz_fail("empty name");
        }
        fz_check_span(&out[k].name, buf, len);
        fz_check_span(&out[k].value, buf, len);
        if (k > 0) {
            *o++ = '&';
        }
        o = fz_encode(o, &out[k].name);
        *o++ = '=';
        o = fz_encode(o, &out[k].value);
    }
    *o = '\0';
    m = zt_query_parse(enc, ebuf, again, FZ_MAX, &err);
    if (m != n) {
        fz_fail("re-encoded query parses differently");
    }
    for (int k = 0; k < n; k++) {
        if (again[k].name.len != out[k].name.len
            || again[k].value.len != out[k].value.len
            || memcmp(again[k].name.ptr, out[k].name.ptr, out[k].name.len) != 0
            || memcmp(again[k].value.ptr, out[k].value.ptr, out[k].value.len) != 0) {
            fz_fail("re-encoded pair differs");
        }
    }
    free(enc);
    free(ebuf);
done:
    free(buf);
    free(raw);
    return 0;
}
