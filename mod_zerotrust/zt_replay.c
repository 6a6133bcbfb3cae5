/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The shared seen-set of zt_replay.h.  Every slot is read and written
 * with sequentially consistent atomics: the claim of one process and the
 * re-read of another are then ordered, which is what makes "at least one
 * of two racing uses is refused" hold.
 */

#include <string.h>

#include "zt_replay.h"

#define ZT_REPLAY_MAGIC 0x5a545250u     /* "ZTRP" */

struct zt_replay_s {
    uint32_t magic;
    uint32_t nslots;
    uint64_t slot[];                /* tag << 32 | expiry second */
};

static inline uint32_t zt_slot_tag(uint64_t v)
{
    return (uint32_t)(v >> 32);
}

static inline uint32_t zt_slot_exp(uint64_t v)
{
    return (uint32_t)v;
}

/* Live at @a now: used and not expired.  Seconds fit 32 bits until 2106. */
static inline int zt_slot_live(uint64_t v, uint32_t now)
{
    return v != 0 && zt_slot_exp(v) > now;
}

size_t zt_replay_size(uint32_t slots)
{
    return sizeof(zt_replay_t) + (size_t)slots * sizeof(uint64_t);
}

zt_replay_t *zt_replay_init(void *mem, size_t size, uint32_t slots)
{
    zt_replay_t *rp = mem;

    if (mem == NULL || ((uintptr_t)mem & 7) != 0 || slots < ZT_REPLAY_MIN
        || slots > ZT_REPLAY_MAX || size < zt_replay_size(slots)) {
        return NULL;
    }
    memset(mem, 0, zt_replay_size(slots));
    rp->nslots = slots;
    rp->magic = ZT_REPLAY_MAGIC;
    return rp;
}

uint32_t zt_replay_slots(const zt_replay_t *rp)
{
    return rp->nslots;
}

uint32_t zt_replay_live(const zt_replay_t *rp, int64_t now)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < rp->nslots; i++) {
        n += zt_slot_live(__atomic_load_n(&rp->slot[i], __ATOMIC_SEQ_CST),
                          (uint32_t)now);
    }
    return n;
}

/* Is @a tag live in the window from @a home, other than at @a skip? */
static int zt_replay_seen(const zt_replay_t *rp, uint32_t home, uint32_t tag,
                          uint32_t now, uint32_t skip)
{
    uint32_t probes = rp->nslots < ZT_REPLAY_PROBES ? rp->nslots
                                                     : ZT_REPLAY_PROBES;

    for (uint32_t i = 0; i < probes; i++) {
        uint32_t at = (home + i) % rp->nslots;
        uint64_t v = __atomic_load_n(&rp->slot[at], __ATOMIC_SEQ_CST);

        if (at != skip && zt_slot_live(v, now) && zt_slot_tag(v) == tag) {
            return 1;
        }
    }
    return 0;
}

zt_replay_e zt_replay_check(zt_replay_t *rp, const unsigned char key[32],
                            int64_t now64, uint32_t lifetime)
{
    uint32_t now = (uint32_t)now64, tag, home, probes;
    uint64_t h = 0, mine;

    if (rp == NULL || rp->magic != ZT_REPLAY_MAGIC) {
        return ZT_REPLAY_FULL;          /* no set: fail closed */
    }
    memcpy(&tag, key, 4);
    tag |= tag == 0;                    /* 0 marks an unused slot */
    memcpy(&h, key + 4, 8);
    home = (uint32_t)(h % rp->nslots);
    probes = rp->nslots < ZT_REPLAY_PROBES ? rp->nslots : ZT_REPLAY_PROBES;
    if (lifetime == 0) {
        lifetime = 1;
    }
    mine = (uint64_t)tag << 32
           | (uint32_t)(now + (lifetime > UINT32_MAX - now ? UINT32_MAX - now
                                                           : lifetime));

    if (zt_replay_seen(rp, home, tag, now, UINT32_MAX)) {
        return ZT_REPLAY_SEEN;
    }
    for (uint32_t i = 0; i < probes; i++) {
        uint32_t at = (home + i) % rp->nslots;
        uint64_t v = __atomic_load_n(&rp->slot[at], __ATOMIC_SEQ_CST);

        while (!zt_slot_live(v, now)) {
            if (__atomic_compare_exchange_n(&rp->slot[at], &v, mine, 0,
                                            __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST)) {
                /* Claimed.  Another process may have claimed the same key
                 * elsewhere in the window meanwhile: then refuse. */
                return zt_replay_seen(rp, home, tag, now, at)
                       ? ZT_REPLAY_SEEN : ZT_REPLAY_FRESH;
            }
            /* Lost the slot: v holds what is there now. */
        }
        if (zt_slot_tag(v) == tag) {
            return ZT_REPLAY_SEEN;      /* claimed by a racing process */
        }
    }
    return ZT_REPLAY_FULL;
}
