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
extern const struct ccr_cmd ccr_cmd_serve;
extern const struct ccr_cmd ccr_cmd_env;
extern const struct ccr_cmd ccr_cmd_flush;
extern const struct ccr_cmd ccr_cmd_ui;
extern const struct ccr_cmd ccr_cmd_statusline;
extern const struct ccr_cmd ccr_cmd_watch;

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
 * A privacy mode: the first of flag, the environment variable env_name and
 * the configuration file's value that is set decides, else dflt. A value
 * that is not keep, hash or drop is reported and drop, the most private,
 * is used: a typo must never store more than was asked for.
 */
int ccr_cmd_privacy_mode(const char *flag, const char *env_name, const char *file, int dflt,
                         const char *what);

/*
 * Loads the built-in prices, the user's configuration file and the
 * project's (ccrun_dir/config, when ccrun_dir is not NULL), later ones
 * winning. Problems are printed; what could be read is kept.
 */
void ccr_cmd_load_config(const char *ccrun_dir, struct ccr_config *c);
struct ccr_project;

/*
 * The history `serve` and `env` use: the project of dir (or CCRUN_DIR) when
 * given, else the per-user one under $XDG_DATA_HOME/ccrun (created if
 * missing). Returns 0, or a negative errno with *cause set (allocated).
 */
int ccr_serve_project(const char *dir, struct ccr_project *p, char **cause);

/*
 * Prints `export NAME='value'` lines pointing an exporter at 127.0.0.1:port,
 * followed, when grpc_port is not 0, by comment lines naming the gRPC
 * endpoint 127.0.0.1:grpc_port.
 */
void ccr_env_print(FILE *f, int port, int grpc_port, const char *token);

/* Prints the general usage to f. */
void ccr_cmd_usage(FILE *f);

#endif
