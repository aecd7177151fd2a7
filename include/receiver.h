/* SPDX-License-Identifier: MIT */
/*
 * The OTLP/HTTP receiver: a loopback listener on a kernel-chosen port that
 * frames HTTP/1.1 requests, checks the bearer token and applies size limits
 * before handing a request to its handler.
 */
#ifndef CCR_RECEIVER_H
#define CCR_RECEIVER_H

#include <stdbool.h>

#include <uv.h>

#include "ingest.h"

/* The largest request body accepted; larger ones get 413. */
#define CCR_MAX_BODY (16u << 20)
/* Body bytes all connections together may hold at once; past it a request gets 413. */
#define CCR_MAX_BUFFERED (64u << 20)

/*
 * Called on the loop thread for each complete, authorised request on a known
 * path. It either fills reply and returns true, and the answer is sent right
 * after, or returns false and answers later with
 * ccr_receiver_answer(req->receiver, req->id, ...); until then no further
 * request of that connection is handled. A request with id 0 (a call on an
 * HTTP/2 connection) must be answered at once. req and its body are valid
 * only during the call.
 */
typedef bool (*ccr_receiver_cb)(void *ctx, const struct ccr_request *req,
                                struct ccr_reply *reply);

struct ccr_receiver;

/*
 * Binds 127.0.0.1 on a port the kernel picks, with a fresh random token, and
 * starts accepting. Returns 0 with *out set, or a negative libuv status with
 * *cause set (allocated; caller frees).
 */
int ccr_receiver_start(uv_loop_t *loop, ccr_receiver_cb cb, void *ctx,
                       struct ccr_receiver **out, char **cause);

/* Where and how to listen; zeroed means a kernel-picked port with a token. */
struct ccr_receiver_opts {
    int port;          /* 0: the kernel picks */
    bool no_auth;      /* accept requests without the token (still loopback only) */
    const char *token; /* the token to require, as another receiver's; NULL: a fresh one */
};

/*
 * Called on the loop thread for a complete, authorised GET or POST whose
 * path starts with /ccrun/ (ccrun's own hooks and live status); path has no
 * query. It either fills reply and returns true, or returns false and later
 * answers with ccr_receiver_answer(rx, id, ...). body is NULL when empty or
 * over CCR_MAX_LOCAL_BODY: such a request is still answered, never refused,
 * since a refused hook lets Claude Code go on unchecked.
 */
typedef bool (*ccr_receiver_local_cb)(void *ctx, const char *method, const char *path,
                                      const uint8_t *body, size_t len, uint64_t id,
                                      struct ccr_reply *reply);

/* The most of a body kept on ccrun's own routes (a hook's tool output can be large). */
#define CCR_MAX_LOCAL_BODY (1u << 20)

/*
 * As ccr_receiver_start, with a chosen port, optionally no token check, and
 * optionally the token of another receiver (copied), so that two listeners
 * take the same requests.
 */
int ccr_receiver_listen(uv_loop_t *loop, const struct ccr_receiver_opts *opts,
                        ccr_receiver_cb cb, void *ctx, struct ccr_receiver **out, char **cause);

int ccr_receiver_port(const struct ccr_receiver *rx);
/* The bearer token, as hex. Never log it. */
const char *ccr_receiver_token(const struct ccr_receiver *rx);
/* Routes /ccrun/... requests to cb; without it they get 404 like any unknown path. */
void ccr_receiver_set_local(struct ccr_receiver *rx, ccr_receiver_local_cb cb, void *ctx);

/*
 * Sends the late answer to request id, which a callback left open. Does
 * nothing when that connection has closed meanwhile. The caller keeps
 * ownership of reply. Late answers must come before a shutdown's grace
 * period is over: the receiver may be gone after it.
 */
void ccr_receiver_answer(struct ccr_receiver *rx, uint64_t id, const struct ccr_reply *reply);

/*
 * Keeps rx allocated past its shutdown for whoever holds a request still to
 * be answered; ccr_receiver_answer on it then does nothing once the
 * connection is gone. Each ref is matched by an unref.
 */
void ccr_receiver_ref(struct ccr_receiver *rx);
void ccr_receiver_unref(struct ccr_receiver *rx);

/* Requests answered so far, by any status. */
unsigned long ccr_receiver_requests(const struct ccr_receiver *rx);

/*
 * Stops listening and closes every connection: idle ones at once, one with
 * a request in flight once it is answered or grace_ms have passed. The
 * receiver frees itself when its last handle is closed; rx must not be used
 * after this call.
 */
void ccr_receiver_shutdown(struct ccr_receiver *rx, unsigned grace_ms);

#endif
