/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The route's declared contract over a matched request, for `zpc test`
 * (expect invalid) and `zpc explain`: typed captures, query and header
 * parameters, from the table's SEGS, PARM and TYPE records.
 *
 * This is zpc's reading of SPEC section 2 until the module enforces the
 * contract itself (issue #5); regular expressions are not checked until
 * zpc compiles them to automata, and bodies are not checked (a test block
 * has none).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "zpc_tools.h"

/* "-"? digits, nothing else, within int64. */
static int zpc_parse_int(const char *s, apr_size_t len, int64_t *v)
{
    char buf[24], *end;
    apr_size_t i = (len > 0 && s[0] == '-') ? 1 : 0;

    if (len == i || len >= sizeof(buf)) {
        return 0;
    }
    for (apr_size_t k = i; k < len; k++) {
        if (s[k] < '0' || s[k] > '9') {
            return 0;
        }
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    *v = (int64_t)strtoll(buf, &end, 10);
    return errno == 0 && *end == '\0';
}

/* A JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int zpc_is_number(const char *s, apr_size_t len)
{
    apr_size_t i = 0, d;

    if (i < len && s[i] == '-') {
        i++;
    }
    for (d = i; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
    }
    if (i == d || (s[d] == '0' && i - d > 1)) {
        return 0;
    }
    if (i < len && s[i] == '.') {
        for (d = ++i; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        }
        if (i == d) {
            return 0;
        }
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        for (d = i; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        }
        if (i == d) {
            return 0;
        }
    }
    return i == len;
}

/* 8-4-4-4-12 hexadecimal digits, either case. */
static int zpc_is_uuid(const char *s, apr_size_t len)
{
    if (len != 36) {
        return 0;
    }
    for (apr_size_t i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        unsigned char c = (unsigned char)s[i];
        int hex = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');

        if (dash ? c != '-' : !hex) {
            return 0;
        }
    }
    return 1;
}

/* NULL if @a s (@a len bytes) is a value of TYPE @a ti, else why not. */
static const char *zpc_type_check(const zt_table_t *t, uint32_t ti,
                                  const char *s, apr_size_t len,
                                  apr_pool_t *pool, int *unchecked_regex)
{
    const zt_type_rec_t *ty = &t->types[ti];
    const char *q = zpc_escape(s, len, 1, pool);
    int64_t v;

    switch (ty->kind) {
    case ZT_TYPE_STRING:
        if ((int64_t)len < ty->min || (int64_t)len > ty->max) {
            return apr_psprintf(pool, "%s is %" APR_SIZE_T_FMT " bytes long, "
                                "not %" APR_INT64_T_FMT "..%" APR_INT64_T_FMT,
                                q, len, ty->min, ty->max);
        }
        if (ty->str != 0 && *zt_table_str(t, ty->str) != '\0') {
            *unchecked_regex = 1;
        }
        return NULL;
    case ZT_TYPE_INT:
        if (!zpc_parse_int(s, len, &v)) {
            return apr_psprintf(pool, "%s is not an integer", q);
        }
        if (v < ty->min || v > ty->max) {
            return apr_psprintf(pool, "%s is not in %" APR_INT64_T_FMT "..%"
                                APR_INT64_T_FMT, q, ty->min, ty->max);
        }
        return NULL;
    case ZT_TYPE_NUMBER:
        return zpc_is_number(s, len) ? NULL
               : apr_psprintf(pool, "%s is not a number", q);
    case ZT_TYPE_BOOL:
        return (len == 4 && memcmp(s, "true", 4) == 0)
               || (len == 5 && memcmp(s, "false", 5) == 0) ? NULL
               : apr_psprintf(pool, "%s is not true or false", q);
    case ZT_TYPE_UUID:
        return zpc_is_uuid(s, len) ? NULL
               : apr_psprintf(pool, "%s is not a UUID", q);
    case ZT_TYPE_ENUM:
        for (uint32_t k = 0; k < ty->count; k++) {
            const char *e = zt_table_str(t, t->opnds[t->lists[ty->first + k]].str);
            if (strlen(e) == len && memcmp(e, s, len) == 0) {
                return NULL;
            }
        }
        return apr_psprintf(pool, "%s is not one of the listed values", q);
    }
    return NULL;        /* ZT_TYPE_ANY */
}

static const char *zpc_contract_query(const zt_table_t *t, const zpc_req_t *r,
                                      const zt_route_rec_t *route,
                                      apr_pool_t *pool, int *unchecked_regex)
{
    for (uint32_t i = 0; i < r->nquery; i++) {
        const zt_qparam_t *qp = &r->query[i];
        const char *name = zpc_escape(qp->name.ptr, qp->name.len, 0, pool);
        const zt_param_rec_t *decl = NULL;
        const char *why;

        for (uint32_t k = 0; k < route->param_count; k++) {
            const zt_param_rec_t *p = &t->params[route->param_first + k];
            const char *pn = zt_table_str(t, p->name);
            if (p->where == ZT_PARAM_QUERY && strlen(pn) == qp->name.len
                && memcmp(pn, qp->name.ptr, qp->name.len) == 0) {
                decl = p;
                break;
            }
        }
        if (decl == NULL) {
            if (route->flags & ZT_ROUTE_QUERY_ANY) {
                continue;
            }
            return apr_psprintf(pool, "query parameter '%s' is not declared", name);
        }
        if (!(decl->flags & ZT_PARAM_LIST)) {
            for (uint32_t j = 0; j < i; j++) {
                if (r->query[j].name.len == qp->name.len
                    && memcmp(r->query[j].name.ptr, qp->name.ptr, qp->name.len) == 0) {
                    return apr_psprintf(pool, "query parameter '%s' is repeated "
                                        "but not declared as a list", name);
                }
            }
        }
        why = zpc_type_check(t, decl->type, qp->value.ptr, qp->value.len, pool,
                             unchecked_regex);
        if (why != NULL) {
            return apr_psprintf(pool, "query parameter '%s': %s", name, why);
        }
    }
    return NULL;
}

/* Declared parameters: required ones present, headers of their type. */
static const char *zpc_contract_params(const zt_table_t *t, const zpc_req_t *r,
                                       const zt_route_rec_t *route,
                                       apr_pool_t *pool, int *unchecked_regex)
{
    for (uint32_t k = 0; k < route->param_count; k++) {
        const zt_param_rec_t *p = &t->params[route->param_first + k];
        const char *pn = zt_table_str(t, p->name);
        const char *name = zpc_escape(pn, strlen(pn), 0, pool);
        int present = 0;

        if (t->types[p->type].kind == ZT_TYPE_ANY) {
            continue;           /* `query * any` */
        }
        if (p->where == ZT_PARAM_QUERY) {
            for (uint32_t i = 0; i < r->nquery && !present; i++) {
                present = r->query[i].name.len == strlen(pn)
                          && memcmp(r->query[i].name.ptr, pn, strlen(pn)) == 0;
            }
        }
        else {
            const char *v = r->rq.header(r->rq.header_ctx, pn);
            const char *why;

            present = v != NULL;
            if (present && (why = zpc_type_check(t, p->type, v, strlen(v), pool,
                                                 unchecked_regex)) != NULL) {
                return apr_psprintf(pool, "header '%s': %s", name, why);
            }
        }
        if (!present && !(p->flags & ZT_PARAM_OPTIONAL)) {
            return apr_psprintf(pool, "%s '%s' is required but missing",
                                p->where == ZT_PARAM_QUERY ? "query parameter"
                                                           : "header", name);
        }
    }
    return NULL;
}

const char *zpc_contract_check(const zt_table_t *t, const zpc_req_t *r,
                               apr_pool_t *pool, int *unchecked_regex)
{
    const zt_route_rec_t *route = &t->routes[r->match.route];
    const char *why;

    for (uint32_t i = 0; i < route->seg_count && i < r->match.nseg; i++) {
        const zt_seg_rec_t *s = &t->segs[route->seg_first + i];

        if (s->kind != ZT_SEG_CAPTURE || s->type == ZT_NONE) {
            continue;
        }
        why = zpc_type_check(t, s->type, r->match.seg[i].ptr, r->match.seg[i].len,
                             pool, unchecked_regex);
        if (why != NULL) {
            return apr_psprintf(pool, "path capture '%s': %s",
                                zpc_escape(zt_table_str(t, s->str),
                                           strlen(zt_table_str(t, s->str)), 0, pool),
                                why);
        }
    }
    if (r->query_err != NULL) {
        return r->query_err;
    }
    if ((why = zpc_contract_query(t, r, route, pool, unchecked_regex)) != NULL) {
        return why;
    }
    return zpc_contract_params(t, r, route, pool, unchecked_regex);
}
