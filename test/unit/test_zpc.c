/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The zpc front end: scanner, parser, checks, lowering.  Each case compiles
 * source text and asserts the error and warning counts, a piece of the
 * message, and for good input the exact IR.  Diagnostics are captured with
 * open_memstream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>

#include "zt_test.h"
#include "zpc_front.h"
#include "zpc_check.h"
#include "zt_alg.h"

ZT_TEST_POOL_FIXTURE

typedef struct {
    zpc_ir_t *ir;
    int nerr, nwarn;
    const char *out;        /* everything written to the diagnostics */
} res_t;

static res_t compile_n(const char *src, size_t len)
{
    res_t r;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);

    ck_assert_ptr_nonnull(f);
    r.nerr = r.nwarn = -1;
    r.ir = zpc_compile_string("t.ztp", src, len, f, pool, &r.nerr, &r.nwarn);
    fclose(f);
    r.out = apr_pstrdup(pool, buf);
    free(buf);
    if (r.nerr > 0) {
        ck_assert_ptr_null(r.ir);
    }
    return r;
}

static res_t compile(const char *src)
{
    return compile_n(src, strlen(src));
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Compile @a src as if it were the file @a path (includes and schemas are
 * found next to it). */
static res_t compile_at(const char *path, const char *src)
{
    res_t r;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);

    ck_assert_ptr_nonnull(f);
    r.ir = zpc_compile_string(path, src, strlen(src), f, pool, &r.nerr, &r.nwarn);
    fclose(f);
    r.out = apr_pstrdup(pool, buf);
    free(buf);
    return r;
}

#define expect(src, errors, warnings, msg) do {                              \
        res_t r_ = compile(src);                                             \
        const char *m_ = (msg);                                              \
        ck_assert_msg(r_.nerr == (errors) && r_.nwarn == (warnings),         \
                      "errors %d (want %d), warnings %d (want %d):\n%s",     \
                      r_.nerr, (errors), r_.nwarn, (warnings), r_.out);      \
        ck_assert_msg(strstr(r_.out, m_) != NULL,                            \
                      "missing \"%s\" in:\n%s", m_, r_.out);                 \
    } while (0)

/* Six lines: a policy and one complete issuer.  Tests start on line 7. */
#define ISS "issuer corp \"https://idp\" {\n audience \"api\"\n" \
            " algorithms ES256\n jwks file \"k.json\"\n}\n"
#define HDR "policy \"p\"\n" ISS

#define NODE(ir, i) (&APR_ARRAY_IDX((ir)->nodes, (i), zpc_ir_node_t))
#define OPND(ir, i) (&APR_ARRAY_IDX((ir)->opnds, (i), zpc_ir_opnd_t))
#define ROUTE(ir, i) (&APR_ARRAY_IDX((ir)->routes, (i), zpc_ir_route_t))
#define RULE(ir, i) (&APR_ARRAY_IDX((ir)->rules, (i), zpc_ir_rule_t))
#define LIST(ir, i) APR_ARRAY_IDX((ir)->lists, (i), uint32_t)

/* The invariants the emitter and the table loader rely on. */
static void check_invariants(const zpc_ir_t *ir)
{
    uint32_t nn = (uint32_t)ir->nodes->nelts, no = (uint32_t)ir->opnds->nelts;

    for (uint32_t i = 0; i < nn; i++) {
        const zpc_ir_node_t *n = NODE(ir, i);
        switch (n->op) {
        case ZT_OP_AND: case ZT_OP_OR:
            ck_assert_uint_gt(n->a, i);
            ck_assert_uint_gt(n->b, i);
            ck_assert_uint_lt(n->a, nn);
            ck_assert_uint_lt(n->b, nn);
            break;
        case ZT_OP_NOT:
            ck_assert_uint_gt(n->a, i);
            ck_assert_uint_lt(n->a, nn);
            ck_assert_uint_eq(n->b, 0);
            break;
        case ZT_OP_EQ: case ZT_OP_NE: case ZT_OP_IN_CLAIM:
        case ZT_OP_LT: case ZT_OP_LE: case ZT_OP_GT: case ZT_OP_GE:
            ck_assert_uint_lt(n->a, no);
            ck_assert_uint_lt(n->b, no);
            ck_assert_uint_eq(n->c, 0);
            if (n->op == ZT_OP_IN_CLAIM) {
                ck_assert(OPND(ir, n->b)->kind == ZT_OPND_TOKEN
                          || OPND(ir, n->b)->kind == ZT_OPND_CERT_SAN);
            }
            if (n->op >= ZT_OP_LT) {
                ck_assert(OPND(ir, n->a)->kind == ZT_OPND_INT
                          || OPND(ir, n->b)->kind == ZT_OPND_INT);
            }
            break;
        case ZT_OP_IN_CIDR:
            ck_assert_uint_lt(n->a, no);
            ck_assert_uint_eq(OPND(ir, n->a)->kind, ZT_OPND_CLIENT_IP);
            ck_assert_uint_ge(n->c, 1);
            ck_assert_uint_le((uint64_t)n->b + n->c, (uint64_t)ir->cidrs->nelts);
            break;
        case ZT_OP_IN_LIST:
            ck_assert_uint_lt(n->a, no);
            ck_assert_uint_ge(n->c, 1);
            ck_assert_uint_le((uint64_t)n->b + n->c, (uint64_t)ir->lists->nelts);
            break;
        default:
            ck_abort_msg("node %u: bad op %u", i, n->op);
        }
    }
    for (int i = 0; i < ir->rules->nelts; i++) {
        ck_assert(RULE(ir, i)->cond == ZT_NONE || RULE(ir, i)->cond < nn);
    }
    for (int i = 0; i < ir->routes->nelts; i++) {
        const zpc_ir_route_t *r = ROUTE(ir, i);
        ck_assert_int_le(r->segs->nelts, ZT_MAX_SEGMENTS);
        ck_assert_ptr_nonnull(r->file);
        ck_assert_int_le(r->params->nelts, ZT_MAX_PARAMS);
        ck_assert_int_le(r->limits->nelts, ZT_MAX_LIMITS);
        ck_assert(r->stepup == -1 || (r->stepup >= 0 && r->stepup < ir->stepups->nelts));
        for (int j = 0; j < r->limits->nelts; j++) {
            ck_assert_uint_lt(APR_ARRAY_IDX(r->limits, j, uint32_t),
                              (uint32_t)ir->limits->nelts);
        }
        for (int j = 0; j < r->rules->nelts; j++) {
            uint32_t x = APR_ARRAY_IDX(r->rules, j, uint32_t);
            ck_assert_uint_lt(x, (uint32_t)ir->rules->nelts);
            if (j > 0) {
                ck_assert_uint_gt(x, APR_ARRAY_IDX(r->rules, j - 1, uint32_t));
            }
        }
    }
    for (uint32_t i = 0; i < no; i++) {
        const zpc_ir_opnd_t *o = OPND(ir, i);
        ck_assert_uint_lt(o->kind, ZT_OPND__COUNT);
        if (o->kind == ZT_OPND_TOKEN) {
            ck_assert_int_ge(o->parts->nelts, 1);
            ck_assert_int_le(o->parts->nelts, ZT_MAX_CLAIM_DEPTH);
        }
    }
}

static void assert_rules(const zpc_ir_t *ir, int route, const char *want)
{
    const zpc_ir_route_t *r = ROUTE(ir, route);
    char got[256] = "";

    for (int j = 0; j < r->rules->nelts; j++) {
        size_t n = strlen(got);
        snprintf(got + n, sizeof(got) - n, "%s%u", j ? " " : "",
                 APR_ARRAY_IDX(r->rules, j, uint32_t));
    }
    ck_assert_str_eq(got, want);
}

static const char *token_path(const zpc_ir_opnd_t *o)
{
    return apr_array_pstrcat(pool, o->parts, '.');
}

/* ------------------------------------------------------------------ */
/* Lowering                                                            */
/* ------------------------------------------------------------------ */

START_TEST(orders_example)
{
    zpc_ir_t *ir = zpc_compile_file(ZT_SRCDIR "/examples/orders/orders.ztp",
                                    stderr, pool, NULL, NULL);
    const zpc_ir_issuer_t *is;
    const zpc_ir_param_t *p;
    const zpc_ir_seg_t *s;
    const zpc_ir_cidr_t *cidr;
    const zpc_ir_stepup_t *st;
    const zpc_ir_limit_t *lim;
    static const struct { uint32_t m; const char *p; int nseg; uint32_t line; } routes[] = {
        { ZT_M_GET, "/health", 1, 26 }, { ZT_M_GET, "/orders", 1, 27 },
        { ZT_M_GET, "/orders/{id: uuid}", 2, 31 }, { ZT_M_POST, "/orders", 1, 32 },
        { ZT_M_DELETE, "/orders/{id: uuid}", 2, 36 },
        { ZT_M_GET, "/users/{uid: string 1..64}/orders", 3, 37 },
    };
    static const char *rules[] = { "0", "1 5", "1 5", "2 5", "3 5", "4" };
    static const zpc_ir_node_t nodes[] = {
        { ZT_OP_IN_CLAIM, 0, 1, 0 },   /* "orders:read" in token.scope */
        { ZT_OP_IN_CLAIM, 2, 1, 0 },   /* "orders:write" in token.scope */
        { ZT_OP_AND, 3, 4, 0 },        /* admin and office */
        { ZT_OP_IN_CLAIM, 3, 4, 0 },   /*   "admin" in token.realm_access.roles */
        { ZT_OP_IN_CIDR, 5, 0, 2 },    /*   client.ip in [10.0.0.0/8, 2001:db8::/32] */
        { ZT_OP_EQ, 6, 7, 0 },         /* token.sub == path.uid */
        { ZT_OP_IN_LIST, 8, 0, 1 },    /* token.azp in ["legacy-batch"] */
    };

    ck_assert_ptr_nonnull(ir);
    check_invariants(ir);
    ck_assert_str_eq(ir->name, "orders-api");
    ck_assert_str_eq(ir->source, ZT_SRCDIR "/examples/orders/orders.ztp");

    ck_assert_int_eq(ir->issuers->nelts, 1);
    is = &APR_ARRAY_IDX(ir->issuers, 0, zpc_ir_issuer_t);
    ck_assert_str_eq(is->name, "corp");
    ck_assert_str_eq(is->iss, "https://idp.example.com/realms/corp");
    ck_assert_str_eq(is->audience, "orders-api");
    ck_assert_uint_eq(is->algs, ZT_ALG_ES256 | ZT_ALG_RS256 | ZT_ALG_EDDSA);
    ck_assert_uint_eq(is->jwks_kind, ZT_JWKS_FILE);
    ck_assert_str_eq(is->jwks, "corp.jwks.json");
    ck_assert_uint_eq(is->max_lifetime, 900);
    ck_assert_uint_eq(is->leeway, 30);

    ck_assert_int_eq(ir->routes->nelts, 6);
    for (int i = 0; i < 6; i++) {
        ck_assert_uint_eq(ROUTE(ir, i)->methods, routes[i].m);
        ck_assert_str_eq(ROUTE(ir, i)->pattern, routes[i].p);
        ck_assert_int_eq(ROUTE(ir, i)->segs->nelts, routes[i].nseg);
        ck_assert_uint_eq(ROUTE(ir, i)->line, routes[i].line);
        ck_assert_str_eq(ROUTE(ir, i)->file, ir->source);
        assert_rules(ir, i, rules[i]);
    }
    /* GET /orders: two typed, optional query parameters, a limit */
    ck_assert_int_eq(ROUTE(ir, 1)->params->nelts, 2);
    p = &APR_ARRAY_IDX(ROUTE(ir, 1)->params, 0, zpc_ir_param_t);
    ck_assert_uint_eq(p->where, ZT_PARAM_QUERY);
    ck_assert_str_eq(p->name, "limit");
    ck_assert_uint_eq(p->flags, ZT_PARAM_OPTIONAL);
    ck_assert_uint_eq(p->type->kind, ZT_TYPE_INT);
    ck_assert_int_eq(p->type->min, 1);
    ck_assert_int_eq(p->type->max, 100);
    p = &APR_ARRAY_IDX(ROUTE(ir, 1)->params, 1, zpc_ir_param_t);
    ck_assert_str_eq(p->name, "cursor");
    ck_assert_uint_eq(p->type->kind, ZT_TYPE_STRING);
    ck_assert_str_eq(p->type->regex, "^[A-Za-z0-9_-]+$");
    ck_assert_int_eq(p->type->max, 64);
    ck_assert_uint_eq(ROUTE(ir, 1)->flags, 0);
    ck_assert_ptr_null(ROUTE(ir, 1)->body);
    ck_assert_int_eq(ROUTE(ir, 1)->stepup, -1);
    ck_assert_int_eq(ROUTE(ir, 1)->limits->nelts, 2);
    /* POST /orders: a header, lower case, and a JSON body with its schema */
    p = &APR_ARRAY_IDX(ROUTE(ir, 3)->params, 0, zpc_ir_param_t);
    ck_assert_uint_eq(p->where, ZT_PARAM_HEADER);
    ck_assert_str_eq(p->name, "idempotency-key");
    ck_assert_uint_eq(p->flags, 0);
    ck_assert_int_eq(p->type->min, 8);
    ck_assert_ptr_nonnull(ROUTE(ir, 3)->body);
    ck_assert_uint_eq(ROUTE(ir, 3)->body->kind, ZT_BODY_JSON);
    ck_assert_uint_eq(ROUTE(ir, 3)->body->max, 16384);
    ck_assert_str_eq(ROUTE(ir, 3)->body->schema_name, "order.schema.json");
    ck_assert_uint_gt(ROUTE(ir, 3)->body->schema_len, 10);
    ck_assert_int_eq(ROUTE(ir, 3)->body->schema[0], '{');
    /* typed captures */
    s = (const zpc_ir_seg_t *)ROUTE(ir, 2)->segs->elts;
    ck_assert_uint_eq(s[1].kind, ZT_SEG_CAPTURE);
    ck_assert_str_eq(s[1].text, "id");
    ck_assert_uint_eq(s[1].type->kind, ZT_TYPE_UUID);
    s = (const zpc_ir_seg_t *)ROUTE(ir, 5)->segs->elts;
    ck_assert_uint_eq(s[0].kind, ZT_SEG_LITERAL);
    ck_assert_str_eq(s[0].text, "users");
    ck_assert_ptr_null(s[0].type);
    ck_assert_str_eq(s[1].text, "uid");
    ck_assert_uint_eq(s[1].type->kind, ZT_TYPE_STRING);
    ck_assert_int_eq(s[1].type->min, 1);
    ck_assert_int_eq(s[1].type->max, 64);
    ck_assert_ptr_null(s[1].type->regex);
    /* stepup on DELETE, limits everywhere */
    ck_assert_int_eq(ir->stepups->nelts, 1);
    st = &APR_ARRAY_IDX(ir->stepups, 0, zpc_ir_stepup_t);
    ck_assert_int_eq(st->acr->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(st->acr, 0, const char *), "urn:example:mfa");
    ck_assert_uint_eq(st->max_age, 600);
    ck_assert_uint_eq(st->line, 46);
    ck_assert_int_eq(ROUTE(ir, 4)->stepup, 0);
    ck_assert_int_eq(ir->limits->nelts, 2);
    lim = &APR_ARRAY_IDX(ir->limits, 0, zpc_ir_limit_t);
    ck_assert_uint_eq(lim->count, 100);
    ck_assert_uint_eq(lim->period, 60);
    ck_assert_uint_eq(lim->key, ZT_LIMIT_SUB);
    lim = &APR_ARRAY_IDX(ir->limits, 1, zpc_ir_limit_t);
    ck_assert_uint_eq(lim->count, 50);
    ck_assert_uint_eq(lim->period, 1);
    ck_assert_uint_eq(lim->key, ZT_LIMIT_IP);
    ck_assert_int_eq(ROUTE(ir, 0)->limits->nelts, 1);
    ck_assert_uint_eq(APR_ARRAY_IDX(ROUTE(ir, 0)->limits, 0, uint32_t), 1);

    ck_assert_int_eq(ir->rules->nelts, 6);
    ck_assert_uint_eq(RULE(ir, 0)->flags, ZT_RULE_PUBLIC);
    ck_assert_uint_eq(RULE(ir, 0)->cond, ZT_NONE);
    ck_assert_uint_eq(RULE(ir, 1)->cond, 0);
    ck_assert_uint_eq(RULE(ir, 2)->cond, 1);
    ck_assert_uint_eq(RULE(ir, 3)->cond, 2);
    ck_assert_uint_eq(RULE(ir, 4)->cond, 5);
    ck_assert_uint_eq(RULE(ir, 5)->cond, 6);
    ck_assert_uint_eq(RULE(ir, 5)->effect, ZT_EFFECT_DENY);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(RULE(ir, i)->effect, ZT_EFFECT_ALLOW);
        ck_assert_uint_eq(RULE(ir, i)->line, 39 + (uint32_t)i);
        ck_assert_uint_eq(RULE(ir, i + 1)->flags, 0);
    }
    ck_assert_str_eq(RULE(ir, 1)->text, "GET /orders, GET /orders/{id}");
    ck_assert_str_eq(RULE(ir, 5)->text, "* /orders/**");
    ck_assert_str_eq(RULE(ir, 5)->file, ir->source);

    ck_assert_int_eq(ir->nodes->nelts, 7);
    for (int i = 0; i < 7; i++) {
        ck_assert_msg(memcmp(NODE(ir, i), &nodes[i], sizeof(nodes[i])) == 0,
                      "node %d: op %u a %u b %u c %u", i, NODE(ir, i)->op,
                      NODE(ir, i)->a, NODE(ir, i)->b, NODE(ir, i)->c);
    }
    ck_assert_int_eq(ir->opnds->nelts, 10);
    ck_assert_str_eq(OPND(ir, 0)->str, "orders:read");
    ck_assert_str_eq(token_path(OPND(ir, 1)), "scope");
    ck_assert_str_eq(token_path(OPND(ir, 4)), "realm_access.roles");
    ck_assert_uint_eq(OPND(ir, 5)->kind, ZT_OPND_CLIENT_IP);
    ck_assert_uint_eq(OPND(ir, 7)->kind, ZT_OPND_PATH);
    ck_assert_str_eq(OPND(ir, 7)->str, "uid");
    ck_assert_str_eq(OPND(ir, 9)->str, "legacy-batch");
    ck_assert_int_eq(ir->cidrs->nelts, 2);
    cidr = &APR_ARRAY_IDX(ir->cidrs, 0, zpc_ir_cidr_t);
    ck_assert_uint_eq(cidr->family, 4);
    ck_assert_uint_eq(cidr->prefix, 8);
    ck_assert_uint_eq(cidr->addr[0], 10);
    cidr = &APR_ARRAY_IDX(ir->cidrs, 1, zpc_ir_cidr_t);
    ck_assert_uint_eq(cidr->family, 6);
    ck_assert_uint_eq(cidr->prefix, 32);
    ck_assert_uint_eq(cidr->addr[0], 0x20);
    ck_assert_uint_eq(cidr->addr[3], 0xb8);
    ck_assert_uint_eq(cidr->addr[4], 0);

    /* tests: never in the table, all lowered */
    ck_assert_int_ge(ir->tests->nelts, 2);
    {
        const zpc_ir_test_t *t = &APR_ARRAY_IDX(ir->tests, 1, zpc_ir_test_t);
        ck_assert_str_eq(t->name, "no MFA, no delete");
        ck_assert_str_eq(t->claims_json, "{\"sub\":\"u1\",\"realm_access\":{\"roles\":[\"admin\"]}}");
        ck_assert_str_eq(t->method, "DELETE");
        ck_assert_str_eq(t->from, "10.1.2.3");
        ck_assert_str_eq(t->tls, "TLSv1.3");
        ck_assert_int_eq(t->time, -1);
        ck_assert_int_eq(t->expect, ZPC_EXPECT_STEPUP);
    }
}
END_TEST

START_TEST(lower_rule_kinds)
{
    res_t r = compile(HDR
        "route GET /a\n"
        "allow GET /a public\n"
        "allow GET /a\n"
        "allow GET /a when token.x == \"1\"\n"
        "deny  GET /a unless token.y != 2\n");
    zpc_ir_t *ir = r.ir;

    ck_assert_msg(ir != NULL, "%s", r.out);
    check_invariants(ir);
    ck_assert_uint_eq(RULE(ir, 0)->flags, ZT_RULE_PUBLIC);
    ck_assert_uint_eq(RULE(ir, 0)->cond, ZT_NONE);
    ck_assert_uint_eq(RULE(ir, 1)->flags, 0);
    ck_assert_uint_eq(RULE(ir, 1)->cond, ZT_NONE);
    ck_assert_uint_eq(RULE(ir, 2)->cond, 0);
    ck_assert_uint_eq(NODE(ir, 0)->op, ZT_OP_EQ);
    ck_assert_uint_eq(RULE(ir, 3)->effect, ZT_EFFECT_DENY);
    ck_assert_uint_eq(RULE(ir, 3)->cond, 1);
    ck_assert_uint_eq(NODE(ir, 1)->op, ZT_OP_NOT);     /* unless */
    ck_assert_uint_eq(NODE(ir, 1)->a, 2);
    ck_assert_uint_eq(NODE(ir, 2)->op, ZT_OP_NE);
    ck_assert_uint_eq(OPND(ir, NODE(ir, 2)->b)->kind, ZT_OPND_INT);
    ck_assert_int_eq(OPND(ir, NODE(ir, 2)->b)->num, 2);
    assert_rules(ir, 0, "0 1 2 3");
}
END_TEST

/* public with a condition: the flag and the condition both reach the IR;
 * no issuer is needed for them, nor for a deny. */
START_TEST(lower_public_conditions)
{
    res_t r = compile("policy \"p\"\n"
        "route GET /a\n"
        "route GET /b\n"
        "allow GET /a public when \"spiffe://corp/svc-a\" in client.cert.san\n"
        "allow GET /b public unless client.ip in [10.0.0.0/8]\n"
        "deny  GET /a when client.ip in [192.0.2.0/24]\n");
    zpc_ir_t *ir = r.ir;

    ck_assert_msg(ir != NULL && r.nwarn == 0, "%s", r.out);
    check_invariants(ir);
    ck_assert_uint_eq(RULE(ir, 0)->flags, ZT_RULE_PUBLIC);
    ck_assert_uint_eq(RULE(ir, 0)->cond, 0);
    ck_assert_uint_eq(NODE(ir, 0)->op, ZT_OP_IN_CLAIM);
    ck_assert_uint_eq(OPND(ir, NODE(ir, 0)->b)->kind, ZT_OPND_CERT_SAN);
    ck_assert_uint_eq(RULE(ir, 1)->flags, ZT_RULE_PUBLIC);
    ck_assert_uint_eq(RULE(ir, 1)->cond, 1);
    ck_assert_uint_eq(NODE(ir, 1)->op, ZT_OP_NOT);     /* unless */
    ck_assert_uint_eq(NODE(ir, 2)->op, ZT_OP_IN_CIDR);
    ck_assert_uint_eq(RULE(ir, 2)->flags, 0);
    ck_assert_uint_eq(RULE(ir, 2)->effect, ZT_EFFECT_DENY);
    ck_assert_uint_eq(RULE(ir, 2)->cond, 3);
    assert_rules(ir, 0, "0 2");
    assert_rules(ir, 1, "1");
}
END_TEST

/* stepup, limit, test and include are statement keywords only where a
 * statement starts: elsewhere they are names. */
START_TEST(scan_contextual_keywords)
{
    res_t r = compile(HDR
        "let limit = token.level >= 3\n"
        "let test = \"ops\" in token.roles\n"
        "let stepup = limit and test\n"
        "let include = not stepup\n"
        "route GET /a { query limit int 1..10 optional }\n"
        "allow GET /a when include or test\n"
        "limit GET /a 10/s per token.sub\n"
        "stepup GET /a acr \"gold\"\n"
        "test \"t\" { token { limit 1 } request GET /a expect stepup }\n");

    ck_assert_msg(r.ir != NULL && r.nwarn == 0, "%s", r.out);
    ck_assert_int_eq(r.ir->limits->nelts, 1);
    ck_assert_int_eq(r.ir->stepups->nelts, 1);
    ck_assert_int_eq(r.ir->tests->nelts, 1);
    ck_assert_str_eq(token_path(OPND(r.ir, 0)), "level");
    /* a syntax error next to one still lists "an identifier", once */
    r = compile(HDR "route GET /a\nallow GET /a\nlimit GET /a 1/s per 5\n");
    ck_assert_ptr_nonnull(strstr(r.out, "unexpected integer, expecting an identifier\n"));
}
END_TEST

/* Many `unless` rules, so the node array moves while a NOT's condition is
 * lowered: its child must be stored after that.  (Storing through a pointer
 * taken before the call is unspecified order; gcc and clang happen to make
 * the call first, so on them this guards the fix rather than shows the bug.) */
START_TEST(lower_unless_growth)
{
    char *src = apr_pstrdup(pool, HDR "route GET /a\n");
    res_t r;

    for (int i = 0; i < 100; i++) {
        src = apr_psprintf(pool, "%sdeny GET /a unless token.x == %d or token.y == %d\n",
                           src, i, i);
    }
    r = compile(apr_pstrcat(pool, src, "allow GET /a\n", NULL));
    ck_assert_msg(r.ir != NULL, "%s", r.out);
    check_invariants(r.ir);
    for (int i = 0; i < 100; i++) {
        uint32_t c = RULE(r.ir, i)->cond;
        ck_assert_uint_eq(c, 4u * (uint32_t)i);
        ck_assert_uint_eq(NODE(r.ir, c)->op, ZT_OP_NOT);
        ck_assert_uint_eq(NODE(r.ir, c)->a, c + 1);
        ck_assert_uint_eq(NODE(r.ir, c + 1)->op, ZT_OP_OR);
    }
}
END_TEST

/* '*' covers every method; ** after /orders covers /orders itself and
 * everything below it, but not /ordersx; '*' is one segment. */
START_TEST(lower_coverage)
{
    res_t r = compile(HDR
        "route GET    /orders\n"                /* 0 */
        "route GET    /ordersx\n"               /* 1 */
        "route POST   /orders/{id}/items\n"     /* 2 */
        "route DELETE /orders/{id}\n"           /* 3 */
        "route GET    /\n"                      /* 4 */
        "route PUT    /users/{id}\n"            /* 5 */
        "allow * /orders/**\n"                  /* 0: 0 2 3 */
        "allow GET /**\n"                       /* 1: 0 1 4 */
        "allow * /*/{id}\n"                     /* 2: 3 5 */
        "allow PUT /users/{id}, GET /, DELETE /orders/{id}\n"  /* 3: 3 4 5 */
        "allow GET /ordersx, GET /ordersx\n");                 /* 4: 1 */
    zpc_ir_t *ir = r.ir;

    ck_assert_msg(ir != NULL, "%s", r.out);
    check_invariants(ir);
    assert_rules(ir, 0, "0 1");
    assert_rules(ir, 1, "1 4");
    assert_rules(ir, 2, "0");
    assert_rules(ir, 3, "0 2 3");
    assert_rules(ir, 4, "1 3");
    assert_rules(ir, 5, "2 3");
    ck_assert_int_eq(ROUTE(ir, 4)->segs->nelts, 0);
    ck_assert_str_eq(RULE(ir, 3)->text, "PUT /users/{id}, GET /, DELETE /orders/{id}");
}
END_TEST

START_TEST(lower_lets_and_operands)
{
    res_t r = compile(HDR
        "route GET /a/{id}\n"
        "let a = \"r\" in token.roles\n"
        "let b = a or token.sub == path.id\n"
        "allow GET /a/{id} when b and not a\n"
        "allow GET /a/{id} when token.azp in [\"x\", 3, true, \"x\"]\n"
        "allow GET /a/{id} when path.id in [\"7\"] and token.a.b.c == false\n");
    zpc_ir_t *ir = r.ir;

    ck_assert_msg(ir != NULL && r.nwarn == 0, "%s", r.out);
    check_invariants(ir);
    /* rule 0: AND(OR(IN_CLAIM, EQ), NOT(IN_CLAIM)), lets expanded in place */
    ck_assert_uint_eq(RULE(ir, 0)->cond, 0);
    ck_assert_uint_eq(NODE(ir, 0)->op, ZT_OP_AND);
    ck_assert_uint_eq(NODE(ir, 0)->a, 1);
    ck_assert_uint_eq(NODE(ir, 0)->b, 4);
    ck_assert_uint_eq(NODE(ir, 1)->op, ZT_OP_OR);
    ck_assert_uint_eq(NODE(ir, 2)->op, ZT_OP_IN_CLAIM);
    ck_assert_uint_eq(NODE(ir, 3)->op, ZT_OP_EQ);
    ck_assert_uint_eq(NODE(ir, 4)->op, ZT_OP_NOT);
    ck_assert_uint_eq(NODE(ir, 4)->a, 5);
    ck_assert_uint_eq(NODE(ir, 5)->op, ZT_OP_IN_CLAIM);
    /* equal operands are shared */
    ck_assert_uint_eq(NODE(ir, 5)->a, NODE(ir, 2)->a);
    ck_assert_uint_eq(NODE(ir, 5)->b, NODE(ir, 2)->b);
    ck_assert_uint_eq(OPND(ir, NODE(ir, 3)->b)->kind, ZT_OPND_PATH);
    /* rule 1: list of four operand indices, "x" twice the same index */
    ck_assert_uint_eq(NODE(ir, 6)->op, ZT_OP_IN_LIST);
    ck_assert_uint_eq(NODE(ir, 6)->b, 0);
    ck_assert_uint_eq(NODE(ir, 6)->c, 4);
    ck_assert_uint_eq(LIST(ir, 0), LIST(ir, 3));
    ck_assert_uint_eq(OPND(ir, LIST(ir, 1))->kind, ZT_OPND_INT);
    ck_assert_int_eq(OPND(ir, LIST(ir, 1))->num, 3);
    ck_assert_uint_eq(OPND(ir, LIST(ir, 2))->kind, ZT_OPND_BOOL);
    ck_assert_int_eq(OPND(ir, LIST(ir, 2))->num, 1);
    /* rule 2 */
    ck_assert_uint_eq(NODE(ir, 7)->op, ZT_OP_AND);
    ck_assert_uint_eq(NODE(ir, 8)->op, ZT_OP_IN_LIST);
    ck_assert_uint_eq(NODE(ir, 8)->b, 4);
    ck_assert_uint_eq(NODE(ir, 9)->op, ZT_OP_EQ);
    ck_assert_str_eq(token_path(OPND(ir, NODE(ir, 9)->a)), "a.b.c");
    ck_assert_int_eq(OPND(ir, NODE(ir, 9)->b)->num, 0);
    ck_assert_int_eq(ir->nodes->nelts, 10);
}
END_TEST

START_TEST(lower_issuers)
{
    res_t r = compile("policy \"p\"\n"
        "issuer a \"https://a\" { audience \"x\" algorithms RS256 PS512 HS256\n"
        "   jwks file \"keys/a.json\" max_lifetime 1h leeway 45 secret file \"a.key\" }\n"
        "issuer b \"https://b\" { leeway 2m jwks file \"/etc/b.json\"\n"
        "   algorithms EdDSA audience \"y\" max_lifetime 1d }\n"
        "route GET /a\nallow GET /a\n");
    const zpc_ir_issuer_t *a, *b;

    ck_assert_msg(r.ir != NULL, "%s", r.out);
    a = &APR_ARRAY_IDX(r.ir->issuers, 0, zpc_ir_issuer_t);
    b = &APR_ARRAY_IDX(r.ir->issuers, 1, zpc_ir_issuer_t);
    ck_assert_uint_eq(a->algs, ZT_ALG_RS256 | ZT_ALG_PS512 | ZT_ALG_HS256);
    ck_assert_str_eq(a->jwks, "keys/a.json");
    ck_assert_str_eq(a->secret, "a.key");
    ck_assert_uint_eq(a->jwks_kind, ZT_JWKS_FILE);
    ck_assert_uint_eq(a->max_lifetime, 3600);
    ck_assert_uint_eq(a->leeway, 45);
    ck_assert_uint_eq(a->line, 2);
    ck_assert_str_eq(b->jwks, "/etc/b.json");
    ck_assert_uint_eq(b->algs, ZT_ALG_EDDSA);
    ck_assert_uint_eq(b->max_lifetime, 86400);
    ck_assert_uint_eq(b->leeway, 120);
    ck_assert_str_eq(b->audience, "y");
    ck_assert_uint_eq(b->line, 4);
}
END_TEST

/* Every issuer option reaches the IR; intervals get their defaults only
 * where the module fetches the key set. */
/* Route contracts: typed captures, wildcards, parameters, bodies. */
START_TEST(lower_contracts)
{
    const char *dir = "/tmp/zpc_front_contracts";
    char path[256];
    FILE *f;
    res_t r;
    const zpc_ir_route_t *rt;
    const zpc_ir_param_t *p;
    const zpc_ir_seg_t *s;

    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/s.xsd", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"/>\n", f);
    fclose(f);
    r = compile_at(apr_pstrcat(pool, dir, "/p.ztp", NULL), HDR
        "route GET /f/{n: int -5..5}/{c: enum(\"a\", \"b\")}/* {\n"
        "  query page int 1..100 optional\n"
        "  query tag string 1..8 /^[a-z]+$/ optional list\n"
        "  query limit bool\n"
        "  query * any\n"
        "  header \"X-Tenant\" uuid optional\n"
        "}\n"
        "route PUT /files/** {\n"
        "  body xml max 1m root \"doc\" schema \"s.xsd\"\n"
        "  query \"a b\" number\n"
        "}\n"
        "allow * /**\n");
    ck_assert_msg(r.ir != NULL, "%s", r.out);
    /* allow * without a condition */
    ck_assert_int_eq(r.nwarn, 1);
    ck_assert_ptr_null(strstr(r.out, "pattern"));
    check_invariants(r.ir);
    rt = ROUTE(r.ir, 0);
    ck_assert_str_eq(rt->pattern, "/f/{n: int -5..5}/{c: enum(\"a\", \"b\")}/*");
    ck_assert_str_eq(rt->file, apr_pstrcat(pool, dir, "/p.ztp", NULL));
    s = (const zpc_ir_seg_t *)rt->segs->elts;
    ck_assert_int_eq(rt->segs->nelts, 4);
    ck_assert_uint_eq(s[1].type->kind, ZT_TYPE_INT);
    ck_assert_int_eq(s[1].type->min, -5);
    ck_assert_int_eq(s[1].type->max, 5);
    ck_assert_uint_eq(s[2].type->kind, ZT_TYPE_ENUM);
    ck_assert_int_eq(s[2].type->values->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(s[2].type->values, 1, const char *), "b");
    ck_assert_uint_eq(s[3].kind, ZT_SEG_STAR);
    ck_assert_ptr_null(s[3].text);
    ck_assert_uint_eq(rt->flags, ZT_ROUTE_QUERY_ANY);
    ck_assert_int_eq(rt->params->nelts, 4);
    p = &APR_ARRAY_IDX(rt->params, 1, zpc_ir_param_t);
    ck_assert_str_eq(p->name, "tag");
    ck_assert_uint_eq(p->flags, ZT_PARAM_OPTIONAL | ZT_PARAM_LIST);
    ck_assert_str_eq(p->type->regex, "^[a-z]+$");
    p = &APR_ARRAY_IDX(rt->params, 2, zpc_ir_param_t);
    ck_assert_str_eq(p->name, "limit");     /* a keyword as a query name */
    ck_assert_uint_eq(p->type->kind, ZT_TYPE_BOOL);
    ck_assert_uint_eq(p->flags, 0);
    p = &APR_ARRAY_IDX(rt->params, 3, zpc_ir_param_t);
    ck_assert_uint_eq(p->where, ZT_PARAM_HEADER);
    ck_assert_str_eq(p->name, "x-tenant");
    ck_assert_uint_eq(p->type->kind, ZT_TYPE_UUID);
    ck_assert_ptr_null(rt->body);
    rt = ROUTE(r.ir, 1);
    ck_assert_uint_eq(APR_ARRAY_IDX(rt->segs, 1, zpc_ir_seg_t).kind, ZT_SEG_GLOBSTAR);
    ck_assert_uint_eq(rt->body->kind, ZT_BODY_XML);
    ck_assert_uint_eq(rt->body->max, 1048576);
    ck_assert_str_eq(rt->body->root, "doc");
    ck_assert_str_eq(rt->body->schema_name, "s.xsd");
    ck_assert_uint_eq(rt->body->schema_len, 57);
    ck_assert_int_eq(memcmp(rt->body->schema, "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"/>\n", 57), 0);
    ck_assert_str_eq(APR_ARRAY_IDX(rt->params, 0, zpc_ir_param_t).name, "a b");
    ck_assert_uint_eq(APR_ARRAY_IDX(rt->params, 0, zpc_ir_param_t).type->kind,
                      ZT_TYPE_NUMBER);
    assert_rules(r.ir, 0, "0");
    assert_rules(r.ir, 1, "0");
    unlink(path);
    rmdir(dir);
}
END_TEST

/* The request's operands, orderings, tls.version lists, CIDR blocks. */
START_TEST(lower_request_operands)
{
    res_t r = compile(HDR
        "route GET /a {\n query q string\n}\n"
        "allow GET /a when query.q == \"x\" and header[\"X-Y\"] != \"z\"\n"
        "allow GET /a when tls.version >= \"TLSv1.2\" or \"TLSv1.1\" > tls.version\n"
        "allow GET /a when token.level < 3 and 10 <= token.n and time.hour >= 8\n"
        "allow GET /a when client.ip in [10.0.0.0/8, 192.168.1.7, ::1, 2001:db8::/32]\n"
        "allow GET /a when client.cert and \"spiffe://x\" in client.cert.san\n"
        "allow GET /a when client.cert.san in [\"a\"] and client.cert.subject == \"CN=a\"\n"
        "allow GET /a when time.weekday in [\"sat\", \"sun\"] and client.cert == false\n");
    const zpc_ir_node_t *n;
    const zpc_ir_cidr_t *cd;

    ck_assert_msg(r.ir != NULL && r.nwarn == 0, "%s", r.out);
    check_invariants(r.ir);
    /* rule 0: AND(EQ(query.q, "x"), NE(header x-y, "z")) */
    n = NODE(r.ir, RULE(r.ir, 0)->cond);
    ck_assert_uint_eq(n->op, ZT_OP_AND);
    ck_assert_uint_eq(NODE(r.ir, n->a)->op, ZT_OP_EQ);
    ck_assert_uint_eq(OPND(r.ir, NODE(r.ir, n->a)->a)->kind, ZT_OPND_QUERY);
    ck_assert_str_eq(OPND(r.ir, NODE(r.ir, n->a)->a)->str, "q");
    ck_assert_uint_eq(NODE(r.ir, n->b)->op, ZT_OP_NE);
    ck_assert_uint_eq(OPND(r.ir, NODE(r.ir, n->b)->a)->kind, ZT_OPND_HEADER);
    ck_assert_str_eq(OPND(r.ir, NODE(r.ir, n->b)->a)->str, "x-y");
    /* rule 1: two IN_LISTs of versions */
    n = NODE(r.ir, RULE(r.ir, 1)->cond);
    ck_assert_uint_eq(n->op, ZT_OP_OR);
    ck_assert_uint_eq(NODE(r.ir, n->a)->op, ZT_OP_IN_LIST);
    ck_assert_uint_eq(OPND(r.ir, NODE(r.ir, n->a)->a)->kind, ZT_OPND_TLS_VERSION);
    ck_assert_uint_eq(NODE(r.ir, n->a)->c, 2);
    ck_assert_str_eq(OPND(r.ir, LIST(r.ir, NODE(r.ir, n->a)->b))->str, "TLSv1.2");
    ck_assert_str_eq(OPND(r.ir, LIST(r.ir, NODE(r.ir, n->a)->b + 1))->str, "TLSv1.3");
    ck_assert_uint_eq(NODE(r.ir, n->b)->c, 1);
    ck_assert_str_eq(OPND(r.ir, LIST(r.ir, NODE(r.ir, n->b)->b))->str, "TLSv1");
    /* rule 2: orderings keep their sides */
    n = NODE(r.ir, RULE(r.ir, 2)->cond);
    ck_assert_uint_eq(NODE(r.ir, n->a)->op, ZT_OP_AND);
    ck_assert_uint_eq(NODE(r.ir, NODE(r.ir, n->a)->a)->op, ZT_OP_LT);
    ck_assert_uint_eq(NODE(r.ir, NODE(r.ir, n->a)->b)->op, ZT_OP_LE);
    ck_assert_uint_eq(OPND(r.ir, NODE(r.ir, NODE(r.ir, n->a)->b)->a)->kind, ZT_OPND_INT);
    ck_assert_uint_eq(NODE(r.ir, n->b)->op, ZT_OP_GE);
    ck_assert_uint_eq(OPND(r.ir, NODE(r.ir, n->b)->a)->kind, ZT_OPND_TIME_HOUR);
    /* rule 3: IN_CIDR over four blocks */
    n = NODE(r.ir, RULE(r.ir, 3)->cond);
    ck_assert_uint_eq(n->op, ZT_OP_IN_CIDR);
    ck_assert_uint_eq(n->c, 4);
    cd = &APR_ARRAY_IDX(r.ir->cidrs, n->b + 1, zpc_ir_cidr_t);
    ck_assert_uint_eq(cd->family, 4);
    ck_assert_uint_eq(cd->prefix, 32);
    ck_assert_uint_eq(cd->addr[3], 7);
    cd = &APR_ARRAY_IDX(r.ir->cidrs, n->b + 2, zpc_ir_cidr_t);
    ck_assert_uint_eq(cd->family, 6);
    ck_assert_uint_eq(cd->prefix, 128);
    ck_assert_uint_eq(cd->addr[15], 1);
    /* rule 4: client.cert alone is client.cert == true; SAN membership */
    n = NODE(r.ir, RULE(r.ir, 4)->cond);
    ck_assert_uint_eq(NODE(r.ir, n->a)->op, ZT_OP_EQ);
    ck_assert_uint_eq(OPND(r.ir, NODE(r.ir, n->a)->a)->kind, ZT_OPND_CERT);
    ck_assert_uint_eq(OPND(r.ir, NODE(r.ir, n->a)->b)->kind, ZT_OPND_BOOL);
    ck_assert_int_eq(OPND(r.ir, NODE(r.ir, n->a)->b)->num, 1);
    ck_assert_uint_eq(NODE(r.ir, n->b)->op, ZT_OP_IN_CLAIM);
    ck_assert_uint_eq(OPND(r.ir, NODE(r.ir, n->b)->b)->kind, ZT_OPND_CERT_SAN);
    /* rule 6: the weekday list */
    n = NODE(r.ir, RULE(r.ir, 6)->cond);
    ck_assert_uint_eq(NODE(r.ir, n->a)->op, ZT_OP_IN_LIST);
    ck_assert_uint_eq(OPND(r.ir, NODE(r.ir, n->a)->a)->kind, ZT_OPND_TIME_WEEKDAY);
}
END_TEST

START_TEST(lower_stepup_limit)
{
    res_t r = compile(HDR
        "route GET /a\nroute DELETE /a/{id}\nroute POST /b\n"
        "allow * /**  when token.x == 1\n"
        "stepup DELETE /a/{x}, POST /b  acr \"mfa\" \"hwk\"\n"
        "stepup GET /a  max_age 1h\n"
        "limit * /** 5/s per client.ip\n"
        "limit GET /a, POST /b 100/hour per token.azp\n"
        "limit DELETE /a/{id} 7/min per token.sub\n");
    const zpc_ir_stepup_t *st;
    const zpc_ir_limit_t *l;

    ck_assert_msg(r.ir != NULL && r.nwarn == 0, "%s", r.out);
    check_invariants(r.ir);
    ck_assert_int_eq(r.ir->stepups->nelts, 2);
    st = &APR_ARRAY_IDX(r.ir->stepups, 0, zpc_ir_stepup_t);
    ck_assert_int_eq(st->acr->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(st->acr, 1, const char *), "hwk");
    ck_assert_uint_eq(st->max_age, 0);
    ck_assert_uint_eq(st->line, 11);
    ck_assert_str_eq(st->file, "t.ztp");
    st = &APR_ARRAY_IDX(r.ir->stepups, 1, zpc_ir_stepup_t);
    ck_assert_int_eq(st->acr->nelts, 0);
    ck_assert_uint_eq(st->max_age, 3600);
    ck_assert_int_eq(ROUTE(r.ir, 0)->stepup, 1);
    ck_assert_int_eq(ROUTE(r.ir, 1)->stepup, 0);
    ck_assert_int_eq(ROUTE(r.ir, 2)->stepup, 0);
    ck_assert_int_eq(r.ir->limits->nelts, 3);
    l = &APR_ARRAY_IDX(r.ir->limits, 1, zpc_ir_limit_t);
    ck_assert_uint_eq(l->count, 100);
    ck_assert_uint_eq(l->period, 3600);
    ck_assert_uint_eq(l->key, ZT_LIMIT_AZP);
    ck_assert_uint_eq(l->line, 14);
    l = &APR_ARRAY_IDX(r.ir->limits, 2, zpc_ir_limit_t);
    ck_assert_uint_eq(l->period, 60);
    ck_assert_uint_eq(l->key, ZT_LIMIT_SUB);
    ck_assert_int_eq(ROUTE(r.ir, 0)->limits->nelts, 2);
    ck_assert_int_eq(ROUTE(r.ir, 1)->limits->nelts, 2);
    ck_assert_uint_eq(APR_ARRAY_IDX(ROUTE(r.ir, 1)->limits, 1, uint32_t), 2);
    ck_assert_int_eq(ROUTE(r.ir, 2)->limits->nelts, 2);
}
END_TEST

START_TEST(lower_tests)
{
    res_t r = compile(HDR "route GET /a\nallow GET /a\n"
        "test \"claims\" {\n"
        "  token { sub \"u\\\"1\\\\\" n -3 ok true no false\n"
        "          realm_access { roles [\"a\", \"b\"] } e [] o {} \"x.y\" \"t\\tz\"\n"
        "          in [1, {k [true]}] limit 2 time \"t\" }\n"
        "  request HEAD /a?x=1&y=%20\n"
        "  from 2001:db8::1\n"
        "  header \"X-A\" \"1\"\n  header \"X-B\" \"2\"\n"
        "  cert { subject \"CN=svc\" san [\"spiffe://a\", \"b\"] }\n"
        "  tls \"TLSv1.2\"\n"
        "  time \"2026-11-29T10:00:00Z\"\n"
        "  expect token\n"
        "}\n"
        "test \"plain\" { request GET /a tls none expect notfound }\n"
        "test \"untyped\" { request GET /a body untyped 'ab' expect toolarge }\n"
        "test \"none\" { request GET /a body none expect allow }\n");
    const zpc_ir_test_t *t;

    ck_assert_msg(r.ir != NULL && r.nwarn == 0, "%s", r.out);
    ck_assert_int_eq(r.ir->tests->nelts, 4);
    t = &APR_ARRAY_IDX(r.ir->tests, 0, zpc_ir_test_t);
    ck_assert_str_eq(t->name, "claims");
    ck_assert_str_eq(t->file, "t.ztp");
    ck_assert_uint_eq(t->line, 9);
    ck_assert_str_eq(t->claims_json,
        "{\"sub\":\"u\\\"1\\\\\",\"n\":-3,\"ok\":true,\"no\":false,"
        "\"realm_access\":{\"roles\":[\"a\",\"b\"]},\"e\":[],\"o\":{},"
        "\"x.y\":\"t\\tz\",\"in\":[1,{\"k\":[true]}],\"limit\":2,\"time\":\"t\"}");
    ck_assert_str_eq(t->method, "HEAD");
    ck_assert_str_eq(t->target, "/a?x=1&y=%20");
    ck_assert_str_eq(t->from, "2001:db8::1");
    ck_assert_int_eq(t->headers->nelts, 4);
    ck_assert_str_eq(APR_ARRAY_IDX(t->headers, 2, const char *), "X-B");
    ck_assert_str_eq(APR_ARRAY_IDX(t->headers, 3, const char *), "2");
    ck_assert_int_eq(t->cert, 1);
    ck_assert_str_eq(t->cert_subject, "CN=svc");
    ck_assert_int_eq(t->cert_san->nelts, 2);
    ck_assert_str_eq(t->tls, "TLSv1.2");
    ck_assert_int_eq(t->time, 1795946400);
    ck_assert_int_eq(t->expect, ZPC_EXPECT_TOKEN);
    t = &APR_ARRAY_IDX(r.ir->tests, 1, zpc_ir_test_t);
    ck_assert_ptr_null(t->claims_json);
    ck_assert_ptr_null(t->from);
    ck_assert_ptr_null(t->tls);
    ck_assert_int_eq(t->cert, 0);
    ck_assert_int_eq(t->time, -1);
    ck_assert_int_eq(t->expect, ZPC_EXPECT_NOTFOUND);
    ck_assert_int_eq(t->body, 0);
    /* untyped: the bytes, no Content-Type; none: neither */
    t = &APR_ARRAY_IDX(r.ir->tests, 2, zpc_ir_test_t);
    ck_assert_int_eq(t->body, 1);
    ck_assert_ptr_null(t->body_type);
    ck_assert_str_eq(t->body_text, "ab");
    ck_assert_uint_eq(t->body_len, 2);
    t = &APR_ARRAY_IDX(r.ir->tests, 3, zpc_ir_test_t);
    ck_assert_int_eq(t->body, 1);
    ck_assert_ptr_null(t->body_type);
    ck_assert_ptr_null(t->body_text);
}
END_TEST

/* include: statements in place, messages and IR naming the included file. */
START_TEST(lower_include)
{
    const char *dir = "/tmp/zpc_front_include";
    char *main_path = apr_pstrcat(pool, dir, "/main.ztp", NULL);
    res_t r;

    mkdir(dir, 0700);
    mkdir(apr_pstrcat(pool, dir, "/sub", NULL), 0700);
    write_file(apr_pstrcat(pool, dir, "/sub/routes.ztp", NULL),
               "# routes\nroute GET /a\nlet r = \"x\" in token.s\ninclude \"rules.ztp\"\n");
    write_file(apr_pstrcat(pool, dir, "/sub/rules.ztp", NULL),
               "allow GET /a when r\n");
    r = compile_at(main_path, HDR "include \"sub/routes.ztp\"\nroute GET /b\n"
                   "allow GET /b when r\n");
    ck_assert_msg(r.ir != NULL && r.nwarn == 0, "%s", r.out);
    ck_assert_str_eq(ROUTE(r.ir, 0)->file, apr_pstrcat(pool, dir, "/sub/routes.ztp", NULL));
    ck_assert_uint_eq(ROUTE(r.ir, 0)->line, 2);
    ck_assert_str_eq(ROUTE(r.ir, 1)->file, main_path);
    ck_assert_str_eq(RULE(r.ir, 0)->file, apr_pstrcat(pool, dir, "/sub/rules.ztp", NULL));
    ck_assert_uint_eq(RULE(r.ir, 0)->line, 1);
    ck_assert_str_eq(r.ir->source, main_path);

    /* an error inside an included file names that file, with its line */
    write_file(apr_pstrcat(pool, dir, "/sub/rules.ztp", NULL),
               "\nallow GET /c when r\n");
    r = compile_at(main_path, HDR "include \"sub/routes.ztp\"\n");
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_msg(strstr(r.out, apr_pstrcat(pool, dir, "/sub/rules.ztp:2:7: error: GET /c "
                                            "matches no declared route", NULL)) != NULL,
                  "%s", r.out);
    ck_assert_msg(strstr(r.out, "\nallow GET /c when r\n      ^~~~~~\n") != NULL, "%s", r.out);

    /* a cycle, a missing file, policy in an include */
    write_file(apr_pstrcat(pool, dir, "/sub/rules.ztp", NULL), "include \"routes.ztp\"\n");
    r = compile_at(main_path, HDR "include \"sub/routes.ztp\"\n");
    ck_assert_msg(strstr(r.out, "rules.ztp:1:9: error: include cycle:") != NULL, "%s", r.out);
    write_file(apr_pstrcat(pool, dir, "/sub/rules.ztp", NULL), "policy \"x\"\n");
    r = compile_at(main_path, HDR "include \"sub/routes.ztp\"\n");
    ck_assert_msg(strstr(r.out, "rules.ztp:1:1: error: an included file cannot declare "
                         "the policy") != NULL, "%s", r.out);
    r = compile_at(main_path, HDR "include \"nothere.ztp\"\n");
    ck_assert_msg(strstr(r.out, "main.ztp:7:9: error: cannot include \"/tmp/zpc_front_"
                         "include/nothere.ztp\": No such file or directory") != NULL,
                  "%s", r.out);
    r = compile_at(main_path, HDR "include \"/dev/null\"\ninclude \"sub\"\n");
    ck_assert_msg(strstr(r.out, "\"/dev/null\": not a regular file") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "sub\": it is a directory") != NULL, "%s", r.out);

    /* depth: a file that includes itself under another name, 17 deep */
    for (int i = 0; i < 18; i++) {
        write_file(apr_psprintf(pool, "%s/d%d.ztp", dir, i),
                   apr_psprintf(pool, "include \"d%d.ztp\"\n", i + 1));
    }
    r = compile_at(main_path, HDR "include \"d0.ztp\"\n");
    ck_assert_msg(strstr(r.out, "d15.ztp:1:9: error: includes nested too deeply (the "
                         "limit is 16 levels)") != NULL, "%s", r.out);
    for (int i = 0; i < 18; i++) {
        unlink(apr_psprintf(pool, "%s/d%d.ztp", dir, i));
    }
    unlink(apr_pstrcat(pool, dir, "/sub/rules.ztp", NULL));
    unlink(apr_pstrcat(pool, dir, "/sub/routes.ztp", NULL));
    rmdir(apr_pstrcat(pool, dir, "/sub", NULL));
    rmdir(dir);
}
END_TEST

START_TEST(lower_issuer_options)
{
    res_t r = compile("policy \"p\"\n"
        "issuer u \"https://u\" {\n"
        "  audience \"x\" algorithms ES256 HS384\n"
        "  jwks url \"https://u/certs\" secret file \"keys/u.key\"\n"
        "  typ \"at+jwt\" required sub azp \"https://x.io/roles\" client_id\n"
        "}\n"
        "issuer d \"http://127.0.0.1:9000/realms/d\" { audience \"y\" algorithms RS256\n"
        "  jwks discover refresh 10m refetch_min 5s binding dpop }\n"
        "issuer f \"f\" { audience \"z\" algorithms EdDSA jwks file \"f.json\" binding mtls }\n"
        "issuer n \"n\" { audience \"w\" algorithms HS512 secret file \"/etc/n.key\" binding any }\n"
        "route GET /a\nallow GET /a\n");
    const zpc_ir_issuer_t *u, *d, *f, *n;

    ck_assert_msg(r.ir != NULL && r.nwarn == 0, "%s", r.out);
    ck_assert_int_eq(r.ir->issuers->nelts, 4);
    u = &APR_ARRAY_IDX(r.ir->issuers, 0, zpc_ir_issuer_t);
    d = &APR_ARRAY_IDX(r.ir->issuers, 1, zpc_ir_issuer_t);
    f = &APR_ARRAY_IDX(r.ir->issuers, 2, zpc_ir_issuer_t);
    n = &APR_ARRAY_IDX(r.ir->issuers, 3, zpc_ir_issuer_t);

    ck_assert_uint_eq(u->jwks_kind, ZT_JWKS_URL);
    ck_assert_str_eq(u->jwks, "https://u/certs");
    ck_assert_str_eq(u->secret, "keys/u.key");
    ck_assert_str_eq(u->typ, "at+jwt");
    ck_assert_int_eq(u->required->nelts, 4);
    ck_assert_str_eq(APR_ARRAY_IDX(u->required, 0, const char *), "sub");
    ck_assert_str_eq(APR_ARRAY_IDX(u->required, 1, const char *), "azp");
    ck_assert_str_eq(APR_ARRAY_IDX(u->required, 2, const char *), "https://x.io/roles");
    ck_assert_str_eq(APR_ARRAY_IDX(u->required, 3, const char *), "client_id");
    ck_assert_uint_eq(u->refresh, ZT_REFRESH_DEFAULT);
    ck_assert_uint_eq(u->refetch_min, ZT_REFETCH_MIN_DEFAULT);
    ck_assert_uint_eq(u->algs, ZT_ALG_ES256 | ZT_ALG_HS384);

    ck_assert_uint_eq(d->jwks_kind, ZT_JWKS_DISCOVER);
    ck_assert(d->jwks == NULL || d->jwks[0] == '\0');
    ck_assert_ptr_null(d->secret);
    ck_assert_ptr_null(d->typ);
    ck_assert_ptr_null(d->required);
    ck_assert_uint_eq(d->refresh, 600);
    ck_assert_uint_eq(d->refetch_min, 5);

    ck_assert_uint_eq(f->jwks_kind, ZT_JWKS_FILE);
    ck_assert_str_eq(f->jwks, "f.json");
    ck_assert_uint_eq(f->refresh, 0);
    ck_assert_uint_eq(f->refetch_min, 0);

    ck_assert_uint_eq(n->jwks_kind, ZT_JWKS_NONE);
    ck_assert_str_eq(n->secret, "/etc/n.key");
    ck_assert_uint_eq(n->refresh, 0);
    ck_assert_uint_eq(n->line, 10);

    ck_assert_uint_eq(u->binding, ZT_BIND_NONE);
    ck_assert_uint_eq(d->binding, ZT_BIND_DPOP);
    ck_assert_uint_eq(f->binding, ZT_BIND_MTLS);
    ck_assert_uint_eq(n->binding, ZT_BIND_ANY);
}
END_TEST

/* One table of `binding` words (zt_alg.c) for zpc check and zpc dump. */
START_TEST(binding_words)
{
    static const char *const bad[] = { "MTLS", "mtl", "mtlss", "none", "", "tls" };

    for (uint32_t b = ZT_BIND_MTLS; b <= ZT_BIND_ANY; b++) {
        const char *w = zt_binding_name(b);

        ck_assert_ptr_nonnull(w);
        ck_assert_uint_eq(zt_binding_from_name(w, strlen(w)), b);
    }
    ck_assert_str_eq(zt_binding_name(ZT_BIND_MTLS), "mtls");
    ck_assert_str_eq(zt_binding_name(ZT_BIND_DPOP), "dpop");
    ck_assert_str_eq(zt_binding_name(ZT_BIND_ANY), "any");
    ck_assert_ptr_null(zt_binding_name(ZT_BIND_NONE));
    ck_assert_ptr_null(zt_binding_name(ZT_BIND_ANY + 1));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_uint_eq(zt_binding_from_name(bad[i], strlen(bad[i])), 0);
    }
    ck_assert_uint_eq(zt_binding_from_name("dpopx", 4), ZT_BIND_DPOP);   /* by length */
}
END_TEST

/* The attribute words are keywords inside an issuer's braces only, and
 * a brace left open ends at the next statement. */
START_TEST(scan_issuer_words)
{
    static const char *const good[] = {
        HDR "let typ = \"x\" in token.required\nroute GET /refresh\n"
        "allow GET /refresh when typ or token.secret.typ == \"s\"\n",
        /* "typ" names the let again after an issuer block */
        HDR "issuer k \"https://k\" { audience \"a\" algorithms ES256 jwks discover }\n"
        "let typ = \"x\" in token.scope\nroute GET /a\nallow GET /a when typ\n",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        res_t r = compile(good[i]);
        ck_assert_msg(r.nerr == 0 && r.nwarn == 0, "case %zu:\n%s", i, r.out);
    }
    /* an issuer without its closing brace: the next statement ends it */
    expect(HDR "issuer k \"https://k\" { audience \"a\" algorithms ES256 jwks discover\n"
           "let typ = \"x\" in token.scope\nroute GET /a\nallow GET /a when typ\n",
           1, 0, "t.ztp:8:1: error: syntax error: unexpected 'let'");
    /* the head of an issuer must be complete for the braces to count */
    expect(HDR "issuer k { typ \"x\" }\nroute GET /a\nallow GET /a\n", 1, 0,
           "t.ztp:7:10: error: syntax error: unexpected '{', expecting a string");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Scanner                                                             */
/* ------------------------------------------------------------------ */

START_TEST(scan_strings)
{
    res_t r = compile(HDR "route GET /a\n"
                      "allow GET /a when token.x == \"q\\\"b\\\\s\\nn\\tt caf\xc3\xa9 \xf0\x9f\x94\x92\"\n");

    ck_assert_msg(r.ir != NULL, "%s", r.out);
    ck_assert_str_eq(OPND(r.ir, 1)->str, "q\"b\\s\nn\tt caf\xc3\xa9 \xf0\x9f\x94\x92");
}
END_TEST

START_TEST(scan_numbers)
{
    res_t r = compile(HDR "route GET /a\n"
                      "allow GET /a when token.x == -9223372036854775808 or "
                      "token.y == 9223372036854775807 or token.z == 0\n");

    ck_assert_msg(r.ir != NULL, "%s", r.out);
    ck_assert_int_eq(OPND(r.ir, 1)->num, INT64_MIN);
    ck_assert_int_eq(OPND(r.ir, 3)->num, INT64_MAX);
    expect(HDR "route GET /a\nallow GET /a when token.x == 9223372036854775808\n",
           1, 0, "t.ztp:8:30: error: integer out of range (the maximum is 9223372036854775807)");
    expect(HDR "route GET /a\nallow GET /a when token.x == -9223372036854775809\n",
           1, 0, "integer out of range (the minimum is -9223372036854775808)");
    expect("policy \"p\"\nissuer c \"i\" { audience \"a\" algorithms ES256 jwks file \"k\""
           " max_lifetime 15min }\nroute GET /a\nallow GET /a\n",
           1, 0, "2:73: error: unknown unit 'min' in '15min'");
    expect("policy \"p\"\nissuer c \"i\" { audience \"a\" algorithms ES256 jwks file \"k\""
           " leeway 99999999999999999999s }\nroute GET /a\nallow GET /a\n",
           1, 0, "duration out of range");
    expect("policy \"p\"\nissuer c \"i\" { audience \"a\" algorithms ES256 jwks file \"k\""
           " leeway 49711d }\nroute GET /a\nallow GET /a\n",
           1, 0, "leeway is too long (4295030400 seconds; the limit is 4294967295)");
    expect("policy \"p\"\nissuer c \"i\" { audience \"a\" algorithms ES256 jwks file \"k\""
           " leeway -1 }\nroute GET /a\nallow GET /a\n",
           1, 0, "leeway cannot be negative");
}
END_TEST

START_TEST(scan_keywords_as_claims)
{
    res_t r = compile(HDR "route GET /a\n"
                      "allow GET /a when token.public.in.not == \"x\" and \"y\" in token.route\n");

    ck_assert_msg(r.ir != NULL, "%s", r.out);
    ck_assert_str_eq(token_path(OPND(r.ir, 0)), "public.in.not");
    ck_assert_str_eq(token_path(OPND(r.ir, 3)), "route");
}
END_TEST

START_TEST(scan_crlf_tabs_comments)
{
    res_t r = compile("# head\r\npolicy\t\"p\"\r\n" ISS "route GET /a # trailing\r\n"
                      "allow GET /a # no newline at the end");
    ck_assert_msg(r.ir != NULL && r.nwarn == 0, "%s", r.out);
    ck_assert_uint_eq(ROUTE(r.ir, 0)->line, 8);
}
END_TEST

/* Bad bytes: each one error, at its exact position. */
START_TEST(scan_bad_bytes)
{
    static const char nul_src[] = "policy \"p\"\nroute GET /a\0\nallow GET /a public\n";
    static const char nul_str[] = "policy \"a\0b\"\nroute GET /a\nallow GET /a public\n";
    static const char nul_com[] = "policy \"p\"\n# x\0y\nroute GET /a\nallow GET /a public\n";
    res_t r;

    r = compile_n(nul_src, sizeof(nul_src) - 1);
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:2:13: error: NUL byte in the source"));
    r = compile_n(nul_str, sizeof(nul_str) - 1);
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:1:10: error: NUL byte in string"));
    r = compile_n(nul_com, sizeof(nul_com) - 1);
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:2:4: error: NUL byte in comment"));

    expect("policy \"p\"\x01\nroute GET /a\nallow GET /a public\n", 1, 0,
           "t.ztp:1:11: error: control character 0x01 in the source");
    expect("policy \"p\x7f\"\nroute GET /a\nallow GET /a public\n", 1, 0,
           "t.ztp:1:10: error: control character 0x7f in string");
    expect("policy \"p\"\nroute GET /a\nallow GET /a public # \x1b[31m\n", 1, 0,
           "t.ztp:3:23: error: control character 0x1b in comment");
    expect("policy \"p\xff\"\nroute GET /a\nallow GET /a public\n", 1, 0,
           "t.ztp:1:10: error: invalid UTF-8 byte 0xff in string");
    expect("policy \"\xc0\x80\"\nroute GET /a\nallow GET /a public\n", 3, 0,
           "t.ztp:1:9: error: invalid UTF-8 byte 0xc0 in string");   /* overlong */
    expect("policy \"p\"\n# \xed\xa0\x80 surrogate\nroute GET /a\nallow GET /a public\n", 1, 0,
           "t.ztp:2:3: error: invalid UTF-8 byte 0xed in comment");
    expect("policy \"p\"\nroute GET /caf\xe9\nallow GET /** public\n", 1, 0,
           "t.ztp:2:15: error: invalid UTF-8 byte 0xe9 in path");
    expect("policy \"p\"\nroute GET /a \xfe\nallow GET /a public\n", 1, 0,
           "t.ztp:2:14: error: invalid UTF-8 byte 0xfe\n");
    expect("policy \"p\"\nroute GET /a \xc3\xa9\nallow GET /a public\n", 1, 0,
           "t.ztp:2:14: error: unexpected character '\xc3\xa9'");
    /* valid UTF-8 is fine in strings, comments and paths */
    r = compile("policy \"caf\xc3\xa9\"\n# \xe2\x9c\x93\nroute GET /caf\xc3\xa9\n"
                "allow GET /caf\xc3\xa9 public\n");
    ck_assert_msg(r.ir != NULL, "%s", r.out);
    ck_assert_str_eq(ROUTE(r.ir, 0)->pattern, "/caf\xc3\xa9");
}
END_TEST

START_TEST(scan_string_errors)
{
    expect(HDR "route GET /a\nallow GET /a when token.x == \"abc\nallow GET /a\n",
           1, 0, "t.ztp:8:30: error: unterminated string");
    expect(HDR "route GET /a\nallow GET /a when token.x == \"abc", 1, 0,
           "t.ztp:8:30: error: unterminated string at end of file");
    expect(HDR "route GET /a\nallow GET /a when token.x == \"a\\qb\"\n", 1, 0,
           "t.ztp:8:32: error: unknown escape sequence '\\q' in string");
    expect(HDR "route GET /a\nallow GET /a when token.x == \"a\tb\"\n", 1, 0,
           "t.ztp:8:32: error: tab character in string (write \\t)");
    expect(HDR "route GET /a\nallow GET /a when token.x == \"a\\", 2, 0,
           "'\\' in a string must be followed by one of");
}
END_TEST

START_TEST(scan_length_limits)
{
    char *id = apr_palloc(pool, 200), *s = apr_palloc(pool, 5000);

    memset(id, 'x', 199);
    id[199] = '\0';
    memset(s, 'y', 4999);
    s[4999] = '\0';
    expect(apr_pstrcat(pool, HDR "route GET /a\nlet ", id, " = \"a\" in token.b\n"
                       "allow GET /a when ", id, "\n", NULL),
           2, 0, "identifier longer than 128 bytes");
    expect(apr_pstrcat(pool, HDR "route GET /a\nallow GET /a when ", id, "\n", NULL),
           2, 0, apr_pstrcat(pool, "unknown name '", apr_pstrndup(pool, id, 128),
                             "' (no let defines it)", NULL));
    expect(apr_pstrcat(pool, HDR "route GET /a\nallow GET /a when token.b == \"",
                       s, "\"\n", NULL),
           1, 0, "t.ztp:8:30: error: string longer than 4096 bytes");
    expect(apr_pstrcat(pool, HDR "route GET /", s, "\nallow GET /**\n", NULL),
           1, 0, "path longer than 4096 bytes");
    /* a target's '*' is one segment: it never names a route's '**' */
    expect(HDR "route GET /f/**\nallow GET /f/* when token.x == 1\n",
           1, 0, "GET /f/* matches no declared route");
    {
        res_t r = compile(HDR "route GET /f/**\nroute GET /f/*\n"
                          "allow GET /f/** when token.x == 1\n"
                          "allow GET /f/* when token.x == 2\n");
        ck_assert_msg(r.nerr == 0 && r.nwarn == 0 && r.out[0] == '\0', "%s", r.out);
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Diagnostics                                                         */
/* ------------------------------------------------------------------ */

START_TEST(diag_format)
{
    res_t r = compile(HDR "route GET /a\n\tallow GET /b when\ttoken.x == \"1\"\n");

    ck_assert_int_eq(r.nerr, 1);
    ck_assert_str_eq(r.out,
        "t.ztp:8:8: error: GET /b matches no declared route (a target that "
        "covers no route is always a mistake)\n"
        "\tallow GET /b when\ttoken.x == \"1\"\n"
        "\t      ^~~~~~\n");

    /* a note, and a caret after a multi-byte character */
    r = compile(HDR "route GET /\xc3\xa9t\xc3\xa9\nroute GET /\xc3\xa9t\xc3\xa9\n"
                "allow GET /**\n");
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_str_eq(r.out,
        "t.ztp:8:1: error: route GET /\xc3\xa9t\xc3\xa9 is declared twice\n"
        "route GET /\xc3\xa9t\xc3\xa9\n"
        "^~~~~~~~~~~~~~\n"
        "t.ztp:7:1: note: the first declaration is here\n"
        "route GET /\xc3\xa9t\xc3\xa9\n"
        "^~~~~~~~~~~~~~\n");

    /* no position */
    r = compile(ISS "route GET /a\nallow GET /a\n");
    ck_assert_str_eq(r.out, "t.ztp: error: no policy declaration (begin the file "
                     "with: policy \"NAME\")\n");

    /* empty input, even without a buffer */
    ck_assert_ptr_null(zpc_compile_string("x", NULL, 0, NULL, pool, &r.nerr, &r.nwarn));
    ck_assert_int_eq(r.nerr, 2);    /* no policy, no routes */

    /* NULL stream: counted, not printed */
    ck_assert_ptr_null(zpc_compile_string("x", "policy", 6, NULL, pool,
                                          &r.nerr, &r.nwarn));
    ck_assert_int_eq(r.nerr, 1);
}
END_TEST

START_TEST(diag_long_line)
{
    char *pad = apr_palloc(pool, 1001);
    res_t r;
    const char *l2, *l3;

    memset(pad, ' ', 1000);
    pad[1000] = '\0';
    r = compile(apr_pstrcat(pool, HDR "route GET /a\n", pad, "allow GET /x", pad,
                            "\n", NULL));
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:8:1007: error: GET /x matches"));
    l2 = strchr(r.out, '\n') + 1;
    l3 = strchr(l2, '\n') + 1;
    /* the source line is cut to a window, and the caret still lines up */
    ck_assert_int_le(strchr(l2, '\n') - l2, 200);
    ck_assert_int_eq(strncmp(l2, "...", 3), 0);
    ck_assert_int_eq(strstr(l2, "GET /x") - l2, strchr(l3, '^') - l3);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Checks: one table, one row per rule of the language                 */
/* ------------------------------------------------------------------ */

static const struct {
    const char *src;
    int errors, warnings;
    const char *msg;
} checks[] = {
    /* policy */
    { ISS "route GET /a\nallow GET /a\n", 1, 0, "t.ztp: error: no policy declaration" },
    { HDR "policy \"q\"\nroute GET /a\nallow GET /a\n", 1, 0,
      "t.ztp:7:1: error: more than one policy declaration" },
    { "policy \"\"\n" ISS "route GET /a\nallow GET /a\n", 1, 0, "the policy name is empty" },
    /* issuers */
    { "policy \"p\"\nissuer c \"i\" { algorithms ES256 jwks file \"k\" }\n"
      "route GET /a\nallow GET /a\n", 1, 0,
      "t.ztp:2:8: error: issuer 'c' has no audience (add: audience \"API-NAME\")" },
    { "policy \"p\"\nissuer c \"i\" { audience \"a\" jwks file \"k\" }\n"
      "route GET /a\nallow GET /a\n", 1, 0, "issuer 'c' has no algorithms" },
    { "policy \"p\"\nissuer c \"i\" { audience \"a\" algorithms ES256 }\n"
      "route GET /a\nallow GET /a\n", 1, 0, "t.ztp:2:8: error: issuer 'c' has no key source "
      "(add: jwks file \"PATH\", jwks url \"URL\" or jwks discover; or, for HS256/384/512, "
      "secret file \"PATH\")" },
    { "policy \"p\"\nissuer c \"i\" { }\nroute GET /a\nallow GET /a\n", 3, 0, "has no key source" },
    { HDR "issuer corp \"https://other\" { audience \"a\" algorithms ES256 jwks file \"k\" }\n"
      "route GET /a\nallow GET /a\n", 1, 0,
      "t.ztp:7:8: error: issuer 'corp' is declared twice\n" },
    { HDR "issuer other \"https://idp\" { audience \"a\" algorithms ES256 jwks file \"k\" }\n"
      "route GET /a\nallow GET /a\n", 1, 0,
      "t.ztp:7:14: error: issuers 'corp' and 'other' have the same iss \"https://idp\"" },
    { "policy \"p\"\nissuer c \"\" { audience \"a\" algorithms ES256 jwks file \"k\" }\n"
      "route GET /a\nallow GET /a\n", 1, 0, "the iss of issuer 'c' is empty" },
    { "policy \"p\"\nissuer c \"i\" { audience \"a\" algorithms ES256 jwks file \"k\"\n"
      "  audiance \"b\" }\nroute GET /a\nallow GET /a\n", 1, 0,
      "t.ztp:3:3: error: unknown issuer attribute 'audiance' (expected audience, "
      "algorithms, jwks, secret, typ, required, max_lifetime, leeway, refresh, "
      "refetch_min or binding)" },
    { "policy \"p\"\nissuer c \"i\" { audience \"a\" algorithms ES256 jwks file \"k\"\n"
      "  audience \"b\" }\nroute GET /a\nallow GET /a\n", 1, 0,
      "t.ztp:3:3: error: duplicate attribute 'audience' in issuer 'c'" },
    { "policy \"p\"\nissuer c \"i\" { audience \"a\" algorithms ES256 ES257 jwks file \"k\" }\n"
      "route GET /a\nallow GET /a\n", 1, 0,
      "t.ztp:2:46: error: unknown algorithm 'ES257' (valid: RS256 RS384 RS512 PS256 "
      "PS384 PS512 ES256 ES384 ES512 EdDSA HS256 HS384 HS512)" },
    { "policy \"p\"\nissuer c \"i\" { audience \"a\" algorithms none jwks file \"k\" }\n"
      "route GET /a\nallow GET /a\n", 1, 0,
      "algorithm 'none' is refused: an unsigned token proves nothing" },
    { "policy \"p\"\nissuer c \"i\" { audience \"a\" algorithms eddsa jwks file \"k\" }\n"
      "route GET /a\nallow GET /a\n", 1, 0, "case-sensitive: write EdDSA" },
    { "policy \"p\"\nissuer c \"i\" { audience \"a\" algorithms ES256 ES256 jwks file \"k\" }\n"
      "route GET /a\nallow GET /a\n", 0, 1, "warning: algorithm 'ES256' is listed twice" },
    { "policy \"p\"\nissuer c \"i\" { audience \"a\" algorithms ES256 jwks url \"https://k\" }\n"
      "route GET /a\nallow GET /a\n", 0, 0, "" },
    { "policy \"p\"\nissuer c \"i\" { audience \"a\" algorithms ES256 jwks ftp \"k\" }\n"
      "route GET /a\nallow GET /a\n", 1, 0, "t.ztp:2:51: error: unknown key source 'ftp' "
      "(write: jwks file \"PATH\", jwks url \"URL\" or jwks discover)" },
#define ISU(attrs) "policy \"p\"\nissuer c \"https://c\" { audience \"a\" " attrs " }\n" \
                   "route GET /a\nallow GET /a\n"
    /* key sources */
    { ISU("algorithms ES256 jwks url \"http://idp.example.com/certs\""), 1, 0,
      "t.ztp:2:63: error: the jwks URL uses http to a host that is not loopback "
      "(http is allowed only to 127.0.0.0/8, [::1] or localhost; use https)" },
    { ISU("algorithms ES256 jwks url \"http://127.0.0.1:8080/certs\""), 0, 0, "" },
    { ISU("algorithms ES256 jwks url \"http://localhost/certs\""), 0, 0, "" },
    { ISU("algorithms ES256 jwks url \"http://[::1]:9/certs\""), 0, 0, "" },
    { ISU("algorithms ES256 jwks url \"ftp://idp/certs\""), 1, 0,
      "error: the jwks URL is not an https:// URL" },
    { ISU("algorithms ES256 jwks url \"https://u:p@idp/certs\""), 1, 0, "user information" },
    { ISU("algorithms ES256 jwks url \"https://idp/certs#x\""), 1, 0, "has a fragment ('#')" },
    { ISU("algorithms ES256 jwks url \"https://idp/a b\""), 1, 0, "a character that a URL cannot hold" },
    { ISU("algorithms ES256 jwks url \"\""), 1, 0, "the jwks URL is empty" },
    { ISU("algorithms ES256 jwks url"), 1, 0,
      "t.ztp:2:59: error: jwks url needs a URL in quotes: jwks url \"URL\"" },
    { ISU("algorithms ES256 jwks file"), 1, 0, "jwks file needs a file name in quotes" },
    { ISU("algorithms ES256 jwks \"k.json\""), 1, 0,
      "t.ztp:2:54: error: jwks needs the kind of its source: write jwks file \"k.json\"" },
    { ISU("algorithms ES256 jwks \"https://idp/certs\""), 1, 0,
      "write jwks url \"https://idp/certs\"" },
    { ISU("algorithms ES256 jwks discover"), 0, 0, "" },
    { ISU("algorithms ES256 jwks discover \"https://c/.well-known/openid-configuration\""),
      1, 0, "t.ztp:2:68: error: jwks discover takes no URL" },
    { "policy \"p\"\nissuer c \"c\" { audience \"a\" algorithms ES256 jwks discover }\n"
      "route GET /a\nallow GET /a\n", 1, 0,
      "t.ztp:2:51: error: jwks discover needs an https iss, and the iss of issuer 'c' "
      "is not an https:// URL\n" },
    { "policy \"p\"\nissuer c \"c\" { audience \"a\" algorithms ES256 jwks discover }\n"
      "route GET /a\nallow GET /a\n", 1, 0,
      "t.ztp:2:10: note: the iss is here; discovery fetches ISS/.well-known/openid-configuration" },
    { "policy \"p\"\nissuer c \"https://c/?realm=x\" { audience \"a\" algorithms ES256 "
      "jwks discover }\nroute GET /a\nallow GET /a\n", 1, 0, "has a query ('?')" },
    { "policy \"p\"\nissuer c \"http://192.168.1.1\" { audience \"a\" algorithms ES256 "
      "jwks discover }\nroute GET /a\nallow GET /a\n", 1, 0, "not loopback" },
    { "policy \"p\"\nissuer c \"http://localhost:9000/realms/x\" { audience \"a\" "
      "algorithms ES256 jwks discover }\nroute GET /a\nallow GET /a\n", 0, 0, "" },
    { ISU("algorithms ES256 jwks discover jwks file \"k\""), 1, 0,
      "duplicate attribute 'jwks' in issuer 'c'" },
    /* secrets and algorithms */
    { ISU("algorithms HS256 secret file \"hs.key\""), 0, 0, "" },
    { ISU("algorithms HS256 HS512 ES256 secret file \"hs.key\" jwks discover"), 0, 0, "" },
    { ISU("algorithms ES256 HS384 jwks discover"), 1, 0,
      "t.ztp:2:54: error: algorithm HS384 needs a shared secret (add: secret file \"PATH\")" },
    { ISU("algorithms HS256 RS512 secret file \"k\""), 1, 0,
      "t.ztp:2:54: error: algorithm RS512 needs a key set (add: jwks file \"PATH\", jwks url "
      "\"URL\" or jwks discover)" },
    { ISU("algorithms ES256 jwks discover secret file \"k\""), 1, 0,
      "t.ztp:2:68: error: a secret verifies only HS256, HS384 or HS512, and the "
      "algorithms of issuer 'c' list none" },
    { ISU("algorithms HS256 jwks discover secret file \"k\""), 1, 0,
      "t.ztp:2:54: error: the key set of issuer 'c' would never be used: its algorithms "
      "are all HS256/384/512" },
    { ISU("algorithms HS256"), 1, 0, "issuer 'c' has no key source" },
    { ISU("algorithms HS256 secret \"k\""), 1, 0,
      "t.ztp:2:54: error: secret needs the kind of its source: write secret file \"k\"" },
    { ISU("algorithms HS256 secret url \"k\""), 1, 0,
      "t.ztp:2:61: error: unknown secret source 'url' (write: secret file \"PATH\"" },
    { ISU("algorithms HS256 secret file"), 1, 0, "secret file needs a file name in quotes" },
    { ISU("algorithms HS256 secret file \"\""), 1, 0, "the secret file name is empty" },
    { ISU("algorithms HS256 secret file \"a\" secret file \"b\""), 1, 0,
      "duplicate attribute 'secret' in issuer 'c'" },
    /* typ, required */
    { ISU("algorithms ES256 jwks discover typ \"at+jwt\""), 0, 0, "" },
    { ISU("algorithms ES256 jwks discover typ \"\""), 1, 0,
      "t.ztp:2:72: error: the typ is empty (leave typ out to accept \"JWT\", \"at+jwt\" or none)" },
    { ISU("algorithms ES256 jwks discover typ \"a\\tb\""), 1, 0, "control character 0x09 in the typ" },
    { ISU("algorithms ES256 jwks discover typ at"), 1, 0,
      "syntax error: unexpected identifier 'at', expecting a string" },
    { ISU("algorithms ES256 jwks discover typ \"a\" typ \"b\""), 1, 0,
      "duplicate attribute 'typ' in issuer 'c'" },
    { ISU("algorithms ES256 jwks discover required sub azp \"https://x.io/roles\" exp"), 0, 0, "" },
    { ISU("algorithms ES256 jwks discover required sub sub"), 0, 1,
      "t.ztp:2:81: warning: claim 'sub' is listed twice" },
    { ISU("algorithms ES256 jwks discover required realm_access.roles"), 1, 0,
      "t.ztp:2:77: error: 'realm_access.roles' is a nested claim; required names top-level "
      "claims only (a claim whose name holds a dot is written in quotes: \"realm_access.roles\")" },
    { ISU("algorithms ES256 jwks discover required \"\""), 1, 0, "an empty claim name" },
    { ISU("algorithms ES256 jwks discover required \"a\\nb\""), 1, 0,
      "control character 0x0a in a claim name" },
    { ISU("algorithms ES256 jwks discover required"), 1, 0,
      "syntax error: unexpected '}', expecting an identifier or a string" },
    { ISU("algorithms ES256 jwks discover required typ"), 1, 0,
      "unexpected 'typ', expecting an identifier or a string (inside an issuer 'typ' is "
      "an attribute; a claim of that name is written \"typ\")" },
    { ISU("algorithms ES256 jwks discover required \"typ\" \"secret\""), 0, 0, "" },
    { ISU("algorithms ES256 jwks discover required sub\n  typp \"at+jwt\""), 0, 1,
      "t.ztp:3:3: warning: 'typp' \"at+jwt\" on a new line reads like an attribute" },
    { ISU("algorithms ES256 jwks discover required a b c d e f g h i j k l m n o p q r s t u "
          "v w x y z aa ab ac ad ae af"), 0, 0, "" },
    { ISU("algorithms ES256 jwks discover required a b c d e f g h i j k l m n o p q r s t u "
          "v w x y z aa ab ac ad ae af ag"), 1, 0,
      "too many required claims (the limit is 32)" },
    /* refresh, refetch_min */
    { ISU("algorithms ES256 jwks discover refresh 10m refetch_min 5s"), 0, 0, "" },
    { ISU("algorithms ES256 jwks url \"https://c/k\" refresh 0"), 1, 0,
      "error: refresh must be at least 1 second" },
    { ISU("algorithms ES256 jwks discover refetch_min 0s"), 1, 0,
      "t.ztp:2:80: error: refetch_min must be at least 1 second" },
    { ISU("algorithms ES256 jwks discover refresh -5"), 1, 0, "refresh cannot be negative" },
    { ISU("algorithms ES256 jwks discover refresh 5000000000"), 1, 0,
      "refresh is too long (5000000000 seconds; the limit is 4294967295)" },
    { ISU("algorithms ES256 jwks file \"k\" refresh 1h"), 1, 0,
      "t.ztp:2:68: error: refresh applies to jwks url and jwks discover (a jwks file is "
      "re-read when it changes)" },
    { ISU("algorithms HS256 secret file \"k\" refetch_min 1m"), 1, 0,
      "refetch_min applies to jwks url and jwks discover, and issuer 'c' has no key set" },
    { ISU("algorithms ES256 jwks discover refresh 1h refresh 2h"), 1, 0,
      "duplicate attribute 'refresh' in issuer 'c'" },
    { ISU("algorithms ES256 jwks discover refresh"), 1, 0,
      "unexpected '}', expecting an integer or a duration" },
    /* the attribute words stay free outside issuers */
    { HDR "let required = \"x\" in token.typ\nlet secret = token.refresh == 1\n"
      "route GET /a\nallow GET /a when required or secret or token.refetch_min == 2\n",
      0, 0, "" },
#undef ISU
    { "policy \"p\"\nissuer c \"i\" { audience \"\" algorithms ES256 jwks file \"\" }\n"
      "route GET /a\nallow GET /a\n", 2, 0, "the jwks file name is empty" },
    /* lets */
    { HDR "let a = \"x\" in token.r\nlet a = \"y\" in token.r\nroute GET /a\n"
      "allow GET /a when a\n", 1, 0, "t.ztp:8:5: error: let 'a' is defined twice" },
    { HDR "let a = b\nlet b = \"y\" in token.r\nroute GET /a\nallow GET /a when a\n", 1, 0,
      "t.ztp:7:9: error: 'b' is used before its definition" },
    { HDR "route GET /a\nallow GET /a when b\nlet b = \"y\" in token.r\n", 1, 0,
      "'b' is used before its definition" },
    { HDR "route GET /a\nallow GET /a when nothing\n", 1, 0,
      "t.ztp:8:19: error: unknown name 'nothing' (no let defines it)" },
    { HDR "let a = a or \"x\" in token.r\nroute GET /a\nallow GET /a when a\n", 1, 0,
      "let 'a' refers to itself" },
    { HDR "let a = \"x\" in token.r\nroute GET /a\nallow GET /a\n", 0, 1,
      "t.ztp:7:5: warning: let 'a' is never used" },
    { HDR "let path = \"x\" in token.r\nroute GET /a\nallow GET /a\n", 1, 0,
      "'path' is a reserved name" },
    /* routes */
    { HDR "route HEAD /a\nroute GET /b\nallow GET /**\n", 1, 0,
      "t.ztp:7:7: error: HEAD is served by GET routes; write: route GET /a" },
    { HDR "route FETCH /a\nroute GET /b\nallow GET /**\n", 1, 0,
      "unknown method 'FETCH' (expected GET, POST, PUT, PATCH, DELETE or OPTIONS)" },
    { HDR "route post /a\nroute GET /b\nallow GET /**\n", 1, 0,
      "methods are written in upper case: POST" },
    { HDR "route * /a\nroute GET /b\nallow GET /**\n", 1, 0, "a route has exactly one method" },
    { HDR "route GET /a/{x}/b/{x}\nallow GET /**\n", 1, 0,
      "t.ztp:7:20: error: capture {x} appears twice in this route" },
    { HDR "route GET /a/{x}\nroute GET /a/{y}\nallow GET /**\n", 1, 0,
      "t.ztp:8:1: error: routes GET /a/{x} (t.ztp:7) and GET /a/{y} (t.ztp:8) can match "
      "the same request with equal rank\n" },
    { HDR "route GET /a/{x}\nroute GET /a/{y}\nallow GET /**\n", 1, 0,
      "t.ztp:7:1: note: the other route is declared here\n" },
    { HDR "route GET /a/b\nroute GET /a/{y}\nroute POST /a/{x}\nallow * /**\n", 0, 1,
      "t.ztp:10:7: warning: 'allow * /**' without a condition opens every route to any "
      "caller with a valid token" },
    { HDR "route GET /a\nroute GET /a\nallow GET /**\n", 1, 0, "route GET /a is declared twice" },
    { HDR "route GET /a//b\nroute GET /c\nallow GET /**\n", 1, 0,
      "t.ztp:7:14: error: empty path segment ('//')" },
    { HDR "route GET /a/\nroute GET /c\nallow GET /**\n", 1, 0,
      "empty path segment (remove the trailing '/')" },
    { HDR "route GET /a/../b\nroute GET /c\nallow GET /**\n", 1, 0,
      "t.ztp:7:14: error: '..' segment" },
    { HDR "route GET /./b\nroute GET /c\nallow GET /**\n", 1, 0, "'.' segment" },
    { HDR "route GET /a/{id: uuid}\nroute GET /c\nallow GET /**\n", 0, 0, "" },
    { HDR "route GET /a/{id\nroute GET /c\nallow GET /**\n", 1, 0, "unterminated capture" },
    { HDR "route GET /a/x{id}\nroute GET /c\nallow GET /**\n", 1, 0,
      "a capture must be a whole segment" },
    { HDR "route GET /a/{}\nroute GET /c\nallow GET /**\n", 1, 0, "empty capture name" },
    { HDR "route GET /a/{1x}\nroute GET /c\nallow GET /**\n", 1, 0,
      "capture name '1x' is not an identifier" },
    { HDR "route GET /a/*\nroute GET /c/**\nallow GET /**\n", 0, 0, "" },
    { HDR "route GET /a/**/b\nroute GET /c\nallow GET /**\n", 1, 0,
      "t.ztp:7:14: error: '**' must be the last segment" },
    { HDR "route GET /a/b*\nroute GET /c\nallow GET /**\n", 1, 0, "'*' must be a whole segment" },
    { HDR "route GET /1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/21/22/23/24"
      "/25/26/27/28/29/30/31/32/33\nroute GET /c\nallow GET /**\n", 1, 0,
      "33 path segments (the limit is 32)" },
    { HDR "route GET /1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/21/22/23/24"
      "/25/26/27/28/29/30/31/32\nallow GET /1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17"
      "/18/19/20/21/22/23/24/25/26/27/28/29/30/31/32/**\n", 0, 0, "" },
    { HDR "allow GET /a public\n", 2, 0, "t.ztp: error: no routes" },
    { HDR "route GET /a\nroute GET /b\nallow GET /a\n", 0, 1,
      "t.ztp:8:1: warning: no allow rule covers route GET /b" },
    /* rule targets */
    { HDR "route GET /orders\nallow GET /ordrs\n", 1, 0,
      "t.ztp:8:7: error: GET /ordrs matches no declared route" },
    { HDR "route GET /orders\nallow POST /orders\nallow GET /orders\n", 1, 0,
      "note: route GET /orders is declared here, with another method" },
    { HDR "route GET /o/{id: uuid}\nallow GET /o/{oid}\n", 0, 0, "" },
    { HDR "route GET /o\nallow HEAD /o\n", 1, 0, "HEAD is served by GET routes; write: GET /o" },
    { HDR "route GET /o\nallow GET /**/o\n", 1, 0, "'**' must be the last segment" },
    { HDR "route GET /o\nallow GET /o, GET /p\n", 1, 0, "t.ztp:8:15: error: GET /p matches no" },
    { HDR "route GET /o\ndeny GET /o public\nallow GET /o\n", 1, 0,
      "t.ztp:8:13: error: a deny rule cannot be public" },
    /* path captures */
    { HDR "route GET /a/{id}\nroute GET /a\nallow GET /a/** when path.id == \"1\"\n", 1, 0,
      "t.ztp:9:22: error: path.id is not a capture of route GET /a, which this rule covers" },
    { HDR "route GET /a/{id}\nroute GET /b/{uid}\nlet mine = token.sub == path.id\n"
      "allow GET /**, GET /a/{id} when mine\n", 1, 0,
      "note: path.id comes from let 'mine', used by this rule" },
    { HDR "route GET /a/{id}\nallow GET /a/{id} when path.id == 5\n", 1, 0,
      "path.id is a string and never equals a number; write the value in quotes" },
    { HDR "route GET /a/{id}\nallow GET /a/{id} when path.id in [\"1\", true]\n", 1, 0,
      "path.id is a string and never equals a boolean" },
    { HDR "route GET /a/{id}\nallow GET /a/{id} when path.id.x == \"1\"\n", 1, 0,
      "path.id.x: write path.NAME" },
    /* conditions */
    { HDR "route GET /a\nallow GET /a when \"x\" in \"y\"\n", 1, 0,
      "the right side of 'in' must be a token claim" },
    { HDR "route GET /a/{id}\nallow GET /a/{id} when \"x\" in path.id\n", 1, 0,
      "the right side of 'in' must be a token claim" },
    { HDR "route GET /a\nallow GET /a when \"x\" == \"y\"\n", 1, 0,
      "t.ztp:8:19: error: comparing two literals" },
    { HDR "route GET /a\nallow GET /a when 1 != true\n", 1, 0, "comparing two literals" },
    { HDR "route GET /a\nallow GET /a when \"x\" in [\"x\"]\n", 1, 0,
      "a literal on the left of 'in [...]'" },
    { HDR "route GET /a\nallow GET /a when token.x in []\n", 1, 0, "empty list" },
    { HDR "route GET /a\nallow GET /a when token.a.b.c.d.e.f.g.h.i == 1\n", 1, 0,
      "claim path token.a.b.c.d.e.f.g.h.i has 9 parts (the limit is 8)" },
    { HDR "route GET /a\nallow GET /a when token.a.b.c.d.e.f.g.h == 1\n", 0, 0, "" },
    { HDR "route GET /a\nallow GET /a when token == 1\n", 1, 0,
      "'token' needs a claim name" },
    { HDR "route GET /a\nallow GET /a when client.ip == \"1\"\n", 1, 0,
      "t.ztp:8:19: error: client.ip is matched only against addresses: client.ip in "
      "[10.0.0.0/8, 2001:db8::/32]" },
    { HDR "route GET /a\nallow GET /a when token.admin\n", 1, 0,
      "token.admin is a value, not a condition" },
    { HDR "let a = \"x\" in token.r\nroute GET /a\nallow GET /a when token.x == a\n", 1, 1,
      "'a' is a condition, not a value" },
    { HDR "route GET /a\nallow GET /a when tokn.sub == \"x\"\n", 1, 0,
      "unknown name 'tokn.sub' (a value is token.NAME, path.NAME, query.NAME, "
      "header[\"Name\"], client.*, tls.*, time.* or a literal)" },
    /* issuers and public rules */
    { "policy \"p\"\nroute GET /a\nallow GET /a when token.x == \"1\"\n", 1, 0,
      "t.ztp:3:1: error: this rule needs a verified token, but no issuer is declared" },
    { "policy \"p\"\nroute GET /a\nallow GET /a\nallow GET /a\n", 1, 0,
      "no issuer is declared" },
    { "policy \"p\"\nroute GET /a\nallow GET /a public\n", 0, 1,
      "warning: no issuer is declared: every rule is public" },
    { "policy \"p\"\nroute GET /a\nallow GET /a public when client.cert\n", 0, 0, "" },
    { "policy \"p\"\nroute GET /a\nallow GET /a public\ndeny GET /a when client.ip in [::1]\n",
      0, 0, "" },
    { "policy \"p\"\nroute GET /a\nallow GET /a public unless client.cert\n"
      "allow GET /a when client.cert\n", 1, 0,
      "t.ztp:4:1: error: this rule needs a verified token, but no issuer is declared" },
    /* public with a condition */
    { HDR "route GET /a\nallow GET /a public when \"x\" in token.scope\n", 0, 1,
      "t.ztp:8:33: warning: condition of a public rule reads token.scope, which is "
      "missing when no token is sent" },
    { HDR "route GET /a\nallow GET /a public unless not token.x == 1 or client.cert\n", 0, 1,
      "reads token.x, which is missing" },
    { HDR "let a = token.sub == \"u\"\nlet b = client.cert and a\nroute GET /a\n"
      "allow GET /a public when b\n", 0, 1,
      "t.ztp:10:21: warning: condition of a public rule reads token.sub (through let 'b')" },
    { HDR "let a = token.sub == \"u\"\nlet b = client.cert and a\nroute GET /a\n"
      "allow GET /a public when b\n", 0, 1, "t.ztp:7:9: note: token.sub is read here" },
    { HDR "route GET /a\nallow GET /a when \"x\" in token.scope\n"
      "allow GET /a public when client.cert and tls.version >= \"TLSv1.2\"\n", 0, 0, "" },
    { HDR "route GET /a\ndeny GET /a public when client.cert\nallow GET /a\n", 1, 0,
      "t.ztp:8:13: error: a deny rule cannot be public" },
    { HDR "route GET /a\nallow * /** public when client.cert\n", 0, 0, "" },
    { HDR "route GET /a\nallow GET /a when client.cert public\n", 1, 0,
      "t.ztp:8:31: error: syntax error: unexpected 'public' ('public' is written once, "
      "right after the targets: allow TARGETS public when C)" },
    { HDR "route GET /a\nallow GET /a public public\n", 1, 0, "unexpected 'public' ('public'" },
    { HDR "route GET /a\nallow GET /a public when\n", 1, 0,
      "unexpected end of file, expecting a condition" },
    { HDR "route GET /a\nallow GET /a public unless\n", 1, 0,
      "unexpected end of file, expecting a condition" },
    { HDR "route GET /a\nallow GET /a public when token.a.b.c.d.e.f.g.h.i == 1\n", 1, 0,
      "claim path token.a.b.c.d.e.f.g.h.i has 9 parts" },
    /* types and route blocks */
#define RT(block) HDR "route GET /a " block "\nallow GET /a\n"
    { RT("{ query n int 1..100 optional }"), 0, 0, "" },
    { RT("{ query n integer }"), 1, 0,
      "t.ztp:7:24: error: unknown type 'integer' (a type is int A..B, number, bool, uuid, "
      "string [A..B] [/regex/] or enum(\"a\", ...))" },
    { RT("{ query n int 9..1 }"), 1, 0, "t.ztp:7:28: error: empty range 9..1" },
    { RT("{ query n bool 1..2 }"), 1, 0, "bool takes no range" },
    { RT("{ query n string -1..2 }"), 1, 0, "a string length cannot be negative" },
    { RT("{ query n string /(a)\\1/ }"), 1, 0,
      "t.ztp:7:35: error: the back-reference '\\1' cannot be matched without backtracking" },
    { RT("{ query n string /a(?<!b)/ }"), 1, 0, "error: the look-behind '(?<!'" },
    { RT("{ query n string /a(?!b)/ }"), 1, 0, "error: the look-ahead '(?!'" },
    /* "(?=" in a class, and "\(" escaped, are characters */
    { RT("{ query n string /[(?=]\\(?=x/ }"), 0, 0, "" },
    { RT("{ query n string /ab(?>c)/ }"), 1, 0,
      "t.ztp:7:34: error: the atomic group '(?>' cannot be matched without backtracking" },
    { RT("{ query n string /[ab]*a[ab]{20}/ }"), 1, 0,
      "t.ztp:7:32: error: the pattern needs more than 4096 automaton states (the limit)" },
    { RT("{ query n string /a\\k<x>/ }"), 1, 0, "the named back-reference '\\k<'" },
    { RT("{ query n string // }"), 1, 0, "empty regular expression" },
    { RT("{ query n string /abc }"), 2, 0, "unterminated regular expression" },
    { RT("{ query n enum(\"a\", \"a\") }"), 1, 0, "enum value \"a\" is listed twice" },
    { RT("{ query n enum() }"), 1, 0, "enum needs its values" },
    { RT("{ query n enum(\"a\", 1) }"), 1, 0, "enum values are strings in quotes" },
    { RT("{ query n uuid(\"a\") }"), 1, 0, "only enum takes a list of values" },
    { RT("{ query n int 1..2 3..4 }"), 1, 0, "a type has at most one range" },
    { RT("{ query n int optional optional }"), 1, 0, "'optional' is written twice" },
    { RT("{ query n int\n query n bool }"), 1, 0,
      "t.ztp:8:8: error: query parameter \"n\" is declared twice in this route" },
    { RT("{ header \"X-A\" int\n header \"x-a\" int }"), 1, 0,
      "header \"x-a\" is declared twice in this route" },
    { RT("{ header \"X A\" int }"), 1, 0, "\"X A\" is not a header name" },
    { RT("{ header \"X-A\" int list }"), 1, 0, "'list' applies to query parameters" },
    { RT("{ query * any\n query * any }"), 1, 0, "'query * any' is written twice" },
    { RT("{ body json }"), 1, 0, "a body needs its largest size: body json max 16k" },
    { RT("{ body yaml max 1k }"), 1, 0, "unknown body kind 'yaml'" },
    { RT("{ body json max 0 }"), 1, 0, "a body's max is 1 byte to 4 GiB - 1" },
    { RT("{ body json max 2g }"), 1, 0, "unknown unit 'g' in '2g' (a size is a number of bytes" },
    { RT("{ body json max 1k max 2k }"), 1, 0, "'max' is written twice in this body" },
    { RT("{ body json max 1k root \"r\" }"), 1, 0, "'root' names the root element of an XML body" },
    { RT("{ body json max 1k schema \"/nonexistent.json\" }"), 1, 0,
      "t.ztp:7:40: error: cannot read schema file \"/nonexistent.json\": No such file or directory" },
    { RT("{ body json max 1k\n body json max 2k }"), 1, 0, "a route has at most one body" },
    { RT("{ cookie \"a\" int }"), 1, 0, "syntax error: unexpected identifier 'cookie'" },
    { HDR "route GET /a?x=1\nallow GET /a\n", 1, 0,
      "t.ztp:7:13: error: a route's path has no query" },
    { HDR "route GET /a/{n: }\nallow GET /**\n", 1, 0, "a type after ':'" },
    { HDR "route GET /a/{n: int 1..}\nallow GET /**\n", 1, 0,
      "t.ztp:7:25: error: syntax error: unexpected end of the capture, expecting an integer" },
    { HDR "route GET /a/{n: string /x\\/y/}\nallow GET /**\n", 0, 0, "" },
    { HDR "route GET /a/{c: string /^[A-Z]{2,3}[/]x$/}/{d}\nallow GET /a/{x}/{y}\n", 0, 0, "" },
    { RT("{ query n string /[/]\\/{2}/ }"), 0, 0, "" },
    { HDR "route GET /a/{n: string /x/y/}\nallow GET /**\n", 1, 0,
      "t.ztp:7:28: error: syntax error: unexpected identifier 'y'" },
    { HDR "route GET /a/*\nroute GET /a/{x}\nroute GET /a/**\nroute GET /a/b\nallow GET /**\n",
      0, 0, "" },
    { HDR "route GET /a/*/c\nroute GET /a/*/c\nallow GET /**\n", 1, 0,
      "route GET /a/*/c is declared twice" },
#undef RT
    /* request operands */
#define CND(cond) HDR "route GET /a/{id} { query q string }\nallow GET /a/{id} when " cond "\n"
    { CND("query.q == \"1\" and header[\"X-A\"] == \"b\""), 0, 0, "" },
    { CND("query.r == \"1\""), 1, 0,
      "t.ztp:8:24: error: query.r is not a declared query parameter of route GET /a/{id}" },
    { CND("query.q == 1"), 1, 0, "query.q is a string and never equals a number" },
    { CND("header[\"X A\"] == \"b\""), 1, 0, "\"X A\" is not a header name" },
    { CND("token[\"a\"] == \"b\""), 1, 0, "only header takes [\"Name\"]" },
    { CND("header == \"b\""), 1, 0, "only header takes [\"Name\"]" },
    { CND("client.ip in [10.0.0.0/8, 10.1.2.3]"), 0, 0, "" },
    { CND("client.ip in [10.0.0.1/8]"), 1, 0,
      "'10.0.0.1/8' has host bits set after its /8 prefix (the block is 10.0.0.0/8)" },
    { CND("client.ip in [2001:db8::1/32]"), 1, 0, "(the block is 2001:db8::/32)" },
    { CND("client.ip in [10.0.0.0/33]"), 1, 0, "bad prefix length in '10.0.0.0/33'" },
    { CND("client.ip in [300.1.1.1]"), 1, 0, "'300.1.1.1' is not an IPv4 or IPv6 address" },
    { CND("client.ip in [\"10.0.0.1\"]"), 1, 0,
      "client.ip is matched against addresses and blocks written bare" },
    { CND("token.ip in [10.0.0.1]"), 1, 0, "an address is matched only by client.ip in [...]" },
    { CND("client.ip == 10.0.0.1"), 1, 0, "t.ztp:8:37: error: an address is matched only "
      "by client.ip in [...]: client.ip in [10.0.0.1]" },
    { CND("client.ip == \"10.0.0.1\""), 1, 0, "client.ip is matched only against addresses" },
    { CND("client.cert.san == \"x\""), 1, 0, "client.cert.san is a set of names" },
    { CND("client.cert == 1"), 1, 0, "client.cert is true or false" },
    { CND("client.cert in [true]"), 1, 0, "client.cert is true or false: write client.cert" },
    { CND("client.certs == true"), 1, 0, "unknown name 'client.certs' (the request offers" },
    { CND("tls.version == \"TLSv1.4\""), 1, 0,
      "tls.version is one of \"TLSv1\", \"TLSv1.1\", \"TLSv1.2\" or \"TLSv1.3\", never \"TLSv1.4\"" },
    { CND("tls.version > \"TLSv1.3\""), 1, 0,
      "no TLS version is > TLSv1.3: the condition can never be true" },
    { CND("tls.version >= 2"), 1, 0, "tls.version is ordered only against a version" },
    { CND("time.hour == 24"), 1, 0, "time.hour is an integer from 0 to 23 (UTC)" },
    { CND("time.hour in [8, \"9\"]"), 1, 0, "time.hour is an integer from 0 to 23" },
    { CND("time.weekday == \"monday\""), 1, 0, "time.weekday is one of \"mon\"" },
    { CND("time.weekday < \"fri\""), 1, 0, "time.weekday cannot be ordered" },
    { CND("token.a < token.b"), 1, 0, "'<' needs an integer literal on one side" },
    { CND("token.a <= \"x\""), 1, 0, "'<=' compares integers, and this is a string" },
    { CND("path.id > 3"), 1, 0, "path.id is a string; '>' compares integers" },
    { CND("1 < 2"), 1, 0, "comparing two literals" },
    { CND("\"x\" in client.cert.san and client.cert.san in [\"y\"]"), 0, 0, "" },
    { CND("client.ip in token.nets"), 1, 0, "client.ip is matched only against addresses" },
    { CND("\"x\" in query.q"), 1, 0, "the right side of 'in' must be a token claim (token.NAME), "
      "client.cert.san or a list" },
    { CND("tls.version"), 1, 0, "tls.version is a value, not a condition" },
#undef CND
    /* stepup, limit */
    { HDR "route GET /a\nallow GET /a\nstepup GET /a acr \"x\" max_age 0\n", 1, 0,
      "t.ztp:9:31: error: max_age is 1 second to about 136 years" },
    { HDR "route GET /a\nallow GET /a\nstepup GET /a acr \"\"\n", 1, 0,
      "an acr value is a non-empty string" },
    { HDR "route GET /a\nallow GET /a\nstepup GET /a acr \"a\" acr \"b\"\n", 1, 0,
      "'acr' is written twice in this stepup" },
    { HDR "route GET /a\nallow GET /a\nstepup GET /a acrs \"a\"\n", 1, 0,
      "t.ztp:9:15: error: unknown stepup option 'acrs'" },
    { HDR "route GET /a\nallow GET /a\nstepup GET /a maxage 5m\n", 1, 0,
      "unknown stepup option 'maxage'" },
    { HDR "route GET /a\nallow GET /a\nstepup GET /a max_age 5m\nstepup * /** acr \"x\"\n", 1, 0,
      "t.ztp:10:1: error: route GET /a already has a stepup (t.ztp:9); a route has at most one" },
    { HDR "route GET /a\nallow GET /a\nstepup GET /b max_age 5m\n", 1, 0,
      "t.ztp:9:8: error: GET /b matches no declared route" },
    { HDR "route GET /a\nallow GET /a\nlimit GET /a 0/s per token.sub\n", 1, 0,
      "t.ztp:9:14: error: a limit counts 1 to 4294967295 requests per period" },
    { HDR "route GET /a\nallow GET /a\nlimit GET /a 5/day per token.sub\n", 1, 0,
      "unknown period 'day' (write N/s, N/min or N/hour)" },
    { HDR "route GET /a\nallow GET /a\nlimit GET /a 5/s by token.sub\n", 1, 0,
      "t.ztp:9:18: error: expected 'per' after the rate" },
    { HDR "route GET /a\nallow GET /a\nlimit GET /a 5/s per token.email\n", 1, 0,
      "a limit counts per token.sub, token.azp or client.ip, not per token.email" },
    { HDR "route GET /a\nallow GET /a\nlimit GET /a 5/s per client.ip\n"
      "limit GET /a 1/s per client.ip\nlimit GET /a 1/s per client.ip\n"
      "limit GET /a 1/s per client.ip\nlimit GET /a 1/s per client.ip\n"
      "limit GET /a 1/s per client.ip\nlimit GET /a 1/s per client.ip\n"
      "limit GET /a 1/s per client.ip\nlimit GET /a 1/s per client.ip\n"
      "limit GET /a 1/s per client.ip\nlimit GET /a 1/s per client.ip\n"
      "limit GET /a 1/s per client.ip\nlimit GET /a 1/s per client.ip\n"
      "limit GET /a 1/s per client.ip\nlimit GET /a 1/s per client.ip\n"
      "limit GET /a 1/s per client.ip\nlimit GET /a 1/s per client.ip\n", 1, 0,
      "route GET /a has more than 16 limits" },
    /* tests */
#define TST(body) HDR "route GET /a\nallow GET /a\ntest \"t\" { " body " }\n"
    { TST("request GET /a expect allow"), 0, 0, "" },
    { TST("expect allow"), 1, 0, "t.ztp:9:6: error: test \"t\" has no request" },
    { TST("request GET /a"), 1, 0, "test \"t\" has no expect" },
    { TST("request GET /a expect allowed"), 1, 0,
      "unknown outcome 'allowed' (expect allow, deny, stepup, token, notfound, "
      "invalid, toolarge or mediatype)" },
    { TST("request GET /a request GET /a expect deny"), 1, 0,
      "'request' is written twice in test \"t\"" },
    { TST("request FETCH /a expect deny"), 1, 0, "unknown method 'FETCH'" },
    /* bodies: the kinds, text in ' ' or a string, none; what is refused */
    { TST("request GET /a body json '{\"a\": [1]}' expect toolarge"), 0, 0, "" },
    { TST("request GET /a body xml \"<a/>\" expect toolarge"), 0, 0, "" },
    { TST("request GET /a body \"text/plain\" 'x' expect toolarge"), 0, 0, "" },
    { TST("request GET /a body none expect allow"), 0, 0, "" },
    { TST("request GET /a body csv 'a' expect allow"), 1, 0,
      "unknown body type 'csv' (write json, xml, untyped, none, or a media type in quotes)" },
    { TST("request GET /a body untyped 'x' expect toolarge"), 0, 0, "" },
    { TST("request GET /a body untyped file \"\" expect allow"), 1, 0,
      "the body file name is empty" },
    { TST("request GET /a body untyped expect allow"), 1, 0,
      "body untyped needs its text: body untyped '...', or body untyped file" },
    { TST("request GET /a header \"Content-Type\" \"text/plain\" body json 'x' "
          "expect allow"), 1, 0, "t.ztp:9:34: error: the body line gives the "
      "Content-Type (body \"TYPE\" '...', or body untyped for none), not a header line" },
    { TST("request GET /a header \"Content-Type\" \"text/plain\" expect allow"), 0, 0, "" },
    { TST("request GET /a body Untyped 'x' expect allow"), 1, 0,
      "unknown body type 'Untyped'" },
    { TST("request GET /a body none 'x' expect allow"), 1, 0,
      "body none takes no text (write body json '...', a media type in quotes, "
      "or body untyped '...' for no Content-Type)" },
    { TST("request GET /a body json expect allow"), 1, 0,
      "body json needs its text" },
    { TST("request GET /a body \"\" 'x' expect allow"), 1, 0,
      "a body's media type is a Content-Type value" },
    { TST("request GET /a body json 'x\x01' expect allow"), 1, 0,
      "control character 0x01 in body text" },
    { TST("request GET /a body json '\xff' expect allow"), 1, 0,
      "invalid UTF-8 byte 0xff in body text" },
    /* (the parser then loses its way: three errors) */
    { TST("request GET /a header \"X\" 'y' expect allow"), 3, 0,
      "unexpected character ''' (strings are written in double quotes)" },
    { TST("request GET /a from 10.0.0.0/8 expect deny"), 1, 0,
      "'10.0.0.0/8' is not an IPv4 or IPv6 address" },
    { TST("request GET /a tls \"SSLv3\" expect deny"), 1, 0, "tls is \"TLSv1\"" },
    { TST("request GET /a time \"2026-02-30T00:00:00Z\" expect deny"), 1, 0,
      "a time is written \"YYYY-MM-DDTHH:MM:SSZ\" (UTC)" },
    { TST("request GET /a time \"2026-01-01 00:00:00\" expect deny"), 1, 0, "a time is written" },
    { TST("token { a 1 a 2 } request GET /a expect deny"), 1, 0,
      "t.ztp:9:24: error: claim \"a\" is given twice" },
    { TST("token \"x\" request GET /a expect deny"), 1, 0, "token takes its claims in braces" },
    { TST("cert { subject 1 } request GET /a expect deny"), 1, 0, "a cert has subject" },
    { TST("cert { san [1] } request GET /a expect deny"), 1, 0, "a san is a string" },
    { TST("header \"X A\" \"1\" request GET /a expect deny"), 1, 0, "\"X A\" is not a header name" },
    { TST("request GET /a expect allow") "test \"t\" { request GET /a expect deny }\n", 1, 0,
      "t.ztp:10:6: error: test \"t\" is declared twice" },
    { TST("request GET /a expect allow }\ntest \"u\" { request GET /a expect allow"), 0, 0, "" },
#undef TST
    /* warnings */
    { HDR "route GET /a\nroute GET /b\nallow * /** public\n", 0, 1,
      "t.ztp:9:7: warning: 'allow * /** public' opens every route to anyone, without a token" },
    { HDR "route GET /a\nroute GET /b\nallow GET /a when token.x == 1\ndeny GET /a\n"
      "allow GET /b\n", 0, 1,
      "t.ztp:9:1: warning: this allow never applies: a deny without a condition covers "
      "every route it covers\nallow GET /a when token.x == 1\n^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
      "t.ztp:10:1: note: a deny that covers it is here" },
    { HDR "route GET /a\nroute GET /b\nallow GET /a\ndeny GET /a when token.x == 1\n", 0, 1,
      "no allow rule covers route GET /b" },
    /* syntax errors */
    { HDR "route GET /a\nallow GET /a when token.x = \"1\"\n", 1, 0,
      "t.ztp:8:27: error: syntax error: unexpected '=' (compare with '==')" },
    { HDR "route GET /a\nallow GET /a when (token.x == \"1\"\n", 1, 0,
      "syntax error: unexpected end of file, expecting 'and', 'or' or ')'" },
    { HDR "route GET /a\nallow GET /a when\n", 1, 0,
      "syntax error: unexpected end of file, expecting a condition" },
    { HDR "route GET /a\nallow GET /a\nstepup GET /a\n", 1, 0,
      "t.ztp:9:1: error: a stepup says what it requires: acr \"VALUE\" ..., max_age "
      "DURATION, or both" },
    { HDR "rout GET /a\n", 1, 0, "unexpected identifier 'rout', expecting a statement" },
    { HDR "route GET /a\nallow GET /a when token.x == \"1\" && token.y == \"2\"\n", 1, 0,
      "t.ztp:8:34: error: unexpected '&&' (write 'and')" },
    { HDR "route GET /a\nallow GET /a public;\n", 1, 0, "unexpected character ';' (statements need no separator)" },
    { HDR "route GET /a\nallow GET /a when token.x == 'x'\n", 2, 0,
      "unexpected character ''' (strings are written in double quotes)" },
};

START_TEST(check_table)
{
    res_t r = compile(checks[_i].src);

    ck_assert_msg(r.nerr == checks[_i].errors && r.nwarn == checks[_i].warnings,
                  "case %d: errors %d (want %d), warnings %d (want %d):\n%s",
                  _i, r.nerr, checks[_i].errors, r.nwarn, checks[_i].warnings, r.out);
    ck_assert_msg(strstr(r.out, checks[_i].msg) != NULL,
                  "case %d: missing \"%s\" in:\n%s", _i, checks[_i].msg, r.out);
    if (r.nerr == 0) {
        ck_assert_ptr_nonnull(r.ir);
        check_invariants(r.ir);
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Several errors, recovery, limits                                    */
/* ------------------------------------------------------------------ */

START_TEST(several_errors)
{
    res_t r = compile("policy \"p\"\n"
        "issuer c \"i\" { audience \"a\" algorithms none jwks file \"k\" }\n"
        "let a = \"x\" in token.a.b.c.d.e.f.g.h.i\n"
        "route HEAD /a\n"
        "route GET /b/{x}\n"
        "route GET /b/{y}\n"
        "allow GET /c when a\n"
        "deny GET /b/{x} public\n");

    ck_assert_int_eq(r.nerr, 6);
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:2:40: error: algorithm 'none'"));
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:3:16: error: claim path"));
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:4:7: error: HEAD"));
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:6:1: error: routes"));
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:7:7: error: GET /c matches no"));
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:8:17: error: a deny rule"));
}
END_TEST

/* After a syntax error the parser resumes at the next statement keyword
 * and reports the next error even in a short statement; the checks do not
 * run on a tree with holes (no "no policy declaration" below). */
START_TEST(recovery)
{
    res_t r = compile("policy 5\n"
        "route GET /a\n"
        "allow GET /a when token.x == \"1\" token.y\n"
        "route GET /b\n"
        "route GET\n"
        "allow GET /a when (\n"
        "let = 3\n"
        "let ok = \"x\" in token.y\n"
        "issuer c \"i\" { audience }\n");

    ck_assert_int_eq(r.nerr, 6);
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:7:5: error: syntax error: unexpected '=', expecting an identifier"));
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:1:8: error: syntax error: unexpected integer, expecting a string"));
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:3:34: error: syntax error: unexpected identifier 'token'"));
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:6:1: error: syntax error: unexpected 'allow', expecting a path"));
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:7:1: error: syntax error: unexpected 'let', expecting a condition"));
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:9:25: error: syntax error: unexpected '}', expecting a string"));
    ck_assert_ptr_null(strstr(r.out, "no policy"));
}
END_TEST

START_TEST(error_limit)
{
    char *src = apr_pstrdup(pool, HDR "route GET /a\n");
    res_t r;
    const char *last;

    for (int i = 0; i < 40; i++) {
        src = apr_psprintf(pool, "%sallow GET /x%d\n", src, i);
    }
    r = compile(src);
    ck_assert_int_eq(r.nerr, 20);
    ck_assert_ptr_nonnull(strstr(r.out, "GET /x19 matches no declared route"));
    ck_assert_ptr_null(strstr(r.out, "GET /x20 "));
    last = strstr(r.out, "t.ztp: note: too many errors; stopping after 20\n");
    ck_assert_ptr_nonnull(last);
    ck_assert_str_eq(last, "t.ztp: note: too many errors; stopping after 20\n");

    /* a binary file stops early too */
    src = apr_palloc(pool, 100000);
    for (int i = 0; i < 100000; i++) {
        src[i] = (char)(0x80 + (i * 7) % 0x40);
    }
    r = compile_n(src, 100000);
    ck_assert_int_eq(r.nerr, 20);
}
END_TEST

START_TEST(deep_nesting)
{
    int n = 10000;
    char *open = apr_palloc(pool, n + 1), *close = apr_palloc(pool, n + 1);
    char *nots = apr_palloc(pool, 4 * n + 1);
    res_t r;

    memset(open, '(', n);
    memset(close, ')', n);
    open[n] = close[n] = '\0';
    for (int i = 0; i < n; i++) {
        memcpy(nots + 4 * i, "not ", 4);
    }
    nots[4 * n] = '\0';
    r = compile(apr_pstrcat(pool, HDR "route GET /a\nallow GET /a when ", open,
                            "token.x == \"1\"", close, "\n", NULL));
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "nested too deeply (the parser's limit is 2000 levels)"));
    r = compile(apr_pstrcat(pool, HDR "route GET /a\nallow GET /a when ", nots,
                            "token.x == \"1\"\n", NULL));
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "nested too deeply"));

    /* 128 levels are fine, 129 are not */
    r = compile(apr_pstrcat(pool, HDR "route GET /a\nallow GET /a when ",
                            apr_pstrndup(pool, nots, 4 * 127), "token.x == \"1\"\n", NULL));
    ck_assert_msg(r.ir != NULL, "%s", r.out);
    r = compile(apr_pstrcat(pool, HDR "route GET /a\nallow GET /a when ",
                            apr_pstrndup(pool, nots, 4 * 128), "token.x == \"1\"\n", NULL));
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "condition nested too deeply (the limit is 128 levels)"));
}
END_TEST

START_TEST(long_chains)
{
    char *src = apr_pstrdup(pool, HDR "route GET /a\nallow GET /a when token.x == \"0\"");
    res_t r;

    /* a flat chain of 5000 'or': too deep for the evaluator's bound */
    for (int i = 1; i < 5000; i++) {
        src = apr_pstrcat(pool, src, " or token.x == \"1\"", NULL);
    }
    r = compile(src);
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "condition nested too deeply"));

    /* lets that double at each step: refused by count, never expanded */
    src = apr_pstrdup(pool, HDR "route GET /a\nlet l0 = token.x == \"1\"\n");
    for (int i = 1; i < 60; i++) {
        src = apr_psprintf(pool, "%slet l%d = l%d or l%d\n", src, i, i - 1, i - 1);
    }
    r = compile(apr_pstrcat(pool, src, "allow GET /a when l59\n", NULL));
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "too many condition nodes once lets are "
                                 "expanded (the limit is 1048576)"));
    /* a long let chain: depth counted through lets */
    src = apr_pstrdup(pool, HDR "route GET /a\nlet l0 = token.x == \"1\"\n");
    for (int i = 1; i < 200; i++) {
        src = apr_psprintf(pool, "%slet l%d = not l%d\n", src, i, i - 1);
    }
    r = compile(apr_pstrcat(pool, src, "allow GET /a when l199\n", NULL));
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "let 'l128' nests too deeply"));
}
END_TEST

/* path.cLO or ... or path.cHI as a balanced tree */
static char *balanced(int lo, int hi)
{
    int mid = lo + (hi - lo) / 2;

    if (lo == hi) {
        return apr_psprintf(pool, "path.c%d == \"x\"", lo);
    }
    return apr_pstrcat(pool, "(", balanced(lo, mid), " or ", balanced(mid + 1, hi),
                       ")", NULL);
}

/* Inputs shaped to make a careless compiler quadratic: each must compile
 * (or fail) in linear time. */
START_TEST(wide_inputs)
{
    apr_size_t n = 100000, cap = n * 40 + 1000, len;
    char *src = apr_palloc(pool, cap);
    const char *out;
    res_t r;
    int lines = 0;

    /* one rule with 100000 targets */
    len = (apr_size_t)snprintf(src, cap, "%sroute GET /a\nallow GET /a", HDR);
    for (apr_size_t i = 1; i < n; i++) {
        len += (apr_size_t)snprintf(src + len, cap - len, ", GET /a");
    }
    r = compile_n(src, len);
    ck_assert_msg(r.ir != NULL, "%s", r.out);
    ck_assert_uint_eq(strlen(RULE(r.ir, 0)->text), 6 + (n - 1) * 8);
    assert_rules(r.ir, 0, "0");

    /* 20000 distinct captures named in one (balanced, shallow) condition */
    r = compile(apr_pstrcat(pool, HDR "route GET /a/{c0}\nallow GET /a/{c0} when ",
                            balanced(0, 19999), "\n", NULL));
    ck_assert_int_eq(r.nerr, 20);   /* then one per missing capture */
    ck_assert_ptr_nonnull(strstr(r.out, "path.c96: more than 96 different captures "
                                 "and query parameters in one condition (no route "
                                 "has that many)"));

    /* 150 warnings: 100 shown, all counted */
    len = (apr_size_t)snprintf(src, cap, "%sroute GET /a\nallow GET /a\n", HDR);
    for (int i = 0; i < 150; i++) {
        len += (apr_size_t)snprintf(src + len, cap - len, "let l%d = \"x\" in token.s\n", i);
    }
    r = compile_n(src, len);
    ck_assert_int_eq(r.nerr, 0);
    ck_assert_int_eq(r.nwarn, 150);
    for (out = r.out; (out = strstr(out, ": warning: ")) != NULL; out++) {
        lines++;
    }
    ck_assert_int_eq(lines, 100);
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp: note: too many warnings; not showing more than 100\n"));
}
END_TEST

/* ZT_MAX_ROUTES routes need more than one file of ZPC_MAX_SOURCE bytes: the
 * one over the limit is the last line of the second include. */
static void write_routes(const char *path, apr_size_t from, apr_size_t to)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    for (apr_size_t i = from; i < to; i++) {
        fprintf(f, "route GET /r%zu\n", i);
    }
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(count_limits)
{
    apr_size_t n = ZT_MAX_RULES + 1, cap = n * 24 + 4096, len;
    char *src = apr_palloc(pool, cap);
    char dir[] = "/tmp/zpc_limits_XXXXXX";
    const char *half[2];
    res_t r;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    half[0] = apr_pstrcat(pool, dir, "/r0.ztp", NULL);
    half[1] = apr_pstrcat(pool, dir, "/r1.ztp", NULL);
    write_routes(half[0], 0, (ZT_MAX_ROUTES + 1) / 2);
    write_routes(half[1], (ZT_MAX_ROUTES + 1) / 2, ZT_MAX_ROUTES + 1);
    len = (apr_size_t)snprintf(src, cap, "%sinclude \"%s\"\ninclude \"%s\"\n"
                               "allow GET /r0\n", HDR, half[0], half[1]);
    r = compile_n(src, len);
    unlink(half[0]);
    unlink(half[1]);
    rmdir(dir);
    ck_assert_msg(r.nerr == 1, "%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, apr_psprintf(pool, "r1.ztp:%u:1: error: too many "
                                                     "routes (the limit is %u)",
                                                     (unsigned)(ZT_MAX_ROUTES + 1) / 2 + 1,
                                                     (unsigned)ZT_MAX_ROUTES)));

    len = (apr_size_t)snprintf(src, cap, "%sroute GET /a\n", HDR);
    for (apr_size_t i = 0; i < n; i++) {
        memcpy(src + len, "allow GET /a\n", 13);
        len += 13;
    }
    r = compile_n(src, len);
    ck_assert_msg(r.nerr == 1, "%s", r.out);
    ck_assert_msg(strstr(r.out, apr_psprintf(pool, "t.ztp:%u:1: error: too many "
                                             "rules (the limit is %u)",
                                             (unsigned)ZT_MAX_RULES + 8,
                                             (unsigned)ZT_MAX_RULES)) != NULL, "%s", r.out);

    len = (apr_size_t)snprintf(src, cap, "policy \"p\"\n");
    for (int i = 0; i < 65; i++) {
        len += (apr_size_t)snprintf(src + len, cap - len, "issuer i%d \"i%d\" { "
                                    "audience \"a\" algorithms ES256 jwks file \"k\" }\n", i, i);
    }
    len += (apr_size_t)snprintf(src + len, cap - len, "route GET /a\nallow GET /a\n");
    r = compile_n(src, len);
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "t.ztp:66:8: error: too many issuers (the limit is 64)"));
}
END_TEST

START_TEST(input_size)
{
    apr_size_t n = (4u << 20) + 1;
    char *src = apr_palloc(pool, n), path[] = "/tmp/test_zpc_XXXXXX";
    int fd, nerr = 0;
    FILE *f;
    res_t r;

    memset(src, ' ', n);
    r = compile_n(src, n);
    ck_assert_int_eq(r.nerr, 1);
    ck_assert_str_eq(r.out, "t.ztp: error: file too large (4194305 bytes; the limit is 4194304)\n");
    /* exactly 4 MiB is read (and then found to be only blanks) */
    r = compile_n(src, n - 1);
    ck_assert_int_eq(r.nerr, 2);

    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    fwrite(src, 1, n, f);
    fclose(f);
    ck_assert_ptr_null(zpc_compile_file(path, NULL, pool, &nerr, NULL));
    ck_assert_int_eq(nerr, 1);
    unlink(path);
}
END_TEST

START_TEST(file_errors)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    int nerr = 0, nwarn = 7;

    ck_assert_ptr_null(zpc_compile_file("/nonexistent/p.ztp", f, pool, &nerr, &nwarn));
    ck_assert_ptr_null(zpc_compile_file("/tmp", f, pool, &nerr, &nwarn));
    fclose(f);
    ck_assert_int_eq(nerr, 1);
    ck_assert_int_eq(nwarn, 0);
    ck_assert_str_eq(buf, "/nonexistent/p.ztp: error: cannot read: No such file or directory\n"
                          "/tmp: error: cannot read: it is a directory\n");
    free(buf);
}
END_TEST

/* Mutations of the example: whatever the bytes, the front end either
 * reports an error or produces IR that keeps every invariant. */
START_TEST(mutations)
{
    FILE *f = fopen(ZT_SRCDIR "/examples/orders/orders.ztp", "rb");
    char src[8192], *m = apr_palloc(pool, sizeof(src));
    size_t len;
    uint32_t seed = 12345;
    int good = 0;

    ck_assert_ptr_nonnull(f);
    len = fread(src, 1, sizeof(src), f);
    fclose(f);
    for (int k = 0; k < 3000; k++) {
        size_t mlen = len;
        res_t r;

        memcpy(m, src, len);
        for (int e = 0; e < 1 + k % 4; e++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % mlen;
            seed = seed * 1103515245u + 12345u;
            switch ((seed >> 16) % 3) {
            case 0: m[at] = (char)(seed >> 24); break;                    /* flip */
            case 1: mlen = at > 0 ? at : 1; break;                        /* cut */
            default: memmove(m + at, m + at + 1, mlen - at - 1); mlen--;  /* drop */
            }
        }
        r = compile_n(m, mlen);
        ck_assert(r.nerr >= 0);
        if (r.ir != NULL) {
            ck_assert_int_eq(r.nerr, 0);
            check_invariants(r.ir);
            good++;
        }
    }
    ck_assert_int_gt(good, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* target matching: the route tree against the pair-by-pair reference  */

static uint32_t match_rand(uint32_t *seed, uint32_t n)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) % n;
}

/* A random path of up to 4 segments over a small alphabet, so that routes
 * and targets share prefixes: literals a b c, {x} {y}, *, and a final **.
 * Returns NULL now and then: a path in error. */
static apr_array_header_t *match_segs(uint32_t *seed)
{
    static const char *const lits[] = { "a", "b", "c" };
    apr_array_header_t *segs = apr_array_make(pool, 4, sizeof(zpc_ast_seg_t));
    uint32_t n = match_rand(seed, 5);

    if (match_rand(seed, 40) == 0) {
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        zpc_ast_seg_t *sg = &APR_ARRAY_PUSH(segs, zpc_ast_seg_t);
        uint32_t k = match_rand(seed, 10);

        memset(sg, 0, sizeof(*sg));
        sg->kind = k < 5 ? ZPC_SEG_LIT : k < 7 ? ZPC_SEG_CAP
                   : k < 9 || i + 1 < n ? ZPC_SEG_STAR : ZPC_SEG_GLOB;
        sg->text = sg->kind == ZPC_SEG_LIT ? lits[k % 3]
                   : sg->kind == ZPC_SEG_CAP ? (k == 5 ? "x" : "y")
                   : sg->kind == ZPC_SEG_STAR ? "*" : "**";
    }
    return segs;
}

START_TEST(match_tree_vs_reference)
{
    static const uint32_t methods[] = { ZT_M_GET, ZT_M_POST, ZT_M_DELETE, 0 };
    uint32_t seed = 4242;
    uint64_t checked = 0, covered = 0;

    for (int round = 0; round < 150; round++) {
        apr_array_header_t *routes = apr_array_make(pool, 64, sizeof(zpc_ast_route_t *));
        apr_array_header_t *out = apr_array_make(pool, 64, sizeof(uint32_t));
        uint32_t nroutes = 1 + match_rand(&seed, 60);
        zpc_route_tree_t *tree;
        char *seen = apr_pcalloc(pool, nroutes);

        for (uint32_t i = 0; i < nroutes; i++) {
            zpc_ast_route_t *r = apr_pcalloc(pool, sizeof(*r));
            r->segs = match_segs(&seed);
            r->methods = methods[match_rand(&seed, 4)];
            APR_ARRAY_PUSH(routes, zpc_ast_route_t *) = r;
        }
        tree = zpc_route_tree(pool, routes);
        for (int k = 0; k < 40; k++) {
            zpc_ast_target_t t;
            uint64_t work = 0;

            memset(&t, 0, sizeof(t));
            while ((t.segs = match_segs(&seed)) == NULL) {
            }
            t.methods = k % 5 == 0 ? ZT_M_ALL : methods[match_rand(&seed, 3)];
            apr_array_clear(out);
            ck_assert_int_eq(zpc_route_tree_match(tree, &t, t.methods, out, &work,
                                                  UINT64_MAX), 1);
            ck_assert_uint_gt(work, 0);
            memset(seen, 0, nroutes);
            for (int j = 0; j < out->nelts; j++) {
                uint32_t idx = APR_ARRAY_IDX(out, j, uint32_t);
                ck_assert_uint_lt(idx, nroutes);
                ck_assert_msg(!seen[idx], "route %u taken twice", idx);
                seen[idx] = 1;
            }
            for (uint32_t i = 0; i < nroutes; i++) {
                const zpc_ast_route_t *r = APR_ARRAY_IDX(routes, i, zpc_ast_route_t *);
                int want = r->segs != NULL && r->methods != 0
                           && zpc_target_covers(&t, r, ZPC_MATCH_METHOD);
                ck_assert_msg(seen[i] == want, "round %d target %d route %u: "
                              "tree %d, reference %d", round, k, i, seen[i], want);
                covered += (uint64_t)want;
                checked++;
            }
            /* any method: the reference without its method test */
            apr_array_clear(out);
            ck_assert_int_eq(zpc_route_tree_match(tree, &t, 0, out, &work,
                                                  UINT64_MAX), 1);
            memset(seen, 0, nroutes);
            for (int j = 0; j < out->nelts; j++) {
                seen[APR_ARRAY_IDX(out, j, uint32_t)] = 1;
            }
            for (uint32_t i = 0; i < nroutes; i++) {
                const zpc_ast_route_t *r = APR_ARRAY_IDX(routes, i, zpc_ast_route_t *);
                ck_assert_int_eq(seen[i], r->segs != NULL && r->methods != 0
                                          && zpc_target_covers(&t, r, 0));
            }
        }
    }
    /* both answers occur often enough to mean something */
    ck_assert_uint_gt(covered, checked / 50);
    ck_assert_uint_lt(covered, checked / 2);
}
END_TEST

/* The walk stops at its budget, and the checker reports it once. */
START_TEST(match_work_limit)
{
    apr_array_header_t *routes = apr_array_make(pool, 4, sizeof(zpc_ast_route_t *));
    apr_array_header_t *out = apr_array_make(pool, 4, sizeof(uint32_t));
    zpc_ast_target_t t;
    uint64_t work = 0;
    uint32_t seed = 7;

    for (int i = 0; i < 200; i++) {
        zpc_ast_route_t *r = apr_pcalloc(pool, sizeof(*r));
        while ((r->segs = match_segs(&seed)) == NULL) {
        }
        r->methods = ZT_M_GET;
        APR_ARRAY_PUSH(routes, zpc_ast_route_t *) = r;
    }
    memset(&t, 0, sizeof(t));
    t.segs = apr_array_make(pool, 1, sizeof(zpc_ast_seg_t));
    APR_ARRAY_PUSH(t.segs, zpc_ast_seg_t).kind = ZPC_SEG_GLOB;
    t.methods = ZT_M_ALL;
    ck_assert_int_eq(zpc_route_tree_match(zpc_route_tree(pool, routes), &t, 0, out,
                                          &work, 100), 0);
    ck_assert_uint_eq(work, 101);
    ck_assert_int_le(out->nelts, 100);
    ck_assert_int_eq(zpc_route_tree_match(zpc_route_tree(pool, routes), &t, 0, out,
                                          &work, 100), 0);
    ck_assert_uint_eq(work, 102);
}
END_TEST

static Suite *zpc_suite(void)
{
    Suite *s = suite_create("zpc");
    TCase *tc;

    tc = tcase_create("lower");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, orders_example);
    tcase_add_test(tc, lower_rule_kinds);
    tcase_add_test(tc, lower_coverage);
    tcase_add_test(tc, lower_unless_growth);
    tcase_add_test(tc, lower_public_conditions);
    tcase_add_test(tc, lower_lets_and_operands);
    tcase_add_test(tc, lower_issuers);
    tcase_add_test(tc, lower_issuer_options);
    tcase_add_test(tc, binding_words);
    tcase_add_test(tc, lower_contracts);
    tcase_add_test(tc, lower_request_operands);
    tcase_add_test(tc, lower_stepup_limit);
    tcase_add_test(tc, lower_tests);
    tcase_add_test(tc, lower_include);
    suite_add_tcase(s, tc);

    tc = tcase_create("scan");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, scan_strings);
    tcase_add_test(tc, scan_numbers);
    tcase_add_test(tc, scan_keywords_as_claims);
    tcase_add_test(tc, scan_contextual_keywords);
    tcase_add_test(tc, scan_issuer_words);
    tcase_add_test(tc, scan_crlf_tabs_comments);
    tcase_add_test(tc, scan_bad_bytes);
    tcase_add_test(tc, scan_string_errors);
    tcase_add_test(tc, scan_length_limits);
    suite_add_tcase(s, tc);

    tc = tcase_create("diag");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, diag_format);
    tcase_add_test(tc, diag_long_line);
    suite_add_tcase(s, tc);

    tc = tcase_create("check");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, check_table, 0, (int)(sizeof(checks) / sizeof(checks[0])));
    tcase_add_test(tc, several_errors);
    tcase_add_test(tc, recovery);
    tcase_add_test(tc, error_limit);
    tcase_add_test(tc, match_tree_vs_reference);
    tcase_add_test(tc, match_work_limit);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    zt_test_timeout(tc, 120);
    tcase_add_test(tc, deep_nesting);
    tcase_add_test(tc, long_chains);
    tcase_add_test(tc, count_limits);
    tcase_add_test(tc, wide_inputs);
    tcase_add_test(tc, input_size);
    tcase_add_test(tc, file_errors);
    tcase_add_test(tc, mutations);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return zt_test_main(zpc_suite());
}
