/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Fuzz target: the table verifier, then everything that reads a verified
 * table.  Each input is loaded twice: as it is (header, size and checksum
 * checks), and with file_len and the SHA-256 trailer fixed up, so that the
 * mutation reaches the structural checks instead of dying at the checksum.
 * Whatever loads is dumped to /dev/null and described for RFC 9728
 * metadata, every pattern's automaton is run over a few values, and every
 * route is matched with a
 * path built from its own segments and decided with a few claim sets, by
 * its program and from the node trees (tree_only.h), which must agree;
 * any decision that breaks an invariant of the format aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <openssl/evp.h>

#include "zpc_back.h"
#include "zt_alg.h"
#include "zt_dfa.h"
#include "zt_eval.h"
#include "zt_jdoc.h"
#include "zt_resource.h"
#include "zt_table.h"
#include "tree_only.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_ROUTES 256

static FILE *fz_null;
static const zt_claims_t *fz_claims[4];    /* [0] stays NULL: no token */
static apr_pool_t *fz_claims_pool;

static void fz_init(void)
{
    static const char *const claims[] = {
        "{}",
        "{\"sub\":\"c0\",\"scope\":\"orders:read orders:write\",\"azp\":\"legacy-batch\","
        "\"realm_access\":{\"roles\":[\"admin\",\"user\"]},\"level\":3,\"mfa\":true}",
        "{\"sub\":\"u1\",\"scope\":[\"orders:read\"],\"azp\":\"web-spa\",\"n\":null,"
        "\"a\":{\"b\":{\"c\":\"v\"}},\"mfa\":false,\"level\":1.5}",
    };

    apr_initialize();
    fz_null = fopen("/dev/null", "w");
    apr_pool_create(&fz_claims_pool, NULL);
    for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
        const char *err;

        fz_claims[i + 1] = zt_jdoc_parse(claims[i], strlen(claims[i]),
                                         strlen(claims[i]), fz_claims_pool, &err);
        if (fz_claims[i + 1] == NULL) {
            abort();
        }
    }
}

#define FZ_CHECK(cond) do { if (!(cond)) { \
        fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
        abort(); } } while (0)

static void fz_decide(const zt_table_t *t, const zt_table_t *tree, const char *method,
                      const char *path)
{
    zt_match_t m;
    zt_route_status_e st = zt_route_match(t, method, path, &m);

    FZ_CHECK(st == ZT_ROUTE_OK ? m.route < t->nroutes : m.route == ZT_NONE);
    for (size_t c = 0; c < sizeof(fz_claims) / sizeof(fz_claims[0]); c++) {
        zt_decision_t d;
        zt_request_t rq;

        memset(&rq, 0, sizeof(rq));
        rq.match = &m;
        rq.claims = fz_claims[c];
        zt_eval_decide(t, &rq, &d);
        if (fz_claims[c] == NULL && tree != NULL) {
            /* The program, on the view of no claims, answers as the
             * trees do (with claims, the view's answer is checked below
             * against claims by name, which the trees give). */
            zt_decision_t dt;

            zt_eval_decide(tree, &rq, &dt);
            FZ_CHECK(dt.verdict == d.verdict && dt.rule == d.rule && dt.stepup == d.stepup);
        }
        if (fz_claims[c] != NULL) {     /* a claim view changes nothing */
            zt_decision_t dv;
            uint32_t *view = malloc(((size_t)zt_eval_view_size(t) + 1) * sizeof(uint32_t));

            FZ_CHECK(view != NULL);
            zt_eval_view(t, fz_claims[c], view);
            rq.claim_view = view;
            zt_eval_decide(t, &rq, &dv);
            free(view);
            rq.claim_view = NULL;
            FZ_CHECK(dv.verdict == d.verdict && dv.rule == d.rule && dv.stepup == d.stepup);
        }
        if (d.verdict == ZT_ALLOW) {
            FZ_CHECK(d.rule < t->nrules);
            FZ_CHECK(t->rules[d.rule].effect == ZT_EFFECT_ALLOW);
            FZ_CHECK(fz_claims[c] != NULL || (t->rules[d.rule].flags & ZT_RULE_PUBLIC));
        }
        else if (d.verdict == ZT_DENY) {
            FZ_CHECK(d.rule == ZT_NONE || t->rules[d.rule].effect == ZT_EFFECT_DENY);
        }
        else if (d.verdict == ZT_STEPUP) {
            FZ_CHECK(d.rule < t->nrules && d.stepup < t->nstepups);
            FZ_CHECK(t->rules[d.rule].effect == ZT_EFFECT_ALLOW);
        }
        else {
            /* no allow; a deny a token might not have met; or an allow
             * on a route whose step-up needs a token */
            FZ_CHECK(d.verdict == ZT_NEED_TOKEN && fz_claims[c] == NULL);
            FZ_CHECK(d.rule == ZT_NONE || t->rules[d.rule].effect == ZT_EFFECT_DENY
                     || (d.stepup != ZT_NONE && d.stepup == t->routes[m.route].stepup));
        }
        if (m.route == ZT_NONE) {
            FZ_CHECK(d.verdict == ZT_DENY && d.rule == ZT_NONE);
        }
    }
}

/* "/lit/c0/lit": the route's own path, captures filled in.  *split is set
 * when a literal holds a '/', which changes the segments. */
static int fz_route_path(const zt_table_t *t, const zt_route_rec_t *r,
                         char *buf, size_t cap, int *split)
{
    size_t pos = 0;

    *split = 0;
    buf[pos++] = '/';
    buf[pos] = '\0';
    for (uint32_t k = 0; k < r->seg_count; k++) {
        const zt_seg_rec_t *s = &t->segs[r->seg_first + k];
        const char *text = s->kind == ZT_SEG_LITERAL ? zt_table_str(t, s->str) : "c0";
        size_t n = strlen(text);

        if (pos + n + 2 > cap) {
            return 0;
        }
        if (k > 0) {
            buf[pos++] = '/';
        }
        memcpy(buf + pos, text, n);
        pos += n;
        buf[pos] = '\0';
        *split |= strchr(text, '/') != NULL;
    }
    return 1;
}

/* The RFC 9728 description: every issuer, and scopes that are scope
 * words, each once (compared pairwise only in a small list). */
static void fz_resource(const zt_table_t *t, apr_pool_t *pool)
{
    zt_resource_t res;

    zt_resource_describe(t, pool, &res);
    FZ_CHECK(res.nissuers == t->nissuers);
    FZ_CHECK(res.nscopes <= t->nnodes);
    for (uint32_t i = 0; i < res.nscopes; i++) {
        FZ_CHECK(res.scopes[i][0] != '\0' && strchr(res.scopes[i], ' ') == NULL);
        for (uint32_t j = 0; j < i && res.nscopes <= 256; j++) {
            FZ_CHECK(strcmp(res.scopes[i], res.scopes[j]) != 0);
        }
    }
}

static void fz_run(const uint8_t *buf, size_t size)
{
    apr_pool_t *pool;
    zt_table_t *t;
    const zt_table_t *tree;
    const char *err = NULL;
    char path[1024];

    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return;
    }
    if (zt_table_load(&t, buf, size, "fuzz.ztb", pool, &err) != APR_SUCCESS) {
        FZ_CHECK(err != NULL && t == NULL);
        apr_pool_destroy(pool);
        return;
    }
    zpc_dump(fz_null, t);
    /* every pattern's automaton, verified by the loader, on a few values */
    for (uint32_t i = 0; i < t->ntypes; i++) {
        if (t->types[i].dfa != ZT_NONE) {
            FZ_CHECK(zt_dfa_verify(t->dfas + t->types[i].dfa,
                                   ((const zt_dfa_hdr_t *)(t->dfas + t->types[i].dfa))->len));
            (void)zt_dfa_match(t->dfas + t->types[i].dfa, "abc-1", 5);
            (void)zt_dfa_match(t->dfas + t->types[i].dfa, (const char *)buf,
                               size < 64 ? size : 64);
        }
    }
    fz_resource(t, pool);
    tree = t->prog != NULL ? zt_tree_only(t, pool) : NULL;
    for (uint32_t i = 0; i < t->nroutes && i < FZ_MAX_ROUTES; i++) {
        const zt_route_rec_t *r = &t->routes[i];
        const char *method = zt_method_name(r->methods);
        zt_route_status_e st;
        zt_match_t m;
        int split;

        FZ_CHECK(method != NULL);
        if (fz_route_path(t, r, path, sizeof(path), &split)) {
            fz_decide(t, tree, method, path);
            /* A route's own path matches it or a route of higher rank; it
             * can only be a bad path (a literal "." or with a control byte)
             * or, when a literal holds '/', match nothing. */
            st = zt_route_match(t, method, path, &m);
            FZ_CHECK(st != ZT_ROUTE_NONE || split);
            if (st == ZT_ROUTE_OK && !split) {
                FZ_CHECK(m.nseg == r->seg_count);
                FZ_CHECK(t->routes[m.route].seg_count == r->seg_count);
                FZ_CHECK(zt_route_capture(t, &m, "") == NULL);   /* names are non-empty */
            }
        }
    }
    fz_decide(t, tree, "GET", "/");
    fz_decide(t, tree, "HEAD", "/orders");
    fz_decide(t, tree, "DELETE", "/orders/c0");
    fz_decide(t, tree, "GET", "/users/c0/orders");
    fz_decide(t, tree, "GET", "/a/../b");
    apr_pool_destroy(pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    uint8_t *buf;

    if (!initialised) {
        fz_init();
        initialised = 1;
    }
    if (size > (4u << 20)) {
        return 0;
    }
    /* malloc'ed memory is 8-aligned, and exactly @a size long for ASan */
    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data, size);
    fz_run(buf, size);

    if (size >= sizeof(zt_hdr_t) + ZT_HASH_LEN) {
        unsigned int n = 0;
        uint32_t len = (uint32_t)size;
        buf[12] = (uint8_t)len;
        buf[13] = (uint8_t)(len >> 8);
        buf[14] = (uint8_t)(len >> 16);
        buf[15] = (uint8_t)(len >> 24);
        if (EVP_Digest(buf, size - ZT_HASH_LEN, buf + size - ZT_HASH_LEN, &n,
                       EVP_sha256(), NULL) == 1) {
            fz_run(buf, size);
        }
    }
    free(buf);
    return 0;
}
