/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_utf8.h
 * @brief One strict UTF-8 rule for the core and zpc: no overlong forms,
 *        no surrogates, nothing above U+10FFFF.
 */
#ifndef ZT_UTF8_H
#define ZT_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at @a s (of @a avail bytes), or 0. */
static inline size_t zt_utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t n;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    }
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;       /* overlong */
        hi = c == 0xed ? 0x9f : 0xbf;       /* surrogates */
    }
    else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;       /* overlong */
        hi = c == 0xf4 ? 0x8f : 0xbf;       /* above U+10FFFF */
    }
    else {
        return 0;
    }
    if (avail < n || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return n;
}

#endif /* ZT_UTF8_H */
