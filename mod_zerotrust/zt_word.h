/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Reading text a word (8 bytes) at a time, for the route split, the
 * scope-word search and name hashing: one test finds a given byte among
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

/* The @a n (at most 8) bytes at @a p as a word, zero-padded, reading
 * only those bytes: for text that may end where its memory ends. */
static inline uint64_t zt_load_n(const char *p, size_t n)
{
    uint64_t w = 0;

    for (size_t k = 0; k < n; k++) {
        w |= (uint64_t)(unsigned char)p[k] << (8 * k);
    }
    return w;
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

#endif /* ZT_WORD_H */
