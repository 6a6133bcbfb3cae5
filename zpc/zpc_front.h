/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zpc_front.h
 * @brief zpc front end: source text to checked, lowered IR.
 */
#ifndef ZPC_FRONT_H
#define ZPC_FRONT_H

#include <stdio.h>
#include "zpc_ir.h"

/**
 * Parse, check and lower the policy in @a path.  Diagnostics
 * ("file:line:col: error: ...", the source line, a caret) go to @a diag.
 * @return the IR, or NULL when there was at least one error.
 * *nerrors and *nwarnings (may be NULL) receive the counts.
 */
zpc_ir_t *zpc_compile_file(const char *path, FILE *diag, apr_pool_t *pool,
                           int *nerrors, int *nwarnings);

/** The same for source text already in memory; @a name is used in messages. */
zpc_ir_t *zpc_compile_string(const char *name, const char *src, apr_size_t len,
                             FILE *diag, apr_pool_t *pool,
                             int *nerrors, int *nwarnings);

#endif /* ZPC_FRONT_H */
