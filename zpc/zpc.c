/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * zpc: the policy compiler's command line (SPEC.md §4).
 *
 *   zpc compile POLICY.ztp -o POLICY.ztb
 *   zpc check   POLICY.ztp
 *   zpc test    POLICY.ztp                       (zpc_test.c)
 *   zpc explain POLICY.ztb --request "GET /x" ...  (zpc_explain.c)
 *   zpc dump    POLICY.ztb
 *   zpc diff    OLD.ztb NEW.ztb                  (zpc_diff.c)
 *   zpc decode  JWT [--jwks FILE | --policy POLICY.ztb] [--now UNIXTIME]
 *
 * Exit status: 0 success, 1 the input has errors, 2 usage or system error.
 */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "zpc_back.h"
#include "zpc_decode.h"
#include "zpc_front.h"
#include "zpc_tools.h"
#include "zt_table.h"

static void zpc_usage(FILE *out)
{
    fputs("usage: zpc compile POLICY.ztp -o POLICY.ztb\n"
          "       zpc check   POLICY.ztp\n"
          "       zpc test    POLICY.ztp\n"
          "       zpc explain POLICY.ztb --request \"METHOD /path?query\" "
          "[--token JWT] [--jwks FILE]\n"
          "                   [--from IP] [--header \"Name: value\"]... "
          "[--tls VERSION|none] [--cert]\n"
          "                   [--cert-subject S] [--cert-san X]... "
          "[--now UNIXTIME]\n"
          "       zpc dump    POLICY.ztb\n"
          "       zpc diff    OLD.ztb NEW.ztb\n"
          "       zpc decode  JWT [--jwks FILE | --policy POLICY.ztb] "
          "[--now UNIXTIME]\n"
          "       zpc --version\n"
          "\n"
          "compile  check POLICY.ztp and write the decision table\n"
          "check    report errors and warnings; write nothing\n"
          "test     run the policy's test blocks against the compiled table\n"
          "explain  one request through every stage: route, token, contract,\n"
          "         each rule's condition, step-up, and the rule that decided\n"
          "dump     print a compiled table in readable form\n"
          "diff     which routes and condition combinations changed decision\n"
          "decode   take a JWT apart; with keys or a policy, list every check\n"
          "         the module makes and its verdict (JWT '-' reads stdin)\n",
          out);
}

/*
 * Front end, emitter, then the module's own loader over the fresh bytes:
 * a table zpc writes has passed exactly the checks mod_zerotrust applies.
 */
int zpc_build(const char *src, apr_pool_t *pool, zpc_ir_t **irp,
              zt_table_t **tp, void **buf, apr_size_t *len)
{
    int nerr = 0, nwarn = 0;
    const char *err = NULL;
    zt_table_t *t;
    zpc_ir_t *ir = zpc_compile_file(src, stderr, pool, &nerr, &nwarn);

    if (ir == NULL || nerr > 0) {
        fprintf(stderr, "%d error%s generated.\n", nerr, nerr == 1 ? "" : "s");
        return ZPC_EXIT_INPUT;
    }
    if (zpc_emit(ir, pool, buf, len, &err) != APR_SUCCESS) {
        fprintf(stderr, "%s: error: %s\n", src, err);
        return ZPC_EXIT_INPUT;
    }
    if (zt_table_load(&t, *buf, *len, src, pool, &err) != APR_SUCCESS) {
        fprintf(stderr, "zpc: internal error: emitted table is invalid: %s\n", err);
        return ZPC_EXIT_USAGE;
    }
    if (irp != NULL) {
        *irp = ir;
    }
    if (tp != NULL) {
        *tp = t;
    }
    return ZPC_EXIT_OK;
}

static int zpc_cmd_compile(int argc, char **argv, apr_pool_t *pool)
{
    const char *src = NULL, *out = NULL, *err = NULL;
    void *buf;
    apr_size_t len;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        }
        else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "zpc compile: unknown option '%s'\n", argv[i]);
            return ZPC_EXIT_USAGE;
        }
        else if (src == NULL) {
            src = argv[i];
        }
        else {
            fprintf(stderr, "zpc compile: more than one policy file given\n");
            return ZPC_EXIT_USAGE;
        }
    }
    if (src == NULL || out == NULL) {
        fprintf(stderr, "zpc compile: need POLICY.ztp and -o POLICY.ztb\n");
        return ZPC_EXIT_USAGE;
    }
    if ((rc = zpc_build(src, pool, NULL, NULL, &buf, &len)) != ZPC_EXIT_OK) {
        return rc;
    }
    if (zpc_write_atomic(out, buf, len, pool, &err) != APR_SUCCESS) {
        fprintf(stderr, "zpc: %s\n", err);
        return ZPC_EXIT_USAGE;
    }
    return ZPC_EXIT_OK;
}

static int zpc_cmd_check(int argc, char **argv, apr_pool_t *pool)
{
    void *buf;
    apr_size_t len;

    if (argc != 1) {
        fprintf(stderr, "zpc check: need exactly one POLICY.ztp\n");
        return ZPC_EXIT_USAGE;
    }
    return zpc_build(argv[0], pool, NULL, NULL, &buf, &len);
}

static int zpc_cmd_dump(int argc, char **argv, apr_pool_t *pool)
{
    zt_table_t *t;
    const char *err = NULL;

    if (argc != 1) {
        fprintf(stderr, "zpc dump: need exactly one POLICY.ztb\n");
        return ZPC_EXIT_USAGE;
    }
    if (zt_table_open(&t, argv[0], pool, &err) != APR_SUCCESS) {
        fprintf(stderr, "zpc: %s\n", err);
        return ZPC_EXIT_INPUT;
    }
    zpc_dump(stdout, t);
    return fflush(stdout) == 0 ? ZPC_EXIT_OK : ZPC_EXIT_USAGE;
}

static int zpc_cmd_decode(int argc, char **argv, apr_pool_t *pool)
{
    return zpc_decode_main(argc, argv, pool);
}

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv, apr_pool_t *pool);
} zpc_command_t;

static const zpc_command_t zpc_commands[] = {
    { "compile", zpc_cmd_compile },
    { "check",   zpc_cmd_check },
    { "test",    zpc_test_main },
    { "explain", zpc_explain_main },
    { "dump",    zpc_cmd_dump },
    { "diff",    zpc_diff_main },
    { "decode",  zpc_cmd_decode },
};

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    int rc = -1;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        zpc_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? ZPC_EXIT_USAGE : ZPC_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("zpc %s (table format %d)\n", PACKAGE_VERSION, ZT_FORMAT_VERSION);
        return ZPC_EXIT_OK;
    }
    if (apr_app_initialize(&argc, (const char *const **)&argv, NULL) != APR_SUCCESS
        || apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        fprintf(stderr, "zpc: cannot initialise APR\n");
        return ZPC_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof(zpc_commands) / sizeof(zpc_commands[0]); i++) {
        if (strcmp(argv[1], zpc_commands[i].name) == 0) {
            rc = zpc_commands[i].run(argc - 2, argv + 2, pool);
            break;
        }
    }
    if (rc < 0) {
        fprintf(stderr, "zpc: unknown command '%s'\n", argv[1]);
        zpc_usage(stderr);
        rc = ZPC_EXIT_USAGE;
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
