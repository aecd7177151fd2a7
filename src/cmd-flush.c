/* SPDX-License-Identifier: MIT */
/* `ccrun flush`: send what earlier runs left in .ccrun/outbox/. */
#include "cmd.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "config.h"
#include "forward.h"
#include "log.h"
#include "project.h"
#include "util.h"
#include "view.h"

/* flush has nothing to wait for but the upstream, so it waits longer than a run. */
#define FLUSH_DEADLINE_MS 30000

static const char usage[] =
    "usage: ccrun flush [--dir DIR] [--forward URL] [--deadline MS]\n";

static const char help[] =
    "\n"
    "Sends the batches earlier runs could not deliver (kept in .ccrun/outbox/)\n"
    "to the upstream the OTEL exporter variables, --forward or the [forward]\n"
    "section of the configuration name, giving up after --deadline\n"
    "milliseconds (default 30000). What is not delivered stays for next time.\n";

struct flush_opts {
    const char *dir;
    const char *url;
    const char *deadline;
};

static int on_option(void *opts, int c, const char *arg, char **cause)
{
    struct flush_opts *o = opts;

    if (c == 'C') {
        o->dir = arg;
    } else if (c == 'F') {
        o->url = arg;
    } else { /* 'D' */
        o->deadline = arg;
    }
    return 0;
}

static int parse(int argc, char **argv, struct flush_opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'C'},
        {"forward", required_argument, NULL, 'F'},
        {"deadline", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    return ccr_view_options("flush", argc, argv, "C:", longopts, usage, help, 0, on_option, o);
}

/*
 * Starts the forwarder on the outbox and runs the loop until it is done.
 * Closing at once still sends everything queued: the deadline bounds the
 * whole flush, and what fails stays in the outbox for the next try.
 */
static int send_outbox(struct ccr_project *p, struct ccr_config *config,
                       const struct flush_opts *o)
{
    extern char **environ;
    struct ccr_forward_sources src = {
        .env = environ,
        .flag_url = o->url,
        .flag_deadline = o->deadline != NULL ? o->deadline : "30000",
        .config = config,
        .project_root = p->root,
    };
    struct ccr_forwarding f;
    uv_loop_t loop;
    char *warning = NULL;
    char *cause = NULL;
    int status = 1;

    uv_loop_init(&loop);
    if (ccr_forwarding_start(&f, &loop, &src, p->dir, true, &warning, &cause) < 0) {
        ccr_cmd_error("flush: %s", cause);
        goto out;
    }
    if (warning != NULL) {
        ccr_cmd_error("flush: %s", warning);
    }
    if (f.fw == NULL) {
        ccr_cmd_error("flush: no upstream: set OTEL_EXPORTER_OTLP_ENDPOINT, pass --forward "
                      "URL or add a [forward] section to .ccrun/config");
        goto out;
    }
    ccr_forward_close(f.fw, f.cfg.deadline_ms, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    char *text = ccr_forwarding_summary(&f, false);
    struct ccr_forward_stats st;
    ccr_forward_stats(f.fw, &st);
    fprintf(stderr, "ccrun: %s\n", text != NULL ? text : "the outbox is empty");
    free(text);
    /* Exit 1 while something is still waiting, so a script can retry. */
    status = st.spooled > 0 || st.lost > 0 ? 1 : 0;
out:
    ccr_forwarding_finish(&f);
    uv_loop_close(&loop);
    free(warning);
    free(cause);
    return status;
}

/*
 * flush needs no history, only the project's .ccrun for the outbox, the
 * configuration and the log, so it works even when history.db is damaged.
 */
static int run_flush(int argc, char **argv)
{
    struct flush_opts o = {0};
    struct ccr_project p;
    struct ccr_config config = {0};
    char *cause = NULL;
    int status = parse(argc, argv, &o);

    if (status >= 0) {
        return status;
    }
    if (ccr_project_find(o.dir, &p, &cause) < 0) {
        ccr_cmd_error("flush: %s", cause);
        free(cause);
        return 1;
    }
    char *log_path = ccr_xasprintf("%s/ccrun.log", p.dir);
    ccr_log_open(log_path);
    free(log_path);
    ccr_cmd_load_config(p.dir, &config);
    status = send_outbox(&p, &config, &o);
    ccr_config_finish(&config);
    ccr_project_finish(&p);
    ccr_log_close();
    return status;
}

const struct ccr_cmd ccr_cmd_flush = {
    .name = "flush",
    .usage = usage,
    .run = run_flush,
};
