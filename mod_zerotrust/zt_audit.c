/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * The audit log: one JSON object per line, per decision (SPEC section 7).
 * Built with jansson so that every string from the request is escaped, and
 * written with one write of the whole line, which is atomic on a pipe up
 * to PIPE_BUF and on an O_APPEND file, so that the records of concurrent
 * processes and threads never interleave.
 */

#include "mod_zerotrust.h"

#include <apr_strings.h>
#include <apr_time.h>
#include <jansson.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_ssl.h"


APLOG_USE_MODULE(zerotrust);

static apr_status_t zt_audit_open_one(apr_pool_t *p, server_rec *s,
                                      zt_srv_conf_t *conf)
{
    apr_status_t rv;

    if (conf->audit_log[0] == '|') {
        /* As CustomLog: "|prog" and "||prog" run the program directly,
         * "|$command" through the shell. */
        const char *prog = conf->audit_log + 1;
        apr_cmdtype_e type = APR_PROGRAM_ENV;
        piped_log *pl;

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
                       | APR_FOPEN_XTHREAD | APR_FOPEN_LARGEFILE,
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

static const char *zt_audit_stage(zt_stage_e stage)
{
    switch (stage) {
    case ZT_STAGE_ROUTE:  return "route";
    case ZT_STAGE_INPUT:  return "input";
    case ZT_STAGE_TOKEN:  return "token";
    case ZT_STAGE_POLICY: return "policy";
    case ZT_STAGE_CONFIG: break;
    }
    return "config";
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

        if (ap_run_generate_log_id(r->connection, r, &gen) == OK && gen) {
            r->log_id = gen;
        }
    }
    return r->log_id;
}

/*
** A JSON string, or null for NULL.  Request data need not be UTF-8 (a
** path may carry any decoded byte); such a string is kept, readable and
** unambiguous, with each byte outside ASCII written as \xHH, instead of
** losing the record.
*/
static json_t *zt_audit_str(apr_pool_t *p, const char *s)
{
    json_t *js;
    apr_size_t i, n;
    char *out, *o;

    if (!s) {
        return json_null();
    }
    if ((js = json_string(s)) != NULL) {
        return js;
    }
    n = strlen(s);
    o = out = apr_palloc(p, 4 * n + 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x80) {
            *o++ = (char)c;
        }
        else {
            o += apr_snprintf(o, 5, "\\x%02X", c);
        }
    }
    *o = '\0';
    return json_string(out);
}

void zt_audit_write(request_rec *r, zt_req_t *rq)
{
    const zt_srv_conf_t *sconf = ap_get_module_config(r->server->module_config,
                                                      &zerotrust_module);
    const zt_table_t *t = rq->policy ? rq->policy->table : NULL;
    const char *route = NULL, *rule = NULL;
    apr_time_t now = apr_time_now();
    apr_time_exp_t tm;
    json_t *obj;
    char *text, *line;
    apr_size_t len, n;
    apr_status_t rv;

    if (rq->audited) {
        return;
    }
    rq->audited = 1;
    if (!sconf->audit_fd) {
        return;
    }
    if (t && rq->matched && rq->route_status == ZT_ROUTE_OK) {
        route = zt_table_str(t, t->routes[rq->match.route].pattern);
    }
    if (t && rq->stage == ZT_STAGE_POLICY && rq->decision.rule != ZT_NONE) {
        const zt_rule_rec_t *rl = &t->rules[rq->decision.rule];

        rule = apr_psprintf(r->pool, "%s:%u", zt_table_str(t, rl->file),
                            (unsigned int)rl->line);
    }
    apr_time_exp_gmt(&tm, r->request_time);

    obj = json_object();
    if (!obj) {
        goto fail;
    }
    /* json_object_set_new() takes ownership even when it fails, and a
     * NULL value makes it fail: the json_dumps below then still runs on
     * whatever was set, so check each. */
    if (json_object_set_new(obj, "time", json_string(apr_psprintf(r->pool,
            "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
            tm.tm_usec / 1000)))
        || json_object_set_new(obj, "request_id",
                               zt_audit_str(r->pool, zt_audit_request_id(r)))
        || json_object_set_new(obj, "client_ip",
                               zt_audit_str(r->pool, r->useragent_ip))
        || json_object_set_new(obj, "method", zt_audit_str(r->pool, r->method))
        || json_object_set_new(obj, "path", zt_audit_str(r->pool, r->uri))
        || json_object_set_new(obj, "route", zt_audit_str(r->pool, route))
        || json_object_set_new(obj, "sub", zt_audit_str(r->pool, rq->sub))
        || json_object_set_new(obj, "iss", zt_audit_str(r->pool, rq->iss))
        || json_object_set_new(obj, "azp", zt_audit_str(r->pool, rq->azp))
        || json_object_set_new(obj, "decision",
                               json_string(rq->allowed ? "allow" : "deny"))
        || json_object_set_new(obj, "status",
                               json_integer(rq->allowed ? HTTP_OK
                                                        : rq->status))
        || json_object_set_new(obj, "stage",
                               json_string(zt_audit_stage(rq->stage)))
        || json_object_set_new(obj, "reason", zt_audit_str(r->pool, rq->reason))
        || json_object_set_new(obj, "rule", zt_audit_str(r->pool, rule))
        || json_object_set_new(obj, "policy",
                               zt_audit_str(r->pool, t ? t->hash_hex : NULL))
        || json_object_set_new(obj, "tls",
                               json_boolean(ap_ssl_conn_is_ssl(r->connection)))
        || json_object_set_new(obj, "latency_us",
                               json_integer((json_int_t)(now - rq->t0)))) {
        json_decref(obj);
        goto fail;
    }
    text = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(obj);
    if (!text) {
        goto fail;
    }
    line = apr_pstrcat(r->pool, text, "\n", NULL);
    free(text);
    len = n = strlen(line);
    rv = apr_file_write(sconf->audit_fd, line, &n);
    if (rv == APR_SUCCESS && n < len) {
        /* Only a pipe that is full or a signal gets here; finish the
         * line rather than lose it. */
        rv = apr_file_write_full(sconf->audit_fd, line + n, len - n, NULL);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, ZTLOGNO(00009)
                      "cannot write to ZeroTrustAuditLog %s",
                      sconf->audit_log);
    }
    return;

fail:
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, ZTLOGNO(00016)
                  "cannot build the audit record of a request (out of "
                  "memory?)");
}
