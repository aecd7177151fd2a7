/* SPDX-License-Identifier: MIT */
/*
 * Claude Code's traces as the timeline shows them: each claude_code.interaction
 * span (one user prompt) with the LLM requests and tool calls under it, a
 * tool's blocked_on_user and execution children folded into the tool, and the
 * event of the timeline each interaction belongs to.
 */
#ifndef CCR_INTERACTIONS_H
#define CCR_INTERACTIONS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store-views.h"

/* An LLM request or a tool call inside an interaction. */
struct ccr_interaction_step {
    const struct ccr_span *span;      /* a claude_code.llm_request or claude_code.tool */
    const struct ccr_span *blocked;   /* a tool's blocked_on_user child, or NULL */
    const struct ccr_span *execution; /* a tool's execution child, or NULL */
    int depth; /* 1 right under the interaction, 2 under a step of depth 1, … */
};

struct ccr_interaction {
    const struct ccr_span *span;
    struct ccr_interaction_step *steps; /* in order of start */
    size_t n_steps;
    size_t event; /* the timeline event it belongs to, or SIZE_MAX */
};

struct ccr_interactions {
    struct ccr_interaction *items; /* in order of start */
    size_t n;
};

/*
 * Builds the interactions out of spans as ccr_store_spans returned them.
 * The result points into spans, which must outlive it; release it with
 * ccr_interactions_finish. Spans outside any interaction are left out.
 */
void ccr_interactions_build(const struct ccr_span *spans, size_t n,
                            struct ccr_interactions *out);
void ccr_interactions_finish(struct ccr_interactions *ins);

/*
 * Gives each interaction the event of the same run and session that opened
 * it: the first user_prompt event within its time, failing that the first
 * event of any kind within it. Each event opens one interaction at most;
 * one without such an event keeps SIZE_MAX.
 */
void ccr_interactions_match(struct ccr_interactions *ins, const struct ccr_event *events,
                            size_t n_events);

/*
 * The time a span took in milliseconds: the duration Claude Code reported,
 * else its end minus its start.
 */
int64_t ccr_span_duration_ms(const struct ccr_span *sp);

/*
 * An interaction as the "interaction" object of `show --json` (a new
 * reference); offsets count from base_ms.
 */
json_t *ccr_interaction_json(const struct ccr_interaction *in, int64_t base_ms);

#endif
