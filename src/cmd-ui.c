/* SPDX-License-Identifier: MIT */
/*
 * `ccrun ui`: the history as a dashboard in a browser, served read-only by
 * ccrun itself on 127.0.0.1 until SIGINT or SIGTERM.
 */
#include "cmd.h"

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "log.h"
#include "project.h"
#include "ui-api.h"
#include "ui-assets.h"
#include "ui-server.h"
#include "util.h"
#include "view.h"

static const char usage[] = "usage: ccrun ui [--port PORT] [--open] [--dir DIR]\n";

static const char help[] =
    "\n"
    "Serves a dashboard of the project's history on 127.0.0.1 until SIGINT or\n"
    "SIGTERM: the runs, each run's figures and charts, the waterfall of every\n"
    "prompt, the events, tools and failures. It prints a URL carrying a random\n"
    "token; only a browser that opened it gets in. New runs show up as they\n"
    "are recorded. The history is only read.\n"
    "\n"
    "  --port PORT   listen on PORT (default 0: the kernel picks one)\n"
    "  --open        open the URL with xdg-open\n"
    "  --dir DIR     the project directory (as for the other commands)\n";

/* An embedded file with its compressed copy and ETag, made once at start. */
struct served_asset {
    const struct ccr_ui_asset *asset;
    uint8_t *gz;
    size_t gz_len;
    char etag[24];
};

struct ui {
    uv_loop_t loop;
    uv_signal_t signals[2];
    struct ccr_ui_server *srv;
    struct ccr_ui_api api;
    struct ccr_project project;
    struct served_asset *assets;
    int port;
    bool open;
    const char *dir;
};

/* Returns an exit status when done (help, a usage error), else -1. */
static int parse(struct ui *u, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"open", no_argument, NULL, 'o'},
        {"dir", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    int64_t port;
    char *cause = NULL;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "p:oC:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (ccr_view_parse_count(optarg, &port, &cause) < 0 || port > 65535) {
                ccr_cmd_error("ui: bad port %s", optarg);
                free(cause);
                return 2;
            }
            u->port = (int)port;
            break;
        case 'o':
            u->open = true;
            break;
        case 'C':
            u->dir = optarg;
            break;
        case 'h':
            printf("%s%s", usage, help);
            return 0;
        default:
            ccr_cmd_error("ui: unknown option %s", argv[optind - 1]);
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        ccr_cmd_error("ui: unexpected argument %s", argv[optind]);
        fputs(usage, stderr);
        return 2;
    }
    return -1;
}

/*
 * The files never change while ccrun runs, so each is compressed and
 * hashed once here rather than on every request.
 */
static void prepare_assets(struct ui *u)
{
    u->assets = ccr_xcalloc(ccr_ui_n_assets, sizeof(*u->assets));
    for (size_t i = 0; i < ccr_ui_n_assets; i++) {
        struct served_asset *a = &u->assets[i];
        a->asset = &ccr_ui_assets[i];
        ccr_ui_etag(a->asset->data, a->asset->len, a->etag);
        /* Made once, so the smallest is worth its time. */
        if (ccr_ui_gzip(a->asset->data, a->asset->len, 9, &a->gz, &a->gz_len) < 0) {
            a->gz = NULL;
        }
    }
}

static void serve_asset(struct ui *u, const char *path, struct ccr_ui_response *res)
{
    /* Every view of the page is a fragment of "/", so "/" is the page. */
    const char *want = strcmp(path, "/") == 0 ? "/index.html" : path;

    for (size_t i = 0; i < ccr_ui_n_assets; i++) {
        const struct served_asset *a = &u->assets[i];
        if (strcmp(a->asset->path, want) == 0) {
            res->status = 200;
            res->type = a->asset->type;
            res->body = a->asset->data;
            res->len = a->asset->len;
            res->gz_body = a->gz;
            res->gz_len = a->gz_len;
            res->etag = a->etag;
            res->cache_revalidate = true;
            return;
        }
    }
}

/* Requests that passed the server's checks: the API, or one of the embedded files. */
static void on_request(void *ctx, const struct ccr_ui_request *req, struct ccr_ui_response *res)
{
    struct ui *u = ctx;
    char *body = NULL;

    if (strncmp(req->path, "/api/v1/", 8) != 0) {
        serve_asset(u, req->path, res);
        return;
    }
    res->status = ccr_ui_api_get(&u->api, req->path + 8, req->query, &body);
    res->type = "application/json";
    res->body = (const uint8_t *)body;
    res->len = body != NULL ? strlen(body) : 0;
    res->owned = true;
}

/* Closing the signals and the server leaves the loop nothing to wait for, so it ends. */
static void on_stop_signal(uv_signal_t *sig, int signum)
{
    struct ui *u = sig->data;

    for (int i = 0; i < 2; i++) {
        uv_signal_stop(&u->signals[i]);
        uv_close((uv_handle_t *)&u->signals[i], NULL);
    }
    ccr_ui_server_stop(u->srv);
    u->srv = NULL;
}

static void on_opener_exit(uv_process_t *p, int64_t status, int signum)
{
    uv_close((uv_handle_t *)p, (uv_close_cb)free);
}

/* Hands the URL to the desktop's browser; failing that, the printed URL remains. */
static void open_browser(struct ui *u, const char *url)
{
    uv_process_t *p = ccr_xcalloc(1, sizeof(*p));
    char *args[] = {(char *)"xdg-open", (char *)url, NULL};
    uv_process_options_t o = {.file = "xdg-open", .args = args, .exit_cb = on_opener_exit};
    uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE}, {.flags = UV_IGNORE},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2}};

    o.stdio = stdio;
    o.stdio_count = 3;
    int rc = uv_spawn(&u->loop, p, &o);
    if (rc < 0) {
        ccr_cmd_error("ui: cannot run xdg-open: %s", uv_strerror(rc));
        uv_close((uv_handle_t *)p, (uv_close_cb)free);
    }
}

/*
 * Finds the history (it need not exist yet: the API opens it when it
 * appears), starts the server and prints the URL. The URL alone goes to
 * stdout, so a script can read it; the token is never logged.
 */
static int start(struct ui *u)
{
    char *cause = NULL;

    if (ccr_project_find(u->dir, &u->project, &cause) < 0) {
        ccr_cmd_error("ui: %s", cause);
        free(cause);
        return -1;
    }
    u->api.db_path = u->project.db_path;
    prepare_assets(u);
    if (ccr_ui_server_start(&u->loop, u->port, on_request, u, &u->srv, &cause) < 0) {
        ccr_cmd_error("ui: %s", cause);
        free(cause);
        return -1;
    }
    char *url = ccr_xasprintf("http://127.0.0.1:%d/?token=%s", ccr_ui_server_port(u->srv),
                              ccr_ui_server_token(u->srv));
    fprintf(stderr, "ccrun: ui: showing %s until SIGINT or SIGTERM; open:\n", u->project.db_path);
    printf("%s\n", url);
    fflush(stdout);
    if (u->open) {
        open_browser(u, url);
    }
    free(url);
    return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h)) {
        uv_close(h, NULL);
    }
}

static int run_ui(int argc, char **argv)
{
    static const int signums[2] = {SIGINT, SIGTERM};
    struct ui u;
    int status;

    memset(&u, 0, sizeof(u));
    status = parse(&u, argc, argv);
    if (status >= 0) {
        return status;
    }
    uv_loop_init(&u.loop);
    for (int i = 0; i < 2; i++) {
        uv_signal_init(&u.loop, &u.signals[i]);
        u.signals[i].data = &u;
        uv_signal_start(&u.signals[i], on_stop_signal, signums[i]);
    }
    status = 0;
    if (start(&u) < 0) {
        status = 1;
        on_stop_signal(&u.signals[0], 0);
    }
    uv_run(&u.loop, UV_RUN_DEFAULT);
    uv_walk(&u.loop, close_walk, NULL);
    uv_run(&u.loop, UV_RUN_DEFAULT);
    uv_loop_close(&u.loop);
    ccr_ui_api_finish(&u.api);
    for (size_t i = 0; u.assets != NULL && i < ccr_ui_n_assets; i++) {
        free(u.assets[i].gz);
    }
    free(u.assets);
    if (u.project.root != NULL) {
        ccr_project_finish(&u.project);
    }
    return status;
}

const struct ccr_cmd ccr_cmd_ui = {
    .name = "ui",
    .usage = usage,
    .run = run_ui,
};
