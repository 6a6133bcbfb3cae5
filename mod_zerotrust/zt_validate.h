/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_validate.h
 * @brief A matched request against its route's declared contract (SPEC
 *        section 2): typed path captures, query and header parameters.
 *
 * One validator for the module (400 before any token is looked at) and
 * for `zpc test` / `zpc explain`, so both answer the same.  It reads the
 * table's SEGS, PARM and TYPE records and the request as zt_request_t
 * describes it; nothing is allocated.  A string's pattern is matched
 * through its compiled automaton (zt_dfa.h), in time linear in the value.
 */
#ifndef ZT_VALIDATE_H
#define ZT_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "zt_eval.h"
#include "zt_table.h"

/** Where the value at fault is. */
typedef enum {
    ZT_VIOL_PATH = 0,       /**< a typed path capture */
    ZT_VIOL_QUERY,          /**< a query parameter */
    ZT_VIOL_HEADER          /**< a request header (name in lower case) */
} zt_viol_where_e;

/** What broke the contract, in words fit for a client and a log. */
typedef struct {
    zt_viol_where_e where;
    /** The parameter's name, printable ASCII (other bytes as \\xNN). */
    char name[72];
    /** What was found: the value quoted ("\"500\"", "\"a\\x09b\""), or
     *  "missing", "undeclared", "appears twice". */
    char found[96];
    /** What was expected: "an integer 1..100", "a UUID", "one of a, b",
     *  "at most 64 bytes", "1..64 bytes matching /^[a-z]+$/",
     *  "declared parameters: limit, cursor". */
    char expected[192];
} zt_violation_t;

/**
 * Compute what validation derives from a verified table (t->vroutes: per
 * route its typed query parameters with their name lengths, the mask of
 * the required ones, whether it has typed captures or headers at all), in
 * @a pool; called by the loader, after verification.
 */
void zt_validate_prepare(zt_table_t *t, apr_pool_t *pool);

/**
 * Check @a rq (whose match is a successful zt_route_match on @a t, whose
 * query is zt_query_parse's) against the matched route's contract, in
 * this order: path captures left to right; query parameters in request
 * order (undeclared names unless ZT_ROUTE_QUERY_ANY, repeats unless
 * ZT_PARAM_LIST, types); then the declared parameters in declaration
 * order (missing ones unless ZT_PARAM_OPTIONAL; headers: control bytes,
 * types).  Returns 0 when it holds (@a v is then not written), or -1 with
 * @a v filled for the first violation (every byte of it: the same
 * violation gives the same record).
 */
int zt_validate_request(const zt_table_t *t, const zt_request_t *rq,
                        zt_violation_t *v);

/** "path", "query" or "header". */
const char *zt_violation_where(const zt_violation_t *v);

/** Room for zt_violation_why's text, whatever the violation. */
#define ZT_VIOLATION_WHY_SIZE \
    (sizeof(((zt_violation_t *)0)->found) \
     + sizeof(((zt_violation_t *)0)->expected) + 16)

/**
 * What is wrong, without where: "found \"500\", expected an integer
 * 1..100", "missing, expected a UUID" (the "reason" of an invalid-params
 * entry, whose "name" says where).  Into @a buf, always NUL-terminated,
 * cut to @a size; returns @a buf.
 */
const char *zt_violation_why(const zt_violation_t *v, char *buf, size_t size);

/**
 * The violation in one line into @a buf (always NUL-terminated, cut to
 * @a size): "query.limit: found \"500\", expected an integer 1..100",
 * "header.x-tenant: missing, expected a UUID": where, name, then
 * zt_violation_why.  Returns @a buf.
 */
const char *zt_violation_text(const zt_violation_t *v, char *buf, size_t size);

#endif /* ZT_VALIDATE_H */
