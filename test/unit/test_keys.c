/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Key sets that change at run time (zt_keys): files, URLs and OpenID
 * discovery against a real HTTP server on 127.0.0.1 that runs in this
 * process (a thread), so every request the code makes is counted.  No
 * test sends traffic off the machine: the refusals of non-loopback http
 * happen before any connection (192.0.2.0/24 is TEST-NET-1 anyway).
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "zt_test.h"
#include "zt_ir_build.h"
#include "zpc_back.h"
#include "zt_b64.h"
#include "zt_format.h"
#include "zt_keys.h"
#include "zt_table.h"
#include "zt_token.h"

#define ZT_T_ROUTES 8

/* How long a test waits for something that must happen (a refresh, a
 * retry, a request reaching the server) before it fails.  A loaded
 * machine is slow, not wrong: the deadline is generous, and a passing
 * test does not wait for it, because every wait polls. */
#define ZT_T_PATIENCE apr_time_from_sec(20)

/* ------------------------------------------------------------------ */
/* A small HTTP/1.1 server: one connection at a time, Connection: close */

typedef struct {
    char path[128];
    int status;
    char ctype[64];
    char *body;                 /* malloc'd */
    size_t len;
    int delay_ms;               /* before answering */
    int chunked;                /* no Content-Length */
    char location[128];         /* for 3xx */
    int hits;
} zt_route_t;

typedef struct {
    int fd;
    int port;
    pthread_t thr;
    pthread_mutex_t mu;
    zt_route_t routes[ZT_T_ROUTES];
    int nroutes;
    int total;                  /* requests answered or not */
    atomic_int stop;
} zt_srv_t;

static zt_srv_t srv;

static void zt_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static void zt_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w <= 0) {
            return;             /* the client gave up: fine */
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Wait @a ms before answering; 0 if the client hung up meanwhile (its
 * fetch timed out or was abandoned) or the server stops.  The server
 * answers one connection at a time: the next request must not wait for
 * an answer nobody reads. */
static int zt_srv_hold(int fd, int ms)
{
    for (int t = 0; t < ms; t += 10) {
        struct pollfd pf = { fd, POLLIN, 0 };
        char c;

        if (srv.stop) {
            return 0;
        }
        /* The request is read whole: more input is the end of it. */
        if (poll(&pf, 1, 10) > 0
            && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) {
            return 0;
        }
    }
    return 1;
}

static void zt_srv_answer(int fd)
{
    char req[8192], path[128], head[512];
    size_t got = 0;
    zt_route_t r;
    int found = -1;

    memset(&r, 0, sizeof(r));
    while (got < sizeof(req) - 1) {
        struct pollfd pf = { fd, POLLIN, 0 };
        ssize_t n;

        if (poll(&pf, 1, 10000) <= 0) {
            return;
        }
        n = read(fd, req + got, sizeof(req) - 1 - got);
        if (n <= 0) {
            return;
        }
        got += (size_t)n;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n")) {
            break;
        }
    }
    if (sscanf(req, "GET %127s HTTP/1.1", path) != 1) {
        return;
    }
    pthread_mutex_lock(&srv.mu);
    srv.total++;
    for (int i = 0; i < srv.nroutes; i++) {
        if (strcmp(srv.routes[i].path, path) == 0) {
            srv.routes[i].hits++;
            r = srv.routes[i];
            r.body = malloc(r.len + 1);
            memcpy(r.body, srv.routes[i].body, r.len);
            found = i;
            break;
        }
    }
    pthread_mutex_unlock(&srv.mu);
    if (found < 0) {
        snprintf(head, sizeof(head), "HTTP/1.1 404 Not Found\r\n"
                 "Content-Length: 0\r\nConnection: close\r\n\r\n");
        zt_write_all(fd, head, strlen(head));
        return;
    }
    if (!zt_srv_hold(fd, r.delay_ms)) {
        free(r.body);
        return;
    }
    if (r.chunked) {
        snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: %s\r\n"
                 "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                 r.status, r.ctype);
        zt_write_all(fd, head, strlen(head));
        for (size_t off = 0; off < r.len; off += 4096) {
            size_t n = r.len - off < 4096 ? r.len - off : 4096;
            char ch[32];

            snprintf(ch, sizeof(ch), "%zx\r\n", n);
            zt_write_all(fd, ch, strlen(ch));
            zt_write_all(fd, r.body + off, n);
            zt_write_all(fd, "\r\n", 2);
        }
        zt_write_all(fd, "0\r\n\r\n", 5);
    }
    else {
        snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: %s\r\n"
                 "Content-Length: %zu\r\n%s%s%sConnection: close\r\n\r\n",
                 r.status, r.ctype, r.len,
                 r.location[0] ? "Location: " : "", r.location,
                 r.location[0] ? "\r\n" : "");
        zt_write_all(fd, head, strlen(head));
        zt_write_all(fd, r.body, r.len);
    }
    free(r.body);
}

static void *zt_srv_main(void *unused)
{
    (void)unused;
    while (!srv.stop) {
        struct pollfd pf = { srv.fd, POLLIN, 0 };
        int c;

        if (poll(&pf, 1, 50) <= 0) {
            continue;
        }
        c = accept(srv.fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        zt_srv_answer(c);
        close(c);
    }
    return NULL;
}

static void zt_srv_start(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int one = 1;

    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.mu, NULL);
    srv.fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(srv.fd, 0);
    setsockopt(srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(srv.fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(srv.fd, 64), 0);
    getsockname(srv.fd, (struct sockaddr *)&a, &alen);
    srv.port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&srv.thr, NULL, zt_srv_main, NULL), 0);
}

static void zt_srv_stop(void)
{
    srv.stop = 1;
    pthread_join(srv.thr, NULL);
    close(srv.fd);
    for (int i = 0; i < srv.nroutes; i++) {
        free(srv.routes[i].body);
    }
    srv.nroutes = 0;
}

/* Serve @a body at @a path (replacing what was there; hits are kept). */
static zt_route_t *zt_srv_set_full(const char *path, int status,
                                   const char *ctype, const char *body,
                                   size_t len)
{
    zt_route_t *r = NULL;

    pthread_mutex_lock(&srv.mu);
    for (int i = 0; i < srv.nroutes; i++) {
        if (strcmp(srv.routes[i].path, path) == 0) {
            r = &srv.routes[i];
        }
    }
    if (r == NULL) {
        ck_assert_int_lt(srv.nroutes, ZT_T_ROUTES);
        r = &srv.routes[srv.nroutes++];
        memset(r, 0, sizeof(*r));
        snprintf(r->path, sizeof(r->path), "%s", path);
    }
    free(r->body);
    r->status = status;
    snprintf(r->ctype, sizeof(r->ctype), "%s", ctype);
    r->body = malloc(len + 1);
    memcpy(r->body, body, len);
    r->len = len;
    r->delay_ms = 0;
    r->chunked = 0;
    r->location[0] = '\0';
    pthread_mutex_unlock(&srv.mu);
    return r;
}

static zt_route_t *zt_srv_set(const char *path, const char *body)
{
    return zt_srv_set_full(path, 200, "application/json", body, strlen(body));
}

static void zt_srv_delay(const char *path, int ms)
{
    pthread_mutex_lock(&srv.mu);
    for (int i = 0; i < srv.nroutes; i++) {
        if (strcmp(srv.routes[i].path, path) == 0) {
            srv.routes[i].delay_ms = ms;
        }
    }
    pthread_mutex_unlock(&srv.mu);
}

static int zt_srv_hits(const char *path)
{
    int n = 0;

    pthread_mutex_lock(&srv.mu);
    for (int i = 0; i < srv.nroutes; i++) {
        if (strcmp(srv.routes[i].path, path) == 0) {
            n = srv.routes[i].hits;
        }
    }
    pthread_mutex_unlock(&srv.mu);
    return n;
}

static int zt_srv_total(void)
{
    int n;

    pthread_mutex_lock(&srv.mu);
    n = srv.total;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

static const char *zt_srv_url(apr_pool_t *p, const char *path)
{
    return apr_psprintf(p, "http://127.0.0.1:%d%s", srv.port, path);
}

/* ------------------------------------------------------------------ */
/* Keys, sets, tokens                                                  */

typedef struct {
    EVP_PKEY *pkey;
    char x[64];                 /* base64url of the raw public key */
} zt_edkey_t;

static zt_edkey_t ka, kb, kc;
static apr_pool_t *pool;

static void zt_edkey(zt_edkey_t *k)
{
    unsigned char raw[32];
    size_t n = sizeof(raw);

    k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    ck_assert_ptr_nonnull(k->pkey);
    ck_assert_int_eq(EVP_PKEY_get_raw_public_key(k->pkey, raw, &n), 1);
    zt_b64url_encode(k->x, raw, n);
}

static const char *zt_jwk(const zt_edkey_t *k, const char *kid)
{
    return apr_psprintf(pool, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                        "\"x\":\"%s\",\"kid\":\"%s\",\"use\":\"sig\"}",
                        k->x, kid);
}

static const char *zt_set1(const zt_edkey_t *k, const char *kid)
{
    return apr_psprintf(pool, "{\"keys\":[%s]}", zt_jwk(k, kid));
}

static const char *zt_set2(const zt_edkey_t *k1, const char *kid1,
                           const zt_edkey_t *k2, const char *kid2)
{
    return apr_psprintf(pool, "{\"keys\":[%s,%s]}", zt_jwk(k1, kid1),
                        zt_jwk(k2, kid2));
}

#define ZT_T_ISS "https://idp.test"

static const char *zt_token(const zt_edkey_t *k, const char *kid,
                            const char *iss)
{
    long now = (long)time(NULL);
    const char *h = apr_psprintf(pool, "{\"alg\":\"EdDSA\",\"kid\":\"%s\"}", kid);
    const char *c = apr_psprintf(pool, "{\"iss\":\"%s\",\"aud\":\"api\","
                                 "\"sub\":\"u1\",\"iat\":%ld,\"exp\":%ld}",
                                 iss, now, now + 300);
    const char *in = apr_pstrcat(pool,
        zt_b64url_encode_pool(pool, (const unsigned char *)h, strlen(h)), ".",
        zt_b64url_encode_pool(pool, (const unsigned char *)c, strlen(c)), NULL);
    unsigned char sig[64];
    size_t slen = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    ck_assert_int_eq(EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey), 1);
    ck_assert_int_eq(EVP_DigestSign(md, sig, &slen, (const unsigned char *)in,
                                    strlen(in)), 1);
    EVP_MD_CTX_free(md);
    return apr_pstrcat(pool, in, ".", zt_b64url_encode_pool(pool, sig, slen),
                       NULL);
}

/* The kids of issuer @a i in @a ring, "a,b" ("" when it has no set). */
static const char *zt_kids(const zt_keyring_t *ring, int i)
{
    const zt_keyset_t *ks = ring->issuers[i].keys;
    const char *s = "";

    for (int j = 0; j < zt_jwks_count(ks); j++) {
        s = apr_pstrcat(pool, s, j ? "," : "", zt_jwks_key(ks, j)->kid, NULL);
    }
    return s;
}

/* Kids of issuer @a i now. */
static const char *zt_kids_now(zt_keys_t *keys, int i)
{
    const zt_keyring_t *ring = zt_keys_acquire(keys);
    const char *s = zt_kids(ring, i);

    zt_keys_release(ring);
    return s;
}

/* ------------------------------------------------------------------ */
/* Fixture                                                             */

typedef struct {
    int n;
    zt_keys_event_e ev[64];
    char msg[64][512];
    pthread_mutex_t mu;
} zt_logbook_t;

static zt_logbook_t logbook;

static void zt_t_log(void *baton, zt_keys_event_e ev, const char *issuer,
                     const char *msg)
{
    zt_logbook_t *lb = baton;

    ck_assert_str_eq(issuer, "corp");
    pthread_mutex_lock(&lb->mu);
    if (lb->n < 64) {
        lb->ev[lb->n] = ev;
        snprintf(lb->msg[lb->n], sizeof(lb->msg[0]), "%s", msg);
        lb->n++;
    }
    pthread_mutex_unlock(&lb->mu);
}

/* The last logged message of kind @a ev, or NULL. */
static const char *zt_logged(zt_keys_event_e ev)
{
    const char *m = NULL;

    pthread_mutex_lock(&logbook.mu);
    for (int i = 0; i < logbook.n; i++) {
        if (logbook.ev[i] == ev) {
            m = apr_pstrdup(pool, logbook.msg[i]);
        }
    }
    pthread_mutex_unlock(&logbook.mu);
    return m;
}

static zt_keys_opts_t opts;

/* This test's own directory for key set files: test programs of other
 * build trees run at the same time, and a shared name in /tmp is
 * rewritten under a test's feet. */
static char tmpdir[512];

static void setup(void)
{
    const char *t = getenv("TMPDIR");

    snprintf(tmpdir, sizeof(tmpdir), "%s/zt-keys-XXXXXX", t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    apr_pool_create(&pool, NULL);
    zt_edkey(&ka);
    zt_edkey(&kb);
    zt_edkey(&kc);
    memset(&logbook, 0, sizeof(logbook));
    pthread_mutex_init(&logbook.mu, NULL);
    memset(&opts, 0, sizeof(opts));
    opts.log = zt_t_log;
    opts.log_baton = &logbook;
    zt_srv_start();
}

static void teardown(void)
{
    DIR *d;
    struct dirent *e;

    zt_srv_stop();
    apr_pool_destroy(pool);     /* stops refreshers, frees every set */
    EVP_PKEY_free(ka.pkey);
    EVP_PKEY_free(kb.pkey);
    EVP_PKEY_free(kc.pkey);
    if ((d = opendir(tmpdir)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            char f[1024];

            snprintf(f, sizeof(f), "%s/%s", tmpdir, e->d_name);
            unlink(f);          /* "." and ".." refuse */
        }
        closedir(d);
    }
    rmdir(tmpdir);
}

static zt_issuer_t zt_issuer(const char *iss)
{
    zt_issuer_t is;

    memset(&is, 0, sizeof(is));
    is.name = "corp";
    is.iss = iss;
    is.audience = "api";
    is.algs = ZT_ALG_EDDSA;
    is.leeway = 5;
    return is;
}

/* One issuer with one source. */
static zt_keys_t *zt_mk(zt_keysrc_kind_e kind, const char *loc,
                        const char *iss, apr_interval_time_t refresh,
                        apr_interval_time_t refetch_min, const char **err)
{
    zt_issuer_t is = zt_issuer(iss);
    zt_keysrc_conf_t sc = { kind, loc, refresh, refetch_min };
    zt_keys_t *keys = NULL;

    *err = NULL;
    if (zt_keys_create(&keys, &is, &sc, 1, &opts, pool, err) != APR_SUCCESS) {
        return NULL;
    }
    return keys;
}

static zt_keys_t *zt_mk_url(const char *path, apr_interval_time_t refetch_min)
{
    const char *err;
    zt_keys_t *keys = zt_mk(ZT_KEYSRC_URL, zt_srv_url(pool, path), ZT_T_ISS,
                            apr_time_from_sec(3600), refetch_min, &err);

    ck_assert_msg(keys != NULL, "create: %s", err);
    return keys;
}

/* Poll @a cond(@a keys, @a arg) every 10 ms until it holds (1) or
 * ZT_T_PATIENCE has passed (0). */
static int zt_t_until(int (*cond)(zt_keys_t *, const void *),
                      zt_keys_t *keys, const void *arg)
{
    apr_time_t end = apr_time_now() + ZT_T_PATIENCE;

    while (!cond(keys, arg)) {
        if (apr_time_now() > end) {
            return 0;
        }
        zt_sleep_ms(10);
    }
    return 1;
}

static int zt_t_kids_are(zt_keys_t *keys, const void *want)
{
    return strcmp(zt_kids_now(keys, 0), want) == 0;
}

static int zt_t_failed(zt_keys_t *keys, const void *n)
{
    zt_keys_stat_t st;

    zt_keys_stat(keys, 0, &st, pool);
    return st.failures >= *(const unsigned long *)n;
}

static int zt_t_requested(zt_keys_t *keys, const void *n)
{
    (void)keys;
    return zt_srv_total() >= *(const int *)n;
}

static int zt_t_logged(zt_keys_t *keys, const void *ev)
{
    (void)keys;
    return zt_logged(*(const zt_keys_event_e *)ev) != NULL;
}

/* Issuer 0's kids become @a want (by the refresher). */
static int zt_wait_kids(zt_keys_t *keys, const char *want)
{
    return zt_t_until(zt_t_kids_are, keys, want);
}

/* At least @a n fetches of issuer 0 failed. */
static int zt_wait_failures(zt_keys_t *keys, unsigned long n)
{
    return zt_t_until(zt_t_failed, keys, &n);
}

/* The server has seen @a n requests (a fetch is under way or done). */
static int zt_wait_requests(int n)
{
    return zt_t_until(zt_t_requested, NULL, &n);
}

/* Something of kind @a ev was logged. */
static int zt_wait_logged(zt_keys_event_e ev)
{
    return zt_t_until(zt_t_logged, NULL, &ev);
}

/*
** An unknown kid asks for issuer @a i's set (generation @a seen) every
** 10 ms until a new set is current.  Returns how long after @a t0 that
** was, or -1 after ZT_T_PATIENCE.  Rate limits are proven this way,
** not by a "too soon" call that a stalled machine may make too late: a
** new set that came less than the limit after @a t0 (taken before the
** refetch that started the limit) came too soon.
*/
static apr_interval_time_t zt_t_refetch_until(zt_keys_t *keys, int i,
                                              uint64_t seen, apr_time_t t0)
{
    apr_time_t end = apr_time_now() + ZT_T_PATIENCE;

    while (!zt_keys_refetch(keys, i, seen)) {
        if (apr_time_now() > end) {
            return -1;
        }
        zt_sleep_ms(10);
    }
    return apr_time_now() - t0;
}

static const char *zt_write_file(const char *name, const char *text)
{
    const char *path = apr_psprintf(pool, "%s/%s", tmpdir, name);
    const char *tmp = apr_pstrcat(pool, path, ".tmp", NULL);
    FILE *f = fopen(tmp, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(rename(tmp, path), 0);
    return path;
}

/* ------------------------------------------------------------------ */
/* URL rules                                                           */

START_TEST(t_url_check)
{
    static const struct { const char *url; int ok; const char *why; } v[] = {
        { "https://idp.example.com/certs", 1, NULL },
        { "https://10.1.2.3:8443/jwks", 1, NULL },
        { "https://idp.example.com/x?y=1", 1, NULL },
        { "HTTPS://IDP.example.com/x", 0, "https://" },
        { "http://127.0.0.1:8080/jwks", 1, NULL },
        { "http://127.9.8.7/jwks", 1, NULL },
        { "http://127.1/jwks", 0, "loopback" },     /* curl: 127.0.0.1 */
        { "http://localhost:1234/jwks", 1, NULL },
        { "http://LOCALHOST/jwks", 1, NULL },
        { "http://[::1]:99/jwks", 1, NULL },
        { "http://idp.example.com/certs", 0, "loopback" },
        { "http://192.0.2.1/jwks", 0, "loopback" },
        { "http://10.0.0.1/jwks", 0, "loopback" },
        { "http://128.0.0.1/jwks", 0, "loopback" },
        { "http://[::ffff:127.0.0.1]/jwks", 0, "loopback" },
        { "http://[::2]/jwks", 0, "loopback" },
        { "http://127.0.0.1.nip.io/jwks", 0, "loopback" },
        { "http://localhost.evil.test/jwks", 0, "loopback" },
        { "http://foo.localhost/jwks", 0, "loopback" },
        { "http://127.0.0.1@evil.test/jwks", 0, "user information" },
        { "https://user:pw@idp.example.com/jwks", 0, "user information" },
        { "ftp://idp.example.com/jwks", 0, "https://" },
        { "file:///etc/passwd", 0, "https://" },
        { "gopher://127.0.0.1/", 0, "https://" },
        { "//idp.example.com/jwks", 0, "https://" },
        { "idp.example.com/jwks", 0, "https://" },
        { "https://idp example.com/", 0, "%-encoded" },
        { "https://idp.example.com:99999/", 0, "port" },
        { "https://idp.example.com/certs#k", 0, "fragment" },
        { "", 0, "empty" },
    };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        const char *norm = NULL, *err = NULL;
        apr_status_t rv = zt_keys_url_check(v[i].url, pool, &norm, &err);

        ck_assert_msg((rv == APR_SUCCESS) == v[i].ok, "%s: %s", v[i].url,
                      err ? err : "accepted");
        if (v[i].ok) {
            ck_assert_ptr_nonnull(norm);
        }
        else {
            ck_assert_ptr_null(norm);
            ck_assert_ptr_nonnull(err);
            if (v[i].why) {
                ck_assert_msg(strstr(err, v[i].why), "%s: %s", v[i].url, err);
            }
        }
    }
}
END_TEST

/* Refused when configured: nothing is sent, nothing is even tried. */
START_TEST(t_create_refuses)
{
    const char *err;
    zt_keys_t *keys;

    keys = zt_mk(ZT_KEYSRC_URL, "http://192.0.2.1/jwks", ZT_T_ISS,
                 apr_time_from_sec(60), apr_time_from_sec(60), &err);
    ck_assert_ptr_null(keys);
    ck_assert_msg(strstr(err, "issuer corp") && strstr(err, "loopback"), "%s", err);

    keys = zt_mk(ZT_KEYSRC_DISCOVER, NULL, "http://idp.example.com",
                 apr_time_from_sec(60), apr_time_from_sec(60), &err);
    ck_assert_ptr_null(keys);
    ck_assert_msg(strstr(err, "https issuer") && strstr(err, "loopback"),
                  "%s", err);

    keys = zt_mk(ZT_KEYSRC_DISCOVER, NULL, "https://idp.example.com/?a=b",
                 apr_time_from_sec(60), apr_time_from_sec(60), &err);
    ck_assert_ptr_null(keys);
    ck_assert_msg(strstr(err, "query"), "%s", err);

    keys = zt_mk(ZT_KEYSRC_FILE, "relative.json", ZT_T_ISS,
                 apr_time_from_sec(60), apr_time_from_sec(60), &err);
    ck_assert_ptr_null(keys);
    ck_assert_msg(strstr(err, "absolute"), "%s", err);

    keys = zt_mk(ZT_KEYSRC_FILE, "/nonexistent/zt-keys.json", ZT_T_ISS,
                 apr_time_from_sec(60), apr_time_from_sec(60), &err);
    ck_assert_ptr_null(keys);
    ck_assert_msg(strstr(err, "cannot open"), "%s", err);

    keys = zt_mk(ZT_KEYSRC_URL, "https://idp.example.com/jwks", ZT_T_ISS,
                 0, apr_time_from_sec(60), &err);
    ck_assert_ptr_null(keys);
    ck_assert_msg(strstr(err, "positive"), "%s", err);

    keys = zt_mk(ZT_KEYSRC_URL, "https://idp.example.com/jwks", ZT_T_ISS,
                 apr_time_from_sec(60), 0, &err);
    ck_assert_ptr_null(keys);

    keys = zt_mk((zt_keysrc_kind_e)9, "x", ZT_T_ISS, 1, 1, &err);
    ck_assert_ptr_null(keys);
    ck_assert_msg(strstr(err, "unknown key source"), "%s", err);
    ck_assert_int_eq(zt_srv_total(), 0);
}
END_TEST

/* A url source before any fetch: no keys, generation 0, no traffic. */
START_TEST(t_no_keys_yet)
{
    zt_keys_t *keys = zt_mk_url("/jwks", apr_time_from_sec(60));
    const zt_keyring_t *ring = zt_keys_acquire(keys);
    zt_keys_stat_t st;
    zt_token_t tok;
    const char *reason, *jwt = zt_token(&ka, "a", ZT_T_ISS);

    ck_assert_int_eq(ring->nissuers, 1);
    ck_assert_ptr_null(ring->issuers[0].keys);
    ck_assert_uint_eq(ring->generations[0], 0);
    ck_assert_uint_eq(zt_keys_generation(keys, 0), 0);
    ck_assert_int_eq(zt_keys_dynamic(keys), 1);
    ck_assert_int_eq(zt_keys_issuer_index(keys, ZT_T_ISS, strlen(ZT_T_ISS)), 0);
    ck_assert_int_eq(zt_keys_issuer_index(keys, ZT_T_ISS, 5), -1);
    ck_assert_int_eq(zt_keys_issuer_index(keys, "https://idp.tesx", 16), -1);
    ck_assert_int_eq(zt_token_verify(jwt, strlen(jwt), ring->issuers, 1,
                                     (int64_t)time(NULL), 0, pool, &tok,
                                     &reason), ZT_TOK_UNKNOWN_KEY);
    zt_keys_release(ring);
    zt_keys_stat(keys, 0, &st, pool);
    ck_assert_int_eq(st.kind, ZT_KEYSRC_URL);
    ck_assert_uint_eq(st.attempts, 0);
    ck_assert_int_eq(zt_srv_total(), 0);
    ck_assert_str_eq(zt_keys_kind_name(st.kind), "url");
}
END_TEST

/* ------------------------------------------------------------------ */
/* URL sources                                                         */

/* Unknown kid: one refetch, then none for refetch_min. */
START_TEST(t_refetch_rate_limit)
{
    zt_keys_t *keys;
    uint64_t g1;
    zt_keys_stat_t st;

    zt_srv_set("/jwks", zt_set1(&ka, "a"));
    keys = zt_mk_url("/jwks", apr_time_from_sec(60));
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 1);
    ck_assert_str_eq(zt_kids_now(keys, 0), "a");
    ck_assert_int_eq(zt_srv_hits("/jwks"), 1);
    g1 = zt_keys_generation(keys, 0);
    ck_assert_uint_ne(g1, 0);
    ck_assert_ptr_nonnull(zt_logged(ZT_KEYS_EV_REFETCH));
    ck_assert_ptr_nonnull(strstr(zt_logged(ZT_KEYS_EV_UPDATED), "1 key from"));

    /* The IdP rotates: within refetch_min nothing is fetched. */
    zt_srv_set("/jwks", zt_set2(&ka, "a", &kb, "b"));
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(zt_keys_refetch(keys, 0, g1), 0);
    }
    ck_assert_int_eq(zt_srv_hits("/jwks"), 1);
    ck_assert_str_eq(zt_kids_now(keys, 0), "a");
    ck_assert_ptr_nonnull(strstr(zt_logged(ZT_KEYS_EV_REFETCH_LIMITED),
                                 "refetch_min"));
    /* A caller that saw an older generation is told to look again. */
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 1);
    zt_keys_stat(keys, 0, &st, pool);
    ck_assert_uint_eq(st.refetches, 1);
    ck_assert_uint_eq(st.attempts, 1);
    ck_assert_int_eq(st.nkeys, 1);
    ck_assert_uint_eq(st.generation, g1);
    ck_assert_ptr_null(st.last_error);
    /* Out of range and no-source issuers never fetch. */
    ck_assert_int_eq(zt_keys_refetch(keys, 1, 0), 0);
    ck_assert_int_eq(zt_keys_refetch(keys, -1, 0), 0);
}
END_TEST

/* Unknown kids asking all the time: the next fetch comes once
 * refetch_min has passed, not before, and only one. */
START_TEST(t_refetch_after_interval)
{
    apr_interval_time_t min = apr_time_from_msec(300), took;
    zt_keys_t *keys;
    apr_time_t t0;
    uint64_t g1;

    zt_srv_set("/jwks", zt_set1(&ka, "a"));
    keys = zt_mk_url("/jwks", min);
    t0 = apr_time_now();
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 1);
    g1 = zt_keys_generation(keys, 0);
    zt_srv_set("/jwks", zt_set2(&ka, "a", &kb, "b"));
    took = zt_t_refetch_until(keys, 0, g1, t0);
    ck_assert_int_ge(took, min);
    ck_assert_str_eq(zt_kids_now(keys, 0), "a,b");
    ck_assert_int_eq(zt_srv_hits("/jwks"), 2);
    ck_assert_uint_gt(zt_keys_generation(keys, 0), g1);
}
END_TEST

/* The same document again: fetched, but no new generation, no log. */
START_TEST(t_refetch_same_document)
{
    zt_keys_t *keys;
    uint64_t g1;
    int logged;
    zt_keys_stat_t st;

    zt_srv_set("/jwks", zt_set1(&ka, "a"));
    keys = zt_mk_url("/jwks", 1);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 1);
    g1 = zt_keys_generation(keys, 0);
    logged = logbook.n;
    zt_sleep_ms(2);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, g1), 0);
    ck_assert_int_eq(zt_srv_hits("/jwks"), 2);
    ck_assert_uint_eq(zt_keys_generation(keys, 0), g1);
    ck_assert_int_eq(logbook.n, logged + 1);        /* REFETCH only */
    /* After a failure, the same document again says so once. */
    zt_srv_set_full("/jwks", 500, "text/plain", "x", 1);
    zt_sleep_ms(2);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, g1), 0);
    zt_srv_set("/jwks", zt_set1(&ka, "a"));
    zt_sleep_ms(2);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, g1), 0);
    ck_assert_uint_eq(zt_keys_generation(keys, 0), g1);
    ck_assert_ptr_nonnull(strstr(zt_logged(ZT_KEYS_EV_UPDATED),
                                 "answers again"));
    zt_keys_stat(keys, 0, &st, pool);
    ck_assert_uint_eq(st.attempts, 4);
    ck_assert_uint_eq(st.failures, 1);
    ck_assert_ptr_null(st.last_error);
    /* A file rewritten with the same bytes: no new generation either. */
    {
        const char *path = zt_write_file("zt-keys-same.json", zt_set1(&ka, "a"));
        const char *err;

        opts.file_check = apr_time_from_msec(20);
        keys = zt_mk(ZT_KEYSRC_FILE, path, ZT_T_ISS, apr_time_from_sec(60),
                     apr_time_from_sec(60), &err);
        ck_assert_ptr_nonnull(keys);
        g1 = zt_keys_generation(keys, 0);
        zt_write_file("zt-keys-same.json", zt_set1(&ka, "a"));
        zt_sleep_ms(30);
        ck_assert_int_eq(zt_keys_refetch(keys, 0, g1), 0);
        ck_assert_uint_eq(zt_keys_generation(keys, 0), g1);
        zt_keys_stat(keys, 0, &st, pool);
        ck_assert_uint_eq(st.attempts, 2);
        unlink(path);
    }
}
END_TEST

typedef struct {
    zt_keys_t *keys;
    int result;
    pthread_barrier_t *go;
} zt_racer_t;

static void *zt_racer(void *data)
{
    zt_racer_t *r = data;

    pthread_barrier_wait(r->go);
    r->result = zt_keys_refetch(r->keys, 0, 0);
    return NULL;
}

/* N threads with the same unknown kid: one fetch, all see its result. */
START_TEST(t_single_flight)
{
    enum { N = 12 };
    pthread_t th[N];
    zt_racer_t rc[N];
    pthread_barrier_t go;
    zt_keys_t *keys;
    zt_keys_stat_t st;

    zt_srv_set("/jwks", zt_set1(&ka, "a"));
    zt_srv_delay("/jwks", 400);
    keys = zt_mk_url("/jwks", apr_time_from_sec(60));
    pthread_barrier_init(&go, NULL, N);
    for (int i = 0; i < N; i++) {
        rc[i].keys = keys;
        rc[i].result = -1;
        rc[i].go = &go;
        ck_assert_int_eq(pthread_create(&th[i], NULL, zt_racer, &rc[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(rc[i].result, 1);
    }
    pthread_barrier_destroy(&go);
    ck_assert_int_eq(zt_srv_hits("/jwks"), 1);
    zt_keys_stat(keys, 0, &st, pool);
    ck_assert_uint_eq(st.attempts, 1);
    ck_assert_uint_eq(st.refetches, 1);
    ck_assert_str_eq(zt_kids_now(keys, 0), "a");
}
END_TEST

/* Waiters of a fetch that fails get 0, and the fetch is not repeated. */
START_TEST(t_single_flight_failure)
{
    enum { N = 6 };
    pthread_t th[N];
    zt_racer_t rc[N];
    pthread_barrier_t go;
    zt_keys_t *keys;

    zt_srv_set_full("/jwks", 503, "text/plain", "busy", 4);
    zt_srv_delay("/jwks", 300);
    keys = zt_mk_url("/jwks", apr_time_from_sec(60));
    pthread_barrier_init(&go, NULL, N);
    for (int i = 0; i < N; i++) {
        rc[i].keys = keys;
        rc[i].go = &go;
        pthread_create(&th[i], NULL, zt_racer, &rc[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(rc[i].result, 0);
    }
    pthread_barrier_destroy(&go);
    ck_assert_int_eq(zt_srv_hits("/jwks"), 1);
    ck_assert_ptr_nonnull(strstr(zt_logged(ZT_KEYS_EV_MISSING),
                                 "answered HTTP 503"));
    ck_assert_ptr_nonnull(strstr(zt_logged(ZT_KEYS_EV_MISSING),
                                 "no key set yet"));
}
END_TEST

/* Serve @a body at /jwks, refetch, and expect the old set and @a why. */
static void zt_t_bad_answer(zt_keys_t *keys, uint64_t g1, const char *why)
{
    zt_keys_stat_t st, st2;

    zt_keys_stat(keys, 0, &st, pool);
    zt_sleep_ms(2);             /* refetch_min is 1 us here */
    ck_assert_int_eq(zt_keys_refetch(keys, 0, g1), 0);
    ck_assert_str_eq(zt_kids_now(keys, 0), "a");
    ck_assert_uint_eq(zt_keys_generation(keys, 0), g1);
    zt_keys_stat(keys, 0, &st2, pool);
    ck_assert_uint_eq(st2.failures, st.failures + 1);
    ck_assert_ptr_nonnull(st2.last_error);
    ck_assert_msg(strstr(st2.last_error, why), "want '%s' in: %s", why,
                  st2.last_error);
    ck_assert_msg(strstr(zt_logged(ZT_KEYS_EV_KEPT), why)
                  && strstr(zt_logged(ZT_KEYS_EV_KEPT), "keeping the key set"),
                  "%s", zt_logged(ZT_KEYS_EV_KEPT));
}

/* Whatever the server answers, a bad answer keeps the last good set. */
START_TEST(t_keep_last_good)
{
    zt_keys_t *keys;
    uint64_t g1;
    zt_route_t *r;
    char *big;
    size_t n;
    const char *priv;

    zt_srv_set("/jwks", zt_set1(&ka, "a"));
    keys = zt_mk_url("/jwks", 1);       /* the default fetch timeout, 5 s */
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 1);
    g1 = zt_keys_generation(keys, 0);

    zt_srv_set_full("/jwks", 500, "text/plain", "oops", 4);
    zt_t_bad_answer(keys, g1, "answered HTTP 500");
    zt_srv_set_full("/jwks", 404, "text/plain", "", 0);
    zt_t_bad_answer(keys, g1, "answered HTTP 404");
    zt_srv_set_full("/jwks", 200, "text/html",
                    "<html><body>Sign in</body></html>", 33);
    zt_t_bad_answer(keys, g1, "the answer (text/html) is not a key set");
    zt_srv_set("/jwks", "");
    zt_t_bad_answer(keys, g1, "/jwks: ");
    zt_srv_set("/jwks", "{\"keys\":[]}");
    zt_t_bad_answer(keys, g1, "no keys");
    zt_srv_set("/jwks", "{\"keys\":[{\"kty\":\"foo\",\"kid\":\"x\"}]}");
    zt_t_bad_answer(keys, g1, "no usable key");
    zt_srv_set("/jwks", "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}");
    zt_t_bad_answer(keys, g1, "private");
    zt_srv_set("/jwks", "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\"");
    zt_t_bad_answer(keys, g1, "/jwks: ");
    zt_srv_set("/jwks", "{\"keys\":[],\"keys\":[]}");
    zt_t_bad_answer(keys, g1, "/jwks: ");
    priv = apr_psprintf(pool, "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                        "\"x\":\"%s\",\"d\":\"%s\",\"kid\":\"p\"}]}", kb.x, kb.x);
    zt_srv_set("/jwks", priv);
    zt_t_bad_answer(keys, g1, "private");

    /* Oversize: announced by Content-Length, and chunked (no length). */
    n = ZT_JWKS_MAX_LEN + 1;
    big = malloc(n);
    memset(big, ' ', n);
    memcpy(big, "{\"keys\":[", 9);
    r = zt_srv_set_full("/jwks", 200, "application/json", big, n);
    zt_t_bad_answer(keys, g1, "larger than 1048576 bytes");
    r = zt_srv_set_full("/jwks", 200, "application/json", big, n);
    pthread_mutex_lock(&srv.mu);
    r->chunked = 1;
    pthread_mutex_unlock(&srv.mu);
    zt_t_bad_answer(keys, g1, "larger than 1048576 bytes");
    free(big);

    /* Redirects are not followed, wherever they point. */
    r = zt_srv_set_full("/jwks", 302, "text/plain", "", 0);
    pthread_mutex_lock(&srv.mu);
    snprintf(r->location, sizeof(r->location), "http://127.0.0.1:%d/other",
             srv.port);
    pthread_mutex_unlock(&srv.mu);
    zt_srv_set("/other", zt_set1(&kb, "b"));
    zt_t_bad_answer(keys, g1, "redirects are not followed");
    ck_assert_int_eq(zt_srv_hits("/other"), 0);

    /* Too slow: the fetch timeout ends it (the server would answer after
     * a minute; it stops waiting when the client hangs up). */
    zt_srv_set("/jwks", zt_set1(&kb, "b"));
    zt_srv_delay("/jwks", 60000);
    zt_t_bad_answer(keys, g1, "timed out");

    /* And then a good answer is taken again. */
    zt_srv_set("/jwks", zt_set1(&kb, "b"));
    zt_sleep_ms(2);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, g1), 1);
    ck_assert_str_eq(zt_kids_now(keys, 0), "b");
}
END_TEST

/* A body of exactly the limit is read; a smaller limit is honoured. */
START_TEST(t_size_limit_exact)
{
    zt_keys_t *keys;
    const char *set = zt_set1(&ka, "a");
    size_t n = strlen(set);
    char *body = malloc(n + 200);

    memcpy(body, set, n);
    memset(body + n, ' ', 200);         /* JSON allows trailing spaces */
    opts.max_size = n + 200;
    zt_srv_set_full("/jwks", 200, "application/json", body, n + 200);
    keys = zt_mk_url("/jwks", 1);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 1);

    opts.max_size = n + 199;
    keys = zt_mk_url("/jwks", 1);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 0);
    ck_assert_ptr_nonnull(strstr(zt_logged(ZT_KEYS_EV_MISSING), "larger than"));
    free(body);
}
END_TEST

/* The refresher fetches at start and every `refresh`. */
START_TEST(t_refresher)
{
    zt_issuer_t is = zt_issuer(ZT_T_ISS);
    zt_keysrc_conf_t sc = { ZT_KEYSRC_URL, NULL, apr_time_from_msec(300),
                            apr_time_from_sec(60) };
    zt_keys_t *keys;
    const char *err;
    uint64_t g1, g2;
    apr_time_t t0;

    zt_srv_set("/jwks", zt_set1(&ka, "a"));
    sc.location = zt_srv_url(pool, "/jwks");
    ck_assert_int_eq(zt_keys_create(&keys, &is, &sc, 1, &opts, pool, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(zt_keys_start(keys, pool), APR_SUCCESS);
    ck_assert_int_eq(zt_keys_start(keys, pool), APR_SUCCESS);  /* once */
    ck_assert(zt_wait_kids(keys, "a"));
    g1 = zt_keys_generation(keys, 0);
    zt_srv_set("/jwks", zt_set2(&ka, "a", &kb, "b"));
    ck_assert(zt_wait_kids(keys, "a,b"));
    g2 = zt_keys_generation(keys, 0);
    ck_assert_uint_gt(g2, g1);
    /* A failing server: the set stays through several refreshes. */
    zt_srv_set_full("/jwks", 500, "text/plain", "x", 1);
    ck_assert(zt_wait_failures(keys, 2));
    ck_assert(zt_wait_logged(ZT_KEYS_EV_KEPT));
    ck_assert_str_eq(zt_kids_now(keys, 0), "a,b");
    ck_assert_uint_eq(zt_keys_generation(keys, 0), g2);
    /* Stopping ends the refresher promptly. */
    t0 = apr_time_now();
    zt_keys_stop(keys);
    ck_assert_int_lt(apr_time_now() - t0, apr_time_from_sec(5));
    zt_keys_stop(keys);                     /* harmless twice */
}
END_TEST

/* After a failure the refresher retries soon (1 s, 2 s, ...), not after
 * `refresh`: a start-up with the IdP down heals by itself. */
START_TEST(t_refresher_retries)
{
    zt_issuer_t is = zt_issuer(ZT_T_ISS);
    zt_keysrc_conf_t sc = { ZT_KEYSRC_URL, NULL, apr_time_from_sec(3600),
                            apr_time_from_sec(60) };
    zt_keys_t *keys;
    const char *err;
    apr_time_t t0;

    zt_srv_set_full("/jwks", 503, "text/plain", "x", 1);
    sc.location = zt_srv_url(pool, "/jwks");
    ck_assert_int_eq(zt_keys_create(&keys, &is, &sc, 1, &opts, pool, &err),
                     APR_SUCCESS);
    t0 = apr_time_now();
    ck_assert_int_eq(zt_keys_start(keys, pool), APR_SUCCESS);
    ck_assert(zt_wait_logged(ZT_KEYS_EV_MISSING));
    /* Retries at least a second apart: attempt k+1 comes k s after the
     * start at the earliest, however long the machine took to get here. */
    ck_assert_int_le(zt_srv_hits("/jwks"), 1 + (apr_time_now() - t0)
                                               / APR_USEC_PER_SEC);
    zt_srv_set("/jwks", zt_set1(&ka, "a"));
    ck_assert(zt_wait_kids(keys, "a"));     /* long before refresh (1 h) */
    ck_assert_int_le(zt_srv_hits("/jwks"), 1 + (apr_time_now() - t0)
                                               / APR_USEC_PER_SEC);
}
END_TEST

/* A refetch joins the refresher's fetch instead of starting another. */
START_TEST(t_refetch_joins_refresher)
{
    zt_keys_t *keys;
    zt_keys_stat_t st;

    zt_srv_set("/jwks", zt_set1(&ka, "a"));
    zt_srv_delay("/jwks", 1000);
    keys = zt_mk_url("/jwks", apr_time_from_sec(60));
    ck_assert_int_eq(zt_keys_start(keys, pool), APR_SUCCESS);
    ck_assert(zt_wait_requests(1));     /* the refresher's fetch is under way */
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 1);
    ck_assert_str_eq(zt_kids_now(keys, 0), "a");
    ck_assert_int_eq(zt_srv_hits("/jwks"), 1);
    /* It started no fetch of its own. */
    zt_keys_stat(keys, 0, &st, pool);
    ck_assert_uint_eq(st.refetches, 0);
    ck_assert_uint_eq(st.attempts, 1);
    ck_assert_ptr_null(zt_logged(ZT_KEYS_EV_REFETCH));
}
END_TEST

/* Stopping abandons a slow fetch at once: long before the server would
 * answer (a minute) or the fetch would time out (a minute). */
START_TEST(t_stop_abandons_fetch)
{
    zt_keys_t *keys;
    apr_time_t t0;

    zt_srv_set("/jwks", zt_set1(&ka, "a"));
    zt_srv_delay("/jwks", 60000);
    opts.fetch_timeout = apr_time_from_sec(60);
    keys = zt_mk_url("/jwks", apr_time_from_sec(60));
    ck_assert_int_eq(zt_keys_start(keys, pool), APR_SUCCESS);
    ck_assert(zt_wait_requests(1));
    t0 = apr_time_now();
    zt_keys_stop(keys);
    ck_assert_int_lt(apr_time_now() - t0, apr_time_from_sec(10));
    ck_assert_uint_eq(zt_keys_generation(keys, 0), 0);
}
END_TEST

/* A set read by an old ring stays valid until that ring is released. */
START_TEST(t_ring_lifetime)
{
    zt_keys_t *keys;
    const zt_keyring_t *r1, *r2;
    const char *jwt_b = zt_token(&kb, "b", ZT_T_ISS);
    const char *jwt_a = zt_token(&ka, "a", ZT_T_ISS), *reason;
    zt_token_t tok;
    int64_t now = (int64_t)time(NULL);
    apr_pool_t *rp;

    zt_srv_set("/jwks", zt_set1(&ka, "a"));
    keys = zt_mk_url("/jwks", 1);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 1);
    r1 = zt_keys_acquire(keys);
    ck_assert_int_eq(zt_token_verify(jwt_a, strlen(jwt_a), r1->issuers, 1,
                                     now, 0, pool, &tok, &reason), ZT_TOK_OK);
    ck_assert_int_eq(zt_token_verify(jwt_b, strlen(jwt_b), r1->issuers, 1,
                                     now, 0, pool, &tok, &reason),
                     ZT_TOK_UNKNOWN_KEY);

    /* Rotation: b replaces a. */
    zt_srv_set("/jwks", zt_set1(&kb, "b"));
    zt_sleep_ms(2);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, r1->generations[0]), 1);
    r2 = zt_keys_acquire(keys);
    ck_assert_uint_gt(r2->generations[0], r1->generations[0]);
    ck_assert_int_eq(zt_token_verify(jwt_b, strlen(jwt_b), r2->issuers, 1,
                                     now, 0, pool, &tok, &reason), ZT_TOK_OK);
    ck_assert_int_eq(zt_token_verify(jwt_a, strlen(jwt_a), r2->issuers, 1,
                                     now, 0, pool, &tok, &reason),
                     ZT_TOK_UNKNOWN_KEY);
    /* r1 still verifies with the old key: its set is alive. */
    ck_assert_int_eq(zt_token_verify(jwt_a, strlen(jwt_a), r1->issuers, 1,
                                     now, 0, pool, &tok, &reason), ZT_TOK_OK);
    ck_assert_str_eq(zt_kids(r1, 0), "a");
    zt_keys_release(r1);
    ck_assert_str_eq(zt_kids(r2, 0), "b");
    /* Released by a pool cleanup. */
    apr_pool_create(&rp, pool);
    zt_keys_release_on(rp, r2);
    zt_keys_release_on(rp, NULL);
    zt_keys_release(NULL);
    apr_pool_destroy(rp);
    ck_assert_str_eq(zt_kids_now(keys, 0), "b");
}
END_TEST

/* Readers and swaps at full speed (ASan / TSan / valgrind material). */
typedef struct {
    zt_keys_t *keys;
    atomic_int *stop;
    long reads;
} zt_reader_t;

static void *zt_reader(void *data)
{
    zt_reader_t *r = data;

    while (!*r->stop) {
        const zt_keyring_t *ring = zt_keys_acquire(r->keys);
        const zt_keyset_t *ks = ring->issuers[0].keys;

        for (int j = 0; j < zt_jwks_count(ks); j++) {
            ck_assert_ptr_nonnull(zt_jwks_key(ks, j)->pkey);
            ck_assert_int_eq(zt_jwks_key(ks, j)->kid[0], 'k');
        }
        if (ring->generations[0] != 0) {
            ck_assert_ptr_nonnull(ks);
        }
        zt_keys_release(ring);
        r->reads++;
    }
    return NULL;
}

START_TEST(t_readers_and_swaps)
{
    enum { N = 4 };
    pthread_t th[N];
    zt_reader_t rd[N];
    atomic_int stop = 0;
    zt_keys_t *keys;
    uint64_t g = 0;

    zt_srv_set("/jwks", zt_set1(&ka, "ka"));
    keys = zt_mk_url("/jwks", 1);
    for (int i = 0; i < N; i++) {
        rd[i].keys = keys;
        rd[i].stop = &stop;
        rd[i].reads = 0;
        pthread_create(&th[i], NULL, zt_reader, &rd[i]);
    }
    for (int i = 0; i < 30; i++) {
        zt_srv_set("/jwks", i % 2 ? zt_set1(&ka, "ka")
                                  : zt_set2(&ka, "ka", &kb, "kb"));
        zt_sleep_ms(2);
        ck_assert_int_eq(zt_keys_refetch(keys, 0, g), 1);
        ck_assert_uint_gt(zt_keys_generation(keys, 0), g);
        g = zt_keys_generation(keys, 0);
    }
    stop = 1;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_gt(rd[i].reads, 0);
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Discovery                                                           */

static const char *zt_meta(const char *issuer, const char *jwks_uri)
{
    return apr_psprintf(pool, "{\"issuer\":\"%s\",\"jwks_uri\":\"%s\","
                        "\"response_types_supported\":[\"code\"]}",
                        issuer, jwks_uri);
}

static zt_keys_t *zt_mk_discover(const char *iss)
{
    const char *err;
    zt_keys_t *keys = zt_mk(ZT_KEYSRC_DISCOVER, NULL, iss,
                            apr_time_from_sec(3600), 1, &err);

    ck_assert_msg(keys != NULL, "create: %s", err);
    return keys;
}

START_TEST(t_discover)
{
    const char *iss = zt_srv_url(pool, "");
    const char *iss2 = zt_srv_url(pool, "/realms/corp/");
    zt_keys_t *keys;
    zt_keys_stat_t st;

    zt_srv_set("/.well-known/openid-configuration",
               zt_meta(iss, zt_srv_url(pool, "/certs")));
    zt_srv_set("/certs", zt_set1(&ka, "a"));
    keys = zt_mk_discover(iss);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 1);
    ck_assert_str_eq(zt_kids_now(keys, 0), "a");
    ck_assert_int_eq(zt_srv_hits("/.well-known/openid-configuration"), 1);
    ck_assert_int_eq(zt_srv_hits("/certs"), 1);
    zt_keys_stat(keys, 0, &st, pool);
    ck_assert_int_eq(st.kind, ZT_KEYSRC_DISCOVER);
    ck_assert_ptr_nonnull(strstr(zt_logged(ZT_KEYS_EV_UPDATED), "/certs"));

    /* An issuer with a path and a trailing slash: the slash goes before
     * the well-known suffix, but "issuer" must match byte for byte. */
    zt_srv_set("/realms/corp/.well-known/openid-configuration",
               zt_meta(iss2, zt_srv_url(pool, "/certs")));
    keys = zt_mk_discover(iss2);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 1);
    ck_assert_str_eq(zt_kids_now(keys, 0), "a");
}
END_TEST

/* What discovery refuses; the set it had stays. */
START_TEST(t_discover_refusals)
{
    const char *iss = zt_srv_url(pool, "");
    const char *meta = "/.well-known/openid-configuration";
    zt_keys_t *keys;
    uint64_t g1;

    zt_srv_set(meta, zt_meta(iss, zt_srv_url(pool, "/certs")));
    zt_srv_set("/certs", zt_set1(&ka, "a"));
    keys = zt_mk_discover(iss);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 1);
    g1 = zt_keys_generation(keys, 0);
    zt_srv_set("/evil", zt_set1(&kb, "b"));

    /* OpenID Discovery 4.3: the issuer must be identical. */
    zt_srv_set(meta, zt_meta(apr_pstrcat(pool, iss, "/", NULL),
                             zt_srv_url(pool, "/evil")));
    zt_t_bad_answer(keys, g1, "names the issuer");
    zt_srv_set(meta, zt_meta("https://evil.test", zt_srv_url(pool, "/evil")));
    zt_t_bad_answer(keys, g1, "names the issuer");
    zt_srv_set(meta, zt_meta(apr_pstrcat(pool, iss, "\\u0000", NULL),
                             zt_srv_url(pool, "/evil")));
    zt_t_bad_answer(keys, g1, "strict JSON");
    zt_srv_set(meta, apr_psprintf(pool, "{\"jwks_uri\":\"%s\"}",
                                  zt_srv_url(pool, "/evil")));
    zt_t_bad_answer(keys, g1, "no \"issuer\"");
    zt_srv_set(meta, apr_psprintf(pool, "{\"issuer\":\"%s\"}", iss));
    zt_t_bad_answer(keys, g1, "no \"jwks_uri\"");
    zt_srv_set(meta, apr_psprintf(pool, "{\"issuer\":\"%s\",\"jwks_uri\":7}",
                                  iss));
    zt_t_bad_answer(keys, g1, "no \"jwks_uri\"");
    zt_srv_set(meta, apr_psprintf(pool, "{\"issuer\":\"%s\",\"issuer\":\"%s\","
                                  "\"jwks_uri\":\"%s\"}", iss, iss,
                                  zt_srv_url(pool, "/evil")));
    zt_t_bad_answer(keys, g1, "strict JSON");
    /* A jwks_uri that leaves the machine over http: refused unsent. */
    zt_srv_set(meta, zt_meta(iss, "http://192.0.2.1/certs"));
    zt_t_bad_answer(keys, g1, "loopback");
    zt_srv_set(meta, zt_meta(iss, "file:///etc/passwd"));
    zt_t_bad_answer(keys, g1, "not an https:// URL");
    zt_srv_set(meta, zt_meta(iss, "ftp://127.0.0.1/certs"));
    zt_t_bad_answer(keys, g1, "not an https:// URL");
    zt_srv_set(meta, zt_meta(iss, apr_pstrcat(pool, "http://u@127.0.0.1:1/c",
                                              NULL)));
    zt_t_bad_answer(keys, g1, "user information");
    zt_srv_set_full(meta, 500, "text/plain", "", 0);
    zt_t_bad_answer(keys, g1, "answered HTTP 500");
    /* The metadata is fine but its jwks_uri answers badly. */
    zt_srv_set(meta, zt_meta(iss, zt_srv_url(pool, "/missing")));
    zt_t_bad_answer(keys, g1, "answered HTTP 404");
    ck_assert_int_eq(zt_srv_hits("/evil"), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Files                                                               */

START_TEST(t_file)
{
    const char *path = zt_write_file("zt-keys-test.json", zt_set1(&ka, "a"));
    const char *err;
    zt_keys_t *keys;
    uint64_t g1, g2;
    zt_keys_stat_t st;
    apr_time_t t0;

    opts.file_check = apr_time_from_msec(100);
    keys = zt_mk(ZT_KEYSRC_FILE, path, ZT_T_ISS, apr_time_from_sec(3600),
                 apr_time_from_sec(60), &err);
    ck_assert_msg(keys != NULL, "%s", err);
    g1 = zt_keys_generation(keys, 0);
    ck_assert_uint_ne(g1, 0);
    ck_assert_str_eq(zt_kids_now(keys, 0), "a");
    /* Read at creation, quietly. */
    ck_assert_int_eq(logbook.n, 0);

    /* Unchanged file: an unknown kid finds nothing new.  Written under
     * 2 s ago, its identity is not trusted, so it is read again (an
     * attempt) and found the same (no new generation). */
    zt_sleep_ms(120);
    t0 = apr_time_now();
    ck_assert_int_eq(zt_keys_refetch(keys, 0, g1), 0);
    zt_keys_stat(keys, 0, &st, pool);
    ck_assert_uint_eq(st.attempts, 2);
    ck_assert_uint_eq(zt_keys_generation(keys, 0), g1);

    /* Rewritten: unknown kids read it, but not before file_check has
     * passed since the last look. */
    zt_write_file("zt-keys-test.json", zt_set2(&ka, "a", &kb, "b"));
    ck_assert_int_ge(zt_t_refetch_until(keys, 0, g1, t0),
                     apr_time_from_msec(100));
    ck_assert_str_eq(zt_kids_now(keys, 0), "a,b");
    zt_keys_stat(keys, 0, &st, pool);
    ck_assert_uint_eq(st.attempts, 3);
    g2 = zt_keys_generation(keys, 0);

    /* Broken, then gone: the last good set stays, one message each --
     * even though the broken file, still racy, is read at both checks. */
    zt_write_file("zt-keys-test.json", "{\"keys\":[");
    zt_sleep_ms(120);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, g2), 0);
    zt_sleep_ms(120);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, g2), 0);
    zt_keys_stat(keys, 0, &st, pool);
    ck_assert_uint_eq(st.attempts, 5);
    ck_assert_str_eq(zt_kids_now(keys, 0), "a,b");
    ck_assert_ptr_nonnull(strstr(zt_logged(ZT_KEYS_EV_KEPT), path));
    ck_assert_int_eq(unlink(path), 0);
    for (int i = 0; i < 3; i++) {
        zt_sleep_ms(120);
        ck_assert_int_eq(zt_keys_refetch(keys, 0, g2), 0);
    }
    ck_assert_ptr_nonnull(strstr(zt_logged(ZT_KEYS_EV_KEPT), "cannot open"));
    {
        int kept = 0;

        for (int i = 0; i < logbook.n; i++) {
            kept += logbook.ev[i] == ZT_KEYS_EV_KEPT;
        }
        ck_assert_int_eq(kept, 2);
    }
    ck_assert_str_eq(zt_kids_now(keys, 0), "a,b");

    /* The refresher notices a new file without any token asking. */
    ck_assert_int_eq(zt_keys_start(keys, pool), APR_SUCCESS);
    zt_write_file("zt-keys-test.json", zt_set1(&kc, "c"));
    ck_assert(zt_wait_kids(keys, "c"));
    ck_assert_uint_gt(zt_keys_generation(keys, 0), g2);
    zt_keys_stop(keys);
    unlink(path);
}
END_TEST

/* Same content, same size, same second: a new inode is still new. */
START_TEST(t_file_same_size)
{
    const char *path = zt_write_file("zt-keys-test2.json", zt_set1(&ka, "a"));
    const char *err;
    zt_keys_t *keys;
    uint64_t g1;

    opts.file_check = apr_time_from_msec(50);
    keys = zt_mk(ZT_KEYSRC_FILE, path, ZT_T_ISS, apr_time_from_sec(3600),
                 apr_time_from_sec(60), &err);
    ck_assert_ptr_nonnull(keys);
    g1 = zt_keys_generation(keys, 0);
    zt_write_file("zt-keys-test2.json", zt_set1(&kb, "a"));   /* same length */
    zt_sleep_ms(60);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, g1), 1);
    unlink(path);
}
END_TEST

/*
** A racy file: rewritten in place, same size, mtime put back.  Where
** timestamps are coarse, ctime would not move either; so what is checked
** is that a file changed under 2 s ago is not trusted by its identity
** (read again at every check), and is trusted once older.
*/
START_TEST(t_file_racy)
{
    const char *path = zt_write_file("zt-keys-racy.json", zt_set1(&ka, "a"));
    const char *err, *text = zt_set1(&kb, "a");     /* same length */
    struct stat sb;
    struct timespec ts[2];
    zt_keys_stat_t st;
    zt_keys_t *keys;
    uint64_t g1;
    FILE *f;

    opts.file_check = apr_time_from_msec(50);
    keys = zt_mk(ZT_KEYSRC_FILE, path, ZT_T_ISS, apr_time_from_sec(3600),
                 apr_time_from_sec(60), &err);
    ck_assert_msg(keys != NULL, "%s", err);
    g1 = zt_keys_generation(keys, 0);

    /* Unchanged and racy: read again, found the same. */
    zt_sleep_ms(60);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, g1), 0);
    zt_keys_stat(keys, 0, &st, pool);
    ck_assert_uint_eq(st.attempts, 2);
    ck_assert_uint_eq(zt_keys_generation(keys, 0), g1);

    /* Older than 2 s: trusted, not read. */
    zt_sleep_ms(2100);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, g1), 0);
    zt_keys_stat(keys, 0, &st, pool);
    ck_assert_uint_eq(st.attempts, 3);      /* the last racy look */
    zt_sleep_ms(60);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, g1), 0);
    zt_keys_stat(keys, 0, &st, pool);
    ck_assert_uint_eq(st.attempts, 3);

    /* In place, same size, mtime restored: still seen. */
    ck_assert_int_eq(stat(path, &sb), 0);
    f = fopen(path, "r+");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(strlen(text), (size_t)sb.st_size);
    fputs(text, f);
    fclose(f);
    ts[0] = sb.st_atim;
    ts[1] = sb.st_mtim;
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
    zt_sleep_ms(60);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, g1), 1);
    ck_assert_uint_gt(zt_keys_generation(keys, 0), g1);
    unlink(path);
}
END_TEST

/* Generations never repeat, across sources and objects; static issuers
 * (no source) get one too, fixed. */
START_TEST(t_generations_unique)
{
    const char *path = zt_write_file("zt-keys-test3.json", zt_set1(&ka, "a"));
    zt_issuer_t is[2];
    zt_keysrc_conf_t sc[2] = {
        { ZT_KEYSRC_FILE, path, apr_time_from_sec(60), apr_time_from_sec(60) },
        { ZT_KEYSRC_NONE, NULL, 0, 0 },
    };
    zt_keys_t *k1, *k2;
    const zt_keyring_t *r1, *r2;
    const char *err;
    zt_keys_stat_t st;

    is[0] = zt_issuer(ZT_T_ISS);
    is[1] = zt_issuer("https://other.test");
    is[1].name = "other";
    ck_assert_int_eq(zt_keys_create(&k1, is, sc, 2, &opts, pool, &err), 0);
    ck_assert_int_eq(zt_keys_create(&k2, is, sc, 2, &opts, pool, &err), 0);
    r1 = zt_keys_acquire(k1);
    r2 = zt_keys_acquire(k2);
    ck_assert_uint_ne(r1->generations[0], 0);
    ck_assert_uint_ne(r1->generations[1], 0);
    ck_assert_uint_ne(r1->generations[0], r2->generations[0]);
    ck_assert_uint_ne(r1->generations[1], r2->generations[1]);
    ck_assert_uint_ne(r1->generations[0], r1->generations[1]);
    ck_assert_uint_eq(zt_keys_generation(k1, 1), r1->generations[1]);
    ck_assert_uint_eq(zt_keys_generation(k1, 2), 0);
    ck_assert_ptr_null(r1->issuers[1].keys);
    ck_assert_str_eq(r1->issuers[1].name, "other");
    ck_assert_int_eq(zt_keys_issuer_index(k1, "https://other.test", 18), 1);
    zt_keys_release(r1);
    zt_keys_release(r2);
    zt_keys_stat(k1, 1, &st, pool);
    ck_assert_int_eq(st.kind, ZT_KEYSRC_NONE);
    ck_assert_str_eq(zt_keys_kind_name(st.kind), "none");
    ck_assert_str_eq(zt_keys_kind_name(ZT_KEYSRC_FILE), "file");
    ck_assert_str_eq(zt_keys_kind_name(ZT_KEYSRC_DISCOVER), "discover");
    /* Nothing to refresh for a policy of static keys only. */
    sc[0].kind = ZT_KEYSRC_NONE;
    ck_assert_int_eq(zt_keys_create(&k1, is, sc, 2, &opts, pool, &err), 0);
    ck_assert_int_eq(zt_keys_dynamic(k1), 0);
    ck_assert_int_eq(zt_keys_start(k1, pool), APR_SUCCESS);
    unlink(path);
}
END_TEST

/* localhost is loopback too (curl resolves it without DNS). */
START_TEST(t_localhost)
{
    const char *err;
    zt_keys_t *keys;

    zt_srv_set("/jwks", zt_set1(&ka, "a"));
    keys = zt_mk(ZT_KEYSRC_URL, apr_psprintf(pool, "http://localhost:%d/jwks",
                                             srv.port),
                 ZT_T_ISS, apr_time_from_sec(60), apr_time_from_sec(60), &err);
    ck_assert_ptr_nonnull(keys);
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 1);
    ck_assert_str_eq(zt_kids_now(keys, 0), "a");
}
END_TEST

/* A connection refused is a failure like any other, and quick. */
START_TEST(t_connection_refused)
{
    const char *err;
    zt_keys_t *keys;
    apr_time_t t0;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);

    /* A port bound here without listening: it refuses connections, and
     * no other program can take it meanwhile. */
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    getsockname(fd, (struct sockaddr *)&a, &alen);
    port = ntohs(a.sin_port);
    opts.fetch_timeout = apr_time_from_sec(60);
    keys = zt_mk(ZT_KEYSRC_URL, apr_psprintf(pool, "http://127.0.0.1:%d/j",
                                             port),
                 ZT_T_ISS, apr_time_from_sec(60), apr_time_from_sec(60), &err);
    ck_assert_ptr_nonnull(keys);
    t0 = apr_time_now();
    ck_assert_int_eq(zt_keys_refetch(keys, 0, 0), 0);
    /* Not retried until the fetch timeout (a minute). */
    ck_assert_int_lt(apr_time_now() - t0, apr_time_from_sec(10));
    close(fd);
    ck_assert_ptr_nonnull(strstr(zt_logged(ZT_KEYS_EV_MISSING), "refused"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* From a table                                                        */

/* The issuer records of a table become sources: a relative jwks file,
 * url and discover with the table's refresh and refetch_min, and an
 * issuer with only a secret. */
START_TEST(t_from_policy)
{
    const char *dir = apr_pstrcat(pool, tmpdir, "/pol", NULL);
    const char *base = zt_srv_url(pool, ""), *err = NULL;
    zpc_ir_t *ir = zb_new(pool, "p", "p.ztp");
    uint32_t r = zb_route(ir, ZT_M_GET, "/a"), i;
    zt_table_t *t;
    zt_policy_t *pol;
    zt_keys_t *keys;
    zt_keys_stat_t st;
    apr_time_t t0, t1;
    void *buf;
    apr_size_t len;
    FILE *f;
    static const zt_keysrc_kind_e kinds[4] = {
        ZT_KEYSRC_FILE, ZT_KEYSRC_URL, ZT_KEYSRC_DISCOVER, ZT_KEYSRC_NONE
    };

    ck_assert_int_eq(apr_dir_make_recursive(dir, APR_FPROT_OS_DEFAULT, pool),
                     APR_SUCCESS);
    f = fopen(apr_pstrcat(pool, dir, "/k.json", NULL), "w");
    fputs(zt_set1(&ka, "a"), f);
    fclose(f);
    f = fopen(apr_pstrcat(pool, dir, "/n.key", NULL), "w");
    fputs("0123456789abcdefghijklmnopqrstuv", f);
    fclose(f);
    chmod(apr_pstrcat(pool, dir, "/n.key", NULL), 0600);

    zb_issuer(ir, "f", "file-issuer", "api", ZT_ALG_EDDSA, "k.json", 0, 0);
    i = zb_issuer(ir, "u", "https://u.test", "api", ZT_ALG_EDDSA, NULL, 0, 0);
    zb_issuer_keys(ir, i, ZT_JWKS_URL, zt_srv_url(pool, "/jwks"), NULL, 3600, 1);
    i = zb_issuer(ir, "d", base, "api", ZT_ALG_EDDSA, NULL, 0, 0);
    zb_issuer_keys(ir, i, ZT_JWKS_DISCOVER, NULL, NULL, 3600, 60);
    i = zb_issuer(ir, "n", "n", "api", ZT_ALG_HS256, NULL, 0, 0);
    zb_issuer_keys(ir, i, ZT_JWKS_NONE, NULL, "n.key", 0, 0);
    zb_rule(ir, ZT_EFFECT_ALLOW, 0, NULL, "GET /a", 1, r);
    ck_assert_msg(zpc_emit(ir, pool, &buf, &len, &err) == APR_SUCCESS, "%s", err);
    ck_assert_msg(zt_table_load(&t, buf, len, "p.ztb", pool, &err) == APR_SUCCESS,
                  "%s", err);
    ck_assert_msg(zt_policy_from_table(&pol, t, dir, pool, &err) == APR_SUCCESS,
                  "%s", err);
    opts.log = NULL;
    ck_assert_msg(zt_keys_from_policy(&keys, pol, &opts, pool, &err)
                  == APR_SUCCESS, "%s", err);
    ck_assert_int_eq(zt_keys_dynamic(keys), 1);
    for (int j = 0; j < 4; j++) {
        zt_keys_stat(keys, j, &st, pool);
        ck_assert_int_eq(st.kind, kinds[j]);
    }
    ck_assert_str_eq(zt_kids_now(keys, 0), "a");
    ck_assert_str_eq(zt_kids_now(keys, 1), "");
    ck_assert_uint_ne(zt_keys_generation(keys, 3), 0);
    ck_assert_int_eq(zt_srv_total(), 0);

    zt_srv_set("/jwks", zt_set1(&kb, "b"));
    zt_srv_set("/.well-known/openid-configuration",
               apr_psprintf(pool, "{\"issuer\":\"%s\",\"jwks_uri\":\"%s\"}",
                            base, zt_srv_url(pool, "/certs")));
    zt_srv_set("/certs", zt_set1(&kc, "c"));
    t0 = apr_time_now();
    ck_assert_int_eq(zt_keys_refetch(keys, 1, 0), 1);
    ck_assert_int_eq(zt_keys_refetch(keys, 2, 0), 1);
    t1 = apr_time_now();
    {
        const zt_keyring_t *ring = zt_keys_acquire(keys);

        ck_assert_str_eq(zt_kids(ring, 1), "b");
        ck_assert_str_eq(zt_kids(ring, 2), "c");
        /* The secret-only issuer keeps its secret in every ring. */
        ck_assert_ptr_nonnull(ring->issuers[3].secret);
        ck_assert_ptr_null(ring->issuers[3].keys);
        ck_assert_str_eq(ring->issuers[2].iss, base);
        zt_keys_release(ring);
    }
    /* refetch_min from the table: 1 s for "u" (its next set comes no
     * sooner, and well within ZT_T_PATIENCE), more for "d" (60 s). */
    zt_srv_set("/jwks", zt_set2(&kb, "b", &kc, "c"));
    ck_assert_int_ge(zt_t_refetch_until(keys, 1, zt_keys_generation(keys, 1),
                                        t0), apr_time_from_sec(1));
    while (apr_time_now() - t1 < apr_time_from_msec(1050)) {
        zt_sleep_ms(10);
    }
    ck_assert_int_eq(zt_keys_refetch(keys, 2, zt_keys_generation(keys, 2)), 0);
    ck_assert_int_eq(zt_srv_hits("/certs"), 1);

    unlink(apr_pstrcat(pool, dir, "/k.json", NULL));
    unlink(apr_pstrcat(pool, dir, "/n.key", NULL));
    rmdir(dir);
}
END_TEST

static Suite *zt_keys_suite(void)
{
    Suite *s = suite_create("keys");
    TCase *tc = tcase_create("keys");

    tcase_add_checked_fixture(tc, setup, teardown);
    /* Polls wait up to ZT_T_PATIENCE (20 s) each on a loaded machine. */
    zt_test_timeout(tc, 120);
    tcase_add_test(tc, t_url_check);
    tcase_add_test(tc, t_create_refuses);
    tcase_add_test(tc, t_no_keys_yet);
    tcase_add_test(tc, t_refetch_rate_limit);
    tcase_add_test(tc, t_refetch_after_interval);
    tcase_add_test(tc, t_refetch_same_document);
    tcase_add_test(tc, t_single_flight);
    tcase_add_test(tc, t_single_flight_failure);
    tcase_add_test(tc, t_keep_last_good);
    tcase_add_test(tc, t_size_limit_exact);
    tcase_add_test(tc, t_refresher);
    tcase_add_test(tc, t_refresher_retries);
    tcase_add_test(tc, t_refetch_joins_refresher);
    tcase_add_test(tc, t_stop_abandons_fetch);
    tcase_add_test(tc, t_ring_lifetime);
    tcase_add_test(tc, t_readers_and_swaps);
    tcase_add_test(tc, t_discover);
    tcase_add_test(tc, t_discover_refusals);
    tcase_add_test(tc, t_file);
    tcase_add_test(tc, t_file_racy);
    tcase_add_test(tc, t_file_same_size);
    tcase_add_test(tc, t_generations_unique);
    tcase_add_test(tc, t_localhost);
    tcase_add_test(tc, t_connection_refused);
    tcase_add_test(tc, t_from_policy);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return zt_test_main(zt_keys_suite());
}
