/* SPDX-License-Identifier: MIT */
/*
 * Decoding and recording the real Claude Code captures: every figure in each
 * scenario's expected.json must come out of the history exactly.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "harness.h"
#include "ingest.h"
#include "record.h"
#include "store.h"
#include "util.h"

static const char *data_dir;
static char tmp_dir[] = "/tmp/ccrun-test-record-XXXXXX";

struct fixture {
    char *db_path;
    struct ccr_store *store;
    sqlite3 *db; /* a second, direct connection for checking rows */
    int64_t run_id;
    json_t *expected;
};

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct ccr_buf b = {0};
    char chunk[65536];
    size_t n;

    if (f == NULL) {
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        ccr_buf_append(&b, chunk, n);
    }
    fclose(f);
    *len = b.len;
    return b.data;
}

/* Posts every protobuf body of a scenario, in arrival order, through ingest. */
static void ingest_scenario(struct fixture *fx, const char *scenario)
{
    char *dir = ccr_xasprintf("%s/%s", data_dir, scenario);
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    struct ccr_recorder rec;

    ASSERT_TRUE(d != NULL);
    while (d != NULL && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 3 && strcmp(e->d_name + len - 3, ".pb") == 0) {
            names = ccr_xrealloc(names, (n + 1) * sizeof(char *));
            names[n++] = ccr_xstrdup(e->d_name);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    ASSERT_TRUE(n > 0);
    qsort(names, n, sizeof(char *), cmp_names);
    ccr_recorder_init(&rec, fx->store, fx->run_id);
    for (size_t i = 0; i < n; i++) {
        char *path = ccr_xasprintf("%s/%s", dir, names[i]);
        size_t len = 0;
        uint8_t *body = read_file(path, &len);
        struct ccr_request req = {
            .signal = strstr(names[i], "-logs") ? CCR_SIGNAL_LOGS
                      : strstr(names[i], "-traces") ? CCR_SIGNAL_TRACES
                                                    : CCR_SIGNAL_METRICS,
            .content_type = "application/x-protobuf",
            .body = body,
            .len = len,
            .peer = "test",
        };
        struct ccr_reply reply;
        ccr_ingest(&rec, &req, &reply);
        ASSERT_INT_EQ(reply.status, 200);
        free(body);
        free(path);
        free(names[i]);
    }
    ccr_recorder_finish(&rec);
    free(names);
    free(dir);
}

static void fixture_open(struct fixture *fx, const char *scenario)
{
    char *cause = NULL;
    char *expected = ccr_xasprintf("%s/%s/expected.json", data_dir, scenario);

    memset(fx, 0, sizeof(*fx));
    static int serial;
    fx->db_path = ccr_xasprintf("%s/%d-%s.db", tmp_dir, ++serial, scenario);
    ASSERT_INT_EQ(ccr_store_open(fx->db_path, false, &fx->store, &cause), 0);
    ASSERT_INT_EQ(ccr_store_run_start(fx->store, "[\"claude\"]", "/", 1000, NULL, &fx->run_id), 0);
    ASSERT_INT_EQ(sqlite3_open(fx->db_path, &fx->db), SQLITE_OK);
    fx->expected = json_load_file(expected, 0, NULL);
    ASSERT_TRUE(fx->expected != NULL);
    free(expected);
    free(cause);
}

static void fixture_close(struct fixture *fx)
{
    sqlite3_close(fx->db);
    ccr_store_close(fx->store);
    json_decref(fx->expected);
    free(fx->db_path);
}

/* Runs a query returning one integer (bound ?1 = text arg, when given). */
static long long query_int(struct fixture *fx, const char *sql, const char *arg)
{
    sqlite3_stmt *s;
    long long v = -1;

    if (sqlite3_prepare_v2(fx->db, sql, -1, &s, NULL) != SQLITE_OK) {
        CCR_FAIL("prepare %s: %s", sql, sqlite3_errmsg(fx->db));
        return -1;
    }
    if (arg != NULL) {
        sqlite3_bind_text(s, 1, arg, -1, SQLITE_TRANSIENT);
    }
    if (sqlite3_step(s) == SQLITE_ROW) {
        v = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return v;
}

static void check_sessions(struct fixture *fx, const struct ccr_summary *s)
{
    json_t *ids = json_object_get(fx->expected, "session_ids");

    ASSERT_INT_EQ(s->n_sessions, json_array_size(ids));
    for (size_t i = 0; i < s->n_sessions; i++) {
        bool found = false;
        for (size_t j = 0; j < json_array_size(ids); j++) {
            found = found || strcmp(s->sessions[i], json_string_value(json_array_get(ids, j))) == 0;
        }
        ASSERT_TRUE(found);
    }
}

static void check_event_counts(struct fixture *fx, const struct ccr_summary *s)
{
    json_t *counts = json_object_get(fx->expected, "event_counts");
    const char *name;
    json_t *n;
    long long total = 0;

    json_object_foreach(counts, name, n) {
        long long got = query_int(fx, "SELECT count(*) FROM events WHERE name = ?1", name);
        if (got != json_integer_value(n)) {
            CCR_FAIL("event %s: %lld stored, %lld expected", name, got,
                     (long long)json_integer_value(n));
        }
        total += json_integer_value(n);
    }
    ASSERT_INT_EQ(s->events, total);
}

static void check_totals(struct fixture *fx, const struct ccr_summary *s)
{
    json_t *t = json_object_get(fx->expected, "api_request_totals");
    static const char *const keys[4] = {"input", "output", "cache_read", "cache_creation"};

    ASSERT_DOUBLE_NEAR(s->cost_usd, json_number_value(json_object_get(t, "cost_usd")), 1e-9);
    for (int i = 0; i < 4; i++) {
        ASSERT_INT_EQ(s->tokens[i], json_integer_value(json_object_get(t, keys[i])));
    }
    ASSERT_INT_EQ(query_int(fx, "SELECT coalesce(sum(json_extract(attrs, '$.cost_usd_micros')), 0)"
                                " FROM events WHERE name = 'api_request'", NULL),
                  json_integer_value(json_object_get(t, "cost_usd_micros")));

    json_t *models = json_object_get(fx->expected, "per_model_events");
    ASSERT_INT_EQ(s->n_models, json_object_size(models));
    for (size_t i = 0; i < s->n_models; i++) {
        json_t *m = json_object_get(models, s->models[i].model);
        if (m == NULL) {
            CCR_FAIL("unexpected model %s", s->models[i].model);
            continue;
        }
        ASSERT_INT_EQ(s->models[i].requests, json_integer_value(json_object_get(m, "requests")));
        ASSERT_DOUBLE_NEAR(s->models[i].cost_usd,
                           json_number_value(json_object_get(m, "cost_usd")), 1e-9);
        for (int k = 0; k < 4; k++) {
            ASSERT_INT_EQ(s->models[i].tokens[k], json_integer_value(json_object_get(m, keys[k])));
        }
    }
}

static void check_tool_decisions(struct fixture *fx, const char *tool, json_t *decisions)
{
    const char *key;
    json_t *n;
    long long total = 0;

    json_object_foreach(decisions, key, n) {
        char *sql = ccr_xasprintf("SELECT count(*) FROM events WHERE name = 'tool_decision'"
                                  " AND tool_name = ?1 AND decision || '/' || source = '%s'",
                                  key);
        ASSERT_INT_EQ(query_int(fx, sql, tool), json_integer_value(n));
        total += json_integer_value(n);
        free(sql);
    }
    ASSERT_INT_EQ(query_int(fx, "SELECT count(*) FROM events WHERE name = 'tool_decision'"
                                " AND tool_name = ?1", tool), total);
}

static void check_tools(struct fixture *fx, const struct ccr_summary *s)
{
    json_t *tools = json_object_get(fx->expected, "tools");
    const char *name;
    json_t *t;
    size_t with_results = 0;

    json_object_foreach(tools, name, t) {
        check_tool_decisions(fx, name, json_object_get(t, "decisions"));
        long long results = json_integer_value(json_object_get(t, "results"));
        const struct ccr_tool_total *got = NULL;
        for (size_t i = 0; i < s->n_tools; i++) {
            got = strcmp(s->tools[i].name, name) == 0 ? &s->tools[i] : got;
        }
        if (got == NULL) {
            ASSERT_INT_EQ(results, 0);
            continue;
        }
        with_results++;
        ASSERT_INT_EQ(got->calls, results);
        ASSERT_INT_EQ(got->succeeded, json_integer_value(json_object_get(t, "success")));
        ASSERT_INT_EQ(got->failed, json_integer_value(json_object_get(t, "failure")));
        ASSERT_INT_EQ(got->rejected,
                      query_int(fx, "SELECT count(*) FROM events WHERE name = 'tool_decision'"
                                    " AND decision = 'reject' AND tool_name = ?1", name));
        json_t *errors = json_object_get(t, "errors");
        ASSERT_INT_EQ(query_int(fx, "SELECT count(*) FROM events WHERE name = 'tool_result'"
                                    " AND success = 0 AND error IS NOT NULL AND tool_name = ?1",
                                name),
                      json_array_size(errors));
        for (size_t i = 0; i < json_array_size(errors); i++) {
            ASSERT_TRUE(query_int(fx, "SELECT count(*) FROM events WHERE name = 'tool_result'"
                                      " AND error = ?1",
                                  json_string_value(json_array_get(errors, i))) > 0);
        }
    }
    ASSERT_INT_EQ(s->n_tools, with_results);
}

static void check_api_errors(struct fixture *fx)
{
    json_t *errors = json_object_get(fx->expected, "api_errors");
    size_t i;
    json_t *e;

    ASSERT_INT_EQ(query_int(fx, "SELECT count(*) FROM events WHERE name = 'api_error'", NULL),
                  json_array_size(errors));
    json_array_foreach(errors, i, e) {
        char *sql = ccr_xasprintf(
            "SELECT count(*) FROM events WHERE name = 'api_error' AND model = ?1"
            " AND error = '%s' AND status_code = %s AND json_extract(attrs, '$.attempt') = %s"
            " AND duration_ms = %s",
            json_string_value(json_object_get(e, "error")),
            json_string_value(json_object_get(e, "status_code")),
            json_string_value(json_object_get(e, "attempt")),
            json_string_value(json_object_get(e, "duration_ms")));
        ASSERT_INT_EQ(query_int(fx, sql, json_string_value(json_object_get(e, "model"))), 1);
        free(sql);
    }
}

static void check_prompts(struct fixture *fx, const struct ccr_summary *s)
{
    json_t *prompts = json_object_get(fx->expected, "prompts");

    ASSERT_INT_EQ(s->n_prompts, json_array_size(prompts));
    for (size_t i = 0; i < s->n_prompts && i < json_array_size(prompts); i++) {
        json_t *p = json_array_get(prompts, i);
        ASSERT_STR_EQ(s->prompts[i].text, json_string_value(json_object_get(p, "prompt")));
        ASSERT_INT_EQ(s->prompts[i].length,
                      atoll(json_string_value(json_object_get(p, "prompt_length"))));
    }
}

/* True when a stored point's attributes, less the per-process ones, equal want. */
static bool same_series(const char *attrs_json, json_t *want)
{
    json_t *got = json_loads(attrs_json, 0, NULL);
    json_object_del(got, "user.id");
    json_object_del(got, "session.id");
    json_object_del(got, "terminal.type");
    bool same = json_equal(got, want);
    json_decref(got);
    return same;
}

static void check_series(struct fixture *fx, const char *metric, json_t *series)
{
    sqlite3_stmt *s;
    double value = 0;
    long long points = 0;
    int temporality = -1;

    sqlite3_prepare_v2(fx->db, "SELECT attrs, value, temporality FROM metric_points"
                               " WHERE name = ?1 ORDER BY time_ns", -1, &s, NULL);
    sqlite3_bind_text(s, 1, metric, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (!same_series((const char *)sqlite3_column_text(s, 0),
                         json_object_get(series, "attrs"))) {
            continue;
        }
        temporality = sqlite3_column_int(s, 2);
        double v = sqlite3_column_double(s, 1);
        value = temporality == 2 ? v : value + v;
        points++;
    }
    sqlite3_finalize(s);
    ASSERT_INT_EQ(points, json_integer_value(json_object_get(series, "npoints")));
    ASSERT_INT_EQ(temporality, json_integer_value(json_object_get(series, "temporality")));
    ASSERT_DOUBLE_NEAR(value, json_number_value(json_object_get(series, "value")), 1e-9);
}

static void check_metrics(struct fixture *fx)
{
    json_t *metrics = json_object_get(fx->expected, "metrics");
    const char *name;
    json_t *list;
    long long total = 0;

    json_object_foreach(metrics, name, list) {
        size_t i;
        json_t *series;
        json_array_foreach(list, i, series) {
            check_series(fx, name, series);
            total += json_integer_value(json_object_get(series, "npoints"));
        }
    }
    ASSERT_INT_EQ(query_int(fx, "SELECT count(*) FROM metric_points", NULL), total);
}

static void check_scenario(const char *scenario)
{
    struct fixture fx;
    struct ccr_summary s;

    fixture_open(&fx, scenario);
    ingest_scenario(&fx, scenario);
    ASSERT_INT_EQ(ccr_store_summary(fx.store, fx.run_id, &s), 0);
    check_sessions(&fx, &s);
    check_event_counts(&fx, &s);
    check_totals(&fx, &s);
    check_tools(&fx, &s);
    check_api_errors(&fx);
    check_prompts(&fx, &s);
    check_metrics(&fx);
    ASSERT_STR_EQ(s.program, "claude-code");
    ASSERT_STR_EQ(s.program_version, "2.1.197");
    ccr_summary_finish(&s);
    fixture_close(&fx);
}

static void record_text_only_matches_expected(void) { check_scenario("a-text-only"); }
static void record_bash_ok_matches_expected(void) { check_scenario("b-bash-ok"); }
static void record_multi_tool_matches_expected(void) { check_scenario("c-multi-tool"); }
static void record_tool_failures_matches_expected(void) { check_scenario("d-tool-failures"); }
static void record_accept_reject_matches_expected(void)
{
    check_scenario("e2-interactive-accept-reject");
}
static void record_api_failure_matches_expected(void) { check_scenario("f2-api-always-fails"); }
static void record_grpc_bodies_match_expected(void) { check_scenario("j2-grpc-h2c"); }
static void record_redacted_prompt_matches_expected(void)
{
    check_scenario("k1-prompt-redacted-unicode");
}
static void record_logged_prompt_matches_expected(void)
{
    check_scenario("k2-prompt-logged-unicode");
}
static void record_interactive_matches_expected(void) { check_scenario("l-interactive"); }
static void record_traces_beta_matches_expected(void) { check_scenario("o-traces-beta"); }

/* A retried, byte-identical logs body must not count twice. */
static void record_redelivery_is_stored_once(void)
{
    struct fixture fx;
    struct ccr_summary s;

    fixture_open(&fx, "b-bash-ok");
    ingest_scenario(&fx, "b-bash-ok");
    ingest_scenario(&fx, "b-bash-ok");
    ASSERT_INT_EQ(ccr_store_summary(fx.store, fx.run_id, &s), 0);
    ASSERT_INT_EQ(s.events, 6);
    ASSERT_INT_EQ(s.api_requests, 2);
    ccr_summary_finish(&s);
    fixture_close(&fx);
}

static void ingest_garbage_answers_400_and_stores_nothing(void)
{
    struct fixture fx;
    struct ccr_recorder rec;
    struct ccr_reply reply;
    const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    struct ccr_request req = {
        .signal = CCR_SIGNAL_LOGS,
        .content_type = "application/x-protobuf",
        .body = junk,
        .len = sizeof(junk),
        .peer = "test",
    };

    fixture_open(&fx, "a-text-only");
    ccr_recorder_init(&rec, fx.store, fx.run_id);
    ccr_ingest(&rec, &req, &reply);
    ASSERT_INT_EQ(reply.status, 400);
    req.content_type = "text/plain";
    ccr_ingest(&rec, &req, &reply);
    ASSERT_INT_EQ(reply.status, 415);
    ASSERT_INT_EQ(query_int(&fx, "SELECT count(*) FROM events", NULL), 0);
    ccr_recorder_finish(&rec);
    fixture_close(&fx);
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : getenv("CCR_TEST_DATA");
    if (data_dir == NULL || mkdtemp(tmp_dir) == NULL) {
        fprintf(stderr, "usage: test-record DATA_DIR (and a writable /tmp)\n");
        return 1;
    }
    CCR_RUN(record_text_only_matches_expected);
    CCR_RUN(record_bash_ok_matches_expected);
    CCR_RUN(record_multi_tool_matches_expected);
    CCR_RUN(record_tool_failures_matches_expected);
    CCR_RUN(record_accept_reject_matches_expected);
    CCR_RUN(record_api_failure_matches_expected);
    CCR_RUN(record_grpc_bodies_match_expected);
    CCR_RUN(record_redacted_prompt_matches_expected);
    CCR_RUN(record_logged_prompt_matches_expected);
    CCR_RUN(record_interactive_matches_expected);
    CCR_RUN(record_traces_beta_matches_expected);
    CCR_RUN(record_redelivery_is_stored_once);
    CCR_RUN(ingest_garbage_answers_400_and_stores_nothing);

    char *cmd = ccr_xasprintf("rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", tmp_dir);
    }
    free(cmd);
    return CCR_TEST_EXIT();
}
