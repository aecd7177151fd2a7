/* SPDX-License-Identifier: MIT */
/* The run summary as text and as JSON. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report-views.h"
#include "util.h"

static const char *const token_keys[4] = {"input", "output", "cache_read", "cache_creation"};

bool ccr_report_use_color(int fd)
{
    const char *no_color = getenv("NO_COLOR");
    const char *term = getenv("TERM");

    return isatty(fd) && (no_color == NULL || no_color[0] == '\0') &&
           (term == NULL || strcmp(term, "dumb") != 0);
}

/*
 * Names that came from telemetry (models, tools, the program) are a peer's
 * text: escaped and capped before they reach a terminal. The result lives
 * until the next call with the same slot.
 */
static const char *safe(const char *s, int slot)
{
    static struct ccr_buf bufs[4];
    struct ccr_buf *b = &bufs[slot & 3];

    ccr_buf_reset(b);
    ccr_escape_untrusted(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0, 60);
    return ccr_buf_cstr(b);
}

const char *ccr_format_usd(double usd, char out[32])
{
    /* Sums of binary doubles land just under halves: 0.02275 is 0.022749999... */
    usd *= 1 + 1e-12;
    if (usd != 0 && fabs(usd) < 1.0) {
        snprintf(out, 32, "$%.4f", usd);
    } else {
        snprintf(out, 32, "$%.2f", usd);
    }
    return out;
}

const char *ccr_format_count(int64_t n, char out[32])
{
    if (n < 1000) {
        snprintf(out, 32, "%lld", (long long)n);
    } else if (n < 999950) {
        snprintf(out, 32, "%.1fk", (double)n / 1e3);
    } else {
        snprintf(out, 32, "%.1fM", (double)n / 1e6);
    }
    return out;
}

const char *ccr_format_duration(int64_t ms, char out[32])
{
    if (ms < 1000) {
        snprintf(out, 32, "%lld ms", (long long)ms);
    } else if (ms < 60000) {
        snprintf(out, 32, "%.1f s", (double)ms / 1e3);
    } else if (ms < 3600000) {
        snprintf(out, 32, "%lldm %02llds", (long long)(ms / 60000),
                 (long long)(ms / 1000 % 60));
    } else {
        snprintf(out, 32, "%lldh %02lldm", (long long)(ms / 3600000),
                 (long long)(ms / 60000 % 60));
    }
    return out;
}

/* The command as one line: arguments with spaces are quoted. */
static void command_line(const struct ccr_summary *s, struct ccr_buf *b)
{
    json_t *argv = json_loads(s->command_json != NULL ? s->command_json : "[]", 0, NULL);
    size_t i;
    json_t *arg;

    json_array_foreach(argv, i, arg) {
        const char *a = json_string_value(arg);
        if (a == NULL) {
            continue;
        }
        if (b->len > 300) {
            ccr_buf_printf(b, " … (%zu arguments)", json_array_size(argv));
            break;
        }
        if (i > 0) {
            ccr_buf_append(b, " ", 1);
        }
        bool quote = a[0] == '\0' || strpbrk(a, " \t\"'") != NULL;
        if (quote) {
            ccr_buf_append(b, "\"", 1);
        }
        ccr_escape_untrusted(b, a, strlen(a), i == 0 ? 200 : 60);
        if (quote) {
            ccr_buf_append(b, "\"", 1);
        }
    }
    json_decref(argv);
}

static void print_header(FILE *f, const struct ccr_summary *s, const char *bold,
                         const char *reset)
{
    struct ccr_buf cmd = {0};
    char d[32];

    command_line(s, &cmd);
    fprintf(f, "%sccrun%s: %s\n", bold, reset, ccr_buf_cstr(&cmd));
    ccr_buf_finish(&cmd);
    if (s->ended_ms == CCR_NONE) {
        fprintf(f, "  not finished: still running, or ccrun was killed (started %s ago)",
                ccr_format_duration(ccr_now_ms() - s->started_ms, d));
    } else if (s->signal > 0) {
        fprintf(f, "  killed by signal %lld after %s", (long long)s->signal,
                ccr_format_duration(s->ended_ms - s->started_ms, d));
    } else {
        fprintf(f, "  exit %lld after %s", (long long)s->exit_code,
                ccr_format_duration(s->ended_ms - s->started_ms, d));
    }
    fprintf(f, " · run %lld", (long long)s->run_id);
    if (s->n_sessions > 0) {
        fprintf(f, " · %zu session%s", s->n_sessions, s->n_sessions == 1 ? "" : "s");
    }
    if (s->program != NULL) {
        fprintf(f, " · %s%s%s", safe(s->program, 0), s->program_version ? " " : "",
                s->program_version ? safe(s->program_version, 1) : "");
    }
    fputc('\n', f);
}

static void print_tokens(FILE *f, const char *label, const int64_t t[4])
{
    char a[32], b[32], c[32], d[32];

    fprintf(f, "  %-8s %s in · %s out · %s cache read · %s cache write\n", label,
            ccr_format_count(t[0], a), ccr_format_count(t[1], b), ccr_format_count(t[2], c),
            ccr_format_count(t[3], d));
}

static void print_models(FILE *f, const struct ccr_summary *s, const char *dim,
                         const char *reset)
{
    char c[32], t[4][32];

    if (s->n_models < 2) {
        return;
    }
    fprintf(f, "  %s%-28s %5s %9s %7s %7s %9s %9s%s\n", dim, "model", "reqs", "cost", "in",
            "out", "cache rd", "cache wr", reset);
    for (size_t i = 0; i < s->n_models; i++) {
        const struct ccr_model_total *m = &s->models[i];
        for (int k = 0; k < 4; k++) {
            ccr_format_count(m->tokens[k], t[k]);
        }
        fprintf(f, "  %-28.28s %5lld %9s %7s %7s %9s %9s\n", safe(m->model, 0),
                (long long)m->requests,
                ccr_format_usd(m->cost_usd, c), t[0], t[1], t[2], t[3]);
    }
}

/* One line per typed prompt (slash commands left out), as the policy stored it. */
static void print_prompts(FILE *f, const struct ccr_summary *s, const char *dim,
                          const char *reset)
{
    enum { MAX_SHOWN = 3 };
    size_t shown = 0;
    size_t typed = 0;

    for (size_t i = 0; i < s->n_prompts; i++) {
        const struct ccr_prompt *p = &s->prompts[i];
        if (p->command != NULL) {
            continue;
        }
        if (typed++ >= MAX_SHOWN) {
            continue;
        }
        struct ccr_buf b = {0};
        if (p->hash != NULL) {
            ccr_buf_printf(&b, "#%.8s", p->hash);
        } else if (p->text != NULL) {
            ccr_buf_append(&b, "\"", 1);
            ccr_escape_untrusted(&b, p->text, strlen(p->text), 60);
            ccr_buf_append(&b, "\"", 1);
        } else {
            ccr_buf_printf(&b, "(not kept)");
        }
        if (p->length != CCR_NONE) {
            ccr_buf_printf(&b, " %s(%lld chars)%s", dim, (long long)p->length, reset);
        }
        fprintf(f, "  %-8s %s\n", "prompt", ccr_buf_cstr(&b));
        ccr_buf_finish(&b);
        shown++;
    }
    if (typed > shown) {
        fprintf(f, "  %-8s %s… %zu more%s\n", "", dim, typed - shown, reset);
    }
}

static void print_tools(FILE *f, const struct ccr_summary *s, const char *dim,
                        const char *red, const char *reset)
{
    char d[32];

    if (s->n_tools == 0) {
        return;
    }
    fprintf(f, "  %s%-20s %6s %6s %6s %8s %9s%s\n", dim, "tool", "calls", "ok", "failed",
            "rejected", "time", reset);
    for (size_t i = 0; i < s->n_tools; i++) {
        const struct ccr_tool_total *t = &s->tools[i];
        fprintf(f, "  %-20.20s %6lld %6lld %s%6lld%s %8lld %9s\n", safe(t->name, 0),
                (long long)t->calls, (long long)t->succeeded, t->failed ? red : "",
                (long long)t->failed, t->failed ? reset : "", (long long)t->rejected,
                ccr_format_duration(t->duration_ms, d));
    }
}

/* True for an endpoint that is not Anthropic's own API. */
static bool foreign_endpoint(const char *url)
{
    const char *host;

    if (url == NULL || url[0] == '\0' || (host = strstr(url, "://")) == NULL) {
        return false;
    }
    host += 3;
    size_t n = strcspn(host, ":/");
    return !(n >= 13 && strncmp(host + n - 13, "anthropic.com", 13) == 0 &&
             (n == 13 || host[n - 14] == '.'));
}

static const char *format_mtok(const struct ccr_price *p, char out[48])
{
    snprintf(out, 48, "$%.2f/$%.2f per MTok", p->usd[CCR_TOKENS_INPUT],
             p->usd[CCR_TOKENS_OUTPUT]);
    return out;
}

/*
 * Where the cost comes from: ccrun's own prices, Claude Code's Claude-priced
 * figure for a model served by another provider, or nowhere.
 */
static void print_pricing(FILE *f, const struct ccr_summary *s, const struct ccr_prices *prices,
                          const char *dim, const char *reset)
{
    char c[32], m[48];

    for (size_t i = 0; i < s->n_models; i++) {
        const struct ccr_model_total *mt = &s->models[i];
        const struct ccr_price *p = prices ? ccr_prices_find(prices, mt->model) : NULL;
        if (mt->priced_requests > 0) {
            fprintf(f, "  %s%-8s priced by ccrun: %s at %s; Claude Code reported %s%s\n", dim,
                    "", safe(mt->model, 0), p ? format_mtok(p, m) : "its price table",
                    ccr_format_usd(mt->reported_cost_usd, c), reset);
        } else if (mt->unknown_cost_requests > 0) {
            fprintf(f, "  %-8s cost unknown for %lld %s request%s: no price; add one with "
                       "--price %s=IN/OUT\n", "", (long long)mt->unknown_cost_requests,
                    safe(mt->model, 0), mt->unknown_cost_requests == 1 ? "" : "s",
                    safe(mt->model, 1));
        } else if (foreign_endpoint(s->api_base_url) && strncmp(mt->model, "claude-", 7) != 0) {
            fprintf(f, "  %-8s warning: %s ran on %s with no price in ccrun's table, so its "
                       "cost is Claude Code's Claude-priced figure; add a price with "
                       "--price %s=IN/OUT or a [price %s] section in .ccrun/config\n", "",
                    safe(mt->model, 0), safe(s->api_base_url, 1), safe(mt->model, 2),
                    safe(mt->model, 3));
        }
    }
}

void ccr_report_text(FILE *f, const struct ccr_summary *s, bool color,
                     const struct ccr_prices *prices)
{
    const char *bold = color ? "\033[1m" : "";
    const char *dim = color ? "\033[2m" : "";
    const char *red = color ? "\033[31m" : "";
    const char *reset = color ? "\033[0m" : "";
    char c[32], d[32];

    print_header(f, s, bold, reset);
    if (s->events == 0 && s->metric_points == 0) {
        struct ccr_buf cmd = {0};
        json_t *argv = json_loads(s->command_json ? s->command_json : "[]", 0, NULL);
        const char *prog = json_string_value(json_array_get(argv, 0));
        ccr_escape_untrusted(&cmd, prog ? prog : "the command", prog ? strlen(prog) : 11, 200);
        fprintf(f, "  no telemetry received from %s\n", ccr_buf_cstr(&cmd));
        ccr_buf_finish(&cmd);
        json_decref(argv);
        return;
    }
    bool unknown = s->api_requests > 0 && s->unknown_cost_requests == s->api_requests;
    fprintf(f, "  %-8s %s%s%s · %lld API request%s", "cost", bold,
            unknown ? "unknown" : ccr_format_usd(s->cost_usd, c), reset,
            (long long)s->api_requests,
            s->api_requests == 1 ? "" : "s");
    if (s->api_errors > 0) {
        fprintf(f, " · %s%lld error%s%s", red, (long long)s->api_errors,
                s->api_errors == 1 ? "" : "s", reset);
    }
    fprintf(f, " · %s in API", ccr_format_duration(s->api_duration_ms, d));
    if (s->estimated_requests > 0) {
        fprintf(f, " · estimate");
    }
    if (s->unknown_cost_requests > 0 && !unknown) {
        fprintf(f, " · %s%lld without a known cost%s", red, (long long)s->unknown_cost_requests,
                reset);
    }
    fputc('\n', f);
    print_pricing(f, s, prices, dim, reset);
    ccr_report_cost_check(f, s->reported_cost_usd, s->metrics_cost_usd, "  ");
    print_tokens(f, "tokens", s->tokens);
    print_prompts(f, s, dim, reset);
    print_models(f, s, dim, reset);
    print_tools(f, s, dim, red, reset);
    /*
     * A request cancelled mid-stream is billed but never reported: after an
     * interruption the figures can only be a lower bound, and the user should know.
     */
    if (s->signal > 0 || s->interrupted_tools > 0) {
        fprintf(f, "  %snote     interrupted: a request cut off mid-stream is billed but never\n"
                   "           reported, so these figures are a lower bound%s\n", dim, reset);
    }
    if (s->lines_added > 0 || s->lines_removed > 0) {
        fprintf(f, "  %-8s +%lld −%lld\n", "lines", (long long)s->lines_added,
                (long long)s->lines_removed);
    }
}

static json_t *tokens_json(const int64_t t[4])
{
    json_t *o = json_object();
    for (int i = 0; i < 4; i++) {
        json_object_set_new(o, token_keys[i], json_integer(t[i]));
    }
    return o;
}

json_t *ccr_json_time(int64_t ms)
{
    char buf[32];

    if (ms == CCR_NONE) {
        return json_null();
    }
    ccr_format_rfc3339(ms, buf);
    return json_string(buf);
}

json_t *ccr_json_int(int64_t v)
{
    return v == CCR_NONE ? json_null() : json_integer(v);
}

json_t *ccr_json_str(const char *s)
{
    json_t *v = s != NULL ? json_string(s) : NULL;
    return v != NULL ? v : json_null();
}

static json_t *models_json(const struct ccr_summary *s)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < s->n_models; i++) {
        const struct ccr_model_total *m = &s->models[i];
        json_t *o = json_object();
        json_object_set_new(o, "model", ccr_json_str(m->model));
        json_object_set_new(o, "requests", json_integer(m->requests));
        json_object_set_new(o, "cost_usd", json_real(m->cost_usd));
        json_object_set_new(o, "reported_cost_usd", json_real(m->reported_cost_usd));
        json_object_set_new(o, "priced_by_ccrun", json_boolean(m->priced_requests > 0));
        for (int k = 0; k < 4; k++) {
            json_object_set_new(o, token_keys[k], json_integer(m->tokens[k]));
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *tools_json(const struct ccr_summary *s)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < s->n_tools; i++) {
        const struct ccr_tool_total *t = &s->tools[i];
        json_array_append_new(arr, json_pack("{s:o, s:I, s:I, s:I, s:I, s:I}", "name",
                                             ccr_json_str(t->name), "calls", (json_int_t)t->calls,
                                             "succeeded", (json_int_t)t->succeeded, "failed",
                                             (json_int_t)t->failed, "rejected",
                                             (json_int_t)t->rejected, "duration_ms",
                                             (json_int_t)t->duration_ms));
    }
    return arr;
}

static json_t *prompts_json(const struct ccr_summary *s)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < s->n_prompts; i++) {
        const struct ccr_prompt *p = &s->prompts[i];
        json_t *o = json_object();
        json_object_set_new(o, "prompt_id", ccr_json_str(p->prompt_id));
        json_object_set_new(o, "length", ccr_json_int(p->length));
        json_object_set_new(o, "text", ccr_json_str(p->text));
        json_object_set_new(o, "hash", ccr_json_str(p->hash));
        json_object_set_new(o, "command", ccr_json_str(p->command));
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *ccr_report_json(const struct ccr_summary *s)
{
    json_t *o = json_object();
    json_t *command = json_loads(s->command_json ? s->command_json : "[]", 0, NULL);
    json_t *sessions = json_array();
    int64_t duration = s->ended_ms == CCR_NONE ? CCR_NONE : s->ended_ms - s->started_ms;

    for (size_t i = 0; i < s->n_sessions; i++) {
        json_array_append_new(sessions, ccr_json_str(s->sessions[i]));
    }
    json_object_set_new(o, "run_id", json_integer(s->run_id));
    json_object_set_new(o, "command", command != NULL ? command : json_array());
    json_object_set_new(o, "cwd", ccr_json_str(s->cwd));
    json_object_set_new(o, "started_at", ccr_json_time(s->started_ms));
    json_object_set_new(o, "ended_at", ccr_json_time(s->ended_ms));
    json_object_set_new(o, "duration_ms", ccr_json_int(duration));
    json_object_set_new(o, "exit_code", ccr_json_int(s->exit_code));
    json_object_set_new(o, "signal", s->signal > 0 ? json_integer(s->signal) : json_null());
    json_object_set_new(o, "program", ccr_json_str(s->program));
    json_object_set_new(o, "program_version", ccr_json_str(s->program_version));
    json_object_set_new(o, "sessions", sessions);
    bool unknown = s->api_requests > 0 && s->unknown_cost_requests == s->api_requests;
    json_object_set_new(o, "cost_usd", unknown ? json_null() : json_real(s->cost_usd));
    json_object_set_new(o, "reported_cost_usd", json_real(s->reported_cost_usd));
    json_object_set_new(o, "cost_estimated", json_boolean(s->estimated_requests > 0));
    json_object_set_new(o, "lower_bound", json_boolean(s->signal > 0 || s->interrupted_tools > 0));
    json_object_set_new(o, "cost_unknown_requests", json_integer(s->unknown_cost_requests));
    json_object_set_new(o, "api_base_url", ccr_json_str(s->api_base_url));
    json_object_set_new(o, "metrics_cost_usd",
                        isnan(s->metrics_cost_usd) ? json_null() : json_real(s->metrics_cost_usd));
    json_object_set_new(o, "tokens", tokens_json(s->tokens));
    json_object_set_new(o, "api_requests", json_integer(s->api_requests));
    json_object_set_new(o, "api_errors", json_integer(s->api_errors));
    json_object_set_new(o, "api_duration_ms", json_integer(s->api_duration_ms));
    json_object_set_new(o, "prompts", prompts_json(s));
    json_object_set_new(o, "models", models_json(s));
    json_object_set_new(o, "tools", tools_json(s));
    json_object_set_new(o, "lines_added", json_integer(s->lines_added));
    json_object_set_new(o, "lines_removed", json_integer(s->lines_removed));
    json_object_set_new(o, "events", json_integer(s->events));
    json_object_set_new(o, "metric_points", json_integer(s->metric_points));
    json_object_set_new(o, "telemetry", json_boolean(s->events > 0 || s->metric_points > 0));
    return o;
}
