/* SPDX-License-Identifier: MIT */
/* Spawning the wrapped command with telemetry pointed at ccrun's receiver. */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <jansson.h>

#include "log.h"
#include "util.h"

extern char **environ;

/*
 * Parent variables that would change where or how the child exports; they
 * are dropped from the child's environment (and remembered) so a stale value
 * can never win over ccrun's.
 */
static bool is_controlled(const char *entry)
{
    static const char *const prefixes[] = {
        "OTEL_EXPORTER_OTLP_", "OTEL_METRICS_EXPORTER=", "OTEL_LOGS_EXPORTER=",
        "OTEL_SDK_DISABLED=", "OTEL_METRIC_EXPORT_INTERVAL=", "OTEL_LOGS_EXPORT_INTERVAL=",
        "OTEL_METRICS_INCLUDE_SESSION_ID=", "CLAUDE_CODE_ENABLE_TELEMETRY=",
        "CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS=", "OTEL_LOG_USER_PROMPTS=",
        "OTEL_LOG_TOOL_DETAILS=", "CCRUN_LIVE_", "CCRUN_STATUSLINE_NEXT=",
    };

    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        if (strncmp(entry, prefixes[i], strlen(prefixes[i])) == 0) {
            return true;
        }
    }
    return false;
}

/* ccrun's telemetry settings for the child, as a JSON object of strings. */
static json_t *telemetry_vars(const struct ccr_telemetry *tel)
{
    static const char *const signals[] = {"LOGS", "METRICS", "TRACES"};
    static const char *const paths[] = {"logs", "metrics", "traces"};
    json_t *vars = json_object();
    char *base = ccr_xasprintf("http://127.0.0.1:%d", tel->port);
    char *auth = ccr_xasprintf("Authorization=Bearer %s", tel->token);

    json_object_set_new(vars, "CLAUDE_CODE_ENABLE_TELEMETRY", json_string("1"));
    json_object_set_new(vars, "OTEL_METRICS_EXPORTER", json_string("otlp"));
    json_object_set_new(vars, "OTEL_LOGS_EXPORTER", json_string("otlp"));
    json_object_set_new(vars, "OTEL_EXPORTER_OTLP_PROTOCOL", json_string("http/protobuf"));
    json_object_set_new(vars, "OTEL_EXPORTER_OTLP_ENDPOINT", json_string(base));
    json_object_set_new(vars, "OTEL_EXPORTER_OTLP_HEADERS", json_string(auth));
    for (int i = 0; i < 3; i++) {
        char *key = ccr_xasprintf("OTEL_EXPORTER_OTLP_%s_ENDPOINT", signals[i]);
        char *url = ccr_xasprintf("%s/v1/%s", base, paths[i]);
        json_object_set_new(vars, key, json_string(url));
        free(key);
        free(url);
        key = ccr_xasprintf("OTEL_EXPORTER_OTLP_%s_PROTOCOL", signals[i]);
        json_object_set_new(vars, key, json_string("http/protobuf"));
        free(key);
        key = ccr_xasprintf("OTEL_EXPORTER_OTLP_%s_HEADERS", signals[i]);
        json_object_set_new(vars, key, json_string(auth));
        free(key);
    }
    json_object_set_new(vars, "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                        json_string("delta"));
    char *interval = ccr_xasprintf("%u", tel->logs_interval_ms ? tel->logs_interval_ms : 1000);
    json_object_set_new(vars, "OTEL_LOGS_EXPORT_INTERVAL", json_string(interval));
    free(interval);
    json_object_set_new(vars, "OTEL_METRIC_EXPORT_INTERVAL", json_string("1000"));
    json_object_set_new(vars, "OTEL_METRICS_INCLUDE_SESSION_ID", json_string("true"));
    /*
     * A settings file could otherwise ask for compression or cut the exporter's
     * shutdown deadline so short that the final flush never lands.
     */
    json_object_set_new(vars, "OTEL_EXPORTER_OTLP_COMPRESSION", json_string("none"));
    json_object_set_new(vars, "CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS", json_string("2000"));
    /* Text that is to be hashed must reach ccrun; text that is dropped never leaves the child. */
    json_object_set_new(vars, "OTEL_LOG_USER_PROMPTS", json_string(tel->log_prompts ? "1" : "0"));
    json_object_set_new(vars, "OTEL_LOG_TOOL_DETAILS",
                        json_string(tel->log_tool_details ? "1" : "0"));
    free(base);
    free(auth);
    return vars;
}

static char **strv_push(char **v, size_t *n, char *s)
{
    v = ccr_xrealloc(v, (*n + 2) * sizeof(char *));
    v[(*n)++] = s;
    v[*n] = NULL;
    return v;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
        free(v[i]);
    }
    free(v);
}

static void build_env(struct ccr_launch *l, json_t *vars)
{
    size_t n = 0;
    size_t n_otel = 0;
    const char *key;
    json_t *value;

    l->env = ccr_xcalloc(1, sizeof(char *));
    l->parent_otel = ccr_xcalloc(1, sizeof(char *));
    for (char **e = environ; *e != NULL; e++) {
        if (vars != NULL && is_controlled(*e)) {
            l->parent_otel = strv_push(l->parent_otel, &n_otel, ccr_xstrdup(*e));
            continue;
        }
        l->env = strv_push(l->env, &n, ccr_xstrdup(*e));
    }
    if (vars == NULL) {
        return;
    }
    json_object_foreach(vars, key, value) {
        l->env = strv_push(l->env, &n, ccr_xasprintf("%s=%s", key, json_string_value(value)));
    }
}

/*
 * `claude --version` (or -v, -V) alone takes Claude Code's fast path, which
 * sends no telemetry; any --settings before it makes Claude Code start up in
 * full first, three times slower. Such a command is run as given.
 */
bool ccr_launch_only_prints_version(char *const *argv)
{
    return argv[1] != NULL && argv[2] == NULL &&
           (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0 ||
            strcmp(argv[1], "-V") == 0);
}

bool ccr_launch_is_claude(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    base = base != NULL ? base + 1 : argv0;
    return strcmp(base, "claude") == 0 || strcmp(base, "claude.exe") == 0;
}

/* Reads a --settings value: inline JSON, or the path of a JSON file. */
static json_t *load_user_settings(const char *value)
{
    const char *p = value;
    json_error_t err;

    while (*p == ' ' || *p == '\t' || *p == '\n') {
        p++;
    }
    json_t *obj = *p == '{' ? json_loads(value, 0, &err) : json_load_file(value, 0, &err);
    if (obj != NULL && !json_is_object(obj)) {
        json_decref(obj);
        obj = NULL;
    }
    return obj;
}

/*
 * A private directory in memory (tmpfs) for the settings file. The file holds
 * the bearer token, which must never reach a disk; Claude Code resolves the
 * path it is given, so an anonymous memory file cannot stand in for it.
 */
static char *memory_dir(void)
{
    const char *candidates[] = {getenv("XDG_RUNTIME_DIR"), "/dev/shm"};

    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        struct statfs fs;
        if (candidates[i] == NULL || candidates[i][0] != '/' || statfs(candidates[i], &fs) < 0 ||
            (fs.f_type != TMPFS_MAGIC && fs.f_type != RAMFS_MAGIC)) {
            continue;
        }
        char *dir = ccr_xasprintf("%s/ccrun-XXXXXX", candidates[i]);
        if (mkdtemp(dir) != NULL) {
            return dir;
        }
        free(dir);
    }
    return NULL;
}

/* Writes settings to a new private file in memory; returns its path or NULL. */
static char *write_settings(struct ccr_launch *l, json_t *settings)
{
    l->settings_dir = memory_dir();
    if (l->settings_dir == NULL) {
        ccr_log_warn("launch", "no tmpfs for a settings file: settings files may override "
                               "the telemetry variables");
        return NULL;
    }
    char *path = ccr_xasprintf("%s/settings.json", l->settings_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0 || json_dumpfd(settings, fd, JSON_COMPACT) < 0) {
        ccr_log_warn("launch", "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        free(path);
        return NULL;
    }
    close(fd);
    return path;
}

/* The status line the user configured in a settings file Claude Code reads, or NULL. */
static json_t *settings_file_status_line(void)
{
    const char *config = getenv("CLAUDE_CONFIG_DIR");
    const char *home = getenv("HOME");
    char *paths[3] = {
        ccr_xstrdup(".claude/settings.local.json"),
        ccr_xstrdup(".claude/settings.json"),
        config != NULL && config[0] == '/' ? ccr_xasprintf("%s/settings.json", config)
        : home != NULL                     ? ccr_xasprintf("%s/.claude/settings.json", home)
                                           : NULL,
    };
    json_t *found = NULL;

    for (int i = 0; i < 3; i++) {
        json_t *obj = found == NULL && paths[i] != NULL ? json_load_file(paths[i], 0, NULL)
                                                        : NULL;
        json_t *line = json_object_get(obj, "statusLine");
        if (json_is_object(line)) {
            found = json_incref(line);
        }
        json_decref(obj);
        free(paths[i]);
    }
    return found;
}

/*
 * Joins ccrun's extra settings to the user's: hooks are appended to each
 * event's array, so the user's own hooks keep running; a status line takes
 * the user's place and runs theirs through CCRUN_STATUSLINE_NEXT. The
 * user's status line may come from --settings or from a settings file,
 * which --settings would otherwise silently override.
 */
static void add_settings(json_t *settings, json_t *extra)
{
    const char *event;
    json_t *groups;
    json_t *hooks = json_object_get(settings, "hooks");
    json_t *line = json_object_get(extra, "statusLine");

    if (!json_is_object(hooks)) {
        hooks = json_object();
        json_object_set_new(settings, "hooks", hooks);
    }
    json_object_foreach(json_object_get(extra, "hooks"), event, groups) {
        json_t *mine = json_object_get(hooks, event);
        if (!json_is_array(mine)) {
            mine = json_array();
            json_object_set_new(hooks, event, mine);
        }
        json_array_extend(mine, groups);
    }
    if (json_object_size(hooks) == 0) {
        json_object_del(settings, "hooks");
    }
    if (line == NULL) {
        return;
    }
    json_t *theirs = json_incref(json_object_get(settings, "statusLine"));
    if (theirs == NULL) {
        theirs = settings_file_status_line();
    }
    const char *command = json_string_value(json_object_get(theirs, "command"));
    if (command != NULL) {
        json_object_set_new(json_object_get(settings, "env"), "CCRUN_STATUSLINE_NEXT",
                            json_string(command));
    }
    json_decref(theirs);
    json_object_set(settings, "statusLine", line);
}

/*
 * Claude Code honours only the last --settings, so the user's own are taken
 * out and merged under ccrun's variables into one file. A file keeps the
 * bearer token out of the command line, where other users could read it.
 */
static void build_claude_argv(struct ccr_launch *l, char *const *argv, json_t *vars,
                              json_t *extra, char **warning)
{
    json_t *settings = json_object();
    size_t n = 0;
    bool ended = false;
    bool unreadable = false;

    l->argv = strv_push(NULL, &n, ccr_xstrdup(argv[0]));
    for (size_t i = 1; argv[i] != NULL; i++) {
        const char *value = NULL;
        if (!ended && strcmp(argv[i], "--settings") == 0 && argv[i + 1] != NULL) {
            value = argv[++i];
        } else if (!ended && strncmp(argv[i], "--settings=", 11) == 0) {
            value = argv[i] + 11;
        }
        ended = ended || strcmp(argv[i], "--") == 0;
        if (value == NULL) {
            l->argv = strv_push(l->argv, &n, ccr_xstrdup(argv[i]));
            continue;
        }
        json_t *user = load_user_settings(value);
        if (user == NULL && !unreadable) {
            *warning = ccr_xasprintf("cannot read --settings %s as a JSON object; Claude Code "
                                     "gets it unchanged and ccrun's telemetry settings may be "
                                     "overridden", value);
        }
        unreadable = unreadable || user == NULL;
        json_object_update_recursive(settings, user);
        json_decref(user);
    }
    if (unreadable) {
        /* Not ours to merge: the arguments go through untouched, with nothing of ccrun's. */
        json_decref(settings);
        strv_free(l->argv);
        l->argv = NULL;
        return;
    }

    json_t *env = json_object_get(settings, "env");
    if (!json_is_object(env)) {
        env = json_object();
        json_object_set_new(settings, "env", env);
    }
    json_object_update(env, vars);
    add_settings(settings, extra);
    l->settings_path = write_settings(l, settings);
    json_decref(settings);
    if (l->settings_path == NULL) {
        /* The user's --settings were taken out to be merged: they go back as given. */
        strv_free(l->argv);
        l->argv = NULL;
        return;
    }
    /* Insert right after the program name, before any subcommand. */
    l->argv = strv_push(l->argv, &n, NULL);
    l->argv = strv_push(l->argv, &n, NULL);
    memmove(&l->argv[3], &l->argv[1], (n - 3) * sizeof(char *));
    l->argv[1] = ccr_xstrdup("--settings");
    l->argv[2] = ccr_xstrdup(l->settings_path);
}

void ccr_launch_init(struct ccr_launch *l, uv_loop_t *loop, char *const *argv,
                     const struct ccr_telemetry *tel, char **warning)
{
    json_t *vars = NULL;
    size_t n = 0;

    memset(l, 0, sizeof(*l));
    l->loop = loop;
    *warning = NULL;
    if (tel != NULL && tel->token != NULL) {
        vars = telemetry_vars(tel);
        json_t *extra_env = json_object_get(tel->settings, "env");
        if (json_is_object(extra_env)) {
            json_object_update(vars, extra_env);
        }
    }
    build_env(l, vars);
    if (vars != NULL && ccr_launch_is_claude(argv[0]) && !ccr_launch_only_prints_version(argv)) {
        build_claude_argv(l, argv, vars, tel->settings, warning);
    }
    if (l->argv == NULL) {
        for (size_t i = 0; argv[i] != NULL; i++) {
            l->argv = strv_push(l->argv, &n, ccr_xstrdup(argv[i]));
        }
    }
    json_decref(vars);
}

static void on_process_closed(uv_handle_t *h)
{
    struct ccr_launch *l = h->data;
    l->on_exit(l, l->ctx);
}

static void on_process_exit(uv_process_t *p, int64_t status, int term_signal)
{
    struct ccr_launch *l = p->data;

    l->running = false;
    l->term_signal = term_signal;
    l->exit_status = term_signal != 0 ? 128 + term_signal : (int)status;
    /*
     * The handlers stay until ccrun exits, passing nothing on: a second
     * SIGHUP (the kernel's, once the shell that led the session has gone
     * with the terminal), or C-c pressed again, would otherwise end ccrun
     * before it has recorded the run. Unreferenced, they do not keep the loop
     * running; the caller closes them with the loop's other handles.
     */
    for (int i = 0; i < CCR_LAUNCH_SIGNALS; i++) {
        uv_unref((uv_handle_t *)&l->signals[i]);
    }
    uv_close((uv_handle_t *)p, on_process_closed);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct ccr_launch *l = s->data;

    /*
     * The terminal already delivers SIGINT and SIGQUIT to the child, which
     * shares ccrun's process group; ccrun only stays alive to record its end.
     */
    if (signum == SIGINT || signum == SIGQUIT) {
        return;
    }
    if (l->running) {
        uv_process_kill(&l->process, signum);
    }
    if (signum == SIGTSTP) {
        /*
         * Once the child has been sent SIGTSTP, ccrun stops as the default
         * action would, so that the run stops as one whether the signal came
         * from the terminal to the whole process group or from kill to ccrun
         * alone. In an orphaned process group the kernel discards a default
         * SIGTSTP, for ccrun as for the child, so there neither stops. The
         * handler is back once SIGCONT has woken ccrun, and SIGCONT goes on
         * to the child, so that it never stays stopped while ccrun runs.
         */
        uv_signal_stop(s);
        raise(SIGTSTP);
        uv_signal_start(s, on_signal, SIGTSTP);
    } else if (l->running && (signum == SIGTERM || signum == SIGHUP)) {
        /*
         * A stopped child would hold the signal until someone continued it,
         * and ccrun would wait for it all that time; like the kernel and the
         * shells on a hangup, the signal is followed by SIGCONT.
         */
        uv_process_kill(&l->process, SIGCONT);
    }
}

int ccr_launch_spawn(struct ccr_launch *l, ccr_launch_exit_cb on_exit, void *ctx)
{
    static const int signums[CCR_LAUNCH_SIGNALS] = {SIGINT,  SIGQUIT, SIGTERM, SIGHUP, SIGUSR1,
                                                    SIGUSR2, SIGALRM, SIGTSTP, SIGCONT};
    uv_stdio_container_t stdio[3];
    uv_process_options_t opts = {0};

    for (int i = 0; i < 3; i++) {
        stdio[i].flags = l->stdio_closed[i] ? UV_IGNORE : UV_INHERIT_FD;
        stdio[i].data.fd = i;
    }
    opts.file = l->argv[0];
    opts.args = l->argv;
    opts.env = l->env;
    opts.stdio = stdio;
    opts.stdio_count = 3;
    opts.exit_cb = on_process_exit;
    l->on_exit = on_exit;
    l->ctx = ctx;
    l->process.data = l;
    int rc = uv_spawn(l->loop, &l->process, &opts);
    if (rc < 0) {
        /* libuv requires the handle to be closed even when the spawn failed. */
        uv_close((uv_handle_t *)&l->process, NULL);
        return rc;
    }
    l->running = true;
    for (int i = 0; i < CCR_LAUNCH_SIGNALS; i++) {
        uv_signal_init(l->loop, &l->signals[i]);
        l->signals[i].data = l;
        uv_signal_start(&l->signals[i], on_signal, signums[i]);
    }
    return 0;
}

int ccr_launch_spawn_status(int uv_status)
{
    return uv_status == UV_ENOENT ? 127 : 126;
}

void ccr_launch_finish(struct ccr_launch *l)
{
    if (l->settings_path != NULL) {
        unlink(l->settings_path);
        free(l->settings_path);
    }
    if (l->settings_dir != NULL) {
        rmdir(l->settings_dir);
        free(l->settings_dir);
    }
    strv_free(l->argv);
    strv_free(l->env);
    strv_free(l->parent_otel);
    memset(l, 0, sizeof(*l));
}
