/* SPDX-License-Identifier: MIT */
/* Spending limits: levels, what is left, and the words for the user. */
#include "budget.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

void ccr_budget_init(struct ccr_budget *b)
{
    memset(b, 0, sizeof(*b));
    b->run_usd = NAN;
    b->day_usd = NAN;
}

bool ccr_budget_active(const struct ccr_budget *b)
{
    return !isnan(b->run_usd) || !isnan(b->day_usd);
}

bool ccr_budget_parse_usd(const char *text, double *usd)
{
    char *end;

    /* People write amounts as they see them printed, so a leading $ is fine. */
    if (text[0] == '$') {
        text++;
    }
    /* strtod would skip blanks and take signs, hex and "inf"; a limit is none of these. */
    if (text[0] == '\0' || text[0] == '-' || text[0] == '+' || text[0] == ' ') {
        return false;
    }
    double v = strtod(text, &end);
    if (*end != '\0' || !isfinite(v) || v <= 0) {
        return false;
    }
    *usd = v;
    return true;
}

static int settle_one(const char *flag, const char *file, const char *what, double *usd,
                      char **cause)
{
    const char *value = flag != NULL ? flag : file;

    if (value == NULL) {
        return 0;
    }
    if (!ccr_budget_parse_usd(value, usd)) {
        *cause = ccr_xasprintf("%s \"%s\" is not a positive amount in USD%s", what, value,
                               flag != NULL ? "" : " (in .ccrun/config or ~/.config/ccrun/config)");
        return -EINVAL;
    }
    return 0;
}

int ccr_budget_settle(struct ccr_budget *b, const char *run_flag, const char *day_flag,
                      bool hard_flag, const char *run_file, const char *day_file,
                      const char *hard_file, char **cause)
{
    ccr_budget_init(b);
    if (settle_one(run_flag, run_file, "budget", &b->run_usd, cause) < 0 ||
        settle_one(day_flag, day_file, "daily budget", &b->day_usd, cause) < 0) {
        return -EINVAL;
    }
    b->hard = hard_flag || (hard_file != NULL && (strcmp(hard_file, "yes") == 0 ||
                                                  strcmp(hard_file, "true") == 0 ||
                                                  strcmp(hard_file, "1") == 0));
    return 0;
}

/*
 * The larger share used of the two limits; 0 without any. The day's share
 * counts what the project's other runs spent today before this one began.
 */
static double share_used(const struct ccr_budget *b, double run_spent, bool *by_day)
{
    double run = isnan(b->run_usd) ? 0 : run_spent / b->run_usd;
    double day = isnan(b->day_usd) ? 0 : (b->day_before_usd + run_spent) / b->day_usd;

    *by_day = day > run;
    return *by_day ? day : run;
}

enum ccr_budget_level ccr_budget_level(const struct ccr_budget *b, double run_spent)
{
    bool by_day;
    double used = share_used(b, isnan(run_spent) ? 0 : run_spent, &by_day);

    if (!ccr_budget_active(b)) {
        return CCR_BUDGET_OK;
    }
    /* A hair of tolerance, so that a sum of doubles just under the limit counts as there. */
    if (used >= 1 - 1e-9) {
        return CCR_BUDGET_OVER;
    }
    if (used >= CCR_BUDGET_WARN_AT) {
        return CCR_BUDGET_WARN;
    }
    return used >= CCR_BUDGET_NEAR_AT ? CCR_BUDGET_NEAR : CCR_BUDGET_OK;
}

/* What is left goes to Claude Code's --max-budget-usd, which must not be negative. */
double ccr_budget_remaining(const struct ccr_budget *b, double run_spent)
{
    double left = NAN;

    run_spent = isnan(run_spent) ? 0 : run_spent;
    if (!isnan(b->run_usd)) {
        left = b->run_usd - run_spent;
    }
    if (!isnan(b->day_usd)) {
        double day = b->day_usd - b->day_before_usd - run_spent;
        left = isnan(left) || day < left ? day : left;
    }
    return isnan(left) || left > 0 ? left : 0;
}

char *ccr_budget_message(const struct ccr_budget *b, double run_spent,
                         enum ccr_budget_level level)
{
    bool by_day;
    char spent[32], limit[32];

    run_spent = isnan(run_spent) ? 0 : run_spent;
    double used = share_used(b, run_spent, &by_day);
    ccr_format_usd(by_day ? b->day_before_usd + run_spent : run_spent, spent);
    ccr_live_format_limit(by_day ? b->day_usd : b->run_usd, limit);
    /*
     * Claude Code prints these under the prompt: a warning says how far the
     * run is, a block says what was spent and exactly how to go on.
     */
    if (level != CCR_BUDGET_OVER) {
        return ccr_xasprintf("ccrun: %.0f%% of the %s %s budget used (%s spent)", used * 100,
                             limit, by_day ? "daily" : "run", spent);
    }
    if (by_day) {
        return ccr_xasprintf("ccrun: daily budget reached: this project spent %s of its %s "
                             "budget today. New prompts are blocked. To raise the limit, "
                             "start again with ccrun --budget-day USD, or set day = USD "
                             "under [budget] in .ccrun/config.", spent, limit);
    }
    return ccr_xasprintf("ccrun: budget reached: this run spent %s of its %s budget. New "
                         "prompts are blocked. To raise the limit, start again with ccrun "
                         "--budget USD, or set run = USD under [budget] in .ccrun/config.",
                         spent, limit);
}

void ccr_budget_fill_live(const struct ccr_budget *b, struct ccr_live *l)
{
    l->budget_usd = b->run_usd;
    l->day_budget_usd = b->day_usd;
    l->day_spent_usd = isnan(b->day_usd) ? NAN
                                         : b->day_before_usd +
                                               (isnan(l->cost_usd) ? 0 : l->cost_usd);
}

/* Laid out like the summary's other lines: a dim label padded to the figures' column. */
void ccr_budget_print(FILE *f, const struct ccr_live *l, bool color)
{
    const char *dim = color ? "\033[2m" : "";
    const char *reset = color ? "\033[0m" : "";
    double cost = isnan(l->cost_usd) ? 0 : l->cost_usd;
    char a[32], b[32];

    if (!isnan(l->budget_usd)) {
        fprintf(f, "  %sbudget%s   %s of %s (%.0f%%)", dim, reset, ccr_format_usd(cost, a),
                ccr_live_format_limit(l->budget_usd, b), 100 * cost / l->budget_usd);
    } else {
        fprintf(f, "  %sbudget%s   no run limit", dim, reset);
    }
    if (!isnan(l->day_budget_usd)) {
        fprintf(f, " · today %s of %s", ccr_format_usd(l->day_spent_usd, a),
                ccr_live_format_limit(l->day_budget_usd, b));
    }
    if (l->prompts_blocked > 0) {
        fprintf(f, " · %lld prompt%s blocked", (long long)l->prompts_blocked,
                l->prompts_blocked == 1 ? "" : "s");
    }
    if (l->turns_ended > 0) {
        fprintf(f, " · %lld turn%s ended", (long long)l->turns_ended,
                l->turns_ended == 1 ? "" : "s");
    }
    if (l->hard_stopped) {
        fprintf(f, " · session ended (--budget-hard)");
    }
    fputc('\n', f);
}
