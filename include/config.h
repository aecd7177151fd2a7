/* SPDX-License-Identifier: MIT */
/*
 * ccrun's configuration files, all in one INI form (read with inih): the
 * project's .ccrun/config, the user's $XDG_CONFIG_HOME/ccrun/config, and the
 * built-in price table. For example:
 *
 *     [privacy]
 *     prompts = hash          ; keep | hash | drop
 *     tool_details = hash     ; keep | hash | drop
 *
 *     [budget]                ; USD; see --budget, --budget-day, --budget-hard
 *     run = 0.50
 *     day = 5
 *     hard = no
 *
 *     [status]
 *     line = yes              ; ccrun's status line in Claude Code
 *
 *     [price glm-4.7]         ; USD per million tokens
 *     input = 0.60
 *     output = 2.20
 *
 *     [forward]               ; see forward-config.h for every key
 *     endpoint = https://otel.example:4318
 */
#ifndef CCR_CONFIG_H
#define CCR_CONFIG_H

#include "price.h"

struct ccr_config {
    char *prompts;      /* NULL when not set */
    char *tool_details; /* NULL when not set */
    char *budget_run;   /* [budget] run: USD per run; NULL when not set */
    char *budget_day;   /* [budget] day: USD per local day for the project */
    char *budget_hard;  /* [budget] hard: yes | no */
    char *status_line;  /* [status] line: yes | no (default: yes with a budget) */
    struct ccr_prices prices;
    char **forward;   /* the [forward] section as written: key, value, …, NULL */
    size_t n_forward; /* its pairs */
};

/*
 * Reads the file at path into c, which must be zeroed or hold earlier
 * files' settings (later files win). A missing file is no error. Unknown
 * sections or keys are skipped and named in *warning (allocated) when set.
 * Returns 0, or a negative errno with *cause set naming the file and line.
 */
int ccr_config_load(const char *path, struct ccr_config *c, char **warning, char **cause);

/* The user's configuration file: $XDG_CONFIG_HOME/ccrun/config or ~/.config/…; may be NULL. */
char *ccr_config_user_path(void);

/* Adds the built-in price table (data/prices.ini, compiled in) to c. */
void ccr_config_builtin_prices(struct ccr_config *c);

/* The last value of a [forward] key across the files read, or NULL. */
const char *ccr_config_forward(const struct ccr_config *c, const char *key);

void ccr_config_finish(struct ccr_config *c);

#endif
