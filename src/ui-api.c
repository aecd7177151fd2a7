/* SPDX-License-Identifier: MIT */
/* The dashboard's read-only JSON API: routes, parameters and the JSON shapes. */
#include "ui-api.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report-views.h"
#include "report.h"
#include "store-views.h"
#include "util.h"
#include "view.h"

/* The runs list holds this many unless asked otherwise. */
#define API_RUNS_DEFAULT 1000
/* A page of events; the page asks for everything up to the cap at once. */
#define API_EVENTS_DEFAULT 1000
#define API_EVENTS_MAX 100000
/* Tool parameters are shown in a table cell; the details view has them whole. */
#define API_PARAMS_MAX 300
/* About this many buckets per chart, of a round width. */
#define API_SERIES_BUCKETS 60

/* A run's events in time order. */
struct event_list {
    struct ccr_event *ev;
    size_t n;
};

/*
 * The events of the run read last, with what identified their version: a
 * page asks for a run's events, prompts, series and errors at once, and
 * reading ten thousand events four times would cost most of a second.
 */
struct ccr_ui_events {
    int64_t run_id;
    int64_t count;
    int64_t max_id;
    struct event_list list;
};

static json_t *opt_real(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *opt_bool(int64_t v)
{
    return v == CCR_NONE ? json_null() : json_boolean(v != 0);
}

/* An event's time in milliseconds, keeping the sub-millisecond part. */
static json_t *time_ms(int64_t ns)
{
    return json_real((double)(ns / 1000) / 1000.0);
}

/*
 * A list as {"columns": [...], "rows": []}: ten thousand events named field
 * by field would be mostly names, and the page reads columns by index.
 */
static json_t *table_new(const char *const *cols, size_t n)
{
    json_t *t = json_object();
    json_t *c = json_array();

    for (size_t i = 0; i < n; i++) {
        json_array_append_new(c, json_string(cols[i]));
    }
    json_object_set_new(t, "columns", c);
    json_object_set_new(t, "rows", json_array());
    return t;
}

static void table_add(json_t *t, json_t *row)
{
    json_array_append_new(json_object_get(t, "rows"), row);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if ((c | 32) >= 'a' && (c | 32) <= 'f') {
        return (c | 32) - 'a' + 10;
    }
    return -1;
}

/* The value of name in a query string, percent-decoded (allocated), or NULL. */
static char *param(const char *query, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = query; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '&');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            char *v = ccr_xstrndup(p + n + 1, len - n - 1);
            char *w = v;
            for (const char *r = v; *r != '\0'; r++) {
                if (*r == '%' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
                    *w++ = (char)(hexval(r[1]) * 16 + hexval(r[2]));
                    r += 2;
                } else {
                    *w++ = *r == '+' ? ' ' : *r;
                }
            }
            *w = '\0';
            return v;
        }
        p = end != NULL ? end + 1 : NULL;
    }
    return NULL;
}

/* A count parameter; dflt when absent, -1 when malformed. */
static int64_t count_param(const char *query, const char *name, int64_t dflt)
{
    char *v = param(query, name);
    char *cause = NULL;
    int64_t n = dflt;

    if (v != NULL && ccr_view_parse_count(v, &n, &cause) < 0) {
        n = -1;
    }
    free(cause);
    free(v);
    return n;
}

static int fail(char **body, int status, const char *why)
{
    json_t *o = json_pack("{ss}", "error", why);

    *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return status;
}

static int answer(char **body, json_t *o)
{
    *body = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(o);
    return 200;
}

/* One run of the list; its tokens are one more index range scan each. */
static json_t *run_row(struct ccr_store *st, const struct ccr_run_row *r)
{
    int64_t tok[4] = {0, 0, 0, 0};
    json_t *cmd = json_loads(r->command_json ? r->command_json : "[]", 0, NULL);
    json_t *ses = json_loads(r->sessions_json ? r->sessions_json : "[]", 0, NULL);

    ccr_store_run_tokens(st, r->run_id, tok);
    return json_pack("[IoIooooooIIIIIIII]", (json_int_t)r->run_id, cmd ? cmd : json_array(),
                     (json_int_t)r->started_ms, ccr_json_int(r->ended_ms),
                     ccr_json_int(r->ended_ms == CCR_NONE ? CCR_NONE : r->ended_ms - r->started_ms),
                     ccr_json_int(r->exit_code),
                     r->signal > 0 ? json_integer(r->signal) : json_null(),
                     ses ? ses : json_array(), json_real(r->cost_usd),
                     (json_int_t)tok[0], (json_int_t)tok[1], (json_int_t)tok[2],
                     (json_int_t)tok[3], (json_int_t)r->api_requests,
                     (json_int_t)r->api_errors, (json_int_t)r->tool_calls,
                     (json_int_t)r->tool_failures);
}

/* The runs, newest first; since and limit as `ccrun sessions` takes them. */
static int get_runs(struct ccr_ui_api *api, const char *query, char **body)
{
    static const char *const cols[] = {
        "run_id", "command", "started_ms", "ended_ms", "duration_ms", "exit_code", "signal",
        "sessions", "cost_usd", "input", "output", "cache_read", "cache_creation",
        "api_requests", "api_errors", "tool_calls", "tool_failures",
    };
    char *since = param(query, "since");
    int64_t since_ms = CCR_NONE;
    int64_t limit = count_param(query, "limit", API_RUNS_DEFAULT);
    char *cause = NULL;
    struct ccr_run_row *rows = NULL;
    size_t n = 0;
    int status;

    if (limit < 0 || (since != NULL &&
                      ccr_view_parse_since(since, ccr_now_ms(), &since_ms, &cause) < 0)) {
        status = fail(body, 400, cause != NULL ? cause : "bad limit");
        goto out;
    }
    if (ccr_store_runs(api->store, since_ms, limit, &rows, &n) < 0) {
        status = fail(body, 500, "cannot read the history");
        goto out;
    }
    json_t *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < n; i++) {
        table_add(t, run_row(api->store, &rows[i]));
    }
    status = answer(body, t);
out:
    ccr_run_rows_free(rows, n);
    free(since);
    free(cause);
    return status;
}

static int collect(const struct ccr_event *e, void *ctx)
{
    struct event_list *l = ctx;

    if (l->n % 256 == 0) {
        l->ev = ccr_xrealloc(l->ev, (l->n + 256) * sizeof(*l->ev));
    }
    ccr_event_copy(&l->ev[l->n++], e);
    return 0;
}

static void list_finish(struct event_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        ccr_event_finish(&l->ev[i]);
    }
    free(l->ev);
}

static void cache_drop(struct ccr_ui_api *api)
{
    if (api->cache != NULL) {
        list_finish(&api->cache->list);
        free(api->cache);
        api->cache = NULL;
    }
}

/* The run's events oldest first (as export orders them), from the cache when current. */
static int run_events(struct ccr_ui_api *api, int64_t run_id, const struct event_list **out)
{
    int64_t count;
    int64_t max_id;
    struct ccr_ui_events *c = api->cache;

    if (ccr_store_run_events_version(api->store, run_id, &count, &max_id) < 0) {
        return -EIO;
    }
    if (c == NULL || c->run_id != run_id || c->count != count || c->max_id != max_id) {
        cache_drop(api);
        c = ccr_xcalloc(1, sizeof(*c));
        *c = (struct ccr_ui_events){.run_id = run_id, .count = count, .max_id = max_id};
        if (ccr_store_events_export(api->store, &run_id, 1, collect, &c->list) < 0) {
            list_finish(&c->list);
            free(c);
            return -EIO;
        }
        api->cache = c;
    }
    *out = &c->list;
    return 0;
}

/*
 * One session's events of a run, as shallow copies: the strings still
 * belong to all, so free only l->ev.
 */
static void only_session(const struct event_list *all, const char *session, struct event_list *l)
{
    l->ev = ccr_xmalloc((all->n + 1) * sizeof(*l->ev));
    l->n = 0;
    for (size_t i = 0; i < all->n; i++) {
        const char *id = all->ev[i].session_id;
        if (id != NULL && strcmp(id, session) == 0) {
            l->ev[l->n++] = all->ev[i];
        }
    }
}

/* tool_parameters from the attributes, cut for a table cell. */
static json_t *params_cell(json_t *attrs)
{
    const char *p = json_string_value(json_object_get(attrs, "tool_parameters"));

    if (p == NULL) {
        return json_null();
    }
    size_t len = strlen(p);
    if (len <= API_PARAMS_MAX) {
        return json_string(p);
    }
    /* Cut on a character boundary, so the cell stays valid UTF-8. */
    while (len > API_PARAMS_MAX || ((unsigned char)p[len] & 0xC0) == 0x80) {
        len--;
    }
    char *cut = ccr_xasprintf("%.*s…", (int)len, p);
    json_t *s = json_string(cut);
    free(cut);
    return s;
}

/*
 * One event as a row of events_table's columns. The attributes are parsed
 * for the tool parameters even when they are not sent: the table shows
 * them, and the details view asks for one event with attrs=1.
 */
static json_t *event_row(size_t index, const struct ccr_event *e, bool with_attrs)
{
    json_t *attrs = e->attrs_json != NULL ? json_loads(e->attrs_json, 0, NULL) : NULL;
    json_t *row = json_pack("[IosIoooooo]", (json_int_t)index, time_ms(e->time_ns),
                            e->name != NULL ? e->name : "", (json_int_t)e->run_id,
                            ccr_json_str(e->session_id), ccr_json_int(e->seq),
                            ccr_json_str(e->prompt_id),
                            ccr_json_str(e->model), ccr_json_str(e->query_source),
                            ccr_json_str(ccr_report_request_kind(e)));

    json_array_append_new(row, opt_real(e->cost_usd));
    for (int i = 0; i < 4; i++) {
        json_array_append_new(row, ccr_json_int(e->tokens[i]));
    }
    json_array_append_new(row, ccr_json_int(e->duration_ms));
    json_array_append_new(row, ccr_json_str(e->tool_name));
    json_array_append_new(row, opt_bool(e->success));
    json_array_append_new(row, ccr_json_str(e->decision));
    json_array_append_new(row, ccr_json_str(e->source));
    json_array_append_new(row, ccr_json_str(e->error));
    json_array_append_new(row, ccr_json_int(e->status_code));
    json_array_append_new(row, ccr_json_int(e->prompt_length));
    json_array_append_new(row, ccr_json_str(e->prompt));
    json_array_append_new(row, ccr_json_str(e->prompt_hash));
    json_array_append_new(row, ccr_json_str(ccr_report_slash_command(e)));
    json_array_append_new(row, params_cell(attrs));
    if (with_attrs) {
        json_array_append_new(row, attrs != NULL ? json_incref(attrs) : json_object());
    }
    json_decref(attrs);
    return row;
}

static json_t *events_table(bool with_attrs)
{
    static const char *const cols[] = {
        "index", "time_ms", "name", "run_id", "session_id", "seq", "prompt_id", "model",
        "query_source", "request_kind", "cost_usd", "input", "output", "cache_read",
        "cache_creation", "duration_ms", "tool_name", "success", "decision", "source", "error",
        "status_code", "prompt_length", "prompt", "prompt_hash", "slash_command",
        "tool_parameters", "attrs",
    };
    size_t n = sizeof(cols) / sizeof(cols[0]);

    return table_new(cols, with_attrs ? n : n - 1);
}

static int get_events(const struct event_list *l, const char *query, char **body)
{
    int64_t offset = count_param(query, "offset", 0);
    int64_t limit = count_param(query, "limit", API_EVENTS_DEFAULT);
    char *attrs = param(query, "attrs");
    bool with_attrs = attrs != NULL && strcmp(attrs, "1") == 0;

    free(attrs);
    if (offset < 0 || limit < 0) {
        return fail(body, 400, "bad offset or limit");
    }
    if (limit == 0 || limit > API_EVENTS_MAX) {
        limit = API_EVENTS_MAX;
    }
    json_t *t = events_table(with_attrs);
    for (size_t i = (size_t)offset; i < l->n && i < (size_t)(offset + limit); i++) {
        table_add(t, event_row(i, &l->ev[i], with_attrs));
    }
    json_object_set_new(t, "total", json_integer((json_int_t)l->n));
    json_object_set_new(t, "offset", json_integer(offset));
    return answer(body, t);
}

/* Running totals of one prompt, in the order the prompts began. */
struct prompt_acc {
    const struct ccr_event *first;
    const struct ccr_event *text; /* its user_prompt event, if any */
    int64_t last_ns;
    double cost;
    int64_t tokens[4];
    int64_t requests, errors, tools, failures, events;
};

static bool same_prompt(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void prompt_add(struct prompt_acc *p, const struct ccr_event *e)
{
    bool request = strcmp(e->name, "api_request") == 0;

    p->last_ns = e->time_ns > p->last_ns ? e->time_ns : p->last_ns;
    p->events++;
    if (strcmp(e->name, "user_prompt") == 0 && p->text == NULL) {
        p->text = e;
    }
    if (request && !isnan(e->cost_usd)) {
        p->cost += e->cost_usd;
    }
    for (int i = 0; request && i < 4; i++) {
        p->tokens[i] += e->tokens[i] != CCR_NONE ? e->tokens[i] : 0;
    }
    p->requests += request;
    p->errors += strcmp(e->name, "api_error") == 0;
    p->tools += strcmp(e->name, "tool_result") == 0;
    p->failures += strcmp(e->name, "tool_result") == 0 && e->success == 0;
}

static json_t *prompt_row(size_t i, const struct prompt_acc *p)
{
    const struct ccr_event *t = p->text;
    json_t *row = json_pack("[IoooooooIII]", (json_int_t)i, ccr_json_str(p->first->prompt_id),
                            time_ms(p->first->time_ns), time_ms(p->last_ns),
                            ccr_json_int(t ? t->prompt_length : CCR_NONE),
                            ccr_json_str(t ? t->prompt : NULL),
                            ccr_json_str(t ? t->prompt_hash : NULL),
                            ccr_json_str(t ? ccr_report_slash_command(t) : NULL),
                            (json_int_t)p->requests, (json_int_t)p->errors,
                            (json_int_t)p->tools);

    json_array_append_new(row, json_integer(p->failures));
    json_array_append_new(row, json_real(p->cost));
    for (int k = 0; k < 4; k++) {
        json_array_append_new(row, json_integer(p->tokens[k]));
    }
    json_array_append_new(row, json_integer(p->events));
    return row;
}

/* Per prompt, in the order the prompts began; events without a prompt id form one group. */
static int get_prompts(const struct event_list *l, char **body)
{
    static const char *const cols[] = {
        "index", "prompt_id", "start_ms", "end_ms", "length", "text", "hash", "slash_command",
        "api_requests", "api_errors", "tool_calls", "tool_failures", "cost_usd", "input",
        "output", "cache_read", "cache_creation", "events",
    };
    struct prompt_acc *acc = NULL;
    size_t n = 0;

    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        /* A prompt's events mostly follow each other: try the last one first. */
        if (k >= n || !same_prompt(acc[k].first->prompt_id, l->ev[i].prompt_id)) {
            k = 0;
            while (k < n && !same_prompt(acc[k].first->prompt_id, l->ev[i].prompt_id)) {
                k++;
            }
        }
        if (k == n) {
            acc = ccr_xrealloc(acc, (n + 1) * sizeof(*acc));
            memset(&acc[n], 0, sizeof(*acc));
            acc[n++].first = &l->ev[i];
        }
        prompt_add(&acc[k], &l->ev[i]);
    }
    json_t *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
    for (k = 0; k < n; k++) {
        table_add(t, prompt_row(k, &acc[k]));
    }
    free(acc);
    return answer(body, t);
}

/* A round bucket width giving about API_SERIES_BUCKETS buckets over span_ms. */
static int64_t bucket_width(int64_t span_ms)
{
    static const int64_t widths[] = {
        1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 900000,
        1800000, 3600000, 7200000, 21600000, 43200000, 86400000,
    };
    size_t n = sizeof(widths) / sizeof(widths[0]);

    for (size_t i = 0; i < n; i++) {
        if (span_ms / widths[i] < API_SERIES_BUCKETS) {
            return widths[i];
        }
    }
    return (span_ms / API_SERIES_BUCKETS / widths[n - 1] + 1) * widths[n - 1];
}

/* The index of a model in models (appended when new). */
static size_t model_index(json_t *models, const char *model)
{
    size_t i;
    json_t *v;

    json_array_foreach(models, i, v) {
        if (strcmp(json_string_value(v), model) == 0) {
            return i;
        }
    }
    json_array_append_new(models, json_string(model));
    return json_array_size(models) - 1;
}

static json_t *zeros(size_t n, bool real)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++) {
        json_array_append_new(a, real ? json_real(0) : json_integer(0));
    }
    return a;
}

static void bump(json_t *arr, size_t i, double by)
{
    json_t *v = json_array_get(arr, i);

    if (json_is_real(v)) {
        json_real_set(v, json_real_value(v) + by);
    } else {
        json_integer_set(v, json_integer_value(v) + (json_int_t)by);
    }
}

/* Adds one API request to its model's cost and request series. */
static void series_request(json_t *o, size_t nb, size_t b, const struct ccr_event *e)
{
    json_t *models = json_object_get(o, "models");
    size_t m = model_index(models, e->model != NULL ? e->model : "unknown");

    if (m == json_array_size(json_object_get(o, "cost"))) {
        json_array_append_new(json_object_get(o, "cost"), zeros(nb, true));
        json_array_append_new(json_object_get(o, "requests"), zeros(nb, false));
    }
    bump(json_array_get(json_object_get(o, "cost"), m), b, isnan(e->cost_usd) ? 0 : e->cost_usd);
    bump(json_array_get(json_object_get(o, "requests"), m), b, 1);
}

/*
 * Cost and requests per model, and tool decisions accepted and rejected,
 * per time bucket. Decisions come from tool_decision events: a rejected
 * tool never runs, so it has no tool_result to count.
 */
static int get_series(const struct event_list *l, char **body)
{
    int64_t start = l->n ? l->ev[0].time_ns / 1000000 : 0;
    int64_t end = l->n ? l->ev[l->n - 1].time_ns / 1000000 : 0;
    int64_t width = bucket_width(end - start);
    size_t nb = (size_t)((end - start) / width + 1);
    json_t *o = json_pack("{sIsIsIs[]s[]s[]soso}", "start_ms", (json_int_t)start, "bucket_ms",
                          (json_int_t)width, "buckets", (json_int_t)nb, "models", "cost",
                          "requests", "accept", zeros(nb, false), "reject", zeros(nb, false));

    for (size_t i = 0; i < l->n; i++) {
        const struct ccr_event *e = &l->ev[i];
        size_t b = (size_t)((e->time_ns / 1000000 - start) / width);
        if (b >= nb) {
            continue;
        }
        if (strcmp(e->name, "api_request") == 0) {
            series_request(o, nb, b, e);
        } else if (strcmp(e->name, "tool_decision") == 0 && e->decision != NULL) {
            bool accept = strcmp(e->decision, "accept") == 0;
            bump(json_object_get(o, accept ? "accept" : "reject"), b, 1);
        }
    }
    return answer(body, o);
}

/* API errors and failed tool calls, each with its index in the run's events. */
static int get_errors(const struct event_list *l, char **body)
{
    static const char *const cols[] = {
        "index", "time_ms", "name", "prompt_id", "model", "tool_name", "error", "status_code",
        "duration_ms",
    };
    json_t *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));

    for (size_t i = 0; i < l->n; i++) {
        const struct ccr_event *e = &l->ev[i];
        bool failed_tool = strcmp(e->name, "tool_result") == 0 && e->success == 0;
        if (strcmp(e->name, "api_error") != 0 && !failed_tool) {
            continue;
        }
        table_add(t, json_pack("[Iosoooooo]", (json_int_t)i, time_ms(e->time_ns), e->name,
                               ccr_json_str(e->prompt_id), ccr_json_str(e->model),
                               ccr_json_str(e->tool_name),
                               ccr_json_str(e->error), ccr_json_int(e->status_code),
                               ccr_json_int(e->duration_ms)));
    }
    return answer(body, t);
}

/* The summary's per-tool totals: the same figures as `ccrun last --json`. */
static int get_tools(const struct ccr_summary *s, char **body)
{
    static const char *const cols[] = {
        "name", "calls", "succeeded", "failed", "rejected", "duration_ms",
    };
    json_t *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));

    for (size_t i = 0; i < s->n_tools; i++) {
        const struct ccr_tool_total *x = &s->tools[i];
        table_add(t, json_pack("[oIIIII]", ccr_json_str(x->name), (json_int_t)x->calls,
                               (json_int_t)x->succeeded, (json_int_t)x->failed,
                               (json_int_t)x->rejected, (json_int_t)x->duration_ms));
    }
    return answer(body, t);
}

/* The summary of `ccrun last --json`, or NULL when there is no such run. */
static json_t *summary_json(struct ccr_ui_api *api, int64_t run_id)
{
    struct ccr_summary s;
    json_t *o = NULL;

    memset(&s, 0, sizeof(s));
    if (ccr_store_summary(api->store, run_id, &s) == 0) {
        o = ccr_report_json(&s);
    }
    ccr_summary_finish(&s);
    return o;
}

/* Two runs' summaries; the page works out the differences it shows. */
static int get_compare(struct ccr_ui_api *api, const char *query, char **body)
{
    int64_t a = count_param(query, "a", -1);
    int64_t b = count_param(query, "b", -1);
    json_t *sa = a >= 0 ? summary_json(api, a) : NULL;
    json_t *sb = b >= 0 ? summary_json(api, b) : NULL;

    if (sa == NULL || sb == NULL) {
        json_decref(sa);
        json_decref(sb);
        return fail(body, 404, "compare needs two runs: ?a=RUN&b=RUN");
    }
    return answer(body, json_pack("{soso}", "a", sa, "b", sb));
}

/* /runs/N/<what>: the views of one run. */
static int get_run(struct ccr_ui_api *api, int64_t run_id, const char *what, const char *query,
                   char **body)
{
    const struct event_list *all = NULL;
    struct event_list part = {0};
    struct ccr_summary s;
    char *session = NULL;
    int status;

    if (*what == '\0') {
        json_t *o = summary_json(api, run_id);
        return o != NULL ? answer(body, o) : fail(body, 404, "no such run");
    }
    memset(&s, 0, sizeof(s));
    if (strcmp(what, "/tools") == 0) {
        status = ccr_store_summary(api->store, run_id, &s) < 0 ? fail(body, 404, "no such run")
                                                                 : get_tools(&s, body);
        goto out;
    }
    if (run_events(api, run_id, &all) < 0) {
        status = fail(body, 500, "cannot read the history");
        goto out;
    }
    /* A run without events may not exist at all; only then is the question worth asking. */
    if (all->n == 0 && ccr_store_summary(api->store, run_id, &s) < 0) {
        status = fail(body, 404, "no such run");
        goto out;
    }
    session = param(query, "session");
    if (session != NULL) {
        only_session(all, session, &part);
        all = &part;
    }
    if (strcmp(what, "/events") == 0) {
        status = get_events(all, query, body);
    } else if (strcmp(what, "/prompts") == 0) {
        status = get_prompts(all, body);
    } else if (strcmp(what, "/series") == 0) {
        status = get_series(all, body);
    } else if (strcmp(what, "/errors") == 0) {
        status = get_errors(all, body);
    } else {
        status = fail(body, 404, "no such view");
    }
    free(part.ev);
    free(session);
out:
    ccr_summary_finish(&s);
    return status;
}

/* What the page polls to notice new runs and new events without a restart. */
static int get_status(struct ccr_ui_api *api, char **body)
{
    int64_t last = 0;
    json_t *o = json_pack("{ss}", "version", CCRUN_VERSION);

    if (api->store != NULL && ccr_store_last_run(api->store, &last) == 0) {
        json_t *s = summary_json(api, last);
        json_object_set_new(o, "last_run_id", json_integer(last));
        json_object_set(o, "last_run_events", json_object_get(s, "events"));
        json_object_set(o, "last_run_ended_at", json_object_get(s, "ended_at"));
        json_decref(s);
    } else {
        json_object_set_new(o, "last_run_id", json_null());
    }
    return answer(body, o);
}

/* The history may appear after the UI started; try again on every request. */
static bool have_store(struct ccr_ui_api *api)
{
    char *cause = NULL;

    if (api->store == NULL) {
        ccr_store_open(api->db_path, true, &api->store, &cause);
        free(cause);
    }
    return api->store != NULL;
}

int ccr_ui_api_get(struct ccr_ui_api *api, const char *path, const char *query, char **body)
{
    char *end;

    if (!have_store(api) && strcmp(path, "") != 0) {
        return strcmp(path, "runs") == 0 ? answer(body, table_new(NULL, 0))
                                         : fail(body, 404, "no history yet");
    }
    if (strcmp(path, "") == 0) {
        return get_status(api, body);
    }
    if (strcmp(path, "runs") == 0) {
        return get_runs(api, query, body);
    }
    if (strcmp(path, "compare") == 0) {
        return get_compare(api, query, body);
    }
    if (strncmp(path, "runs/", 5) == 0 && path[5] >= '0' && path[5] <= '9') {
        long long id = strtoll(path + 5, &end, 10);
        return get_run(api, id, end, query, body);
    }
    return fail(body, 404, "no such API path");
}

void ccr_ui_api_finish(struct ccr_ui_api *api)
{
    cache_drop(api);
    ccr_store_close(api->store);
    api->store = NULL;
}
