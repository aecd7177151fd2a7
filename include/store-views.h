/* SPDX-License-Identifier: MIT */
/*
 * Read-side queries over the history for the views (sessions, show, stats,
 * export) and the one write-side maintenance job, prune. Results are plain
 * structs owned by the caller; every string in them is allocated.
 */
#ifndef CCR_STORE_VIEWS_H
#define CCR_STORE_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "price.h"
#include "store.h"

/* One line of `ccrun sessions`: a run and its totals. */
struct ccr_run_row {
    int64_t run_id;
    char *command_json;  /* JSON array of the argument strings */
    char *sessions_json; /* JSON array of session ids, in order of appearance */
    int64_t started_ms;
    int64_t ended_ms; /* CCR_NONE while running */
    int64_t exit_code; /* CCR_NONE when unknown or killed */
    int64_t signal;    /* CCR_NONE or 0 when not killed */
    int64_t n_sessions;
    double cost_usd;
    int64_t api_requests;
    int64_t api_errors;
    int64_t tool_calls;
    int64_t tool_failures;
};

/*
 * The newest runs first: those started at or after since_ms (CCR_NONE for
 * all), at most limit of them (0 for no limit). *rows is allocated, free it
 * with ccr_run_rows_free. Returns 0 or -EIO.
 */
int ccr_store_runs(struct ccr_store *st, int64_t since_ms, int64_t limit,
                   struct ccr_run_row **rows, size_t *n);
void ccr_run_rows_free(struct ccr_run_row *rows, size_t n);

/* What `ccrun show` and `ccrun export` are asked about. */
struct ccr_target {
    int64_t run_id;   /* the run, or the first run the session appears in */
    char *session_id; /* NULL for a whole run */
};

/*
 * Resolves "RUN" (a run number) or a session id prefix. Returns 0, -ENOENT
 * when nothing matches, or -EEXIST when the prefix names several sessions
 * (then *cause lists a few; allocated, the caller frees). Release t with
 * ccr_target_finish.
 */
int ccr_store_resolve(struct ccr_store *st, const char *arg, struct ccr_target *t,
                      char **cause);
void ccr_target_finish(struct ccr_target *t);

/* One stored event with the typed columns; absent values as in store.h. */
struct ccr_event {
    int64_t run_id;
    int64_t run_started_ms;
    char *name;
    int64_t time_ns;
    char *session_id;
    int64_t seq;
    char *prompt_id;
    char *model;
    char *query_source;
    double cost_usd;
    int64_t tokens[4]; /* input, output, cache read, cache creation */
    int64_t duration_ms;
    char *tool_name;
    int64_t success;
    char *decision;
    char *source;
    char *error;
    int64_t status_code;
    int64_t prompt_length;
    char *prompt;
    char *command_name; /* slash command, from the attributes */
    char *prompt_hash;  /* keyed hash of a prompt stored in hash mode */
    char *attrs_json;   /* only filled when asked for */
};

/*
 * Called once per event; the event and its strings belong to the caller of
 * cb only for the duration of the call. A negative return stops the walk and
 * is returned by ccr_store_events.
 */
typedef int (*ccr_event_cb)(const struct ccr_event *e, void *ctx);

/*
 * Walks the events of a target in timeline order: grouped by prompt (groups
 * in the order their first event arrived), by time within a group. With
 * t->session_id set only that session's events, across every run it appears
 * in. Returns 0, the callback's negative value, or -EIO.
 */
int ccr_store_events(struct ccr_store *st, const struct ccr_target *t, bool with_attrs,
                     ccr_event_cb cb, void *ctx);

/* Every event of the given runs (all runs when n_runs is 0), oldest first. */
int ccr_store_events_export(struct ccr_store *st, const int64_t *run_ids, size_t n_runs,
                            ccr_event_cb cb, void *ctx);

/* Copies every string of src into dst (allocated); release with ccr_event_finish. */
void ccr_event_copy(struct ccr_event *dst, const struct ccr_event *src);
void ccr_event_finish(struct ccr_event *e);

/*
 * One stored span of Claude Code's interaction trees, with the attributes
 * the timeline shows; absent values are NULL, CCR_NONE or NAN as for events.
 */
struct ccr_span {
    int64_t run_id;
    char *trace_id;
    char *span_id;
    char *parent_span_id; /* NULL for a root */
    char *name;           /* claude_code.interaction, claude_code.llm_request, … */
    char *session_id;
    int64_t start_ns;
    int64_t end_ns;
    int64_t duration_ms; /* duration_ms, or interaction.duration_ms on an interaction */
    int64_t sequence;    /* interaction.sequence */
    char *prompt;        /* user_prompt as stored under the privacy policy */
    char *prompt_hash;   /* user_prompt_hash in hash mode */
    int64_t prompt_length;
    char *model;
    char *context; /* llm_request.context */
    int64_t attempt;
    int64_t success; /* 1, 0 or CCR_NONE */
    int64_t ttft_ms;
    char *stop_reason;
    int64_t tokens[4]; /* input, output, cache read, cache creation */
    char *tool_name;
    char *tool_use_id;
    char *decision;
    char *source;
};

/*
 * The interaction, LLM request and tool spans of a target (with a tool's
 * blocked_on_user and execution children), in one read through the
 * (run_id, name) index, ordered by run, trace and start. *spans is allocated
 * (NULL when there are none, also in a history from before spans were
 * stored); free it with ccr_spans_free. Returns 0 or -EIO.
 */
int ccr_store_spans(struct ccr_store *st, const struct ccr_target *t, struct ccr_span **spans,
                    size_t *n);
void ccr_spans_free(struct ccr_span *spans, size_t n);

/*
 * The cost the claude_code.cost.usage metric reports for a run: delta points
 * summed, the newest point of each cumulative series. -ENOENT when the run
 * has no such points.
 */
int ccr_store_metric_cost(struct ccr_store *st, int64_t run_id, double *usd);

enum ccr_stats_by {
    CCR_STATS_TOTAL,
    CCR_STATS_DAY,
    CCR_STATS_MODEL,
    CCR_STATS_TOOL,
    CCR_STATS_SESSION,
};

/* Totals over a group of events (all of them, a day, a model, a tool, a session). */
struct ccr_stats_row {
    char *key; /* NULL for the grand total, and for events without the key */
    int64_t runs;
    double cost_usd;
    int64_t tokens[4];
    int64_t api_requests;
    int64_t api_errors;
    int64_t tool_calls;
    int64_t tool_succeeded;
    int64_t tool_failed;
    int64_t tool_duration_ms;
};

/*
 * Totals of the runs started at or after since_ms (CCR_NONE for all):
 * grouped by `by` into *rows (ordered by key, events without the key last;
 * none for CCR_STATS_TOTAL), and over everything into *total, whose key is
 * NULL. A group's runs are the runs with events in it. Days are local
 * calendar days of each event's time (TZ is respected). Free *rows with
 * ccr_stats_rows_free.
 */
int ccr_store_stats(struct ccr_store *st, int64_t since_ms, enum ccr_stats_by by,
                    const struct ccr_prices *reprice, struct ccr_stats_row **rows, size_t *n,
                    struct ccr_stats_row *total);
void ccr_stats_rows_free(struct ccr_stats_row *rows, size_t n);

/* What a prune removed. */
struct ccr_prune_result {
    int64_t runs;
    int64_t sessions;
    int64_t events;
    int64_t metric_points;
    int64_t bytes_before;
    int64_t bytes_after;
};

/*
 * Deletes the runs started before older_than_ms (CCR_NONE: no age limit) and
 * all but the newest keep runs (CCR_NONE: no count limit), with their
 * sessions, events, metric points and spans, then vacuums. A run still going on is
 * never removed unless it started more than a day ago. The store must be
 * open for writing. Returns 0 or -EIO.
 */
int ccr_store_prune(struct ccr_store *st, int64_t older_than_ms, int64_t keep,
                    struct ccr_prune_result *res);

/*
 * The input, output, cache read and cache creation tokens summed over a
 * run's api_request events (zeros for none). Returns 0 or -EIO.
 */
int ccr_store_run_tokens(struct ccr_store *st, int64_t run_id, int64_t tokens[4]);

/*
 * The number of a run's events and the largest event id among them, which
 * together change whenever an event is added or removed. Returns 0 or -EIO.
 */
int ccr_store_run_events_version(struct ccr_store *st, int64_t run_id, int64_t *count,
                                 int64_t *max_id);

#endif
