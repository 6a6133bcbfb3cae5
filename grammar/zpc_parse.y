/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The grammar of .ztp policies.  Only syntax lives here: every action is a
 * one-line zpc_ast_*() call, and names, limits and the language's rules are
 * checked by zpc_check.c.  Statements need no separator; after a syntax
 * error the parser skips to the next statement keyword and goes on, so one
 * run reports several errors.
 */

%code requires {
#include <stdint.h>
#include "zpc_ast.h"
#define ZPC_YYLTYPE zpc_loc_t
#define ZPC_YYLTYPE_IS_DECLARED 1
#define ZPC_YYLTYPE_IS_TRIVIAL 0   /* not { 1, 1, 1, 1 }: it has a file too */
/* bison's default, plus the file the span is in */
#define YYLLOC_DEFAULT(Cur, Rhs, N) do {                                      \
        if (N) {                                                             \
            (Cur).first_line = YYRHSLOC(Rhs, 1).first_line;                  \
            (Cur).first_column = YYRHSLOC(Rhs, 1).first_column;              \
            (Cur).last_line = YYRHSLOC(Rhs, N).last_line;                    \
            (Cur).last_column = YYRHSLOC(Rhs, N).last_column;                \
            (Cur).file = YYRHSLOC(Rhs, 1).file;                              \
        }                                                                    \
        else {                                                               \
            (Cur).first_line = (Cur).last_line = YYRHSLOC(Rhs, 0).last_line; \
            (Cur).first_column = (Cur).last_column =                         \
                YYRHSLOC(Rhs, 0).last_column;                                \
            (Cur).file = YYRHSLOC(Rhs, 0).file;                              \
        }                                                                    \
    } while (0)
}

%code {
#include <string.h>
#include <apr_strings.h>
#include "zt_format.h"

int zpc_yylex(ZPC_YYSTYPE *lval, ZPC_YYLTYPE *lloc, void *scanner);
static void zpc_yyerror(ZPC_YYLTYPE *loc, zpc_parser_t *ps, void *scanner,
                        const char *msg);
/* Deep nesting ends in a clean error, never in a deep C stack. */
#define YYMAXDEPTH ZPC_PARSE_DEPTH
}

%define api.pure full
%define api.prefix {zpc_yy}
/* "custom" rather than "detailed": the message can then name the
 * identifier it did not expect, quote keywords, and add hints. */
%define parse.error custom
%locations
%expect 0
/* No default reductions in states that can also shift: a syntax error is
 * then found with the offending token still in context, and the message
 * can list what would have been accepted there. */
%define lr.default-reduction consistent
%parse-param {zpc_parser_t *ps} {void *scanner}
%lex-param {void *scanner}

%union {
    const char *str;
    int64_t num;
    int ival;
    apr_array_header_t *list;
    zpc_ast_expr_t *expr;
    zpc_ast_opnd_t *opnd;
    zpc_ast_attr_t *attr;
    zpc_ast_target_t *target;
    zpc_ast_tail_t *tail;
    zpc_ast_type_t *type;
    zpc_ast_param_t *param;
    zpc_ast_titem_t *titem;
    zpc_ast_value_t *value;
    zpc_ast_member_t *member;
    struct { int64_t min, max; } range;
}

%token T_END 0 "end of file"
/* Keywords carry their text so that they can name claims: token.public */
%token <str> T_POLICY "policy" T_ISSUER "issuer" T_LET "let" T_ROUTE "route"
%token <str> T_ALLOW "allow" T_DENY "deny" T_PUBLIC "public"
%token <str> T_WHEN "when" T_UNLESS "unless"
%token <str> T_AND "and" T_OR "or" T_NOT "not" T_IN "in"
%token <str> T_TRUE "true" T_FALSE "false"
%token <str> T_AUDIENCE "audience" T_ALGORITHMS "algorithms" T_JWKS "jwks"
%token <str> T_MAX_LIFETIME "max_lifetime" T_LEEWAY "leeway"
%token <str> T_STEPUP "stepup" T_LIMIT "limit" T_TEST "test" T_INCLUDE "include"
/* Keywords only inside an issuer's braces (zpc_yylex in zpc_scan.l), so
 * that these common words stay free for lets and claims elsewhere. */
%token <str> T_SECRET "secret" T_TYP "typ" T_REQUIRED "required"
%token <str> T_REFRESH "refresh" T_REFETCH_MIN "refetch_min"
%token <str> T_BINDING "binding"
/* Keywords only inside a route's braces. */
%token <str> T_QUERY "query" T_HEADER "header" T_BODY "body"
%token <str> T_OPTIONAL "optional" T_LIST "list" T_ANY "any"
%token <str> T_MAX "max" T_SCHEMA "schema" T_ROOT "root"
/* Keywords only inside a test's braces (T_HEADER too). */
%token <str> T_TOKEN "token" T_REQUEST "request" T_FROM "from"
%token <str> T_CERT "cert" T_TLS "tls" T_TIME "time" T_EXPECT "expect"
%token T_EQ "==" T_NE "!=" T_LE "<=" T_GE ">=" T_LT "<" T_GT ">"
%token T_DOTDOT ".." T_ASSIGN "="
%token <str> T_IDENT "identifier" T_STRING "string" T_PATH "path"
%token <num> T_INT "integer"
%token <str> T_DURATION "duration" T_REGEX "regular expression"
%token <str> T_ADDR "address" T_RATE "rate"
%token T_INVALID "invalid character"
%token T_START_TYPE "start of a type"

%type <str> method part qname rword ident
%type <num> duration size
%type <ival> effect
%type <list> attrs words targets lits claims params pflags bopts sopts strs
%type <list> titems members values
%type <attr> attr bopt sopt
%type <target> target
%type <tail> tail ctail
%type <expr> cond
%type <opnd> name operand lit claim
%type <type> type
%type <param> param
%type <titem> titem
%type <value> value
%type <member> member
%type <range> range

/* "algorithms" and "required" take every identifier that follows them:
 * an unknown attribute right after the list reads as one more name. */
%precedence P_ALGS
%precedence T_IDENT
%left "or"
%left "and"
%precedence "not"

%%

/* T_START_TYPE comes only first, from zpc_parse_type(): a typed capture.
 * It is not a start rule of its own so that the empty file reduces at
 * once and an error in the first token can still be recovered from. */
policy_file
    : %empty
    | policy_file stmt
    | policy_file error
    | policy_file T_START_TYPE type
                            { ps->type_out = $3; }
    ;

stmt
    : kw_policy T_STRING    { zpc_ast_policy(ps, $2, &@2, &@$); }
    | kw_issuer T_IDENT T_STRING '{' attrs '}'
                            { zpc_ast_issuer(ps, $2, &@2, $3, &@3, $5, &@$); }
    | kw_let ident "=" cond  { zpc_ast_let(ps, $2, &@2, $4, &@$); }
    | kw_route method T_PATH
                            { zpc_ast_route(ps, $2, &@2, $3, &@3, NULL, &@$); }
    | kw_route method T_PATH '{' params '}'
                            { zpc_ast_route(ps, $2, &@2, $3, &@3, $5, &@$); }
    | effect targets tail   { zpc_ast_rule(ps, $1, $2, $3, &@$); }
    | kw_stepup targets sopts
                            { zpc_ast_stepup(ps, $2, $3, &@$); }
    | kw_limit targets T_RATE T_IDENT name
                            { zpc_ast_limit(ps, $2, $3, &@3, $4, &@4, $5, &@$); }
    | kw_test T_STRING '{' titems '}'
                            { zpc_ast_test(ps, $2, &@2, $4, &@$); }
    | kw_include T_STRING   { zpc_ast_include(ps, $2, &@2, &@$); }
    ;

/* A statement keyword ends error recovery at once (bison would otherwise
 * wait for three good tokens and drop an error in a short statement). */
kw_policy  : "policy"       { yyerrok; } ;
kw_issuer  : "issuer"       { yyerrok; } ;
kw_let     : "let"          { yyerrok; } ;
kw_route   : "route"        { yyerrok; } ;
kw_stepup  : "stepup"       { yyerrok; } ;
kw_limit   : "limit"        { yyerrok; } ;
kw_test    : "test"         { yyerrok; } ;
kw_include : "include"      { yyerrok; } ;

attrs
    : %empty                { $$ = zpc_ast_list(ps); }
    | attrs attr            { $$ = zpc_ast_push($1, $2); }
    ;

attr
    : "audience" T_STRING   { $$ = zpc_ast_attr_str(ps, ZPC_ATTR_AUDIENCE, $2, &@2, &@1); }
    | "algorithms" words %prec P_ALGS
                            { $$ = zpc_ast_attr_words(ps, $2, &@1); }
    | "jwks" T_IDENT T_STRING
                            { $$ = zpc_ast_attr_source(ps, ZPC_ATTR_JWKS, $2, &@2, $3, &@3, &@1); }
    | "jwks" T_IDENT        { $$ = zpc_ast_attr_source(ps, ZPC_ATTR_JWKS, $2, &@2, NULL, NULL, &@1); }
    | "jwks" T_STRING       { $$ = zpc_ast_attr_source(ps, ZPC_ATTR_JWKS, NULL, NULL, $2, &@2, &@1); }
    | "secret" T_IDENT T_STRING
                            { $$ = zpc_ast_attr_source(ps, ZPC_ATTR_SECRET, $2, &@2, $3, &@3, &@1); }
    | "secret" T_IDENT      { $$ = zpc_ast_attr_source(ps, ZPC_ATTR_SECRET, $2, &@2, NULL, NULL, &@1); }
    | "secret" T_STRING     { $$ = zpc_ast_attr_source(ps, ZPC_ATTR_SECRET, NULL, NULL, $2, &@2, &@1); }
    | "typ" T_STRING        { $$ = zpc_ast_attr_str(ps, ZPC_ATTR_TYP, $2, &@2, &@1); }
    | "required" claims %prec P_ALGS
                            { $$ = zpc_ast_attr_names(ps, $2, &@1); }
    | "max_lifetime" duration
                            { $$ = zpc_ast_attr_num(ps, ZPC_ATTR_MAX_LIFETIME, $2, &@2, &@1); }
    | "leeway" duration     { $$ = zpc_ast_attr_num(ps, ZPC_ATTR_LEEWAY, $2, &@2, &@1); }
    | "refresh" duration    { $$ = zpc_ast_attr_num(ps, ZPC_ATTR_REFRESH, $2, &@2, &@1); }
    | "refetch_min" duration
                            { $$ = zpc_ast_attr_num(ps, ZPC_ATTR_REFETCH_MIN, $2, &@2, &@1); }
    | "binding" T_IDENT     { $$ = zpc_ast_attr_source(ps, ZPC_ATTR_BINDING, $2, &@2, NULL, NULL, &@1); }
    | T_IDENT atoms         { $$ = zpc_ast_attr_unknown(ps, $1, &@1); }
    ;

/* Claim names: identifiers, or strings for any other name.  A dotted
 * name is parsed whole so that zpc_check can say it is not allowed. */
claims
    : claim                 { $$ = zpc_ast_push(zpc_ast_list(ps), $1); }
    | claims claim          { $$ = zpc_ast_push($1, $2); }
    ;

claim
    : name
    | T_STRING              { $$ = zpc_ast_str(ps, $1, &@1); }
    ;

words
    : T_IDENT               { $$ = zpc_ast_push(zpc_ast_list(ps), zpc_ast_word(ps, $1, &@1)); }
    | words T_IDENT         { $$ = zpc_ast_push($1, zpc_ast_word(ps, $2, &@2)); }
    ;

atoms
    : %empty
    | atoms T_STRING
    | atoms T_INT
    | atoms T_DURATION
    ;

duration
    : T_DURATION            { $$ = zpc_ast_duration(ps, $1, &@1); }
    | T_INT
    ;

size
    : T_DURATION            { $$ = zpc_ast_size(ps, $1, &@1); }
    | T_INT
    ;

method
    : T_IDENT
    | '*'                   { $$ = "*"; }
    ;

/* Route blocks: the request's contract. */
params
    : %empty                { $$ = zpc_ast_list(ps); }
    | params param          { $$ = zpc_ast_push($1, $2); }
    ;

param
    : "query" qname type pflags
                            { $$ = zpc_ast_param(ps, ZPC_PARAM_QUERY, $2, &@2, $3, $4, &@$); }
    | "query" '*' "any"     { $$ = zpc_ast_param(ps, ZPC_PARAM_QUERY_ANY, "*", &@2, NULL, NULL, &@$); }
    | "header" T_STRING type pflags
                            { $$ = zpc_ast_param(ps, ZPC_PARAM_HEADER, $2, &@2, $3, $4, &@$); }
    | "body" T_IDENT bopts  { $$ = zpc_ast_body(ps, $2, &@2, $3, &@$); }
    ;

/* A query name: any word, the block's own included, or a string. */
qname
    : part
    | T_STRING
    | rword
    ;

rword
    : "query" | "header" | "body" | "optional" | "list" | "any" | "max"
    | "schema" | "root"
    ;

pflags
    : %empty                { $$ = zpc_ast_list(ps); }
    | pflags "optional"     { $$ = zpc_ast_push($1, zpc_ast_word(ps, $2, &@2)); }
    | pflags "list"         { $$ = zpc_ast_push($1, zpc_ast_word(ps, $2, &@2)); }
    ;

bopts
    : %empty                { $$ = zpc_ast_list(ps); }
    | bopts bopt            { $$ = zpc_ast_push($1, $2); }
    ;

bopt
    : "max" size            { $$ = zpc_ast_opt(ps, ZPC_ATTR_MAX, NULL, $2, &@2, &@1); }
    | "schema" T_STRING     { $$ = zpc_ast_opt(ps, ZPC_ATTR_SCHEMA, $2, 0, &@2, &@1); }
    | "root" T_STRING       { $$ = zpc_ast_opt(ps, ZPC_ATTR_ROOT, $2, 0, &@2, &@1); }
    ;

/* int 1..100, string 1..64 /re/, uuid, enum("a", "b") */
type
    : T_IDENT               { $$ = zpc_ast_type(ps, $1, &@1); }
    | T_IDENT '(' lits ')'  { $$ = zpc_ast_type_enum(ps, $1, $3, &@$); }
    | T_IDENT '(' ')'       { $$ = zpc_ast_type_enum(ps, $1, zpc_ast_list(ps), &@$); }
    | type range            { $$ = zpc_ast_type_range(ps, $1, $2.min, $2.max, &@2); }
    | type T_REGEX          { $$ = zpc_ast_type_regex(ps, $1, $2, &@2); }
    ;

range
    : T_INT ".." T_INT      { $$.min = $1; $$.max = $3; }
    ;

/* stepup TARGETS acr "a" "b" max_age 10m */
sopts
    : %empty                { $$ = zpc_ast_list(ps); }
    | sopts sopt            { $$ = zpc_ast_push($1, $2); }
    ;

sopt
    : T_IDENT strs          { $$ = zpc_ast_attr_names(ps, $2, &@1);
                              $$->kind = ZPC_ATTR_ACR; $$->name = $1; }
    | T_IDENT duration      { $$ = zpc_ast_opt(ps, ZPC_ATTR_MAX_AGE, NULL, $2, &@2, &@1);
                              $$->name = $1; }
    ;

strs
    : T_STRING              { $$ = zpc_ast_push(zpc_ast_list(ps), zpc_ast_str(ps, $1, &@1)); }
    | strs T_STRING         { $$ = zpc_ast_push($1, zpc_ast_str(ps, $2, &@2)); }
    ;

/* test blocks */
titems
    : %empty                { $$ = zpc_ast_list(ps); }
    | titems titem          { $$ = zpc_ast_push($1, $2); }
    ;

titem
    : "token" value         { $$ = zpc_ast_titem(ps, ZPC_TITEM_TOKEN, NULL, NULL, NULL, NULL, $2, &@1); }
    | "request" T_IDENT T_PATH
                            { $$ = zpc_ast_titem(ps, ZPC_TITEM_REQUEST, $2, &@2, $3, &@3, NULL, &@1); }
    | "from" T_ADDR         { $$ = zpc_ast_titem(ps, ZPC_TITEM_FROM, $2, &@2, NULL, NULL, NULL, &@1); }
    | "header" T_STRING T_STRING
                            { $$ = zpc_ast_titem(ps, ZPC_TITEM_HEADER, $2, &@2, $3, &@3, NULL, &@1); }
    | "cert" value          { $$ = zpc_ast_titem(ps, ZPC_TITEM_CERT, NULL, NULL, NULL, NULL, $2, &@1); }
    | "tls" T_STRING        { $$ = zpc_ast_titem(ps, ZPC_TITEM_TLS, $2, &@2, NULL, NULL, NULL, &@1); }
    | "tls" T_IDENT         { $$ = zpc_ast_titem(ps, ZPC_TITEM_TLS, NULL, &@2, $2, &@2, NULL, &@1); }
    | "time" T_STRING       { $$ = zpc_ast_titem(ps, ZPC_TITEM_TIME, $2, &@2, NULL, NULL, NULL, &@1); }
    | "expect" T_IDENT      { $$ = zpc_ast_titem(ps, ZPC_TITEM_EXPECT, $2, &@2, NULL, NULL, NULL, &@1); }
    | "expect" "allow"      { $$ = zpc_ast_titem(ps, ZPC_TITEM_EXPECT, $2, &@2, NULL, NULL, NULL, &@1); }
    | "expect" "deny"       { $$ = zpc_ast_titem(ps, ZPC_TITEM_EXPECT, $2, &@2, NULL, NULL, NULL, &@1); }
    | "expect" "stepup"     { $$ = zpc_ast_titem(ps, ZPC_TITEM_EXPECT, $2, &@2, NULL, NULL, NULL, &@1); }
    | "expect" "token"      { $$ = zpc_ast_titem(ps, ZPC_TITEM_EXPECT, $2, &@2, NULL, NULL, NULL, &@1); }
    /* body json|xml|untyped|none|"TYPE" ['TEXT' | file "NAME"]: the words
     * are checked by zpc_check_tbody, not reserved here */
    | "body" T_IDENT        { $$ = zpc_ast_tbody(ps, $2, &@2, 0, NULL, NULL, NULL, NULL, &@1); }
    | "body" T_IDENT T_STRING
                            { $$ = zpc_ast_tbody(ps, $2, &@2, 0, NULL, NULL, $3, &@3, &@1); }
    | "body" T_IDENT T_IDENT T_STRING
                            { $$ = zpc_ast_tbody(ps, $2, &@2, 0, $3, &@3, $4, &@4, &@1); }
    | "body" T_STRING T_STRING
                            { $$ = zpc_ast_tbody(ps, $2, &@2, 1, NULL, NULL, $3, &@3, &@1); }
    | "body" T_STRING T_IDENT T_STRING
                            { $$ = zpc_ast_tbody(ps, $2, &@2, 1, $3, &@3, $4, &@4, &@1); }
    ;

/* Claims: { name value ... }, [a, b], "s", 12, true */
value
    : T_STRING              { $$ = zpc_ast_value(ps, ZPC_VAL_STR, $1, 0, &@1); }
    | T_INT                 { $$ = zpc_ast_value(ps, ZPC_VAL_INT, NULL, $1, &@1); }
    | "true"                { $$ = zpc_ast_value(ps, ZPC_VAL_BOOL, NULL, 1, &@1); }
    | "false"               { $$ = zpc_ast_value(ps, ZPC_VAL_BOOL, NULL, 0, &@1); }
    | '{' members '}'       { $$ = zpc_ast_value_list(ps, ZPC_VAL_OBJ, $2, &@$); }
    | '[' ']'               { $$ = zpc_ast_value_list(ps, ZPC_VAL_ARR, zpc_ast_list(ps), &@$); }
    | '[' values ']'        { $$ = zpc_ast_value_list(ps, ZPC_VAL_ARR, $2, &@$); }
    ;

members
    : %empty                { $$ = zpc_ast_list(ps); }
    | members member        { $$ = zpc_ast_push($1, $2); }
    ;

member
    : part value            { $$ = zpc_ast_member(ps, $1, &@1, $2); }
    | T_STRING value        { $$ = zpc_ast_member(ps, $1, &@1, $2); }
    ;

values
    : value                 { $$ = zpc_ast_push(zpc_ast_list(ps), $1); }
    | values ',' value      { $$ = zpc_ast_push($1, $3); }
    ;

effect
    : "allow"               { $$ = ZT_EFFECT_ALLOW; yyerrok; }
    | "deny"                { $$ = ZT_EFFECT_DENY; yyerrok; }
    ;

targets
    : target                { $$ = zpc_ast_push(zpc_ast_list(ps), $1); }
    | targets ',' target    { $$ = zpc_ast_push($1, $3); }
    ;

target
    : method T_PATH         { $$ = zpc_ast_target(ps, $1, &@1, $2, &@2); }
    ;

/* [public] [when C | unless C] */
tail
    : ctail
    | "public" ctail        { $$ = zpc_ast_public(ps, $2, &@1); }
    ;

ctail
    : %empty                { $$ = zpc_ast_tail(ps, ZPC_TAIL_NONE, NULL, &@$); }
    | "when" cond           { $$ = zpc_ast_tail(ps, ZPC_TAIL_WHEN, $2, &@1); }
    | "unless" cond         { $$ = zpc_ast_tail(ps, ZPC_TAIL_UNLESS, $2, &@1); }
    ;

cond
    : cond "or" cond        { $$ = zpc_ast_binary(ps, ZPC_EXPR_OR, $1, $3, &@$); }
    | cond "and" cond       { $$ = zpc_ast_binary(ps, ZPC_EXPR_AND, $1, $3, &@$); }
    | "not" cond            { $$ = zpc_ast_not(ps, $2, &@$); }
    | '(' cond ')'          { $$ = $2; }
    | operand "==" operand  { $$ = zpc_ast_cmp(ps, ZPC_EXPR_EQ, $1, $3, &@$); }
    | operand "!=" operand  { $$ = zpc_ast_cmp(ps, ZPC_EXPR_NE, $1, $3, &@$); }
    | operand "<" operand   { $$ = zpc_ast_cmp(ps, ZPC_EXPR_LT, $1, $3, &@$); }
    | operand "<=" operand  { $$ = zpc_ast_cmp(ps, ZPC_EXPR_LE, $1, $3, &@$); }
    | operand ">" operand   { $$ = zpc_ast_cmp(ps, ZPC_EXPR_GT, $1, $3, &@$); }
    | operand ">=" operand  { $$ = zpc_ast_cmp(ps, ZPC_EXPR_GE, $1, $3, &@$); }
    | operand "in" operand  { $$ = zpc_ast_cmp(ps, ZPC_EXPR_IN, $1, $3, &@$); }
    | operand "in" '[' lits ']'
                            { $$ = zpc_ast_in_list(ps, $1, $4, &@$); }
    | operand "in" '[' ']'  { $$ = zpc_ast_in_list(ps, $1, zpc_ast_list(ps), &@$); }
    | name                  { $$ = zpc_ast_ref(ps, $1, &@$); }
    ;

operand
    : name
    | name '[' T_STRING ']' { $$ = zpc_ast_index(ps, $1, $3, &@$); }
    | lit
    ;

lits
    : lit                   { $$ = zpc_ast_push(zpc_ast_list(ps), $1); }
    | lits ',' lit          { $$ = zpc_ast_push($1, $3); }
    ;

lit
    : T_STRING              { $$ = zpc_ast_str(ps, $1, &@1); }
    | T_INT                 { $$ = zpc_ast_int(ps, $1, &@1); }
    | "true"                { $$ = zpc_ast_bool(ps, 1, &@1); }
    | "false"               { $$ = zpc_ast_bool(ps, 0, &@1); }
    | T_ADDR                { $$ = zpc_ast_addr(ps, $1, &@1); }
    ;

name
    : ident                 { $$ = zpc_ast_name(ps, $1, &@1); }
    | name '.' part         { $$ = zpc_ast_name_add(ps, $1, $3, &@$); }
    ;

/* The newer statement keywords are names too where a statement cannot
 * start: `let limit = ...`, `when test`.  (The older ones stay reserved.) */
ident
    : T_IDENT | "stepup" | "limit" | "test" | "include"
    ;

/* After a dot any word is a claim name, keywords included. */
part
    : T_IDENT | "policy" | "issuer" | "let" | "route" | "allow" | "deny"
    | "public" | "when" | "unless" | "and" | "or" | "not" | "in" | "true"
    | "false" | "audience" | "algorithms" | "jwks" | "max_lifetime" | "leeway"
    | "secret" | "typ" | "required" | "refresh" | "refetch_min"
    | "binding"
    | "stepup" | "limit" | "test" | "include"
    ;

%%

/* A symbol for a message: keywords and operators quoted, classes not. */
static const char *zpc_symbol(zpc_parser_t *ps, yysymbol_kind_t k,
                              int expected)
{
    const char *name = yysymbol_name(k);

    if (k == YYSYMBOL_YYEOF && ps->end_name != NULL) {
        return ps->end_name;
    }
    if (expected && k >= YYSYMBOL_T_IDENT && k <= YYSYMBOL_T_RATE) {
        return apr_pstrcat(ps->pool, k == YYSYMBOL_T_IDENT || k == YYSYMBOL_T_INT
                           || k == YYSYMBOL_T_ADDR ? "an " : "a ", name, NULL);
    }
    if (k == YYSYMBOL_T_IDENT && ps->last_ident != NULL) {
        return apr_psprintf(ps->pool, "identifier '%s'", ps->last_ident);
    }
    if (k >= YYSYMBOL_T_POLICY && k <= YYSYMBOL_T_ASSIGN) {
        return apr_psprintf(ps->pool, "'%s'", name);
    }
    return name;
}

/*
** A syntax error at the lookahead token: what was found, what would have
** been accepted (when that is a short list), and a hint where the mistake
** is a common one.  When the lookahead is the scanner's T_INVALID, the
** scanner has already said precisely what is wrong, so this stays quiet.
*/
static int yyreport_syntax_error(const yypcontext_t *ctx, zpc_parser_t *ps,
                                 void *scanner)
{
    yysymbol_kind_t tok = yypcontext_token(ctx), exp[YYNTOKENS];
    int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
    int stmt = 0, eq = 0, cond = 0, ident = 0;
    const char *msg, *list = "";

    (void)scanner;
    ps->syntax_errors++;
    if (ps->last_invalid) {
        return 0;
    }
    for (int i = 0; i < n; i++) {
        stmt |= exp[i] == YYSYMBOL_T_ROUTE;
        eq |= exp[i] == YYSYMBOL_T_EQ;
        cond |= exp[i] == YYSYMBOL_T_NOT;
        ident |= exp[i] == YYSYMBOL_T_IDENT;
    }
    if (ident) {
        /* stepup, limit, test, include are identifiers there: not listed */
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (exp[i] < YYSYMBOL_T_STEPUP || exp[i] > YYSYMBOL_T_INCLUDE) {
                exp[k++] = exp[i];
            }
        }
        n = k;
    }
    msg = apr_pstrcat(ps->pool, "syntax error: unexpected ",
                      zpc_symbol(ps, tok, 0), NULL);
    if (tok == YYSYMBOL_T_ASSIGN && eq) {
        list = " (compare with '==')";
    }
    else if (tok == YYSYMBOL_T_PUBLIC && !cond) {
        list = " ('public' is written once, right after the targets: "
               "allow TARGETS public when C)";
    }
    else if (cond) {
        list = ", expecting a condition";
    }
    else if (n > 0 && n <= 4) {
        list = ", expecting ";
        for (int i = 0; i < n; i++) {
            list = apr_pstrcat(ps->pool, list, i == 0 ? "" : i == n - 1 ? " or " : ", ",
                               zpc_symbol(ps, exp[i], 1), NULL);
        }
    }
    else if (stmt) {
        list = ", expecting a statement (policy, issuer, let, route, allow, "
               "deny, stepup, limit, test or include)";
    }
    if (ident && tok >= YYSYMBOL_T_SECRET && tok <= YYSYMBOL_T_BINDING) {
        list = apr_psprintf(ps->pool, "%s (inside an issuer '%s' is an attribute; "
                            "a claim of that name is written \"%s\")", list,
                            yysymbol_name(tok), yysymbol_name(tok));
    }
    zpc_diag_error(ps->diag, yypcontext_location(ctx), "%s%s", msg, list);
    return 0;
}

/* Bison's own messages: only "memory exhausted" reaches this. */
static void zpc_yyerror(ZPC_YYLTYPE *loc, zpc_parser_t *ps, void *scanner,
                        const char *msg)
{
    (void)scanner;
    ps->syntax_errors++;
    if (strcmp(msg, "memory exhausted") == 0) {
        zpc_diag_error(ps->diag, loc, "nested too deeply (the parser's limit "
                       "is %d levels)", ZPC_PARSE_DEPTH);
        return;
    }
    zpc_diag_error(ps->diag, loc, "%s", msg);
}

int zpc_parse(zpc_parser_t *ps, const char *src, apr_size_t len)
{
    int rc;

    if (zpc_scan_open(ps, src, len) != 0) {
        zpc_diag_error(ps->diag, NULL, "cannot start the scanner");
        return -1;
    }
    rc = zpc_yyparse(ps, ps->scanner);
    zpc_scan_close(ps);
    return rc != 0 || ps->syntax_errors > 0 ? -1 : 0;
}

/*
** A typed capture, "{id: uuid}", is one path token; its type is parsed
** here by the same grammar (a first token T_START_TYPE selects the type
** rule), with positions that point into the path.
*/
zpc_ast_type_t *zpc_parse_type(zpc_parser_t *ps, const char *text,
                               const zpc_loc_t *at)
{
    zpc_parser_t sub = *ps;

    sub.scanner = NULL;
    sub.syntax_errors = 0;
    sub.type_out = NULL;
    sub.start_token = T_START_TYPE;
    sub.end_name = "end of the capture";
    sub.line = at->first_line;
    sub.col = at->first_column;
    sub.file_index = at->file;
    if (zpc_parse(&sub, text, strlen(text)) != 0 || sub.type_out == NULL) {
        return NULL;
    }
    return sub.type_out;
}
