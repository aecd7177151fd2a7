/* SPDX-License-Identifier: MIT */
/* Claude Code's events and metrics, mapped to runs, sessions, events and points. */
#include "record.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "price.h"
#include "util.h"

#define EVENT_PREFIX "claude_code."

void ccr_recorder_init(struct ccr_recorder *r, struct ccr_store *store, int64_t run_id)
{
    memset(r, 0, sizeof(*r));
    r->store = store;
    r->run_id = run_id;
}

void ccr_recorder_finish(struct ccr_recorder *r)
{
    free(r->resource_json);
    free(r->session_id);
    memset(r, 0, sizeof(*r));
}

/* Counts a record left out; the answer's partial_success reports it. */
static void reject(struct ccr_recorder *r, const char *why)
{
    if (r->rejected++ == 0) {
        r->rejected_why = why;
    }
}

static int64_t clamp_ns(uint64_t ns)
{
    return ns > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)ns;
}

/* The attributes as JSON text (allocated), written directly: this runs per record. */
static char *attrs_text(ccr_otlp_kv *const *kvs, size_t n)
{
    struct ccr_buf b = {0};

    ccr_otlp_attrs_write(kvs, n, &b);
    return (char *)b.data;
}

static void note_program(struct ccr_recorder *r, const ccr_otlp_resource *res)
{
    if (r->program_known || res == NULL) {
        return;
    }
    const char *name = ccr_otlp_string(ccr_otlp_find(res->attributes, res->n_attributes,
                                                     "service.name"));
    const char *version = ccr_otlp_string(ccr_otlp_find(res->attributes, res->n_attributes,
                                                        "service.version"));
    if (name != NULL && ccr_store_run_program(r->store, r->run_id, name, version) == 0) {
        r->program_known = true;
    }
}

/* The resource id for res, looked up only when it differs from the last one. */
static int resource_id(struct ccr_recorder *r, const ccr_otlp_resource *res, int64_t *id)
{
    char *json = res != NULL ? attrs_text(res->attributes, res->n_attributes)
                             : ccr_xstrdup("{}");

    if (r->resource_json != NULL && strcmp(json, r->resource_json) == 0) {
        free(json);
        *id = r->resource_id;
        return 0;
    }
    int rc = ccr_store_resource(r->store, json, id);
    free(r->resource_json);
    r->resource_json = NULL;
    if (rc == 0) {
        r->resource_json = json;
        r->resource_id = *id;
    } else {
        free(json);
    }
    note_program(r, res);
    return rc;
}

static int note_session(struct ccr_recorder *r, const char *session_id, int64_t time_ns)
{
    if (session_id == NULL ||
        (r->session_id != NULL && strcmp(r->session_id, session_id) == 0)) {
        return 0;
    }
    int rc = ccr_store_session(r->store, r->run_id, session_id, time_ns);
    if (rc == 0) {
        free(r->session_id);
        r->session_id = ccr_xstrdup(session_id);
    }
    return rc;
}

static void set_int(int64_t *col, const ccr_otlp_value *v)
{
    int64_t x;
    if (ccr_otlp_to_int(v, &x)) {
        *col = x;
    }
}

/* Fills the typed columns from the attributes Claude Code is known to send. */
static void map_attribute(struct ccr_event_row *row, const char *key, const ccr_otlp_value *v)
{
    static const struct {
        const char *key;
        size_t offset;
    } strings[] = {
        {"session.id", offsetof(struct ccr_event_row, session_id)},
        {"event.name", offsetof(struct ccr_event_row, name)},
        {"prompt.id", offsetof(struct ccr_event_row, prompt_id)},
        {"model", offsetof(struct ccr_event_row, model)},
        {"query_source", offsetof(struct ccr_event_row, query_source)},
        {"tool_name", offsetof(struct ccr_event_row, tool_name)},
        {"decision", offsetof(struct ccr_event_row, decision)},
        {"source", offsetof(struct ccr_event_row, source)},
        {"error", offsetof(struct ccr_event_row, error)},
        {"prompt", offsetof(struct ccr_event_row, prompt)},
    };
    static const struct {
        const char *key;
        size_t offset;
    } ints[] = {
        {"event.sequence", offsetof(struct ccr_event_row, seq)},
        {"input_tokens", offsetof(struct ccr_event_row, input_tokens)},
        {"output_tokens", offsetof(struct ccr_event_row, output_tokens)},
        {"cache_read_tokens", offsetof(struct ccr_event_row, cache_read_tokens)},
        {"cache_creation_tokens", offsetof(struct ccr_event_row, cache_creation_tokens)},
        {"duration_ms", offsetof(struct ccr_event_row, duration_ms)},
        {"status_code", offsetof(struct ccr_event_row, status_code)},
        {"prompt_length", offsetof(struct ccr_event_row, prompt_length)},
    };

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        if (strcmp(key, strings[i].key) == 0) {
            *(const char **)((char *)row + strings[i].offset) = ccr_otlp_string(v);
            return;
        }
    }
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (strcmp(key, ints[i].key) == 0) {
            set_int((int64_t *)(void *)((char *)row + ints[i].offset), v);
            return;
        }
    }
    if (strcmp(key, "cost_usd") == 0) {
        double x;
        if (ccr_otlp_to_double(v, &x)) {
            row->cost_usd = x;
        }
    } else if (strcmp(key, "success") == 0) {
        int b = ccr_otlp_to_bool(v);
        row->success = b < 0 ? CCR_NONE : b;
    }
}

/* The short event name: event.name, else the event_name field, else the body. */
static const char *event_name(const ccr_otlp_log_record *lr, const char *from_attrs)
{
    const char *name = from_attrs;

    if (name == NULL && lr->event_name != NULL && lr->event_name[0] != '\0') {
        name = lr->event_name;
    }
    if (name == NULL) {
        name = ccr_otlp_string(lr->body);
    }
    if (name == NULL || name[0] == '\0') {
        return "log";
    }
    if (strncmp(name, EVENT_PREFIX, strlen(EVENT_PREFIX)) == 0 &&
        name[strlen(EVENT_PREFIX)] != '\0') {
        name += strlen(EVENT_PREFIX);
    }
    return name;
}

/*
 * Figures a peer can send that no real request has (negative or absurdly
 * large counts, non-finite costs) are left out of the typed columns, where
 * they would poison every sum; the attributes keep them as sent.
 */
static void drop_impossible(struct ccr_event_row *row)
{
    const int64_t max_count = 1000000000000LL; /* a trillion tokens, or ms: 31 years */
    int64_t *counts[] = {&row->input_tokens, &row->output_tokens, &row->cache_read_tokens,
                         &row->cache_creation_tokens, &row->duration_ms, &row->prompt_length};

    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        if (*counts[i] != CCR_NONE && (*counts[i] < 0 || *counts[i] > max_count)) {
            *counts[i] = CCR_NONE;
        }
    }
    if (!isnan(row->cost_usd) && (!isfinite(row->cost_usd) || row->cost_usd < 0 ||
                                  row->cost_usd > 1e9)) {
        row->cost_usd = NAN;
    }
}

/*
 * Claude Code prices every model as a Claude model. Where the table has the
 * model, ccrun keeps its own figure beside the reported one, and supplies
 * one (marked as an estimate) when none was reported.
 */
static void reprice(const struct ccr_recorder *r, struct ccr_event_row *row)
{
    const struct ccr_price *price;
    const int64_t *counts[4] = {&row->input_tokens, &row->output_tokens,
                                &row->cache_read_tokens, &row->cache_creation_tokens};
    int64_t tokens[4];

    if (r->prices == NULL || strcmp(row->name, "api_request") != 0 ||
        (price = ccr_prices_find(r->prices, row->model)) == NULL) {
        return;
    }
    for (int k = 0; k < 4; k++) {
        tokens[k] = *counts[k] == CCR_NONE ? 0 : *counts[k];
    }
    row->priced_cost_usd = ccr_price_cost(price, tokens);
    if (isnan(row->cost_usd)) {
        row->cost_estimated = 1;
    }
}

static int record_log(struct ccr_recorder *r, int64_t resource, const ccr_otlp_log_record *lr)
{
    struct ccr_event_row row;

    ccr_event_row_init(&row);
    row.run_id = r->run_id;
    row.resource_id = resource;
    for (size_t i = 0; i < lr->n_attributes; i++) {
        if (lr->attributes[i]->key != NULL) {
            map_attribute(&row, lr->attributes[i]->key, lr->attributes[i]->value);
        }
    }
    row.name = event_name(lr, row.name);
    drop_impossible(&row);
    reprice(r, &row);
    uint64_t t = lr->time_unix_nano ? lr->time_unix_nano : lr->observed_time_unix_nano;
    row.time_ns = t ? clamp_ns(t) : ccr_now_ns();
    char *attrs = attrs_text(lr->attributes, lr->n_attributes);
    row.attrs_json = attrs;
    int rc = note_session(r, row.session_id, row.time_ns);
    if (rc == 0) {
        rc = ccr_store_event(r->store, &row);
    }
    free(attrs);
    return rc;
}

static int record_logs(struct ccr_recorder *r, const ccr_otlp_logs_request *req)
{
    for (size_t i = 0; i < req->n_resource_logs; i++) {
        const ccr_otlp_resource_logs *rl = req->resource_logs[i];
        int64_t res;
        if (resource_id(r, rl->resource, &res) < 0) {
            return -EIO;
        }
        for (size_t j = 0; j < rl->n_scope_logs; j++) {
            const ccr_otlp_scope_logs *sl = rl->scope_logs[j];
            for (size_t k = 0; k < sl->n_log_records; k++) {
                if (record_log(r, res, sl->log_records[k]) < 0) {
                    return -EIO;
                }
            }
        }
    }
    return 0;
}

static int record_point(struct ccr_recorder *r, struct ccr_point_row *row, ccr_otlp_kv **kvs,
                        size_t n_kvs)
{
    char *attrs = attrs_text(kvs, n_kvs);
    int rc;

    row->session_id = ccr_otlp_string(ccr_otlp_find(kvs, n_kvs, "session.id"));
    row->attrs_json = attrs;
    rc = note_session(r, row->session_id, row->time_ns);
    if (rc == 0) {
        rc = ccr_store_point(r->store, row);
    }
    free(attrs);
    return rc;
}

static int record_number_points(struct ccr_recorder *r, struct ccr_point_row *row,
                                ccr_otlp_number_point **points, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const ccr_otlp_number_point *p = points[i];
        if (p->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT) {
            row->value = (double)p->as_int;
        } else {
            row->value = p->as_double;
        }
        if (!isfinite(row->value)) {
            reject(r, "a metric point value is not a finite number");
            continue;
        }
        row->start_ns = p->start_time_unix_nano ? clamp_ns(p->start_time_unix_nano) : CCR_NONE;
        row->time_ns = clamp_ns(p->time_unix_nano);
        if (record_point(r, row, p->attributes, p->n_attributes) < 0) {
            return -EIO;
        }
    }
    return 0;
}

/* A histogram point is kept as its sum. */
static int record_histogram_points(struct ccr_recorder *r, struct ccr_point_row *row,
                                   ccr_otlp_histogram_point **points, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const ccr_otlp_histogram_point *p = points[i];
        row->value = p->sum;
        if (!isfinite(row->value)) {
            reject(r, "a metric point value is not a finite number");
            continue;
        }
        row->start_ns = p->start_time_unix_nano ? clamp_ns(p->start_time_unix_nano) : CCR_NONE;
        row->time_ns = clamp_ns(p->time_unix_nano);
        if (record_point(r, row, p->attributes, p->n_attributes) < 0) {
            return -EIO;
        }
    }
    return 0;
}

static int record_metric(struct ccr_recorder *r, int64_t resource, const ccr_otlp_metric *m)
{
    struct ccr_point_row row = {
        .run_id = r->run_id,
        .resource_id = resource,
        .name = m->name != NULL ? m->name : "",
        .unit = m->unit,
    };

    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
        row.kind = "gauge";
        return record_number_points(r, &row, m->gauge->data_points, m->gauge->n_data_points);
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
        row.kind = "sum";
        row.temporality = m->sum->aggregation_temporality;
        row.monotonic = m->sum->is_monotonic;
        return record_number_points(r, &row, m->sum->data_points, m->sum->n_data_points);
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        row.kind = "histogram";
        row.temporality = m->histogram->aggregation_temporality;
        return record_histogram_points(r, &row, m->histogram->data_points,
                                       m->histogram->n_data_points);
    default:
        /* Exponential histograms and summaries: their points cannot be counted here. */
        reject(r, "a metric of a type ccrun does not store");
        return 0;
    }
}

static int record_metrics(struct ccr_recorder *r, const ccr_otlp_metrics_request *req)
{
    for (size_t i = 0; i < req->n_resource_metrics; i++) {
        const ccr_otlp_resource_metrics *rm = req->resource_metrics[i];
        int64_t res;
        if (resource_id(r, rm->resource, &res) < 0) {
            return -EIO;
        }
        for (size_t j = 0; j < rm->n_scope_metrics; j++) {
            const ccr_otlp_scope_metrics *sm = rm->scope_metrics[j];
            for (size_t k = 0; k < sm->n_metrics; k++) {
                if (record_metric(r, res, sm->metrics[k]) < 0) {
                    return -EIO;
                }
            }
        }
    }
    return 0;
}

/* Hex for an id; NULL for an empty one (a root span's parent). */
static char *id_hex(const ProtobufCBinaryData *id)
{
    if (id->len == 0) {
        return NULL;
    }
    char *hex = ccr_xmalloc(id->len * 2 + 1);
    sodium_bin2hex(hex, id->len * 2 + 1, id->data, id->len);
    return hex;
}

static int record_span(struct ccr_recorder *r, int64_t resource, const ccr_otlp_span *sp)
{
    struct ccr_span_row row = {
        .run_id = r->run_id,
        .resource_id = resource,
        .name = sp->name != NULL ? sp->name : "",
        .kind = sp->kind,
        .start_ns = clamp_ns(sp->start_time_unix_nano),
        .end_ns = clamp_ns(sp->end_time_unix_nano),
        .status_code = sp->status != NULL ? sp->status->code : 0,
        .status_message = sp->status != NULL && sp->status->message != NULL &&
                                  sp->status->message[0] != '\0'
                              ? sp->status->message
                              : NULL,
    };
    char *trace = id_hex(&sp->trace_id);
    char *span = id_hex(&sp->span_id);
    char *parent = id_hex(&sp->parent_span_id);
    char *attrs = NULL;
    int rc = 0;

    if (trace == NULL || span == NULL) {
        reject(r, "a span without a trace or span id");
        goto out;
    }
    attrs = attrs_text(sp->attributes, sp->n_attributes);
    row.trace_id = trace;
    row.span_id = span;
    row.parent_span_id = parent;
    row.attrs_json = attrs;
    row.session_id = ccr_otlp_string(ccr_otlp_find(sp->attributes, sp->n_attributes,
                                                   "session.id"));
    rc = note_session(r, row.session_id, row.start_ns);
    if (rc == 0) {
        rc = ccr_store_span(r->store, &row);
    }
out:
    free(trace);
    free(span);
    free(parent);
    free(attrs);
    return rc;
}

static int record_traces(struct ccr_recorder *r, const ccr_otlp_traces_request *req)
{
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        const ccr_otlp_resource_spans *rs = req->resource_spans[i];
        int64_t res;
        if (resource_id(r, rs->resource, &res) < 0) {
            return -EIO;
        }
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            const ccr_otlp_scope_spans *ss = rs->scope_spans[j];
            for (size_t k = 0; k < ss->n_spans; k++) {
                if (record_span(r, res, ss->spans[k]) < 0) {
                    return -EIO;
                }
            }
        }
    }
    return 0;
}

void ccr_recorder_forget(struct ccr_recorder *r)
{
    free(r->resource_json);
    r->resource_json = NULL;
    free(r->session_id);
    r->session_id = NULL;
    r->program_known = false;
}

int ccr_record_request(struct ccr_recorder *r, const struct ccr_otlp_request *req)
{
    /* Inside the caller's transaction the caller commits, or rolls back on failure. */
    bool own = !ccr_store_in_transaction(r->store);
    int rc;

    r->rejected = 0;
    r->rejected_why = NULL;
    if (own && ccr_store_begin(r->store) < 0) {
        return -EIO;
    }
    if (req->traces != NULL) {
        rc = record_traces(r, req->traces);
    } else {
        rc = req->logs != NULL ? record_logs(r, req->logs) : record_metrics(r, req->metrics);
    }
    if (rc == 0 && own) {
        rc = ccr_store_commit(r->store);
    }
    if (rc < 0 && own) {
        ccr_store_rollback(r->store);
        /* The cached ids may name rows the rollback removed. */
        ccr_recorder_forget(r);
    }
    return rc;
}
