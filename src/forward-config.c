/* SPDX-License-Identifier: MIT */
/* Settling each signal's upstream from the flag, the environment or the configuration. */
#include "forward-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "util.h"

static const char *const signal_upper[3] = {"LOGS", "METRICS", "TRACES"};

/* Where one source keeps its settings: an environment, or the [forward] section. */
struct source {
    char *const *env;
    const struct ccr_config *config;
};

static const char *env_get(char *const *env, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=') {
            return env[i] + n + 1;
        }
    }
    return NULL;
}

/*
 * A setting for one signal: the per-signal form first, then the general
 * one. `what` is the variable's tail ("HEADERS"); the INI key is its lower
 * case ("headers", "logs_headers"). Empty values count as unset.
 */
static const char *setting(const struct source *src, enum ccr_signal s, const char *what)
{
    char name[96];
    const char *v = NULL;

    if (src->env != NULL) {
        snprintf(name, sizeof(name), "OTEL_EXPORTER_OTLP_%s_%s", signal_upper[s], what);
        v = env_get(src->env, name);
        if (v == NULL || v[0] == '\0') {
            snprintf(name, sizeof(name), "OTEL_EXPORTER_OTLP_%s", what);
            v = env_get(src->env, name);
        }
    } else if (src->config != NULL) {
        char key[32];
        size_t i = 0;
        for (; what[i] != '\0' && i < sizeof(key) - 1; i++) {
            key[i] = (char)tolower((unsigned char)what[i]);
        }
        key[i] = '\0';
        snprintf(name, sizeof(name), "%s_%s", ccr_signal_name(s), key);
        v = ccr_config_forward(src->config, name);
        if (v == NULL || v[0] == '\0') {
            v = ccr_config_forward(src->config, key);
        }
    }
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A trimmed, percent-decoded copy of s[0..n). */
static char *decode_item(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        n--;
    }
    char *out = ccr_xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        /* A '%' not followed by two hex digits stays as it is, as the SDKs do. */
        if (s[i] == '%' && i + 2 < n && (hi = hex_digit(s[i + 1])) >= 0 &&
            (lo = hex_digit(s[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
            continue;
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    return out;
}

size_t ccr_forward_parse_pairs(const char *list, char ***out)
{
    size_t n = 0;
    char **v = ccr_xcalloc(1, sizeof(char *));

    while (list != NULL && *list != '\0') {
        size_t len = strcspn(list, ",");
        const char *eq = memchr(list, '=', len);
        if (eq != NULL) {
            char *key = decode_item(list, (size_t)(eq - list));
            if (key[0] != '\0') {
                v = ccr_xrealloc(v, (2 * n + 3) * sizeof(char *));
                v[2 * n] = key;
                v[2 * n + 1] = decode_item(eq + 1, len - (size_t)(eq - list) - 1);
                v[2 * ++n] = NULL;
            } else {
                free(key);
            }
        }
        list += len;
        list += *list == ',';
    }
    *out = v;
    return n;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
        free(v[i]);
    }
    free(v);
}

/* A header name is an HTTP token; a value may hold no control bytes. */
static bool header_ok(const char *name, const char *value)
{
    for (const char *p = name; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && strchr("!#$%&'*+-.^_`|~", *p) == NULL) {
            return false;
        }
    }
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
            return false;
        }
    }
    return true;
}

/* "k=v,…" into "k: v" lines for libcurl; an unusable item is named in *bad. */
/*
 * A header with a line break in it would let a variable add headers, or a
 * second request, of its own; such items are left out and named.
 */
static char **parse_headers(const char *list, char **bad)
{
    char **pairs;
    size_t n = ccr_forward_parse_pairs(list, &pairs);
    char **lines = ccr_xcalloc(n + 1, sizeof(char *));
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (!header_ok(pairs[2 * i], pairs[2 * i + 1])) {
            if (*bad == NULL) {
                *bad = ccr_xstrdup(pairs[2 * i]);
            }
            continue;
        }
        lines[k++] = ccr_xasprintf("%s: %s", pairs[2 * i], pairs[2 * i + 1]);
    }
    strv_free(pairs);
    return lines;
}

/* A base URL with /v1/<signal> appended, without doubling a trailing '/'. */
static char *signal_url(const char *base, enum ccr_signal s)
{
    size_t n = strlen(base);

    while (n > 0 && base[n - 1] == '/') {
        n--;
    }
    return ccr_xasprintf("%.*s/v1/%s", (int)n, base, ccr_signal_name(s));
}

/* libcurl speaks many schemes; an OTLP/HTTP upstream needs only these two. */
static bool http_url(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

/* The endpoint of signal s in src, or NULL; *per_signal says which form named it. */
static char *endpoint(const struct source *src, enum ccr_signal s)
{
    char name[64];
    const char *v = NULL;

    if (src->env != NULL) {
        snprintf(name, sizeof(name), "OTEL_EXPORTER_OTLP_%s_ENDPOINT", signal_upper[s]);
        v = env_get(src->env, name);
    } else if (src->config != NULL) {
        snprintf(name, sizeof(name), "%s_endpoint", ccr_signal_name(s));
        v = ccr_config_forward(src->config, name);
    }
    if (v != NULL && v[0] != '\0') {
        return ccr_xstrdup(v);
    }
    v = src->env != NULL ? env_get(src->env, "OTEL_EXPORTER_OTLP_ENDPOINT")
        : src->config != NULL ? ccr_config_forward(src->config, "endpoint") : NULL;
    return v != NULL && v[0] != '\0' ? signal_url(v, s) : NULL;
}

/* False when the user's environment switched this signal's exporter off. */
static bool env_exports(char *const *env, enum ccr_signal s)
{
    static const char *const vars[3] = {"OTEL_LOGS_EXPORTER", "OTEL_METRICS_EXPORTER",
                                        "OTEL_TRACES_EXPORTER"};
    const char *disabled = env_get(env, "OTEL_SDK_DISABLED");
    const char *exporter = env_get(env, vars[s]);

    if (disabled != NULL && strcasecmp(disabled, "true") == 0) {
        return false;
    }
    return exporter == NULL || strcasecmp(exporter, "none") != 0;
}

/* Past these, a timeout or a queue size is taken as the largest sane one. */
#define MAX_TIMEOUT_MS 3600000L
#define MAX_QUEUE_MIB 4096L

/* A positive whole number from v, at most max; dflt when v is missing or not one. */
static long parse_positive(const char *v, long dflt, long max)
{
    char *end;
    errno = 0;
    long n = v != NULL ? strtol(v, &end, 10) : -1;

    if (v == NULL || *v == '\0' || *end != '\0' || n <= 0) {
        return dflt;
    }
    return errno == ERANGE || n > max ? max : n;
}

/* Fills t from one source; returns a complaint for the user, or NULL. */
static char *fill_target(struct ccr_forward_target *t, const struct source *src,
                         enum ccr_signal s)
{
    const char *protocol = setting(src, s, "PROTOCOL");
    const char *compression = setting(src, s, "COMPRESSION");
    char *bad = NULL;
    char *complaint = NULL;

    /*
     * A gRPC endpoint (port 4317) does not answer OTLP/HTTP, so sending it
     * http/protobuf would only fail each time: the signal is left out and the
     * user told how to point ccrun at the HTTP port instead.
     */
    if (protocol != NULL && strcmp(protocol, "http/protobuf") != 0 &&
        strcmp(protocol, "http/json") != 0) {
        complaint = ccr_xasprintf("not forwarding %s: protocol %s is not supported; use "
                                  "http/protobuf or http/json and the OTLP/HTTP endpoint "
                                  "(port 4318)", ccr_signal_name(s), protocol);
        free(t->url);
        t->url = NULL;
        return complaint;
    }
    t->json = protocol != NULL && strcmp(protocol, "http/json") == 0;
    t->gzip = compression != NULL && strcasecmp(compression, "gzip") == 0;
    t->timeout_ms = parse_positive(setting(src, s, "TIMEOUT"), CCR_FORWARD_TIMEOUT_MS,
                                   MAX_TIMEOUT_MS);
    t->headers = parse_headers(setting(src, s, "HEADERS"), &bad);
    if (bad != NULL) {
        complaint = ccr_xasprintf("forward: header %s left out: not a valid HTTP header", bad);
        free(bad);
    }
    const char *ca = setting(src, s, "CERTIFICATE");
    const char *cert = setting(src, s, "CLIENT_CERTIFICATE");
    const char *key = setting(src, s, "CLIENT_KEY");
    t->ca_file = ca != NULL ? ccr_xstrdup(ca) : NULL;
    t->cert_file = cert != NULL ? ccr_xstrdup(cert) : NULL;
    t->key_file = key != NULL ? ccr_xstrdup(key) : NULL;
    return complaint;
}

/* "scheme://host:port" of url, without any user name or password. */
static char *origin(const char *url)
{
    const char *sep = strstr(url, "://");
    size_t scheme = sep != NULL ? (size_t)(sep + 3 - url) : 0;
    const char *host = url + scheme;
    size_t n = strcspn(host, "/?#");
    const char *at = memchr(host, '@', n);

    if (at != NULL) {
        n -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    return ccr_xasprintf("%.*s%.*s", (int)scheme, url, (int)n, host);
}

/*
 * The distinct origins of the targets, joined for a message. Paths are left
 * out: a hosted service may put a tenant key in one.
 */
static char *describe(const struct ccr_forward_config *fc)
{
    struct ccr_buf b = {0};

    for (int s = 0; s < 3; s++) {
        if (fc->targets[s].url == NULL) {
            continue;
        }
        char *o = origin(fc->targets[s].url);
        if (b.len == 0 || strstr(ccr_buf_cstr(&b), o) == NULL) {
            ccr_buf_printf(&b, "%s%s", b.len ? " and " : "", o);
        }
        free(o);
    }
    char *s = ccr_xstrdup(b.len ? ccr_buf_cstr(&b) : "");
    ccr_buf_finish(&b);
    return s;
}

/* The first source that names any endpoint; fills the targets from it alone. */
static void pick_source(struct ccr_forward_config *fc, const struct ccr_forward_sources *src,
                        struct source *from)
{
    if (src->flag_url != NULL) {
        for (int s = 0; s < 3; s++) {
            fc->targets[s].url = signal_url(src->flag_url, (enum ccr_signal)s);
        }
        fc->from = "--forward";
        return;
    }
    struct source candidates[2] = {{.env = src->env}, {.config = src->config}};
    for (int c = 0; c < 2; c++) {
        bool any = false;
        for (int s = 0; s < 3; s++) {
            if (c == 0 && (src->env == NULL || !env_exports(src->env, (enum ccr_signal)s))) {
                continue;
            }
            fc->targets[s].url = endpoint(&candidates[c], (enum ccr_signal)s);
            any = any || fc->targets[s].url != NULL;
        }
        if (any) {
            *from = candidates[c];
            fc->from = c == 0 ? "the environment" : "the configuration";
            return;
        }
    }
}

/* OTEL_RESOURCE_ATTRIBUTES, then ccrun.project and the git branch. */
static void resource_attributes(struct ccr_forward_config *fc,
                                const struct ccr_forward_sources *src)
{
    /* ccrun never changes this variable for the child, so launch does not keep it aside. */
    size_t n = ccr_forward_parse_pairs(getenv("OTEL_RESOURCE_ATTRIBUTES"), &fc->resource);
    char *branch = src->project_root != NULL ? ccr_forward_git_branch(src->project_root) : NULL;
    const char *base = src->project_root != NULL ? strrchr(src->project_root, '/') : NULL;

    fc->resource = ccr_xrealloc(fc->resource, (2 * n + 5) * sizeof(char *));
    if (base != NULL && base[1] != '\0') {
        fc->resource[2 * n] = ccr_xstrdup("ccrun.project");
        fc->resource[2 * n++ + 1] = ccr_xstrdup(base + 1);
    }
    if (branch != NULL) {
        fc->resource[2 * n] = ccr_xstrdup("vcs.repository.ref.name");
        fc->resource[2 * n++ + 1] = branch;
    }
    fc->resource[2 * n] = NULL;
}

int ccr_forward_config_init(struct ccr_forward_config *fc, const struct ccr_forward_sources *src,
                            char **warning, char **cause)
{
    struct source from = {0};
    const char *deadline = src->flag_deadline;
    const char *queue = src->config != NULL ? ccr_config_forward(src->config, "queue_mib") : NULL;

    memset(fc, 0, sizeof(*fc));
    *warning = NULL;
    if (deadline == NULL && src->config != NULL) {
        deadline = ccr_config_forward(src->config, "deadline");
    }
    fc->deadline_ms = CCR_FORWARD_DEADLINE_MS;
    if (deadline != NULL) {
        char *end;
        long ms = strtol(deadline, &end, 10);
        if (*deadline == '\0' || *end != '\0' || ms < 0 || ms > 3600000) {
            *cause = ccr_xasprintf("forward deadline %s is not a number of milliseconds "
                                   "(0 to 3600000)", deadline);
            return -EINVAL;
        }
        fc->deadline_ms = (unsigned)ms;
    }
    fc->queue_bytes = (size_t)parse_positive(queue, CCR_FORWARD_QUEUE_BYTES >> 20,
                                             MAX_QUEUE_MIB) << 20;
    pick_source(fc, src, &from);
    for (int s = 0; s < 3; s++) {
        struct ccr_forward_target *t = &fc->targets[s];
        if (t->url != NULL && !http_url(t->url)) {
            *cause = ccr_xasprintf("forward endpoint %s is not an http:// or https:// URL",
                                   t->url);
            return -EINVAL;
        }
        char *complaint = t->url != NULL ? fill_target(t, &from, (enum ccr_signal)s) : NULL;
        if (complaint != NULL && *warning == NULL) {
            *warning = complaint;
        } else {
            free(complaint);
        }
    }
    resource_attributes(fc, src);
    fc->where = describe(fc);
    return 0;
}

bool ccr_forward_config_enabled(const struct ccr_forward_config *fc)
{
    return fc->targets[0].url != NULL || fc->targets[1].url != NULL ||
           fc->targets[2].url != NULL;
}

void ccr_forward_config_finish(struct ccr_forward_config *fc)
{
    for (int s = 0; s < 3; s++) {
        struct ccr_forward_target *t = &fc->targets[s];
        free(t->url);
        strv_free(t->headers);
        free(t->ca_file);
        free(t->cert_file);
        free(t->key_file);
    }
    strv_free(fc->resource);
    free(fc->where);
    memset(fc, 0, sizeof(*fc));
}

/* The first line of a small file, without its newline; NULL when unreadable. */
static char *read_line(const char *path)
{
    char buf[512];
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        return NULL;
    }
    char *line = fgets(buf, sizeof(buf), f);
    fclose(f);
    if (line == NULL) {
        return NULL;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return ccr_xstrdup(buf);
}

/*
 * Reading HEAD directly costs a file read where `git branch` would cost a
 * process on every run. In a linked work tree or submodule .git is a file
 * naming the real git directory.
 */
char *ccr_forward_git_branch(const char *root)
{
    char *path = ccr_xasprintf("%s/.git/HEAD", root);
    char *head = read_line(path);

    free(path);
    if (head == NULL) {
        path = ccr_xasprintf("%s/.git", root);
        char *link = read_line(path);
        free(path);
        if (link == NULL || strncmp(link, "gitdir: ", 8) != 0) {
            free(link);
            return NULL;
        }
        path = link[8] == '/' ? ccr_xasprintf("%s/HEAD", link + 8)
                              : ccr_xasprintf("%s/%s/HEAD", root, link + 8);
        free(link);
        head = read_line(path);
        free(path);
    }
    const char *prefix = "ref: refs/heads/";
    char *branch = NULL;
    if (head != NULL && strncmp(head, prefix, strlen(prefix)) == 0 &&
        head[strlen(prefix)] != '\0') {
        branch = ccr_xstrdup(head + strlen(prefix));
    }
    free(head);
    return branch;
}
