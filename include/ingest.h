/* SPDX-License-Identifier: MIT */
/* One export request's way in: decode, record, and the answer to send back. */
#ifndef CCR_INGEST_H
#define CCR_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp.h"
#include "record.h"

struct ccr_receiver;

/* A complete, authorised request as the receiver hands it over. */
struct ccr_request {
    enum ccr_signal signal;
    const char *content_type;     /* NULL when the header was missing */
    const char *content_encoding; /* NULL when the header was missing */
    const uint8_t *body;
    size_t len;
    const char *peer; /* "127.0.0.1:53122", for the log */
    struct ccr_receiver *receiver; /* where a late answer goes; NULL for one at once */
    uint64_t id;      /* names it to a late answer; 0 when it must be answered at once */
};

/*
 * A copy of req that outlives the receiver's callback, body and strings
 * included, in one allocation: free() releases it.
 */
struct ccr_request *ccr_request_dup(const struct ccr_request *req);

/*
 * The answer: a status, and for errors a short reason sent as text/plain
 * (ccr_ingest turns it into a JSON status for a JSON request).
 */
struct ccr_reply {
    int status;
    const char *reason; /* static string; NULL for success */
    const char *content_type;
    const void *body; /* static or owned; may be NULL with body_len 0 */
    size_t body_len;
    void *owned; /* what body points into when allocated; see ccr_reply_finish */
};

/*
 * Decodes req (inflating a gzip body first) and stores it through rec;
 * fills reply, which the caller releases with ccr_reply_finish once sent.
 * Never fails: every problem becomes a status (400 undecodable, 413 inflates
 * too far, 415 unsupported type or encoding, 500 storage) and a line in the
 * log.
 */
void ccr_ingest(struct ccr_recorder *rec, const struct ccr_request *req,
                struct ccr_reply *reply);

/*
 * The steps of ccr_ingest, for callers that commit several requests at
 * once. ccr_ingest_decode turns req into msg (released with
 * ccr_otlp_request_finish) with rec's privacy policy applied; false with
 * reply filled when req is refused.
 */
bool ccr_ingest_decode(const struct ccr_recorder *rec, const struct ccr_request *req,
                       struct ccr_otlp_request *msg, bool *json, struct ccr_reply *reply);
/* 200 with the response message, in the request's encoding, and rec's partial success. */
void ccr_ingest_ok(enum ccr_signal signal, bool json, const struct ccr_recorder *rec,
                   struct ccr_reply *reply);
/* Says in the log what became of a stored request (t0: when its handling began). */
void ccr_ingest_log_stored(const struct ccr_recorder *rec, const struct ccr_request *req,
                           size_t items, bool json, uint64_t t0);
/* An error answer: reason as text, or as a JSON status for a JSON request. */
void ccr_ingest_error(struct ccr_reply *reply, bool json, int status, const char *reason);

/* Frees what a reply owns. Safe on a zeroed or already finished reply. */
void ccr_reply_finish(struct ccr_reply *reply);

#endif
