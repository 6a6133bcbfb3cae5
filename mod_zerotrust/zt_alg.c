/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

#include <string.h>

#include "zt_alg.h"
#include "zt_format.h"

typedef struct {
    const char *name;
    uint32_t bit;
} zt_name_bit_t;

static const zt_name_bit_t zt_algs[] = {
    { "RS256", ZT_ALG_RS256 }, { "RS384", ZT_ALG_RS384 }, { "RS512", ZT_ALG_RS512 },
    { "PS256", ZT_ALG_PS256 }, { "PS384", ZT_ALG_PS384 }, { "PS512", ZT_ALG_PS512 },
    { "ES256", ZT_ALG_ES256 }, { "ES384", ZT_ALG_ES384 }, { "ES512", ZT_ALG_ES512 },
    { "EdDSA", ZT_ALG_EDDSA },
    { "HS256", ZT_ALG_HS256 }, { "HS384", ZT_ALG_HS384 }, { "HS512", ZT_ALG_HS512 },
};

static const zt_name_bit_t zt_methods[] = {
    { "GET", ZT_M_GET }, { "POST", ZT_M_POST }, { "PUT", ZT_M_PUT },
    { "PATCH", ZT_M_PATCH }, { "DELETE", ZT_M_DELETE }, { "OPTIONS", ZT_M_OPTIONS },
    { "HEAD", ZT_M_GET },   /* last, so zt_method_name(ZT_M_GET) is "GET" */
};

/* The words of an issuer's `binding` (zt_format.h ZT_BIND_*). */
static const zt_name_bit_t zt_bindings[] = {
    { "mtls", ZT_BIND_MTLS }, { "dpop", ZT_BIND_DPOP }, { "any", ZT_BIND_ANY },
};

#define ZT_NELTS(a) (sizeof(a) / sizeof((a)[0]))

static uint32_t zt_lookup_bit(const zt_name_bit_t *tab, size_t n,
                              const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(tab[i].name) == len && memcmp(tab[i].name, name, len) == 0) {
            return tab[i].bit;
        }
    }
    return 0;
}

static const char *zt_lookup_name(const zt_name_bit_t *tab, size_t n,
                                  uint32_t bit)
{
    for (size_t i = 0; i < n; i++) {
        if (tab[i].bit == bit) {
            return tab[i].name;
        }
    }
    return NULL;
}

uint32_t zt_alg_from_name(const char *name, size_t len)
{
    return zt_lookup_bit(zt_algs, ZT_NELTS(zt_algs), name, len);
}

const char *zt_alg_name(uint32_t alg)
{
    return zt_lookup_name(zt_algs, ZT_NELTS(zt_algs), alg);
}

uint32_t zt_method_from_name(const char *name, size_t len)
{
    return zt_lookup_bit(zt_methods, ZT_NELTS(zt_methods), name, len);
}

const char *zt_method_name(uint32_t method)
{
    return zt_lookup_name(zt_methods, ZT_NELTS(zt_methods), method);
}

uint32_t zt_binding_from_name(const char *name, size_t len)
{
    return zt_lookup_bit(zt_bindings, ZT_NELTS(zt_bindings), name, len);
}

const char *zt_binding_name(uint32_t binding)
{
    return zt_lookup_name(zt_bindings, ZT_NELTS(zt_bindings), binding);
}
