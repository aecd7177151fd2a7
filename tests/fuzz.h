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

struct ccr_otlp_request;
struct ccr_recorder;
struct ccr_store;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The private temporary directory of this process, removed at exit. */
const char *ccr_fuzz_temp_dir(void);

/*
 * The path of a fresh history in a private temporary directory, removed at
 * exit; allocated.
 */
char *ccr_fuzz_temp_db(const char *name);

/*
 * Opens a fresh history called name, starts a run in it and sets up rec to
 * record into that run, pricing with the built-in table. Aborts on failure.
 */
void ccr_fuzz_open_recorder(const char *name, struct ccr_store **store,
                            struct ccr_recorder *rec);

/*
 * Aborts unless, for every attribute list in req, the JSON the history
 * would store parses, and equals jansson's dump whenever jansson can print
 * it.
 */
void ccr_fuzz_check_attrs(const struct ccr_otlp_request *req);

#endif
