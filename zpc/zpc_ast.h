/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zpc_ast.h
 * @brief zpc front end internals: the syntax tree, the parser state, the
 *        builders the grammar calls, and the stages (parse, check, lower).
 *
 * Everything is allocated from the one pool of the compile; nothing is
 * freed piecemeal.  The grammar's actions are one-line zpc_ast_*() calls;
 * names are resolved and every rule of the language is enforced later, by
 * zpc_check(), so that one run reports as many errors as it can.
 */
#ifndef ZPC_AST_H
#define ZPC_AST_H

#include <stdint.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "zpc_diag.h"
#include "zpc_ir.h"

/* Input limits; each one is reported as an error naming it. */
#define ZPC_MAX_SOURCE   (4u << 20)   /**< bytes of policy source */
#define ZPC_MAX_IDENT    128          /**< bytes in an identifier */
#define ZPC_MAX_STRING   4096         /**< bytes in a string or path */
#define ZPC_MAX_DEPTH    128          /**< condition nesting, lets expanded */
#define ZPC_PARSE_DEPTH  2000         /**< parser stack (parentheses, nots) */
#define ZPC_MAX_RREFS    (1u << 24)   /**< route -> rule links in all */
#define ZPC_MAX_MATCH_WORK (1u << 28) /**< route-tree steps matching targets */
#define ZPC_MAX_INCLUDE  16           /**< include nesting */
#define ZPC_MAX_SCHEMA   (1u << 20)   /**< bytes of one schema file */
#define ZPC_MAX_BODY     (1u << 20)   /**< bytes of a test's body file */
#define ZPC_MAX_VALUE_DEPTH 32        /**< nesting of a test's token claims */

/** Operand as written. */
enum {
    ZPC_OPND_NAME,      /**< a.b.c: a let, token.CLAIM, path.CAPTURE, ...;
                             header["Name"] is a NAME with an index */
    ZPC_OPND_STR, ZPC_OPND_INT, ZPC_OPND_BOOL,
    ZPC_OPND_ADDR       /**< 10.0.0.0/8, 2001:db8::1 (client.ip lists) */
};

typedef struct {
    zpc_loc_t loc;
    int kind;                   /* ZPC_OPND_* */
    apr_array_header_t *parts;  /* NAME: array of const char * */
    const char *str;            /* STR (no NUL inside: the scanner refuses it),
                                   ADDR as written; NAME: the ["index"] or NULL */
    int64_t num;                /* INT, BOOL */
    uint32_t zt_kind;           /* ZT_OPND_*, set by zpc_check */
} zpc_ast_opnd_t;

enum {
    ZPC_EXPR_AND, ZPC_EXPR_OR, ZPC_EXPR_NOT,
    ZPC_EXPR_EQ, ZPC_EXPR_NE,   /* lhs op rhs */
    ZPC_EXPR_LT, ZPC_EXPR_LE, ZPC_EXPR_GT, ZPC_EXPR_GE,
    ZPC_EXPR_IN,                /* lhs in rhs (a token claim) */
    ZPC_EXPR_IN_LIST,           /* lhs in [list] */
    ZPC_EXPR_REF,               /* a let, by name (lhs) */
    ZPC_EXPR_BAD                /* stands in for a subtree already refused */
};

typedef struct zpc_ast_let_t zpc_ast_let_t;

typedef struct zpc_ast_expr_t {
    int kind;                   /* ZPC_EXPR_* */
    zpc_loc_t loc;
    unsigned depth;             /* 1 for a leaf */
    struct zpc_ast_expr_t *a, *b;   /* AND, OR: a b; NOT: a */
    zpc_ast_opnd_t *lhs, *rhs;
    apr_array_header_t *list;   /* IN_LIST: array of zpc_ast_opnd_t * */
    zpc_ast_let_t *let;         /* REF: resolved by zpc_check */
    int lowered_op;             /* ZT_OP_* chosen by zpc_check (orderings on
                                   tls.version become IN_LIST), or -1 */
    apr_array_header_t *versions;   /* such an IN_LIST: const char * */
    apr_array_header_t *cidrs;  /* client.ip in [...]: zpc_ir_cidr_t */
} zpc_ast_expr_t;

/** A path.NAME or query.NAME use, found in a condition or (through lets)
 *  below it. */
typedef struct {
    const zpc_ast_opnd_t *opnd;
    const zpc_ast_let_t *via;   /* the let it came through, or NULL */
} zpc_ast_pathref_t;

struct zpc_ast_let_t {
    const char *name;
    zpc_loc_t name_loc, loc;
    zpc_ast_expr_t *expr;
    unsigned seq;               /* statement number */
    int used;
    int ok;                     /* checked without errors */
    unsigned depth;             /* expanded depth */
    uint64_t size;              /* expanded node count (saturating) */
    apr_array_header_t *paths;  /* zpc_ast_pathref_t, one per name */
    zpc_ast_pathref_t token;    /* the first token.* it reads, if any */
};

/** A value type as written: `int 1..100`, `string 1..64 /re/`,
 *  `enum("a", "b")`, `uuid` ... */
typedef struct {
    const char *name;
    zpc_loc_t loc, name_loc;
    int ranges;                 /* how many A..B were written */
    int64_t min, max;
    zpc_loc_t range_loc;
    int regexes;
    const char *regex;          /* as written between the slashes */
    zpc_loc_t regex_loc;
    apr_array_header_t *values; /* enum(...): zpc_ast_opnd_t *, else NULL */
    zpc_ir_type_t *ir;          /* set by zpc_check */
} zpc_ast_type_t;

enum { ZPC_SEG_LIT, ZPC_SEG_CAP, ZPC_SEG_STAR, ZPC_SEG_GLOB };

typedef struct {
    int kind;                   /* ZPC_SEG_* */
    const char *text;           /* literal, or capture name */
    zpc_loc_t loc;
    zpc_ast_type_t *type;       /* a route's typed capture, or NULL */
} zpc_ast_seg_t;

/* Route block lines. */
enum { ZPC_PARAM_QUERY, ZPC_PARAM_QUERY_ANY, ZPC_PARAM_HEADER, ZPC_PARAM_BODY };

typedef struct {
    int kind;                   /* ZPC_PARAM_* */
    const char *name;           /* query or header name; body: json / xml */
    zpc_loc_t name_loc, loc;
    zpc_ast_type_t *type;       /* QUERY, HEADER */
    apr_array_header_t *flags;  /* zpc_ast_word_t *: optional, list */
    apr_array_header_t *opts;   /* BODY: zpc_ast_attr_t * (max, schema, root) */
} zpc_ast_param_t;

typedef struct {
    const char *method;
    zpc_loc_t method_loc;
    const char *path;
    zpc_loc_t path_loc, loc;
    unsigned seq;
    apr_array_header_t *params; /* zpc_ast_param_t * */
    uint32_t methods;           /* ZT_M_* bit, set by zpc_check */
    apr_array_header_t *segs;   /* zpc_ast_seg_t, set by zpc_check */
    int ok;
    int allowed;                /* some allow rule covers it */
    uint32_t mark;              /* last statement (mark) that covered it */
    /* set by zpc_check: */
    uint32_t flags;             /* ZT_ROUTE_* */
    apr_array_header_t *iparams;    /* zpc_ir_param_t */
    zpc_ir_body_t *body;
    const void *stepup;         /* zpc_ast_stepup_t * covering it, or NULL */
    int32_t stepup_index;
    apr_array_header_t *limits; /* uint32_t: limit indices */
    const void *udeny;          /* an unconditional deny covering it */
} zpc_ast_route_t;

typedef struct {
    const char *method;
    zpc_loc_t method_loc;
    const char *path;
    zpc_loc_t path_loc;
    uint32_t methods;           /* ZT_M_* bits; ZT_M_ALL for '*' */
    apr_array_header_t *segs;   /* zpc_ast_seg_t */
} zpc_ast_target_t;

/* A rule's tail: [public] [when C | unless C] */
enum { ZPC_TAIL_NONE, ZPC_TAIL_WHEN, ZPC_TAIL_UNLESS };

typedef struct {
    int kind;                   /* ZPC_TAIL_*: the condition */
    zpc_ast_expr_t *cond;
    zpc_loc_t loc;              /* when, unless */
    int public;                 /* no token needed */
    zpc_loc_t public_loc;
} zpc_ast_tail_t;

typedef struct {
    int effect;                 /* ZT_EFFECT_* */
    apr_array_header_t *targets;    /* zpc_ast_target_t * */
    zpc_ast_tail_t *tail;
    zpc_loc_t loc;
    unsigned seq;
    apr_array_header_t *covers; /* uint32_t route indices, ascending */
} zpc_ast_rule_t;

enum {
    ZPC_ATTR_AUDIENCE, ZPC_ATTR_ALGORITHMS, ZPC_ATTR_JWKS,
    ZPC_ATTR_MAX_LIFETIME, ZPC_ATTR_LEEWAY, ZPC_ATTR_SECRET, ZPC_ATTR_TYP,
    ZPC_ATTR_REQUIRED, ZPC_ATTR_REFRESH, ZPC_ATTR_REFETCH_MIN,
    ZPC_ATTR_BINDING,
    ZPC_ATTR_UNKNOWN,
    /* body options (num: bytes) and stepup options */
    ZPC_ATTR_MAX, ZPC_ATTR_SCHEMA, ZPC_ATTR_ROOT, ZPC_ATTR_ACR, ZPC_ATTR_MAX_AGE,
    ZPC_ATTR__COUNT
};

typedef struct {
    const char *text;
    zpc_loc_t loc;
} zpc_ast_word_t;

typedef struct {
    int kind;                   /* ZPC_ATTR_* */
    const char *name;           /* as written */
    zpc_loc_t loc;              /* the attribute's name */
    const char *str;            /* AUDIENCE, TYP; JWKS, SECRET: the string,
                                   or NULL when none was written */
    zpc_loc_t val_loc;
    int64_t num;                /* MAX_LIFETIME, LEEWAY, REFRESH,
                                   REFETCH_MIN: seconds */
    apr_array_header_t *words;  /* ALGORITHMS: zpc_ast_word_t * */
    apr_array_header_t *names;  /* REQUIRED: zpc_ast_opnd_t * (NAME or STR) */
    const char *source;         /* JWKS, SECRET: "file", "url", "discover"
                                   as written, or NULL when none was;
                                   BINDING: "mtls", "dpop", "any" */
    zpc_loc_t source_loc;
} zpc_ast_attr_t;

typedef struct {
    const char *name, *iss;
    zpc_loc_t name_loc, iss_loc, loc;
    apr_array_header_t *attrs;  /* zpc_ast_attr_t * */
    zpc_ir_issuer_t ir;         /* filled in by zpc_check */
} zpc_ast_issuer_t;

typedef struct {
    const char *name;
    zpc_loc_t name_loc, loc;
} zpc_ast_policy_t;

/* stepup TARGETS [acr "a" ...] [max_age D] */
typedef struct {
    apr_array_header_t *targets;    /* zpc_ast_target_t * */
    apr_array_header_t *opts;       /* zpc_ast_attr_t *: ACR (names), MAX_AGE */
    zpc_loc_t loc;
    apr_array_header_t *covers;     /* uint32_t route indices */
    zpc_ir_stepup_t ir;             /* set by zpc_check */
} zpc_ast_stepup_t;

/* limit TARGETS N/PERIOD per KEY */
typedef struct {
    apr_array_header_t *targets;
    const char *rate;               /* "100/min" as written */
    zpc_loc_t rate_loc;
    const char *per;                /* the word after the rate: "per" */
    zpc_loc_t per_loc;
    zpc_ast_opnd_t *key;            /* token.sub, token.azp, client.ip */
    zpc_loc_t loc;
    apr_array_header_t *covers;
    zpc_ir_limit_t ir;
} zpc_ast_limit_t;

/* A test's token claims: JSON-like values. */
enum { ZPC_VAL_STR, ZPC_VAL_INT, ZPC_VAL_BOOL, ZPC_VAL_OBJ, ZPC_VAL_ARR };

typedef struct zpc_ast_value_t {
    int kind;                   /* ZPC_VAL_* */
    zpc_loc_t loc;
    const char *str;
    int64_t num;
    apr_array_header_t *items;  /* ARR: zpc_ast_value_t *; OBJ: zpc_ast_member_t * */
    unsigned depth;             /* 1 for a scalar */
} zpc_ast_value_t;

typedef struct {
    const char *key;
    zpc_loc_t key_loc;
    zpc_ast_value_t *value;
} zpc_ast_member_t;

enum {
    ZPC_TITEM_TOKEN, ZPC_TITEM_REQUEST, ZPC_TITEM_FROM, ZPC_TITEM_HEADER,
    ZPC_TITEM_CERT, ZPC_TITEM_TLS, ZPC_TITEM_TIME, ZPC_TITEM_EXPECT,
    ZPC_TITEM_BODY, ZPC_TITEM__COUNT
};

typedef struct {
    int kind;                   /* ZPC_TITEM_* */
    zpc_loc_t loc;              /* the keyword */
    const char *a, *b;          /* REQUEST: method, target; FROM: address;
                                   HEADER: name, value; TLS, TIME: the string
                                   (TLS: NULL for `tls none`); EXPECT: word;
                                   BODY: json, xml, untyped, none or a
                                   media type, then the text or file name
                                   (or NULL) */
    zpc_loc_t a_loc, b_loc;
    zpc_ast_value_t *value;     /* TOKEN, CERT */
    const char *how;            /* BODY: the word before a file name
                                   ("file"), or NULL: b is the text */
    zpc_loc_t how_loc;
    int quoted;                 /* BODY: a was a string (a media type) */
} zpc_ast_titem_t;

typedef struct {
    const char *name;
    zpc_loc_t name_loc, loc;
    apr_array_header_t *items;  /* zpc_ast_titem_t * */
} zpc_ast_test_t;

typedef struct {
    apr_array_header_t *policies;   /* zpc_ast_policy_t * */
    apr_array_header_t *issuers;    /* zpc_ast_issuer_t * */
    apr_array_header_t *lets;       /* zpc_ast_let_t * */
    apr_array_header_t *routes;     /* zpc_ast_route_t * */
    apr_array_header_t *rules;      /* zpc_ast_rule_t * */
    apr_array_header_t *stepups;    /* zpc_ast_stepup_t * */
    apr_array_header_t *limits;     /* zpc_ast_limit_t * */
    apr_array_header_t *tests;      /* zpc_ast_test_t * */
} zpc_ast_t;

/* Blocks whose words are keywords inside their braces (zpc_yylex). */
enum { ZPC_BLOCK_NONE, ZPC_BLOCK_ISSUER, ZPC_BLOCK_ROUTE, ZPC_BLOCK_TEST };

/* The files being included, innermost last: cycles are refused. */
typedef struct zpc_incl_t {
    const char *path;           /* as opened */
    const char *real;           /* realpath, to compare */
    const struct zpc_incl_t *up;
    int depth;                  /* 0: the main file */
} zpc_incl_t;

/** State shared by the scanner, the parser and the builders. */
typedef struct {
    apr_pool_t *pool;
    zpc_diag_t *diag;
    const char *file;
    int file_index;             /* zpc_loc_t.file of this file's tokens */
    const zpc_incl_t *incl;     /* this file in the include chain */
    zpc_ast_t *ast;
    void *scanner;              /* yyscan_t */
    int line, col;              /* scanner position of the next byte */
    int last_invalid;           /* the scanner's last token was T_INVALID */
    int head;                   /* tokens of a block's head seen
                                   ("issuer NAME "ISS"", "route M PATH",
                                   "test "NAME""), 0 when none */
    int head_kind;              /* ZPC_BLOCK_* the head belongs to */
    int block;                  /* ZPC_BLOCK_* we are inside */
    int block_depth;            /* braces open inside that block */
    int re_next;                /* "string" seen: '/' may start a regex */
    int prev_token;             /* the last token returned */
    int start_token;            /* T_START_* to return first, or 0 */
    zpc_ast_type_t *type_out;   /* what a T_START_TYPE parse produced */
    apr_array_header_t *tests;  /* zpc_ir_test_t, built by zpc_check */
    const char *end_name;       /* what "end of file" is called in messages */
    const char *last_ident;     /* text of the last identifier scanned */
    int syntax_errors;          /* the tree is incomplete: do not check it */
    unsigned *seq;              /* statements so far (shared with includes) */
    int depth_reported;
    char *strbuf;               /* string being scanned */
    apr_size_t strlen;
    int strlong;
    zpc_loc_t strloc;
} zpc_parser_t;

/* Builders, called from the grammar's actions. */
apr_array_header_t *zpc_ast_list(zpc_parser_t *ps);
apr_array_header_t *zpc_ast_push(apr_array_header_t *list, void *item);
void zpc_ast_policy(zpc_parser_t *ps, const char *name,
                    const zpc_loc_t *name_loc, const zpc_loc_t *loc);
void zpc_ast_issuer(zpc_parser_t *ps, const char *name,
                    const zpc_loc_t *name_loc, const char *iss,
                    const zpc_loc_t *iss_loc, apr_array_header_t *attrs,
                    const zpc_loc_t *loc);
zpc_ast_attr_t *zpc_ast_attr_str(zpc_parser_t *ps, int kind, const char *s,
                                 const zpc_loc_t *val_loc,
                                 const zpc_loc_t *loc);
zpc_ast_attr_t *zpc_ast_attr_num(zpc_parser_t *ps, int kind, int64_t n,
                                 const zpc_loc_t *val_loc,
                                 const zpc_loc_t *loc);
zpc_ast_attr_t *zpc_ast_attr_words(zpc_parser_t *ps,
                                   apr_array_header_t *words,
                                   const zpc_loc_t *loc);
/* jwks / secret SOURCE ["STRING"], or jwks / secret "STRING" (the source
 * forgotten): @a source or @a s may be NULL, with their locations. */
zpc_ast_attr_t *zpc_ast_attr_source(zpc_parser_t *ps, int kind,
                                    const char *source,
                                    const zpc_loc_t *source_loc,
                                    const char *s, const zpc_loc_t *val_loc,
                                    const zpc_loc_t *loc);
zpc_ast_attr_t *zpc_ast_attr_names(zpc_parser_t *ps,
                                   apr_array_header_t *names,
                                   const zpc_loc_t *loc);
zpc_ast_attr_t *zpc_ast_attr_unknown(zpc_parser_t *ps, const char *name,
                                     const zpc_loc_t *loc);
zpc_ast_word_t *zpc_ast_word(zpc_parser_t *ps, const char *text,
                             const zpc_loc_t *loc);
void zpc_ast_let(zpc_parser_t *ps, const char *name,
                 const zpc_loc_t *name_loc, zpc_ast_expr_t *expr,
                 const zpc_loc_t *loc);
void zpc_ast_route(zpc_parser_t *ps, const char *method,
                   const zpc_loc_t *method_loc, const char *path,
                   const zpc_loc_t *path_loc, apr_array_header_t *params,
                   const zpc_loc_t *loc);
zpc_ast_type_t *zpc_ast_type(zpc_parser_t *ps, const char *name,
                             const zpc_loc_t *loc);
zpc_ast_type_t *zpc_ast_type_enum(zpc_parser_t *ps, const char *name,
                                  apr_array_header_t *values,
                                  const zpc_loc_t *loc);
zpc_ast_type_t *zpc_ast_type_range(zpc_parser_t *ps, zpc_ast_type_t *t,
                                   int64_t min, int64_t max,
                                   const zpc_loc_t *loc);
zpc_ast_type_t *zpc_ast_type_regex(zpc_parser_t *ps, zpc_ast_type_t *t,
                                   const char *re, const zpc_loc_t *loc);
zpc_ast_param_t *zpc_ast_param(zpc_parser_t *ps, int kind, const char *name,
                               const zpc_loc_t *name_loc,
                               zpc_ast_type_t *type,
                               apr_array_header_t *flags,
                               const zpc_loc_t *loc);
zpc_ast_param_t *zpc_ast_body(zpc_parser_t *ps, const char *kind,
                              const zpc_loc_t *kind_loc,
                              apr_array_header_t *opts, const zpc_loc_t *loc);
zpc_ast_attr_t *zpc_ast_opt(zpc_parser_t *ps, int kind, const char *s,
                            int64_t num, const zpc_loc_t *val_loc,
                            const zpc_loc_t *loc);
void zpc_ast_stepup(zpc_parser_t *ps, apr_array_header_t *targets,
                    apr_array_header_t *opts, const zpc_loc_t *loc);
void zpc_ast_limit(zpc_parser_t *ps, apr_array_header_t *targets,
                   const char *rate, const zpc_loc_t *rate_loc,
                   const char *per, const zpc_loc_t *per_loc,
                   zpc_ast_opnd_t *key, const zpc_loc_t *loc);
void zpc_ast_test(zpc_parser_t *ps, const char *name,
                  const zpc_loc_t *name_loc, apr_array_header_t *items,
                  const zpc_loc_t *loc);
zpc_ast_titem_t *zpc_ast_titem(zpc_parser_t *ps, int kind,
                               const char *a, const zpc_loc_t *a_loc,
                               const char *b, const zpc_loc_t *b_loc,
                               zpc_ast_value_t *value, const zpc_loc_t *loc);
/* body TYPE ['file'] TEXT: @a how and @a text may be NULL. */
zpc_ast_titem_t *zpc_ast_tbody(zpc_parser_t *ps, const char *type,
                               const zpc_loc_t *type_loc, int quoted,
                               const char *how, const zpc_loc_t *how_loc,
                               const char *text, const zpc_loc_t *text_loc,
                               const zpc_loc_t *loc);
zpc_ast_value_t *zpc_ast_value(zpc_parser_t *ps, int kind, const char *s,
                               int64_t num, const zpc_loc_t *loc);
zpc_ast_value_t *zpc_ast_value_list(zpc_parser_t *ps, int kind,
                                    apr_array_header_t *items,
                                    const zpc_loc_t *loc);
zpc_ast_member_t *zpc_ast_member(zpc_parser_t *ps, const char *key,
                                 const zpc_loc_t *key_loc,
                                 zpc_ast_value_t *value);
/** include "FILE": parse it here, as if its text stood in its place. */
void zpc_ast_include(zpc_parser_t *ps, const char *name,
                     const zpc_loc_t *name_loc, const zpc_loc_t *loc);
/** Durations (30s 15m 1h 1d, or seconds) and sizes (512 16k 1m). */
int64_t zpc_ast_duration(zpc_parser_t *ps, const char *text,
                         const zpc_loc_t *loc);
int64_t zpc_ast_size(zpc_parser_t *ps, const char *text,
                     const zpc_loc_t *loc);
zpc_ast_target_t *zpc_ast_target(zpc_parser_t *ps, const char *method,
                                 const zpc_loc_t *method_loc,
                                 const char *path, const zpc_loc_t *path_loc);
zpc_ast_tail_t *zpc_ast_tail(zpc_parser_t *ps, int kind,
                             zpc_ast_expr_t *cond, const zpc_loc_t *loc);
/** `public` before a tail (@a loc: the keyword). */
zpc_ast_tail_t *zpc_ast_public(zpc_parser_t *ps, zpc_ast_tail_t *tail,
                               const zpc_loc_t *loc);
void zpc_ast_rule(zpc_parser_t *ps, int effect, apr_array_header_t *targets,
                  zpc_ast_tail_t *tail, const zpc_loc_t *loc);
zpc_ast_expr_t *zpc_ast_binary(zpc_parser_t *ps, int kind, zpc_ast_expr_t *a,
                               zpc_ast_expr_t *b, const zpc_loc_t *loc);
zpc_ast_expr_t *zpc_ast_not(zpc_parser_t *ps, zpc_ast_expr_t *a,
                            const zpc_loc_t *loc);
zpc_ast_expr_t *zpc_ast_cmp(zpc_parser_t *ps, int kind, zpc_ast_opnd_t *lhs,
                            zpc_ast_opnd_t *rhs, const zpc_loc_t *loc);
zpc_ast_expr_t *zpc_ast_in_list(zpc_parser_t *ps, zpc_ast_opnd_t *lhs,
                                apr_array_header_t *list,
                                const zpc_loc_t *loc);
zpc_ast_expr_t *zpc_ast_ref(zpc_parser_t *ps, zpc_ast_opnd_t *name,
                            const zpc_loc_t *loc);
zpc_ast_opnd_t *zpc_ast_index(zpc_parser_t *ps, zpc_ast_opnd_t *name,
                              const char *index, const zpc_loc_t *loc);
zpc_ast_opnd_t *zpc_ast_addr(zpc_parser_t *ps, const char *text,
                             const zpc_loc_t *loc);
zpc_ast_opnd_t *zpc_ast_name(zpc_parser_t *ps, const char *part,
                             const zpc_loc_t *loc);
zpc_ast_opnd_t *zpc_ast_name_add(zpc_parser_t *ps, zpc_ast_opnd_t *name,
                                 const char *part, const zpc_loc_t *loc);
zpc_ast_opnd_t *zpc_ast_str(zpc_parser_t *ps, const char *s,
                            const zpc_loc_t *loc);
zpc_ast_opnd_t *zpc_ast_int(zpc_parser_t *ps, int64_t n,
                            const zpc_loc_t *loc);
zpc_ast_opnd_t *zpc_ast_bool(zpc_parser_t *ps, int v, const zpc_loc_t *loc);

/** a.b.c as one string, for messages. */
const char *zpc_ast_name_text(apr_pool_t *pool, const zpc_ast_opnd_t *o);

/* Scanner (zpc_scan.l). */
int zpc_scan_open(zpc_parser_t *ps, const char *src, apr_size_t len);
void zpc_scan_close(zpc_parser_t *ps);

/**
 * Read the whole regular file @a path (at most @a max bytes) into @a pool.
 * Returns NULL with *why set (a strerror text, "not a regular file", or
 * "larger than N bytes") when it cannot.
 */
char *zpc_read_file(apr_pool_t *pool, const char *path, apr_size_t max,
                    apr_size_t *len, const char **why);
/** @a name relative to the directory of @a file (unless it is absolute). */
const char *zpc_relative(apr_pool_t *pool, const char *file, const char *name);

/* Stages. */
/** Scan and parse into ps->ast; 0 if the tree is complete. */
int zpc_parse(zpc_parser_t *ps, const char *src, apr_size_t len);
/** Parse the type of a capture, @a text, which starts at @a at; NULL after
 *  reporting a syntax error. */
zpc_ast_type_t *zpc_parse_type(zpc_parser_t *ps, const char *text,
                               const zpc_loc_t *at);
/** Resolve names and enforce the language's rules; reports every error. */
void zpc_check(zpc_parser_t *ps);
/** Lower a checked tree (no errors) to the IR. */
zpc_ir_t *zpc_lower(zpc_parser_t *ps);

#endif /* ZPC_AST_H */
