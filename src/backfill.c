/* SPDX-License-Identifier: MIT */
/* Rebuilding OTLP requests from stored rows, for `ccrun export --otlp`. */
#include "backfill.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "util.h"

/* Records per request: well under any backend's body limit. */
#define BATCH_RECORDS 512
/* Batches queued or in flight before the walk waits for the forwarder. */
#define MAX_PENDING 8
/* As deep as the recorder stores values. */
#define MAX_VALUE_DEPTH 16

#define EVENT_PREFIX "claude_code."

struct state {
    uv_loop_t *loop;
    struct ccr_forward *fw;
    ccr_backfill_progress_cb cb;
    void *ctx;
    int64_t done;
    int64_t total;
    /* The batch being built and what its records share. */
    bool is_point;
    int64_t run_id;
    int64_t resource_id;
    size_t n;
    ccr_otlp_logs_request *logs;
    ccr_otlp_metrics_request *metrics;
};

static ccr_otlp_value *value_from_json(json_t *j, unsigned depth);

static ccr_otlp_kv *kv_new(const char *key, json_t *value, unsigned depth)
{
    ccr_otlp_kv *kv = ccr_xmalloc(sizeof(*kv));

    opentelemetry__proto__common__v1__key_value__init(kv);
    kv->key = ccr_xstrdup(key);
    kv->value = value_from_json(value, depth);
    return kv;
}

/* An attribute list from a JSON object; n is set to its length. */
static ccr_otlp_kv **kvs_from_json(json_t *obj, size_t *n, unsigned depth)
{
    const char *key;
    json_t *v;
    size_t i = 0;
    ccr_otlp_kv **kvs = ccr_xcalloc(json_object_size(obj) + 1, sizeof(*kvs));

    json_object_foreach(obj, key, v) {
        kvs[i++] = kv_new(key, v, depth + 1);
    }
    *n = i;
    return kvs;
}

/* The attributes as recorded become values of the same types again. */
static ccr_otlp_value *value_from_json(json_t *j, unsigned depth)
{
    ccr_otlp_value *v = ccr_xmalloc(sizeof(*v));

    opentelemetry__proto__common__v1__any_value__init(v);
    if (depth > MAX_VALUE_DEPTH || j == NULL || json_is_null(j)) {
        return v;
    }
    if (json_is_string(j)) {
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        v->string_value = ccr_xstrdup(json_string_value(j));
    } else if (json_is_integer(j)) {
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
        v->int_value = json_integer_value(j);
    } else if (json_is_real(j)) {
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
        v->double_value = json_real_value(j);
    } else if (json_is_boolean(j)) {
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
        v->bool_value = json_is_true(j);
    } else if (json_is_array(j)) {
        Opentelemetry__Proto__Common__V1__ArrayValue *a = ccr_xmalloc(sizeof(*a));
        opentelemetry__proto__common__v1__array_value__init(a);
        a->n_values = json_array_size(j);
        a->values = ccr_xcalloc(a->n_values + 1, sizeof(*a->values));
        for (size_t i = 0; i < a->n_values; i++) {
            a->values[i] = value_from_json(json_array_get(j, i), depth + 1);
        }
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
        v->array_value = a;
    } else if (json_is_object(j)) {
        Opentelemetry__Proto__Common__V1__KeyValueList *l = ccr_xmalloc(sizeof(*l));
        opentelemetry__proto__common__v1__key_value_list__init(l);
        l->values = kvs_from_json(j, &l->n_values, depth);
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
        v->kvlist_value = l;
    }
    return v;
}

/* Attributes from stored JSON text; an unreadable text gives none. */
static ccr_otlp_kv **attrs_from_text(const char *text, size_t *n)
{
    json_t *obj = text != NULL ? json_loads(text, 0, NULL) : NULL;
    ccr_otlp_kv **kvs;

    if (!json_is_object(obj)) {
        json_decref(obj);
        obj = json_object();
    }
    kvs = kvs_from_json(obj, n, 0);
    json_decref(obj);
    return kvs;
}

static ccr_otlp_resource *resource_new(const char *json)
{
    ccr_otlp_resource *res = ccr_xmalloc(sizeof(*res));

    opentelemetry__proto__resource__v1__resource__init(res);
    res->attributes = attrs_from_text(json, &res->n_attributes);
    return res;
}

/*
 * Grows a protobuf-c repeated field by one, keeping room for BATCH_RECORDS.
 * Everything here is allocated with malloc, so the request is released by
 * protobuf-c's own free_unpacked like a decoded one.
 */
static void *grow(void *items, size_t n, size_t size)
{
    return n % BATCH_RECORDS == 0 ? ccr_xrealloc(items, (n + BATCH_RECORDS) * size) : items;
}

static void start_logs(struct state *s, const struct ccr_stored_record *r)
{
    ccr_otlp_resource_logs *rl = ccr_xmalloc(sizeof(*rl));
    ccr_otlp_scope_logs *sl = ccr_xmalloc(sizeof(*sl));

    s->logs = ccr_xmalloc(sizeof(*s->logs));
    opentelemetry__proto__collector__v1__export_logs_service_request__init(s->logs);
    opentelemetry__proto__logs__v1__resource_logs__init(rl);
    opentelemetry__proto__logs__v1__scope_logs__init(sl);
    rl->resource = r->resource_json != NULL ? resource_new(r->resource_json) : NULL;
    rl->scope_logs = ccr_xmalloc(sizeof(*rl->scope_logs));
    rl->scope_logs[0] = sl;
    rl->n_scope_logs = 1;
    s->logs->resource_logs = ccr_xmalloc(sizeof(*s->logs->resource_logs));
    s->logs->resource_logs[0] = rl;
    s->logs->n_resource_logs = 1;
}

/* A log record as Claude Code sends one: the event's full name as the body. */
static void add_log(struct state *s, const struct ccr_stored_record *r)
{
    ccr_otlp_scope_logs *sl = s->logs->resource_logs[0]->scope_logs[0];
    ccr_otlp_log_record *lr = ccr_xmalloc(sizeof(*lr));
    json_t *body = json_string(r->name);

    opentelemetry__proto__logs__v1__log_record__init(lr);
    lr->time_unix_nano = (uint64_t)r->time_ns;
    lr->observed_time_unix_nano = (uint64_t)r->time_ns;
    if (strcmp(r->name, "log") != 0) {
        char *full = ccr_xasprintf(EVENT_PREFIX "%s", r->name);
        json_decref(body);
        body = json_string(full);
        free(full);
    }
    lr->body = value_from_json(body, 0);
    json_decref(body);
    lr->attributes = attrs_from_text(r->attrs_json, &lr->n_attributes);
    sl->log_records = grow(sl->log_records, sl->n_log_records, sizeof(*sl->log_records));
    sl->log_records[sl->n_log_records++] = lr;
}

static void start_metrics(struct state *s, const struct ccr_stored_record *r)
{
    ccr_otlp_resource_metrics *rm = ccr_xmalloc(sizeof(*rm));
    ccr_otlp_scope_metrics *sm = ccr_xmalloc(sizeof(*sm));

    s->metrics = ccr_xmalloc(sizeof(*s->metrics));
    opentelemetry__proto__collector__v1__export_metrics_service_request__init(s->metrics);
    opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
    opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
    rm->resource = r->resource_json != NULL ? resource_new(r->resource_json) : NULL;
    rm->scope_metrics = ccr_xmalloc(sizeof(*rm->scope_metrics));
    rm->scope_metrics[0] = sm;
    rm->n_scope_metrics = 1;
    s->metrics->resource_metrics = ccr_xmalloc(sizeof(*s->metrics->resource_metrics));
    s->metrics->resource_metrics[0] = rm;
    s->metrics->n_resource_metrics = 1;
}

/* Gauges and sums only: a histogram cannot be rebuilt from the sum that was kept. */
static ccr_otlp_metric *metric_new(const struct ccr_stored_record *r)
{
    ccr_otlp_metric *m = ccr_xmalloc(sizeof(*m));

    opentelemetry__proto__metrics__v1__metric__init(m);
    m->name = ccr_xstrdup(r->name);
    if (r->unit != NULL) {
        m->unit = ccr_xstrdup(r->unit);
    }
    if (strcmp(r->kind, "sum") == 0) {
        m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
        m->sum = ccr_xmalloc(sizeof(*m->sum));
        opentelemetry__proto__metrics__v1__sum__init(m->sum);
        m->sum->aggregation_temporality = r->temporality;
        m->sum->is_monotonic = r->monotonic != 0;
    } else {
        m->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
        m->gauge = ccr_xmalloc(sizeof(*m->gauge));
        opentelemetry__proto__metrics__v1__gauge__init(m->gauge);
    }
    return m;
}

/* The metric the point belongs to: the last one when it matches, else a new one. */
static ccr_otlp_metric *metric_for(ccr_otlp_scope_metrics *sm, const struct ccr_stored_record *r)
{
    ccr_otlp_metric *last = sm->n_metrics > 0 ? sm->metrics[sm->n_metrics - 1] : NULL;
    bool sum = strcmp(r->kind, "sum") == 0;

    if (last != NULL && strcmp(last->name, r->name) == 0 &&
        strcmp(last->unit, r->unit != NULL ? r->unit : "") == 0 &&
        (sum ? last->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM &&
                   (int)last->sum->aggregation_temporality == r->temporality
             : last->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE)) {
        return last;
    }
    sm->metrics = grow(sm->metrics, sm->n_metrics, sizeof(*sm->metrics));
    sm->metrics[sm->n_metrics] = metric_new(r);
    return sm->metrics[sm->n_metrics++];
}

static void add_point(struct state *s, const struct ccr_stored_record *r)
{
    ccr_otlp_scope_metrics *sm = s->metrics->resource_metrics[0]->scope_metrics[0];
    ccr_otlp_metric *m = metric_for(sm, r);
    ccr_otlp_number_point *p = ccr_xmalloc(sizeof(*p));

    opentelemetry__proto__metrics__v1__number_data_point__init(p);
    p->start_time_unix_nano = r->start_ns != CCR_NONE ? (uint64_t)r->start_ns : 0;
    p->time_unix_nano = (uint64_t)r->time_ns;
    p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
    p->as_double = r->value;
    p->attributes = attrs_from_text(r->attrs_json, &p->n_attributes);
    ccr_otlp_number_point ***points = m->sum != NULL ? &m->sum->data_points
                                                     : &m->gauge->data_points;
    size_t *n = m->sum != NULL ? &m->sum->n_data_points : &m->gauge->n_data_points;
    *points = grow(*points, *n, sizeof(**points));
    (*points)[(*n)++] = p;
}

/*
 * Hands the batch being built to the forwarder, then runs the loop while it
 * is busy: the walk over the history pauses instead of building every
 * request of a large history in memory at once.
 */
static void flush_batch(struct state *s)
{
    struct ccr_otlp_request req = {.logs = s->logs, .metrics = s->metrics};

    if (s->n == 0) {
        return;
    }
    req.signal = s->logs != NULL ? CCR_SIGNAL_LOGS : CCR_SIGNAL_METRICS;
    ccr_forward_push(s->fw, &req);
    ccr_otlp_request_finish(&req);
    s->logs = NULL;
    s->metrics = NULL;
    s->done += (int64_t)s->n;
    s->n = 0;
    if (s->cb != NULL) {
        s->cb(s->done, s->total, s->ctx);
    }
    while (ccr_forward_pending(s->fw) >= MAX_PENDING) {
        uv_run(s->loop, UV_RUN_ONCE);
    }
}

/*
 * Records of one run and resource travel together, so each request carries
 * the resource they were received with.
 */
static int on_record(const struct ccr_stored_record *r, void *ctx)
{
    struct state *s = ctx;

    if (r->is_point && strcmp(r->kind, "histogram") == 0) {
        s->done++;
        return 0;
    }
    if (s->n > 0 && (s->n >= BATCH_RECORDS || r->is_point != s->is_point ||
                     r->run_id != s->run_id || r->resource_id != s->resource_id)) {
        flush_batch(s);
    }
    if (s->n == 0) {
        s->is_point = r->is_point;
        s->run_id = r->run_id;
        s->resource_id = r->resource_id;
        if (r->is_point) {
            start_metrics(s, r);
        } else {
            start_logs(s, r);
        }
    }
    if (r->is_point) {
        add_point(s, r);
    } else {
        add_log(s, r);
    }
    s->n++;
    return 0;
}

int ccr_backfill_run(struct ccr_store *st, const struct ccr_record_selection *sel,
                     uv_loop_t *loop, struct ccr_forward *fw, ccr_backfill_progress_cb cb,
                     void *ctx)
{
    struct state s = {.loop = loop, .fw = fw, .cb = cb, .ctx = ctx};

    if (ccr_store_count_records(st, sel, &s.total) < 0) {
        return -EIO;
    }
    int rc = ccr_store_walk_records(st, sel, on_record, &s);
    if (rc == 0) {
        flush_batch(&s);
    } else {
        struct ccr_otlp_request req = {.logs = s.logs, .metrics = s.metrics};
        ccr_otlp_request_finish(&req);
    }
    ccr_log_info("backfill", "queued %lld of %lld records", (long long)s.done,
                 (long long)s.total);
    return rc;
}
