/* SPDX-License-Identifier: MIT */
/*
 * Group commit: the export requests that arrive in one turn of the loop are
 * written in one transaction, and each is answered once that is committed.
 * One commit per request would cost a write of every touched page for every
 * request; an exporter waits for its answer either way.
 *
 * The loop never waits for another process's lock: a batch that finds the
 * history locked (another ccrun committing) is tried again on a timer, its
 * exporters still waiting for their answers, and gets 500 only after
 * five seconds.
 */
#ifndef CCR_BATCH_H
#define CCR_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    uv_check_t check;  /* commits at the end of the loop turn */
    uv_timer_t retry;  /* tries again while another process holds the lock */
    struct ccr_batch_entry *head;
    struct ccr_batch_entry **tail;
    size_t n;
    size_t bytes;
    uint64_t locked_since; /* when the lock was first found taken (ns); 0 when it was not */
    uint64_t lock_noted;   /* when the log last said so (ns) */
};

void ccr_batch_init(struct ccr_batch *b, uv_loop_t *loop, struct ccr_recorder *rec,
                    ccr_batch_done_cb done, void *ctx);

/*
 * Takes req into the batch, as a receiver callback: returns false when the
 * answer comes after the commit (through req->receiver), or true with reply
 * filled when req was refused, could not be kept, or cannot wait (id 0:
 * stored and committed at once, after the batch). Several receivers may
 * share a batch.
 */
bool ccr_batch_add(struct ccr_batch *b, const struct ccr_request *req, struct ccr_reply *reply);

/*
 * Commits what the batch holds now and answers it, waiting in the loop for
 * another process's lock up to what is left of the 5 s a batch may wait
 * (500 after). For a shutdown.
 */
void ccr_batch_flush(struct ccr_batch *b);

/* Flushes and closes the loop handles; b may be freed once the loop has run. */
void ccr_batch_close(struct ccr_batch *b);

#endif
