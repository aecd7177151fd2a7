/* SPDX-License-Identifier: MIT */
/* Command-line entry: option parsing, subcommand dispatch and exit statuses. */
#ifndef CCR_CMD_H
#define CCR_CMD_H

#include <stdio.h>

/* One subcommand; argv[0] is its name. Returns the process exit status. */
struct ccr_cmd {
    const char *name;
    const char *usage;
    int (*run)(int argc, char **argv);
};

extern const struct ccr_cmd ccr_cmd_last;
extern const struct ccr_cmd ccr_cmd_prices;
extern const struct ccr_cmd ccr_cmd_sessions;
extern const struct ccr_cmd ccr_cmd_show;
extern const struct ccr_cmd ccr_cmd_stats;
extern const struct ccr_cmd ccr_cmd_export;
extern const struct ccr_cmd ccr_cmd_prune;

/* Options shared by the wrapper and the subcommands. */
struct ccr_opts {
    const char *dir;
    int quiet;
    int json;
};

/* Wraps a command: argv holds ccrun's options, then the command. */
int ccr_cmd_run(int argc, char **argv);

/* The whole program: dispatches to a subcommand or wraps a command. */
int ccr_cmd_main(int argc, char **argv);

/* Prints "ccrun: <message>" to stderr. */
void ccr_cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct ccr_config;

/*
 * Loads the built-in prices, the user's configuration file and the
 * project's (ccrun_dir/config, when ccrun_dir is not NULL), later ones
 * winning. Problems are printed; what could be read is kept.
 */
void ccr_cmd_load_config(const char *ccrun_dir, struct ccr_config *c);

/* Prints the general usage to f. */
void ccr_cmd_usage(FILE *f);

#endif
