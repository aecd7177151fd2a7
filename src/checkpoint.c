/* SPDX-License-Identifier: MIT */
/* Passive checkpoints of the history on a worker thread. */
#include "checkpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "log.h"
#include "util.h"

/*
 * The worker's own connection, opened on its first run and kept: the loop's
 * connection is never used off its thread. Reading the schema opens its
 * write-ahead log, without which a checkpoint does nothing.
 */
/* Whether path is still the file the loop's connection opened. */
static bool same_file(const struct ccr_checkpointer *cp)
{
    struct stat now;
    return stat(cp->path, &now) == 0 && now.st_dev == cp->dev && now.st_ino == cp->ino;
}

static sqlite3 *worker_db(struct ccr_checkpointer *cp)
{
    sqlite3 *db = cp->db;

    /*
     * A history replaced under a run (moved away, copied back) would get
     * the old file's log copied into it: the worker opens by name, so it
     * checks the name still leads to the same file, before and after.
     */
    if (!same_file(cp)) {
        cp->worker_rc = SQLITE_CANTOPEN;
        return NULL;
    }
    if (db != NULL) {
        return db;
    }
    cp->worker_rc = sqlite3_open_v2(cp->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                                                       SQLITE_OPEN_NOFOLLOW, NULL);
    if (cp->worker_rc == SQLITE_OK) {
        cp->worker_rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    }
    if (cp->worker_rc == SQLITE_OK && !same_file(cp)) {
        cp->worker_rc = SQLITE_CANTOPEN;
    }
    if (cp->worker_rc != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    /* Closed last, it must leave the log as the loop's connection does (see store.c). */
    int on = 1;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    uv_mutex_lock(&cp->lock);
    cp->db = db;
    uv_mutex_unlock(&cp->lock);
    return db;
}

/* On a worker thread: nothing here logs, the loop's thread does that. */
static void run_checkpoint(uv_work_t *w)
{
    struct ccr_checkpointer *cp = w->data;
    sqlite3 *db = worker_db(cp);

    if (db != NULL) {
        cp->worker_rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
}

static void after_checkpoint(uv_work_t *w, int status)
{
    struct ccr_checkpointer *cp = w->data;
    int rc = cp->worker_rc;

    /* Busy means another ccrun is checkpointing the same history: its copy serves. */
    if (status == 0 && rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_INTERRUPT) {
        ccr_log_warn("store", "checkpoint on a worker thread failed: %s", sqlite3_errstr(rc));
    }
    cp->running = false;
    cp->tail_due = true;
}

/* Called by the store after every commit, with the pages now in the log. */
static bool on_commit(void *ctx, int pages)
{
    struct ccr_checkpointer *cp = ctx;

    if (cp->stopped || cp->running) {
        return false;
    }
    if (pages < CCR_STORE_CHECKPOINT_PAGES) {
        cp->tail_due = false; /* the log started over */
        return false;
    }
    /* After the worker, whatever it copied or not, a commit copies the rest. */
    if (cp->tail_due) {
        cp->tail_due = false;
        return true;
    }
    cp->running = uv_queue_work(cp->loop, &cp->work, run_checkpoint, after_checkpoint) == 0;
    return false;
}

int ccr_checkpointer_start(struct ccr_checkpointer *cp, uv_loop_t *loop, struct ccr_store *st,
                           const char *path)
{
    memset(cp, 0, sizeof(*cp));
    int rc = uv_mutex_init(&cp->lock);
    if (rc < 0) {
        return rc;
    }
    struct stat st_path;
    if (stat(path, &st_path) < 0) {
        uv_mutex_destroy(&cp->lock);
        return -errno;
    }
    cp->dev = st_path.st_dev;
    cp->ino = st_path.st_ino;
    cp->loop = loop;
    cp->path = ccr_xstrdup(path);
    cp->work.data = cp;
    ccr_store_set_checkpointer(st, on_commit, cp);
    return 0;
}

void ccr_checkpointer_stop(struct ccr_checkpointer *cp)
{
    if (cp->path == NULL || cp->stopped) {
        return;
    }
    uv_mutex_lock(&cp->lock);
    cp->stopped = true;
    if (cp->db != NULL) {
        sqlite3_interrupt(cp->db);
    }
    uv_mutex_unlock(&cp->lock);
}

void ccr_checkpointer_finish(struct ccr_checkpointer *cp)
{
    if (cp->path == NULL) {
        return;
    }
    sqlite3_close(cp->db);
    uv_mutex_destroy(&cp->lock);
    free(cp->path);
    cp->path = NULL;
}
