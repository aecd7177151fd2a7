/* SPDX-License-Identifier: MIT */
/*
 * ccrun's benchmarks. Every figure is a ratio against a baseline measured in
 * the same run on the same machine, so a noisy shared machine moves both
 * sides together:
 *
 *   bench-ccrun CCRUN DATA_DIR [ingest|wrapper|history|all]
 *
 * The ingest benchmark runs `ccrun -- otlp-load ...`: the load generator, as
 * ccrun's child, reads the endpoint and token ccrun injected and posts the
 * fixture bodies over keep-alive connections, as an exporter does. It prints
 * a Markdown table on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "corpus.h"
#include "record.h"
#include "store.h"
#include "util.h"

/* Copies of the whole fixture set posted by the ingest benchmark. */
#define INGEST_COPIES 400
#define SINGLE_REQUESTS 1000
#define RAW_BATCH 100
#define WRAPPER_PAIRS 60
#define CLAUDE_PAIRS 16
#define END_OF_RUN_RUNS 20
#define HISTORY_RUNS 10000
#define HISTORY_SMALL_RUNS 200
#define EVENTS_PER_RUN 100
#define QUERY_PAIRS 15
#define DEFAULT_CLAUDE "/root/.cache/ccrun-test/claude/node_modules/.bin/claude"

static const char *load_path;
static const char *ccrun_path;
static const char *data_dir;
static char scratch[] = "/tmp/ccrun-bench-XXXXXX";
static int misses;

_Noreturn static void die(const char *fmt, ...) CCR_PRINTF(1, 2);

_Noreturn static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static double now_s(void)
{
    return (double)ccr_mono_ns() / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One table row; pass says whether the target holds (-1: no target). */
static void row(const char *what, const char *figure, const char *target, int pass)
{
    printf("| %s | %s | %s | %s |\n", what, figure, target,
           pass < 0 ? "" : pass ? "pass" : "**miss**");
    fflush(stdout);
    if (pass == 0) {
        misses++;
    }
}

/* ---- running programs ---- */

/*
 * Runs argv with stdout to /dev/null and stderr to err_path (or /dev/null),
 * extra_env added; returns the wall time in seconds and the status in *st.
 */
static double run_timed(const char *const *argv, const char *extra_env, const char *err_path,
                        int *st)
{
    double t0 = now_s();
    pid_t pid = fork();

    if (pid < 0) {
        die("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        int err = err_path ? open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : null;
        dup2(null, 0);
        dup2(null, 1);
        dup2(err, 2);
        if (extra_env != NULL) {
            putenv((char *)extra_env);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    *st = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return now_s() - t0;
}

static void must_succeed(int st, const char *what)
{
    if (st != 0) {
        die("%s failed", what);
    }
}

/* ---- ingest ---- */

struct load_result {
    size_t requests;
    size_t records;
    double secs;
    long rss_early_kib;
    long rss_end_kib;
    long hwm_kib;
    double cpu_secs;
};

static struct load_result run_ccrun_load(const char *dir, size_t copies, size_t singles)
{
    char *out = ccr_xasprintf("%s/load.out", scratch);
    char copies_s[32], singles_s[32];
    struct load_result r = {0};
    int st;

    snprintf(copies_s, sizeof(copies_s), "%zu", copies);
    snprintf(singles_s, sizeof(singles_s), "%zu", singles);
    const char *argv[] = {ccrun_path, "-q", "-C", dir, "--", load_path, data_dir, out,
                          copies_s, singles_s, NULL};
    run_timed(argv, NULL, NULL, &st);
    must_succeed(st, "ccrun with the load generator");
    FILE *f = fopen(out, "r");
    if (f == NULL || fscanf(f, "%zu %zu %lf %ld %ld %ld %lf", &r.requests, &r.records, &r.secs,
                            &r.rss_early_kib, &r.rss_end_kib, &r.hwm_kib, &r.cpu_secs) != 7) {
        die("no result from the load generator in %s", out);
    }
    fclose(f);
    free(out);
    return r;
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db;

    if (sqlite3_open(path, &db) != SQLITE_OK) {
        die("open %s", path);
    }
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    return db;
}

/* The stored rows of a history, column by column, to insert again raw. */
struct rows {
    sqlite3_value **v;
    size_t n_rows;
    int n_cols;
    char *insert_sql;
};

static void rows_load(sqlite3 *db, const char *table, struct rows *r)
{
    char *sql = ccr_xasprintf("SELECT * FROM %s ORDER BY id", table);
    sqlite3_stmt *s;
    struct ccr_buf ins = {0};

    memset(r, 0, sizeof(*r));
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        die("select from %s", table);
    }
    r->n_cols = sqlite3_column_count(s) - 1; /* without id */
    ccr_buf_printf(&ins, "INSERT INTO %s (", table);
    for (int i = 1; i <= r->n_cols; i++) {
        ccr_buf_printf(&ins, "%s%s", i > 1 ? ", " : "", sqlite3_column_name(s, i));
    }
    ccr_buf_printf(&ins, ") VALUES (");
    for (int i = 1; i <= r->n_cols; i++) {
        ccr_buf_printf(&ins, "%s?", i > 1 ? ", " : "");
    }
    ccr_buf_printf(&ins, ")");
    r->insert_sql = ccr_xstrdup(ccr_buf_cstr(&ins));
    ccr_buf_finish(&ins);
    while (sqlite3_step(s) == SQLITE_ROW) {
        r->v = ccr_xrealloc(r->v, (r->n_rows + 1) * (size_t)r->n_cols * sizeof(*r->v));
        for (int i = 0; i < r->n_cols; i++) {
            r->v[r->n_rows * (size_t)r->n_cols + (size_t)i] =
                sqlite3_value_dup(sqlite3_column_value(s, i + 1));
        }
        r->n_rows++;
    }
    sqlite3_finalize(s);
    free(sql);
}

static void rows_finish(struct rows *r)
{
    for (size_t i = 0; i < r->n_rows * (size_t)r->n_cols; i++) {
        sqlite3_value_free(r->v[i]);
    }
    free(r->v);
    free(r->insert_sql);
}

/* A fresh database with ccrun's schema and indexes, made by ccrun's own store. */
static char *fresh_db(const char *name)
{
    char *path = ccr_xasprintf("%s/%s.db", scratch, name);
    struct ccr_store *st;
    char *cause = NULL;

    unlink(path);
    if (ccr_store_open(path, false, &st, &cause) < 0) {
        die("create a history: %s", cause);
    }
    ccr_store_close(st);
    return path;
}

/* Inserts rows[from, to) with one transaction per batch rows; returns seconds. */
static double raw_insert(sqlite3 *db, const struct rows *r, size_t limit, size_t batch)
{
    sqlite3_stmt *s;
    size_t n = limit < r->n_rows ? limit : r->n_rows;

    if (sqlite3_prepare_v2(db, r->insert_sql, -1, &s, NULL) != SQLITE_OK) {
        die("prepare %s", sqlite3_errmsg(db));
    }
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        if (i % batch == 0) {
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        }
        for (int c = 0; c < r->n_cols; c++) {
            sqlite3_bind_value(s, c + 1, r->v[i * (size_t)r->n_cols + (size_t)c]);
        }
        if (sqlite3_step(s) != SQLITE_DONE) {
            die("raw insert: %s", sqlite3_errmsg(db));
        }
        sqlite3_reset(s);
        if (i % batch == batch - 1 || i == n - 1) {
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        }
    }
    double secs = now_s() - t0;
    sqlite3_finalize(s);
    return secs;
}

static int64_t count_rows(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    int64_t n = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return n;
}

/* Decoding as ccrun does it against protobuf-c's unpack alone, on the same bodies. */
static void bench_decode(const struct ccr_corpus *c)
{
    double t_unpack[5], t_decode[5];

    for (int rep = 0; rep < 5; rep++) {
        double t0 = now_s();
        for (size_t i = 0; i < c->n; i++) {
            const ProtobufCMessageDescriptor *d =
                &opentelemetry__proto__collector__v1__export_metrics_service_request__descriptor;
            if (c->v[i].signal == CCR_SIGNAL_LOGS) {
                d = &opentelemetry__proto__collector__v1__export_logs_service_request__descriptor;
            }
            ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, c->v[i].len, c->v[i].data);
            protobuf_c_message_free_unpacked(m, NULL);
        }
        t_unpack[rep] = now_s() - t0;
        t0 = now_s();
        for (size_t i = 0; i < c->n; i++) {
            struct ccr_otlp_request req;
            ccr_otlp_decode_protobuf(c->v[i].signal, c->v[i].data, c->v[i].len, &req);
            ccr_otlp_request_finish(&req);
        }
        t_decode[rep] = now_s() - t0;
    }
    double unpack = median(t_unpack, 5), decode = median(t_decode, 5);
    char fig[128];
    snprintf(fig, sizeof(fig), "%.2f× (%.0f vs %.0f MB/s)", unpack / decode,
             (double)c->bytes / decode / 1e6, (double)c->bytes / unpack / 1e6);
    row("decode vs protobuf-c unpack alone", fig, "≥ 0.7×", unpack / decode >= 0.7);
}

static void bench_ingest(void)
{
    struct ccr_templates t;
    struct ccr_corpus c = {0};
    int64_t seq = 1;
    char *dir = ccr_xasprintf("%s/ingest", scratch);
    char fig[160];

    ccr_templates_load(data_dir, &t);
    ccr_corpus_add_copies(&c, &t, 20, 1, &seq);
    ccr_templates_finish(&t);
    bench_decode(&c);
    ccr_corpus_finish(&c);

    mkdir(dir, 0700);
    struct load_result lr = run_ccrun_load(dir, INGEST_COPIES, 0);
    char *db_path = ccr_xasprintf("%s/.ccrun/history.db", dir);
    sqlite3 *db = open_db(db_path);
    int64_t stored = count_rows(db, "SELECT (SELECT count(*) FROM events) + "
                                    "(SELECT count(*) FROM metric_points)");
    if (stored != (int64_t)lr.records) {
        fprintf(stderr, "bench: %lld rows stored for %zu records sent\n", (long long)stored,
                lr.records);
        exit(1);
    }
    struct rows ev, mp;
    rows_load(db, "events", &ev);
    rows_load(db, "metric_points", &mp);
    sqlite3_close(db);

    char *raw_path = fresh_db("raw-batched");
    db = open_db(raw_path);
    double raw_secs = raw_insert(db, &ev, SIZE_MAX, RAW_BATCH) +
                      raw_insert(db, &mp, SIZE_MAX, RAW_BATCH);
    sqlite3_close(db);
    double ingest_rate = (double)lr.records / lr.secs;
    double raw_rate = (double)(ev.n_rows + mp.n_rows) / raw_secs;
    snprintf(fig, sizeof(fig), "%.2f× (%.0f vs %.0f records/s; %zu requests, %zu records)",
             ingest_rate / raw_rate, ingest_rate, raw_rate, lr.requests, lr.records);
    row("ingest over HTTP into ccrun vs raw SQLite inserts in batches of 100", fig, "≥ 0.35×",
        ingest_rate / raw_rate >= 0.35);
    /*
     * The same rows committed as ccrun commits them, one transaction per
     * request's worth: what one commit per request costs by itself.
     */
    size_t per_request = (size_t)llround((double)lr.records / (double)lr.requests);
    char *same_path = fresh_db("raw-per-request");
    db = open_db(same_path);
    double same_secs = raw_insert(db, &ev, SIZE_MAX, per_request) +
                       raw_insert(db, &mp, SIZE_MAX, per_request);
    sqlite3_close(db);
    double same_rate = (double)(ev.n_rows + mp.n_rows) / same_secs;
    snprintf(fig, sizeof(fig), "%.2f× (%.0f records/s raw in transactions of %zu)",
             ingest_rate / same_rate, same_rate, per_request);
    row("ingest vs raw inserts committed per request's worth of rows", fig, "(no target)", -1);
    free(same_path);
    snprintf(fig, sizeof(fig), "%.0f records/s (ccrun busy %.0f%% of the time, %.1f µs CPU "
             "per record)", ingest_rate, 100 * lr.cpu_secs / lr.secs,
             1e6 * lr.cpu_secs / (double)lr.records);
    row("ingest, absolute", fig, "≥ 50,000/s", ingest_rate >= 50000);
    snprintf(fig, sizeof(fig), "%.1f MiB", (double)lr.hwm_kib / 1024);
    row("ccrun peak RSS (VmHWM) under the ingest load", fig, "≤ 24 MiB",
        lr.hwm_kib > 0 && lr.hwm_kib <= 24 * 1024);
    snprintf(fig, sizeof(fig), "%.2f× (%.1f MiB after 10%% of the requests, %.1f MiB at the end)",
             (double)lr.rss_end_kib / (double)lr.rss_early_kib, (double)lr.rss_early_kib / 1024,
             (double)lr.rss_end_kib / 1024);
    row("ccrun RSS growth over the ingest run", fig, "flat (≤ 1.10×)",
        lr.rss_early_kib > 0 && lr.rss_end_kib <= lr.rss_early_kib * 11 / 10);

    /* The single-record case: every request its own transaction, as every commit in WAL. */
    struct load_result one = run_ccrun_load(dir, 0, SINGLE_REQUESTS);
    char *single_path = fresh_db("raw-single");
    db = open_db(single_path);
    double single_secs = raw_insert(db, &ev, SINGLE_REQUESTS, 1);
    sqlite3_close(db);
    double one_rate = (double)one.requests / one.secs;
    double commit_rate = (double)SINGLE_REQUESTS / single_secs;
    snprintf(fig, sizeof(fig), "%.2f× (%.0f vs %.0f per second)", one_rate / commit_rate,
             one_rate, commit_rate);
    row("1,000 single-record requests vs one WAL commit per row", fig, "≥ 0.5×",
        one_rate / commit_rate >= 0.5);

    rows_finish(&ev);
    rows_finish(&mp);
    free(single_path);
    free(raw_path);
    free(db_path);
    free(dir);
}

/* ---- wrapper overhead and end of run ---- */

/*
 * Runs a and b alternately, pairs times each, and returns the median of the
 * per-pair ratios a/b; *ms_a and *ms_b get the median times in milliseconds.
 */
static double paired_ratio(const char *const *a, const char *const *b, int pairs,
                           const char *what, double *ms_a, double *ms_b)
{
    double *ratio = ccr_xcalloc((size_t)pairs, sizeof(double));
    double *time_a = ccr_xcalloc((size_t)pairs, sizeof(double));
    double *time_b = ccr_xcalloc((size_t)pairs, sizeof(double));
    int st;

    /* One unmeasured round each, so both start with warm caches. */
    run_timed(a, NULL, NULL, &st);
    run_timed(b, NULL, NULL, &st);
    for (int i = 0; i < pairs; i++) {
        double ta, tb;
        if (i % 2 == 0) {
            ta = run_timed(a, NULL, NULL, &st);
            must_succeed(st, what);
            tb = run_timed(b, NULL, NULL, &st);
        } else {
            tb = run_timed(b, NULL, NULL, &st);
            ta = run_timed(a, NULL, NULL, &st);
            must_succeed(st, what);
        }
        must_succeed(st, what);
        ratio[i] = ta / tb;
        time_a[i] = ta * 1e3;
        time_b[i] = tb * 1e3;
    }
    double m = median(ratio, (size_t)pairs);
    *ms_a = median(time_a, (size_t)pairs);
    *ms_b = median(time_b, (size_t)pairs);
    free(ratio);
    free(time_a);
    free(time_b);
    return m;
}

static double end_of_run_ms(const char *dir)
{
    char *err = ccr_xasprintf("%s/timing.err", scratch);
    char *out = ccr_xasprintf("%s/load.out", scratch);
    const char *argv[] = {ccrun_path, "-C", dir, "--", load_path, data_dir, out, "1", "0",
                          NULL};
    double ms[END_OF_RUN_RUNS];
    int st;

    for (int i = 0; i < END_OF_RUN_RUNS; i++) {
        char line[256];
        run_timed(argv, "CCRUN_TIMING=1", err, &st);
        must_succeed(st, "ccrun with CCRUN_TIMING");
        FILE *f = fopen(err, "r");
        ms[i] = -1;
        while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
            sscanf(line, "ccrun: end of run took %lf ms", &ms[i]);
        }
        if (f != NULL) {
            fclose(f);
        }
        if (ms[i] < 0) {
            die("no timing line in %s", err);
        }
    }
    free(err);
    free(out);
    return median(ms, END_OF_RUN_RUNS);
}

static void bench_wrapper(void)
{
    char *dir = ccr_xasprintf("%s/wrapper", scratch);
    const char *claude = getenv("CLAUDE_BIN") ? getenv("CLAUDE_BIN") : DEFAULT_CLAUDE;
    char fig[128];

    mkdir(dir, 0700);
    const char *ccrun_true[] = {ccrun_path, "-C", dir, "--", "true", NULL};
    const char *env_true[] = {"env", "true", NULL};
    double ms_a, ms_b;
    double r = paired_ratio(ccrun_true, env_true, WRAPPER_PAIRS, "ccrun -- true", &ms_a, &ms_b);
    snprintf(fig, sizeof(fig), "%.2f× (median of %d pairs; %.1f vs %.1f ms)", r, WRAPPER_PAIRS,
             ms_a, ms_b);
    row("`ccrun -- true` vs `env true`", fig, "≤ 3×", r <= 3);

    if (access(claude, X_OK) != 0) {
        row("`ccrun claude --version` vs `claude --version`", "claude not installed", "≤ 1.05×",
            0);
    } else {
        const char *ccrun_claude[] = {ccrun_path, "-C", dir, "--", claude,
                                "--version", NULL};
        const char *bare_claude[] = {claude, "--version", NULL};
        r = paired_ratio(ccrun_claude, bare_claude, CLAUDE_PAIRS, "claude --version", &ms_a,
                         &ms_b);
        snprintf(fig, sizeof(fig), "%.3f× (median of %d pairs; %.0f vs %.0f ms)", r,
                 CLAUDE_PAIRS, ms_a, ms_b);
        row("`ccrun claude --version` vs `claude --version`", fig, "≤ 1.05×", r <= 1.05);
    }

    double ms = end_of_run_ms(dir);
    snprintf(fig, sizeof(fig), "%.2f ms (median of %d runs, %s)", ms, END_OF_RUN_RUNS,
             "child posted all fixtures once");
    row("end of run: child exit to ccrun exit (CCRUN_TIMING)", fig, "≤ 15 ms", ms <= 15);
    free(dir);
}

/* ---- history at scale ---- */

/* Fills a history through the real schema and mapping: runs x about 100 events. */
static void fill_history(const char *dir, int runs)
{
    char *ccrun_dir = ccr_xasprintf("%s/.ccrun", dir);
    char *path = ccr_xasprintf("%s/history.db", ccrun_dir);
    struct ccr_templates t;
    struct ccr_store *st;
    char *cause = NULL;
    int64_t seq = 1;
    size_t cursor = 0;

    mkdir(dir, 0700);
    mkdir(ccrun_dir, 0700);
    if (ccr_store_open(path, false, &st, &cause) < 0) {
        die("create a history: %s", cause);
    }
    ccr_templates_load(data_dir, &t);
    for (int run = 0; run < runs; run++) {
        struct ccr_recorder rec;
        int64_t run_id;
        size_t events = 0;
        if (ccr_store_run_start(st, "[\"claude\",\"-p\",\"bench\"]", dir, ccr_now_ms(), NULL,
                                &run_id) < 0) {
            die("add run");
        }
        ccr_recorder_init(&rec, st, run_id);
        while (events < EVENTS_PER_RUN) {
            struct ccr_template *tp = &t.v[cursor++ % t.n];
            ccr_template_rewrite(&tp->req, (uint64_t)run, &seq);
            if (ccr_record_request(&rec, &tp->req) < 0) {
                die("record");
            }
            if (tp->req.logs != NULL) {
                events += tp->records;
            }
        }
        ccr_recorder_finish(&rec);
        ccr_store_run_end(st, run_id, ccr_now_ms(), 0, 0);
    }
    ccr_templates_finish(&t);
    ccr_store_close(st);
    free(path);
    free(ccrun_dir);
}

static double median_time(const char *const *argv, int runs, const char *what)
{
    double *v = ccr_xcalloc((size_t)runs, sizeof(double));
    int st;

    run_timed(argv, NULL, NULL, &st);
    for (int i = 0; i < runs; i++) {
        v[i] = run_timed(argv, NULL, NULL, &st);
        must_succeed(st, what);
    }
    double m = median(v, (size_t)runs);
    free(v);
    return m;
}

/* The indexed query behind the summary's totals, as the sqlite3 tool runs it. */
#define LAST_SQL                                                                           \
    "SELECT count(*), total(cost_usd), sum(input_tokens), sum(output_tokens) FROM events " \
    "WHERE run_id = (SELECT max(id) FROM runs)"

/* The whole-history totals `ccrun stats` gives, as one full scan in the sqlite3 tool. */
#define STATS_SQL                                                                         \
    "SELECT count(*), total(cost_usd), sum(input_tokens), sum(output_tokens),"           \
    " sum(cache_read_tokens), sum(cache_creation_tokens), sum(duration_ms) FROM events"
#define STATS_PAIRS 5

static void bench_history(void)
{
    char *big = ccr_xasprintf("%s/history-big", scratch);
    char *small = ccr_xasprintf("%s/history-small", scratch);
    char fig[160];

    double t0 = now_s();
    fill_history(big, HISTORY_RUNS);
    double fill_secs = now_s() - t0;
    fill_history(small, HISTORY_SMALL_RUNS);

    char *db_path = ccr_xasprintf("%s/.ccrun/history.db", big);
    sqlite3 *db = open_db(db_path);
    int64_t events = count_rows(db, "SELECT count(*) FROM events");
    sqlite3_close(db);

    const char *last_big[] = {ccrun_path, "last", "-C", big, NULL};
    const char *last_small[] = {ccrun_path, "last", "-C", small, NULL};
    const char *cli_big[] = {"sqlite3", db_path, LAST_SQL, NULL};
    double ms_a, ms_b;
    double r = paired_ratio(last_big, cli_big, QUERY_PAIRS, "ccrun last", &ms_a, &ms_b);
    snprintf(fig, sizeof(fig), "%.2f× (%.1f vs %.1f ms; %d runs, %lld events, filled in %.0f s)",
             r, ms_a, ms_b, HISTORY_RUNS, (long long)events, fill_secs);
    row("`ccrun last` vs the sqlite3 tool's indexed query", fig, "≤ 3×", r <= 3);

    double t_big = median_time(last_big, QUERY_PAIRS, "ccrun last");
    double t_small = median_time(last_small, QUERY_PAIRS, "ccrun last");
    snprintf(fig, sizeof(fig), "%.2f× (%.1f vs %.1f ms)", t_big / t_small, t_big * 1e3,
             t_small * 1e3);
    row("`ccrun last` at 10,000 runs vs at 200 runs", fig, "≤ 1.5×", t_big / t_small <= 1.5);

    const char *stats_big[] = {ccrun_path, "stats", "-C", big, NULL};
    const char *cli_stats[] = {"sqlite3", db_path, STATS_SQL, NULL};
    r = paired_ratio(stats_big, cli_stats, STATS_PAIRS, "ccrun stats", &ms_a, &ms_b);
    snprintf(fig, sizeof(fig), "%.2f× (%.0f vs %.0f ms; %lld events)", r, ms_a, ms_b,
             (long long)events);
    row("`ccrun stats` over the whole history vs the sqlite3 tool's full-scan aggregate", fig,
        "≤ 1.5×", r <= 1.5);
    free(db_path);
    free(big);
    free(small);
}

static void remove_scratch(void)
{
    const char *argv[] = {"rm", "-rf", scratch, NULL};
    int st;
    run_timed(argv, NULL, NULL, &st);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench-ccrun CCRUN DATA_DIR [ingest|wrapper|history|all]\n");
        return 2;
    }
    ccrun_path = argv[1];
    data_dir = argv[2];
    const char *part = argc > 3 ? argv[3] : "all";
    /* The load generator is built next to this program. */
    char *abs_self = realpath(argv[0], NULL);
    char *load = ccr_xasprintf("%.*s/otlp-load", (int)(strrchr(abs_self, '/') - abs_self),
                               abs_self);
    load_path = load;
    if (mkdtemp(scratch) == NULL) {
        die("mkdtemp: %s", strerror(errno));
    }
    signal(SIGPIPE, SIG_IGN);
    printf("| benchmark | figure (ratio vs a baseline measured in the same run) | target | |\n");
    printf("| --- | --- | --- | --- |\n");
    if (strcmp(part, "ingest") == 0 || strcmp(part, "all") == 0) {
        bench_ingest();
    }
    if (strcmp(part, "wrapper") == 0 || strcmp(part, "all") == 0) {
        bench_wrapper();
    }
    if (strcmp(part, "history") == 0 || strcmp(part, "all") == 0) {
        bench_history();
    }
    remove_scratch();
    free(abs_self);
    free(load);
    fprintf(stderr, "bench: %d target(s) missed\n", misses);
    return 0;
}
