/* SPDX-License-Identifier: MIT */
/*
 * The budget guard of a running command: answers Claude Code's http hooks
 * (POST /ccrun/hook/EVENT) and the live figures (GET /ccrun/status) on
 * ccrun's receiver, from what the history holds for the run right now.
 */
#ifndef CCR_GUARD_H
#define CCR_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "budget.h"
#include "live.h"
#include "receiver.h"
#include "store.h"

/* Hooks answered at once at most this many at a time; more are answered without waiting. */
#define CCR_GUARD_PENDING 16

struct ccr_guard_wait {
    uint64_t id;      /* the receiver's request */
    char *event;      /* the hook event */
    char *prompt_id;  /* may be NULL */
    uint64_t since_ns;
};

typedef void (*ccr_guard_over_cb)(void *ctx);

struct ccr_guard {
    struct ccr_receiver *rx;     /* borrowed */
    struct ccr_store *store;     /* borrowed */
    int64_t run_id;
    struct ccr_budget budget;
    unsigned wait_ms;            /* the longest a hook waits for fresh figures */
    uv_timer_t timer;
    bool timer_open;
    struct ccr_guard_wait waits[CCR_GUARD_PENDING];
    size_t n_waits;
    uint64_t logs_ns;            /* when the last logs export arrived (monotonic) */
    char *warned_prompt;         /* the prompt that last got a warning or a stop notice */
    enum ccr_budget_level warned_level; /* and the level it was told about */
    int64_t prompts_blocked;
    int64_t turns_ended;
    bool hard_stopped;
    ccr_guard_over_cb on_over;   /* --budget-hard: ends the session */
    void *ctx;
    char *live_path;             /* the published live file, removed at the end */
    uint64_t hooks;              /* hooks answered, and their total time in ns */
    uint64_t hook_ns;
};

/*
 * Sets g up for run_id and routes the receiver's /ccrun/ requests to it.
 * wait_ms is one export interval of the child's logs. on_over, when not
 * NULL, is called once when the spend passes a limit with budget->hard set.
 */
void ccr_guard_init(struct ccr_guard *g, uv_loop_t *loop, struct ccr_receiver *rx,
                    struct ccr_store *store, int64_t run_id, const struct ccr_budget *budget,
                    unsigned wait_ms, ccr_guard_over_cb on_over, void *ctx);

/* Tells the guard a logs export was stored: waiting hooks are answered now. */
void ccr_guard_logs_arrived(struct ccr_guard *g);

/* The run's live figures with the budget and what the guard did. */
void ccr_guard_live(struct ccr_guard *g, struct ccr_live *l);

/* What the run spent: the events' cost, or the cost metric's when higher. */
double ccr_guard_spent(struct ccr_guard *g);

/*
 * The settings that install the hooks (only with a budget) and, with
 * status_line, the status line for a Claude Code run, as a new JSON object
 * with "hooks", "statusLine" and "env". self is the path of the ccrun binary.
 */
json_t *ccr_guard_settings(const struct ccr_guard *g, int port, const char *token,
                           const char *self, bool status_line);

/*
 * What the project's runs started since local midnight spent (for
 * --budget-day); 0 when the history cannot say.
 */
double ccr_guard_spent_today(struct ccr_store *store);

/*
 * True when argv runs Claude Code in print mode (-p or --print before any
 * "--"). Then, with remaining a positive number, *out is argv with
 * "--max-budget-usd REMAINING" after the program name (allocated, NULL
 * terminated; free each string and the array), unless the user gave that
 * option; else *out is NULL.
 */
bool ccr_guard_print_argv(char *const *argv, double remaining, char ***out);

/*
 * Writes ccrun_dir/live-RUN.json (mode 0600) with the status URL and token,
 * so that `ccrun watch` in another terminal can ask this run; removed by
 * ccr_guard_finish. Failures only go to the log.
 */
void ccr_guard_publish(struct ccr_guard *g, const char *ccrun_dir, int port, const char *token);

/* The path of a run's live file in ccrun_dir (allocated). */
char *ccr_guard_live_path(const char *ccrun_dir, int64_t run_id);

/* Answers every waiting hook (letting the action proceed) and stops the timer. */
void ccr_guard_finish(struct ccr_guard *g);

#endif
