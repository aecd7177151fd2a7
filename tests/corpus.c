/* SPDX-License-Identifier: MIT */
/* Fixture bodies for the benchmarks: decoded, rewritten and packed again. */
#include "corpus.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define SESSION_ID_LEN 36

_Noreturn static void die(const char *what, const char *path)
{
    fprintf(stderr, "bench: %s: %s\n", what, path);
    exit(1);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct ccr_buf b = {0};
    char chunk[65536];
    size_t n;

    if (f == NULL) {
        die("cannot open", path);
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        ccr_buf_append(&b, chunk, n);
    }
    fclose(f);
    *len = b.len;
    return b.data;
}

void ccr_templates_load(const char *data_dir, struct ccr_templates *t)
{
    char *pattern = ccr_xasprintf("%s/*/*.pb", data_dir);
    glob_t g;

    memset(t, 0, sizeof(*t));
    if (glob(pattern, 0, NULL, &g) != 0) {
        die("no fixtures match", pattern);
    }
    t->v = ccr_xcalloc(g.gl_pathc, sizeof(*t->v));
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        enum ccr_signal signal;
        if (strstr(path, "-logs.pb") != NULL) {
            signal = CCR_SIGNAL_LOGS;
        } else if (strstr(path, "-metrics.pb") != NULL) {
            signal = CCR_SIGNAL_METRICS;
        } else {
            continue;
        }
        size_t len;
        uint8_t *body = slurp(path, &len);
        struct ccr_template *tp = &t->v[t->n];
        if (ccr_otlp_decode_protobuf(signal, body, len, &tp->req) < 0) {
            die("fixture does not decode", path);
        }
        free(body);
        tp->path = ccr_xstrdup(path);
        tp->records = ccr_otlp_request_items(&tp->req);
        t->n++;
    }
    globfree(&g);
    free(pattern);
}

void ccr_templates_finish(struct ccr_templates *t)
{
    for (size_t i = 0; i < t->n; i++) {
        ccr_otlp_request_finish(&t->v[i].req);
        free(t->v[i].path);
    }
    free(t->v);
    memset(t, 0, sizeof(*t));
}

/*
 * Session ids are UUIDs; the new one has the same length, so it is written
 * over the old bytes and the decoded message keeps owning its memory.
 */
static void rewrite_kvs(ccr_otlp_kv **kvs, size_t n, uint64_t copy, int64_t *seq)
{
    for (size_t i = 0; i < n; i++) {
        ccr_otlp_kv *kv = kvs[i];
        if (kv->key == NULL || kv->value == NULL) {
            continue;
        }
        char *s = kv->value->value_case ==
                          OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
                      ? kv->value->string_value
                      : NULL;
        if (strcmp(kv->key, "session.id") == 0 && s != NULL && strlen(s) == SESSION_ID_LEN) {
            snprintf(s, SESSION_ID_LEN + 1, "%08x-0000-4000-8000-%012llx",
                     (unsigned)(copy >> 48), (unsigned long long)(copy & 0xffffffffffffull));
        } else if (strcmp(kv->key, "event.sequence") == 0) {
            kv->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
            kv->value->int_value = (*seq)++;
            if (s != NULL) {
                /* The union held a string; it is not ours to leak or reuse now. */
                free(s);
            }
        }
    }
}

static void rewrite_points(const ccr_otlp_metric *m, uint64_t copy, int64_t *seq)
{
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
        for (size_t i = 0; i < m->gauge->n_data_points; i++) {
            rewrite_kvs(m->gauge->data_points[i]->attributes,
                        m->gauge->data_points[i]->n_attributes, copy, seq);
        }
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
        for (size_t i = 0; i < m->sum->n_data_points; i++) {
            rewrite_kvs(m->sum->data_points[i]->attributes,
                        m->sum->data_points[i]->n_attributes, copy, seq);
        }
        break;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        for (size_t i = 0; i < m->histogram->n_data_points; i++) {
            rewrite_kvs(m->histogram->data_points[i]->attributes,
                        m->histogram->data_points[i]->n_attributes, copy, seq);
        }
        break;
    default:
        break;
    }
}

void ccr_template_rewrite(struct ccr_otlp_request *req, uint64_t copy, int64_t *seq)
{
    if (req->logs != NULL) {
        for (size_t i = 0; i < req->logs->n_resource_logs; i++) {
            ccr_otlp_resource_logs *rl = req->logs->resource_logs[i];
            for (size_t j = 0; j < rl->n_scope_logs; j++) {
                for (size_t k = 0; k < rl->scope_logs[j]->n_log_records; k++) {
                    ccr_otlp_log_record *lr = rl->scope_logs[j]->log_records[k];
                    rewrite_kvs(lr->attributes, lr->n_attributes, copy, seq);
                }
            }
        }
    }
    if (req->metrics != NULL) {
        for (size_t i = 0; i < req->metrics->n_resource_metrics; i++) {
            ccr_otlp_resource_metrics *rm = req->metrics->resource_metrics[i];
            for (size_t j = 0; j < rm->n_scope_metrics; j++) {
                for (size_t k = 0; k < rm->scope_metrics[j]->n_metrics; k++) {
                    rewrite_points(rm->scope_metrics[j]->metrics[k], copy, seq);
                }
            }
        }
    }
}

uint8_t *ccr_request_pack(const struct ccr_otlp_request *req, size_t *len)
{
    const ProtobufCMessage *m = req->logs != NULL      ? &req->logs->base
                                : req->metrics != NULL ? &req->metrics->base
                                                       : &req->traces->base;
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *out = ccr_xmalloc(*len + 1);
    protobuf_c_message_pack(m, out);
    return out;
}

static void corpus_push(struct ccr_corpus *c, const struct ccr_otlp_request *req,
                        size_t records)
{
    struct ccr_body *b;

    c->v = ccr_xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
    b = &c->v[c->n++];
    b->signal = req->signal;
    b->data = ccr_request_pack(req, &b->len);
    b->records = records;
    c->records += records;
    c->bytes += b->len;
}

void ccr_corpus_add_copies(struct ccr_corpus *c, struct ccr_templates *t, size_t copies,
                           uint64_t first_copy, int64_t *seq)
{
    for (size_t k = 0; k < copies; k++) {
        for (size_t i = 0; i < t->n; i++) {
            ccr_template_rewrite(&t->v[i].req, first_copy + k, seq);
            corpus_push(c, &t->v[i].req, t->v[i].records);
        }
    }
}

/* Packs one log record of a logs template, by narrowing the message for a moment. */
static void push_single(struct ccr_corpus *c, struct ccr_otlp_request *req, size_t rl_i,
                        size_t sl_i, size_t lr_i)
{
    ccr_otlp_logs_request *logs = req->logs;
    ccr_otlp_resource_logs **rls = logs->resource_logs;
    size_t n_rls = logs->n_resource_logs;
    ccr_otlp_resource_logs *rl = rls[rl_i];
    ccr_otlp_scope_logs **sls = rl->scope_logs;
    size_t n_sls = rl->n_scope_logs;
    ccr_otlp_scope_logs *sl = sls[sl_i];
    ccr_otlp_log_record **lrs = sl->log_records;
    size_t n_lrs = sl->n_log_records;

    logs->resource_logs = &rls[rl_i];
    logs->n_resource_logs = 1;
    rl->scope_logs = &sls[sl_i];
    rl->n_scope_logs = 1;
    sl->log_records = &lrs[lr_i];
    sl->n_log_records = 1;
    corpus_push(c, req, 1);
    sl->log_records = lrs;
    sl->n_log_records = n_lrs;
    rl->scope_logs = sls;
    rl->n_scope_logs = n_sls;
    logs->resource_logs = rls;
    logs->n_resource_logs = n_rls;
}

static size_t add_singles_of(struct ccr_corpus *c, struct ccr_otlp_request *req, size_t want)
{
    size_t added = 0;

    for (size_t i = 0; i < req->logs->n_resource_logs && added < want; i++) {
        ccr_otlp_resource_logs *rl = req->logs->resource_logs[i];
        for (size_t j = 0; j < rl->n_scope_logs && added < want; j++) {
            for (size_t k = 0; k < rl->scope_logs[j]->n_log_records && added < want; k++) {
                push_single(c, req, i, j, k);
                added++;
            }
        }
    }
    return added;
}

void ccr_corpus_add_singles(struct ccr_corpus *c, struct ccr_templates *t, size_t n,
                            uint64_t copy, int64_t *seq)
{
    size_t added = 0;

    while (added < n) {
        size_t before = added;
        for (size_t i = 0; i < t->n && added < n; i++) {
            if (t->v[i].req.logs == NULL) {
                continue;
            }
            ccr_template_rewrite(&t->v[i].req, copy++, seq);
            added += add_singles_of(c, &t->v[i].req, n - added);
        }
        if (added == before) {
            die("no log records in", "the fixtures");
        }
    }
}

void ccr_corpus_finish(struct ccr_corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].data);
    }
    free(c->v);
    memset(c, 0, sizeof(*c));
}
