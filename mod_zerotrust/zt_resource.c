/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The protected resource as its table describes it (zt_resource.h).
 */
#include "zt_resource.h"

#include <string.h>

#include <apr_hash.h>
#include <apr_tables.h>

#include "zt_format.h"

/* Polarity marks of a condition node, as reached from allow rules. */
#define ZT_REACH_POS 0x1        /* under an even number of NOTs */
#define ZT_REACH_NEG 0x2        /* under an odd number */

/* RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
static int zt_scope_token(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
            return 0;
        }
    }
    return 1;
}

/* Is operand @a o the claim "scope" (a one-part TOKEN path)? */
static int zt_is_scope_claim(const zt_table_t *t, const zt_opnd_rec_t *o)
{
    return o->kind == ZT_OPND_TOKEN && o->n == 1
           && strcmp(zt_table_str(t, o->str), "scope") == 0;
}

/*
** Mark every node an allow rule's condition reaches, with the polarity it
** is reached under.  A verified table's children have larger indices than
** their parents, so one forward pass sees each node after all its parents.
*/
static unsigned char *zt_reach_allows(const zt_table_t *t, apr_pool_t *pool)
{
    unsigned char *mark = apr_pcalloc(pool, t->nnodes ? t->nnodes : 1);
    uint32_t i;

    for (i = 0; i < t->nrules; i++) {
        const zt_rule_rec_t *rl = &t->rules[i];

        if (rl->effect == ZT_EFFECT_ALLOW && rl->cond != ZT_NONE) {
            mark[rl->cond] |= ZT_REACH_POS;
        }
    }
    for (i = 0; i < t->nnodes; i++) {
        const zt_node_rec_t *n = &t->nodes[i];
        unsigned char m = mark[i];

        switch (n->op) {
        case ZT_OP_AND:
        case ZT_OP_OR:
            mark[n->a] |= m;
            mark[n->b] |= m;
            break;
        case ZT_OP_NOT:
            mark[n->a] |= (unsigned char)(((m & ZT_REACH_POS) << 1)
                                          | ((m & ZT_REACH_NEG) >> 1));
            break;
        default:
            break;
        }
    }
    return mark;
}

void zt_resource_describe(const zt_table_t *t, apr_pool_t *pool,
                          zt_resource_t *out)
{
    apr_pool_t *tmp;
    unsigned char *mark;
    apr_hash_t *seen;
    apr_array_header_t *scopes;
    uint32_t i;

    memset(out, 0, sizeof(*out));
    out->issuers = apr_palloc(pool, (t->nissuers + 1) * sizeof(char *));
    for (i = 0; i < t->nissuers; i++) {
        out->issuers[out->nissuers++] = zt_table_str(t, t->issuers[i].iss);
    }
    apr_pool_create(&tmp, pool);
    mark = zt_reach_allows(t, tmp);
    seen = apr_hash_make(tmp);
    scopes = apr_array_make(pool, 8, sizeof(const char *));
    for (i = 0; i < t->nnodes; i++) {
        const zt_node_rec_t *n = &t->nodes[i];
        const char *s;

        if (!(mark[i] & ZT_REACH_POS) || n->op != ZT_OP_IN_CLAIM
            || t->opnds[n->a].kind != ZT_OPND_STR
            || !zt_is_scope_claim(t, &t->opnds[n->b])) {
            continue;
        }
        s = zt_table_str(t, t->opnds[n->a].str);
        if (zt_scope_token(s) && !apr_hash_get(seen, s, APR_HASH_KEY_STRING)) {
            apr_hash_set(seen, s, APR_HASH_KEY_STRING, s);
            APR_ARRAY_PUSH(scopes, const char *) = s;
        }
    }
    apr_pool_destroy(tmp);
    out->scopes = (const char **)scopes->elts;
    out->nscopes = (uint32_t)scopes->nelts;
}
