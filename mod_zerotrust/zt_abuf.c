/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * A buffer of whole records shared by a process's threads (zt_abuf.h).
 *
 * One buffer and one mutex: a record is a memcpy of a few hundred bytes,
 * so threads hold the mutex for well under a microsecond, except for the
 * thread whose put flushes, which holds it during the write(2).  Per-
 * thread buffers would spare that wait but would have to be found and
 * flushed from one place at exit, and would reorder records by thread.
 */
#include "zt_abuf.h"

#include <string.h>

#include <apr_thread_mutex.h>

struct zt_abuf_s {
    char *data;
    apr_size_t len;                 /**< bytes buffered: whole records */
    apr_size_t size;                /**< 0 once the pool is being cleared */
    apr_time_t oldest;              /**< when the first buffered record came */
    apr_interval_time_t max_age;
    zt_abuf_write_fn *write;
    void *ctx;
    apr_thread_mutex_t *mutex;
};

/* Out with what is buffered; the mutex is held. */
static apr_status_t zt_abuf_drain(zt_abuf_t *b)
{
    apr_status_t rv = APR_SUCCESS;

    if (b->len) {
        rv = b->write(b->ctx, b->data, b->len);
        b->len = 0;
    }
    return rv;
}

/* The child's end (or a restart's): what is buffered goes out, and a
 * record put later (a thread still finishing) is written at once. */
static apr_status_t zt_abuf_cleanup(void *data)
{
    zt_abuf_t *b = data;

    apr_thread_mutex_lock(b->mutex);
    zt_abuf_drain(b);
    b->size = 0;
    apr_thread_mutex_unlock(b->mutex);
    return APR_SUCCESS;
}

apr_status_t zt_abuf_create(zt_abuf_t **out, apr_pool_t *p, apr_size_t size,
                            apr_interval_time_t max_age,
                            zt_abuf_write_fn *write, void *ctx)
{
    zt_abuf_t *b = apr_pcalloc(p, sizeof(*b));
    apr_status_t rv;

    if (size == 0) {
        return APR_EINVAL;
    }
    b->data = apr_palloc(p, size);
    b->size = size;
    b->max_age = max_age;
    b->write = write;
    b->ctx = ctx;
    rv = apr_thread_mutex_create(&b->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* Registered after the mutex's own cleanup, so run before it. */
    apr_pool_cleanup_register(p, b, zt_abuf_cleanup, apr_pool_cleanup_null);
    *out = b;
    return APR_SUCCESS;
}

apr_status_t zt_abuf_put(zt_abuf_t *b, const char *rec, apr_size_t len,
                         apr_time_t now)
{
    apr_status_t rv = APR_SUCCESS, rv2;

    apr_thread_mutex_lock(b->mutex);
    if (len > b->size - b->len) {
        rv = zt_abuf_drain(b);
    }
    if (len >= b->size) {
        /* Would fill the buffer alone: no use copying it. */
        rv2 = b->write(b->ctx, rec, len);
        rv = rv != APR_SUCCESS ? rv : rv2;
    }
    else {
        if (b->len == 0) {
            b->oldest = now;
        }
        memcpy(b->data + b->len, rec, len);
        b->len += len;
        if (now - b->oldest >= b->max_age) {
            rv2 = zt_abuf_drain(b);
            rv = rv != APR_SUCCESS ? rv : rv2;
        }
    }
    apr_thread_mutex_unlock(b->mutex);
    return rv;
}

apr_status_t zt_abuf_flush(zt_abuf_t *b)
{
    apr_status_t rv;

    apr_thread_mutex_lock(b->mutex);
    rv = zt_abuf_drain(b);
    apr_thread_mutex_unlock(b->mutex);
    return rv;
}
