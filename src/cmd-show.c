/* SPDX-License-Identifier: MIT */
/* `ccrun show`: a run's or a session's events in time order, grouped by prompt. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "interactions.h"
#include "report-views.h"
#include "report.h"
#include "store-views.h"
#include "util.h"
#include "view.h"

static const char usage[] = "usage: ccrun show [RUN | SESSION-ID-PREFIX] [--json] [--dir DIR]\n";

static const char help[] =
    "\n"
    "Prints the timeline of a run (default: the newest) or of a Claude Code\n"
    "session: one line per event with the time since the start, its type and\n"
    "key fields, grouped by prompt with each prompt's subtotal. Subagent and\n"
    "auxiliary requests and slash commands are marked. When Claude Code sent\n"
    "spans (CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1, OTEL_TRACES_EXPORTER=otlp),\n"
    "each prompt's interaction is merged in: its LLM requests and tool calls\n"
    "with their durations, time to first token and time waiting on the user.\n"
    "\n"
    "  RUN                a run number, as `ccrun sessions` lists them\n"
    "  SESSION-ID-PREFIX  the start of a session id, enough to be unique\n"
    "  --json             the events as an array of objects, an interaction on\n"
    "                     the event that opened it (see the README)\n";

struct show_opts {
    const char *dir;
    const char *target;
    bool json;
};

static int on_option(void *opts, int c, const char *arg, char **cause)
{
    struct show_opts *o = opts;

    if (c == 'C') {
        o->dir = arg;
    } else { /* 'j' */
        o->json = true;
    }
    return 0;
}

static int parse(int argc, char **argv, struct show_opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'C'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int rc = ccr_view_options("show", argc, argv, "C:j", longopts, usage, help, 1, on_option, o);

    o->target = rc < 0 && optind < argc ? argv[optind] : NULL;
    return rc;
}

/* Finds what to show; prints why not and returns a negative errno when nothing. */
static int find_target(struct ccr_view *v, const char *arg, struct ccr_target *t)
{
    char *cause = NULL;
    int rc;

    memset(t, 0, sizeof(*t));
    if (v->store == NULL) {
        rc = -ENOENT;
    } else if (arg == NULL) {
        rc = ccr_store_last_run(v->store, &t->run_id);
    } else {
        rc = ccr_store_resolve(v->store, arg, t, &cause);
    }
    if (rc == -ENOENT && arg == NULL) {
        ccr_cmd_error("show: no runs recorded in %s", v->project.root);
    } else if (rc == -ENOENT) {
        ccr_cmd_error("show: no run or session %s in %s", arg, v->project.root);
        fprintf(stderr, "ccrun: hint: ccrun sessions lists the runs\n");
    } else if (rc == -EEXIST) {
        ccr_cmd_error("show: %s", cause);
    } else if (rc < 0) {
        ccr_cmd_error("show: cannot read %s: see .ccrun/ccrun.log", v->project.db_path);
    }
    free(cause);
    return rc;
}

static int collect_event(const struct ccr_event *e, void *ctx)
{
    struct ccr_timeline *t = ctx;

    t->events = ccr_xrealloc(t->events, (t->n_events + 1) * sizeof(*t->events));
    ccr_event_copy(&t->events[t->n_events++], e);
    return 0;
}

/* What show reads besides the timeline's own fields: the spans its interactions point into. */
struct show_data {
    struct ccr_timeline t;
    struct ccr_span *spans;
    size_t n_spans;
};

static void show_data_finish(struct show_data *d)
{
    for (size_t i = 0; i < d->t.n_events; i++) {
        ccr_event_finish(&d->t.events[i]);
    }
    free(d->t.events);
    ccr_interactions_finish(&d->t.interactions);
    ccr_spans_free(d->spans, d->n_spans);
    ccr_summary_finish(&d->t.summary);
}

/* The summary, the events, and the interactions when spans were recorded. */
static int read_timeline(struct ccr_store *st, const struct ccr_target *target,
                         struct show_data *d)
{
    d->t.session_id = target->session_id;
    if (ccr_store_summary(st, target->run_id, &d->t.summary) < 0 ||
        ccr_store_events(st, target, false, collect_event, &d->t) < 0 ||
        ccr_store_spans(st, target, &d->spans, &d->n_spans) < 0) {
        return -EIO;
    }
    ccr_interactions_build(d->spans, d->n_spans, &d->t.interactions);
    ccr_interactions_match(&d->t.interactions, d->t.events, d->t.n_events);
    return 0;
}

static void print_timeline(const struct show_opts *o, const struct ccr_timeline *t)
{
    if (o->json) {
        json_t *arr = ccr_report_timeline_json(t);
        json_dumpf(arr, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(arr);
    } else {
        ccr_report_timeline_text(stdout, t, ccr_report_use_color(1));
    }
}

static int run_show(int argc, char **argv)
{
    struct show_opts o = {0};
    struct ccr_view v;
    struct ccr_target target = {0};
    struct show_data d = {0};
    int status = parse(argc, argv, &o);

    if (status >= 0) {
        return status;
    }
    status = 1;
    if (ccr_view_open(&v, "show", o.dir, false) < 0 || find_target(&v, o.target, &target) < 0) {
        goto out;
    }
    if (read_timeline(v.store, &target, &d) < 0) {
        ccr_cmd_error("show: cannot read %s: see .ccrun/ccrun.log", v.project.db_path);
        goto out;
    }
    print_timeline(&o, &d.t);
    status = 0;
out:
    show_data_finish(&d);
    ccr_target_finish(&target);
    ccr_view_finish(&v);
    return status;
}

const struct ccr_cmd ccr_cmd_show = {
    .name = "show",
    .usage = usage,
    .run = run_show,
};
