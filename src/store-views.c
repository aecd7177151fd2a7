/* SPDX-License-Identifier: MIT */
/*
 * The history's read-side queries for the views, and prune. Besides store.c
 * this is the only file that includes sqlite3.h (through store-private.h).
 */
#include "store-views.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store-private.h"
#include "util.h"

/* How many matching sessions an ambiguous prefix lists. */
#define CCR_AMBIGUOUS_SHOWN 3

static int query_failed(sqlite3 *db, const char *what)
{
    ccr_log_error("store", "%s: %s", what, sqlite3_errmsg(db));
    return -EIO;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        query_failed(db, "prepare view query");
        return NULL;
    }
    return s;
}

static char *col_str(sqlite3_stmt *s, int i)
{
    const unsigned char *v = sqlite3_column_text(s, i);
    return v != NULL ? ccr_xstrdup((const char *)v) : NULL;
}

static int64_t col_int(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? CCR_NONE : sqlite3_column_int64(s, i);
}

static double col_double(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

/*
 * The lowest run id started at or after since_ms. Run ids grow with their
 * start time, so "run_id >= this" selects the runs through the (run_id, …)
 * indexes of events and metric points instead of a join.
 */
static int first_run_since(sqlite3 *db, int64_t since_ms, int64_t *run_id)
{
    sqlite3_stmt *s;
    int rc;

    *run_id = 0;
    if (since_ms == CCR_NONE) {
        return 0;
    }
    s = prepare(db, "SELECT coalesce(min(id), (SELECT coalesce(max(id), 0) + 1 FROM runs))"
                    " FROM runs WHERE started_ms >= ?1");
    if (s == NULL) {
        return -EIO;
    }
    sqlite3_bind_int64(s, 1, since_ms);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *run_id = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : query_failed(db, "find first run");
}

/* Each total is a range scan of the (run_id, name) index for one run. */
#define RUNS_SQL                                                                        \
    "SELECT r.id, r.command, r.started_ms, r.ended_ms, r.exit_code, r.signal,"          \
    " (SELECT json_group_array(session_id) FROM (SELECT session_id FROM sessions"      \
    "   WHERE run_id = r.id ORDER BY first_ns, session_id)),"                          \
    " (SELECT count(*) FROM sessions WHERE run_id = r.id),"                            \
    " (SELECT total(coalesce(priced_cost_usd, cost_usd)) FROM events" \
    "  WHERE run_id = r.id AND name = 'api_request')," \
    " (SELECT count(*) FROM events WHERE run_id = r.id AND name = 'api_request'),"     \
    " (SELECT count(*) FROM events WHERE run_id = r.id AND name = 'api_error'),"       \
    " (SELECT count(*) FROM events WHERE run_id = r.id AND name = 'tool_result'),"     \
    " (SELECT count(*) FROM events WHERE run_id = r.id AND name = 'tool_result'"       \
    "   AND success = 0)"                                                              \
    " FROM runs r WHERE r.id >= ?1 ORDER BY r.id DESC LIMIT ?2"

static void read_run_row(sqlite3_stmt *s, struct ccr_run_row *r)
{
    r->run_id = sqlite3_column_int64(s, 0);
    r->command_json = col_str(s, 1);
    r->started_ms = col_int(s, 2);
    r->ended_ms = col_int(s, 3);
    r->exit_code = col_int(s, 4);
    r->signal = col_int(s, 5);
    r->sessions_json = col_str(s, 6);
    r->n_sessions = sqlite3_column_int64(s, 7);
    r->cost_usd = sqlite3_column_double(s, 8);
    r->api_requests = sqlite3_column_int64(s, 9);
    r->api_errors = sqlite3_column_int64(s, 10);
    r->tool_calls = sqlite3_column_int64(s, 11);
    r->tool_failures = sqlite3_column_int64(s, 12);
}

int ccr_store_runs(struct ccr_store *st, int64_t since_ms, int64_t limit,
                   struct ccr_run_row **rows, size_t *n)
{
    sqlite3 *db = ccr_store_db(st);
    sqlite3_stmt *s;
    int64_t first;
    int rc;

    *rows = NULL;
    *n = 0;
    if (first_run_since(db, since_ms, &first) < 0 || (s = prepare(db, RUNS_SQL)) == NULL) {
        return -EIO;
    }
    sqlite3_bind_int64(s, 1, first);
    sqlite3_bind_int64(s, 2, limit > 0 ? limit : -1);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *rows = ccr_xrealloc(*rows, (*n + 1) * sizeof(**rows));
        read_run_row(s, &(*rows)[(*n)++]);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : query_failed(db, "list runs");
}

void ccr_run_rows_free(struct ccr_run_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].command_json);
        free(rows[i].sessions_json);
    }
    free(rows);
}

static bool all_digits(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
    }
    return true;
}

static int resolve_run(sqlite3 *db, const char *arg, struct ccr_target *t)
{
    sqlite3_stmt *s = prepare(db, "SELECT id FROM runs WHERE id = ?1");
    int rc;

    if (s == NULL) {
        return -EIO;
    }
    sqlite3_bind_int64(s, 1, strtoll(arg, NULL, 10));
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        t->run_id = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW) {
        return 0;
    }
    return rc == SQLITE_DONE ? -ENOENT : query_failed(db, "find run");
}

/*
 * Distinct sessions whose id starts with arg, through the session_id index:
 * every id with that prefix sorts between arg and arg followed by 0xff,
 * a byte no UTF-8 text contains.
 */
#define SESSION_PREFIX_SQL                                                       \
    "SELECT session_id, min(run_id) FROM sessions"                               \
    " WHERE session_id >= ?1 AND session_id < ?2 GROUP BY session_id"            \
    " ORDER BY session_id LIMIT " CCR_STR(CCR_AMBIGUOUS_SHOWN)
#define CCR_STR2(x) #x
#define CCR_STR(x) CCR_STR2(x)

static int resolve_session(sqlite3 *db, const char *arg, struct ccr_target *t, char **cause)
{
    sqlite3_stmt *s = prepare(db, SESSION_PREFIX_SQL);
    char *upper = ccr_xasprintf("%s\xff", arg);
    struct ccr_buf names = {0};
    int found = 0;
    int rc;

    if (s == NULL) {
        free(upper);
        return -EIO;
    }
    sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, upper, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (found++ == 0) {
            t->session_id = col_str(s, 0);
            t->run_id = sqlite3_column_int64(s, 1);
        }
        ccr_buf_printf(&names, "%s%s", found > 1 ? ", " : "", sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    free(upper);
    if (rc != SQLITE_DONE) {
        rc = query_failed(db, "find session");
    } else if (found == 0) {
        rc = -ENOENT;
    } else if (found > 1) {
        *cause = ccr_xasprintf("%s matches several sessions: %s%s", arg, ccr_buf_cstr(&names),
                               found >= CCR_AMBIGUOUS_SHOWN ? ", ..." : "");
        rc = -EEXIST;
    } else {
        rc = 0;
    }
    ccr_buf_finish(&names);
    return rc;
}

int ccr_store_resolve(struct ccr_store *st, const char *arg, struct ccr_target *t,
                      char **cause)
{
    sqlite3 *db = ccr_store_db(st);
    int rc = -ENOENT;

    memset(t, 0, sizeof(*t));
    /* A number is a run; failing that it may still be the start of a session id. */
    if (all_digits(arg) && strlen(arg) < 19) {
        rc = resolve_run(db, arg, t);
    }
    if (rc == -ENOENT && arg[0] != '\0') {
        rc = resolve_session(db, arg, t, cause);
    }
    if (rc < 0) {
        ccr_target_finish(t);
    }
    return rc;
}

void ccr_target_finish(struct ccr_target *t)
{
    free(t->session_id);
    memset(t, 0, sizeof(*t));
}

#define EVENT_COLUMNS                                                                   \
    "e.run_id, r.started_ms, e.name, e.time_ns, e.session_id, e.seq, e.prompt_id,"     \
    " e.model, e.query_source, coalesce(e.priced_cost_usd, e.cost_usd), e.input_tokens,"  \
    " e.output_tokens,"                                                                 \
    " e.cache_read_tokens, e.cache_creation_tokens, e.duration_ms, e.tool_name,"       \
    " e.success, e.decision, e.source, e.error, e.status_code, e.prompt_length,"       \
    " e.prompt, json_extract(e.attrs, '$.command_name'), CASE WHEN ?9 THEN e.attrs END,"    \
    " json_extract(e.attrs, '$.prompt_hash')"

/*
 * Timeline order: a prompt's events stay together, prompts follow each other
 * by their first event, events without a prompt id form one group of their
 * own (ordered by its first event too).
 */
#define TIMELINE_SQL                                                                    \
    "SELECT " EVENT_COLUMNS " FROM ("                                                   \
    " SELECT *, min(time_ns) OVER (PARTITION BY run_id, prompt_id) AS group_ns"        \
    " FROM events WHERE run_id = ?1 AND ?2 IS NULL"                                    \
    " UNION ALL"                                                                       \
    " SELECT *, min(time_ns) OVER (PARTITION BY run_id, prompt_id) AS group_ns"        \
    " FROM events WHERE ?2 IS NOT NULL AND session_id = ?2"                            \
    "  AND run_id IN (SELECT run_id FROM sessions WHERE session_id = ?2)"              \
    ") e JOIN runs r ON r.id = e.run_id"                                               \
    " ORDER BY e.run_id, e.group_ns, e.prompt_id, e.time_ns, e.seq, e.id"

static void read_event(sqlite3_stmt *s, struct ccr_event *e)
{
    e->run_id = sqlite3_column_int64(s, 0);
    e->run_started_ms = col_int(s, 1);
    e->name = (char *)sqlite3_column_text(s, 2);
    e->time_ns = sqlite3_column_int64(s, 3);
    e->session_id = (char *)sqlite3_column_text(s, 4);
    e->seq = col_int(s, 5);
    e->prompt_id = (char *)sqlite3_column_text(s, 6);
    e->model = (char *)sqlite3_column_text(s, 7);
    e->query_source = (char *)sqlite3_column_text(s, 8);
    e->cost_usd = col_double(s, 9);
    for (int i = 0; i < 4; i++) {
        e->tokens[i] = col_int(s, 10 + i);
    }
    e->duration_ms = col_int(s, 14);
    e->tool_name = (char *)sqlite3_column_text(s, 15);
    e->success = col_int(s, 16);
    e->decision = (char *)sqlite3_column_text(s, 17);
    e->source = (char *)sqlite3_column_text(s, 18);
    e->error = (char *)sqlite3_column_text(s, 19);
    e->status_code = col_int(s, 20);
    e->prompt_length = col_int(s, 21);
    e->prompt = (char *)sqlite3_column_text(s, 22);
    e->command_name = (char *)sqlite3_column_text(s, 23);
    e->attrs_json = (char *)sqlite3_column_text(s, 24);
    e->prompt_hash = (char *)sqlite3_column_text(s, 25);
}

/* Steps s to the end, handing every row to cb as an event. */
static int walk_events(sqlite3 *db, sqlite3_stmt *s, ccr_event_cb cb, void *ctx)
{
    struct ccr_event e;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        read_event(s, &e);
        int ret = cb(&e, ctx);
        if (ret < 0) {
            sqlite3_finalize(s);
            return ret;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : query_failed(db, "read events");
}

int ccr_store_events(struct ccr_store *st, const struct ccr_target *t, bool with_attrs,
                     ccr_event_cb cb, void *ctx)
{
    sqlite3 *db = ccr_store_db(st);
    sqlite3_stmt *s = prepare(db, TIMELINE_SQL);

    if (s == NULL) {
        return -EIO;
    }
    sqlite3_bind_int64(s, 1, t->run_id);
    if (t->session_id != NULL) {
        sqlite3_bind_text(s, 2, t->session_id, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int(s, 9, with_attrs);
    return walk_events(db, s, cb, ctx);
}

int ccr_store_events_export(struct ccr_store *st, const int64_t *run_ids, size_t n_runs,
                            ccr_event_cb cb, void *ctx)
{
    sqlite3 *db = ccr_store_db(st);
    struct ccr_buf sql = {0};
    sqlite3_stmt *s;

    /* Event ids grow with arrival, so id order is the order they were received. */
    ccr_buf_printf(&sql, "SELECT " EVENT_COLUMNS " FROM events e JOIN runs r ON r.id = e.run_id");
    for (size_t i = 0; i < n_runs; i++) {
        ccr_buf_printf(&sql, "%s%lld", i == 0 ? " WHERE e.run_id IN (" : ", ",
                       (long long)run_ids[i]);
    }
    ccr_buf_printf(&sql, "%s ORDER BY e.run_id, e.time_ns, e.seq, e.id", n_runs ? ")" : "");
    s = prepare(db, ccr_buf_cstr(&sql));
    ccr_buf_finish(&sql);
    if (s == NULL) {
        return -EIO;
    }
    sqlite3_bind_int(s, 9, 1);
    return walk_events(db, s, cb, ctx);
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? ccr_xstrdup(s) : NULL;
}

void ccr_event_copy(struct ccr_event *dst, const struct ccr_event *src)
{
    *dst = *src;
    dst->name = dup_or_null(src->name);
    dst->session_id = dup_or_null(src->session_id);
    dst->prompt_id = dup_or_null(src->prompt_id);
    dst->model = dup_or_null(src->model);
    dst->query_source = dup_or_null(src->query_source);
    dst->tool_name = dup_or_null(src->tool_name);
    dst->decision = dup_or_null(src->decision);
    dst->source = dup_or_null(src->source);
    dst->error = dup_or_null(src->error);
    dst->prompt = dup_or_null(src->prompt);
    dst->command_name = dup_or_null(src->command_name);
    dst->attrs_json = dup_or_null(src->attrs_json);
    dst->prompt_hash = dup_or_null(src->prompt_hash);
}

void ccr_event_finish(struct ccr_event *e)
{
    free(e->name);
    free(e->session_id);
    free(e->prompt_id);
    free(e->model);
    free(e->query_source);
    free(e->tool_name);
    free(e->decision);
    free(e->source);
    free(e->error);
    free(e->prompt);
    free(e->command_name);
    free(e->attrs_json);
    free(e->prompt_hash);
    memset(e, 0, sizeof(*e));
}

/* The span names a timeline shows; everything else in a trace is left in the table. */
#define SPAN_NAMES                                                                      \
    "'claude_code.interaction', 'claude_code.llm_request', 'claude_code.tool',"         \
    " 'claude_code.tool.blocked_on_user', 'claude_code.tool.execution'"

/*
 * Claude Code sends success as a boolean, which json_extract reads as 1 or
 * 0; the strings are accepted too, as other exporters write them.
 */
#define SPAN_COLUMNS                                                                    \
    "run_id, trace_id, span_id, parent_span_id, name, session_id, start_ns, end_ns,"    \
    " coalesce(json_extract(attrs, '$.duration_ms'),"                                   \
    "  json_extract(attrs, '$.\"interaction.duration_ms\"')),"                         \
    " json_extract(attrs, '$.\"interaction.sequence\"'), json_extract(attrs, '$.user_prompt'),"  \
    " json_extract(attrs, '$.user_prompt_hash'), json_extract(attrs, '$.user_prompt_length'),"   \
    " json_extract(attrs, '$.model'), json_extract(attrs, '$.\"llm_request.context\"'),"        \
    " json_extract(attrs, '$.attempt'),"                                                \
    " CASE WHEN json_extract(attrs, '$.success') IN (1, 'true') THEN 1"                 \
    "  WHEN json_extract(attrs, '$.success') IN (0, 'false') THEN 0 END,"               \
    " json_extract(attrs, '$.ttft_ms'), json_extract(attrs, '$.stop_reason'),"          \
    " json_extract(attrs, '$.input_tokens'), json_extract(attrs, '$.output_tokens'),"   \
    " json_extract(attrs, '$.cache_read_tokens'),"                                      \
    " json_extract(attrs, '$.cache_creation_tokens'), json_extract(attrs, '$.tool_name')," \
    " json_extract(attrs, '$.tool_use_id'), json_extract(attrs, '$.decision'),"         \
    " json_extract(attrs, '$.source')"

/* Both branches are range scans of the (run_id, name) index, as for the timeline's events. */
#define SPANS_SQL                                                                       \
    "SELECT " SPAN_COLUMNS " FROM spans WHERE run_id = ?1 AND ?2 IS NULL"               \
    " AND name IN (" SPAN_NAMES ")"                                                     \
    " UNION ALL"                                                                        \
    " SELECT " SPAN_COLUMNS " FROM spans WHERE ?2 IS NOT NULL AND session_id = ?2"      \
    " AND run_id IN (SELECT run_id FROM sessions WHERE session_id = ?2)"                \
    " AND name IN (" SPAN_NAMES ")"                                                     \
    " ORDER BY 1, 2, 7"

static void read_span(sqlite3_stmt *s, struct ccr_span *sp)
{
    sp->run_id = sqlite3_column_int64(s, 0);
    sp->trace_id = col_str(s, 1);
    sp->span_id = col_str(s, 2);
    sp->parent_span_id = col_str(s, 3);
    sp->name = col_str(s, 4);
    sp->session_id = col_str(s, 5);
    sp->start_ns = sqlite3_column_int64(s, 6);
    sp->end_ns = sqlite3_column_int64(s, 7);
    sp->duration_ms = col_int(s, 8);
    sp->sequence = col_int(s, 9);
    sp->prompt = col_str(s, 10);
    sp->prompt_hash = col_str(s, 11);
    sp->prompt_length = col_int(s, 12);
    sp->model = col_str(s, 13);
    sp->context = col_str(s, 14);
    sp->attempt = col_int(s, 15);
    sp->success = col_int(s, 16);
    sp->ttft_ms = col_int(s, 17);
    sp->stop_reason = col_str(s, 18);
    for (int i = 0; i < 4; i++) {
        sp->tokens[i] = col_int(s, 19 + i);
    }
    sp->tool_name = col_str(s, 23);
    sp->tool_use_id = col_str(s, 24);
    sp->decision = col_str(s, 25);
    sp->source = col_str(s, 26);
}

/* A history written before spans were stored has no table for them. */
static bool has_spans_table(sqlite3 *db)
{
    sqlite3_stmt *s = prepare(db, "SELECT 1 FROM sqlite_master WHERE type = 'table'"
                                  " AND name = 'spans'");
    bool found = s != NULL && sqlite3_step(s) == SQLITE_ROW;

    sqlite3_finalize(s);
    return found;
}

int ccr_store_spans(struct ccr_store *st, const struct ccr_target *t, struct ccr_span **spans,
                    size_t *n)
{
    sqlite3 *db = ccr_store_db(st);
    size_t cap = 0;
    sqlite3_stmt *s;
    int rc;

    *spans = NULL;
    *n = 0;
    if (!has_spans_table(db)) {
        return 0;
    }
    if ((s = prepare(db, SPANS_SQL)) == NULL) {
        return -EIO;
    }
    sqlite3_bind_int64(s, 1, t->run_id);
    if (t->session_id != NULL) {
        sqlite3_bind_text(s, 2, t->session_id, -1, SQLITE_STATIC);
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *spans = ccr_xrealloc(*spans, cap * sizeof(**spans));
        }
        read_span(s, &(*spans)[(*n)++]);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        ccr_spans_free(*spans, *n);
        *spans = NULL;
        *n = 0;
        return query_failed(db, "read spans");
    }
    return 0;
}

void ccr_spans_free(struct ccr_span *spans, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct ccr_span *sp = &spans[i];
        free(sp->trace_id);
        free(sp->span_id);
        free(sp->parent_span_id);
        free(sp->name);
        free(sp->session_id);
        free(sp->prompt);
        free(sp->prompt_hash);
        free(sp->model);
        free(sp->context);
        free(sp->stop_reason);
        free(sp->tool_name);
        free(sp->tool_use_id);
        free(sp->decision);
        free(sp->source);
    }
    free(spans);
}

/* Delta points add up; a cumulative series repeats its running total. */
#define METRIC_COST_SQL                                                                  \
    "SELECT count(*), total(value) FROM ("                                              \
    " SELECT value FROM metric_points"                                                  \
    "  WHERE run_id = ?1 AND name = 'claude_code.cost.usage' AND temporality <> 2"      \
    " UNION ALL"                                                                        \
    " SELECT value FROM (SELECT value, max(time_ns) FROM metric_points"                 \
    "  WHERE run_id = ?1 AND name = 'claude_code.cost.usage' AND temporality = 2"       \
    "  GROUP BY session_id, attrs))"

int ccr_store_metric_cost(struct ccr_store *st, int64_t run_id, double *usd)
{
    sqlite3 *db = ccr_store_db(st);
    sqlite3_stmt *s = prepare(db, METRIC_COST_SQL);
    int rc;

    if (s == NULL) {
        return -EIO;
    }
    sqlite3_bind_int64(s, 1, run_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *usd = sqlite3_column_double(s, 1);
        rc = sqlite3_column_int64(s, 0) > 0 ? 0 : -ENOENT;
    } else {
        rc = query_failed(db, "read cost metric");
    }
    sqlite3_finalize(s);
    return rc;
}

/*
 * The stats are added up here rather than by a GROUP BY: SQLite would sort
 * every event to group them, while walking the (run_id, name) index and
 * summing into a small hash table takes one pass, a third of the time on a
 * million events. Rows come in run order, so counting a group's runs only
 * needs the last run each group saw.
 */
#define STATS_SQL                                                                        \
    "SELECT run_id, name, time_ns, model, tool_name, session_id,"                        \
    " coalesce(priced_cost_usd, cost_usd), input_tokens,"                                \
    " output_tokens, cache_read_tokens, cache_creation_tokens, success, duration_ms,"    \
    " cost_usd FROM events WHERE run_id >= ?1 AND name IN (%s) ORDER BY run_id"

/* Which events a grouping counts: models only have requests, tools only results. */
static const char *const stats_events[] = {
    [CCR_STATS_TOTAL] = "'api_request', 'api_error', 'tool_result'",
    [CCR_STATS_DAY] = "'api_request', 'api_error', 'tool_result'",
    [CCR_STATS_MODEL] = "'api_request', 'api_error'",
    [CCR_STATS_TOOL] = "'tool_result'",
    [CCR_STATS_SESSION] = "'api_request', 'api_error', 'tool_result'",
};

struct stats_group {
    struct ccr_stats_row row;
    int64_t last_run;
};

struct stats_acc {
    struct stats_group *groups;
    size_t n;
    size_t cap;
    size_t *slots; /* open addressing: index + 1 into groups, 0 when free */
    size_t n_slots;
    struct stats_group total;
    int64_t day_start; /* the local day the last time fell in: [start, end) seconds */
    int64_t day_end;
    char day[16];
    const struct ccr_prices *reprice; /* today's table, or NULL for the recorded costs */
};

static uint64_t hash_key(const char *key)
{
    uint64_t h = 1469598103934665603ULL;

    for (; key != NULL && *key != '\0'; key++) {
        h = (h ^ (unsigned char)*key) * 1099511628211ULL;
    }
    return h;
}

static bool same_key(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static void rehash(struct stats_acc *a)
{
    free(a->slots);
    a->n_slots = a->n_slots ? a->n_slots * 2 : 64;
    a->slots = ccr_xcalloc(a->n_slots, sizeof(*a->slots));
    for (size_t i = 0; i < a->n; i++) {
        size_t j = hash_key(a->groups[i].row.key) & (a->n_slots - 1);
        while (a->slots[j] != 0) {
            j = (j + 1) & (a->n_slots - 1);
        }
        a->slots[j] = i + 1;
    }
}

/* The group of key, added when new. */
static struct stats_group *find_group(struct stats_acc *a, const char *key)
{
    if (2 * (a->n + 1) > a->n_slots) {
        rehash(a);
    }
    size_t j = hash_key(key) & (a->n_slots - 1);
    for (; a->slots[j] != 0; j = (j + 1) & (a->n_slots - 1)) {
        if (same_key(a->groups[a->slots[j] - 1].row.key, key)) {
            return &a->groups[a->slots[j] - 1];
        }
    }
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->groups = ccr_xrealloc(a->groups, a->cap * sizeof(*a->groups));
    }
    struct stats_group *g = &a->groups[a->n];
    memset(g, 0, sizeof(*g));
    g->row.key = key != NULL ? ccr_xstrdup(key) : NULL;
    g->last_run = CCR_NONE;
    a->slots[j] = ++a->n;
    return g;
}

/*
 * The local calendar day of a time. localtime_r and mktime run only when the
 * time leaves the day found last, so a million events cost a few hundred calls,
 * and mktime places each midnight correctly across daylight saving changes.
 */
static const char *local_day(struct stats_acc *a, int64_t time_ns)
{
    int64_t secs = time_ns / 1000000000;
    time_t t = (time_t)secs;
    struct tm tm;

    if (secs >= a->day_start && secs < a->day_end) {
        return a->day;
    }
    localtime_r(&t, &tm);
    strftime(a->day, sizeof(a->day), "%Y-%m-%d", &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    a->day_start = (int64_t)mktime(&tm);
    tm.tm_mday++;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    a->day_end = (int64_t)mktime(&tm);
    if (a->day_end <= secs || a->day_start > secs) {
        /* A zone whose midnight does not exist that day: do not cache. */
        a->day_start = a->day_end = 0;
    }
    return a->day;
}

/*
 * A request's cost: as recorded, or re-priced with today's table, where a
 * model without an entry keeps the cost Claude Code reported.
 */
static double request_cost(const struct stats_acc *a, sqlite3_stmt *s)
{
    const struct ccr_price *p;
    int64_t tokens[4];

    if (a->reprice == NULL) {
        return sqlite3_column_double(s, 6);
    }
    p = ccr_prices_find(a->reprice, (const char *)sqlite3_column_text(s, 3));
    if (p == NULL) {
        return sqlite3_column_double(s, 13);
    }
    for (int i = 0; i < 4; i++) {
        tokens[i] = sqlite3_column_int64(s, 7 + i);
    }
    return ccr_price_cost(p, tokens);
}

static void add_event(const struct stats_acc *a, struct stats_group *g, sqlite3_stmt *s,
                      int64_t run_id, const char *name)
{
    struct ccr_stats_row *r = &g->row;

    if (g->last_run != run_id) {
        g->last_run = run_id;
        r->runs++;
    }
    if (strcmp(name, "api_request") == 0) {
        r->api_requests++;
        r->cost_usd += request_cost(a, s);
        for (int i = 0; i < 4; i++) {
            r->tokens[i] += sqlite3_column_int64(s, 7 + i);
        }
    } else if (strcmp(name, "api_error") == 0) {
        r->api_errors++;
    } else {
        int64_t ok = col_int(s, 11);
        r->tool_calls++;
        r->tool_succeeded += ok == 1;
        r->tool_failed += ok == 0;
        r->tool_duration_ms += sqlite3_column_int64(s, 12);
    }
}

static void add_row(struct stats_acc *a, sqlite3_stmt *s, enum ccr_stats_by by)
{
    int64_t run_id = sqlite3_column_int64(s, 0);
    const char *name = (const char *)sqlite3_column_text(s, 1);
    const char *key = NULL;

    if (name == NULL) {
        return;
    }
    add_event(a, &a->total, s, run_id, name);
    if (by == CCR_STATS_TOTAL) {
        return;
    }
    if (by == CCR_STATS_DAY) {
        key = local_day(a, sqlite3_column_int64(s, 2));
    } else {
        key = (const char *)sqlite3_column_text(s, by == CCR_STATS_MODEL  ? 3
                                                   : by == CCR_STATS_TOOL ? 4
                                                                          : 5);
    }
    add_event(a, find_group(a, key), s, run_id, name);
}

static int cmp_rows(const void *x, const void *y)
{
    const char *a = ((const struct ccr_stats_row *)x)->key;
    const char *b = ((const struct ccr_stats_row *)y)->key;

    if (a == NULL || b == NULL) {
        return (a == NULL) - (b == NULL);
    }
    return strcmp(a, b);
}

int ccr_store_stats(struct ccr_store *st, int64_t since_ms, enum ccr_stats_by by,
                    const struct ccr_prices *reprice, struct ccr_stats_row **rows, size_t *n,
                    struct ccr_stats_row *total)
{
    sqlite3 *db = ccr_store_db(st);
    struct stats_acc a = {.total.last_run = CCR_NONE, .reprice = reprice};
    sqlite3_stmt *s;
    int64_t first;
    int rc;

    *rows = NULL;
    *n = 0;
    memset(total, 0, sizeof(*total));
    if (first_run_since(db, since_ms, &first) < 0) {
        return -EIO;
    }
    char *sql = ccr_xasprintf(STATS_SQL, stats_events[by]);
    s = prepare(db, sql);
    free(sql);
    if (s == NULL) {
        return -EIO;
    }
    sqlite3_bind_int64(s, 1, first);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        add_row(&a, s, by);
    }
    sqlite3_finalize(s);
    free(a.slots);
    *rows = ccr_xcalloc(a.n + 1, sizeof(**rows));
    for (size_t i = 0; i < a.n; i++) {
        (*rows)[i] = a.groups[i].row;
    }
    *n = a.n;
    free(a.groups);
    qsort(*rows, *n, sizeof(**rows), cmp_rows);
    *total = a.total.row;
    return rc == SQLITE_DONE ? 0 : query_failed(db, "compute stats");
}

void ccr_stats_rows_free(struct ccr_stats_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].key);
    }
    free(rows);
}

static int64_t db_bytes(sqlite3 *db)
{
    sqlite3_stmt *s = prepare(db, "SELECT page_count * page_size FROM pragma_page_count(),"
                                  " pragma_page_size()");
    int64_t bytes = 0;

    if (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
        bytes = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return bytes;
}

/* Runs one statement of the prune and adds the rows it changed to *count. */
static int prune_step(sqlite3 *db, const char *sql, int64_t a, int64_t b, int64_t *count)
{
    sqlite3_stmt *s = prepare(db, sql);
    int rc;

    if (s == NULL) {
        return -EIO;
    }
    sqlite3_bind_int64(s, 1, a);
    sqlite3_bind_int64(s, 2, b);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        return query_failed(db, "prune");
    }
    if (count != NULL) {
        *count += sqlite3_changes(db);
    }
    return 0;
}

/*
 * ?1 is the age cut (runs started before it go), ?2 how many of the newest
 * runs stay. A run without an end that started within the last day may be
 * another ccrun still recording, so it stays whatever the limits say.
 */
#define PRUNE_PICK_SQL                                                                   \
    "INSERT INTO temp.prune_runs SELECT id FROM runs"                                   \
    " WHERE (started_ms < ?1 OR id NOT IN (SELECT id FROM runs ORDER BY id DESC LIMIT ?2))" \
    " AND (ended_ms IS NOT NULL"                                                        \
    "      OR started_ms < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 86400000)"

static const struct {
    const char *sql;
    size_t counter; /* offset of the count in ccr_prune_result, or SIZE_MAX */
} prune_steps[] = {
    {"CREATE TEMP TABLE IF NOT EXISTS prune_runs (id INTEGER PRIMARY KEY)", SIZE_MAX},
    {"DELETE FROM temp.prune_runs", SIZE_MAX},
    {PRUNE_PICK_SQL, SIZE_MAX},
    {"DELETE FROM events WHERE run_id IN temp.prune_runs",
     offsetof(struct ccr_prune_result, events)},
    {"DELETE FROM metric_points WHERE run_id IN temp.prune_runs",
     offsetof(struct ccr_prune_result, metric_points)},
    /* Run ids can be given again once the newest runs are gone: no span may outlive its run. */
    {"DELETE FROM spans WHERE run_id IN temp.prune_runs", SIZE_MAX},
    {"DELETE FROM sessions WHERE run_id IN temp.prune_runs",
     offsetof(struct ccr_prune_result, sessions)},
    {"DELETE FROM runs WHERE id IN temp.prune_runs", offsetof(struct ccr_prune_result, runs)},
    {"DELETE FROM resources WHERE id NOT IN (SELECT resource_id FROM events"
     " WHERE resource_id IS NOT NULL UNION SELECT resource_id FROM metric_points"
     " WHERE resource_id IS NOT NULL UNION SELECT resource_id FROM spans"
     " WHERE resource_id IS NOT NULL)",
     SIZE_MAX},
    {"DROP TABLE temp.prune_runs", SIZE_MAX},
};

int ccr_store_prune(struct ccr_store *st, int64_t older_than_ms, int64_t keep,
                    struct ccr_prune_result *res)
{
    sqlite3 *db = ccr_store_db(st);
    int64_t age_cut = older_than_ms == CCR_NONE ? INT64_MIN : older_than_ms;
    int64_t keep_n = keep == CCR_NONE ? -1 : keep;

    memset(res, 0, sizeof(*res));
    res->bytes_before = db_bytes(db);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        return query_failed(db, "lock history for prune");
    }
    for (size_t i = 0; i < sizeof(prune_steps) / sizeof(prune_steps[0]); i++) {
        int64_t *count = prune_steps[i].counter == SIZE_MAX
                             ? NULL
                             : (int64_t *)(void *)((char *)res + prune_steps[i].counter);
        if (prune_step(db, prune_steps[i].sql, age_cut, keep_n, count) < 0) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            memset(res, 0, sizeof(*res));
            return -EIO;
        }
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return query_failed(db, "commit prune");
    }
    /* The deletions are committed; a failed vacuum only leaves the file large. */
    if (sqlite3_exec(db, "VACUUM", NULL, NULL, NULL) != SQLITE_OK) {
        query_failed(db, "vacuum");
    }
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    res->bytes_after = db_bytes(db);
    return 0;
}

/* The four token sums of a run's API requests: one range scan of the (run_id, name) index. */
int ccr_store_run_tokens(struct ccr_store *st, int64_t run_id, int64_t tokens[4])
{
    sqlite3 *db = ccr_store_db(st);
    sqlite3_stmt *s = prepare(db, "SELECT total(input_tokens), total(output_tokens),"
                                  " total(cache_read_tokens), total(cache_creation_tokens)"
                                  " FROM events WHERE run_id = ?1 AND name = 'api_request'");
    int rc;

    if (s == NULL) {
        return -EIO;
    }
    sqlite3_bind_int64(s, 1, run_id);
    rc = sqlite3_step(s);
    for (int i = 0; i < 4; i++) {
        tokens[i] = rc == SQLITE_ROW ? (int64_t)sqlite3_column_double(s, i) : 0;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : query_failed(db, "sum run tokens");
}

/* How many events a run has and the newest one's id: changes whenever an event arrives. */
int ccr_store_run_events_version(struct ccr_store *st, int64_t run_id, int64_t *count,
                                 int64_t *max_id)
{
    sqlite3 *db = ccr_store_db(st);
    sqlite3_stmt *s = prepare(db, "SELECT count(*), coalesce(max(id), 0) FROM events"
                                  " WHERE run_id = ?1");
    int rc;

    if (s == NULL) {
        return -EIO;
    }
    sqlite3_bind_int64(s, 1, run_id);
    rc = sqlite3_step(s);
    *count = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    *max_id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 1) : 0;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : query_failed(db, "count run events");
}
