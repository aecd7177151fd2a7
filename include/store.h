/* SPDX-License-Identifier: MIT */
/*
 * The history database: one SQLite file per project. This module alone talks
 * to SQLite; the row and summary types below are what other modules see.
 */
#ifndef CCR_STORE_H
#define CCR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marks an absent integer column; absent doubles are NAN, absent strings NULL. */
#define CCR_NONE INT64_MIN

struct ccr_store;

/*
 * Opens (and for writing, creates and migrates) the database at path.
 * Returns 0 with *out set, -ENOENT when reading a database that does not
 * exist, or another negative errno with *cause set (allocated; caller frees).
 */
int ccr_store_open(const char *path, bool readonly, struct ccr_store **out, char **cause);
void ccr_store_close(struct ccr_store *st);

/* How long a write waits for another writer's lock, in milliseconds. */
int ccr_store_busy_timeout(const struct ccr_store *st);
void ccr_store_set_busy_timeout(struct ccr_store *st, int ms);
/* The last error SQLite reported on this connection, for a message to the user. */
const char *ccr_store_errmsg(struct ccr_store *st);

/* Transactions; each returns 0 or -EIO (the reason goes to the log). */
int ccr_store_begin(struct ccr_store *st);
/* As begin, waiting at most busy_ms for another process's lock: -EBUSY past that. */
int ccr_store_try_begin(struct ccr_store *st, int busy_ms);
int ccr_store_commit(struct ccr_store *st);
void ccr_store_rollback(struct ccr_store *st);
/*
 * Who checkpoints: by default SQLite, inside the commit that leaves the
 * write-ahead log over 1000 pages. With cb set, every commit calls cb with
 * the pages in the log instead; cb has the checkpoint run elsewhere (see
 * checkpoint.h), or returns true to have it run in this commit. NULL hands
 * checkpoints back to SQLite.
 */
typedef bool (*ccr_store_checkpoint_cb)(void *ctx, int pages);
#define CCR_STORE_CHECKPOINT_PAGES 1000
void ccr_store_set_checkpointer(struct ccr_store *st, ccr_store_checkpoint_cb cb, void *ctx);

/* Whether a transaction is open on this connection. */
bool ccr_store_in_transaction(struct ccr_store *st);

/* A new run row; command_json is a JSON array of the argument strings. */
/* api_base_url is the Anthropic endpoint the run was given (ANTHROPIC_BASE_URL), or NULL. */
int ccr_store_run_start(struct ccr_store *st, const char *command_json, const char *cwd,
                        int64_t started_ms, const char *api_base_url, int64_t *run_id);
/* signal is 0 when the child exited normally. */
int ccr_store_run_end(struct ccr_store *st, int64_t run_id, int64_t ended_ms, int exit_code,
                      int signal);
/* Sets the program name and version of a run unless already set. */
int ccr_store_run_program(struct ccr_store *st, int64_t run_id, const char *name,
                          const char *version);

/* The id of a resource by its attributes (JSON object text), added if new. */
int ccr_store_resource(struct ccr_store *st, const char *attrs_json, int64_t *id);
/* Notes that session_id was seen in a run; repeats are ignored. */
int ccr_store_session(struct ccr_store *st, int64_t run_id, const char *session_id,
                      int64_t time_ns);

struct ccr_event_row {
    int64_t run_id;
    int64_t resource_id;
    const char *name;
    int64_t time_ns;
    const char *session_id;
    int64_t seq;
    const char *prompt_id;
    const char *model;
    const char *query_source;
    double cost_usd;
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t cache_read_tokens;
    int64_t cache_creation_tokens;
    int64_t duration_ms;
    const char *tool_name;
    int64_t success;
    const char *decision;
    const char *source;
    const char *error;
    int64_t status_code;
    int64_t prompt_length;
    const char *prompt;
    const char *attrs_json;
    double priced_cost_usd; /* ccrun's re-pricing, NAN when the model has no price */
    int64_t cost_estimated; /* 1 when Claude Code sent no cost and ccrun priced it */
};

/* Sets every column of r to absent. */
void ccr_event_row_init(struct ccr_event_row *r);
/* Adds an event; an identical redelivery (same run, session, sequence, time) is ignored. */
int ccr_store_event(struct ccr_store *st, const struct ccr_event_row *r);

struct ccr_point_row {
    int64_t run_id;
    int64_t resource_id;
    const char *session_id;
    const char *name;
    const char *unit;
    const char *kind; /* "sum", "gauge" or "histogram" */
    int temporality;  /* 1 delta, 2 cumulative, 0 unspecified */
    int monotonic;
    int64_t start_ns;
    int64_t time_ns;
    double value;
    const char *attrs_json;
};

/* Adds a metric point; a redelivery (same series, start and time) is ignored. */
int ccr_store_point(struct ccr_store *st, const struct ccr_point_row *r);

struct ccr_span_row {
    int64_t run_id;
    int64_t resource_id;
    const char *session_id;
    const char *trace_id; /* hex */
    const char *span_id;  /* hex */
    const char *parent_span_id; /* hex; NULL for a root span */
    const char *name;
    int kind;        /* OTLP SpanKind: 1 internal, 2 server, 3 client, ... */
    int64_t start_ns;
    int64_t end_ns;
    int status_code; /* 0 unset, 1 ok, 2 error */
    const char *status_message;
    const char *attrs_json;
};

/* Adds a span; a redelivery (same run, trace and span id) is ignored. */
int ccr_store_span(struct ccr_store *st, const struct ccr_span_row *r);

/* What a run cost and did: the figures behind the summary and `last --json`. */
struct ccr_model_total {
    char *model;
    int64_t requests;
    double cost_usd;          /* ccrun's price where it has one, else Claude Code's */
    double reported_cost_usd; /* what Claude Code reported */
    int64_t priced_requests;  /* requests re-priced by ccrun */
    int64_t unknown_cost_requests;
    int64_t tokens[4]; /* input, output, cache read, cache creation */
};

struct ccr_tool_total {
    char *name;
    int64_t calls;
    int64_t succeeded;
    int64_t failed;
    int64_t rejected;
    int64_t duration_ms;
};

struct ccr_prompt {
    char *prompt_id;
    int64_t length; /* CCR_NONE when not reported */
    char *text;     /* NULL when not stored */
    char *hash;     /* keyed hash (hex) when the text was hashed, else NULL */
    char *command;  /* slash command name, or NULL */
};

struct ccr_summary {
    int64_t run_id;
    char *command_json;
    char *cwd;
    int64_t started_ms;
    int64_t ended_ms; /* CCR_NONE while the run is going on */
    int64_t exit_code;
    int64_t signal;
    char *program;
    char *program_version;
    char *api_base_url;

    char **sessions;
    size_t n_sessions;
    double cost_usd;          /* re-priced where ccrun has a price */
    double reported_cost_usd; /* as Claude Code reported it */
    int64_t priced_requests;
    int64_t estimated_requests;    /* priced by ccrun because no cost was reported */
    int64_t unknown_cost_requests; /* neither reported nor priceable */
    int64_t interrupted_tools;     /* tool results that failed without an error: cut off */
    int64_t tokens[4];
    int64_t api_requests;
    int64_t api_errors;
    int64_t api_duration_ms;
    int64_t events;
    int64_t metric_points;
    int64_t lines_added;
    int64_t lines_removed;
    double metrics_cost_usd; /* what the cost metric says; NAN without points */

    struct ccr_model_total *models;
    size_t n_models;
    struct ccr_tool_total *tools;
    size_t n_tools;
    struct ccr_prompt *prompts;
    size_t n_prompts;
};

/* The id of the newest run, or -ENOENT when there is none. */
int ccr_store_last_run(struct ccr_store *st, int64_t *run_id);
/* Fills s for a run; -ENOENT when there is no such run. */
int ccr_store_summary(struct ccr_store *st, int64_t run_id, struct ccr_summary *s);
void ccr_summary_finish(struct ccr_summary *s);

#endif
