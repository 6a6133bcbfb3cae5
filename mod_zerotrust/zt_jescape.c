/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * JSON string escaping (zt_jescape.h).  Almost every byte the audit
 * record carries needs no escape, so the text is read 16 bytes at a time
 * with SSE2 (a word, 8 bytes, where SSE2 is missing or with
 * -DZT_JESCAPE_WORDS), each piece stored to the output as it is read,
 * until one holds a byte that does: a byte loop cost ~10 instructions a
 * byte, most of the record's cost (docs/BENCHMARKS.md, "Audit record
 * (session 5)"); words cost ~75 a string, of the record's nine short
 * ones, SSE2 about half that.
 */
#include <stdint.h>
#include <string.h>

#include "zt_jescape.h"
#include "zt_utf8.h"
#include "zt_word.h"

static const char zt_jescape_hex[] = "0123456789ABCDEF";

#if defined(__SSE2__) && !defined(ZT_JESCAPE_WORDS)
#include <emmintrin.h>

/* The bytes of @a v that must be escaped, bit i for byte i: below 0x20
 * in a signed compare (0x80 and above are negative, so they are too),
 * DEL, '"' and '\\'. */
static inline unsigned zt_jescape_mask16(__m128i v)
{
    __m128i m = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));

    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    return (unsigned)_mm_movemask_epi8(m);
}

/*
** Copy the @a n bytes at @a s to @a o up to the first that needs an
** escape, and return how many come before it (@a n: none does).  Whole
** pieces are stored: up to 8 bytes past o + n may be written.  Only the
** n bytes are read: a text shorter than 16 is read as two 8-byte words
** that may overlap (or zt_load_n's pieces, under 8), a longer one's last
** 16 bytes overlap the 16 before.
*/
static inline __attribute__((always_inline))
size_t zt_jescape_copy(char *o, const char *s, size_t n)
{
    size_t i = 0, rest;
    unsigned m;
    __m128i v, hi;

    if (n < 8) {
        uint64_t w = zt_load_n(s, n);   /* zero-padded: not text */

        zt_store8(o, w);
        m = zt_jescape_mask16(_mm_set_epi64x(0, (long long)w))
            & ((1u << n) - 1);
        return m ? (size_t)__builtin_ctz(m) : n;
    }
    if (n < 16) {
        /* bytes 0-7 and n-8 to n-1 (bits 8-15) */
        v = _mm_loadl_epi64((const __m128i *)(const void *)s);
        hi = _mm_loadl_epi64((const __m128i *)(const void *)(s + n - 8));
        _mm_storel_epi64((__m128i *)(void *)o, v);
        _mm_storel_epi64((__m128i *)(void *)(o + n - 8), hi);
        m = zt_jescape_mask16(_mm_unpacklo_epi64(v, hi));
        if ((m & 0xff) != 0) {
            return (size_t)__builtin_ctz(m);
        }
        return m ? n - 16 + (size_t)__builtin_ctz(m) : n;
    }
    for (; n - i >= 16; i += 16) {
        v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        _mm_storeu_si128((__m128i *)(void *)(o + i), v);
        if ((m = zt_jescape_mask16(v)) != 0) {
            return i + (size_t)__builtin_ctz(m);
        }
    }
    if ((rest = n - i) == 0) {
        return n;
    }
    /* the last 16 bytes, the first 16 - rest of them seen already */
    v = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
    _mm_storeu_si128((__m128i *)(void *)(o + n - 16), v);
    m = zt_jescape_mask16(v) >> (16 - rest);
    return m ? i + (size_t)__builtin_ctz(m) : n;
}

#else /* words */

/*
** The high bit of each byte of @a w that must be escaped: below 0x20,
** 0x7F and above, '"', '\\'.  Exact: the sums are of 7-bit values, so no
** carry crosses into the next byte.  The low 7 bits of a byte are
** tested alone, as a byte with its high bit set is flagged anyway.
*/
static inline uint64_t zt_jescape_mask(uint64_t w)
{
    uint64_t low7 = w & ZT_LOW7S;
    /* high bit clear: below 0x20, '"', '\\' (x + 0x7F, x of 7 bits, has it
     * set unless x is 0: the byte was the one xor'ed away) */
    uint64_t plain = (low7 + ZT_ONES * (0x80 - 0x20))
                     & ((low7 ^ (ZT_ONES * '"')) + ZT_LOW7S)
                     & ((low7 ^ (ZT_ONES * '\\')) + ZT_LOW7S);

    return (~plain | (low7 + ZT_ONES) | w) & ZT_HIGHS;
}

/*
** Copy the @a n bytes at @a s to @a o up to the first that needs an
** escape, and return how many come before it (@a n: none does).  Whole
** words are stored: up to 8 bytes past o + n may be written.
*/
static inline __attribute__((always_inline))
size_t zt_jescape_copy(char *o, const char *s, size_t n)
{
    size_t i = 0, rest;
    uint64_t w, m;

    for (; n - i >= 8; i += 8) {
        w = zt_load8(s + i);
        zt_store8(o + i, w);
        if ((m = zt_jescape_mask(w)) != 0) {
            return i + (size_t)__builtin_ctzll(m) / 8;
        }
    }
    if ((rest = n - i) == 0) {
        return n;
    }
    if (n >= 8) {
        /* the last 8 bytes, the first 8 - rest of them seen already */
        w = zt_load8(s + n - 8);
        zt_store8(o + n - 8, w);
        m = zt_jescape_mask(w) >> (8 * (8 - rest));
    }
    else {
        w = zt_load_n(s, n);            /* zero-padded: not text */
        zt_store8(o, w);
        m = zt_jescape_mask(w) & ((1ull << (8 * n)) - 1);
    }
    return m ? i + (size_t)__builtin_ctzll(m) / 8 : n;
}

#endif /* words */

/* 1 when the bytes from @a p to @a end are UTF-8 throughout. */
static int zt_jescape_utf8(const unsigned char *p, const unsigned char *end)
{
    while (p < end) {
        size_t k = zt_utf8_seq(p, (size_t)(end - p));

        if (k == 0) {
            return 0;
        }
        p += k;
    }
    return 1;
}

/* "\uXXXX" at @a o; returns the end. */
static char *zt_jescape_u(char *o, unsigned long u)
{
    o[0] = '\\';
    o[1] = 'u';
    o[2] = zt_jescape_hex[(u >> 12) & 0xf];
    o[3] = zt_jescape_hex[(u >> 8) & 0xf];
    o[4] = zt_jescape_hex[(u >> 4) & 0xf];
    o[5] = zt_jescape_hex[u & 0xf];
    return o + 6;
}

/* The escape of ASCII byte @a c: quote, backslash or a control. */
static char *zt_jescape_ascii(char *o, unsigned char c)
{
    char short_form;

    switch (c) {
    case '"':  short_form = '"';  break;
    case '\\': short_form = '\\'; break;
    case '\b': short_form = 'b';  break;
    case '\f': short_form = 'f';  break;
    case '\n': short_form = 'n';  break;
    case '\r': short_form = 'r';  break;
    case '\t': short_form = 't';  break;
    default:   return zt_jescape_u(o, c);
    }
    o[0] = '\\';
    o[1] = short_form;
    return o + 2;
}

/* The character of the valid @a k-byte sequence at @a p as \uXXXX, or
 * as a surrogate pair above the BMP. */
static char *zt_jescape_char(char *o, const unsigned char *p, size_t k)
{
    static const unsigned char lead_bits[5] = { 0, 0, 0x1f, 0x0f, 0x07 };
    unsigned long cp = p[0] & lead_bits[k];

    for (size_t i = 1; i < k; i++) {
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < 0x10000) {
        return zt_jescape_u(o, cp);
    }
    cp -= 0x10000;
    o = zt_jescape_u(o, 0xd800 | (cp >> 10));
    return zt_jescape_u(o, 0xdc00 | (cp & 0x3ff));
}

/*
** The text from @a p, whose first byte needs an escape: kept apart, so
** that the common case (nothing to escape) stays short.
*/
static __attribute__((noinline))
char *zt_jescape_rest(char *out, const unsigned char *p,
                      const unsigned char *end)
{
    int bytes = -1;             /* \xHH per byte: known at the first above
                                 * 0x7F, for the whole text */
    size_t k;

    while (p < end) {
        if (*p < 0x80) {
            out = zt_jescape_ascii(out, *p++);
        }
        else {
            if (bytes < 0) {
                /* all before it is ASCII */
                bytes = !zt_jescape_utf8(p, end);
            }
            if (bytes) {
                out[0] = '\\';
                out[1] = '\\';
                out[2] = 'x';
                out[3] = zt_jescape_hex[*p >> 4];
                out[4] = zt_jescape_hex[*p & 0xf];
                out += 5;
                p++;
            }
            else {
                k = zt_utf8_seq(p, (size_t)(end - p));
                out = zt_jescape_char(out, p, k);
                p += k;
            }
        }
        k = zt_jescape_copy(out, (const char *)p, (size_t)(end - p));
        out += k;
        p += k;
    }
    return out;
}

char *zt_json_escape(char *out, const char *s, size_t n)
{
    size_t k = zt_jescape_copy(out, s, n);

    if (k < n) {
        return zt_jescape_rest(out + k, (const unsigned char *)s + k,
                               (const unsigned char *)s + n);
    }
    return out + n;
}

int zt_json_plain_strings(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c < 0x20 && c != 0) || c >= 0x7f || c == '"' || c == '\\') {
            return 0;
        }
    }
    return 1;
}
