/* SPDX-License-Identifier: MIT */
/*
 * Backfill: stored events and metric points rebuilt as OTLP export requests
 * (the same attributes, session.id and event.sequence as they arrived with,
 * so a backend can tell a record it already has) and sent through a
 * forwarder.
 */
#ifndef CCR_BACKFILL_H
#define CCR_BACKFILL_H

#include <stdint.h>

#include <uv.h>

#include "forward.h"
#include "store-export.h"

/* Records rebuilt so far and in all; called after each batch is queued. */
typedef void (*ccr_backfill_progress_cb)(int64_t done, int64_t total, void *ctx);

/*
 * Queues every record of sel on fw, in batches of at most a few hundred
 * records of one run and resource, running loop while the forwarder is
 * busy so that memory stays bounded. Histogram points, stored as their sum
 * only, are left out. Returns 0, or -EIO when the history cannot be read.
 */
int ccr_backfill_run(struct ccr_store *st, const struct ccr_record_selection *sel,
                     uv_loop_t *loop, struct ccr_forward *fw, ccr_backfill_progress_cb cb,
                     void *ctx);

#endif
