/* SPDX-License-Identifier: MIT */
/* Spans assembled into interactions, and interactions matched with a timeline's events. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "interactions.h"
#include "util.h"

#define MS 1000000LL
/* 2026-12-03T12:39:43Z, near the o-traces-beta capture. */
#define T0 (1796301583000LL * MS)

static char *dup_or_null(const char *s)
{
    return s != NULL ? ccr_xstrdup(s) : NULL;
}

/* A span of run 1 and session "s" lasting 10 ms, with no attributes but its name. */
static void make_span(struct ccr_span *sp, const char *trace, const char *id, const char *parent,
                      const char *name, int64_t start_ms)
{
    memset(sp, 0, sizeof(*sp));
    sp->run_id = 1;
    sp->trace_id = ccr_xstrdup(trace);
    sp->span_id = ccr_xstrdup(id);
    sp->parent_span_id = dup_or_null(parent);
    sp->name = ccr_xasprintf("claude_code.%s", name);
    sp->session_id = ccr_xstrdup("s");
    sp->start_ns = T0 + start_ms * MS;
    sp->end_ns = sp->start_ns + 10 * MS;
    sp->duration_ms = sp->sequence = sp->prompt_length = CCR_NONE;
    sp->attempt = sp->success = sp->ttft_ms = CCR_NONE;
    for (int i = 0; i < 4; i++) {
        sp->tokens[i] = CCR_NONE;
    }
}

/*
 * Two traces: "b" holds an interaction with a request, an Agent tool (its
 * permission wait and execution folded in) and the subagent's request under
 * the execution, plus spans that lead to no interaction (an orphan, a root
 * request, a cycle of parent ids); "a" holds an earlier interaction alone.
 */
static size_t make_spans(struct ccr_span *sp)
{
    size_t n = 0;

    make_span(&sp[n++], "b", "i1", NULL, "interaction", 100);
    sp[n - 1].end_ns = T0 + 400 * MS;
    make_span(&sp[n++], "b", "l1", "i1", "llm_request", 110);
    make_span(&sp[n++], "b", "t1", "i1", "tool", 130);
    make_span(&sp[n++], "b", "x1", "t1", "tool.execution", 135);
    make_span(&sp[n++], "b", "u1", "t1", "tool.blocked_on_user", 131);
    make_span(&sp[n++], "b", "l2", "x1", "llm_request", 140);
    make_span(&sp[n++], "b", "o1", "gone", "llm_request", 150);
    make_span(&sp[n++], "b", "r1", NULL, "llm_request", 160);
    make_span(&sp[n++], "b", "c1", "c2", "llm_request", 170);
    make_span(&sp[n++], "b", "c2", "c1", "tool", 171);
    make_span(&sp[n++], "a", "i0", NULL, "interaction", 10);
    return n;
}

static void interactions_nest_steps_and_fold_tool_children(void)
{
    struct ccr_span *spans = ccr_xcalloc(16, sizeof(*spans));
    size_t n = make_spans(spans);
    struct ccr_interactions ins;

    ccr_interactions_build(spans, n, &ins);
    ASSERT_INT_EQ(ins.n, 2);
    ASSERT_STR_EQ(ins.items[0].span->span_id, "i0");
    ASSERT_INT_EQ(ins.items[0].n_steps, 0);
    ASSERT_INT_EQ(ins.items[0].event, SIZE_MAX);
    const struct ccr_interaction *in = &ins.items[1];
    ASSERT_STR_EQ(in->span->span_id, "i1");
    ASSERT_INT_EQ(in->n_steps, 3);
    ASSERT_STR_EQ(in->steps[0].span->span_id, "l1");
    ASSERT_INT_EQ(in->steps[0].depth, 1);
    ASSERT_STR_EQ(in->steps[1].span->span_id, "t1");
    ASSERT_INT_EQ(in->steps[1].depth, 1);
    ASSERT_TRUE(in->steps[1].blocked != NULL && in->steps[1].execution != NULL);
    ASSERT_STR_EQ(in->steps[1].blocked->span_id, "u1");
    ASSERT_STR_EQ(in->steps[1].execution->span_id, "x1");
    ASSERT_STR_EQ(in->steps[2].span->span_id, "l2");
    ASSERT_INT_EQ(in->steps[2].depth, 2);
    ccr_interactions_finish(&ins);
    ccr_spans_free(spans, n);
}

static void make_event(struct ccr_event *e, const char *name, const char *session,
                       int64_t time_ms)
{
    memset(e, 0, sizeof(*e));
    e->run_id = 1;
    e->name = (char *)name;
    e->session_id = (char *)session;
    e->time_ns = T0 + time_ms * MS;
}

static void interactions_match_prompt_then_first_event(void)
{
    struct ccr_span *spans = ccr_xcalloc(3, sizeof(*spans));
    struct ccr_event events[5];
    struct ccr_interactions ins;

    /* 0..10 ms, no user_prompt; 100..400 ms, prompt 5 ms early; 500..510 ms, another session. */
    make_span(&spans[0], "a", "i0", NULL, "interaction", 0);
    make_span(&spans[1], "b", "i1", NULL, "interaction", 100);
    spans[1].end_ns = T0 + 400 * MS;
    make_span(&spans[2], "c", "i2", NULL, "interaction", 500);
    free(spans[2].session_id);
    spans[2].session_id = ccr_xstrdup("other");
    /* In timeline order: grouped by prompt, so not in time order. */
    make_event(&events[0], "api_request", "s", 150);
    make_event(&events[1], "user_prompt", "s", 95);
    make_event(&events[2], "tool_result", "s", 5);
    make_event(&events[3], "api_request", "s", 8);
    make_event(&events[4], "user_prompt", "s", 505);
    ccr_interactions_build(spans, 3, &ins);
    ccr_interactions_match(&ins, events, 5);
    ASSERT_INT_EQ(ins.n, 3);
    ASSERT_INT_EQ(ins.items[0].event, 2);
    ASSERT_INT_EQ(ins.items[1].event, 1);
    ASSERT_INT_EQ(ins.items[2].event, SIZE_MAX);
    ccr_interactions_finish(&ins);
    ccr_spans_free(spans, 3);
}

static void span_duration_prefers_the_reported_one(void)
{
    struct ccr_span *sp = ccr_xcalloc(1, sizeof(*sp));

    make_span(sp, "a", "s1", NULL, "tool", 0);
    sp->end_ns = sp->start_ns + 41800000;
    ASSERT_INT_EQ(ccr_span_duration_ms(sp), 42);
    sp->duration_ms = 40;
    ASSERT_INT_EQ(ccr_span_duration_ms(sp), 40);
    sp->duration_ms = CCR_NONE;
    sp->end_ns = sp->start_ns - 1;
    ASSERT_INT_EQ(ccr_span_duration_ms(sp), 0);
    ccr_spans_free(sp, 1);
}

int main(void)
{
    CCR_RUN(interactions_nest_steps_and_fold_tool_children);
    CCR_RUN(interactions_match_prompt_then_first_event);
    CCR_RUN(span_duration_prefers_the_reported_one);
    return CCR_TEST_EXIT();
}
