/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_ascii.h
 * @brief ASCII rules the core and zpc share, one copy of each: the value
 *        of a hexadecimal digit, the shape of a UUID, a directive's
 *        number, an integer written in decimal.  Independent of the
 *        locale (<ctype.h> is not).
 */
#ifndef ZT_ASCII_H
#define ZT_ASCII_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "zt_word.h"

/** The value of the hexadecimal digit @a c (either case), or -1. */
static inline int zt_hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;                  /* 'A'..'F' -> 'a'..'f'; no digit is made */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* ZT_HIGHS when the eight bytes of @a w are all hexadecimal digits,
 * either case; else a byte's high bit is clear.  For a byte below 0x80,
 * adding 0x80 - lo sets its high bit from lo up, adding 0x7f - hi from
 * past hi, without a carry; letters are tested as lower case (only
 * 'A'..'F' and 'a'..'f' fall in 'a'..'f' once 0x20 is set).  A byte of
 * 0x80 or above fails both ranges, and the carry it may send into the
 * next byte cannot make the word pass: the lowest such byte receives
 * none, and fails. */
static inline uint64_t zt_ascii_hex8(uint64_t w)
{
    uint64_t lower = w | ZT_ONES * 0x20;
    uint64_t digit = (w + ZT_ONES * (0x80 - '0')) & ~(w + ZT_ONES * (0x7f - '9'));
    uint64_t letter = (lower + ZT_ONES * (0x80 - 'a'))
                      & ~(lower + ZT_ONES * (0x7f - 'f'));

    return (digit | letter) & ZT_HIGHS;
}

/** 1 when the @a n bytes at @a s are a UUID as APIs write one: 8-4-4-4-12
 *  hexadecimal digits, either case; no braces, no "urn:uuid:".  Any
 *  version and variant.  Its 32 digits are read as four words of eight
 *  (zt_ascii_hex8), its dashes one by one. */
static inline int zt_uuid_shape(const char *s, size_t n)
{
    if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-'
        || s[23] != '-') {
        return 0;
    }
    return (zt_ascii_hex8(zt_load8(s))
            & zt_ascii_hex8(zt_load_n(s + 9, 4) | zt_load_n(s + 14, 4) << 32)
            & zt_ascii_hex8(zt_load_n(s + 19, 4) | zt_load_n(s + 24, 4) << 32)
            & zt_ascii_hex8(zt_load8(s + 28))) == ZT_HIGHS;
}

/**
 * A number as directives write one: decimal digits and nothing else (no
 * sign, no space, no "0x"), and when @a suffixes is 1 one of K, M or G
 * (either case, powers of 1024) after them.  1 with *out set when @a s
 * is that and its value is from @a min to @a max; 0 otherwise, without
 * ever wrapping, however many digits.
 */
static inline int zt_parse_number(const char *s, int suffixes, uint64_t min,
                                  uint64_t max, uint64_t *out)
{
    uint64_t n = 0, unit = 1;
    const char *p = s;

    if (*p < '0' || *p > '9') {
        return 0;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');

        if (d > max || n > (max - d) / 10) {
            return 0;           /* past max already, before any suffix */
        }
        n = n * 10 + d;
    }
    if (suffixes) {
        switch (*p) {
        case 'k': case 'K': unit = (uint64_t)1 << 10; p++; break;
        case 'm': case 'M': unit = (uint64_t)1 << 20; p++; break;
        case 'g': case 'G': unit = (uint64_t)1 << 30; p++; break;
        default: break;
        }
    }
    if (*p != '\0' || n > max / unit || n * unit < min) {
        return 0;
    }
    *out = n * unit;
    return 1;
}

/* "00" to "99" for @a v (below 100) at @a o; returns the end.  Numbers
 * are written two digits at a time: a digit at a time costs a 64-bit
 * division each, and the formatter of snprintf far more. */
static inline char *zt_put_2digits(char *o, unsigned v)
{
    static const char pairs[] =
        "0001020304050607080910111213141516171819202122232425262728293031"
        "3233343536373839404142434445464748495051525354555657585960616263"
        "6465666768697071727374757677787980818283848586878889909192939495"
        "96979899";

    memcpy(o, pairs + 2 * v, 2);    /* one 16-bit load and store */
    return o + 2;
}

/* @a v (below 10000) as exactly 4 digits at @a o. */
static inline void zt_put_4digits(char *o, unsigned v)
{
    zt_put_2digits(o, v / 100);
    zt_put_2digits(o + 2, v % 100);
}

/* @a v (below 10000) in decimal at @a o; returns the end.  Its width
 * found by comparisons, not by dividing. */
static inline char *zt_put_small(char *o, unsigned v)
{
    if (v < 10) {
        *o = (char)('0' + v);
        return o + 1;
    }
    if (v < 100) {
        return zt_put_2digits(o, v);
    }
    if (v < 1000) {
        *o = (char)('0' + v / 100);
        return zt_put_2digits(o + 1, v % 100);
    }
    zt_put_4digits(o, v);
    return o + 4;
}

/* @a u (10^8 or more) in decimal at @a o; returns the end. */
static inline char *zt_put_decimal_long(char *o, uint64_t u)
{
    uint64_t t;
    char *end;
    int w = 1;

    for (t = u; t >= 100; t /= 100) {
        w += 2;
    }
    w += t >= 10;
    end = o + w;
    for (; u >= 100; u /= 100) {
        zt_put_2digits(o + w - 2, (unsigned)(u % 100));
        w -= 2;
    }
    if (u >= 10) {
        zt_put_2digits(o, (unsigned)u);
    }
    else {
        *o = (char)('0' + u);
    }
    return end;
}

/**
 * @a v in decimal at @a o (at most 20 bytes, no NUL); returns the end.
 * The numbers written per request (a status, a latency, a line) have
 * under 9 digits: those take one or two zt_put_small, a division by
 * 10000 between, ~15 instructions where a loop over digit pairs took
 * ~50 (it divides to count them first).
 */
static inline char *zt_put_decimal(char *o, int64_t v)
{
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    if (v < 0) {
        *o++ = '-';
    }
    if (u < 10000) {
        return zt_put_small(o, (unsigned)u);
    }
    if (u < 100000000) {
        unsigned hi = (unsigned)u / 10000;

        o = zt_put_small(o, hi);
        zt_put_4digits(o, (unsigned)u - hi * 10000);
        return o + 4;
    }
    return zt_put_decimal_long(o, u);
}

#endif /* ZT_ASCII_H */
