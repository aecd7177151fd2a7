/* SPDX-License-Identifier: MIT */
/* Export…ServiceResponse messages, packed with protobuf-c or written as OTLP/JSON. */
#include "otlp-reply.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* The JSON names of each signal's partial-success count. */
static const char *rejected_key(enum ccr_signal signal)
{
    switch (signal) {
    case CCR_SIGNAL_LOGS:
        return "rejectedLogRecords";
    case CCR_SIGNAL_METRICS:
        return "rejectedDataPoints";
    case CCR_SIGNAL_TRACES:
        return "rejectedSpans";
    }
    return "rejected";
}

/* OTLP/JSON writes int64 as a decimal string. */
static void encode_json(enum ccr_signal signal, int64_t rejected, const char *message,
                        struct ccr_buf *out)
{
    json_t *root = json_object();

    if (rejected > 0) {
        char count[24];
        snprintf(count, sizeof(count), "%lld", (long long)rejected);
        json_t *ps = json_object();
        json_object_set_new(ps, rejected_key(signal), json_string(count));
        json_object_set_new(ps, "errorMessage", json_string(message != NULL ? message : ""));
        json_object_set_new(root, "partialSuccess", ps);
    }
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    ccr_buf_append(out, text, strlen(text));
    free(text);
}

/* Packs msg (any response message) after the bytes already in out. */
static void pack_into(const ProtobufCMessage *msg, struct ccr_buf *out)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *packed = ccr_xmalloc(n);

    protobuf_c_message_pack(msg, packed);
    ccr_buf_append(out, packed, n);
    free(packed);
}

/*
 * The three responses differ only in type and in the name of the count, so
 * each case builds its own pair on the stack and packs it.
 */
static void encode_protobuf(enum ccr_signal signal, int64_t rejected, const char *message,
                            struct ccr_buf *out)
{
    /* protobuf-c's string fields are not const; packing only reads them. */
    char *text = (char *)(message != NULL ? message : "");

    if (rejected <= 0) {
        return; /* an empty response message packs to no bytes */
    }
    switch (signal) {
    case CCR_SIGNAL_LOGS: {
        Opentelemetry__Proto__Collector__V1__ExportLogsPartialSuccess ps =
            OPENTELEMETRY__PROTO__COLLECTOR__V1__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;
        Opentelemetry__Proto__Collector__V1__ExportLogsServiceResponse r =
            OPENTELEMETRY__PROTO__COLLECTOR__V1__EXPORT_LOGS_SERVICE_RESPONSE__INIT;
        ps.rejected_log_records = rejected;
        ps.error_message = text;
        r.partial_success = &ps;
        pack_into(&r.base, out);
        return;
    }
    case CCR_SIGNAL_METRICS: {
        Opentelemetry__Proto__Collector__V1__ExportMetricsPartialSuccess ps =
            OPENTELEMETRY__PROTO__COLLECTOR__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
        Opentelemetry__Proto__Collector__V1__ExportMetricsServiceResponse r =
            OPENTELEMETRY__PROTO__COLLECTOR__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
        ps.rejected_data_points = rejected;
        ps.error_message = text;
        r.partial_success = &ps;
        pack_into(&r.base, out);
        return;
    }
    case CCR_SIGNAL_TRACES: {
        Opentelemetry__Proto__Collector__V1__ExportTracePartialSuccess ps =
            OPENTELEMETRY__PROTO__COLLECTOR__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
        Opentelemetry__Proto__Collector__V1__ExportTraceServiceResponse r =
            OPENTELEMETRY__PROTO__COLLECTOR__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
        ps.rejected_spans = rejected;
        ps.error_message = text;
        r.partial_success = &ps;
        pack_into(&r.base, out);
        return;
    }
    }
}

void ccr_otlp_reply_encode(enum ccr_signal signal, bool json, int64_t rejected,
                           const char *message, struct ccr_buf *out)
{
    if (json) {
        encode_json(signal, rejected, message, out);
    } else {
        encode_protobuf(signal, rejected, message, out);
    }
}
