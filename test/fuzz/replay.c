/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 */

/*
 * Replay driver for the fuzz targets: `fuzz_X FILE|DIR...` feeds every file
 * to LLVMFuzzerTestOneInput once and reports each as a TAP test.  A crash,
 * a sanitizer report or a leak fails the run; built with clang
 * -fsanitize=fuzzer instead, the same target is a real libFuzzer binary
 * (docs/FUZZING.md) and this file is left out.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (4u << 20)

static int replay_count;

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    size_t n;

    if (f == NULL) {
        printf("not ok %d - %s: cannot open\n", ++replay_count, path);
        return 1;
    }
    buf = malloc(REPLAY_MAX_INPUT);
    if (buf == NULL) {
        fclose(f);
        return 1;
    }
    n = fread(buf, 1, REPLAY_MAX_INPUT, f);
    fclose(f);
    /* An exact-size copy, so ASan sees any read past the input's end. */
    uint8_t *in = malloc(n ? n : 1);
    if (in == NULL) {
        free(buf);
        return 1;
    }
    memcpy(in, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(in, n);
    free(in);
    printf("ok %d - %s\n", ++replay_count, path);
    fflush(stdout);
    return 0;
}

static int replay_path(const char *path)
{
    struct stat st;
    struct dirent **names;
    int n, failed = 0;

    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return replay_file(path);
    }
    n = scandir(path, &names, NULL, alphasort);
    if (n < 0) {
        printf("not ok %d - %s: cannot read directory\n", ++replay_count, path);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
            char *p = malloc(len);
            if (p != NULL) {
                snprintf(p, len, "%s/%s", path, names[i]->d_name);
                failed |= replay_file(p);
                free(p);
            }
        }
        free(names[i]);
    }
    free(names);
    return failed;
}

int main(int argc, char **argv)
{
    int failed = 0;

    for (int i = 1; i < argc; i++) {
        failed |= replay_path(argv[i]);
    }
    printf("1..%d\n", replay_count);
    return failed || replay_count == 0;
}
