/* SPDX-License-Identifier: MIT */
/* OTLP/gRPC over h2c with nghttp2: unary Export calls, answered with trailers. */
#include "receiver-h2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nghttp2/nghttp2.h>

#include "log.h"
#include "receiver.h"
#include "util.h"

/* Concurrent calls per connection; exporters use one or two. */
#define H2_MAX_STREAMS 16
/* A large window lets a whole export arrive without waiting for updates. */
#define H2_WINDOW (1 << 20)
/* The length-prefixed message header: a compressed flag and a 32-bit size. */
#define GRPC_HEADER 5

/* gRPC status codes used here. */
enum {
    GRPC_OK = 0,
    GRPC_INVALID_ARGUMENT = 3,
    GRPC_RESOURCE_EXHAUSTED = 8,
    GRPC_UNIMPLEMENTED = 12,
    GRPC_INTERNAL = 13,
    GRPC_UNAUTHENTICATED = 16,
};

/* One call: what its headers said, its request bytes, then its answer. */
struct stream {
    int32_t id;
    bool known_path;
    bool authorised;
    bool grpc_type;
    bool too_large;
    bool answered;
    enum ccr_signal signal;
    char encoding[16]; /* grpc-encoding, lower case; empty for identity */
    struct ccr_buf body;
    struct ccr_buf response; /* the framed reply message, sent as DATA */
    size_t sent;
    char grpc_status[8];
};

/* The session of one connection; streams hang off nghttp2's stream data. */
struct ccr_h2 {
    nghttp2_session *session;
    const struct ccr_h2_io *io;
    void *conn;
    const char *peer;
    unsigned pending; /* streams begun and not yet answered */
    size_t buffered; /* request bytes held over all streams */
};

/* The OTLP services' method paths, by their real packages (not our .proto's). */
static const struct {
    const char *path;
    enum ccr_signal signal;
} services[] = {
    {"/opentelemetry.proto.collector.logs.v1.LogsService/Export", CCR_SIGNAL_LOGS},
    {"/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", CCR_SIGNAL_METRICS},
    {"/opentelemetry.proto.collector.trace.v1.TraceService/Export", CCR_SIGNAL_TRACES},
};

int ccr_h2_grpc_status(int http_status)
{
    switch (http_status) {
    case 200:
        return GRPC_OK;
    case 400:
    case 415:
        return GRPC_INVALID_ARGUMENT;
    case 401:
        return GRPC_UNAUTHENTICATED;
    case 413:
        return GRPC_RESOURCE_EXHAUSTED;
    default:
        /* Not UNAVAILABLE: an exporter would retry and hold the child's exit. */
        return GRPC_INTERNAL;
    }
}

/* A header for nghttp2; it copies name and value when the frame is queued. */
static nghttp2_nv make_nv(const char *name, const char *value)
{
    nghttp2_nv nv = {(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
                     NGHTTP2_NV_FLAG_NONE};
    return nv;
}

static bool name_is(const uint8_t *name, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(name, want, len) == 0;
}

static void stream_free(struct ccr_h2 *h, struct stream *s)
{
    h->buffered -= s->body.len;
    ccr_buf_finish(&s->body);
    ccr_buf_finish(&s->response);
    free(s);
}

/* nghttp2's data source for a reply: the framed message, then the trailers. */
static ssize_t read_response(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
                             size_t length, uint32_t *data_flags, nghttp2_data_source *source,
                             void *user_data)
{
    struct stream *s = source->ptr;
    size_t n = s->response.len - s->sent;

    if (n > length) {
        n = length;
    }
    memcpy(buf, s->response.data + s->sent, n);
    s->sent += n;
    if (s->sent == s->response.len) {
        /* The stream ends with the trailers, which carry the status. */
        nghttp2_nv trailer = make_nv("grpc-status", s->grpc_status);
        *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        if (nghttp2_submit_trailer(session, stream_id, &trailer, 1) != 0) {
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
    }
    return (ssize_t)n;
}

/* A failed call: headers and status in one trailers-only HEADERS frame. */
static void answer_status(struct ccr_h2 *h, struct stream *s, int code, const char *message)
{
    char status[8];
    nghttp2_nv nva[4];

    snprintf(status, sizeof(status), "%d", code);
    nva[0] = make_nv(":status", "200");
    nva[1] = make_nv("content-type", "application/grpc");
    nva[2] = make_nv("grpc-status", status);
    nva[3] = make_nv("grpc-message", message);
    ccr_log_warn("receiver", "answered gRPC status %d: %s (peer=%s)", code, message, h->peer);
    nghttp2_submit_response(h->session, s->id, nva, 4, NULL);
}

/* Frames the reply message and sends it with grpc-status 0 in the trailers. */
static void answer_ok(struct ccr_h2 *h, struct stream *s, const struct ccr_reply *reply)
{
    uint8_t head[GRPC_HEADER] = {0};
    uint32_t n = (uint32_t)reply->body_len;
    nghttp2_nv nva[2] = {make_nv(":status", "200"), make_nv("content-type", "application/grpc")};
    nghttp2_data_provider data = {.source.ptr = s, .read_callback = read_response};

    head[1] = (uint8_t)(n >> 24);
    head[2] = (uint8_t)(n >> 16);
    head[3] = (uint8_t)(n >> 8);
    head[4] = (uint8_t)n;
    ccr_buf_append(&s->response, head, sizeof(head));
    ccr_buf_append(&s->response, reply->body, reply->body_len);
    snprintf(s->grpc_status, sizeof(s->grpc_status), "%d", GRPC_OK);
    nghttp2_submit_response(h->session, s->id, nva, 2, &data);
}

/*
 * Unwraps the single length-prefixed message of a unary call. Returns the
 * gRPC status to fail with, or 0 with *body and *len set.
 */
static int unframe(struct ccr_h2 *h, struct stream *s, const char **encoding,
                   const uint8_t **body, size_t *len, const char **why)
{
    const uint8_t *p = s->body.data;

    if (s->too_large) {
        *why = "message too large";
        return GRPC_RESOURCE_EXHAUSTED;
    }
    if (s->body.len < GRPC_HEADER) {
        *why = "no message";
        return GRPC_INVALID_ARGUMENT;
    }
    size_t n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
    if (p[0] > 1 || n != s->body.len - GRPC_HEADER) {
        *why = "malformed length-prefixed message";
        return GRPC_INVALID_ARGUMENT;
    }
    *encoding = NULL;
    if (p[0] == 1) {
        if (strcmp(s->encoding, "gzip") != 0) {
            *why = "compressed with an unsupported grpc-encoding: use gzip or identity";
            return s->encoding[0] == '\0' ? GRPC_INTERNAL : GRPC_UNIMPLEMENTED;
        }
        *encoding = "gzip";
    }
    *body = p + GRPC_HEADER;
    *len = n;
    return 0;
}

/*
 * Answers a call whose request has fully arrived. Checks run in the order
 * gRPC clients expect: method, credentials, content type, then the message.
 */
static void process(struct ccr_h2 *h, struct stream *s)
{
    const char *why = NULL;
    const char *encoding = NULL;
    const uint8_t *body = NULL;
    size_t len = 0;
    int code;

    s->answered = true;
    h->pending--;
    if (!s->known_path) {
        answer_status(h, s, GRPC_UNIMPLEMENTED, "unknown method: use the OTLP Export services");
        return;
    }
    /* Asking with no value tells whether the receiver checks tokens at all. */
    if (!s->authorised && !h->io->authorised(h->conn, NULL, 0)) {
        answer_status(h, s, GRPC_UNAUTHENTICATED, "missing or wrong bearer token");
        return;
    }
    if (!s->grpc_type) {
        answer_status(h, s, GRPC_INVALID_ARGUMENT, "content-type is not application/grpc");
        return;
    }
    code = unframe(h, s, &encoding, &body, &len, &why);
    if (code != 0) {
        answer_status(h, s, code, why);
        return;
    }
    struct ccr_request req = {
        .signal = s->signal,
        .content_type = "application/x-protobuf",
        .content_encoding = encoding,
        .body = body,
        .len = len,
        .peer = h->peer,
    };
    struct ccr_reply reply = {0};
    h->io->request(h->conn, &req, &reply);
    code = ccr_h2_grpc_status(reply.status);
    if (code == GRPC_OK) {
        answer_ok(h, s, &reply);
    } else {
        answer_status(h, s, code, reply.reason != NULL ? reply.reason : "export failed");
    }
    ccr_reply_finish(&reply);
}

/* A new request stream: its state lives until nghttp2 closes the stream. */
static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame,
                            void *user_data)
{
    struct ccr_h2 *h = user_data;

    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
        return 0;
    }
    struct stream *s = ccr_xcalloc(1, sizeof(*s));
    s->id = frame->hd.stream_id;
    nghttp2_session_set_stream_user_data(session, s->id, s);
    h->pending++;
    return 0;
}

static void note_header(struct ccr_h2 *h, struct stream *s, const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen)
{
    if (name_is(name, namelen, ":path")) {
        for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
            if (name_is(value, valuelen, services[i].path)) {
                s->known_path = true;
                s->signal = services[i].signal;
            }
        }
    } else if (name_is(name, namelen, "authorization")) {
        s->authorised = h->io->authorised(h->conn, (const char *)value, valuelen);
    } else if (name_is(name, namelen, "content-type")) {
        /* application/grpc, optionally +proto; +json is another codec. */
        s->grpc_type = name_is(value, valuelen, "application/grpc") ||
                       name_is(value, valuelen, "application/grpc+proto");
    } else if (name_is(name, namelen, "grpc-encoding")) {
        size_t n = valuelen < sizeof(s->encoding) - 1 ? valuelen : sizeof(s->encoding) - 1;
        memcpy(s->encoding, value, n);
        s->encoding[n] = '\0';
        /* Encoding names are ASCII letters; this lower-cases them. */
        for (size_t i = 0; i < n; i++) {
            s->encoding[i] = (char)(s->encoding[i] | 0x20);
        }
        if (strcmp(s->encoding, "identity") == 0) {
            s->encoding[0] = '\0';
        }
    }
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data)
{
    struct stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

    if (s != NULL && frame->hd.type == NGHTTP2_HEADERS &&
        frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        note_header(user_data, s, name, namelen, value, valuelen);
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *user_data)
{
    struct ccr_h2 *h = user_data;
    struct stream *s = nghttp2_session_get_stream_user_data(session, stream_id);

    if (s == NULL || s->too_large) {
        return 0;
    }
    /*
     * The cap holds for the connection as a whole, so concurrent streams
     * cannot multiply it. Past it the rest of the call is discarded and the
     * call fails as too large.
     */
    if (h->buffered + len > CCR_MAX_BODY + GRPC_HEADER) {
        s->too_large = true;
        h->buffered -= s->body.len;
        ccr_buf_finish(&s->body);
        return 0;
    }
    ccr_buf_append(&s->body, data, len);
    h->buffered += len;
    return 0;
}

/* The request ends with END_STREAM on its last DATA (or its only HEADERS) frame. */
static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct stream *s;

    if ((frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        return 0;
    }
    s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (s != NULL) {
        process(user_data, s);
    }
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *user_data)
{
    struct ccr_h2 *h = user_data;
    struct stream *s = nghttp2_session_get_stream_user_data(session, stream_id);

    if (s == NULL) {
        return 0;
    }
    /* A stream reset before its request ended was never answered. */
    if (!s->answered) {
        h->pending--;
    }
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    stream_free(h, s);
    return 0;
}

/* Sends whatever the session has queued, and asks for a close once it is over. */
static void flush(struct ccr_h2 *h, bool failed)
{
    struct ccr_buf out = {0};
    const uint8_t *data;
    ssize_t n;

    /* After a protocol error this still sends the GOAWAY nghttp2 queued. */
    while ((n = nghttp2_session_mem_send(h->session, &data)) != 0) {
        if (n < 0) {
            failed = true;
            break;
        }
        ccr_buf_append(&out, data, (size_t)n);
    }
    bool done = failed || (!nghttp2_session_want_read(h->session) &&
                           !nghttp2_session_want_write(h->session));
    if (out.len > 0 || done) {
        h->io->write(h->conn, out.data, out.len, done);
    }
    ccr_buf_finish(&out);
}

/* nghttp2 fails to create a session only when memory runs out, which is fatal. */
static void out_of_memory(void)
{
    fputs("ccrun: out of memory (nghttp2 session)\n", stderr);
    abort();
}

struct ccr_h2 *ccr_h2_create(const struct ccr_h2_io *io, void *conn, const char *peer)
{
    struct ccr_h2 *h = ccr_xcalloc(1, sizeof(*h));
    nghttp2_session_callbacks *cbs;
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };

    h->io = io;
    h->conn = conn;
    h->peer = peer;
    if (nghttp2_session_callbacks_new(&cbs) != 0) {
        out_of_memory();
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    int rc = nghttp2_session_server_new(&h->session, cbs, h);
    nghttp2_session_callbacks_del(cbs);
    if (rc != 0) {
        out_of_memory();
    }
    /* The server speaks first with its SETTINGS; a client waits for them. */
    nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, settings,
                            sizeof(settings) / sizeof(settings[0]));
    nghttp2_session_set_local_window_size(h->session, NGHTTP2_FLAG_NONE, 0, H2_WINDOW);
    return h;
}

void ccr_h2_destroy(struct ccr_h2 *h)
{
    if (h == NULL) {
        return;
    }
    nghttp2_session_del(h->session);
    free(h);
}

/*
 * Requests are answered synchronously inside mem_recv's callbacks, so one
 * flush afterwards sends the replies of everything this read completed.
 */
void ccr_h2_feed(struct ccr_h2 *h, const uint8_t *data, size_t len)
{
    ssize_t n = nghttp2_session_mem_recv(h->session, data, len);

    if (n < 0) {
        ccr_log_warn("receiver", "HTTP/2 session failed: %s (peer=%s)",
                     nghttp2_strerror((int)n), h->peer);
    }
    flush(h, n < 0);
}

bool ccr_h2_busy(const struct ccr_h2 *h)
{
    return h->pending > 0;
}
