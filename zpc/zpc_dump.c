/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * `zpc dump`: a verified table as text, one line per record.
 *
 *   policy "orders-api"  (source orders.ztp, sha256 <64 hex digits>)
 *   issuer corp  iss "https://idp/realms/corp"  aud "orders-api"  algs RS256 ES256 EdDSA
 *          jwks file "corp.jwks.json"  max_lifetime 900s  leeway 30s  (line 9)
 *   issuer hs  iss "https://hs"  aud "api"  algs ES256 HS256
 *          jwks url "https://hs/certs"  refresh 3600s  refetch_min 60s
 *          secret file "hs.key"  typ "at+jwt"  required sub azp  max_lifetime none ...
 *          (all on one line; each item only when set)
 *   route 0  GET     /health             rules 0  (orders.ztp:18)
 *   route 1  DELETE  /orders/{id: uuid}  rules 1 5  stepup 0  limits 0  (orders.ztp:20)
 *   route 2  POST    /orders             rules 2  (orders.ztp:21)
 *          query page int 1..100 optional
 *          header "x-tenant" string 1..64
 *          body json max 16384 schema "order.schema.json" (212 bytes)
 *   rule 0  allow  public  GET /health  (orders.ztp:26)
 *   rule 1  allow  when n0  GET /orders, GET /orders/{id}  (orders.ztp:27)
 *   stepup 0  acr "urn:mfa"  max_age 600s  (orders.ztp:30)
 *   limit 0  100/min per token.sub  (orders.ztp:31)
 *   node 0  in_claim "orders:read" token.scope
 *   node 1  in_cidr client.ip [10.0.0.0/8, 2001:db8::/32]
 *
 * Types are written as the language writes them (string 1..64 /re/,
 * int 1..10, enum("a", "b")); a capture of the default type (a string of
 * 0..4096 bytes) shows as {name}.
 * The format is stable (golden tests compare it byte for byte), so change
 * it only on purpose.  Source file names are printed without their
 * directories, so dumps do not depend on where zpc ran.  Every string from
 * the table is escaped: a hostile table cannot write control bytes to a
 * terminal.  Route paths are rebuilt from their segments, which is what
 * matching uses; the pattern as written is shown only if it differs.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "zpc_back.h"
#include "zt_alg.h"

/* @a s with escapes; in quotes if @a quote. */
static void zpc_dump_str(FILE *out, const char *s, int quote)
{
    if (quote) {
        fputc('"', out);
    }
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || (quote && c == '"')) {
            fprintf(out, "\\%c", c);
        }
        else if (c == '\n') {
            fputs("\\n", out);
        }
        else if (c == '\t') {
            fputs("\\t", out);
        }
        else if (c < 0x20 || c >= 0x7f) {
            fprintf(out, "\\x%02x", c);
        }
        else {
            fputc(c, out);
        }
    }
    if (quote) {
        fputc('"', out);
    }
}

static int zpc_dump_is_ident(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

/* ".name", or ["name"] when it is not a plain identifier */
static void zpc_dump_member(FILE *out, const char *s)
{
    if (zpc_dump_is_ident(s)) {
        fprintf(out, ".%s", s);
    }
    else {
        fputc('[', out);
        zpc_dump_str(out, s, 1);
        fputc(']', out);
    }
}

static const char *zpc_dump_basename(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash != NULL ? slash + 1 : path;
}

static void zpc_dump_opnd(FILE *out, const zt_table_t *t, uint32_t i)
{
    const zt_opnd_rec_t *o = &t->opnds[i];

    switch (o->kind) {
    case ZT_OPND_TOKEN: {
        const char *part = zt_table_str(t, o->str);
        fputs("token", out);
        for (uint32_t k = 0; k < o->n; k++) {
            zpc_dump_member(out, part);
            part += strlen(part) + 1;
        }
        break;
    }
    case ZT_OPND_PATH:
        fputs("path", out);
        zpc_dump_member(out, zt_table_str(t, o->str));
        break;
    case ZT_OPND_STR:
        zpc_dump_str(out, zt_table_str(t, o->str), 1);
        break;
    case ZT_OPND_INT:
        fprintf(out, "%" PRId64, o->num);
        break;
    case ZT_OPND_BOOL:
        fputs(o->num ? "true" : "false", out);
        break;
    case ZT_OPND_QUERY:
        fputs("query", out);
        zpc_dump_member(out, zt_table_str(t, o->str));
        break;
    case ZT_OPND_HEADER:
        fputs("header[", out);
        zpc_dump_str(out, zt_table_str(t, o->str), 1);
        fputc(']', out);
        break;
    default: {
        static const char *const names[ZT_OPND__COUNT] = {
            [ZT_OPND_CLIENT_IP] = "client.ip", [ZT_OPND_CERT] = "client.cert",
            [ZT_OPND_CERT_SUBJECT] = "client.cert.subject",
            [ZT_OPND_CERT_SAN] = "client.cert.san",
            [ZT_OPND_TLS_VERSION] = "tls.version", [ZT_OPND_TIME_HOUR] = "time.hour",
            [ZT_OPND_TIME_WEEKDAY] = "time.weekday",
        };
        fputs(o->kind < ZT_OPND__COUNT && names[o->kind] ? names[o->kind] : "?", out);
        break;
    }
    }
}

/* The default type of a capture: a string of 0..4096 bytes, no regex. */
static int zpc_dump_type_is_default(const zt_table_t *t, const zt_type_rec_t *y)
{
    return y->kind == ZT_TYPE_STRING && y->min == 0 && y->max == 4096
           && *zt_table_str(t, y->str) == '\0';
}

/* A type as the language writes it. */
static void zpc_dump_type(FILE *out, const zt_table_t *t, const zt_type_rec_t *y)
{
    static const char *const names[ZT_TYPE__COUNT] = {
        [ZT_TYPE_STRING] = "string", [ZT_TYPE_INT] = "int",
        [ZT_TYPE_NUMBER] = "number", [ZT_TYPE_BOOL] = "bool",
        [ZT_TYPE_UUID] = "uuid", [ZT_TYPE_ENUM] = "enum", [ZT_TYPE_ANY] = "any",
    };

    fputs(names[y->kind], out);
    switch (y->kind) {
    case ZT_TYPE_STRING:
        if (y->min != 0 || y->max != 4096) {
            fprintf(out, " %" PRId64 "..%" PRId64, y->min, y->max);
        }
        if (*zt_table_str(t, y->str) != '\0') {
            /* kept as written between the slashes */
            fputs(" /", out);
            zpc_dump_str(out, zt_table_str(t, y->str), 0);
            fputc('/', out);
        }
        break;
    case ZT_TYPE_INT:
        if (y->min != INT64_MIN || y->max != INT64_MAX) {
            fprintf(out, " %" PRId64 "..%" PRId64, y->min, y->max);
        }
        break;
    case ZT_TYPE_ENUM:
        fputc('(', out);
        for (uint32_t k = 0; k < y->count; k++) {
            fputs(k > 0 ? ", " : "", out);
            zpc_dump_str(out, zt_table_str(t, t->opnds[t->lists[y->first + k]].str), 1);
        }
        fputc(')', out);
        break;
    }
}

/* "10.0.0.0/8", "2001:db8::/32" */
static void zpc_dump_cidr(FILE *out, const zt_cidr_rec_t *c)
{
    char text[INET6_ADDRSTRLEN];

    if (inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, text,
                  sizeof(text)) == NULL) {
        fputs("?", out);
        return;
    }
    fprintf(out, "%s/%u", text, c->prefix);
}

static void zpc_dump_method(FILE *out, uint32_t methods)
{
    const char *m = zt_method_name(methods);

    fprintf(out, "%-7s", m != NULL ? m : "?");
}

/* The route's path as matching sees it. */
static void zpc_dump_path(FILE *out, const zt_table_t *t, const zt_route_rec_t *r)
{
    if (r->seg_count == 0) {
        fputc('/', out);
    }
    for (uint32_t k = 0; k < r->seg_count; k++) {
        const zt_seg_rec_t *s = &t->segs[r->seg_first + k];
        fputc('/', out);
        switch (s->kind) {
        case ZT_SEG_CAPTURE:
            fputc('{', out);
            zpc_dump_str(out, zt_table_str(t, s->str), 0);
            if (!zpc_dump_type_is_default(t, &t->types[s->type])) {
                fputs(": ", out);
                zpc_dump_type(out, t, &t->types[s->type]);
            }
            fputc('}', out);
            break;
        case ZT_SEG_STAR:
            fputc('*', out);
            break;
        case ZT_SEG_GLOBSTAR:
            fputs("**", out);
            break;
        default:
            zpc_dump_str(out, zt_table_str(t, s->str), 0);
            break;
        }
    }
}

/* The same as a malloc'ed string, or NULL when out of memory. */
static char *zpc_dump_path_text(const zt_table_t *t, const zt_route_rec_t *r)
{
    char *s = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&s, &n);

    if (m == NULL) {
        return NULL;
    }
    zpc_dump_path(m, t, r);
    if (fclose(m) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

static void zpc_dump_issuer(FILE *out, const zt_table_t *t,
                            const zt_issuer_rec_t *s)
{
    fputs("issuer ", out);
    zpc_dump_str(out, zt_table_str(t, s->name), 0);
    fputs("  iss ", out);
    zpc_dump_str(out, zt_table_str(t, s->iss), 1);
    fputs("  aud ", out);
    zpc_dump_str(out, zt_table_str(t, s->audience), 1);
    fputs("  algs", out);
    for (uint32_t bit = 1; bit <= ZT_ALG_ALL; bit <<= 1) {
        if (s->algs & bit) {
            const char *name = zt_alg_name(bit);
            fprintf(out, " %s", name != NULL ? name : "?");
        }
    }
    switch (s->jwks_kind) {
    case ZT_JWKS_FILE:
        fputs("\n       jwks file ", out);
        zpc_dump_str(out, zt_table_str(t, s->jwks), 1);
        break;
    case ZT_JWKS_URL:
        fputs("\n       jwks url ", out);
        zpc_dump_str(out, zt_table_str(t, s->jwks), 1);
        break;
    case ZT_JWKS_DISCOVER:
        fputs("\n       jwks discover", out);
        break;
    default:
        fputs("\n       jwks none", out);
        break;
    }
    if (s->refresh != 0 || s->refetch_min != 0) {
        fprintf(out, "  refresh %us  refetch_min %us", s->refresh, s->refetch_min);
    }
    if (*zt_table_str(t, s->secret) != '\0') {
        fputs("  secret file ", out);
        zpc_dump_str(out, zt_table_str(t, s->secret), 1);
    }
    if (s->binding != ZT_BIND_NONE) {
        fprintf(out, "  binding %s", zt_binding_name(s->binding));
    }
    if (*zt_table_str(t, s->typ) != '\0') {
        fputs("  typ ", out);
        zpc_dump_str(out, zt_table_str(t, s->typ), 1);
    }
    if (s->nrequired > 0) {
        const char *name = zt_table_str(t, s->required);
        fputs("  required", out);
        for (uint32_t k = 0; k < s->nrequired; k++) {
            fputc(' ', out);
            if (zpc_dump_is_ident(name)) {
                fputs(name, out);
            }
            else {
                zpc_dump_str(out, name, 1);
            }
            name += strlen(name) + 1;
        }
    }
    if (s->max_lifetime != 0) {
        fprintf(out, "  max_lifetime %us", s->max_lifetime);
    }
    else {
        fputs("  max_lifetime none", out);
    }
    fprintf(out, "  leeway %us  (line %u)\n", s->leeway, s->line);
}

/* "(file.ztp:12)" */
static void zpc_dump_where(FILE *out, const zt_table_t *t, uint32_t file,
                           uint32_t line)
{
    fputs("(", out);
    zpc_dump_str(out, zpc_dump_basename(zt_table_str(t, file)), 0);
    fprintf(out, ":%u)", line);
}

static void zpc_dump_rule(FILE *out, const zt_table_t *t, uint32_t i)
{
    const zt_rule_rec_t *r = &t->rules[i];

    fprintf(out, "rule %u  %-5s  ", i,
            r->effect == ZT_EFFECT_DENY ? "deny" : "allow");
    if (r->flags & ZT_RULE_PUBLIC) {
        fputs(r->cond == ZT_NONE ? "public" : "public ", out);
    }
    if (r->cond != ZT_NONE) {
        fprintf(out, "when n%u", r->cond);
    }
    else if (!(r->flags & ZT_RULE_PUBLIC)) {
        fputs("always", out);
    }
    fputs("  ", out);
    zpc_dump_str(out, zt_table_str(t, r->text), 0);
    fputs("  ", out);
    zpc_dump_where(out, t, r->file, r->line);
    fputc('\n', out);
}

static void zpc_dump_node(FILE *out, const zt_table_t *t, uint32_t i)
{
    static const char *const names[ZT_OP__COUNT] = {
        [ZT_OP_TRUE] = "true", [ZT_OP_AND] = "and", [ZT_OP_OR] = "or",
        [ZT_OP_NOT] = "not", [ZT_OP_EQ] = "eq", [ZT_OP_NE] = "ne",
        [ZT_OP_IN_CLAIM] = "in_claim", [ZT_OP_IN_LIST] = "in_list",
        [ZT_OP_LT] = "lt", [ZT_OP_LE] = "le", [ZT_OP_GT] = "gt", [ZT_OP_GE] = "ge",
        [ZT_OP_IN_CIDR] = "in_cidr",
    };
    const zt_node_rec_t *n = &t->nodes[i];

    fprintf(out, "node %u  %s", i, names[n->op]);
    switch (n->op) {
    case ZT_OP_AND:
    case ZT_OP_OR:
        fprintf(out, " n%u n%u", n->a, n->b);
        break;
    case ZT_OP_NOT:
        fprintf(out, " n%u", n->a);
        break;
    case ZT_OP_EQ:
    case ZT_OP_NE:
    case ZT_OP_IN_CLAIM:
    case ZT_OP_LT:
    case ZT_OP_LE:
    case ZT_OP_GT:
    case ZT_OP_GE:
        fputc(' ', out);
        zpc_dump_opnd(out, t, n->a);
        fputc(' ', out);
        zpc_dump_opnd(out, t, n->b);
        break;
    case ZT_OP_IN_LIST:
        fputc(' ', out);
        zpc_dump_opnd(out, t, n->a);
        fputs(" [", out);
        for (uint32_t k = 0; k < n->c; k++) {
            if (k > 0) {
                fputs(", ", out);
            }
            zpc_dump_opnd(out, t, t->lists[n->b + k]);
        }
        fputc(']', out);
        break;
    case ZT_OP_IN_CIDR:
        fputc(' ', out);
        zpc_dump_opnd(out, t, n->a);
        fputs(" [", out);
        for (uint32_t k = 0; k < n->c; k++) {
            fputs(k > 0 ? ", " : "", out);
            zpc_dump_cidr(out, &t->cidrs[n->b + k]);
        }
        fputc(']', out);
        break;
    }
    fputc('\n', out);
}

/* The route's contract, one line each: parameters, then the body. */
static void zpc_dump_contract(FILE *out, const zt_table_t *t,
                              const zt_route_rec_t *r)
{
    for (uint32_t k = 0; k < r->param_count; k++) {
        const zt_param_rec_t *p = &t->params[r->param_first + k];
        const char *name = zt_table_str(t, p->name);

        if (p->where == ZT_PARAM_HEADER) {
            fputs("       header ", out);
            zpc_dump_str(out, name, 1);
        }
        else {
            fputs("       query ", out);
            zpc_dump_str(out, name, !zpc_dump_is_ident(name));
        }
        fputc(' ', out);
        zpc_dump_type(out, t, &t->types[p->type]);
        fputs(p->flags & ZT_PARAM_OPTIONAL ? " optional" : "", out);
        fputs(p->flags & ZT_PARAM_LIST ? " list" : "", out);
        fputc('\n', out);
    }
    if (r->flags & ZT_ROUTE_QUERY_ANY) {
        fputs("       query * any\n", out);
    }
    if (r->body != ZT_NONE) {
        const zt_body_rec_t *b = &t->bodies[r->body];

        fprintf(out, "       body %s max %u", b->kind == ZT_BODY_XML ? "xml" : "json",
                b->max);
        if (b->schema_len > 0 || b->schema_name != 0) {
            fputs(" schema ", out);
            zpc_dump_str(out, zt_table_str(t, b->schema_name), 1);
            fprintf(out, " (%u bytes)", b->schema_len);
        }
        if (b->root != 0) {
            fputs(" root ", out);
            zpc_dump_str(out, zt_table_str(t, b->root), 1);
        }
        fputc('\n', out);
    }
}

static void zpc_dump_stepup(FILE *out, const zt_table_t *t, uint32_t i)
{
    const zt_stepup_rec_t *s = &t->stepups[i];

    fprintf(out, "stepup %u", i);
    if (s->acr_count > 0) {
        fputs("  acr", out);
        for (uint32_t k = 0; k < s->acr_count; k++) {
            fputc(' ', out);
            zpc_dump_opnd(out, t, t->lists[s->acr_first + k]);
        }
    }
    if (s->max_age > 0) {
        fprintf(out, "  max_age %us", s->max_age);
    }
    fputs("  ", out);
    zpc_dump_where(out, t, s->file, s->line);
    fputc('\n', out);
}

static void zpc_dump_limit(FILE *out, const zt_table_t *t, uint32_t i)
{
    static const char *const keys[] = {
        [ZT_LIMIT_SUB] = "token.sub", [ZT_LIMIT_AZP] = "token.azp",
        [ZT_LIMIT_IP] = "client.ip",
    };
    const zt_limit_rec_t *l = &t->limits[i];

    fprintf(out, "limit %u  %u/%s per %s  ", i, l->count,
            l->period == 1 ? "s" : l->period == 60 ? "min" : "hour", keys[l->key]);
    zpc_dump_where(out, t, l->file, l->line);
    fputc('\n', out);
}

void zpc_dump(FILE *out, const zt_table_t *t)
{
    int width = 0;

    fputs("policy ", out);
    zpc_dump_str(out, zt_table_str(t, t->meta->name), 1);
    fputs("  (source ", out);
    zpc_dump_str(out, zpc_dump_basename(zt_table_str(t, t->meta->source)), 0);
    fprintf(out, ", sha256 %s)\n", t->hash_hex);

    for (uint32_t i = 0; i < t->nissuers; i++) {
        zpc_dump_issuer(out, t, &t->issuers[i]);
    }

    for (uint32_t i = 0; i < t->nroutes; i++) {
        char *path = zpc_dump_path_text(t, &t->routes[i]);
        if (path != NULL && (int)strlen(path) > width) {
            width = (int)strlen(path);
        }
        free(path);
    }
    for (uint32_t i = 0; i < t->nroutes; i++) {
        const zt_route_rec_t *r = &t->routes[i];
        char *path = zpc_dump_path_text(t, r);

        fprintf(out, "route %u  ", i);
        zpc_dump_method(out, r->methods);
        fputc(' ', out);
        if (path != NULL) {
            fprintf(out, "%-*s", width, path);
        }
        else {
            zpc_dump_path(out, t, r);
        }
        fputs("  rules", out);
        if (r->rref_count == 0) {
            fputs(" none", out);
        }
        for (uint32_t k = 0; k < r->rref_count; k++) {
            fprintf(out, " %u", t->rrefs[r->rref_first + k]);
        }
        if (r->stepup != ZT_NONE) {
            fprintf(out, "  stepup %u", r->stepup);
        }
        if (r->lref_count > 0) {
            fputs("  limits", out);
            for (uint32_t k = 0; k < r->lref_count; k++) {
                fprintf(out, " %u", t->lrefs[r->lref_first + k]);
            }
        }
        if (path != NULL && strcmp(path, zt_table_str(t, r->pattern)) != 0) {
            fputs("  pattern ", out);
            zpc_dump_str(out, zt_table_str(t, r->pattern), 1);
        }
        fputs("  ", out);
        zpc_dump_where(out, t, r->file, r->line);
        fputc('\n', out);
        zpc_dump_contract(out, t, r);
        free(path);
    }

    for (uint32_t i = 0; i < t->nrules; i++) {
        zpc_dump_rule(out, t, i);
    }
    for (uint32_t i = 0; i < t->nstepups; i++) {
        zpc_dump_stepup(out, t, i);
    }
    for (uint32_t i = 0; i < t->nlimits; i++) {
        zpc_dump_limit(out, t, i);
    }
    for (uint32_t i = 0; i < t->nnodes; i++) {
        zpc_dump_node(out, t, i);
    }
}
