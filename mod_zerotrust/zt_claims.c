/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Claims as the token stage keeps them today: a jansson object (a
 * zt_claims_t pointer is the json_t of the payload).
 */
#include <string.h>
#include <jansson.h>

#include "zt_claims.h"

static void zt_val_from_json(const json_t *j, zt_val_t *v)
{
    v->ref = j;
    switch (json_typeof(j)) {
    case JSON_STRING:
        v->type = ZT_V_STR;
        v->s = json_string_value(j);
        v->len = json_string_length(j);
        break;
    case JSON_INTEGER:
        v->type = ZT_V_INT;
        v->i = (int64_t)json_integer_value(j);
        break;
    case JSON_TRUE:
        v->type = ZT_V_BOOL;
        v->i = 1;
        break;
    case JSON_FALSE:
        v->type = ZT_V_BOOL;
        v->i = 0;
        break;
    default:
        v->type = ZT_V_OTHER;
        break;
    }
}

void zt_claims_get(const zt_claims_t *c, const char *path, uint32_t nparts,
                   zt_val_t *v)
{
    const json_t *j = (const json_t *)c;

    v->type = ZT_V_MISSING;
    v->ref = NULL;
    for (uint32_t k = 0; k < nparts; k++) {
        if (j == NULL || !json_is_object(j)) {
            return;
        }
        j = json_object_get(j, path);
        path += strlen(path) + 1;
    }
    if (j != NULL) {
        zt_val_from_json(j, v);
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
    const json_t *j = arr->ref;

    if (j == NULL || !json_is_array(j) || !zt_val_scalar(a)) {
        return 0;
    }
    for (size_t k = 0; k < json_array_size(j); k++) {
        zt_val_t e;
        zt_val_from_json(json_array_get(j, k), &e);
        if (zt_val_scalar(&e) && zt_val_equal(a, &e)) {
            return 1;
        }
    }
    return 0;
}
