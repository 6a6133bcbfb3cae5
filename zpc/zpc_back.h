/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zpc_back.h
 * @brief zpc back end: lay out a table from the IR, and print a table.
 */
#ifndef ZPC_BACK_H
#define ZPC_BACK_H

#include <stdio.h>
#include "zpc_ir.h"
#include "zt_table.h"

/**
 * Serialise @a ir into a complete table (header, sections, SHA-256
 * trailer) in @a pool, 8-aligned.  A format limit that the IR exceeds is an
 * error naming the limit: "too many rules (65536; the limit is 65535)".
 */
apr_status_t zpc_emit(const zpc_ir_t *ir, apr_pool_t *pool,
                      void **buf, apr_size_t *len, const char **err);

/** Write @a buf to @a path atomically: temp file, fsync, rename. */
apr_status_t zpc_write_atomic(const char *path, const void *buf,
                              apr_size_t len, apr_pool_t *pool,
                              const char **err);

/** Print a verified table in the stable, readable form of `zpc dump`. */
void zpc_dump(FILE *out, const zt_table_t *t);

#endif /* ZPC_BACK_H */
