/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The table: zpc_emit -> bytes -> zt_table_load, and everything the loader
 * must refuse.  Bad tables are made from a good one (the example policy,
 * built by hand in zt_ir_build.h) by changing one field and, unless the
 * case is about the checksum, recomputing the SHA-256 trailer so that the
 * structural check itself is what refuses it.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "zt_test.h"
#include "zt_ir_build.h"
#include "zpc_back.h"
#include "zt_dfa.h"
#include "zt_eval.h"
#include "zt_jdoc.h"
#include "zt_policy.h"

ZT_TEST_POOL_FIXTURE

/* ------------------------------------------------------------------ */
/* Blob helpers                                                        */
/* ------------------------------------------------------------------ */

typedef struct {
    unsigned char *buf;     /* 8-aligned (APR allocations are) */
    size_t len;
} blob_t;

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
           | (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static blob_t emit(const zpc_ir_t *ir)
{
    blob_t b;
    void *buf;
    apr_size_t len;
    const char *err = NULL;

    ck_assert_msg(zpc_emit(ir, pool, &buf, &len, &err) == APR_SUCCESS,
                  "emit: %s", err);
    b.buf = apr_pmemdup(pool, buf, len);
    b.len = len;
    return b;
}

static blob_t orders_blob(void)
{
    return emit(zb_orders(pool));
}

/* The example policy plus every part of format v2 (zb_full). */
static blob_t full_blob(void)
{
    return emit(zb_full(pool));
}

static blob_t copy(blob_t b)
{
    blob_t c = { apr_pmemdup(pool, b.buf, b.len), b.len };
    return c;
}

static void rehash(blob_t *b)
{
    unsigned int n = 0;

    ck_assert_uint_ge(b->len, ZT_HASH_LEN);
    ck_assert(EVP_Digest(b->buf, b->len - ZT_HASH_LEN, b->buf + b->len - ZT_HASH_LEN,
                         &n, EVP_sha256(), NULL) == 1);
}

static uint32_t hdr_len(const blob_t *b)
{
    return get32(b->buf + 8);
}

/* The section table entry of @a tag. */
static unsigned char *sect_entry(blob_t *b, uint32_t tag)
{
    uint32_t n = get32(b->buf + 16);

    for (uint32_t i = 0; i < n; i++) {
        unsigned char *e = b->buf + sizeof(zt_hdr_t) + i * sizeof(zt_sect_t);
        if (get32(e) == tag) {
            return e;
        }
    }
    ck_abort_msg("no section %08x", tag);
    return NULL;
}

static unsigned char *sect(blob_t *b, uint32_t tag, uint32_t *len)
{
    unsigned char *e = sect_entry(b, tag);

    if (len != NULL) {
        *len = get32(e + 8);
    }
    return b->buf + hdr_len(b) + get32(e + 4);
}

static unsigned char *rec(blob_t *b, uint32_t tag, uint32_t i, size_t size)
{
    uint32_t len;
    unsigned char *s = sect(b, tag, &len);

    ck_assert_uint_lt((i + 1) * size, len + 1);
    return s + i * size;
}

#define REC(b, tag, type, i) rec((b), (tag), (i), sizeof(type))
#define FIELD(p, type, f) ((p) + offsetof(type, f))

/* A section to pack: tag and contents. */
typedef struct {
    uint32_t tag;
    const unsigned char *data;
    uint32_t len;
} tsect_t;

/* Lay out @a n sections into a fresh, correctly hashed table, with
 * @a extra_hdr zero bytes more header than needed. */
static blob_t pack(const tsect_t *s, int n, uint32_t extra_hdr)
{
    uint32_t hl = ((uint32_t)(sizeof(zt_hdr_t) + n * sizeof(zt_sect_t)) + 7) & ~7u;
    uint32_t pos = 0, off[ZT_MAX_SECTIONS + 8];
    blob_t b;

    hl += extra_hdr;
    for (int i = 0; i < n; i++) {
        off[i] = pos;
        pos += (s[i].len + 7) & ~7u;
    }
    b.len = hl + pos + ZT_HASH_LEN;
    b.buf = apr_pcalloc(pool, b.len);
    memcpy(b.buf, ZT_MAGIC, 4);
    b.buf[4] = ZT_FORMAT_VERSION;
    put32(b.buf + 8, hl);
    put32(b.buf + 12, (uint32_t)b.len);
    put32(b.buf + 16, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        unsigned char *e = b.buf + sizeof(zt_hdr_t) + i * sizeof(zt_sect_t);
        put32(e, s[i].tag);
        put32(e + 4, off[i]);
        put32(e + 8, s[i].len);
        if (s[i].len > 0) {
            memcpy(b.buf + hl + off[i], s[i].data, s[i].len);
        }
    }
    rehash(&b);
    return b;
}

/* The sections of @a b, to change and pack again. */
static int unpack(blob_t *b, tsect_t *s)
{
    int n = (int)get32(b->buf + 16);

    for (int i = 0; i < n; i++) {
        unsigned char *e = b->buf + sizeof(zt_hdr_t) + i * sizeof(zt_sect_t);
        s[i].tag = get32(e);
        s[i].data = b->buf + hdr_len(b) + get32(e + 4);
        s[i].len = get32(e + 8);
    }
    return n;
}

/* @a b repacked with section @a tag replaced (data NULL: dropped) and,
 * when @a add_tag is not 0, one more section appended. */
static blob_t repack(blob_t *b, uint32_t tag, const void *data, uint32_t len,
                     uint32_t add_tag, const void *add, uint32_t add_len)
{
    tsect_t s[ZT_MAX_SECTIONS + 2];
    int n = unpack(b, s), m = 0;

    for (int i = 0; i < n; i++) {
        if (s[i].tag == tag) {
            if (data == NULL) {
                continue;
            }
            s[i].data = data;
            s[i].len = len;
        }
        s[m++] = s[i];
    }
    if (add_tag != 0) {
        s[m].tag = add_tag;
        s[m].data = add;
        s[m].len = add_len;
        m++;
    }
    return pack(s, m, 0);
}

static zt_table_t *load(blob_t b, const char **err)
{
    zt_table_t *t = NULL;

    *err = NULL;
    if (zt_table_load(&t, b.buf, b.len, "t.ztb", pool, err) != APR_SUCCESS) {
        ck_assert_ptr_null(t);
        ck_assert_ptr_nonnull(*err);
        return NULL;
    }
    ck_assert_ptr_nonnull(t);
    return t;
}

static zt_table_t *load_ok(blob_t b)
{
    const char *err;
    zt_table_t *t = load(b, &err);

    ck_assert_msg(t != NULL, "load: %s", err);
    return t;
}

/* ------------------------------------------------------------------ */
/* Decisions, to compare a table with the original                     */
/* ------------------------------------------------------------------ */

/* The request context of a fingerprint: none, or everything known. */
static const char *fp_header(void *ctx, const char *lname)
{
    (void)ctx;
    return strcmp(lname, "x-tenant") == 0 ? "t1" : NULL;
}

static void fp_request(zt_request_t *rq, int rich)
{
    static const char *const san[] = { "spiffe://corp/svc-a", "spiffe://corp/svc-b" };
    static const zt_qparam_t query[] = { { { "q", 1 }, { "abc", 3 } } };

    memset(rq, 0, sizeof(*rq));
    if (!rich) {
        return;
    }
    rq->query = query;
    rq->nquery = 1;
    rq->header = fp_header;
    rq->ip_family = 4;
    rq->ip[0] = 10;
    rq->ip[3] = 7;
    rq->cert = 1;
    rq->cert_subject = "CN=svc";
    rq->cert_san = san;
    rq->ncert_san = 2;
    rq->tls_version = "TLSv1.3";
    rq->now = 1795600800;       /* Wed 2026-11-25 10:00 UTC */
}

/* The decision for a matched request that carries only @a claims. */
static void decide(const zt_table_t *t, const zt_match_t *m,
                   const zt_claims_t *claims, zt_decision_t *d)
{
    zt_request_t rq;

    fp_request(&rq, 0);
    rq.match = m;
    rq.claims = claims;
    zt_eval_decide(t, &rq, d);
}

static const char *const fp_requests[][2] = {
    { "GET", "/health" }, { "HEAD", "/health" }, { "GET", "/orders" },
    { "GET", "/orders/42" }, { "POST", "/orders" }, { "DELETE", "/orders/7" },
    { "GET", "/users/u1/orders" }, { "GET", "/users/u2/orders" },
    { "PUT", "/orders" }, { "GET", "/nope" }, { "GET", "/" },
    { "GET", "/files" }, { "GET", "/files/a/b" }, { "GET", "/items/x/meta" },
    { "GET", "/items/x/y" }, { "GET", "/search" },
    { "PUT", "/docs/0b4a7c3e-9f1d-4c2a-8e5b-6d7f8a9b0c1d" },
    { "POST", "/docs/d/xml/3" }, { "GET", "/cert/a" },
};
static const char *const fp_claims[] = {
    NULL,
    "{}",
    "{\"sub\":\"u1\",\"scope\":\"orders:read orders:write\"}",
    "{\"sub\":\"u1\",\"scope\":\"orders:read\",\"azp\":\"legacy-batch\"}",
    "{\"sub\":\"u3\",\"realm_access\":{\"roles\":[\"admin\"]},\"azp\":\"cli\"}",
    "{\"sub\":\"u3\",\"realm_access\":{\"roles\":[\"admin\"]},\"azp\":\"web-spa\"}",
    "{\"sub\":\"u4\",\"realm_access\":{\"roles\":[\"admin\"]},\"acr\":\"gold\","
    "\"auth_time\":1795600700,\"level\":2}",
};
#define FP_NREQ (sizeof(fp_requests) / sizeof(fp_requests[0]))
#define FP_NCLAIMS (sizeof(fp_claims) / sizeof(fp_claims[0]))
#define FP_N (FP_NREQ * FP_NCLAIMS * 2)

typedef struct {
    int status;
    uint32_t route;
    int verdict;
    uint32_t rule;
    uint32_t stepup;
} fp_t;

/* Every request x claims decision, and the invariants any verified table
 * must keep whatever its contents. */
static void fingerprint(const zt_table_t *t, fp_t *fp)
{
    size_t k = 0;
    apr_pool_t *cp;

    apr_pool_create(&cp, pool);
    for (size_t c = 0; c < FP_NCLAIMS * 2; c++) {
        const char *jerr;
        const char *text = fp_claims[c % FP_NCLAIMS];
        const zt_claims_t *claims = text
            ? zt_jdoc_parse(text, strlen(text), 4096, cp, &jerr) : NULL;

        for (size_t r = 0; r < FP_NREQ; r++) {
            zt_match_t m;
            zt_decision_t d;
            zt_request_t rq;
            int st = zt_route_match(t, fp_requests[r][0], fp_requests[r][1], &m);

            fp_request(&rq, c >= FP_NCLAIMS);
            rq.match = &m;
            rq.claims = claims;
            zt_eval_decide(t, &rq, &d);
            memset(&fp[k], 0, sizeof(fp[k]));     /* padding too: memcmp'ed */
            fp[k].status = st;
            fp[k].route = m.route;
            fp[k].verdict = d.verdict;
            fp[k].rule = d.rule;
            fp[k].stepup = d.stepup;
            if (m.route != ZT_NONE) {
                const zt_route_rec_t *rt = &t->routes[m.route];
                ck_assert_uint_lt(m.route, t->nroutes);
                ck_assert_int_eq(st, ZT_ROUTE_OK);
                if (rt->seg_count > 0
                    && t->segs[rt->seg_first + rt->seg_count - 1].kind == ZT_SEG_GLOBSTAR) {
                    ck_assert_uint_ge(m.nseg + 1, rt->seg_count);
                }
                else {
                    ck_assert_uint_eq(rt->seg_count, m.nseg);
                }
                if (d.rule != ZT_NONE) {
                    int in_run = 0;
                    for (uint32_t i = 0; i < rt->rref_count; i++) {
                        in_run |= t->rrefs[rt->rref_first + i] == d.rule;
                    }
                    ck_assert(in_run);
                }
            }
            else {
                ck_assert_uint_eq(d.rule, ZT_NONE);
                ck_assert_int_eq(d.verdict, ZT_DENY);
            }
            switch (d.verdict) {
            case ZT_ALLOW:
                ck_assert_uint_lt(d.rule, t->nrules);
                ck_assert_uint_eq(t->rules[d.rule].effect, ZT_EFFECT_ALLOW);
                ck_assert(claims != NULL || (t->rules[d.rule].flags & ZT_RULE_PUBLIC));
                break;
            case ZT_DENY:
                if (d.rule != ZT_NONE) {
                    ck_assert_uint_lt(d.rule, t->nrules);
                    ck_assert_uint_eq(t->rules[d.rule].effect, ZT_EFFECT_DENY);
                }
                break;
            case ZT_NEED_TOKEN:
                /* no allow; or a deny that a token might not have met; or
                 * an allow on a route whose step-up needs a token */
                ck_assert_ptr_null(claims);
                if (d.rule != ZT_NONE) {
                    ck_assert_uint_lt(d.rule, t->nrules);
                    ck_assert(t->rules[d.rule].effect == ZT_EFFECT_DENY
                              || (d.stepup != ZT_NONE
                                  && d.stepup == t->routes[m.route].stepup));
                }
                break;
            case ZT_STEPUP:
                ck_assert_uint_lt(d.rule, t->nrules);
                ck_assert_uint_eq(t->rules[d.rule].effect, ZT_EFFECT_ALLOW);
                ck_assert_uint_lt(d.stepup, t->nstepups);
                break;
            default:
                ck_abort_msg("verdict %d", d.verdict);
            }
            k++;
        }
    }
    apr_pool_destroy(cp);
}

/* The dump must not crash on anything that loads; its text is pinned by
 * dump_golden. */
static void dump_quietly(const zt_table_t *t)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);

    ck_assert_ptr_nonnull(f);
    zpc_dump(f, t);
    fclose(f);
    ck_assert_uint_gt(n, 0);
    free(s);
}

/* ------------------------------------------------------------------ */
/* Emit and load                                                       */
/* ------------------------------------------------------------------ */

START_TEST(roundtrip)
{
    blob_t b = orders_blob();
    zt_table_t *t = load_ok(b);
    const zt_opnd_rec_t *o;

    ck_assert_uint_eq(t->size, b.len);
    ck_assert_uint_eq(t->nissuers, 1);
    ck_assert_uint_eq(t->nroutes, 6);
    ck_assert_uint_eq(t->nrules, 6);
    ck_assert_uint_eq(t->nnodes, 10);
    ck_assert_uint_eq(t->nopnds, 14);
    ck_assert_uint_eq(t->nlists, 1);
    ck_assert_uint_eq(t->nrrefs, 10);
    ck_assert_str_eq(zt_table_str(t, t->meta->name), "orders-api");
    ck_assert_str_eq(zt_table_str(t, t->meta->source), "examples/orders/orders.ztp");
    ck_assert_str_eq(zt_table_str(t, t->issuers[0].iss),
                     "https://idp.example.com/realms/corp");
    ck_assert_str_eq(zt_table_str(t, t->issuers[0].audience), "orders-api");
    ck_assert_str_eq(zt_table_str(t, t->issuers[0].jwks), "corp.jwks.json");
    ck_assert_uint_eq(t->issuers[0].algs, ZT_ALG_ES256 | ZT_ALG_RS256 | ZT_ALG_EDDSA);
    ck_assert_uint_eq(t->issuers[0].max_lifetime, 900);
    ck_assert_uint_eq(t->issuers[0].leeway, 30);
    ck_assert_uint_eq(t->routes[2].methods, ZT_M_GET);
    ck_assert_str_eq(zt_table_str(t, t->routes[2].pattern), "/orders/{id}");
    ck_assert_uint_eq(t->routes[2].seg_count, 2);
    ck_assert_uint_eq(t->segs[t->routes[2].seg_first + 1].kind, ZT_SEG_CAPTURE);
    ck_assert_str_eq(zt_table_str(t, t->segs[t->routes[2].seg_first + 1].str), "id");
    ck_assert_uint_eq(t->routes[0].seg_count, 1);
    ck_assert_uint_eq(t->routes[2].rref_count, 2);
    ck_assert_uint_eq(t->rrefs[t->routes[2].rref_first], 1);
    ck_assert_uint_eq(t->rrefs[t->routes[2].rref_first + 1], 5);
    ck_assert_uint_eq(t->rules[0].flags, ZT_RULE_PUBLIC);
    ck_assert_uint_eq(t->rules[0].cond, ZT_NONE);
    ck_assert_uint_eq(t->rules[5].effect, ZT_EFFECT_DENY);
    ck_assert_str_eq(zt_table_str(t, t->rules[5].text), "* /orders/**");
    ck_assert_uint_eq(t->nodes[9].op, ZT_OP_IN_LIST);
    ck_assert_uint_eq(t->nodes[9].c, 1);
    o = &t->opnds[5];
    ck_assert_uint_eq(o->kind, ZT_OPND_TOKEN);
    ck_assert_uint_eq(o->n, 2);
    ck_assert_str_eq(zt_table_str(t, o->str), "realm_access");
    ck_assert_str_eq(zt_table_str(t, o->str) + strlen("realm_access") + 1, "roles");
}
END_TEST

/* Every v2 section, read back field by field. */
START_TEST(roundtrip_v2)
{
    zt_table_t *t = load_ok(full_blob());
    const zt_route_rec_t *files = &t->routes[6], *items = &t->routes[7];
    const zt_route_rec_t *search = &t->routes[8], *put = &t->routes[9];
    const zt_route_rec_t *xml = &t->routes[10];
    const zt_seg_rec_t *sg;
    const zt_param_rec_t *pa;
    const zt_type_rec_t *ty;
    const zt_body_rec_t *bo;

    ck_assert_uint_eq(t->nroutes, 12);
    /* routes of the example policy: no v2 parts */
    ck_assert_str_eq(zt_table_str(t, t->routes[0].file), "examples/orders/orders.ztp");
    ck_assert_uint_eq(t->routes[0].body, ZT_NONE);
    ck_assert_uint_eq(t->routes[0].stepup, ZT_NONE);
    ck_assert_uint_eq(t->routes[0].param_count, 0);
    ck_assert_uint_eq(t->routes[0].lref_count, 0);
    ck_assert_uint_eq(t->segs[t->routes[0].seg_first].type, ZT_NONE);
    /* an untyped capture: a string of 0..4096 bytes */
    sg = &t->segs[t->routes[2].seg_first + 1];
    ck_assert_uint_eq(sg->kind, ZT_SEG_CAPTURE);
    ck_assert_uint_lt(sg->type, t->ntypes);
    ck_assert_uint_eq(t->types[sg->type].kind, ZT_TYPE_STRING);
    ck_assert_int_eq(t->types[sg->type].min, 0);
    ck_assert_int_eq(t->types[sg->type].max, 4096);
    ck_assert_uint_eq(t->types[sg->type].dfa, ZT_NONE);
    /* the same type for both {id} captures: interned */
    ck_assert_uint_eq(sg->type, t->segs[t->routes[4].seg_first + 1].type);

    /* * and ** */
    ck_assert_uint_eq(files->flags, ZT_ROUTE_QUERY_ANY);
    ck_assert_uint_eq(files->seg_count, 2);
    ck_assert_uint_eq(t->segs[files->seg_first + 1].kind, ZT_SEG_GLOBSTAR);
    ck_assert_uint_eq(t->segs[files->seg_first + 1].str, 0);
    ck_assert_uint_eq(t->segs[files->seg_first + 1].type, ZT_NONE);
    ck_assert_uint_eq(t->segs[items->seg_first + 1].kind, ZT_SEG_STAR);
    ck_assert_uint_eq(files->param_count, 1);
    ck_assert_uint_eq(t->types[t->params[files->param_first].type].kind, ZT_TYPE_ANY);

    /* parameters, in order, of every type */
    ck_assert_uint_eq(search->param_count, 7);
    pa = &t->params[search->param_first];
    ck_assert_uint_eq(pa[0].where, ZT_PARAM_QUERY);
    ck_assert_str_eq(zt_table_str(t, pa[0].name), "q");
    ck_assert_uint_eq(pa[0].flags, 0);
    ty = &t->types[pa[0].type];
    ck_assert_uint_eq(ty->kind, ZT_TYPE_STRING);
    ck_assert_str_eq(zt_table_str(t, ty->str), "[a-z]+");
    ck_assert_uint_eq(ty->dfa % 8, 0);
    ck_assert_uint_lt(ty->dfa, t->dfas_len);
    ck_assert(zt_dfa_match(t->dfas + ty->dfa, "abc", 3));
    ck_assert(!zt_dfa_match(t->dfas + ty->dfa, "aBc", 3));
    ck_assert_int_eq(ty->min, 1);
    ck_assert_int_eq(ty->max, 64);
    ty = &t->types[pa[1].type];
    ck_assert_uint_eq(ty->kind, ZT_TYPE_INT);
    ck_assert_int_eq(ty->max, 100);
    ck_assert_uint_eq(pa[1].flags, ZT_PARAM_OPTIONAL);
    ty = &t->types[pa[2].type];
    ck_assert_uint_eq(ty->kind, ZT_TYPE_ENUM);
    ck_assert_uint_eq(ty->count, 3);
    ck_assert_uint_eq(t->opnds[t->lists[ty->first + 2]].kind, ZT_OPND_STR);
    ck_assert_str_eq(zt_table_str(t, t->opnds[t->lists[ty->first + 2]].str), "blue");
    ck_assert_uint_eq(pa[2].flags, ZT_PARAM_OPTIONAL | ZT_PARAM_LIST);
    ck_assert_uint_eq(t->types[pa[3].type].kind, ZT_TYPE_BOOL);
    ck_assert_uint_eq(t->types[pa[4].type].kind, ZT_TYPE_NUMBER);
    ck_assert_uint_eq(pa[5].where, ZT_PARAM_HEADER);
    ck_assert_str_eq(zt_table_str(t, pa[5].name), "x-tenant");
    /* string 1..64 without a regex differs from q's type */
    ck_assert_uint_ne(pa[5].type, pa[0].type);
    ck_assert_uint_eq(t->types[pa[6].type].kind, ZT_TYPE_UUID);

    /* typed captures; bodies and their schemas */
    ck_assert_uint_eq(t->types[t->segs[put->seg_first + 1].type].kind, ZT_TYPE_UUID);
    ck_assert_uint_eq(t->segs[put->seg_first + 1].type, t->segs[xml->seg_first + 1].type);
    ck_assert_uint_eq(t->types[t->segs[xml->seg_first + 3].type].kind, ZT_TYPE_INT);
    ck_assert_uint_eq(t->nbodies, 2);
    bo = &t->bodies[put->body];
    ck_assert_uint_eq(bo->kind, ZT_BODY_JSON);
    ck_assert_uint_eq(bo->max, 65536);
    ck_assert_str_eq(zt_table_str(t, bo->schema_name), "doc.schema.json");
    ck_assert_uint_eq(bo->root, 0);
    ck_assert_uint_eq(bo->schema_off % 8, 0);
    ck_assert_uint_eq(bo->schema_len, strlen("{\"type\":\"object\",\"required\":[\"title\"]}\n"));
    ck_assert_mem_eq(t->blob + bo->schema_off, "{\"type\":\"object\"", 16);
    bo = &t->bodies[xml->body];
    ck_assert_uint_eq(bo->kind, ZT_BODY_XML);
    ck_assert_str_eq(zt_table_str(t, bo->root), "doc");
    ck_assert_uint_eq(bo->schema_off % 8, 0);
    ck_assert_mem_eq(t->blob + bo->schema_off, "<xs:schema", 10);
    ck_assert_uint_eq(t->blob_len % 8, 0);

    /* step-ups and limits */
    ck_assert_uint_eq(t->nstepups, 2);
    ck_assert_uint_eq(t->routes[4].stepup, 0);
    ck_assert_uint_eq(put->stepup, 1);
    ck_assert_uint_eq(t->stepups[0].acr_count, 2);
    ck_assert_str_eq(zt_table_str(t, t->opnds[t->lists[t->stepups[0].acr_first + 1]].str),
                     "platinum");
    ck_assert_uint_eq(t->stepups[0].max_age, 300);
    ck_assert_uint_eq(t->stepups[1].acr_count, 0);
    ck_assert_uint_eq(t->stepups[1].acr_first, 0);
    ck_assert_uint_eq(t->stepups[1].max_age, 600);
    ck_assert_uint_eq(t->stepups[1].line, 201);
    ck_assert_uint_eq(t->nlimits, 3);
    ck_assert_uint_eq(t->limits[1].count, 10);
    ck_assert_uint_eq(t->limits[1].period, 1);
    ck_assert_uint_eq(t->limits[1].key, ZT_LIMIT_IP);
    ck_assert_uint_eq(t->limits[2].period, 3600);
    ck_assert_uint_eq(put->lref_count, 2);
    ck_assert_uint_eq(t->lrefs[put->lref_first], 1);
    ck_assert_uint_eq(t->lrefs[put->lref_first + 1], 2);
    ck_assert_uint_eq(t->routes[2].lref_count, 2);

    /* address blocks */
    ck_assert_uint_eq(t->ncidrs, 5);
    ck_assert_uint_eq(t->cidrs[0].family, 4);
    ck_assert_uint_eq(t->cidrs[0].prefix, 8);
    ck_assert_uint_eq(t->cidrs[0].addr[0], 10);
    ck_assert_uint_eq(t->cidrs[1].family, 6);
    ck_assert_uint_eq(t->cidrs[1].prefix, 32);
    ck_assert_uint_eq(t->cidrs[1].addr[1], 0x01);
    ck_assert_uint_eq(t->cidrs[2].prefix, 32);
    ck_assert_uint_eq(t->cidrs[3].prefix, 128);
    ck_assert_uint_eq(t->cidrs[3].addr[15], 1);
}
END_TEST

/* The v2 parts of the full table decide as their records say. */
START_TEST(full_decisions)
{
    zt_table_t *t = load_ok(full_blob());
    fp_t fp[FP_N];
    /* [context][claims][request]: rich context, claims 6 (acr gold) */
#define FP(rich, c, r) (&fp[((rich) * FP_NCLAIMS + (c)) * FP_NREQ + (r)])

    fingerprint(t, fp);
    /* GET /files/a/b: public from 10.0.0.7, not from nowhere */
    ck_assert_int_eq(FP(1, 0, 12)->verdict, ZT_ALLOW);
    ck_assert_uint_eq(FP(1, 0, 12)->route, 6);
    ck_assert_int_eq(FP(0, 0, 12)->verdict, ZT_NEED_TOKEN);
    ck_assert_int_eq(FP(1, 0, 11)->verdict, ZT_ALLOW);      /* ** matches none */
    /* GET /items/x/meta: 10:00 on a Wednesday */
    ck_assert_int_eq(FP(1, 1, 13)->verdict, ZT_ALLOW);
    ck_assert_uint_eq(FP(1, 1, 13)->rule, 7);
    ck_assert_int_eq(FP(0, 1, 13)->verdict, ZT_DENY);
    ck_assert_int_eq(FP(0, 6, 13)->verdict, ZT_ALLOW);      /* level 2 */
    ck_assert_uint_eq(FP(0, 6, 13)->rule, 12);
    ck_assert_int_eq(FP(1, 1, 14)->status, ZT_ROUTE_NONE);
    /* GET /search: header and query */
    ck_assert_int_eq(FP(1, 1, 15)->verdict, ZT_ALLOW);
    ck_assert_int_eq(FP(0, 1, 15)->verdict, ZT_DENY);
    /* PUT /docs/{id}: certificate SAN, step-up max_age 600 met (100 s) */
    ck_assert_int_eq(FP(1, 6, 16)->verdict, ZT_ALLOW);
    ck_assert_int_eq(FP(1, 1, 16)->verdict, ZT_STEPUP);     /* no auth_time */
    ck_assert_uint_eq(FP(1, 1, 16)->stepup, 1);
    /* POST /docs/{id}/xml/{n}: TLS version */
    ck_assert_int_eq(FP(1, 1, 17)->verdict, ZT_ALLOW);
    ck_assert_int_eq(FP(0, 1, 17)->verdict, ZT_DENY);
    /* DELETE /orders/{id}: admin, step-up acr gold or platinum */
    ck_assert_int_eq(FP(0, 4, 5)->verdict, ZT_STEPUP);
    ck_assert_uint_eq(FP(0, 4, 5)->stepup, 0);
    ck_assert_int_eq(FP(0, 6, 5)->verdict, ZT_ALLOW);
    /* GET /cert/{name}: SAN listed, but not from loopback: denied */
    ck_assert_int_eq(FP(1, 1, 18)->verdict, ZT_DENY);
    ck_assert_uint_eq(FP(1, 1, 18)->rule, 14);
#undef FP
}
END_TEST

START_TEST(layout)
{
    blob_t b = orders_blob();
    uint32_t n = get32(b.buf + 16), hl = hdr_len(&b);

    ck_assert_mem_eq(b.buf, "ZTB\1", 4);
    ck_assert_uint_eq(b.buf[4], ZT_FORMAT_VERSION);     /* version, LE */
    ck_assert_uint_eq(b.buf[5], 0);
    ck_assert_uint_eq(get32(b.buf + 4) >> 16, 0);   /* flags */
    ck_assert_uint_eq(get32(b.buf + 12), b.len);
    ck_assert_uint_eq(n, 19);
    ck_assert_uint_eq(hl, 256);
    ck_assert_uint_eq(get32(b.buf + 20), 0);
    for (uint32_t i = 0; i < n; i++) {
        unsigned char *e = b.buf + 24 + 12 * i;
        ck_assert_uint_eq(get32(e + 4) % 8, 0);
        ck_assert_uint_le(get32(e + 4) + get32(e + 8), b.len - 32 - hl);
    }
}
END_TEST

START_TEST(strings_deduped)
{
    blob_t b = orders_blob();
    zt_table_t *t = load_ok(b);
    size_t nstr = 0;

    ck_assert_uint_eq((unsigned char)t->strs[0], 0);
    ck_assert_uint_eq((unsigned char)t->strs[t->strs_len - 1], 0);
    /* "admin", token.realm_access.roles and token.azp are used twice */
    ck_assert_uint_eq(t->opnds[4].str, t->opnds[10].str);
    ck_assert_uint_eq(t->opnds[5].str, t->opnds[11].str);
    ck_assert_uint_eq(t->opnds[6].str, t->opnds[12].str);
    /* the pool holds each string once */
    for (uint32_t i = 1; i < t->strs_len; i += (uint32_t)strlen(t->strs + i) + 1) {
        for (uint32_t j = 1; j < i; j += (uint32_t)strlen(t->strs + j) + 1) {
            ck_assert_msg(strcmp(t->strs + i, t->strs + j) != 0
                          || (j + strlen(t->strs + j) + 1 == i),   /* token parts */
                          "string '%s' twice", t->strs + i);
        }
        nstr++;
    }
    ck_assert_uint_gt(nstr, 10);
}
END_TEST

START_TEST(deterministic)
{
    blob_t a = orders_blob(), b = orders_blob();

    ck_assert_uint_eq(a.len, b.len);
    ck_assert_mem_eq(a.buf, b.buf, a.len);
}
END_TEST

START_TEST(empty_policy)
{
    zpc_ir_t *ir = zb_new(pool, "", NULL);
    zt_table_t *t = load_ok(emit(ir));
    zt_match_t m;
    zt_decision_t d;

    ck_assert_uint_eq(t->nroutes, 0);
    ck_assert_uint_eq(t->strs_len, 1);
    ck_assert_int_eq(zt_route_match(t, "GET", "/", &m), ZT_ROUTE_NONE);
    decide(t, &m, NULL, &d);
    ck_assert_int_eq(d.verdict, ZT_DENY);
    dump_quietly(t);
}
END_TEST

START_TEST(optional_section_skipped)
{
    blob_t b = orders_blob();
    static const unsigned char junk[13] = "future stuff";
    blob_t x = repack(&b, 0, NULL, 0, ZT_TAG('x', 't', 'r', 'a'), junk, sizeof(junk));
    fp_t a[FP_N], c[FP_N];

    ck_assert_uint_eq(get32(x.buf + 16), 20);
    fingerprint(load_ok(b), a);
    fingerprint(load_ok(x), c);
    ck_assert_mem_eq(a, c, sizeof(a));
}
END_TEST

START_TEST(larger_header)
{
    blob_t b = orders_blob();
    tsect_t s[ZT_MAX_SECTIONS];
    int n = unpack(&b, s);
    blob_t x = pack(s, n, 16);
    fp_t a[FP_N], c[FP_N];

    ck_assert_uint_eq(hdr_len(&x), 272);
    fingerprint(load_ok(b), a);
    fingerprint(load_ok(x), c);
    ck_assert_mem_eq(a, c, sizeof(a));
}
END_TEST

/* The route trie's refusal is a bad table like any other load error: the
 * table named once, first, then "bad table (...)". */
START_TEST(trie_refusal_named_once)
{
    zpc_ir_t *ir = zb_new(pool, "dup", "dup.ztp");
    zt_table_t *t = NULL;
    const char *err = NULL;
    blob_t b;

    zb_route(ir, ZT_M_GET, "/a/{x}");       /* line 11 */
    zb_route(ir, ZT_M_GET, "/a/{y}");       /* line 12: the same shape */
    b = emit(ir);
    ck_assert_int_eq(zt_table_load(&t, b.buf, b.len, "dup.ztb", pool, &err),
                     APR_EINVAL);
    ck_assert_ptr_null(t);
    ck_assert_str_eq(err, "dup.ztb: bad table (routes GET /a/{x} (dup.ztp:11) "
                     "and GET /a/{y} (dup.ztp:12) can match the same request "
                     "with equal rank)");
}
END_TEST

START_TEST(misaligned_buffer)
{
    blob_t b = orders_blob();
    unsigned char *raw = apr_palloc(pool, b.len + 8);
    blob_t x = { raw + 4, b.len };
    const char *err;

    memcpy(x.buf, b.buf, b.len);
    ck_assert_ptr_null(load(x, &err));
    ck_assert_ptr_nonnull(strstr(err, "8-aligned"));
    /* a length past the limit is refused before any byte is read */
    x.buf = b.buf;
    x.len = (size_t)ZT_MAX_FILE_LEN + 1;
    ck_assert_ptr_null(load(x, &err));
    ck_assert_str_eq(err, "t.ztb: bad table (file is 268435457 bytes, the limit is 268435456)");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Every truncation, every flip                                        */
/* ------------------------------------------------------------------ */

/* Run every automaton of a loaded table over a few values: a flip the
 * verifier let through must still not read outside the image (ASan). */
static void match_patterns(const zt_table_t *t)
{
    static const char *const values[] = { "", "abc", "aBc", "z\xc3\xa9", "\xff" };

    for (uint32_t i = 0; i < t->ntypes; i++) {
        for (size_t k = 0; t->types[i].dfa != ZT_NONE && k < 5; k++) {
            (void)zt_dfa_match(t->dfas + t->types[i].dfa, values[k],
                               strlen(values[k]));
        }
    }
}

START_TEST(truncated_everywhere)
{
    blob_t b = full_blob();
    fp_t want[FP_N], got[FP_N];

    fingerprint(load_ok(b), want);
    for (size_t n = 0; n < b.len; n++) {
        blob_t x = { apr_pmemdup(pool, b.buf, n ? n : 1), n };
        const char *err;
        ck_assert_msg(load(x, &err) == NULL, "prefix of %zu bytes loaded", n);
    }
    /* Cut, with file_len and the trailer fixed up: only the structure can
     * refuse it now.  Cutting just the zero padding after the last section
     * may load, and must then decide exactly as before. */
    for (size_t n = sizeof(zt_hdr_t) + ZT_HASH_LEN; n < b.len; n++) {
        blob_t x = { apr_palloc(pool, n), n };
        const char *err;
        zt_table_t *t;

        memcpy(x.buf, b.buf, n - ZT_HASH_LEN);
        put32(x.buf + 12, (uint32_t)n);
        rehash(&x);
        if ((t = load(x, &err)) != NULL) {
            fingerprint(t, got);
            ck_assert_mem_eq(want, got, sizeof(want));
            match_patterns(t);
        }
    }
}
END_TEST

static int in_tag(size_t i, uint32_t nsect)
{
    return i >= sizeof(zt_hdr_t) && i < sizeof(zt_hdr_t) + nsect * sizeof(zt_sect_t)
           && (i - sizeof(zt_hdr_t)) % sizeof(zt_sect_t) < 4;
}

START_TEST(flipped_everywhere)
{
    static const unsigned char masks[] = { 1, 2, 4, 8, 16, 32, 64, 128, 0xff };
    blob_t b = full_blob();
    blob_t x = copy(b);
    fp_t want[FP_N], got[FP_N];
    size_t loaded = 0, same = 0, total = 0;

    fingerprint(load_ok(b), want);
    for (size_t i = 0; i < b.len; i++) {
        for (size_t k = 0; k < sizeof(masks); k++) {
            const char *err;
            zt_table_t *t;

            total++;
            memcpy(x.buf, b.buf, b.len);
            x.buf[i] ^= masks[k];
            /* with the original trailer: the checksum refuses every flip */
            ck_assert_msg(load(x, &err) == NULL, "flip %zu^%02x loaded", i, masks[k]);

            /* with the trailer recomputed: the structural checks decide */
            if (i < b.len - ZT_HASH_LEN) {
                rehash(&x);
                t = load(x, &err);
                if (i < sizeof(zt_hdr_t) || in_tag(i, get32(b.buf + 16))) {
                    ck_assert_msg(t == NULL, "header flip %zu^%02x loaded", i, masks[k]);
                }
                if (t != NULL) {
                    loaded++;
                    fingerprint(t, got);
                    same += memcmp(want, got, sizeof(want)) == 0;
                    match_patterns(t);
                    dump_quietly(t);
                }
            }
        }
    }
    /* Most flips land in a field a check covers; the rest change a string
     * or a number that is data (a line, a literal), which is fine. */
    ck_assert_uint_lt(loaded, total / 2);
    fprintf(stderr, "# flips: %zu, loaded after rehash %zu (%zu deciding as before)\n",
            total, loaded, same);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Bad tables, one field at a time                                     */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *name;
    void (*mutate)(blob_t *b);
    const char *expect;     /* substring of the error */
    int keep_hash;          /* do not recompute the trailer */
} bad_case_t;

#define ROUTE(b, i) REC(b, ZT_TAG_ROUT, zt_route_rec_t, i)
#define RULE(b, i) REC(b, ZT_TAG_RULE, zt_rule_rec_t, i)
#define NODE(b, i) REC(b, ZT_TAG_NODE, zt_node_rec_t, i)
#define OPND(b, i) REC(b, ZT_TAG_OPND, zt_opnd_rec_t, i)
#define SEG(b, i) REC(b, ZT_TAG_SEGS, zt_seg_rec_t, i)
#define ISSR(b, i) REC(b, ZT_TAG_ISSR, zt_issuer_rec_t, i)

static uint32_t strs_len(blob_t *b)
{
    uint32_t len;
    sect(b, ZT_TAG_STRS, &len);
    return len;
}

static void m_magic(blob_t *b) { b->buf[0] = 'X'; }
static void m_version(blob_t *b) { b->buf[4] = ZT_FORMAT_VERSION + 1; }
static void m_version1(blob_t *b) { b->buf[4] = 1; }
static void m_version2(blob_t *b) { b->buf[4] = 2; }
static void m_flags(blob_t *b) { b->buf[6] = 1; }
static void m_reserved(blob_t *b) { put32(b->buf + 20, 1); }
static void m_file_len(blob_t *b) { put32(b->buf + 12, (uint32_t)b->len + 8); }
static void m_nsect0(blob_t *b) { put32(b->buf + 16, 0); }
static void m_nsect65(blob_t *b) { put32(b->buf + 16, 65); }
static void m_hdr_unaligned(blob_t *b) { put32(b->buf + 8, 148); }
static void m_hdr_small(blob_t *b) { put32(b->buf + 8, 136); }
static void m_hdr_huge(blob_t *b) { put32(b->buf + 8, (uint32_t)b->len); }
static void m_hash(blob_t *b) { b->buf[hdr_len(b)] ^= 1; }
static void m_short(blob_t *b) { b->len = 40; }

static void m_hdr_padding(blob_t *b)
{
    ck_assert_uint_eq(hdr_len(b), 256);     /* 19 sections end at 252 */
    b->buf[253] = 1;
}

static void m_sect_unaligned(blob_t *b)
{
    unsigned char *e = sect_entry(b, ZT_TAG_META);
    put32(e + 4, get32(e + 4) + 4);
}

static void m_sect_off_overflow(blob_t *b)
{
    unsigned char *e = sect_entry(b, ZT_TAG_NODE);
    put32(e + 4, 0xfffffff8u);
    put32(e + 8, 0x10);
}

static void m_sect_len_overflow(blob_t *b)
{
    unsigned char *e = sect_entry(b, ZT_TAG_NODE);
    put32(e + 8, 0xfffffff8u);
}

static void m_sect_past_end(blob_t *b)
{
    unsigned char *e = sect_entry(b, ZT_TAG_STRS);
    put32(e + 8, get32(e + 8) + 8);
}

static void m_sect_overlap(blob_t *b)
{
    put32(sect_entry(b, ZT_TAG_NODE) + 4, get32(sect_entry(b, ZT_TAG_ROUT) + 4));
}

static void m_sect_gap_dirty(blob_t *b)
{
    uint32_t len;
    unsigned char *s = sect(b, ZT_TAG_LIST, &len);
    ck_assert_uint_eq(len % 8, 4);          /* one 4-byte list entry */
    s[len] = 0x55;
}

static void m_tail_dirty(blob_t *b)
{
    static const unsigned char four[4] = "abc";
    *b = repack(b, 0, NULL, 0, ZT_TAG('x', 't', 'r', 'a'), four, 4);
    b->buf[b->len - ZT_HASH_LEN - 1] = 1;   /* padding after the last section */
}

static void m_sect_dup(blob_t *b) { put32(sect_entry(b, ZT_TAG_LIST), ZT_TAG_NODE); }

static void m_unknown_required(blob_t *b)
{
    static const unsigned char z[8];
    *b = repack(b, 0, NULL, 0, ZT_TAG('X', 'T', 'R', 'A'), z, 8);
}

static void m_missing_meta(blob_t *b)
{
    *b = repack(b, ZT_TAG_META, NULL, 0, 0, NULL, 0);
}

static void m_record_size(blob_t *b)
{
    uint32_t len;
    unsigned char *s = sect(b, ZT_TAG_NODE, &len);
    *b = repack(b, ZT_TAG_NODE, apr_pmemdup(pool, s, len - 1), len - 1, 0, NULL, 0);
}

static void m_meta_twice(blob_t *b)
{
    unsigned char two[16];
    memcpy(two, sect(b, ZT_TAG_META, NULL), 8);
    memcpy(two + 8, two, 8);
    *b = repack(b, ZT_TAG_META, apr_pmemdup(pool, two, 16), 16, 0, NULL, 0);
}

static void m_strs_no_end_nul(blob_t *b)
{
    uint32_t len;
    unsigned char *s = sect(b, ZT_TAG_STRS, &len);
    s[len - 1] = 'x';
}

static void m_strs_no_start_nul(blob_t *b) { sect(b, ZT_TAG_STRS, NULL)[0] = 'x'; }

static void m_strs_empty(blob_t *b)
{
    *b = repack(b, ZT_TAG_STRS, "", 0, 0, NULL, 0);
}

static void m_str_past_end(blob_t *b)
{
    put32(FIELD(ROUTE(b, 0), zt_route_rec_t, pattern), strs_len(b));
}

static void m_str_mid(blob_t *b)
{
    unsigned char *f = FIELD(ROUTE(b, 0), zt_route_rec_t, pattern);
    put32(f, get32(f) + 1);
}

static void m_str_huge(blob_t *b)
{
    put32(FIELD(RULE(b, 2), zt_rule_rec_t, file), 0xffffffffu);
}

static void m_opnd_kind(blob_t *b) { put32(FIELD(OPND(b, 0), zt_opnd_rec_t, kind), ZT_OPND__COUNT); }
static void m_opnd_reserved(blob_t *b) { put32(FIELD(OPND(b, 0), zt_opnd_rec_t, reserved), 1); }
static void m_token_n0(blob_t *b) { put32(FIELD(OPND(b, 1), zt_opnd_rec_t, n), 0); }
static void m_token_n9(blob_t *b) { put32(FIELD(OPND(b, 1), zt_opnd_rec_t, n), 9); }
static void m_token_empty_part(blob_t *b) { put32(FIELD(OPND(b, 1), zt_opnd_rec_t, str), 0); }
static void m_token_num(blob_t *b) { OPND(b, 1)[offsetof(zt_opnd_rec_t, num)] = 1; }

static void m_token_past_pool(blob_t *b)
{
    uint32_t len;
    unsigned char *s = sect(b, ZT_TAG_STRS, &len);
    uint32_t last = len - 1;
    while (s[last - 1] != 0) {
        last--;
    }
    /* the pool's last string, as the first of two parts */
    put32(FIELD(OPND(b, 1), zt_opnd_rec_t, str), last);
    put32(FIELD(OPND(b, 1), zt_opnd_rec_t, n), 2);
}

static void m_str_with_num(blob_t *b) { OPND(b, 0)[offsetof(zt_opnd_rec_t, num)] = 3; }

static void m_path_empty(blob_t *b)
{
    /* opnd 9 is path.uid */
    ck_assert_uint_eq(get32(FIELD(OPND(b, 9), zt_opnd_rec_t, kind)), ZT_OPND_PATH);
    put32(FIELD(OPND(b, 9), zt_opnd_rec_t, str), 0);
}

static void m_bool_two(blob_t *b)
{
    unsigned char *o = OPND(b, 0);
    put32(FIELD(o, zt_opnd_rec_t, kind), ZT_OPND_BOOL);
    put32(FIELD(o, zt_opnd_rec_t, str), 0);
    o[offsetof(zt_opnd_rec_t, num)] = 2;
}

static void m_int_with_str(blob_t *b)
{
    put32(FIELD(OPND(b, 0), zt_opnd_rec_t, kind), ZT_OPND_INT);
}

static void m_list_entry(blob_t *b) { put32(sect(b, ZT_TAG_LIST, NULL), 14); }

static void m_node_op(blob_t *b) { put32(FIELD(NODE(b, 0), zt_node_rec_t, op), ZT_OP__COUNT); }
static void m_node_unused(blob_t *b) { put32(FIELD(NODE(b, 0), zt_node_rec_t, c), 7); }
static void m_node_not_unused(blob_t *b) { put32(FIELD(NODE(b, 4), zt_node_rec_t, b), 5); }
static void m_node_child_big(blob_t *b) { put32(FIELD(NODE(b, 2), zt_node_rec_t, a), 4096); }
static void m_node_backward(blob_t *b) { put32(FIELD(NODE(b, 2), zt_node_rec_t, b), 1); }
static void m_node_self(blob_t *b) { put32(FIELD(NODE(b, 4), zt_node_rec_t, a), 4); }
static void m_node_opnd_big(blob_t *b) { put32(FIELD(NODE(b, 0), zt_node_rec_t, a), 99); }
static void m_in_claim_not_token(blob_t *b) { put32(FIELD(NODE(b, 0), zt_node_rec_t, b), 0); }
static void m_in_list_range(blob_t *b) { put32(FIELD(NODE(b, 9), zt_node_rec_t, c), 2); }
static void m_in_list_start(blob_t *b)
{
    put32(FIELD(NODE(b, 9), zt_node_rec_t, b), 0xffffffffu);
}

static void put_nodes(blob_t *b, const uint32_t *f, uint32_t n)
{
    unsigned char *buf = apr_palloc(pool, n * 16);
    for (uint32_t i = 0; i < n * 4; i++) {
        put32(buf + 4 * i, f[i]);
    }
    *b = repack(b, ZT_TAG_NODE, buf, n * 16, 0, NULL, 0);
}

/* NOT chain of @a nots nodes over a TRUE leaf: depth nots + 1. */
static void not_chain(blob_t *b, uint32_t nots)
{
    uint32_t *f = apr_pcalloc(pool, (nots + 1) * 16);
    for (uint32_t i = 0; i < nots; i++) {
        f[4 * i] = ZT_OP_NOT;
        f[4 * i + 1] = i + 1;
    }
    put_nodes(b, f, nots + 1);
}

/* OR(i+1, i+1) doubling, @a levels deep over a TRUE leaf. */
static void or_doubling(blob_t *b, uint32_t levels)
{
    uint32_t *f = apr_pcalloc(pool, (levels + 1) * 16);
    for (uint32_t i = 0; i < levels; i++) {
        f[4 * i] = ZT_OP_OR;
        f[4 * i + 1] = f[4 * i + 2] = i + 1;
    }
    put_nodes(b, f, levels + 1);
}

static void m_depth(blob_t *b) { not_chain(b, ZT_MAX_COND_DEPTH); }
static void m_tree_size(blob_t *b) { or_doubling(b, 12); }

static void m_rule_effect(blob_t *b) { put32(FIELD(RULE(b, 0), zt_rule_rec_t, effect), 2); }
static void m_rule_flags(blob_t *b) { put32(FIELD(RULE(b, 0), zt_rule_rec_t, flags), 3); }
static void m_rule_cond(blob_t *b) { put32(FIELD(RULE(b, 1), zt_rule_rec_t, cond), 10); }

static void m_seg_kind(blob_t *b) { put32(FIELD(SEG(b, 0), zt_seg_rec_t, kind), ZT_SEG__COUNT); }
static void m_seg_empty(blob_t *b) { put32(FIELD(SEG(b, 0), zt_seg_rec_t, str), 0); }

static void m_route_methods0(blob_t *b) { put32(FIELD(ROUTE(b, 0), zt_route_rec_t, methods), 0); }
static void m_route_methods2(blob_t *b) { put32(FIELD(ROUTE(b, 0), zt_route_rec_t, methods), 3); }
static void m_route_methods_unknown(blob_t *b)
{
    put32(FIELD(ROUTE(b, 0), zt_route_rec_t, methods), ZT_M_ALL + 1);
}
static void m_route_seg_range(blob_t *b)
{
    put32(FIELD(ROUTE(b, 5), zt_route_rec_t, seg_first), 9);     /* 10 segments */
}
static void m_route_seg_count(blob_t *b)
{
    put32(FIELD(ROUTE(b, 0), zt_route_rec_t, seg_count), 33);
}
static void m_route_seg_wrap(blob_t *b)
{
    put32(FIELD(ROUTE(b, 0), zt_route_rec_t, seg_first), 0xfffffffeu);
    put32(FIELD(ROUTE(b, 0), zt_route_rec_t, seg_count), 4);
}
static void m_route_rref_range(blob_t *b)
{
    put32(FIELD(ROUTE(b, 0), zt_route_rec_t, rref_first), 0xfffffff0u);
}
static void m_route_rref_big(blob_t *b)
{
    put32(sect(b, ZT_TAG_RREF, NULL), 6);    /* route 0's only rule */
}
static void m_route_rref_order(blob_t *b)
{
    unsigned char *r = ROUTE(b, 1);
    unsigned char *refs = sect(b, ZT_TAG_RREF, NULL)
                          + 4 * get32(FIELD(r, zt_route_rec_t, rref_first));
    ck_assert_uint_eq(get32(refs), 1);
    put32(refs, 5);
    put32(refs + 4, 1);
}
static void m_route_rref_dup(blob_t *b)
{
    unsigned char *r = ROUTE(b, 1);
    unsigned char *refs = sect(b, ZT_TAG_RREF, NULL)
                          + 4 * get32(FIELD(r, zt_route_rec_t, rref_first));
    put32(refs + 4, 1);
}

static void m_route_seg_shared(blob_t *b)
{
    put32(FIELD(ROUTE(b, 1), zt_route_rec_t, seg_first), 0);
}
static void m_route_rref_gap(blob_t *b)
{
    unsigned char *f = FIELD(ROUTE(b, 0), zt_route_rec_t, rref_count);
    put32(f, get32(f) - 1);
}
static void m_segs_unused(blob_t *b)
{
    uint32_t len;
    unsigned char *s = sect(b, ZT_TAG_SEGS, &len);
    unsigned char *more = apr_palloc(pool, len + sizeof(zt_seg_rec_t));
    memcpy(more, s, len);
    memcpy(more + len, s, sizeof(zt_seg_rec_t));
    *b = repack(b, ZT_TAG_SEGS, more, len + sizeof(zt_seg_rec_t), 0, NULL, 0);
}

static void m_issuer_algs0(blob_t *b) { put32(FIELD(ISSR(b, 0), zt_issuer_rec_t, algs), 0); }
static void m_issuer_algs_unknown(blob_t *b)
{
    put32(FIELD(ISSR(b, 0), zt_issuer_rec_t, algs), ZT_ALG_RS256 | (ZT_ALG_ALL + 1));
}
static void m_issuer_jwks_kind(blob_t *b)
{
    put32(FIELD(ISSR(b, 0), zt_issuer_rec_t, jwks_kind), 99);
}
static void m_issuer_iss_empty(blob_t *b) { put32(FIELD(ISSR(b, 0), zt_issuer_rec_t, iss), 0); }
#define ISZ ((uint32_t)sizeof(zt_issuer_rec_t))
static void m_issuer_dup(blob_t *b)
{
    unsigned char two[2 * sizeof(zt_issuer_rec_t)];
    memcpy(two, ISSR(b, 0), ISZ);
    memcpy(two + ISZ, two, ISZ);
    *b = repack(b, ZT_TAG_ISSR, apr_pmemdup(pool, two, 2 * ISZ), 2 * ISZ, 0, NULL, 0);
}
static void m_issuer_many(blob_t *b)
{
    unsigned char *many = apr_palloc(pool, ISZ * 65);
    for (int i = 0; i < 65; i++) {
        memcpy(many + ISZ * i, ISSR(b, 0), ISZ);
    }
    *b = repack(b, ZT_TAG_ISSR, many, ISZ * 65, 0, NULL, 0);
}
static void m_issuer_short(blob_t *b)
{
    /* a record of the old 9-field layout: not a multiple of the record */
    *b = repack(b, ZT_TAG_ISSR, apr_pmemdup(pool, ISSR(b, 0), 36), 36, 0, NULL, 0);
}
static void m_meta_name(blob_t *b) { put32(sect(b, ZT_TAG_META, NULL), strs_len(b) + 5); }

static const bad_case_t bad_cases[] = {
    { "bad magic", m_magic, "bad magic 58 54 42 01", 0 },
    { "wrong version", m_version, "format version 4, this reader knows 3", 0 },
    { "version 2", m_version2, "format version 2; recompile with this zpc, which writes version 3", 0 },
    { "version 1", m_version1, "format version 1; recompile with this zpc", 0 },
    { "flags", m_flags, "header flags 0x1", 0 },
    { "reserved", m_reserved, "reserved 0x1", 0 },
    { "file_len", m_file_len, "header says", 0 },
    { "no sections", m_nsect0, "0 sections", 0 },
    { "too many sections", m_nsect65, "65 sections", 0 },
    { "hdr_len unaligned", m_hdr_unaligned, "hdr_len 148", 0 },
    { "hdr_len small", m_hdr_small, "hdr_len 136", 0 },
    { "hdr_len huge", m_hdr_huge, "hdr_len", 0 },
    { "header padding", m_hdr_padding, "header padding 252..256 is not zero", 0 },
    { "checksum", m_hash, "SHA-256", 1 },
    { "too short", m_short, "file is 40 bytes, the minimum is 56", 1 },
    { "section unaligned", m_sect_unaligned, "'META': offset 4 is not 8-aligned", 0 },
    { "off+len overflow", m_sect_off_overflow, "offset 4294967288 length 16 exceeds", 0 },
    { "len overflow", m_sect_len_overflow, "length 4294967288 exceeds", 0 },
    { "section past end", m_sect_past_end, "'STRS': offset", 0 },
    { "sections overlap", m_sect_overlap, "overlaps", 0 },
    { "dirty gap", m_sect_gap_dirty, "is not zero", 0 },
    { "dirty tail", m_tail_dirty, "is not zero", 0 },
    { "duplicate section", m_sect_dup, "duplicate of section", 0 },
    { "unknown required section", m_unknown_required,
      "unknown required section 'XTRA'", 0 },
    { "missing section", m_missing_meta, "missing required section 'META'", 0 },
    { "record size", m_record_size, "'NODE': length 159 is not a multiple of the 16-byte", 0 },
    { "two meta", m_meta_twice, "section 'META' holds 16 bytes", 0 },
    { "pool without final NUL", m_strs_no_end_nul, "does not end with NUL", 0 },
    { "pool without first NUL", m_strs_no_start_nul, "does not start with NUL", 0 },
    { "empty pool", m_strs_empty, "string pool is empty", 0 },
    { "string past pool", m_str_past_end, "route 0: pattern: string offset", 0 },
    { "string mid-string", m_str_mid, "is not at the start of a string", 0 },
    { "string offset huge", m_str_huge, "rule 2: file: string offset 4294967295 is past", 0 },
    { "operand kind", m_opnd_kind, "operand 0: unknown kind 14", 0 },
    { "operand reserved", m_opnd_reserved, "operand 0: reserved field is 1", 0 },
    { "claim path 0 parts", m_token_n0, "claim path of 0 parts, must be 1..8", 0 },
    { "claim path 9 parts", m_token_n9, "claim path of 9 parts", 0 },
    { "claim part empty", m_token_empty_part, "claim part 0 is empty", 0 },
    { "claim part past pool", m_token_past_pool, "claim part 1 starts at", 0 },
    { "claim with num", m_token_num, "token claim with num 1", 0 },
    { "string with num", m_str_with_num, "operand 0: n 0 num 3", 0 },
    { "empty capture name", m_path_empty, "operand 9: capture name is empty", 0 },
    { "bool 2", m_bool_two, "boolean 2, must be 0 or 1", 0 },
    { "int with str", m_int_with_str, "operand 0: str", 0 },
    { "list entry", m_list_entry, "list entry 0: operand 14 >= count 14", 0 },
    { "unknown op", m_node_op, "node 0: unknown op 13", 0 },
    { "unused field", m_node_unused, "node 0: unused field c is 7", 0 },
    { "not with b", m_node_not_unused, "node 4: unused field b is 5", 0 },
    { "child past count", m_node_child_big, "node 2: child 4096 >= count 10", 0 },
    { "backward edge", m_node_backward, "node 2: child 1 is not after it (backward edge)", 0 },
    { "self edge", m_node_self, "node 4: child 4 is not after it", 0 },
    { "operand past count", m_node_opnd_big, "node 0: operand 99 >= count 14", 0 },
    { "in_claim of a string", m_in_claim_not_token, "is not a token claim", 0 },
    { "in_list past list", m_in_list_range, "node 9: list 0 count 2 exceeds", 0 },
    { "in_list start wraps", m_in_list_start, "node 9: list 4294967295", 0 },
    { "condition too deep", m_depth, "node 0: condition depth 129, the limit is 128", 0 },
    { "condition too big", m_tree_size, "node 0: condition of more than 4096 nodes", 0 },
    { "rule effect", m_rule_effect, "rule 0: unknown effect 2", 0 },
    { "rule flags", m_rule_flags, "rule 0: unknown flags 0x3", 0 },
    { "rule cond", m_rule_cond, "rule 1: condition node 10 >= count 10", 0 },
    { "segment kind", m_seg_kind, "segment 0: unknown kind 4", 0 },
    { "segment empty", m_seg_empty, "segment 0: text is empty", 0 },
    { "no method", m_route_methods0, "route 0: methods 0x0", 0 },
    { "two methods", m_route_methods2, "route 0: methods 0x3", 0 },
    { "unknown method", m_route_methods_unknown, "route 0: methods 0x40", 0 },
    { "segments past SEGS", m_route_seg_range, "route 5: segments 9 count 3 exceed the 10", 0 },
    { "too many segments", m_route_seg_count, "route 0: 33 segments, the limit is 32", 0 },
    { "segment range wraps", m_route_seg_wrap, "route 0: segments 4294967294 count 4", 0 },
    { "rule refs past RREF", m_route_rref_range, "route 0: rule refs 4294967280", 0 },
    { "rule ref past rules", m_route_rref_big, "route 0: rule 6 >= count 6", 0 },
    { "rule refs descend", m_route_rref_order, "route 1: rule 1 after rule 5", 0 },
    { "rule ref twice", m_route_rref_dup, "route 1: rule 1 after rule 1", 0 },
    { "segment runs shared", m_route_seg_shared,
      "route 1: segments at 0, expected 1", 0 },
    { "rule ref runs gap", m_route_rref_gap, "route 1: rule refs at 1, expected 0", 0 },
    { "segment unused", m_segs_unused, "routes use 10 segments, 10 rule refs, "
      "0 params and 0 limit refs; the table has 11, 10, 0 and 0", 0 },
    { "issuer without algs", m_issuer_algs0, "issuer 0: algorithms 0x0", 0 },
    { "issuer unknown alg", m_issuer_algs_unknown, "issuer 0: algorithms 0x2001", 0 },
    { "issuer jwks kind", m_issuer_jwks_kind, "issuer 0: unknown jwks kind 99", 0 },
    { "issuer empty iss", m_issuer_iss_empty, "issuer 0: iss is empty", 0 },
    { "issuer twice", m_issuer_dup, "issuer 1: iss is the same as issuer 0's", 0 },
    { "too many issuers", m_issuer_many, "65 issuers, the limit is 64", 0 },
    { "issuer record of 36 bytes", m_issuer_short,
      "section 'ISSR': length 36 is not a multiple of the 64-byte record", 0 },
    { "meta name", m_meta_name, "meta 0: name: string offset", 0 },
};
#define NBAD ((int)(sizeof(bad_cases) / sizeof(bad_cases[0])))

/* @a b must be refused as a bad table, with @a expect in the message. */
static void refused(blob_t b, const char *name, const char *expect)
{
    const char *err;

    ck_assert_msg(load(b, &err) == NULL, "%s: loaded", name);
    ck_assert_msg(strncmp(err, "t.ztb: bad table (", 18) == 0, "%s: %s", name, err);
    ck_assert_msg(strstr(err, expect) != NULL, "%s: got \"%s\", want \"%s\"",
                  name, err, expect);
}

/*
 * Bad v2 tables: one field of the full table (zb_full) at a time.  Its
 * layout: routes 6 GET /files/ and "**", 7 GET /items/x/meta ("*"), 8 GET /search
 * (params 1..7), 9 PUT /docs/{id:uuid} (body 0, stepup 1, limits 1 2),
 * segments: route 2's {id} is 3, "**" 11, "*" 13, route 10's 18..21, route
 * 11's 22..23; limit refs: route 1 0, route 2 1..2, route 9 3..4;
 * 10 POST /docs/{id}/xml/{n:int} (body 1), 11 GET /cert/{name}; types 0
 * string 0..4096, 1 any, 2 string /[a-z]+/, 3 int 1..100, 4 enum, 5 bool,
 * 6 number, 7 string 1..64, 8 uuid, 9 int; cidrs 0 10/8, 1 2001:db8::/32,
 * 2 192.168.1.7, 3 ::1, 4 127/8; blob: JSON schema 0..39, XML 40..97.
 */
typedef struct {
    const char *name;
    uint32_t tag;
    uint32_t size;          /* record size */
    uint32_t i;             /* record */
    uint32_t off;           /* field offset */
    uint32_t v;             /* the u32 written there */
    const char *expect;
} set_case_t;

#define SET(name, tag, type, i, field, v, expect) \
    { name, tag, sizeof(type), i, offsetof(type, field), v, expect }

static const set_case_t set_cases[] = {
    SET("route flags", ZT_TAG_ROUT, zt_route_rec_t, 6, flags, 2, "route 6: unknown flags 0x2"),
    SET("route reserved", ZT_TAG_ROUT, zt_route_rec_t, 6, reserved, 1, "route 6: reserved field is 1"),
    SET("route file", ZT_TAG_ROUT, zt_route_rec_t, 6, file, UINT32_MAX, "route 6: file: string offset 4294967295"),
    SET("route body past", ZT_TAG_ROUT, zt_route_rec_t, 9, body, 2, "route 9: body 2 >= count 2"),
    SET("route stepup past", ZT_TAG_ROUT, zt_route_rec_t, 9, stepup, 2, "route 9: stepup 2 >= count 2"),
    SET("route stepup 0 for none", ZT_TAG_ROUT, zt_route_rec_t, 0, stepup, 7, "route 0: stepup 7 >= count 2"),
    SET("params run shifted", ZT_TAG_ROUT, zt_route_rec_t, 8, param_first, 0, "route 8: params at 0, expected 1"),
    SET("too many params", ZT_TAG_ROUT, zt_route_rec_t, 8, param_count, 65, "route 8: 65 params, the limit is 64"),
    SET("params past PARM", ZT_TAG_ROUT, zt_route_rec_t, 8, param_count, 8, "route 8: params 1 count 8 exceed the 8 params"),
    SET("params run wraps", ZT_TAG_ROUT, zt_route_rec_t, 8, param_first, UINT32_MAX, "route 8: params 4294967295 count 7"),
    SET("params short", ZT_TAG_ROUT, zt_route_rec_t, 8, param_count, 6, "route 9: params at 8, expected 7"),
    SET("too many limit refs", ZT_TAG_ROUT, zt_route_rec_t, 9, lref_count, 17, "route 9: 17 limit refs, the limit is 16"),
    SET("limit refs shifted", ZT_TAG_ROUT, zt_route_rec_t, 9, lref_first, 2, "route 9: limit refs at 2, expected 3"),
    SET("** not last", ZT_TAG_SEGS, zt_seg_rec_t, 13, kind, ZT_SEG_GLOBSTAR,
        "route 7: ** is segment 1 of 3, it may only be the last"),
    SET("* with a type", ZT_TAG_SEGS, zt_seg_rec_t, 13, type, 0, "segment 13: kind 2 with str 0 type 0"),
    SET("** with a text", ZT_TAG_SEGS, zt_seg_rec_t, 11, str, 1, "segment 11: kind 3 with str 1"),
    SET("literal with a type", ZT_TAG_SEGS, zt_seg_rec_t, 0, type, 0, "segment 0: a literal with type 0"),
    SET("capture type past", ZT_TAG_SEGS, zt_seg_rec_t, 3, type, 10, "segment 3: capture type 10 >= count 10"),
    SET("capture without type", ZT_TAG_SEGS, zt_seg_rec_t, 3, type, ZT_NONE, "segment 3: capture type 4294967295"),
    SET("type kind", ZT_TAG_TYPE, zt_type_rec_t, 0, kind, ZT_TYPE__COUNT, "type 0: unknown kind 7"),
    SET("dfa without a pattern", ZT_TAG_TYPE, zt_type_rec_t, 0, dfa, 0, "type 0: an automaton without a pattern (dfa 0)"),
    SET("dfa on an int", ZT_TAG_TYPE, zt_type_rec_t, 3, dfa, 0, "type 3: an automaton without a pattern (dfa 0)"),
    SET("pattern without dfa", ZT_TAG_TYPE, zt_type_rec_t, 2, dfa, ZT_NONE, "type 2: a pattern without an automaton (dfa 4294967295)"),
    SET("dfa unaligned", ZT_TAG_TYPE, zt_type_rec_t, 2, dfa, 4, "type 2: dfa at 4, must be 8-aligned"),
    SET("dfa past DFAS", ZT_TAG_TYPE, zt_type_rec_t, 2, dfa, 1u << 20, "type 2: dfa at 1048576, must be 8-aligned and leave room"),
    SET("dfa wraps", ZT_TAG_TYPE, zt_type_rec_t, 2, dfa, UINT32_MAX - 7, "type 2: dfa at 4294967288"),
    SET("dfa inside its image", ZT_TAG_TYPE, zt_type_rec_t, 2, dfa, 8, "type 2: dfa at 8: the image is shorter than its head"),
    SET("type reserved", ZT_TAG_TYPE, zt_type_rec_t, 0, reserved, 1, "type 0: reserved field is 1, must be 0"),
    SET("regex on an int", ZT_TAG_TYPE, zt_type_rec_t, 3, str, 1, "type 3: kind 1 with a regex (str 1)"),
    SET("regex offset", ZT_TAG_TYPE, zt_type_rec_t, 2, str, UINT32_MAX, "type 2: regex: string offset 4294967295"),
    SET("enum without values", ZT_TAG_TYPE, zt_type_rec_t, 4, count, 0, "type 4: enum without values"),
    SET("enum past LIST", ZT_TAG_TYPE, zt_type_rec_t, 4, count, 1000, "type 4: list"),
    SET("enum too long", ZT_TAG_TYPE, zt_type_rec_t, 4, count, ZT_MAX_LIST + 1, "type 4: 65537 values, the limit is 65536"),
    SET("values on an int", ZT_TAG_TYPE, zt_type_rec_t, 3, count, 1, "type 3: kind 1 with values (list 0 count 1)"),
    SET("param where", ZT_TAG_PARM, zt_param_rec_t, 0, where, 2, "param 0: unknown where 2"),
    SET("param name empty", ZT_TAG_PARM, zt_param_rec_t, 0, name, 0, "param 0: name is empty"),
    SET("param type past", ZT_TAG_PARM, zt_param_rec_t, 0, type, 10, "param 0: type 10 >= count 10"),
    SET("param flags", ZT_TAG_PARM, zt_param_rec_t, 0, flags, 4, "param 0: flags 0x4"),
    SET("header as a list", ZT_TAG_PARM, zt_param_rec_t, 6, flags, ZT_PARAM_LIST, "param 6: flags 0x2 (list is for query"),
    SET("body kind", ZT_TAG_BODY, zt_body_rec_t, 0, kind, 2, "body 0: unknown kind 2"),
    SET("body max 0", ZT_TAG_BODY, zt_body_rec_t, 0, max, 0, "body 0: max is 0, must be > 0"),
    SET("schema unaligned", ZT_TAG_BODY, zt_body_rec_t, 1, schema_off, 44, "body 1: schema at 44 length 57, must be 8-aligned"),
    SET("schema past blob", ZT_TAG_BODY, zt_body_rec_t, 1, schema_len, 65, "body 1: schema at 40 length 65"),
    SET("schema offset wraps", ZT_TAG_BODY, zt_body_rec_t, 1, schema_off, UINT32_MAX - 7, "body 1: schema at 4294967288"),
    SET("offset without schema", ZT_TAG_BODY, zt_body_rec_t, 1, schema_len, 0, "body 1: no schema but offset 40"),
    SET("schema name offset", ZT_TAG_BODY, zt_body_rec_t, 0, schema_name, UINT32_MAX, "body 0: schema name 4294967295"),
    SET("root offset", ZT_TAG_BODY, zt_body_rec_t, 1, root, UINT32_MAX, "root 4294967295 is past"),
    SET("schema cut short", ZT_TAG_BODY, zt_body_rec_t, 0, schema_len, 38, "blob byte 38 is in no schema and is not 0"),
    SET("stepup reserved", ZT_TAG_STEP, zt_stepup_rec_t, 0, reserved, 1, "stepup 0: reserved field is 1"),
    SET("stepup file", ZT_TAG_STEP, zt_stepup_rec_t, 0, file, UINT32_MAX, "stepup 0: file: string offset 4294967295"),
    SET("stepup of nothing", ZT_TAG_STEP, zt_stepup_rec_t, 1, max_age, 0, "stepup 1: neither acr values nor max_age"),
    SET("acr run without acr", ZT_TAG_STEP, zt_stepup_rec_t, 1, acr_first, 1, "stepup 1: no values but first is 1"),
    SET("acr past LIST", ZT_TAG_STEP, zt_stepup_rec_t, 0, acr_count, 1000, "stepup 0: list"),
    SET("acr too long", ZT_TAG_STEP, zt_stepup_rec_t, 0, acr_count, ZT_MAX_LIST + 1, "stepup 0: 65537 values"),
    SET("limit count 0", ZT_TAG_LIMT, zt_limit_rec_t, 0, count, 0, "limit 0: count is 0, must be > 0"),
    SET("limit period", ZT_TAG_LIMT, zt_limit_rec_t, 0, period, 2, "limit 0: period 2, must be 1, 60 or 3600"),
    SET("limit key", ZT_TAG_LIMT, zt_limit_rec_t, 0, key, 3, "limit 0: unknown key 3"),
    SET("limit reserved", ZT_TAG_LIMT, zt_limit_rec_t, 0, reserved, 1, "limit 0: reserved field is 1"),
    SET("limit file", ZT_TAG_LIMT, zt_limit_rec_t, 0, file, UINT32_MAX, "limit 0: file: string offset 4294967295"),
};
#define NSET ((int)(sizeof(set_cases) / sizeof(set_cases[0])))

START_TEST(bad_field_v2)
{
    const set_case_t *c = &set_cases[_i];
    blob_t b = full_blob();

    put32(rec(&b, c->tag, c->i, c->size) + c->off, c->v);
    rehash(&b);
    refused(b, c->name, c->expect);
}
END_TEST

/* Index of the @a nth record of @a tag whose u32 at @a off is @a v. */
static uint32_t find_rec(blob_t *b, uint32_t tag, uint32_t size, uint32_t off,
                         uint32_t v, int nth)
{
    uint32_t len;
    unsigned char *s = sect(b, tag, &len);

    for (uint32_t i = 0; i < len / size; i++) {
        if (get32(s + i * size + off) == v && nth-- == 0) {
            return i;
        }
    }
    ck_abort_msg("no record %08x with %u at %u", tag, v, off);
    return 0;
}
#define FIND_NODE(b, o) \
    find_rec((b), ZT_TAG_NODE, sizeof(zt_node_rec_t), offsetof(zt_node_rec_t, op), (o), 0)
#define FIND_OPND(b, k) \
    find_rec((b), ZT_TAG_OPND, sizeof(zt_opnd_rec_t), offsetof(zt_opnd_rec_t, kind), (k), 0)

/* Offset of @a text in the string pool. */
static uint32_t str_off(blob_t *b, const char *text)
{
    uint32_t len;
    const char *s = (const char *)sect(b, ZT_TAG_STRS, &len);

    for (uint32_t i = 1; i < len; i += (uint32_t)strlen(s + i) + 1) {
        if (strcmp(s + i, text) == 0) {
            return i;
        }
    }
    ck_abort_msg("no string %s", text);
    return 0;
}

#define CIDR(b, i) REC(b, ZT_TAG_CIDR, zt_cidr_rec_t, i)
#define TYPE(b, i) REC(b, ZT_TAG_TYPE, zt_type_rec_t, i)
#define LIST(b, i) REC(b, ZT_TAG_LIST, uint32_t, i)
#define LREF(b, i) REC(b, ZT_TAG_LREF, uint32_t, i)
#define N_OP(bl, i) FIELD(NODE(bl, i), zt_node_rec_t, op)
#define N_A(bl, i) FIELD(NODE(bl, i), zt_node_rec_t, a)
#define N_B(bl, i) FIELD(NODE(bl, i), zt_node_rec_t, b)
#define N_C(bl, i) FIELD(NODE(bl, i), zt_node_rec_t, c)

static void put64(unsigned char *p, int64_t v)
{
    put32(p, (uint32_t)(uint64_t)v);
    put32(p + 4, (uint32_t)((uint64_t)v >> 32));
}

/* A section with one more record, a copy of its record @a i. */
static void append_copy(blob_t *b, uint32_t tag, uint32_t size, uint32_t i)
{
    uint32_t len;
    unsigned char *s = sect(b, tag, &len);
    unsigned char *more = apr_palloc(pool, len + size);

    memcpy(more, s, len);
    memcpy(more + len, s + i * size, size);
    *b = repack(b, tag, more, len + size, 0, NULL, 0);
}

static void v_int_range(blob_t *b) { put64(FIELD(TYPE(b, 3), zt_type_rec_t, min), 101); }
static void v_neg_length(blob_t *b) { put64(FIELD(TYPE(b, 0), zt_type_rec_t, min), -1); }
static void v_uuid_range(blob_t *b) { put64(FIELD(TYPE(b, 8), zt_type_rec_t, max), 5); }
static void v_enum_int(blob_t *b)
{
    put32(LIST(b, get32(FIELD(TYPE(b, 4), zt_type_rec_t, first))),
          FIND_OPND(b, ZT_OPND_INT));
}
static void v_acr_int(blob_t *b)
{
    put32(LIST(b, get32(FIELD(REC(b, ZT_TAG_STEP, zt_stepup_rec_t, 0),
                              zt_stepup_rec_t, acr_first))),
          FIND_OPND(b, ZT_OPND_INT));
}
static void v_header_upper(blob_t *b)
{
    put32(FIELD(REC(b, ZT_TAG_PARM, zt_param_rec_t, 6), zt_param_rec_t, name),
          str_off(b, "CN=svc"));
}
static void v_param_twice(blob_t *b)
{
    unsigned char *p = REC(b, ZT_TAG_PARM, zt_param_rec_t, 1);
    put32(FIELD(REC(b, ZT_TAG_PARM, zt_param_rec_t, 2), zt_param_rec_t, name),
          get32(FIELD(p, zt_param_rec_t, name)));
}
static void v_capture_twice(blob_t *b)
{
    /* route 10: docs {id} xml {n} = segments 18..21 */
    put32(FIELD(SEG(b, 21), zt_seg_rec_t, str), get32(FIELD(SEG(b, 19), zt_seg_rec_t, str)));
}
static void v_json_root(blob_t *b)
{
    put32(FIELD(REC(b, ZT_TAG_BODY, zt_body_rec_t, 0), zt_body_rec_t, root),
          str_off(b, "doc"));
}
static void v_blob_dirty(blob_t *b) { sect(b, ZT_TAG_BLOB, NULL)[39] = 'x'; }
/* The full table's one automaton (type 2, /[a-z]+/) at DFAS offset 0. */
static uint32_t *v_dfa_next(blob_t *b, zt_dfa_hdr_t **h)
{
    *h = (zt_dfa_hdr_t *)sect(b, ZT_TAG_DFAS, NULL);
    return (uint32_t *)(*h + 1);
}
static void v_dfa_edge(blob_t *b)
{
    zt_dfa_hdr_t *h;
    uint32_t *next = v_dfa_next(b, &h);
    next[h->nclasses + 1] = h->nstates * h->nclasses;
}
static void v_dfa_dead(blob_t *b)
{
    zt_dfa_hdr_t *h;
    uint32_t *next = v_dfa_next(b, &h);
    next[0] = h->nclasses;
}
static void v_dfa_class(blob_t *b)
{
    zt_dfa_hdr_t *h;
    (void)v_dfa_next(b, &h);
    h->cls['q'] = 0xff;
}
static void v_dfa_len(blob_t *b)
{
    zt_dfa_hdr_t *h;
    (void)v_dfa_next(b, &h);
    h->len += 8;
}
static void v_dfas_stray(blob_t *b)
{
    uint32_t len;
    unsigned char *s = sect(b, ZT_TAG_DFAS, &len);
    unsigned char *grown = apr_pcalloc(pool, len + 8);

    memcpy(grown, s, len);
    grown[len + 3] = 1;
    *b = repack(b, ZT_TAG_DFAS, grown, len + 8, 0, NULL, 0);
}
static void v_dfas_odd(blob_t *b)
{
    uint32_t len;
    unsigned char *s = sect(b, ZT_TAG_DFAS, &len);
    *b = repack(b, ZT_TAG_DFAS, s, len - 4, 0, NULL, 0);
}
static void v_blob_odd(blob_t *b)
{
    uint32_t len;
    unsigned char *s = sect(b, ZT_TAG_BLOB, &len);
    *b = repack(b, ZT_TAG_BLOB, s, len - 4, 0, NULL, 0);
}
static void v_lref_past(blob_t *b) { put32(LREF(b, 0), 3); }
static void v_lref_descend(blob_t *b) { put32(LREF(b, 3), 2); put32(LREF(b, 4), 1); }
static void v_lref_twice(blob_t *b) { put32(LREF(b, 4), 1); }
static void v_lref_unused(blob_t *b) { append_copy(b, ZT_TAG_LREF, 4, 0); }
static void v_param_unused(blob_t *b)
{
    append_copy(b, ZT_TAG_PARM, sizeof(zt_param_rec_t), 0);
}
static void v_same_shape(blob_t *b)
{
    /* GET /cert/{name} becomes GET /orders/{name}, the shape of route 2 */
    put32(FIELD(SEG(b, 22), zt_seg_rec_t, str), str_off(b, "orders"));
}
static void v_cidr_family(blob_t *b) { CIDR(b, 0)[0] = 5; }
static void v_cidr_prefix4(blob_t *b) { CIDR(b, 0)[1] = 33; }
static void v_cidr_prefix6(blob_t *b) { CIDR(b, 1)[1] = 129; }
static void v_cidr_reserved(blob_t *b) { CIDR(b, 0)[3] = 1; }
static void v_cidr_host(blob_t *b) { CIDR(b, 0)[4 + 3] = 1; }
static void v_cidr_v4_tail(blob_t *b) { CIDR(b, 2)[4 + 4] = 0x80; }
static void v_cidr_v6_host(blob_t *b) { CIDR(b, 1)[4 + 15] = 1; }
static void v_query_empty(blob_t *b)
{
    put32(FIELD(OPND(b, FIND_OPND(b, ZT_OPND_QUERY)), zt_opnd_rec_t, str), 0);
}
static void v_header_opnd_upper(blob_t *b)
{
    put32(FIELD(OPND(b, FIND_OPND(b, ZT_OPND_HEADER)), zt_opnd_rec_t, str),
          str_off(b, "CN=svc"));
}
static void v_query_num(blob_t *b)
{
    put64(FIELD(OPND(b, FIND_OPND(b, ZT_OPND_QUERY)), zt_opnd_rec_t, num), 5);
}
static void v_ip_str(blob_t *b)
{
    put32(FIELD(OPND(b, FIND_OPND(b, ZT_OPND_CLIENT_IP)), zt_opnd_rec_t, str), 1);
}
static void v_hour_num(blob_t *b)
{
    put64(FIELD(OPND(b, FIND_OPND(b, ZT_OPND_TIME_HOUR)), zt_opnd_rec_t, num), 1);
}
static void v_order_c(blob_t *b) { put32(N_C(b, FIND_NODE(b, ZT_OP_LE)), 1); }
static void v_in_cidr_past(blob_t *b) { put32(N_C(b, FIND_NODE(b, ZT_OP_IN_CIDR)), 100); }
static void v_in_cidr_wraps(blob_t *b) { put32(N_B(b, FIND_NODE(b, ZT_OP_IN_CIDR)), UINT32_MAX); }
static void v_in_cidr_long(blob_t *b)
{
    put32(N_C(b, FIND_NODE(b, ZT_OP_IN_CIDR)), ZT_MAX_LIST + 1);
}
static void v_in_list_long(blob_t *b)
{
    put32(N_C(b, FIND_NODE(b, ZT_OP_IN_LIST)), ZT_MAX_LIST + 1);
}
static void v_in_list_token(blob_t *b)
{
    put32(LIST(b, get32(N_B(b, FIND_NODE(b, ZT_OP_IN_LIST)))), FIND_OPND(b, ZT_OPND_TOKEN));
}
static void v_op_past(blob_t *b) { put32(N_OP(b, 0), ZT_OP__COUNT); }

/* A node's operand pointed at the first operand of another kind. */
typedef struct {
    const char *name;
    uint32_t op;            /* the first node of this opcode */
    int b;                  /* its b operand, else a */
    uint32_t kind;          /* now the first operand of this kind */
    const char *expect;
} repoint_case_t;

static const repoint_case_t repoint_cases[] = {
    { "in_cidr of a claim", ZT_OP_IN_CIDR, 0, ZT_OPND_TOKEN,
      "is of kind 0, not the client address" },
    { "eq on the address", ZT_OP_EQ, 0, ZT_OPND_CLIENT_IP,
      "is the client address, which only in_cidr tests" },
    { "in_list of the address", ZT_OP_IN_LIST, 0, ZT_OPND_CLIENT_IP, "is the client address" },
    { "in_claim of the address", ZT_OP_IN_CLAIM, 0, ZT_OPND_CLIENT_IP, "is the client address" },
    { "ordering on a string", ZT_OP_GE, 1, ZT_OPND_STR, "is of kind 2, never an integer" },
    { "ordering on the weekday", ZT_OP_LT, 0, ZT_OPND_TIME_WEEKDAY,
      "is of kind 13, never an integer" },
    { "ordering on a boolean", ZT_OP_GT, 1, ZT_OPND_BOOL, "is of kind 4, never an integer" },
    { "in_claim of a subject", ZT_OP_IN_CLAIM, 1, ZT_OPND_CERT_SUBJECT,
      "is not a token claim or the certificate's SANs" },
};
#define NREPOINT ((int)(sizeof(repoint_cases) / sizeof(repoint_cases[0])))

START_TEST(bad_operand_v2)
{
    const repoint_case_t *c = &repoint_cases[_i];
    blob_t b = full_blob();
    uint32_t node = FIND_NODE(&b, c->op);

    put32(c->b ? N_B(&b, node) : N_A(&b, node), FIND_OPND(&b, c->kind));
    rehash(&b);
    refused(b, c->name, c->expect);
}
END_TEST

static const bad_case_t bad_v2_cases[] = {
    { "int range empty", v_int_range, "type 3: range 101..100 is empty", 0 },
    { "negative length", v_neg_length, "type 0: range -1..4096", 0 },
    { "uuid with a range", v_uuid_range, "type 8: kind 4 with a range", 0 },
    { "enum value not a string", v_enum_int, "type 4: value 0, operand", 0 },
    { "acr value not a string", v_acr_int, "stepup 0: value 0, operand", 0 },
    { "header param upper case", v_header_upper, "param 6: header name is not lower case", 0 },
    { "param twice", v_param_twice, "route 8: parameters 1 and 2 have the same name", 0 },
    { "capture twice", v_capture_twice, "route 10: captures 1 and 3 have the same name", 0 },
    { "JSON with a root", v_json_root, "body 0: a JSON body with an XML root", 0 },
    { "blob padding dirty", v_blob_dirty, "blob byte 39 is in no schema and is not 0", 0 },
    { "dfa edge past the states", v_dfa_edge, "type 2: dfa at 0: an edge leads past the last state", 0 },
    { "dfa dead state leaves", v_dfa_dead, "type 2: dfa at 0: the dead state 0 has an edge out", 0 },
    { "dfa class past", v_dfa_class, "type 2: dfa at 0: a byte maps to a class past the class count", 0 },
    { "dfa longer than DFAS", v_dfa_len, "type 2: dfa at 0 length ", 0 },
    { "DFAS stray byte", v_dfas_stray, "DFAS byte ", 0 },
    { "DFAS not a multiple of 8", v_dfas_odd, "section 'DFAS': length", 0 },
    { "blob not 8-byte", v_blob_odd, "section 'BLOB': length 100 is not a multiple", 0 },
    { "limit ref past", v_lref_past, "route 1: limit 3 >= count 3", 0 },
    { "limit refs descend", v_lref_descend, "route 9: limit 1 after limit 2", 0 },
    { "limit ref twice", v_lref_twice, "route 9: limit 1 after limit 1", 0 },
    { "limit ref unused", v_lref_unused, "routes use 24 segments, 20 rule refs, 8 params and 5 limit refs; the table has 24, 20, 8 and 6", 0 },
    { "param unused", v_param_unused, "8 params and 5 limit refs; the table has 24, 20, 9 and 5", 0 },
    { "same shape", v_same_shape, "routes GET /orders/{id} (examples/orders/orders.ztp:13) "
      "and GET /cert/{name} (examples/orders/orders.ztp:22) can match the same request", 0 },
    { "cidr family", v_cidr_family, "cidr 0: family 5, must be 4 or 6", 0 },
    { "cidr prefix v4", v_cidr_prefix4, "cidr 0: prefix 33, the limit for IPv4 is 32", 0 },
    { "cidr prefix v6", v_cidr_prefix6, "cidr 1: prefix 129, the limit for IPv6 is 128", 0 },
    { "cidr reserved", v_cidr_reserved, "cidr 0: reserved bytes are not 0", 0 },
    { "cidr host bits", v_cidr_host, "cidr 0: address bit 31 is set past the /8 prefix", 0 },
    { "cidr v4 tail", v_cidr_v4_tail, "cidr 2: address bit 32 is set past the /32 prefix", 0 },
    { "cidr v6 host bits", v_cidr_v6_host, "cidr 1: address bit 127 is set past the /32", 0 },
    { "query name empty", v_query_empty, "parameter name is empty", 0 },
    { "header name upper", v_header_opnd_upper, "header name is not lower case", 0 },
    { "query with num", v_query_num, "n 0 num 5, both must be 0", 0 },
    { "client.ip with str", v_ip_str, "kind 7 with str 1 n 0 num 0, all must be 0", 0 },
    { "time.hour with num", v_hour_num, "kind 12 with str 0 n 0 num 1, all must be 0", 0 },
    { "ordering with c", v_order_c, "unused field c is 1", 0 },
    { "in_cidr past CIDR", v_in_cidr_past, "cidr 0 count 100 exceeds the 5 cidr entries", 0 },
    { "in_cidr start wraps", v_in_cidr_wraps, "cidr 4294967295 count", 0 },
    { "in_cidr too long", v_in_cidr_long, "65537 members, the limit is 65536", 0 },
    { "in_list too long", v_in_list_long, "65537 members, the limit is 65536", 0 },
    { "in_list of a claim", v_in_list_token, "is of kind 0, not a literal", 0 },
    { "op past the last", v_op_past, "node 0: unknown op 13", 0 },
};
#define NBAD_V2 ((int)(sizeof(bad_v2_cases) / sizeof(bad_v2_cases[0])))

START_TEST(bad_table_v2)
{
    const bad_case_t *c = &bad_v2_cases[_i];
    blob_t b = full_blob();

    c->mutate(&b);
    rehash(&b);
    refused(b, c->name, c->expect);
}
END_TEST

START_TEST(bad_table)
{
    const bad_case_t *c = &bad_cases[_i];
    blob_t b = orders_blob();

    c->mutate(&b);
    if (!c->keep_hash) {
        rehash(&b);
    }
    refused(b, c->name, c->expect);
}
END_TEST

static char *dump_text_of(const zt_table_t *t)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);

    ck_assert_ptr_nonnull(f);
    zpc_dump(f, t);
    fclose(f);
    return s;
}

/* ------------------------------------------------------------------ */
/* Issuers: key sources and claim checks                               */
/* ------------------------------------------------------------------ */

/* One issuer of each key source.  With @a secrets 0, none has an HS*
 * secret (issuer 1 then allows ES256 only, and issuer 3 is left out). */
static zpc_ir_t *keys_ir(int secrets)
{
    zpc_ir_t *ir = zb_new(pool, "keys", "keys.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/a"), i;

    zb_issuer(ir, "f", "file-issuer", "api", ZT_ALG_RS256, "k.json", 0, 0);
    i = zb_issuer(ir, "u", "https://u.example", "api",
                  ZT_ALG_ES256 | (secrets ? ZT_ALG_HS256 : 0), NULL, 900, 5);
    zb_issuer_keys(ir, i, ZT_JWKS_URL, "https://u.example/certs?v=1",
                   secrets ? "u.key" : NULL, 3600, 60);
    zb_issuer_claims(ir, i, "at+jwt", "sub azp client_id");
    i = zb_issuer(ir, "d", "https://d.example/realms/x", "api", ZT_ALG_EDDSA,
                  NULL, 0, 0);
    zb_issuer_keys(ir, i, ZT_JWKS_DISCOVER, NULL, NULL, 60, 1);
    if (secrets) {
        i = zb_issuer(ir, "n", "n", "api", ZT_ALG_HS512 | ZT_ALG_HS384, NULL, 0, 0);
        zb_issuer_keys(ir, i, ZT_JWKS_NONE, NULL, "/etc/n.key", 0, 0);
    }
    i = zb_issuer(ir, "l", "http://127.0.0.1:8080", "api", ZT_ALG_PS256, NULL, 0, 0);
    zb_issuer_keys(ir, i, ZT_JWKS_DISCOVER, NULL, NULL, 1, 1);
    i = zb_issuer(ir, "v6", "v6", "api", ZT_ALG_RS256, NULL, 0, 0);
    zb_issuer_keys(ir, i, ZT_JWKS_URL, "http://[::1]:1/jwks", NULL, 10, 10);
    zb_issuer_claims(ir, i, NULL, "a.b");
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, NULL, "GET /a", 1, r);
    return ir;
}

static blob_t keys_blob(void)
{
    return emit(keys_ir(1));
}

START_TEST(issuer_sources)
{
    zt_table_t *t = load_ok(keys_blob());
    const zt_issuer_rec_t *s = t->issuers;
    const char *req;

    ck_assert_uint_eq(t->nissuers, 6);
    ck_assert_uint_eq(s[0].jwks_kind, ZT_JWKS_FILE);
    ck_assert_str_eq(zt_table_str(t, s[0].jwks), "k.json");
    ck_assert_uint_eq(s[0].secret, 0);
    ck_assert_uint_eq(s[0].typ, 0);
    ck_assert_uint_eq(s[0].required, 0);
    ck_assert_uint_eq(s[0].nrequired, 0);
    ck_assert_uint_eq(s[0].refresh, 0);
    ck_assert_uint_eq(s[0].refetch_min, 0);

    ck_assert_uint_eq(s[1].jwks_kind, ZT_JWKS_URL);
    ck_assert_str_eq(zt_table_str(t, s[1].jwks), "https://u.example/certs?v=1");
    ck_assert_str_eq(zt_table_str(t, s[1].secret), "u.key");
    ck_assert_str_eq(zt_table_str(t, s[1].typ), "at+jwt");
    ck_assert_uint_eq(s[1].nrequired, 3);
    req = zt_table_str(t, s[1].required);
    ck_assert_str_eq(req, "sub");
    ck_assert_str_eq(req + 4, "azp");
    ck_assert_str_eq(req + 8, "client_id");
    ck_assert_uint_eq(s[1].refresh, 3600);
    ck_assert_uint_eq(s[1].refetch_min, 60);
    ck_assert_uint_eq(s[1].max_lifetime, 900);
    ck_assert_uint_eq(s[1].leeway, 5);

    ck_assert_uint_eq(s[2].jwks_kind, ZT_JWKS_DISCOVER);
    ck_assert_uint_eq(s[2].jwks, 0);
    ck_assert_uint_eq(s[3].jwks_kind, ZT_JWKS_NONE);
    ck_assert_str_eq(zt_table_str(t, s[3].secret), "/etc/n.key");
    ck_assert_uint_eq(s[3].algs, ZT_ALG_HS384 | ZT_ALG_HS512);
    ck_assert_uint_eq(s[4].jwks_kind, ZT_JWKS_DISCOVER);
    ck_assert_str_eq(zt_table_str(t, s[5].jwks), "http://[::1]:1/jwks");
    /* a name with a dot is one name, not a path */
    ck_assert_uint_eq(s[5].nrequired, 1);
    ck_assert_str_eq(zt_table_str(t, s[5].required), "a.b");
    for (int i = 0; i < 6; i++) {
        ck_assert_uint_eq(s[i].binding, ZT_BIND_NONE);
    }
}
END_TEST

START_TEST(issuer_dump)
{
    zt_table_t *t = load_ok(keys_blob());
    char *got = dump_text_of(t);
    const char *want = apr_psprintf(pool,
        "policy \"keys\"  (source keys.ztp, sha256 %s)\n"
        "issuer f  iss \"file-issuer\"  aud \"api\"  algs RS256\n"
        "       jwks file \"k.json\"  max_lifetime none  leeway 0s  (line 3)\n"
        "issuer u  iss \"https://u.example\"  aud \"api\"  algs ES256 HS256\n"
        "       jwks url \"https://u.example/certs?v=1\"  refresh 3600s  refetch_min 60s"
        "  secret file \"u.key\"  typ \"at+jwt\"  required sub azp client_id"
        "  max_lifetime 900s  leeway 5s  (line 4)\n"
        "issuer d  iss \"https://d.example/realms/x\"  aud \"api\"  algs EdDSA\n"
        "       jwks discover  refresh 60s  refetch_min 1s  max_lifetime none  leeway 0s  (line 5)\n"
        "issuer n  iss \"n\"  aud \"api\"  algs HS384 HS512\n"
        "       jwks none  secret file \"/etc/n.key\"  max_lifetime none  leeway 0s  (line 6)\n"
        "issuer l  iss \"http://127.0.0.1:8080\"  aud \"api\"  algs PS256\n"
        "       jwks discover  refresh 1s  refetch_min 1s  max_lifetime none  leeway 0s  (line 7)\n"
        "issuer v6  iss \"v6\"  aud \"api\"  algs RS256\n"
        "       jwks url \"http://[::1]:1/jwks\"  refresh 10s  refetch_min 10s"
        "  required \"a.b\"  max_lifetime none  leeway 0s  (line 8)\n"
        "route 0  GET     /a  rules 0  (keys.ztp:11)\n"
        "rule 0  allow  always  GET /a  (keys.ztp:100)\n", t->hash_hex);

    /* too long for one Check message: show both on failure */
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "# got:\n%s# want:\n%s", got, want);
    }
    ck_assert_int_eq(strcmp(got, want), 0);
    free(got);
}
END_TEST

#define KF(b, i, f) FIELD(ISSR((b), (i)), zt_issuer_rec_t, f)
static void k_kind5(blob_t *b) { put32(KF(b, 0, jwks_kind), 5); }
static void k_kind0(blob_t *b) { put32(KF(b, 0, jwks_kind), 0); }
static void k_file_empty(blob_t *b) { put32(KF(b, 0, jwks), 0); }
static void k_url_not_url(blob_t *b) { put32(KF(b, 1, jwks), get32(KF(b, 0, jwks))); }
static void k_url_empty(blob_t *b) { put32(KF(b, 1, jwks), 0); }
static void k_file_as_url(blob_t *b) { put32(KF(b, 0, jwks_kind), ZT_JWKS_URL); }
static void k_discover_jwks(blob_t *b) { put32(KF(b, 2, jwks), get32(KF(b, 1, jwks))); }
static void k_discover_iss(blob_t *b) { put32(KF(b, 2, iss), get32(KF(b, 0, name))); }
static void k_discover_query(blob_t *b) { put32(KF(b, 2, iss), get32(KF(b, 1, jwks))); }
static void k_none_jwks(blob_t *b) { put32(KF(b, 3, jwks), get32(KF(b, 0, jwks))); }
static void k_url_refresh0(blob_t *b) { put32(KF(b, 1, refresh), 0); }
static void k_discover_refetch0(blob_t *b) { put32(KF(b, 2, refetch_min), 0); }
static void k_file_refresh(blob_t *b) { put32(KF(b, 0, refresh), 7); }
static void k_none_refetch(blob_t *b) { put32(KF(b, 3, refetch_min), 1); }
static void k_hs_no_secret(blob_t *b) { put32(KF(b, 3, secret), 0); }
static void k_secret_no_hs(blob_t *b) { put32(KF(b, 0, secret), get32(KF(b, 3, secret))); }
static void k_none_asym(blob_t *b) { put32(KF(b, 3, algs), ZT_ALG_HS512 | ZT_ALG_RS256); }
static void k_keyset_only_hs(blob_t *b) { put32(KF(b, 1, algs), ZT_ALG_HS256); }
static void k_req_many(blob_t *b) { put32(KF(b, 1, nrequired), 33); }
static void k_req_off(blob_t *b) { put32(KF(b, 1, nrequired), 0); }
static void k_req_empty(blob_t *b) { put32(KF(b, 1, required), 0); }
static void k_req_mid(blob_t *b) { put32(KF(b, 1, required), get32(KF(b, 1, required)) + 1); }
static void k_req_past(blob_t *b)
{
    uint32_t len;
    unsigned char *s = sect(b, ZT_TAG_STRS, &len);
    uint32_t last = len - 1;
    while (s[last - 1] != 0) {
        last--;
    }
    put32(KF(b, 1, required), last);
    put32(KF(b, 1, nrequired), 2);
}
static void k_binding(blob_t *b) { put32(KF(b, 4, binding), ZT_BIND_ANY + 1); }
static void k_typ_past(blob_t *b) { put32(KF(b, 1, typ), strs_len(b)); }
static void k_secret_past(blob_t *b) { put32(KF(b, 3, secret), 0xffffffffu); }

static const bad_case_t bad_issuers[] = {
    { "jwks kind 5", k_kind5, "issuer 0: unknown jwks kind 5", 0 },
    { "jwks kind 0", k_kind0, "issuer 0: unknown jwks kind 0", 0 },
    { "jwks file empty", k_file_empty, "issuer 0: jwks is empty (kind file)", 0 },
    { "jwks url not a URL", k_url_not_url,
      "issuer 1: jwks URL is not an https:// URL", 0 },
    { "jwks url empty", k_url_empty, "issuer 1: jwks URL is not an https:// URL", 0 },
    { "file name as url", k_file_as_url, "issuer 0: jwks URL is not an https:// URL", 0 },
    { "discover with jwks", k_discover_jwks,
      "issuer 2: jwks must be empty for kind discover", 0 },
    { "discover plain iss", k_discover_iss,
      "issuer 2: jwks discover needs an https iss, and iss is not an https:// URL", 0 },
    { "discover iss query", k_discover_query,
      "issuer 2: jwks discover needs an https iss, and iss has a query", 0 },
    { "none with jwks", k_none_jwks, "issuer 3: jwks must be empty for kind none", 0 },
    { "url refresh 0", k_url_refresh0,
      "issuer 1: refresh 0 refetch_min 60, both must be > 0 for a fetched key set", 0 },
    { "discover refetch 0", k_discover_refetch0,
      "issuer 2: refresh 60 refetch_min 0, both must be > 0", 0 },
    { "file with refresh", k_file_refresh,
      "issuer 0: refresh 7 refetch_min 0, both must be 0 unless the key set is fetched", 0 },
    { "none with refetch", k_none_refetch, "issuer 3: refresh 0 refetch_min 1, both must be 0", 0 },
    { "HS without secret", k_hs_no_secret,
      "issuer 3: algorithms 0x1800 include HS* but there is no secret", 0 },
    { "secret without HS", k_secret_no_hs,
      "issuer 0: a secret but no HS* algorithm (algorithms 0x1)", 0 },
    { "none with RS256", k_none_asym,
      "issuer 3: algorithms 0x1001 need a key set, but jwks kind is none", 0 },
    { "key set for HS only", k_keyset_only_hs,
      "issuer 1: a key set (jwks kind 2) but only HS* algorithms (0x400)", 0 },
    { "33 required", k_req_many, "issuer 1: 33 required claims, the limit is 32", 0 },
    { "required without count", k_req_off,
      "issuer 1: no required claims but required is", 0 },
    { "required empty name", k_req_empty, "issuer 1: required claim 0 is empty", 0 },
    { "required mid-string", k_req_mid,
      "issuer 1: required: string offset", 0 },
    { "required past pool", k_req_past, "issuer 1: required claim 1 starts at", 0 },
    { "issuer binding", k_binding, "issuer 4: binding 4, must be 0 to 3", 0 },
    { "typ past pool", k_typ_past, "issuer 1: typ: string offset", 0 },
    { "secret past pool", k_secret_past, "issuer 3: secret: string offset 4294967295", 0 },
};
#define NBAD_ISSUERS ((int)(sizeof(bad_issuers) / sizeof(bad_issuers[0])))

START_TEST(bad_issuer)
{
    const bad_case_t *c = &bad_issuers[_i];
    blob_t b = keys_blob();

    load_ok(b);
    c->mutate(&b);
    rehash(&b);
    refused(b, c->name, c->expect);
}
END_TEST

/* The one URL rule shared by zpc and the loader. */
START_TEST(url_rule)
{
    static const struct {
        const char *url;
        int no_query;
        const char *problem;    /* substring, or NULL when allowed */
    } c[] = {
        { "https://idp.example.com/realms/corp/protocol/openid-connect/certs", 0, NULL },
        { "https://idp", 0, NULL },
        { "https://idp:8443/x?a=b&c=%20", 0, NULL },
        { "https://idp_1.corp-x.example./", 0, NULL },
        { "https://[2001:db8::1]:443/jwks", 0, NULL },
        { "https://idp/x?a=b", 1, "has a query ('?')" },
        { "http://127.0.0.1/jwks", 0, NULL },
        { "http://127.255.0.9:65535", 0, NULL },
        { "http://localhost:8080/certs", 1, NULL },
        { "http://LocalHost/certs", 0, NULL },
        { "http://[::1]:9000/", 0, NULL },
        { "http://idp.example.com/certs", 0, "uses http to a host that is not loopback" },
        { "http://128.0.0.1/", 0, "not loopback" },
        { "http://127.0.0/", 0, "not loopback" },
        { "http://127.0.0.1.evil.com/", 0, "not loopback" },
        { "http://127.0.0.01/", 0, "not loopback" },
        { "http://127.0.0.256/", 0, "not loopback" },
        { "http://localhost.evil.com/", 0, "not loopback" },
        { "http://[::2]/", 0, "not loopback" },
        { "http://[0:0:0:0:0:0:0:1]/", 0, "not loopback" },
        { "HTTPS://idp/", 0, "is not an https:// URL" },
        { "ftp://idp/", 0, "is not an https:// URL" },
        { "https:/idp/", 0, "is not an https:// URL" },
        { "idp.example.com/certs", 0, "is not an https:// URL" },
        { "", 0, "is not an https:// URL" },
        { "https://", 0, "has no host" },
        { "https:///certs", 0, "has no host" },
        { "https://:443/", 0, "has no host" },
        { "https://user:pw@idp/", 0, "user information" },
        { "http://x@127.0.0.1/", 0, "user information" },
        { "https://u:p@idp/a#b c", 0, "user information" },
        { "https://idp/a@b", 0, NULL },
        { "https://idp/certs#k", 0, "has a fragment" },
        { "https://idp/a b", 0, "a character that a URL cannot hold" },
        { "https://idp/a\tb", 0, "a character that a URL cannot hold" },
        { "https://idp/\xc3\xa9", 0, "a character that a URL cannot hold" },
        { "https://idp/a\\b", 0, "a character that a URL cannot hold" },
        { "https://idp:0/", 0, "port outside 1..65535" },
        { "https://idp:65536/", 0, "port outside 1..65535" },
        { "https://idp:/", 0, "bad host or port" },
        { "https://idp:123456/", 0, "bad host or port" },
        { "https://idp:8x/", 0, "bad host or port" },
        { "https://idp!/", 0, "bad host or port" },
        { "https://[::1/", 0, "bad IPv6 address" },
        { "https://[]/", 0, "bad IPv6 address" },
        { "https://[fe80::1%25eth0]/", 0, "bad IPv6 address" },
        { "https://[::1]x/", 0, "bad host or port" },
    };

    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        const char *p = zt_table_url_problem(c[i].url, c[i].no_query);
        if (c[i].problem == NULL) {
            ck_assert_msg(p == NULL, "%s: %s", c[i].url, p);
        }
        else {
            ck_assert_msg(p != NULL && strstr(p, c[i].problem) != NULL,
                          "%s: got \"%s\", want \"%s\"", c[i].url,
                          p ? p : "(allowed)", c[i].problem);
        }
    }
}
END_TEST

/* The limits are exact: one less than each refused table loads. */
START_TEST(limits_exact)
{
    blob_t b = orders_blob(), x;
    zt_table_t *t;
    zt_match_t m;
    zt_decision_t d;
    const zt_claims_t *claims = zt_jdoc_parse("{}", 2, 2, pool, &(const char *){ NULL });

    x = copy(b);
    not_chain(&x, ZT_MAX_COND_DEPTH - 1);     /* depth 128 */
    put32(FIELD(RULE(&x, 1), zt_rule_rec_t, cond), 0);
    rehash(&x);
    t = load_ok(x);
    /* 127 NOTs over TRUE: false.  Route 1 = GET /orders, rules 1 and 5;
     * rule 5's condition is node 9: NOT^118 TRUE = true, so the deny wins. */
    ck_assert_int_eq(zt_route_match(t, "GET", "/orders", &m), ZT_ROUTE_OK);
    decide(t, &m, claims, &d);
    ck_assert_int_eq(d.verdict, ZT_DENY);
    ck_assert_uint_eq(d.rule, 5);

    x = copy(b);
    or_doubling(&x, 11);            /* 4095 nodes as a tree */
    rehash(&x);
    t = load_ok(x);
    ck_assert_int_eq(zt_route_match(t, "GET", "/users/u/orders", &m), ZT_ROUTE_OK);
    decide(t, &m, claims, &d);
    ck_assert_int_eq(d.verdict, ZT_ALLOW);      /* rule 4: node 6 is true */
    ck_assert_uint_eq(d.rule, 4);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Emitter limits                                                      */
/* ------------------------------------------------------------------ */

static const char *emit_err(const zpc_ir_t *ir)
{
    void *buf;
    apr_size_t len;
    const char *err = NULL;

    ck_assert_int_ne(zpc_emit(ir, pool, &buf, &len, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(err);
    return err;
}

START_TEST(emit_limit_routes)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");

    for (uint32_t i = 0; i < ZT_MAX_ROUTES + 1; i++) {
        zpc_ir_route_t *r = &APR_ARRAY_PUSH(ir->routes, zpc_ir_route_t);
        memset(r, 0, sizeof(*r));
        r->methods = ZT_M_GET;
        r->pattern = "/";
    }
    ck_assert_str_eq(emit_err(ir), "too many routes (262145; the limit is 262144)");
}
END_TEST

START_TEST(emit_limit_rules)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");

    for (uint32_t i = 0; i < ZT_MAX_RULES + 1; i++) {
        zpc_ir_rule_t *r = &APR_ARRAY_PUSH(ir->rules, zpc_ir_rule_t);
        memset(r, 0, sizeof(*r));
        r->cond = ZT_NONE;
    }
    ck_assert_str_eq(emit_err(ir), "too many rules (262145; the limit is 262144)");
}
END_TEST

START_TEST(emit_limit_nodes)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");

    for (uint32_t i = 0; i < ZT_MAX_NODES + 1; i++) {
        zb_node_raw(ir, ZT_OP_TRUE, 0, 0, 0);
    }
    ck_assert_str_eq(emit_err(ir),
                     "too many condition nodes (1048577; the limit is 1048576)");
}
END_TEST

START_TEST(emit_limit_issuers)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");

    for (int i = 0; i < ZT_MAX_ISSUERS; i++) {
        zb_issuer(ir, "i", apr_psprintf(pool, "https://i/%d", i), "a",
                  ZT_ALG_RS256, "k.json", 0, 0);
    }
    load_ok(emit(ir));
    zb_issuer(ir, "i", "https://i/x", "a", ZT_ALG_RS256, "k.json", 0, 0);
    ck_assert_str_eq(emit_err(ir), "too many issuers (65; the limit is 64)");
}
END_TEST

START_TEST(emit_limit_segments)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    char path[2 * 40 + 1] = "";

    for (int i = 0; i < ZT_MAX_SEGMENTS; i++) {
        strcat(path, "/a");
    }
    zb_route(ir, ZT_M_GET, apr_pstrdup(pool, path));
    load_ok(emit(ir));
    strcat(path, "/a");
    zb_route(ir, ZT_M_GET, apr_pstrdup(pool, path));
    ck_assert_ptr_nonnull(strstr(emit_err(ir),
                          ": too many path segments (33; the limit is 32)"));
}
END_TEST

START_TEST(emit_limit_params)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/q");

    for (int i = 0; i < ZT_MAX_PARAMS; i++) {
        zb_param(ir, r, ZT_PARAM_QUERY, apr_psprintf(pool, "p%d", i), NULL,
                 ZT_PARAM_OPTIONAL);
    }
    load_ok(emit(ir));
    zb_param(ir, r, ZT_PARAM_HEADER, "x-one-more", NULL, 0);
    ck_assert_str_eq(emit_err(ir), "route /q: too many query and header parameters "
                     "(65; the limit is 64)");
}
END_TEST

START_TEST(emit_limit_limits)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/q");

    for (int i = 0; i < ZT_MAX_LIMITS; i++) {
        zb_limit(ir, (uint32_t)i + 1, 60, ZT_LIMIT_SUB, 1, r);
    }
    load_ok(emit(ir));
    zb_limit(ir, 100, 1, ZT_LIMIT_IP, 1, r);
    ck_assert_str_eq(emit_err(ir), "route /q: too many rate limits (17; the limit is 16)");
}
END_TEST

/* ZT_MAX_LIST: enum values, acr values, and the members of IN_LIST and
 * IN_CIDR, each exactly at the limit and one past it. */
START_TEST(emit_limit_list)
{
    apr_array_header_t *values = apr_array_make(pool, ZT_MAX_LIST + 1, sizeof(char *));
    zpc_ir_t *ir;
    zpc_ir_type_t *ty;
    uint32_t r;

    for (int i = 0; i < ZT_MAX_LIST; i++) {
        APR_ARRAY_PUSH(values, const char *) = apr_psprintf(pool, "v%d", i);
    }
    ir = zb_new(pool, "p", "p.ztp");
    r = zb_route(ir, ZT_M_GET, "/q");
    ty = zb_type(ir, ZT_TYPE_ENUM, 0, 0, NULL, "x");
    ty->values = values;
    zb_param(ir, r, ZT_PARAM_QUERY, "e", ty, 0);
    zb_stepup(ir, NULL, 60, 1, r);
    APR_ARRAY_IDX(ir->stepups, 0, zpc_ir_stepup_t).acr = apr_array_copy(pool, values);
    load_ok(emit(ir));
    APR_ARRAY_PUSH(values, const char *) = "one more";
    APR_ARRAY_PUSH(APR_ARRAY_IDX(ir->stepups, 0, zpc_ir_stepup_t).acr,
                   const char *) = "one more";
    ck_assert_str_eq(emit_err(ir), "stepup at p.ztp:200: acr: 65537 values (the "
                     "limit is 65536)");
    APR_ARRAY_IDX(ir->stepups, 0, zpc_ir_stepup_t).acr->nelts = 1;
    ck_assert_str_eq(emit_err(ir), "route /q: parameter e: enum: 65537 values (the "
                     "limit is 65536)");

    ir = zb_new(pool, "p", "p.ztp");
    r = zb_route(ir, ZT_M_GET, "/q");
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(in_list token.a [\"x\"])", "GET /q", 1, r);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(in_cidr client.ip [10.0.0.0/8])", "GET /q", 1, r);
    APR_ARRAY_IDX(ir->nodes, 0, zpc_ir_node_t).c = ZT_MAX_LIST + 1;
    ck_assert_str_eq(emit_err(ir), "condition node 0: a list of 65537 members (the "
                     "limit is 65536)");
    APR_ARRAY_IDX(ir->nodes, 0, zpc_ir_node_t).c = 1;
    APR_ARRAY_IDX(ir->nodes, 1, zpc_ir_node_t).c = ZT_MAX_LIST + 1;
    ck_assert_str_eq(emit_err(ir), "condition node 1: a list of 65537 members (the "
                     "limit is 65536)");
}
END_TEST

/* Equal types share a record; a schema used twice is stored once. */
START_TEST(emit_interns_types_and_schemas)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t a = zb_route(ir, ZT_M_PUT, "/a/{x:int}");
    uint32_t b = zb_route(ir, ZT_M_PUT, "/b/{y:int}/{z:uuid}");
    zpc_ir_body_t *body = zb_body(ir, a, ZT_BODY_JSON, 100, "s.json", "{}", NULL);
    zt_table_t *t;

    zb_body(ir, b, ZT_BODY_JSON, 200, "s.json", "{}", NULL);
    zb_param(ir, a, ZT_PARAM_QUERY, "e", zb_type(ir, ZT_TYPE_ENUM, 0, 0, NULL, "p q"), 0);
    zb_param(ir, b, ZT_PARAM_QUERY, "e", zb_type(ir, ZT_TYPE_ENUM, 0, 0, NULL, "p q"), 0);
    zb_param(ir, b, ZT_PARAM_QUERY, "f", zb_type(ir, ZT_TYPE_ENUM, 0, 0, NULL, "p q r"), 0);
    /* min/max of a kind without a range are not part of the record */
    zb_param(ir, b, ZT_PARAM_QUERY, "u", zb_type(ir, ZT_TYPE_UUID, 5, 9, "x", NULL), 0);
    t = load_ok(emit(ir));
    ck_assert_uint_eq(t->ntypes, 4);           /* int, enum pq, uuid, enum pqr */
    ck_assert_uint_eq(t->segs[1].type, t->segs[3].type);
    ck_assert_uint_eq(t->params[0].type, t->params[1].type);
    ck_assert_uint_ne(t->params[1].type, t->params[2].type);
    ck_assert_uint_eq(t->params[3].type, t->segs[4].type);
    ck_assert_uint_eq(t->nbodies, 2);
    ck_assert_uint_eq(t->bodies[0].schema_off, t->bodies[1].schema_off);
    ck_assert_uint_eq(t->blob_len, 8);
    /* one body record for a body shared by two routes */
    APR_ARRAY_IDX(ir->routes, b, zpc_ir_route_t).body = body;
    t = load_ok(emit(ir));
    ck_assert_uint_eq(t->nbodies, 1);
    ck_assert_uint_eq(t->routes[0].body, 0);
    ck_assert_uint_eq(t->routes[1].body, 0);
}
END_TEST

START_TEST(emit_limit_claim_depth)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/");

    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(eq token.a.b.c.d.e.f.g.h 1)", "GET /", 1, r);
    load_ok(emit(ir));
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(eq token.a.b.c.d.e.f.g.h.i 1)", "GET /", 1, r);
    ck_assert_str_eq(emit_err(ir), "claim path token.a.b.c.d.e.f.g.h.i has 9 parts "
                     "(the limit is 1..8)");
}
END_TEST

START_TEST(emit_empty_claim_part)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/");

    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(eq token.a..b 1)", "GET /", 1, r);
    ck_assert_str_eq(emit_err(ir), "claim path token.a..b has an empty part");
}
END_TEST

START_TEST(emit_limit_cond_depth)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/");
    zpc_ir_rule_t *rule;

    zb_rule(ir, ZT_EFFECT_ALLOW, 0, NULL, "GET /", 1, r);
    rule = &APR_ARRAY_IDX(ir->rules, 0, zpc_ir_rule_t);
    rule->cond = 0;
    for (uint32_t i = 0; i < ZT_MAX_COND_DEPTH - 1; i++) {
        zb_node_raw(ir, ZT_OP_NOT, i + 1, 0, 0);
    }
    zb_node_raw(ir, ZT_OP_TRUE, 0, 0, 0);
    load_ok(emit(ir));
    /* one more level */
    APR_ARRAY_IDX(ir->nodes, ZT_MAX_COND_DEPTH - 1, zpc_ir_node_t).op = ZT_OP_NOT;
    APR_ARRAY_IDX(ir->nodes, ZT_MAX_COND_DEPTH - 1, zpc_ir_node_t).a = ZT_MAX_COND_DEPTH;
    zb_node_raw(ir, ZT_OP_TRUE, 0, 0, 0);
    ck_assert_str_eq(emit_err(ir), "the condition of the rule at p.ztp:100 is "
                     "nested too deeply (depth 129; the limit is 128)");
}
END_TEST

START_TEST(emit_limit_cond_size)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/");

    zb_rule(ir, ZT_EFFECT_ALLOW, 0, NULL, "GET /", 1, r);
    APR_ARRAY_IDX(ir->rules, 0, zpc_ir_rule_t).cond = 0;
    for (uint32_t i = 0; i < 12; i++) {
        zb_node_raw(ir, ZT_OP_AND, i + 1, i + 1, 0);
    }
    zb_node_raw(ir, ZT_OP_TRUE, 0, 0, 0);
    ck_assert_ptr_nonnull(strstr(emit_err(ir), "the condition of the rule at "
                                 "p.ztp:100 is too large"));
}
END_TEST

/* Enough text to make the string pool grow several times, one string
 * longer than the initial buffer; every string must survive it. */
START_TEST(emit_big_strings)
{
    zpc_ir_t *ir = zb_new(pool, "big", "b.ztp");
    char *huge = apr_palloc(pool, 10001);
    zt_table_t *t;

    memset(huge, 'h', 10000);
    huge[10000] = '\0';
    for (int i = 0; i < 300; i++) {
        zb_route(ir, ZT_M_GET, apr_psprintf(pool, "/r%d-%0100d/{c%d}", i, i, i));
    }
    zb_route(ir, ZT_M_GET, apr_pstrcat(pool, "/", huge, NULL));
    t = load_ok(emit(ir));
    ck_assert_uint_eq(t->nroutes, 301);
    ck_assert_uint_gt(t->strs_len, 3 * 4096 + 10000);
    for (uint32_t i = 0; i < 300; i++) {
        const zt_seg_rec_t *sg = &t->segs[t->routes[i].seg_first];
        ck_assert_str_eq(zt_table_str(t, t->routes[i].pattern),
                         apr_psprintf(pool, "/r%u-%0100u/{c%u}", i, i, i));
        ck_assert_str_eq(zt_table_str(t, sg[0].str), apr_psprintf(pool, "r%u-%0100u", i, i));
        ck_assert_str_eq(zt_table_str(t, sg[1].str), apr_psprintf(pool, "c%u", i));
    }
    ck_assert_str_eq(zt_table_str(t, t->segs[t->routes[300].seg_first].str), huge);
}
END_TEST

START_TEST(emit_backward_node)
{
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");

    zb_node_raw(ir, ZT_OP_TRUE, 0, 0, 0);
    zb_node_raw(ir, ZT_OP_NOT, 0, 0, 0);
    ck_assert_str_eq(emit_err(ir), "internal error: node 1: child 0 is not in 2..1");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

static char *tmpdir(void)
{
    char *d = apr_pstrdup(pool, "/tmp/zt_test_table.XXXXXX");

    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

START_TEST(write_and_open)
{
    char *dir = tmpdir();
    char *path = apr_pstrcat(pool, dir, "/t.ztb", NULL);
    blob_t b = orders_blob();
    zt_table_t *t;
    const char *err = NULL;
    struct stat st;

    ck_assert_int_eq(zpc_write_atomic(path, b.buf, b.len, pool, &err), APR_SUCCESS);
    ck_assert_int_eq(count_entries(dir), 1);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    ck_assert_int_eq(zt_table_open(&t, path, pool, &err), APR_SUCCESS);
    ck_assert_uint_eq(t->nroutes, 6);
    ck_assert_str_eq(t->name, path);
    /* replace it while loaded: the loaded table keeps the old file */
    ck_assert_int_eq(zpc_write_atomic(path, b.buf, b.len, pool, &err), APR_SUCCESS);
    ck_assert_int_eq(count_entries(dir), 1);
    ck_assert_uint_eq(t->nroutes, 6);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* What was verified is what is read: rewriting the file in place (not
 * by rename) or truncating it leaves a loaded table as it was. */
START_TEST(open_then_rewrite_in_place)
{
    char *dir = tmpdir();
    char *path = apr_pstrcat(pool, dir, "/t.ztb", NULL);
    blob_t b = orders_blob();
    zt_table_t *t;
    const char *err = NULL;
    FILE *f;
    fp_t want[FP_N], got[FP_N];

    ck_assert_int_eq(zpc_write_atomic(path, b.buf, b.len, pool, &err), APR_SUCCESS);
    ck_assert_int_eq(zt_table_open(&t, path, pool, &err), APR_SUCCESS);
    fingerprint(t, want);
    f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < b.len; i++) {
        fputc(0xff, f);
    }
    fclose(f);
    ck_assert_int_eq(memcmp(t->base, b.buf, b.len), 0);
    fingerprint(t, got);
    ck_assert_int_eq(memcmp(want, got, sizeof(want)), 0);
    ck_assert_int_eq(truncate(path, 8), 0);
    ck_assert_int_eq(memcmp(t->base, b.buf, b.len), 0);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* A bare file name is written in the current directory. */
START_TEST(write_relative)
{
    char *dir = tmpdir();
    char cwd[4096];
    blob_t b = orders_blob();
    zt_table_t *t;
    const char *err = NULL;

    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    ck_assert_int_eq(chdir(dir), 0);
    ck_assert_int_eq(zpc_write_atomic("rel.ztb", b.buf, b.len, pool, &err), APR_SUCCESS);
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_int_eq(count_entries(dir), 1);
    ck_assert_int_eq(zt_table_open(&t, apr_pstrcat(pool, dir, "/rel.ztb", NULL),
                                   pool, &err), APR_SUCCESS);
    ck_assert_int_eq(unlink(apr_pstrcat(pool, dir, "/rel.ztb", NULL)), 0);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(write_fails_cleanly)
{
    char *dir = tmpdir();
    char *sub = apr_pstrcat(pool, dir, "/sub", NULL);
    blob_t b = orders_blob();
    const char *err = NULL;

    /* no such directory */
    ck_assert_int_ne(zpc_write_atomic(apr_pstrcat(pool, dir, "/no/t.ztb", NULL),
                                      b.buf, b.len, pool, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "cannot create a temporary file for"));
    /* the target is a directory: rename fails after the write */
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    err = NULL;
    ck_assert_int_ne(zpc_write_atomic(sub, b.buf, b.len, pool, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "cannot rename the new table to"));
    ck_assert_int_eq(count_entries(dir), 1);        /* only sub/ */
    ck_assert_int_eq(rmdir(sub), 0);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(open_errors)
{
    char *dir = tmpdir();
    char *empty = apr_pstrcat(pool, dir, "/empty.ztb", NULL);
    char *junk = apr_pstrcat(pool, dir, "/junk.ztb", NULL);
    zt_table_t *t = (zt_table_t *)1;
    const char *err = NULL;
    FILE *f;

    ck_assert_int_ne(zt_table_open(&t, apr_pstrcat(pool, dir, "/none.ztb", NULL),
                                   pool, &err), APR_SUCCESS);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(err, "none.ztb: cannot open: "));

    ck_assert_int_ne(zt_table_open(&t, dir, pool, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, ": not a regular file"));

    f = fopen(empty, "w");
    fclose(f);
    ck_assert_int_ne(zt_table_open(&t, empty, pool, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "empty.ztb: bad table (file is 0 bytes"));

    f = fopen(junk, "w");
    for (int i = 0; i < 100; i++) {
        fputs("junk", f);
    }
    fclose(f);
    ck_assert_int_ne(zt_table_open(&t, junk, pool, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "junk.ztb: bad table (bad magic 6a 75 6e 6b"));

    unlink(empty);
    unlink(junk);
    rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Dump                                                                */
/* ------------------------------------------------------------------ */

static const char dump_want[] =
"policy \"orders-api\"  (source orders.ztp, sha256 %s)\n"
"issuer corp  iss \"https://idp.example.com/realms/corp\"  aud \"orders-api\"  algs RS256 ES256 EdDSA\n"
"       jwks file \"corp.jwks.json\"  max_lifetime 900s  leeway 30s  (line 3)\n"
"route 0  GET     /health              rules 0  (orders.ztp:11)\n"
"route 1  GET     /orders              rules 1 5  (orders.ztp:12)\n"
"route 2  GET     /orders/{id}         rules 1 5  (orders.ztp:13)\n"
"route 3  POST    /orders              rules 2 5  (orders.ztp:14)\n"
"route 4  DELETE  /orders/{id}         rules 3 5  (orders.ztp:15)\n"
"route 5  GET     /users/{uid}/orders  rules 4  (orders.ztp:16)\n"
"rule 0  allow  public  GET /health  (orders.ztp:100)\n"
"rule 1  allow  when n0  GET /orders, GET /orders/{id}  (orders.ztp:101)\n"
"rule 2  allow  when n1  POST /orders  (orders.ztp:102)\n"
"rule 3  allow  when n2  DELETE /orders/{id}  (orders.ztp:103)\n"
"rule 4  allow  when n6  GET /users/{uid}/orders  (orders.ztp:104)\n"
"rule 5  deny   when n9  * /orders/**  (orders.ztp:105)\n"
"node 0  in_claim \"orders:read\" token.scope\n"
"node 1  in_claim \"orders:write\" token.scope\n"
"node 2  and n3 n4\n"
"node 3  in_claim \"admin\" token.realm_access.roles\n"
"node 4  not n5\n"
"node 5  eq token.azp \"web-spa\"\n"
"node 6  or n7 n8\n"
"node 7  eq token.sub path.uid\n"
"node 8  in_claim \"admin\" token.realm_access.roles\n"
"node 9  in_list token.azp [\"legacy-batch\"]\n";

static const char dump_full_want[] =
"policy \"full\"  (source orders.ztp, sha256 %s)\n"
"issuer corp  iss \"https://idp.example.com/realms/corp\"  aud \"orders-api\"  algs RS256 ES256 EdDSA\n"
"       jwks file \"corp.jwks.json\"  max_lifetime 900s  leeway 30s  (line 3)\n"
"route 0  GET     /health                                   rules 0  (orders.ztp:11)\n"
"route 1  GET     /orders                                   rules 1 5  limits 0  (orders.ztp:12)\n"
"route 2  GET     /orders/{id}                              rules 1 5  limits 0 1  (orders.ztp:13)\n"
"route 3  POST    /orders                                   rules 2 5  (orders.ztp:14)\n"
"route 4  DELETE  /orders/{id}                              rules 3 5  stepup 0  (orders.ztp:15)\n"
"route 5  GET     /users/{uid}/orders                       rules 4  (orders.ztp:16)\n"
"route 6  GET     /files/**                                 rules 6 11  (orders.ztp:17)\n"
"       query v any optional\n"
"       query * any\n"
"route 7  GET     /items/*/meta                             rules 7 11 12  (orders.ztp:18)\n"
"route 8  GET     /search                                   rules 8  (orders.ztp:19)\n"
"       query q string 1..64 /[a-z]+/\n"
"       query limit int 1..100 optional\n"
"       query tag enum(\"red\", \"green\", \"blue\") optional list\n"
"       query exact bool optional\n"
"       query score number optional\n"
"       header \"x-tenant\" string 1..64\n"
"       header \"x-request-id\" uuid optional\n"
"route 9  PUT     /docs/{id: uuid}                          rules 9  stepup 1  limits 1 2  pattern \"/docs/{id:uuid}\"  (orders.ztp:20)\n"
"       body json max 65536 schema \"doc.schema.json\" (39 bytes)\n"
"route 10  POST    /docs/{id: uuid}/xml/{n: int 0..1000000}  rules 10  pattern \"/docs/{id:uuid}/xml/{n:int}\"  (orders.ztp:21)\n"
"       body xml max 1024 schema \"doc.xsd\" (57 bytes) root \"doc\"\n"
"route 11  GET     /cert/{name}                              rules 13 14  (orders.ztp:22)\n"
"rule 0  allow  public  GET /health  (orders.ztp:100)\n"
"rule 1  allow  when n0  GET /orders, GET /orders/{id}  (orders.ztp:101)\n"
"rule 2  allow  when n1  POST /orders  (orders.ztp:102)\n"
"rule 3  allow  when n2  DELETE /orders/{id}  (orders.ztp:103)\n"
"rule 4  allow  when n6  GET /users/{uid}/orders  (orders.ztp:104)\n"
"rule 5  deny   when n9  * /orders/**  (orders.ztp:105)\n"
"rule 6  allow  public when n10  GET /files/**  (orders.ztp:106)\n"
"rule 7  allow  when n11  GET /items/*/meta  (orders.ztp:107)\n"
"rule 8  allow  when n14  GET /search  (orders.ztp:108)\n"
"rule 9  allow  when n17  PUT /docs/{id}  (orders.ztp:109)\n"
"rule 10  allow  when n20  POST /docs/{id}/xml/{n}  (orders.ztp:110)\n"
"rule 11  deny   when n23  GET /files/**, GET /items/*/meta  (orders.ztp:111)\n"
"rule 12  allow  when n24  GET /items/*/meta  (orders.ztp:112)\n"
"rule 13  allow  when n27  GET /cert/{name}  (orders.ztp:113)\n"
"rule 14  deny   when n28  GET /cert/{name}  (orders.ztp:114)\n"
"stepup 0  acr \"gold\" \"platinum\"  max_age 300s  (orders.ztp:200)\n"
"stepup 1  max_age 600s  (orders.ztp:201)\n"
"limit 0  100/min per token.sub  (orders.ztp:300)\n"
"limit 1  10/s per client.ip  (orders.ztp:301)\n"
"limit 2  5000/hour per token.azp  (orders.ztp:302)\n"
"node 0  in_claim \"orders:read\" token.scope\n"
"node 1  in_claim \"orders:write\" token.scope\n"
"node 2  and n3 n4\n"
"node 3  in_claim \"admin\" token.realm_access.roles\n"
"node 4  not n5\n"
"node 5  eq token.azp \"web-spa\"\n"
"node 6  or n7 n8\n"
"node 7  eq token.sub path.uid\n"
"node 8  in_claim \"admin\" token.realm_access.roles\n"
"node 9  in_list token.azp [\"legacy-batch\"]\n"
"node 10  in_cidr client.ip [10.0.0.0/8, 2001:db8::/32, 192.168.1.7/32]\n"
"node 11  and n12 n13\n"
"node 12  ge time.hour 8\n"
"node 13  lt time.hour 18\n"
"node 14  and n15 n16\n"
"node 15  eq header[\"x-tenant\"] \"t1\"\n"
"node 16  eq query.q \"abc\"\n"
"node 17  and n18 n19\n"
"node 18  eq client.cert true\n"
"node 19  in_claim \"spiffe://corp/svc-a\" client.cert.san\n"
"node 20  or n21 n22\n"
"node 21  in_list tls.version [\"TLSv1.2\", \"TLSv1.3\"]\n"
"node 22  eq client.cert.subject \"CN=svc\"\n"
"node 23  in_list time.weekday [\"sun\"]\n"
"node 24  and n25 n26\n"
"node 25  gt token.level 1\n"
"node 26  le token.level 3\n"
"node 27  in_list client.cert.san [\"spiffe://corp/svc-b\"]\n"
"node 28  not n29\n"
"node 29  in_cidr client.ip [::1/128, 127.0.0.0/8]\n";

static char *dump_text(const zt_table_t *t)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);

    zpc_dump(f, t);
    fclose(f);
    return s;
}

START_TEST(dump_golden)
{
    zt_table_t *t = load_ok(orders_blob());
    char *got = dump_text(t);

    ck_assert_str_eq(got, apr_psprintf(pool, dump_want, t->hash_hex));
    free(got);
}
END_TEST

/* Every v2 part, as the language writes it. */
START_TEST(dump_full)
{
    zt_table_t *t = load_ok(full_blob());
    char *got = dump_text(t);
    const char *want = apr_psprintf(pool, dump_full_want, t->hash_hex);

    if (strcmp(got, want) != 0) {
        fprintf(stderr, "# got:\n%s# want:\n%s", got, want);
    }
    ck_assert(strcmp(got, want) == 0);
    free(got);
}
END_TEST

/* Odd strings are escaped; a path is shown as matching sees it. */
START_TEST(dump_escapes)
{
    zpc_ir_t *ir = zb_new(pool, "a\"b\\c\n\x1b[31m\xc3\xa9", "/abs/dir/x.ztp");
    uint32_t r = zb_route(ir, ZT_M_OPTIONS, "/x/{y}");
    zt_table_t *t;
    char *got;

    APR_ARRAY_IDX(ir->routes, r, zpc_ir_route_t).pattern = "/x/{y: uuid}";
    zb_route(ir, ZT_M_PATCH, "/");
    zb_issuer(ir, "k", "https://k\x7f", "", ZT_ALG_ALL, "../k.json", 0, 1);
    zb_issuer_keys(ir, 0, ZT_JWKS_FILE, "../k.json", "s\"1\x01.key", 0, 0);
    zb_issuer_claims(ir, 0, "a\tb", "sub x-y \xc3\xa9");
    zb_rule(ir, ZT_EFFECT_DENY, ZT_RULE_PUBLIC,
            "(or (ne token.https://x.io/roles path.y) (eq token.n -42))",
            "OPTIONS /x/{y}", 1, r);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, "(and (true) (in_list token.b [true false 7]))",
            "*\t/x/**", 1, r);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, NULL, "OPTIONS /x/{y}", 1, r);
    t = load_ok(emit(ir));
    got = dump_text(t);
    ck_assert_str_eq(got, apr_psprintf(pool,
        "policy \"a\\\"b\\\\c\\n\\x1b[31m\\xc3\\xa9\"  (source x.ztp, sha256 %s)\n"
        "issuer k  iss \"https://k\\x7f\"  aud \"\"  algs RS256 RS384 RS512 PS256 PS384 PS512 "
        "ES256 ES384 ES512 EdDSA HS256 HS384 HS512\n"
        "       jwks file \"../k.json\"  secret file \"s\\\"1\\x01.key\"  typ \"a\\tb\"  "
        "required sub x-y \"\\xc3\\xa9\"  max_lifetime none  leeway 1s  (line 3)\n"
        "route 0  OPTIONS /x/{y}  rules 0 1 2  pattern \"/x/{y: uuid}\"  (x.ztp:11)\n"
        "route 1  PATCH   /       rules none  (x.ztp:12)\n"
        "rule 0  deny   public when n0  OPTIONS /x/{y}  (x.ztp:100)\n"
        "rule 1  allow  when n3  *\\t/x/**  (x.ztp:101)\n"
        "rule 2  allow  always  OPTIONS /x/{y}  (x.ztp:102)\n"
        "node 0  or n1 n2\n"
        "node 1  ne token[\"https://x\"][\"io/roles\"] path.y\n"
        "node 2  eq token.n -42\n"
        "node 3  and n4 n5\n"
        "node 4  true\n"
        "node 5  in_list token.b [true, false, 7]\n", t->hash_hex));
    free(got);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Loaded policy: each issuer's keys, secret and claim checks          */
/* ------------------------------------------------------------------ */

#define ED_JWKS "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"e\"," \
                "\"x\":\"XZISo4WFpsgwn5n6y_banrZr2YxmntVjR6x0zfZTCBU\"}]}"

static void put_file(const char *dir, const char *name, const void *data,
                     size_t len, mode_t mode)
{
    char *path = apr_pstrcat(pool, dir, "/", name, NULL);
    FILE *f = fopen(path, "wb");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(chmod(path, mode), 0);
}

static void rm_rf(const char *dir)
{
    char *cmd = apr_psprintf(pool, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* The policy of @a ir with key files in @a dir: NULL and *pol, or the error. */
static const char *policy_err(zpc_ir_t *ir, const char *dir, zt_policy_t **pol)
{
    const char *err = NULL;
    zt_table_t *t = load_ok(emit(ir));

    *pol = NULL;
    if (zt_policy_from_table(pol, t, dir, pool, &err) == APR_SUCCESS) {
        ck_assert_ptr_nonnull(*pol);
        return NULL;
    }
    ck_assert_ptr_null(*pol);
    ck_assert_ptr_nonnull(err);
    return err;
}

static const unsigned char secret64[65] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/";

START_TEST(policy_sources)
{
    char *dir = tmpdir();
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/a"), i;
    zt_policy_t *pol;
    const zt_jwk_t *k;
    const char *err;

    zb_issuer(ir, "f", "file-issuer", "api", ZT_ALG_EDDSA, "k.json", 0, 0);
    i = zb_issuer(ir, "u", "https://u.example", "api", ZT_ALG_ES256 | ZT_ALG_HS256,
                  NULL, 900, 5);
    zb_issuer_keys(ir, i, ZT_JWKS_URL, "https://u.example/certs", "u.key", 3600, 60);
    zb_issuer_claims(ir, i, "at+jwt", "sub azp");
    i = zb_issuer(ir, "d", "https://d.example", "api", ZT_ALG_EDDSA, NULL, 0, 0);
    zb_issuer_keys(ir, i, ZT_JWKS_DISCOVER, NULL, NULL, 60, 1);
    i = zb_issuer(ir, "n", "n", "api", ZT_ALG_HS384 | ZT_ALG_HS512, NULL, 0, 0);
    zb_issuer_keys(ir, i, ZT_JWKS_NONE, NULL, "sub/n.key", 0, 0);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, NULL, "GET /a", 1, r);

    put_file(dir, "k.json", ED_JWKS, strlen(ED_JWKS), 0644);
    put_file(dir, "u.key", secret64, 32, 0600);
    ck_assert_int_eq(mkdir(apr_pstrcat(pool, dir, "/sub", NULL), 0755), 0);
    put_file(dir, "sub/n.key", secret64, 64, 0640);

    err = policy_err(ir, dir, &pol);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_int_eq(pol->nissuers, 4);
    ck_assert_str_eq(pol->dir, dir);

    ck_assert_ptr_nonnull(pol->issuers[0].keys);
    ck_assert_int_eq(zt_jwks_count(pol->issuers[0].keys), 1);
    ck_assert_ptr_null(pol->issuers[0].secret);
    ck_assert_ptr_null(pol->issuers[0].typ);
    ck_assert_ptr_null(pol->issuers[0].required);
    ck_assert_int_eq(pol->issuers[0].nrequired, 0);

    /* fetched key sets are zt_keys': nothing is fetched here */
    ck_assert_ptr_null(pol->issuers[1].keys);
    ck_assert(zt_keyset_is_secret(pol->issuers[1].secret));
    k = zt_jwks_key(pol->issuers[1].secret, 0);
    ck_assert_uint_eq(k->algs, ZT_ALG_HS256);
    ck_assert_int_eq(k->bits, 256);
    ck_assert_str_eq(pol->issuers[1].typ, "at+jwt");
    ck_assert_int_eq(pol->issuers[1].nrequired, 2);
    ck_assert_str_eq(pol->issuers[1].required[0], "sub");
    ck_assert_str_eq(pol->issuers[1].required[1], "azp");
    ck_assert_uint_eq(pol->issuers[1].algs, ZT_ALG_ES256 | ZT_ALG_HS256);
    ck_assert_uint_eq(pol->issuers[1].max_lifetime, 900);
    ck_assert_uint_eq(pol->issuers[1].leeway, 5);

    ck_assert_ptr_null(pol->issuers[2].keys);
    ck_assert_ptr_null(pol->issuers[2].secret);

    ck_assert_ptr_null(pol->issuers[3].keys);
    k = zt_jwks_key(pol->issuers[3].secret, 0);
    ck_assert_uint_eq(k->algs, ZT_ALG_HS384 | ZT_ALG_HS512);
    ck_assert_int_eq(k->bits, 512);
    rm_rf(dir);
}
END_TEST

/* One issuer with only a secret file: @a name, written @a len bytes with
 * @a mode unless @a len is -1 (no file) or -2 (a directory). */
static const char *secret_err(uint32_t algs, const char *name, long len,
                              mode_t mode)
{
    char *dir = tmpdir();
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/a");
    zt_policy_t *pol;
    unsigned char big[ZT_SECRET_MAX_LEN + 2];
    const char *err;

    zb_issuer(ir, "n", "https://n", "api", algs, NULL, 0, 0);
    zb_issuer_keys(ir, 0, ZT_JWKS_NONE, NULL, name, 0, 0);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, NULL, "GET /a", 1, r);
    memset(big, 'x', sizeof(big));
    if (len >= 0) {
        put_file(dir, name, big, (size_t)len, mode);
    }
    else if (len == -2) {
        ck_assert_int_eq(mkdir(apr_pstrcat(pool, dir, "/", name, NULL), 0700), 0);
    }
    err = policy_err(ir, dir, &pol);
    rm_rf(dir);
    return err;
}

START_TEST(policy_secret_refused)
{
    static const struct {
        uint32_t algs;
        long len;
        mode_t mode;
        const char *want;   /* substring of the error, or NULL: loads */
    } c[] = {
        { ZT_ALG_HS256, 32, 0600, NULL },
        { ZT_ALG_HS256, 32, 0640, NULL },
        { ZT_ALG_HS256, 32, 0400, NULL },
        { ZT_ALG_HS256, ZT_SECRET_MAX_LEN, 0600, NULL },
        { ZT_ALG_HS256, -1, 0, "issuer n (line 3): secret file " },
        { ZT_ALG_HS256, -2, 0, "is not a regular file" },
        { ZT_ALG_HS256, 32, 0644, "may be read by other users or changed by its "
          "group or others (mode 0644)" },
        { ZT_ALG_HS256, 32, 0604, "(mode 0604)" },
        { ZT_ALG_HS256, 32, 0620, "(mode 0620)" },
        { ZT_ALG_HS256, 32, 0602, "(mode 0602)" },
        { ZT_ALG_HS256, 0, 0600, "0 bytes, but HS256 needs at least 32" },
        { ZT_ALG_HS256, 31, 0600, "31 bytes, but HS256 needs at least 32" },
        { ZT_ALG_HS256 | ZT_ALG_HS384, 47, 0600, "HS384 needs at least 48" },
        { ZT_ALG_HS256 | ZT_ALG_HS512, 63, 0600, "HS512 needs at least 64" },
        { ZT_ALG_HS512, 64, 0600, NULL },
        { ZT_ALG_HS256, ZT_SECRET_MAX_LEN + 1, 0600, "the limit is 4096" },
    };

    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        const char *err = secret_err(c[i].algs, "hs.key", c[i].len, c[i].mode);
        if (c[i].want == NULL) {
            ck_assert_msg(err == NULL, "case %zu: %s", i, err);
        }
        else {
            ck_assert_msg(err != NULL && strstr(err, c[i].want) != NULL,
                          "case %zu: got \"%s\", want \"%s\"", i,
                          err ? err : "(loaded)", c[i].want);
            ck_assert_msg(strncmp(err, "t.ztb: issuer n (line 3): ", 26) == 0,
                          "case %zu: %s", i, err);
        }
    }
}
END_TEST

static char *b64url(const unsigned char *p, size_t n)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *o = apr_palloc(pool, n * 4 / 3 + 4), *q = o;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        v |= i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0;
        v |= i + 2 < n ? p[i + 2] : 0;
        *q++ = a[v >> 18];
        *q++ = a[(v >> 12) & 63];
        if (i + 1 < n) {
            *q++ = a[(v >> 6) & 63];
        }
        if (i + 2 < n) {
            *q++ = a[v & 63];
        }
    }
    *q = '\0';
    return o;
}

static char *hs256_jwt(const unsigned char *key, size_t keylen, const char *claims)
{
    const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char *input = apr_pstrcat(pool, b64url((const unsigned char *)hdr, strlen(hdr)),
                              ".", b64url((const unsigned char *)claims,
                                          strlen(claims)), NULL);
    unsigned char mac[32];
    size_t maclen = 0;

    ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen,
                                    (const unsigned char *)input, strlen(input),
                                    mac, sizeof(mac), &maclen));
    ck_assert_uint_eq(maclen, 32);
    return apr_pstrcat(pool, input, ".", b64url(mac, 32), NULL);
}

/* Each rule's "file:line" is written when the policy is made, for every
 * width of line zt_put_decimal has a path for, from several files; the
 * strings lie one after another in one buffer, each ended by its NUL. */
START_TEST(policy_rule_where)
{
    static const struct {
        const char *file;
        uint32_t line;
        const char *want;
    } rules[] = {
        { "p.ztp", 1, "p.ztp:1" },
        { "p.ztp", 9, "p.ztp:9" },
        { "inc/other.ztp", 10, "inc/other.ztp:10" },
        { "p.ztp", 12345, "p.ztp:12345" },
        { "/etc/zt/abs.ztp", 99999999, "/etc/zt/abs.ztp:99999999" },
        { "p.ztp", 100000000, "p.ztp:100000000" },
        { "inc/other.ztp", UINT32_MAX, "inc/other.ztp:4294967295" },
        { "p.ztp", 0, "p.ztp:0" },
    };
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/a");
    size_t n = sizeof(rules) / sizeof(rules[0]), off = 0;
    zt_policy_t *pol;
    const char *err;

    for (size_t i = 0; i < n; i++) {
        uint32_t k = zb_rule(ir, ZT_EFFECT_ALLOW, ZT_RULE_PUBLIC, NULL,
                             "GET /a", 1, r);

        APR_ARRAY_IDX(ir->rules, k, zpc_ir_rule_t).file = rules[i].file;
        APR_ARRAY_IDX(ir->rules, k, zpc_ir_rule_t).line = rules[i].line;
    }
    err = policy_err(ir, ".", &pol);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_uint_eq(pol->table->nrules, n);
    for (size_t i = 0; i < n; i++) {
        const char *w = zt_policy_rule_where(pol, (uint32_t)i);

        ck_assert_str_eq(w, rules[i].want);
        ck_assert_ptr_eq(w, pol->where + off);
        ck_assert_uint_eq(zt_policy_rule_where_len(pol, (uint32_t)i),
                          strlen(rules[i].want));
        off += strlen(rules[i].want) + 1;
    }
}
END_TEST

/* The secret is the file's bytes, all of them: a trailing newline counts. */
START_TEST(policy_secret_raw_bytes)
{
    char *dir = tmpdir();
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/a");
    unsigned char key[41];
    const char *claims = "{\"iss\":\"https://hs\",\"aud\":\"api\",\"sub\":\"s\","
                         "\"iat\":1700000000,\"exp\":1700000600}";
    zt_policy_t *pol;
    zt_token_t out;
    const char *err, *reason = NULL;
    char *jwt;

    memcpy(key, secret64, 40);
    key[40] = '\n';
    zb_issuer(ir, "hs", "https://hs", "api", ZT_ALG_HS256, NULL, 0, 0);
    zb_issuer_keys(ir, 0, ZT_JWKS_NONE, NULL, "hs.key", 0, 0);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, NULL, "GET /a", 1, r);
    put_file(dir, "hs.key", key, sizeof(key), 0600);
    err = policy_err(ir, dir, &pol);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_int_eq(zt_jwks_key(pol->issuers[0].secret, 0)->bits, 41 * 8);

    jwt = hs256_jwt(key, sizeof(key), claims);
    ck_assert_int_eq(zt_token_verify(jwt, strlen(jwt), pol->issuers, pol->nissuers,
                                     1700000100, 0, pool, &out, &reason), ZT_TOK_OK);
    ck_assert_str_eq(out.sub, "s");
    jwt = hs256_jwt(key, sizeof(key) - 1, claims);
    ck_assert_int_eq(zt_token_verify(jwt, strlen(jwt), pol->issuers, pol->nissuers,
                                     1700000100, 0, pool, &out, &reason),
                     ZT_TOK_SIGNATURE);
    rm_rf(dir);
}
END_TEST

static Suite *table_suite(void)
{
    Suite *s = suite_create("table");
    TCase *tc;

    tc = tcase_create("emit_load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, roundtrip);
    tcase_add_test(tc, roundtrip_v2);
    tcase_add_test(tc, full_decisions);
    tcase_add_test(tc, layout);
    tcase_add_test(tc, strings_deduped);
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, empty_policy);
    tcase_add_test(tc, optional_section_skipped);
    tcase_add_test(tc, larger_header);
    tcase_add_test(tc, trie_refusal_named_once);
    tcase_add_test(tc, misaligned_buffer);
    tcase_add_test(tc, limits_exact);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, bad_table, 0, NBAD);
    tcase_add_loop_test(tc, bad_field_v2, 0, NSET);
    tcase_add_loop_test(tc, bad_table_v2, 0, NBAD_V2);
    tcase_add_loop_test(tc, bad_operand_v2, 0, NREPOINT);
    suite_add_tcase(s, tc);

    tc = tcase_create("issuers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, issuer_sources);
    tcase_add_test(tc, issuer_dump);
    tcase_add_loop_test(tc, bad_issuer, 0, NBAD_ISSUERS);
    tcase_add_test(tc, url_rule);
    suite_add_tcase(s, tc);

    tc = tcase_create("mutations");
    tcase_add_checked_fixture(tc, setup, teardown);
    zt_test_timeout(tc, 600);
    tcase_add_test(tc, truncated_everywhere);
    tcase_add_test(tc, flipped_everywhere);
    suite_add_tcase(s, tc);

    tc = tcase_create("emit_limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    zt_test_timeout(tc, 120);
    tcase_add_test(tc, emit_limit_routes);
    tcase_add_test(tc, emit_limit_rules);
    tcase_add_test(tc, emit_limit_nodes);
    tcase_add_test(tc, emit_limit_issuers);
    tcase_add_test(tc, emit_limit_params);
    tcase_add_test(tc, emit_limit_limits);
    tcase_add_test(tc, emit_limit_list);
    tcase_add_test(tc, emit_interns_types_and_schemas);
    tcase_add_test(tc, emit_limit_segments);
    tcase_add_test(tc, emit_limit_claim_depth);
    tcase_add_test(tc, emit_empty_claim_part);
    tcase_add_test(tc, emit_limit_cond_depth);
    tcase_add_test(tc, emit_limit_cond_size);
    tcase_add_test(tc, emit_backward_node);
    tcase_add_test(tc, emit_big_strings);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, write_and_open);
    tcase_add_test(tc, open_then_rewrite_in_place);
    tcase_add_test(tc, write_relative);
    tcase_add_test(tc, write_fails_cleanly);
    tcase_add_test(tc, open_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("policy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, policy_sources);
    tcase_add_test(tc, policy_rule_where);
    tcase_add_test(tc, policy_secret_refused);
    tcase_add_test(tc, policy_secret_raw_bytes);
    suite_add_tcase(s, tc);

    tc = tcase_create("dump");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, dump_golden);
    tcase_add_test(tc, dump_full);
    tcase_add_test(tc, dump_escapes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return zt_test_main(table_suite());
}
