/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Conditions, routes and rules of a verified table printed back in the
 * policy's own syntax, for `zpc test`, `explain` and `diff`.
 *
 * The text of a comparison is also its identity in `zpc diff`: the same
 * condition in two tables prints the same, whatever node or operand
 * indices it has.  So the printing is canonical: one spelling per
 * operand, lists in table order, an address block always with its prefix.
 * Every string from the table is escaped, so a hostile table cannot send
 * control bytes to a terminal.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include <apr_strings.h>

#include "zpc_tools.h"
#include "zt_alg.h"

const char *zpc_escape(const char *s, apr_size_t len, int quote, apr_pool_t *pool)
{
    char *out = apr_palloc(pool, len * 4 + 3), *o = out;

    if (quote) {
        *o++ = '"';
    }
    for (apr_size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '\\' || (quote && c == '"')) {
            *o++ = '\\';
            *o++ = (char)c;
        }
        else if (c < 0x20 || c >= 0x7f) {
            o += sprintf(o, "\\x%02x", c);
        }
        else {
            *o++ = (char)c;
        }
    }
    if (quote) {
        *o++ = '"';
    }
    *o = '\0';
    return out;
}

static const char *zpc_cond_str(const char *s, int quote, apr_pool_t *pool)
{
    return zpc_escape(s, strlen(s), quote, pool);
}

/* ".name", or ["name"] when it is not a plain identifier */
static const char *zpc_cond_member(const char *s, apr_pool_t *pool)
{
    int ident = *s != '\0';

    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            ident = 0;
        }
    }
    return ident ? apr_pstrcat(pool, ".", s, NULL)
                 : apr_pstrcat(pool, "[", zpc_cond_str(s, 1, pool), "]", NULL);
}

static const char *zpc_opnd_text(const zt_table_t *t, uint32_t i, apr_pool_t *pool)
{
    const zt_opnd_rec_t *o = &t->opnds[i];
    const char *s = zt_table_str(t, o->str);

    switch (o->kind) {
    case ZT_OPND_TOKEN: {
        const char *text = "token";
        for (uint32_t k = 0; k < o->n; k++) {
            text = apr_pstrcat(pool, text, zpc_cond_member(s, pool), NULL);
            s += strlen(s) + 1;
        }
        return text;
    }
    case ZT_OPND_PATH:
        return apr_pstrcat(pool, "path", zpc_cond_member(s, pool), NULL);
    case ZT_OPND_QUERY:
        return apr_pstrcat(pool, "query", zpc_cond_member(s, pool), NULL);
    case ZT_OPND_HEADER:
        return apr_pstrcat(pool, "header[", zpc_cond_str(s, 1, pool), "]", NULL);
    case ZT_OPND_STR:
        return zpc_cond_str(s, 1, pool);
    case ZT_OPND_INT:
        return apr_psprintf(pool, "%" PRId64, o->num);
    case ZT_OPND_BOOL:
        return o->num ? "true" : "false";
    case ZT_OPND_CLIENT_IP:
        return "client.ip";
    case ZT_OPND_CERT:
        return "client.cert";
    case ZT_OPND_CERT_SUBJECT:
        return "client.cert.subject";
    case ZT_OPND_CERT_SAN:
        return "client.cert.san";
    case ZT_OPND_TLS_VERSION:
        return "tls.version";
    case ZT_OPND_TIME_HOUR:
        return "time.hour";
    case ZT_OPND_TIME_WEEKDAY:
        return "time.weekday";
    }
    return "?";
}

static const char *zpc_cidr_text(const zt_cidr_rec_t *c, apr_pool_t *pool)
{
    char addr[INET6_ADDRSTRLEN];

    if (inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, addr,
                  sizeof(addr)) == NULL) {
        return "?";
    }
    return apr_psprintf(pool, "%s/%u", addr, (unsigned int)c->prefix);
}

int zpc_node_is_atom(const zt_table_t *t, uint32_t node)
{
    switch (t->nodes[node].op) {
    case ZT_OP_TRUE: case ZT_OP_AND: case ZT_OP_OR: case ZT_OP_NOT:
        return 0;
    }
    return 1;
}

int zpc_node_reads_token(const zt_table_t *t, uint32_t node)
{
    const zt_node_rec_t *n = &t->nodes[node];

    switch (n->op) {
    case ZT_OP_TRUE:
        return 0;
    case ZT_OP_AND:
    case ZT_OP_OR:
        return zpc_node_reads_token(t, n->a) || zpc_node_reads_token(t, n->b);
    case ZT_OP_NOT:
        return zpc_node_reads_token(t, n->a);
    case ZT_OP_IN_LIST:
    case ZT_OP_IN_CIDR:
        return t->opnds[n->a].kind == ZT_OPND_TOKEN;
    }
    return t->opnds[n->a].kind == ZT_OPND_TOKEN
           || t->opnds[n->b].kind == ZT_OPND_TOKEN;
}

/* Precedence, loosest first: or, and, not, comparison. */
enum { ZPC_P_OR = 1, ZPC_P_AND, ZPC_P_NOT, ZPC_P_ATOM };

static int zpc_cond_prec(const zt_node_rec_t *n)
{
    switch (n->op) {
    case ZT_OP_OR:  return ZPC_P_OR;
    case ZT_OP_AND: return ZPC_P_AND;
    case ZT_OP_NOT: return ZPC_P_NOT;
    }
    return ZPC_P_ATOM;
}

/* The child @a i, in parentheses when it binds looser than @a prec. */
static const char *zpc_cond_sub(const zt_table_t *t, uint32_t i, int prec,
                                apr_pool_t *pool)
{
    const char *s = zpc_cond_text(t, i, pool);

    return zpc_cond_prec(&t->nodes[i]) < prec
           ? apr_pstrcat(pool, "(", s, ")", NULL) : s;
}

const char *zpc_cond_text(const zt_table_t *t, uint32_t node, apr_pool_t *pool)
{
    static const char *const cmp[ZT_OP__COUNT] = {
        [ZT_OP_EQ] = "==", [ZT_OP_NE] = "!=", [ZT_OP_IN_CLAIM] = "in",
        [ZT_OP_LT] = "<", [ZT_OP_LE] = "<=", [ZT_OP_GT] = ">", [ZT_OP_GE] = ">=",
    };
    const zt_node_rec_t *n = &t->nodes[node];
    const char *text;

    switch (n->op) {
    case ZT_OP_TRUE:
        return "true";
    case ZT_OP_AND:
    case ZT_OP_OR: {
        int p = zpc_cond_prec(n);
        /* and/or are associative: a same-operator child needs no parentheses */
        return apr_pstrcat(pool, zpc_cond_sub(t, n->a, p, pool),
                           n->op == ZT_OP_AND ? " and " : " or ",
                           zpc_cond_sub(t, n->b, p, pool), NULL);
    }
    case ZT_OP_NOT:
        return apr_pstrcat(pool, "not ", zpc_cond_sub(t, n->a, ZPC_P_NOT, pool),
                           NULL);
    case ZT_OP_IN_LIST:
        text = apr_pstrcat(pool, zpc_opnd_text(t, n->a, pool), " in [", NULL);
        for (uint32_t k = 0; k < n->c; k++) {
            text = apr_pstrcat(pool, text, k > 0 ? ", " : "",
                               zpc_opnd_text(t, t->lists[n->b + k], pool), NULL);
        }
        return apr_pstrcat(pool, text, "]", NULL);
    case ZT_OP_IN_CIDR:
        text = apr_pstrcat(pool, zpc_opnd_text(t, n->a, pool), " in [", NULL);
        for (uint32_t k = 0; k < n->c; k++) {
            text = apr_pstrcat(pool, text, k > 0 ? ", " : "",
                               zpc_cidr_text(&t->cidrs[n->b + k], pool), NULL);
        }
        return apr_pstrcat(pool, text, "]", NULL);
    }
    if (n->op < ZT_OP__COUNT && cmp[n->op] != NULL) {
        return apr_pstrcat(pool, zpc_opnd_text(t, n->a, pool), " ", cmp[n->op],
                           " ", zpc_opnd_text(t, n->b, pool), NULL);
    }
    return "?";
}

const char *zpc_route_text(const zt_table_t *t, uint32_t route, apr_pool_t *pool)
{
    const zt_route_rec_t *r = &t->routes[route];
    const char *m = zt_method_name(r->methods);
    const char *text = apr_pstrcat(pool, m != NULL ? m : "?", " ", NULL);

    if (r->seg_count == 0) {
        return apr_pstrcat(pool, text, "/", NULL);
    }
    for (uint32_t k = 0; k < r->seg_count; k++) {
        const zt_seg_rec_t *s = &t->segs[r->seg_first + k];
        const char *seg;

        switch (s->kind) {
        case ZT_SEG_LITERAL:
            seg = zpc_cond_str(zt_table_str(t, s->str), 0, pool);
            break;
        case ZT_SEG_CAPTURE:
            seg = apr_pstrcat(pool, "{", zpc_cond_str(zt_table_str(t, s->str), 0,
                                                      pool), "}", NULL);
            break;
        case ZT_SEG_STAR:
            seg = "*";
            break;
        default:
            seg = "**";
            break;
        }
        text = apr_pstrcat(pool, text, "/", seg, NULL);
    }
    return text;
}

const char *zpc_rule_text(const zt_table_t *t, uint32_t rule, apr_pool_t *pool)
{
    const zt_rule_rec_t *r = &t->rules[rule];
    const char *text = apr_pstrcat(pool,
                                   r->effect == ZT_EFFECT_DENY ? "deny " : "allow ",
                                   zpc_cond_str(zt_table_str(t, r->text), 0, pool),
                                   NULL);

    if (r->flags & ZT_RULE_PUBLIC) {
        text = apr_pstrcat(pool, text, " public", NULL);
    }
    if (r->cond != ZT_NONE) {
        text = apr_pstrcat(pool, text, " when ", zpc_cond_text(t, r->cond, pool),
                           NULL);
    }
    return text;
}

const char *zpc_file_name(const char *path, apr_pool_t *pool)
{
    const char *slash = strrchr(path, '/');

    return zpc_cond_str(slash != NULL ? slash + 1 : path, 0, pool);
}

const char *zpc_rule_where(const zt_table_t *t, uint32_t rule, apr_pool_t *pool)
{
    return apr_psprintf(pool, "%s:%u",
                        zpc_file_name(zt_table_str(t, t->rules[rule].file), pool),
                        (unsigned int)t->rules[rule].line);
}
