/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_replay.h
 * @brief A set of recently seen keys (DPoP jti) in memory that every
 *        Apache process shares, with no lock.
 *
 * The memory is the caller's (shared memory made before the fork); this
 * file never maps anything.  It is an open-addressing table of 64-bit
 * slots, each one atomic word: a 32-bit tag of the key (never 0) and the
 * second (since the epoch, 32 bits) when the entry expires; 0 is a slot
 * never used.  A key probes a window of ZT_REPLAY_PROBES slots from its
 * home slot: an expired or unused slot is claimed with a compare-and-swap,
 * a live one is never overwritten.  After claiming, the window is read
 * again: if the same key is live in another slot (two processes raced
 * with one proof), it is refused.  So of two concurrent uses at least one
 * is refused, and a window with no free slot refuses (ZT_REPLAY_FULL):
 * the set fails closed and never forgets a live entry.  Two different
 * keys with the same tag in one window make the later one look replayed
 * (about probes / 2^32 per request): a refusal, never an acceptance.
 */
#ifndef ZT_REPLAY_H
#define ZT_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#define ZT_REPLAY_PROBES    32          /**< slots one key may use */
#define ZT_REPLAY_MIN       64          /**< fewest slots */
#define ZT_REPLAY_MAX       (1u << 24)  /**< most slots (128 MiB) */
#define ZT_REPLAY_DEFAULT   65536       /**< 512 KiB */

typedef struct zt_replay_s zt_replay_t;

typedef enum {
    ZT_REPLAY_FRESH = 0,        /**< not seen: now remembered */
    ZT_REPLAY_SEEN,             /**< seen, and not expired: refuse */
    ZT_REPLAY_FULL              /**< no room: refuse */
} zt_replay_e;

/** Bytes of memory a set of @a slots needs. */
size_t zt_replay_size(uint32_t slots);

/**
 * Make an empty set of @a slots (ZT_REPLAY_MIN..ZT_REPLAY_MAX) in
 * @a mem (@a size bytes, 8-aligned, at least zt_replay_size).  NULL when
 * the numbers do not fit.
 */
zt_replay_t *zt_replay_init(void *mem, size_t size, uint32_t slots);

/**
 * Has @a key (32 bytes, a hash) been seen and not expired at @a now?  If
 * not, remember it for @a lifetime seconds (at least 1).
 */
zt_replay_e zt_replay_check(zt_replay_t *rp, const unsigned char key[32],
                            int64_t now, uint32_t lifetime);

/** Slots in the set, and how many hold a live entry at @a now (a scan). */
uint32_t zt_replay_slots(const zt_replay_t *rp);
uint32_t zt_replay_live(const zt_replay_t *rp, int64_t now);

#endif /* ZT_REPLAY_H */
