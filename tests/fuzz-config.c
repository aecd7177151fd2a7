/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the parsers of what users write. The first byte picks
 * one (its value mod 4), the rest is the text:
 *
 * 0. an INI configuration file, read twice as two files would be, then its
 *    privacy modes, budget, prices and [forward] section put to use;
 * 1. an environment, one NAME=value per line ("--forward=URL" and
 *    "--forward-deadline=MS" lines stand for the flags), settled into the
 *    forwarding targets; every line is also parsed as an OTEL key=value list;
 * 2. Claude Code arguments, cut at NUL bytes: pieces starting with '-' are
 *    plain arguments, pieces starting with '{' go inline after --settings,
 *    any other piece is written to a file whose path follows --settings;
 *    they are merged with ccrun's own settings;
 * 3. a --price argument, a budget amount and a privacy mode.
 *
 * Each result is checked against what the parser promises.
 */
#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "budget.h"
#include "config.h"
#include "forward-config.h"
#include "fuzz.h"
#include "guard.h"
#include "launch.h"
#include "price.h"
#include "privacy.h"
#include "util.h"

#define MAX_ARGS 16
#define TOKEN "fuzz-bearer-token"
#define HOME_LINE "home-status-line"

static uv_loop_t loop;
static json_t *extra; /* ccrun's own settings for Claude Code */

static void fail(const char *what)
{
    fprintf(stderr, "fuzz-config: %s\n", what);
    abort();
}

static char *write_temp(const char *name, const void *data, size_t len)
{
    char *path = ccr_xasprintf("%s/%s", ccr_fuzz_temp_dir(), name);
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

/*
 * A private home whose Claude Code settings name a status line, so that the
 * merge's fallback to the settings files is reached too.
 */
static void setup(void)
{
    struct ccr_guard guard = {0};
    const char *dir = ccr_fuzz_temp_dir();
    char *claude = ccr_xasprintf("%s/.claude", dir);
    static const char settings[] = "{\"statusLine\":{\"type\":\"command\",\"command\":\""
                                   HOME_LINE "\"}}";

    if (mkdir(claude, 0700) < 0) {
        perror(claude);
        abort();
    }
    free(write_temp(".claude/settings.json", settings, strlen(settings)));
    free(claude);
    setenv("HOME", dir, 1);
    unsetenv("CLAUDE_CONFIG_DIR");
    uv_loop_init(&loop);
    ccr_budget_init(&guard.budget);
    guard.budget.run_usd = 1;
    extra = ccr_guard_settings(&guard, 4318, TOKEN, "/usr/bin/ccrun", true);
}

static void check_prices(const struct ccr_prices *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct ccr_price *p = &t->entries[i];
        if (p->pattern == NULL || p->origin == NULL || p->long_threshold < 0) {
            fail("a price entry lacks its pattern or origin");
        }
        for (int k = 0; k < 4; k++) {
            if (!isfinite(p->usd[k]) || p->usd[k] < 0 || !isfinite(p->long_usd[k]) ||
                p->long_usd[k] < 0) {
                fail("a price is not a finite amount of at least 0");
            }
        }
        /* Patterns are unique, so looking one up by its own text finds it. */
        if (ccr_prices_find(t, p->pattern) != p) {
            fail("a price entry is not found by its own pattern");
        }
    }
}

static void check_headers(char **headers)
{
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        const char *colon = strstr(headers[i], ": ");
        if (colon == NULL || colon == headers[i]) {
            fail("a header line is not Name: value");
        }
        for (const char *p = headers[i]; p < colon; p++) {
            if (!isalnum((unsigned char)*p) && strchr("!#$%&'*+-.^_`|~", *p) == NULL) {
                fail("a header name is not an HTTP token");
            }
        }
        for (const unsigned char *p = (const unsigned char *)colon; *p != '\0'; p++) {
            if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
                fail("a header value holds a control byte");
            }
        }
    }
}

static void check_forward(const struct ccr_forward_sources *src)
{
    struct ccr_forward_config fc;
    char *warning = NULL;
    char *cause = NULL;

    if (ccr_forward_config_init(&fc, src, &warning, &cause) < 0) {
        if (cause == NULL) {
            fail("forward settings refused without a cause");
        }
        /* A warning about an earlier signal may have been given before the refusal. */
        free(warning);
        free(cause);
        ccr_forward_config_finish(&fc);
        return;
    }
    for (int s = 0; s < 3; s++) {
        const struct ccr_forward_target *t = &fc.targets[s];
        if (t->url == NULL) {
            continue;
        }
        if (strncasecmp(t->url, "http://", 7) != 0 && strncasecmp(t->url, "https://", 8) != 0) {
            fail("a forward target is not an http(s) URL");
        }
        if (t->timeout_ms <= 0) {
            fail("a forward timeout is not positive");
        }
        check_headers(t->headers);
    }
    if (fc.where == NULL || fc.deadline_ms > 3600000 || fc.resource == NULL) {
        fail("forward settings are incomplete");
    }
    free(warning);
    ccr_forward_config_finish(&fc);
}

static void check_budget(const struct ccr_config *c)
{
    static const double spent[] = {0, 0.5, 1e300, NAN};
    struct ccr_budget b;
    char *cause = NULL;

    if (ccr_budget_settle(&b, NULL, NULL, false, c->budget_run, c->budget_day, c->budget_hard,
                          &cause) < 0) {
        free(cause);
        return;
    }
    for (size_t i = 0; i < sizeof(spent) / sizeof(spent[0]); i++) {
        enum ccr_budget_level level = ccr_budget_level(&b, spent[i]);
        double left = ccr_budget_remaining(&b, spent[i]);
        if (left < 0) {
            fail("a budget has less than nothing left");
        }
        free(ccr_budget_message(&b, spent[i], level));
    }
}

static void fuzz_ini(const uint8_t *data, size_t size)
{
    struct ccr_config c = {0};
    struct ccr_forward_sources src = {.config = &c};
    char *path = write_temp("config", data, size);
    char *warning[2] = {NULL, NULL};
    char *cause[2] = {NULL, NULL};
    enum ccr_mode mode;

    /* The same file twice, as the user's and the project's: later values replace earlier. */
    int rc = ccr_config_load(path, &c, &warning[0], &cause[0]);
    if (ccr_config_load(path, &c, &warning[1], &cause[1]) != rc || (rc < 0) != (cause[0] != NULL)) {
        fail("a configuration read twice gave two outcomes");
    }
    check_prices(&c.prices);
    ccr_privacy_parse_mode(c.prompts != NULL ? c.prompts : "", &mode);
    ccr_privacy_parse_mode(c.tool_details != NULL ? c.tool_details : "", &mode);
    check_budget(&c);
    check_forward(&src);
    for (int i = 0; i < 2; i++) {
        free(warning[i]);
        free(cause[i]);
    }
    ccr_config_finish(&c);
    unlink(path);
    free(path);
}

/* The pairs percent-encoded whole and parsed again must come back the same. */
static void check_pairs(const char *list)
{
    char **pairs;
    char **again;
    struct ccr_buf b = {0};
    size_t n = ccr_forward_parse_pairs(list, &pairs);

    for (size_t i = 0; i < 2 * n; i++) {
        if (pairs[i] == NULL || (i % 2 == 0 && pairs[i][0] == '\0')) {
            fail("a parsed pair is missing or has an empty key");
        }
        for (const unsigned char *p = (const unsigned char *)pairs[i]; *p != '\0'; p++) {
            ccr_buf_printf(&b, "%%%02X", *p);
        }
        ccr_buf_append(&b, i % 2 == 0 ? "=" : ",", 1);
    }
    if (pairs[2 * n] != NULL || ccr_forward_parse_pairs(ccr_buf_cstr(&b), &again) != n) {
        fail("percent-encoded pairs parse to a different number");
    }
    for (size_t i = 0; i < 2 * n; i++) {
        if (strcmp(pairs[i], again[i]) != 0) {
            fail("percent-encoded pairs parse to different text");
        }
    }
    for (size_t i = 0; i < 2 * n; i++) {
        free(pairs[i]);
        free(again[i]);
    }
    free(pairs);
    free(again);
    ccr_buf_finish(&b);
}

static void fuzz_env(const uint8_t *data, size_t size)
{
    char *text = ccr_xstrndup((const char *)data, size);
    char *env[MAX_ARGS + 1];
    size_t n = 0;
    struct ccr_forward_sources src = {.env = env};
    char *save = NULL;

    for (char *line = strtok_r(text, "\n", &save); line != NULL && n < MAX_ARGS;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "--forward=", 10) == 0) {
            src.flag_url = line + 10;
        } else if (strncmp(line, "--forward-deadline=", 19) == 0) {
            src.flag_deadline = line + 19;
        } else {
            const char *eq = strchr(line, '=');
            check_pairs(eq != NULL ? eq + 1 : line);
            env[n++] = line;
        }
    }
    env[n] = NULL;
    check_forward(&src);
    free(text);
}

/* The merged --settings as jansson merges them, or NULL when one is not an object. */
static json_t *user_settings(char **argv, size_t argc)
{
    json_t *merged = json_object();

    for (size_t i = 1; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--") == 0) {
            break;
        }
        if (strcmp(argv[i], "--settings") == 0 && i + 1 < argc) {
            value = argv[++i];
        } else if (strncmp(argv[i], "--settings=", 11) == 0) {
            value = argv[i] + 11;
        }
        if (value == NULL) {
            continue;
        }
        const char *p = value + strspn(value, " \t\n");
        json_t *obj = *p == '{' ? json_loads(value, 0, NULL) : json_load_file(value, 0, NULL);
        if (!json_is_object(obj)) {
            json_decref(obj);
            json_decref(merged);
            return NULL;
        }
        json_object_update_recursive(merged, obj);
        json_decref(obj);
    }
    return merged;
}

/* What ccrun wrote for Claude Code must hold the user's settings with ccrun's on top. */
static void check_merged(const json_t *user, const json_t *written)
{
    const char *key;
    json_t *v;
    const json_t *env = json_object_get(written, "env");
    const json_t *line = json_object_get(user, "statusLine");
    const char *next = line == NULL ? HOME_LINE
                                    : json_string_value(json_object_get(line, "command"));

    json_object_foreach((json_t *)user, key, v) {
        if (strcmp(key, "env") != 0 && strcmp(key, "hooks") != 0 &&
            strcmp(key, "statusLine") != 0 && !json_equal(v, json_object_get(written, key))) {
            fail("a user setting was changed by the merge");
        }
    }
    json_object_foreach(json_object_get(extra, "env"), key, v) {
        if (!json_equal(v, json_object_get(env, key))) {
            fail("a variable of ccrun's is missing from the merged env");
        }
    }
    if (!json_equal(json_object_get(written, "statusLine"), json_object_get(extra, "statusLine"))) {
        fail("ccrun's status line is not the merged one");
    }
    const char *passed = json_string_value(json_object_get(env, "CCRUN_STATUSLINE_NEXT"));
    if (next != NULL && (passed == NULL || strcmp(next, passed) != 0)) {
        fail("the user's status line is not passed on");
    }
    json_object_foreach(json_object_get(extra, "hooks"), key, v) {
        const json_t *theirs = json_object_get(json_object_get(user, "hooks"), key);
        const json_t *all = json_object_get(json_object_get(written, "hooks"), key);
        size_t before = json_is_array(theirs) ? json_array_size(theirs) : 0;
        if (json_array_size(all) != before + json_array_size(v)) {
            fail("the merged hooks are not the user's followed by ccrun's");
        }
        for (size_t i = 0; i < json_array_size(all); i++) {
            const json_t *want = i < before ? json_array_get(theirs, i)
                                            : json_array_get(v, i - before);
            if (!json_equal(json_array_get(all, i), want)) {
                fail("the merged hooks are not the user's followed by ccrun's");
            }
        }
    }
}

/* Every argument but the user's --settings stays, in order, after ccrun's --settings FILE. */
static void check_arguments(char *const *got, char **argv, size_t argc)
{
    size_t j = 3;
    bool ended = false;

    for (size_t i = 1; i < argc; i++) {
        if (!ended && strcmp(argv[i], "--settings") == 0 && i + 1 < argc) {
            i++;
            continue;
        }
        if (!ended && strncmp(argv[i], "--settings=", 11) == 0) {
            continue;
        }
        ended = ended || strcmp(argv[i], "--") == 0;
        if (got[j] == NULL || strcmp(got[j], argv[i]) != 0) {
            fail("an argument of the user's was lost or moved");
        }
        j++;
    }
    if (got[j] != NULL) {
        fail("the merge added arguments of its own");
    }
}

static void check_launch(struct ccr_launch *l, char **argv, size_t argc, const char *warning)
{
    json_t *user = user_settings(argv, argc);

    if ((user == NULL) != (warning != NULL)) {
        fail("unreadable settings and the warning disagree");
    }
    if (user == NULL) {
        for (size_t i = 0; i <= argc; i++) {
            if ((l->argv[i] == NULL) != (argv[i] == NULL) ||
                (argv[i] != NULL && strcmp(l->argv[i], argv[i]) != 0)) {
                fail("arguments were changed although nothing was merged");
            }
        }
        return;
    }
    /* Without a tmpfs nothing is written; there is nothing more to compare. */
    if (l->settings_path == NULL) {
        json_decref(user);
        return;
    }
    if (l->argv[1] == NULL || strcmp(l->argv[1], "--settings") != 0 || l->argv[2] == NULL ||
        strcmp(l->argv[2], l->settings_path) != 0) {
        fail("ccrun's --settings does not follow the program name");
    }
    check_arguments(l->argv, argv, argc);
    struct stat st;
    json_t *written = json_load_file(l->settings_path, 0, NULL);
    if (stat(l->settings_path, &st) < 0 || (st.st_mode & 077) != 0 || !json_is_object(written)) {
        fail("the settings file is not a private JSON object");
    }
    check_merged(user, written);
    json_decref(written);
    json_decref(user);
}

/*
 * One piece of the input as arguments. A settings file named by the input
 * is always one the input wrote: "--settings=/dev/zero" must not read
 * forever.
 */
static size_t add_argument(char **argv, size_t argc, char *piece, size_t len, char **owned)
{
    const char *value = strncmp(piece, "--settings=", 11) == 0 ? piece + 11 : NULL;
    char *name = ccr_xasprintf("settings-%zu.json", argc);

    if (value != NULL && value[strspn(value, " \t\n")] != '{') {
        char *path = write_temp(name, value, len - 11);
        argv[argc++] = *owned = ccr_xasprintf("--settings=%s", path);
        free(path);
    } else if (piece[0] == '-') {
        argv[argc++] = *owned = ccr_xstrdup(piece);
    } else if (piece[0] == '{') {
        argv[argc++] = *owned = ccr_xasprintf("--settings=%s", piece);
    } else {
        argv[argc++] = (char *)"--settings";
        argv[argc++] = *owned = write_temp(name, piece, len);
    }
    free(name);
    free(piece);
    return argc;
}

static void fuzz_settings(const uint8_t *data, size_t size)
{
    char *argv[2 * MAX_ARGS + 2] = {(char *)"claude"};
    char *owned[2 * MAX_ARGS];
    size_t argc = 1;
    size_t n_owned = 0;
    struct ccr_telemetry tel = {.port = 4318, .token = TOKEN, .settings = extra};
    struct ccr_launch l;
    char *warning = NULL;

    for (size_t off = 0; off < size && argc < 2 * MAX_ARGS;) {
        const uint8_t *nul = memchr(data + off, 0, size - off);
        size_t len = nul != NULL ? (size_t)(nul - data - off) : size - off;
        char *piece = ccr_xstrndup((const char *)data + off, len);
        off += len + 1;
        argc = add_argument(argv, argc, piece, len, &owned[n_owned++]);
    }
    argv[argc] = NULL;

    /*
     * Claude Code's project settings and relative --settings paths are read
     * from the working directory: the private one, for the time of a run.
     */
    int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cwd < 0 || chdir(ccr_fuzz_temp_dir()) < 0) {
        fail("cannot enter the temporary directory");
    }
    ccr_launch_init(&l, &loop, argv, &tel, &warning);
    check_launch(&l, argv, argc, warning);
    if (fchdir(cwd) < 0) {
        fail("cannot return to the working directory");
    }
    close(cwd);
    free(warning);
    ccr_launch_finish(&l);
    for (size_t i = 0; i < n_owned; i++) {
        free(owned[i]);
    }
}

static void fuzz_flags(const uint8_t *data, size_t size)
{
    char *text = ccr_xstrndup((const char *)data, size);
    struct ccr_price p;
    char *cause = NULL;
    double usd;
    enum ccr_mode mode;

    if (ccr_price_parse_flag(text, &p, &cause) == 0) {
        struct ccr_prices t = {0};
        ccr_prices_put(&t, &p);
        check_prices(&t);
        ccr_prices_finish(&t);
    } else if (cause == NULL) {
        fail("a --price refused without a cause");
    }
    free(cause);
    if (ccr_budget_parse_usd(text, &usd) && (!isfinite(usd) || usd <= 0)) {
        fail("a budget amount is not a positive finite number");
    }
    if (ccr_privacy_parse_mode(text, &mode) &&
        strcasecmp(ccr_privacy_mode_name(mode), text) != 0) {
        fail("a privacy mode reads back under another name");
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (extra == NULL) {
        setup();
    }
    if (size < 1) {
        return 0;
    }
    switch (data[0] % 4) {
    case 0:
        fuzz_ini(data + 1, size - 1);
        break;
    case 1:
        fuzz_env(data + 1, size - 1);
        break;
    case 2:
        fuzz_settings(data + 1, size - 1);
        break;
    default:
        fuzz_flags(data + 1, size - 1);
        break;
    }
    return 0;
}
