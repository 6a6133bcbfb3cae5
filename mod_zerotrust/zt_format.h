/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_format.h
 * @brief The compiled decision table (.ztb), format version 3.
 *
 * This header IS the on-disk format.  zpc writes it, mod_zerotrust reads it
 * once and shares it between all Apache processes, so it holds no
 * pointers: every reference is an offset or a u32 index.  All integers
 * are little-endian and fixed width; records are naturally aligned (4, or 8
 * for records holding an int64) and every section starts 8-aligned.
 *
 * @verbatim
 *   0            +---------------------------+
 *                | zt_hdr_t        (24 bytes) |  magic "ZTB\1", version, ...
 *   24           | zt_sect_t[nsect] (12 each) |  section table
 *   hdr_len      +---------------------------+  <- section offsets count from here
 *                | section payloads, each    |
 *                | 8-aligned, no overlap     |
 *   file_len-32  +---------------------------+
 *                | SHA-256 of bytes          |  over [0, file_len - 32)
 *                | [0, file_len - 32)        |
 *   file_len     +---------------------------+
 * @endverbatim
 *
 * Sections (tag = four ASCII bytes read as a little-endian u32).  A tag whose
 * first byte is lower case is optional: a reader that does not know it skips
 * it.  An unknown upper-case tag is required and makes the table unreadable
 * (git's index extension convention).
 *
 *   STRS  string pool: starts and ends with NUL; every string offset in the
 *         file points into it, at the start of a NUL-terminated string.
 *   META  one zt_meta_rec_t.
 *   ISSR  zt_issuer_rec_t[]   trusted token issuers.
 *   ROUT  zt_route_rec_t[]    the declared API: method set + path pattern.
 *   SEGS  zt_seg_rec_t[]      path segments; each route owns a contiguous run.
 *   RULE  zt_rule_rec_t[]     allow / deny rules in source order.
 *   RREF  u32[]               rule indices; each route owns a contiguous run
 *                             listing exactly the rules that can apply to it.
 *   NODE  zt_node_rec_t[]     condition DAG.  Every child index is greater
 *                             than its parent's index, so the graph is
 *                             acyclic.  Nodes may be shared (a `let` used
 *                             twice), and a shared node is evaluated once
 *                             per path that reaches it, so acyclic alone
 *                             does not bound the work (OR(n1,n1), OR(n2,n2)
 *                             ... doubles it per level): every node's depth
 *                             and tree size are limited, see below.
 *   OPND  zt_opnd_rec_t[]     operands of comparisons.
 *   LIST  u32[]               operand indices of literal lists ("x in [..]"),
 *                             of acr lists (STEP) and of enum types (TYPE).
 *   CIDR  zt_cidr_rec_t[]     address blocks of "client.ip in [..]".
 *   TYPE  zt_type_rec_t[]     value types of captures, query and header
 *                             parameters.
 *   PARM  zt_param_rec_t[]    declared query and header parameters; each
 *                             route owns a contiguous run (in route order).
 *   BODY  zt_body_rec_t[]     declared request bodies.
 *   BLOB  bytes               embedded schema files (JSON Schema, XSD),
 *                             as read by zpc; each 8-aligned.
 *   STEP  zt_stepup_rec_t[]   step-up requirements.
 *   LIMT  zt_limit_rec_t[]    rate limits.
 *   LREF  u32[]               limit indices; each route owns a contiguous
 *                             run (in route order).
 *   DFAS  bytes               the compiled patterns of TYPE: DFA images in
 *                             the zt_dfa.h layout (zt_dfa_hdr_t, byte
 *                             classes, u32 transitions, accept flags), each
 *                             8-aligned; the same pattern is stored once.
 *
 * Every count is the section length divided by the record size; a length
 * that is not a multiple of it is an error.  Bytes no section covers
 * (header and section padding), and bytes of BLOB and DFAS no schema or
 * image covers, are 0.  Each route's SEGS, RREF, PARM and
 * LREF runs follow the previous route's and together cover each section
 * exactly.
 * The loader (zt_table.c) checks every offset, index, opcode and string
 * once; the evaluator then trusts the table.  docs/TABLE_FORMAT.md
 * describes every field.
 */
#ifndef ZT_FORMAT_H
#define ZT_FORMAT_H

#include <stdint.h>

#define ZT_MAGIC            "ZTB\1"
#define ZT_MAGIC_LEN        4
#define ZT_FORMAT_VERSION   3
#define ZT_HASH_LEN         32          /* SHA-256 trailer */
#define ZT_NONE             UINT32_MAX  /* "no index" in any u32 index field */

/* Hard limits.  zpc reports each one as a compile error naming the limit;
 * the loader refuses a table that exceeds one. */
#define ZT_MAX_FILE_LEN     (256u << 20)  /* 256 MiB */
#define ZT_MAX_SECTIONS     64
#define ZT_MAX_SEGMENTS     32            /* path segments in one route */
#define ZT_MAX_CLAIM_DEPTH  8             /* token.a.b.c...: parts */
/* Routes and rules: indices are u32 everywhere; 2^18 keeps a table of that
 * many well inside ZT_MAX_FILE_LEN (about 200 bytes a rule). */
#define ZT_MAX_ROUTES       262144        /* 1 << 18 */
#define ZT_MAX_RULES        262144        /* 1 << 18 */
#define ZT_MAX_NODES        1048576
#define ZT_MAX_ISSUERS      64
#define ZT_MAX_REQUIRED     32            /* required claim names of one issuer */
/* A condition rooted at any node: its depth (a leaf is 1) and its size
 * counted as a tree (a shared node counts once per path that reaches it).
 * They bound the evaluator's recursion and its work per rule. */
#define ZT_MAX_COND_DEPTH   128
#define ZT_MAX_COND_NODES   4096
#define ZT_MAX_PARAMS       64            /* query + header parameters of a route */
#define ZT_MAX_LIST         65536         /* members of one literal list */
#define ZT_MAX_LIMITS       16            /* rate limits on one route */

#define ZT_TAG(a, b, c, d) \
    ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define ZT_TAG_STRS  ZT_TAG('S','T','R','S')
#define ZT_TAG_META  ZT_TAG('M','E','T','A')
#define ZT_TAG_ISSR  ZT_TAG('I','S','S','R')
#define ZT_TAG_ROUT  ZT_TAG('R','O','U','T')
#define ZT_TAG_SEGS  ZT_TAG('S','E','G','S')
#define ZT_TAG_RULE  ZT_TAG('R','U','L','E')
#define ZT_TAG_RREF  ZT_TAG('R','R','E','F')
#define ZT_TAG_NODE  ZT_TAG('N','O','D','E')
#define ZT_TAG_OPND  ZT_TAG('O','P','N','D')
#define ZT_TAG_LIST  ZT_TAG('L','I','S','T')
#define ZT_TAG_CIDR  ZT_TAG('C','I','D','R')
#define ZT_TAG_TYPE  ZT_TAG('T','Y','P','E')
#define ZT_TAG_PARM  ZT_TAG('P','A','R','M')
#define ZT_TAG_BODY  ZT_TAG('B','O','D','Y')
#define ZT_TAG_BLOB  ZT_TAG('B','L','O','B')
#define ZT_TAG_STEP  ZT_TAG('S','T','E','P')
#define ZT_TAG_LIMT  ZT_TAG('L','I','M','T')
#define ZT_TAG_LREF  ZT_TAG('L','R','E','F')
#define ZT_TAG_DFAS  ZT_TAG('D','F','A','S')
#define ZT_TAG_OPTIONAL(tag)  (((tag) & 0xff) >= 'a' && ((tag) & 0xff) <= 'z')

typedef struct {
    uint8_t  magic[4];      /* "ZTB\1" */
    uint16_t version;       /* ZT_FORMAT_VERSION */
    uint16_t flags;         /* reserved, 0 */
    uint32_t hdr_len;       /* >= 24 + 12 * nsect rounded up to 8; 8-aligned */
    uint32_t file_len;      /* whole file, including the hash trailer */
    uint32_t nsect;         /* entries in the section table */
    uint32_t reserved;      /* 0 */
} zt_hdr_t;

typedef struct {
    uint32_t tag;           /* ZT_TAG_* */
    uint32_t off;           /* from hdr_len; 8-aligned */
    uint32_t len;           /* bytes */
} zt_sect_t;

typedef struct {
    uint32_t name;          /* str: policy "name" */
    uint32_t source;        /* str: main source file, as given to zpc */
} zt_meta_rec_t;

/* JWS algorithms: bits of zt_issuer_rec_t.algs (names in zt_alg.c). */
enum {
    ZT_ALG_RS256 = 1u << 0,  ZT_ALG_RS384 = 1u << 1,  ZT_ALG_RS512 = 1u << 2,
    ZT_ALG_PS256 = 1u << 3,  ZT_ALG_PS384 = 1u << 4,  ZT_ALG_PS512 = 1u << 5,
    ZT_ALG_ES256 = 1u << 6,  ZT_ALG_ES384 = 1u << 7,  ZT_ALG_ES512 = 1u << 8,
    ZT_ALG_EDDSA = 1u << 9,
    ZT_ALG_HS256 = 1u << 10, ZT_ALG_HS384 = 1u << 11, ZT_ALG_HS512 = 1u << 12,
    ZT_ALG_ALL   = (1u << 13) - 1,
    ZT_ALG_HS_ALL = ZT_ALG_HS256 | ZT_ALG_HS384 | ZT_ALG_HS512  /* shared secrets */
};

/* zt_issuer_rec_t.jwks_kind: where the issuer's verification keys come from. */
#define ZT_JWKS_FILE      1 /* jwks: JWK Set file, relative to the table's dir */
#define ZT_JWKS_URL       2 /* jwks: https URL of a JWK Set, fetched by the module */
#define ZT_JWKS_DISCOVER  3 /* jwks: "" -- jwks_uri from <iss>/.well-known/openid-configuration */
#define ZT_JWKS_NONE      4 /* jwks: "" -- only a `secret` (HS*) verifies */

/* zt_issuer_rec_t.binding (format 3): a token of the issuer without such a
 * confirmation ("cnf") is refused; a token that has one is checked always. */
#define ZT_BIND_NONE      0 /* unbound tokens accepted */
#define ZT_BIND_MTLS      1 /* cnf.x5t#S256: bound to the client certificate (RFC 8705) */
#define ZT_BIND_DPOP      2 /* cnf.jkt: bound to a DPoP key (RFC 9449) */
#define ZT_BIND_ANY       3 /* either of the two */

#define ZT_REFRESH_DEFAULT      3600  /* seconds, url/discover key sets */
#define ZT_REFETCH_MIN_DEFAULT    60  /* seconds between unknown-kid refetches */

typedef struct {
    uint32_t name;          /* str: the issuer's local name ("corp") */
    uint32_t iss;           /* str: exact "iss" value */
    uint32_t audience;      /* str: required "aud" member */
    uint32_t algs;          /* ZT_ALG_* allowlist, never 0 */
    uint32_t jwks_kind;     /* ZT_JWKS_* */
    uint32_t jwks;          /* str: file path or URL, by jwks_kind; "" otherwise */
    uint32_t max_lifetime;  /* seconds; exp - iat must not exceed it; 0 = unlimited */
    uint32_t leeway;        /* seconds of clock skew allowed for exp/nbf/iat */
    uint32_t line;          /* source line of the issuer block */
    uint32_t typ;           /* str: required JOSE "typ" ("at+jwt"); "" = JWT or at+jwt */
    uint32_t required;      /* str: names of claims that must be present, parts
                               joined by NUL like a TOKEN path; 0 when nrequired is 0 */
    uint32_t nrequired;     /* count of names in required */
    uint32_t secret;        /* str: HS* secret file, relative to the table's dir; "" = none */
    uint32_t refresh;       /* seconds between refreshes of a url/discover key set */
    uint32_t refetch_min;   /* minimum seconds between refetches on an unknown kid */
    uint32_t binding;       /* ZT_BIND_*: how its tokens must be sender-constrained */
} zt_issuer_rec_t;

/* HTTP methods: bits of zt_route_rec_t.methods.  HEAD is served by GET. */
enum {
    ZT_M_GET = 1u << 0, ZT_M_POST = 1u << 1, ZT_M_PUT = 1u << 2,
    ZT_M_PATCH = 1u << 3, ZT_M_DELETE = 1u << 4, ZT_M_OPTIONS = 1u << 5,
    ZT_M_ALL = (1u << 6) - 1
};

/* zt_route_rec_t.flags */
#define ZT_ROUTE_QUERY_ANY  0x1 /* `query * any`: undeclared query names pass */

typedef struct {
    uint32_t methods;       /* exactly one ZT_M_* bit */
    uint32_t pattern;       /* str: path pattern as written, "/orders/{id: uuid}" */
    uint32_t seg_first;     /* index into SEGS */
    uint32_t seg_count;     /* <= ZT_MAX_SEGMENTS; 0 for "/" */
    uint32_t rref_first;    /* index into RREF */
    uint32_t rref_count;
    uint32_t line;          /* source line of the route */
    uint32_t file;          /* str: source file of the route */
    uint32_t flags;         /* ZT_ROUTE_* */
    uint32_t param_first;   /* index into PARM */
    uint32_t param_count;   /* <= ZT_MAX_PARAMS */
    uint32_t body;          /* BODY index, or ZT_NONE: no body declared */
    uint32_t stepup;        /* STEP index, or ZT_NONE */
    uint32_t lref_first;    /* index into LREF */
    uint32_t lref_count;    /* <= ZT_MAX_LIMITS */
    uint32_t reserved;      /* 0 */
} zt_route_rec_t;

/*
 * Path segments.  Ranks, best first, compared left to right: LITERAL,
 * CAPTURE, STAR, GLOBSTAR.  GLOBSTAR is only the last segment of a route
 * and matches zero or more request segments.  No two routes of one method
 * have the same sequence of (kind, literal text): zpc refuses it, the
 * loader too.  The type of a capture is checked by input validation; it
 * does not take part in matching.
 */
enum {
    ZT_SEG_LITERAL = 0, ZT_SEG_CAPTURE = 1, ZT_SEG_STAR = 2, ZT_SEG_GLOBSTAR = 3,
    ZT_SEG__COUNT
};

typedef struct {
    uint32_t kind;          /* ZT_SEG_* */
    uint32_t str;           /* LITERAL: text; CAPTURE: name; else 0 */
    uint32_t type;          /* CAPTURE: TYPE index; else ZT_NONE */
} zt_seg_rec_t;

/*
 * Value types (SPEC section 2).
 *
 *   kind             min, max               str          first, count
 *   ZT_TYPE_STRING   length in bytes        regex or ""  -
 *   ZT_TYPE_INT      value range            -            -
 *   ZT_TYPE_NUMBER   -                      -            -
 *   ZT_TYPE_BOOL     -                      -            -      ("true"/"false")
 *   ZT_TYPE_UUID     -                      -            -
 *   ZT_TYPE_ENUM     -                      -            LIST run of STR operands
 *   ZT_TYPE_ANY      -                      -            -      (query * any)
 *
 * A regex is kept as written between the slashes (for messages and dump);
 * it is anchored at both ends and matched through its compiled automaton:
 * dfa is the byte offset of its image in DFAS.  A STRING with a regex has
 * a dfa, every other type has ZT_NONE.
 */
enum {
    ZT_TYPE_STRING = 0, ZT_TYPE_INT, ZT_TYPE_NUMBER, ZT_TYPE_BOOL,
    ZT_TYPE_UUID, ZT_TYPE_ENUM, ZT_TYPE_ANY,
    ZT_TYPE__COUNT
};

typedef struct {
    uint32_t kind;          /* ZT_TYPE_* */
    uint32_t str;           /* STRING: regex source, or 0 */
    uint32_t first, count;  /* ENUM: LIST run */
    uint32_t dfa;           /* STRING with a regex: DFAS offset, 8-aligned;
                               else ZT_NONE */
    uint32_t reserved;      /* 0 */
    int64_t  min, max;      /* STRING: lengths; INT: values; min <= max */
} zt_type_rec_t;

enum { ZT_PARAM_QUERY = 0, ZT_PARAM_HEADER = 1 };
#define ZT_PARAM_OPTIONAL  0x1  /* may be absent */
#define ZT_PARAM_LIST      0x2  /* may repeat (query only) */

typedef struct {
    uint32_t where;         /* ZT_PARAM_* */
    uint32_t name;          /* str: query name as written; header name lower case */
    uint32_t type;          /* TYPE index */
    uint32_t flags;         /* ZT_PARAM_* flags */
} zt_param_rec_t;

enum { ZT_BODY_JSON = 0, ZT_BODY_XML = 1 };

typedef struct {
    uint32_t kind;          /* ZT_BODY_* */
    uint32_t max;           /* bytes, > 0 */
    uint32_t schema_off;    /* into BLOB, 8-aligned */
    uint32_t schema_len;    /* 0: no schema */
    uint32_t schema_name;   /* str: the schema file as written, or 0 */
    uint32_t root;          /* str: XML root element, or 0 */
} zt_body_rec_t;

typedef struct {
    uint32_t acr_first;     /* LIST run of STR operands: accepted acr values */
    uint32_t acr_count;     /* 0: any acr */
    uint32_t max_age;       /* seconds since auth_time; 0: no limit */
    uint32_t file;          /* str */
    uint32_t line;
    uint32_t reserved;      /* 0 */
} zt_stepup_rec_t;

enum { ZT_LIMIT_SUB = 0, ZT_LIMIT_AZP = 1, ZT_LIMIT_IP = 2 };

typedef struct {
    uint32_t count;         /* requests allowed per period, > 0 */
    uint32_t period;        /* seconds: 1, 60 or 3600 */
    uint32_t key;           /* ZT_LIMIT_* */
    uint32_t file;          /* str */
    uint32_t line;
    uint32_t reserved;      /* 0 */
} zt_limit_rec_t;

typedef struct {
    uint8_t  family;        /* 4 or 6 */
    uint8_t  prefix;        /* 0..32 or 0..128 */
    uint8_t  reserved[2];   /* 0 */
    uint8_t  addr[16];      /* network byte order; IPv4 in the first 4;
                               bits past the prefix are 0 */
} zt_cidr_rec_t;

enum { ZT_EFFECT_ALLOW = 0, ZT_EFFECT_DENY = 1 };
#define ZT_RULE_PUBLIC  0x1 /* allow without a token */

typedef struct {
    uint32_t effect;        /* ZT_EFFECT_* */
    uint32_t flags;         /* ZT_RULE_* */
    uint32_t cond;          /* root NODE index, or ZT_NONE = always */
    uint32_t file;          /* str: source file */
    uint32_t line;          /* source line */
    uint32_t text;          /* str: the rule's targets as written, for dump */
} zt_rule_rec_t;

/*
 * Condition opcodes.  a, b, c are read as the column says; "-" must be 0.
 *
 *   op              a           b            c        true when
 *   ZT_OP_TRUE      -           -            -        always
 *   ZT_OP_AND       node        node         -        a and b
 *   ZT_OP_OR        node        node         -        a or b
 *   ZT_OP_NOT       node        -            -        not a
 *   ZT_OP_EQ        opnd        opnd         -        both present, same type and value
 *   ZT_OP_NE        opnd        opnd         -        both present, differ
 *   ZT_OP_LT, _LE,  opnd        opnd         -        both integers, a < b (<=, >, >=)
 *   ZT_OP_GT, _GE
 *   ZT_OP_IN_CLAIM  opnd        opnd(set)    -        a equals an element of set b: a
 *                                                     TOKEN array, a word of a TOKEN
 *                                                     space-separated string, or one
 *                                                     of CERT_SAN
 *   ZT_OP_IN_LIST   opnd        LIST index   count    a equals one of the list; when a
 *                                                     is a set (TOKEN array, CERT_SAN),
 *                                                     some element of a does
 *   ZT_OP_IN_CIDR   opnd(IP)    CIDR index   count    the client address is in one of
 *                                                     the blocks (an IPv4-mapped IPv6
 *                                                     address counts as IPv4)
 *
 * A missing operand (absent claim, no token, no such capture, no client
 * certificate) makes every comparison false; NOT of it is then true, as in
 * Cedar and OPA.  Values are strings (compared by bytes and length),
 * integers and booleans; a claim of any other JSON type (null, real,
 * object, array) counts as missing, except as a set.  Values of different
 * types are never equal, so EQ is false and NE true; an ordering between
 * values that are not both integers is false.  An IN_LIST or IN_CIDR with
 * count 0 is false.
 */
enum {
    ZT_OP_TRUE = 0, ZT_OP_AND, ZT_OP_OR, ZT_OP_NOT,
    ZT_OP_EQ, ZT_OP_NE, ZT_OP_IN_CLAIM, ZT_OP_IN_LIST,
    ZT_OP_LT, ZT_OP_LE, ZT_OP_GT, ZT_OP_GE, ZT_OP_IN_CIDR,
    ZT_OP__COUNT
};

typedef struct {
    uint32_t op;            /* ZT_OP_* */
    uint32_t a, b, c;       /* as the opcode table says */
} zt_node_rec_t;

/*
 *   kind               str                      n       num    yields
 *   ZT_OPND_TOKEN      claim path, parts joined parts   -      the claim
 *                      by NUL: "realm_access\0roles"  (1..ZT_MAX_CLAIM_DEPTH)
 *   ZT_OPND_PATH       capture name             -       -      string
 *   ZT_OPND_STR        literal                  -       -      string
 *   ZT_OPND_INT        -                        -       value  integer
 *   ZT_OPND_BOOL       -                        -       0 or 1 boolean
 *   ZT_OPND_QUERY      parameter name           -       -      string (first value)
 *   ZT_OPND_HEADER     header name, lower case  -       -      string
 *   ZT_OPND_CLIENT_IP  -                        -       -      (IN_CIDR only)
 *   ZT_OPND_CERT       -                        -       -      boolean: a verified
 *                                                              client certificate
 *   ZT_OPND_CERT_SUBJECT -                      -       -      string (RFC 2253)
 *   ZT_OPND_CERT_SAN   -                        -       -      set of strings: DNS,
 *                                                              URI and e-mail SANs
 *   ZT_OPND_TLS_VERSION -                       -       -      string: "TLSv1.2",
 *                                                              "TLSv1.3"; missing on
 *                                                              plain HTTP
 *   ZT_OPND_TIME_HOUR  -                        -       -      integer 0..23 (UTC)
 *   ZT_OPND_TIME_WEEKDAY -                      -       -      string "mon".."sun" (UTC)
 *
 * zpc lowers an ordering on tls.version ("tls.version >= \"TLSv1.2\"") to
 * an IN_LIST of the versions that satisfy it.
 */
enum {
    ZT_OPND_TOKEN = 0, ZT_OPND_PATH, ZT_OPND_STR, ZT_OPND_INT, ZT_OPND_BOOL,
    ZT_OPND_QUERY, ZT_OPND_HEADER, ZT_OPND_CLIENT_IP, ZT_OPND_CERT,
    ZT_OPND_CERT_SUBJECT, ZT_OPND_CERT_SAN, ZT_OPND_TLS_VERSION,
    ZT_OPND_TIME_HOUR, ZT_OPND_TIME_WEEKDAY,
    ZT_OPND__COUNT
};

typedef struct {
    uint32_t kind;          /* ZT_OPND_* */
    uint32_t str;           /* str, or 0 */
    uint32_t n;             /* parts of a TOKEN path, else 0 */
    uint32_t reserved;      /* 0 */
    int64_t  num;           /* INT / BOOL value */
} zt_opnd_rec_t;

#endif /* ZT_FORMAT_H */
