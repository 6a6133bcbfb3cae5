/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zpc_tools.h
 * @brief What `zpc test`, `zpc explain` and `zpc diff` share: a request
 *        described on the command line or in a test block turned into the
 *        evaluator's zt_request_t, the stages in the module's order, and
 *        conditions printed back in the policy's own syntax.
 */
#ifndef ZPC_TOOLS_H
#define ZPC_TOOLS_H

#include <stdio.h>

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "zpc_ir.h"
#include "zt_eval.h"
#include "zt_table.h"

#define ZPC_EXIT_OK     0
#define ZPC_EXIT_INPUT  1
#define ZPC_EXIT_USAGE  2

/** Most query parameters a request may carry here (more is invalid). */
#define ZPC_MAX_QUERY   256

/* ------------------------------------------------------------------ */
/* zpc.c                                                               */

/**
 * Front end, emitter, then the module's own loader over the fresh bytes.
 * Diagnostics go to stderr.  Returns ZPC_EXIT_*; on success *ir and *t
 * (either pointer may be NULL when not wanted) are set.
 */
int zpc_build(const char *src, apr_pool_t *pool, zpc_ir_t **ir,
              zt_table_t **t, void **buf, apr_size_t *len);

/* ------------------------------------------------------------------ */
/* zpc_request.c                                                       */

/*
 * The evaluator's form of @a claims (zt_claims.h), made from @a pool by
 * the token stage's own strict reader, as the module would for a token
 * carrying them.  NULL stays NULL (no token); claims that reader refuses
 * give NULL too.
 */
const zt_claims_t *zpc_claims_from_json(const json_t *claims, apr_pool_t *pool);

/** A request as a person or a test block describes it. */
typedef struct {
    /* Set by the caller. */
    const char *method;             /**< "GET" */
    const char *target;             /**< "/orders?limit=5", as written */
    const char *from;               /**< client address; NULL: 127.0.0.1 */
    apr_array_header_t *headers;    /**< const char * pairs (name, value), or NULL */
    json_t *claims;                 /**< the token's claims, or NULL: no token */
    int cert;                       /**< a verified client certificate */
    const char *cert_subject;       /**< or NULL */
    apr_array_header_t *cert_san;   /**< const char *, or NULL */
    const char *tls;                /**< "TLSv1.3", or NULL: plain HTTP */
    int64_t now;                    /**< Unix seconds */
    int body;                       /**< 1: the body stages are decided */
    const char *body_type;          /**< its Content-Type, or NULL: none */
    const char *body_text;          /**< its bytes, or NULL: no body */
    apr_size_t body_len;

    /* Set by zpc_req_prepare. */
    const char *path;               /**< percent-decoded path */
    const char *path_err;           /**< why the path is refused, or NULL */
    zt_route_status_e route;        /**< ZT_ROUTE_OK: match.route is valid */
    zt_match_t match;
    const char *query_err;          /**< why the query is refused, or NULL */
    zt_qparam_t *query;
    uint32_t nquery;
    const char *const *san;         /**< cert_san as a C array */
    zt_request_t rq;                /**< for zt_eval_decide (route OK only) */
} zpc_req_t;

/**
 * Split the target, percent-decode the path, match the route, parse the
 * query, read the client address, and fill r->rq.  Returns NULL, or a
 * message for a request that cannot be described at all (a bad address);
 * a path or query the module would refuse is not an error here: it is
 * recorded in path_err / query_err and route.
 */
const char *zpc_req_prepare(zpc_req_t *r, const zt_table_t *t, apr_pool_t *pool);

/** What the module would answer: the stages in its order. */
typedef struct {
    int outcome;            /**< ZPC_EXPECT_*: notfound, invalid, then the verdict */
    const char *why;        /**< notfound, invalid: the reason */
    zt_decision_t d;        /**< allow, deny, stepup, token: the evaluator's */
} zpc_outcome_t;

/**
 * Route (404), query string and contract (400, zt_validate_request), the
 * body's headers when r->body (400, 413, 415: zt_body_precheck), then
 * zt_eval_decide, and for an allowed request with r->body the body itself
 * (400: zt_body_check), as the module orders them.  @a r must be prepared.
 */
void zpc_req_decide(const zt_table_t *t, const zpc_req_t *r, zpc_outcome_t *o,
                    apr_pool_t *pool);

/** "allow", "deny", "stepup", "token", "notfound", "invalid", "toolarge",
 *  "mediatype". */
const char *zpc_expect_name(int expect);

/** The request on one line: "GET /orders?limit=5 from 10.1.2.3, TLSv1.3, token {...}". */
const char *zpc_req_text(const zpc_req_t *r, apr_pool_t *pool);

/**
 * Is condition node @a node true for the prepared request?  Decided by the
 * module's own evaluator (zt_eval_decide) over a copy of the table whose
 * matched route carries one public allow rule with that condition, so
 * explain and test report exactly what the module computes.
 * r->route must be ZT_ROUTE_OK.
 */
int zpc_req_node_holds(const zt_table_t *t, const zpc_req_t *r,
                       uint32_t node, apr_pool_t *pool);

/* ------------------------------------------------------------------ */
/* zpc_cond.c                                                          */

/** Is @a node a comparison (an atom of a condition), not AND/OR/NOT/TRUE? */
int zpc_node_is_atom(const zt_table_t *t, uint32_t node);

/** Does the condition at @a node read a token claim anywhere? */
int zpc_node_reads_token(const zt_table_t *t, uint32_t node);

/** The condition at @a node in the policy's syntax, escaped for a terminal:
 *  "\"orders:read\" in token.scope and not client.ip in [10.0.0.0/8]". */
const char *zpc_cond_text(const zt_table_t *t, uint32_t node, apr_pool_t *pool);

/** "GET /orders/{id}": method and path rebuilt from the segments. */
const char *zpc_route_text(const zt_table_t *t, uint32_t route, apr_pool_t *pool);

/** A rule as the policy said it: "allow GET /orders when \"x\" in token.scope". */
const char *zpc_rule_text(const zt_table_t *t, uint32_t rule, apr_pool_t *pool);

/** "orders.ztp:31": the rule's file without its directories, and line. */
const char *zpc_rule_where(const zt_table_t *t, uint32_t rule, apr_pool_t *pool);

/** @a path without its directories, escaped: how messages name a source
 *  file, so that output does not depend on where zpc ran. */
const char *zpc_file_name(const char *path, apr_pool_t *pool);

/** @a s escaped for a terminal, in double quotes when @a quote. */
const char *zpc_escape(const char *s, apr_size_t len, int quote, apr_pool_t *pool);

/* ------------------------------------------------------------------ */
/* The commands.                                                       */

int zpc_test_main(int argc, char **argv, apr_pool_t *pool);
int zpc_explain_main(int argc, char **argv, apr_pool_t *pool);
int zpc_diff_main(int argc, char **argv, apr_pool_t *pool);

#endif /* ZPC_TOOLS_H */
