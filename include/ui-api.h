/* SPDX-License-Identifier: MIT */
/*
 * The dashboard's read-only JSON API under /api/v1/: runs, a run's summary,
 * its events (paged), prompts, chart series, tools, errors, and a
 * comparison of two runs. Big lists come as {"columns": [...], "rows":
 * [[...], ...]}. Everything is read through the store's view queries.
 */
#ifndef CCR_UI_API_H
#define CCR_UI_API_H

#include <stddef.h>

#include "store.h"

struct ccr_ui_events;

struct ccr_ui_api {
    const char *db_path;     /* the history; opened read-only when it appears */
    struct ccr_store *store; /* NULL until the history exists */
    /* The last run's events read, kept while the run has no new events. */
    struct ccr_ui_events *cache;
};

/*
 * Answers GET /api/v1/<path>?<query>: path is what follows "/api/v1/".
 * Returns the HTTP status and sets *body to the JSON text (allocated; the
 * caller frees) for every status, an object {"error": "..."} on failure.
 */
int ccr_ui_api_get(struct ccr_ui_api *api, const char *path, const char *query, char **body);

/* Closes the history and drops the cache. */
void ccr_ui_api_finish(struct ccr_ui_api *api);

#endif
