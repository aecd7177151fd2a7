/* SPDX-License-Identifier: MIT */
/*
 * Where forwarded telemetry goes and how: the upstream of each signal,
 * settled from `--forward URL`, the user's own OTEL exporter variables, or
 * the [forward] section of the configuration files, and the resource
 * attributes ccrun adds to everything it forwards.
 */
#ifndef CCR_FORWARD_CONFIG_H
#define CCR_FORWARD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "otlp.h"

struct ccr_config;

/* How long the queue may still send when ccrun is done, unless told otherwise. */
#define CCR_FORWARD_DEADLINE_MS 2000
/* The queue's size in memory; batches past it go straight to the outbox. */
#define CCR_FORWARD_QUEUE_BYTES (16u << 20)
/* One request's time limit when no OTEL_EXPORTER_OTLP_TIMEOUT is set (the spec's default). */
#define CCR_FORWARD_TIMEOUT_MS 10000

/* One signal's upstream. */
struct ccr_forward_target {
    char *url;        /* NULL when the signal is not forwarded */
    bool json;        /* http/json rather than http/protobuf */
    bool gzip;        /* Content-Encoding: gzip */
    long timeout_ms;  /* per request */
    char **headers;   /* "Name: value" lines, NULL-terminated; may be NULL */
    char *ca_file;    /* trusted certificates (PEM), or NULL for the system's */
    char *cert_file;  /* client certificate for mutual TLS, or NULL */
    char *key_file;   /* its private key, or NULL */
};

struct ccr_forward_config {
    struct ccr_forward_target targets[3]; /* indexed by enum ccr_signal */
    char **resource;  /* key, value, key, value, …, NULL: added where a resource lacks them */
    unsigned deadline_ms;
    size_t queue_bytes;
    char *where;      /* the upstreams' origins for messages, credentials removed */
    const char *from; /* "--forward", "the environment" or "the configuration" */
};

/* What the settings are read from. Every pointer may be NULL. */
struct ccr_forward_sources {
    char *const *env;             /* the user's own environment, NAME=value entries */
    const char *flag_url;         /* --forward URL */
    const char *flag_deadline;    /* --forward-deadline MS */
    const struct ccr_config *config;
    const char *project_root;     /* names ccrun.project and finds the git branch */
};

/*
 * Fills fc. The endpoint and everything sent with it (headers, protocol,
 * compression, timeout, certificates) come from one source, the first that
 * names an endpoint: --forward (a base URL, nothing else), then the OTEL
 * exporter variables in env, then the configuration's [forward] section; so
 * credentials meant for one host never go to another. A per-signal endpoint
 * is used as given; a base one gets /v1/<signal> appended. With no endpoint
 * anywhere, nothing is forwarded and fc is still valid. Problems that leave
 * a signal unforwarded go to *warning (allocated). Returns 0, or -EINVAL with
 * *cause set when a setting cannot be used at all.
 */
int ccr_forward_config_init(struct ccr_forward_config *fc, const struct ccr_forward_sources *src,
                            char **warning, char **cause);

/* True when at least one signal has an upstream. */
bool ccr_forward_config_enabled(const struct ccr_forward_config *fc);

void ccr_forward_config_finish(struct ccr_forward_config *fc);

/*
 * Parses an OTEL header or resource list, "k1=v1,k2=v2", each item split at
 * its first '=' and both sides trimmed and percent-decoded, into a
 * NULL-terminated key, value, key, value… vector (allocated). Items without
 * '=' or with an empty key are skipped. Returns the number of pairs.
 */
size_t ccr_forward_parse_pairs(const char *list, char ***out);

/* The branch checked out in root's git work tree, or NULL (detached, no repository). */
char *ccr_forward_git_branch(const char *root);

#endif
