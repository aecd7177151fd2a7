/* SPDX-License-Identifier: MIT */
/*
 * What the history subcommands (sessions, show, stats, export, prune) share:
 * their time and count arguments, and opening the project's history with
 * the user-facing messages that go with it.
 */
#ifndef CCR_VIEW_H
#define CCR_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "project.h"
#include "store.h"

/*
 * An age such as "90d", "12h", "30m", "2w" or "45s" in milliseconds.
 * Returns 0, or -EINVAL with *cause set (allocated; the caller frees).
 */
int ccr_view_parse_age(const char *arg, int64_t *ms, char **cause);

/*
 * The start of a --since range: an age before now_ms ("7d"), or a local date
 * or time ("2026-12-03", "2026-12-03T14:00", "2026-12-03 14:00:05") read in
 * the TZ of the process. Returns 0, or -EINVAL with *cause set.
 */
int ccr_view_parse_since(const char *arg, int64_t now_ms, int64_t *ms, char **cause);

/* A count such as --limit or --keep: digits only. Returns 0 or -EINVAL. */
int ccr_view_parse_count(const char *arg, int64_t *n, char **cause);

struct option;

/*
 * Gives one option of a subcommand, as getopt_long returned it, its meaning
 * in opts: 0, or -1 with *cause set (allocated; the caller frees).
 */
typedef int (*ccr_view_option_cb)(void *opts, int c, const char *arg, char **cause);

/*
 * A subcommand's option loop. -h/--help prints usage and help and returns
 * 0. An unknown option, one without its value, what cb refuses, or more than
 * max_args arguments print "ccrun: CMD: ..." and usage to stderr and return
 * 2. Otherwise returns -1, the arguments from argv[optind] on.
 */
int ccr_view_options(const char *cmd, int argc, char **argv, const char *shortopts,
                     const struct option *longopts, const char *usage, const char *help,
                     int max_args, ccr_view_option_cb cb, void *opts);

/* A project and its history, opened for one subcommand. */
struct ccr_view {
    struct ccr_project project;
    struct ccr_store *store; /* NULL when the project has no history yet */
};

/*
 * Finds the project (dir as for --dir) and opens its history, for writing
 * when write is true. A missing history is not an error: v->store stays
 * NULL. On failure prints "ccrun: CMD: …" to stderr and returns a negative
 * errno. Release v with ccr_view_finish in every case.
 */
int ccr_view_open(struct ccr_view *v, const char *cmd, const char *dir, bool write);
void ccr_view_finish(struct ccr_view *v);

#endif
