/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

#include <stdint.h>

#include <apr_strings.h>

#include "zt_b64.h"

static const char zt_b64_enc[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for an alphabet character, 0xff for anything else (including '=',
 * '+', '/', whitespace and every byte >= 0x80). */
static const unsigned char zt_b64_dec[256] = {
#define X 0xff
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, 62, X, X,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
    X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, 63,
    X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
#undef X
};

int zt_b64url_is_char(unsigned char c)
{
    return zt_b64_dec[c] != 0xff;
}

/*
** The hot loop takes 8 characters a step: 8 table lookups ORed together
** tell with one test whether any is outside the alphabet (0xff), and the
** 48 bits go out as 6 bytes.  A byte at a time, with a test per
** character, took three times as long (about 1 ns per character, a third
** of a token's parse; docs/BENCHMARKS.md).
*/
int zt_b64url_decode(unsigned char *out, size_t outcap, size_t *outlen,
                     const char *in, size_t len)
{
    const unsigned char *s = (const unsigned char *)in;
    const unsigned char *d = zt_b64_dec;
    size_t full = len / 4, rest = len % 4, n = 0, i = 0;
    unsigned v0, v1, v2, v3;

    *outlen = 0;
    if (rest == 1) {
        return -1;              /* 6 bits cannot end a byte string */
    }
    if (full * 3 + (rest ? rest - 1 : 0) > outcap) {
        return -1;
    }
    for (; i + 2 <= full; i += 2, s += 8) {
        unsigned a0 = d[s[0]], a1 = d[s[1]], a2 = d[s[2]], a3 = d[s[3]];
        unsigned b0 = d[s[4]], b1 = d[s[5]], b2 = d[s[6]], b3 = d[s[7]];
        uint32_t a, b;

        if ((a0 | a1 | a2 | a3 | b0 | b1 | b2 | b3) & 0x80) {
            return -1;
        }
        a = a0 << 18 | a1 << 12 | a2 << 6 | a3;
        b = b0 << 18 | b1 << 12 | b2 << 6 | b3;
        out[n] = (unsigned char)(a >> 16);
        out[n + 1] = (unsigned char)(a >> 8);
        out[n + 2] = (unsigned char)a;
        out[n + 3] = (unsigned char)(b >> 16);
        out[n + 4] = (unsigned char)(b >> 8);
        out[n + 5] = (unsigned char)b;
        n += 6;
    }
    if (i < full) {
        v0 = d[s[0]], v1 = d[s[1]], v2 = d[s[2]], v3 = d[s[3]];
        if ((v0 | v1 | v2 | v3) & 0x80) {
            return -1;
        }
        out[n++] = (unsigned char)(v0 << 2 | v1 >> 4);
        out[n++] = (unsigned char)(v1 << 4 | v2 >> 2);
        out[n++] = (unsigned char)(v2 << 6 | v3);
        s += 4;
    }
    if (rest) {
        v0 = d[s[0]], v1 = d[s[1]], v2 = rest == 3 ? d[s[2]] : 0;
        if ((v0 | v1 | v2) & 0x80) {
            return -1;
        }
        out[n++] = (unsigned char)(v0 << 2 | v1 >> 4);
        if (rest == 2) {
            if (v1 & 0x0f) {
                return -1;      /* non-zero unused bits: not canonical */
            }
        }
        else {
            out[n++] = (unsigned char)(v1 << 4 | v2 >> 2);
            if (v2 & 0x03) {
                return -1;
            }
        }
    }
    *outlen = n;
    return 0;
}

unsigned char *zt_b64url_decode_pool(apr_pool_t *pool, const char *in,
                                     size_t len, size_t *outlen)
{
    size_t cap = ZT_B64_DECODED_MAX(len);
    unsigned char *out = apr_palloc(pool, cap + 1);

    if (out == NULL || zt_b64url_decode(out, cap, outlen, in, len) != 0) {
        return NULL;
    }
    out[*outlen] = '\0';
    return out;
}

size_t zt_b64url_encode(char *out, const unsigned char *in, size_t len)
{
    size_t n = 0, i = 0;

    for (; i + 3 <= len; i += 3) {
        out[n++] = zt_b64_enc[in[i] >> 2];
        out[n++] = zt_b64_enc[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
        out[n++] = zt_b64_enc[(in[i + 1] & 0x0f) << 2 | in[i + 2] >> 6];
        out[n++] = zt_b64_enc[in[i + 2] & 0x3f];
    }
    if (len - i == 1) {
        out[n++] = zt_b64_enc[in[i] >> 2];
        out[n++] = zt_b64_enc[(in[i] & 0x03) << 4];
    }
    else if (len - i == 2) {
        out[n++] = zt_b64_enc[in[i] >> 2];
        out[n++] = zt_b64_enc[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
        out[n++] = zt_b64_enc[(in[i + 1] & 0x0f) << 2];
    }
    out[n] = '\0';
    return n;
}

char *zt_b64url_encode_pool(apr_pool_t *pool, const unsigned char *in,
                            size_t len)
{
    char *out = apr_palloc(pool, ZT_B64_ENCODED_LEN(len) + 1);

    zt_b64url_encode(out, in, len);
    return out;
}
