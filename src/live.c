/* SPDX-License-Identifier: MIT */
/* A run's live figures: from the history, as JSON, as one line, and over loopback. */
#include "live.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "project.h"
#include "report.h"
#include "util.h"

/* The most of an answer read; the figures are a few hundred bytes. */
#define MAX_ANSWER (64u * 1024)

static const char *const token_keys[4] = {"input", "output", "cache_read", "cache_creation"};

/*
 * The figures are those of `ccrun last --json`, so the status line and the
 * summary never disagree; a run without requests costs $0 so far, while one
 * whose requests all lack a price is unknown.
 */
void ccr_live_from_summary(struct ccr_live *l, const struct ccr_summary *s)
{
    memset(l, 0, sizeof(*l));
    l->run_id = s->run_id;
    l->running = s->ended_ms == CCR_NONE;
    l->cost_usd = s->api_requests == 0 || s->api_requests > s->unknown_cost_requests ? s->cost_usd
                                                                                     : NAN;
    memcpy(l->tokens, s->tokens, sizeof(l->tokens));
    l->api_requests = s->api_requests;
    l->api_errors = s->api_errors;
    for (size_t i = 0; i < s->n_tools; i++) {
        l->tool_calls += s->tools[i].calls;
        l->tool_failures += s->tools[i].failed;
    }
    l->budget_usd = NAN;
    l->day_budget_usd = NAN;
    l->day_spent_usd = NAN;
}

double ccr_live_budget_used(const struct ccr_live *l)
{
    double used = NAN;
    double cost = isnan(l->cost_usd) ? 0 : l->cost_usd;

    if (!isnan(l->budget_usd) && l->budget_usd > 0) {
        used = cost / l->budget_usd;
    }
    if (!isnan(l->day_budget_usd) && l->day_budget_usd > 0 && !isnan(l->day_spent_usd)) {
        double day = l->day_spent_usd / l->day_budget_usd;
        used = isnan(used) || day > used ? day : used;
    }
    return used;
}

/* Absent figures are null in JSON, as in `ccrun last --json`. */
static json_t *number_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

json_t *ccr_live_json(const struct ccr_live *l)
{
    json_t *tokens = json_object();
    json_t *budget = json_object();

    for (int i = 0; i < 4; i++) {
        json_object_set_new(tokens, token_keys[i], json_integer(l->tokens[i]));
    }
    json_object_set_new(budget, "run_usd", number_or_null(l->budget_usd));
    json_object_set_new(budget, "day_usd", number_or_null(l->day_budget_usd));
    json_object_set_new(budget, "day_spent_usd", number_or_null(l->day_spent_usd));
    json_object_set_new(budget, "used", number_or_null(ccr_live_budget_used(l)));
    json_object_set_new(budget, "prompts_blocked", json_integer(l->prompts_blocked));
    json_object_set_new(budget, "turns_ended", json_integer(l->turns_ended));
    json_object_set_new(budget, "hard_stopped", json_boolean(l->hard_stopped));
    return json_pack("{s:I, s:b, s:o, s:o, s:I, s:I, s:I, s:I, s:o}", "run_id",
                     (json_int_t)l->run_id, "running", l->running, "cost_usd",
                     number_or_null(l->cost_usd), "tokens", tokens, "api_requests",
                     (json_int_t)l->api_requests, "api_errors", (json_int_t)l->api_errors,
                     "tool_calls", (json_int_t)l->tool_calls, "tool_failures",
                     (json_int_t)l->tool_failures, "budget", budget);
}

static double get_number(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static int64_t get_int(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* Missing keys read as zero or absent: an older or newer ccrun may answer. */
bool ccr_live_parse(const json_t *obj, struct ccr_live *l)
{
    const json_t *tokens = json_object_get(obj, "tokens");
    const json_t *budget = json_object_get(obj, "budget");

    memset(l, 0, sizeof(*l));
    if (!json_is_object(obj) || !json_is_object(tokens) || !json_is_object(budget)) {
        return false;
    }
    l->run_id = get_int(obj, "run_id");
    l->running = json_is_true(json_object_get(obj, "running"));
    l->cost_usd = get_number(obj, "cost_usd");
    for (int i = 0; i < 4; i++) {
        l->tokens[i] = get_int(tokens, token_keys[i]);
    }
    l->api_requests = get_int(obj, "api_requests");
    l->api_errors = get_int(obj, "api_errors");
    l->tool_calls = get_int(obj, "tool_calls");
    l->tool_failures = get_int(obj, "tool_failures");
    l->budget_usd = get_number(budget, "run_usd");
    l->day_budget_usd = get_number(budget, "day_usd");
    l->day_spent_usd = get_number(budget, "day_spent_usd");
    l->prompts_blocked = get_int(budget, "prompts_blocked");
    l->turns_ended = get_int(budget, "turns_ended");
    l->hard_stopped = json_is_true(json_object_get(budget, "hard_stopped"));
    return true;
}

const char *ccr_live_format_limit(double usd, char out[32])
{
    if (fabs(usd * 100 - round(usd * 100)) < 1e-6) {
        snprintf(out, 32, "$%.2f", usd);
        return out;
    }
    return ccr_format_usd(usd, out);
}

/* The budget part: "budget 45% of $0.05", naming the day when that limit is the tighter. */
static void budget_part(struct ccr_buf *b, const struct ccr_live *l)
{
    double used = ccr_live_budget_used(l);
    char usd[32];
    bool day = false;

    if (isnan(used)) {
        return;
    }
    if (!isnan(l->day_budget_usd) && !isnan(l->day_spent_usd)) {
        day = isnan(l->budget_usd) ||
              l->day_spent_usd / l->day_budget_usd >=
                  (isnan(l->cost_usd) ? 0 : l->cost_usd) / l->budget_usd;
    }
    ccr_buf_printf(b, " · budget %.0f%% of %s%s", used * 100,
                   ccr_live_format_limit(day ? l->day_budget_usd : l->budget_usd, usd),
                   day ? " today" : "");
    if (l->prompts_blocked > 0) {
        ccr_buf_printf(b, " · %lld blocked", (long long)l->prompts_blocked);
    }
}

/*
 * Compact enough for one terminal line beside Claude Code's own footer:
 * failures and blocks appear only when there are some.
 */
char *ccr_live_line(const struct ccr_live *l)
{
    struct ccr_buf b = {0};
    char usd[32], tok[32];
    int64_t all = l->tokens[0] + l->tokens[1] + l->tokens[2] + l->tokens[3];
    int64_t prompt = l->tokens[0] + l->tokens[2] + l->tokens[3];

    ccr_buf_printf(&b, "ccrun %s · %s tok", isnan(l->cost_usd) ? "$?" : ccr_format_usd(
                       l->cost_usd, usd), ccr_format_count(all, tok));
    if (prompt > 0) {
        ccr_buf_printf(&b, " · cache %.0f%%", 100.0 * (double)l->tokens[2] / (double)prompt);
    }
    ccr_buf_printf(&b, " · %lld req", (long long)l->api_requests);
    if (l->api_errors > 0) {
        ccr_buf_printf(&b, " (%lld failed)", (long long)l->api_errors);
    }
    ccr_buf_printf(&b, " · %lld tool%s", (long long)l->tool_calls, l->tool_calls == 1 ? "" : "s");
    if (l->tool_failures > 0) {
        ccr_buf_printf(&b, " (%lld failed)", (long long)l->tool_failures);
    }
    budget_part(&b, l);
    char *line = ccr_xstrdup(ccr_buf_cstr(&b));
    ccr_buf_finish(&b);
    return line;
}

/*
 * Splits http://127.0.0.1:PORT/path; only loopback IPv4 is accepted, so a
 * tampered variable cannot send the token to another host.
 */
static bool parse_url(const char *url, struct sockaddr_in *addr, const char **path)
{
    static const char prefix[] = "http://127.0.0.1:";
    char *end;

    if (strncmp(url, prefix, sizeof(prefix) - 1) != 0) {
        return false;
    }
    long port = strtol(url + sizeof(prefix) - 1, &end, 10);
    if (port <= 0 || port > 65535 || *end != '/') {
        return false;
    }
    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *path = end;
    return true;
}

/* Waits for fd to be ready for events until deadline (monotonic ns). */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    uint64_t now = ccr_mono_ns();
    struct pollfd p = {.fd = fd, .events = events};

    if (now >= deadline) {
        return -ETIMEDOUT;
    }
    int n = poll(&p, 1, (int)((deadline - now) / 1000000 + 1));
    return n > 0 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

/*
 * Sends the request and reads the whole answer (the server closes after it,
 * as asked). Every wait is bounded by deadline: Claude Code redraws the
 * status line every second, and a stuck line is worse than none.
 */
static int exchange(int fd, const char *request, struct ccr_buf *answer, uint64_t deadline)
{
    size_t sent = 0;
    size_t len = strlen(request);
    char chunk[4096];

    while (sent < len) {
        int rc = wait_fd(fd, POLLOUT, deadline);
        if (rc < 0) {
            return rc;
        }
        ssize_t n = send(fd, request + sent, len - sent, MSG_NOSIGNAL);
        if (n < 0) {
            return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        }
        sent += (size_t)n;
    }
    for (;;) {
        int rc = wait_fd(fd, POLLIN, deadline);
        if (rc < 0) {
            return rc;
        }
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n == 0) {
            return 0;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return -errno;
        }
        if (n > 0) {
            ccr_buf_append(answer, chunk, (size_t)n);
        }
        if (answer->len > MAX_ANSWER) {
            return -EMSGSIZE;
        }
    }
}

/* The JSON body of a 200 answer; -EPROTO for anything else. */
static int parse_answer(struct ccr_buf *answer, struct ccr_live *l)
{
    const char *text = ccr_buf_cstr(answer);
    const char *body = strstr(text, "\r\n\r\n");
    json_error_t err;

    if (strncmp(text, "HTTP/1.1 200 ", 13) != 0 || body == NULL) {
        return -EPROTO;
    }
    json_t *obj = json_loads(body + 4, 0, &err);
    bool ok = ccr_live_parse(obj, l);
    json_decref(obj);
    return ok ? 0 : -EPROTO;
}

int ccr_live_fetch(const char *url, const char *token, int timeout_ms, struct ccr_live *l)
{
    struct sockaddr_in addr;
    const char *path;
    struct ccr_buf answer = {0};
    uint64_t deadline = ccr_mono_ns() + (uint64_t)timeout_ms * 1000000;
    int rc;

    if (!parse_url(url, &addr, &path)) {
        return -EINVAL;
    }
    /* Non-blocking, so that connect and every read fall under the deadline. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS) {
        rc = -errno;
        goto out;
    }
    char *request = ccr_xasprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                                  "%s\r\nConnection: close\r\n\r\n", path, token);
    rc = exchange(fd, request, &answer, deadline);
    free(request);
    if (rc == 0) {
        rc = parse_answer(&answer, l);
    }
out:
    close(fd);
    ccr_buf_finish(&answer);
    return rc;
}

int ccr_live_from_history(const char *dir, struct ccr_live *l, char **cause)
{
    struct ccr_project project;
    struct ccr_store *store = NULL;
    struct ccr_summary s;
    int64_t run_id;

    int rc = ccr_project_find(dir, &project, cause);
    if (rc < 0) {
        return rc;
    }
    rc = ccr_store_open(project.db_path, true, &store, cause);
    if (rc == 0) {
        rc = ccr_store_last_run(store, &run_id);
    }
    if (rc == 0) {
        rc = ccr_store_summary(store, run_id, &s);
    }
    if (rc == 0) {
        ccr_live_from_summary(l, &s);
        ccr_summary_finish(&s);
    } else if (rc != -ENOENT && *cause == NULL) {
        *cause = ccr_xasprintf("cannot read %s", project.db_path);
    }
    ccr_store_close(store);
    ccr_project_finish(&project);
    return rc;
}
