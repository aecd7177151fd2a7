/* SPDX-License-Identifier: MIT */
/*
 * Mapping decoded OTLP requests to history rows. This is the one module that
 * knows Claude Code's event and attribute names.
 */
#ifndef CCR_RECORD_H
#define CCR_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "otlp.h"
#include "store.h"

struct ccr_privacy;
struct ccr_prices;
struct ccr_forward;

struct ccr_recorder {
    struct ccr_store *store; /* borrowed */
    const struct ccr_privacy *privacy; /* borrowed; NULL stores what arrives */
    const struct ccr_prices *prices;   /* borrowed; NULL prices nothing */
    struct ccr_forward *forward;       /* borrowed; ingest forwards what was stored, or NULL */
    int64_t run_id;
    bool program_known;
    char *resource_json; /* the last resource seen, and its id */
    int64_t resource_id;
    char *session_id; /* the last session noted */
    int64_t rejected; /* records of the last request left out, for partial_success */
    const char *rejected_why; /* static; the first reason, when rejected > 0 */
};

void ccr_recorder_init(struct ccr_recorder *r, struct ccr_store *store, int64_t run_id);
void ccr_recorder_finish(struct ccr_recorder *r);

/*
 * Stores every record of req in one transaction. Returns 0 once committed
 * (with r->rejected counting records left out as unusable), or -EIO after
 * rolling back (the reason is in the log). Called with a transaction open,
 * it only writes into it: the caller commits, or on -EIO rolls back (and
 * calls ccr_recorder_forget).
 */
int ccr_record_request(struct ccr_recorder *r, const struct ccr_otlp_request *req);

/*
 * Drops the ids the recorder keeps between requests. Whoever rolls back a
 * transaction the recorder wrote into calls it: the ids may name rows gone.
 */
void ccr_recorder_forget(struct ccr_recorder *r);

#endif
