/* SPDX-License-Identifier: MIT */
/* Packing OTLP structs for an upstream: protobuf, and OTLP/JSON by descriptor. */
#include "otlp-encode.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

/* A resource slot of the request and what it held before extras were added. */
struct saved {
    ccr_otlp_resource **slot;
    ccr_otlp_resource *resource;
    ccr_otlp_kv **attributes;
    size_t n_attributes;
};

/* One saved entry per Resource… message in req, pointing at its resource slot. */
static size_t resource_slots(struct ccr_otlp_request *req, struct saved **out)
{
    size_t n = req->logs != NULL      ? req->logs->n_resource_logs
               : req->metrics != NULL ? req->metrics->n_resource_metrics
               : req->traces != NULL  ? req->traces->n_resource_spans
                                      : 0;
    struct saved *sv = ccr_xcalloc(n, sizeof(*sv));

    for (size_t i = 0; i < n; i++) {
        sv[i].slot = req->logs != NULL      ? &req->logs->resource_logs[i]->resource
                     : req->metrics != NULL ? &req->metrics->resource_metrics[i]->resource
                                            : &req->traces->resource_spans[i]->resource;
        sv[i].resource = *sv[i].slot;
    }
    *out = sv;
    return n;
}

static ProtobufCMessage *request_message(struct ccr_otlp_request *req)
{
    return req->logs != NULL      ? &req->logs->base
           : req->metrics != NULL ? &req->metrics->base
           : req->traces != NULL  ? &req->traces->base
                                  : NULL;
}

/*
 * Points a resource at a longer attribute array holding its own attributes
 * and the extras it lacks. Only pointers change, and restore() puts them
 * back, so the decoded request's ownership is never disturbed.
 */
static void add_extras(struct saved *sv, ccr_otlp_resource *spare, ccr_otlp_kv *kvs,
                       size_t n_extra)
{
    ccr_otlp_resource *res = *sv->slot;

    if (res == NULL) {
        *sv->slot = res = spare;
    }
    sv->attributes = res->attributes;
    sv->n_attributes = res->n_attributes;
    ccr_otlp_kv **all = ccr_xmalloc((res->n_attributes + n_extra) * sizeof(*all));
    size_t n = res->n_attributes;
    if (n > 0) {
        memcpy(all, res->attributes, n * sizeof(*all));
    }
    for (size_t i = 0; i < n_extra; i++) {
        if (ccr_otlp_find(res->attributes, res->n_attributes, kvs[i].key) == NULL) {
            all[n++] = &kvs[i];
        }
    }
    res->attributes = all;
    res->n_attributes = n;
}

static void restore(struct saved *sv)
{
    ccr_otlp_resource *res = *sv->slot;

    free(res->attributes);
    res->attributes = sv->attributes;
    res->n_attributes = sv->n_attributes;
    *sv->slot = sv->resource;
}

void ccr_otlp_encode_protobuf(struct ccr_otlp_request *req, char *const *extra,
                              struct ccr_buf *out)
{
    ProtobufCMessage *msg = request_message(req);
    struct saved *saved;
    size_t n_extra = 0;

    if (msg == NULL) {
        return;
    }
    while (extra != NULL && extra[2 * n_extra] != NULL) {
        n_extra++;
    }
    size_t n = resource_slots(req, &saved);
    ccr_otlp_value *values = ccr_xcalloc(n_extra, sizeof(*values));
    ccr_otlp_kv *kvs = ccr_xcalloc(n_extra, sizeof(*kvs));
    for (size_t i = 0; i < n_extra; i++) {
        opentelemetry__proto__common__v1__any_value__init(&values[i]);
        values[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        values[i].string_value = extra[2 * i + 1];
        opentelemetry__proto__common__v1__key_value__init(&kvs[i]);
        kvs[i].key = extra[2 * i];
        kvs[i].value = &values[i];
    }
    ccr_otlp_resource *spares = ccr_xcalloc(n, sizeof(*spares));
    for (size_t i = 0; i < n && n_extra > 0; i++) {
        opentelemetry__proto__resource__v1__resource__init(&spares[i]);
        add_extras(&saved[i], &spares[i], kvs, n_extra);
    }
    size_t size = protobuf_c_message_get_packed_size(msg);
    uint8_t *packed = ccr_xmalloc(size);
    ccr_buf_append(out, packed, protobuf_c_message_pack(msg, packed));
    free(packed);
    for (size_t i = 0; i < n && n_extra > 0; i++) {
        restore(&saved[i]);
    }
    free(saved);
    free(spares);
    free(kvs);
    free(values);
}

/*
 * The JSON encoder walks protobuf-c's descriptors rather than naming each
 * OTLP message, so one function serves logs, metrics and traces and follows
 * the proto files when they grow.
 */
static json_t *message_json(const ProtobufCMessage *m, unsigned depth);

/* "time_unix_nano" as OTLP/JSON spells it: "timeUnixNano". */
static char *camel_case(const char *name)
{
    char *out = ccr_xstrdup(name);
    size_t o = 0;

    for (size_t i = 0; name[i] != '\0'; i++) {
        if (name[i] == '_' && name[i + 1] != '\0') {
            out[o++] = (char)toupper((unsigned char)name[++i]);
        } else {
            out[o++] = name[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* A JSON string; text that is not UTF-8 keeps its bytes escaped, as stored. */
static json_t *text_json(const char *s)
{
    char *clean = ccr_utf8_escaped(s);
    json_t *j = json_string(clean != NULL ? clean : s);

    free(clean);
    return j;
}

/* Ids are hex in OTLP/JSON; other bytes are base64. */
static json_t *bytes_json(const char *field, const ProtobufCBinaryData *b)
{
    bool id = strcmp(field, "trace_id") == 0 || strcmp(field, "span_id") == 0 ||
              strcmp(field, "parent_span_id") == 0;
    size_t n = id ? b->len * 2 + 1
                  : sodium_base64_encoded_len(b->len, sodium_base64_VARIANT_ORIGINAL);
    char *text = ccr_xmalloc(n);

    if (id) {
        sodium_bin2hex(text, n, b->data, b->len);
    } else {
        sodium_bin2base64(text, n, b->data, b->len, sodium_base64_VARIANT_ORIGINAL);
    }
    json_t *j = json_string(text);
    free(text);
    return j;
}

/* JSON has no NaN or infinity; the protobuf JSON mapping spells them as strings. */
static json_t *double_json(double d)
{
    if (isnan(d)) {
        return json_string("NaN");
    }
    if (isinf(d)) {
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    }
    return json_real(d);
}

/* One value of field f stored at p; NULL for a proto3 default that is left out. */
static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p, bool always,
                          unsigned depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return always || *(const int32_t *)p ? json_integer(*(const int32_t *)p) : NULL;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return always || *(const uint32_t *)p ? json_integer(*(const uint32_t *)p) : NULL;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        char num[24];
        snprintf(num, sizeof(num), "%lld", (long long)*(const int64_t *)p);
        return always || *(const int64_t *)p ? json_string(num) : NULL;
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        char num[24];
        snprintf(num, sizeof(num), "%llu", (unsigned long long)*(const uint64_t *)p);
        return always || *(const uint64_t *)p ? json_string(num) : NULL;
    }
    case PROTOBUF_C_TYPE_FLOAT:
        return always || *(const float *)p != 0 ? double_json(*(const float *)p) : NULL;
    case PROTOBUF_C_TYPE_DOUBLE:
        return always || *(const double *)p != 0 ? double_json(*(const double *)p) : NULL;
    case PROTOBUF_C_TYPE_BOOL:
        return always || *(const protobuf_c_boolean *)p
                   ? json_boolean(*(const protobuf_c_boolean *)p) : NULL;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return s != NULL && (always || s[0] != '\0') ? text_json(s) : NULL;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        return always || b->len > 0 ? bytes_json(f->name, b) : NULL;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        return m != NULL ? message_json(m, depth + 1) : NULL;
    }
    }
    return NULL;
}

/* The size of one element of a repeated field of type t. */
static size_t element_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    default:
        return 4;
    }
}

/*
 * A member of a oneof is written when it is the one set, even when zero
 * (an asInt of 0 is a value); an optional scalar when its has_ flag says so;
 * any other scalar only when it is not the default, as the mapping says.
 */
static json_t *field_json(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                          unsigned depth)
{
    const char *base = (const char *)m;
    const void *p = base + f->offset;

    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = *(const size_t *)(base + f->quantifier_offset);
        const char *items = *(char *const *)p;
        if (n == 0) {
            return NULL;
        }
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *v = value_json(f, items + i * element_size(f->type), true, depth);
            json_array_append_new(arr, v != NULL ? v : json_null());
        }
        return arr;
    }
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
        return which == f->id ? value_json(f, p, true, depth) : NULL;
    }
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
        f->type != PROTOBUF_C_TYPE_STRING) {
        bool has = *(const protobuf_c_boolean *)(base + f->quantifier_offset);
        return has ? value_json(f, p, true, depth) : NULL;
    }
    return value_json(f, p, false, depth);
}

/* Depth is bounded by the decoder's own limit on what was unpacked. */
static json_t *message_json(const ProtobufCMessage *m, unsigned depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    json_t *obj = json_object();

    for (unsigned i = 0; i < d->n_fields && depth <= CCR_OTLP_MAX_DEPTH; i++) {
        json_t *v = field_json(m, &d->fields[i], depth);
        if (v != NULL) {
            char *name = camel_case(d->fields[i].name);
            json_object_set_new(obj, name, v);
            free(name);
        }
    }
    return obj;
}

int ccr_otlp_encode_json(enum ccr_signal signal, const uint8_t *body, size_t len,
                         struct ccr_buf *out)
{
    struct ccr_otlp_request req;

    if (ccr_otlp_decode_protobuf(signal, body, len, &req) < 0) {
        return -EBADMSG;
    }
    json_t *j = message_json(request_message(&req), 0);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    ccr_otlp_request_finish(&req);
    if (text == NULL) {
        return -EBADMSG;
    }
    ccr_buf_append(out, text, strlen(text));
    free(text);
    return 0;
}
