/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/**
 * @file zpc_decode.h
 * @brief `zpc decode`: a JWT taken apart, every check listed (docs/ZPC.md).
 */
#ifndef ZPC_DECODE_H
#define ZPC_DECODE_H

#include <apr_pools.h>

/** Largest input `zpc decode` reads (ZeroTrustTokenMaxSize's ceiling). */
#define ZPC_DECODE_MAX_INPUT  (1024 * 1024)

/**
 * Run `zpc decode JWT [--jwks FILE | --policy POLICY.ztb] [--now UNIXTIME]`
 * with the arguments after "decode".  Prints to stdout; returns the exit
 * status: 0 the token is valid (or, with neither option, well-formed),
 * 1 it is not, 2 usage or system error.
 */
int zpc_decode_main(int argc, char **argv, apr_pool_t *pool);

#endif /* ZPC_DECODE_H */
