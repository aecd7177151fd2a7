/* SPDX-License-Identifier: MIT */
/* Group commit of export requests, one transaction a turn of the loop. */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "log.h"
#include "util.h"

/*
 * A batch is committed early past these: the answers of many exporters
 * should not wait on one large transaction, nor their bodies pile up.
 */
#define BATCH_MAX_REQUESTS 64
#define BATCH_MAX_BYTES (8u << 20)

/* A request written in the open transaction, waiting for its commit. */
struct ccr_batch_entry {
    struct ccr_batch_entry *next;
    struct ccr_request *req;     /* a copy, for the done callback */
    bool json;
    struct ccr_reply ok;         /* the answer once committed */
    struct ccr_otlp_request msg; /* kept for forwarding after the commit */
    bool forward;
};

static void entry_free(struct ccr_batch_entry *e)
{
    if (e->forward) {
        ccr_otlp_request_finish(&e->msg);
    }
    ccr_reply_finish(&e->ok);
    free(e->req);
    free(e);
}

static void on_check(uv_check_t *check)
{
    ccr_batch_flush(check->data);
}

void ccr_batch_init(struct ccr_batch *b, uv_loop_t *loop, struct ccr_recorder *rec,
                    ccr_batch_done_cb done, void *ctx)
{
    memset(b, 0, sizeof(*b));
    b->rec = rec;
    b->done = done;
    b->ctx = ctx;
    b->tail = &b->head;
    uv_check_init(loop, &b->check);
    b->check.data = b;
}

static void tell(struct ccr_batch *b, const struct ccr_request *req, int status)
{
    if (b->done != NULL) {
        b->done(b->ctx, req, status);
    }
}

/* Answers every request of the batch: 200 when committed, else 500. */
static void answer_all(struct ccr_batch *b, bool committed)
{
    struct ccr_batch_entry *e = b->head;

    uv_check_stop(&b->check);
    b->head = NULL;
    b->tail = &b->head;
    b->n = 0;
    b->bytes = 0;
    for (struct ccr_batch_entry *next; e != NULL; e = next) {
        next = e->next;
        if (committed) {
            if (e->forward) {
                ccr_forward_push(b->rec->forward, &e->msg);
            }
            ccr_receiver_answer(e->req->receiver, e->req->id, &e->ok);
            tell(b, e->req, 200);
        } else {
            struct ccr_reply failed;
            ccr_ingest_error(&failed, e->json, 500, "could not store the request");
            ccr_receiver_answer(e->req->receiver, e->req->id, &failed);
            ccr_reply_finish(&failed);
            tell(b, e->req, 500);
        }
        entry_free(e);
    }
}

/* Stores req alone in a transaction of its own, after whatever the batch holds. */
static bool add_at_once(struct ccr_batch *b, const struct ccr_request *req,
                        struct ccr_reply *reply)
{
    ccr_batch_flush(b);
    ccr_ingest(b->rec, req, reply);
    tell(b, req, reply->status);
    return true;
}

bool ccr_batch_add(struct ccr_batch *b, const struct ccr_request *req, struct ccr_reply *reply)
{
    struct ccr_store *store = b->rec->store;
    struct ccr_otlp_request msg;
    bool json;
    uint64_t t0 = ccr_mono_ns();

    if (req->id == 0 || req->receiver == NULL) {
        return add_at_once(b, req, reply);
    }
    /*
     * A full batch is committed before req joins the next: req's own answer
     * can only go once the receiver has marked it as deferred, after this
     * returns.
     */
    if (b->n >= BATCH_MAX_REQUESTS || (b->n > 0 && b->bytes + req->len > BATCH_MAX_BYTES)) {
        ccr_batch_flush(b);
    }
    if (!ccr_ingest_decode(b->rec, req, &msg, &json, reply)) {
        tell(b, req, reply->status);
        return true;
    }
    size_t items = ccr_otlp_request_items(&msg);
    int rc = ccr_store_in_transaction(store) ? 0 : ccr_store_begin(store);
    if (rc == 0) {
        rc = ccr_record_request(b->rec, &msg);
    }
    if (rc < 0) {
        /*
         * What fails inside a transaction (a full disk, an I/O error) fails
         * it whole, and SQLite may have rolled it back already: the batch
         * goes with it.
         */
        ccr_otlp_request_finish(&msg);
        ccr_store_rollback(store);
        ccr_recorder_forget(b->rec);
        ccr_log_error("ingest", "lost %zu %s: storing failed", b->n + 1,
                      b->n > 0 ? "requests" : "request");
        answer_all(b, false);
        ccr_ingest_error(reply, json, 500, "could not store the request");
        tell(b, req, 500);
        return true;
    }
    ccr_ingest_log_stored(b->rec, req, items, json, t0);
    struct ccr_batch_entry *e = ccr_xcalloc(1, sizeof(*e));
    e->req = ccr_request_dup(req);
    e->json = json;
    ccr_ingest_ok(req->signal, json, b->rec, &e->ok);
    /* Only what is committed goes upstream, so the decoded request waits too. */
    if (b->rec->forward != NULL) {
        e->msg = msg;
        e->forward = true;
    } else {
        ccr_otlp_request_finish(&msg);
    }
    *b->tail = e;
    b->tail = &e->next;
    b->n++;
    b->bytes += req->len;
    if (b->n == 1) {
        uv_check_start(&b->check, on_check);
    }
    return false;
}

void ccr_batch_flush(struct ccr_batch *b)
{
    /*
     * Answering a request lets its connection's next request be parsed, one
     * a client sent without waiting: that one joins a new batch, committed
     * here too rather than in a loop turn that may wait for other input.
     */
    while (b->head != NULL) {
        ccr_log_debug("ingest", "committing %zu requests in one transaction", b->n);
        bool committed = ccr_store_commit(b->rec->store) == 0;
        if (!committed) {
            ccr_store_rollback(b->rec->store);
            ccr_recorder_forget(b->rec);
            ccr_log_error("ingest", "lost %zu requests: the commit failed", b->n);
        }
        answer_all(b, committed);
    }
}

void ccr_batch_close(struct ccr_batch *b)
{
    ccr_batch_flush(b);
    uv_close((uv_handle_t *)&b->check, NULL);
}
