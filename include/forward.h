/* SPDX-License-Identifier: MIT */
/*
 * Forwarding upstream: a bounded queue of packed export requests sent with
 * libcurl's multi interface on the libuv loop (no threads, nothing that
 * blocks), retried with backoff, and spooled to the outbox when ccrun is done
 * before the upstream is.
 */
#ifndef CCR_FORWARD_H
#define CCR_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "forward-config.h"
#include "otlp.h"
#include "outbox.h"

struct ccr_forward;

/* What became of the batches, for the summary. */
struct ccr_forward_stats {
    unsigned long forwarded; /* batches the upstream accepted */
    unsigned long resent;    /* of those, batches taken from the outbox */
    unsigned long spooled;   /* batches left in the outbox for a later run */
    unsigned long refused;   /* batches the upstream refused as malformed, dropped */
    unsigned long lost;      /* batches neither sent nor spooled (no outbox, full disk) */
    char why[160];           /* the last failure, "" when nothing failed */
};

typedef void (*ccr_forward_done_cb)(struct ccr_forward *fw, void *ctx);

/*
 * Starts a forwarder on loop. cfg and outbox are borrowed and must outlive
 * it; outbox may be NULL (then nothing can be spooled). With resend, the
 * outbox's files are queued as well, unless another process is sending
 * them. Returns 0 with *out set, or a negative errno with *cause set.
 */
int ccr_forward_create(uv_loop_t *loop, const struct ccr_forward_config *cfg,
                       struct ccr_outbox *outbox, bool resend, struct ccr_forward **out,
                       char **cause);

/*
 * Packs req, with the configured resource attributes added, and queues it
 * for its signal's upstream (a signal without one is ignored). Never blocks
 * on the network: when the queue is full the batch goes to the outbox, and
 * once the forwarder has closed, every batch does.
 */
void ccr_forward_push(struct ccr_forward *fw, struct ccr_otlp_request *req);

/* Queues a packed protobuf body of signal (copied), as ccr_forward_push. */
void ccr_forward_push_body(struct ccr_forward *fw, enum ccr_signal signal, const uint8_t *body,
                           size_t len);

/* Batches queued or being sent, for a producer that paces itself. */
size_t ccr_forward_pending(const struct ccr_forward *fw);

/*
 * Lets the queue try once more what it holds, for at most deadline_ms, then
 * spools what is left, stops its transfers and closes its handles; cb runs
 * once all are closed, always from the loop and never before this returns.
 */
void ccr_forward_close(struct ccr_forward *fw, unsigned deadline_ms, ccr_forward_done_cb cb,
                       void *ctx);

void ccr_forward_stats(const struct ccr_forward *fw, struct ccr_forward_stats *st);

/* Frees a forwarder whose close has completed; NULL is fine. */
void ccr_forward_destroy(struct ccr_forward *fw);

/* Everything one process needs to forward: the settings, the outbox, the forwarder. */
struct ccr_forwarding {
    struct ccr_forward_config cfg;
    struct ccr_outbox outbox;
    bool have_outbox;
    struct ccr_forward *fw; /* NULL when nothing is forwarded */
};

/*
 * Settles the settings from src and, when an upstream is configured, opens
 * ccrun_dir's outbox and starts a forwarder (resending the outbox when
 * resend is set). Notes for the user go to *warning (allocated). Returns 0,
 * also when nothing is to be forwarded, or a negative errno with *cause set
 * when the settings are unusable; f is then still safe to finish.
 */
int ccr_forwarding_start(struct ccr_forwarding *f, uv_loop_t *loop,
                         const struct ccr_forward_sources *src, const char *ccrun_dir,
                         bool resend, char **warning, char **cause);

/*
 * What became of the batches, as lines for the user ("forwarded 42 batches
 * to https://…", "3 batches spooled to .ccrun/outbox: connection refused");
 * allocated, or NULL when there is nothing to say. With failures_only, a
 * clean result says nothing.
 */
char *ccr_forwarding_summary(const struct ccr_forwarding *f, bool failures_only);

/* Frees the forwarder (closed, or never started), the outbox and the settings. */
void ccr_forwarding_finish(struct ccr_forwarding *f);

#endif
