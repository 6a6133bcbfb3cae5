/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * libFuzzer target for input validation (zt_validate_request) over the
 * contract of test_validate.c, every value type (zt_validate_table.h),
 * built once.
 *
 * The input is "PATH?QUERY\nX-TENANT\nX-NOTE" (missing lines: no header).
 * Besides "no crash, no sanitizer report":
 *   - a refusal names a parameter of the route and says what was found
 *     and expected, in printable ASCII, within its buffers;
 *   - an accepted request has, for /orders, only declared names, limit at
 *     most once and in canonical decimal within range (checked against
 *     strtoll and printf, not the validator's own reader), and an
 *     x-tenant header of 36 bytes;
 *   - the same request validated twice gives the same answer, and the
 *     same record whatever the record held before (a refusal writes all
 *     of it); an accepted request leaves the record alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "zt_validate_table.h"
#include "zt_eval.h"
#include "zt_validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_QUERY 64

static zt_table_t *fz_table;

static void fz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_validate: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    abort();
}

static void fz_init(void)
{
    static apr_pool_t *pool;
    const char *err = NULL;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    if ((fz_table = zv_table(pool, &err)) == NULL) {
        fz_fail("cannot build the table", err);
    }
}

/* x-tenant, x-note: the values after the first and second newline. */
typedef struct {
    const char *tenant, *note;
} fz_headers_t;

static const char *fz_header(void *ctx, const char *lname)
{
    const fz_headers_t *h = ctx;

    return strcmp(lname, "x-tenant") == 0 ? h->tenant
           : strcmp(lname, "x-note") == 0 ? h->note : NULL;
}

static void fz_printable(const char *s, size_t size, const char *what)
{
    size_t n = strnlen(s, size);

    if (n == size) {
        fz_fail("not terminated", what);
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
            fz_fail("not printable ASCII", what);
        }
    }
}

static int fz_is(const zt_span_t *sp, const char *s)
{
    return sp->len == strlen(s) && memcmp(sp->ptr, s, sp->len) == 0;
}

/* The oracle for int: strtoll reads it whole, and printf writes it back
 * the same (so no '+', no leading zero, no "-0", no spaces). */
static int fz_canonical_int(const zt_span_t *sp, int64_t min, int64_t max)
{
    char buf[32], back[32], *end;
    long long v;

    if (sp->len == 0 || sp->len >= sizeof(buf)) {
        return 0;
    }
    memcpy(buf, sp->ptr, sp->len);
    buf[sp->len] = '\0';
    errno = 0;
    v = strtoll(buf, &end, 10);
    if (errno != 0 || *end != '\0') {
        return 0;
    }
    snprintf(back, sizeof(back), "%lld", v);
    return strcmp(back, buf) == 0 && v >= min && v <= max;
}

static void fz_accepted(const zt_request_t *rq, const fz_headers_t *h)
{
    static const char *const declared[] = {
        "limit", "cursor", "status", "tag", "x", "flag"
    };
    const zt_route_rec_t *route = &fz_table->routes[rq->match->route];
    int limits = 0;

    if (strcmp(zt_table_str(fz_table, route->pattern), "/orders") != 0) {
        return;
    }
    if (h->tenant == NULL || strlen(h->tenant) != 36) {
        fz_fail("accepted without a 36-byte x-tenant", h->tenant);
    }
    for (uint32_t i = 0; i < rq->nquery; i++) {
        const zt_qparam_t *q = &rq->query[i];
        int known = 0;

        for (size_t k = 0; k < sizeof(declared) / sizeof(declared[0]); k++) {
            known |= fz_is(&q->name, declared[k]);
        }
        if (!known) {
            fz_fail("accepted an undeclared name", NULL);
        }
        if (fz_is(&q->name, "limit")) {
            limits++;
            if (!fz_canonical_int(&q->value, 1, 100)) {
                fz_fail("accepted a limit that is not a canonical int 1..100", NULL);
            }
        }
    }
    if (limits > 1) {
        fz_fail("accepted limit twice", NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static zt_qparam_t query[FZ_MAX_QUERY];
    static zt_match_t match;
    zt_violation_t v, again;
    zt_request_t rq;
    fz_headers_t h = { NULL, NULL };
    char *in, *nl, *qs, *buf, text[512];
    const char *err = NULL;
    int nq = 0, rc;

    if (fz_table == NULL) {
        fz_init();
    }
    in = malloc(size + 1);
    buf = malloc(size + 1);
    if (in == NULL || buf == NULL) {
        free(in);
        free(buf);
        return 0;
    }
    memcpy(in, data, size);
    in[size] = '\0';
    if ((nl = strchr(in, '\n')) != NULL) {
        *nl = '\0';
        h.tenant = nl + 1;
        if ((nl = strchr(nl + 1, '\n')) != NULL) {
            *nl = '\0';
            h.note = nl + 1;
        }
    }
    if ((qs = strchr(in, '?')) != NULL) {
        *qs++ = '\0';
    }
    if (zt_route_match(fz_table, "GET", in, &match) != ZT_ROUTE_OK) {
        goto done;
    }
    if (qs != NULL && (nq = zt_query_parse(qs, buf, query, FZ_MAX_QUERY, &err)) < 0) {
        goto done;
    }
    memset(&rq, 0, sizeof(rq));
    rq.match = &match;
    rq.query = query;
    rq.nquery = (uint32_t)nq;
    rq.header = fz_header;
    rq.header_ctx = &h;
    memset(&v, 0x5a, sizeof(v));
    memset(&again, 0xa5, sizeof(again));
    rc = zt_validate_request(fz_table, &rq, &v);
    if (rc != 0 && rc != -1) {
        fz_fail("neither 0 nor -1", NULL);
    }
    if (zt_validate_request(fz_table, &rq, &again) != rc
        || (rc != 0 && memcmp(&v, &again, sizeof(v)) != 0)) {
        fz_fail("a second run differs", NULL);
    }
    if (rc == 0 && (((unsigned char *)&v)[0] != 0x5a
                    || memcmp(&v, (unsigned char *)&v + 1, sizeof(v) - 1) != 0)) {
        fz_fail("an accepted request wrote the record", NULL);
    }
    if (rc == 0) {
        fz_accepted(&rq, &h);
        goto done;
    }
    fz_printable(v.name, sizeof(v.name), "name");
    fz_printable(v.found, sizeof(v.found), "found");
    fz_printable(v.expected, sizeof(v.expected), "expected");
    if (v.name[0] == '\0' || v.found[0] == '\0' || v.expected[0] == '\0') {
        fz_fail("a refusal with an empty part", NULL);
    }
    zt_violation_text(&v, text, sizeof(text));
    fz_printable(text, sizeof(text), "text");
    if (strncmp(text, zt_violation_where(&v), strlen(zt_violation_where(&v))) != 0) {
        fz_fail("text does not start with where", text);
    }
done:
    free(in);
    free(buf);
    return 0;
}
