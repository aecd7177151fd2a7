/* SPDX-License-Identifier: MIT */
/*
 * A main for the fuzz targets without libFuzzer: runs every file named on the
 * command line (or every file in a directory so named) through the target
 * once. The test suite uses it to replay seeds and past crashes.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "util.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct ccr_buf b = {0};
    char chunk[65536];
    size_t n;

    if (f == NULL) {
        perror(path);
        return 1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        ccr_buf_append(&b, chunk, n);
    }
    fclose(f);
    LLVMFuzzerTestOneInput(b.data != NULL ? b.data : (const uint8_t *)"", b.len);
    ccr_buf_finish(&b);
    return 0;
}

static int run_path(const char *path, size_t *count)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    DIR *d = opendir(path);
    struct dirent *e;
    int rc = 0;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char *child = ccr_xasprintf("%s/%s", path, e->d_name);
        rc |= run_path(child, count);
        free(child);
    }
    if (d != NULL) {
        closedir(d);
    }
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        rc |= run_path(argv[i], &count);
    }
    printf("replayed %zu inputs\n", count);
    return rc != 0 || count == 0;
}
