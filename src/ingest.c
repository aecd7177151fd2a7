/* SPDX-License-Identifier: MIT */
/* The path of one request from bytes to committed rows. */
#include "ingest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "inflate.h"
#include "log.h"
#include "util.h"

/* Compares a media type, ignoring case and any parameters after ';'. */
static bool media_type_is(const char *value, const char *type)
{
    size_t n = strlen(type);

    if (value == NULL || strncasecmp(value, type, n) != 0) {
        return false;
    }
    value += n;
    while (*value == ' ' || *value == '\t') {
        value++;
    }
    return *value == '\0' || *value == ';';
}

/* True when a Content-Encoding value (surrounding blanks ignored) is token. */
static bool encoding_is(const char *value, const char *token)
{
    size_t n = strlen(token);

    while (*value == ' ' || *value == '\t') {
        value++;
    }
    if (strncasecmp(value, token, n) != 0) {
        return false;
    }
    value += n;
    while (*value == ' ' || *value == '\t') {
        value++;
    }
    return *value == '\0';
}

static void set_error(struct ccr_reply *reply, int status, const char *reason)
{
    reply->status = status;
    reply->reason = reason;
}

void ccr_reply_finish(struct ccr_reply *reply)
{
    free(reply->owned);
    reply->owned = NULL;
}

/*
 * Points *body and *len at the bytes to decode: the request's own, or its
 * gzip content inflated into plain. False with reply filled when refused.
 */
static bool unwrap_body(const struct ccr_request *req, struct ccr_buf *plain,
                        const uint8_t **body, size_t *len, struct ccr_reply *reply)
{
    const char *enc = req->content_encoding;

    *body = req->body;
    *len = req->len;
    if (enc == NULL || encoding_is(enc, "identity")) {
        return true;
    }
    if (!encoding_is(enc, "gzip") && !encoding_is(enc, "x-gzip")) {
        ccr_log_warn("ingest", "refused %s request: unsupported content encoding (peer=%s)",
                     ccr_signal_name(req->signal), req->peer);
        set_error(reply, 415, "unsupported content encoding: send gzip or identity");
        return false;
    }
    int rc = ccr_inflate_gzip(req->body, req->len, CCR_MAX_INFLATED, plain);
    if (rc == -EMSGSIZE) {
        ccr_log_warn("ingest", "refused %s request: inflates past %u bytes (bytes=%zu peer=%s)",
                     ccr_signal_name(req->signal), CCR_MAX_INFLATED, req->len, req->peer);
        set_error(reply, 413, "inflated body too large");
        return false;
    }
    if (rc < 0) {
        ccr_log_warn("ingest", "dropped %s request: gzip inflate failed (bytes=%zu peer=%s)",
                     ccr_signal_name(req->signal), req->len, req->peer);
        set_error(reply, 400, "body is not valid gzip");
        return false;
    }
    *body = plain->data;
    *len = plain->len;
    return true;
}

void ccr_ingest(struct ccr_recorder *rec, const struct ccr_request *req,
                struct ccr_reply *reply)
{
    struct ccr_otlp_request msg;
    struct ccr_buf plain = {0};
    const uint8_t *body;
    size_t len;
    uint64_t t0 = ccr_mono_ns();

    memset(reply, 0, sizeof(*reply));
    if (!media_type_is(req->content_type, "application/x-protobuf") &&
        !media_type_is(req->content_type, "application/protobuf")) {
        /* TODO: accept OTLP/JSON. An exporter set to http/json gets 415. */
        ccr_log_warn("ingest", "refused %s request: unsupported content type (peer=%s)",
                     ccr_signal_name(req->signal), req->peer);
        set_error(reply, 415, "unsupported content type: send application/x-protobuf");
        return;
    }
    if (!unwrap_body(req, &plain, &body, &len, reply)) {
        goto out;
    }
    if (ccr_otlp_decode_protobuf(req->signal, body, len, &msg) < 0) {
        ccr_log_warn("ingest", "dropped %s request: protobuf decode failed (bytes=%zu peer=%s)",
                     ccr_signal_name(req->signal), len, req->peer);
        set_error(reply, 400, "body is not a valid OTLP protobuf export request");
        goto out;
    }
    size_t items = ccr_otlp_request_items(&msg);
    int rc = ccr_record_request(rec, &msg);
    ccr_otlp_request_finish(&msg);
    if (rc < 0) {
        ccr_log_error("ingest", "lost %s request: storing failed (items=%zu)",
                      ccr_signal_name(req->signal), items);
        set_error(reply, 500, "could not store the request");
        goto out;
    }
    ccr_log_debug("ingest", "stored %s request (items=%zu bytes=%zu us=%llu)",
                  ccr_signal_name(req->signal), items, req->len,
                  (unsigned long long)((ccr_mono_ns() - t0) / 1000));
    reply->status = 200;
    reply->content_type = "application/x-protobuf";
out:
    ccr_buf_finish(&plain);
}
