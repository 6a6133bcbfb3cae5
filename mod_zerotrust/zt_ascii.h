/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_ascii.h
 * @brief ASCII rules the core and zpc share, one copy of each: the value
 *        of a hexadecimal digit, the shape of a UUID.  Independent of the
 *        locale (<ctype.h> is not).
 */
#ifndef ZT_ASCII_H
#define ZT_ASCII_H

#include <stddef.h>

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

#endif /* ZT_ASCII_H */
