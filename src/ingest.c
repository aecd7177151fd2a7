/* SPDX-License-Identifier: MIT */
/* The path of one request from bytes to committed rows. */
#include "ingest.h"

#include <string.h>
#include <strings.h>

#include "log.h"
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

static void set_error(struct ccr_reply *reply, int status, const char *reason)
{
    reply->status = status;
    reply->reason = reason;
}

void ccr_ingest(struct ccr_recorder *rec, const struct ccr_request *req,
                struct ccr_reply *reply)
{
    struct ccr_otlp_request msg;
    uint64_t t0 = ccr_mono_ns();

    memset(reply, 0, sizeof(*reply));
    if (req->content_encoding != NULL && strcasecmp(req->content_encoding, "identity") != 0) {
        /* TODO: accept gzip. An exporter set to compress gets 415 and its data is lost. */
        ccr_log_warn("ingest", "refused %s request: unsupported content encoding (peer=%s)",
                     ccr_signal_name(req->signal), req->peer);
        set_error(reply, 415, "unsupported content encoding");
        return;
    }
    if (!media_type_is(req->content_type, "application/x-protobuf") &&
        !media_type_is(req->content_type, "application/protobuf")) {
        /* TODO: accept OTLP/JSON. An exporter set to http/json gets 415. */
        ccr_log_warn("ingest", "refused %s request: unsupported content type (peer=%s)",
                     ccr_signal_name(req->signal), req->peer);
        set_error(reply, 415, "unsupported content type: send application/x-protobuf");
        return;
    }
    if (ccr_otlp_decode_protobuf(req->signal, req->body, req->len, &msg) < 0) {
        ccr_log_warn("ingest", "dropped %s request: protobuf decode failed (bytes=%zu peer=%s)",
                     ccr_signal_name(req->signal), req->len, req->peer);
        set_error(reply, 400, "body is not a valid OTLP protobuf export request");
        return;
    }
    size_t items = ccr_otlp_request_items(&msg);
    if (rec->privacy != NULL) {
        ccr_privacy_apply(rec->privacy, &msg);
    }
    int rc = ccr_record_request(rec, &msg);
    ccr_otlp_request_finish(&msg);
    if (rc < 0) {
        ccr_log_error("ingest", "lost %s request: storing failed (items=%zu)",
                      ccr_signal_name(req->signal), items);
        set_error(reply, 500, "could not store the request");
        return;
    }
    ccr_log_debug("ingest", "stored %s request (items=%zu bytes=%zu us=%llu)",
                  ccr_signal_name(req->signal), items, req->len,
                  (unsigned long long)((ccr_mono_ns() - t0) / 1000));
    reply->status = 200;
    reply->content_type = "application/x-protobuf";
}
