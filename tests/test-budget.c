/* SPDX-License-Identifier: MIT */
/* Budget levels, what is left, the words for the user, and the live line and JSON. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "harness.h"
#include "live.h"

static void budget_parse_accepts_amounts_only(void)
{
    double usd = 0;

    ASSERT_TRUE(ccr_budget_parse_usd("0.50", &usd));
    ASSERT_DOUBLE_NEAR(usd, 0.5, 1e-12);
    ASSERT_TRUE(ccr_budget_parse_usd("$2", &usd));
    ASSERT_DOUBLE_NEAR(usd, 2, 1e-12);
    ASSERT_TRUE(!ccr_budget_parse_usd("0", &usd));
    ASSERT_TRUE(!ccr_budget_parse_usd("-1", &usd));
    ASSERT_TRUE(!ccr_budget_parse_usd("1.5x", &usd));
    ASSERT_TRUE(!ccr_budget_parse_usd("", &usd));
    ASSERT_TRUE(!ccr_budget_parse_usd("nan", &usd));
    ASSERT_TRUE(!ccr_budget_parse_usd("inf", &usd));
}

static void budget_levels_follow_the_tighter_limit(void)
{
    struct ccr_budget b;

    ccr_budget_init(&b);
    ASSERT_INT_EQ(ccr_budget_level(&b, 100), CCR_BUDGET_OK);
    b.run_usd = 1.0;
    ASSERT_INT_EQ(ccr_budget_level(&b, 0.49), CCR_BUDGET_OK);
    ASSERT_INT_EQ(ccr_budget_level(&b, 0.5), CCR_BUDGET_NEAR);
    ASSERT_INT_EQ(ccr_budget_level(&b, 0.8), CCR_BUDGET_WARN);
    ASSERT_INT_EQ(ccr_budget_level(&b, 1.0), CCR_BUDGET_OVER);
    ASSERT_INT_EQ(ccr_budget_level(&b, NAN), CCR_BUDGET_OK);
    /* The day has $4.90 of $5 spent already: ten cents of this run reach it. */
    b.day_usd = 5;
    b.day_before_usd = 4.9;
    ASSERT_INT_EQ(ccr_budget_level(&b, 0.1), CCR_BUDGET_OVER);
    ASSERT_DOUBLE_NEAR(ccr_budget_remaining(&b, 0.05), 0.05, 1e-12);
    ASSERT_DOUBLE_NEAR(ccr_budget_remaining(&b, 0.2), 0, 0);
    b.day_before_usd = 0;
    ASSERT_DOUBLE_NEAR(ccr_budget_remaining(&b, 0.25), 0.75, 1e-12);
}

static void budget_sum_just_under_limit_counts_as_over(void)
{
    struct ccr_budget b;

    ccr_budget_init(&b);
    b.run_usd = 0.3;
    ASSERT_INT_EQ(ccr_budget_level(&b, 0.1 + 0.2 - 1e-12), CCR_BUDGET_OVER);
}

static void budget_messages_say_spent_and_how_to_raise(void)
{
    struct ccr_budget b;

    ccr_budget_init(&b);
    b.run_usd = 0.10;
    char *over = ccr_budget_message(&b, 0.1152, CCR_BUDGET_OVER);
    ASSERT_TRUE(strstr(over, "$0.1152 of its $0.10 budget") != NULL);
    ASSERT_TRUE(strstr(over, "ccrun --budget USD") != NULL);
    ASSERT_TRUE(strstr(over, "[budget]") != NULL);
    free(over);
    char *warn = ccr_budget_message(&b, 0.085, CCR_BUDGET_WARN);
    ASSERT_STR_EQ(warn, "ccrun: 85% of the $0.10 run budget used ($0.0850 spent)");
    free(warn);
    b.day_usd = 1;
    b.day_before_usd = 0.99;
    char *day = ccr_budget_message(&b, 0.02, CCR_BUDGET_OVER);
    ASSERT_TRUE(strstr(day, "daily budget reached") != NULL);
    ASSERT_TRUE(strstr(day, "--budget-day USD") != NULL);
    free(day);
}

static void budget_settle_flag_wins_and_typo_refused(void)
{
    struct ccr_budget b;
    char *cause = NULL;

    ASSERT_INT_EQ(ccr_budget_settle(&b, "0.5", NULL, false, "2", "3", "yes", &cause), 0);
    ASSERT_DOUBLE_NEAR(b.run_usd, 0.5, 1e-12);
    ASSERT_DOUBLE_NEAR(b.day_usd, 3, 1e-12);
    ASSERT_TRUE(b.hard);
    ASSERT_TRUE(ccr_budget_settle(&b, NULL, NULL, false, "two", NULL, NULL, &cause) < 0);
    ASSERT_TRUE(cause != NULL && strstr(cause, "two") != NULL);
    free(cause);
}

static void live_line_and_json_round_trip(void)
{
    struct ccr_live l = {
        .run_id = 3, .running = true, .cost_usd = 0.0512,
        .tokens = {1000, 200, 3000, 0}, .api_requests = 3, .tool_calls = 2,
        .tool_failures = 1, .budget_usd = 0.08, .day_budget_usd = NAN,
        .day_spent_usd = NAN, .prompts_blocked = 1,
    };
    struct ccr_live back;

    char *line = ccr_live_line(&l);
    ASSERT_STR_EQ(line, "ccrun $0.0512 · 4.2k tok · cache 75% · 3 req · 2 tools (1 failed) · "
                        "budget 64% of $0.08 · 1 blocked");
    free(line);
    json_t *obj = ccr_live_json(&l);
    ASSERT_TRUE(ccr_live_parse(obj, &back));
    json_decref(obj);
    ASSERT_INT_EQ(back.run_id, 3);
    ASSERT_DOUBLE_NEAR(back.cost_usd, 0.0512, 1e-12);
    ASSERT_INT_EQ(back.tokens[2], 3000);
    ASSERT_INT_EQ(back.tool_failures, 1);
    ASSERT_DOUBLE_NEAR(back.budget_usd, 0.08, 1e-12);
    ASSERT_TRUE(isnan(back.day_budget_usd));
    ASSERT_INT_EQ(back.prompts_blocked, 1);
}

int main(void)
{
    CCR_RUN(budget_parse_accepts_amounts_only);
    CCR_RUN(budget_levels_follow_the_tighter_limit);
    CCR_RUN(budget_sum_just_under_limit_counts_as_over);
    CCR_RUN(budget_messages_say_spent_and_how_to_raise);
    CCR_RUN(budget_settle_flag_wins_and_typo_refused);
    CCR_RUN(live_line_and_json_round_trip);
    return CCR_TEST_EXIT();
}
