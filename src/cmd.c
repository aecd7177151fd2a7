/* SPDX-License-Identifier: MIT */
/* Dispatch between subcommands and the wrapper, and the shared usage text. */
#include "cmd.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "privacy.h"
#include "util.h"

static const struct ccr_cmd *const commands[] = {
    &ccr_cmd_last,
    &ccr_cmd_prices,
    &ccr_cmd_sessions,
    &ccr_cmd_show,
    &ccr_cmd_stats,
    &ccr_cmd_export,
    &ccr_cmd_prune,
    &ccr_cmd_serve,
    &ccr_cmd_env,
    &ccr_cmd_flush,
    &ccr_cmd_ui,
    &ccr_cmd_statusline,
    &ccr_cmd_watch,
};

static const struct ccr_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(name, commands[i]->name) == 0) {
            return commands[i];
        }
    }
    return NULL;
}

void ccr_cmd_error(const char *fmt, ...)
{
    va_list ap;

    fputs("ccrun: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void load_one(const char *path, struct ccr_config *c)
{
    char *warning = NULL;
    char *cause = NULL;

    if (ccr_config_load(path, c, &warning, &cause) < 0) {
        ccr_cmd_error("%s", cause);
        free(cause);
    }
    if (warning != NULL) {
        ccr_cmd_error("%s", warning);
        free(warning);
    }
}

int ccr_cmd_privacy_mode(const char *flag, const char *env_name, const char *file, int dflt,
                         const char *what)
{
    const char *env = getenv(env_name);
    const char *value = flag ? flag : env && env[0] ? env : file;
    enum ccr_mode mode;

    if (value == NULL) {
        return dflt;
    }
    if (!ccr_privacy_parse_mode(value, &mode)) {
        ccr_cmd_error("%s policy \"%s\" is not keep, hash or drop; using drop", what, value);
        return CCR_MODE_DROP;
    }
    return mode;
}

void ccr_cmd_load_config(const char *ccrun_dir, struct ccr_config *c)
{
    char *user = ccr_config_user_path();

    ccr_config_builtin_prices(c);
    if (user != NULL) {
        load_one(user, c);
        free(user);
    }
    if (ccrun_dir != NULL) {
        char *path = ccr_xasprintf("%s/config", ccrun_dir);
        load_one(path, c);
        free(path);
    }
}

void ccr_cmd_usage(FILE *f)
{
    fputs("usage: ccrun [options] [--] COMMAND [ARG...]\n"
          "       ccrun last [--json] [--dir DIR]\n"
          "       ccrun prices [--json] [--dir DIR]\n"
          "       ccrun sessions [--since 7d|DATE] [--limit N] [--json]\n"
          "       ccrun show [RUN | SESSION-ID-PREFIX] [--json]\n"
          "       ccrun stats [--since 7d|DATE] [--by day|model|tool|session] [--json]\n"
          "       ccrun export [--format jsonl|csv] [RUN...]\n"
          "       ccrun prune --older-than AGE | --keep N\n"
          "       ccrun help [COMMAND]\n"
          "       ccrun serve [--port PORT] [--grpc-port PORT] [--dir DIR] [--no-auth]\n"
          "       ccrun env [--dir DIR] [--settings]\n"
          "       ccrun flush [--dir DIR] [--forward URL] [--deadline MS]\n"
          "       ccrun ui [--port PORT] [--open] [--dir DIR]\n"
          "       ccrun statusline [--dir DIR]\n"
          "       ccrun watch [--dir DIR] [--once]\n"
          "\n"
          "Runs COMMAND (usually claude) with its OpenTelemetry export pointed at a\n"
          "receiver inside ccrun, records every event in PROJECT/.ccrun/history.db, and\n"
          "prints a cost, token and tool summary to stderr when the command exits.\n"
          "ccrun exits with the command's status (128+N when signal N killed it;\n"
          "90 when, in print mode, the budget stopped the run).\n"
          "\n"
          "Commands:\n"
          "  last              print the last run's summary again\n"
          "  prices            list the prices ccrun re-prices other providers' models with\n"
          "  sessions          list the recorded runs, newest first\n"
          "  show              a run's or session's events, grouped by prompt\n"
          "  stats             totals across runs, by day, model, tool or session\n"
          "  export            stream the stored events as JSON lines or CSV\n"
          "  prune             delete old runs and shrink the history\n"
          "  help COMMAND      a command's own help\n"
          "  serve             receive and record OTLP until stopped, for exporters\n"
          "                    ccrun does not start (default port 4318)\n"
          "  env               print the variables that point an exporter at serve\n"
          "  flush             send what earlier runs left in .ccrun/outbox to the upstream\n"
          "  ui                browse the history in a web browser (read-only, loopback)\n"
          "  statusline        one line of live figures, for Claude Code's status line\n"
          "  watch             the running (or last) run's live figures, refreshed\n"
          "\n"
          "Options:\n"
          "  -C, --dir DIR     the project directory; history goes to DIR/.ccrun\n"
          "                    (default: the git top level, else the current directory)\n"
          "  -q, --quiet       print no summary\n"
          "      --prompts=MODE       keep, hash or drop prompt text (also CCRUN_PROMPTS;\n"
          "                    default: keep when OTEL_LOG_USER_PROMPTS=1, else hash)\n"
          "      --price MODEL=IN/OUT[/CACHE_READ[/CACHE_WRITE]]\n"
          "                    re-price MODEL at these USD per million tokens\n"
          "      --tool-details=MODE  keep, hash or drop tool parameters, inputs and\n"
          "                    replies (also CCRUN_TOOL_DETAILS; default hash)\n"
          "      --budget USD  stop new prompts (and end a turn after its tool) once the\n"
          "                    run spent USD; warns at 80%; also [budget] run in config\n"
          "      --budget-day USD  the same for the project's spend of the local day\n"
          "      --budget-hard also end the session (SIGTERM) once over; off by default\n"
          "      --statusline, --no-statusline  show ccrun's live figures in Claude Code's\n"
          "                    status line (default on; also [status] line in config)\n"
          "      --json        with last, sessions, show, stats, prices: print JSON\n"
          "      --forward URL send the telemetry on to this OTLP/HTTP base URL (default:\n"
          "                    the OTEL_EXPORTER_OTLP_* variables, else [forward] in config)\n"
          "      --no-forward  forward nothing\n"
          "      --forward-deadline MS  how long the queue may still send after the\n"
          "                    command exits (default 2000); the rest goes to .ccrun/outbox\n"
          "  -h, --help        show this help\n"
          "  -V, --version     show ccrun's version\n"
          "\n"
          "A command named like a subcommand runs with --: ccrun -- last\n"
          "\n"
          "Environment:\n"
          "  CCRUN_DIR         the project directory, as --dir\n"
          "  CCRUN_LOG         level of .ccrun/ccrun.log: error, warn, info (default), debug\n"
          "  CCRUN_PROMPTS, CCRUN_TOOL_DETAILS  as --prompts and --tool-details\n"
          "  NO_COLOR          never colour the output\n"
          "\n"
          "Secrets shaped like API keys, tokens, JWTs, private keys and URL passwords are\n"
          "replaced by [secret:<hash>] before anything is stored, in every mode.\n",
          f);
}

/* `ccrun help CMD` is `ccrun CMD --help`, so each command keeps its own text. */
static int help_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(name, commands[i]->name) == 0) {
            char *argv[] = {(char *)commands[i]->name, (char *)"--help", NULL};
            return commands[i]->run(2, argv);
        }
    }
    ccr_cmd_error("help: no command %s", name);
    fputs("usage: ccrun help [COMMAND] (see ccrun --help)\n", stderr);
    return 2;
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
    if (strcmp(argv[1], "help") == 0 && argc > 2) {
        return help_command(argv[2]);
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
    const struct ccr_cmd *cmd = find_command(argv[1]);
    if (cmd != NULL) {
        return cmd->run(argc - 1, argv + 1);
    }
    /*
     * `ccrun -C DIR last` reads like `git -C DIR log`: the directory goes to
     * the subcommand rather than the subcommand's name to a program on PATH.
     */
    int skip = strcmp(argv[1], "-C") == 0 || strcmp(argv[1], "--dir") == 0 ? 2
               : strncmp(argv[1], "--dir=", 6) == 0                       ? 1
                                                                           : 0;
    if (skip > 0 && argc > skip + 1 && (cmd = find_command(argv[skip + 1])) != NULL) {
        char **args = ccr_xcalloc((size_t)argc + 2, sizeof(char *));
        int n = 0;
        args[n++] = argv[skip + 1];
        args[n++] = (char *)"--dir";
        args[n++] = skip == 2 ? argv[2] : argv[1] + 6;
        for (int i = skip + 2; i < argc; i++) {
            args[n++] = argv[i];
        }
        int status = cmd->run(n, args);
        free(args);
        return status;
    }
    return ccr_cmd_run(argc, argv);
}
