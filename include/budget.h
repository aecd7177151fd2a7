/* SPDX-License-Identifier: MIT */
/*
 * Spending limits: a run's (--budget) and the project's per local day
 * (--budget-day), the level a spend has reached, and the words shown to the
 * user at each level. No I/O; guard.c applies these while a run goes on.
 */
#ifndef CCR_BUDGET_H
#define CCR_BUDGET_H

#include <stdbool.h>
#include <stdio.h>

#include "live.h"

/* The share of a limit at which a warning is shown, and at which hooks wait for fresh figures. */
#define CCR_BUDGET_WARN_AT 0.8
#define CCR_BUDGET_NEAR_AT 0.5

/* ccrun's exit status in print mode when the budget stopped the run. */
#define CCR_EXIT_BUDGET 90

struct ccr_budget {
    double run_usd;        /* NAN: no limit for the run */
    double day_usd;        /* NAN: no limit for the day */
    double day_before_usd; /* what the project's other runs spent today */
    bool hard;             /* end the session with SIGTERM once over */
};

enum ccr_budget_level {
    CCR_BUDGET_OK,
    CCR_BUDGET_NEAR, /* past CCR_BUDGET_NEAR_AT: hooks wait for the last request */
    CCR_BUDGET_WARN, /* past CCR_BUDGET_WARN_AT */
    CCR_BUDGET_OVER, /* at or past a limit */
};

/* A budget with no limits. */
void ccr_budget_init(struct ccr_budget *b);
/* True when a run or day limit is set. */
bool ccr_budget_active(const struct ccr_budget *b);

/*
 * Parses a limit in USD ("0.50", "$2"); false for anything that is not a
 * positive finite number.
 */
bool ccr_budget_parse_usd(const char *text, double *usd);

/*
 * Settles the limits: a flag (NULL when not given) wins over the
 * configuration file's value (NULL when not set); hard is on with the flag
 * or "yes"/"true"/"1" in the file. Returns 0, or -EINVAL with *cause set
 * (allocated) for a value that is not a positive amount: a typo must never
 * quietly lift a limit.
 */
int ccr_budget_settle(struct ccr_budget *b, const char *run_flag, const char *day_flag,
                      bool hard_flag, const char *run_file, const char *day_file,
                      const char *hard_file, char **cause);

/* The level of the tighter limit after the run spent run_spent USD. */
enum ccr_budget_level ccr_budget_level(const struct ccr_budget *b, double run_spent);

/* What is left of the tighter limit (never below 0), or NAN without a limit. */
double ccr_budget_remaining(const struct ccr_budget *b, double run_spent);

/*
 * The text shown inside Claude Code: at CCR_BUDGET_OVER what was spent and
 * how to raise the limit, at CCR_BUDGET_WARN the share used. Allocated.
 */
char *ccr_budget_message(const struct ccr_budget *b, double run_spent,
                         enum ccr_budget_level level);

/* Copies the limits and today's spend into l, whose cost is the run's. */
void ccr_budget_fill_live(const struct ccr_budget *b, struct ccr_live *l);

/* The summary's budget line ("  budget   $0.0600 of $0.05 (120%) · 1 prompt blocked"). */
void ccr_budget_print(FILE *f, const struct ccr_live *l, bool color);

#endif
