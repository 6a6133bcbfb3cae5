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
#include <stdio.h>
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

/* Timeouts.  Check's default, 4 s per test, suits an idle machine; make
 * check shares one with compilers and other test programs (loads of 20
 * on 2 cores were seen), and sanitizers run several times slower.  A
 * timeout only ends a hung test, so the default becomes 60 s (unless
 * CK_DEFAULT_TIMEOUT is set), and every timeout is multiplied by
 * ZT_TEST_SLOWDOWN in sanitizer builds: long loops set theirs with
 * zt_test_timeout(). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ZT_TEST_SLOWDOWN 4
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ZT_TEST_SLOWDOWN 4
#endif
#endif
#ifndef ZT_TEST_SLOWDOWN
#define ZT_TEST_SLOWDOWN 1
#endif

static inline void zt_test_timeout(TCase *tc, double seconds)
{
    tcase_set_timeout(tc, seconds * ZT_TEST_SLOWDOWN);
}

/* Before main: Check reads CK_DEFAULT_TIMEOUT in tcase_create. */
__attribute__((constructor)) static void zt_test_default_timeout(void)
{
    char s[16];

    snprintf(s, sizeof(s), "%d", 60 * ZT_TEST_SLOWDOWN);
    setenv("CK_DEFAULT_TIMEOUT", s, 0);
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
