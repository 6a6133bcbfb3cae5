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

static const char *const fp_requests[][2] = {
    { "GET", "/health" }, { "HEAD", "/health" }, { "GET", "/orders" },
    { "GET", "/orders/42" }, { "POST", "/orders" }, { "DELETE", "/orders/7" },
    { "GET", "/users/u1/orders" }, { "GET", "/users/u2/orders" },
    { "PUT", "/orders" }, { "GET", "/nope" }, { "GET", "/" },
};
static const char *const fp_claims[] = {
    NULL,
    "{}",
    "{\"sub\":\"u1\",\"scope\":\"orders:read orders:write\"}",
    "{\"sub\":\"u1\",\"scope\":\"orders:read\",\"azp\":\"legacy-batch\"}",
    "{\"sub\":\"u3\",\"realm_access\":{\"roles\":[\"admin\"]},\"azp\":\"cli\"}",
    "{\"sub\":\"u3\",\"realm_access\":{\"roles\":[\"admin\"]},\"azp\":\"web-spa\"}",
};
#define FP_N (sizeof(fp_requests) / sizeof(fp_requests[0]) \
              * (sizeof(fp_claims) / sizeof(fp_claims[0])))

typedef struct {
    int status;
    uint32_t route;
    int verdict;
    uint32_t rule;
} fp_t;

/* Every request x claims decision, and the invariants any verified table
 * must keep whatever its contents. */
static void fingerprint(const zt_table_t *t, fp_t *fp)
{
    size_t k = 0;
    apr_pool_t *cp;

    apr_pool_create(&cp, pool);
    for (size_t c = 0; c < sizeof(fp_claims) / sizeof(fp_claims[0]); c++) {
        const char *jerr;
        const zt_claims_t *claims = fp_claims[c]
            ? zt_jdoc_parse(fp_claims[c], strlen(fp_claims[c]), 4096, cp, &jerr)
            : NULL;

        for (size_t r = 0; r < sizeof(fp_requests) / sizeof(fp_requests[0]); r++) {
            zt_match_t m;
            zt_decision_t d;

            fp[k].status = zt_route_match(t, fp_requests[r][0], fp_requests[r][1], &m);
            fp[k].route = m.route;
            zt_eval_decide(t, &m, claims, &d);
            fp[k].verdict = d.verdict;
            fp[k].rule = d.rule;
            if (m.route != ZT_NONE) {
                const zt_route_rec_t *rt = &t->routes[m.route];
                ck_assert_uint_lt(m.route, t->nroutes);
                ck_assert_int_eq(fp[k].status, ZT_ROUTE_OK);
                ck_assert_uint_eq(rt->seg_count, m.nseg);
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
                ck_assert_ptr_null(claims);
                ck_assert_uint_eq(d.rule, ZT_NONE);
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

START_TEST(layout)
{
    blob_t b = orders_blob();
    uint32_t n = get32(b.buf + 16), hl = hdr_len(&b);

    ck_assert_mem_eq(b.buf, "ZTB\1", 4);
    ck_assert_uint_eq(b.buf[4], 1);                 /* version, LE */
    ck_assert_uint_eq(b.buf[5], 0);
    ck_assert_uint_eq(get32(b.buf + 4) >> 16, 0);   /* flags */
    ck_assert_uint_eq(get32(b.buf + 12), b.len);
    ck_assert_uint_eq(n, 10);
    ck_assert_uint_eq(hl, 144);
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
    zt_eval_decide(t, &m, NULL, &d);
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

    ck_assert_uint_eq(get32(x.buf + 16), 11);
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

    ck_assert_uint_eq(hdr_len(&x), 160);
    fingerprint(load_ok(b), a);
    fingerprint(load_ok(x), c);
    ck_assert_mem_eq(a, c, sizeof(a));
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

START_TEST(truncated_everywhere)
{
    blob_t b = orders_blob();
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
    blob_t b = orders_blob();
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
                if (i < sizeof(zt_hdr_t) || in_tag(i, 10)) {
                    ck_assert_msg(t == NULL, "header flip %zu^%02x loaded", i, masks[k]);
                }
                if (t != NULL) {
                    loaded++;
                    fingerprint(t, got);
                    same += memcmp(want, got, sizeof(want)) == 0;
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
static void m_version(blob_t *b) { b->buf[4] = 2; }
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
    static const unsigned char z[8];
    *b = repack(b, 0, NULL, 0, ZT_TAG('x', 't', 'r', 'a'), z, 8);
    ck_assert_uint_eq(hdr_len(b), 160);
    b->buf[157] = 1;
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

static void m_opnd_kind(blob_t *b) { put32(FIELD(OPND(b, 0), zt_opnd_rec_t, kind), 9); }
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

static void m_seg_kind(blob_t *b) { put32(FIELD(SEG(b, 0), zt_seg_rec_t, kind), 2); }
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
    unsigned char *more = apr_palloc(pool, len + 8);
    memcpy(more, s, len);
    memcpy(more + len, s, 8);
    *b = repack(b, ZT_TAG_SEGS, more, len + 8, 0, NULL, 0);
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
    { "wrong version", m_version, "format version 2, this reader knows 1", 0 },
    { "flags", m_flags, "header flags 0x1", 0 },
    { "reserved", m_reserved, "reserved 0x1", 0 },
    { "file_len", m_file_len, "header says", 0 },
    { "no sections", m_nsect0, "0 sections", 0 },
    { "too many sections", m_nsect65, "65 sections", 0 },
    { "hdr_len unaligned", m_hdr_unaligned, "hdr_len 148", 0 },
    { "hdr_len small", m_hdr_small, "hdr_len 136", 0 },
    { "hdr_len huge", m_hdr_huge, "hdr_len", 0 },
    { "header padding", m_hdr_padding, "header padding 156..160 is not zero", 0 },
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
    { "operand kind", m_opnd_kind, "operand 0: unknown kind 9", 0 },
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
    { "unknown op", m_node_op, "node 0: unknown op 8", 0 },
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
    { "segment kind", m_seg_kind, "segment 0: unknown kind 2", 0 },
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
      "route 1: segments at 0 and rule refs at 1, expected 1 and 1", 0 },
    { "rule ref runs gap", m_route_rref_gap, "route 1: segments at 1 and rule refs "
      "at 1, expected 1 and 0", 0 },
    { "segment unused", m_segs_unused, "routes use 10 segments and 10 rule refs, "
      "the table has 11 and 10", 0 },
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

START_TEST(bad_table)
{
    const bad_case_t *c = &bad_cases[_i];
    blob_t b = orders_blob();
    const char *err;

    c->mutate(&b);
    if (!c->keep_hash) {
        rehash(&b);
    }
    ck_assert_msg(load(b, &err) == NULL, "%s: loaded", c->name);
    ck_assert_msg(strncmp(err, "t.ztb: bad table (", 18) == 0, "%s: %s", c->name, err);
    ck_assert_msg(strstr(err, c->expect) != NULL, "%s: got \"%s\", want \"%s\"",
                  c->name, err, c->expect);
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
        ck_assert_uint_eq(s[i].reserved, 0);
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
        "route 0  GET     /a  rules 0  (line 11)\n"
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
static void k_reserved(blob_t *b) { put32(KF(b, 4, reserved), 1); }
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
    { "issuer reserved", k_reserved, "issuer 4: reserved field is 1, must be 0", 0 },
    { "typ past pool", k_typ_past, "issuer 1: typ: string offset", 0 },
    { "secret past pool", k_secret_past, "issuer 3: secret: string offset 4294967295", 0 },
};
#define NBAD_ISSUERS ((int)(sizeof(bad_issuers) / sizeof(bad_issuers[0])))

START_TEST(bad_issuer)
{
    const bad_case_t *c = &bad_issuers[_i];
    blob_t b = keys_blob();
    const char *err;

    load_ok(b);
    c->mutate(&b);
    rehash(&b);
    ck_assert_msg(load(b, &err) == NULL, "%s: loaded", c->name);
    ck_assert_msg(strstr(err, c->expect) != NULL, "%s: got \"%s\", want \"%s\"",
                  c->name, err, c->expect);
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
    zt_eval_decide(t, &m, claims, &d);
    ck_assert_int_eq(d.verdict, ZT_DENY);
    ck_assert_uint_eq(d.rule, 5);

    x = copy(b);
    or_doubling(&x, 11);            /* 4095 nodes as a tree */
    rehash(&x);
    t = load_ok(x);
    ck_assert_int_eq(zt_route_match(t, "GET", "/users/u/orders", &m), ZT_ROUTE_OK);
    zt_eval_decide(t, &m, claims, &d);
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
    ck_assert_str_eq(emit_err(ir), "too many routes (65536; the limit is 65535)");
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
    ck_assert_str_eq(emit_err(ir), "too many rules (65536; the limit is 65535)");
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
"route 0  GET     /health              rules 0  (line 11)\n"
"route 1  GET     /orders              rules 1 5  (line 12)\n"
"route 2  GET     /orders/{id}         rules 1 5  (line 13)\n"
"route 3  POST    /orders              rules 2 5  (line 14)\n"
"route 4  DELETE  /orders/{id}         rules 3 5  (line 15)\n"
"route 5  GET     /users/{uid}/orders  rules 4  (line 16)\n"
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
        "route 0  OPTIONS /x/{y}  rules 0 1 2  pattern \"/x/{y: uuid}\"  (line 11)\n"
        "route 1  PATCH   /       rules none  (line 12)\n"
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
    tcase_add_test(tc, layout);
    tcase_add_test(tc, strings_deduped);
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, empty_policy);
    tcase_add_test(tc, optional_section_skipped);
    tcase_add_test(tc, larger_header);
    tcase_add_test(tc, misaligned_buffer);
    tcase_add_test(tc, limits_exact);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, bad_table, 0, NBAD);
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
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, truncated_everywhere);
    tcase_add_test(tc, flipped_everywhere);
    suite_add_tcase(s, tc);

    tc = tcase_create("emit_limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, emit_limit_routes);
    tcase_add_test(tc, emit_limit_rules);
    tcase_add_test(tc, emit_limit_nodes);
    tcase_add_test(tc, emit_limit_issuers);
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
    tcase_add_test(tc, policy_secret_refused);
    tcase_add_test(tc, policy_secret_raw_bytes);
    suite_add_tcase(s, tc);

    tc = tcase_create("dump");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, dump_golden);
    tcase_add_test(tc, dump_escapes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return zt_test_main(table_suite());
}
