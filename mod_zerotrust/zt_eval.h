/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_eval.h
 * @brief Per-request work on a verified table: route match, then decision.
 *
 * The caller (the module's glue, `zpc test`, `zpc explain`, the benchmarks)
 * describes the request in a zt_request_t; the core never sees httpd.
 * Neither zt_route_match nor zt_eval_decide allocates; both only read the
 * table and their inputs.
 */
#ifndef ZT_EVAL_H
#define ZT_EVAL_H

#include <stddef.h>
#include <stdint.h>
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
 * ("/orders/42") through the table's route trie.  Segment ranks, best
 * first, left to right: literal, capture, `*`, `**`.  HEAD matches GET
 * routes.  Costs one trie step per segment, plus backtracking bounded by
 * the trie's size; never a scan of the routes.
 */
zt_route_status_e zt_route_match(const zt_table_t *t, const char *method,
                                 const char *path, zt_match_t *m);

/** The value of capture @a name for the matched route, or NULL. */
const zt_span_t *zt_route_capture(const zt_table_t *t, const zt_match_t *m,
                                  const char *name);

/** One query parameter, percent-decoded (zt_query_parse). */
typedef struct {
    zt_span_t name, value;
} zt_qparam_t;

/** What the evaluator may know about a request besides its route. */
typedef struct {
    const zt_match_t *match;            /**< a successful zt_route_match */
    const zt_claims_t *claims;          /**< verified token, or NULL: none */
    /** zt_eval_view() of @a claims for this table, or NULL: claims are
     *  then looked up by name (same answers, slower). */
    const uint32_t *claim_view;

    const zt_qparam_t *query;           /**< decoded query, in order */
    uint32_t nquery;

    /** Header value by lower-case name, or NULL; NULL = no headers. */
    const char *(*header)(void *ctx, const char *lname);
    void *header_ctx;

    uint8_t ip_family;                  /**< 4, 6, or 0: unknown */
    uint8_t ip[16];                     /**< network order; IPv4 in ip[0..3] */

    int cert;                           /**< a verified client certificate */
    const char *cert_subject;           /**< RFC 2253, or NULL */
    const char *const *cert_san;        /**< DNS, URI and e-mail SAN values */
    uint32_t ncert_san;

    const char *tls_version;            /**< "TLSv1.3", or NULL: plain HTTP */
    int64_t now;                        /**< Unix seconds (time.*, step-up) */
} zt_request_t;

typedef enum {
    ZT_ALLOW = 0,           /**< an allow rule matched, no deny did */
    ZT_DENY,                /**< a deny matched, or default deny: 403 */
    ZT_NEED_TOKEN,          /**< no token, and only a token could allow: 401 */
    ZT_STEPUP               /**< allowed, but the route's step-up
                                 requirement is not met: 401 (RFC 9470) */
} zt_verdict_e;

typedef struct {
    zt_verdict_e verdict;
    uint32_t rule;          /**< RULE index that decided; ZT_NONE = default */
    uint32_t stepup;        /**< ZT_STEPUP: the STEP index not met */
} zt_decision_t;

/**
 * Decide a matched request.  Deny overrides allow; without a matching
 * allow the answer is ZT_DENY (with a token) or ZT_NEED_TOKEN.  Rules
 * flagged ZT_RULE_PUBLIC allow without a token.  Without a token every
 * deny is still evaluated (its token operands are missing), so a deny on
 * the client address holds on a public route; one that matches answers
 * ZT_NEED_TOKEN, naming it in @a d->rule.  An allowed request on a
 * route with a step-up requirement becomes ZT_STEPUP when the token's
 * `acr` is not listed or its `auth_time` is older than max_age
 * (ZT_NEED_TOKEN when there is no token), with the STEP index in
 * @a d->stepup.
 */
void zt_eval_decide(const zt_table_t *t, const zt_request_t *rq,
                    zt_decision_t *d);

/** Entries of a claim view for @a t (0: the table reads no claims). */
uint32_t zt_eval_view_size(const zt_table_t *t);

/**
 * Look up, once per token, every claim the rules of @a t read, into
 * @a view (zt_eval_view_size(t) entries): then a decision reads a claim
 * with one array load (zt_request_t.claim_view).  Positions in @a c, not
 * addresses: a view stays valid with any copy of @a c (the token cache).
 */
void zt_eval_view(const zt_table_t *t, const zt_claims_t *c, uint32_t *view);

/**
 * Split and percent-decode the raw query string @a raw (without '?') into
 * at most @a max parameters of @a out, decoding into @a buf (at least
 * strlen(raw) bytes).  A name or value with nothing to decode (printable
 * ASCII without '%' or '+') points into @a raw itself, any other into
 * @a buf: the spans live as long as both.  Strict: an invalid escape, a
 * NUL or control byte, or invalid UTF-8 is refused.  Returns the count,
 * or -1 with a short reason in *err (untouched on success).
 */
int zt_query_parse(const char *raw, char *buf, zt_qparam_t *out, uint32_t max,
                   const char **err);

/** zt_query_parse for a caller that measured @a raw: @a len is
 *  strlen(raw), and @a raw is not NULL. */
int zt_query_parse_len(const char *raw, size_t len, char *buf,
                       zt_qparam_t *out, uint32_t max, const char **err);

#endif /* ZT_EVAL_H */
