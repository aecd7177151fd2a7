/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: protobuf decoding and the mapping of events and metric
 * points into a history. The first byte picks the signal, the rest is the
 * body. Besides not crashing, the attribute JSON the history stores must
 * always parse, and must equal jansson's dump whenever jansson can print it.
 */
#include <stdint.h>

#include "fuzz.h"
#include "otlp.h"
#include "record.h"
#include "store.h"

static struct ccr_store *store;
static struct ccr_recorder rec;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum ccr_signal signals[] = {CCR_SIGNAL_LOGS, CCR_SIGNAL_METRICS,
                                              CCR_SIGNAL_TRACES};
    struct ccr_otlp_request req;

    if (store == NULL) {
        ccr_fuzz_open_recorder("otlp", &store, &rec);
    }
    if (size < 1) {
        return 0;
    }
    if (ccr_otlp_decode_protobuf(signals[data[0] % 3], data + 1, size - 1, &req) < 0) {
        return 0;
    }
    ccr_fuzz_check_attrs(&req);
    ccr_otlp_request_items(&req);
    ccr_record_request(&rec, &req);
    ccr_otlp_request_finish(&req);
    return 0;
}
