/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zpc_diag.h
 * @brief zpc diagnostics: "file:line:col: error: message", the source line
 *        and a caret under the span; notes and warnings; error counting.
 *
 * Lines and columns are 1-based; columns count bytes.  After
 * ZPC_DIAG_MAX_ERRORS errors one note says so and nothing more is printed
 * or counted; zpc_diag_stopped() then tells the stages to stop.  Warnings
 * past ZPC_DIAG_MAX_WARNINGS are counted but not printed.
 */
#ifndef ZPC_DIAG_H
#define ZPC_DIAG_H

#include <stdio.h>
#include <apr_pools.h>

/** Errors printed before zpc stops. */
#define ZPC_DIAG_MAX_ERRORS 20
/** Warnings printed; the rest are only counted. */
#define ZPC_DIAG_MAX_WARNINGS 100

/** A source span; also the parser's location type (bison's field names).
 *  last_column is the column of the span's last byte.  first_line 0 means
 *  "no position": the message names only the file.  file is the index
 *  zpc_diag_add_file() gave the span's file: 0 is the main file. */
typedef struct {
    int first_line, first_column;
    int last_line, last_column;
    int file;
} zpc_loc_t;

typedef struct zpc_diag_t zpc_diag_t;

/**
 * A diagnostics sink for @a file whose text is @a src (@a len bytes; kept,
 * not copied, to print source lines).  @a out may be NULL: count only.
 */
zpc_diag_t *zpc_diag_create(apr_pool_t *pool, FILE *out, const char *file,
                            const char *src, apr_size_t len);

/**
 * Register one more source file (an include) for messages; @a src is kept,
 * not copied.  Returns the index its locations carry in zpc_loc_t.file.
 */
int zpc_diag_add_file(zpc_diag_t *d, const char *file, const char *src,
                      apr_size_t len);

/** Report an error at @a loc (NULL: no position). */
void zpc_diag_error(zpc_diag_t *d, const zpc_loc_t *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Report a warning at @a loc. */
void zpc_diag_warning(zpc_diag_t *d, const zpc_loc_t *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Add a note to the error or warning just reported (dropped with it). */
void zpc_diag_note(zpc_diag_t *d, const zpc_loc_t *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int zpc_diag_errors(const zpc_diag_t *d);
int zpc_diag_warnings(const zpc_diag_t *d);
/** True once the error limit was reached: stages should stop early. */
int zpc_diag_stopped(const zpc_diag_t *d);
/** The name messages use for the main file. */
const char *zpc_diag_file(const zpc_diag_t *d);
/** The name of file @a index (zpc_loc_t.file); the main file's if unknown. */
const char *zpc_diag_file_name(const zpc_diag_t *d, int index);

/**
 * @a s (@a len bytes) as a double-quoted literal for a message: escapes
 * quotes, backslashes and control bytes, and cuts it at @a max bytes
 * with "...".
 */
const char *zpc_diag_quote(apr_pool_t *pool, const char *s, apr_size_t len,
                           apr_size_t max);

/** Length of the valid UTF-8 sequence at @a s (1..4), or 0 if invalid. */
apr_size_t zpc_utf8_len(const unsigned char *s, apr_size_t avail);

#endif /* ZPC_DIAG_H */
