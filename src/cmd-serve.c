/* SPDX-License-Identifier: MIT */
/*
 * `ccrun serve`: the receiver as a long-running foreground process, for
 * exporters ccrun did not start (IDE extensions, a Claude Code started
 * elsewhere, other agents). Everything it receives goes into one run.
 */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "config.h"
#include "batch.h"
#include "checkpoint.h"
#include "ingest.h"
#include "log.h"
#include "privacy.h"
#include "project.h"
#include "receiver.h"
#include "record.h"
#include "store.h"
#include "util.h"

/* The standard OTLP/HTTP port, which exporters use when told nothing else. */
#define SERVE_DEFAULT_PORT 4318
/* --grpc-port not given: no second listener. */
#define SERVE_NO_PORT (-1)
/* How long a request in flight at SIGINT/SIGTERM may take to finish. */
#define SERVE_GRACE_MS 2000

static const char usage[] =
    "usage: ccrun serve [--port PORT] [--grpc-port PORT] [--dir DIR] [--no-auth]\n";

/* Everything one `ccrun serve` owns; it lives on run_serve's stack. */
struct serve {
    uv_loop_t loop;
    uv_signal_t signals[2];
    struct ccr_project project;
    struct ccr_store *store;
    struct ccr_recorder rec;
    struct ccr_batch batch;
    struct ccr_checkpointer ckpt;
    struct ccr_receiver *rx;
    struct ccr_receiver *grpc_rx; /* the --grpc-port listener, or NULL */
    struct ccr_privacy privacy;
    struct ccr_config config;
    char *state_path;
    int64_t run_id;
    int port;
    int grpc_port; /* SERVE_NO_PORT without --grpc-port */
    bool no_auth;
    const char *dir;
};

/* Creates each missing directory of path with mode 0700, like mkdir -p. */
static int make_dirs(const char *path)
{
    char *p = ccr_xstrdup(path);
    int rc = 0;

    for (char *slash = p + 1;; slash++) {
        char saved = *slash;
        if (saved != '/' && saved != '\0') {
            continue;
        }
        *slash = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
            rc = -errno;
            break;
        }
        *slash = saved;
        if (saved == '\0') {
            break;
        }
    }
    free(p);
    return rc;
}

/*
 * The per-user history is a project rooted at $XDG_DATA_HOME/ccrun, so that
 * `ccrun last --dir` and the store need nothing new to read it.
 */
int ccr_serve_project(const char *dir, struct ccr_project *p, char **cause)
{
    const char *data = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    char *user_dir;
    int rc;

    if ((dir != NULL && dir[0] != '\0') || getenv("CCRUN_DIR") != NULL) {
        return ccr_project_find(dir, p, cause);
    }
    if (data != NULL && data[0] == '/') {
        user_dir = ccr_xasprintf("%s/ccrun", data);
    } else if (home != NULL && home[0] == '/') {
        user_dir = ccr_xasprintf("%s/.local/share/ccrun", home);
    } else {
        *cause = ccr_xstrdup("no per-user data directory: set XDG_DATA_HOME or HOME, or pass "
                             "--dir");
        return -ENOENT;
    }
    rc = make_dirs(user_dir);
    if (rc < 0) {
        *cause = ccr_xasprintf("create %s: %s", user_dir, strerror(-rc));
    } else {
        rc = ccr_project_find(user_dir, p, cause);
    }
    free(user_dir);
    return rc;
}

static bool on_request(void *ctx, const struct ccr_request *req, struct ccr_reply *reply)
{
    struct serve *sv = ctx;
    return ccr_batch_add(&sv->batch, req, reply);
}

/*
 * Stops listening and lets requests in flight finish; the loop ends once
 * the last handle is closed, and every answered request is committed.
 */
static void on_stop_signal(uv_signal_t *sig, int signum)
{
    struct serve *sv = sig->data;

    ccr_log_info("serve", "stopping on signal %d", signum);
    for (int i = 0; i < 2; i++) {
        uv_close((uv_handle_t *)&sv->signals[i], NULL);
    }
    if (sv->rx != NULL) {
        ccr_batch_flush(&sv->batch);
        ccr_receiver_shutdown(sv->rx, SERVE_GRACE_MS);
        sv->rx = NULL;
    }
    if (sv->grpc_rx != NULL) {
        ccr_receiver_shutdown(sv->grpc_rx, SERVE_GRACE_MS);
        sv->grpc_rx = NULL;
    }
    ccr_checkpointer_stop(&sv->ckpt);
}

/* The port the --grpc-port listener got, or 0 when there is none. */
static int grpc_bound_port(const struct serve *sv)
{
    return sv->grpc_rx != NULL ? ccr_receiver_port(sv->grpc_rx) : 0;
}

/*
 * Writes the ports and token for `ccrun env` into a file only the user can
 * read, next to the history it belongs to.
 */
static int write_state(struct serve *sv, char **cause)
{
    json_t *state = json_pack("{s:i, s:i, s:s?}", "port", ccr_receiver_port(sv->rx), "pid",
                              (int)getpid(), "token",
                              sv->no_auth ? NULL : ccr_receiver_token(sv->rx));
    if (sv->grpc_rx != NULL) {
        json_object_set_new(state, "grpc_port", json_integer(grpc_bound_port(sv)));
    }
    char *text = json_dumps(state, JSON_COMPACT);
    int fd, rc = 0;

    json_decref(state);
    sv->state_path = ccr_xasprintf("%s/serve.json", sv->project.dir);
    fd = open(sv->state_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        rc = -errno;
        *cause = ccr_xasprintf("write %s: %s", sv->state_path, strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    free(text);
    return rc;
}

static const char help[] =
    "\n"
    "Receives OTLP (HTTP/1.1 protobuf or JSON, gzip, and gRPC over h2c) on\n"
    "127.0.0.1:PORT (default 4318; 0 lets the kernel pick) until SIGINT or\n"
    "SIGTERM, recording into DIR/.ccrun/history.db, or into the per-user\n"
    "history under $XDG_DATA_HOME/ccrun when no --dir is given. Prints the\n"
    "variables an exporter needs once; `ccrun env` prints them again.\n"
    "--grpc-port PORT also listens on 127.0.0.1:PORT (4317 by convention for\n"
    "OTLP/gRPC; 0 lets the kernel pick) for the same requests, with the same\n"
    "token, into the same history.\n"
    "--no-auth accepts requests without the bearer token.\n";

/* A port number 0 to 65535; prints why not and returns false. */
static bool parse_port(const char *arg, int *port)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v < 0 || v > 65535) {
        ccr_cmd_error("serve: bad port %s", arg);
        fputs(usage, stderr);
        return false;
    }
    *port = (int)v;
    return true;
}

/* Returns an exit status to stop with, or -1 to go on and serve. */
static int parse(struct serve *sv, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"grpc-port", required_argument, NULL, 'g'},
        {"dir", required_argument, NULL, 'C'},
        {"no-auth", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "p:C:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (!parse_port(optarg, &sv->port)) {
                return 2;
            }
            break;
        case 'g':
            if (!parse_port(optarg, &sv->grpc_port)) {
                return 2;
            }
            break;
        case 'C':
            sv->dir = optarg;
            break;
        case 'n':
            sv->no_auth = true;
            break;
        case 'h':
            printf("%s%s", usage, help);
            return 0;
        default:
            ccr_cmd_error("serve: unknown option %s", argv[optind - 1]);
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        ccr_cmd_error("serve: unexpected argument %s", argv[optind]);
        fputs(usage, stderr);
        return 2;
    }
    return -1;
}

/* Everything up to listening; on failure *cause says why. */
static int start(struct serve *sv, char **argv, char **cause)
{
    struct ccr_receiver_opts opts = {.port = sv->port, .no_auth = sv->no_auth};
    char *cwd = getcwd(NULL, 0);
    char *log_path;
    int rc;

    if ((rc = ccr_serve_project(sv->dir, &sv->project, cause)) < 0 ||
        (rc = ccr_project_prepare(&sv->project, cause)) < 0) {
        goto out;
    }
    log_path = ccr_xasprintf("%s/ccrun.log", sv->project.dir);
    ccr_log_open(log_path);
    free(log_path);
    /* Exporters serve did not start cannot be told what to send: hash is the default. */
    ccr_cmd_load_config(sv->project.dir, &sv->config);
    sv->privacy.prompts = ccr_cmd_privacy_mode(NULL, "CCRUN_PROMPTS", sv->config.prompts,
                                               CCR_MODE_HASH, "prompt");
    sv->privacy.tool_details = ccr_cmd_privacy_mode(NULL, "CCRUN_TOOL_DETAILS",
                                                    sv->config.tool_details, CCR_MODE_HASH,
                                                    "tool-details");
    if ((rc = ccr_privacy_load_key(&sv->privacy, sv->project.dir, cause)) < 0) {
        goto out;
    }
    if ((rc = ccr_store_open(sv->project.db_path, false, &sv->store, cause)) < 0) {
        goto out;
    }
    ccr_checkpointer_start(&sv->ckpt, &sv->loop, sv->store, sv->project.db_path);
    json_t *cmd = json_pack("[s,s]", "ccrun", "serve");
    char *cmd_json = json_dumps(cmd, JSON_COMPACT);
    json_decref(cmd);
    rc = ccr_store_run_start(sv->store, cmd_json, cwd != NULL ? cwd : "", ccr_now_ms(), NULL,
                             &sv->run_id);
    free(cmd_json);
    if (rc < 0) {
        *cause = ccr_xasprintf("cannot add the run to %s", sv->project.db_path);
        goto out;
    }
    ccr_recorder_init(&sv->rec, sv->store, sv->run_id);
    sv->rec.privacy = &sv->privacy;
    sv->rec.prices = &sv->config.prices;
    if ((rc = ccr_receiver_listen(&sv->loop, &opts, on_request, sv, &sv->rx, cause)) < 0) {
        goto out;
    }
    if (sv->grpc_port != SERVE_NO_PORT) {
        /* The second listener is the same receiver code: it takes HTTP/1.1 as well. */
        struct ccr_receiver_opts grpc_opts = {.port = sv->grpc_port, .no_auth = sv->no_auth,
                                              .token = ccr_receiver_token(sv->rx)};
        rc = ccr_receiver_listen(&sv->loop, &grpc_opts, on_request, sv, &sv->grpc_rx, cause);
        if (rc < 0) {
            goto out;
        }
    }
    sv->privacy.token = sv->no_auth ? NULL : ccr_receiver_token(sv->rx);
    rc = write_state(sv, cause);
out:
    free(cwd);
    return rc;
}

/*
 * The banner goes to stderr and the export lines to stdout, so that
 * `ccrun serve > env.sh` captures exactly what a shell can source.
 */
static void print_banner(const struct serve *sv)
{
    int port = ccr_receiver_port(sv->rx);

    fprintf(stderr, "ccrun: serving OTLP (http/protobuf, http/json, grpc) on "
                    "http://127.0.0.1:%d%s\n", port, sv->no_auth ? " without a token" : "");
    if (sv->grpc_rx != NULL) {
        fprintf(stderr, "ccrun: and OTLP/gRPC on http://127.0.0.1:%d\n", grpc_bound_port(sv));
    }
    fprintf(stderr, "ccrun: recording into %s until SIGINT or SIGTERM\n", sv->project.db_path);
    ccr_env_print(stdout, port, grpc_bound_port(sv),
                  sv->no_auth ? NULL : ccr_receiver_token(sv->rx));
    fflush(stdout);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h)) {
        uv_close(h, NULL);
    }
}

static int run_serve(int argc, char **argv)
{
    struct serve sv = {.port = SERVE_DEFAULT_PORT, .grpc_port = SERVE_NO_PORT};
    char *cause = NULL;
    int status = parse(&sv, argc, argv);

    if (status >= 0) {
        return status;
    }
    uv_loop_init(&sv.loop);
    ccr_batch_init(&sv.batch, &sv.loop, &sv.rec, NULL, NULL);
    static const int signums[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++) {
        uv_signal_init(&sv.loop, &sv.signals[i]);
        sv.signals[i].data = &sv;
        uv_signal_start(&sv.signals[i], on_stop_signal, signums[i]);
    }
    status = 0;
    /* On failure the signals are closed as if one had come, so the loop ends at once. */
    if (start(&sv, argv, &cause) < 0) {
        ccr_cmd_error("serve: %s", cause != NULL ? cause : "cannot start");
        free(cause);
        status = 1;
        on_stop_signal(&sv.signals[0], 0);
    } else {
        print_banner(&sv);
    }
    uv_run(&sv.loop, UV_RUN_DEFAULT);
    ccr_batch_flush(&sv.batch);
    /* The state file names a port nobody listens on any more. */
    if (sv.state_path != NULL) {
        unlink(sv.state_path);
        free(sv.state_path);
    }
    if (sv.store != NULL && ccr_store_run_end(sv.store, sv.run_id, ccr_now_ms(), 0, 0) < 0) {
        ccr_cmd_error("serve: cannot finish the run record in %s", sv.project.db_path);
        status = 1;
    }
    ccr_recorder_finish(&sv.rec);
    ccr_store_close(sv.store);
    ccr_config_finish(&sv.config);
    uv_walk(&sv.loop, close_walk, NULL);
    uv_run(&sv.loop, UV_RUN_DEFAULT);
    uv_loop_close(&sv.loop);
    ccr_checkpointer_finish(&sv.ckpt);
    ccr_project_finish(&sv.project);
    ccr_log_close();
    if (status == 0) {
        fprintf(stderr, "ccrun: stopped; everything received is in the history\n");
    }
    return status;
}

const struct ccr_cmd ccr_cmd_serve = {
    .name = "serve",
    .usage = usage,
    .run = run_serve,
};
