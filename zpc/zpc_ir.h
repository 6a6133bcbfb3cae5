/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zpc_ir.h
 * @brief The lowered policy: what the front end hands the emitter.
 *
 * It mirrors the table (zt_format.h) with strings instead of pool offsets:
 * the front end resolves names, expands `let`, turns `unless` into NOT,
 * expands rule targets into per-route rule lists and orders condition nodes
 * so that every child index is greater than its parent's.  The emitter only
 * interns strings, lays out sections and checks the format's limits.
 * Everything lives in one APR pool.
 */
#ifndef ZPC_IR_H
#define ZPC_IR_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <stdint.h>

#include "zt_format.h"

typedef struct {
    const char *name, *iss, *audience;
    uint32_t algs;              /* ZT_ALG_* */
    uint32_t jwks_kind;         /* ZT_JWKS_* */
    const char *jwks;           /* file path or URL; NULL or "" otherwise */
    uint32_t max_lifetime, leeway;
    uint32_t line;
    const char *typ;            /* required JOSE "typ", or NULL */
    apr_array_header_t *required;   /* const char *: claim names, or NULL */
    const char *secret;         /* HS* secret file, or NULL */
    uint32_t refresh, refetch_min;  /* seconds; 0 unless url / discover */
    uint32_t binding;           /* ZT_BIND_* */
} zpc_ir_issuer_t;

typedef struct {
    uint32_t kind;              /* ZT_TYPE_* */
    int64_t min, max;           /* STRING lengths, INT values */
    const char *regex;          /* STRING: pattern as written, or NULL */
    apr_array_header_t *values; /* ENUM: const char * */
} zpc_ir_type_t;

typedef struct {
    uint32_t kind;              /* ZT_SEG_* */
    const char *text;           /* literal, or capture name; NULL otherwise */
    zpc_ir_type_t *type;        /* CAPTURE: its type, or NULL = string 0..ZPC_MAX_STRING */
} zpc_ir_seg_t;

typedef struct {
    uint32_t where;             /* ZT_PARAM_* */
    const char *name;           /* header names lower-cased by the front end */
    zpc_ir_type_t *type;
    uint32_t flags;             /* ZT_PARAM_OPTIONAL, ZT_PARAM_LIST */
} zpc_ir_param_t;

typedef struct {
    uint32_t kind;              /* ZT_BODY_* */
    uint32_t max;               /* bytes */
    const char *schema_name;    /* as written, or NULL */
    const char *schema;         /* file content read by the front end, or NULL */
    apr_size_t schema_len;
    const char *root;           /* XML root element, or NULL */
} zpc_ir_body_t;

typedef struct {
    apr_array_header_t *acr;    /* const char *; may be empty */
    uint32_t max_age;           /* seconds; 0 none */
    const char *file;
    uint32_t line;
} zpc_ir_stepup_t;

typedef struct {
    uint32_t count, period;     /* period in seconds */
    uint32_t key;               /* ZT_LIMIT_* */
    const char *file;
    uint32_t line;
} zpc_ir_limit_t;

typedef struct {
    uint32_t methods;           /* one ZT_M_* bit */
    const char *pattern;        /* "/orders/{id: uuid}" */
    apr_array_header_t *segs;   /* array of zpc_ir_seg_t */
    apr_array_header_t *rules;  /* array of uint32_t: rule indices, ascending */
    const char *file;
    uint32_t line;
    uint32_t flags;             /* ZT_ROUTE_* */
    apr_array_header_t *params; /* zpc_ir_param_t */
    zpc_ir_body_t *body;        /* or NULL */
    int32_t stepup;             /* index into stepups, or -1 */
    apr_array_header_t *limits; /* uint32_t indices into limits, ascending */
} zpc_ir_route_t;

typedef struct {
    uint32_t effect;            /* ZT_EFFECT_* */
    uint32_t flags;             /* ZT_RULE_* */
    uint32_t cond;              /* node index or ZT_NONE */
    const char *file;
    uint32_t line;
    const char *text;           /* targets as written: "GET /orders, GET /orders/{id}" */
} zpc_ir_rule_t;

typedef struct {
    uint32_t op;                /* ZT_OP_*; operands as in zt_format.h */
    uint32_t a, b, c;
} zpc_ir_node_t;

typedef struct {
    uint32_t kind;              /* ZT_OPND_* */
    const char *str;            /* STR / PATH / QUERY / HEADER text */
    apr_array_header_t *parts;  /* TOKEN: array of const char * */
    int64_t num;                /* INT / BOOL */
} zpc_ir_opnd_t;

typedef struct {
    uint8_t family;             /* 4 or 6 */
    uint8_t prefix;
    uint8_t addr[16];           /* host bits already 0 */
} zpc_ir_cidr_t;

/*
 * A `test` block, lowered.  Tests never reach the table: `zpc test` builds
 * the table in memory and decides each one with the module's evaluator.
 */
enum {
    ZPC_EXPECT_ALLOW = 0, ZPC_EXPECT_DENY, ZPC_EXPECT_STEPUP,
    ZPC_EXPECT_TOKEN,           /* 401: a token is needed */
    ZPC_EXPECT_NOTFOUND,        /* 404: no such route */
    ZPC_EXPECT_INVALID,         /* 400: the request breaks the route's contract */
    ZPC_EXPECT_TOOLARGE,        /* 413: a body above max, or where none is declared */
    ZPC_EXPECT_MEDIATYPE        /* 415: a body not of its declared media type */
};

typedef struct {
    const char *name;
    const char *file;
    uint32_t line;
    const char *claims_json;    /* the token block as a JSON object text, or
                                   NULL: the request carries no token */
    const char *method;
    const char *target;         /* path and query as written: "/orders?limit=10" */
    const char *from;           /* client address, or NULL: 127.0.0.1 */
    apr_array_header_t *headers;    /* const char * pairs: name, value */
    int cert;                   /* a verified client certificate was shown */
    const char *cert_subject;   /* or NULL */
    apr_array_header_t *cert_san;   /* const char *, or NULL */
    const char *tls;            /* "TLSv1.3", or NULL: plain HTTP */
    int64_t time;               /* request time (Unix seconds), or -1: now */
    int expect;                 /* ZPC_EXPECT_* */
    int body;                   /* 1: `body` says what is sent, and the body
                                   stages are decided; 0: they are not */
    const char *body_type;      /* its Content-Type, or NULL: none (body none, untyped) */
    const char *body_text;      /* its bytes, or NULL: no body (`body none`) */
    apr_size_t body_len;
} zpc_ir_test_t;

typedef struct {
    const char *name;           /* policy "name" */
    const char *source;         /* main source file */
    apr_array_header_t *issuers;    /* zpc_ir_issuer_t */
    apr_array_header_t *routes;     /* zpc_ir_route_t */
    apr_array_header_t *rules;      /* zpc_ir_rule_t */
    apr_array_header_t *nodes;      /* zpc_ir_node_t */
    apr_array_header_t *opnds;      /* zpc_ir_opnd_t */
    apr_array_header_t *lists;      /* uint32_t operand indices */
    apr_array_header_t *cidrs;      /* zpc_ir_cidr_t */
    apr_array_header_t *stepups;    /* zpc_ir_stepup_t */
    apr_array_header_t *limits;     /* zpc_ir_limit_t */
    apr_array_header_t *tests;      /* zpc_ir_test_t; not emitted */
} zpc_ir_t;

#endif /* ZPC_IR_H */
