/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/* Directives and configuration records of mod_zerotrust. */

#include "mod_zerotrust.h"

#include <string.h>

#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"

#include "zt_ascii.h"
#include "zt_keys.h"


APLOG_USE_MODULE(zerotrust);

#define ZT_TOKEN_MAX_MIN   256
#define ZT_TOKEN_MAX_MAX   (1024 * 1024)
#define ZT_AUDIT_BUFFER_MIN 256
#define ZT_AUDIT_BUFFER_MAX (16 * 1024 * 1024)

/*
** Tables already opened in this configuration generation, by absolute
** path, so that a table named by many sections and virtual hosts is read
** and verified once.  The hash and the tables live in pconf; a restart
** clears pconf, which runs the cleanup below, and the next generation
** opens the files afresh.
*/
static apr_hash_t *zt_policy_cache;

/* `Require zerotrust` lines seen while reading the configuration. */
typedef struct {
    const char *file;
    unsigned int line;
} zt_require_note_t;

static apr_array_header_t *zt_require_notes;  /* of zt_require_note_t */
static int zt_policies_seen;                   /* ZeroTrustPolicy directives */
static int zt_reading_config;                  /* between pre and check_config */
static int zt_config_composes;                 /* AuthMerging And/Or or
                                                  Satisfy somewhere */

/* ZeroTrustTokenCache, read in the parent (zeroed: zt_tcache_create's
 * defaults); the cache itself is made in each child (child_init) and
 * lives in pchild. */
static zt_cache_conf_t zt_tcache_conf;
static zt_tcache_t *zt_tcache;

static apr_status_t zt_config_forget(void *unused)
{
    memset(&zt_tcache_conf, 0, sizeof(zt_tcache_conf));
    zt_policy_cache = NULL;
    zt_require_notes = NULL;
    zt_policies_seen = 0;
    zt_reading_config = 0;
    return APR_SUCCESS;
}

void zt_config_pre(apr_pool_t *pconf)
{
    zt_policy_cache = apr_hash_make(pconf);
    zt_require_notes = apr_array_make(pconf, 4, sizeof(zt_require_note_t));
    zt_policies_seen = 0;
    zt_reading_config = 1;
    zt_config_composes = 1;             /* until zt_config_check has looked */
    apr_pool_cleanup_register(pconf, NULL, zt_config_forget,
                              apr_pool_cleanup_null);
}

void *zt_config_create_dir(apr_pool_t *p, char *dir)
{
    zt_dir_conf_t *conf = apr_pcalloc(p, sizeof(*conf));

    conf->token_max = ZT_TOKEN_MAX_LEN;
    conf->require_tls = 1;
    return conf;
}

/* Nine words: a field added to zt_dir_conf_t must be merged below. */
_Static_assert(sizeof(zt_dir_conf_t) == 9 * sizeof(void *),
               "zt_dir_conf_t changed: merge the new field in "
               "zt_config_merge_dir");

/*
** httpd merges every request's sections, twice or more (the <Directory>
** and <Location> walks): the section's record is copied whole, and only
** what it did not set is then taken from the enclosing one.  Each field
** belongs to one test below (a directive's *_set flag, or NULL for
** unset); one that none names would not be inherited.
*/
void *zt_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    const zt_dir_conf_t *base = basev, *add = addv;
    zt_dir_conf_t *conf = apr_palloc(p, sizeof(*conf));

    memcpy(conf, add, sizeof(*conf));
    if (!add->policy_set) {
        /* ZeroTrustPolicy sets these together. */
        conf->policy_set = base->policy_set;
        conf->policy_path = base->policy_path;
        conf->policy = base->policy;
        conf->feeds = base->feeds;
        conf->resource = base->resource;
    }
    if (!add->token_max_set) {
        conf->token_max_set = base->token_max_set;
        conf->token_max = base->token_max;
    }
    if (!add->require_tls_set) {
        conf->require_tls_set = base->require_tls_set;
        conf->require_tls = base->require_tls;
    }
    if (add->resource_id == NULL) {
        conf->resource_id = base->resource_id;
    }
    if (add->resource_metadata == NULL) {
        conf->resource_metadata = base->resource_metadata;
    }
    if (base->claim_headers != NULL) {
        conf->claim_headers = add->claim_headers == NULL
                              ? base->claim_headers
                              : apr_array_append(p, base->claim_headers,
                                                 add->claim_headers);
    }
    return conf;
}

void *zt_config_create_srv(apr_pool_t *p, server_rec *s)
{
    return apr_pcalloc(p, sizeof(zt_srv_conf_t));
}

void *zt_config_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    const zt_srv_conf_t *base = basev, *add = addv;
    zt_srv_conf_t *conf = apr_pcalloc(p, sizeof(*conf));

    conf->audit_log_set = add->audit_log_set || base->audit_log_set;
    conf->audit_log = add->audit_log_set ? add->audit_log : base->audit_log;
    /* audit_fd is filled by zt_audit_open, after merging; audit_buffer
     * is global (the main server's), audit_buf made in child_init. */
    return conf;
}

/* Keys an issuer's set holds but will never use (wrong "use", unknown
 * kty, ...) are worth an operator's look: one warning each at start-up. */
static void zt_log_key_warnings(server_rec *s, const zt_policy_t *policy)
{
    for (int i = 0; i < policy->nissuers; i++) {
        const zt_issuer_t *is = &policy->issuers[i];
        const apr_array_header_t *w = zt_jwks_warnings(is->keys);

        for (int j = 0; w && j < w->nelts; j++) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         ZTLOGNO(00019) "ZeroTrustPolicy %s, issuer %s: %s",
                         policy->table->name, is->name,
                         APR_ARRAY_IDX(w, j, const char *));
        }
    }
}

/*
** Key sources (zt_keys.h) report through this: one log id per event.  The
** parent reads key files quietly at start-up (a bad one fails the
** directive instead) and never fetches: it runs as root, and a network
** fetch would make configtest and every restart wait on the IdP.  Each
** child fetches, in its refresher thread and on an unknown kid.
*/
typedef struct {
    server_rec *s;              /* the server that named the policy */
    const char *policy;         /* the table's path */
} zt_keys_baton_t;

static server_rec *zt_keys_server;     /* main server, once in a child */

static void zt_keys_log(void *baton, zt_keys_event_e ev, const char *issuer,
                        const char *msg)
{
    const zt_keys_baton_t *b = baton;
    server_rec *s = zt_keys_server ? zt_keys_server : b->s;

    switch (ev) {
    case ZT_KEYS_EV_UPDATED:
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, ZTLOGNO(00021)
                     "ZeroTrustPolicy %s, issuer %s: key set updated: %s",
                     b->policy, issuer, msg);
        break;
    case ZT_KEYS_EV_KEPT:
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, ZTLOGNO(00022)
                     "ZeroTrustPolicy %s, issuer %s: %s", b->policy, issuer,
                     msg);
        break;
    case ZT_KEYS_EV_MISSING:
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, ZTLOGNO(00023)
                     "ZeroTrustPolicy %s, issuer %s: %s", b->policy, issuer,
                     msg);
        break;
    case ZT_KEYS_EV_KEY_SKIPPED:
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, ZTLOGNO(00024)
                     "ZeroTrustPolicy %s, issuer %s: new key set: %s",
                     b->policy, issuer, msg);
        break;
    case ZT_KEYS_EV_REFETCH:
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, ZTLOGNO(00025)
                     "ZeroTrustPolicy %s, issuer %s: %s", b->policy, issuer,
                     msg);
        break;
    case ZT_KEYS_EV_REFETCH_LIMITED:
    default:
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, ZTLOGNO(00026)
                     "ZeroTrustPolicy %s, issuer %s: %s", b->policy, issuer,
                     msg);
        break;
    }
}

/* The policy's key sources, from its issuer records. */
static apr_status_t zt_config_keys(cmd_parms *cmd, zt_policy_t *policy,
                                   const char *path, const char **err)
{
    zt_keys_baton_t *b = apr_pcalloc(cmd->pool, sizeof(*b));
    zt_keys_opts_t opts;

    b->s = cmd->server;
    b->policy = path;
    memset(&opts, 0, sizeof(opts));
    opts.log = zt_keys_log;
    opts.log_baton = b;
    return zt_keys_from_policy(&policy->keys, policy, &opts, cmd->pool, err);
}

/*
** child_init: start each policy's key refresher in this process.  Only
** children serve requests; a thread started in the parent would not
** survive fork() anyway.
*/
void zt_config_child_keys(apr_pool_t *pchild, server_rec *s)
{
    apr_hash_index_t *hi;

    zt_keys_server = s;
    if (zt_policy_cache == NULL) {
        return;
    }
    for (hi = apr_hash_first(pchild, zt_policy_cache); hi;
         hi = apr_hash_next(hi)) {
        const zt_policy_t *policy = apr_hash_this_val(hi);
        apr_status_t rv;

        if (policy->keys == NULL || !zt_keys_dynamic(policy->keys)) {
            continue;
        }
        rv = zt_keys_start(policy->keys, pchild);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, ZTLOGNO(00027)
                         "ZeroTrustPolicy %s: cannot start the key refresher "
                         "thread; key sets change only when a token names "
                         "an unknown key", (const char *)apr_hash_this_key(hi));
        }
    }
}

/* The table's RFC 9728 description, made once per directive. */
static const zt_resource_t *zt_config_resource(cmd_parms *cmd,
                                               const zt_policy_t *policy)
{
    zt_resource_t *res = apr_pcalloc(cmd->pool, sizeof(*res));

    zt_resource_describe(policy->table, cmd->pool, res);
    return res;
}

/*
** ZeroTrustPolicy PATH: open and verify the table now, so that a missing,
** truncated or corrupted table fails `apachectl configtest` with the
** directive, the file and the line, instead of failing requests later.
*/
static const char *zt_set_policy(cmd_parms *cmd, void *dconf, const char *arg)
{
    zt_dir_conf_t *conf = dconf;
    const zt_policy_t *cached;
    zt_policy_t *policy;
    const char *path, *err = NULL;
    apr_status_t rv;

    if (!*arg) {
        return "ZeroTrustPolicy: the path of a compiled table (.ztb) is required";
    }
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path) {
        return apr_pstrcat(cmd->pool, "ZeroTrustPolicy: invalid path '", arg,
                           "'", NULL);
    }
    if (!zt_policy_cache) {
        /* A config read without pre_config (should not happen). */
        zt_config_pre(cmd->pool);
    }
    cached = apr_hash_get(zt_policy_cache, path, APR_HASH_KEY_STRING);
    if (!cached) {
        rv = zt_policy_open(&policy, path, cmd->pool, &err);
        if (rv != APR_SUCCESS) {
            /* The core's messages name the file; say it once. */
            if (err && strstr(err, path)) {
                return apr_pstrcat(cmd->pool, "ZeroTrustPolicy: ", err, NULL);
            }
            return apr_psprintf(cmd->pool, "ZeroTrustPolicy: cannot load "
                                "'%s': %s", path,
                                err ? err : "unknown error");
        }
        zt_audit_prepare(policy, cmd->pool);
        if (zt_config_keys(cmd, policy, path, &err) != APR_SUCCESS) {
            return apr_psprintf(cmd->pool, "ZeroTrustPolicy: %s",
                                err ? err : "cannot set up the key sources");
        }
        apr_hash_set(zt_policy_cache, path, APR_HASH_KEY_STRING, policy);
        /* configtest never reaches post_config: tell its console now. */
        if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST) {
            zt_log_key_warnings(cmd->server, policy);
        }
        cached = policy;
    }
    conf->policy_path = path;
    conf->policy = cached;
    conf->feeds = zt_request_feeds(cached->table);
    conf->resource = zt_config_resource(cmd, cached);
    conf->policy_set = 1;
    zt_policies_seen++;
    return NULL;
}

static const char *zt_set_audit_log(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    zt_srv_conf_t *conf = ap_get_module_config(cmd->server->module_config,
                                               &zerotrust_module);

    if (!*arg) {
        return "ZeroTrustAuditLog: a file name or \"|program\" is required";
    }
    if (*arg == '|') {
        if (!arg[1]) {
            return "ZeroTrustAuditLog: the piped log program is missing";
        }
        conf->audit_log = apr_pstrdup(cmd->pool, arg);
    }
    else {
        conf->audit_log = ap_server_root_relative(cmd->pool, arg);
        if (!conf->audit_log) {
            return apr_pstrcat(cmd->pool, "ZeroTrustAuditLog: invalid path '",
                               arg, "'", NULL);
        }
    }
    conf->audit_log_set = 1;
    return NULL;
}

/* The limit as the directive's text writes it: sizes in K, M or G when
 * they are a whole number of one. */
static const char *zt_num_text(apr_pool_t *p, zt_num_kind_e kind,
                               uint64_t n)
{
    static const char units[] = "GMK";

    for (int i = 0; kind == ZT_NUM_SIZE && n > 0 && units[i]; i++) {
        uint64_t unit = (uint64_t)1 << (10 * (3 - i));

        if (n % unit == 0) {
            return apr_psprintf(p, "%" APR_UINT64_T_FMT "%c", n / unit,
                                units[i]);
        }
    }
    return apr_psprintf(p, "%" APR_UINT64_T_FMT, n);
}

/*
** The one reader of every numeric directive argument.  The error names
** the directive, the argument and the range, whatever was wrong (empty,
** a sign, trailing text, too many digits, a suffix on a count).
*/
const char *zt_config_number(cmd_parms *cmd, const char *arg,
                             const zt_num_spec_t *spec, uint64_t *out)
{
    static const char *const nouns[] = {
        [ZT_NUM_ENTRIES] = "a number of entries",
        [ZT_NUM_SECONDS] = "a number of seconds",
        [ZT_NUM_SIZE] = "a size",
    };
    int size = spec->kind == ZT_NUM_SIZE;
    const char *hint = "";

    if (zt_parse_number(arg, size, spec->min, spec->max, out)) {
        return NULL;
    }
    if (size) {
        hint = spec->max >= (uint64_t)1 << 30 ? " (bytes, or with K, M or G)"
               : spec->max >= (uint64_t)1 << 20 ? " (bytes, or with K or M)"
               : " (bytes, or with K)";
    }
    return apr_psprintf(cmd->pool, "%s: %s%s'%s' is not %s%s%s from %s to "
                        "%s%s", cmd->cmd->name,
                        spec->label ? spec->label : "",
                        spec->label ? " " : "", arg,
                        spec->other ? spec->other : "",
                        spec->other ? " or " : "", nouns[spec->kind],
                        zt_num_text(cmd->pool, spec->kind, spec->min),
                        zt_num_text(cmd->pool, spec->kind, spec->max), hint);
}

static const char *zt_set_token_max(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    static const zt_num_spec_t spec = {
        ZT_NUM_SIZE, ZT_TOKEN_MAX_MIN, ZT_TOKEN_MAX_MAX, NULL, NULL
    };
    zt_dir_conf_t *conf = dconf;
    const char *err;
    uint64_t n;

    if ((err = zt_config_number(cmd, arg, &spec, &n)) != NULL) {
        return err;
    }
    conf->token_max = (apr_size_t)n;
    conf->token_max_set = 1;
    return NULL;
}

/*
** Headers the request itself is made of: its framing (removing
** Content-Length or Transfer-Encoding before the body is read would make
** the body the next request), its routing, hop-by-hop headers, and the
** credentials the module reads (Authorization, DPoP).  The claim header
** strip removes a configured name from every request, so none of these
** can carry a claim.
*/
static int zt_is_request_header(const char *name)
{
    static const char *const reserved[] = {
        "Authorization", "Proxy-Authorization", "DPoP", "Cookie", "Host",
        "Content-Length", "Transfer-Encoding", "Content-Type",
        "Content-Encoding", "Connection", "Keep-Alive", "TE", "Trailer",
        "Upgrade", "Expect", NULL
    };

    for (int i = 0; reserved[i]; i++) {
        if (!strcasecmp(name, reserved[i])) {
            return 1;
        }
    }
    return 0;
}

/*
** The variable httpd's CGI environment (ap_add_common_vars) gives the
** header @a name: "HTTP_" and the name in upper case, '-' as '_'; a name
** with any other character than letters, digits and '-' gets none.
*/
static const char *zt_claim_env(apr_pool_t *p, const char *name)
{
    char *env = apr_pstrcat(p, "HTTP_", name, NULL);

    for (char *c = env + 5; *c; c++) {
        if (*c == '-') {
            *c = '_';
        }
        else if (apr_isalnum(*c)) {
            *c = apr_toupper(*c);
        }
        else {
            return NULL;
        }
    }
    return env;
}

static const char *zt_set_claim_header(cmd_parms *cmd, void *dconf,
                                       const char *claim, const char *name)
{
    zt_dir_conf_t *conf = dconf;
    zt_claim_header_t *h;
    char *path;
    uint32_t nparts = 1;

    if (*name == '\0' || *ap_scan_http_token(name) != '\0') {  /* RFC 9110 tchar */
        return apr_psprintf(cmd->pool, "ZeroTrustClaimHeader: '%s' is not "
                            "a header name (RFC 9110 token characters)",
                            name);
    }
    if (zt_is_request_header(name)) {
        return apr_psprintf(cmd->pool, "ZeroTrustClaimHeader: '%s' is part "
                            "of the request itself (framing, routing or "
                            "credentials) and cannot carry a claim", name);
    }
    /* Dotted path, parts joined by NUL as table TOKEN operands are. */
    if (*claim == '\0' || *claim == '.' || strstr(claim, "..")
        || claim[strlen(claim) - 1] == '.') {
        return apr_psprintf(cmd->pool, "ZeroTrustClaimHeader: '%s' is not "
                            "a claim name or dotted path", claim);
    }
    path = apr_pstrdup(cmd->pool, claim);
    for (char *d = path; *d; d++) {
        if (*d == '.') {
            *d = '\0';
            nparts++;
        }
    }
    if (!conf->claim_headers) {
        conf->claim_headers = apr_array_make(cmd->pool, 2, sizeof(*h));
    }
    h = apr_array_push(conf->claim_headers);
    h->header = name;
    h->env = zt_claim_env(cmd->pool, name);
    h->path = path;
    h->nparts = nparts;
    return NULL;
}

/*
** ZeroTrustResource and ZeroTrustResourceMetadata: https URLs (RFC 9728
** section 1.2: a resource identifier uses https and has no fragment), with
** only RFC 3986 characters, so either fits a quoted-string as it is.
*/
static const char *zt_set_resource_url(cmd_parms *cmd, void *dconf,
                                       const char *arg)
{
    zt_dir_conf_t *conf = dconf;
    const char *why = strncmp(arg, "https://", 8) != 0
                      ? "is not an https:// URL"
                      : zt_table_url_problem(arg, 0);

    if (why) {
        return apr_psprintf(cmd->pool, "%s: '%s' %s", cmd->cmd->name, arg,
                            why);
    }
    if (cmd->info) {
        conf->resource_metadata = arg;
    }
    else {
        conf->resource_id = arg;
    }
    return NULL;
}

/* TAKE1, not FLAG: httpd's FLAG ignores words after the first, and a
 * typo in this one must not go unnoticed. */
static const char *zt_set_require_tls(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    zt_dir_conf_t *conf = dconf;

    if (strcasecmp(arg, "on") && strcasecmp(arg, "off")) {
        return apr_psprintf(cmd->pool, "ZeroTrustRequireTLS: '%s' is not "
                            "On or Off", arg);
    }
    conf->require_tls = strcasecmp(arg, "on") == 0;
    conf->require_tls_set = 1;
    return NULL;
}

#define ZT_CACHE_ENTRIES_MIN   16
#define ZT_CACHE_ENTRIES_MAX   1000000
#define ZT_CACHE_BYTES_MIN     (64 * 1024)
#define ZT_CACHE_BYTES_MAX     ((uint64_t)1024 * 1024 * 1024)

/*
** The per-process caches' directives share their syntax and bounds.
** Global: each child process has its own cache, made in child_init.
*/
const char *zt_config_cache(cmd_parms *cmd, const char *a1, const char *a2,
                            zt_cache_conf_t *c)
{
    static const zt_num_spec_t entries = {
        ZT_NUM_ENTRIES, ZT_CACHE_ENTRIES_MIN, ZT_CACHE_ENTRIES_MAX, NULL,
        "'off'"
    }, size = {
        ZT_NUM_SIZE, ZT_CACHE_BYTES_MIN, ZT_CACHE_BYTES_MAX, NULL, NULL
    };
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    uint64_t n, b = 0;

    if (err) {
        return err;
    }
    if (!strcasecmp(a1, "off")) {
        if (a2) {
            return apr_pstrcat(cmd->pool, cmd->cmd->name, " off takes no "
                               "other argument", NULL);
        }
        c->off = 1;
        return NULL;
    }
    if ((err = zt_config_number(cmd, a1, &entries, &n)) != NULL
        || (a2 && (err = zt_config_number(cmd, a2, &size, &b)) != NULL)) {
        return err;
    }
    c->off = 0;
    c->entries = (apr_size_t)n;
    c->bytes = (apr_size_t)b;
    return NULL;
}

/* ZeroTrustTokenCache entries [max-bytes] | off: the verified tokens. */
static const char *zt_set_token_cache(cmd_parms *cmd, void *dconf,
                                      const char *a1, const char *a2)
{
    return zt_config_cache(cmd, a1, a2, &zt_tcache_conf);
}

/*
** ZeroTrustAuditBuffer size | Off: each child keeps its records in a
** buffer of that many bytes (zt_audit.c).  Global, as BufferedLogs: the
** buffers are per process.
*/
static const char *zt_set_audit_buffer(cmd_parms *cmd, void *dconf,
                                       const char *arg)
{
    zt_srv_conf_t *conf = ap_get_module_config(cmd->server->module_config,
                                               &zerotrust_module);
    static const zt_num_spec_t spec = {
        ZT_NUM_SIZE, ZT_AUDIT_BUFFER_MIN, ZT_AUDIT_BUFFER_MAX, NULL, "Off"
    };
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    uint64_t bytes;

    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "off")) {
        conf->audit_buffer = 0;
        return NULL;
    }
    if ((err = zt_config_number(cmd, arg, &spec, &bytes)) != NULL) {
        return err;
    }
    conf->audit_buffer = (apr_size_t)bytes;
    return NULL;
}

void zt_config_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    zt_tcache = NULL;
    if (zt_tcache_conf.off) {
        return;
    }
    rv = zt_tcache_create(&zt_tcache, pchild, zt_tcache_conf.entries,
                          zt_tcache_conf.bytes, 0);
    if (rv != APR_SUCCESS) {
        /* Not fatal: every token is then verified in full. */
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, ZTLOGNO(00020)
                     "the verified-token cache could not be made; tokens "
                     "are verified in full on every request");
        zt_tcache = NULL;
    }
}

zt_tcache_t *zt_config_tcache(void)
{
    return zt_tcache;
}

const command_rec zt_config_cmds[] = {
    AP_INIT_TAKE1("ZeroTrustPolicy", zt_set_policy, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "the compiled decision table (.ztb) for this scope, "
                  "relative to ServerRoot"),
    AP_INIT_TAKE1("ZeroTrustAuditLog", zt_set_audit_log, NULL, RSRC_CONF,
                  "file (relative to ServerRoot) or \"|program\" that "
                  "receives one JSON line per decision"),
    AP_INIT_TAKE1("ZeroTrustAuditBuffer", zt_set_audit_buffer, NULL,
                  RSRC_CONF, "Off (default), or bytes of audit records "
                  "each process keeps before writing them (e.g. 64K)"),
    AP_INIT_TAKE1("ZeroTrustTokenMaxSize", zt_set_token_max, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "largest bearer token accepted, in bytes (default 8192)"),
    AP_INIT_TAKE12("ZeroTrustTokenCache", zt_set_token_cache, NULL, RSRC_CONF,
                   "verified tokens kept per process: entries [max-bytes] "
                   "(default 4096 4M), or off"),
    AP_INIT_RAW_ARGS("ZeroTrustDPoPAlgorithms", zt_bind_set_algs, NULL,
                     RSRC_CONF, "JWS algorithms accepted for DPoP proofs "
                     "(default: all asymmetric ones)"),
    AP_INIT_TAKE12("ZeroTrustDPoPMaxAge", zt_bind_set_max_age, NULL,
                   RSRC_CONF, "seconds a DPoP proof is accepted after its "
                   "iat [and before it, for clock skew] (default 60 5)"),
    AP_INIT_TAKE1("ZeroTrustDPoPReplayCache", zt_bind_set_replay, NULL,
                  RSRC_CONF, "DPoP proofs remembered across all processes "
                  "against replay (default 65536)"),
    AP_INIT_TAKE12("ZeroTrustDPoPNonce", zt_bind_set_nonce, NULL, RSRC_CONF,
                   "'on [seconds]': DPoP proofs must carry a server nonce, "
                   "current for that long (default 300); or 'off' (default)"),
    AP_INIT_TAKE12("ZeroTrustDPoPKeyCache", zt_bind_set_key_cache, NULL,
                   RSRC_CONF, "DPoP proof keys kept per process: entries "
                   "[max-bytes] (default 1024 4M), or off"),
    AP_INIT_TAKE1("ZeroTrustRequireTLS", zt_set_require_tls, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "On (default): refuse requests that did not come over "
                  "TLS with 403; Off: also decide plain HTTP"),
    AP_INIT_TAKE1("ZeroTrustResource", zt_set_resource_url, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "the https URL that identifies this protected resource "
                  "in its RFC 9728 metadata (SetHandler zerotrust-metadata)"),
    AP_INIT_TAKE1("ZeroTrustResourceMetadata", zt_set_resource_url,
                  (void *)1, RSRC_CONF | ACCESS_CONF,
                  "the https URL of this resource's RFC 9728 metadata, "
                  "sent as resource_metadata in 401 challenges"),
    AP_INIT_TAKE2("ZeroTrustClaimHeader", zt_set_claim_header, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "CLAIM HEADER-NAME: after an allow, the backend "
                  "receives the token's claim in this request header"),
    { NULL }
};

/*
** A `Require zerotrust` line that nothing composes with, in any request
** its section decides, lets the provider decide in authz_core's first
** pass (zt_authz_check).  Told apart by the address of the provider's
** parsed argument; judged from the configuration tree, conservatively:
** a line in one of these sections, with no other authorization directive
** anywhere in the section (Require, the <Require*> containers, <Limit>
** around some, AuthMerging, Satisfy: also inside <IfModule> and the
** like), and no AuthMerging And/Or or Satisfy anywhere in the whole
** configuration (zt_config_check), since those compose one section's
** requirements with another's.  A .htaccess file may compose too: the
** provider asks per request whether one applied.
*/
static const char zt_require_alone_mark;

static const char *const zt_alone_parents[] = {
    "<Location", "<LocationMatch", "<Directory", "<DirectoryMatch",
    "<Files", "<FilesMatch", "<Proxy", "<ProxyMatch", "<If", "<ElseIf",
    "<Else", NULL
};

/* Directives that compose requirements within one section, or across
 * sections (AuthMerging, Satisfy). */
static int zt_is_authz_directive(const char *d)
{
    return !strcasecmp(d, "Require") || !strncasecmp(d, "<Require", 8)
           || !strcasecmp(d, "<Limit") || !strcasecmp(d, "<LimitExcept")
           || !strcasecmp(d, "AuthMerging") || !strcasecmp(d, "Satisfy")
           || !strcasecmp(d, "<AuthzProviderAlias");
}

/* An authorization directive under @a d (a list of siblings), other than
 * @a self. */
static int zt_authz_under(const ap_directive_t *d, const ap_directive_t *self)
{
    for (; d != NULL; d = d->next) {
        if (d != self && (zt_is_authz_directive(d->directive)
                          || zt_authz_under(d->first_child, self))) {
            return 1;
        }
    }
    return 0;
}

static int zt_require_alone(const cmd_parms *cmd)
{
    const ap_directive_t *self = cmd->directive, *parent;
    int i;

    if (self == NULL || (parent = self->parent) == NULL) {
        return 0;
    }
    for (i = 0; zt_alone_parents[i]; i++) {
        if (!strcasecmp(parent->directive, zt_alone_parents[i])) {
            break;
        }
    }
    return zt_alone_parents[i] != NULL
           && !zt_authz_under(parent->first_child, self);
}

const void *zt_config_note_require(cmd_parms *cmd)
{
    zt_require_note_t *note;

    /* .htaccess files are read per request: nothing to check then, and
     * their lines are never alone (a file may compose with AuthMerging). */
    if (!zt_reading_config || !zt_require_notes) {
        return NULL;
    }
    note = apr_array_push(zt_require_notes);
    note->file = cmd->directive ? cmd->directive->filename : "?";
    note->line = cmd->directive ? (unsigned int)cmd->directive->line_num : 0;
    return zt_require_alone(cmd) ? &zt_require_alone_mark : NULL;
}

int zt_config_require_alone(const void *parsed)
{
    return parsed == &zt_require_alone_mark && !zt_config_composes;
}

/* AuthMerging And/Or or Satisfy anywhere under @a d. */
static int zt_config_composing(const ap_directive_t *d)
{
    for (; d != NULL; d = d->next) {
        if ((!strcasecmp(d->directive, "AuthMerging")
             && (d->args == NULL || strcasecmp(d->args, "Off")))
            || !strcasecmp(d->directive, "Satisfy")
            || zt_config_composing(d->first_child)) {
            return 1;
        }
    }
    return 0;
}

/*
** Whole-configuration check.  Which ZeroTrustPolicy applies to a
** `Require zerotrust` is only known per request (sections merge by path),
** so this refuses what can never work: the directive used in a
** configuration that names no table at all.  Requests that still find no
** table are refused with 500 (fail closed, ZT00001).
*/
int zt_config_check(apr_pool_t *pconf, server_rec *s)
{
    const zt_require_note_t *notes;
    int i;

    zt_reading_config = 0;
    zt_config_composes = zt_config_composing(ap_conftree);
    if (!zt_require_notes || zt_policies_seen > 0) {
        return OK;
    }
    notes = (const zt_require_note_t *)zt_require_notes->elts;
    for (i = 0; i < zt_require_notes->nelts; i++) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, 0, s,
                     ZTLOGNO(00011) "Require zerotrust on line %u of %s, but "
                     "no ZeroTrustPolicy is configured anywhere: every such "
                     "request would be refused", notes[i].line, notes[i].file);
    }
    return zt_require_notes->nelts > 0 ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

/* Once the error log is open, and not in the dry run of the first start. */
void zt_config_post(server_rec *s)
{
    apr_hash_index_t *hi;

    if (zt_policy_cache == NULL
        || ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return;
    }
    for (hi = apr_hash_first(NULL, zt_policy_cache); hi; hi = apr_hash_next(hi)) {
        const zt_policy_t *policy = apr_hash_this_val(hi);

        zt_log_key_warnings(s, policy);
    }
}
