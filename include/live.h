/* SPDX-License-Identifier: MIT */
/*
 * A run's live figures (cost, tokens, requests, tools, budget) as ccrun's
 * receiver serves them on GET /ccrun/status, and the one compact line the
 * status line and `ccrun watch` print from them.
 */
#ifndef CCR_LIVE_H
#define CCR_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

/* The path of the live figures on the receiver. */
#define CCR_LIVE_PATH "/ccrun/status"
/* Variables that point a status-line command at the receiver (OTEL_* never reach it). */
#define CCR_LIVE_URL_ENV "CCRUN_LIVE_URL"
#define CCR_LIVE_TOKEN_ENV "CCRUN_LIVE_TOKEN"
/* The user's own status-line command, which ccrun's chains to. */
#define CCR_LIVE_NEXT_ENV "CCRUN_STATUSLINE_NEXT"

struct ccr_live {
    int64_t run_id;
    bool running;
    double cost_usd; /* NAN when no request's cost is known */
    int64_t tokens[4]; /* input, output, cache read, cache creation */
    int64_t api_requests;
    int64_t api_errors;
    int64_t tool_calls;
    int64_t tool_failures;
    double budget_usd;     /* the run's limit, NAN without one */
    double day_budget_usd; /* the day's limit, NAN without one */
    double day_spent_usd;  /* the project's spend today, this run included */
    int64_t prompts_blocked;
    int64_t turns_ended;
    bool hard_stopped;
};

/* Fills l from a run's summary, with no budget. */
void ccr_live_from_summary(struct ccr_live *l, const struct ccr_summary *s);

/* The share of the tighter limit used (0.8 is 80 %), or NAN without a limit. */
double ccr_live_budget_used(const struct ccr_live *l);

/* The figures as the JSON object GET /ccrun/status answers (a new reference). */
json_t *ccr_live_json(const struct ccr_live *l);
/* Reads that object back; false when it is not one. */
bool ccr_live_parse(const json_t *obj, struct ccr_live *l);

/*
 * The one line: "ccrun $0.0228 · 12.4k tok · cache 78% · 2 req · 1 tool ·
 * budget 45% of $0.05". Returns an allocated string.
 */
char *ccr_live_line(const struct ccr_live *l);

/* A limit in USD: "$0.10" when it has whole cents, else as ccr_format_usd. */
const char *ccr_live_format_limit(double usd, char out[32]);

/*
 * Asks a receiver for its figures: GET url (http://127.0.0.1:PORT/...) with
 * the bearer token, waiting at most timeout_ms. Returns 0 with *l filled,
 * or a negative errno.
 */
int ccr_live_fetch(const char *url, const char *token, int timeout_ms, struct ccr_live *l);

/*
 * The newest run of the project of dir (NULL: found from the current
 * directory, as every view does) from its history, without budget figures.
 * Returns 0, -ENOENT when no run is recorded, or another negative errno
 * with *cause set (allocated).
 */
int ccr_live_from_history(const char *dir, struct ccr_live *l, char **cause);

#endif
