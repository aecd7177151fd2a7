/* SPDX-License-Identifier: MIT */
/* Group commit of export requests, one transaction a turn of the loop. */
#include "batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "log.h"
#include "util.h"

/* The most requests one transaction takes; more are committed in turn. */
#define BATCH_MAX_REQUESTS 64
/* Bodies held while the history is locked; past this, requests get 500 at once. */
#define BATCH_MAX_BYTES (32u << 20)
/*
 * While another process holds the lock: how often to try, and for how long.
 * Exporters give up on an answer after 10 s by default (and send again):
 * a 500 well before that has ccrun keep the request for a last try instead.
 */
#define LOCK_RETRY_MS 10
#define LOCK_WAIT_MS 5000

/* A decoded request waiting to be written and committed. */
struct ccr_batch_entry {
    struct ccr_batch_entry *next;
    struct ccr_request *req;     /* a copy: the done callback gets it */
    struct ccr_otlp_request msg; /* decoded, the privacy policy applied */
    bool json;
    uint64_t t0; /* when it arrived, for the log */
};

static void entry_free(struct ccr_batch_entry *e)
{
    ccr_otlp_request_finish(&e->msg);
    ccr_receiver_unref(e->req->receiver);
    free(e->req);
    free(e);
}

static void tell(struct ccr_batch *b, const struct ccr_request *req, int status)
{
    if (b->done != NULL) {
        b->done(b->ctx, req, status);
    }
}

static void on_check(uv_check_t *check);
static void on_retry(uv_timer_t *timer);

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
    uv_timer_init(loop, &b->retry);
    b->retry.data = b;
}

/* Takes the first n entries off the batch, for one transaction. */
static struct ccr_batch_entry *take(struct ccr_batch *b, size_t n)
{
    struct ccr_batch_entry *first = b->head;
    struct ccr_batch_entry **cut = &b->head;

    for (size_t i = 0; i < n && *cut != NULL; i++) {
        b->bytes -= (*cut)->req->len;
        b->n--;
        cut = &(*cut)->next;
    }
    b->head = *cut;
    *cut = NULL;
    if (b->head == NULL) {
        b->tail = &b->head;
    }
    return first;
}

/* Answers 500 to each entry of list, and frees them. */
static void fail_all(struct ccr_batch *b, struct ccr_batch_entry *list, const char *why)
{
    size_t n = 0;

    for (struct ccr_batch_entry *e = list, *next; e != NULL; e = next, n++) {
        struct ccr_reply failed;
        next = e->next;
        ccr_ingest_error(&failed, e->json, 500, "could not store the request");
        ccr_receiver_answer(e->req->receiver, e->req->id, &failed);
        ccr_reply_finish(&failed);
        tell(b, e->req, 500);
        entry_free(e);
    }
    ccr_log_error("ingest", "lost %zu request%s: %s", n, n == 1 ? "" : "s", why);
}

/*
 * Writes list in the open transaction and commits it; 0 once committed,
 * with each entry's answer in ok[], or -EIO after rolling back.
 */
static int write_and_commit(struct ccr_batch *b, struct ccr_batch_entry *list,
                            struct ccr_reply *ok)
{
    struct ccr_store *store = b->rec->store;
    size_t i = 0;

    for (struct ccr_batch_entry *e = list; e != NULL; e = e->next, i++) {
        /*
         * What fails inside a transaction (a full disk, an I/O error) fails
         * it whole, and SQLite may have rolled it back already.
         */
        if (ccr_record_request(b->rec, &e->msg) < 0) {
            goto fail;
        }
        ccr_ingest_log_stored(b->rec, e->req, ccr_otlp_request_items(&e->msg), e->json, e->t0);
        ccr_ingest_ok(e->req->signal, e->json, b->rec, &ok[i]);
    }
    ccr_log_debug("ingest", "committing %zu requests in one transaction", i);
    if (ccr_store_commit(store) == 0) {
        return 0;
    }
fail:
    ccr_store_rollback(store);
    ccr_recorder_forget(b->rec);
    while (i > 0) {
        ccr_reply_finish(&ok[--i]);
    }
    return -EIO;
}

/* Answers each committed entry of list with its ok[] answer, and frees them. */
static void answer_all(struct ccr_batch *b, struct ccr_batch_entry *list, struct ccr_reply *ok)
{
    size_t i = 0;

    for (struct ccr_batch_entry *e = list, *next; e != NULL; e = next, i++) {
        next = e->next;
        /* Only what is committed goes upstream: a request answered 500 comes again. */
        if (b->rec->forward != NULL) {
            ccr_forward_push(b->rec->forward, &e->msg);
        }
        ccr_receiver_answer(e->req->receiver, e->req->id, &ok[i]);
        ccr_reply_finish(&ok[i]);
        tell(b, e->req, 200);
        entry_free(e);
    }
}

/* Says, at most every ten seconds, that requests wait for another process's lock. */
static void note_locked(struct ccr_batch *b, uint64_t now)
{
    if (b->lock_noted == 0 || now - b->lock_noted >= 10000000000ull) {
        b->lock_noted = now;
        ccr_log_warn("ingest", "the history is locked by another process: %zu requests wait",
                     b->n);
    }
}

/*
 * Commits the batch, a transaction per BATCH_MAX_REQUESTS, and answers it.
 * Waits at most busy_ms for another process's lock; when that is not
 * enough, a retry comes later, or with final (or after LOCK_WAIT_MS of
 * trying) the whole batch is answered 500.
 */
static void commit(struct ccr_batch *b, int busy_ms, bool final)
{
    struct ccr_reply ok[BATCH_MAX_REQUESTS];

    uv_check_stop(&b->check);
    uv_timer_stop(&b->retry);
    /* Answering a request lets its connection's next one in: that joins the batch here. */
    while (b->head != NULL) {
        int rc = ccr_store_try_begin(b->rec->store, busy_ms);
        if (rc == -EBUSY) {
            uint64_t now = ccr_mono_ns();
            if (b->locked_since == 0) {
                b->locked_since = now;
            }
            note_locked(b, now);
            if (!final && now - b->locked_since < (uint64_t)LOCK_WAIT_MS * 1000000) {
                uv_timer_start(&b->retry, on_retry, LOCK_RETRY_MS, 0);
                return;
            }
            fail_all(b, take(b, b->n), "the history stayed locked");
            b->locked_since = 0; /* requests from now on get their own wait */
            continue;
        }
        b->locked_since = 0;
        struct ccr_batch_entry *list = take(b, BATCH_MAX_REQUESTS);
        if (rc < 0) {
            fail_all(b, list, "cannot begin a transaction");
            continue;
        }
        memset(ok, 0, sizeof(ok));
        if (write_and_commit(b, list, ok) < 0) {
            fail_all(b, list, "storing failed");
            continue;
        }
        answer_all(b, list, ok);
    }
}

static void on_check(uv_check_t *check)
{
    commit(check->data, 0, false);
}

static void on_retry(uv_timer_t *timer)
{
    commit(timer->data, 0, false);
}

/*
 * Stores req alone in a transaction of its own, after whatever the batch
 * holds, without waiting for another process's lock: when the history is
 * locked, req gets 500 at once (its sender, or the run's last try, sends it
 * again) rather than holding up the loop.
 */
static bool add_at_once(struct ccr_batch *b, const struct ccr_request *req,
                        struct ccr_reply *reply)
{
    struct ccr_store *store = b->rec->store;
    int busy_ms = ccr_store_busy_timeout(store);

    commit(b, 0, false);
    if (b->locked_since != 0) {
        ccr_log_warn("ingest", "refused %s request: the history is locked",
                     ccr_signal_name(req->signal));
        ccr_ingest_error(reply, false, 500, "the history is locked by another process");
    } else {
        ccr_store_set_busy_timeout(store, 0);
        ccr_ingest(b->rec, req, reply);
        ccr_store_set_busy_timeout(store, busy_ms);
    }
    tell(b, req, reply->status);
    return true;
}


bool ccr_batch_add(struct ccr_batch *b, const struct ccr_request *req, struct ccr_reply *reply)
{
    struct ccr_otlp_request msg;
    bool json;
    uint64_t t0 = ccr_mono_ns();

    if (req->id == 0 || req->receiver == NULL) {
        return add_at_once(b, req, reply);
    }
    if (b->locked_since != 0 && b->bytes + req->len > BATCH_MAX_BYTES) {
        ccr_log_error("ingest", "lost %s request: %zu bytes already wait for a locked history",
                      ccr_signal_name(req->signal), b->bytes);
        ccr_ingest_error(reply, false, 500, "the history is busy");
        tell(b, req, 500);
        return true;
    }
    if (!ccr_ingest_decode(b->rec, req, &msg, &json, reply)) {
        tell(b, req, reply->status);
        return true;
    }
    struct ccr_batch_entry *e = ccr_xcalloc(1, sizeof(*e));
    e->req = ccr_request_dup(req);
    ccr_receiver_ref(req->receiver); /* its answer may come after the receiver's shutdown */
    e->msg = msg;
    e->json = json;
    e->t0 = t0;
    *b->tail = e;
    b->tail = &e->next;
    b->n++;
    b->bytes += req->len;
    /* Committed at the end of this turn, or by the retry timer while the lock is taken. */
    if (b->locked_since == 0) {
        uv_check_start(&b->check, on_check);
    }
    return false;
}

void ccr_batch_flush(struct ccr_batch *b)
{
    /* At a shutdown the loop may wait: as long as a locked batch would have. */
    uint64_t waited = b->locked_since != 0 ? (ccr_mono_ns() - b->locked_since) / 1000000 : 0;
    int busy_ms = waited < LOCK_WAIT_MS ? (int)(LOCK_WAIT_MS - waited) : 0;

    commit(b, b->head != NULL ? busy_ms : 0, true);
}

void ccr_batch_close(struct ccr_batch *b)
{
    ccr_batch_flush(b);
    uv_close((uv_handle_t *)&b->check, NULL);
    uv_close((uv_handle_t *)&b->retry, NULL);
}
