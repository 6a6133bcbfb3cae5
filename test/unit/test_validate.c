/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/* Input validation (zt_validate.c): every type at its boundaries, the
 * query rules (undeclared, repeated, missing), headers, hostile values,
 * and the exact text each violation gives, since the module's 400, its
 * audit record and `zpc test` all print it. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "zt_test.h"
#include "zt_validate_table.h"
#include "zt_eval.h"
#include "zt_validate.h"

ZT_TEST_POOL_FIXTURE

/* The shared contract (zt_validate_table.h). */
static zt_table_t *contract_table(void)
{
    const char *err = NULL;
    zt_table_t *t = zv_table(pool, &err);

    ck_assert_msg(t != NULL, "table: %s", err);
    return t;
}

static const char *const tenant[] = {
    "x-tenant", "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70", NULL
};

static const char *header_of(void *ctx, const char *lname)
{
    for (const char *const *h = ctx; h != NULL && *h != NULL; h += 2) {
        if (strcmp(h[0], lname) == 0) {
            return h[1];
        }
    }
    return NULL;
}

/* Validate GET @a target with @a headers; the violation's text in @a text. */
static int validate(const zt_table_t *t, const char *target,
                    const char *const *headers, zt_violation_t *v,
                    char *text, size_t size)
{
    static zt_qparam_t q[64];
    static zt_match_t m;
    const char *qs = strchr(target, '?');
    char *path = apr_pstrndup(pool, target, qs ? (size_t)(qs - target) : strlen(target));
    char *buf = apr_palloc(pool, strlen(target) + 1);
    zt_request_t rq;
    const char *err = NULL;
    int nq = 0, rc;

    memset(&rq, 0, sizeof(rq));
    ck_assert_msg(zt_route_match(t, "GET", path, &m) == ZT_ROUTE_OK, "no route: %s", path);
    if (qs != NULL) {
        nq = zt_query_parse(qs + 1, buf, q, 64, &err);
        ck_assert_msg(nq >= 0, "query refused: %s", err);
    }
    rq.match = &m;
    rq.query = q;
    rq.nquery = (uint32_t)nq;
    rq.header = headers != NULL ? header_of : NULL;
    rq.header_ctx = (void *)headers;
    rc = zt_validate_request(t, &rq, v);
    if (rc == 0) {
        snprintf(text, size, "(accepted)");     /* @a v is not written */
    }
    else {
        zt_violation_text(v, text, size);
    }
    return rc;
}

static void ck_ok_at(const zt_table_t *t, const char *target,
                     const char *const *headers, int line)
{
    zt_violation_t v;
    char text[512];

    ck_assert_msg(validate(t, target, headers, &v, text, sizeof(text)) == 0,
                  "line %d: %s refused: %s", line, target, text);
}

static void ck_bad_at(const zt_table_t *t, const char *target,
                      const char *const *headers, const char *want, int line)
{
    zt_violation_t v;
    char text[512];

    ck_assert_msg(validate(t, target, headers, &v, text, sizeof(text)) == -1,
                  "line %d: %s accepted", line, target);
    ck_assert_msg(strcmp(text, want) == 0, "line %d: %s:\n got  %s\n want %s",
                  line, target, text, want);
}

#define ck_ok(t, target) ck_ok_at(t, target, tenant, __LINE__)
#define ck_bad(t, target, want) ck_bad_at(t, target, tenant, want, __LINE__)

/* Each of @a values after @a prefix is refused at @a where.@a name,
 * expecting @a expected. */
static void ck_all_refused(const zt_table_t *t, const char *prefix,
                           const char *const *values, size_t n,
                           zt_viol_where_e where, const char *name,
                           const char *expected)
{
    for (size_t i = 0; i < n; i++) {
        const char *target = apr_pstrcat(pool, prefix, values[i], NULL);
        zt_violation_t v;
        char text[512];

        ck_assert_msg(validate(t, target, tenant, &v, text, sizeof(text)) == -1,
                      "%s accepted", target);
        ck_assert_str_eq(v.expected, expected);
        ck_assert_str_eq(v.name, name);
        ck_assert_int_eq(v.where, where);
    }
}

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */

START_TEST(types_int)
{
    zt_table_t *t = contract_table();

    ck_ok(t, "/orders?limit=1");
    ck_ok(t, "/orders?limit=100");
    ck_ok(t, "/orders?limit=42");
    ck_bad(t, "/orders?limit=0", "query.limit: found \"0\", expected an integer 1..100");
    ck_bad(t, "/orders?limit=101", "query.limit: found \"101\", expected an integer 1..100");
    ck_bad(t, "/orders?limit=-1", "query.limit: found \"-1\", expected an integer 1..100");
    /* Not canonical decimal: refused, whatever a backend would make of it. */
    static const char *const odd[] = {
        "", "+5", "05", "007", "-0", "-", "1e3", "1.0", "0x10", "%205", "5%20",
        "1_000", "١", "5a", "--5", "0-",
    };
    ck_all_refused(t, "/orders?limit=", odd, NELTS(odd), ZT_VIOL_QUERY, "limit",
                   "an integer 1..100");
    /* Path captures: {n: int} is 0..1000000. */
    ck_ok(t, "/n/0/a");
    ck_ok(t, "/n/1000000/a");
    ck_bad(t, "/n/1000001/a", "path.n: found \"1000001\", expected an integer 0..1000000");
    ck_bad(t, "/n/-0/a", "path.n: found \"-0\", expected an integer 0..1000000");
}
END_TEST

START_TEST(types_int_extremes)
{
    zt_table_t *t = contract_table();

    ck_ok(t, "/wide?w=9223372036854775807");
    ck_ok(t, "/wide?w=-9223372036854775808");
    ck_ok(t, "/wide?w=0");
    /* 18 digits are read without watching the bound, 19 with it */
    ck_ok(t, "/wide?w=999999999999999999");
    ck_ok(t, "/wide?w=-999999999999999999");
    ck_ok(t, "/wide?w=1000000000000000000");
    ck_ok(t, "/wide?w=-1000000000000000000");
    ck_bad(t, "/wide?w=99999999999999999x",
           "query.w: found \"99999999999999999x\", expected an integer "
           "-9223372036854775808..9223372036854775807");
    ck_bad(t, "/wide?w=-099999999999999999",
           "query.w: found \"-099999999999999999\", expected an integer "
           "-9223372036854775808..9223372036854775807");
    ck_bad(t, "/n/999999999999999999/a",
           "path.n: found \"999999999999999999\", expected an integer 0..1000000");
    ck_bad(t, "/wide?w=9223372036854775808",
           "query.w: found \"9223372036854775808\", expected an integer "
           "-9223372036854775808..9223372036854775807");
    ck_bad(t, "/wide?w=-9223372036854775809",
           "query.w: found \"-9223372036854775809\", expected an integer "
           "-9223372036854775808..9223372036854775807");
    ck_bad(t, "/wide?w=18446744073709551616",
           "query.w: found \"18446744073709551616\", expected an integer "
           "-9223372036854775808..9223372036854775807");
    /* 200 nines, then a letter: too big and not a number; no overflow. */
    char target[300] = "/wide?w=";
    memset(target + 8, '9', 200);
    strcpy(target + 208, "x");
    ck_bad(t, target,
           "query.w: found \"9999999999999999999999999999999999999999...\" "
           "(201 bytes), expected an integer "
           "-9223372036854775808..9223372036854775807");
}
END_TEST

START_TEST(types_number_bool_uuid_enum)
{
    zt_table_t *t = contract_table();

    static const char *const numbers[] = {
        "0", "-0", "1", "-1", "1.5", "0.0001", "1e3", "1E%2B3", "-2.5e-7", "123456789012345678901234567890",
    };
    static const char *const not_numbers[] = {
        "", "+1", "01", ".5", "5.", "1e", "1e+", "--1", "NaN", "Infinity", "0x1", "1,5", "1.5.5", "%201",
    };
    for (size_t i = 0; i < NELTS(numbers); i++) {
        ck_ok(t, apr_pstrcat(pool, "/orders?x=", numbers[i], NULL));
    }
    ck_all_refused(t, "/orders?x=", not_numbers, NELTS(not_numbers), ZT_VIOL_QUERY,
                   "x", "a number (JSON syntax)");

    ck_ok(t, "/orders?flag=true");
    ck_ok(t, "/orders?flag=false");
    ck_bad(t, "/orders?flag=TRUE", "query.flag: found \"TRUE\", expected true or false");
    ck_bad(t, "/orders?flag=1", "query.flag: found \"1\", expected true or false");
    ck_bad(t, "/orders?flag", "query.flag: found \"\", expected true or false");
    ck_bad(t, "/orders?flag=true%20", "query.flag: found \"true \", expected true or false");

    ck_ok(t, "/items/9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70");
    ck_ok(t, "/items/9B2F0A3C-1F0E-4C1A-9A0B-2B3C4D5E6F70");
    ck_ok(t, "/items/00000000-0000-0000-0000-000000000000");
    static const char *const not_uuids[] = {
        "42",
        "9b2f0a3c1f0e4c1a9a0b2b3c4d5e6f70",           /* no dashes */
        "{9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70}",     /* braces */
        "urn:uuid:9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70",
        "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f7",        /* 35 */
        "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f701",      /* 37 */
        "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f7g",       /* g */
        "9b2f0a3c1-f0e-4c1a-9a0b-2b3c4d5e6f70",       /* dash moved */
        "9b2f0a3c-1f0e-4c1a-9a0b_2b3c4d5e6f70",
        " 9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f7",
    };
    ck_all_refused(t, "/items/", not_uuids, NELTS(not_uuids), ZT_VIOL_PATH, "id",
                   "a UUID");
    ck_bad(t, "/items/42", "path.id: found \"42\", expected a UUID");

    ck_ok(t, "/orders?status=open");
    ck_ok(t, "/orders?status=shipped");
    ck_bad(t, "/orders?status=Open", "query.status: found \"Open\", expected one of open, shipped");
    ck_bad(t, "/orders?status=open%20", "query.status: found \"open \", expected one of open, shipped");
    ck_bad(t, "/orders?status=", "query.status: found \"\", expected one of open, shipped");
    ck_bad(t, "/orders?status=ope", "query.status: found \"ope\", expected one of open, shipped");
}
END_TEST

START_TEST(types_string)
{
    zt_table_t *t = contract_table();
    char *target;

    ck_ok(t, "/n/1/a");
    ck_bad(t, "/req?q=ab", "query.q: found \"ab\", expected exactly 3 bytes");
    ck_bad(t, "/req?q=abcd", "query.q: found \"abcd\", expected exactly 3 bytes");
    ck_ok(t, "/req?q=abc");
    /* Bytes, not characters: "é" is two. */
    ck_bad(t, "/req?q=%C3%A9", "query.q: found \"\\xc3\\xa9\", expected exactly 3 bytes");
    ck_ok(t, "/req?q=%C3%A9e");
    ck_ok(t, "/orders?tag=");                   /* 0..16 */
    ck_ok(t, "/orders?tag=0123456789abcdef");
    ck_bad(t, "/orders?tag=0123456789abcdefg",
           "query.tag: found \"0123456789abcdefg\", expected at most 16 bytes");
    ck_bad(t, "/orders?cursor=",
           "query.cursor: found \"\", expected 1..64 bytes matching /^[a-z]+$/");

    /* 10 000 and 10 001 bytes: the message quotes 40 and gives the length. */
    target = apr_palloc(pool, 10100);
    strcpy(target, "/wide?s=");
    memset(target + 8, 'a', 10000);
    target[10008] = '\0';
    ck_ok(t, target);
    strcpy(target + 10008, "b");
    ck_bad(t, target, "query.s: found \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" "
           "(10001 bytes), expected at most 10000 bytes");

    /* The pattern is enforced, after the length, and named when broken. */
    ck_ok(t, "/orders?cursor=abc");
    ck_bad(t, "/orders?cursor=ABC",
           "query.cursor: found \"ABC\", expected 1..64 bytes matching /^[a-z]+$/");
    ck_bad(t, "/orders?cursor=ab+",             /* '+' is a space */
           "query.cursor: found \"ab \", expected 1..64 bytes matching /^[a-z]+$/");
    ck_bad(t, "/orders?cursor=ab%C3%A9",
           "query.cursor: found \"ab\\xc3\\xa9\", expected 1..64 bytes matching /^[a-z]+$/");
    target = apr_palloc(pool, 100);
    strcpy(target, "/orders?cursor=");
    memset(target + 15, 'z', 64);
    target[79] = '\0';
    ck_ok(t, target);
    target[78] = '0';
    ck_bad(t, target, "query.cursor: found \"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...\" "
           "(64 bytes), expected 1..64 bytes matching /^[a-z]+$/");
}
END_TEST

START_TEST(query_rules)
{
    zt_table_t *t = contract_table();

    ck_ok(t, "/orders");
    ck_ok(t, "/orders?limit=5&cursor=abc&status=open&tag=a&tag=b&tag=&x=1&flag=true");
    ck_bad(t, "/orders?limit=1&limit=2",
           "query.limit: appears twice, expected one value (not declared as a list)");
    ck_bad(t, "/orders?limit=1&status=open&limit=1",
           "query.limit: appears twice, expected one value (not declared as a list)");
    ck_bad(t, "/orders?debug=1",
           "query.debug: undeclared, expected declared parameters: limit, "
           "cursor, status, tag, x, flag");
    ck_bad(t, "/orders?Limit=5",
           "query.Limit: undeclared, expected declared parameters: limit, "
           "cursor, status, tag, x, flag");
    ck_bad(t, "/none?a", "query.a: undeclared, expected no query parameters");
    /* A name with odd bytes is quoted back escaped. */
    ck_bad(t, "/none?%22%5C%C3%A9=1",
           "query.\\x22\\x5c\\xc3\\xa9: undeclared, expected no query parameters");
    /* A long name is cut with "...". */
    {
        char target[160] = "/none?";
        zt_violation_t v;
        char text[512];
        memset(target + 6, 'n', 100);
        ck_assert_int_eq(validate(t, target, tenant, &v, text, sizeof(text)), -1);
        ck_assert_uint_eq(strlen(v.name), sizeof(v.name) - 1);
        ck_assert_str_eq(v.name + sizeof(v.name) - 4, "...");
        ck_assert_int_eq(v.name[0], 'n');
    }
    /* The first violation, in request order. */
    ck_bad(t, "/orders?limit=0&debug=1", "query.limit: found \"0\", expected an integer 1..100");
    ck_bad(t, "/orders?debug=1&limit=0",
           "query.debug: undeclared, expected declared parameters: limit, "
           "cursor, status, tag, x, flag");
    /* query * any: undeclared names pass, declared ones are still typed. */
    ck_ok(t, "/any?anything=1&anything=2&x");
    ck_ok(t, "/any?limit=10");
    ck_bad(t, "/any?limit=11", "query.limit: found \"11\", expected an integer 1..10");
    ck_bad(t, "/any?limit=1&limit=1",
           "query.limit: appears twice, expected one value (not declared as a list)");
    /* Required parameters. */
    ck_bad(t, "/req", "query.q: missing, expected exactly 3 bytes");
    ck_bad(t, "/req?r=abc", "query.r: undeclared, expected declared parameters: q");
}
END_TEST

/*
** The contract as the loader prepares it (zt_validate_prepare): names
** found by length, a bit per declared parameter for repeats and for the
** required ones, typed captures by their place.  A route of ZT_MAX_PARAMS
** query parameters puts the last one in bit 63; a route with a typed
** header reports the mask's missing ones in declaration order among its
** headers, one without it the lowest bit, and both must name the same
** first missing parameter.
**
**   GET /many           p0 .. p63: p0, p62 and p63 required, p63 a list
**   GET /mixed          header x-h uuid, then query q int (both required)
**   GET /qonly          query a, then q int (both required)
**   GET /g/{a}/{b:int}/ and a globstar
*/
static zt_table_t *prepared_table(void)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t many = zb_route(ir, ZT_M_GET, "/many");
    uint32_t mixed = zb_route(ir, ZT_M_GET, "/mixed");
    uint32_t qonly = zb_route(ir, ZT_M_GET, "/qonly");
    uint32_t g = zb_route(ir, ZT_M_GET, "/g/{a}/{b:int}/**");
    zpc_ir_type_t *i9 = zb_type(ir, ZT_TYPE_INT, 0, 9, NULL, NULL);
    const char *err = NULL;
    zt_table_t *t;

    for (int k = 0; k < ZT_MAX_PARAMS; k++) {
        uint32_t flags = k == 0 || k == 62 ? 0
                         : k == 63 ? ZT_PARAM_LIST : ZT_PARAM_OPTIONAL;

        zb_param(ir, many, ZT_PARAM_QUERY, apr_psprintf(pool, "p%d", k), i9,
                 flags);
    }
    zb_param(ir, mixed, ZT_PARAM_HEADER, "x-h",
             zb_type(ir, ZT_TYPE_UUID, 0, 0, NULL, NULL), 0);
    zb_param(ir, mixed, ZT_PARAM_QUERY, "q", i9, 0);
    zb_param(ir, qonly, ZT_PARAM_QUERY, "a", i9, 0);
    zb_param(ir, qonly, ZT_PARAM_QUERY, "q", i9, 0);
    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, "(true)", "allow", 4,
            many, mixed, qonly, g);
    t = zv_build(ir, pool, &err);
    ck_assert_msg(t != NULL, "table: %s", err);
    return t;
}

/* @a target is refused for its undeclared query parameter @a name. */
/* The start of /many's list of declared parameters. */
#define MANY "declared parameters: p0, p1, p2, "

/* @a target is refused: its parameter @a name is undeclared; the message
 * lists the declared ones from @a listed on (NULL: not checked). */
static void ck_undeclared(const zt_table_t *t, const char *target,
                          const char *name, const char *listed)
{
    zt_violation_t v;
    char text[512];

    ck_assert_msg(validate(t, target, tenant, &v, text, sizeof(text)) == -1,
                  "%s accepted", target);
    ck_assert_int_eq(v.where, ZT_VIOL_QUERY);
    ck_assert_str_eq(v.name, name);
    ck_assert_str_eq(v.found, "undeclared");
    ck_assert_msg(listed == NULL || strncmp(v.expected, listed, strlen(listed)) == 0,
                  "%s: %s", target, v.expected);
}

START_TEST(prepared_contract)
{
    zt_table_t *t = prepared_table();
    static const char *const xh[] = {
        "x-h", "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70", NULL
    };
    static const char *const nothing[] = { NULL };

    /* bit 63: required, a list */
    ck_bad(t, "/many", "query.p0: missing, expected an integer 0..9");
    ck_bad(t, "/many?p63=1&p62=1", "query.p0: missing, expected an integer 0..9");
    ck_bad(t, "/many?p0=1&p62=1", "query.p63: missing, expected an integer 0..9");
    ck_bad(t, "/many?p63=1&p0=1", "query.p62: missing, expected an integer 0..9");
    ck_ok(t, "/many?p0=1&p62=1&p63=1");
    ck_ok(t, "/many?p63=1&p63=2&p62=3&p0=4&p63=5");
    ck_bad(t, "/many?p0=1&p62=1&p63=1&p62=2",
           "query.p62: appears twice, expected one value (not declared as a list)");
    ck_bad(t, "/many?p0=1&p62=1&p63=1&p31=1&p31=1",
           "query.p31: appears twice, expected one value (not declared as a list)");
    ck_bad(t, "/many?p0=1&p62=1&p63=1&p1=1&p1",
           "query.p1: appears twice, expected one value (not declared as a list)");
    /* a repeat is reported before its type, in request order */
    ck_bad(t, "/many?p0=1&p0=x", "query.p0: appears twice, expected one value "
           "(not declared as a list)");
    ck_bad(t, "/many?p0=x&p0=1", "query.p0: found \"x\", expected an integer 0..9");
    /* names of a declared length, or a prefix, are not declared ones */
    ck_undeclared(t, "/many?q0=1", "q0", MANY);
    ck_undeclared(t, "/many?p=1", "p", MANY);
    ck_undeclared(t, "/many?p630=1", "p630", MANY);
    ck_undeclared(t, "/many?p0=1&p62=1&p63=1&P0=1", "P0", MANY);
    /* an encoded name is the same name */
    ck_ok(t, "/many?%70%30=1&p6%32=1&p%363=1");

    /* the first missing, in declaration order, with and without headers */
    ck_bad_at(t, "/mixed", nothing, "header.x-h: missing, expected a UUID",
              __LINE__);
    ck_bad_at(t, "/mixed", xh, "query.q: missing, expected an integer 0..9",
              __LINE__);
    ck_bad_at(t, "/mixed?q=1", nothing, "header.x-h: missing, expected a UUID",
              __LINE__);
    ck_ok_at(t, "/mixed?q=1", xh, __LINE__);
    ck_bad(t, "/qonly", "query.a: missing, expected an integer 0..9");
    ck_bad(t, "/qonly?q=1", "query.a: missing, expected an integer 0..9");
    ck_bad(t, "/qonly?a=1", "query.q: missing, expected an integer 0..9");
    ck_bad(t, "/qonly?a=1&q=", "query.q: found \"\", expected an integer 0..9");
    ck_ok(t, "/qonly?q=0&a=9");

    /* typed captures by their place, before a globstar */
    ck_ok(t, "/g/x/5");
    ck_ok(t, "/g/x/5/y/z");
    ck_bad(t, "/g/x/y", "path.b: found \"y\", expected an integer 0..1000000");
    ck_bad(t, "/g/x/y/5", "path.b: found \"y\", expected an integer 0..1000000");
}
END_TEST

/*
** Which query parameters are missing is decided by the required mask
** (zt_validate_request); a route with typed headers walks its parameters
** in declaration order and reports them among the headers'.  The same
** query declarations with and without typed headers give the same answer
** for every set of them present, and a required header is reported only
** when no query parameter declared before it is missing.
**
**   GET /plain   query a (required), b, c (required, a list), d (a list),
**                e (required), * any
**   GET /typed   header h1 uuid (optional), query a, b, c, header h2
**                uuid (required), query d, e, * any: the same flags
*/
START_TEST(missing_agrees_with_and_without_headers)
{
    static const char *const names[] = { "a", "b", "c", "d", "e" };
    static const uint32_t flags[] = {
        0, ZT_PARAM_OPTIONAL, ZT_PARAM_LIST, ZT_PARAM_OPTIONAL | ZT_PARAM_LIST, 0
    };
    static const char *const h2[] = {
        "h2", "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70", NULL
    };
    static const char *const h12[] = {
        "h1", "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70",
        "h2", "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70", NULL
    };
    zpc_ir_t *ir = zb_new(pool, "m", "m.ztp");
    uint32_t plain = zb_route(ir, ZT_M_GET, "/plain");
    uint32_t typed = zb_route(ir, ZT_M_GET, "/typed");
    zpc_ir_type_t *i9 = zb_type(ir, ZT_TYPE_INT, 0, 9, NULL, NULL);
    zpc_ir_type_t *uuid = zb_type(ir, ZT_TYPE_UUID, 0, 0, NULL, NULL);
    const char *err = NULL;
    zt_table_t *t;

    zb_param(ir, typed, ZT_PARAM_HEADER, "h1", uuid, ZT_PARAM_OPTIONAL);
    for (int k = 0; k < 5; k++) {
        zb_param(ir, plain, ZT_PARAM_QUERY, names[k], i9, flags[k]);
        if (k == 3) {
            zb_param(ir, typed, ZT_PARAM_HEADER, "h2", uuid, 0);
        }
        zb_param(ir, typed, ZT_PARAM_QUERY, names[k], i9, flags[k]);
    }
    zb_route_at(ir, plain)->flags |= ZT_ROUTE_QUERY_ANY;
    zb_route_at(ir, typed)->flags |= ZT_ROUTE_QUERY_ANY;
    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, "(true)", "allow", 2,
            plain, typed);
    t = zv_build(ir, pool, &err);
    ck_assert_msg(t != NULL, "table: %s", err);

    for (unsigned present = 0; present < 32; present++) {
        const char *query = "?u=1", *first = NULL, *want;
        char got[512], text[512];
        zt_violation_t v;
        int rc;

        for (int k = 0; k < 5; k++) {
            if (present >> k & 1) {
                query = apr_pstrcat(pool, query, "&", names[k], "=1", NULL);
            }
            else if (first == NULL && !(flags[k] & ZT_PARAM_OPTIONAL)) {
                first = names[k];
            }
        }
        want = first == NULL ? "(accepted)"
               : apr_psprintf(pool, "query.%s: missing, expected an integer "
                              "0..9", first);
        rc = validate(t, apr_pstrcat(pool, "/plain", query, NULL), NULL, &v,
                      got, sizeof(got));
        ck_assert_msg(rc == (first ? -1 : 0) && strcmp(got, want) == 0,
                      "/plain%s: %s, want %s", query, got, want);
        for (int h = 0; h < 2; h++) {
            rc = validate(t, apr_pstrcat(pool, "/typed", query, NULL),
                          h ? h12 : h2, &v, text, sizeof(text));
            ck_assert_msg(rc == (first ? -1 : 0) && strcmp(text, got) == 0,
                          "/typed%s (h1 %s): %s, but /plain: %s", query,
                          h ? "present" : "absent", text, got);
        }
        /* h2 absent: reported unless a or c, declared before it, is missing */
        want = first != NULL && first[0] != 'e' ? want
               : "header.h2: missing, expected a UUID";
        validate(t, apr_pstrcat(pool, "/typed", query, NULL), NULL, &v, text,
                 sizeof(text));
        ck_assert_msg(strcmp(text, want) == 0, "/typed%s without headers: "
                      "%s, want %s", query, text, want);
    }
}
END_TEST

/* GET /keys?@a name=1 is refused: @a name is undeclared. */
static void ck_not_found(const zt_table_t *t, const char *name)
{
    ck_undeclared(t, apr_psprintf(pool, "/keys?%s=1", name), name, NULL);
}

/*
** Names are found by length and a key of their two ends (zt_name_key):
** every length up to past ZT_KEY_MAX (16), each against the same name
** with one byte changed at each place, and against its prefixes.
*/
START_TEST(names_by_key)
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyz";
    zpc_ir_t *ir = zb_new(pool, "k", "k.ztp");
    uint32_t keys = zb_route(ir, ZT_M_GET, "/keys");
    zpc_ir_type_t *i9 = zb_type(ir, ZT_TYPE_INT, 0, 9, NULL, NULL);
    const char *err = NULL;
    zt_table_t *t;

    /* "b", "bc", ... "bcd...u": 20 names, each a prefix of the next */
    for (int n = 1; n <= 20; n++) {
        zb_param(ir, keys, ZT_PARAM_QUERY, apr_pstrndup(pool, abc + 1, n), i9,
                 ZT_PARAM_OPTIONAL);
    }
    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, "(true)", "allow", 1, keys);
    t = zv_build(ir, pool, &err);
    ck_assert_msg(t != NULL, "table: %s", err);
    for (int n = 1; n <= 21; n++) {
        char *name = apr_pstrndup(pool, abc + 1, n);

        if (n <= 20) {
            ck_ok(t, apr_psprintf(pool, "/keys?%s=1", name));
        }
        else {
            ck_not_found(t, name);
        }
        for (int i = 0; i < n; i++) {
            char *other = apr_pstrdup(pool, name);

            other[i] = abc[0];          /* not a letter any name has there */
            ck_not_found(t, other);
            other[i] = 'B';
            ck_not_found(t, other);
        }
        /* the name followed by more: the same ends would not do */
        ck_not_found(t, apr_psprintf(pool, "%sb", name));
    }
}
END_TEST

START_TEST(headers)
{
    zt_table_t *t = contract_table();
    static const char *const bad_uuid[] = { "x-tenant", "nope", NULL };
    static const char *const tab[] = {
        "x-tenant", "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70", "x-note", "a\tb", NULL
    };
    static const char *const del[] = {
        "x-tenant", "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70", "x-note", "ab\x7f", NULL
    };
    static const char *const long_note[] = {
        "x-tenant", "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70", "x-note", "123456789", NULL
    };
    static const char *const empty_note[] = {
        "x-tenant", "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70", "x-note", "", NULL
    };
    static const char *const nothing[] = { NULL };

    ck_ok(t, "/orders");
    ck_bad_at(t, "/orders", nothing, "header.x-tenant: missing, expected a UUID", __LINE__);
    ck_bad_at(t, "/orders", NULL, "header.x-tenant: missing, expected a UUID", __LINE__);
    ck_bad_at(t, "/orders", bad_uuid, "header.x-tenant: found \"nope\", expected a UUID",
              __LINE__);
    ck_bad_at(t, "/orders", tab, "header.x-note: found \"a\\x09b\", expected no control bytes",
              __LINE__);
    ck_bad_at(t, "/orders", del, "header.x-note: found \"ab\\x7f\", expected no control bytes",
              __LINE__);
    ck_bad_at(t, "/orders", long_note,
              "header.x-note: found \"123456789\", expected at most 8 bytes", __LINE__);
    ck_ok_at(t, "/orders", empty_note, __LINE__);
    /* Every byte value at every place of values of 1 to 20 bytes (one
     * word, a short last word, several): a control byte (below 0x20, or
     * DEL) is refused as one, nothing else is; a NUL ends the value. */
    for (size_t n = 1; n <= 20; n++) {
        for (size_t i = 0; i < n; i++) {
            for (int c = 1; c < 256; c++) {
                char *note = apr_pcalloc(pool, n + 1);
                const char *hs[] = {
                    "x-tenant", "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70",
                    "x-note", note, NULL
                };
                int control = c < 0x20 || c == 0x7f;
                zt_violation_t v;
                char text[512];
                int rc;

                memset(note, c == 'a' ? 'b' : 'a', n);
                note[i] = (char)c;
                rc = validate(t, "/orders", hs, &v, text, sizeof(text));
                ck_assert_msg(control ? rc == -1 && strcmp(v.expected,
                                                           "no control bytes") == 0
                                      : rc == 0 || strcmp(v.expected,
                                                          "no control bytes") != 0,
                              "0x%02x at %zu of %zu: %s", c, i, n, text);
            }
        }
    }
    /* Query checks come before the declared headers. */
    ck_bad_at(t, "/orders?limit=0", nothing,
              "query.limit: found \"0\", expected an integer 1..100", __LINE__);
}
END_TEST

START_TEST(text_is_bounded)
{
    zt_violation_t v;
    char small[16];

    memset(&v, 0, sizeof(v));
    v.where = ZT_VIOL_HEADER;
    strcpy(v.name, "x-note");
    strcpy(v.found, "missing");
    strcpy(v.expected, "a UUID");
    ck_assert_str_eq(zt_violation_text(&v, small, sizeof(small)), "header.x-note: ");
    ck_assert_str_eq(zt_violation_where(&v), "header");
    v.where = ZT_VIOL_PATH;
    ck_assert_str_eq(zt_violation_where(&v), "path");
}
END_TEST

/* The "why" of invalid-params is the text after "where.name: ", made
 * without cutting the text, whatever the name holds. */
START_TEST(why_is_the_text_without_where)
{
    zt_violation_t v;
    char text[512], why[ZT_VIOLATION_WHY_SIZE], small[8];

    memset(&v, 0, sizeof(v));
    v.where = ZT_VIOL_QUERY;
    strcpy(v.name, "limit");
    strcpy(v.found, "\"500\"");
    strcpy(v.expected, "an integer 1..100");
    ck_assert_str_eq(zt_violation_why(&v, why, sizeof(why)),
                     "found \"500\", expected an integer 1..100");
    ck_assert_str_eq(zt_violation_text(&v, text, sizeof(text)),
                     "query.limit: found \"500\", expected an integer 1..100");
    strcpy(v.found, "missing");
    ck_assert_str_eq(zt_violation_why(&v, why, sizeof(why)),
                     "missing, expected an integer 1..100");
    /* a name that looks like a prefix changes nothing */
    strcpy(v.name, "a: b");
    ck_assert_str_eq(zt_violation_why(&v, why, sizeof(why)),
                     "missing, expected an integer 1..100");
    ck_assert_str_eq(zt_violation_text(&v, text, sizeof(text)),
                     "query.a: b: missing, expected an integer 1..100");
    /* bounded, NUL-terminated; size 0 writes nothing */
    ck_assert_str_eq(zt_violation_why(&v, small, sizeof(small)), "missing");
    small[0] = 'x';
    zt_violation_why(&v, small, 0);
    ck_assert_int_eq(small[0], 'x');
    /* the largest violation fits whole */
    memset(v.found, '"', sizeof(v.found) - 1);
    memset(v.expected, 'e', sizeof(v.expected) - 1);
    zt_violation_why(&v, why, sizeof(why));
    ck_assert_uint_eq(strlen(why), strlen("found , expected ")
                      + sizeof(v.found) - 1 + sizeof(v.expected) - 1);
}
END_TEST

/* An enum whose values do not fit the message: cut with "...". */
START_TEST(long_enum_is_cut)
{
    zpc_ir_t *ir = zb_new(pool, "v", "v.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/e");
    char values[2000] = "", target[] = "/e?e=zzz";
    const char *err = NULL;
    zt_table_t *t;
    zt_violation_t v;
    char text[512];

    for (int i = 0; i < 60; i++) {
        snprintf(values + strlen(values), sizeof(values) - strlen(values),
                 "%svalue-number-%02d", i ? " " : "", i);
    }
    zb_param(ir, r, ZT_PARAM_QUERY, "e",
             zb_type(ir, ZT_TYPE_ENUM, 0, 0, NULL, values), 0);
    zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, "(true)", "allow", 1, r);
    t = zv_build(ir, pool, &err);
    ck_assert_msg(t != NULL, "table: %s", err);
    ck_assert_int_eq(validate(t, target, NULL, &v, text, sizeof(text)), -1);
    ck_assert_msg(strncmp(v.expected, "one of value-number-00, value-number-01", 39) == 0,
                  "%s", v.expected);
    ck_assert_msg(strcmp(v.expected + strlen(v.expected) - 3, "...") == 0, "%s", v.expected);
    ck_assert_uint_lt(strlen(v.expected), sizeof(v.expected));
    ck_assert_int_eq(validate(t, "/e?e=value-number-59", NULL, &v, text, sizeof(text)), 0);
}
END_TEST

static Suite *validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("contract");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, types_int);
    tcase_add_test(tc, types_int_extremes);
    tcase_add_test(tc, types_number_bool_uuid_enum);
    tcase_add_test(tc, types_string);
    tcase_add_test(tc, query_rules);
    tcase_add_test(tc, prepared_contract);
    tcase_add_test(tc, missing_agrees_with_and_without_headers);
    tcase_add_test(tc, names_by_key);
    tcase_add_test(tc, headers);
    tcase_add_test(tc, text_is_bounded);
    tcase_add_test(tc, why_is_the_text_without_where);
    tcase_add_test(tc, long_enum_is_cut);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return zt_test_main(validate_suite());
}
