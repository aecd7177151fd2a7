/* SPDX-License-Identifier: MIT */
/*
 * The direct attribute JSON writer against jansson's dump of the same
 * attributes: every attribute list of every fixture, and values chosen for
 * their edges (doubles, escapes, nesting, repeated keys, invalid UTF-8).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corpus.h"
#include "harness.h"
#include "otlp.h"
#include "util.h"

typedef Opentelemetry__Proto__Common__V1__ArrayValue ccr_otlp_array;

static const char *data_dir;

static char *jansson_text(ccr_otlp_kv *const *kvs, size_t n)
{
    json_t *v = ccr_otlp_attrs_json(kvs, n);
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    return s;
}

static char *direct_text(ccr_otlp_kv *const *kvs, size_t n)
{
    struct ccr_buf b = {0};
    ccr_otlp_attrs_write(kvs, n, &b);
    return (char *)b.data;
}

static size_t compared;

static void same_as_jansson(ccr_otlp_kv *const *kvs, size_t n)
{
    char *want = jansson_text(kvs, n);
    char *got = direct_text(kvs, n);

    ASSERT_STR_EQ(got, want);
    compared++;
    free(want);
    free(got);
}

static void check_points(const ccr_otlp_metric *m)
{
    if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM) {
        for (size_t i = 0; i < m->sum->n_data_points; i++) {
            same_as_jansson(m->sum->data_points[i]->attributes,
                            m->sum->data_points[i]->n_attributes);
        }
    } else if (m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE) {
        for (size_t i = 0; i < m->gauge->n_data_points; i++) {
            same_as_jansson(m->gauge->data_points[i]->attributes,
                            m->gauge->data_points[i]->n_attributes);
        }
    }
}

static void fixtures_match_jansson(void)
{
    struct ccr_templates t;

    ccr_templates_load(data_dir, &t);
    for (size_t i = 0; i < t.n; i++) {
        const struct ccr_otlp_request *req = &t.v[i].req;
        for (size_t j = 0; req->logs != NULL && j < req->logs->n_resource_logs; j++) {
            ccr_otlp_resource_logs *rl = req->logs->resource_logs[j];
            same_as_jansson(rl->resource->attributes, rl->resource->n_attributes);
            for (size_t k = 0; k < rl->n_scope_logs; k++) {
                for (size_t r = 0; r < rl->scope_logs[k]->n_log_records; r++) {
                    ccr_otlp_log_record *lr = rl->scope_logs[k]->log_records[r];
                    same_as_jansson(lr->attributes, lr->n_attributes);
                }
            }
        }
        for (size_t j = 0; req->metrics != NULL && j < req->metrics->n_resource_metrics; j++) {
            ccr_otlp_resource_metrics *rm = req->metrics->resource_metrics[j];
            for (size_t k = 0; k < rm->n_scope_metrics; k++) {
                for (size_t m = 0; m < rm->scope_metrics[k]->n_metrics; m++) {
                    check_points(rm->scope_metrics[k]->metrics[m]);
                }
            }
        }
    }
    ASSERT_TRUE(compared > 200);
    ccr_templates_finish(&t);
}

static void set_double(ccr_otlp_value *v, double x)
{
    ccr_otlp_value init = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    *v = init;
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
    v->double_value = x;
}

static void set_string(ccr_otlp_value *v, const char *s)
{
    ccr_otlp_value init = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    *v = init;
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    v->string_value = (char *)s;
}

static void one_value_matches(const char *key, ccr_otlp_value *v)
{
    ccr_otlp_kv kv = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    ccr_otlp_kv *kvs[] = {&kv};

    kv.key = (char *)key;
    kv.value = v;
    same_as_jansson(kvs, 1);
}

static void doubles_match_jansson(void)
{
    static const double xs[] = {0.0, -0.0, 1.0, -1.5, 0.1, 0.02275, 123456789.0, 1e15, 1e16,
                                1e17, 1e20, 1e21, 1e100, 1e-5, 1e-7, 1.5e-300, 5e-324,
                                1.7976931348623157e308, 2.2250738585072014e-308, 3.0e-10};
    ccr_otlp_value v;

    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
        set_double(&v, xs[i]);
        one_value_matches("x", &v);
        set_double(&v, -xs[i]);
        one_value_matches("x", &v);
    }
    set_double(&v, NAN);
    one_value_matches("nan", &v);
    set_double(&v, -INFINITY);
    one_value_matches("inf", &v);
}

static void strings_match_jansson(void)
{
    char all_ascii[128];
    ccr_otlp_value v;

    for (int i = 1; i < 128; i++) {
        all_ascii[i - 1] = (char)i;
    }
    all_ascii[127] = '\0';
    set_string(&v, all_ascii);
    one_value_matches(all_ascii, &v);
    set_string(&v, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8 \xef\xbf\xbf / ");
    one_value_matches("k\xc3\xa9y", &v);
    set_string(&v, "");
    one_value_matches("", &v);
}

static void structures_match_jansson(void)
{
    ccr_otlp_value leaf, nest[24], dup1, dup2, bytes, arrv, boolv, intv;
    Opentelemetry__Proto__Common__V1__KeyValueList lists[24];
    ccr_otlp_kv inner[24];
    ccr_otlp_kv *inner_p[24];
    ccr_otlp_kv kv[6];
    ccr_otlp_kv *kvs[6];
    ccr_otlp_array arr = OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
    ccr_otlp_value *arr_items[3] = {&leaf, &dup1, NULL};
    uint8_t raw[] = {0x00, 0xff, 0x10};

    set_string(&leaf, "leaf");
    /* 24 levels of kvlists: the writer must cut at the same depth as jansson's tree. */
    for (int i = 23; i >= 0; i--) {
        ccr_otlp_value vinit = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
        Opentelemetry__Proto__Common__V1__KeyValueList linit =
            OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE_LIST__INIT;
        ccr_otlp_kv kinit = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
        inner[i] = kinit;
        inner[i].key = (char *)"n";
        inner[i].value = i == 23 ? &leaf : &nest[i + 1];
        inner_p[i] = &inner[i];
        lists[i] = linit;
        lists[i].n_values = 1;
        lists[i].values = &inner_p[i];
        nest[i] = vinit;
        nest[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
        nest[i].kvlist_value = &lists[i];
    }
    set_string(&dup1, "first");
    set_string(&dup2, "second");
    ccr_otlp_value vinit = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    bytes = vinit;
    bytes.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE;
    bytes.bytes_value.data = raw;
    bytes.bytes_value.len = sizeof(raw);
    arr.values = arr_items;
    arr.n_values = 3; /* the NULL item is a value that was never set */
    arrv = vinit;
    arrv.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
    arrv.array_value = &arr;
    boolv = vinit;
    boolv.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
    boolv.bool_value = 1;
    intv = vinit;
    intv.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    intv.int_value = INT64_MIN;

    ccr_otlp_value *vals[6] = {&nest[0], &dup1, &dup2, &bytes, &arrv, &boolv};
    const char *keys[6] = {"deep", "dup", "dup", "bytes", "arr", "bool"};
    for (int i = 0; i < 6; i++) {
        ccr_otlp_kv kinit = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
        kv[i] = kinit;
        kv[i].key = (char *)keys[i];
        kv[i].value = vals[i];
        kvs[i] = &kv[i];
    }
    same_as_jansson(kvs, 6);
    kv[5].value = &intv;
    kv[4].value = NULL;
    kv[3].key = NULL;
    same_as_jansson(kvs, 6);
}

/* jansson cannot print invalid UTF-8 at all; the writer keeps the bytes, escaped. */
static void invalid_utf8_stays_valid_json(void)
{
    ccr_otlp_value v;
    ccr_otlp_kv kv = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    ccr_otlp_kv good = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    ccr_otlp_value good_v;
    ccr_otlp_kv *kvs[] = {&kv, &good};
    json_error_t err;

    set_string(&v, "a\xff\"b\\c\n\xc3(\xed\xa0\x80");
    set_string(&good_v, "ok");
    kv.key = (char *)"bad";
    kv.value = &v;
    good.key = (char *)"bad\xfe key";
    good.value = &good_v;
    char *text = direct_text(kvs, 2);
    json_t *back = json_loads(text, 0, &err);
    ASSERT_TRUE(back != NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(back, "bad")),
                  "a\\xff\"b\\x5cc\\x0a\\xc3(\\xed\\xa0\\x80");
    ASSERT_INT_EQ(json_object_size(back), 1);
    json_decref(back);
    free(text);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test-attrs-json DATA_DIR\n");
        return 2;
    }
    data_dir = argv[1];
    CCR_RUN(fixtures_match_jansson);
    CCR_RUN(doubles_match_jansson);
    CCR_RUN(strings_match_jansson);
    CCR_RUN(structures_match_jansson);
    CCR_RUN(invalid_utf8_stays_valid_json);
    return CCR_TEST_EXIT();
}
