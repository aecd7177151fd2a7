/* SPDX-License-Identifier: MIT */
/* Loopback HTTP/1.1 server for OTLP exports, on libuv with http-parser. */
#include "receiver.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>
#include <sodium.h>

#include "log.h"
#include "receiver-h2.h"
#include "util.h"

#define TOKEN_BYTES 32
#define READ_BUFFER (64u * 1024)
/* A connection keeps a larger body buffer only while it is in use. */
#define KEEP_BODY_CAPACITY (256u * 1024)
#define MAX_URL 1024
/*
 * A client that sends requests and never reads the answers would make every
 * answer wait in memory; past this many unsent bytes its connection is not
 * read until the answers have gone out.
 */
#define MAX_UNSENT_ANSWERS (64u * 1024)

struct ccr_receiver {
    uv_tcp_t server;
    uv_timer_t grace;
    uv_loop_t *loop;
    ccr_receiver_cb cb;
    void *ctx;
    int port;
    bool no_auth;
    char token[TOKEN_BYTES * 2 + 1];
    struct conn *conns;
    unsigned open_handles;
    unsigned refs; /* holders of requests still to be answered (ccr_receiver_ref) */
    unsigned long requests;
    size_t buffered; /* body bytes held by all connections */
    bool shutting_down;
    ccr_receiver_local_cb local_cb; /* requests under /ccrun/, when set */
    void *local_ctx;
    uint64_t next_id;
    char read_buf[READ_BUFFER];
};

struct conn {
    uv_tcp_t tcp;
    struct ccr_receiver *rx;
    struct conn *next;
    struct conn **pprev;
    http_parser parser;
    char peer[64];
    bool closing;
    bool paused;      /* not read until its answers have been sent */
    bool busy;        /* part of a request has arrived */
    bool in_value;    /* the parser is inside a header value */
    bool authorised;
    int status;       /* an answer decided before the body: 401, 404, 405, 413 */
    const char *reason;
    enum ccr_signal signal;
    struct ccr_buf url;
    struct ccr_buf field;
    struct ccr_buf value;
    struct ccr_buf content_type;
    struct ccr_buf content_encoding;
    struct ccr_buf body;
    bool has_type;
    bool has_encoding;
    bool expect_continue; /* the client waits for 100 Continue before its body */
    size_t counted;       /* this request's share of rx->buffered */
    /* Until the first bytes tell HTTP/1.1 from the HTTP/2 preface, they wait here. */
    bool sniffed;
    uint8_t head[CCR_H2_PREFACE_LEN];
    size_t head_len;
    struct ccr_h2 *h2; /* set once the connection speaks HTTP/2 */
    uint64_t id;    /* names the connection to a late answer */
    bool local;     /* the request is for ccrun itself (/ccrun/...) */
    bool deferred;  /* its answer comes later, through ccr_receiver_answer */
    bool close_after_answer;
    bool body_dropped; /* a local request's body was over CCR_MAX_LOCAL_BODY */
    struct ccr_buf unparsed; /* bytes read after a request whose answer is deferred */
    bool reads_stopped;      /* not read until the deferred answer has gone */
    bool eof;                /* the client has sent all it will */
    unsigned writes;         /* writes queued and not yet done */
    bool close_when_written;
};

struct write_req {
    uv_write_t req;
    bool close_after;
    char data[];
};

static void maybe_free(struct ccr_receiver *rx)
{
    if (rx->shutting_down && rx->open_handles == 0 && rx->refs == 0) {
        free(rx);
    }
}

void ccr_receiver_ref(struct ccr_receiver *rx)
{
    rx->refs++;
}

void ccr_receiver_unref(struct ccr_receiver *rx)
{
    rx->refs--;
    maybe_free(rx);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct ccr_receiver *rx = h->data;
    rx->open_handles--;
    maybe_free(rx);
}

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct ccr_receiver *rx = c->rx;

    rx->buffered -= c->counted;

    ccr_buf_finish(&c->url);
    ccr_buf_finish(&c->field);
    ccr_buf_finish(&c->value);
    ccr_buf_finish(&c->content_type);
    ccr_buf_finish(&c->content_encoding);
    ccr_buf_finish(&c->body);
    ccr_buf_finish(&c->unparsed);
    ccr_h2_destroy(c->h2);
    free(c);
    rx->open_handles--;
    maybe_free(rx);
}

/* Once shutting down with no connection left, the grace timer has no more use. */
static void finish_shutdown(struct ccr_receiver *rx)
{
    if (rx->shutting_down && rx->conns == NULL && !uv_is_closing((uv_handle_t *)&rx->grace)) {
        uv_close((uv_handle_t *)&rx->grace, on_handle_closed);
    }
}

static void conn_close(struct conn *c)
{
    if (c->closing) {
        return;
    }
    c->closing = true;
    *c->pprev = c->next;
    if (c->next != NULL) {
        c->next->pprev = c->pprev;
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    finish_shutdown(c->rx);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_written(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct conn *c = req->handle->data;

    c->writes--;
    if (status < 0 || w->close_after || (c->close_when_written && c->writes == 0)) {
        conn_close(c);
    } else if (c->paused && !c->closing &&
               uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
        /* It is read again once nothing else holds it: a deferred answer restarts it then. */
        c->paused = false;
        if (!c->reads_stopped && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
            conn_close(c);
        }
    }
    free(w);
}

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 431:
        return "Request Header Fields Too Large";
    default:
        return "Internal Server Error";
    }
}

/* Queues bytes for the peer; close_after closes the connection once written. */
static void conn_write(struct conn *c, const void *data, size_t len, bool close_after)
{
    if (c->closing) {
        return;
    }
    if (len == 0) {
        /* Nothing more to send: close now, or once what is queued has gone. */
        if (close_after && c->writes == 0) {
            conn_close(c);
        } else if (close_after) {
            c->close_when_written = true;
        }
        return;
    }
    struct write_req *w = ccr_xmalloc(sizeof(*w) + len);
    memcpy(w->data, data, len);
    w->close_after = close_after;
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) < 0) {
        free(w);
        conn_close(c);
        return;
    }
    c->writes++;
}

static void send_reply(struct conn *c, const struct ccr_reply *reply, bool close_after)
{
    struct ccr_buf head = {0};
    const void *body = reply->body;
    size_t body_len = reply->body_len;
    const char *type = reply->content_type;

    if (reply->reason != NULL) {
        body = reply->reason;
        body_len = strlen(reply->reason);
        type = "text/plain";
    }
    ccr_buf_printf(&head, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n", reply->status,
                   status_text(reply->status), body_len + (reply->reason != NULL));
    if (type != NULL) {
        ccr_buf_printf(&head, "Content-Type: %s\r\n", type);
    }
    if (close_after) {
        ccr_buf_printf(&head, "Connection: close\r\n");
    }
    ccr_buf_append(&head, "\r\n", 2);
    ccr_buf_append(&head, body, body_len);
    if (reply->reason != NULL) {
        ccr_buf_append(&head, "\n", 1);
    }

    c->rx->requests++;
    conn_write(c, head.data, head.len, close_after);
    ccr_buf_finish(&head);
}

static void send_error(struct conn *c, int status, const char *reason, bool close_after)
{
    struct ccr_reply reply = {.status = status, .reason = reason};
    send_reply(c, &reply, close_after);
}

static void reset_request(struct conn *c)
{
    c->rx->buffered -= c->counted;
    c->counted = 0;
    ccr_buf_reset(&c->url);
    ccr_buf_reset(&c->field);
    ccr_buf_reset(&c->value);
    ccr_buf_reset(&c->content_type);
    ccr_buf_reset(&c->content_encoding);
    if (c->body.cap > KEEP_BODY_CAPACITY) {
        ccr_buf_finish(&c->body);
    }
    ccr_buf_reset(&c->body);
    c->in_value = false;
    c->authorised = false;
    c->has_type = false;
    c->has_encoding = false;
    c->expect_continue = false;
    c->status = 0;
    c->reason = NULL;
    c->body_dropped = false;
}

static int on_message_begin(http_parser *p)
{
    struct conn *c = p->data;
    reset_request(c);
    c->busy = true;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;

    if (c->url.len + len > MAX_URL) {
        c->status = 404;
        c->reason = "unknown path";
        return 0;
    }
    ccr_buf_append(&c->url, at, len);
    return 0;
}

static bool token_matches(const struct ccr_receiver *rx, const char *value, size_t len)
{
    static const char scheme[] = "Bearer ";
    size_t n = sizeof(scheme) - 1;
    size_t token_len = strlen(rx->token);

    if (rx->no_auth) {
        return true;
    }
    if (len != n + token_len || strncasecmp(value, scheme, n) != 0) {
        return false;
    }
    return sodium_memcmp(value + n, rx->token, token_len) == 0;
}

static void end_header(struct conn *c)
{
    const char *field = ccr_buf_cstr(&c->field);
    const char *value = ccr_buf_cstr(&c->value);

    if (c->field.len == 0) {
        return;
    }
    if (strcasecmp(field, "authorization") == 0) {
        c->authorised = token_matches(c->rx, value, c->value.len);
    } else if (strcasecmp(field, "content-type") == 0) {
        ccr_buf_reset(&c->content_type);
        ccr_buf_append(&c->content_type, value, c->value.len);
        c->has_type = true;
    } else if (strcasecmp(field, "expect") == 0) {
        c->expect_continue = strcasecmp(value, "100-continue") == 0;
    } else if (strcasecmp(field, "content-encoding") == 0) {
        ccr_buf_reset(&c->content_encoding);
        ccr_buf_append(&c->content_encoding, value, c->value.len);
        c->has_encoding = true;
    }
    ccr_buf_reset(&c->field);
    ccr_buf_reset(&c->value);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;

    if (c->in_value) {
        end_header(c);
        c->in_value = false;
    }
    ccr_buf_append(&c->field, at, len);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;

    c->in_value = true;
    ccr_buf_append(&c->value, at, len);
    return 0;
}

/* The path of an origin-form or absolute-form request target. */
static const char *url_path(const char *url)
{
    const char *scheme_end = strstr(url, "://");

    if (url[0] == '/' || scheme_end == NULL) {
        return url;
    }
    const char *path = strchr(scheme_end + 3, '/');
    return path != NULL ? path : "/";
}

/* Maps the request path (without a query) to a signal; false when unknown. */
static bool route(const char *url, enum ccr_signal *signal)
{
    url = url_path(url);
    static const struct {
        const char *path;
        enum ccr_signal signal;
    } routes[] = {
        {"/v1/logs", CCR_SIGNAL_LOGS},
        {"/v1/metrics", CCR_SIGNAL_METRICS},
        {"/v1/traces", CCR_SIGNAL_TRACES},
    };
    size_t n = strcspn(url, "?");

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strlen(routes[i].path) == n && strncmp(url, routes[i].path, n) == 0) {
            *signal = routes[i].signal;
            return true;
        }
    }
    return false;
}

/* ccrun's own routes take GET and POST, with the same token as the exports. */
static int check_local(struct conn *c, http_parser *p)
{
    if (p->method != HTTP_POST && p->method != HTTP_GET) {
        c->status = 405;
        c->reason = "only GET and POST are accepted";
    } else if (!c->authorised && !c->rx->no_auth) {
        c->status = 401;
        c->reason = "missing or wrong bearer token";
    }
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct conn *c = p->data;

    if (c->in_value) {
        end_header(c);
        c->in_value = false;
    }
    if (c->status != 0) {
        return 0;
    }
    c->local = c->rx->local_cb != NULL &&
               strncmp(url_path(ccr_buf_cstr(&c->url)), "/ccrun/", 7) == 0;
    if (c->local) {
        return check_local(c, p);
    }
    if (!route(ccr_buf_cstr(&c->url), &c->signal)) {
        c->status = 404;
        c->reason = "unknown path: use /v1/logs, /v1/metrics or /v1/traces";
    } else if (p->method != HTTP_POST) {
        c->status = 405;
        c->reason = "only POST is accepted";
    } else if (!c->authorised && !c->rx->no_auth) {
        c->status = 401;
        c->reason = "missing or wrong bearer token";
    } else if ((p->flags & F_CONTENTLENGTH) && p->content_length > CCR_MAX_BODY) {
        c->status = 413;
        c->reason = "body too large";
        return -1;
    }
    if (c->status == 0 && c->expect_continue) {
        /* A client that asked to be told before it sends the body would otherwise stall. */
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        conn_write(c, cont, sizeof(cont) - 1, false);
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;

    if (c->status != 0) {
        return 0; /* the answer is decided; let the body pass */
    }
    if (c->local && c->body.len + len > CCR_MAX_LOCAL_BODY) {
        c->body_dropped = true; /* the route still answers, from its path alone */
        return 0;
    }
    if (c->body.len + len > CCR_MAX_BODY) {
        c->status = 413;
        c->reason = "body too large";
        return -1;
    }
    /* Many large bodies at once must not add up past what the process can hold. */
    if (c->rx->buffered + len > CCR_MAX_BUFFERED) {
        c->status = 413;
        c->reason = "too many large bodies at once";
        return -1;
    }
    c->rx->buffered += len;
    c->counted += len;
    ccr_buf_append(&c->body, at, len);
    return 0;
}

/* Stops reading a connection until its deferred answer has gone. */
static void stop_reads(struct conn *c)
{
    if (!c->reads_stopped) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reads_stopped = true;
    }
}

/*
 * A request whose answer comes later keeps its connection busy until then,
 * so shutdown waits for it; the parser stops after it, so a second request
 * cannot overtake it (parse_http1 keeps what follows for later). An answer
 * due within the loop turn leaves the connection read: stopping and starting
 * would cost two system calls a request.
 */
static void defer_answer(struct conn *c, http_parser *p, bool close_after, bool stop_reading)
{
    c->deferred = true;
    c->busy = true;
    c->close_after_answer = close_after;
    if (stop_reading) {
        stop_reads(c);
    }
    http_parser_pause(p, 1);
}

/* Hands a request for ccrun itself to its handler, which may answer later. */
static void answer_local(struct conn *c, http_parser *p, bool close_after)
{
    struct ccr_receiver *rx = c->rx;
    struct ccr_reply reply = {0};
    char *path = ccr_xstrndup(ccr_buf_cstr(&c->url), strcspn(ccr_buf_cstr(&c->url), "?"));
    bool now = rx->local_cb(rx->local_ctx, http_method_str(p->method), path,
                            c->body_dropped ? NULL : c->body.data,
                            c->body_dropped ? 0 : c->body.len, c->id, &reply);

    free(path);
    if (now) {
        send_reply(c, &reply, close_after);
        ccr_reply_finish(&reply);
        return;
    }
    defer_answer(c, p, close_after, true);
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = p->data;
    struct ccr_receiver *rx = c->rx;
    bool close_after = !http_should_keep_alive(p) || rx->shutting_down;

    c->busy = false;
    if (c->status != 0) {
        ccr_log_warn("receiver", "answered %d: %s (peer=%s)", c->status, c->reason, c->peer);
        send_error(c, c->status, c->reason, close_after);
        return 0;
    }
    if (c->local) {
        answer_local(c, p, close_after);
        return 0;
    }
    struct ccr_request req = {
        .signal = c->signal,
        .content_type = c->has_type ? ccr_buf_cstr(&c->content_type) : NULL,
        .content_encoding = c->has_encoding ? ccr_buf_cstr(&c->content_encoding) : NULL,
        .body = c->body.data,
        .len = c->body.len,
        .peer = c->peer,
        .receiver = rx,
        .id = c->id,
    };
    struct ccr_reply reply = {0};
    bool now = rx->cb(rx->ctx, &req, &reply);
    rx->buffered -= c->counted; /* decoded: the body no longer counts */
    c->counted = 0;
    if (now) {
        send_reply(c, &reply, close_after);
        ccr_reply_finish(&reply);
    } else {
        defer_answer(c, p, close_after, false);
    }
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = h->data;
    /* Every read is parsed before the next one, so one buffer serves all. */
    *buf = uv_buf_init(c->rx->read_buf, sizeof(c->rx->read_buf));
}

/* Runs the HTTP/1.1 parser over bytes read; a parse error answers and stops reading. */
static void parse_http1(struct conn *c, uv_stream_t *s, const char *data, size_t len)
{
    size_t done = http_parser_execute(&c->parser, &parser_settings, data, len);
    if (c->closing) {
        return;
    }
    if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED) {
        /* A deferred answer: what follows its request waits for it, up to a limit. */
        ccr_buf_append(&c->unparsed, data + done, len - done);
        if (c->unparsed.len > MAX_UNSENT_ANSWERS) {
            stop_reads(c);
        }
        return;
    }
    if (c->parser.http_errno != HPE_OK || done != len) {
        if (HTTP_PARSER_ERRNO(&c->parser) == HPE_HEADER_OVERFLOW) {
            ccr_log_warn("receiver", "answered 431: header over %d bytes (peer=%s)",
                         HTTP_MAX_HEADER_SIZE, c->peer);
            send_error(c, 431, "request header too large", true);
        } else if (c->status == 413) {
            ccr_log_warn("receiver", "answered 413: body over %u bytes (peer=%s)",
                         CCR_MAX_BODY, c->peer);
            send_error(c, 413, c->reason, true);
        } else {
            ccr_log_warn("receiver", "answered 400: %s (peer=%s)",
                         http_errno_description(HTTP_PARSER_ERRNO(&c->parser)), c->peer);
            send_error(c, 400, "malformed HTTP request", true);
        }
        uv_read_stop(s);
        c->busy = false;
        return;
    }
    if (c->rx->shutting_down && !c->busy) {
        conn_close(c);
        return;
    }
    if (uv_stream_get_write_queue_size(s) > MAX_UNSENT_ANSWERS) {
        ccr_log_warn("receiver", "paused a connection whose answers are not read (peer=%s)",
                     c->peer);
        c->paused = true;
        uv_read_stop(s);
    }
}

/* The connection side of receiver-h2.c: writes, token checks and requests. */
static void h2_write(void *conn, const uint8_t *data, size_t len, bool close_after)
{
    conn_write(conn, data, len, close_after);
}

static bool h2_authorised(void *conn, const char *value, size_t len)
{
    struct conn *c = conn;
    return token_matches(c->rx, value, len);
}

static void h2_request(void *conn, const struct ccr_request *req, struct ccr_reply *reply)
{
    struct conn *c = conn;

    c->rx->requests++;
    /* The request has id 0: the callback answers it at once. */
    c->rx->cb(c->rx->ctx, req, reply);
}

static const struct ccr_h2_io h2_io = {
    .write = h2_write,
    .authorised = h2_authorised,
    .request = h2_request,
};

/*
 * An HTTP/2 connection is busy while a call is half received, so shutdown
 * waits for it the way it waits for a half-received HTTP/1.1 request.
 */
static void feed_h2(struct conn *c, const uint8_t *data, size_t len)
{
    ccr_h2_feed(c->h2, data, len);
    if (c->closing) {
        return;
    }
    c->busy = ccr_h2_busy(c->h2);
    if (c->rx->shutting_down && !c->busy) {
        conn_close(c);
    }
}

/*
 * Decides the protocol from the first bytes: the HTTP/2 preface means gRPC
 * over h2c, anything else HTTP/1.1. Returns false while the bytes so far
 * are a strict prefix of the preface (they are kept for the next read).
 */
static bool sniff(struct conn *c, const uint8_t *data, size_t len)
{
    size_t have = c->head_len;
    size_t take = len < CCR_H2_PREFACE_LEN - have ? len : CCR_H2_PREFACE_LEN - have;

    memcpy(c->head + have, data, take);
    c->head_len += take;
    if (memcmp(c->head, CCR_H2_PREFACE, c->head_len) != 0) {
        c->sniffed = true;
        return true;
    }
    if (c->head_len < CCR_H2_PREFACE_LEN) {
        return false;
    }
    c->sniffed = true;
    c->h2 = ccr_h2_create(&h2_io, c, c->peer);
    ccr_log_debug("receiver", "connection speaks HTTP/2 (peer=%s)", c->peer);
    return true;
}

/* Sends to HTTP/2 the bytes held while sniffing and then the rest of this read. */
static void start_h2(struct conn *c, const uint8_t *data, size_t len, size_t held_before)
{
    struct ccr_buf all = {0};

    ccr_buf_append(&all, c->head, held_before);
    ccr_buf_append(&all, data, len);
    feed_h2(c, all.data, all.len);
    ccr_buf_finish(&all);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;

    if (nread == 0 || c->closing) {
        return;
    }
    if (nread < 0) {
        if (nread == UV_EOF && (c->deferred || c->unparsed.len > 0)) {
            /* A client done sending still waits for its answers: they come first. */
            c->eof = true;
            stop_reads(c);
            return;
        }
        if (nread != UV_EOF && nread != UV_ECONNRESET) {
            ccr_log_warn("receiver", "read failed: %s (peer=%s)", uv_strerror((int)nread),
                         c->peer);
        }
        conn_close(c);
        return;
    }
    if (c->h2 != NULL) {
        feed_h2(c, (const uint8_t *)buf->base, (size_t)nread);
        return;
    }
    if (!c->sniffed) {
        size_t held = c->head_len;
        if (!sniff(c, (const uint8_t *)buf->base, (size_t)nread)) {
            return;
        }
        if (c->h2 != NULL) {
            start_h2(c, (const uint8_t *)buf->base, (size_t)nread, held);
            return;
        }
        if (held > 0) {
            parse_http1(c, s, (const char *)c->head, held);
            /* Paused after a deferred request, the parser keeps the rest for later. */
            if (c->closing ||
                (c->parser.http_errno != HPE_OK && c->parser.http_errno != HPE_PAUSED)) {
                return;
            }
        }
    }
    parse_http1(c, s, buf->base, (size_t)nread);
}

static void describe_peer(struct conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    char host[48] = "?";

    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0 &&
        ss.ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        uv_ip4_name(sin, host, sizeof(host));
        snprintf(c->peer, sizeof(c->peer), "%s:%d", host, ntohs(sin->sin_port));
        return;
    }
    snprintf(c->peer, sizeof(c->peer), "%s", host);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct ccr_receiver *rx = server->data;

    if (status < 0) {
        ccr_log_warn("receiver", "accept failed: %s", uv_strerror(status));
        return;
    }
    struct conn *c = ccr_xcalloc(1, sizeof(*c));
    c->rx = rx;
    c->id = ++rx->next_id;
    uv_tcp_init(rx->loop, &c->tcp);
    c->tcp.data = c;
    rx->open_handles++;
    c->next = rx->conns;
    if (c->next != NULL) {
        c->next->pprev = &c->next;
    }
    rx->conns = c;
    c->pprev = &rx->conns;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    describe_peer(c);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc < 0) {
        ccr_log_warn("receiver", "read start failed: %s", uv_strerror(rc));
        conn_close(c);
    }
}

int ccr_receiver_start(uv_loop_t *loop, ccr_receiver_cb cb, void *ctx,
                       struct ccr_receiver **out, char **cause)
{
    const struct ccr_receiver_opts opts = {0};

    return ccr_receiver_listen(loop, &opts, cb, ctx, out, cause);
}

int ccr_receiver_listen(uv_loop_t *loop, const struct ccr_receiver_opts *opts,
                        ccr_receiver_cb cb, void *ctx, struct ccr_receiver **out, char **cause)
{
    struct ccr_receiver *rx = ccr_xcalloc(1, sizeof(*rx));
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof(bound);
    unsigned char raw[TOKEN_BYTES];
    int rc;

    rx->loop = loop;
    rx->cb = cb;
    rx->ctx = ctx;
    rx->no_auth = opts->no_auth;
    if (opts->token != NULL) {
        /* rx is zeroed, so the copy stays terminated. */
        memcpy(rx->token, opts->token, strnlen(opts->token, sizeof(rx->token) - 1));
    } else {
        randombytes_buf(raw, sizeof(raw));
        sodium_bin2hex(rx->token, sizeof(rx->token), raw, sizeof(raw));
        sodium_memzero(raw, sizeof(raw));
    }

    uv_tcp_init(loop, &rx->server);
    uv_timer_init(loop, &rx->grace);
    rx->server.data = rx;
    rx->grace.data = rx;
    rx->open_handles = 2;
    uv_ip4_addr("127.0.0.1", opts->port, &addr);
    rc = uv_tcp_bind(&rx->server, (const struct sockaddr *)&addr, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&rx->server, 128, on_connection);
    }
    if (rc == 0) {
        rc = uv_tcp_getsockname(&rx->server, (struct sockaddr *)&bound, &len);
    }
    if (rc < 0) {
        *cause = ccr_xasprintf("listen on 127.0.0.1:%d: %s", opts->port, uv_strerror(rc));
        ccr_receiver_shutdown(rx, 0);
        return rc;
    }
    rx->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    *out = rx;
    return 0;
}

int ccr_receiver_port(const struct ccr_receiver *rx)
{
    return rx->port;
}

const char *ccr_receiver_token(const struct ccr_receiver *rx)
{
    return rx->token;
}

unsigned long ccr_receiver_requests(const struct ccr_receiver *rx)
{
    return rx->requests;
}

void ccr_receiver_set_local(struct ccr_receiver *rx, ccr_receiver_local_cb cb, void *ctx)
{
    rx->local_cb = cb;
    rx->local_ctx = ctx;
}

void ccr_receiver_answer(struct ccr_receiver *rx, uint64_t id, const struct ccr_reply *reply)
{
    struct conn *c = rx->conns;

    while (c != NULL && c->id != id) {
        c = c->next;
    }
    if (c == NULL || !c->deferred) {
        return; /* the peer went away meanwhile */
    }
    c->deferred = false;
    c->busy = false;
    bool last = c->close_after_answer || rx->shutting_down || (c->eof && c->unparsed.len == 0);
    send_reply(c, reply, last);
    if (c->closing || last) {
        return;
    }
    http_parser_pause(&c->parser, 0);
    if (c->unparsed.len > 0) {
        /* Parsing may defer again and keep a new rest, so it works on its own copy. */
        struct ccr_buf rest = c->unparsed;
        c->unparsed = (struct ccr_buf){0};
        parse_http1(c, (uv_stream_t *)&c->tcp, (const char *)rest.data, rest.len);
        ccr_buf_finish(&rest);
        if (c->closing || c->deferred || c->parser.http_errno != HPE_OK) {
            return;
        }
    }
    if (c->eof) {
        /* Whatever followed was answered at once: close once that has been sent. */
        conn_write(c, "", 0, true);
        return;
    }
    if (c->reads_stopped) {
        c->reads_stopped = false;
        if (!c->paused && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
            conn_close(c);
        }
    }
}

static void on_grace_over(uv_timer_t *t)
{
    struct ccr_receiver *rx = t->data;

    while (rx->conns != NULL) {
        ccr_log_warn("receiver", "closed a connection with a request in flight (peer=%s)",
                     rx->conns->peer);
        conn_close(rx->conns);
    }
}

void ccr_receiver_shutdown(struct ccr_receiver *rx, unsigned grace_ms)
{
    rx->shutting_down = true;
    uv_close((uv_handle_t *)&rx->server, on_handle_closed);
    for (struct conn *c = rx->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (!c->busy) {
            conn_close(c);
        }
    }
    if (rx->conns != NULL && grace_ms > 0) {
        uv_timer_start(&rx->grace, on_grace_over, grace_ms, 0);
    } else {
        on_grace_over(&rx->grace);
    }
    finish_shutdown(rx);
}
