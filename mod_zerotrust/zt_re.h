/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The syntax tree of a pattern, between the parser (zt_re.c) and the
 * automaton builder (zt_dfa.c).  Internal to zt_dfa_compile: the public
 * interface is zt_dfa.h.
 */
#ifndef ZT_RE_H
#define ZT_RE_H

#include <stddef.h>
#include <stdint.h>

#include <apr_pools.h>
#include <apr_tables.h>

/* One character of a class, '.', \d ...: ASCII (or, for a literal UTF-8
 * byte, any) bytes, plus with utf8 every valid non-ASCII character. */
typedef struct {
    uint8_t bits[32];
    int utf8;
} zt_re_set_t;

/* Nodes: a set (one character), a sequence and an alternation of any
 * number of nodes (an empty sequence matches ""), a repetition of one. */
enum { ZT_RE_SET = 1, ZT_RE_SEQ, ZT_RE_ALT, ZT_RE_REP };

typedef struct zt_re_s zt_re_t;
struct zt_re_s {
    int kind;
    zt_re_set_t set;                /* SET */
    apr_array_header_t *subs;       /* SEQ, ALT: of zt_re_t *; REP: one */
    int min, max;                   /* REP: max -1 is unbounded */
};

typedef struct {
    const unsigned char *p;         /* the pattern */
    size_t len, pos;                /* its length; the next byte to read */
    int depth;                      /* groups open */
    apr_pool_t *pool;               /* for the tree */
    char *err;                      /* the first error: message, */
    size_t errlen, err_off, err_len;    /* its buffer's size, place, length */
    int failed;
} zt_re_parser_t;

/* Error @a off, @a n bytes long, with a message from @a fmt, unless one is
 * set already (the first error wins); returns NULL. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void *zt_re_fail(zt_re_parser_t *ps, size_t off, size_t n, const char *fmt, ...);

/* The tree of ps->p[0..len) in ps->pool, or NULL with the error in ps. */
zt_re_t *zt_re_parse(zt_re_parser_t *ps);

void zt_set_range(zt_re_set_t *s, unsigned lo, unsigned hi);

#endif /* ZT_RE_H */
