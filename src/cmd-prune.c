/* SPDX-License-Identifier: MIT */
/* `ccrun prune`: delete old runs from the history and give the space back. */
#include "cmd.h"

#include <getopt.h>
#include <stdlib.h>

#include "report-views.h"
#include "store-views.h"
#include "util.h"
#include "view.h"

static const char usage[] =
    "usage: ccrun prune --older-than AGE | --keep N [--dir DIR]\n";

static const char help[] =
    "\n"
    "Deletes runs with their sessions, events and metric points, vacuums the\n"
    "database and says what it removed. With both options a run goes when\n"
    "either says so. A run still being recorded is kept.\n"
    "\n"
    "  --older-than AGE  runs started more than AGE ago: 90d, 12w, 36h\n"
    "  --keep N          all but the newest N runs\n";

struct prune_opts {
    const char *dir;
    int64_t older_than_ms; /* an age until parsed, then the cut-off time */
    int64_t keep;
};

static int on_option(void *opts, int c, const char *arg, char **cause)
{
    struct prune_opts *o = opts;

    switch (c) {
    case 'C':
        o->dir = arg;
        return 0;
    case 'o':
        return ccr_view_parse_age(arg, &o->older_than_ms, cause);
    default: /* 'k' */
        return ccr_view_parse_count(arg, &o->keep, cause);
    }
}

static int parse(int argc, char **argv, struct prune_opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'C'},
        {"older-than", required_argument, NULL, 'o'},
        {"keep", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int rc = ccr_view_options("prune", argc, argv, "C:o:k:", longopts, usage, help, 0,
                              on_option, o);

    if (rc >= 0) {
        return rc;
    }
    if (o->older_than_ms == CCR_NONE && o->keep == CCR_NONE) {
        ccr_cmd_error("prune: say what to remove");
        fputs(usage, stderr);
        return 2;
    }
    if (o->older_than_ms != CCR_NONE) {
        o->older_than_ms = ccr_now_ms() - o->older_than_ms;
    }
    return -1;
}

static int run_prune(int argc, char **argv)
{
    struct prune_opts o = {.older_than_ms = CCR_NONE, .keep = CCR_NONE};
    struct ccr_prune_result res = {0};
    struct ccr_view v;
    int status = parse(argc, argv, &o);

    if (status >= 0) {
        return status;
    }
    status = 1;
    if (ccr_view_open(&v, "prune", o.dir, true) < 0) {
        goto out;
    }
    if (v.store == NULL) {
        printf("nothing to remove: no history in %s\n", v.project.root);
        status = 0;
        goto out;
    }
    if (ccr_store_prune(v.store, o.older_than_ms, o.keep, &res) < 0) {
        ccr_cmd_error("prune: cannot prune %s: see .ccrun/ccrun.log", v.project.db_path);
        goto out;
    }
    ccr_report_prune_text(stdout, &res);
    status = 0;
out:
    ccr_view_finish(&v);
    return status;
}

const struct ccr_cmd ccr_cmd_prune = {
    .name = "prune",
    .usage = usage,
    .run = run_prune,
};
