/* SPDX-License-Identifier: MIT */
/*
 * Decoding and recording the real Claude Code captures: every figure in each
 * scenario's expected.json must come out of the history exactly.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>
#include <zlib.h>

#include "batch.h"
#include "harness.h"
#include "inflate.h"
#include "otlp-json.h"
#include "ingest.h"
#include "record.h"
#include "store.h"
#include "../src/store-private.h"
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

/* How a scenario's bodies are sent: as captured, or each one gzipped here first. */
enum variant {
    AS_CAPTURED,
    AS_GZIP,
};

/* Compresses in[0..len) into a gzip stream (for bodies captured plain). */
static void gzip_into(const void *in, size_t len, struct ccr_buf *out)
{
    z_stream zs = {0};
    uint8_t chunk[65536];
    int zrc;

    ASSERT_INT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, MAX_WBITS + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (unsigned)len;
    do {
        zs.next_out = chunk;
        zs.avail_out = sizeof(chunk);
        zrc = deflate(&zs, Z_FINISH);
        ccr_buf_append(out, chunk, sizeof(chunk) - zs.avail_out);
    } while (zrc == Z_OK);
    ASSERT_INT_EQ(zrc, Z_STREAM_END);
    deflateEnd(&zs);
}

static bool has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n > k && strcmp(name + n - k, suffix) == 0;
}

/*
 * A captured body: NN-signal.pb or NN-signal.json, either maybe with .gz.
 * The .grpc files of j2 are the same messages with gRPC framing; the
 * receiver's own test sends those.
 */
static bool is_body(const char *name)
{
    return has_suffix(name, ".pb") || has_suffix(name, ".json") ||
           has_suffix(name, ".pb.gz") || has_suffix(name, ".json.gz");
}

static enum ccr_signal signal_of(const char *name)
{
    return strstr(name, "-logs") ? CCR_SIGNAL_LOGS
           : strstr(name, "-traces") ? CCR_SIGNAL_TRACES
                                     : CCR_SIGNAL_METRICS;
}

/* The scenario's body files in arrival order (numbered names sort so). */
static char **scenario_bodies(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;

    ASSERT_TRUE(d != NULL);
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, "expected.json") != 0 && strcmp(e->d_name, "result.json") != 0 &&
            is_body(e->d_name)) {
            names = ccr_xrealloc(names, (n + 1) * sizeof(char *));
            names[n++] = ccr_xstrdup(e->d_name);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    qsort(names, n, sizeof(char *), cmp_names);
    *count = n;
    return names;
}

/* Sends one body file through ingest as captured, or gzipped when asked. */
static void ingest_file(struct ccr_recorder *rec, const char *dir, const char *name,
                        enum variant how)
{
    char *path = ccr_xasprintf("%s/%s", dir, name);
    size_t len = 0;
    uint8_t *body = read_file(path, &len);
    struct ccr_buf packed = {0};
    bool gz = has_suffix(name, ".gz");
    struct ccr_request req = {
        .signal = signal_of(name),
        .content_type = strstr(name, ".json") ? "application/json; charset=utf-8"
                                              : "application/x-protobuf",
        .content_encoding = gz ? "gzip" : NULL,
        .body = body,
        .len = len,
        .peer = "test",
    };
    struct ccr_reply reply;

    ASSERT_TRUE(body != NULL);
    if (how == AS_GZIP && !gz) {
        gzip_into(body, len, &packed);
        req.body = packed.data;
        req.len = packed.len;
        req.content_encoding = "gzip";
    }
    ccr_ingest(rec, &req, &reply);
    if (reply.status != 200) {
        CCR_FAIL("%s: answered %d (%s)", name, reply.status, reply.reason);
    }
    ccr_reply_finish(&reply);
    ccr_buf_finish(&packed);
    free(body);
    free(path);
}

/* Posts every body of a scenario, in arrival order, through ingest. */
static void ingest_scenario_as(struct fixture *fx, const char *scenario, enum variant how)
{
    char *dir = ccr_xasprintf("%s/%s", data_dir, scenario);
    size_t n = 0;
    char **names = scenario_bodies(dir, &n);
    struct ccr_recorder rec;

    ASSERT_TRUE(n > 0);
    ccr_recorder_init(&rec, fx->store, fx->run_id);
    for (size_t i = 0; i < n; i++) {
        ingest_file(&rec, dir, names[i], how);
        free(names[i]);
    }
    ccr_recorder_finish(&rec);
    free(names);
    free(dir);
}

static void ingest_scenario(struct fixture *fx, const char *scenario)
{
    ingest_scenario_as(fx, scenario, AS_CAPTURED);
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

static void check_scenario_as(const char *scenario, enum variant how)
{
    struct fixture fx;
    struct ccr_summary s;

    fixture_open(&fx, scenario);
    ingest_scenario_as(&fx, scenario, how);
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

/* Every scenario as captured, then with each body gzipped. */
static void check_scenario(const char *scenario)
{
    check_scenario_as(scenario, AS_CAPTURED);
    check_scenario_as(scenario, AS_GZIP);
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
static void record_gzip_capture_matches_expected(void) { check_scenario("i-gzip-protobuf"); }
static void record_json_capture_matches_expected(void) { check_scenario("h-http-json"); }

/* Retried, byte-identical bodies of every signal must not count twice. */
static void record_redelivery_is_stored_once(void)
{
    struct fixture fx;
    struct ccr_summary s;

    fixture_open(&fx, "o-traces-beta");
    ingest_scenario(&fx, "o-traces-beta");
    long long points = query_int(&fx, "SELECT count(*) FROM metric_points", NULL);
    long long spans = query_int(&fx, "SELECT count(*) FROM spans", NULL);
    ingest_scenario(&fx, "o-traces-beta");
    ASSERT_INT_EQ(ccr_store_summary(fx.store, fx.run_id, &s), 0);
    ASSERT_INT_EQ(s.events, 6);
    ASSERT_INT_EQ(s.api_requests, 2);
    ASSERT_INT_EQ(s.metric_points, points);
    ASSERT_INT_EQ(query_int(&fx, "SELECT count(*) FROM spans", NULL), spans);
    ccr_summary_finish(&s);
    fixture_close(&fx);
}

/* The tracing beta's spans: one tree per interaction, linked to the session. */
static void record_spans_keep_the_tree_and_session(void)
{
    struct fixture fx;
    const char *session;

    fixture_open(&fx, "o-traces-beta");
    ingest_scenario(&fx, "o-traces-beta");
    session = json_string_value(json_array_get(json_object_get(fx.expected, "session_ids"), 0));
    long long spans = query_int(&fx, "SELECT count(*) FROM spans", NULL);
    printf("# o-traces-beta: %lld spans\n", spans);
    ASSERT_TRUE(spans >= 4);
    ASSERT_INT_EQ(query_int(&fx, "SELECT count(*) FROM spans WHERE session_id = ?1", session),
                  spans);
    ASSERT_INT_EQ(query_int(&fx, "SELECT count(*) FROM spans WHERE parent_span_id IS NULL"
                                 " AND name = 'claude_code.interaction'", NULL), 1);
    /* Every other span hangs off a stored span of the same trace. */
    ASSERT_INT_EQ(query_int(&fx, "SELECT count(*) FROM spans c WHERE parent_span_id IS NOT NULL"
                                 " AND NOT EXISTS (SELECT 1 FROM spans p WHERE"
                                 " p.span_id = c.parent_span_id AND p.trace_id = c.trace_id)",
                            NULL), 0);
    json_t *counts = json_object_get(fx.expected, "event_counts");
    ASSERT_INT_EQ(query_int(&fx, "SELECT count(*) FROM spans"
                                 " WHERE name = 'claude_code.llm_request'", NULL),
                  json_integer_value(json_object_get(counts, "api_request")));
    ASSERT_INT_EQ(query_int(&fx, "SELECT count(*) FROM spans WHERE length(trace_id) <> 32"
                                 " OR length(span_id) <> 16 OR end_ns < start_ns", NULL), 0);
    ASSERT_INT_EQ(query_int(&fx, "SELECT count(*) FROM spans WHERE name = 'claude_code.tool'"
                                 " AND json_extract(attrs, '$.tool_name') = 'Bash'", NULL), 1);
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

/* Sends body through ingest for the logs path and returns the status. */
static int ingest_status(struct fixture *fx, const char *type, const char *encoding,
                         const void *body, size_t len)
{
    struct ccr_recorder rec;
    struct ccr_reply reply;
    struct ccr_request req = {
        .signal = CCR_SIGNAL_LOGS,
        .content_type = type,
        .content_encoding = encoding,
        .body = body,
        .len = len,
        .peer = "test",
    };

    ccr_recorder_init(&rec, fx->store, fx->run_id);
    ccr_ingest(&rec, &req, &reply);
    ccr_reply_finish(&reply);
    ccr_recorder_finish(&rec);
    return reply.status;
}

/* A gzip stream of n zero bytes, made without ever holding them all. */
static void gzip_zeros(size_t n, struct ccr_buf *out)
{
    static const uint8_t zeros[65536];
    uint8_t chunk[65536];
    z_stream zs = {0};

    ASSERT_INT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, MAX_WBITS + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
    while (n > 0) {
        size_t step = n < sizeof(zeros) ? n : sizeof(zeros);
        n -= step;
        zs.next_in = (Bytef *)zeros;
        zs.avail_in = (unsigned)step;
        do {
            zs.next_out = chunk;
            zs.avail_out = sizeof(chunk);
            deflate(&zs, n == 0 ? Z_FINISH : Z_NO_FLUSH);
            ccr_buf_append(out, chunk, sizeof(chunk) - zs.avail_out);
        } while (zs.avail_out == 0);
    }
    deflateEnd(&zs);
}

/* A 256 MiB bomb in about 256 KiB is refused once the cap is reached, quickly. */
static void ingest_gzip_bomb_answers_413_early(void)
{
    struct fixture fx;
    struct ccr_buf bomb = {0};

    fixture_open(&fx, "a-text-only");
    gzip_zeros((size_t)256 << 20, &bomb);
    ASSERT_TRUE(bomb.len < (1u << 20));
    uint64_t t0 = ccr_mono_ns();
    ASSERT_INT_EQ(ingest_status(&fx, "application/x-protobuf", "gzip", bomb.data, bomb.len), 413);
    uint64_t ms = (ccr_mono_ns() - t0) / 1000000;
    /* Inflating all 256 MiB takes far longer; stopping at the cap takes a fraction. */
    if (ms > 2000) {
        CCR_FAIL("refusing the bomb took %llu ms", (unsigned long long)ms);
    }
    printf("# gzip bomb: %zu bytes refused after %llu ms (cap %u)\n", bomb.len,
           (unsigned long long)ms, CCR_MAX_INFLATED);
    ASSERT_INT_EQ(query_int(&fx, "SELECT count(*) FROM events", NULL), 0);
    ccr_buf_finish(&bomb);
    fixture_close(&fx);
}

/* Prepends a length-delimited field (tag, length) to the bytes in b. */
static void wrap_field(struct ccr_buf *b, unsigned field)
{
    struct ccr_buf out = {0};
    uint8_t head[11];
    size_t n = 0, len = b->len;

    head[n++] = (uint8_t)(field << 3 | 2);
    do {
        head[n++] = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
        len >>= 7;
    } while (len > 0);
    ccr_buf_append(&out, head, n);
    ccr_buf_append(&out, b->data, b->len);
    ccr_buf_finish(b);
    *b = out;
}

/*
 * Protobuf bodies that would make protobuf-c allocate without bound or
 * recurse past the stack: millions of empty sub-messages (16 KiB gzipped),
 * and an attribute value nested 4000 messages deep.
 */
static void ingest_protobuf_limits_are_enforced(void)
{
    struct fixture fx;
    struct ccr_buf flat = {0}, packed = {0}, deep = {0};

    fixture_open(&fx, "a-text-only");
    /* Each 0x0a 0x00 is an empty ResourceLogs. */
    flat.len = flat.cap = 16u << 20;
    flat.data = ccr_xcalloc(1, flat.len);
    for (size_t i = 0; i < flat.len; i += 2) {
        flat.data[i] = 0x0a;
    }
    gzip_into(flat.data, flat.len, &packed);
    uint64_t t0 = ccr_mono_ns();
    ASSERT_INT_EQ(ingest_status(&fx, "application/x-protobuf", "gzip", packed.data, packed.len),
                  400);
    printf("# %zu empty messages in %zu gzipped bytes refused after %llu ms\n", flat.len / 2,
           packed.len, (unsigned long long)((ccr_mono_ns() - t0) / 1000000));

    ccr_buf_append(&deep, "\x18\x01", 2); /* AnyValue{int_value: 1} */
    for (int i = 0; i < 2000; i++) {
        wrap_field(&deep, 1); /* ArrayValue.values */
        wrap_field(&deep, 5); /* AnyValue.array_value */
    }
    wrap_field(&deep, 2); /* KeyValue.value */
    wrap_field(&deep, 1); /* Resource.attributes */
    wrap_field(&deep, 1); /* ResourceLogs.resource */
    wrap_field(&deep, 1); /* ExportLogsServiceRequest.resource_logs */
    ASSERT_INT_EQ(ingest_status(&fx, "application/x-protobuf", NULL, deep.data, deep.len), 400);
    ccr_buf_finish(&flat);
    ccr_buf_finish(&packed);
    ccr_buf_finish(&deep);
    fixture_close(&fx);
}

static void ingest_bad_encodings_are_refused(void)
{
    struct fixture fx;
    char *path = ccr_xasprintf("%s/i-gzip-protobuf/01-logs.pb.gz", data_dir);
    size_t len = 0;
    uint8_t *gz = read_file(path, &len);
    static const char pb[] = "\x0a\x00";

    fixture_open(&fx, "a-text-only");
    ASSERT_TRUE(gz != NULL && len > 20);
    ASSERT_INT_EQ(ingest_status(&fx, "application/x-protobuf", "br", gz, len), 415);
    ASSERT_INT_EQ(ingest_status(&fx, "application/x-protobuf", "gzip, br", gz, len), 415);
    ASSERT_INT_EQ(ingest_status(&fx, "application/x-protobuf", "deflate", gz, len), 415);
    /* Cut short, then not gzip at all. */
    ASSERT_INT_EQ(ingest_status(&fx, "application/x-protobuf", "gzip", gz, len - 9), 400);
    ASSERT_INT_EQ(ingest_status(&fx, "application/x-protobuf", "gzip", pb, 2), 400);
    ASSERT_INT_EQ(ingest_status(&fx, "application/x-protobuf", "GZIP", gz, len), 200);
    ASSERT_INT_EQ(ingest_status(&fx, "application/x-protobuf", " identity ", pb, 2), 200);
    ASSERT_INT_EQ(ingest_status(&fx, "application/xml", NULL, pb, 2), 415);
    ASSERT_INT_EQ(ingest_status(&fx, NULL, NULL, pb, 2), 415);
    ASSERT_INT_EQ(query_int(&fx, "SELECT count(*) FROM events", NULL), 6);
    free(gz);
    free(path);
    fixture_close(&fx);
}

/* A metrics body with one good point and one that cannot be stored. */
static const char partial_metrics[] =
    "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"m\",\"sum\":"
    "{\"aggregationTemporality\":1,\"dataPoints\":[{\"timeUnixNano\":\"5\",\"asDouble\":2},"
    "{\"timeUnixNano\":\"6\",\"asDouble\":\"NaN\"}]}}]}]}]}";

static void ingest_json_answers_partial_success_in_json(void)
{
    struct fixture fx;
    struct ccr_recorder rec;
    struct ccr_reply reply;
    struct ccr_request req = {
        .signal = CCR_SIGNAL_METRICS,
        .content_type = "application/json",
        .body = (const uint8_t *)partial_metrics,
        .len = strlen(partial_metrics),
        .peer = "test",
    };

    fixture_open(&fx, "a-text-only");
    ccr_recorder_init(&rec, fx.store, fx.run_id);
    ccr_ingest(&rec, &req, &reply);
    ASSERT_INT_EQ(reply.status, 200);
    ASSERT_STR_EQ(reply.content_type, "application/json");
    json_t *doc = json_loadb(reply.body, reply.body_len, 0, NULL);
    json_t *ps = json_object_get(doc, "partialSuccess");
    ASSERT_STR_EQ(json_string_value(json_object_get(ps, "rejectedDataPoints")), "1");
    ASSERT_TRUE(json_string_length(json_object_get(ps, "errorMessage")) > 0);
    json_decref(doc);
    ccr_reply_finish(&reply);
    ASSERT_INT_EQ(query_int(&fx, "SELECT count(*) FROM metric_points", NULL), 1);

    /* Malformed JSON gets a 400 whose body is a JSON status. */
    req.body = (const uint8_t *)"{\"resourceMetrics\":7}";
    req.len = strlen((const char *)req.body);
    ccr_ingest(&rec, &req, &reply);
    ASSERT_INT_EQ(reply.status, 400);
    doc = json_loadb(reply.body, reply.body_len, 0, NULL);
    ASSERT_INT_EQ(json_integer_value(json_object_get(doc, "code")), 3);
    ASSERT_TRUE(json_is_string(json_object_get(doc, "message")));
    json_decref(doc);
    ccr_reply_finish(&reply);
    ccr_recorder_finish(&rec);
    fixture_close(&fx);
}

static void ingest_protobuf_answers_partial_success(void)
{
    struct fixture fx;
    struct ccr_recorder rec;
    struct ccr_reply reply;
    struct ccr_otlp_request msg;
    const char *why;
    struct ccr_buf pb = {0};

    ASSERT_INT_EQ(ccr_otlp_decode_json(CCR_SIGNAL_METRICS, (const uint8_t *)partial_metrics,
                                       strlen(partial_metrics), &msg, &why), 0);
    size_t n = protobuf_c_message_get_packed_size(&msg.metrics->base);
    pb.data = ccr_xmalloc(n);
    pb.len = protobuf_c_message_pack(&msg.metrics->base, pb.data);
    ccr_otlp_request_finish(&msg);
    struct ccr_request req = {
        .signal = CCR_SIGNAL_METRICS,
        .content_type = "application/x-protobuf",
        .body = pb.data,
        .len = pb.len,
        .peer = "test",
    };

    fixture_open(&fx, "a-text-only");
    ccr_recorder_init(&rec, fx.store, fx.run_id);
    ccr_ingest(&rec, &req, &reply);
    ASSERT_INT_EQ(reply.status, 200);
    Opentelemetry__Proto__Collector__V1__ExportMetricsServiceResponse *resp =
        opentelemetry__proto__collector__v1__export_metrics_service_response__unpack(
            NULL, reply.body_len, reply.body);
    ASSERT_TRUE(resp != NULL && resp->partial_success != NULL);
    if (resp != NULL && resp->partial_success != NULL) {
        ASSERT_INT_EQ(resp->partial_success->rejected_data_points, 1);
    }
    opentelemetry__proto__collector__v1__export_metrics_service_response__free_unpacked(resp,
                                                                                        NULL);
    ccr_reply_finish(&reply);
    ccr_recorder_finish(&rec);
    ccr_buf_finish(&pb);
    fixture_close(&fx);
}

/* What a batch's done callback was told, in order. */
struct told {
    int status[8];
    int n;
};

static void on_told(void *ctx, const struct ccr_request *req, int status)
{
    struct told *t = ctx;
    if (t->n < 8) {
        t->status[t->n++] = status;
    }
}

static bool dummy_request(void *ctx, const struct ccr_request *req, struct ccr_reply *reply)
{
    return false;
}

/*
 * Group commit: requests wait for the end of the loop turn and are told 200
 * once committed; a failure inside the transaction loses the batch, and
 * every request in it is told 500; another process's lock is waited for on
 * a timer. The receiver is real but the requests come straight to the
 * batch, with ids no connection has: their answers go nowhere, what the
 * batch tells is what counts.
 */
static void batch_commits_together_and_fails_together(void)
{
    struct fixture fx;
    struct ccr_recorder rec;
    struct ccr_receiver *rx;
    struct ccr_batch b;
    struct ccr_reply reply;
    struct told told = {0};
    uv_loop_t loop;
    char *cause = NULL;
    char *path = ccr_xasprintf("%s/a-text-only/01-logs.pb", data_dir);
    size_t len = 0;
    uint8_t *body = read_file(path, &len);
    struct ccr_request req = {
        .signal = CCR_SIGNAL_LOGS,
        .content_type = "application/x-protobuf",
        .body = body,
        .len = len,
        .peer = "test",
    };

    ASSERT_TRUE(body != NULL);
    uv_loop_init(&loop);
    fixture_open(&fx, "a-text-only");
    ccr_recorder_init(&rec, fx.store, fx.run_id);
    ASSERT_INT_EQ(ccr_receiver_start(&loop, dummy_request, NULL, &rx, &cause), 0);
    ccr_batch_init(&b, &loop, &rec, on_told, &told);
    req.receiver = rx;

    /* Two requests wait for the end of the turn, and are told once committed (the
     * second is the first again, a redelivery). */
    req.id = 1001;
    ASSERT_TRUE(!ccr_batch_add(&b, &req, &reply));
    req.id = 1002;
    ASSERT_TRUE(!ccr_batch_add(&b, &req, &reply));
    ASSERT_INT_EQ(told.n, 0);
    ASSERT_INT_EQ(query_int(&fx, "SELECT count(*) FROM events", NULL), 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_INT_EQ(told.n, 2);
    ASSERT_INT_EQ(told.status[0], 200);
    ASSERT_INT_EQ(told.status[1], 200);
    long long stored = query_int(&fx, "SELECT count(*) FROM events", NULL);
    ASSERT_TRUE(stored > 0);

    /* A write that fails takes the whole batch with it. */
    ASSERT_INT_EQ(sqlite3_exec(ccr_store_db(fx.store),
                               "CREATE TEMP TRIGGER refuse BEFORE INSERT ON events "
                               "BEGIN SELECT RAISE(ABORT, 'refused'); END",
                               NULL, NULL, NULL), SQLITE_OK);
    req.id = 1003;
    ASSERT_TRUE(!ccr_batch_add(&b, &req, &reply));
    req.id = 1004;
    ASSERT_TRUE(!ccr_batch_add(&b, &req, &reply));
    uv_run(&loop, UV_RUN_NOWAIT);
    ASSERT_INT_EQ(told.n, 4);
    ASSERT_INT_EQ(told.status[2], 500);
    ASSERT_INT_EQ(told.status[3], 500);
    ASSERT_INT_EQ(query_int(&fx, "SELECT count(*) FROM events", NULL), stored);
    ASSERT_INT_EQ(sqlite3_exec(ccr_store_db(fx.store), "DROP TRIGGER refuse", NULL, NULL, NULL),
                  SQLITE_OK);

    /* Another connection holds the lock: the batch waits, not the loop, then commits. */
    ASSERT_INT_EQ(sqlite3_exec(fx.db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    req.id = 1005;
    ASSERT_TRUE(!ccr_batch_add(&b, &req, &reply));
    for (int i = 0; i < 5; i++) {
        uint64_t turn = ccr_mono_ns();
        uv_run(&loop, UV_RUN_NOWAIT);
        /* No turn of the loop waits for the lock itself (SQLite's would, 1 s). */
        ASSERT_TRUE(ccr_mono_ns() - turn < 500000000ull);
        nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
    }
    ASSERT_INT_EQ(told.n, 4);
    ASSERT_INT_EQ(sqlite3_exec(fx.db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    uint64_t t0 = ccr_mono_ns();
    while (told.n < 5 && ccr_mono_ns() - t0 < 5000000000ull) {
        uv_run(&loop, UV_RUN_NOWAIT);
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    ASSERT_INT_EQ(told.n, 5);
    ASSERT_INT_EQ(told.status[4], 200);

    /* A request that cannot wait (id 0) is committed at once. */
    req.id = 0;
    ASSERT_TRUE(ccr_batch_add(&b, &req, &reply));
    ASSERT_INT_EQ(reply.status, 200);
    ccr_reply_finish(&reply);
    ASSERT_INT_EQ(told.n, 6);

    ccr_batch_close(&b);
    ccr_receiver_shutdown(rx, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    ccr_recorder_finish(&rec);
    fixture_close(&fx);
    free(body);
    free(path);
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
    CCR_RUN(record_gzip_capture_matches_expected);
    CCR_RUN(record_json_capture_matches_expected);
    CCR_RUN(ingest_gzip_bomb_answers_413_early);
    CCR_RUN(ingest_bad_encodings_are_refused);
    CCR_RUN(ingest_protobuf_limits_are_enforced);
    CCR_RUN(ingest_json_answers_partial_success_in_json);
    CCR_RUN(ingest_protobuf_answers_partial_success);
    CCR_RUN(record_redelivery_is_stored_once);
    CCR_RUN(record_spans_keep_the_tree_and_session);
    CCR_RUN(ingest_garbage_answers_400_and_stores_nothing);
    CCR_RUN(batch_commits_together_and_fails_together);

    char *cmd = ccr_xasprintf("rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", tmp_dir);
    }
    free(cmd);
    return CCR_TEST_EXIT();
}
