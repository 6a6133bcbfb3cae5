/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The keyed bucket hash of the per-process caches (zt_tcache.c,
 * zt_pkcache.c).  It only picks a bucket: a cache compares the stored
 * bytes in full before it answers, so a collision, crafted or not, costs
 * a longer chain and never a wrong hit; the random per-process seed keeps
 * chains short against a client who cannot read memory.  Why not SHA-256:
 * zt_tcache.c.
 */
#ifndef ZT_HASH_H
#define ZT_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t zt_hash_read64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint64_t zt_hash_mix(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
    __uint128_t r = (__uint128_t)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
    uint64_t r = (a ^ (a >> 29)) * (b | 1);

    return r ^ (r >> 32);
#endif
}

/* A keyed multiply-mix hash of @a n bytes at @a p, 16 bytes a step (the
 * wyhash construction); @a seed: 16 random bytes per process. */
static inline uint64_t zt_hash64(const uint64_t seed[2],
                                 const unsigned char *p, size_t n)
{
    uint64_t h = seed[0] ^ ((uint64_t)n * UINT64_C(0x9e3779b97f4a7c15));
    uint64_t a = 0, b = 0;

    while (n >= 16) {
        h = zt_hash_mix(zt_hash_read64(p) ^ UINT64_C(0xa0761d6478bd642f) ^ h,
                        zt_hash_read64(p + 8) ^ seed[1]);
        p += 16;
        n -= 16;
    }
    if (n >= 8) {
        a = zt_hash_read64(p);
        p += 8;
        n -= 8;
    }
    for (size_t i = 0; i < n; i++) {
        b |= (uint64_t)p[i] << (8 * i);
    }
    h = zt_hash_mix(a ^ UINT64_C(0xa0761d6478bd642f) ^ h, b ^ seed[1]);
    return zt_hash_mix(h ^ UINT64_C(0x8ebc6af09c88c6e3),
                       UINT64_C(0x589965cc75374cc3));
}

#endif /* ZT_HASH_H */
