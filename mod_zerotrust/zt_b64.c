/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

#include <stdint.h>
#include <string.h>

#include <apr_strings.h>

#include "zt_b64.h"

static const char zt_b64_enc[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Each byte's value: 0..63 for an alphabet character, X for anything
 * else (including '=', '+', '/', whitespace and every byte >= 0x80), as a
 * list that F turns into one table or another. */
#define X 0xff
#define ZT_B64_LIST(F) \
    F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), \
    F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), \
    F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(62), F(X), F(X), \
    F(52), F(53), F(54), F(55), F(56), F(57), F(58), F(59), F(60), F(61), F(X), F(X), F(X), F(X), F(X), F(X), \
    F(X), F(0), F(1), F(2), F(3), F(4), F(5), F(6), F(7), F(8), F(9), F(10), F(11), F(12), F(13), F(14), \
    F(15), F(16), F(17), F(18), F(19), F(20), F(21), F(22), F(23), F(24), F(25), F(X), F(X), F(X), F(X), F(63), \
    F(X), F(26), F(27), F(28), F(29), F(30), F(31), F(32), F(33), F(34), F(35), F(36), F(37), F(38), F(39), F(40), \
    F(41), F(42), F(43), F(44), F(45), F(46), F(47), F(48), F(49), F(50), F(51), F(X), F(X), F(X), F(X), F(X), \
    F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), \
    F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), \
    F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), \
    F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), \
    F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), \
    F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), \
    F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), \
    F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X), F(X)

#define ZT_B64_ID(v) (v)
static const unsigned char zt_b64_dec[256] = { ZT_B64_LIST(ZT_B64_ID) };

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
** For the fast loop: character k of a group of four, already shifted to
** where its bits land in the three output bytes as a little-endian word
** (byte 0 = first output byte), so a group is four lookups ORed and one
** store.  An invalid character sets bit 24, which no valid group has.
*/
#define ZT_B64_BAD UINT32_C(0x01000000)
#define ZT_B64_D0(v) ((v) == X ? ZT_B64_BAD : (uint32_t)(v) << 2)
#define ZT_B64_D1(v) ((v) == X ? ZT_B64_BAD \
                      : (uint32_t)(v) >> 4 | ((uint32_t)(v) & 0x0f) << 12)
#define ZT_B64_D2(v) ((v) == X ? ZT_B64_BAD \
                      : ((uint32_t)(v) >> 2) << 8 | ((uint32_t)(v) & 0x03) << 22)
#define ZT_B64_D3(v) ((v) == X ? ZT_B64_BAD : (uint32_t)(v) << 16)
static const uint32_t zt_b64_d0[256] = { ZT_B64_LIST(ZT_B64_D0) };
static const uint32_t zt_b64_d1[256] = { ZT_B64_LIST(ZT_B64_D1) };
static const uint32_t zt_b64_d2[256] = { ZT_B64_LIST(ZT_B64_D2) };
static const uint32_t zt_b64_d3[256] = { ZT_B64_LIST(ZT_B64_D3) };
#define ZT_B64_FAST 1
#endif
#undef X

int zt_b64url_is_char(unsigned char c)
{
    return zt_b64_dec[c] != 0xff;
}

/*
** Whole groups of four characters first: on a little-endian machine each
** is four lookups in the shifted tables ORed into the three bytes it
** encodes (plus a junk fourth byte that the next group overwrites; the
** last group is stored byte by byte), one test for a character outside
** the alphabet, one store.  Elsewhere, and for the last group and the
** tail, the plain table.  A test per character took three times as long
** (about 1 ns per character, a third of a token's parse).
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
#ifdef ZT_B64_FAST
    for (; i + 2 <= full; i += 2, s += 8, n += 6) {
        uint32_t a = zt_b64_d0[s[0]] | zt_b64_d1[s[1]] | zt_b64_d2[s[2]]
                     | zt_b64_d3[s[3]];
        uint32_t b = zt_b64_d0[s[4]] | zt_b64_d1[s[5]] | zt_b64_d2[s[6]]
                     | zt_b64_d3[s[7]];

        if ((a | b) & ZT_B64_BAD) {
            return -1;
        }
        memcpy(out + n, &a, 4);             /* byte 3 is overwritten next */
        if (i + 2 < full) {
            memcpy(out + n + 3, &b, 4);     /* and this one by the next pair */
        }
        else {
            out[n + 3] = (unsigned char)b;
            out[n + 4] = (unsigned char)(b >> 8);
            out[n + 5] = (unsigned char)(b >> 16);
        }
    }
#endif
    for (; i < full; i++, s += 4) {
        v0 = d[s[0]], v1 = d[s[1]], v2 = d[s[2]], v3 = d[s[3]];
        if ((v0 | v1 | v2 | v3) & 0x80) {
            return -1;
        }
        out[n++] = (unsigned char)(v0 << 2 | v1 >> 4);
        out[n++] = (unsigned char)(v1 << 4 | v2 >> 2);
        out[n++] = (unsigned char)(v2 << 6 | v3);
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
