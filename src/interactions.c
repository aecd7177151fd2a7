/* SPDX-License-Identifier: MIT */
/* Claude Code's interaction spans assembled into trees and matched with the timeline's events. */
#include "interactions.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

/* The deepest chain of parents followed; a cycle of ids in a hostile trace ends there. */
#define CCR_MAX_SPAN_DEPTH 64

/*
 * How long before an interaction's start its user_prompt event may be
 * stamped: both come from the same clock, but the event may be taken first.
 */
#define CCR_PROMPT_SLACK_NS 1000000000LL

enum span_kind {
    SPAN_OTHER,
    SPAN_INTERACTION,
    SPAN_LLM,
    SPAN_TOOL,
    SPAN_BLOCKED,
    SPAN_EXECUTION,
};

static enum span_kind kind_of(const struct ccr_span *sp)
{
    static const struct {
        const char *name;
        enum span_kind kind;
    } kinds[] = {
        {"claude_code.interaction", SPAN_INTERACTION},
        {"claude_code.llm_request", SPAN_LLM},
        {"claude_code.tool", SPAN_TOOL},
        {"claude_code.tool.blocked_on_user", SPAN_BLOCKED},
        {"claude_code.tool.execution", SPAN_EXECUTION},
    };

    for (size_t i = 0; sp->name != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(sp->name, kinds[i].name) == 0) {
            return kinds[i].kind;
        }
    }
    return SPAN_OTHER;
}

static int cmp_ids(const void *x, const void *y)
{
    const struct ccr_span *a = *(const struct ccr_span *const *)x;
    const struct ccr_span *b = *(const struct ccr_span *const *)y;
    int c;

    if (a->run_id != b->run_id) {
        return a->run_id < b->run_id ? -1 : 1;
    }
    c = strcmp(a->trace_id, b->trace_id);
    return c != 0 ? c : strcmp(a->span_id, b->span_id);
}

/* The spans sorted by (run, trace, span id), to find a parent by binary search. */
struct span_index {
    const struct ccr_span **by_id;
    size_t n;
};

static const struct ccr_span *parent_of(const struct span_index *ix, const struct ccr_span *sp)
{
    struct ccr_span key = {.run_id = sp->run_id, .trace_id = sp->trace_id};
    const struct ccr_span *k = &key;
    const struct ccr_span **found;

    if (sp->parent_span_id == NULL) {
        return NULL;
    }
    key.span_id = sp->parent_span_id;
    found = bsearch(&k, ix->by_id, ix->n, sizeof(*ix->by_id), cmp_ids);
    return found != NULL ? *found : NULL;
}

/*
 * The interaction a request or tool span sits in, through any chain of
 * requests and tools (a subagent's requests run inside its Agent tool), and
 * its depth below it; NULL when it is in none.
 */
static const struct ccr_span *interaction_of(const struct span_index *ix,
                                             const struct ccr_span *sp, int *depth)
{
    const struct ccr_span *p = parent_of(ix, sp);

    *depth = 1;
    for (int hops = 0; p != NULL && hops < CCR_MAX_SPAN_DEPTH; hops++) {
        enum span_kind k = kind_of(p);
        if (k == SPAN_INTERACTION) {
            return p;
        }
        if (k == SPAN_LLM || k == SPAN_TOOL) {
            (*depth)++;
        }
        p = parent_of(ix, p);
    }
    return NULL;
}

static void add_step(struct ccr_interaction *in, const struct ccr_span *sp, int depth)
{
    in->steps = ccr_xrealloc(in->steps, (in->n_steps + 1) * sizeof(*in->steps));
    in->steps[in->n_steps++] = (struct ccr_interaction_step){.span = sp, .depth = depth};
}

static int cmp_steps(const void *x, const void *y)
{
    const struct ccr_span *a = ((const struct ccr_interaction_step *)x)->span;
    const struct ccr_span *b = ((const struct ccr_interaction_step *)y)->span;

    if (a->start_ns != b->start_ns) {
        return a->start_ns < b->start_ns ? -1 : 1;
    }
    return a < b ? -1 : a > b;
}

static int cmp_interactions(const void *x, const void *y)
{
    const struct ccr_span *a = ((const struct ccr_interaction *)x)->span;
    const struct ccr_span *b = ((const struct ccr_interaction *)y)->span;

    if (a->start_ns != b->start_ns) {
        return a->start_ns < b->start_ns ? -1 : 1;
    }
    return a < b ? -1 : a > b;
}

/* Where each span went: its interaction (SIZE_MAX for none) and its step there. */
struct placement {
    size_t item;
    size_t step;
};

/* Folds a tool's blocked_on_user and execution spans into that tool's step. */
static void attach_children(const struct ccr_span *spans, size_t n, const struct span_index *ix,
                            const struct placement *placed, struct ccr_interactions *out)
{
    for (size_t i = 0; i < n; i++) {
        enum span_kind k = kind_of(&spans[i]);
        if (k != SPAN_BLOCKED && k != SPAN_EXECUTION) {
            continue;
        }
        const struct ccr_span *p = parent_of(ix, &spans[i]);
        if (p == NULL || kind_of(p) != SPAN_TOOL || placed[p - spans].item == SIZE_MAX) {
            continue;
        }
        struct ccr_interaction_step *st =
            &out->items[placed[p - spans].item].steps[placed[p - spans].step];
        if (k == SPAN_BLOCKED) {
            st->blocked = &spans[i];
        } else {
            st->execution = &spans[i];
        }
    }
}

void ccr_interactions_build(const struct ccr_span *spans, size_t n,
                            struct ccr_interactions *out)
{
    struct span_index ix = {.n = n};
    struct placement *placed;

    memset(out, 0, sizeof(*out));
    if (n == 0) {
        return;
    }
    ix.by_id = ccr_xcalloc(n, sizeof(*ix.by_id));
    placed = ccr_xcalloc(n, sizeof(*placed));
    for (size_t i = 0; i < n; i++) {
        ix.by_id[i] = &spans[i];
        placed[i].item = SIZE_MAX;
        if (kind_of(&spans[i]) == SPAN_INTERACTION) {
            out->items = ccr_xrealloc(out->items, (out->n + 1) * sizeof(*out->items));
            out->items[out->n] = (struct ccr_interaction){.span = &spans[i], .event = SIZE_MAX};
            placed[i].item = out->n++;
        }
    }
    qsort(ix.by_id, n, sizeof(*ix.by_id), cmp_ids);
    for (size_t i = 0; i < n; i++) {
        enum span_kind k = kind_of(&spans[i]);
        int depth;
        if (k != SPAN_LLM && k != SPAN_TOOL) {
            continue;
        }
        const struct ccr_span *root = interaction_of(&ix, &spans[i], &depth);
        if (root != NULL) {
            struct ccr_interaction *in = &out->items[placed[root - spans].item];
            add_step(in, &spans[i], depth);
            placed[i] = (struct placement){.item = placed[root - spans].item,
                                           .step = in->n_steps - 1};
        }
    }
    attach_children(spans, n, &ix, placed, out);
    /* qsort is not given the NULL of an empty array. */
    for (size_t i = 0; i < out->n; i++) {
        if (out->items[i].n_steps > 1) {
            qsort(out->items[i].steps, out->items[i].n_steps, sizeof(*out->items[i].steps),
                  cmp_steps);
        }
    }
    if (out->n > 1) {
        qsort(out->items, out->n, sizeof(*out->items), cmp_interactions);
    }
    free(ix.by_id);
    free(placed);
}

void ccr_interactions_finish(struct ccr_interactions *ins)
{
    for (size_t i = 0; i < ins->n; i++) {
        free(ins->items[i].steps);
    }
    free(ins->items);
    memset(ins, 0, sizeof(*ins));
}

static bool same_str(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* An event's time and its index in the timeline, for a search by time. */
struct timed {
    int64_t time_ns;
    size_t index;
};

static int cmp_timed(const void *x, const void *y)
{
    const struct timed *a = x;
    const struct timed *b = y;

    if (a->time_ns != b->time_ns) {
        return a->time_ns < b->time_ns ? -1 : 1;
    }
    return a->index < b->index ? -1 : a->index > b->index;
}

/* The first position in by_time at or after time_ns. */
static size_t lower_bound(const struct timed *by_time, size_t n, int64_t time_ns)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (by_time[mid].time_ns < time_ns) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* One pass of the matching: user_prompt events only, or any event. */
static void match_pass(struct ccr_interactions *ins, const struct ccr_event *events,
                       const struct timed *by_time, size_t n, bool *taken, bool prompts_only)
{
    for (size_t i = 0; i < ins->n; i++) {
        struct ccr_interaction *in = &ins->items[i];
        const struct ccr_span *sp = in->span;
        if (in->event != SIZE_MAX) {
            continue;
        }
        int64_t from = sp->start_ns - (prompts_only ? CCR_PROMPT_SLACK_NS : 0);
        for (size_t k = lower_bound(by_time, n, from);
             k < n && by_time[k].time_ns <= sp->end_ns; k++) {
            const struct ccr_event *e = &events[by_time[k].index];
            if (taken[by_time[k].index] || e->run_id != sp->run_id ||
                !same_str(e->session_id, sp->session_id) ||
                (prompts_only && (e->name == NULL || strcmp(e->name, "user_prompt") != 0))) {
                continue;
            }
            taken[by_time[k].index] = true;
            in->event = by_time[k].index;
            break;
        }
    }
}

void ccr_interactions_match(struct ccr_interactions *ins, const struct ccr_event *events,
                            size_t n_events)
{
    struct timed *by_time;
    bool *taken;

    if (ins->n == 0 || n_events == 0) {
        return;
    }
    by_time = ccr_xcalloc(n_events, sizeof(*by_time));
    taken = ccr_xcalloc(n_events, sizeof(*taken));
    for (size_t i = 0; i < n_events; i++) {
        by_time[i] = (struct timed){.time_ns = events[i].time_ns, .index = i};
    }
    qsort(by_time, n_events, sizeof(*by_time), cmp_timed);
    match_pass(ins, events, by_time, n_events, taken, true);
    match_pass(ins, events, by_time, n_events, taken, false);
    free(by_time);
    free(taken);
}

int64_t ccr_span_duration_ms(const struct ccr_span *sp)
{
    if (sp->duration_ms != CCR_NONE && sp->duration_ms >= 0) {
        return sp->duration_ms;
    }
    if (sp->end_ns < sp->start_ns) {
        return 0;
    }
    return (sp->end_ns - sp->start_ns + 500000) / 1000000;
}

static json_t *opt_bool(int64_t v)
{
    return v == CCR_NONE ? json_null() : json_boolean(v != 0);
}

/* The keys every step has: where it is in the tree and when it ran. */
static json_t *step_base_json(const struct ccr_interaction_step *st, int64_t base_ms)
{
    const struct ccr_span *sp = st->span;
    json_t *o = json_object();

    json_object_set_new(o, "span_id", ccr_json_str(sp->span_id));
    json_object_set_new(o, "parent_span_id", ccr_json_str(sp->parent_span_id));
    json_object_set_new(o, "depth", json_integer(st->depth));
    json_object_set_new(o, "time_ns", json_integer(sp->start_ns));
    json_object_set_new(o, "offset_ms", base_ms != CCR_NONE
                                            ? json_integer(sp->start_ns / 1000000 - base_ms)
                                            : json_null());
    json_object_set_new(o, "duration_ms", json_integer(ccr_span_duration_ms(sp)));
    return o;
}

static json_t *llm_json(const struct ccr_interaction_step *st, int64_t base_ms)
{
    static const char *const token_names[4] = {"input", "output", "cache_read",
                                               "cache_creation"};
    const struct ccr_span *sp = st->span;
    json_t *o = step_base_json(st, base_ms);
    json_t *tokens = json_object();

    json_object_set_new(o, "model", ccr_json_str(sp->model));
    json_object_set_new(o, "context", ccr_json_str(sp->context));
    json_object_set_new(o, "attempt", ccr_json_int(sp->attempt));
    json_object_set_new(o, "success", opt_bool(sp->success));
    json_object_set_new(o, "ttft_ms", ccr_json_int(sp->ttft_ms));
    json_object_set_new(o, "stop_reason", ccr_json_str(sp->stop_reason));
    for (int i = 0; i < 4; i++) {
        json_object_set_new(tokens, token_names[i], ccr_json_int(sp->tokens[i]));
    }
    json_object_set_new(o, "tokens", tokens);
    return o;
}

/* Whether a tool call succeeded: its execution says so, else the tool span itself. */
static int64_t tool_success(const struct ccr_interaction_step *st)
{
    if (st->execution != NULL && st->execution->success != CCR_NONE) {
        return st->execution->success;
    }
    return st->span->success;
}

static json_t *tool_json(const struct ccr_interaction_step *st, int64_t base_ms)
{
    const struct ccr_span *sp = st->span;
    json_t *o = step_base_json(st, base_ms);

    json_object_set_new(o, "name", ccr_json_str(sp->tool_name));
    json_object_set_new(o, "tool_use_id", ccr_json_str(sp->tool_use_id));
    json_object_set_new(o, "success", opt_bool(tool_success(st)));
    json_object_set_new(o, "blocked_on_user_ms",
                        st->blocked != NULL ? json_integer(ccr_span_duration_ms(st->blocked))
                                            : json_null());
    json_object_set_new(o, "decision", ccr_json_str(st->blocked ? st->blocked->decision : NULL));
    json_object_set_new(o, "source", ccr_json_str(st->blocked ? st->blocked->source : NULL));
    json_object_set_new(o, "execution_ms",
                        st->execution != NULL
                            ? json_integer(ccr_span_duration_ms(st->execution))
                            : json_null());
    return o;
}

json_t *ccr_interaction_json(const struct ccr_interaction *in, int64_t base_ms)
{
    const struct ccr_span *sp = in->span;
    int64_t ms = sp->start_ns / 1000000;
    json_t *o = json_object();
    json_t *llm = json_array();
    json_t *tools = json_array();

    json_object_set_new(o, "trace_id", ccr_json_str(sp->trace_id));
    json_object_set_new(o, "span_id", ccr_json_str(sp->span_id));
    json_object_set_new(o, "sequence", ccr_json_int(sp->sequence));
    json_object_set_new(o, "time", ccr_json_time(ms));
    json_object_set_new(o, "time_ns", json_integer(sp->start_ns));
    json_object_set_new(o, "offset_ms",
                        base_ms != CCR_NONE ? json_integer(ms - base_ms) : json_null());
    json_object_set_new(o, "duration_ms", json_integer(ccr_span_duration_ms(sp)));
    json_object_set_new(o, "prompt_length", ccr_json_int(sp->prompt_length));
    json_object_set_new(o, "prompt", ccr_json_str(sp->prompt));
    json_object_set_new(o, "prompt_hash", ccr_json_str(sp->prompt_hash));
    for (size_t i = 0; i < in->n_steps; i++) {
        const struct ccr_interaction_step *st = &in->steps[i];
        if (kind_of(st->span) == SPAN_LLM) {
            json_array_append_new(llm, llm_json(st, base_ms));
        } else {
            json_array_append_new(tools, tool_json(st, base_ms));
        }
    }
    json_object_set_new(o, "llm_requests", llm);
    json_object_set_new(o, "tools", tools);
    return o;
}
