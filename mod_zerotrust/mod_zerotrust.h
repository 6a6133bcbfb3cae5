/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file mod_zerotrust.h
 * @brief What the httpd glue files (mod_zerotrust.c, zt_config.c,
 *        zt_audit.c, zt_answer.c) share.  Only these files include httpd
 *        headers; the core (zt_table, zt_eval, zt_token, zt_policy) never.
 */
#ifndef MOD_ZEROTRUST_H
#define MOD_ZEROTRUST_H

/* configure passes PACKAGE_* with -D, and httpd's ap_config_auto.h defines
 * them again: forget ours, httpd's headers come first in every glue file. */
#undef PACKAGE_BUGREPORT
#undef PACKAGE_NAME
#undef PACKAGE_STRING
#undef PACKAGE_TARNAME
#undef PACKAGE_URL
#undef PACKAGE_VERSION

#include "httpd.h"
#include "http_config.h"

#include "zt_eval.h"
#include "zt_policy.h"
#include "zt_resource.h"
#include "zt_tcache.h"
#include "zt_token.h"
#include "zt_validate.h"

/**
 * Stable identifier of an error log message, in the manner of APLOGNO:
 * ZTLOGNO(00012) "denied ..." logs "ZT00012: denied ...".  The next free
 * number is in mod_zerotrust/next-number; test/guards/logno.sh refuses
 * duplicates.
 */
#define ZTLOGNO(n) "ZT" #n ": "

/** The auth type that `AuthType ZeroTrust` names (compared case-insensitively). */
#define ZT_AUTH_TYPE "ZeroTrust"

/** Per-directory configuration (<Directory>, <Location>, server defaults). */
typedef struct {
    const char *policy_path;        /**< absolute path of the table */
    const zt_policy_t *policy;      /**< verified at directive time, in pconf */
    unsigned int feeds;             /**< ZT_FEED_* the policy's table needs */
    apr_size_t token_max;           /**< ZeroTrustTokenMaxSize */
    apr_array_header_t *claim_headers; /**< zt_claim_header_t, or NULL */
    const zt_resource_t *resource;  /**< what the table says for RFC 9728
                                         metadata; set with policy */
    const char *resource_id;        /**< ZeroTrustResource URL, or NULL */
    const char *resource_metadata;  /**< ZeroTrustResourceMetadata URL, or
                                         NULL */
    unsigned int policy_set:1;
    unsigned int token_max_set:1;
    unsigned int require_tls:1;     /**< ZeroTrustRequireTLS (default on) */
    unsigned int require_tls_set:1;
} zt_dir_conf_t;

/** ZeroTrustClaimHeader CLAIM HEADER-NAME: a claim the backend receives. */
typedef struct {
    const char *header;             /**< validated RFC 9110 token */
    const char *env;                /**< the CGI variable httpd makes of it
                                         ("HTTP_X_USER"), or NULL: none */
    const char *path;               /**< claim names joined by NUL */
    uint32_t nparts;
} zt_claim_header_t;

/** Per-server configuration. */
typedef struct {
    const char *audit_log;          /**< "|program" or an absolute path */
    apr_file_t *audit_fd;           /**< opened in open_logs, or NULL */
    apr_size_t audit_buffer;        /**< ZeroTrustAuditBuffer bytes, 0: off
                                         (global: the main server's) */
    struct zt_abuf_s *audit_buf;    /**< this child's buffer, or NULL */
    unsigned int audit_log_set:1;
} zt_srv_conf_t;

/** The detail of the 403 answer to plain HTTP (ZeroTrustRequireTLS). */
#define ZT_DETAIL_TLS "This resource is only served over TLS (https)."

/** Stage of the pipeline that decided (audit "stage"). */
typedef enum {
    ZT_STAGE_CONFIG = 0,            /**< no usable configuration: 500 */
    ZT_STAGE_TRANSPORT,             /**< plain HTTP where TLS is required:
                                         403 */
    ZT_STAGE_ROUTE,
    ZT_STAGE_INPUT,                 /**< the query or the route's contract
                                         is broken: 400 */
    ZT_STAGE_TOKEN,
    ZT_STAGE_POLICY
} zt_stage_e;

/**
 * What the module knows about one request; kept in r->request_config and
 * allocated from r->pool.  The authn hook fills it once; the authz provider
 * and the error filter read it.
 */
typedef struct {
    apr_time_t t0;                  /**< when the pipeline started */
    const zt_policy_t *policy;
    int matched;                    /**< zt_route_match ran */
    zt_route_status_e route_status;
    unsigned int feeds;             /**< ZT_FEED_* (from the dir config) */
    int built;                      /**< facts are filled (zt_request_build) */
    const char *input_problem;      /**< why the query is refused, or NULL */
    int validated;                  /**< zt_validate_request ran */
    int invalid;                    /**< ... and @a violation says why */
    zt_request_t facts;             /**< what the evaluator may know */
    zt_decision_t decision;
    int done;                       /**< the authn pipeline has decided */
    int allowed;                    /**< ... and the answer is yes */
    int audited;                    /**< the audit record is written */
    char log_id[12];                /**< r->log_id, when the audit made it
                                         (zt_arec_id's 11 characters) */
    int status;                     /**< HTTP status we answered, or OK */
    int problem_status;             /**< error body is our problem+json */
    int answered;                   /**< httpd has answered the refusal
                                         itself (zt_body_refusal_t): the
                                         hooks return AP_FILTER_ERROR */
    zt_stage_e stage;
    const char *reason;             /**< short, stable: "expired", "no rule allows" */
    const char *sub;                /**< verified subject, or NULL */
    const char *iss;                /**< verified issuer's "iss", or NULL */
    const char *azp;                /**< verified "azp", or NULL */
    const zt_token_ids_t *ids;      /**< sub and azp measured once, when the
                                         token cache kept them, or NULL */
    int dpop;                       /**< Authorization used the DPoP scheme */
    const char *authorization;      /**< the first Authorization field's
                                         value, or NULL ... */
    int nauthorization;             /**< ... and how many there are: read
                                         once, in zt_req_get */
    int auth_type;                  /**< AuthType is ZeroTrust: 1 yes, 0 no,
                                         -1 not asked yet */
    struct zt_body_state_s *body;   /**< zt_body_filter.c's, or NULL */
    const struct zt_cert_s *cert;   /**< zt_cert_get's answer, once ... */
    int cert_known;                 /**< ... it has been asked */

    /* Not zeroed (zt_req_get): 900 bytes that are written before they
     * are read.  zt_route_match sets match's route and nseg and the nseg
     * segments, and only after @a matched is anything read; a violation
     * is written whole (zt_validate.c) and read only when @a invalid. */
    zt_match_t match;
    zt_violation_t violation;
} zt_req_t;

/** The bytes of a zt_req_t that start zeroed: all but match and
 *  violation, which must stay last (checked in mod_zerotrust.c). */
#define ZT_REQ_ZEROED offsetof(zt_req_t, match)

extern module AP_MODULE_DECLARE_DATA zerotrust_module;

/* zt_config.c: directives and config records. */
extern const command_rec zt_config_cmds[];
void *zt_config_create_dir(apr_pool_t *p, char *dir);
void *zt_config_merge_dir(apr_pool_t *p, void *basev, void *addv);
void *zt_config_create_srv(apr_pool_t *p, server_rec *s);
void *zt_config_merge_srv(apr_pool_t *p, void *basev, void *addv);
/** pre_config: forget the previous generation's bookkeeping. */
void zt_config_pre(apr_pool_t *pconf);
/** `Require zerotrust` parsed at @a cmd: remember it for zt_config_check.
 *  Returns the provider's parsed argument, which zt_config_require_alone
 *  reads. */
const void *zt_config_note_require(cmd_parms *cmd);
/** The `Require zerotrust` line whose parsed argument is @a parsed stands
 *  alone in its section, and no section of the configuration composes
 *  requirements (AuthMerging And/Or, Satisfy). */
int zt_config_require_alone(const void *parsed);
/** check_config: every `Require zerotrust` can find a policy. */
int zt_config_check(apr_pool_t *pconf, server_rec *s);
/** Start-up notes on the loaded policies (unusable keys), to the error log. */
void zt_config_post(server_rec *s);
/** child_init: start the key refresher of every loaded policy (zt_keys.h). */
void zt_config_child_keys(apr_pool_t *pchild, server_rec *s);
/** child_init: this process's verified-token cache, as ZeroTrustTokenCache says. */
void zt_config_child_init(apr_pool_t *pchild, server_rec *s);
/** This process's verified-token cache; NULL when off (or not in a child). */
zt_tcache_t *zt_config_tcache(void);

/** What a directive's number counts, and so how it is written. */
typedef enum {
    ZT_NUM_ENTRIES,                 /**< digits: "a number of entries" */
    ZT_NUM_SECONDS,                 /**< digits: "a number of seconds" */
    ZT_NUM_SIZE                     /**< bytes, or with K, M or G: "a size" */
} zt_num_kind_e;

/** A directive's numeric argument: its kind and range, and the words
 *  its error puts around it. */
typedef struct {
    zt_num_kind_e kind;
    uint64_t min, max;
    const char *label;              /**< which argument ("clock skew"), or
                                         NULL */
    const char *other;              /**< the word taken instead ("Off"), or
                                         NULL */
} zt_num_spec_t;

/**
 * Read @a arg, an argument of the directive @a cmd, as @a spec says
 * (zt_parse_number, zt_ascii.h).  NULL with *out set, or the directive's
 * error: "ZeroTrustX: [label ]'arg' is not [other or ]a number of entries
 * from MIN to MAX", sizes written with their K, M or G.
 */
const char *zt_config_number(cmd_parms *cmd, const char *arg,
                             const zt_num_spec_t *spec, uint64_t *out);

/** The bounds of a per-process cache (ZeroTrustTokenCache,
 *  ZeroTrustDPoPKeyCache).  0 is the cache's own default, which
 *  zt_tcache_create and zt_pkcache_create alone say. */
typedef struct {
    apr_size_t entries;
    apr_size_t bytes;
    int off;
} zt_cache_conf_t;

/**
 * Read a per-process cache's directive, "entries [max-bytes]" or "off",
 * into *c: global only, entries 16 to 1000000, max-bytes 64K to 1G and 0
 * (the default) when not given.  NULL, or the directive's error.
 */
const char *zt_config_cache(cmd_parms *cmd, const char *a1, const char *a2,
                            zt_cache_conf_t *c);

/** The @a i-th accepted acr value of step-up record @a st. */
static inline const char *zt_stepup_acr(const zt_table_t *t,
                                        const zt_stepup_rec_t *st, uint32_t i)
{
    return zt_table_str(t, t->opnds[t->lists[st->acr_first + i]].str);
}

/* zt_cert.c: the connection's verified client certificate, read once. */
/**
 * A verified client certificate as read from mod_ssl's SSL_CLIENT_CERT,
 * once per connection and certificate (in c->pool): what client.cert.*,
 * cnf.x5t#S256 and the audit record's cert_subject use.
 */
typedef struct zt_cert_s {
    const char *pem;                /**< as mod_ssl exported it (the key) */
    const char *subject;            /**< RFC 2253 as SSL_CLIENT_S_DN by
                                         default, or NULL: unreadable */
    const char *const *san;         /**< DNS, URI, e-mail SANs, in order */
    uint32_t nsan;
    const char *thumb;              /**< RFC 8705 x5t#S256: base64url of
                                         SHA-256 of the DER, or NULL:
                                         unreadable */
} zt_cert_t;
/** What the module keeps with a connection (its conn_config slot). */
typedef struct {
    const zt_cert_t *cert;          /**< zt_cert.c's record, or NULL */
    zt_tcache_memo_t token;         /**< the token cache entry the last
                                         request used (zt_tcache.h) */
    const char *cnf_jkt;            /**< that entry's cnf, as zt_bind.c */
    const char *cnf_x5t;            /**< read it once (token.note) */
    int cnf_rc;
} zt_conn_t;
/** @a c's record, made in c->pool on first use; the pool's cleanup lets
 *  the memo go. */
zt_conn_t *zt_conn_get(conn_rec *c);
/** 1 when mod_ssl verified a client certificate on @a r's connection
 *  (SSL_CLIENT_VERIFY "SUCCESS"; "GENEROUS" does not count). */
int zt_cert_verified(request_rec *r);
/** The verified client certificate's record, or NULL when there is none;
 *  asked of mod_ssl once per request. */
const zt_cert_t *zt_cert_get(request_rec *r);

/* zt_request.c: what the evaluator may know about a request. */
/** The table reads client.cert.subject or client.cert.san: the client
 *  certificate is parsed for them. */
#define ZT_FEED_CERT_NAMES  0x1
/** client.ip: the client's address parsed per request. */
#define ZT_FEED_CLIENT_IP   0x2
/** client.cert, client.cert.* or tls.version: mod_ssl is asked. */
#define ZT_FEED_TLS         0x4
/** The ZT_FEED_* bits @a t needs (scans its operands; at config time). */
unsigned int zt_request_feeds(const zt_table_t *t);
/**
 * Fill rq->facts from @a r once (the route must have matched): query,
 * headers, client address, TLS and client certificate, time.  Claims are
 * the caller's to set.  Returns NULL, or why the query string is refused
 * (a 400).
 */
const char *zt_request_build(request_rec *r, zt_req_t *rq);

/* zt_body_filter.c: request bodies against the route's `body` (zt_body.h). */
/** Why a body is refused: the status and the words for the log, the audit
 *  record and the answer (all printable ASCII). */
typedef struct {
    int status;                 /**< 400, 408, 413 or 415 */
    const char *reason;         /**< "body/items/0: found 0, expected ..." */
    const char *detail;         /**< the answer's detail */
    const char *name;           /**< "body" or "header.content-type" */
    const char *why;            /**< "found ..., expected ..." */
    const char *pointer;        /**< JSON pointer or XML element path, or NULL */
    long line;                  /**< XML: line of the fault, or 0 */
    int answered;               /**< httpd answered it itself, as it read
                                     the body (LimitRequestBody, a bad
                                     chunk): status is what it sent, and
                                     no answer of ours follows */
} zt_body_refusal_t;
/**
 * What the headers alone say of the body (presence, media type,
 * Content-Length against max; a body on a route that declares none), with
 * the other input checks, before any token.  NULL when nothing is wrong.
 */
const zt_body_refusal_t *zt_body_head(request_rec *r, zt_req_t *rq);
/**
 * Once the request is allowed: read the body (counting: 413 past max,
 * chunked too), validate it (400), and arrange that the next reader gets
 * exactly those bytes.  NULL when the body is fine (or there is none).
 */
const zt_body_refusal_t *zt_body_read(request_rec *r, zt_req_t *rq);
/**
 * The request is refused and its body, if it has one, was not read (a
 * route, input, token or policy refusal): close the connection after the
 * answer, so that httpd does not read the body to keep it open.
 */
void zt_body_unread(request_rec *r, const zt_req_t *rq);
/** Register the ZEROTRUST_BODY input filter; libxml2's initialisation. */
void zt_body_register_hooks(apr_pool_t *p);

/* zt_audit.c: one JSON line per decision. */
/** A policy just loaded: what its records can know of it, measured once
 *  (in @a p, the policy's pool). */
void zt_audit_prepare(zt_policy_t *policy, apr_pool_t *p);
/** open_logs: open every server's ZeroTrustAuditLog. */
int zt_audit_open(apr_pool_t *pconf, server_rec *s);
/** Write the audit record of @a rq (once; later calls do nothing). */
void zt_audit_write(request_rec *r, zt_req_t *rq);
/** child_init: this process's buffers (ZeroTrustAuditBuffer), flushed
 *  when @a pchild is cleared. */
void zt_audit_child_init(apr_pool_t *pchild, server_rec *s);
/** child_stopping: write what the buffers hold. */
void zt_audit_child_stopping(server_rec *s);

/* zt_answer.c: the HTTP answers of SPEC section 6. */
/**
 * Prepare the error answer @a status (401, 403, 404, 500) with a
 * problem+json body whose detail is @a detail, and return @a status.
 */
int zt_answer_problem(request_rec *r, zt_req_t *rq, int status,
                      const char *detail);
/**
 * For a handler: send the problem+json answer @a status with @a detail as
 * the response itself (r->status, content type, body) and return OK, for
 * the handler to return.  (@a status when the body cannot be built.)
 */
int zt_answer_handler_problem(request_rec *r, int status, const char *detail);
/**
 * Prepare the 400 answer: a problem+json body whose detail is @a detail,
 * with the RFC 9457 extension member "invalid-params": [{"name": @a name,
 * "reason": @a reason}] ("query.limit"; both ASCII), and return 400.
 */
int zt_answer_invalid(request_rec *r, zt_req_t *rq, const char *detail,
                      const char *name, const char *reason);
/**
 * The answer to a refused body (@a x: 400, 408, 413 or 415): problem+json
 * with "invalid-params": [{"name", "reason", and "pointer" (JSON) or
 * "element" and "line" (XML) when known}].  Returns x->status.
 */
int zt_answer_body_refusal(request_rec *r, zt_req_t *rq,
                           const zt_body_refusal_t *x);
/**
 * Add `WWW-Authenticate: Bearer realm="..."` and, when @a error is not
 * NULL, error="..." and error_description="..." (RFC 6750).
 */
void zt_answer_challenge(request_rec *r, const zt_req_t *rq,
                         const char *error, const char *description);
/**
 * The step-up answer of RFC 9470: `WWW-Authenticate: Bearer realm="...",
 * error="insufficient_user_authentication", error_description="...",
 * acr_values="a b", max_age="N"` for the STEP record @a stepup (acr_values
 * and max_age only when the record sets them).
 */
void zt_answer_stepup(request_rec *r, const zt_req_t *rq, uint32_t stepup,
                      const char *description);
/** Register the error filter and the insert_error_filter hook. */
void zt_answer_register_hooks(apr_pool_t *p);

/* zt_bind.c: sender-constrained tokens (RFC 9449 DPoP, RFC 8705 mTLS). */
/** Why zt_bind_check refused a verified token. */
typedef struct {
    int status;                     /**< 401, or 503 (replay cache full) */
    const char *error;              /**< "invalid_token", "invalid_dpop_proof",
                                         or NULL (503) */
    const char *reason;             /**< audit reason: "dpop_replay", ... */
    const char *description;        /**< for the client and the log */
} zt_bind_refusal_t;
/**
 * The token's binding (cnf) against the request: a DPoP proof, the
 * client certificate, the issuer's `binding`.  1 when it holds, else 0
 * with *out filled; the caller answers.  @a memo: @a tok is the entry
 * the connection's token memo holds (zt_conn_t), whose cnf is then read
 * once for all its requests.
 */
int zt_bind_check(request_rec *r, zt_req_t *rq, const zt_token_t *tok,
                  int memo, const char *jwt, apr_size_t len,
                  zt_bind_refusal_t *out);
/** The DPoP proof algorithms accepted, space-separated (the algs= of
 *  DPoP challenges), made once in post_config. */
const char *zt_bind_algs(void);
/** The same set as ZT_ALG_* bits (the resource metadata's
 *  dpop_signing_alg_values_supported). */
uint32_t zt_bind_alg_mask(void);
void zt_bind_pre_config(apr_pool_t *pconf);
/** post_config: the shared DPoP replay cache. */
int zt_bind_post_config(apr_pool_t *pconf, server_rec *s);
/** child_init: this process's DPoP proof-key cache (zt_pkcache.h). */
void zt_bind_child_init(apr_pool_t *pchild, server_rec *s);
const char *zt_bind_set_algs(cmd_parms *cmd, void *dconf, const char *args);
const char *zt_bind_set_max_age(cmd_parms *cmd, void *dconf, const char *age,
                                const char *skew);
const char *zt_bind_set_replay(cmd_parms *cmd, void *dconf, const char *arg);
const char *zt_bind_set_nonce(cmd_parms *cmd, void *dconf, const char *flag,
                              const char *period);
const char *zt_bind_set_key_cache(cmd_parms *cmd, void *dconf, const char *a1,
                                  const char *a2);
/** ZeroTrustRequireTLS: 1 when @a r may be served (TLS, or the directive
 *  is off); the API and the metadata handler share the rule. */
int zt_transport_ok(request_rec *r, const zt_dir_conf_t *conf);

/** Before a decision: remove every incoming header a ZeroTrustClaimHeader
 *  names, where the header_parser hook has not (subrequests, internal
 *  redirects; zt_identity.c). */
void zt_identity_strip(request_rec *r, const zt_dir_conf_t *conf);

/* zt_metadata.c: the RFC 9728 metadata handler. */
/** The handler name: `SetHandler zerotrust-metadata`. */
#define ZT_METADATA_HANDLER "zerotrust-metadata"
/** Register the zerotrust-metadata handler. */
void zt_metadata_register_hooks(apr_pool_t *p);

/** Register the header_parser hook that strips configured claim headers
 *  from every main request (zt_identity.c). */
void zt_identity_register_hooks(apr_pool_t *p);

/** Set the configured claim headers from a verified token's @a claims. */
void zt_identity_set(request_rec *r, const zt_dir_conf_t *conf,
                     const zt_claims_t *claims);

#endif /* MOD_ZEROTRUST_H */
