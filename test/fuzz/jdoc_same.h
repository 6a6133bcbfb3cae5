/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The two strict JSON readers side by side, for test_jdoc and fuzz_jdoc:
 * zt_jdoc (the token path) and zt_json (jansson, for key sets and
 * discovery) must accept the same documents and read the same values.
 */
#ifndef ZT_JDOC_SAME_H
#define ZT_JDOC_SAME_H

#include <string.h>
#include <jansson.h>

#include "zt_jdoc.h"
#include "zt_json.h"

/* 1 if the subtree at @a v holds what @a j holds, sizes included. */
static int zt_jdoc_same(const zt_jnode_t *v, const json_t *j)
{
    const zt_jnode_t *c;
    uint32_t k;

    switch (v->type) {
    case ZT_J_NULL:
        return json_is_null(j) && v->size == 1;
    case ZT_J_TRUE:
        return json_is_true(j) && v->size == 1;
    case ZT_J_FALSE:
        return json_is_false(j) && v->size == 1;
    case ZT_J_INT:
        return json_is_integer(j) && json_integer_value(j) == v->u.i;
    case ZT_J_REAL:
        /* Both strtod of the same text: the same double, bit for bit. */
        return json_is_real(j) && memcmp(&v->u.d, &(double){ json_real_value(j) },
                                         sizeof(double)) == 0;
    case ZT_J_STR:
        return json_is_string(j) && json_string_length(j) == v->u.s.len
               && memcmp(json_string_value(j), zt_jnode_str(v), v->u.s.len) == 0
               && zt_jnode_str(v)[v->u.s.len] == '\0';
    case ZT_J_ARRAY:
        if (!json_is_array(j) || json_array_size(j) != v->u.n) {
            return 0;
        }
        for (k = 0, c = zt_jnode_first(v); k < v->u.n; k++, c = zt_jnode_next(c)) {
            if (c >= v + v->size || !zt_jdoc_same(c, json_array_get(j, k))) {
                return 0;
            }
        }
        return c == v + v->size;
    case ZT_J_OBJECT:
        if (!json_is_object(j) || json_object_size(j) != v->u.n) {
            return 0;
        }
        for (k = 0, c = zt_jnode_first(v); k < v->u.n; k++, c = zt_jnode_next(c + 1)) {
            json_t *m;

            if (c + 1 >= v + v->size || c->type != ZT_J_STR || c->size != 1
                || strlen(zt_jnode_str(c)) != c->u.s.len
                || (m = json_object_get(j, zt_jnode_str(c))) == NULL
                || zt_jnode_member(v, zt_jnode_str(c), c->u.s.len) != c + 1
                || !zt_jdoc_same(c + 1, m)) {
                return 0;
            }
        }
        return c == v + v->size;
    default:
        return 0;
    }
}

/*
** Parse @a len bytes of @a s with both readers.  Returns 1 (both accept,
** same values), 0 (both refuse, each with a message), or -1 (they
** disagree, or a document does not hold together).
*/
static int zt_jdoc_both(const char *s, size_t len, size_t max_len,
                        apr_pool_t *pool)
{
    const char *e1 = NULL, *e2 = NULL;
    const zt_jdoc_t *d = zt_jdoc_parse(s, len, max_len, pool, &e1);
    json_t *j = zt_json_parse(s, len, max_len, pool, &e2);
    int rc;

    if (d == NULL && j == NULL) {
        return e1 != NULL && e2 != NULL ? 0 : -1;
    }
    rc = d != NULL && j != NULL && d->nnodes == d->node[0].size
         && d->size >= sizeof(*d) + d->nnodes * sizeof(zt_jnode_t)
         && zt_jdoc_same(d->node, j) ? 1 : -1;
    json_decref(j);
    return rc;
}

#endif /* ZT_JDOC_SAME_H */
