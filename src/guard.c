/* SPDX-License-Identifier: MIT */
/* The budget guard: ccrun's own http hooks and live figures on the receiver. */
#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"
#include "log.h"
#include "store-views.h"
#include "util.h"

#define HOOK_PREFIX "/ccrun/hook/"
/* Seconds Claude Code gives a hook; past it the action proceeds (hooks fail open). */
#define HOOK_TIMEOUT_S 10

static bool same_text(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

void ccr_guard_live(struct ccr_guard *g, struct ccr_live *l)
{
    struct ccr_summary s;

    int rc = ccr_store_summary(g->store, g->run_id, &s);

    if (rc == 0) {
        ccr_live_from_summary(l, &s);
        ccr_summary_finish(&s);
    } else {
        ccr_log_warn("guard", "cannot read the run's figures: %s (run=%lld)",
                     ccr_store_errmsg(g->store), (long long)g->run_id);
        memset(l, 0, sizeof(*l));
        l->run_id = g->run_id;
        l->running = true;
        l->cost_usd = NAN;
    }
    ccr_budget_fill_live(&g->budget, l);
    l->prompts_blocked = g->prompts_blocked;
    l->turns_ended = g->turns_ended;
    l->hard_stopped = g->hard_stopped;
}

/*
 * What the run spent as far as anything tells: the events' cost, or the
 * cost metric when it says more (Claude Code stopped by its own
 * --max-budget-usd exits without sending its last events, but with the
 * metric points).
 */
double ccr_guard_spent(struct ccr_guard *g)
{
    struct ccr_summary s;
    double spent = 0;

    if (ccr_store_summary(g->store, g->run_id, &s) < 0) {
        return 0;
    }
    if (s.api_requests > 0 && !isnan(s.cost_usd)) {
        spent = s.cost_usd;
    }
    if (!isnan(s.metrics_cost_usd) && s.metrics_cost_usd > spent) {
        spent = s.metrics_cost_usd;
    }
    ccr_summary_finish(&s);
    return spent;
}

/* Warnings and stop notices come once per prompt and level, not on every hook. */
static bool first_notice(struct ccr_guard *g, const char *prompt_id,
                         enum ccr_budget_level level, enum ccr_budget_level *warned)
{
    bool first = !same_text(prompt_id, g->warned_prompt) || level > *warned;

    if (first) {
        free(g->warned_prompt);
        g->warned_prompt = prompt_id != NULL ? ccr_xstrdup(prompt_id) : NULL;
        *warned = level;
    }
    return first;
}

/*
 * The answer to one hook. UserPromptSubmit is blocked once over a limit;
 * PostToolUse then ends the turn before the next paid call. A PreToolUse
 * deny is never used: the model retries, and every retry is paid for.
 */
static json_t *decide(struct ccr_guard *g, const char *event, const char *prompt_id)
{
    double spent = ccr_guard_spent(g);
    enum ccr_budget_level level = ccr_budget_level(&g->budget, spent);

    if (level < CCR_BUDGET_WARN) {
        return json_object();
    }
    char *msg = ccr_budget_message(&g->budget, spent, level);
    json_t *answer = json_object();
    bool first = first_notice(g, prompt_id, level, &g->warned_level);

    if (level == CCR_BUDGET_OVER && strcmp(event, "UserPromptSubmit") == 0) {
        json_object_set_new(answer, "decision", json_string("block"));
        json_object_set_new(answer, "reason", json_string(msg));
        g->prompts_blocked++;
        ccr_log_info("guard", "blocked a prompt: over budget (run=%lld spent=%.6f)",
                     (long long)g->run_id, spent);
    } else if (level == CCR_BUDGET_OVER && strcmp(event, "PostToolUse") == 0) {
        json_object_set_new(answer, "continue", json_false());
        json_object_set_new(answer, "stopReason", json_string(msg));
        g->turns_ended++;
        ccr_log_info("guard", "ended a turn after its tool: over budget (run=%lld spent=%.6f)",
                     (long long)g->run_id, spent);
    } else if (first || strcmp(event, "UserPromptSubmit") == 0) {
        json_object_set_new(answer, "systemMessage", json_string(msg));
    }
    free(msg);
    return answer;
}

static void fill_json(struct ccr_reply *reply, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);

    json_decref(obj);
    reply->status = 200;
    reply->content_type = "application/json";
    reply->owned = text;
    reply->body = text;
    reply->body_len = strlen(text);
}

static void answer_wait(struct ccr_guard *g, struct ccr_guard_wait *w)
{
    struct ccr_reply reply = {0};

    fill_json(&reply, decide(g, w->event, w->prompt_id));
    ccr_receiver_answer(g->rx, w->id, &reply);
    ccr_reply_finish(&reply);
    g->hooks++;
    g->hook_ns += ccr_mono_ns() - w->since_ns;
    ccr_log_debug("guard", "answered %s after waiting (us=%llu)", w->event,
                  (unsigned long long)((ccr_mono_ns() - w->since_ns) / 1000));
    free(w->event);
    free(w->prompt_id);
}

static void answer_all(struct ccr_guard *g)
{
    /* Answers are taken off first: answering may run decide(), never this list. */
    size_t n = g->n_waits;
    struct ccr_guard_wait waits[CCR_GUARD_PENDING];

    memcpy(waits, g->waits, n * sizeof(waits[0]));
    g->n_waits = 0;
    if (g->timer_open) {
        uv_timer_stop(&g->timer);
    }
    for (size_t i = 0; i < n; i++) {
        answer_wait(g, &waits[i]);
    }
}

static void on_wait_over(uv_timer_t *t)
{
    answer_all(t->data);
}

static void check_hard(struct ccr_guard *g)
{
    if (!g->budget.hard || g->hard_stopped || g->on_over == NULL ||
        ccr_budget_level(&g->budget, ccr_guard_spent(g)) != CCR_BUDGET_OVER) {
        return;
    }
    g->hard_stopped = true;
    ccr_log_info("guard", "ending the session: over budget with --budget-hard (run=%lld)",
                 (long long)g->run_id);
    g->on_over(g->ctx);
}

void ccr_guard_logs_arrived(struct ccr_guard *g)
{
    g->logs_ns = ccr_mono_ns();
    if (g->n_waits > 0) {
        answer_all(g);
    }
    check_hard(g);
}

static const char *string_field(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/*
 * At Stop the turn's last request is never counted yet, and waiting holds
 * up nothing. After a tool the request that asked for it is not counted
 * yet either, but waiting delays the turn, so only near a limit. A new
 * prompt usually comes long after the last export; it waits only when
 * exports are still arriving.
 */
static bool should_wait(struct ccr_guard *g, const char *event, uint64_t now)
{
    bool quiet = g->logs_ns == 0 || now - g->logs_ns > (uint64_t)g->wait_ms * 1000000;

    if (strcmp(event, "Stop") == 0) {
        return true;
    }
    if (strcmp(event, "UserPromptSubmit") == 0 && quiet) {
        return false;
    }
    return ccr_budget_level(&g->budget, ccr_guard_spent(g)) >= CCR_BUDGET_NEAR;
}

/*
 * A hook that should wait is answered when the next logs export has been
 * stored, or after wait_ms, whichever comes first. The body only names the
 * prompt: a body that is missing, too large or not JSON still gets an
 * answer from the event in the path, because a hook that fails lets the
 * action proceed unchecked.
 */
static bool on_hook(struct ccr_guard *g, const char *event, const uint8_t *body, size_t len,
                    uint64_t id, struct ccr_reply *reply)
{
    json_error_t err;
    json_t *in = body != NULL ? json_loadb((const char *)body, len, 0, &err) : NULL;
    const char *prompt_id = string_field(in, "prompt_id");
    uint64_t t0 = ccr_mono_ns();

    bool wait = g->wait_ms > 0 && g->n_waits < CCR_GUARD_PENDING && should_wait(g, event, t0);
    if (wait) {
        struct ccr_guard_wait *w = &g->waits[g->n_waits++];
        w->id = id;
        w->event = ccr_xstrdup(event);
        w->prompt_id = prompt_id != NULL ? ccr_xstrdup(prompt_id) : NULL;
        w->since_ns = t0;
        if (g->n_waits == 1) {
            uv_timer_start(&g->timer, on_wait_over, g->wait_ms, 0);
        }
    } else {
        fill_json(reply, decide(g, event, prompt_id));
        g->hooks++;
        g->hook_ns += ccr_mono_ns() - t0;
        ccr_log_debug("guard", "answered %s (us=%llu)", event,
                      (unsigned long long)((ccr_mono_ns() - t0) / 1000));
    }
    json_decref(in);
    return !wait;
}

static bool on_local(void *ctx, const char *method, const char *path, const uint8_t *body,
                     size_t len, uint64_t id, struct ccr_reply *reply)
{
    struct ccr_guard *g = ctx;

    if (strcmp(path, CCR_LIVE_PATH) == 0 && strcmp(method, "GET") == 0) {
        struct ccr_live l;
        ccr_guard_live(g, &l);
        fill_json(reply, ccr_live_json(&l));
        return true;
    }
    if (strncmp(path, HOOK_PREFIX, strlen(HOOK_PREFIX)) == 0 && strcmp(method, "POST") == 0 &&
        path[strlen(HOOK_PREFIX)] != '\0') {
        return on_hook(g, path + strlen(HOOK_PREFIX), body, len, id, reply);
    }
    reply->status = 404;
    reply->reason = "unknown path: use GET " CCR_LIVE_PATH " or POST " HOOK_PREFIX "EVENT";
    return true;
}

void ccr_guard_init(struct ccr_guard *g, uv_loop_t *loop, struct ccr_receiver *rx,
                    struct ccr_store *store, int64_t run_id, const struct ccr_budget *budget,
                    unsigned wait_ms, ccr_guard_over_cb on_over, void *ctx)
{
    memset(g, 0, sizeof(*g));
    g->rx = rx;
    g->store = store;
    g->run_id = run_id;
    g->budget = *budget;
    g->wait_ms = ccr_budget_active(budget) ? wait_ms : 0;
    g->on_over = on_over;
    g->ctx = ctx;
    uv_timer_init(loop, &g->timer);
    g->timer.data = g;
    g->timer_open = true;
    ccr_receiver_set_local(rx, on_local, g);
}

/* What the hooks cost the user, for the log: Claude Code waits for each answer. */
static void log_hook_times(const struct ccr_guard *g)
{
    if (g->hooks == 0) {
        return;
    }
    ccr_log_info("guard", "answered %llu hooks (mean_us=%llu run=%lld)",
                 (unsigned long long)g->hooks,
                 (unsigned long long)(g->hook_ns / g->hooks / 1000), (long long)g->run_id);
}

/* Quotes s for a POSIX shell: 'it'\''s'. */
static char *shell_quote(const char *s)
{
    struct ccr_buf b = {0};

    ccr_buf_append(&b, "'", 1);
    for (; *s != '\0'; s++) {
        if (*s == '\'') {
            ccr_buf_append(&b, "'\\''", 4);
        } else {
            ccr_buf_append(&b, s, 1);
        }
    }
    ccr_buf_append(&b, "'", 1);
    char *out = ccr_xstrdup(ccr_buf_cstr(&b));
    ccr_buf_finish(&b);
    return out;
}

static json_t *http_hook(const char *base, const char *event, const char *auth,
                         const char *matcher)
{
    char *url = ccr_xasprintf("%s" HOOK_PREFIX "%s", base, event);
    json_t *hook = json_pack("{s:s, s:s, s:{s:s}, s:i}", "type", "http", "url", url, "headers",
                             "Authorization", auth, "timeout", HOOK_TIMEOUT_S);
    json_t *group = json_pack("{s:[o]}", "hooks", hook);

    if (matcher != NULL) {
        json_object_set_new(group, "matcher", json_string(matcher));
    }
    free(url);
    return json_pack("[o]", group);
}

json_t *ccr_guard_settings(const struct ccr_guard *g, int port, const char *token,
                           const char *self, bool status_line)
{
    char *base = ccr_xasprintf("http://127.0.0.1:%d", port);
    char *auth = ccr_xasprintf("Bearer %s", token);
    char *quoted = shell_quote(self);
    char *command = ccr_xasprintf("%s statusline", quoted);
    char *url = ccr_xasprintf("%s%s", base, CCR_LIVE_PATH);
    json_t *settings = json_object();

    if (ccr_budget_active(&g->budget)) {
        json_t *hooks = json_object();
        json_object_set_new(hooks, "UserPromptSubmit", http_hook(base, "UserPromptSubmit", auth,
                                                                 NULL));
        json_object_set_new(hooks, "PostToolUse", http_hook(base, "PostToolUse", auth, "*"));
        json_object_set_new(hooks, "Stop", http_hook(base, "Stop", auth, NULL));
        json_object_set_new(settings, "hooks", hooks);
    }
    if (status_line) {
        json_object_set_new(settings, "statusLine",
                            json_pack("{s:s, s:s, s:i, s:i}", "type", "command", "command",
                                      command, "padding", 0, "refreshInterval", 1));
    }
    json_object_set_new(settings, "env",
                        json_pack("{s:s, s:s}", CCR_LIVE_URL_ENV, url, CCR_LIVE_TOKEN_ENV,
                                  token));
    free(base);
    free(auth);
    free(quoted);
    free(command);
    free(url);
    return settings;
}

void ccr_guard_finish(struct ccr_guard *g)
{
    struct ccr_reply reply = {.status = 200, .content_type = "application/json",
                              .body = "{}", .body_len = 2};

    for (size_t i = 0; i < g->n_waits; i++) {
        ccr_receiver_answer(g->rx, g->waits[i].id, &reply);
        free(g->waits[i].event);
        free(g->waits[i].prompt_id);
    }
    g->n_waits = 0;
    log_hook_times(g);
    if (g->timer_open) {
        uv_close((uv_handle_t *)&g->timer, NULL);
        g->timer_open = false;
    }
    free(g->warned_prompt);
    g->warned_prompt = NULL;
    if (g->live_path != NULL) {
        unlink(g->live_path);
        free(g->live_path);
        g->live_path = NULL;
    }
}

char *ccr_guard_live_path(const char *ccrun_dir, int64_t run_id)
{
    return ccr_xasprintf("%s/live-%lld.json", ccrun_dir, (long long)run_id);
}

void ccr_guard_publish(struct ccr_guard *g, const char *ccrun_dir, int port, const char *token)
{
    char *path = ccr_guard_live_path(ccrun_dir, g->run_id);
    char *url = ccr_xasprintf("http://127.0.0.1:%d%s", port, CCR_LIVE_PATH);
    json_t *obj = json_pack("{s:s, s:s}", "url", url, "token", token);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

    if (fd < 0 || json_dumpfd(obj, fd, JSON_COMPACT) < 0) {
        ccr_log_warn("guard", "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0) {
            unlink(path);
        }
        free(path);
    } else {
        g->live_path = path;
    }
    if (fd >= 0) {
        close(fd);
    }
    json_decref(obj);
    free(url);
}

double ccr_guard_spent_today(struct ccr_store *store)
{
    time_t now = time(NULL);
    struct tm day;
    struct ccr_stats_row *rows = NULL;
    struct ccr_stats_row total;
    size_t n = 0;

    localtime_r(&now, &day);
    day.tm_hour = 0;
    day.tm_min = 0;
    day.tm_sec = 0;
    day.tm_isdst = -1;
    int64_t midnight_ms = (int64_t)mktime(&day) * 1000;
    if (ccr_store_stats(store, midnight_ms, CCR_STATS_TOTAL, NULL, &rows, &n, &total) < 0) {
        ccr_stats_rows_free(rows, n);
        return 0;
    }
    ccr_stats_rows_free(rows, n);
    return total.cost_usd;
}

bool ccr_guard_print_argv(char *const *argv, double remaining, char ***out)
{
    bool print = false;
    bool given = false;
    size_t n = 0;

    *out = NULL;
    if (!ccr_launch_is_claude(argv[0])) {
        return false;
    }
    for (n = 1; argv[n] != NULL && strcmp(argv[n], "--") != 0; n++) {
        print = print || strcmp(argv[n], "-p") == 0 || strcmp(argv[n], "--print") == 0;
        given = given || strncmp(argv[n], "--max-budget-usd", 16) == 0;
    }
    while (argv[n] != NULL) {
        n++;
    }
    if (!print || given || isnan(remaining) || remaining <= 0) {
        return print;
    }
    char **v = ccr_xcalloc(n + 3, sizeof(char *));
    v[0] = ccr_xstrdup(argv[0]);
    v[1] = ccr_xstrdup("--max-budget-usd");
    v[2] = ccr_xasprintf("%.6f", remaining);
    for (size_t i = 1; i < n; i++) {
        v[i + 2] = ccr_xstrdup(argv[i]);
    }
    *out = v;
    return true;
}
