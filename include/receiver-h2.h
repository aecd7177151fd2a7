/* SPDX-License-Identifier: MIT */
/*
 * gRPC over HTTP/2 without TLS (h2c with prior knowledge) on the receiver's
 * port: the unary Export methods of the OTLP logs, metrics and trace
 * services, framed with nghttp2. The receiver detects the HTTP/2 preface
 * and hands the connection's bytes here; this module owns no socket.
 */
#ifndef CCR_RECEIVER_H2_H
#define CCR_RECEIVER_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest.h"

/* The client connection preface every HTTP/2 connection starts with. */
#define CCR_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define CCR_H2_PREFACE_LEN 24

/* What the HTTP/2 side needs from the connection that carries it. */
struct ccr_h2_io {
    /*
     * Queues bytes for the peer; with close_after the connection is closed
     * once they are written (len may then be 0).
     */
    void (*write)(void *conn, const uint8_t *data, size_t len, bool close_after);
    /*
     * True when an authorization value carries the receiver's bearer token,
     * or when the receiver accepts calls without one (value may be NULL).
     */
    bool (*authorised)(void *conn, const char *value, size_t len);
    /* Handles one complete, authorised export, as the HTTP/1.1 path does. */
    void (*request)(void *conn, const struct ccr_request *req, struct ccr_reply *reply);
};

struct ccr_h2;

/* A server session for one connection; io and conn are borrowed. */
struct ccr_h2 *ccr_h2_create(const struct ccr_h2_io *io, void *conn, const char *peer);
void ccr_h2_destroy(struct ccr_h2 *h);

/*
 * Feeds bytes read from the peer (the preface included), answers any
 * request they complete and writes what the session has to send through
 * io->write, asking for a close when the session is over or broken.
 */
void ccr_h2_feed(struct ccr_h2 *h, const uint8_t *data, size_t len);

/* True while a request has started arriving and is not answered yet. */
bool ccr_h2_busy(const struct ccr_h2 *h);

/* The gRPC status for an HTTP status of ingest's answer (0 for 200). */
int ccr_h2_grpc_status(int http_status);

#endif
