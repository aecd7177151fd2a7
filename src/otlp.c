/* SPDX-License-Identifier: MIT */
/* OTLP protobuf decoding and attribute access. */
#include "otlp.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util.h"

/* Deeper values are cut to null: the JSON encoder recurses. */
#define CCR_OTLP_MAX_VALUE_DEPTH 16

const char *ccr_signal_name(enum ccr_signal signal)
{
    switch (signal) {
    case CCR_SIGNAL_LOGS:
        return "logs";
    case CCR_SIGNAL_METRICS:
        return "metrics";
    case CCR_SIGNAL_TRACES:
        return "traces";
    }
    return "unknown";
}

/* Reads a base-128 varint at *i; false when the bytes end inside it. */
static bool read_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *out)
{
    uint64_t v = 0;

    for (unsigned shift = 0; shift < 64 && *i < len; shift += 7) {
        uint8_t b = p[(*i)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/*
 * Walks the wire format with the message's descriptor, counting fields and
 * following sub-messages, without allocating. protobuf-c's unpack recurses
 * without a depth limit and allocates per field, so a small body (gzip makes
 * 32 MiB of empty sub-messages out of 32 KiB) could exhaust the stack or
 * take gigabytes. Malformed bytes end the walk quietly: unpack refuses them.
 */
static int scan_message(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
                        unsigned depth, size_t *items)
{
    size_t i = 0;
    uint64_t key, n;

    if (depth > CCR_OTLP_MAX_DEPTH) {
        return -E2BIG;
    }
    while (i < len) {
        if (!read_varint(p, len, &i, &key) || ++*items > CCR_OTLP_MAX_ITEMS) {
            return *items > CCR_OTLP_MAX_ITEMS ? -E2BIG : 0;
        }
        switch (key & 7) {
        case 0:
            if (!read_varint(p, len, &i, &n)) {
                return 0;
            }
            break;
        case 1:
            i += 8;
            break;
        case 5:
            i += 4;
            break;
        case 2: {
            if (!read_varint(p, len, &i, &n) || n > len - i) {
                return 0;
            }
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
            if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                int rc = scan_message(f->descriptor, p + i, (size_t)n, depth + 1, items);
                if (rc < 0) {
                    return rc;
                }
            }
            i += (size_t)n;
            break;
        }
        default:
            return 0;
        }
    }
    return 0;
}

int ccr_otlp_decode_protobuf(enum ccr_signal signal, const uint8_t *body, size_t len,
                             struct ccr_otlp_request *req)
{
    static const ProtobufCMessageDescriptor *const descriptors[] = {
        [CCR_SIGNAL_LOGS] =
            &opentelemetry__proto__collector__v1__export_logs_service_request__descriptor,
        [CCR_SIGNAL_METRICS] =
            &opentelemetry__proto__collector__v1__export_metrics_service_request__descriptor,
        [CCR_SIGNAL_TRACES] =
            &opentelemetry__proto__collector__v1__export_trace_service_request__descriptor,
    };
    size_t items = 0;

    memset(req, 0, sizeof(*req));
    req->signal = signal;
    if ((unsigned)signal < 3 && scan_message(descriptors[signal], body, len, 1, &items) < 0) {
        return -E2BIG;
    }
    switch (signal) {
    case CCR_SIGNAL_LOGS:
        req->logs = opentelemetry__proto__collector__v1__export_logs_service_request__unpack(
            NULL, len, body);
        return req->logs != NULL ? 0 : -EBADMSG;
    case CCR_SIGNAL_METRICS:
        req->metrics =
            opentelemetry__proto__collector__v1__export_metrics_service_request__unpack(
                NULL, len, body);
        return req->metrics != NULL ? 0 : -EBADMSG;
    case CCR_SIGNAL_TRACES:
        req->traces = opentelemetry__proto__collector__v1__export_trace_service_request__unpack(
            NULL, len, body);
        return req->traces != NULL ? 0 : -EBADMSG;
    }
    return -EINVAL;
}

void ccr_otlp_request_finish(struct ccr_otlp_request *req)
{
    if (req->logs != NULL) {
        opentelemetry__proto__collector__v1__export_logs_service_request__free_unpacked(
            req->logs, NULL);
    }
    if (req->metrics != NULL) {
        opentelemetry__proto__collector__v1__export_metrics_service_request__free_unpacked(
            req->metrics, NULL);
    }
    if (req->traces != NULL) {
        opentelemetry__proto__collector__v1__export_trace_service_request__free_unpacked(
            req->traces, NULL);
    }
    memset(req, 0, sizeof(*req));
}

static size_t metric_points(const ccr_otlp_metric *m)
{
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
        return m->gauge->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
        return m->sum->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        return m->histogram->n_data_points;
    default:
        return 0;
    }
}

size_t ccr_otlp_request_items(const struct ccr_otlp_request *req)
{
    size_t n = 0;

    if (req->logs != NULL) {
        for (size_t i = 0; i < req->logs->n_resource_logs; i++) {
            const ccr_otlp_resource_logs *rl = req->logs->resource_logs[i];
            for (size_t j = 0; j < rl->n_scope_logs; j++) {
                n += rl->scope_logs[j]->n_log_records;
            }
        }
    }
    if (req->metrics != NULL) {
        for (size_t i = 0; i < req->metrics->n_resource_metrics; i++) {
            const ccr_otlp_resource_metrics *rm = req->metrics->resource_metrics[i];
            for (size_t j = 0; j < rm->n_scope_metrics; j++) {
                const ccr_otlp_scope_metrics *sm = rm->scope_metrics[j];
                for (size_t k = 0; k < sm->n_metrics; k++) {
                    n += metric_points(sm->metrics[k]);
                }
            }
        }
    }
    if (req->traces != NULL) {
        for (size_t i = 0; i < req->traces->n_resource_spans; i++) {
            const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs =
                req->traces->resource_spans[i];
            for (size_t j = 0; j < rs->n_scope_spans; j++) {
                n += rs->scope_spans[j]->n_spans;
            }
        }
    }
    return n;
}

const ccr_otlp_value *ccr_otlp_find(ccr_otlp_kv *const *kvs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (kvs[i]->key != NULL && strcmp(kvs[i]->key, key) == 0) {
            return kvs[i]->value;
        }
    }
    return NULL;
}

const char *ccr_otlp_string(const ccr_otlp_value *v)
{
    if (v == NULL ||
        v->value_case != OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE) {
        return NULL;
    }
    return v->string_value;
}

bool ccr_otlp_to_int(const ccr_otlp_value *v, int64_t *out)
{
    if (v == NULL) {
        return false;
    }
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        *out = v->int_value;
        return true;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        *out = v->bool_value ? 1 : 0;
        return true;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        if (!isfinite(v->double_value) || fabs(v->double_value) > 9.0e18) {
            return false;
        }
        *out = (int64_t)v->double_value;
        return true;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE: {
        char *end;
        errno = 0;
        long long x = strtoll(v->string_value, &end, 10);
        if (errno != 0 || end == v->string_value || *end != '\0') {
            return false;
        }
        *out = x;
        return true;
    }
    default:
        return false;
    }
}

bool ccr_otlp_to_double(const ccr_otlp_value *v, double *out)
{
    if (v == NULL) {
        return false;
    }
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        *out = v->double_value;
        return true;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        *out = (double)v->int_value;
        return true;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE: {
        char *end;
        double x = strtod(v->string_value, &end);
        if (end == v->string_value || *end != '\0' || !isfinite(x)) {
            return false;
        }
        *out = x;
        return true;
    }
    default:
        return false;
    }
}

int ccr_otlp_to_bool(const ccr_otlp_value *v)
{
    int64_t i;
    const char *s = ccr_otlp_string(v);

    if (s != NULL) {
        if (strcmp(s, "true") == 0) {
            return 1;
        }
        if (strcmp(s, "false") == 0) {
            return 0;
        }
    }
    if (ccr_otlp_to_int(v, &i)) {
        return i != 0;
    }
    return -1;
}

static json_t *value_json(const ccr_otlp_value *v, int depth);

/* jansson refuses text that is not UTF-8: such text keeps its bytes escaped. */
static json_t *text_json(const char *s)
{
    char *clean = ccr_utf8_escaped(s);
    json_t *v = json_string(clean != NULL ? clean : s);

    free(clean);
    return v != NULL ? v : json_string("");
}

static json_t *kvs_json(ccr_otlp_kv *const *kvs, size_t n, int depth)
{
    json_t *obj = json_object();

    for (size_t i = 0; i < n; i++) {
        const char *key = kvs[i]->key != NULL ? kvs[i]->key : "";
        /*
         * A key that is not UTF-8 names nothing a reader could ask for; it is
         * left out, as the direct writer does. A repeated key keeps its first value.
         */
        if (ccr_utf8_valid(key) && json_object_get(obj, key) == NULL) {
            json_object_set_new(obj, key, value_json(kvs[i]->value, depth + 1));
        }
    }
    return obj;
}

static json_t *bytes_json(const ProtobufCBinaryData *b)
{
    char *hex = ccr_xmalloc(b->len * 2 + 1);
    sodium_bin2hex(hex, b->len * 2 + 1, b->data, b->len);
    json_t *s = json_string(hex);
    free(hex);
    return s;
}

static json_t *value_json(const ccr_otlp_value *v, int depth)
{
    if (v == NULL || depth > CCR_OTLP_MAX_VALUE_DEPTH) {
        return json_null();
    }
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        return text_json(v->string_value);
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        return json_boolean(v->bool_value);
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        return json_integer(v->int_value);
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        return isfinite(v->double_value) ? json_real(v->double_value) : json_null();
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE: {
        json_t *arr = json_array();
        for (size_t i = 0; i < v->array_value->n_values; i++) {
            json_array_append_new(arr, value_json(v->array_value->values[i], depth + 1));
        }
        return arr;
    }
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
        return kvs_json(v->kvlist_value->values, v->kvlist_value->n_values, depth);
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
        return bytes_json(&v->bytes_value);
    default:
        return json_null();
    }
}

json_t *ccr_otlp_value_json(const ccr_otlp_value *v)
{
    return value_json(v, 0);
}

json_t *ccr_otlp_attrs_json(ccr_otlp_kv *const *kvs, size_t n)
{
    return kvs_json(kvs, n, 0);
}

/*
 * The escape for a byte json_plain refuses. Invalid UTF-8 is written as
 * ccr_escape_untrusted shows it, \xNN, so the stored text stays valid JSON.
 */
static void write_json_escape(struct ccr_buf *out, unsigned char c, bool valid)
{
    static const char *const short_escapes[0x20] = {
        ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t",
    };

    if (c == '"') {
        ccr_buf_append(out, "\\\"", 2);
    } else if (!valid && (c < 0x20 || c >= 0x7f || c == '\\')) {
        ccr_buf_printf(out, "\\\\x%02x", c);
    } else if (c == '\\') {
        ccr_buf_append(out, "\\\\", 2);
    } else if (c < 0x20 && short_escapes[c] != NULL) {
        ccr_buf_append(out, short_escapes[c], 2);
    } else {
        ccr_buf_printf(out, "\\u%04X", c);
    }
}

/* Whether byte c of a string (valid UTF-8 or not) is written as it is. */
static bool json_plain(unsigned char c, bool valid)
{
    return c >= 0x20 && c != '"' && c != '\\' && (valid || c < 0x7f);
}

/* A JSON string literal; escapes as jansson's compact dump does. */
static void write_json_string(struct ccr_buf *out, const char *s)
{
    bool valid = ccr_utf8_valid(s);
    const unsigned char *p = (const unsigned char *)s;

    ccr_buf_append(out, "\"", 1);
    while (*p != '\0') {
        const unsigned char *run = p;
        while (*p != '\0' && json_plain(*p, valid)) {
            p++;
        }
        ccr_buf_append(out, run, (size_t)(p - run));
        if (*p == '\0') {
            break;
        }
        write_json_escape(out, *p++, valid);
    }
    ccr_buf_append(out, "\"", 1);
}

/*
 * A double as jansson prints it: 17 significant digits, a ".0" when it would
 * otherwise read back as an integer, and an exponent without '+' or leading zeros.
 */
static void write_json_real(struct ccr_buf *out, double x)
{
    char text[64];
    char *e;

    snprintf(text, sizeof(text), "%.17g", x);
    if (strchr(text, '.') == NULL && strchr(text, 'e') == NULL) {
        strcat(text, ".0");
    }
    e = strchr(text, 'e');
    if (e != NULL) {
        char *dst = e + 1;
        const char *src = e + 1;
        if (*src == '-') {
            *dst++ = *src++;
        } else if (*src == '+') {
            src++;
        }
        while (*src == '0' && src[1] != '\0') {
            src++;
        }
        memmove(dst, src, strlen(src) + 1);
    }
    ccr_buf_append(out, text, strlen(text));
}

static void write_value(struct ccr_buf *out, const ccr_otlp_value *v, int depth);

static void write_kvs(struct ccr_buf *out, ccr_otlp_kv *const *kvs, size_t n, int depth)
{
    bool first = true;

    ccr_buf_append(out, "{", 1);
    for (size_t i = 0; i < n; i++) {
        const char *key = kvs[i]->key != NULL ? kvs[i]->key : "";
        bool seen = !ccr_utf8_valid(key);
        /* A repeated key keeps its first value, as json_object_get-then-set does. */
        for (size_t j = 0; j < i && !seen; j++) {
            seen = strcmp(kvs[j]->key != NULL ? kvs[j]->key : "", key) == 0;
        }
        if (seen) {
            continue;
        }
        if (!first) {
            ccr_buf_append(out, ",", 1);
        }
        first = false;
        write_json_string(out, key);
        ccr_buf_append(out, ":", 1);
        write_value(out, kvs[i]->value, depth + 1);
    }
    ccr_buf_append(out, "}", 1);
}

static void write_value(struct ccr_buf *out, const ccr_otlp_value *v, int depth)
{
    if (v == NULL || depth > CCR_OTLP_MAX_VALUE_DEPTH) {
        ccr_buf_append(out, "null", 4);
        return;
    }
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        write_json_string(out, v->string_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        ccr_buf_printf(out, "%s", v->bool_value ? "true" : "false");
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        ccr_buf_printf(out, "%lld", (long long)v->int_value);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        if (isfinite(v->double_value)) {
            write_json_real(out, v->double_value);
        } else {
            ccr_buf_append(out, "null", 4);
        }
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
        ccr_buf_append(out, "[", 1);
        for (size_t i = 0; i < v->array_value->n_values; i++) {
            if (i > 0) {
                ccr_buf_append(out, ",", 1);
            }
            write_value(out, v->array_value->values[i], depth + 1);
        }
        ccr_buf_append(out, "]", 1);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
        write_kvs(out, v->kvlist_value->values, v->kvlist_value->n_values, depth);
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE: {
        char *hex = ccr_xmalloc(v->bytes_value.len * 2 + 1);
        sodium_bin2hex(hex, v->bytes_value.len * 2 + 1, v->bytes_value.data,
                       v->bytes_value.len);
        ccr_buf_printf(out, "\"%s\"", hex);
        free(hex);
        break;
    }
    default:
        ccr_buf_append(out, "null", 4);
        break;
    }
}

void ccr_otlp_attrs_write(ccr_otlp_kv *const *kvs, size_t n, struct ccr_buf *out)
{
    write_kvs(out, kvs, n, 0);
    ccr_buf_cstr(out);
}
