/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * What input validation costs per request (issue #5, point 7), in one run:
 *
 *   query      zt_query_parse + zt_validate_request of a typical
 *              "/orders?limit=10&cursor=abc&status=open" with its header,
 *              against test/unit/zt_validate_table.h's contract;
 *   json N     zt_jschema_check of an N-byte order (1 KiB, 64 KiB)
 *              against examples/orders/order.schema.json, next to
 *              jansson's json_loadb of the same bytes (no schema) and
 *              zt_jschema_check without a schema;
 *   xml        zt_xml_check of a 1 KiB document against an XSD.
 *
 * Each figure is the median of 15 rounds, a round timing many calls in a
 * row, in nanoseconds per call.  `make bench`, then test/bench/bench_body;
 * `valgrind --tool=callgrind test/bench/bench_body 100` counts
 * instructions per call (run_query, run_parse, run_schema, run_jansson,
 * run_xml), which load does not move.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <jansson.h>

#include "zt_body.h"
#include "zt_validate.h"
#include "zt_validate_table.h"

#define ROUNDS 15

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_body: %s: %s\n", what, why ? why : "failed");
    exit(1);
}

typedef struct {
    const zt_table_t *t;
    const zt_jschema_t *schema;
    const zt_xsd_t *xsd;
    const char *buf;
    size_t len;
    apr_pool_t *pool;
} bench_t;

static const char *bench_header(void *ctx, const char *lname)
{
    return strcmp(lname, "x-tenant") == 0
           ? "9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70" : NULL;
}

static void run_query(bench_t *b)
{
    static const char qs[] = "limit=10&cursor=abc&status=open";
    char buf[sizeof(qs)];
    zt_qparam_t q[16];
    zt_match_t m;
    zt_request_t rq;
    zt_violation_t v;
    const char *err;
    int n;

    if (zt_route_match(b->t, "GET", "/orders", &m) != ZT_ROUTE_OK
        || (n = zt_query_parse(qs, buf, q, 16, &err)) < 0) {
        die("query", "no match");
    }
    memset(&rq, 0, sizeof(rq));
    rq.match = &m;
    rq.query = q;
    rq.nquery = (uint32_t)n;
    rq.header = bench_header;
    if (zt_validate_request(b->t, &rq, &v) != 0) {
        die("query", "refused");
    }
}

static void run_schema(bench_t *b)
{
    zt_body_fault_t f;
    char text[512];
    apr_pool_t *p;

    apr_pool_create(&p, b->pool);
    if (zt_jschema_check(b->schema, b->buf, b->len, p, &f) != 0) {
        die("json", zt_body_fault_text(&f, text, sizeof(text)));
    }
    apr_pool_destroy(p);
}

/* The same without the schema: the strict parse and the limits alone
 * (a function of its own, so callgrind counts it apart). */
static void run_parse(bench_t *b)
{
    zt_body_fault_t f;
    char text[512];
    apr_pool_t *p;

    apr_pool_create(&p, b->pool);
    if (zt_jschema_check(NULL, b->buf, b->len, p, &f) != 0) {
        die("json", zt_body_fault_text(&f, text, sizeof(text)));
    }
    apr_pool_destroy(p);
}

static void run_jansson(bench_t *b)
{
    json_error_t e;
    json_t *j = json_loadb(b->buf, b->len, JSON_REJECT_DUPLICATES, &e);

    if (j == NULL) {
        die("jansson", e.text);
    }
    json_decref(j);
}

static void run_xml(bench_t *b)
{
    zt_body_fault_t f;
    char text[512];

    if (zt_xml_check(b->xsd, "doc", b->buf, b->len, &f) != 0) {
        die("xml", zt_body_fault_text(&f, text, sizeof(text)));
    }
}

/* Calls are divided by this (argv[1]), for a run under callgrind; only
 * the part named by argv[2] runs (query, json1k, json64k, xml). */
static int scale = 1;
static const char *only;

static int part(const char *name)
{
    return only == NULL || strcmp(only, name) == 0;
}

/* Median ns per call of @a fn over ROUNDS rounds of @a n calls. */
static double measure(void (*fn)(bench_t *), bench_t *b, int n)
{
    double r[ROUNDS];

    n = n / scale > 0 ? n / scale : 1;

    for (int i = 0; i < n / 10 + 1; i++) {
        fn(b);                  /* warm up */
    }
    for (int k = 0; k < ROUNDS; k++) {
        int64_t t0 = now_ns();

        for (int i = 0; i < n; i++) {
            fn(b);
        }
        r[k] = (double)(now_ns() - t0) / n;
    }
    qsort(r, ROUNDS, sizeof(r[0]), cmp);
    return r[ROUNDS / 2];
}

/* An order of about @a size bytes that the example schema accepts. */
static char *make_order(apr_pool_t *p, size_t size)
{
    char *s = apr_pstrdup(p, "{\"customer\": \"9b2f0a3c-1f0e-4c1a-9a0b-2b3c4d5e6f70\","
                          " \"delivery\": \"express\", \"email\": \"a.b@example.com\","
                          " \"note\": \"");
    size_t n = strlen(s);
    int items = 0;

    /* A long note makes up the size where items (at most 100) cannot. */
    while (n < size / 2 && n < 400) {
        s = apr_pstrcat(p, s, "0123456789", NULL);
        n += 10;
    }
    s = apr_pstrcat(p, s, "\", \"items\": [", NULL);
    while (strlen(s) + 60 < size && items < 100) {
        s = apr_psprintf(p, "%s%s{\"sku\": \"SKU-%04d\", \"quantity\": %d}", s,
                         items ? ", " : "", items, items % 999 + 1);
        items++;
    }
    return apr_pstrcat(p, s, "]}", NULL);
}

/* A 64 KiB document: the order's items repeated inside an envelope the
 * schema allows (additionalProperties is false at the top, so a second
 * document shape: an array of orders against {"items": order}). */
static const char ARRAY_SCHEMA_HEAD[] = "{\"type\": \"array\", \"maxItems\": 1000, \"items\": ";

static double report(const char *what, double ns, double base)
{
    if (base > 0) {
        printf("  %-36s %10.0f ns   (%.2fx jansson)\n", what, ns, ns / base);
    }
    else {
        printf("  %-36s %10.0f ns\n", what, ns);
    }
    return ns;
}

/* jansson's parse, then ours without and with b->schema, @a n calls a round. */
static void bench_json(bench_t *b, const char *what, int n)
{
    double jn;

    printf("json %zu bytes (%s)\n", b->len, what);
    jn = report("jansson json_loadb (no schema)", measure(run_jansson, b, n), 0);
    report("zt_jschema_check, no schema", measure(run_parse, b, n), jn);
    report("zt_jschema_check with the schema", measure(run_schema, b, n), jn);
}

int main(int argc, char **argv)
{
    const char *src = getenv("ZT_SRCDIR") ? getenv("ZT_SRCDIR") : ZT_SRCDIR;
    const char *err = NULL;
    char *schema_text, *path, *one, *big;
    apr_size_t slen;
    apr_file_t *fh;
    apr_finfo_t fi;
    bench_t b;

    if (argc > 1 && (scale = atoi(argv[1])) < 1) {
        die("usage", "bench_body [DIVISOR [query|json1k|json64k|xml]]");
    }
    only = argc > 2 ? argv[2] : NULL;
    apr_initialize();
    memset(&b, 0, sizeof(b));
    apr_pool_create(&b.pool, NULL);
    zt_xml_init();

    /* query */
    if ((b.t = zv_table(b.pool, &err)) == NULL) {
        die("table", err);
    }
    if (part("query")) {
        printf("query (3 parameters + 1 header, parse and validate)\n");
        report("zt_query_parse + zt_validate_request",
               measure(run_query, &b, 200000), 0);
    }

    /* the example schema */
    path = apr_pstrcat(b.pool, src, "/examples/orders/order.schema.json", NULL);
    if (apr_file_open(&fh, path, APR_FOPEN_READ, 0, b.pool) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, fh) != APR_SUCCESS) {
        die(path, "cannot read");
    }
    slen = (apr_size_t)fi.size;
    schema_text = apr_palloc(b.pool, slen + 1);
    apr_file_read_full(fh, schema_text, slen, &slen);
    apr_file_close(fh);
    schema_text[slen] = '\0';

    /* 1 KiB */
    one = make_order(b.pool, 1024);
    if ((b.schema = zt_jschema_compile(schema_text, slen, b.pool, &err)) == NULL) {
        die("schema", err);
    }
    b.buf = one;
    b.len = strlen(one);
    if (part("json1k")) {
        bench_json(&b, "examples/orders/order.schema.json", 20000);
    }

    /* 64 KiB: an array of such orders */
    big = apr_pstrdup(b.pool, "[");
    while (strlen(big) + strlen(one) + 2 < 65536) {
        big = apr_pstrcat(b.pool, big, strlen(big) > 1 ? "," : "", one, NULL);
    }
    big = apr_pstrcat(b.pool, big, "]", NULL);
    b.schema = zt_jschema_compile(apr_pstrcat(b.pool, ARRAY_SCHEMA_HEAD,
                                              schema_text, "}", NULL),
                                  strlen(ARRAY_SCHEMA_HEAD) + slen + 1,
                                  b.pool, &err);
    if (b.schema == NULL) {
        die("array schema", err);
    }
    b.buf = big;
    b.len = strlen(big);
    if (part("json64k")) {
        bench_json(&b, "an array of the orders above", 500);
    }

    /* XML, 1 KiB with an XSD */
    if (part("xml")) {
        static const char xsd[] =
            "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">"
            "<xs:element name=\"doc\"><xs:complexType><xs:sequence>"
            "<xs:element name=\"item\" maxOccurs=\"100\"><xs:complexType>"
            "<xs:sequence><xs:element name=\"sku\" type=\"xs:string\"/>"
            "<xs:element name=\"n\" type=\"xs:int\"/></xs:sequence>"
            "</xs:complexType></xs:element></xs:sequence></xs:complexType>"
            "</xs:element></xs:schema>";
        char *doc = apr_pstrdup(b.pool, "<?xml version=\"1.0\"?><doc>");

        while (strlen(doc) < 1000) {
            doc = apr_pstrcat(b.pool, doc, "<item><sku>SKU-0001</sku><n>7</n></item>",
                              NULL);
        }
        doc = apr_pstrcat(b.pool, doc, "</doc>", NULL);
        if ((b.xsd = zt_xml_schema_compile(xsd, strlen(xsd), b.pool, &err)) == NULL) {
            die("xsd", err);
        }
        b.buf = doc;
        b.len = strlen(doc);
        printf("xml %zu bytes with an XSD\n", b.len);
        report("zt_xml_check (libxml2 + XSD)", measure(run_xml, &b, 5000), 0);
    }
    apr_pool_destroy(b.pool);
    apr_terminate();
    return 0;
}
