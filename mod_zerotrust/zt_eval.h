/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_eval.h
 * @brief Per-request work on a verified table: route match, then decision.
 *
 * Neither function allocates; both only read the table and their inputs.
 */
#ifndef ZT_EVAL_H
#define ZT_EVAL_H

#include "zt_claims.h"
#include "zt_table.h"

typedef struct {
    const char *ptr;
    uint32_t len;
} zt_span_t;

/** Result of matching a request line against the declared routes. */
typedef struct {
    uint32_t route;                     /**< ROUT index, or ZT_NONE */
    uint32_t nseg;                      /**< segments of the request path */
    zt_span_t seg[ZT_MAX_SEGMENTS];     /**< the segments (point into path) */
} zt_match_t;

typedef enum {
    ZT_ROUTE_OK = 0,
    ZT_ROUTE_NONE,          /**< no declared route matches: 404 */
    ZT_ROUTE_BAD_PATH       /**< not absolute, too many segments, empty or
                                 dot segment, control byte: 404, logged */
} zt_route_status_e;

/**
 * Match @a method and the already-normalised, percent-decoded @a path
 * ("/orders/42").  A literal segment beats a capture, left to right.
 * HEAD matches GET routes.
 */
zt_route_status_e zt_route_match(const zt_table_t *t, const char *method,
                                 const char *path, zt_match_t *m);

/** The value of capture @a name for the matched route, or NULL. */
const zt_span_t *zt_route_capture(const zt_table_t *t, const zt_match_t *m,
                                  const char *name);

typedef enum {
    ZT_ALLOW = 0,           /**< an allow rule matched, no deny did */
    ZT_DENY,                /**< a deny matched, or default deny: 403 */
    ZT_NEED_TOKEN           /**< no token, and only a token could allow: 401 */
} zt_verdict_e;

typedef struct {
    zt_verdict_e verdict;
    uint32_t rule;          /**< RULE index that decided; ZT_NONE = default */
} zt_decision_t;

/**
 * Decide a matched request.  @a claims is the verified token's payload, or
 * NULL when the request carries no token.  Deny overrides allow; without a
 * matching allow the answer is ZT_DENY (with a token) or ZT_NEED_TOKEN.
 * Rules flagged ZT_RULE_PUBLIC allow without a token.
 */
void zt_eval_decide(const zt_table_t *t, const zt_match_t *m,
                    const zt_claims_t *claims, zt_decision_t *d);

#endif /* ZT_EVAL_H */
