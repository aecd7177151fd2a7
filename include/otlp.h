/* SPDX-License-Identifier: MIT */
/*
 * OTLP decoding into the protobuf-c structs generated from proto/, and
 * helpers to read attribute values whatever their wire type. This header is
 * the only one that names the generated types; the short aliases below are
 * what the rest of ccrun uses.
 */
#ifndef CCR_OTLP_H
#define CCR_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "otlp-collector.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue ccr_otlp_value;
typedef Opentelemetry__Proto__Common__V1__KeyValue ccr_otlp_kv;
typedef Opentelemetry__Proto__Resource__V1__Resource ccr_otlp_resource;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs ccr_otlp_resource_logs;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs ccr_otlp_scope_logs;
typedef Opentelemetry__Proto__Logs__V1__LogRecord ccr_otlp_log_record;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics ccr_otlp_resource_metrics;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics ccr_otlp_scope_metrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric ccr_otlp_metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint ccr_otlp_number_point;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint ccr_otlp_histogram_point;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ccr_otlp_resource_spans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ccr_otlp_scope_spans;
typedef Opentelemetry__Proto__Trace__V1__Span ccr_otlp_span;
typedef Opentelemetry__Proto__Collector__V1__ExportLogsServiceRequest ccr_otlp_logs_request;
typedef Opentelemetry__Proto__Collector__V1__ExportMetricsServiceRequest ccr_otlp_metrics_request;
typedef Opentelemetry__Proto__Collector__V1__ExportTraceServiceRequest ccr_otlp_traces_request;

enum ccr_signal {
    CCR_SIGNAL_LOGS,
    CCR_SIGNAL_METRICS,
    CCR_SIGNAL_TRACES,
};

/* One decoded export request. Exactly one pointer matches signal. */
struct ccr_otlp_request {
    enum ccr_signal signal;
    ccr_otlp_logs_request *logs;
    ccr_otlp_metrics_request *metrics;
    ccr_otlp_traces_request *traces;
};

/*
 * Limits on what a peer's body may build, for every encoding: messages
 * nested deeper than CCR_OTLP_MAX_DEPTH, or more than CCR_OTLP_MAX_ITEMS
 * fields and values in one request, are refused before anything is
 * allocated. Claude Code's bodies use a few levels and a few thousand items.
 */
#define CCR_OTLP_MAX_DEPTH 64
#define CCR_OTLP_MAX_ITEMS (1u << 18)

/* "logs", "metrics" or "traces". */
const char *ccr_signal_name(enum ccr_signal signal);

/*
 * Decodes a protobuf Export…ServiceRequest body. Returns 0 and fills req (to
 * be released with ccr_otlp_request_finish), -E2BIG when the body passes a
 * limit above, or -EBADMSG when the bytes are not a valid message of that
 * kind.
 */
int ccr_otlp_decode_protobuf(enum ccr_signal signal, const uint8_t *body, size_t len,
                             struct ccr_otlp_request *req);
void ccr_otlp_request_finish(struct ccr_otlp_request *req);

/* Log records, data points or spans in the request. */
size_t ccr_otlp_request_items(const struct ccr_otlp_request *req);

/* The value of the first attribute named key, or NULL. */
const ccr_otlp_value *ccr_otlp_find(ccr_otlp_kv *const *kvs, size_t n, const char *key);

/* The string of a string value; NULL for any other type or a NULL value. */
const char *ccr_otlp_string(const ccr_otlp_value *v);

/*
 * Coercions by meaning rather than wire type, since Claude Code sends many
 * numbers as strings: ints, doubles (truncated), decimal strings and bools
 * all read as integers. They return false and leave *out alone otherwise.
 */
bool ccr_otlp_to_int(const ccr_otlp_value *v, int64_t *out);
bool ccr_otlp_to_double(const ccr_otlp_value *v, double *out);
/* 1 or 0 for a bool, "true"/"false" or an integer; -1 when it says neither. */
int ccr_otlp_to_bool(const ccr_otlp_value *v);

/*
 * JSON for a value or an attribute list (an object; a repeated key keeps
 * its first value). Bytes become hex strings. New references.
 */
json_t *ccr_otlp_value_json(const ccr_otlp_value *v);
json_t *ccr_otlp_attrs_json(ccr_otlp_kv *const *kvs, size_t n);

struct ccr_buf;

/*
 * Appends to out the compact JSON text of ccr_otlp_attrs_json without building
 * a jansson tree, since it runs for every record stored: the same text, except
 * that a string of invalid UTF-8 keeps its bytes as \xNN escapes instead of
 * making the whole object unprintable. out is NUL-terminated.
 */
void ccr_otlp_attrs_write(ccr_otlp_kv *const *kvs, size_t n, struct ccr_buf *out);

#endif
