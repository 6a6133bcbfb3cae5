/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * `zpc test POLICY.ztp`: the policy's test blocks, each decided by the
 * module's own route matcher and evaluator over the table zpc would write.
 *
 *   1..3
 *   ok 1 - a reader lists orders
 *   not ok 2 - no MFA, no delete
 *   #   at:       orders.ztp:52
 *   #   request:  DELETE /orders/9b2f... from 10.1.2.3, TLSv1.3, token {...}
 *   #   expected: stepup
 *   #   actual:   allow
 *   #   decided:  orders.ztp:34: allow DELETE /orders/{id} when admin and office
 *   ok 3 - ...
 *   # 3 tests: 2 passed, 1 failed
 *
 * The output is TAP, so `prove` and CI read it.  Exit status 0 when every
 * test passed, 1 when one failed or the policy has errors, 2 usage.
 */
#include <string.h>
#include <time.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "zpc_tools.h"
#include "zt_json.h"

/* Line @a line of @a file, trimmed, or NULL when it cannot be read. */
static const char *zpc_test_source_line(const char *file, uint32_t line,
                                        apr_pool_t *pool)
{
    apr_file_t *f;
    char buf[1024];
    uint32_t n = 0;
    const char *found = NULL;

    if (line == 0 || apr_file_open(&f, file, APR_FOPEN_READ, 0, pool) != APR_SUCCESS) {
        return NULL;
    }
    while (apr_file_gets(buf, sizeof(buf), f) == APR_SUCCESS) {
        if (++n == line) {
            char *s = buf, *e;
            while (*s == ' ' || *s == '\t') {
                s++;
            }
            e = s + strlen(s);
            while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '
                             || e[-1] == '\t')) {
                *--e = '\0';
            }
            found = zpc_escape(s, strlen(s), 0, pool);
            break;
        }
    }
    apr_file_close(f);
    return found;
}

/* "file:line: text" of rule @a ri: the source line when it can be read. */
static const char *zpc_test_rule(const zt_table_t *t, uint32_t ri, apr_pool_t *pool)
{
    const zt_rule_rec_t *rule = &t->rules[ri];
    const char *src = zpc_test_source_line(zt_table_str(t, rule->file), rule->line,
                                           pool);

    return apr_psprintf(pool, "%s: %s", zpc_rule_where(t, ri, pool),
                        src != NULL ? src : zpc_rule_text(t, ri, pool));
}

/* What decided @a o, for a failure report. */
static const char *zpc_test_decided(const zt_table_t *t, const zpc_req_t *r,
                                    const zpc_outcome_t *o, apr_pool_t *pool)
{
    switch (o->outcome) {
    case ZPC_EXPECT_NOTFOUND:
        return o->why;
    case ZPC_EXPECT_INVALID:
    case ZPC_EXPECT_TOOLARGE:
    case ZPC_EXPECT_MEDIATYPE:
        return apr_psprintf(pool, "the contract of %s: %s",
                            zpc_route_text(t, r->match.route, pool), o->why);
    case ZPC_EXPECT_TOKEN:
        if (o->d.stepup != ZT_NONE) {
            return "the route's step-up requirement needs a token";
        }
        if (o->d.rule < t->nrules) {
            return apr_pstrcat(pool, zpc_test_rule(t, o->d.rule, pool),
                               " (a matching deny asks for a token)", NULL);
        }
        return "no rule allows a request without a token";
    case ZPC_EXPECT_STEPUP: {
        const zt_stepup_rec_t *s;
        const char *file, *src;

        if (o->d.stepup >= t->nstepups || o->d.rule >= t->nrules) {
            return "the route's step-up requirement is not met";
        }
        s = &t->stepups[o->d.stepup];
        file = zt_table_str(t, s->file);
        src = zpc_test_source_line(file, s->line, pool);

        return apr_psprintf(pool, "%s, then %s:%u: %s", zpc_test_rule(t, o->d.rule, pool),
                            zpc_file_name(file, pool),
                            (unsigned int)s->line,
                            src != NULL ? src : "stepup (the token's acr or "
                                                "auth_time does not meet it)");
    }
    }
    if (o->d.rule == ZT_NONE) {
        return "no rule allows (default deny)";
    }
    return zpc_test_rule(t, o->d.rule, pool);
}

/* Run one test; 1 if it passed. */
static int zpc_test_one(const zt_table_t *t, const zpc_ir_test_t *test, int n,
                        apr_pool_t *pool)
{
    zpc_req_t r;
    zpc_outcome_t o;
    const char *err = NULL, *name = zpc_escape(test->name, strlen(test->name), 0, pool);
    const char *file = test->file != NULL ? test->file : "?";

    memset(&r, 0, sizeof(r));
    r.method = test->method;
    r.target = test->target;
    r.from = test->from;
    r.headers = test->headers;
    r.cert = test->cert;
    r.cert_subject = test->cert_subject;
    r.cert_san = test->cert_san;
    r.tls = test->tls;
    r.now = test->time >= 0 ? test->time : (int64_t)time(NULL);
    r.body = test->body;
    r.body_type = test->body_type;
    r.body_text = test->body_text;
    r.body_len = test->body_len;
    if (test->claims_json != NULL) {
        r.claims = zt_json_parse(test->claims_json, strlen(test->claims_json),
                                 strlen(test->claims_json), pool, &err);
        if (r.claims == NULL) {
            printf("not ok %d - %s\n#   the token block is not a JSON object: %s\n",
                   n, name, err);
            return 0;
        }
        zt_json_pool_own(pool, r.claims);
    }
    if ((err = zpc_req_prepare(&r, t, pool)) != NULL) {
        printf("not ok %d - %s\n#   %s\n", n, name, err);
        return 0;
    }
    zpc_req_decide(t, &r, &o, pool);
    if (o.outcome == test->expect) {
        printf("ok %d - %s\n", n, name);
        return 1;
    }
    printf("not ok %d - %s\n", n, name);
    printf("#   at:       %s:%u\n",
           zpc_file_name(file, pool), (unsigned int)test->line);
    printf("#   request:  %s\n", zpc_req_text(&r, pool));
    printf("#   expected: %s\n", zpc_expect_name(test->expect));
    printf("#   actual:   %s\n", zpc_expect_name(o.outcome));
    printf("#   decided:  %s\n", zpc_test_decided(t, &r, &o, pool));
    return 0;
}

int zpc_test_main(int argc, char **argv, apr_pool_t *pool)
{
    zpc_ir_t *ir;
    zt_table_t *t;
    void *buf;
    apr_size_t len;
    int rc, passed = 0, ntests;

    if (argc != 1 || (argv[0][0] == '-' && argv[0][1] != '\0')) {
        fputs("usage: zpc test POLICY.ztp\n", stderr);
        return ZPC_EXIT_USAGE;
    }
    if ((rc = zpc_build(argv[0], pool, &ir, &t, &buf, &len)) != ZPC_EXIT_OK) {
        return rc;
    }
    ntests = ir->tests != NULL ? ir->tests->nelts : 0;
    printf("1..%d\n", ntests);
    for (int i = 0; i < ntests; i++) {
        apr_pool_t *sub;

        if (apr_pool_create(&sub, pool) != APR_SUCCESS) {
            fputs("zpc test: out of memory\n", stderr);
            return ZPC_EXIT_USAGE;
        }
        passed += zpc_test_one(t, &APR_ARRAY_IDX(ir->tests, i, zpc_ir_test_t),
                               i + 1, sub);
        apr_pool_destroy(sub);
    }
    printf("# %d test%s: %d passed, %d failed\n", ntests, ntests == 1 ? "" : "s",
           passed, ntests - passed);
    if (fflush(stdout) != 0) {
        return ZPC_EXIT_USAGE;
    }
    return passed == ntests ? ZPC_EXIT_OK : ZPC_EXIT_INPUT;
}
