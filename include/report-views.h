/* SPDX-License-Identifier: MIT */
/*
 * Presenting the history views: the run list, the timeline, the stats table
 * and the export formats, as text for people or as JSON. Nothing here reads
 * the database; the callers hand over what store-views.h returned.
 */
#ifndef CCR_REPORT_VIEWS_H
#define CCR_REPORT_VIEWS_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "interactions.h"
#include "store-views.h"

/* `ccrun sessions`: one line per run, or an array of objects (a new reference). */
void ccr_report_runs_text(FILE *f, const struct ccr_run_row *rows, size_t n, bool color);
json_t *ccr_report_runs_json(const struct ccr_run_row *rows, size_t n);

/*
 * A run's timeline: the events as ccr_store_events walked them, and the
 * interactions built from its spans and matched with those events (none
 * when no spans were recorded, and then the timeline is the events alone).
 */
struct ccr_timeline {
    struct ccr_summary summary; /* the run (for the header and the metrics check) */
    const char *session_id;     /* when only one session is shown */
    struct ccr_event *events;
    size_t n_events;
    struct ccr_interactions interactions;
};

void ccr_report_timeline_text(FILE *f, const struct ccr_timeline *t, bool color);
json_t *ccr_report_timeline_json(const struct ccr_timeline *t);

/*
 * One event as the JSON object of `show --json` and `export` (a new
 * reference); base_ms is the time offset_ms counts from (CCR_NONE: offset_ms
 * is null), and with_attrs adds
 * every attribute as the object "attrs".
 */
json_t *ccr_report_event_json(const struct ccr_event *e, int64_t base_ms, bool with_attrs);

/* One event as a CSV record; ccr_report_csv_header first. */
void ccr_report_csv_header(FILE *f);
void ccr_report_event_csv(FILE *f, const struct ccr_event *e);

/* `ccrun stats`: the rows of one grouping and the total over all of them. */
struct ccr_stats {
    enum ccr_stats_by by;
    int64_t since_ms; /* CCR_NONE for all of the history */
    struct ccr_stats_row *rows;
    size_t n_rows;
    struct ccr_stats_row total;
};

void ccr_report_stats_text(FILE *f, const struct ccr_stats *s, bool color);
json_t *ccr_report_stats_json(const struct ccr_stats *s);
/* The name of a grouping as `--by` spells it ("day", …; "total" for none). */
const char *ccr_stats_by_name(enum ccr_stats_by by);

/*
 * The line that says the cost metric and the events disagree, when they
 * differ as printed: "metrics report $0.31, events $0.29: some events were
 * not received". Prints nothing when they agree or there is no metric.
 */
void ccr_report_cost_check(FILE *f, double events_usd, double metrics_usd, const char *indent);

/*
 * What kind of API request an event is, as `show --json` names it: "main",
 * "subagent" or "auxiliary"; NULL for events that are not API requests or
 * errors. The string is static.
 */
const char *ccr_report_request_kind(const struct ccr_event *e);

/* The slash command a user_prompt ran ("exit"), else NULL; it points into e. */
const char *ccr_report_slash_command(const struct ccr_event *e);

/* `ccrun prune`: what was removed. */
void ccr_report_prune_text(FILE *f, const struct ccr_prune_result *r);

#endif
