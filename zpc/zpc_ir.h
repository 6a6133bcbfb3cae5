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
} zpc_ir_issuer_t;

typedef struct {
    uint32_t kind;              /* ZT_SEG_* */
    const char *text;           /* literal, or capture name */
} zpc_ir_seg_t;

typedef struct {
    uint32_t methods;           /* one ZT_M_* bit */
    const char *pattern;        /* "/orders/{id}" */
    apr_array_header_t *segs;   /* array of zpc_ir_seg_t */
    apr_array_header_t *rules;  /* array of uint32_t: rule indices, ascending */
    uint32_t line;
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
    const char *str;            /* STR / PATH text */
    apr_array_header_t *parts;  /* TOKEN: array of const char * */
    int64_t num;                /* INT / BOOL */
} zpc_ir_opnd_t;

typedef struct {
    const char *name;           /* policy "name" */
    const char *source;         /* main source file */
    apr_array_header_t *issuers;    /* zpc_ir_issuer_t */
    apr_array_header_t *routes;     /* zpc_ir_route_t */
    apr_array_header_t *rules;      /* zpc_ir_rule_t */
    apr_array_header_t *nodes;      /* zpc_ir_node_t */
    apr_array_header_t *opnds;      /* zpc_ir_opnd_t */
    apr_array_header_t *lists;      /* uint32_t operand indices */
} zpc_ir_t;

#endif /* ZPC_IR_H */
