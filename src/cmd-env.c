/* SPDX-License-Identifier: MIT */
/* `ccrun env`: the variables that point an exporter at a running `ccrun serve`. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "project.h"
#include "util.h"
#include "view.h"

static const char usage[] = "usage: ccrun env [--dir DIR] [--settings]\n";

/*
 * The variables Claude Code reads, with the values for a receiver on port.
 * Protocol, temporality and session ids are set as ccrun sets them for its
 * own children, since the recorder's figures assume them.
 */
static json_t *env_object(int port, const char *token)
{
    json_t *env = json_object();
    char *endpoint = ccr_xasprintf("http://127.0.0.1:%d", port);

    json_object_set_new(env, "CLAUDE_CODE_ENABLE_TELEMETRY", json_string("1"));
    json_object_set_new(env, "OTEL_METRICS_EXPORTER", json_string("otlp"));
    json_object_set_new(env, "OTEL_LOGS_EXPORTER", json_string("otlp"));
    json_object_set_new(env, "OTEL_EXPORTER_OTLP_PROTOCOL", json_string("http/protobuf"));
    json_object_set_new(env, "OTEL_EXPORTER_OTLP_ENDPOINT", json_string(endpoint));
    if (token != NULL) {
        char *header = ccr_xasprintf("Authorization=Bearer %s", token);
        json_object_set_new(env, "OTEL_EXPORTER_OTLP_HEADERS", json_string(header));
        free(header);
    }
    json_object_set_new(env, "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                        json_string("delta"));
    json_object_set_new(env, "OTEL_METRICS_INCLUDE_SESSION_ID", json_string("true"));
    free(endpoint);
    return env;
}

void ccr_env_print(FILE *f, int port, int grpc_port, const char *token)
{
    json_t *env = env_object(port, token);
    const char *key;
    json_t *v;

    /* Values hold no single quotes, so single-quoting is enough for a shell. */
    json_object_foreach(env, key, v) {
        fprintf(f, "export %s='%s'\n", key, json_string_value(v));
    }
    json_decref(env);
    /* Comments, so that sourcing the lines still sets up OTLP/HTTP alone. */
    if (grpc_port > 0) {
        fprintf(f, "# an exporter speaking OTLP/gRPC can use the gRPC port instead:\n"
                   "# export OTEL_EXPORTER_OTLP_PROTOCOL='grpc'\n"
                   "# export OTEL_EXPORTER_OTLP_ENDPOINT='http://127.0.0.1:%d'\n",
                grpc_port);
    }
}

/* Returns an exit status to stop with, or -1 to go on. */
/* --dir, and the one flag (--settings) of env. */
struct env_opts {
    const char *dir;
    bool settings;
};

static int on_option(void *opts, int c, const char *arg, char **cause)
{
    struct env_opts *o = opts;

    if (c == 'C') {
        o->dir = arg;
    } else { /* 's' */
        o->settings = true;
    }
    return 0;
}

static int parse(int argc, char **argv, const char **dir, bool *settings)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'C'},
        {"settings", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char help[] =
        "\nPrints the export lines that point an OTLP exporter at the `ccrun serve`\n"
        "recording into DIR (or the per-user history), or with --settings a\n"
        "Claude Code settings object holding them as \"env\". When serve also\n"
        "listens on a --grpc-port, comment lines give the gRPC endpoint (the\n"
        "settings object stays OTLP/HTTP).\n";
    struct env_opts o = {.dir = *dir, .settings = *settings};
    int rc = ccr_view_options("env", argc, argv, "C:", longopts, usage, help, 0, on_option, &o);

    *dir = o.dir;
    *settings = o.settings;
    return rc;
}

static int run_env(int argc, char **argv)
{
    const char *dir = NULL;
    bool settings = false;
    struct ccr_project project;
    char *cause = NULL;
    int status = parse(argc, argv, &dir, &settings);

    if (status >= 0) {
        return status;
    }
    if (ccr_serve_project(dir, &project, &cause) < 0) {
        ccr_cmd_error("env: %s", cause);
        free(cause);
        return 1;
    }
    /* serve writes this file once it listens and removes it when it stops. */
    char *path = ccr_xasprintf("%s/serve.json", project.dir);
    json_t *state = json_load_file(path, 0, NULL);
    json_int_t port = json_integer_value(json_object_get(state, "port"));
    json_int_t grpc_port = json_integer_value(json_object_get(state, "grpc_port"));
    if (state == NULL || port <= 0 || port > 65535) {
        ccr_cmd_error("env: no ccrun serve is running for %s", project.root);
        fprintf(stderr, "ccrun: hint: start one with: ccrun serve%s%s\n", dir ? " --dir " : "",
                dir ? dir : "");
        status = 1;
    } else if (settings) {
        json_t *doc = json_pack("{s:o}", "env",
                                env_object((int)port, json_string_value(json_object_get(
                                                          state, "token"))));
        json_dumpf(doc, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(doc);
        status = 0;
    } else {
        ccr_env_print(stdout, (int)port, grpc_port > 0 && grpc_port <= 65535 ? (int)grpc_port : 0,
                      json_string_value(json_object_get(state, "token")));
        status = 0;
    }
    json_decref(state);
    free(path);
    ccr_project_finish(&project);
    return status;
}

const struct ccr_cmd ccr_cmd_env = {
    .name = "env",
    .usage = usage,
    .run = run_env,
};
