/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The checker's own interface, shared by its files: zpc_check.c (policy,
 * issuers, conditions, rules, stepup, limit, the whole file),
 * zpc_check_route.c (routes, their contracts and types) and
 * zpc_check_test.c (test blocks).
 */
#ifndef ZPC_CHECK_H
#define ZPC_CHECK_H

#include <apr_hash.h>

#include "zpc_ast.h"

typedef struct zpc_route_tree_t zpc_route_tree_t;

typedef struct {
    zpc_parser_t *ps;
    zpc_diag_t *d;
    apr_pool_t *pool;
    zpc_ast_t *ast;
    apr_hash_t *lets;           /* name -> first zpc_ast_let_t definition */
    uint64_t nodes;             /* condition nodes once lets are expanded */
    int nodes_reported;
    uint64_t work;              /* segment comparisons while matching */
    int work_reported;
    uint64_t rrefs;             /* route -> rule links */
    int rrefs_reported;
    int issuer_reported;
    const apr_array_header_t *capped;   /* paths list found too long */
    uint32_t mark;              /* statements that matched targets so far */
    zpc_route_tree_t *tree;     /* the routes, for targets; built once */
    apr_array_header_t *matched;    /* uint32_t: one target's routes */
    apr_hash_t *target_paths;   /* target path -> its zpc_ast_seg_t array */
    int bad_routes;             /* a route's path was refused */
    apr_array_header_t *tests;  /* zpc_ir_test_t */
} zpc_check_t;

/* Messages and locations. */
const char *zpc_check_quote(zpc_check_t *c, const char *s);
zpc_loc_t zpc_loc_span(const zpc_loc_t *a, const zpc_loc_t *b);
zpc_loc_t zpc_loc_sub(const zpc_loc_t *tok, size_t off, size_t len);
/** "file:line" of @a loc, for a message that names two places. */
const char *zpc_where(zpc_check_t *c, const zpc_loc_t *loc);
/** "GET /a" */
const char *zpc_check_route_text(zpc_check_t *c, const zpc_ast_route_t *r);

/* Files. */
/**
 * Read the file @a name (relative to @a loc's file, at most @a max bytes)
 * that @a loc names; NULL after reporting why ("cannot read schema file
 * "x.json": No such file or directory"; @a what is "schema" there).
 */
const char *zpc_check_read(zpc_check_t *c, const zpc_loc_t *loc,
                           const char *name, const char *what,
                           apr_size_t max, apr_size_t *len);

/* Words. */
int zpc_is_ident(const char *s);
/** RFC 9110 token characters: what a header name is made of. */
int zpc_is_token(const char *s);
/** The first control character of @a s, or NUL. */
int zpc_control_char(const char *s);
/** The index of @a s in the NULL-terminated @a words, or -1. */
int zpc_word_index(const char *const *words, const char *s);
extern const char *const zpc_tls_versions[];

/* zpc_check_route.c */
uint32_t zpc_check_method(zpc_check_t *c, const char *m, const zpc_loc_t *loc,
                          const char *path, int target);
apr_array_header_t *zpc_check_path(zpc_check_t *c, const char *path,
                                   const zpc_loc_t *loc, int target);
void zpc_check_routes(zpc_check_t *c);

/* zpc_check_match.c: which routes a target covers. */
#define ZPC_MATCH_METHOD 0x1    /* methods must overlap */
/**
 * Does target @a t cover route @a r?  Literals match equal literals, {x}
 * matches any capture of the route (names and types are not compared),
 * '*' any one segment, and a final '**' whatever is left, nothing
 * included: ** after /orders covers /orders itself as well as everything
 * below it.  A route's own '*' and '**' are matched by the same words in
 * the target; a target's '*' stands for one segment, so it does not cover
 * a route's '**' (any number of them).  The reference for the tree below.
 */
int zpc_target_covers(const zpc_ast_target_t *t, const zpc_ast_route_t *r, int how);
/** The checked @a routes (zpc_ast_route_t *) as a tree of their segments;
 * routes whose path or method was refused are left out. */
zpc_route_tree_t *zpc_route_tree(apr_pool_t *pool, const apr_array_header_t *routes);
/**
 * Append to @a out the index of every route of @a tree that @a t covers
 * and whose methods meet @a methods (0: any), each once, in no particular
 * order.  Every node visited and route taken adds one to @a *work; past
 * @a max_work the walk stops and returns 0, else 1.
 */
int zpc_route_tree_match(const zpc_route_tree_t *tree, const zpc_ast_target_t *t,
                         uint32_t methods, apr_array_header_t *out,
                         uint64_t *work, uint64_t max_work);

/* zpc_check_test.c: test blocks, into c->tests. */
void zpc_check_tests(zpc_check_t *c);

#endif /* ZPC_CHECK_H */
