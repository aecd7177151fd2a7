/* SPDX-License-Identifier: MIT */
/* `ccrun last`: the newest run's summary, as text or JSON. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>

#include <jansson.h>

#include "config.h"
#include "project.h"
#include "report.h"
#include "store.h"
#include "view.h"

static const char usage[] = "usage: ccrun last [--json] [--dir DIR]\n";

static int on_option(void *opts, int c, const char *arg, char **cause)
{
    struct ccr_opts *o = opts;

    if (c == 'C') {
        o->dir = arg;
    } else { /* 'j' */
        o->json = 1;
    }
    return 0;
}

static int parse(int argc, char **argv, struct ccr_opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'C'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    return ccr_view_options("last", argc, argv, "C:j", longopts, usage,
                            "\nPrints the summary of the newest run recorded in this project.\n",
                            0, on_option, o);
}

static int run_last(int argc, char **argv)
{
    struct ccr_opts opts = {0};
    struct ccr_project project;
    struct ccr_store *store = NULL;
    struct ccr_summary s;
    char *cause = NULL;
    int64_t run_id;
    int status = parse(argc, argv, &opts);

    if (status >= 0) {
        return status;
    }
    status = 1;
    if (ccr_project_find(opts.dir, &project, &cause) < 0) {
        ccr_cmd_error("last: %s", cause);
        free(cause);
        return 1;
    }
    if (ccr_project_check(&project, &cause) < 0) {
        ccr_cmd_error("last: %s", cause);
        goto out;
    }
    int rc = ccr_store_open(project.db_path, true, &store, &cause);
    if (rc == 0) {
        rc = ccr_store_last_run(store, &run_id);
    }
    if (rc == -ENOENT) {
        ccr_cmd_error("last: no runs recorded in %s", project.root);
        fprintf(stderr, "ccrun: hint: record one with: ccrun claude\n");
        goto out;
    }
    if (rc < 0 || ccr_store_summary(store, run_id, &s) < 0) {
        ccr_cmd_error("last: cannot read %s: %s", project.db_path,
                      cause != NULL ? cause : "the history could not be queried");
        goto out;
    }
    if (opts.json) {
        json_t *o = ccr_report_json(&s);
        json_dumpf(o, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(o);
    } else {
        struct ccr_config config = {0};
        ccr_cmd_load_config(project.dir, &config);
        ccr_report_text(stdout, &s, ccr_report_use_color(1), &config.prices);
        ccr_config_finish(&config);
    }
    ccr_summary_finish(&s);
    status = 0;
out:
    free(cause);
    ccr_store_close(store);
    ccr_project_finish(&project);
    return status;
}

const struct ccr_cmd ccr_cmd_last = {
    .name = "last",
    .usage = usage,
    .run = run_last,
};
