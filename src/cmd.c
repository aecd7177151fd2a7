/* SPDX-License-Identifier: MIT */
/* Dispatch between subcommands and the wrapper, and the shared usage text. */
#include "cmd.h"

#include <stdarg.h>
#include <string.h>

#include <sodium.h>

static const struct ccr_cmd *const commands[] = {
    &ccr_cmd_last,
    &ccr_cmd_serve,
    &ccr_cmd_env,
};

void ccr_cmd_error(const char *fmt, ...)
{
    va_list ap;

    fputs("ccrun: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void ccr_cmd_usage(FILE *f)
{
    fputs("usage: ccrun [options] [--] COMMAND [ARG...]\n"
          "       ccrun last [--json] [--dir DIR]\n"
          "       ccrun serve [--port PORT] [--dir DIR] [--no-auth]\n"
          "       ccrun env [--dir DIR] [--settings]\n"
          "\n"
          "Runs COMMAND (usually claude) with its OpenTelemetry export pointed at a\n"
          "receiver inside ccrun, records every event in PROJECT/.ccrun/history.db, and\n"
          "prints a cost, token and tool summary to stderr when the command exits.\n"
          "ccrun exits with the command's status (128+N when signal N killed it).\n"
          "\n"
          "Commands:\n"
          "  last              print the last run's summary again\n"
          "  serve             receive and record OTLP until stopped, for exporters\n"
          "                    ccrun does not start (default port 4318)\n"
          "  env               print the variables that point an exporter at serve\n"
          "\n"
          "Options:\n"
          "  -C, --dir DIR     the project directory; history goes to DIR/.ccrun\n"
          "                    (default: the git top level, else the current directory)\n"
          "  -q, --quiet       print no summary\n"
          "      --json        with last: print the summary as one JSON object\n"
          "  -h, --help        show this help\n"
          "  -V, --version     show ccrun's version\n"
          "\n"
          "A command named like a subcommand runs with --: ccrun -- last\n"
          "\n"
          "Environment:\n"
          "  CCRUN_DIR         the project directory, as --dir\n"
          "  CCRUN_LOG         level of .ccrun/ccrun.log: error, warn, info (default), debug\n"
          "  NO_COLOR          never colour the output\n",
          f);
}

int ccr_cmd_main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        ccr_cmd_error("cannot initialise libsodium");
        return 125;
    }
    if (argc < 2) {
        ccr_cmd_usage(stderr);
        return 125;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        ccr_cmd_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("ccrun %s\n", CCRUN_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i]->name) == 0) {
            return commands[i]->run(argc - 1, argv + 1);
        }
    }
    return ccr_cmd_run(argc, argv);
}
