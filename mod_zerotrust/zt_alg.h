/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_alg.h
 * @brief Names of JWS algorithms, HTTP methods and token bindings, shared
 *        by zpc and the module.
 */
#ifndef ZT_ALG_H
#define ZT_ALG_H

#include <stddef.h>
#include <stdint.h>

/** ZT_ALG_* bit for a JWS "alg" name (case-sensitive, RFC 7518), or 0. */
uint32_t zt_alg_from_name(const char *name, size_t len);
/** Name of a single ZT_ALG_* bit, or NULL. */
const char *zt_alg_name(uint32_t alg);

/** ZT_M_* bit for a method name; HEAD maps to GET.  0 if not supported. */
uint32_t zt_method_from_name(const char *name, size_t len);
/** Name of a single ZT_M_* bit, or NULL. */
const char *zt_method_name(uint32_t method);

/** ZT_BIND_* value of a `binding` word (mtls, dpop, any), or 0. */
uint32_t zt_binding_from_name(const char *name, size_t len);
/** The `binding` word of a ZT_BIND_* value, or NULL (ZT_BIND_NONE too). */
const char *zt_binding_name(uint32_t binding);

#endif /* ZT_ALG_H */
