/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The audit log: one JSON object per line, per decision (SPEC section 7).
 *
 * A record is written by hand into one buffer (on the stack, or in
 * r->pool when a long path does not fit) and handed to the kernel with
 * one write(2); no JSON tree and no malloc per request.  Every string is
 * escaped strictly (zt_jescape.h), so that a line holds printable ASCII
 * only.  Request data need not be UTF-8 (a path may carry any decoded
 * byte): a string that is not is written with each byte above 0x7F as
 * the four characters \xHH, so the record stays valid JSON and keeps
 * what the client sent.
 *
 * Lines of concurrent threads and processes never interleave:
 * - a file is opened O_APPEND and unbuffered, so each record is one
 *   write(2), which Linux performs at the end of the file under the
 *   inode's lock: concurrent appends land whole, one after the other,
 *   whatever their size (on local filesystems; NFS does not promise it).
 *   No lock of ours is taken;
 * - a pipe (ap_open_piped_log_ex, blocking) takes a write of at most
 *   PIPE_BUF bytes (4096 on Linux) at once, but a longer one (a long
 *   path, escaped) is split when the pipe is full, and any other
 *   writer's record, short ones too, can land between its parts.  So
 *   every record to a pipe is written holding one global mutex (a
 *   process-shared pthread mutex: an atomic instruction when free).
 * APR_FOPEN_XTHREAD is not asked for: it only adds a mutex around APR's
 * own buffer, and the file is not buffered.
 *
 * With ZeroTrustAuditBuffer each child keeps its records in a buffer of
 * its own (zt_abuf.h: whole records under a thread mutex) and writes them
 * as one run, by the same rules: one write(2) to a file, under the global
 * mutex to a pipe.  Records of different children then land run by run,
 * not in time order; each stays whole.
 */

#include "mod_zerotrust.h"

#include <errno.h>
#include <string.h>

#include <unistd.h>

#include <apr_global_mutex.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_ssl.h"
#include "zt_abuf.h"
#include "zt_arec.h"
#include "zt_ascii.h"
#include "zt_jescape.h"
#include "zt_word.h"


APLOG_USE_MODULE(zerotrust);

/* Bytes of a record built on the stack: a typical one takes 400, and
 * room is made for its strings escaped at the most (zt_audit_texts). */
#define ZT_AUDIT_STACK 4096

/* Serialises the records written to pipes; NULL when no audit log of
 * this generation is a pipe.  Created in the parent before the children
 * fork, in pconf. */
static apr_global_mutex_t *zt_audit_pipe_lock;

static int zt_audit_is_pipe(const char *log)
{
    return log[0] == '|';
}

/*
** The lock for records on pipes.  A process-shared pthread mutex (APR's
** default on Linux) lives in memory the children inherit, and APR makes
** it robust: a child that dies holding it does not block the others.
** Each child still takes its reference (zt_audit_child_init): APR counts
** them, and without one a graceful restart, which clears the parent's
** pconf while the old children finish, destroys the mutex under them
** (their next lock fails with EINVAL and the record is lost).
*/
static apr_status_t zt_audit_lock_create(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    if (zt_audit_pipe_lock) {
        return APR_SUCCESS;
    }
#if APR_HAS_PROC_PTHREAD_SERIALIZE
    rv = apr_global_mutex_create(&zt_audit_pipe_lock, NULL,
                                 APR_LOCK_PROC_PTHREAD, p);
#else
    rv = apr_global_mutex_create(&zt_audit_pipe_lock, NULL,
                                 APR_LOCK_SYSVSEM, p);
#endif
    if (rv != APR_SUCCESS) {
        zt_audit_pipe_lock = NULL;
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, rv, s,
                     ZTLOGNO(00035) "ZeroTrustAuditLog: cannot create the "
                     "lock that keeps records whole on a pipe");
    }
    return rv;
}

static apr_status_t zt_audit_open_one(apr_pool_t *p, server_rec *s,
                                      zt_srv_conf_t *conf)
{
    apr_status_t rv;

    if (zt_audit_is_pipe(conf->audit_log)) {
        /* As CustomLog: "|prog" and "||prog" run the program directly,
         * "|$command" through the shell. */
        const char *prog = conf->audit_log + 1;
        apr_cmdtype_e type = APR_PROGRAM_ENV;
        piped_log *pl;

        if ((rv = zt_audit_lock_create(p, s)) != APR_SUCCESS) {
            return rv;
        }
        if (*prog == '|') {
            prog++;
        }
        else if (*prog == '$') {
            type = APR_SHELLCMD_ENV;
            prog++;
        }
        pl = ap_open_piped_log_ex(p, prog, type);
        if (!pl) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, 0, s,
                         ZTLOGNO(00015) "ZeroTrustAuditLog: cannot start the "
                         "piped log program '%s'", prog);
            return APR_EGENERAL;
        }
        conf->audit_fd = ap_piped_log_write_fd(pl);
        return APR_SUCCESS;
    }
    rv = apr_file_open(&conf->audit_fd, conf->audit_log,
                       APR_FOPEN_WRITE | APR_FOPEN_APPEND | APR_FOPEN_CREATE
                       | APR_FOPEN_LARGEFILE,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD,
                       p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, rv, s,
                     ZTLOGNO(00010) "ZeroTrustAuditLog: cannot open '%s'",
                     conf->audit_log);
    }
    return rv;
}

/*
** open_logs: like mod_log_config, the parent opens the logs (as root) and
** the children inherit them.  A virtual host that names the same log as
** the main server (or inherits it) shares its descriptor.
*/
int zt_audit_open(apr_pool_t *pconf, server_rec *s)
{
    zt_srv_conf_t *main_conf = ap_get_module_config(s->module_config,
                                                    &zerotrust_module);
    server_rec *vs;

    zt_audit_pipe_lock = NULL;          /* the last one went with pconf */
    if (main_conf->audit_log
        && zt_audit_open_one(pconf, s, main_conf) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (vs = s->next; vs; vs = vs->next) {
        zt_srv_conf_t *conf = ap_get_module_config(vs->module_config,
                                                   &zerotrust_module);

        if (!conf->audit_log) {
            continue;
        }
        if (main_conf->audit_fd && !strcmp(conf->audit_log,
                                           main_conf->audit_log)) {
            conf->audit_fd = main_conf->audit_fd;
        }
        else if (zt_audit_open_one(pconf, vs, conf) != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* ------------------------------------------------------------------------
 * The record's text
 *
 * Written in one pass into one buffer: the lengths of its strings are
 * known first (zt_audit_texts), which bounds the record, so the buffer is
 * sized once and nothing is checked or grown field by field.
 */

/* A record's bytes besides its escaped strings: the keys, punctuation,
 * quotes or nulls, the time, the policy hash, three integers and the
 * stage come to 413 at the most. */
#define ZT_AUDIT_FIXED 512

/* A string of the record and its length; NULL is written null.  A plain
 * one is known to need no escape (an id of ours, a string of a table
 * whose pool needs none). */
typedef struct {
    const char *s;
    apr_size_t n;
    int plain;
} zt_text_t;

static inline zt_text_t zt_text(const char *s)
{
    zt_text_t t = { s, s ? strlen(s) : 0, 0 };

    return t;
}

static inline char *zt_put(char *o, const char *s, apr_size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

/* A literal: a key with its punctuation, "true", "null". */
#define zt_put_lit(o, s) zt_put((o), (s), sizeof(s) - 1)

/* @a n plain bytes: under 16, as one or two words that may overlap (or
 * zt_load_n's pieces), without a call; up to 8 bytes past them may be
 * written, which the room of their escape (ZT_JSON_ESCAPE_ROOM) holds. */
static inline char *zt_put_plain(char *o, const char *s, apr_size_t n)
{
    if (n >= 16) {
        return zt_put(o, s, n);
    }
    if (n >= 8) {
        zt_store8(o + n - 8, zt_load8(s + n - 8));
        zt_store8(o, zt_load8(s));
    }
    else {
        zt_store8(o, zt_load_n(s, n));
    }
    return o + n;
}

/* The characters of a JSON string: @a t escaped (zt_jescape.h), or as it
 * is when plain. */
static inline char *zt_put_chars(char *o, zt_text_t t)
{
    return t.plain ? zt_put_plain(o, t.s, t.n) : zt_json_escape(o, t.s, t.n);
}

/* A JSON string, or null. */
static inline char *zt_put_str(char *o, zt_text_t t)
{
    if (!t.s) {
        return zt_put_lit(o, "null");
    }
    *o++ = '"';
    o = zt_put_chars(o, t);
    *o++ = '"';
    return o;
}

/* ,"key":"value" (or null) */
#define zt_put_field(o, key, t) \
    zt_put_str(zt_put_lit((o), ",\"" key "\":"), (t))

/* ------------------------------------------------------------------------
 * The record's fields
 */

/* The stage's name, quoted. */
static char *zt_audit_stage(char *o, zt_stage_e stage)
{
    switch (stage) {
    case ZT_STAGE_TRANSPORT: return zt_put_lit(o, "\"transport\"");
    case ZT_STAGE_ROUTE:  return zt_put_lit(o, "\"route\"");
    case ZT_STAGE_INPUT:  return zt_put_lit(o, "\"input\"");
    case ZT_STAGE_TOKEN:  return zt_put_lit(o, "\"token\"");
    case ZT_STAGE_POLICY: return zt_put_lit(o, "\"policy\"");
    case ZT_STAGE_CONFIG: break;
    }
    return zt_put_lit(o, "\"config\"");
}

/* This child's process id, read once (child_init): httpd's core makes
 * each log id with a getpid(2), a system call per request.  Nonzero only
 * when the core is the one module that makes log ids. */
static apr_uint64_t zt_audit_pid;

static void zt_audit_ids_init(void)
{
    apr_array_header_t *hooks = ap_hook_get_generate_log_id();

    zt_audit_pid = hooks && hooks->nelts == 1 ? (apr_uint64_t)getpid() : 0;
}

/*
** The id httpd's core would make (request time, process and thread mixed
** into 64 bits, base64 without the padding): the same 11 characters the
** error log's %L shows, with the process id read once.  Written in the
** request's state (@a rq, in r->pool), which r->log_id then points to.
*/
_Static_assert(sizeof(((zt_req_t *)0)->log_id) == ZT_AREC_ID_LEN + 1,
               "zt_req_t.log_id holds zt_arec_id's characters and a NUL");

static const char *zt_audit_core_id(request_rec *r, zt_req_t *rq)
{
    apr_uint64_t id = (apr_uint64_t)r->request_time;
    char *out = rq->log_id;     /* as long-lived as r: in r->pool */

    id ^= zt_audit_pid << 40;
    id ^= (zt_audit_pid >> 24) << 56;
#if APR_HAS_THREADS
    id ^= (apr_uint64_t)(apr_uintptr_t)r->connection->current_thread << 32;
#endif
    zt_arec_id(out, id);
    out[ZT_AREC_ID_LEN] = '\0';
    return out;
}

static zt_text_t zt_audit_request_id(request_rec *r, zt_req_t *rq)
{
    /* Whoever set it: mod_unique_id, or SetEnvIf / mod_rewrite passing on
     * a front end's request id, which operators correlate by. */
    const char *id = apr_table_get(r->subprocess_env, "UNIQUE_ID");

    if (id) {
        return zt_text(id);
    }
    if (!r->log_id) {
        /* As the error log's %L does: the id then appears in both logs. */
        const char *gen = NULL;

        if (zt_audit_pid) {
            /* base64: nothing to escape */
            zt_text_t t = { zt_audit_core_id(r, rq), ZT_AREC_ID_LEN, 1 };

            r->log_id = t.s;
            return t;
        }
        if (ap_run_generate_log_id(r->connection, r, &gen) == OK && gen) {
            r->log_id = gen;
        }
    }
    return zt_text(r->log_id);
}

/*
** The subject of the client certificate mod_ssl verified, RFC 2253, or
** NULL: the connection's record of it (zt_cert.c), the string
** client.cert.subject sees; mod_ssl's own when the record has none.
*/
static const char *zt_audit_cert_subject(request_rec *r, const zt_req_t *rq)
{
    const zt_cert_t *cert = zt_cert_get(r);

    if (cert == NULL) {
        return NULL;
    }
    if (cert->subject != NULL) {
        return cert->subject;
    }
    return ap_ssl_var_lookup(r->pool, r->server, r->connection, r,
                             "SSL_CLIENT_S_DN");
}

/* Strings of a table the record may write, known by their address. */
#define ZT_AUDIT_KNOWN 16

/*
** What the record needs of a table's strings, measured once when the
** table is loaded: whether any needs an escape, the length of each
** route's pattern, and of the issuers' "iss" (a few distinct strings).  Each spares a strlen (~16 instructions) and a
** test of where the string lies per record.
*/
struct zt_audit_tab_s {
    int plain;                  /* no string of the table needs an escape */
    const uint32_t *route_len;  /* nroutes lengths of the patterns */
    uint32_t nknown;
    const char *known[ZT_AUDIT_KNOWN];
    uint32_t known_len[ZT_AUDIT_KNOWN];
};

/* Add table string @a s to @a a's known ones, if it is not and there is
 * room (a table of many issuers: the others are measured per record). */
static void zt_audit_know(struct zt_audit_tab_s *a, const char *s)
{
    for (uint32_t i = 0; i < a->nknown; i++) {
        if (a->known[i] == s) {
            return;
        }
    }
    if (a->nknown < ZT_AUDIT_KNOWN) {
        a->known[a->nknown] = s;
        a->known_len[a->nknown++] = (uint32_t)strlen(s);
    }
}

void zt_audit_prepare(zt_policy_t *policy, apr_pool_t *p)
{
    const zt_table_t *t = policy->table;
    struct zt_audit_tab_s *a = apr_pcalloc(p, sizeof(*a));
    uint32_t *route_len = apr_palloc(p, (t->nroutes ? t->nroutes : 1)
                                        * sizeof(*route_len));

    a->plain = zt_json_plain_strings(t->strs, t->strs_len);
    for (uint32_t i = 0; i < t->nroutes; i++) {
        route_len[i] = (uint32_t)strlen(zt_table_str(t, t->routes[i].pattern));
    }
    a->route_len = route_len;
    for (uint32_t i = 0; i < t->nissuers; i++) {
        zt_audit_know(a, zt_table_str(t, t->issuers[i].iss));
    }
    policy->audit = a;
}

/* A string of @a pol's table, @a n its length: plain when the table's
 * strings all are (zt_audit_prepare). */
static inline zt_text_t zt_audit_tab_text(const zt_policy_t *pol,
                                          const char *s, apr_size_t n)
{
    zt_text_t x = { s, n, pol->audit->plain };

    return x;
}

/*
** @a s, the issuer's "iss" when the token was verified under this table:
** its length known when it is one zt_audit_prepare measured.  Whether it lies in the table is checked, not assumed.
*/
static inline zt_text_t zt_audit_table_text(const zt_policy_t *pol,
                                            const char *s)
{
    const struct zt_audit_tab_s *a;
    zt_text_t x;

    if (s == NULL || pol == NULL || (a = pol->audit) == NULL) {
        return zt_text(s);
    }
    for (uint32_t i = 0; i < a->nknown; i++) {
        if (a->known[i] == s) {
            return zt_audit_tab_text(pol, s, a->known_len[i]);
        }
    }
    x = zt_text(s);
    x.plain = a->plain && (uintptr_t)s - (uintptr_t)pol->table->strs
                          < pol->table->strs_len;
    return x;
}

/* @a s, the token's sub or azp: plain, its length known, when the token
 * cache measured it (@a plain is it) and it is still the request's. */
static inline zt_text_t zt_audit_claim_text(const char *s, const char *plain,
                                            uint32_t len)
{
    zt_text_t x = { s, len, 1 };

    return s != NULL && s == plain ? x : zt_text(s);
}

/*
** The method: one of capital letters only (every method httpd knows, and
** most extension ones) is plain, and counting them is its strlen, so the
** common one costs a short loop (the NUL ends it as any other byte that
** is no capital does) instead of strlen and zt_json_escape.  Anything
** else is measured and escaped as any text.
*/
static inline zt_text_t zt_audit_method(const char *m)
{
    zt_text_t x = { m, 0, 1 };

    if (m == NULL) {
        return zt_text(NULL);
    }
    while ((unsigned)((unsigned char)m[x.n] - 'A') <= 'Z' - 'A') {
        x.n++;
    }
    return m[x.n] == '\0' ? x : zt_text(m);
}

/* The strings of a record, in SPEC order; rule is NULL when the rule is
 * null. */
typedef struct {
    zt_text_t request_id, client_ip, method, path, route, sub, iss, azp,
              reason, rule, cert_subject;
    const zt_token_ids_t *ids;  /* sub, iss, azp as the token cache wrote
                                   them, or NULL */
} zt_audit_texts_t;

/* The record's strings and their lengths; returns the bytes the record
 * can take at most. */
static apr_size_t zt_audit_texts(zt_audit_texts_t *x, request_rec *r,
                                 zt_req_t *rq, int tls)
{
    const zt_policy_t *pol = rq->policy;
    const zt_table_t *t = pol ? pol->table : NULL;

    x->request_id = zt_audit_request_id(r, rq);
    x->client_ip = zt_text(r->useragent_ip);
    x->method = zt_audit_method(r->method);
    x->path = zt_text(r->uri);
    if (t && rq->matched && rq->route_status == ZT_ROUTE_OK) {
        uint32_t i = rq->match.route;
        const char *pattern = zt_table_str(t, t->routes[i].pattern);

        x->route = zt_audit_tab_text(pol, pattern, pol->audit->route_len[i]);
    }
    else {
        x->route = zt_text(NULL);
    }
    x->ids = NULL;
    if (rq->ids != NULL && rq->ids->fields != NULL && rq->sub == rq->ids->sub
        && rq->azp == rq->ids->azp && rq->iss == rq->ids->iss) {
        /* the very strings the cache wrote: copied whole, counted once */
        x->ids = rq->ids;
        x->sub = x->iss = x->azp = zt_text(NULL);
    }
    else {
        if (rq->ids != NULL) {
            x->sub = zt_audit_claim_text(rq->sub, rq->ids->sub,
                                         rq->ids->sub_len);
            x->azp = zt_audit_claim_text(rq->azp, rq->ids->azp,
                                         rq->ids->azp_len);
        }
        else {
            x->sub = zt_text(rq->sub);
            x->azp = zt_text(rq->azp);
        }
        x->iss = zt_audit_table_text(pol, rq->iss);
    }
    x->reason = zt_text(rq->reason);
    if (t && rq->stage == ZT_STAGE_POLICY && rq->decision.rule != ZT_NONE) {
        /* the policy's "file:line" (ZT_RULE's too): as plain as the file */
        x->rule = zt_audit_tab_text(pol, zt_policy_rule_where(pol, rq->decision.rule),
                                    zt_policy_rule_where_len(pol, rq->decision.rule));
    }
    else {
        x->rule = zt_text(NULL);
    }
    x->cert_subject = zt_text(tls ? zt_audit_cert_subject(r, rq) : NULL);
    /* written one after the other, each string within its own room */
    return ZT_AUDIT_FIXED + ZT_JSON_ESCAPE_ROOM(
               x->request_id.n + x->client_ip.n + x->method.n + x->path.n
               + x->route.n + x->sub.n + x->iss.n + x->azp.n + x->reason.n
               + x->rule.n + x->cert_subject.n)
           + (x->ids != NULL ? x->ids->fields_len : 0);
}

/* The whole record at @a o, its fields in SPEC order, and the newline;
 * returns its end. */
static char *zt_audit_record(char *o, const zt_audit_texts_t *x,
                             request_rec *r, const zt_req_t *rq, int tls)
{
    const zt_table_t *t = rq->policy ? rq->policy->table : NULL;

    o = zt_put_lit(o, "{\"time\":");
    o = zt_arec_time(o, r->request_time);
    o = zt_put_lit(o, ",\"request_id\":");
    o = zt_put_str(o, x->request_id);
    o = zt_put_field(o, "client_ip", x->client_ip);
    o = zt_put_field(o, "method", x->method);
    o = zt_put_field(o, "path", x->path);
    o = zt_put_field(o, "route", x->route);
    if (x->ids != NULL) {
        o = zt_put(o, x->ids->fields, x->ids->fields_len);
    }
    else {
        o = zt_put_field(o, "sub", x->sub);
        o = zt_put_field(o, "iss", x->iss);
        o = zt_put_field(o, "azp", x->azp);
    }
    if (rq->allowed && rq->stage == ZT_STAGE_POLICY) {
        /* what every allowed request writes, as one block */
        o = zt_put_lit(o, ",\"decision\":\"allow\",\"status\":200"
                          ",\"stage\":\"policy\"");
    }
    else {
        if (rq->allowed) {
            o = zt_put_lit(o, ",\"decision\":\"allow\",\"status\":200");
        }
        else {
            o = zt_put_lit(o, ",\"decision\":\"deny\",\"status\":");
            o = zt_put_decimal(o, rq->status);
        }
        o = zt_put_lit(o, ",\"stage\":");
        o = zt_audit_stage(o, rq->stage);
    }
    o = zt_put_field(o, "reason", x->reason);
    o = zt_put_field(o, "rule", x->rule);
    o = zt_put_lit(o, ",\"policy\":");
    if (t) {
        /* hexadecimal digits: nothing to escape */
        zt_text_t hash = { t->hash_hex, sizeof(t->hash_hex) - 1, 1 };
        o = zt_put_str(o, hash);
    }
    else {
        o = zt_put_lit(o, "null");
    }
    if (tls) {
        o = zt_put_lit(o, ",\"tls\":true,\"cert_subject\":");
        o = zt_put_str(o, x->cert_subject);
        o = zt_put_lit(o, ",\"latency_us\":");
    }
    else {
        /* no TLS, no certificate (zt_audit_texts) */
        o = zt_put_lit(o, ",\"tls\":false,\"cert_subject\":null"
                          ",\"latency_us\":");
    }
    o = zt_put_decimal(o, apr_time_now() - rq->t0);
    return zt_put_lit(o, "}\n");
}

/* ------------------------------------------------------------------------
 * Writing it
 */

/*
** One write(2) of the whole record, on the descriptor itself: the file is
** unbuffered, so apr_file_write would only add its checks (~30
** instructions).  A short write (a full disk, a signal), and any error
** but EINTR, is left to apr_file_write_full, which finishes the line or
** says why it cannot (and waits, should a pipe ever be non-blocking).
*/
static apr_status_t zt_audit_put(apr_file_t *fd, const char *line,
                                 apr_size_t len)
{
    apr_os_file_t os;
    ssize_t n;

    if (apr_os_file_get(&os, fd) == APR_SUCCESS) {
        do {
            n = write(os, line, len);
        } while (n < 0 && errno == EINTR);
        if (n > 0) {
            if ((apr_size_t)n == len) {
                return APR_SUCCESS;
            }
            line += n;
            len -= (apr_size_t)n;
        }
    }
    return apr_file_write_full(fd, line, len, NULL);
}

/* Whole records to @a conf's log: to a pipe under the lock, to a file as
 * they are (O_APPEND). */
static apr_status_t zt_audit_emit(const zt_srv_conf_t *conf,
                                  const char *data, apr_size_t len)
{
    apr_status_t rv;

    if (zt_audit_is_pipe(conf->audit_log) && zt_audit_pipe_lock) {
        if ((rv = apr_global_mutex_lock(zt_audit_pipe_lock)) == APR_SUCCESS) {
            rv = zt_audit_put(conf->audit_fd, data, len);
            apr_global_mutex_unlock(zt_audit_pipe_lock);
        }
        return rv;
    }
    return zt_audit_put(conf->audit_fd, data, len);
}

/* ------------------------------------------------------------------------
 * ZeroTrustAuditBuffer: records kept per child, written in runs
 */

/* A buffered record goes out at the first record that finds it this old
 * (or when the buffer is full, or the child ends). */
#define ZT_AUDIT_MAX_AGE apr_time_from_sec(1)

/* Where a buffer's runs of records go. */
typedef struct {
    server_rec *s;
    const zt_srv_conf_t *conf;
} zt_audit_sink_t;

/* The buffer's writer: the records of many requests, so a failure is
 * logged here, once, against the server (zt_abuf.h drops the run). */
static apr_status_t zt_audit_sink_write(void *ctx, const char *data,
                                        apr_size_t len)
{
    const zt_audit_sink_t *sink = ctx;
    apr_status_t rv = zt_audit_emit(sink->conf, data, len);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, sink->s, ZTLOGNO(00063)
                     "cannot write %" APR_SIZE_T_FMT " bytes of buffered "
                     "records to ZeroTrustAuditLog %s; they are lost",
                     len, sink->conf->audit_log);
    }
    return rv;
}

static zt_abuf_t *zt_audit_buffer_make(apr_pool_t *pchild, server_rec *s,
                                       zt_srv_conf_t *conf, apr_size_t size)
{
    zt_audit_sink_t *sink = apr_palloc(pchild, sizeof(*sink));
    zt_abuf_t *buf;
    apr_status_t rv;

    sink->s = s;
    sink->conf = conf;
    rv = zt_abuf_create(&buf, pchild, size, ZT_AUDIT_MAX_AGE,
                        zt_audit_sink_write, sink);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, ZTLOGNO(00064)
                     "ZeroTrustAuditBuffer: this process cannot make its "
                     "buffer for %s; its records are written one by one",
                     conf->audit_log);
        return NULL;
    }
    return buf;
}

/*
** child_init: one buffer per log and process; a virtual host that shares
** the main server's descriptor shares its buffer too.  The buffers live in
** pchild, whose cleanup (the child's exit, after a graceful restart or
** stop too) writes what they hold.
*/
void zt_audit_child_init(apr_pool_t *pchild, server_rec *s)
{
    zt_srv_conf_t *main_conf = ap_get_module_config(s->module_config,
                                                    &zerotrust_module);
    apr_size_t size = main_conf->audit_buffer;
    server_rec *vs;

    zt_audit_ids_init();
    if (zt_audit_pipe_lock) {
        /* Before the buffers: their cleanups, run first, still lock. */
        apr_global_mutex_child_init(&zt_audit_pipe_lock, NULL, pchild);
    }
    for (vs = s; vs; vs = vs->next) {
        zt_srv_conf_t *conf = ap_get_module_config(vs->module_config,
                                                   &zerotrust_module);

        conf->audit_buf = NULL;
        if (!size || !conf->audit_fd) {
            continue;
        }
        if (vs != s && conf->audit_fd == main_conf->audit_fd) {
            conf->audit_buf = main_conf->audit_buf;
        }
        else {
            conf->audit_buf = zt_audit_buffer_make(pchild, vs, conf, size);
        }
    }
}

/*
** child_stopping: the child has been told to stop (a graceful restart,
** a stop): write what is buffered now, not when its last connection ends.
** At a restart httpd ends the old piped log programs while the old
** children finish; the sooner, the more of their records still reach one.
*/
void zt_audit_child_stopping(server_rec *s)
{
    for (; s; s = s->next) {
        const zt_srv_conf_t *conf = ap_get_module_config(s->module_config,
                                                         &zerotrust_module);

        if (conf->audit_buf) {
            zt_abuf_flush(conf->audit_buf);
        }
    }
}

void zt_audit_write(request_rec *r, zt_req_t *rq)
{
    const zt_srv_conf_t *sconf = ap_get_module_config(r->server->module_config,
                                                      &zerotrust_module);
    char stack[ZT_AUDIT_STACK], *line;
    zt_audit_texts_t texts;
    apr_size_t room, len;
    apr_status_t rv;
    int tls;

    if (rq->audited) {
        return;
    }
    rq->audited = 1;
    if (!sconf->audit_fd) {
        return;
    }
    tls = ap_ssl_conn_is_ssl(r->connection);
    room = zt_audit_texts(&texts, r, rq, tls);
    line = room <= sizeof(stack) ? stack : apr_palloc(r->pool, room);
    len = (apr_size_t)(zt_audit_record(line, &texts, r, rq, tls) - line);
    AP_DEBUG_ASSERT(len <= room);
    if (sconf->audit_buf) {
        /* A failed write is logged by the buffer's writer (ZT00063). */
        zt_abuf_put(sconf->audit_buf, line, len, apr_time_now());
        return;
    }
    rv = zt_audit_emit(sconf, line, len);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, ZTLOGNO(00009)
                      "cannot write to ZeroTrustAuditLog %s",
                      sconf->audit_log);
    }
}
