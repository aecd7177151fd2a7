/* SPDX-License-Identifier: MIT */
/*
 * Reading stored records back for a backfill upstream: every event and
 * metric point of a selection of runs, with the resource each came with.
 */
#ifndef CCR_STORE_EXPORT_H
#define CCR_STORE_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* One stored event or metric point; strings live for the callback only. */
struct ccr_stored_record {
    bool is_point;
    int64_t run_id;
    int64_t resource_id;       /* CCR_NONE without a resource */
    const char *resource_json; /* the resource's attributes (a JSON object), or NULL */
    const char *name;          /* the event's short name, or the metric's */
    int64_t time_ns;
    const char *attrs_json;    /* every attribute, a JSON object */
    /* Metric points only. */
    const char *unit;          /* may be NULL */
    const char *kind;          /* "sum", "gauge" or "histogram" */
    int temporality;
    int monotonic;
    int64_t start_ns;          /* CCR_NONE when not sent */
    double value;
};

typedef int (*ccr_stored_record_cb)(const struct ccr_stored_record *r, void *ctx);

/*
 * The selection: runs started at or after since_ms (CCR_NONE for any) and,
 * when n_runs > 0, among run_ids.
 */
struct ccr_record_selection {
    int64_t since_ms;
    const int64_t *run_ids;
    size_t n_runs;
};

/* How many events and points the selection holds. Returns 0 or -EIO. */
int ccr_store_count_records(struct ccr_store *st, const struct ccr_record_selection *sel,
                            int64_t *n);

/*
 * Calls cb for every event of the selection, then every metric point, each
 * in order of run, resource and time, so records that travel together come
 * together. A negative return from cb stops the walk and is returned;
 * otherwise 0 or -EIO.
 */
int ccr_store_walk_records(struct ccr_store *st, const struct ccr_record_selection *sel,
                           ccr_stored_record_cb cb, void *ctx);

#endif
