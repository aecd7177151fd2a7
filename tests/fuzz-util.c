/* SPDX-License-Identifier: MIT */
/* Helpers of the fuzz targets. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "util.h"

static char *temp_dir;

static void remove_temp_dir(void)
{
    char *cmd = ccr_xasprintf("rm -rf '%s'", temp_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "fuzz: could not remove %s\n", temp_dir);
    }
    free(cmd);
    free(temp_dir);
}

char *ccr_fuzz_temp_db(const char *name)
{
    if (temp_dir == NULL) {
        temp_dir = ccr_xstrdup("/tmp/ccrun-fuzz-XXXXXX");
        if (mkdtemp(temp_dir) == NULL) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(remove_temp_dir);
    }
    return ccr_xasprintf("%s/%s.db", temp_dir, name);
}
