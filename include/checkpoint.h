/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints mostly off the loop thread. SQLite copies the write-ahead log
 * into the database inside whichever commit passes 1000 pages: a stall of
 * the loop, and of every exporter waiting for an answer. A store given a
 * checkpointer has a worker thread copy the bulk instead, with a passive
 * checkpoint on a connection of its own while commits go on. The log starts
 * over only once a checkpoint has copied all of it before the next write,
 * which a worker racing the writer never does: so the few pages committed
 * while the worker ran are copied in a commit, as SQLite would.
 */
#ifndef CCR_CHECKPOINT_H
#define CCR_CHECKPOINT_H

#include <stdbool.h>
#include <sys/types.h>

#include <uv.h>

#include "store.h"

struct ccr_checkpointer {
    uv_loop_t *loop;
    uv_work_t work;
    uv_mutex_t lock;
    char *path;
    dev_t dev;       /* the file path named when the checkpointer started */
    ino_t ino;
    void *db;        /* the worker's connection, set under lock */
    int worker_rc;   /* the worker's last SQLite status, read once it is done */
    bool tail_due;   /* the worker is done: the next commit copies what it left */
    bool running;    /* a worker's checkpoint is queued or running */
    bool stopped;
};

/* Takes over st's checkpoints; path names the database st has open. */
int ccr_checkpointer_start(struct ccr_checkpointer *cp, uv_loop_t *loop, struct ccr_store *st,
                           const char *path);

/*
 * Asks no more checkpoints and interrupts one that is running (what it
 * copied stays copied); the loop ends once it has returned. The store's
 * later commits leave the log as it is, for the next run to copy: a run's
 * last commits are no time for a checkpoint. Safe to call twice, or on a
 * zeroed cp.
 */
void ccr_checkpointer_stop(struct ccr_checkpointer *cp);

/* Frees what cp holds, once the loop has run to its end and the store is closed. */
void ccr_checkpointer_finish(struct ccr_checkpointer *cp);

#endif
