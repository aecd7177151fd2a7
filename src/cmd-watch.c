/* SPDX-License-Identifier: MIT */
/*
 * `ccrun watch`: the live figures of the project's running (or last) run,
 * redrawn in place every second, for a second terminal.
 */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "guard.h"
#include "live.h"
#include "project.h"
#include "util.h"
#include "view.h"

#define FETCH_TIMEOUT_MS 500

static const char usage[] = "usage: ccrun watch [--dir DIR] [--once]\n";

/* --dir, and the one flag (--once) of watch. */
struct watch_opts {
    const char *dir;
    bool once;
};

static int on_option(void *opts, int c, const char *arg, char **cause)
{
    struct watch_opts *o = opts;

    if (c == 'C') {
        o->dir = arg;
    } else { /* '1' */
        o->once = true;
    }
    return 0;
}

static int parse(int argc, char **argv, const char **dir, bool *once)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'C'},
        {"once", no_argument, NULL, '1'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char help[] =
        "\nShows the running (or last) run's cost, tokens, cache hit ratio, requests,\n"
        "tool calls and budget, refreshed every second until interrupted. --once\n"
        "prints one line and exits.\n";
    struct watch_opts o = {.dir = *dir, .once = *once};
    int rc = ccr_view_options("watch", argc, argv, "C:", longopts, usage, help, 0, on_option, &o);

    *dir = o.dir;
    *once = o.once;
    return rc;
}

/* A running run that published its receiver answers with the budget too. */
static void ask_run(const char *dir, struct ccr_live *l)
{
    struct ccr_project project;
    char *cause = NULL;

    if (!l->running || ccr_project_find(dir, &project, &cause) < 0) {
        free(cause);
        return;
    }
    char *path = ccr_guard_live_path(project.dir, l->run_id);
    json_t *obj = json_load_file(path, 0, NULL);
    const char *url = json_string_value(json_object_get(obj, "url"));
    const char *token = json_string_value(json_object_get(obj, "token"));
    struct ccr_live fresh;

    if (url != NULL && token != NULL && ccr_live_fetch(url, token, FETCH_TIMEOUT_MS, &fresh) == 0) {
        *l = fresh;
    }
    json_decref(obj);
    free(path);
    ccr_project_finish(&project);
}

/* One line of figures, or why there is none; false when watching cannot go on. */
static bool show(const char *dir, bool tty)
{
    struct ccr_live l;
    char *cause = NULL;
    int rc = ccr_live_from_history(dir, &l, &cause);

    if (rc == -ENOENT) {
        printf("%sccrun: no run recorded yet%s", tty ? "\r\033[K" : "", tty ? "" : "\n");
    } else if (rc < 0) {
        ccr_cmd_error("watch: %s", cause ? cause : "cannot read the history");
        free(cause);
        return false;
    } else {
        ask_run(dir, &l);
        char *line = ccr_live_line(&l);
        printf("%srun %lld %s: %s%s", tty ? "\r\033[K" : "", (long long)l.run_id,
               l.running ? "running" : "ended", line, tty ? "" : "\n");
        free(line);
    }
    fflush(stdout);
    return true;
}

static int run_watch(int argc, char **argv)
{
    const char *dir = NULL;
    bool once = false;
    int status = parse(argc, argv, &dir, &once);
    bool tty = isatty(1);

    if (status >= 0) {
        return status;
    }
    for (;;) {
        if (!show(dir, tty && !once)) {
            return 1;
        }
        if (once) {
            return 0;
        }
        nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
    }
}

const struct ccr_cmd ccr_cmd_watch = {
    .name = "watch",
    .usage = usage,
    .run = run_watch,
};
