/* SPDX-License-Identifier: MIT */
/* The history views as text and JSON: run list, timeline, stats, export, prune. */
#include "report-views.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "util.h"

static const char *const token_names[4] = {"input", "output", "cache_read", "cache_creation"};
static const char *const token_columns[4] = {"input_tokens", "output_tokens",
                                             "cache_read_tokens", "cache_creation_tokens"};

/* Longest prompt or error shown on a timeline line, in bytes. */
#define CCR_SHOWN_TEXT 72

/* Event clocks further than this from the run's start are not the run's clock. */
#define CCR_CLOCK_SLACK_MS (24 * 3600 * 1000LL)

struct palette {
    const char *bold, *dim, *red, *yellow, *cyan, *reset;
};

static struct palette palette(bool color)
{
    if (!color) {
        return (struct palette){"", "", "", "", "", ""};
    }
    return (struct palette){"\033[1m", "\033[2m", "\033[31m", "\033[33m", "\033[36m", "\033[0m"};
}

static json_t *opt_real(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *opt_bool(int64_t v)
{
    return v == CCR_NONE ? json_null() : json_boolean(v != 0);
}

static json_t *ratio(int64_t num, int64_t den)
{
    return den > 0 ? json_real((double)num / (double)den) : json_null();
}

/* A parsed JSON text, or an empty array when it is missing or broken. */
static json_t *json_or_array(const char *text)
{
    json_t *v = text != NULL ? json_loads(text, 0, NULL) : NULL;
    return v != NULL ? v : json_array();
}

/* Appends at most max bytes of s, escaped, without splitting a UTF-8 sequence. */
static void append_text(struct ccr_buf *b, const char *s, size_t max)
{
    size_t len = strlen(s);
    size_t n = len;

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    ccr_escape_untrusted(b, s, n, n);
    if (n < len) {
        ccr_buf_append(b, "...", 3);
    }
}

/* Appends s whole, with the bytes a terminal would act on escaped. */
static void append_escaped(struct ccr_buf *b, const char *s)
{
    ccr_escape_untrusted(b, s, strlen(s), strlen(s));
}

/* The command line of a run, quoted where an argument needs it, about max bytes long. */
static void append_command(struct ccr_buf *b, const char *command_json, size_t max)
{
    json_t *argv = json_or_array(command_json);
    size_t start = b->len;
    size_t i;
    json_t *arg;

    json_array_foreach(argv, i, arg) {
        const char *a = json_string_value(arg);
        size_t used = b->len - start;
        if (a == NULL) {
            continue;
        }
        if (used >= max) {
            ccr_buf_append(b, " ...", 4);
            break;
        }
        size_t max_arg = max - used;
        bool quote = a[0] == '\0' || strpbrk(a, " \t\"'") != NULL;
        ccr_buf_printf(b, "%s%s", i > 0 ? " " : "", quote ? "\"" : "");
        append_text(b, a, max_arg);
        if (quote) {
            ccr_buf_append(b, "\"", 1);
        }
    }
    json_decref(argv);
}

/* "2026-12-03 13:37" in local time. */
static const char *format_local(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    if (ms == CCR_NONE || localtime_r(&secs, &tm) == NULL) {
        snprintf(out, 32, "?");
    } else {
        strftime(out, 32, "%Y-%m-%d %H:%M", &tm);
    }
    return out;
}

/* The exit column: the status, "sig N", or "running". */
static const char *format_exit(int64_t ended_ms, int64_t exit_code, int64_t sig, char out[32])
{
    if (ended_ms == CCR_NONE) {
        snprintf(out, 32, "running");
    } else if (sig != CCR_NONE && sig > 0) {
        snprintf(out, 32, "sig %lld", (long long)sig);
    } else if (exit_code != CCR_NONE) {
        snprintf(out, 32, "%lld", (long long)exit_code);
    } else {
        snprintf(out, 32, "?");
    }
    return out;
}

void ccr_report_runs_text(FILE *f, const struct ccr_run_row *rows, size_t n, bool color)
{
    struct palette p = palette(color);
    struct ccr_buf cmd = {0};
    char when[32], dur[32], cost[32], ex[32];

    fprintf(f, "%s%5s  %-16s  %8s  %9s  %4s  %5s  %4s  %7s  %4s  %s%s\n", p.dim, "run",
            "started", "duration", "cost", "reqs", "tools", "fail", "exit", "sess", "command",
            p.reset);
    for (size_t i = 0; i < n; i++) {
        const struct ccr_run_row *r = &rows[i];
        int64_t failures = r->tool_failures + r->api_errors;
        ccr_buf_reset(&cmd);
        append_command(&cmd, r->command_json, 60);
        if (r->ended_ms == CCR_NONE) {
            snprintf(dur, sizeof(dur), "-");
        } else {
            ccr_format_duration(r->ended_ms - r->started_ms, dur);
        }
        fprintf(f, "%5lld  %-16s  %8s  %9s  %4lld  %5lld  %s%4lld%s  %7s  %4lld  %s\n",
                (long long)r->run_id, format_local(r->started_ms, when), dur,
                ccr_format_usd(r->cost_usd, cost), (long long)r->api_requests,
                (long long)r->tool_calls, failures ? p.red : "", (long long)failures,
                failures ? p.reset : "", format_exit(r->ended_ms, r->exit_code, r->signal, ex),
                (long long)r->n_sessions, ccr_buf_cstr(&cmd));
    }
    ccr_buf_finish(&cmd);
}

static json_t *run_row_json(const struct ccr_run_row *r)
{
    json_t *o = json_object();
    bool ended = r->ended_ms != CCR_NONE;
    bool killed = r->signal != CCR_NONE && r->signal > 0;

    json_object_set_new(o, "run_id", json_integer(r->run_id));
    json_object_set_new(o, "command", json_or_array(r->command_json));
    json_object_set_new(o, "started_at", ccr_json_time(r->started_ms));
    json_object_set_new(o, "ended_at", ccr_json_time(r->ended_ms));
    json_object_set_new(o, "duration_ms",
                        ended ? json_integer(r->ended_ms - r->started_ms) : json_null());
    json_object_set_new(o, "exit_code", ccr_json_int(r->exit_code));
    json_object_set_new(o, "signal", killed ? json_integer(r->signal) : json_null());
    json_object_set_new(o, "sessions", json_or_array(r->sessions_json));
    json_object_set_new(o, "cost_usd", json_real(r->cost_usd));
    json_object_set_new(o, "api_requests", json_integer(r->api_requests));
    json_object_set_new(o, "api_errors", json_integer(r->api_errors));
    json_object_set_new(o, "tool_calls", json_integer(r->tool_calls));
    json_object_set_new(o, "tool_failures", json_integer(r->tool_failures));
    return o;
}

json_t *ccr_report_runs_json(const struct ccr_run_row *rows, size_t n)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, run_row_json(&rows[i]));
    }
    return arr;
}

/*
 * Claude Code names the main conversation's requests repl_main_thread
 * (interactive) or sdk (print mode); subagents' requests carry "agent" in
 * their source. Anything else (titles, summaries, …) is auxiliary.
 */
static bool is_subagent(const struct ccr_event *e)
{
    return e->query_source != NULL && (strncmp(e->query_source, "agent", 5) == 0 ||
                                       strstr(e->query_source, "subagent") != NULL);
}

static bool is_auxiliary(const struct ccr_event *e)
{
    static const char *const main_sources[] = {"repl_main_thread", "sdk", "main"};

    if (e->query_source == NULL || is_subagent(e)) {
        return false;
    }
    for (size_t i = 0; i < sizeof(main_sources) / sizeof(main_sources[0]); i++) {
        if (strcmp(e->query_source, main_sources[i]) == 0) {
            return false;
        }
    }
    return true;
}

/* The slash command a prompt ran ("exit"), or NULL for a plain prompt. */
static const char *slash_command(const struct ccr_event *e)
{
    if (e->name == NULL || strcmp(e->name, "user_prompt") != 0) {
        return NULL;
    }
    if (e->command_name != NULL) {
        return e->command_name;
    }
    if (e->prompt != NULL && e->prompt[0] == '/' && e->prompt[1] != '\0' &&
        e->prompt[1] != '/') {
        return e->prompt + 1;
    }
    return NULL;
}

/*
 * The time offsets count from the run's start unless the event clock is
 * elsewhere; then from the first event, or the first interaction when one
 * began before it.
 */
static int64_t timeline_base_ms(const struct ccr_timeline *t)
{
    int64_t start = t->summary.started_ms;
    int64_t first = INT64_MAX;

    for (size_t i = 0; i < t->n_events; i++) {
        if (t->events[i].time_ns / 1000000 < first) {
            first = t->events[i].time_ns / 1000000;
        }
    }
    for (size_t i = 0; i < t->interactions.n; i++) {
        if (t->interactions.items[i].span->start_ns / 1000000 < first) {
            first = t->interactions.items[i].span->start_ns / 1000000;
        }
    }
    if (first == INT64_MAX) {
        return start;
    }
    if (t->session_id != NULL || start == CCR_NONE || first < start ||
        first - start > CCR_CLOCK_SLACK_MS) {
        return first;
    }
    return start;
}

static const char *kind_name(const struct ccr_event *e)
{
    if (e->name == NULL || (strcmp(e->name, "api_request") != 0 &&
                            strcmp(e->name, "api_error") != 0)) {
        return NULL;
    }
    return is_subagent(e) ? "subagent" : is_auxiliary(e) ? "auxiliary" : "main";
}

json_t *ccr_report_event_json(const struct ccr_event *e, int64_t base_ms, bool with_attrs)
{
    json_t *o = json_object();
    json_t *tokens = json_object();
    int64_t ms = e->time_ns / 1000000;

    json_object_set_new(o, "run_id", json_integer(e->run_id));
    json_object_set_new(o, "session_id", ccr_json_str(e->session_id));
    json_object_set_new(o, "seq", ccr_json_int(e->seq));
    json_object_set_new(o, "time", ccr_json_time(ms));
    json_object_set_new(o, "time_ns", json_integer(e->time_ns));
    json_object_set_new(o, "offset_ms",
                        base_ms != CCR_NONE ? json_integer(ms - base_ms) : json_null());
    json_object_set_new(o, "name", ccr_json_str(e->name));
    json_object_set_new(o, "prompt_id", ccr_json_str(e->prompt_id));
    json_object_set_new(o, "model", ccr_json_str(e->model));
    json_object_set_new(o, "query_source", ccr_json_str(e->query_source));
    json_object_set_new(o, "request_kind", ccr_json_str(kind_name(e)));
    json_object_set_new(o, "subagent", json_boolean(is_subagent(e)));
    json_object_set_new(o, "cost_usd", opt_real(e->cost_usd));
    for (int i = 0; i < 4; i++) {
        json_object_set_new(tokens, token_names[i], ccr_json_int(e->tokens[i]));
    }
    json_object_set_new(o, "tokens", tokens);
    json_object_set_new(o, "duration_ms", ccr_json_int(e->duration_ms));
    json_object_set_new(o, "tool_name", ccr_json_str(e->tool_name));
    json_object_set_new(o, "success", opt_bool(e->success));
    json_object_set_new(o, "decision", ccr_json_str(e->decision));
    json_object_set_new(o, "source", ccr_json_str(e->source));
    json_object_set_new(o, "error", ccr_json_str(e->error));
    json_object_set_new(o, "status_code", ccr_json_int(e->status_code));
    json_object_set_new(o, "prompt_length", ccr_json_int(e->prompt_length));
    json_object_set_new(o, "prompt", ccr_json_str(e->prompt));
    json_object_set_new(o, "prompt_hash", ccr_json_str(e->prompt_hash));
    json_object_set_new(o, "slash_command", ccr_json_str(slash_command(e)));
    if (with_attrs) {
        json_t *attrs = e->attrs_json != NULL ? json_loads(e->attrs_json, 0, NULL) : NULL;
        json_object_set_new(o, "attrs", attrs != NULL ? attrs : json_object());
    }
    return o;
}

json_t *ccr_report_timeline_json(const struct ccr_timeline *t)
{
    json_t *arr = json_array();
    int64_t base = timeline_base_ms(t);

    for (size_t i = 0; i < t->n_events; i++) {
        json_array_append_new(arr, ccr_report_event_json(&t->events[i], base, false));
    }
    for (size_t i = 0; i < t->interactions.n; i++) {
        const struct ccr_interaction *in = &t->interactions.items[i];
        if (in->event != SIZE_MAX) {
            json_object_set_new(json_array_get(arr, in->event), "interaction",
                                ccr_interaction_json(in, base));
        }
    }
    return arr;
}

/* "+1.234s", or "+2m03.456s" past a minute. */
static const char *format_offset(int64_t ms, char out[32])
{
    const char *sign = ms < 0 ? "-" : "+";
    int64_t a = ms < 0 ? -ms : ms;

    if (a < 60000) {
        snprintf(out, 32, "%s%.3fs", sign, (double)a / 1e3);
    } else {
        snprintf(out, 32, "%s%lldm%06.3fs", sign, (long long)(a / 60000),
                 (double)(a % 60000) / 1e3);
    }
    return out;
}

static void append_tokens(struct ccr_buf *b, const int64_t t[4])
{
    static const char *const labels[4] = {"in", "out", "cache read", "cache write"};
    char n[32];

    for (int i = 0; i < 4; i++) {
        if (t[i] != CCR_NONE && (t[i] > 0 || i < 2)) {
            ccr_buf_printf(b, " · %s %s", ccr_format_count(t[i], n), labels[i]);
        }
    }
}

static void describe_api(struct ccr_buf *b, const struct ccr_event *e, const struct palette *p)
{
    char c[32], d[32];

    append_text(b, e->model != NULL ? e->model : "?", 60);
    if (is_subagent(e)) {
        ccr_buf_printf(b, " %s[subagent]%s", p->cyan, p->reset);
    } else if (is_auxiliary(e)) {
        ccr_buf_printf(b, " %s[", p->dim);
        append_escaped(b, e->query_source);
        ccr_buf_printf(b, "]%s", p->reset);
    }
    if (strcmp(e->name, "api_request") == 0) {
        ccr_buf_printf(b, " %s", isnan(e->cost_usd) ? "$?" : ccr_format_usd(e->cost_usd, c));
        append_tokens(b, e->tokens);
    } else {
        ccr_buf_printf(b, " %s", p->red);
        if (e->status_code != CCR_NONE) {
            ccr_buf_printf(b, "%lld ", (long long)e->status_code);
        }
        append_text(b, e->error != NULL ? e->error : "error", CCR_SHOWN_TEXT);
        ccr_buf_printf(b, "%s", p->reset);
    }
    if (e->duration_ms != CCR_NONE) {
        ccr_buf_printf(b, " · %s", ccr_format_duration(e->duration_ms, d));
    }
}

static void describe_tool(struct ccr_buf *b, const struct ccr_event *e, const struct palette *p)
{
    char d[32];

    append_text(b, e->tool_name != NULL ? e->tool_name : "?", 60);
    if (strcmp(e->name, "tool_decision") == 0) {
        bool reject = e->decision != NULL && strcmp(e->decision, "reject") == 0;
        ccr_buf_printf(b, " %s", reject ? p->yellow : "");
        append_escaped(b, e->decision != NULL ? e->decision : "?");
        ccr_buf_printf(b, "%s", reject ? p->reset : "");
        if (e->source != NULL) {
            ccr_buf_append(b, " (", 2);
            append_escaped(b, e->source);
            ccr_buf_append(b, ")", 1);
        }
        return;
    }
    if (e->success == 0) {
        ccr_buf_printf(b, " %sfailed%s", p->red, p->reset);
        if (e->error != NULL) {
            ccr_buf_append(b, ": ", 2);
            append_text(b, e->error, CCR_SHOWN_TEXT);
        }
    } else {
        ccr_buf_printf(b, " %s", e->success == 1 ? "ok" : "?");
    }
    if (e->duration_ms != CCR_NONE) {
        ccr_buf_printf(b, " · %s", ccr_format_duration(e->duration_ms, d));
    }
}

static void describe_prompt(struct ccr_buf *b, const struct ccr_event *e,
                            const struct palette *p)
{
    const char *cmd = slash_command(e);

    if (e->prompt_length != CCR_NONE) {
        ccr_buf_printf(b, "%lld chars", (long long)e->prompt_length);
    }
    if (e->prompt != NULL) {
        ccr_buf_append(b, " \"", 2);
        append_text(b, e->prompt, CCR_SHOWN_TEXT);
        ccr_buf_append(b, "\"", 1);
    } else if (e->prompt_hash != NULL) {
        ccr_buf_append(b, " #", 2);
        size_t len = strlen(e->prompt_hash);
        ccr_escape_untrusted(b, e->prompt_hash, len < 8 ? len : 8, 8);
    }
    if (cmd != NULL) {
        ccr_buf_printf(b, " %s[slash command /", p->cyan);
        append_text(b, cmd, 40);
        ccr_buf_printf(b, "]%s", p->reset);
    }
}

/* The key fields of one event after its name. */
static void describe_event(struct ccr_buf *b, const struct ccr_event *e, const struct palette *p)
{
    const char *n = e->name != NULL ? e->name : "";

    if (strcmp(n, "api_request") == 0 || strcmp(n, "api_error") == 0) {
        describe_api(b, e, p);
    } else if (strcmp(n, "tool_decision") == 0 || strcmp(n, "tool_result") == 0) {
        describe_tool(b, e, p);
    } else if (strcmp(n, "user_prompt") == 0) {
        describe_prompt(b, e, p);
    } else if (e->model != NULL) {
        append_text(b, e->model, 60);
    }
}

/* The figures of one prompt's events. */
struct group_total {
    double cost_usd;
    int64_t tokens[4];
    int64_t requests;
    int64_t errors;
    int64_t tools;
    int64_t tool_failures;
    int64_t first_ns;
    int64_t last_ns;
};

static bool same_group(const struct ccr_event *a, const struct ccr_event *b)
{
    if (a->run_id != b->run_id) {
        return false;
    }
    if (a->prompt_id == NULL || b->prompt_id == NULL) {
        return a->prompt_id == b->prompt_id;
    }
    return strcmp(a->prompt_id, b->prompt_id) == 0;
}

/* Totals events [from, *to) of one prompt and sets *to past the group. */
static void total_group(const struct ccr_timeline *t, size_t from, size_t *to,
                        struct group_total *g)
{
    size_t i = from;

    memset(g, 0, sizeof(*g));
    g->first_ns = g->last_ns = t->events[from].time_ns;
    for (; i < t->n_events && same_group(&t->events[from], &t->events[i]); i++) {
        const struct ccr_event *e = &t->events[i];
        if (strcmp(e->name, "api_request") == 0) {
            g->requests++;
            g->cost_usd += isnan(e->cost_usd) ? 0 : e->cost_usd;
            for (int k = 0; k < 4; k++) {
                g->tokens[k] += e->tokens[k] != CCR_NONE ? e->tokens[k] : 0;
            }
        } else if (strcmp(e->name, "api_error") == 0) {
            g->errors++;
        } else if (strcmp(e->name, "tool_result") == 0) {
            g->tools++;
            g->tool_failures += e->success == 0;
        }
        g->first_ns = e->time_ns < g->first_ns ? e->time_ns : g->first_ns;
        g->last_ns = e->time_ns > g->last_ns ? e->time_ns : g->last_ns;
    }
    *to = i;
}

static void print_group_header(FILE *f, const struct ccr_timeline *t, size_t from,
                               const struct group_total *g, int number,
                               const struct palette *p)
{
    struct ccr_buf b = {0};
    char c[32], d[32];

    ccr_buf_printf(&b, "%sprompt %d%s", p->bold, number, p->reset);
    if (t->events[from].prompt_id == NULL) {
        ccr_buf_printf(&b, "%s (events without a prompt id)%s", p->dim, p->reset);
    }
    if (g->requests > 0) {
        ccr_buf_printf(&b, " · %s · %lld request%s", ccr_format_usd(g->cost_usd, c),
                       (long long)g->requests, g->requests == 1 ? "" : "s");
        append_tokens(&b, g->tokens);
    }
    if (g->tools > 0) {
        ccr_buf_printf(&b, " · %lld tool call%s", (long long)g->tools, g->tools == 1 ? "" : "s");
    }
    if (g->errors + g->tool_failures > 0) {
        ccr_buf_printf(&b, " · %s%lld failed%s", p->red, (long long)(g->errors + g->tool_failures),
                       p->reset);
    }
    ccr_buf_printf(&b, " · %s", ccr_format_duration((g->last_ns - g->first_ns) / 1000000, d));
    fprintf(f, "\n%s\n", ccr_buf_cstr(&b));
    ccr_buf_finish(&b);
}

static void print_timeline_header(FILE *f, const struct ccr_timeline *t,
                                  const struct palette *p)
{
    const struct ccr_summary *s = &t->summary;
    struct ccr_buf cmd = {0};
    char when[32], d[32], c[32], ex[32];

    append_command(&cmd, s->command_json, 160);
    fprintf(f, "%srun %lld%s · %s\n", p->bold, (long long)s->run_id, p->reset,
            ccr_buf_cstr(&cmd));
    fprintf(f, "  started %s", format_local(s->started_ms, when));
    if (s->ended_ms != CCR_NONE) {
        fprintf(f, " · exit %s after %s", format_exit(s->ended_ms, s->exit_code, s->signal, ex),
                ccr_format_duration(s->ended_ms - s->started_ms, d));
    }
    fprintf(f, " · %s · %lld API request%s\n", ccr_format_usd(s->cost_usd, c),
            (long long)s->api_requests, s->api_requests == 1 ? "" : "s");
    if (t->session_id != NULL) {
        ccr_buf_reset(&cmd);
        append_escaped(&cmd, t->session_id);
        fprintf(f, "  session %s only\n", ccr_buf_cstr(&cmd));
    }
    ccr_report_cost_check(f, s->reported_cost_usd, s->metrics_cost_usd, "  ");
    ccr_buf_finish(&cmd);
}

/* The name column of a step: indented by its depth in the tree. */
static const char *step_label(const struct ccr_interaction_step *st, char out[32])
{
    int indent = st->depth < 4 ? 2 * st->depth : 8;
    bool llm = strcmp(st->span->name, "claude_code.llm_request") == 0;

    snprintf(out, 32, "%*s%s", indent, "", llm ? "llm_request" : "tool");
    return out;
}

/*
 * An LLM request: model, time, time to the first token, input and output
 * tokens, and the stop reason when it is not the usual end of a turn or a
 * call for a tool. Cache tokens are on the api_request event's line.
 */
static void describe_llm(struct ccr_buf *b, const struct ccr_span *sp, const struct palette *p)
{
    char d[32], n[32];

    append_text(b, sp->model != NULL ? sp->model : "?", 30);
    ccr_buf_printf(b, " · %s", ccr_format_duration(ccr_span_duration_ms(sp), d));
    if (sp->ttft_ms != CCR_NONE) {
        ccr_buf_printf(b, " · ttft %s", ccr_format_duration(sp->ttft_ms, d));
    }
    if (sp->tokens[0] != CCR_NONE) {
        ccr_buf_printf(b, " · %s in", ccr_format_count(sp->tokens[0], n));
    }
    if (sp->tokens[1] != CCR_NONE) {
        ccr_buf_printf(b, " · %s out", ccr_format_count(sp->tokens[1], n));
    }
    if (sp->stop_reason != NULL && strcmp(sp->stop_reason, "end_turn") != 0 &&
        strcmp(sp->stop_reason, "tool_use") != 0) {
        ccr_buf_append(b, " · ", strlen(" · "));
        append_text(b, sp->stop_reason, 24);
    }
    if (sp->success == 0) {
        ccr_buf_printf(b, " · %sfailed%s", p->red, p->reset);
    }
    if (sp->attempt != CCR_NONE && sp->attempt > 1) {
        ccr_buf_printf(b, " · attempt %lld", (long long)sp->attempt);
    }
}

/* A tool call: name, outcome, time, the wait for the user's permission, the run itself. */
static void describe_tool_span(struct ccr_buf *b, const struct ccr_interaction_step *st,
                               const struct palette *p)
{
    const struct ccr_span *sp = st->span;
    int64_t ok = st->execution != NULL && st->execution->success != CCR_NONE
                     ? st->execution->success
                     : sp->success;
    char d[32];

    append_text(b, sp->tool_name != NULL ? sp->tool_name : "?", 40);
    if (ok == 0) {
        ccr_buf_printf(b, " %sfailed%s", p->red, p->reset);
    } else if (ok == 1) {
        ccr_buf_append(b, " ok", 3);
    }
    ccr_buf_printf(b, " · %s", ccr_format_duration(ccr_span_duration_ms(sp), d));
    if (st->blocked != NULL) {
        const char *decision = st->blocked->decision;
        ccr_buf_printf(b, " · %s on the user",
                       ccr_format_duration(ccr_span_duration_ms(st->blocked), d));
        if (decision != NULL && strcmp(decision, "unknown") != 0) {
            bool reject = strcmp(decision, "reject") == 0;
            ccr_buf_printf(b, ": %s", reject ? p->yellow : "");
            append_text(b, decision, 20);
            ccr_buf_printf(b, "%s", reject ? p->reset : "");
            if (st->blocked->source != NULL) {
                ccr_buf_append(b, " (", 2);
                append_text(b, st->blocked->source, 20);
                ccr_buf_append(b, ")", 1);
            }
        }
    }
    if (st->execution != NULL) {
        ccr_buf_printf(b, " · ran %s",
                       ccr_format_duration(ccr_span_duration_ms(st->execution), d));
    }
}

/* The interaction's own line: its time, what ran in it, how long it waited on the user. */
static void describe_interaction(struct ccr_buf *b, const struct ccr_interaction *in)
{
    int64_t requests = 0, tools = 0, waited = 0;
    char d[32];

    for (size_t i = 0; i < in->n_steps; i++) {
        const struct ccr_interaction_step *st = &in->steps[i];
        if (strcmp(st->span->name, "claude_code.llm_request") == 0) {
            requests++;
        } else {
            tools++;
        }
        waited += st->blocked != NULL ? ccr_span_duration_ms(st->blocked) : 0;
    }
    ccr_buf_printf(b, "%s · %lld LLM request%s · %lld tool call%s",
                   ccr_format_duration(ccr_span_duration_ms(in->span), d), (long long)requests,
                   requests == 1 ? "" : "s", (long long)tools, tools == 1 ? "" : "s");
    if (waited > 0) {
        ccr_buf_printf(b, " · %s on the user", ccr_format_duration(waited, d));
    }
}

/* A line the spans add to the timeline: an interaction's own, or one of its steps. */
struct span_line {
    const struct ccr_interaction *in;
    const struct ccr_interaction_step *st; /* NULL for the interaction's own line */
};

static int64_t span_line_ns(const struct span_line *l)
{
    return l->st != NULL ? l->st->span->start_ns : l->in->span->start_ns;
}

/* By start; an interaction's own line before its steps, the steps in their order. */
static int cmp_span_lines(const void *x, const void *y)
{
    const struct span_line *a = x;
    const struct span_line *b = y;
    int64_t ta = span_line_ns(a), tb = span_line_ns(b);

    if (ta != tb) {
        return ta < tb ? -1 : 1;
    }
    if (a->in != b->in) {
        return a->in < b->in ? -1 : 1;
    }
    if (a->st == NULL || b->st == NULL) {
        return (b->st == NULL) - (a->st == NULL);
    }
    return a->st < b->st ? -1 : a->st > b->st;
}

/*
 * The lines of the interactions opened by an event in [from, to), or with
 * from == to == SIZE_MAX of the one interaction only, in time order. *lines
 * is allocated; returns how many.
 */
static size_t span_lines(const struct ccr_timeline *t, size_t from, size_t to,
                         const struct ccr_interaction *only, struct span_line **lines)
{
    size_t n = 0;

    *lines = NULL;
    for (size_t i = 0; i < t->interactions.n; i++) {
        const struct ccr_interaction *in = &t->interactions.items[i];
        bool wanted = only != NULL ? in == only
                                   : in->event != SIZE_MAX && in->event >= from && in->event < to;
        if (!wanted) {
            continue;
        }
        *lines = ccr_xrealloc(*lines, (n + in->n_steps + 1) * sizeof(**lines));
        (*lines)[n++] = (struct span_line){.in = in};
        for (size_t k = 0; k < in->n_steps; k++) {
            (*lines)[n++] = (struct span_line){.in = in, .st = &in->steps[k]};
        }
    }
    if (n > 1) {
        qsort(*lines, n, sizeof(**lines), cmp_span_lines);
    }
    return n;
}

static void print_span_line(FILE *f, const struct span_line *l, int64_t base,
                            const struct palette *p, struct ccr_buf *line)
{
    char off[32], label[32];

    ccr_buf_reset(line);
    if (l->st == NULL) {
        describe_interaction(line, l->in);
        snprintf(label, sizeof(label), "interaction");
    } else if (strcmp(l->st->span->name, "claude_code.llm_request") == 0) {
        describe_llm(line, l->st->span, p);
        step_label(l->st, label);
    } else {
        describe_tool_span(line, l->st, p);
        step_label(l->st, label);
    }
    fprintf(f, "  %s%10s%s  %-20s %s\n", p->dim,
            format_offset(span_line_ns(l) / 1000000 - base, off), p->reset, label,
            ccr_buf_cstr(line));
}

static void print_event_line(FILE *f, const struct ccr_event *e, int64_t base,
                             const struct palette *p, struct ccr_buf *line)
{
    struct ccr_buf name = {0};
    char off[32];

    ccr_buf_reset(line);
    describe_event(line, e, p);
    append_escaped(&name, e->name);
    fprintf(f, "  %s%10s%s  %-20s %s\n", p->dim, format_offset(e->time_ns / 1000000 - base, off),
            p->reset, ccr_buf_cstr(&name), ccr_buf_cstr(line));
    ccr_buf_finish(&name);
}

/*
 * One prompt's events [from, to), with the lines of the interactions they
 * opened merged in by time: a span's line at its start, an event's at its
 * time.
 */
static void print_group_lines(FILE *f, const struct ccr_timeline *t, size_t from, size_t to,
                              int64_t base, const struct palette *p, struct ccr_buf *line)
{
    struct span_line *lines;
    size_t n = span_lines(t, from, to, NULL, &lines);
    size_t k = 0;

    for (size_t i = from; i < to; i++) {
        for (; k < n && span_line_ns(&lines[k]) <= t->events[i].time_ns; k++) {
            print_span_line(f, &lines[k], base, p, line);
        }
        print_event_line(f, &t->events[i], base, p, line);
    }
    for (; k < n; k++) {
        print_span_line(f, &lines[k], base, p, line);
    }
    free(lines);
}

/* Interactions no event of the timeline belongs to, each as a group of its own. */
static void print_unmatched_interactions(FILE *f, const struct ccr_timeline *t, int number,
                                         int64_t base, const struct palette *p,
                                         struct ccr_buf *line)
{
    for (size_t i = 0; i < t->interactions.n; i++) {
        const struct ccr_interaction *in = &t->interactions.items[i];
        struct span_line *lines;
        if (in->event != SIZE_MAX) {
            continue;
        }
        fprintf(f, "\n%sprompt %d%s%s (an interaction without events)%s\n", p->bold, ++number,
                p->reset, p->dim, p->reset);
        size_t n = span_lines(t, SIZE_MAX, SIZE_MAX, in, &lines);
        for (size_t k = 0; k < n; k++) {
            print_span_line(f, &lines[k], base, p, line);
        }
        free(lines);
    }
}

void ccr_report_timeline_text(FILE *f, const struct ccr_timeline *t, bool color)
{
    struct palette p = palette(color);
    struct ccr_buf line = {0};
    int64_t base = timeline_base_ms(t);
    int number = 0;

    print_timeline_header(f, t, &p);
    if (t->n_events == 0) {
        fprintf(f, "  no events recorded\n");
    }
    for (size_t i = 0; i < t->n_events;) {
        struct group_total g;
        size_t end;
        total_group(t, i, &end, &g);
        print_group_header(f, t, i, &g, ++number, &p);
        print_group_lines(f, t, i, end, base, &p, &line);
        i = end;
    }
    print_unmatched_interactions(f, t, number, base, &p, &line);
    ccr_buf_finish(&line);
}

/* RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
static void csv_field(FILE *f, const char *s, bool last)
{
    if (s != NULL && strpbrk(s, ",\"\r\n") != NULL) {
        fputc('"', f);
        for (; *s != '\0'; s++) {
            if (*s == '"') {
                fputc('"', f);
            }
            fputc(*s, f);
        }
        fputc('"', f);
    } else if (s != NULL) {
        fputs(s, f);
    }
    fputc(last ? '\n' : ',', f);
}

static void csv_int(FILE *f, int64_t v)
{
    if (v != CCR_NONE) {
        fprintf(f, "%lld", (long long)v);
    }
    fputc(',', f);
}

void ccr_report_csv_header(FILE *f)
{
    fputs("run_id,session_id,seq,time,time_ns,name,prompt_id,model,query_source,cost_usd,", f);
    for (int i = 0; i < 4; i++) {
        fprintf(f, "%s,", token_columns[i]);
    }
    fputs("duration_ms,tool_name,success,decision,source,error,status_code,prompt_length,"
          "prompt,slash_command\n",
          f);
}

void ccr_report_event_csv(FILE *f, const struct ccr_event *e)
{
    char t[32];

    csv_int(f, e->run_id);
    csv_field(f, e->session_id, false);
    csv_int(f, e->seq);
    ccr_format_rfc3339(e->time_ns / 1000000, t);
    csv_field(f, t, false);
    csv_int(f, e->time_ns);
    csv_field(f, e->name, false);
    csv_field(f, e->prompt_id, false);
    csv_field(f, e->model, false);
    csv_field(f, e->query_source, false);
    if (!isnan(e->cost_usd)) {
        fprintf(f, "%.17g", e->cost_usd);
    }
    fputc(',', f);
    for (int i = 0; i < 4; i++) {
        csv_int(f, e->tokens[i]);
    }
    csv_int(f, e->duration_ms);
    csv_field(f, e->tool_name, false);
    csv_field(f, e->success == CCR_NONE ? NULL : e->success ? "true" : "false", false);
    csv_field(f, e->decision, false);
    csv_field(f, e->source, false);
    csv_field(f, e->error, false);
    csv_int(f, e->status_code);
    csv_int(f, e->prompt_length);
    csv_field(f, e->prompt, false);
    csv_field(f, slash_command(e), true);
}

const char *ccr_stats_by_name(enum ccr_stats_by by)
{
    static const char *const names[] = {
        [CCR_STATS_TOTAL] = "total", [CCR_STATS_DAY] = "day", [CCR_STATS_MODEL] = "model",
        [CCR_STATS_TOOL] = "tool", [CCR_STATS_SESSION] = "session",
    };
    return names[by];
}

static int64_t all_input(const struct ccr_stats_row *r)
{
    return r->tokens[0] + r->tokens[2] + r->tokens[3];
}

/* "71%" or "-" when there is nothing to divide by. */
static const char *format_pct(int64_t num, int64_t den, char out[32])
{
    if (den <= 0) {
        snprintf(out, 32, "-");
    } else {
        snprintf(out, 32, "%.1f%%", 100.0 * (double)num / (double)den);
    }
    return out;
}

static void print_stats_row(FILE *f, const char *key, const struct ccr_stats_row *r,
                            const char *style, const char *reset)
{
    char c[32], t[4][32], hit[32], err[32], ok[32], d[32];
    struct ccr_buf safe_key = {0};

    /* A model or tool name is a peer's text: escaped before it reaches a terminal. */
    append_text(&safe_key, key, 26);
    for (int k = 0; k < 4; k++) {
        ccr_format_count(r->tokens[k], t[k]);
    }
    fprintf(f, "%s%-26.26s %5lld %9s %6lld %7s %7s %8s %8s %6s %6s %6lld %6s %9s%s\n", style,
            ccr_buf_cstr(&safe_key), (long long)r->runs, ccr_format_usd(r->cost_usd, c),
            (long long)r->api_requests, t[0], t[1], t[2], t[3],
            format_pct(r->tokens[2], all_input(r), hit),
            format_pct(r->api_errors, r->api_requests + r->api_errors, err),
            (long long)r->tool_calls, format_pct(r->tool_succeeded, r->tool_calls, ok),
            ccr_format_duration(r->tool_duration_ms, d), reset);
    ccr_buf_finish(&safe_key);
}

void ccr_report_stats_text(FILE *f, const struct ccr_stats *s, bool color)
{
    struct palette p = palette(color);
    const char *label = s->by == CCR_STATS_TOTAL ? "" : ccr_stats_by_name(s->by);

    fprintf(f, "%s%-26s %5s %9s %6s %7s %7s %8s %8s %6s %6s %6s %6s %9s%s\n", p.dim, label,
            "runs", "cost", "reqs", "in", "out", "cache rd", "cache wr", "hit", "errors",
            "tools", "ok", "tool time", p.reset);
    for (size_t i = 0; i < s->n_rows && s->by != CCR_STATS_TOTAL; i++) {
        print_stats_row(f, s->rows[i].key != NULL ? s->rows[i].key : "(none)", &s->rows[i],
                        "", "");
    }
    print_stats_row(f, "total", &s->total, p.bold, p.reset);
}

static json_t *stats_row_json(const struct ccr_stats_row *r, bool with_key)
{
    json_t *o = json_object();
    json_t *tokens = json_object();

    if (with_key) {
        json_object_set_new(o, "key", ccr_json_str(r->key));
    }
    json_object_set_new(o, "runs", json_integer(r->runs));
    json_object_set_new(o, "cost_usd", json_real(r->cost_usd));
    for (int i = 0; i < 4; i++) {
        json_object_set_new(tokens, token_names[i], json_integer(r->tokens[i]));
    }
    json_object_set_new(o, "tokens", tokens);
    json_object_set_new(o, "cache_hit_ratio", ratio(r->tokens[2], all_input(r)));
    json_object_set_new(o, "api_requests", json_integer(r->api_requests));
    json_object_set_new(o, "api_errors", json_integer(r->api_errors));
    json_object_set_new(o, "error_rate", ratio(r->api_errors, r->api_requests + r->api_errors));
    json_object_set_new(o, "tool_calls", json_integer(r->tool_calls));
    json_object_set_new(o, "tool_succeeded", json_integer(r->tool_succeeded));
    json_object_set_new(o, "tool_failed", json_integer(r->tool_failed));
    json_object_set_new(o, "tool_success_rate", ratio(r->tool_succeeded, r->tool_calls));
    json_object_set_new(o, "tool_duration_ms", json_integer(r->tool_duration_ms));
    return o;
}

json_t *ccr_report_stats_json(const struct ccr_stats *s)
{
    json_t *o = json_object();
    json_t *rows = json_array();

    for (size_t i = 0; i < s->n_rows && s->by != CCR_STATS_TOTAL; i++) {
        json_array_append_new(rows, stats_row_json(&s->rows[i], true));
    }
    json_object_set_new(o, "by", json_string(ccr_stats_by_name(s->by)));
    json_object_set_new(o, "since", ccr_json_time(s->since_ms));
    json_object_set_new(o, "rows", rows);
    json_object_set_new(o, "total", stats_row_json(&s->total, false));
    return o;
}

void ccr_report_cost_check(FILE *f, double events_usd, double metrics_usd, const char *indent)
{
    char m[32], e[32];

    if (isnan(metrics_usd)) {
        return;
    }
    ccr_format_usd(metrics_usd, m);
    ccr_format_usd(events_usd, e);
    /* Figures that print alike agree as far as anyone reading them can tell. */
    if (strcmp(m, e) == 0) {
        return;
    }
    fprintf(f, "%smetrics report %s, events %s: %s\n", indent, m, e,
            metrics_usd > events_usd ? "some events were not received"
                                     : "some metric points were not received");
}

static const char *format_bytes(int64_t n, char out[32])
{
    if (n < 1024 * 1024) {
        snprintf(out, 32, "%.1f KiB", (double)n / 1024.0);
    } else {
        snprintf(out, 32, "%.1f MiB", (double)n / (1024.0 * 1024.0));
    }
    return out;
}

void ccr_report_prune_text(FILE *f, const struct ccr_prune_result *r)
{
    char before[32], after[32];

    if (r->runs == 0) {
        fprintf(f, "nothing to remove");
    } else {
        fprintf(f, "removed %lld run%s (%lld session%s, %lld event%s, %lld metric point%s)",
                (long long)r->runs, r->runs == 1 ? "" : "s", (long long)r->sessions,
                r->sessions == 1 ? "" : "s", (long long)r->events, r->events == 1 ? "" : "s",
                (long long)r->metric_points, r->metric_points == 1 ? "" : "s");
    }
    fprintf(f, "; history.db %s -> %s\n", format_bytes(r->bytes_before, before),
            format_bytes(r->bytes_after, after));
}

const char *ccr_report_request_kind(const struct ccr_event *e)
{
    return kind_name(e);
}

const char *ccr_report_slash_command(const struct ccr_event *e)
{
    return slash_command(e);
}
