/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_dfa.h
 * @brief Regular expressions compiled to minimal DFAs: linear-time
 *        whole-string matching, no backtracking, bounded states.
 *
 * Patterns are anchored at both ends: a leading '^' and a trailing '$'
 * may be written and change nothing.  The pattern and the subject are
 * UTF-8: '.', negated classes and \\D \\W \\S match one whole, valid
 * UTF-8 character (never an overlong form, a surrogate or a stray byte),
 * and a quantifier after a non-ASCII character repeats the character.
 * '.' matches any character but '\\n'.  Members of a class are ASCII.
 * So a subject that is not valid UTF-8 never matches.  These are PCRE2's
 * answers with PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED |
 * PCRE2_DOLLAR_ENDONLY (test/unit/test_dfa.c compares the two).
 *
 * A search rather than a whole-string match (a JSON Schema "pattern" is
 * not anchored) is the pattern "[\s\S]*(?:RE)[\s\S]*", leaving out the
 * first part when RE starts with '^' and the last when it ends with '$'
 * (and dropping those anchors, which may only stand at the ends).
 *
 * Supported: literals, escapes (\\. \\n \\t \\xHH below 0x80 ...),
 * '.', [...] with ranges and '^', \\d \\w \\s \\D \\W \\S, ? * + {m}
 * {m,} {m,n} (counts up to ZT_DFA_MAX_REPEAT; lazy '?' suffixes accepted,
 * they do not change a whole-string match), '|', (...), (?:...) and
 * (?<name>...).  Everything else (back-references, look-around, atomic
 * groups, possessive quantifiers, inline flags, \\b and other assertions,
 * Unicode properties, POSIX classes) is a compile error naming the
 * construct and where it is.
 *
 * The image is position-independent and self-contained, so it can sit in
 * a table (section DFAS, zt_format.h) and be shared between processes:
 *
 * @verbatim
 *   0        zt_dfa_hdr_t: magic "ZDF1", len, nstates, nclasses
 *   16       u8  cls[256]        byte -> class, each < nclasses
 *   272      u32 next[nstates * nclasses]   next[s * nclasses + c] = t * nclasses:
 *                                           the row of the next state t < nstates
 *   272+4*N  u8  accept[nstates] 0 or 1
 *   ...      0 bytes up to len, a multiple of 8
 * @endverbatim
 *
 * Edges hold the next state's row offset rather than its number, so a
 * step is two loads and an add.  State 0 is the dead state (every edge
 * to 0, not accepting), state 1 the start.  All integers are
 * little-endian; the image must be 8-aligned.  zt_dfa_compile writes it
 * minimal and canonical: equal languages give equal bytes.
 */
#ifndef ZT_DFA_H
#define ZT_DFA_H

#include <stddef.h>
#include <stdint.h>

#include <apr_pools.h>

#define ZT_DFA_MAGIC        0x3146445au   /* "ZDF1" read as a little-endian u32 */
#define ZT_DFA_MAX_STATES   4096          /* states of one automaton, dead included */
#define ZT_DFA_MAX_REPEAT   1000          /* the largest count in {m,n} */
#define ZT_DFA_MAX_NFA      65536         /* NFA states while compiling */

/** The head of an image (see the layout above). */
typedef struct {
    uint32_t magic;         /**< ZT_DFA_MAGIC */
    uint32_t len;           /**< the whole image in bytes, a multiple of 8 */
    uint32_t nstates;       /**< 2..ZT_DFA_MAX_STATES */
    uint32_t nclasses;      /**< 1..256 */
    uint8_t  cls[256];      /**< byte -> class */
} zt_dfa_hdr_t;

/**
 * Compile @a re (@a len bytes) into an image allocated in @a pool.
 * @return 0 with *image and *image_len set; -1 with a message in @a err
 *   (cut to @a errlen) naming the construct and its column, such as
 *   "the back-reference '\\1' cannot be matched by an automaton (column 7)".
 */
int zt_dfa_compile(const char *re, size_t len, apr_pool_t *pool,
                   const void **image, size_t *image_len,
                   char *err, size_t errlen);

/**
 * zt_dfa_compile, with the place of an error returned apart (for zpc's
 * carets): @a err without the column, *err_off the byte offset of the
 * construct in @a re and *err_len its length (at least 1).
 */
int zt_dfa_compile_at(const char *re, size_t len, apr_pool_t *pool,
                      const void **image, size_t *image_len,
                      char *err, size_t errlen,
                      size_t *err_off, size_t *err_len);

/** 1 if @a image (@a len bytes) is a well-formed image that matches
 *  without reading outside itself, else 0. */
int zt_dfa_verify(const void *image, size_t len);

/** NULL if zt_dfa_verify would return 1, else what is wrong, in words. */
const char *zt_dfa_problem(const void *image, size_t len);

/** 1 if the whole of @a s (@a n bytes) matches the verified @a image.
 *  O(n), allocates nothing. */
int zt_dfa_match(const void *image, const char *s, size_t n);

/** States of a verified image, dead state included (for zpc dump). */
uint32_t zt_dfa_nstates(const void *image);

#endif /* ZT_DFA_H */
