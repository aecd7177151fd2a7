/* SPDX-License-Identifier: MIT */
/* `ccrun sessions`: the recorded runs, newest first, one line each. */
#include "cmd.h"

#include <getopt.h>
#include <stdlib.h>

#include <jansson.h>

#include "report-views.h"
#include "report.h"
#include "store-views.h"
#include "util.h"
#include "view.h"

/* Enough to fill a screen; --limit 0 lists everything. */
#define CCR_SESSIONS_DEFAULT_LIMIT 20

static const char usage[] =
    "usage: ccrun sessions [--since 7d|DATE] [--limit N] [--json] [--dir DIR]\n";

static const char help[] =
    "\n"
    "Lists the recorded runs of this project, newest first: when each started,\n"
    "how long it took, what it cost, its API requests, tool calls, failures\n"
    "(failed tool calls and API errors), exit status, sessions and command.\n"
    "\n"
    "  --since AGE|DATE  only runs started since then: 7d, 12h, 2026-12-03,\n"
    "                    2026-12-03T14:00 (local time)\n"
    "  --limit N         at most N runs (default 20; 0 for all)\n"
    "  --json            an array of objects (see the README)\n";

struct sessions_opts {
    const char *dir;
    bool json;
    int64_t since_ms;
    int64_t limit;
};

static int on_option(void *opts, int c, const char *arg, char **cause)
{
    struct sessions_opts *o = opts;

    switch (c) {
    case 'C':
        o->dir = arg;
        return 0;
    case 's':
        return ccr_view_parse_since(arg, ccr_now_ms(), &o->since_ms, cause);
    case 'n':
        return ccr_view_parse_count(arg, &o->limit, cause);
    default: /* 'j' */
        o->json = true;
        return 0;
    }
}

static int parse(int argc, char **argv, struct sessions_opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'C'},   {"since", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'n'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };

    return ccr_view_options("sessions", argc, argv, "C:s:n:j", longopts, usage, help, 0,
                            on_option, o);
}

static void print_runs(const struct sessions_opts *o, const struct ccr_run_row *rows, size_t n)
{
    if (o->json) {
        json_t *arr = ccr_report_runs_json(rows, n);
        json_dumpf(arr, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(arr);
    } else if (n > 0) {
        ccr_report_runs_text(stdout, rows, n, ccr_report_use_color(1));
    }
}

static int run_sessions(int argc, char **argv)
{
    struct sessions_opts o = {.since_ms = CCR_NONE, .limit = CCR_SESSIONS_DEFAULT_LIMIT};
    struct ccr_view v;
    struct ccr_run_row *rows = NULL;
    size_t n = 0;
    int status = parse(argc, argv, &o);

    if (status >= 0) {
        return status;
    }
    status = 1;
    if (ccr_view_open(&v, "sessions", o.dir, false) < 0) {
        goto out;
    }
    if (v.store != NULL && ccr_store_runs(v.store, o.since_ms, o.limit, &rows, &n) < 0) {
        ccr_cmd_error("sessions: cannot read %s: see .ccrun/ccrun.log", v.project.db_path);
        goto out;
    }
    print_runs(&o, rows, n);
    /* An empty list is an answer, not a failure; say so where people look. */
    if (n == 0 && !o.json) {
        fprintf(stderr, "ccrun: sessions: no runs recorded in %s%s\n", v.project.root,
                o.since_ms != CCR_NONE ? " in that time" : "");
    }
    status = 0;
out:
    ccr_run_rows_free(rows, n);
    ccr_view_finish(&v);
    return status;
}

const struct ccr_cmd ccr_cmd_sessions = {
    .name = "sessions",
    .usage = usage,
    .run = run_sessions,
};
