/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "zt_utf8.h"
#include "zpc_diag.h"

/* Lines longer than this are shown as a window around the caret. */
#define ZPC_DIAG_WIDE    200
#define ZPC_DIAG_BEFORE  80
#define ZPC_DIAG_WINDOW  160

/* One source file: the main one, or an include. */
typedef struct {
    const char *name;
    const unsigned char *src;
    apr_size_t len;
    apr_array_header_t *lines;  /* apr_size_t: offset of each line's start */
} zpc_diag_src_t;

struct zpc_diag_t {
    apr_pool_t *pool;
    apr_pool_t *scratch;        /* cleared after each message */
    FILE *out;
    const char *file;           /* the main file's name */
    apr_array_header_t *srcs;   /* zpc_diag_src_t; [0] is the main file */
    int errors, warnings;
    int stopped;
    int show_notes;             /* the last error/warning was printed */
};

zpc_diag_t *zpc_diag_create(apr_pool_t *pool, FILE *out, const char *file,
                            const char *src, apr_size_t len)
{
    zpc_diag_t *d = apr_pcalloc(pool, sizeof(*d));

    d->pool = pool;
    apr_pool_create(&d->scratch, pool);
    d->out = out;
    d->file = file;
    d->srcs = apr_array_make(pool, 1, sizeof(zpc_diag_src_t));
    zpc_diag_add_file(d, file, src, len);
    return d;
}

int zpc_diag_add_file(zpc_diag_t *d, const char *file, const char *src,
                      apr_size_t len)
{
    zpc_diag_src_t *s = apr_array_push(d->srcs);

    s->name = file;
    s->src = (const unsigned char *)src;
    s->len = src != NULL ? len : 0;
    s->lines = NULL;
    return d->srcs->nelts - 1;
}

static zpc_diag_src_t *zpc_diag_src(const zpc_diag_t *d, int index)
{
    if (index < 0 || index >= d->srcs->nelts) {
        index = 0;
    }
    return &APR_ARRAY_IDX(d->srcs, index, zpc_diag_src_t);
}

const char *zpc_diag_file_name(const zpc_diag_t *d, int index)
{
    return zpc_diag_src(d, index)->name;
}

int zpc_diag_errors(const zpc_diag_t *d)   { return d->errors; }
int zpc_diag_warnings(const zpc_diag_t *d) { return d->warnings; }
int zpc_diag_stopped(const zpc_diag_t *d)  { return d->stopped; }
const char *zpc_diag_file(const zpc_diag_t *d) { return d->file; }

apr_size_t zpc_utf8_len(const unsigned char *s, apr_size_t avail)
{
    return zt_utf8_seq(s, avail);
}

const char *zpc_diag_quote(apr_pool_t *pool, const char *s, apr_size_t len,
                           apr_size_t max)
{
    /* worst case: 4 bytes per input byte, quotes, "...", NUL */
    char *out = apr_palloc(pool, 4 * (len < max ? len : max) + 8);
    char *o = out;
    apr_size_t i;

    *o++ = '"';
    for (i = 0; i < len && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        }
        else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else if (c == '\t') {
            *o++ = '\\';
            *o++ = 't';
        }
        else if (c < 0x20 || c == 0x7f) {
            o += sprintf(o, "\\x%02x", c);
        }
        else {
            *o++ = (char)c;
        }
    }
    if (i < len) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* Offset and length (without the newline and a CR before it) of line n. */
static int zpc_diag_line(zpc_diag_t *d, zpc_diag_src_t *f, int n,
                         apr_size_t *start, apr_size_t *len)
{
    apr_size_t s, e;

    if (f->lines == NULL) {
        f->lines = apr_array_make(d->pool, 64, sizeof(apr_size_t));
        APR_ARRAY_PUSH(f->lines, apr_size_t) = 0;
        for (apr_size_t i = 0; i < f->len; i++) {
            if (f->src[i] == '\n') {
                APR_ARRAY_PUSH(f->lines, apr_size_t) = i + 1;
            }
        }
    }
    if (n < 1 || n > f->lines->nelts) {
        return 0;
    }
    s = APR_ARRAY_IDX(f->lines, n - 1, apr_size_t);
    e = n < f->lines->nelts ? APR_ARRAY_IDX(f->lines, n, apr_size_t) - 1 : f->len;
    if (e > s && f->src[e - 1] == '\r') {
        e--;
    }
    *start = s;
    *len = e - s;
    return 1;
}

/*
** Print the source line of @a loc and a caret line under it.  Tabs are
** kept in both lines so the caret lines up; control bytes and invalid
** UTF-8 print as '?'; a multi-byte character is one column.  A line
** wider than ZPC_DIAG_WIDE bytes is cut to a window around the caret.
*/
static void zpc_diag_excerpt(zpc_diag_t *d, const zpc_loc_t *loc)
{
    apr_size_t start, len, from, to, c0, c1, i;
    char *text, *caret;
    apr_size_t nt = 0, nc = 0;
    zpc_diag_src_t *f = zpc_diag_src(d, loc->file);
    const unsigned char *src = f->src;

    if (!zpc_diag_line(d, f, loc->first_line, &start, &len)) {
        return;
    }
    c0 = loc->first_column > 0 ? (apr_size_t)loc->first_column - 1 : 0;
    if (loc->last_line == loc->first_line && loc->last_column >= loc->first_column) {
        c1 = (apr_size_t)loc->last_column - 1;
    }
    else if (loc->last_line > loc->first_line) {
        c1 = len > 0 ? len - 1 : 0;
    }
    else {
        c1 = c0;
    }
    from = 0;
    to = len;
    if (len > ZPC_DIAG_WIDE) {
        from = c0 > ZPC_DIAG_BEFORE ? c0 - ZPC_DIAG_BEFORE : 0;
        /* do not start or end inside a character (at most 3 bytes off) */
        for (int k = 0; k < 3 && from > 0 && from < c0
                        && (src[start + from] & 0xc0) == 0x80; k++) {
            from++;
        }
        to = from + ZPC_DIAG_WINDOW < len ? from + ZPC_DIAG_WINDOW : len;
        for (int k = 0; k < 3 && to < len && to > c0 + 1
                        && (src[start + to] & 0xc0) == 0x80; k++) {
            to--;
        }
    }
    text = apr_palloc(d->scratch, (to - from) * 1 + 16);
    caret = apr_palloc(d->scratch, (to - from) + 16);
    if (from > 0) {
        memcpy(text, "...", 3);
        memcpy(caret, "   ", 3);
        nt = nc = 3;
    }
    for (i = from; i < to; ) {
        const unsigned char *p = src + start + i;
        apr_size_t n = 1;
        char fill = ' ';

        if (*p == '\t') {
            text[nt++] = '\t';
            fill = '\t';
        }
        else if (*p < 0x20 || *p == 0x7f) {
            text[nt++] = '?';
        }
        else if (*p >= 0x80 && (n = zpc_utf8_len(p, len - i)) > 0) {
            memcpy(text + nt, p, n);
            nt += n;
        }
        else {
            n = 1;
            text[nt++] = *p >= 0x80 ? '?' : (char)*p;
        }
        if (i + n <= c0) {
            caret[nc++] = fill;
        }
        else if (i <= c0) {
            caret[nc++] = '^';
        }
        else if (i <= c1) {
            caret[nc++] = '~';
        }
        i += n;
    }
    if (c0 >= to) {
        /* past the end of the line (or of the window): caret at the end */
        if (to < len) {
            memcpy(text + nt, "...", 3);
            nt += 3;
        }
        caret[nc++] = '^';
    }
    else if (to < len) {
        memcpy(text + nt, "...", 3);
        nt += 3;
    }
    fprintf(d->out, "%.*s\n%.*s\n", (int)nt, text, (int)nc, caret);
}

static void zpc_diag_emit(zpc_diag_t *d, const char *kind,
                          const zpc_loc_t *loc, const char *fmt, va_list ap)
{
    /* vsnprintf, not apr_pvsprintf: APR's formatter lacks %lld and %zu */
    char small[256], *msg = small;
    va_list aq;
    int n;

    va_copy(aq, ap);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    if (n >= (int)sizeof(small)) {
        msg = apr_palloc(d->scratch, (apr_size_t)n + 1);
        vsnprintf(msg, (size_t)n + 1, fmt, aq);
    }
    else if (n < 0) {
        msg = "(message lost)";
    }
    va_end(aq);

    if (loc != NULL && loc->first_line > 0) {
        fprintf(d->out, "%s:%d:%d: %s: %s\n", zpc_diag_file_name(d, loc->file),
                loc->first_line, loc->first_column, kind, msg);
        zpc_diag_excerpt(d, loc);
    }
    else {
        fprintf(d->out, "%s: %s: %s\n", d->file, kind, msg);
    }
    apr_pool_clear(d->scratch);
}

void zpc_diag_error(zpc_diag_t *d, const zpc_loc_t *loc, const char *fmt, ...)
{
    va_list ap;

    if (d->stopped) {
        d->show_notes = 0;
        return;
    }
    if (d->errors >= ZPC_DIAG_MAX_ERRORS) {
        d->stopped = 1;
        d->show_notes = 0;
        if (d->out != NULL) {
            fprintf(d->out, "%s: note: too many errors; stopping after %d\n",
                    d->file, ZPC_DIAG_MAX_ERRORS);
        }
        return;
    }
    d->errors++;
    d->show_notes = d->out != NULL;
    if (d->out != NULL) {
        va_start(ap, fmt);
        zpc_diag_emit(d, "error", loc, fmt, ap);
        va_end(ap);
    }
}

void zpc_diag_warning(zpc_diag_t *d, const zpc_loc_t *loc, const char *fmt, ...)
{
    va_list ap;

    d->warnings++;
    if (d->warnings == ZPC_DIAG_MAX_WARNINGS + 1 && d->out != NULL && !d->stopped) {
        fprintf(d->out, "%s: note: too many warnings; not showing more than %d\n",
                d->file, ZPC_DIAG_MAX_WARNINGS);
    }
    d->show_notes = d->out != NULL && !d->stopped
                    && d->warnings <= ZPC_DIAG_MAX_WARNINGS;
    if (d->show_notes) {
        va_start(ap, fmt);
        zpc_diag_emit(d, "warning", loc, fmt, ap);
        va_end(ap);
    }
}

void zpc_diag_note(zpc_diag_t *d, const zpc_loc_t *loc, const char *fmt, ...)
{
    va_list ap;

    if (d->show_notes) {
        va_start(ap, fmt);
        zpc_diag_emit(d, "note", loc, fmt, ap);
        va_end(ap);
    }
}
