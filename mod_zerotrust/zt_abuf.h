/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_abuf.h
 * @brief A buffer of whole log records, shared by the threads of a process
 *        (ZeroTrustAuditBuffer).
 *
 * Records are appended whole, under one mutex, and leave the buffer only
 * through the writer function, as a run of whole records: when the next
 * record does not fit, when the oldest buffered record is older than
 * max_age at the time a record is put (no timer: an idle process keeps
 * its records until the next one or its end), on zt_abuf_flush, and when
 * the pool is cleared (a child's exit).  A record larger than the buffer
 * is written on its own, after what was buffered, so the order of one
 * process's records is kept.  The writer is called with the mutex held:
 * two flushes never overlap.
 *
 * A write that fails drops what it carried (the caller logs it): keeping
 * it would only make every later record fail too.
 */
#ifndef ZT_ABUF_H
#define ZT_ABUF_H

#include <apr_pools.h>
#include <apr_time.h>

/** Write @a len bytes (whole records) out; the buffer's only way out. */
typedef apr_status_t zt_abuf_write_fn(void *ctx, const char *data,
                                      apr_size_t len);

typedef struct zt_abuf_s zt_abuf_t;

/**
 * A buffer of @a size bytes (> 0) in @a p whose records go out through
 * @a write(@a ctx, ...), at the latest at the first put that finds them
 * @a max_age old, and when @a p is cleared.
 */
apr_status_t zt_abuf_create(zt_abuf_t **out, apr_pool_t *p, apr_size_t size,
                            apr_interval_time_t max_age,
                            zt_abuf_write_fn *write, void *ctx);

/**
 * Add one whole record (@a rec, @a len bytes) put at time @a now; it may
 * go out at once (see above).  Returns the status of the writes made, if
 * any.  Safe from any thread.
 */
apr_status_t zt_abuf_put(zt_abuf_t *b, const char *rec, apr_size_t len,
                         apr_time_t now);

/** Write out what is buffered (nothing to do: APR_SUCCESS). */
apr_status_t zt_abuf_flush(zt_abuf_t *b);

#endif /* ZT_ABUF_H */
