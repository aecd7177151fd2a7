/* SPDX-License-Identifier: MIT */
/* `ccrun stats`: totals across runs, optionally grouped by day, model, tool or session. */
#include "cmd.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "report-views.h"
#include "report.h"
#include "store-views.h"
#include "util.h"
#include "view.h"

static const char usage[] =
    "usage: ccrun stats [--since 7d|DATE] [--by day|model|tool|session] [--reprice] [--json]\n"
    "                   [--dir DIR]\n";

static const char help[] =
    "\n"
    "Totals across the recorded runs: cost, tokens, cache hit ratio (cache read\n"
    "over all input), API requests and error rate, tool calls, success rate and\n"
    "time. Days are cut at local midnight (TZ is respected).\n"
    "\n"
    "  --since AGE|DATE  only runs started since then: 7d, 2026-12-03, ...\n"
    "  --by KEY          one row per day, model, tool or session, then the total\n"
    "  --reprice         cost past requests with today's price table (see ccrun prices);\n"
    "                    models it does not list keep the cost Claude Code reported\n"
    "  --json            one object (see the README)\n";

struct stats_opts {
    const char *dir;
    bool json;
    int64_t since_ms;
    enum ccr_stats_by by;
    bool reprice;
};

static int parse_by(const char *arg, enum ccr_stats_by *by, char **cause)
{
    static const enum ccr_stats_by all[] = {CCR_STATS_DAY, CCR_STATS_MODEL, CCR_STATS_TOOL,
                                            CCR_STATS_SESSION};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(arg, ccr_stats_by_name(all[i])) == 0) {
            *by = all[i];
            return 0;
        }
    }
    *cause = ccr_xasprintf("bad --by %s (want day, model, tool or session)", arg);
    return -1;
}

static int on_option(void *opts, int c, const char *arg, char **cause)
{
    struct stats_opts *o = opts;

    switch (c) {
    case 'C':
        o->dir = arg;
        return 0;
    case 's':
        return ccr_view_parse_since(arg, ccr_now_ms(), &o->since_ms, cause);
    case 'b':
        return parse_by(arg, &o->by, cause);
    case 'r':
        o->reprice = true;
        return 0;
    default: /* 'j' */
        o->json = true;
        return 0;
    }
}

static int parse(int argc, char **argv, struct stats_opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'C'}, {"since", required_argument, NULL, 's'},
        {"by", required_argument, NULL, 'b'},  {"json", no_argument, NULL, 'j'},
        {"reprice", no_argument, NULL, 'r'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    return ccr_view_options("stats", argc, argv, "C:s:b:j", longopts, usage, help, 0,
                            on_option, o);
}

static int load_stats(struct ccr_store *st, const struct ccr_prices *reprice,
                      struct ccr_stats *s)
{
    return ccr_store_stats(st, s->since_ms, s->by, reprice, &s->rows, &s->n_rows, &s->total);
}

static void print_stats(const struct stats_opts *o, const struct ccr_stats *s)
{
    if (o->json) {
        json_t *obj = ccr_report_stats_json(s);
        json_dumpf(obj, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(obj);
    } else {
        ccr_report_stats_text(stdout, s, ccr_report_use_color(1));
    }
}

static int run_stats(int argc, char **argv)
{
    struct stats_opts o = {.since_ms = CCR_NONE, .by = CCR_STATS_TOTAL};
    struct ccr_view v;
    struct ccr_stats s = {0};
    struct ccr_config config = {0};
    int status = parse(argc, argv, &o);

    if (status >= 0) {
        return status;
    }
    status = 1;
    s.by = o.by;
    s.since_ms = o.since_ms;
    if (ccr_view_open(&v, "stats", o.dir, false) < 0) {
        goto out;
    }
    if (o.reprice) {
        ccr_cmd_load_config(v.project.dir, &config);
    }
    if (v.store != NULL && load_stats(v.store, o.reprice ? &config.prices : NULL, &s) < 0) {
        ccr_cmd_error("stats: cannot read %s: see .ccrun/ccrun.log", v.project.db_path);
        goto out;
    }
    print_stats(&o, &s);
    status = 0;
out:
    ccr_stats_rows_free(s.rows, s.n_rows);
    ccr_config_finish(&config);
    ccr_view_finish(&v);
    return status;
}

const struct ccr_cmd ccr_cmd_stats = {
    .name = "stats",
    .usage = usage,
    .run = run_stats,
};
