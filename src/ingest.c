/* SPDX-License-Identifier: MIT */
/* The path of one request from bytes to committed rows. */
#include "ingest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "forward.h"
#include "inflate.h"
#include "log.h"
#include "otlp-json.h"
#include "otlp-reply.h"
#include "privacy.h"
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

/* Copies the string s to *at, advancing it; NULL stays NULL. */
static const char *place(char **at, const char *s, size_t n)
{
    if (s == NULL) {
        return NULL;
    }
    char *copy = memcpy(*at, s, n);
    *at += n;
    return copy;
}

struct ccr_request *ccr_request_dup(const struct ccr_request *req)
{
    size_t type = req->content_type != NULL ? strlen(req->content_type) + 1 : 0;
    size_t encoding = req->content_encoding != NULL ? strlen(req->content_encoding) + 1 : 0;
    size_t peer = strlen(req->peer) + 1;
    struct ccr_request *copy = ccr_xmalloc(sizeof(*copy) + req->len + type + encoding + peer);
    char *at = (char *)(copy + 1);

    *copy = *req;
    copy->body = (const uint8_t *)at;
    if (req->len > 0) { /* an empty body may have no buffer at all */
        memcpy(at, req->body, req->len);
        at += req->len;
    }
    copy->content_type = place(&at, req->content_type, type);
    copy->content_encoding = place(&at, req->content_encoding, encoding);
    copy->peer = place(&at, req->peer, peer);
    return copy;
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

/* The body's encoding from Content-Type; false with reply filled when unsupported. */
static bool pick_format(const struct ccr_request *req, bool *json, struct ccr_reply *reply)
{
    if (media_type_is(req->content_type, "application/x-protobuf") ||
        media_type_is(req->content_type, "application/protobuf")) {
        *json = false;
        return true;
    }
    if (media_type_is(req->content_type, "application/json")) {
        *json = true;
        return true;
    }
    ccr_log_warn("ingest", "refused %s request: unsupported content type (peer=%s)",
                 ccr_signal_name(req->signal), req->peer);
    set_error(reply, 415,
              "unsupported content type: send application/x-protobuf or application/json");
    return false;
}

/* Bytes to OTLP structs by the chosen encoding; false with reply filled on failure. */
static bool decode(const struct ccr_request *req, bool json, const uint8_t *body, size_t len,
                   struct ccr_otlp_request *msg, struct ccr_reply *reply)
{
    const char *why = NULL;

    if (!json) {
        int rc = ccr_otlp_decode_protobuf(req->signal, body, len, msg);
        if (rc == 0) {
            return true;
        }
        if (rc == -E2BIG) {
            ccr_log_warn("ingest", "refused %s request: over the item or nesting limit "
                         "(bytes=%zu peer=%s)", ccr_signal_name(req->signal), len, req->peer);
            set_error(reply, 400, "too many items or messages nested too deeply");
            return false;
        }
        ccr_log_warn("ingest", "dropped %s request: protobuf decode failed (bytes=%zu peer=%s)",
                     ccr_signal_name(req->signal), len, req->peer);
        set_error(reply, 400, "body is not a valid OTLP protobuf export request");
        return false;
    }
    if (ccr_otlp_decode_json(req->signal, body, len, msg, &why) == 0) {
        return true;
    }
    ccr_log_warn("ingest", "dropped %s request: JSON decode failed: %s (bytes=%zu peer=%s)",
                 ccr_signal_name(req->signal), why, len, req->peer);
    set_error(reply, 400, why);
    return false;
}

/*
 * An error for a JSON request is answered in JSON too: a google.rpc.Status
 * with the gRPC code OTLP pairs with the HTTP status, and the reason.
 */
static void error_as_json(struct ccr_reply *reply)
{
    int code = reply->status == 400 ? 3 : reply->status == 413 ? 8 : 13;
    json_t *status = json_pack("{s:i, s:s}", "code", code, "message", reply->reason);
    char *text = json_dumps(status, JSON_COMPACT);

    json_decref(status);
    reply->reason = NULL;
    reply->content_type = "application/json";
    reply->owned = text;
    reply->body = text;
    reply->body_len = strlen(text);
}

void ccr_ingest_error(struct ccr_reply *reply, bool json, int status, const char *reason)
{
    memset(reply, 0, sizeof(*reply));
    set_error(reply, status, reason);
    if (json) {
        error_as_json(reply);
    }
}

void ccr_ingest_ok(enum ccr_signal signal, bool json, const struct ccr_recorder *rec,
                   struct ccr_reply *reply)
{
    struct ccr_buf out = {0};

    memset(reply, 0, sizeof(*reply));
    ccr_otlp_reply_encode(signal, json, rec->rejected, rec->rejected_why, &out);
    reply->status = 200;
    reply->content_type = json ? "application/json" : "application/x-protobuf";
    reply->owned = out.data;
    reply->body = out.data;
    reply->body_len = out.len;
}

bool ccr_ingest_decode(const struct ccr_recorder *rec, const struct ccr_request *req,
                       struct ccr_otlp_request *msg, bool *json, struct ccr_reply *reply)
{
    struct ccr_buf plain = {0};
    const uint8_t *body;
    size_t len;
    bool ok;

    memset(reply, 0, sizeof(*reply));
    *json = false;
    ok = pick_format(req, json, reply) && unwrap_body(req, &plain, &body, &len, reply) &&
         decode(req, *json, body, len, msg, reply);
    ccr_buf_finish(&plain);
    if (!ok) {
        if (*json && reply->reason != NULL) {
            error_as_json(reply);
        }
        return false;
    }
    if (rec->privacy != NULL) {
        ccr_privacy_apply(rec->privacy, msg);
    }
    return true;
}

void ccr_ingest_log_stored(const struct ccr_recorder *rec, const struct ccr_request *req,
                           size_t items, bool json, uint64_t t0)
{
    if (rec->rejected > 0) {
        ccr_log_warn("ingest", "left out %lld of %zu %s items: %s (peer=%s)",
                     (long long)rec->rejected, items, ccr_signal_name(req->signal),
                     rec->rejected_why, req->peer);
    }
    ccr_log_debug("ingest", "stored %s request (items=%zu bytes=%zu encoding=%s%s%s us=%llu)",
                  ccr_signal_name(req->signal), items, req->len, json ? "json" : "protobuf",
                  req->content_encoding != NULL ? "+" : "",
                  req->content_encoding != NULL ? req->content_encoding : "",
                  (unsigned long long)((ccr_mono_ns() - t0) / 1000));
}

void ccr_ingest(struct ccr_recorder *rec, const struct ccr_request *req,
                struct ccr_reply *reply)
{
    struct ccr_otlp_request msg;
    bool json;
    uint64_t t0 = ccr_mono_ns();

    if (!ccr_ingest_decode(rec, req, &msg, &json, reply)) {
        return;
    }
    size_t items = ccr_otlp_request_items(&msg);
    int rc = ccr_record_request(rec, &msg);
    /* Only what is stored goes upstream: a request answered 500 comes again. */
    if (rc == 0 && rec->forward != NULL) {
        ccr_forward_push(rec->forward, &msg);
    }
    ccr_otlp_request_finish(&msg);
    if (rc < 0) {
        ccr_log_error("ingest", "lost %s request: storing failed (items=%zu)",
                      ccr_signal_name(req->signal), items);
        ccr_ingest_error(reply, json, 500, "could not store the request");
        return;
    }
    ccr_ingest_log_stored(rec, req, items, json, t0);
    ccr_ingest_ok(req->signal, json, rec, reply);
}
