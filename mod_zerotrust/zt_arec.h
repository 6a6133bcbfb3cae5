/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zt_arec.h
 * @brief Pieces of the audit record that need no httpd: its time and the
 *        request id as httpd's core spells it, each written as the
 *        record's writer (zt_audit.c) wrote it with APR and httpd's
 *        helpers, byte for byte, at a fraction of the cost.
 */
#ifndef ZT_AREC_H
#define ZT_AREC_H

#include <stdint.h>

/** Bytes zt_arec_time writes: the time, quoted. */
#define ZT_AREC_TIME_LEN 26

/**
 * @a t (microseconds since the epoch, UTC) as the record's time,
 * quoted: "2026-11-29T01:02:03.456Z" (milliseconds truncated; the year
 * modulo 10000, so always four digits).  Returns the end, or
 * NULL when @a t is before the epoch (nothing is written).  Each thread
 * keeps the text of the last second it wrote, so most calls only copy it
 * and write the milliseconds.
 */
char *zt_arec_time(char *o, int64_t t);

/** Characters of zt_arec_id's text. */
#define ZT_AREC_ID_LEN 11

/**
 * The 8 bytes of @a id, in memory order, in base64 (RFC 4648 alphabet,
 * as apr_base64_encode), the padding dropped: ZT_AREC_ID_LEN characters
 * at @a o, no NUL.  httpd's core log id (the error log's %L).
 */
void zt_arec_id(char *o, uint64_t id);

#endif /* ZT_AREC_H */
