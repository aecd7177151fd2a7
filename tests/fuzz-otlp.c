/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: protobuf decoding and the mapping of events and metric
 * points into a history. The first byte picks the signal, the rest is the
 * body. Besides not crashing, the attribute JSON the history stores must
 * always parse, and must equal jansson's dump whenever jansson can print it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fuzz.h"
#include "otlp.h"
#include "record.h"
#include "store.h"
#include "util.h"

static struct ccr_store *store;
static struct ccr_recorder rec;

static void setup(void)
{
    char *cause = NULL;
    int64_t run_id;
    char *path = ccr_fuzz_temp_db("otlp");

    if (ccr_store_open(path, false, &store, &cause) < 0 ||
        ccr_store_run_start(store, "[\"fuzz\"]", "/", 0, NULL, &run_id) < 0) {
        fprintf(stderr, "fuzz-otlp: cannot open %s: %s\n", path, cause ? cause : "");
        abort();
    }
    ccr_recorder_init(&rec, store, run_id);
    free(path);
}

static void check_attrs(ccr_otlp_kv *const *kvs, size_t n)
{
    struct ccr_buf b = {0};
    json_error_t err;

    ccr_otlp_attrs_write(kvs, n, &b);
    json_t *back = json_loads(ccr_buf_cstr(&b), 0, &err);
    if (back == NULL) {
        fprintf(stderr, "fuzz-otlp: stored attributes do not parse: %s\n", err.text);
        abort();
    }
    json_decref(back);

    json_t *tree = ccr_otlp_attrs_json(kvs, n);
    char *want = json_dumps(tree, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(tree);
    if (want != NULL && strcmp(want, ccr_buf_cstr(&b)) != 0) {
        fprintf(stderr, "fuzz-otlp: writer and jansson differ:\n%s\n%s\n", want,
                ccr_buf_cstr(&b));
        abort();
    }
    free(want);
    ccr_buf_finish(&b);
}

static void check_logs(const ccr_otlp_logs_request *logs)
{
    for (size_t i = 0; i < logs->n_resource_logs; i++) {
        const ccr_otlp_resource_logs *rl = logs->resource_logs[i];
        if (rl->resource != NULL) {
            check_attrs(rl->resource->attributes, rl->resource->n_attributes);
        }
        for (size_t j = 0; j < rl->n_scope_logs; j++) {
            for (size_t k = 0; k < rl->scope_logs[j]->n_log_records; k++) {
                const ccr_otlp_log_record *lr = rl->scope_logs[j]->log_records[k];
                check_attrs(lr->attributes, lr->n_attributes);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum ccr_signal signals[] = {CCR_SIGNAL_LOGS, CCR_SIGNAL_METRICS,
                                              CCR_SIGNAL_TRACES};
    struct ccr_otlp_request req;

    if (store == NULL) {
        setup();
    }
    if (size < 1) {
        return 0;
    }
    if (ccr_otlp_decode_protobuf(signals[data[0] % 3], data + 1, size - 1, &req) < 0) {
        return 0;
    }
    if (req.logs != NULL) {
        check_logs(req.logs);
    }
    ccr_otlp_request_items(&req);
    ccr_record_request(&rec, &req);
    ccr_otlp_request_finish(&req);
    return 0;
}
