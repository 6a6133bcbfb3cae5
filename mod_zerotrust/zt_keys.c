/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Key sets that change at run time (the rules are in zt_keys.h).
 *
 * Memory.  A key set lives in its own unmanaged pool (zt_snap_t), because
 * it is created by whichever thread fetched it and freed by whichever
 * thread drops the last reference, long after any request pool.  A ring
 * (zt_ring_t) is one malloc'd block: the issuers with their keys, the
 * generations and a reference on each set.  keys->ring is the current one;
 * the mutex guards only that pointer and the sources' fetch bookkeeping,
 * never a fetch: a fetch runs unlocked, owned by whoever set `fetching`.
 *
 * Locking order: keys->mutex only; no callback runs with it held.
 */

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "zt_json.h"
#include "zt_keys.h"
#include "zt_table.h"

/* Identity of a key set file as read: a change of any is a new file. */
typedef struct {
    int valid;
    apr_ino_t inode;
    apr_dev_t device;
    apr_off_t size;
    apr_time_t mtime;
    apr_time_t ctime;
} zt_fileid_t;

/* One parsed key set, shared by the rings that hold it. */
typedef struct {
    apr_pool_t *pool;               /* unmanaged; holds this struct and the set */
    zt_keyset_t *ks;
    uint64_t generation;
    atomic_uint refs;               /* rings holding it */
} zt_snap_t;

/* A keyring: what zt_keys_acquire hands out (pub is first). */
typedef struct {
    zt_keyring_t pub;
    atomic_uint refs;               /* readers, plus one while current */
    int nissuers;
    zt_snap_t **snaps;              /* per issuer, or NULL: no set (yet) */
    zt_issuer_t *issuers;           /* storage of pub.issuers */
    uint64_t *gens;                 /* storage of pub.generations */
} zt_ring_t;

/* One issuer's key source. */
typedef struct {
    zt_keysrc_conf_t conf;
    const char *name;               /* the issuer's local name */
    const char *iss;
    const char *url;                /* url: normal form; discover: the metadata URL */
    uint64_t static_gen;            /* kind NONE: generation of the static keys */
    _Atomic uint64_t generation;    /* of the current set; 0 = none */

    /* Under keys->mutex. */
    int fetching;                   /* a fetch is under way: its owner alone
                                       touches the fields marked (owner) */
    apr_time_t next_due;            /* the refresher's next fetch or stat */
    apr_time_t last_refetch;        /* last unknown-kid refetch, or 0 */
    apr_interval_time_t backoff;    /* after a failure; 0 after a success */
    unsigned long attempts, failures, refetches;
    apr_time_t loaded, last_attempt;
    int nkeys;
    char last_error[512];           /* "" when the last attempt succeeded */

    /* (owner) */
    zt_fileid_t file;               /* identity of the file of the current set */
    zt_fileid_t file_bad;           /* ... of the last one that failed to load */
    unsigned char digest[32];       /* SHA-256 of the current set's document */
    int have_digest;
} zt_src_t;

struct zt_keys_s {
    apr_pool_t *pool;
    zt_keys_opts_t opts;
    int nissuers;
    zt_issuer_t *base;              /* copies of the issuers, keys as given */
    zt_src_t *srcs;                 /* per issuer */
    int dynamic;                    /* some source is not NONE */
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;        /* broadcast: a fetch ended, or stop */
    zt_ring_t *ring;                /* current; under mutex */
    apr_thread_t *thread;           /* the refresher, or NULL */
    atomic_int stopping;
};

/* Generations are unique in the process (see zt_keys.h), across policies
 * and configuration generations: never reset. */
static _Atomic uint64_t zt_keys_next_gen = 1;

static uint64_t zt_keys_new_gen(void)
{
    return atomic_fetch_add(&zt_keys_next_gen, 1);
}

const char *zt_keys_kind_name(zt_keysrc_kind_e kind)
{
    switch (kind) {
    case ZT_KEYSRC_FILE:     return "file";
    case ZT_KEYSRC_URL:      return "url";
    case ZT_KEYSRC_DISCOVER: return "discover";
    case ZT_KEYSRC_NONE:     break;
    }
    return "none";
}

/* ------------------------------------------------------------------ */
/* Sets and rings                                                      */

static void zt_snap_release(zt_snap_t *snap)
{
    if (snap != NULL && atomic_fetch_sub(&snap->refs, 1) == 1) {
        apr_pool_destroy(snap->pool);
    }
}

static void zt_ring_free(zt_ring_t *ring)
{
    for (int i = 0; i < ring->nissuers; i++) {
        zt_snap_release(ring->snaps[i]);
    }
    free(ring);
}

void zt_keys_release(const zt_keyring_t *pub)
{
    zt_ring_t *ring = (zt_ring_t *)pub;     /* pub is the first member */

    if (ring != NULL && atomic_fetch_sub(&ring->refs, 1) == 1) {
        zt_ring_free(ring);
    }
}

static apr_status_t zt_keys_release_cleanup(void *data)
{
    zt_keys_release(data);
    return APR_SUCCESS;
}

void zt_keys_release_on(apr_pool_t *pool, const zt_keyring_t *ring)
{
    if (ring != NULL) {
        apr_pool_cleanup_register(pool, ring, zt_keys_release_cleanup,
                                  apr_pool_cleanup_null);
    }
}

/*
** A ring like @a old but with issuer @a i's set replaced by @a snap (which
** this takes a reference on); @a old NULL builds the first ring.  One
** block: the ring, then the issuers, the generations, the set pointers.
*/
static zt_ring_t *zt_ring_make(const zt_keys_t *keys, const zt_ring_t *old,
                               int i, zt_snap_t *snap)
{
    int n = keys->nissuers;
    size_t size = sizeof(zt_ring_t) + (size_t)n * (sizeof(zt_issuer_t)
                  + sizeof(uint64_t) + sizeof(zt_snap_t *));
    zt_ring_t *ring;
    char *p;

    ring = malloc(size);
    if (ring == NULL) {
        return NULL;
    }
    memset(ring, 0, size);
    p = (char *)(ring + 1);
    ring->issuers = (zt_issuer_t *)p;
    p += (size_t)n * sizeof(zt_issuer_t);
    ring->gens = (uint64_t *)p;
    p += (size_t)n * sizeof(uint64_t);
    ring->snaps = (zt_snap_t **)p;
    ring->nissuers = n;
    atomic_init(&ring->refs, 1);
    for (int j = 0; j < n; j++) {
        zt_snap_t *s = j == i ? snap : old != NULL ? old->snaps[j] : NULL;

        ring->issuers[j] = keys->base[j];
        if (keys->srcs[j].conf.kind == ZT_KEYSRC_NONE) {
            ring->gens[j] = keys->srcs[j].static_gen;
            continue;
        }
        ring->issuers[j].keys = NULL;
        if (s != NULL) {
            atomic_fetch_add(&s->refs, 1);
            ring->snaps[j] = s;
            ring->issuers[j].keys = s->ks;
            ring->gens[j] = s->generation;
        }
    }
    ring->pub.issuers = ring->issuers;
    ring->pub.nissuers = n;
    ring->pub.generations = ring->gens;
    return ring;
}

const zt_keyring_t *zt_keys_acquire(zt_keys_t *keys)
{
    zt_ring_t *ring;

    apr_thread_mutex_lock(keys->mutex);
    ring = keys->ring;
    atomic_fetch_add(&ring->refs, 1);
    apr_thread_mutex_unlock(keys->mutex);
    return &ring->pub;
}

uint64_t zt_keys_generation(const zt_keys_t *keys, int i)
{
    if (i < 0 || i >= keys->nissuers) {
        return 0;
    }
    if (keys->srcs[i].conf.kind == ZT_KEYSRC_NONE) {
        return keys->srcs[i].static_gen;
    }
    return atomic_load(&keys->srcs[i].generation);
}

int zt_keys_issuer_index(const zt_keys_t *keys, const char *iss,
                         apr_size_t len)
{
    for (int i = 0; i < keys->nissuers; i++) {
        const char *s = keys->base[i].iss;

        if (s != NULL && strlen(s) == len && memcmp(s, iss, len) == 0) {
            return i;
        }
    }
    return -1;
}

int zt_keys_dynamic(const zt_keys_t *keys)
{
    return keys->dynamic;
}

/*
** Make @a snap issuer @a i's current set: a new ring, published under the
** mutex (held by the caller); the old ring goes when its readers do.
*/
static apr_status_t zt_keys_publish(zt_keys_t *keys, int i, zt_snap_t *snap)
{
    zt_ring_t *ring = zt_ring_make(keys, keys->ring, i, snap), *old;

    if (ring == NULL) {
        return APR_ENOMEM;
    }
    old = keys->ring;
    keys->ring = ring;
    atomic_store(&keys->srcs[i].generation, snap->generation);
    zt_keys_release(old ? &old->pub : NULL);
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* URLs                                                                */

/* http is allowed to these only: localhost, 127.0.0.0/8, [::1]. */
static int zt_keys_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    char buf[64];
    size_t n = strlen(host);

    if (strcasecmp(host, "localhost") == 0) {
        return 1;
    }
    if (inet_pton(AF_INET, host, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }
    if (n > 2 && n < sizeof(buf) && host[0] == '[' && host[n - 1] == ']') {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        return inet_pton(AF_INET6, buf, &a6) == 1
               && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return 0;
}

apr_status_t zt_keys_url_check(const char *url, apr_pool_t *pool,
                               const char **normalized, const char **err)
{
    CURLU *h;
    CURLUcode rc;
    char *scheme = NULL, *host = NULL, *user = NULL, *norm = NULL;
    apr_status_t rv = APR_EINVAL;

    if (normalized != NULL) {
        *normalized = NULL;
    }
    *err = NULL;
    if (url == NULL || *url == '\0') {
        *err = "the URL is empty";
        return APR_EINVAL;
    }
    /* The rule zpc and the table loader apply (zt_table.h), then curl's
     * own reading of the URL, which is what is fetched, checked again. */
    if ((*err = zt_table_url_problem(url, 0)) != NULL) {
        *err = apr_psprintf(pool, "'%s' %s", url, *err);
        return APR_EINVAL;
    }
    h = curl_url();
    if (h == NULL) {
        *err = "out of memory";
        return APR_ENOMEM;
    }
    rc = curl_url_set(h, CURLUPART_URL, url, 0);
    if (rc != CURLUE_OK) {
        *err = apr_psprintf(pool, "'%s' is not a valid URL (%s)", url,
                            curl_url_strerror(rc));
        goto done;
    }
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
        || curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK
        || curl_url_get(h, CURLUPART_URL, &norm, 0) != CURLUE_OK) {
        *err = apr_psprintf(pool, "'%s' is not an http(s) URL with a host",
                            url);
        goto done;
    }
    if (curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        *err = apr_psprintf(pool, "'%s': user names and passwords do not "
                            "belong in a key set URL", url);
        goto done;
    }
    if (strcmp(scheme, "https") == 0) {
        rv = APR_SUCCESS;
    }
    else if (strcmp(scheme, "http") == 0) {
        if (zt_keys_loopback(host)) {
            rv = APR_SUCCESS;
        }
        else {
            *err = apr_psprintf(pool, "'%s': plain http is allowed only to "
                                "a loopback host (localhost, 127.0.0.0/8, "
                                "[::1]); use https", url);
        }
    }
    else {
        *err = apr_psprintf(pool, "'%s': the scheme must be https (or http "
                            "to a loopback host)", url);
    }
    if (rv == APR_SUCCESS && normalized != NULL) {
        *normalized = apr_pstrdup(pool, norm);
    }
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(norm);
    curl_url_cleanup(h);
    return rv;
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */

typedef struct {
    zt_keys_t *keys;
    apr_pool_t *pool;
    char *buf;
    apr_size_t len, cap, max;
    int too_large;
} zt_body_t;

static size_t zt_keys_write(char *ptr, size_t size, size_t nmemb, void *data)
{
    zt_body_t *b = data;
    size_t n = size * nmemb;        /* size is 1 (libcurl documents it) */

    if (n > b->max - b->len) {
        b->too_large = 1;
        return 0;                   /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (n > b->cap - b->len) {
        apr_size_t cap = b->cap ? b->cap : 16384;
        char *nb;

        while (cap - b->len < n) {
            cap = cap > b->max / 2 ? b->max + 1 : cap * 2;
        }
        nb = apr_palloc(b->pool, cap);
        if (b->len > 0) {
            memcpy(nb, b->buf, b->len);
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, ptr, n);
    b->len += n;
    return n;
}

/* Abandon a transfer when the refresher is told to stop. */
static int zt_keys_progress(void *data, curl_off_t dltotal, curl_off_t dlnow,
                            curl_off_t ultotal, curl_off_t ulnow)
{
    zt_body_t *b = data;

    (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
    return atomic_load(&b->keys->stopping) ? 1 : 0;
}

/*
** GET @a url (checked here again: a jwks_uri comes from the network) and
** return its body, of at most opts.max_size bytes, when the answer is 200.
** The whole transfer ends by @a deadline.  Messages name the URL.
*/
static apr_status_t zt_keys_get(zt_keys_t *keys, const char *url,
                                apr_time_t deadline, apr_pool_t *pool,
                                char **body, apr_size_t *len,
                                const char **ctype, const char **err)
{
    char *ct = NULL;
    char ebuf[CURL_ERROR_SIZE];
    const char *norm;
    struct curl_slist *hdrs = NULL;
    zt_body_t b;
    CURL *c;
    CURLcode rc = CURLE_OK;
    long status = 0;
    apr_interval_time_t left;
    long left_ms, connect_ms;
    apr_status_t rv;

    *body = NULL;
    *len = 0;
    *ctype = NULL;
    if ((rv = zt_keys_url_check(url, pool, &norm, err)) != APR_SUCCESS) {
        return rv;
    }
    left = deadline - apr_time_now();
    if (left <= 0) {
        *err = apr_psprintf(pool, "%s: no time left for the request", norm);
        return APR_TIMEUP;
    }
    left_ms = (long)apr_time_as_msec(left) + 1;
    connect_ms = (long)apr_time_as_msec(keys->opts.connect_timeout);
    if (connect_ms > left_ms) {
        connect_ms = left_ms;
    }
    c = curl_easy_init();
    if (c == NULL) {
        *err = "cannot create an HTTP client (libcurl)";
        return APR_ENOMEM;
    }
    memset(&b, 0, sizeof(b));
    b.keys = keys;
    b.pool = pool;
    b.max = keys->opts.max_size;
    ebuf[0] = '\0';
    hdrs = curl_slist_append(hdrs, "Accept: application/jwk-set+json, "
                                   "application/json");
    /* Every option matters: one that does not take fails the fetch. */
    rc |= curl_easy_setopt(c, CURLOPT_URL, norm);
#if LIBCURL_VERSION_NUM >= 0x075500
    rc |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
#else
    rc |= curl_easy_setopt(c, CURLOPT_PROTOCOLS,
                           (long)(CURLPROTO_HTTPS | CURLPROTO_HTTP));
#endif
    rc |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(c, CURLOPT_PROXY, "");
    rc |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    rc |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    rc |= curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (keys->opts.ca_file != NULL) {
        rc |= curl_easy_setopt(c, CURLOPT_CAINFO, keys->opts.ca_file);
    }
    rc |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    rc |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left_ms);
    rc |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                           (curl_off_t)keys->opts.max_size);
    rc |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, zt_keys_write);
    rc |= curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    rc |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    rc |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, zt_keys_progress);
    rc |= curl_easy_setopt(c, CURLOPT_XFERINFODATA, &b);
    rc |= curl_easy_setopt(c, CURLOPT_USERAGENT, "mod_zerotrust");
    rc |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    rc |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    if (rc != CURLE_OK || hdrs == NULL) {
        *err = "libcurl refused an option the key fetch needs "
               "(libcurl 7.85 or later is required)";
        rv = APR_ENOTIMPL;
        goto done;
    }
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        if (b.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
            *err = apr_psprintf(pool, "%s: the answer is larger than %"
                                APR_SIZE_T_FMT " bytes", norm,
                                keys->opts.max_size);
        }
        else if (rc == CURLE_ABORTED_BY_CALLBACK) {
            *err = apr_psprintf(pool, "%s: abandoned (shutting down)", norm);
        }
        else {
            *err = apr_psprintf(pool, "%s: %s", norm,
                                ebuf[0] ? ebuf : curl_easy_strerror(rc));
        }
        rv = rc == CURLE_OPERATION_TIMEDOUT ? APR_TIMEUP : APR_EGENERAL;
        goto done;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        *err = apr_psprintf(pool, "%s: the server answered HTTP %ld%s", norm,
                            status, status >= 300 && status < 400
                            ? " (redirects are not followed: configure "
                              "the final URL)" : "");
        rv = APR_EGENERAL;
        goto done;
    }
    *body = b.buf != NULL ? b.buf : "";
    *len = b.len;
    /* Only for messages: the body itself decides whether it is a set. */
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK
        && ct != NULL) {
        *ctype = apr_pstrdup(pool, ct);
    }
    rv = APR_SUCCESS;
done:
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Loading one set                                                     */

static int zt_fileid_same(const zt_fileid_t *a, const zt_fileid_t *b)
{
    return a->valid && b->valid && a->inode == b->inode
           && a->device == b->device && a->size == b->size
           && a->mtime == b->mtime && a->ctime == b->ctime;
}

static void zt_fileid_from(zt_fileid_t *id, const apr_finfo_t *fi)
{
    id->valid = 1;
    id->inode = fi->inode;
    id->device = fi->device;
    id->size = fi->size;
    id->mtime = fi->mtime;
    id->ctime = fi->ctime;
}

/*
** A file changed this recently may change again within the same timestamp
** tick (1 s on some filesystems) without its identity showing it: like
** git's "racy" index entries, its identity is not trusted, and the next
** check reads it again (the digest then tells unchanged bytes apart).
*/
#define ZT_FILE_RACY apr_time_from_sec(2)

/*
** Read the key set file.  Its identity is taken from the open descriptor,
** before reading, so a file replaced or rewritten meanwhile differs from
** it at the next check and is read again.
*/
static apr_status_t zt_keys_read_file(zt_keys_t *keys, const char *path,
                                      apr_pool_t *pool, char **body,
                                      apr_size_t *len, zt_fileid_t *id,
                                      const char **err)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t got = 0, max = keys->opts.max_size;
    char ebuf[128], *buf;
    apr_status_t rv;

    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, pool);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(pool, "%s: cannot open: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_MIN | APR_FINFO_IDENT, f);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
        apr_file_close(f);
        *err = apr_psprintf(pool, "%s: cannot stat: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    zt_fileid_from(id, &fi);
    if ((fi.mtime > fi.ctime ? fi.mtime : fi.ctime)
        > apr_time_now() - ZT_FILE_RACY) {
        id->valid = 0;
    }
    /* One byte more than allowed, to tell "exactly the limit" from "more". */
    buf = apr_palloc(pool, max + 1);
    rv = apr_file_read_full(f, buf, max + 1, &got);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *err = apr_psprintf(pool, "%s: cannot read: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    if (got > max) {
        *err = apr_psprintf(pool, "%s: larger than %" APR_SIZE_T_FMT
                            " bytes", path, max);
        return APR_EINVAL;
    }
    *body = buf;
    *len = got;
    return APR_SUCCESS;
}

/*
** OpenID discovery: the metadata at src->url must name src->iss exactly as
** its "issuer" and give a "jwks_uri"; returns that URI.
*/
static apr_status_t zt_keys_discover(zt_keys_t *keys, zt_src_t *src,
                                     apr_time_t deadline, apr_pool_t *pool,
                                     const char **jwks_uri, const char **err)
{
    char *body;
    apr_size_t len;
    const char *jerr = NULL, *ctype;
    json_t *doc, *v;
    apr_status_t rv;

    rv = zt_keys_get(keys, src->url, deadline, pool, &body, &len, &ctype, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    doc = zt_json_parse(body, len, keys->opts.max_size, pool, &jerr);
    if (doc == NULL) {
        *err = apr_psprintf(pool, "%s: the discovery document (%s) is not "
                            "a strict JSON object (%s)", src->url,
                            ctype ? ctype : "no Content-Type",
                            jerr ? jerr : "?");
        return APR_EINVAL;
    }
    zt_json_pool_own(pool, doc);
    v = json_object_get(doc, "issuer");
    if (!json_is_string(v)) {
        *err = apr_psprintf(pool, "%s: the discovery document has no "
                            "\"issuer\" string", src->url);
        return APR_EINVAL;
    }
    if (json_string_length(v) != strlen(src->iss)
        || memcmp(json_string_value(v), src->iss, strlen(src->iss)) != 0) {
        /* OpenID Connect Discovery 1.0 section 4.3: MUST be identical. */
        *err = apr_psprintf(pool, "%s: the discovery document names the "
                            "issuer \"%s\", not \"%s\"", src->url,
                            json_string_value(v), src->iss);
        return APR_EINVAL;
    }
    v = json_object_get(doc, "jwks_uri");
    if (!json_is_string(v)) {
        *err = apr_psprintf(pool, "%s: the discovery document has no "
                            "\"jwks_uri\" string", src->url);
        return APR_EINVAL;
    }
    *jwks_uri = apr_pstrdup(pool, json_string_value(v));
    if (zt_keys_url_check(*jwks_uri, pool, NULL, err) != APR_SUCCESS) {
        *err = apr_psprintf(pool, "%s: jwks_uri %s", src->url, *err);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* Result of one attempt to load a source. */
typedef enum {
    ZT_LOAD_NEW = 0,            /* *snap is a new set; *digest its hash */
    ZT_LOAD_SAME,               /* the same document as the current set's */
    ZT_LOAD_UNCHANGED,          /* a file as before: nothing read */
    ZT_LOAD_FAILED              /* *err says why */
} zt_load_e;

/*
** Load issuer @a src's set into a new unmanaged pool.  The caller owns the
** fetch (src->fetching).  @a tmp takes the body and the messages;
** *where names what was read, for the log.
*/
static zt_load_e zt_keys_load(zt_keys_t *keys, zt_src_t *src, apr_pool_t *tmp,
                              zt_snap_t **snap, unsigned char *digest,
                              const char **where, const char **err)
{
    apr_time_t deadline = apr_time_now() + keys->opts.fetch_timeout;
    zt_fileid_t id = { 0 };
    apr_finfo_t fi;
    apr_pool_t *sp;
    zt_keyset_t *ks = NULL;
    const char *url = src->url, *perr = NULL, *ctype = NULL;
    char *body = NULL;
    apr_size_t len = 0;
    apr_status_t rv;

    *snap = NULL;
    *where = src->conf.location;
    switch (src->conf.kind) {
    case ZT_KEYSRC_FILE:
        /* A cheap look first: most checks find the file as it was. */
        rv = apr_stat(&fi, src->conf.location, APR_FINFO_MIN | APR_FINFO_IDENT,
                      tmp);
        if (rv == APR_SUCCESS || rv == APR_INCOMPLETE) {
            zt_fileid_from(&id, &fi);
            if (zt_fileid_same(&id, &src->file)
                || zt_fileid_same(&id, &src->file_bad)) {
                return ZT_LOAD_UNCHANGED;
            }
        }
        memset(&id, 0, sizeof(id));
        rv = zt_keys_read_file(keys, src->conf.location, tmp, &body, &len,
                               &id, err);
        if (rv != APR_SUCCESS) {
            src->file_bad = id;
            return ZT_LOAD_FAILED;
        }
        break;
    case ZT_KEYSRC_DISCOVER:
        rv = zt_keys_discover(keys, src, deadline, tmp, &url, err);
        if (rv != APR_SUCCESS) {
            *where = src->url;
            return ZT_LOAD_FAILED;
        }
        /* Then the jwks_uri it named, as a url source. */
        /* fall through */
    case ZT_KEYSRC_URL:
        *where = url;
        rv = zt_keys_get(keys, url, deadline, tmp, &body, &len, &ctype, err);
        if (rv != APR_SUCCESS) {
            return ZT_LOAD_FAILED;
        }
        break;
    case ZT_KEYSRC_NONE:
    default:
        *err = "no key source";
        return ZT_LOAD_FAILED;
    }

    /* The same bytes as the current set: no new generation, so the
     * token cache survives a refresh that brings nothing new. */
    if (!EVP_Digest(body, len, digest, NULL, EVP_sha256(), NULL)) {
        *err = "cannot hash the key set (OpenSSL)";
        return ZT_LOAD_FAILED;
    }
    if (src->have_digest && memcmp(digest, src->digest, 32) == 0) {
        if (src->conf.kind == ZT_KEYSRC_FILE) {
            src->file = id;
            memset(&src->file_bad, 0, sizeof(src->file_bad));
        }
        return ZT_LOAD_SAME;
    }
    if (apr_pool_create_unmanaged_ex(&sp, NULL, NULL) != APR_SUCCESS) {
        *err = "out of memory";
        return ZT_LOAD_FAILED;
    }
    rv = zt_jwks_parse(&ks, body, len, sp, &perr);
    if (rv != APR_SUCCESS) {
        *err = ctype != NULL
            ? apr_psprintf(tmp, "%s: the answer (%s) is not a key set: %s",
                           *where, ctype, perr ? perr : "?")
            : apr_psprintf(tmp, "%s: %s", *where, perr ? perr : "bad key set");
        apr_pool_destroy(sp);
        if (src->conf.kind == ZT_KEYSRC_FILE) {
            src->file_bad = id;
        }
        return ZT_LOAD_FAILED;
    }
    *snap = apr_pcalloc(sp, sizeof(zt_snap_t));
    (*snap)->pool = sp;
    (*snap)->ks = ks;
    atomic_init(&(*snap)->refs, 0);
    if (src->conf.kind == ZT_KEYSRC_FILE) {
        src->file = id;
        memset(&src->file_bad, 0, sizeof(src->file_bad));
    }
    return ZT_LOAD_NEW;
}

/* ------------------------------------------------------------------ */
/* Fetching, refreshing                                                */

static void zt_keys_log(zt_keys_t *keys, zt_keys_event_e ev, zt_src_t *src,
                        const char *msg)
{
    if (keys->opts.log != NULL) {
        keys->opts.log(keys->opts.log_baton, ev, src->name, msg);
    }
}

static apr_interval_time_t zt_keys_retry_cap(const zt_src_t *src)
{
    apr_interval_time_t cap = src->conf.refetch_min;

    if (src->conf.refresh < cap) {
        cap = src->conf.refresh;
    }
    return cap < apr_time_from_sec(1) ? apr_time_from_sec(1) : cap;
}

/*
** One fetch (or file check) of issuer @a i, by the caller that set
** src->fetching under the mutex.  Called and returns without the mutex;
** clears `fetching` and wakes every waiter.  Returns 1 if a new set is
** current.
*/
static int zt_keys_fetch(zt_keys_t *keys, int i, int quiet)
{
    zt_src_t *src = &keys->srcs[i];
    apr_pool_t *tmp;
    zt_snap_t *snap = NULL;
    const char *where = NULL, *err = NULL, *msg = NULL;
    apr_array_header_t *notes = NULL;
    zt_keys_event_e ev = 0;
    zt_load_e lr;
    apr_time_t now;
    unsigned char digest[32];
    int updated = 0;

    if (apr_pool_create_unmanaged_ex(&tmp, NULL, NULL) != APR_SUCCESS) {
        apr_thread_mutex_lock(keys->mutex);
        src->fetching = 0;
        src->failures++;
        apr_cpystrn(src->last_error, "out of memory", sizeof(src->last_error));
        src->next_due = apr_time_now() + apr_time_from_sec(1);
        apr_thread_cond_broadcast(keys->cond);
        apr_thread_mutex_unlock(keys->mutex);
        return 0;
    }
    lr = zt_keys_load(keys, src, tmp, &snap, digest, &where, &err);
    now = apr_time_now();
    if (lr == ZT_LOAD_NEW) {
        /* The set may be replaced and freed as soon as the mutex is let
         * go below: copy its notes on skipped keys while it is ours. */
        const apr_array_header_t *w = zt_jwks_warnings(snap->ks);

        notes = apr_array_make(tmp, 4, sizeof(const char *));
        for (int j = 0; w != NULL && j < w->nelts; j++) {
            APR_ARRAY_PUSH(notes, const char *)
                = apr_pstrdup(tmp, APR_ARRAY_IDX(w, j, const char *));
        }
    }

    apr_thread_mutex_lock(keys->mutex);
    if (lr == ZT_LOAD_NEW) {
        snap->generation = zt_keys_new_gen();
        if (zt_keys_publish(keys, i, snap) != APR_SUCCESS) {
            apr_pool_destroy(snap->pool);
            snap = NULL;
            lr = ZT_LOAD_FAILED;
            err = "out of memory";
        }
    }
    if (lr != ZT_LOAD_UNCHANGED) {
        src->attempts++;
        src->last_attempt = now;
    }
    if (lr == ZT_LOAD_NEW) {
        updated = 1;
        memcpy(src->digest, digest, sizeof(src->digest));
        src->have_digest = 1;
        src->loaded = now;
        src->nkeys = zt_jwks_count(snap->ks);
        src->last_error[0] = '\0';
        src->backoff = 0;
        src->next_due = now + (src->conf.kind == ZT_KEYSRC_FILE
                               ? keys->opts.file_check : src->conf.refresh);
        ev = ZT_KEYS_EV_UPDATED;
        msg = apr_psprintf(tmp, "%d key%s from %s, generation %" APR_UINT64_T_FMT,
                           src->nkeys, src->nkeys == 1 ? "" : "s", where,
                           snap->generation);
    }
    else if (lr == ZT_LOAD_SAME) {
        if (src->last_error[0] != '\0') {
            ev = ZT_KEYS_EV_UPDATED;
            msg = apr_psprintf(tmp, "%s answers again, with the key set "
                               "already in use (%d key%s, generation %"
                               APR_UINT64_T_FMT ")", where, src->nkeys,
                               src->nkeys == 1 ? "" : "s",
                               atomic_load(&src->generation));
        }
        src->loaded = now;
        src->last_error[0] = '\0';
        src->backoff = 0;
        src->next_due = now + (src->conf.kind == ZT_KEYSRC_FILE
                               ? keys->opts.file_check : src->conf.refresh);
    }
    else if (lr == ZT_LOAD_UNCHANGED) {
        src->next_due = now + keys->opts.file_check;
    }
    else {
        apr_interval_time_t cap = zt_keys_retry_cap(src);

        /* A file that stays missing or broken is reported once. */
        if (src->conf.kind == ZT_KEYSRC_FILE && err != NULL
            && strcmp(src->last_error, err) == 0) {
            quiet = 1;
        }
        src->failures++;
        apr_cpystrn(src->last_error, err ? err : "unknown error",
                    sizeof(src->last_error));
        if (src->conf.kind == ZT_KEYSRC_FILE) {
            src->next_due = now + keys->opts.file_check;
        }
        else {
            src->backoff = src->backoff == 0 ? apr_time_from_sec(1)
                                             : src->backoff * 2;
            if (src->backoff > cap) {
                src->backoff = cap;
            }
            src->next_due = now + src->backoff;
        }
        if (src->loaded != 0) {
            ev = ZT_KEYS_EV_KEPT;
            msg = apr_psprintf(tmp, "%s; keeping the key set read %"
                               APR_TIME_T_FMT " s ago (%d key%s, generation %"
                               APR_UINT64_T_FMT ")", src->last_error,
                               apr_time_sec(now - src->loaded), src->nkeys,
                               src->nkeys == 1 ? "" : "s",
                               atomic_load(&src->generation));
        }
        else {
            ev = ZT_KEYS_EV_MISSING;
            msg = apr_psprintf(tmp, "%s; no key set yet: its tokens are "
                               "refused until a fetch succeeds", src->last_error);
        }
    }
    src->fetching = 0;
    apr_thread_cond_broadcast(keys->cond);
    apr_thread_mutex_unlock(keys->mutex);

    if (msg != NULL && !quiet) {
        zt_keys_log(keys, ev, src, msg);
    }
    for (int j = 0; updated && !quiet && j < notes->nelts; j++) {
        zt_keys_log(keys, ZT_KEYS_EV_KEY_SKIPPED, src,
                    APR_ARRAY_IDX(notes, j, const char *));
    }
    apr_pool_destroy(tmp);
    return updated;
}

int zt_keys_refetch(zt_keys_t *keys, int i, uint64_t seen)
{
    zt_src_t *src;
    apr_time_t now, deadline;
    apr_interval_time_t limit;
    const char *msg;
    int changed;

    if (i < 0 || i >= keys->nissuers
        || keys->srcs[i].conf.kind == ZT_KEYSRC_NONE) {
        return 0;
    }
    src = &keys->srcs[i];
    apr_thread_mutex_lock(keys->mutex);
    if (atomic_load(&src->generation) != seen) {
        apr_thread_mutex_unlock(keys->mutex);
        return 1;
    }
    now = apr_time_now();
    if (src->fetching) {
        /* Single flight: wait for the fetch under way, bounded. */
        deadline = now + keys->opts.fetch_timeout + apr_time_from_sec(1);
        while (src->fetching && now < deadline) {
            apr_thread_cond_timedwait(keys->cond, keys->mutex, deadline - now);
            now = apr_time_now();
        }
        changed = atomic_load(&src->generation) != seen;
        apr_thread_mutex_unlock(keys->mutex);
        return changed;
    }
    limit = src->conf.kind == ZT_KEYSRC_FILE ? keys->opts.file_check
                                              : src->conf.refetch_min;
    if (src->last_refetch != 0 && now - src->last_refetch < limit) {
        apr_interval_time_t left = limit - (now - src->last_refetch);

        apr_thread_mutex_unlock(keys->mutex);
        if (src->conf.kind != ZT_KEYSRC_FILE && keys->opts.log != NULL) {
            char buf[160];

            apr_snprintf(buf, sizeof(buf), "a token names a key the set does "
                         "not hold; not refetching for another %" APR_TIME_T_FMT
                         " s (refetch_min)", apr_time_sec(left) + 1);
            zt_keys_log(keys, ZT_KEYS_EV_REFETCH_LIMITED, src, buf);
        }
        return 0;
    }
    src->last_refetch = now;
    src->refetches++;
    src->fetching = 1;
    apr_thread_mutex_unlock(keys->mutex);

    if (src->conf.kind != ZT_KEYSRC_FILE) {
        msg = "a token names a key the set does not hold: refetching it";
        zt_keys_log(keys, ZT_KEYS_EV_REFETCH, src, msg);
    }
    zt_keys_fetch(keys, i, 0);
    return atomic_load(&src->generation) != seen;
}

/*
** The refresher: wakes when a source is due (files every file_check,
** url/discover sets every refresh, sooner after failures) or when told to
** stop, and fetches whatever is due, one source at a time.
*/
static void *APR_THREAD_FUNC zt_keys_main(apr_thread_t *thd, void *data)
{
    zt_keys_t *keys = data;

    apr_thread_mutex_lock(keys->mutex);
    while (!atomic_load(&keys->stopping)) {
        apr_time_t now = apr_time_now();
        apr_time_t next = now + apr_time_from_sec(60);

        for (int i = 0; i < keys->nissuers; i++) {
            zt_src_t *src = &keys->srcs[i];

            if (atomic_load(&keys->stopping)) {
                break;
            }
            if (src->conf.kind == ZT_KEYSRC_NONE) {
                continue;
            }
            if (!src->fetching && src->next_due <= now) {
                src->fetching = 1;
                apr_thread_mutex_unlock(keys->mutex);
                zt_keys_fetch(keys, i, 0);
                apr_thread_mutex_lock(keys->mutex);
                now = apr_time_now();
            }
            if (src->fetching) {
                /* Someone else's fetch: look again soon after it ends. */
                if (now + apr_time_from_sec(1) < next) {
                    next = now + apr_time_from_sec(1);
                }
            }
            else if (src->next_due < next) {
                next = src->next_due;
            }
        }
        if (atomic_load(&keys->stopping)) {
            break;
        }
        now = apr_time_now();
        if (next > now) {
            apr_thread_cond_timedwait(keys->cond, keys->mutex, next - now);
        }
    }
    apr_thread_mutex_unlock(keys->mutex);
    apr_thread_exit(thd, APR_SUCCESS);
    return NULL;
}

static apr_status_t zt_keys_stop_cleanup(void *data)
{
    zt_keys_stop(data);
    return APR_SUCCESS;
}

apr_status_t zt_keys_start(zt_keys_t *keys, apr_pool_t *pool)
{
    apr_threadattr_t *attr;
    apr_status_t rv;

    if (keys->thread != NULL || !keys->dynamic) {
        return APR_SUCCESS;
    }
    atomic_store(&keys->stopping, 0);
    if ((rv = apr_threadattr_create(&attr, pool)) != APR_SUCCESS) {
        return rv;
    }
    rv = apr_thread_create(&keys->thread, attr, zt_keys_main, keys, pool);
    if (rv != APR_SUCCESS) {
        keys->thread = NULL;
        return rv;
    }
    /* A pre-cleanup: apr_pool_destroy destroys subpools (the thread's
     * own among them) before it runs ordinary cleanups. */
    apr_pool_pre_cleanup_register(pool, keys, zt_keys_stop_cleanup);
    return APR_SUCCESS;
}

/*
** Stop the refresher.  This may run from a signal handler: prefork's
** children destroy pchild from their SIGTERM handler, possibly while the
** interrupted thread holds keys->mutex (for a few instructions in
** zt_keys_acquire).  So the mutex is only tried, for up to 100 ms; the
** refresher holds it for microseconds.  Failing that, the process is
** exiting with the lock held: the thread is told to stop but not waited
** for, and it cannot run on, since it needs that lock.
*/
void zt_keys_stop(zt_keys_t *keys)
{
    apr_status_t trv;
    int locked = 0;

    if (keys->thread == NULL) {
        return;
    }
    atomic_store(&keys->stopping, 1);
    for (int i = 0; i < 100 && !locked; i++) {
        if (apr_thread_mutex_trylock(keys->mutex) == APR_SUCCESS) {
            locked = 1;
        }
        else {
            apr_sleep(apr_time_from_msec(1));
        }
    }
    apr_thread_cond_broadcast(keys->cond);
    if (!locked) {
        keys->thread = NULL;
        return;
    }
    apr_thread_mutex_unlock(keys->mutex);
    apr_thread_join(&trv, keys->thread);
    keys->thread = NULL;
}

/* ------------------------------------------------------------------ */
/* Creation                                                            */

static apr_status_t zt_keys_cleanup(void *data)
{
    zt_keys_t *keys = data;

    zt_keys_stop(keys);
    if (keys->ring != NULL) {
        zt_keys_release(&keys->ring->pub);
        keys->ring = NULL;
    }
    return APR_SUCCESS;
}

/* libcurl's global state, once per process, before any thread. */
static apr_status_t zt_keys_curl_init(const char **err)
{
    static int done;

    if (!done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            *err = "libcurl cannot be initialised";
            return APR_EGENERAL;
        }
        done = 1;
    }
    return APR_SUCCESS;
}

apr_status_t zt_keys_create(zt_keys_t **out, const zt_issuer_t *issuers,
                            const zt_keysrc_conf_t *srcs, int nissuers,
                            const zt_keys_opts_t *opts, apr_pool_t *pool,
                            const char **err)
{
    zt_keys_t *keys;
    apr_status_t rv;

    *out = NULL;
    *err = NULL;
    if (nissuers < 0 || nissuers > ZT_MAX_ISSUERS) {
        *err = apr_psprintf(pool, "%d issuers (the limit is %d)", nissuers,
                            ZT_MAX_ISSUERS);
        return APR_EINVAL;
    }
    keys = apr_pcalloc(pool, sizeof(*keys));
    keys->pool = pool;
    if (opts != NULL) {
        keys->opts = *opts;
    }
    if (keys->opts.connect_timeout <= 0) {
        keys->opts.connect_timeout = ZT_KEYS_CONNECT_TIMEOUT;
    }
    if (keys->opts.fetch_timeout <= 0) {
        keys->opts.fetch_timeout = ZT_KEYS_FETCH_TIMEOUT;
    }
    if (keys->opts.file_check <= 0) {
        keys->opts.file_check = ZT_KEYS_FILE_CHECK;
    }
    if (keys->opts.max_size == 0) {
        keys->opts.max_size = ZT_JWKS_MAX_LEN;
    }
    keys->nissuers = nissuers;
    keys->base = apr_pcalloc(pool, sizeof(zt_issuer_t) * (nissuers ? nissuers : 1));
    keys->srcs = apr_pcalloc(pool, sizeof(zt_src_t) * (nissuers ? nissuers : 1));
    atomic_init(&keys->stopping, 0);

    for (int i = 0; i < nissuers; i++) {
        zt_src_t *src = &keys->srcs[i];
        const char *e = NULL;

        keys->base[i] = issuers[i];
        src->conf = srcs[i];
        src->name = issuers[i].name ? issuers[i].name : "?";
        src->iss = issuers[i].iss ? issuers[i].iss : "";
        atomic_init(&src->generation, 0);
        switch (src->conf.kind) {
        case ZT_KEYSRC_NONE:
            src->static_gen = zt_keys_new_gen();
            continue;
        case ZT_KEYSRC_FILE:
            if (src->conf.location == NULL || *src->conf.location != '/') {
                *err = apr_psprintf(pool, "issuer %s: the key set file name "
                                    "must be absolute here", src->name);
                return APR_EINVAL;
            }
            break;
        case ZT_KEYSRC_URL:
            if (zt_keys_url_check(src->conf.location, pool, &src->url, &e)
                != APR_SUCCESS) {
                *err = apr_psprintf(pool, "issuer %s: jwks url %s", src->name, e);
                return APR_EINVAL;
            }
            break;
        case ZT_KEYSRC_DISCOVER: {
            apr_size_t n = strlen(src->iss);
            const char *url;

            while (n > 0 && src->iss[n - 1] == '/') {
                n--;
            }
            url = apr_pstrcat(pool, apr_pstrmemdup(pool, src->iss, n),
                              ZT_KEYS_DISCOVERY_PATH, NULL);
            if (zt_keys_url_check(url, pool, &src->url, &e) != APR_SUCCESS) {
                *err = apr_psprintf(pool, "issuer %s: jwks discover needs an "
                                    "https issuer (or http on loopback): %s",
                                    src->name, e);
                return APR_EINVAL;
            }
            if (strchr(src->iss, '?') || strchr(src->iss, '#')) {
                *err = apr_psprintf(pool, "issuer %s: jwks discover: the "
                                    "issuer \"%s\" has a query or fragment",
                                    src->name, src->iss);
                return APR_EINVAL;
            }
            break;
        }
        default:
            *err = apr_psprintf(pool, "issuer %s: unknown key source kind %d",
                                src->name, (int)src->conf.kind);
            return APR_EINVAL;
        }
        if (src->conf.refresh <= 0 || src->conf.refetch_min <= 0) {
            *err = apr_psprintf(pool, "issuer %s: refresh and refetch_min "
                                "must be positive", src->name);
            return APR_EINVAL;
        }
        keys->dynamic = 1;
    }
    for (int i = 0; i < nissuers; i++) {
        if (keys->srcs[i].conf.kind == ZT_KEYSRC_URL
            || keys->srcs[i].conf.kind == ZT_KEYSRC_DISCOVER) {
            if ((rv = zt_keys_curl_init(err)) != APR_SUCCESS) {
                return rv;
            }
            break;
        }
    }
    rv = apr_thread_mutex_create(&keys->mutex, APR_THREAD_MUTEX_DEFAULT, pool);
    if (rv == APR_SUCCESS) {
        rv = apr_thread_cond_create(&keys->cond, pool);
    }
    if (rv != APR_SUCCESS) {
        *err = "cannot create a mutex";
        return rv;
    }
    keys->ring = zt_ring_make(keys, NULL, -1, NULL);
    if (keys->ring == NULL) {
        *err = "out of memory";
        return APR_ENOMEM;
    }
    /* Registered after the mutex: runs before the mutex is destroyed. */
    apr_pool_cleanup_register(pool, keys, zt_keys_cleanup,
                              apr_pool_cleanup_null);

    /* Files are read now, so a bad one fails the configuration. */
    for (int i = 0; i < nissuers; i++) {
        zt_src_t *src = &keys->srcs[i];

        if (src->conf.kind != ZT_KEYSRC_FILE) {
            continue;
        }
        /* Quiet: the configuration reports what fails, and the parent
         * reads the configuration twice at start-up. */
        src->fetching = 1;
        zt_keys_fetch(keys, i, 1);
        if (atomic_load(&src->generation) == 0) {
            *err = apr_psprintf(pool, "issuer %s: %s", src->name,
                                src->last_error);
            return APR_EINVAL;
        }
    }
    *out = keys;
    return APR_SUCCESS;
}

apr_status_t zt_keys_from_policy(zt_keys_t **keys, const zt_policy_t *policy,
                                 const zt_keys_opts_t *opts, apr_pool_t *pool,
                                 const char **err)
{
    const zt_table_t *t = policy->table;
    zt_keysrc_conf_t *srcs;
    int n = policy->nissuers;

    srcs = apr_pcalloc(pool, sizeof(*srcs) * (n ? n : 1));
    for (int i = 0; i < n; i++) {
        const zt_issuer_rec_t *rec = &t->issuers[i];
        const char *loc = zt_table_str(t, rec->jwks);
        char *path = NULL;

        srcs[i].refresh = apr_time_from_sec(rec->refresh ? rec->refresh
                                            : ZT_REFRESH_DEFAULT);
        srcs[i].refetch_min = apr_time_from_sec(rec->refetch_min
                                                ? rec->refetch_min
                                                : ZT_REFETCH_MIN_DEFAULT);
        switch (rec->jwks_kind) {
        case ZT_JWKS_FILE:
            if (apr_filepath_merge(&path, (policy->dir && *policy->dir)
                                   ? policy->dir : NULL, loc, 0, pool)
                != APR_SUCCESS || *path != '/') {
                *err = apr_psprintf(pool, "%s: issuer %s: bad jwks file name "
                                    "'%s'", t->name, policy->issuers[i].name,
                                    loc);
                return APR_EINVAL;
            }
            srcs[i].kind = ZT_KEYSRC_FILE;
            srcs[i].location = path;
            break;
        case ZT_JWKS_URL:
            srcs[i].kind = ZT_KEYSRC_URL;
            srcs[i].location = loc;
            break;
        case ZT_JWKS_DISCOVER:
            srcs[i].kind = ZT_KEYSRC_DISCOVER;
            break;
        case ZT_JWKS_NONE:
            srcs[i].kind = ZT_KEYSRC_NONE;
            break;
        default:
            *err = apr_psprintf(pool, "%s: issuer %s: key source kind %u is "
                                "not supported", t->name,
                                policy->issuers[i].name,
                                (unsigned int)rec->jwks_kind);
            return APR_ENOTIMPL;
        }
    }
    if (zt_keys_create(keys, policy->issuers, srcs, n, opts, pool, err)
        != APR_SUCCESS) {
        *err = apr_psprintf(pool, "%s: %s", t->name, *err);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

void zt_keys_stat(zt_keys_t *keys, int i, zt_keys_stat_t *st,
                  apr_pool_t *pool)
{
    zt_src_t *src;

    memset(st, 0, sizeof(*st));
    if (i < 0 || i >= keys->nissuers) {
        return;
    }
    src = &keys->srcs[i];
    apr_thread_mutex_lock(keys->mutex);
    st->kind = src->conf.kind;
    st->generation = zt_keys_generation(keys, i);
    st->nkeys = src->conf.kind == ZT_KEYSRC_NONE
                ? zt_jwks_count(keys->base[i].keys) : src->nkeys;
    st->loaded = src->loaded;
    st->last_attempt = src->last_attempt;
    st->attempts = src->attempts;
    st->failures = src->failures;
    st->refetches = src->refetches;
    st->last_error = src->last_error[0] ? apr_pstrdup(pool, src->last_error)
                                        : NULL;
    apr_thread_mutex_unlock(keys->mutex);
}
