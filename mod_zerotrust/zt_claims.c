/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Claims as the token stage keeps them: a zt_jdoc_t (zt_jdoc.h), one flat
 * block of nodes.  A zt_val_t's ref is the claim's node, from which its
 * elements follow without the document.  Claim slots and views are in
 * zt_cview.c.
 */
#include <string.h>

#include "zt_claims.h"
#include "zt_jdoc.h"

static void zt_val_from_node(const zt_jnode_t *j, zt_val_t *v)
{
    v->ref = j;
    switch (j->type) {
    case ZT_J_STR:
        v->type = ZT_V_STR;
        v->s = zt_jnode_str(j);
        v->len = j->u.s.len;
        break;
    case ZT_J_INT:
        v->type = ZT_V_INT;
        v->i = j->u.i;
        break;
    case ZT_J_TRUE:
        v->type = ZT_V_BOOL;
        v->i = 1;
        break;
    case ZT_J_FALSE:
        v->type = ZT_V_BOOL;
        v->i = 0;
        break;
    default:
        v->type = ZT_V_OTHER;
        break;
    }
}

void zt_claims_get_len(const zt_claims_t *c, const char *path, size_t len0,
                       uint32_t nparts, zt_val_t *v)
{
    const zt_jnode_t *j = c != NULL ? c->node : NULL;

    v->type = ZT_V_MISSING;
    v->ref = NULL;
    for (uint32_t k = 0; k < nparts && j != NULL; k++) {
        if (k > 0) {
            path += len0 + 1;
            len0 = strlen(path);
        }
        j = zt_jnode_member(j, path, len0);
    }
    if (j != NULL) {
        zt_val_from_node(j, v);
    }
}

void zt_claims_get(const zt_claims_t *c, const char *path, uint32_t nparts,
                   zt_val_t *v)
{
    zt_claims_get_len(c, path, strlen(path), nparts, v);
}

void zt_claims_get_slot(const zt_claims_t *c, const uint32_t *view,
                        uint32_t slot, zt_val_t *v)
{
    const zt_cval_t *cv = zt_cval(view, slot);

    v->type = ZT_V_MISSING;
    v->ref = NULL;
    if (c != NULL && cv->type != ZT_V_MISSING) {
        zt_val_from_node(&c->node[cv->node], v);
    }
}

int zt_val_equal(const zt_val_t *a, const zt_val_t *b)
{
    if (a->type != b->type) {
        return 0;
    }
    if (a->type == ZT_V_STR) {
        return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    }
    return a->i == b->i;
}

int zt_claims_array_has(const zt_val_t *arr, const zt_val_t *a)
{
    const zt_jnode_t *j = arr->ref, *e;

    if (j == NULL || j->type != ZT_J_ARRAY || !zt_val_scalar(a)) {
        return 0;
    }
    e = zt_jnode_first(j);
    for (uint32_t k = 0; k < j->u.n; k++, e = zt_jnode_next(e)) {
        zt_val_t ev;

        zt_val_from_node(e, &ev);
        if (zt_val_scalar(&ev) && zt_val_equal(a, &ev)) {
            return 1;
        }
    }
    return 0;
}
