/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_keys.h
 * @brief Issuer key sets that change at run time: files re-read when they
 *        change, JWK Sets fetched by URL or by OpenID discovery.
 *
 * One zt_keys_t holds the key sources of one loaded policy, one source per
 * issuer (an issuer with only a `secret` has none).  Readers never lock a
 * key set: they take a *keyring*, a refcounted, immutable snapshot of every
 * issuer with its current keys, verify against it and release it.  A new
 * key set is published by building a new ring; the old one, and any key
 * set only it holds, is freed when its last reader releases it.
 *
 * Sources:
 *  - ZT_KEYSRC_FILE: re-read when its inode, size, mtime or ctime change,
 *    checked once a second by the refresher and, on an unknown kid, by the
 *    request (at most once a second).
 *  - ZT_KEYSRC_URL: a JWK Set fetched with libcurl.
 *  - ZT_KEYSRC_DISCOVER: GET <iss>/.well-known/openid-configuration (any
 *    trailing '/' of iss removed first, OpenID Connect Discovery 1.0 §4);
 *    its "issuer" must equal iss byte for byte (§4.3), its "jwks_uri" is
 *    then fetched as a URL source.  Discovery runs again on every refresh.
 *
 * HTTP rules (zt_keys_url_check, and every fetch):
 *  - https, or http only to a loopback host: localhost, 127.0.0.0/8, [::1]
 *    (tests, sidecars).  No user:password in the URL, no fragment: the
 *    rule of zpc and the table loader (zt_table_url_problem), applied
 *    also to a jwks_uri that discovery finds, then checked again on
 *    libcurl's parse of the URL, which is what is fetched.
 *  - TLS peers are verified (CA bundle of the system or opts.ca_file, host
 *    name checked, TLS 1.2 at least).
 *  - Redirects are not followed: a 3xx answer is a failed fetch (configure
 *    the final URL; a redirect could lead to another scheme or host).
 *  - No proxy (the environment's http_proxy is ignored).
 *  - Connect timeout 2 s, whole fetch (discovery + JWK Set) 5 s, body at
 *    most 1 MiB (ZT_JWKS_MAX_LEN), status 200 only, no content encodings.
 *  - Cache-Control and Expires are ignored: sets are refreshed every
 *    `refresh` seconds, and at once on an unknown kid.
 *
 * Refresh and failures:
 *  - zt_keys_start runs one refresher thread (per Apache child): files are
 *    checked every second, url/discover sets fetched at start and then
 *    every `refresh`.  After a failed fetch it retries after 1 s, 2 s, 4 s
 *    ... at most min(refresh, refetch_min).
 *  - An unknown kid (zt_keys_refetch) fetches synchronously in the calling
 *    thread, at most once per `refetch_min` per source; concurrent callers
 *    for the same source wait for that one fetch (single flight) at most
 *    the fetch timeout plus a second, and a fetch already under way (the
 *    refresher's) is joined instead of starting another.
 *  - A new set replaces the current one only if it parses (zt_jwks_parse)
 *    and holds at least one usable key; otherwise the last good set stays
 *    and the failure is logged.
 *  - A document identical to the current set's (SHA-256) replaces nothing
 *    and keeps the generation: a refresh that brings nothing new does not
 *    empty the token cache.
 *  - Every replacement takes a new generation number.  Generations are
 *    unique within the process across all sources and policies, never 0
 *    for a set and never reused, so a cache keyed on (table, issuer,
 *    generation) can never mix two key sets.  Generation 0: no set yet.
 *
 * Thread safety: zt_keys_acquire, zt_keys_release, zt_keys_generation,
 * zt_keys_refetch and zt_keys_stat may be called from any thread at any
 * time between zt_keys_create and the destruction of its pool.
 * zt_keys_start and zt_keys_stop are called from one thread (child_init,
 * the cleanup).
 */
#ifndef ZT_KEYS_H
#define ZT_KEYS_H

#include <apr_pools.h>
#include <apr_time.h>
#include <stdint.h>

#include "zt_jwk.h"
#include "zt_policy.h"
#include "zt_token.h"

#define ZT_KEYS_CONNECT_TIMEOUT  apr_time_from_sec(2)  /**< per connection */
#define ZT_KEYS_FETCH_TIMEOUT    apr_time_from_sec(5)  /**< per fetch, all requests */
#define ZT_KEYS_FILE_CHECK       apr_time_from_sec(1)  /**< stat interval of files */
#define ZT_KEYS_DISCOVERY_PATH   "/.well-known/openid-configuration"

typedef struct zt_keys_s zt_keys_t;

/** Where an issuer's key set comes from. */
typedef enum {
    ZT_KEYSRC_NONE = 0,         /**< no JWK Set (secret only) */
    ZT_KEYSRC_FILE,             /**< location: absolute file name */
    ZT_KEYSRC_URL,              /**< location: https (or loopback http) URL */
    ZT_KEYSRC_DISCOVER          /**< location unused: from the issuer's iss */
} zt_keysrc_kind_e;

/** One issuer's key source. */
typedef struct {
    zt_keysrc_kind_e kind;
    const char *location;               /**< file name or URL, by kind */
    apr_interval_time_t refresh;        /**< url/discover: refresh interval, > 0 */
    apr_interval_time_t refetch_min;    /**< least time between unknown-kid refetches, > 0 */
} zt_keysrc_conf_t;

/** What a source reports (see zt_keys_opts_t.log). */
typedef enum {
    ZT_KEYS_EV_UPDATED = 1,     /**< a new key set is current (info) */
    ZT_KEYS_EV_KEPT,            /**< a fetch or read failed; the last good set stays (warning) */
    ZT_KEYS_EV_MISSING,         /**< a fetch failed and there is no set at all (error) */
    ZT_KEYS_EV_KEY_SKIPPED,     /**< a key of a new set is unusable (warning) */
    ZT_KEYS_EV_REFETCH,         /**< an unknown kid started a refetch (info) */
    ZT_KEYS_EV_REFETCH_LIMITED  /**< an unknown kid, but refetch_min has not passed (debug) */
} zt_keys_event_e;

/**
 * Log sink: @a issuer is the issuer's local name, @a msg one English
 * sentence without the issuer (valid during the call only).  Called from
 * the refresher thread and from request threads, never with a lock held.
 */
typedef void zt_keys_log_fn(void *baton, zt_keys_event_e ev,
                            const char *issuer, const char *msg);

/** Options; zero members take the defaults in brackets. */
typedef struct {
    apr_interval_time_t connect_timeout;    /**< [ZT_KEYS_CONNECT_TIMEOUT] */
    apr_interval_time_t fetch_timeout;      /**< [ZT_KEYS_FETCH_TIMEOUT] */
    apr_interval_time_t file_check;         /**< [ZT_KEYS_FILE_CHECK] */
    apr_size_t max_size;                    /**< [ZT_JWKS_MAX_LEN] bytes of a body */
    const char *ca_file;                    /**< PEM CA bundle [system default] */
    zt_keys_log_fn *log;                    /**< [none] */
    void *log_baton;
} zt_keys_opts_t;

/**
 * A snapshot of a policy's issuers with their current keys, for one or
 * more zt_token_verify calls.  Immutable; valid until zt_keys_release.
 */
typedef struct {
    const zt_issuer_t *issuers;     /**< nissuers copies of the policy's, keys current */
    int nissuers;
    const uint64_t *generations;    /**< per issuer; 0 = no key set (yet) or no source */
} zt_keyring_t;

/** Counters of one source, for status pages and tests. */
typedef struct {
    zt_keysrc_kind_e kind;
    uint64_t generation;            /**< of the current set; 0 = none */
    int nkeys;                      /**< usable keys in the current set */
    apr_time_t loaded;              /**< when the current set was last read or
                                         fetched (unchanged or not), or 0 */
    apr_time_t last_attempt;        /**< last fetch or read that was tried, or 0 */
    unsigned long attempts;         /**< fetches / reads tried */
    unsigned long failures;         /**< ... of which failed */
    unsigned long refetches;        /**< unknown-kid refetches started */
    const char *last_error;         /**< of the last failure, or NULL (copied into the pool) */
} zt_keys_stat_t;

/**
 * Check a key set or discovery URL: https, or http to a loopback host, no
 * user info.  On success *normalized (may be NULL) is curl's normal form,
 * the URL actually fetched; on failure *err says why.  Never connects.
 */
apr_status_t zt_keys_url_check(const char *url, apr_pool_t *pool,
                               const char **normalized, const char **err);

/**
 * Sources for @a issuers (copied; their strings must outlive @a pool).
 * srcs[i] belongs to issuers[i].  File sources are read now: a file that
 * cannot be read is an error.  URL and discovery sources are only checked
 * (zt_keys_url_check): they have no keys until fetched, by the refresher
 * or by zt_keys_refetch; nothing here touches the network.  Everything is
 * released when @a pool is cleared (after stopping the refresher).
 */
apr_status_t zt_keys_create(zt_keys_t **keys, const zt_issuer_t *issuers,
                            const zt_keysrc_conf_t *srcs, int nissuers,
                            const zt_keys_opts_t *opts, apr_pool_t *pool,
                            const char **err);

/**
 * zt_keys_create for a policy loaded by zt_policy_open: one source per
 * issuer record of its table ("jwks file" relative to policy->dir, "jwks
 * url", "jwks discover", refresh, refetch_min).
 */
apr_status_t zt_keys_from_policy(zt_keys_t **keys, const zt_policy_t *policy,
                                 const zt_keys_opts_t *opts, apr_pool_t *pool,
                                 const char **err);

/** Whether any source needs the refresher (any file, url or discover). */
int zt_keys_dynamic(const zt_keys_t *keys);

/**
 * Start the refresher thread; a cleanup on @a pool stops it.  Call once
 * per process that serves requests (Apache: child_init), never before a
 * fork.  Without it sets change only through zt_keys_refetch.
 */
apr_status_t zt_keys_start(zt_keys_t *keys, apr_pool_t *pool);

/** Stop the refresher (abandoning a fetch under way) and wait for it. */
void zt_keys_stop(zt_keys_t *keys);

/** The current keyring; never NULL.  Pair with zt_keys_release. */
const zt_keyring_t *zt_keys_acquire(zt_keys_t *keys);

/** Release a ring from zt_keys_acquire (NULL is ignored). */
void zt_keys_release(const zt_keyring_t *ring);

/** Release @a ring when @a pool is cleared (e.g. r->pool). */
void zt_keys_release_on(apr_pool_t *pool, const zt_keyring_t *ring);

/** Current generation of issuer @a i's set, without locking; 0 = none. */
uint64_t zt_keys_generation(const zt_keys_t *keys, int i);

/** Index of the issuer whose iss is @a iss (@a len bytes), or -1. */
int zt_keys_issuer_index(const zt_keys_t *keys, const char *iss,
                         apr_size_t len);

/**
 * A token of issuer @a i named a key its set (generation @a seen) does not
 * hold.  Refetch now if the source allows it, or wait for a fetch already
 * under way.  Returns 1 when the current generation differs from @a seen
 * (acquire a new ring and verify again), 0 otherwise.  Blocks at most the
 * fetch timeout plus a second.
 */
int zt_keys_refetch(zt_keys_t *keys, int i, uint64_t seen);

/** Counters of issuer @a i's source; strings from @a pool. */
void zt_keys_stat(zt_keys_t *keys, int i, zt_keys_stat_t *st,
                  apr_pool_t *pool);

/** Name of a source kind ("file", "url", "discover", "none"). */
const char *zt_keys_kind_name(zt_keysrc_kind_e kind);

#endif /* ZT_KEYS_H */
