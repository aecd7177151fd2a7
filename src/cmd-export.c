/* SPDX-License-Identifier: MIT */
/* `ccrun export`: every stored event as JSON lines or CSV, for other tools. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "backfill.h"
#include "config.h"
#include "report-views.h"
#include "store-views.h"
#include "util.h"
#include "view.h"

static const char usage[] = "usage: ccrun export [--format jsonl|csv] [--dir DIR] [RUN...]\n"
                            "       ccrun export --otlp URL [--since 7d|DATE] [--dir DIR] "
                            "[RUN...]\n";

static const char help[] =
    "\n"
    "Streams the stored events of the given runs (default: all of them) to\n"
    "stdout, oldest first: one JSON object per line (jsonl, the default; the\n"
    "objects of `show --json` plus an \"attrs\" object with every attribute), or\n"
    "CSV with a header line.\n"
    "\n"
    "With --otlp URL, sends the stored events and metric points of those runs\n"
    "(or those started since --since) to the OTLP/HTTP endpoint at URL\n"
    "(/v1/logs and /v1/metrics appended) as they were received, with their\n"
    "session.id and event.sequence, so a backend can drop what it already has\n"
    "and a second export duplicates nothing there. A progress bar shows on a\n"
    "terminal.\n";

struct export_opts {
    const char *dir;
    bool csv;
    const char *otlp;
    const char *since;
    int64_t *runs;
    size_t n_runs;
};

static int parse_runs(int argc, char **argv, struct export_opts *o)
{
    char *cause = NULL;

    for (int i = optind; i < argc; i++) {
        int64_t id;
        if (ccr_view_parse_count(argv[i], &id, &cause) < 0) {
            ccr_cmd_error("export: bad run %s (want a run number)", argv[i]);
            free(cause);
            return 2;
        }
        o->runs = ccr_xrealloc(o->runs, (o->n_runs + 1) * sizeof(*o->runs));
        o->runs[o->n_runs++] = id;
    }
    return -1;
}

static int on_option(void *opts, int c, const char *arg, char **cause)
{
    struct export_opts *o = opts;

    switch (c) {
    case 'C':
        o->dir = arg;
        return 0;
    case 'f':
        if (strcmp(arg, "csv") != 0 && strcmp(arg, "jsonl") != 0) {
            *cause = ccr_xasprintf("bad format %s (want jsonl or csv)", arg);
            return -1;
        }
        o->csv = strcmp(arg, "csv") == 0;
        return 0;
    case 'o':
        o->otlp = arg;
        return 0;
    default: /* 's' */
        o->since = arg;
        return 0;
    }
}

static int parse(int argc, char **argv, struct export_opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'C'},
        {"format", required_argument, NULL, 'f'},
        {"otlp", required_argument, NULL, 'o'},
        {"since", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int rc = ccr_view_options("export", argc, argv, "C:f:", longopts, usage, help, INT_MAX,
                              on_option, o);

    if (rc >= 0) {
        return rc;
    }
    if (o->since != NULL && o->otlp == NULL) {
        ccr_cmd_error("export: --since goes with --otlp");
        fputs(usage, stderr);
        return 2;
    }
    return parse_runs(argc, argv, o);
}

/* Every run asked for must exist, so a typo is not an empty export. */
static int check_runs(struct ccr_view *v, const struct export_opts *o)
{
    for (size_t i = 0; i < o->n_runs; i++) {
        struct ccr_target t;
        char *arg = ccr_xasprintf("%lld", (long long)o->runs[i]);
        char *cause = NULL;
        int rc = v->store != NULL ? ccr_store_resolve(v->store, arg, &t, &cause) : -ENOENT;
        if (rc == 0 && t.session_id != NULL) {
            rc = -ENOENT;
        }
        ccr_target_finish(&t);
        free(cause);
        free(arg);
        if (rc < 0) {
            ccr_cmd_error("export: no run %lld in %s", (long long)o->runs[i], v->project.root);
            return rc;
        }
    }
    return 0;
}

static int write_jsonl(const struct ccr_event *e, void *ctx)
{
    json_t *o = ccr_report_event_json(e, CCR_NONE, true);

    json_dumpf(o, stdout, JSON_COMPACT);
    json_decref(o);
    /* A closed pipe (export | head) ends the walk instead of reading on. */
    return fputc('\n', stdout) == EOF ? -EPIPE : 0;
}

static int write_csv(const struct ccr_event *e, void *ctx)
{
    ccr_report_event_csv(stdout, e);
    return ferror(stdout) ? -EPIPE : 0;
}

/* A bar on stderr, redrawn in place; only called on a terminal. */
static void on_progress(int64_t done, int64_t total, void *ctx)
{
    const int width = 30;
    int filled = total > 0 ? (int)(done * width / total) : width;

    fprintf(stderr, "\rccrun: export [%.*s%*s] %lld/%lld records", filled,
            "##############################", width - filled, "", (long long)done,
            (long long)total);
    fflush(stderr);
}

/* Runs the backfill and the forwarder's close on a loop of its own. */
static int backfill(struct ccr_view *v, const struct export_opts *o,
                    const struct ccr_record_selection *sel, struct ccr_forwarding *f,
                    uv_loop_t *loop)
{
    bool tty = isatty(STDERR_FILENO);
    int rc = ccr_backfill_run(v->store, sel, loop, f->fw, tty ? on_progress : NULL, NULL);

    ccr_forward_close(f->fw, f->cfg.deadline_ms, NULL, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    if (tty) {
        fputc('\n', stderr);
    }
    if (rc < 0) {
        ccr_cmd_error("export: cannot read %s: see .ccrun/ccrun.log", v->project.db_path);
        return 1;
    }
    struct ccr_forward_stats st;
    ccr_forward_stats(f->fw, &st);
    unsigned long failed = st.spooled + st.lost + st.refused;
    fprintf(stderr, "ccrun: exported %lu batch%s to %s\n", st.forwarded,
            st.forwarded == 1 ? "" : "es", f->cfg.where);
    if (failed > 0) {
        ccr_cmd_error("export: %lu batch%s not delivered: %s; exporting again sends them "
                      "(and nothing twice)", failed, failed == 1 ? "" : "es", st.why);
        return 1;
    }
    return 0;
}

/* `--otlp URL`: the stored records, rebuilt as OTLP, sent to URL. */
static int export_otlp(struct ccr_view *v, const struct export_opts *o)
{
    struct ccr_record_selection sel = {.since_ms = CCR_NONE, .run_ids = o->runs,
                                       .n_runs = o->n_runs};
    struct ccr_config config = {0};
    struct ccr_forward_sources src = {.flag_url = o->otlp, .flag_deadline = "30000",
                                      .config = &config, .project_root = v->project.root};
    struct ccr_forwarding f;
    uv_loop_t loop;
    char *warning = NULL;
    char *cause = NULL;
    int status = 1;

    if (o->since != NULL &&
        ccr_view_parse_since(o->since, ccr_now_ms(), &sel.since_ms, &cause) < 0) {
        ccr_cmd_error("export: %s", cause);
        free(cause);
        return 2;
    }
    ccr_cmd_load_config(v->project.dir, &config);
    uv_loop_init(&loop);
    /* No outbox: what a backfill cannot send is sent by running it again. */
    if (ccr_forwarding_start(&f, &loop, &src, NULL, false, &warning, &cause) < 0) {
        ccr_cmd_error("export: %s", cause);
    } else if (v->store == NULL) {
        fprintf(stderr, "ccrun: export: no history in %s\n", v->project.root);
        status = 0;
    } else {
        status = backfill(v, o, &sel, &f, &loop);
    }
    if (f.fw != NULL && v->store == NULL) {
        ccr_forward_close(f.fw, 0, NULL, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    ccr_forwarding_finish(&f);
    uv_loop_close(&loop);
    ccr_config_finish(&config);
    free(warning);
    free(cause);
    return status;
}

static int run_export(int argc, char **argv)
{
    struct export_opts o = {0};
    struct ccr_view v;
    int status = parse(argc, argv, &o);

    if (status >= 0) {
        free(o.runs);
        return status;
    }
    status = 1;
    if (ccr_view_open(&v, "export", o.dir, false) < 0 || check_runs(&v, &o) < 0) {
        goto out;
    }
    if (o.otlp != NULL) {
        status = export_otlp(&v, &o);
        goto out;
    }
    if (o.csv) {
        ccr_report_csv_header(stdout);
    }
    int rc = 0;
    if (v.store != NULL) {
        rc = ccr_store_events_export(v.store, o.runs, o.n_runs, o.csv ? write_csv : write_jsonl,
                                     NULL);
    }
    if (rc == -EIO) {
        ccr_cmd_error("export: cannot read %s: see .ccrun/ccrun.log", v.project.db_path);
        goto out;
    }
    status = fflush(stdout) == 0 && rc == 0 ? 0 : 1;
out:
    free(o.runs);
    ccr_view_finish(&v);
    return status;
}

const struct ccr_cmd ccr_cmd_export = {
    .name = "export",
    .usage = usage,
    .run = run_export,
};
