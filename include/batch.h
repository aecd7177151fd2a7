/* SPDX-License-Identifier: MIT */
/*
 * Group commit: the export requests that arrive in one turn of the loop are
 * written in one transaction, and each is answered once that is committed.
 * One commit per request would cost a write of every touched page for every
 * request; an exporter waits for its answer either way.
 */
#ifndef CCR_BATCH_H
#define CCR_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "ingest.h"
#include "receiver.h"
#include "record.h"

/*
 * Told of every request once its answer is decided: 200 when committed,
 * else the error status. req is valid only during the call.
 */
typedef void (*ccr_batch_done_cb)(void *ctx, const struct ccr_request *req, int status);

struct ccr_batch_entry;

struct ccr_batch {
    struct ccr_recorder *rec; /* borrowed */
    ccr_batch_done_cb done;   /* or NULL */
    void *ctx;
    uv_check_t check; /* commits at the end of the loop turn */
    struct ccr_batch_entry *head;
    struct ccr_batch_entry **tail;
    size_t n;
    size_t bytes;
};

void ccr_batch_init(struct ccr_batch *b, uv_loop_t *loop, struct ccr_recorder *rec,
                    ccr_batch_done_cb done, void *ctx);

/*
 * Stores req in the open batch, as a receiver callback: returns false when
 * the answer comes after the commit (through req->receiver), or true with
 * reply filled when req was refused, could not be stored, or cannot wait
 * (id 0: stored and committed at once, after the batch). Several receivers
 * may share a batch.
 */
bool ccr_batch_add(struct ccr_batch *b, const struct ccr_request *req, struct ccr_reply *reply);

/* Commits the open batch now and answers its requests. */
void ccr_batch_flush(struct ccr_batch *b);

/* Flushes and closes the loop handle; b may be freed once the loop has run. */
void ccr_batch_close(struct ccr_batch *b);

#endif
