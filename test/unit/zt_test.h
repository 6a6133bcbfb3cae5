/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/* Shared scaffolding of the Check-based unit tests.  Each test program
 * builds one Suite and calls zt_test_main(); with CK_TAP_LOG_FILE_NAME=-
 * (set by `make check`) Check reports every case in TAP. */
#ifndef ZT_TEST_H
#define ZT_TEST_H

#include <check.h>
#include <stdlib.h>
#include <apr_general.h>

#ifndef ZT_SRCDIR
#define ZT_SRCDIR "."
#endif

/* Where shared test data lives: ../shared/testdata next to the checkout,
 * or $ZT_TESTDATA when set. */
static inline const char *zt_test_datadir(void)
{
    const char *d = getenv("ZT_TESTDATA");
    return d ? d : ZT_SRCDIR "/../shared/testdata";
}

/* A fresh APR pool for each test, destroyed after it:
 * tcase_add_checked_fixture(tc, setup, teardown). */
#define ZT_TEST_POOL_FIXTURE                                            \
    static apr_pool_t *pool;                                            \
    static void setup(void) { apr_pool_create(&pool, NULL); }           \
    static void teardown(void) { apr_pool_destroy(pool); }

static inline int zt_test_main(Suite *s)
{
    SRunner *sr;
    int failed;

    apr_initialize();
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* ZT_TEST_H */
