/* SPDX-License-Identifier: MIT */
/* The wrapper: record a command's telemetry while it runs, then summarise it. */
#include "cmd.h"

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "ingest.h"
#include "launch.h"
#include "log.h"
#include "project.h"
#include "receiver.h"
#include "record.h"
#include "report.h"
#include "store.h"
#include "util.h"

/* How long a request still arriving when the child exits may take to finish. */
#define CCR_DRAIN_GRACE_MS 500

struct run {
    uv_loop_t loop;
    struct ccr_opts opts;
    struct ccr_project project;
    struct ccr_store *store;
    struct ccr_recorder rec;
    struct ccr_receiver *rx;
    struct ccr_launch launch;
    int64_t run_id;
    uint64_t child_exit_ns;
};

static void on_request(void *ctx, const struct ccr_request *req, struct ccr_reply *reply)
{
    struct run *r = ctx;
    ccr_ingest(&r->rec, req, reply);
}

static void on_child_exit(struct ccr_launch *l, void *ctx)
{
    struct run *r = ctx;

    r->child_exit_ns = ccr_mono_ns();
    if (r->rx != NULL) {
        ccr_receiver_shutdown(r->rx, CCR_DRAIN_GRACE_MS);
        r->rx = NULL;
    }
}

static char *command_json(char *const *argv)
{
    json_t *arr = json_array();

    for (size_t i = 0; argv[i] != NULL; i++) {
        json_t *s = json_string(argv[i]);
        json_array_append_new(arr, s != NULL ? s : json_string("?"));
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return text;
}

/*
 * Everything that lets the run be recorded. Any failure is reported once and
 * leaves r->store NULL: the command then runs exactly as it would without ccrun.
 */
static void start_recording(struct run *r, char *const *argv)
{
    char *cause = NULL;
    char *cwd = getcwd(NULL, 0);
    char *log_path;

    if (ccr_project_find(r->opts.dir, &r->project, &cause) < 0 ||
        ccr_project_prepare(&r->project, &cause) < 0) {
        goto fail;
    }
    log_path = ccr_xasprintf("%s/ccrun.log", r->project.dir);
    ccr_log_open(log_path);
    free(log_path);
    if (ccr_store_open(r->project.db_path, false, &r->store, &cause) < 0) {
        goto fail;
    }
    char *cmd = command_json(argv);
    int rc = ccr_store_run_start(r->store, cmd, cwd ? cwd : "", ccr_now_ms(), &r->run_id);
    free(cmd);
    if (rc < 0) {
        cause = ccr_xasprintf("cannot add the run to %s", r->project.db_path);
        goto fail;
    }
    if (ccr_receiver_start(&r->loop, on_request, r, &r->rx, &cause) < 0) {
        goto fail;
    }
    ccr_recorder_init(&r->rec, r->store, r->run_id);
    free(cwd);
    return;
fail:
    ccr_cmd_error("not recording this run: %s", cause ? cause : "unknown error");
    fprintf(stderr, "ccrun: hint: the command runs as usual; fix the above or pass --dir\n");
    if (cause != NULL) {
        ccr_log_error("run", "not recording: %s", cause);
    }
    free(cause);
    free(cwd);
    ccr_store_close(r->store);
    r->store = NULL;
}

static void finish_recording(struct run *r)
{
    struct ccr_summary s;
    const struct ccr_launch *l = &r->launch;

    if (r->store == NULL) {
        return;
    }
    /* exit_status is already 128 + N after signal N: ccrun's own exit status. */
    if (ccr_store_run_end(r->store, r->run_id, ccr_now_ms(), l->exit_status,
                          l->term_signal) < 0) {
        ccr_cmd_error("cannot finish the run record in %s", r->project.db_path);
    }
    if (r->opts.quiet) {
        return;
    }
    if (ccr_store_summary(r->store, r->run_id, &s) < 0) {
        ccr_cmd_error("cannot read the run back from %s", r->project.db_path);
        return;
    }
    ccr_report_text(stderr, &s, ccr_report_use_color(2));
    ccr_summary_finish(&s);
}

static int parse_options(struct run *r, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'C'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+C:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'C':
            r->opts.dir = optarg;
            break;
        case 'q':
            r->opts.quiet = 1;
            break;
        case 'h':
            ccr_cmd_usage(stdout);
            return 0;
        default:
            ccr_cmd_error("unknown option %s", argv[optind - 1]);
            fprintf(stderr, "usage: ccrun [options] [--] COMMAND [ARG...] (see ccrun --help)\n");
            return 125;
        }
    }
    if (optind >= argc) {
        ccr_cmd_error("no command to run");
        fprintf(stderr, "usage: ccrun [options] [--] COMMAND [ARG...] (see ccrun --help)\n");
        return 125;
    }
    return -1;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h)) {
        uv_close(h, NULL);
    }
}

int ccr_cmd_run(int argc, char **argv)
{
    struct run r = {0};
    char *warning = NULL;
    int status = parse_options(&r, argc, argv);

    if (status >= 0) {
        return status;
    }
    char **cmd = argv + optind;
    /*
     * Under a file size limit (ulimit -f) a growing history would kill ccrun
     * with SIGXFSZ and leave the command without its parent. Ignored, the
     * write fails like one to a full disk and the run goes on; libuv gives
     * the child the default dispositions back.
     */
    signal(SIGXFSZ, SIG_IGN);
    uv_loop_init(&r.loop);
    start_recording(&r, cmd);

    struct ccr_telemetry tel = {0};
    if (r.store != NULL) {
        tel.port = ccr_receiver_port(r.rx);
        tel.token = ccr_receiver_token(r.rx);
        tel.settings_dir = r.project.dir;
    }
    ccr_launch_init(&r.launch, &r.loop, cmd, &tel, &warning);
    if (warning != NULL) {
        ccr_cmd_error("%s", warning);
        free(warning);
    }
    int rc = ccr_launch_spawn(&r.launch, on_child_exit, &r);
    if (rc < 0) {
        ccr_cmd_error("cannot run %s: %s", cmd[0], uv_strerror(rc));
        r.launch.exit_status = ccr_launch_spawn_status(rc);
        on_child_exit(&r.launch, &r);
    }
    uv_run(&r.loop, UV_RUN_DEFAULT);

    status = r.launch.exit_status;
    finish_recording(&r);
    if (getenv("CCRUN_TIMING") != NULL && r.child_exit_ns != 0) {
        fprintf(stderr, "ccrun: end of run took %.3f ms\n",
                (double)(ccr_mono_ns() - r.child_exit_ns) / 1e6);
    }
    ccr_recorder_finish(&r.rec);
    ccr_store_close(r.store);
    ccr_launch_finish(&r.launch);
    uv_walk(&r.loop, close_walk, NULL);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    uv_loop_close(&r.loop);
    ccr_project_finish(&r.project);
    ccr_log_close();
    return status;
}
