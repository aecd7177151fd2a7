/* SPDX-License-Identifier: MIT */
/*
 * `ccrun statusline`: the line Claude Code shows under its prompt while
 * ccrun records it, with the run's live figures, after the user's own
 * status line when they have one.
 */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "live.h"
#include "util.h"

/* Claude Code's JSON on stdin is a few kilobytes; more is not read. */
#define MAX_STDIN (60u * 1024)
/* The status line is redrawn every second: a slow answer is worse than none. */
#define FETCH_TIMEOUT_MS 500

static const char usage[] = "usage: ccrun statusline [--dir DIR]\n";

static void read_all(int fd, struct ccr_buf *b)
{
    char chunk[4096];
    ssize_t n;

    while (b->len < MAX_STDIN && (n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return;
        }
        ccr_buf_append(b, chunk, (size_t)n);
    }
}

/*
 * Runs the user's own status-line command with the same JSON on its stdin
 * and prints what it prints. The JSON fits a pipe's buffer, so writing it
 * all before reading cannot stall.
 */
static void run_next(const char *command, const struct ccr_buf *in)
{
    int to[2], from[2];

    if (pipe(to) < 0) {
        return;
    }
    if (pipe(from) < 0) {
        close(to[0]);
        close(to[1]);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[0]);
        close(to[1]);
        close(from[0]);
        close(from[1]);
        unsetenv(CCR_LIVE_NEXT_ENV);
        execl("/bin/sh", "sh", "-c", command, (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    if (pid > 0 && in->len > 0 && write(to[1], in->data, in->len) < 0) {
        /* The command need not read its input. */
    }
    close(to[1]);
    struct ccr_buf out = {0};
    if (pid > 0) {
        read_all(from[0], &out);
        waitpid(pid, NULL, 0);
    }
    close(from[0]);
    if (out.len > 0) {
        fwrite(out.data, 1, out.len, stdout);
        if (out.data[out.len - 1] != '\n') {
            fputc('\n', stdout);
        }
    }
    ccr_buf_finish(&out);
}

static int run_statusline(int argc, char **argv)
{
    const char *dir = NULL;
    struct ccr_buf in = {0};
    struct ccr_live live;
    char *cause = NULL;
    int rc;

    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(usage, stdout);
        fputs("\nPrints one line for Claude Code's status line: cost so far, tokens, cache\n"
              "hit ratio, requests, tool calls and failures, budget used. Under ccrun it\n"
              "asks the running ccrun; otherwise it reads the project's newest run.\n", stdout);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--dir") == 0) {
        dir = argv[2];
    } else if (argc != 1) {
        fputs(usage, stderr);
        return 2;
    }
    read_all(0, &in);
    const char *next = getenv(CCR_LIVE_NEXT_ENV);
    if (next != NULL && next[0] != '\0') {
        fflush(stdout);
        run_next(next, &in);
    }
    ccr_buf_finish(&in);
    const char *url = getenv(CCR_LIVE_URL_ENV);
    const char *token = getenv(CCR_LIVE_TOKEN_ENV);
    if (url != NULL && token != NULL && dir == NULL) {
        rc = ccr_live_fetch(url, token, FETCH_TIMEOUT_MS, &live);
    } else {
        rc = ccr_live_from_history(dir, &live, &cause);
    }
    free(cause);
    if (rc < 0) {
        puts("ccrun: no figures");
        return 0;
    }
    char *line = ccr_live_line(&live);
    puts(line);
    free(line);
    return 0;
}

const struct ccr_cmd ccr_cmd_statusline = {
    .name = "statusline",
    .usage = usage,
    .run = run_statusline,
};
