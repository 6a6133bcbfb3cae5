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
 * escaped strictly, so that a line holds printable ASCII only: quote,
 * backslash and control characters (DEL too) are escaped, and anything
 * above ASCII is \uXXXX (UTF-16 pairs above the BMP).  Request data need
 * not be UTF-8 (a path may carry any decoded byte): a string that is not
 * is written with each byte above 0x7F as the four characters \xHH, so
 * the record stays valid JSON and keeps what the client sent.
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

#include <string.h>

#include <unistd.h>

#include <apr_base64.h>
#include <apr_global_mutex.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_ssl.h"
#include "util_time.h"
#include "zt_abuf.h"
#include "zt_utf8.h"


APLOG_USE_MODULE(zerotrust);

/* Bytes of a record built on the stack; a typical one takes 400. */
#define ZT_AUDIT_STACK 2048

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
 */

/* A record being written: it grows from the stack into r->pool. */
typedef struct {
    char *buf;
    apr_size_t len;
    apr_size_t cap;
    apr_pool_t *pool;
} zt_line_t;

/* Room for @a n more bytes. */
static char *zt_line_room(zt_line_t *l, apr_size_t n)
{
    if (l->cap - l->len < n) {
        apr_size_t cap = 2 * l->cap > l->len + n ? 2 * l->cap : l->len + n;
        char *buf = apr_palloc(l->pool, cap);

        memcpy(buf, l->buf, l->len);
        l->buf = buf;
        l->cap = cap;
    }
    return l->buf + l->len;
}

static void zt_line_put(zt_line_t *l, const char *s, apr_size_t n)
{
    memcpy(zt_line_room(l, n), s, n);
    l->len += n;
}

/* A literal: a key with its punctuation, "true", "null". */
#define zt_line_lit(l, s) zt_line_put((l), (s), sizeof(s) - 1)

/* @a v in @a w decimal digits, zero-padded, at @a o; returns the end.
 * By hand: apr_snprintf's formatter was a quarter of the record's
 * instructions (docs/BENCHMARKS.md). */
static char *zt_line_digits(char *o, apr_uint64_t v, int w)
{
    for (int i = w - 1; i >= 0; i--) {
        o[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return o + w;
}

static void zt_line_int(zt_line_t *l, apr_int64_t v)
{
    apr_uint64_t u = v < 0 ? 0 - (apr_uint64_t)v : (apr_uint64_t)v;
    char *o = zt_line_room(l, 21);
    int w = 1;

    for (apr_uint64_t t = u; t >= 10; t /= 10) {
        w++;
    }
    if (v < 0) {
        *o++ = '-';
    }
    o = zt_line_digits(o, u, w);
    l->len = (apr_size_t)(o - l->buf);
}

/*
** The scalar value of the UTF-8 sequence at @a p (lead byte >= 0x80) and
** its length in *n, or -1 when it is not the shortest form of one
** (overlong, surrogate, above U+10FFFF, truncated).
*/
static long zt_line_utf8(const unsigned char *p, const unsigned char *end,
                         apr_size_t *n)
{
    static const unsigned char lead_bits[5] = { 0, 0, 0x1f, 0x0f, 0x07 };
    long cp;

    *n = zt_utf8_seq(p, (size_t)(end - p));
    if (*n < 2) {
        return -1;          /* p[0] >= 0x80: 0 means not UTF-8 */
    }
    cp = p[0] & lead_bits[*n];
    for (apr_size_t i = 1; i < *n; i++) {
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    return cp;
}

static const char zt_hex[] = "0123456789ABCDEF";

/* "\uXXXX" at @a o; returns the end. */
static char *zt_line_u(char *o, unsigned long u)
{
    o[0] = '\\';
    o[1] = 'u';
    o[2] = zt_hex[(u >> 12) & 0xf];
    o[3] = zt_hex[(u >> 8) & 0xf];
    o[4] = zt_hex[(u >> 4) & 0xf];
    o[5] = zt_hex[u & 0xf];
    return o + 6;
}

/*
** The characters of @a s[0..n) escaped for a JSON string (no quotes).
** With @a bytes, each byte above 0x7F is written "\\xHH"; without, @a s
** must be UTF-8, and 0 is returned (with nothing written) if it is not.
** At most 6 bytes out per byte in: room is made for that.
*/
static int zt_line_chars(zt_line_t *l, const char *s, apr_size_t n,
                         int bytes)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    char *o = zt_line_room(l, 6 * n);

    while (p < end) {
        unsigned char c = *p;
        apr_size_t k;
        long cp;

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            *o++ = (char)c;
            p++;
            continue;
        }
        if (c < 0x80) {
            *o++ = '\\';
            switch (c) {
            case '"':  *o++ = '"';  break;
            case '\\': *o++ = '\\'; break;
            case '\b': *o++ = 'b';  break;
            case '\f': *o++ = 'f';  break;
            case '\n': *o++ = 'n';  break;
            case '\r': *o++ = 'r';  break;
            case '\t': *o++ = 't';  break;
            default:   o = zt_line_u(o - 1, c);
            }
            p++;
            continue;
        }
        if (bytes) {
            *o++ = '\\';
            *o++ = '\\';
            *o++ = 'x';
            *o++ = zt_hex[c >> 4];
            *o++ = zt_hex[c & 0xf];
            p++;
            continue;
        }
        if ((cp = zt_line_utf8(p, end, &k)) < 0) {
            return 0;
        }
        if (cp < 0x10000) {
            o = zt_line_u(o, (unsigned long)cp);
        }
        else {
            cp -= 0x10000;
            o = zt_line_u(o, 0xd800 | ((unsigned long)cp >> 10));
            o = zt_line_u(o, 0xdc00 | ((unsigned long)cp & 0x3ff));
        }
        p += k;
    }
    l->len = (apr_size_t)(o - l->buf);
    return 1;
}

/* The characters of @a s escaped: as UTF-8 if it is, else byte by byte. */
static void zt_line_text(zt_line_t *l, const char *s)
{
    apr_size_t n = strlen(s);

    if (!zt_line_chars(l, s, n, 0)) {
        zt_line_chars(l, s, n, 1);
    }
}

/* A JSON string, or null for NULL. */
static void zt_line_str(zt_line_t *l, const char *s)
{
    if (!s) {
        zt_line_lit(l, "null");
        return;
    }
    zt_line_lit(l, "\"");
    zt_line_text(l, s);
    zt_line_lit(l, "\"");
}

/* ,"key":"value" (or null) */
#define zt_line_field(l, key, s) \
    do { zt_line_lit((l), ",\"" key "\":"); zt_line_str((l), (s)); } while (0)

/* ------------------------------------------------------------------------
 * The record's fields
 */

static const char *zt_audit_stage(zt_stage_e stage)
{
    switch (stage) {
    case ZT_STAGE_TRANSPORT: return "transport";
    case ZT_STAGE_ROUTE:  return "route";
    case ZT_STAGE_INPUT:  return "input";
    case ZT_STAGE_TOKEN:  return "token";
    case ZT_STAGE_POLICY: return "policy";
    case ZT_STAGE_CONFIG: break;
    }
    return "config";
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
** error log's %L shows, with the process id read once.
*/
static const char *zt_audit_core_id(request_rec *r)
{
    apr_uint64_t id = (apr_uint64_t)r->request_time;
    char *out = apr_palloc(r->pool, apr_base64_encode_len(sizeof(id)));

    id ^= zt_audit_pid << 40;
    id ^= (zt_audit_pid >> 24) << 56;
#if APR_HAS_THREADS
    id ^= (apr_uint64_t)(apr_uintptr_t)r->connection->current_thread << 32;
#endif
    apr_base64_encode(out, (const char *)&id, sizeof(id));
    out[apr_base64_encode_len(sizeof(id)) - 2] = '\0';
    return out;
}

static const char *zt_audit_request_id(request_rec *r)
{
    const char *id = apr_table_get(r->subprocess_env, "UNIQUE_ID");

    if (id) {
        return id;
    }
    if (!r->log_id) {
        /* As the error log's %L does: the id then appears in both logs. */
        const char *gen = NULL;

        if (zt_audit_pid) {
            r->log_id = zt_audit_core_id(r);
        }
        else if (ap_run_generate_log_id(r->connection, r, &gen) == OK
                 && gen) {
            r->log_id = gen;
        }
    }
    return r->log_id;
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

/* "2026-11-29T01:02:03.456Z".  From httpd's cache of exploded recent
 * seconds, as mod_log_config does: gmtime_r takes glibc's time zone lock,
 * which every thread of the process would queue on. */
static void zt_audit_time(zt_line_t *l, apr_time_t t)
{
    apr_time_exp_t tm;

    char *o = zt_line_room(l, 26);

    ap_explode_recent_gmt(&tm, t);
    *o++ = '"';
    o = zt_line_digits(o, (apr_uint64_t)(tm.tm_year + 1900) % 10000, 4);
    *o++ = '-';
    o = zt_line_digits(o, (apr_uint64_t)tm.tm_mon + 1, 2);
    *o++ = '-';
    o = zt_line_digits(o, (apr_uint64_t)tm.tm_mday, 2);
    *o++ = 'T';
    o = zt_line_digits(o, (apr_uint64_t)tm.tm_hour, 2);
    *o++ = ':';
    o = zt_line_digits(o, (apr_uint64_t)tm.tm_min, 2);
    *o++ = ':';
    o = zt_line_digits(o, (apr_uint64_t)tm.tm_sec, 2);
    *o++ = '.';
    o = zt_line_digits(o, (apr_uint64_t)tm.tm_usec / 1000, 3);
    *o++ = 'Z';
    *o++ = '"';
    l->len = (apr_size_t)(o - l->buf);
}

/* The whole record, its fields in SPEC order, and the newline. */
static void zt_audit_record(zt_line_t *l, request_rec *r, const zt_req_t *rq)
{
    const zt_table_t *t = rq->policy ? rq->policy->table : NULL;

    zt_line_lit(l, "{\"time\":");
    zt_audit_time(l, r->request_time);
    zt_line_field(l, "request_id", zt_audit_request_id(r));
    zt_line_field(l, "client_ip", r->useragent_ip);
    zt_line_field(l, "method", r->method);
    zt_line_field(l, "path", r->uri);
    zt_line_field(l, "route",
                  t && rq->matched && rq->route_status == ZT_ROUTE_OK
                  ? zt_table_str(t, t->routes[rq->match.route].pattern)
                  : NULL);
    zt_line_field(l, "sub", rq->sub);
    zt_line_field(l, "iss", rq->iss);
    zt_line_field(l, "azp", rq->azp);
    if (rq->allowed) {
        zt_line_lit(l, ",\"decision\":\"allow\",\"status\":200");
    }
    else {
        zt_line_lit(l, ",\"decision\":\"deny\",\"status\":");
        zt_line_int(l, rq->status);
    }
    zt_line_field(l, "stage", zt_audit_stage(rq->stage));
    zt_line_field(l, "reason", rq->reason);
    zt_line_lit(l, ",\"rule\":");
    if (t && rq->stage == ZT_STAGE_POLICY && rq->decision.rule != ZT_NONE) {
        const zt_rule_rec_t *rl = &t->rules[rq->decision.rule];

        zt_line_lit(l, "\"");
        zt_line_text(l, zt_table_str(t, rl->file));
        zt_line_lit(l, ":");
        zt_line_int(l, rl->line);
        zt_line_lit(l, "\"");
    }
    else {
        zt_line_lit(l, "null");
    }
    zt_line_field(l, "policy", t ? t->hash_hex : NULL);
    if (ap_ssl_conn_is_ssl(r->connection)) {
        zt_line_lit(l, ",\"tls\":true,\"cert_subject\":");
        zt_line_str(l, zt_audit_cert_subject(r, rq));
    }
    else {
        zt_line_lit(l, ",\"tls\":false,\"cert_subject\":null");
    }
    zt_line_lit(l, ",\"latency_us\":");
    zt_line_int(l, apr_time_now() - rq->t0);
    zt_line_lit(l, "}\n");
}

/* ------------------------------------------------------------------------
 * Writing it
 */

/* One write(2) of the whole record; a short write (a full disk, a
 * signal) is finished rather than the line lost. */
static apr_status_t zt_audit_put(apr_file_t *fd, const char *line,
                                 apr_size_t len)
{
    apr_size_t n = len;
    apr_status_t rv = apr_file_write(fd, line, &n);

    if (rv == APR_SUCCESS && n < len) {
        rv = apr_file_write_full(fd, line + n, len - n, NULL);
    }
    return rv;
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
    char stack[ZT_AUDIT_STACK];
    zt_line_t l = { stack, 0, sizeof(stack), r->pool };
    apr_status_t rv;

    if (rq->audited) {
        return;
    }
    rq->audited = 1;
    if (!sconf->audit_fd) {
        return;
    }
    zt_audit_record(&l, r, rq);
    if (sconf->audit_buf) {
        /* A failed write is logged by the buffer's writer (ZT00063). */
        zt_abuf_put(sconf->audit_buf, l.buf, l.len, apr_time_now());
        return;
    }
    rv = zt_audit_emit(sconf, l.buf, l.len);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, ZTLOGNO(00009)
                      "cannot write to ZeroTrustAuditLog %s",
                      sconf->audit_log);
    }
}
