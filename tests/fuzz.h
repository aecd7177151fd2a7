/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer targets share. Built with -Dfuzz=enabled they link
 * libFuzzer's main; otherwise fuzz-main.c gives them a main that runs each
 * file named on the command line once, so the seeds and every input that
 * once crashed are replayed by the ordinary test suite too.
 */
#ifndef CCR_TEST_FUZZ_H
#define CCR_TEST_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The path of a fresh history in a private temporary directory, removed at
 * exit; allocated.
 */
char *ccr_fuzz_temp_db(const char *name);

#endif
