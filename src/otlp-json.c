/* SPDX-License-Identifier: MIT */
/*
 * OTLP/JSON to protobuf-c structs, driven by the generated descriptors: one
 * walker fills any message, so the JSON and protobuf paths cannot drift.
 */
#include "otlp-json.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "util.h"

/* The walk's state: how deep and how much so far, and the first fault. */
struct jdec {
    unsigned depth;
    size_t items;
    const char *why; /* static text for the 400 answer and the log */
    int err;         /* -EBADMSG or -E2BIG */
};

/*
 * The OTLP enums that our .proto files keep as int32 (so unknown values
 * survive), with their JSON names. Severity numbers are handled apart.
 */
static const char *const temporality_names[] = {
    "AGGREGATION_TEMPORALITY_UNSPECIFIED", "AGGREGATION_TEMPORALITY_DELTA",
    "AGGREGATION_TEMPORALITY_CUMULATIVE",
};
static const char *const span_kind_names[] = {
    "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",      "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
};
static const char *const status_code_names[] = {
    "STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR",
};

static const struct {
    const char *field;
    const char *const *names;
    size_t n;
} enum_fields[] = {
    {"aggregation_temporality", temporality_names, 3},
    {"kind", span_kind_names, 6},
    {"code", status_code_names, 3},
};

/*
 * Records the first fault and returns its code. Later faults are the
 * consequence of the first, so only that one is reported.
 */
static int fail(struct jdec *jd, int err, const char *why)
{
    if (jd->why == NULL) {
        jd->why = why;
        jd->err = err;
    }
    return jd->err;
}

/* True when key is the field's .proto name or its lowerCamelCase JSON name. */
static bool name_matches(const char *key, const char *proto)
{
    if (strcmp(key, proto) == 0) {
        return true;
    }
    while (*proto != '\0') {
        char want = *proto++;
        if (want == '_' && *proto != '\0') {
            want = (char)toupper((unsigned char)*proto++);
        }
        if (*key++ != want) {
            return false;
        }
    }
    return *key == '\0';
}

/*
 * A linear search: OTLP messages have at most a dozen fields, and a table
 * per descriptor would cost more to build than the search costs.
 */
static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
                                                  const char *key)
{
    for (unsigned i = 0; i < d->n_fields; i++) {
        if (name_matches(key, d->fields[i].name)) {
            return &d->fields[i];
        }
    }
    return NULL;
}

/* SEVERITY_NUMBER_INFO2 and the like: six levels of four steps each. */
static bool severity_by_name(const char *s, int64_t *out)
{
    static const char *const levels[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    static const char prefix[] = "SEVERITY_NUMBER_";

    if (strncmp(s, prefix, sizeof(prefix) - 1) != 0) {
        return false;
    }
    s += sizeof(prefix) - 1;
    if (strcmp(s, "UNSPECIFIED") == 0) {
        *out = 0;
        return true;
    }
    for (int i = 0; i < 6; i++) {
        size_t n = strlen(levels[i]);
        if (strncmp(s, levels[i], n) != 0) {
            continue;
        }
        if (s[n] == '\0') {
            *out = 1 + 4 * i;
            return true;
        }
        if (s[n] >= '2' && s[n] <= '4' && s[n + 1] == '\0') {
            *out = 1 + 4 * i + (s[n] - '1');
            return true;
        }
    }
    return false;
}

/* The number of an enum value spelled by name, for the fields that have names. */
static bool enum_by_name(const char *field, const char *s, int64_t *out)
{
    if (strcmp(field, "severity_number") == 0) {
        return severity_by_name(s, out);
    }
    for (size_t i = 0; i < sizeof(enum_fields) / sizeof(enum_fields[0]); i++) {
        if (strcmp(field, enum_fields[i].field) != 0) {
            continue;
        }
        for (size_t k = 0; k < enum_fields[i].n; k++) {
            if (strcmp(s, enum_fields[i].names[k]) == 0) {
                *out = (int64_t)k;
                return true;
            }
        }
    }
    return false;
}

/* A signed integer from a JSON integer, an integral real, or a decimal string. */
static bool to_i64(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        /* Some encoders write 1.0 or 1e3 for integers; only whole values pass. */
        double d = json_real_value(v);
        if (d != floor(d) || fabs(d) >= 9.2e18) {
            return false;
        }
        *out = (int64_t)d;
        return true;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || isspace((unsigned char)*s)) {
            return false;
        }
        *out = x;
        return true;
    }
    return false;
}

/* An unsigned integer: as to_i64, but strings may use the full 64-bit range. */
static bool to_u64(const json_t *v, uint64_t *out)
{
    int64_t x;

    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        /* strtoull would quietly wrap "-1" around to the largest value. */
        if (!isdigit((unsigned char)*s)) {
            return false;
        }
        errno = 0;
        unsigned long long u = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0') {
            return false;
        }
        *out = u;
        return true;
    }
    if (!to_i64(v, &x) || x < 0) {
        return false;
    }
    *out = (uint64_t)x;
    return true;
}

/* A double from a JSON number or the proto3 JSON strings, "NaN" and "Infinity" included. */
static bool to_double(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (!json_is_string(v)) {
        return false;
    }
    const char *s = json_string_value(v);
    if (strcmp(s, "NaN") == 0) {
        *out = NAN;
    } else if (strcmp(s, "Infinity") == 0) {
        *out = INFINITY;
    } else if (strcmp(s, "-Infinity") == 0) {
        *out = -INFINITY;
    } else {
        char *end;
        *out = strtod(s, &end);
        /* strtod also reads "-nan" and "nan(...)": one NaN, as "NaN" is written back. */
        if (isnan(*out)) {
            *out = NAN;
        }
        return end != s && *end == '\0' && !isspace((unsigned char)*s);
    }
    return true;
}

static bool is_id_field(const char *name)
{
    return strcmp(name, "trace_id") == 0 || strcmp(name, "span_id") == 0 ||
           strcmp(name, "parent_span_id") == 0;
}

/* OTLP/JSON writes trace and span ids as hex, other bytes as base64. */
static bool to_bytes(const char *field, const json_t *v, ProtobufCBinaryData *out)
{
    const char *s = json_string_value(v);
    size_t n = s != NULL ? strlen(s) : 0;
    size_t got = 0;

    if (s == NULL) {
        return false;
    }
    uint8_t *bin = ccr_xmalloc(n + 1);
    bool ok = is_id_field(field) && n % 2 == 0 &&
              sodium_hex2bin(bin, n, s, n, NULL, &got, NULL) == 0 && got == n / 2;
    /* Base64 is the proto3 JSON rule for bytes, so ids in it are accepted too. */
    if (!ok) {
        ok = sodium_base642bin(bin, n, s, n, "\n\r ", &got, NULL,
                               sodium_base64_VARIANT_ORIGINAL) == 0 ||
             sodium_base642bin(bin, n, s, n, "\n\r ", &got, NULL,
                               sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0;
    }
    if (!ok || got == 0) {
        free(bin);
        out->data = NULL;
        out->len = 0;
        return ok;
    }
    out->data = bin;
    out->len = got;
    return true;
}

static int decode_message(struct jdec *jd, const json_t *obj, ProtobufCMessage *msg);

/* Allocates and fills a sub-message into *slot, freeing what was there. */
static int decode_submessage(struct jdec *jd, const ProtobufCFieldDescriptor *f,
                             const json_t *v, ProtobufCMessage **slot)
{
    const ProtobufCMessageDescriptor *d = f->descriptor;

    if (*slot != NULL) {
        protobuf_c_message_free_unpacked(*slot, NULL);
    }
    *slot = ccr_xcalloc(1, d->sizeof_message);
    d->message_init(*slot);
    return decode_message(jd, v, *slot);
}

/* Integers of every width, with the enum names where the field has them. */
static int decode_integer(struct jdec *jd, const ProtobufCFieldDescriptor *f, const json_t *v,
                          void *slot)
{
    int64_t i = 0;
    uint64_t u = 0;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        if (!(json_is_string(v) && enum_by_name(f->name, json_string_value(v), &i)) &&
            !to_i64(v, &i)) {
            return fail(jd, -EBADMSG, "an integer field holds something else");
        }
        if (i < INT32_MIN || i > INT32_MAX) {
            return fail(jd, -EBADMSG, "a 32-bit integer is out of range");
        }
        *(int32_t *)slot = (int32_t)i;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (!to_u64(v, &u) || u > UINT32_MAX) {
            return fail(jd, -EBADMSG, "an unsigned 32-bit integer is malformed");
        }
        *(uint32_t *)slot = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (!to_i64(v, &i)) {
            return fail(jd, -EBADMSG, "a 64-bit integer is malformed");
        }
        *(int64_t *)slot = i;
        return 0;
    default:
        if (!to_u64(v, &u)) {
            return fail(jd, -EBADMSG, "an unsigned 64-bit integer is malformed");
        }
        *(uint64_t *)slot = u;
        return 0;
    }
}

/* Writes one value of the field's type into slot (a member or an array element). */
static int decode_value(struct jdec *jd, const ProtobufCFieldDescriptor *f, const json_t *v,
                        void *slot)
{
    double d;

    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        if (!to_double(v, &d)) {
            return fail(jd, -EBADMSG, "a floating-point field holds something else");
        }
        if (f->type == PROTOBUF_C_TYPE_FLOAT) {
            *(float *)slot = (float)d;
        } else {
            *(double *)slot = d;
        }
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v)) {
            return fail(jd, -EBADMSG, "a boolean field holds something else");
        }
        *(protobuf_c_boolean *)slot = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_STRING: {
        /* A repeated key (camelCase then snake_case) replaces the first string. */
        char **s = slot;
        if (!json_is_string(v)) {
            return fail(jd, -EBADMSG, "a string field holds something else");
        }
        if (*s != NULL && *s != (const char *)f->default_value) {
            free(*s);
        }
        *s = ccr_xstrndup(json_string_value(v), json_string_length(v));
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        /*
         * A repeated key replaces the first value. The old one is cleared, not
         * just freed: to_bytes leaves b alone when v is not a string, and the
         * message's free would then free the old data a second time.
         */
        ProtobufCBinaryData *b = slot;
        free(b->data);
        b->data = NULL;
        b->len = 0;
        if (!to_bytes(f->name, v, b)) {
            return fail(jd, -EBADMSG, "a bytes field is neither hex nor base64");
        }
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return decode_submessage(jd, f, v, slot);
    default:
        return decode_integer(jd, f, v, slot);
    }
}

/* The size of one element of a repeated field, as protobuf-c lays them out. */
static size_t element_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 8;
    }
}

/*
 * A repeated field. The array is attached to msg before it is filled and
 * the count grows with each element, so a failure part way leaves a struct
 * that protobuf_c_message_free_unpacked releases completely.
 */
static int decode_repeated(struct jdec *jd, ProtobufCMessage *msg,
                           const ProtobufCFieldDescriptor *f, const json_t *arr)
{
    size_t *count = (size_t *)((char *)msg + f->quantifier_offset);
    void **array = (void **)((char *)msg + f->offset);
    size_t size = element_size(f->type);
    size_t n = json_array_size(arr);

    if (!json_is_array(arr)) {
        return fail(jd, -EBADMSG, "a repeated field is not an array");
    }
    if (*count != 0 || *array != NULL) {
        return fail(jd, -EBADMSG, "a repeated field is given twice");
    }
    if (n > CCR_OTLP_JSON_MAX_ITEMS - jd->items) {
        return fail(jd, -E2BIG, "too many items");
    }
    jd->items += n;
    if (n == 0) {
        return 0;
    }
    *array = ccr_xcalloc(n, size);
    for (size_t i = 0; i < n; i++) {
        char *slot = (char *)*array + i * size;
        *count = i + 1;
        if (decode_value(jd, f, json_array_get(arr, i), slot) < 0) {
            return jd->err;
        }
    }
    return 0;
}

/* One field of msg from its JSON value: a list, a oneof member or a plain member. */
static int decode_field(struct jdec *jd, ProtobufCMessage *msg,
                        const ProtobufCFieldDescriptor *f, const json_t *v)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        return decode_repeated(jd, msg, f, v);
    }
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = (uint32_t *)((char *)msg + f->quantifier_offset);
        if (*which != 0 && *which != f->id) {
            return fail(jd, -EBADMSG, "a oneof has more than one member set");
        }
        /* Set first, so the member is freed with the message if decoding fails. */
        *which = f->id;
    }
    return decode_value(jd, f, v, (char *)msg + f->offset);
}

/*
 * Fills an initialised message from a JSON object. Depth counts messages,
 * so a deeply nested AnyValue is refused before it can exhaust the stack of
 * this walk or of the attribute encoders after it.
 */
static int decode_message(struct jdec *jd, const json_t *obj, ProtobufCMessage *msg)
{
    const char *key;
    json_t *v;
    int rc = 0;

    if (!json_is_object(obj)) {
        return fail(jd, -EBADMSG, "a message is not a JSON object");
    }
    if (++jd->depth > CCR_OTLP_JSON_MAX_DEPTH) {
        return fail(jd, -E2BIG, "messages nested too deeply");
    }
    json_object_foreach((json_t *)obj, key, v) {
        const ProtobufCFieldDescriptor *f = find_field(msg->descriptor, key);
        /* Unknown fields are skipped, as OTLP asks of receivers; null means absent. */
        if (f == NULL || json_is_null(v)) {
            continue;
        }
        rc = decode_field(jd, msg, f, v);
        if (rc < 0) {
            break;
        }
    }
    jd->depth--;
    return rc;
}

/*
 * Counts values and nesting before jansson builds anything: a tree costs
 * far more memory than its text (a 16 MiB body of "{}," items took over
 * 1 GiB), so the limits must hold before parsing, not during the walk.
 */
static int prescan(const uint8_t *p, size_t len, const char **why)
{
    size_t values = 1;
    unsigned depth = 0;
    bool in_string = false;

    for (size_t i = 0; i < len; i++) {
        if (in_string) {
            if (p[i] == '\\') {
                i++;
            } else if (p[i] == '"') {
                in_string = false;
            }
            continue;
        }
        switch (p[i]) {
        case '"':
            in_string = true;
            break;
        case '{':
        case '[':
            /*
             * Every object and array is a value jansson builds, nested ones too:
             * counting only the commas let a chain of nested objects through.
             * Each message level takes an object and usually an array.
             */
            values++;
            if (++depth > 2 * CCR_OTLP_JSON_MAX_DEPTH + 2) {
                *why = "messages nested too deeply";
                return -E2BIG;
            }
            break;
        case '}':
        case ']':
            depth -= depth > 0;
            break;
        case ',':
            values++;
            break;
        }
        if (values > CCR_OTLP_JSON_MAX_ITEMS) {
            *why = "too many items";
            return -E2BIG;
        }
    }
    return 0;
}

static const ProtobufCMessageDescriptor *request_descriptor(enum ccr_signal signal)
{
    switch (signal) {
    case CCR_SIGNAL_LOGS:
        return &opentelemetry__proto__collector__v1__export_logs_service_request__descriptor;
    case CCR_SIGNAL_METRICS:
        return &opentelemetry__proto__collector__v1__export_metrics_service_request__descriptor;
    case CCR_SIGNAL_TRACES:
        return &opentelemetry__proto__collector__v1__export_trace_service_request__descriptor;
    }
    return NULL;
}

int ccr_otlp_decode_json(enum ccr_signal signal, const uint8_t *body, size_t len,
                         struct ccr_otlp_request *req, const char **why)
{
    const ProtobufCMessageDescriptor *d = request_descriptor(signal);
    struct jdec jd = {0};
    json_error_t error;

    memset(req, 0, sizeof(*req));
    req->signal = signal;
    int rc = prescan(body, len, why);
    if (rc < 0) {
        return rc;
    }
    json_t *root = json_loadb((const char *)body, len, 0, &error);
    if (root == NULL) {
        *why = "body is not valid JSON";
        return -EBADMSG;
    }
    ProtobufCMessage *msg = ccr_xcalloc(1, d->sizeof_message);
    d->message_init(msg);
    rc = decode_message(&jd, root, msg);
    json_decref(root);
    if (rc < 0) {
        /* Everything built so far hangs off msg, so this frees all of it. */
        protobuf_c_message_free_unpacked(msg, NULL);
        *why = jd.why;
        return rc;
    }
    switch (signal) {
    case CCR_SIGNAL_LOGS:
        req->logs = (ccr_otlp_logs_request *)msg;
        break;
    case CCR_SIGNAL_METRICS:
        req->metrics = (ccr_otlp_metrics_request *)msg;
        break;
    case CCR_SIGNAL_TRACES:
        req->traces = (ccr_otlp_traces_request *)msg;
        break;
    }
    return 0;
}
