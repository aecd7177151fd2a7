/* SPDX-License-Identifier: MIT */
/*
 * The outbox: batches not yet delivered upstream, one file each in
 * .ccrun/outbox/ (directory 0700, files 0600), sent on the next run or by
 * `ccrun flush`. A file holds the protobuf body of one export request; its
 * name orders it by time and names its signal.
 */
#ifndef CCR_OUTBOX_H
#define CCR_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp.h"
#include "util.h"

struct ccr_outbox {
    char *dir;   /* …/.ccrun/outbox */
    int lock_fd; /* held while this process resends the outbox; -1 otherwise */
};

/*
 * Prepares ccrun_dir/outbox (created 0700 when missing). Returns 0, or a
 * negative errno with *cause set (allocated).
 */
int ccr_outbox_open(struct ccr_outbox *ob, const char *ccrun_dir, char **cause);
void ccr_outbox_finish(struct ccr_outbox *ob);

/*
 * Writes body as a new file, atomically (a reader never sees half of it).
 * Returns 0 with *path set when path is not NULL (allocated), or a negative
 * errno.
 */
int ccr_outbox_put(const struct ccr_outbox *ob, enum ccr_signal signal, const uint8_t *body,
                   size_t len, char **path);

/*
 * Takes the outbox for resending, so two ccrun processes of one project do
 * not send the same files twice. False when another process has it; the
 * lock goes with ccr_outbox_finish or the process.
 */
bool ccr_outbox_claim(struct ccr_outbox *ob);

/* The outbox's files, oldest first (allocated, NULL-terminated); returns their count. */
size_t ccr_outbox_list(const struct ccr_outbox *ob, char ***paths);

/* Reads a file of the outbox; returns 0, or a negative errno (not an outbox file: -EINVAL). */
int ccr_outbox_read(const char *path, enum ccr_signal *signal, struct ccr_buf *body);

/* Removes a delivered file. */
void ccr_outbox_remove(const char *path);

#endif
