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
 *   - every span inside the buffer, or inside the input when it needed
 *     no decoding (printable ASCII without '%' or '+', and then equal to
 *     it byte for byte); decoded bytes free of NUL and control
 *     bytes, and valid UTF-8 (checked here by a second, simpler decoder of
 *     code points);
 *   - as many parameters as the input has non-empty '&'-separated pairs;
 *   - decoding is one-to-one: re-encoding each pair (every byte but
 *     unreserved ones as %XX) and parsing that gives the same pairs.
 * A refused query must have a reason.  And the answer, count, reason and
 * every pair, must be the reference's: a plain byte loop that decodes each
 * part in full into a buffer of its own, as the parser did before it took
 * parts with nothing to decode as they stand.
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

static int fz_inside(const zt_span_t *sp, const char *buf, size_t len)
{
    return sp->ptr >= buf && sp->len <= len
           && (size_t)(sp->ptr - buf) <= len - sp->len;
}

static void fz_check_span(const zt_span_t *sp, const char *raw,
                          const char *buf, size_t len)
{
    if (sp->len != 0 && !fz_inside(sp, buf, len)) {
        if (!fz_inside(sp, raw, len)) {
            fz_fail("span outside the buffer and the input");
        }
        for (uint32_t k = 0; k < sp->len; k++) {
            unsigned char c = (unsigned char)sp->ptr[k];
            if (c < 0x20 || c >= 0x7f || c == '%' || c == '+' || c == '&') {
                fz_fail("a part that needed decoding taken as it stands");
            }
        }
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

static int fz_hex(unsigned char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The reference decoding of the part [s, s+n) into *o: bad escapes and
 * control bytes in byte order, then UTF-8 over the whole part. */
static const char *fz_ref_part(const char *s, size_t n, char **o,
                               zt_span_t *out)
{
    char *start = *o;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '%') {
            if (n - i < 3 || fz_hex((unsigned char)s[i + 1]) < 0
                || fz_hex((unsigned char)s[i + 2]) < 0) {
                return "invalid percent escape";
            }
            c = (unsigned char)(fz_hex((unsigned char)s[i + 1]) << 4
                                | fz_hex((unsigned char)s[i + 2]));
            i += 2;
        }
        else if (c == '+') {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f) {
            return "NUL or control byte";
        }
        *(*o)++ = (char)c;
    }
    if (!fz_utf8_ok((unsigned char *)start, (size_t)(*o - start))) {
        return "invalid UTF-8";
    }
    out->ptr = start;
    out->len = (uint32_t)(*o - start);
    return NULL;
}

static int fz_ref_parse(const char *raw, char *buf, zt_qparam_t *out,
                        uint32_t max, const char **err)
{
    const char *p = raw;
    char *o = buf;
    uint32_t n = 0;

    while (*p != '\0') {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);

        if (len == 0) {
            p++;
            continue;
        }
        if (eq == p) {
            *err = "parameter without a name";
            return -1;
        }
        if (n == max) {
            *err = "too many parameters";
            return -1;
        }
        if ((*err = fz_ref_part(p, eq ? (size_t)(eq - p) : len, &o,
                                &out[n].name)) != NULL
            || (*err = fz_ref_part(eq ? eq + 1 : p + len,
                                   eq ? (size_t)(p + len - eq - 1) : 0, &o,
                                   &out[n].value)) != NULL) {
            return -1;
        }
        n++;
        p += len + (p[len] == '&');
    }
    return (int)n;
}

static int fz_same_span(const zt_span_t *a, const zt_span_t *b)
{
    return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

/* zt_query_parse's answer on @a raw is the reference's. */
static void fz_check_ref(const char *raw, size_t len, int n, const char *err,
                         const zt_qparam_t *out)
{
    static zt_qparam_t ref[FZ_MAX];
    const char *rerr = NULL;
    char *rbuf = malloc(len ? len : 1);
    int rn;

    if (rbuf == NULL) {
        return;
    }
    rn = fz_ref_parse(raw, rbuf, ref, FZ_MAX, &rerr);
    if (rn != n) {
        fz_fail("count or refusal differs from the reference");
    }
    if (n < 0 && strcmp(err, rerr) != 0) {
        fz_fail("reason differs from the reference");
    }
    for (int k = 0; k < n; k++) {
        if (!fz_same_span(&out[k].name, &ref[k].name)
            || !fz_same_span(&out[k].value, &ref[k].value)) {
            fz_fail("pair differs from the reference");
        }
    }
    free(rbuf);
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
    if (n < 0 && (err == NULL || *err == '\0')) {
        fz_fail("refused without a reason");
    }
    fz_check_ref(raw, len, n, err, out);
    if (n < 0) {
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
        fz_check_span(&out[k].name, raw, buf, len);
        fz_check_span(&out[k].value, raw, buf, len);
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
