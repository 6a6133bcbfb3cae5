/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_ascii.h
 * @brief ASCII rules the core and zpc share, one copy of each: the value
 *        of a hexadecimal digit, the shape of a UUID, a directive's
 *        number.  Independent of the locale (<ctype.h> is not).
 */
#ifndef ZT_ASCII_H
#define ZT_ASCII_H

#include <stddef.h>
#include <stdint.h>

/** The value of the hexadecimal digit @a c (either case), or -1. */
static inline int zt_hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;                  /* 'A'..'F' -> 'a'..'f'; no digit is made */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/** 1 when the @a n bytes at @a s are a UUID as APIs write one: 8-4-4-4-12
 *  hexadecimal digits, either case; no braces, no "urn:uuid:".  Any
 *  version and variant. */
static inline int zt_uuid_shape(const char *s, size_t n)
{
    if (n != 36) {
        return 0;
    }
    for (size_t i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? s[i] != '-' : zt_hexval((unsigned char)s[i]) < 0) {
            return 0;
        }
    }
    return 1;
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

#endif /* ZT_ASCII_H */
