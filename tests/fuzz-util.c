/* SPDX-License-Identifier: MIT */
/* Helpers of the fuzz targets. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "otlp.h"
#include "record.h"
#include "store.h"
#include "util.h"

static char *temp_dir;

static void remove_temp_dir(void)
{
    char *cmd = ccr_xasprintf("rm -rf '%s'", temp_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "fuzz: could not remove %s\n", temp_dir);
    }
    free(cmd);
    free(temp_dir);
}

const char *ccr_fuzz_temp_dir(void)
{
    if (temp_dir == NULL) {
        temp_dir = ccr_xstrdup("/tmp/ccrun-fuzz-XXXXXX");
        if (mkdtemp(temp_dir) == NULL) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(remove_temp_dir);
    }
    return temp_dir;
}

char *ccr_fuzz_temp_db(const char *name)
{
    return ccr_xasprintf("%s/%s.db", ccr_fuzz_temp_dir(), name);
}

void ccr_fuzz_open_recorder(const char *name, struct ccr_store **store,
                            struct ccr_recorder *rec)
{
    /* Lives as long as the process: the recorder borrows its prices. */
    static struct ccr_config prices;
    char *cause = NULL;
    int64_t run_id;
    char *path = ccr_fuzz_temp_db(name);

    if (ccr_store_open(path, false, store, &cause) < 0 ||
        ccr_store_run_start(*store, "[\"fuzz\"]", "/", 0, NULL, &run_id) < 0) {
        fprintf(stderr, "fuzz: cannot open %s: %s\n", path, cause ? cause : "");
        abort();
    }
    if (prices.prices.n == 0) {
        ccr_config_builtin_prices(&prices);
    }
    ccr_recorder_init(rec, *store, run_id);
    rec->prices = &prices.prices;
    free(path);
}

static void check_list(ccr_otlp_kv *const *kvs, size_t n)
{
    struct ccr_buf b = {0};
    json_error_t err;

    ccr_otlp_attrs_write(kvs, n, &b);
    json_t *back = json_loads(ccr_buf_cstr(&b), 0, &err);
    if (back == NULL) {
        fprintf(stderr, "fuzz: stored attributes do not parse: %s\n", err.text);
        abort();
    }
    json_decref(back);

    json_t *tree = ccr_otlp_attrs_json(kvs, n);
    char *want = json_dumps(tree, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(tree);
    if (want != NULL && strcmp(want, ccr_buf_cstr(&b)) != 0) {
        fprintf(stderr, "fuzz: writer and jansson differ:\n%s\n%s\n", want, ccr_buf_cstr(&b));
        abort();
    }
    free(want);
    ccr_buf_finish(&b);
}

static void check_resource(const ccr_otlp_resource *r)
{
    if (r != NULL) {
        check_list(r->attributes, r->n_attributes);
    }
}

static void check_logs(const ccr_otlp_logs_request *logs)
{
    for (size_t i = 0; i < logs->n_resource_logs; i++) {
        const ccr_otlp_resource_logs *rl = logs->resource_logs[i];
        check_resource(rl->resource);
        for (size_t j = 0; j < rl->n_scope_logs; j++) {
            for (size_t k = 0; k < rl->scope_logs[j]->n_log_records; k++) {
                const ccr_otlp_log_record *lr = rl->scope_logs[j]->log_records[k];
                check_list(lr->attributes, lr->n_attributes);
            }
        }
    }
}

static void check_metric(const ccr_otlp_metric *m)
{
    ccr_otlp_number_point *const *points = NULL;
    size_t n = 0;

    if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE) {
        points = m->gauge->data_points;
        n = m->gauge->n_data_points;
    } else if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM) {
        points = m->sum->data_points;
        n = m->sum->n_data_points;
    } else if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM) {
        for (size_t i = 0; i < m->histogram->n_data_points; i++) {
            const ccr_otlp_histogram_point *p = m->histogram->data_points[i];
            check_list(p->attributes, p->n_attributes);
        }
    }
    for (size_t i = 0; i < n; i++) {
        check_list(points[i]->attributes, points[i]->n_attributes);
    }
}

static void check_metrics(const ccr_otlp_metrics_request *metrics)
{
    for (size_t i = 0; i < metrics->n_resource_metrics; i++) {
        const ccr_otlp_resource_metrics *rm = metrics->resource_metrics[i];
        check_resource(rm->resource);
        for (size_t j = 0; j < rm->n_scope_metrics; j++) {
            for (size_t k = 0; k < rm->scope_metrics[j]->n_metrics; k++) {
                check_metric(rm->scope_metrics[j]->metrics[k]);
            }
        }
    }
}

static void check_traces(const ccr_otlp_traces_request *traces)
{
    for (size_t i = 0; i < traces->n_resource_spans; i++) {
        const ccr_otlp_resource_spans *rs = traces->resource_spans[i];
        check_resource(rs->resource);
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            for (size_t k = 0; k < rs->scope_spans[j]->n_spans; k++) {
                const ccr_otlp_span *s = rs->scope_spans[j]->spans[k];
                check_list(s->attributes, s->n_attributes);
            }
        }
    }
}

void ccr_fuzz_check_attrs(const struct ccr_otlp_request *req)
{
    if (req->logs != NULL) {
        check_logs(req->logs);
    }
    if (req->metrics != NULL) {
        check_metrics(req->metrics);
    }
    if (req->traces != NULL) {
        check_traces(req->traces);
    }
}
