/* SPDX-License-Identifier: MIT */
/*
 * OTLP/JSON decoding: every accepted spelling of a request must build the
 * same protobuf-c structs, which is checked by packing them and comparing
 * the bytes; malformed and oversized bodies must be refused with a reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "otlp-json.h"
#include "util.h"

/* Decodes text and packs the result, so two spellings compare as bytes. */
static int pack_json(enum ccr_signal signal, const char *text, struct ccr_buf *out)
{
    struct ccr_otlp_request req;
    const char *why = NULL;
    int rc = ccr_otlp_decode_json(signal, (const uint8_t *)text, strlen(text), &req, &why);

    if (rc < 0) {
        return rc;
    }
    const ProtobufCMessage *m = req.logs != NULL      ? &req.logs->base
                                : req.metrics != NULL ? &req.metrics->base
                                                      : &req.traces->base;
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *bytes = ccr_xmalloc(n);
    protobuf_c_message_pack(m, bytes);
    ccr_buf_append(out, bytes, n);
    free(bytes);
    ccr_otlp_request_finish(&req);
    return 0;
}

static void assert_same_message(enum ccr_signal signal, const char *a, const char *b)
{
    struct ccr_buf pa = {0}, pb = {0};

    ASSERT_INT_EQ(pack_json(signal, a, &pa), 0);
    ASSERT_INT_EQ(pack_json(signal, b, &pb), 0);
    ASSERT_TRUE(pa.len > 0);
    ASSERT_INT_EQ(pa.len, pb.len);
    ASSERT_TRUE(pa.len == pb.len && memcmp(pa.data, pb.data, pa.len) == 0);
    ccr_buf_finish(&pa);
    ccr_buf_finish(&pb);
}

/* The proto3 JSON mapping's own form against Claude Code's and the .proto names. */
static void json_log_spellings_build_the_same_message(void)
{
    const char *spec =
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
        "\"value\":{\"stringValue\":\"claude-code\"}}]},\"scopeLogs\":[{\"scope\":{\"name\":"
        "\"s\"},\"logRecords\":[{\"timeUnixNano\":\"1796301546061000000\","
        "\"severityNumber\":\"SEVERITY_NUMBER_INFO2\",\"traceId\":"
        "\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
        "\"body\":{\"stringValue\":\"claude_code.api_request\"},\"attributes\":["
        "{\"key\":\"event.sequence\",\"value\":{\"intValue\":\"7\"}},"
        "{\"key\":\"cost_usd\",\"value\":{\"doubleValue\":0.5}},"
        "{\"key\":\"ok\",\"value\":{\"boolValue\":true}},"
        "{\"key\":\"raw\",\"value\":{\"bytesValue\":\"aGVsbG8=\"}},"
        "{\"key\":\"list\",\"value\":{\"arrayValue\":{\"values\":[{\"intValue\":\"1\"}]}}},"
        "{\"key\":\"map\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"k\","
        "\"value\":{\"stringValue\":\"v\"}}]}}}]}]}]}]}";
    const char *other =
        "{\"resource_logs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
        "\"value\":{\"string_value\":\"claude-code\"}}]},\"scope_logs\":[{\"scope\":{\"name\":"
        "\"s\"},\"log_records\":[{\"time_unix_nano\":1796301546061000000,"
        "\"severity_number\":10,\"trace_id\":"
        "\"5b8efff798038103d269b633813fc60c\",\"span_id\":\"eee19b7ec3c1b174\","
        "\"unknownField\":{\"ignored\":[1,2]},\"severityText\":null,"
        "\"body\":{\"stringValue\":\"claude_code.api_request\"},\"attributes\":["
        "{\"key\":\"event.sequence\",\"value\":{\"intValue\":7}},"
        "{\"key\":\"cost_usd\",\"value\":{\"double_value\":\"0.5\"}},"
        "{\"key\":\"ok\",\"value\":{\"bool_value\":true}},"
        "{\"key\":\"raw\",\"value\":{\"bytes_value\":\"aGVsbG8\"}},"
        "{\"key\":\"list\",\"value\":{\"array_value\":{\"values\":[{\"int_value\":1.0}]}}},"
        "{\"key\":\"map\",\"value\":{\"kvlist_value\":{\"values\":[{\"key\":\"k\","
        "\"value\":{\"string_value\":\"v\"}}]}}}]}]}]}]}";

    assert_same_message(CCR_SIGNAL_LOGS, spec, other);
}

static void json_metric_enums_by_name_or_number_agree(void)
{
    const char *named =
        "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"m\",\"sum\":"
        "{\"aggregationTemporality\":\"AGGREGATION_TEMPORALITY_CUMULATIVE\",\"isMonotonic\":"
        "true,\"dataPoints\":[{\"startTimeUnixNano\":\"1\",\"timeUnixNano\":\"2\","
        "\"asInt\":\"9007199254740993\"},{\"timeUnixNano\":\"3\","
        "\"asDouble\":\"Infinity\"}]}}]}]}]}";
    const char *numbered =
        "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"m\",\"sum\":"
        "{\"aggregation_temporality\":2,\"is_monotonic\":true,\"data_points\":["
        "{\"start_time_unix_nano\":1,\"time_unix_nano\":2,\"as_int\":9007199254740993},"
        "{\"time_unix_nano\":\"3\",\"as_double\":\"Infinity\"}]}}]}]}]}";
    struct ccr_otlp_request req;
    const char *why;

    assert_same_message(CCR_SIGNAL_METRICS, named, numbered);
    ASSERT_INT_EQ(ccr_otlp_decode_json(CCR_SIGNAL_METRICS, (const uint8_t *)named,
                                       strlen(named), &req, &why), 0);
    const ccr_otlp_metric *m = req.metrics->resource_metrics[0]->scope_metrics[0]->metrics[0];
    ASSERT_INT_EQ(m->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
    ASSERT_INT_EQ(m->sum->aggregation_temporality, 2);
    /* 2^53 + 1 survives only if the string is not read through a double. */
    ASSERT_INT_EQ(m->sum->data_points[0]->as_int, 9007199254740993LL);
    ccr_otlp_request_finish(&req);
}

static void json_span_ids_are_hex_and_kinds_names(void)
{
    const char *text =
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
        "\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"eee19b7ec3c1b174\","
        "\"parentSpanId\":\"\",\"name\":\"claude_code.tool\",\"kind\":\"SPAN_KIND_CLIENT\","
        "\"startTimeUnixNano\":\"10\",\"endTimeUnixNano\":\"20\",\"flags\":257,"
        "\"status\":{\"code\":\"STATUS_CODE_ERROR\",\"message\":\"boom\"}}]}]}]}";
    struct ccr_otlp_request req;
    const char *why;

    ASSERT_INT_EQ(ccr_otlp_decode_json(CCR_SIGNAL_TRACES, (const uint8_t *)text, strlen(text),
                                       &req, &why), 0);
    const Opentelemetry__Proto__Trace__V1__Span *sp =
        req.traces->resource_spans[0]->scope_spans[0]->spans[0];
    ASSERT_INT_EQ(sp->trace_id.len, 16);
    ASSERT_INT_EQ(sp->trace_id.data[0], 0x5b);
    ASSERT_INT_EQ(sp->span_id.len, 8);
    ASSERT_INT_EQ(sp->span_id.data[7], 0x74);
    ASSERT_INT_EQ(sp->parent_span_id.len, 0);
    ASSERT_INT_EQ(sp->kind, 3);
    ASSERT_INT_EQ(sp->flags, 257);
    ASSERT_INT_EQ(sp->end_time_unix_nano, 20);
    ASSERT_INT_EQ(sp->status->code, 2);
    ASSERT_STR_EQ(sp->status->message, "boom");
    ccr_otlp_request_finish(&req);
}

static int decode_status(enum ccr_signal signal, const char *text, const char **why)
{
    struct ccr_otlp_request req;
    int rc = ccr_otlp_decode_json(signal, (const uint8_t *)text, strlen(text), &req, why);

    if (rc == 0) {
        ccr_otlp_request_finish(&req);
    }
    return rc;
}

/* Each is refused, and whatever was built before the fault is freed (ASan checks). */
static void json_malformed_bodies_are_refused(void)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{\"resourceLogs\":{}}",
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"-5\"}]}]}]}",
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"12x\"}]}]}]}",
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":\"LOUD\"}]}]}]}",
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"a\","
        "\"intValue\":1}}]}]}]}",
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":\"zz\"}]}]}]}",
        "{\"resourceLogs\":[{}],\"resource_logs\":[{}]}",
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"droppedAttributesCount\":-1}]}]}]}",
    };
    const char *why;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        if (decode_status(CCR_SIGNAL_LOGS, bad[i], &why) != -EBADMSG || why == NULL) {
            CCR_FAIL("body %zu was not refused as malformed: %s", i, bad[i]);
        }
    }
}

/* An AnyValue nested past the depth limit, and more items than allowed. */
static void json_limits_are_enforced(void)
{
    struct ccr_buf b = {0};
    const char *why = NULL;

    ccr_buf_printf(&b, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":");
    for (int i = 0; i < 40; i++) {
        ccr_buf_printf(&b, "{\"arrayValue\":{\"values\":[");
    }
    ccr_buf_printf(&b, "{\"intValue\":1}");
    for (int i = 0; i < 40; i++) {
        ccr_buf_printf(&b, "]}}");
    }
    ccr_buf_printf(&b, "}]}]}]}");
    ASSERT_INT_EQ(decode_status(CCR_SIGNAL_LOGS, ccr_buf_cstr(&b), &why), -E2BIG);
    ASSERT_STR_EQ(why, "messages nested too deeply");

    ccr_buf_reset(&b);
    ccr_buf_printf(&b, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[");
    for (unsigned i = 0; i <= CCR_OTLP_JSON_MAX_ITEMS; i++) {
        ccr_buf_printf(&b, i == 0 ? "{}" : ",{}");
    }
    ccr_buf_printf(&b, "]}]}]}");
    ASSERT_INT_EQ(decode_status(CCR_SIGNAL_LOGS, ccr_buf_cstr(&b), &why), -E2BIG);
    ASSERT_STR_EQ(why, "too many items");

    /* Scalars count too, even in a field the decoder would skip. */
    ccr_buf_reset(&b);
    ccr_buf_printf(&b, "{\"unknown\":[0");
    for (unsigned i = 0; i < CCR_OTLP_JSON_MAX_ITEMS; i++) {
        ccr_buf_printf(&b, ",1");
    }
    ccr_buf_printf(&b, "],\"s\":\"a,b\\\",c\"}");
    ASSERT_INT_EQ(decode_status(CCR_SIGNAL_LOGS, ccr_buf_cstr(&b), &why), -E2BIG);
    /* Commas inside strings, escaped quotes included, are not values. */
    ASSERT_INT_EQ(decode_status(CCR_SIGNAL_LOGS, "{\"s\":\"a,b\\\",c,d\",\"resourceLogs\":[]}",
                                &why), 0);
    ccr_buf_finish(&b);
}

int main(void)
{
    CCR_RUN(json_log_spellings_build_the_same_message);
    CCR_RUN(json_metric_enums_by_name_or_number_agree);
    CCR_RUN(json_span_ids_are_hex_and_kinds_names);
    CCR_RUN(json_malformed_bodies_are_refused);
    CCR_RUN(json_limits_are_enforced);
    return CCR_TEST_EXIT();
}
