/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Reading text a word (8 bytes) at a time, for the route split, the
 * scope-word search, name hashing, JSON escaping and the control bytes of
 * header values: one test finds a given byte, or a class of them, among
 * eight.  A text's last, short word is read with zt_load_tail when the 8
 * bytes before its end may be read, else with zt_load_n.
 */
#ifndef ZT_WORD_H
#define ZT_WORD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ZT_ONES  0x0101010101010101ull
#define ZT_HIGHS 0x8080808080808080ull
#define ZT_LOW7S 0x7f7f7f7f7f7f7f7full

/* 8 bytes at @a p, the first in the low byte whatever the byte order. */
static inline uint64_t zt_load8(const char *p)
{
    uint64_t w;

    memcpy(&w, p, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* Word @a w as 8 bytes at @a p, its low byte first: zt_load8's inverse. */
static inline void zt_store8(char *p, uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    memcpy(p, &w, sizeof(w));
}

/* The @a n (at most 8) bytes at @a p as a word, zero-padded, reading
 * only those bytes: for text that may end where its memory ends.  Two
 * loads that may overlap (a byte read twice is the same byte), not a
 * loop: a short text's last word is read once per text. */
static inline uint64_t zt_load_n(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;

    if (n >= 4) {
        uint32_t lo, hi;

        memcpy(&lo, p, sizeof(lo));
        memcpy(&hi, p + n - 4, sizeof(hi));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        lo = __builtin_bswap32(lo);
        hi = __builtin_bswap32(hi);
#endif
        return (uint64_t)lo | (uint64_t)hi << (8 * (n - 4));
    }
    if (n == 0) {
        return 0;
    }
    return (uint64_t)u[0] | (uint64_t)u[n / 2] << (8 * (n / 2))
           | (uint64_t)u[n - 1] << (8 * (n - 1));
}

/* The @a n (1 to 8) bytes that end at @a end, as zt_load_n reads them,
 * with one load: the 8 bytes before @a end must be readable. */
static inline uint64_t zt_load_tail(const char *end, size_t n)
{
    return zt_load8(end - 8) >> (8 * (8 - n));
}

/* The high bit of each byte of @a w equal to @a c, exactly: no carry
 * runs from one byte into the next, so every bit set is a match. */
static inline uint64_t zt_bytes_equal_to(uint64_t w, unsigned char c)
{
    uint64_t x = w ^ (ZT_ONES * c);

    return ~(((x & ZT_LOW7S) + ZT_LOW7S) | x | ZT_LOW7S);
}

/* The high bit of each byte of @a w below 0x20 or equal to 0x7f (a
 * control byte), exactly: on its low seven bits neither add carries, and
 * bytes of 0x80 or above (obs-text) are masked out. */
static inline uint64_t zt_controls8(uint64_t w)
{
    uint64_t lo = w & ZT_LOW7S;

    return (~(lo + ZT_ONES * 0x60) | (lo + ZT_ONES)) & ~w & ZT_HIGHS;
}

#endif /* ZT_WORD_H */
