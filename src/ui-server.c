/* SPDX-License-Identifier: MIT */
/* The dashboard's loopback HTTP/1.1 server: access checks, headers, ETag, gzip. */
#include "ui-server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>
#include <sodium.h>
#include <zlib.h>

#include "log.h"
#include "util.h"

#define TOKEN_BYTES 32
#define READ_BUFFER (16u * 1024)
/* A browser's request head is a few KiB; anything far larger is not one. */
#define MAX_HEAD (32u * 1024)
#define MAX_URL 2048
/* Only small bodies are worth an ETag computed on the fly, and gzip. */
#define GZIP_MIN 1024
/*
 * Answers made per request are compressed fast: on loopback, level 1 of a
 * few MiB of events takes a fifth of the time of level 6 for a body a
 * third larger.
 */
#define GZIP_LEVEL_DYNAMIC 1

/* The headers the checks read; everything else is skipped. */
enum hdr {
    HDR_HOST,
    HDR_ORIGIN,
    HDR_COOKIE,
    HDR_FETCH_SITE,
    HDR_ACCEPT_ENCODING,
    HDR_IF_NONE_MATCH,
    HDR_AUTHORIZATION,
    HDR_COUNT,
    HDR_OTHER = HDR_COUNT,
};

static const char *const hdr_names[HDR_COUNT] = {
    "host", "origin", "cookie", "sec-fetch-site", "accept-encoding", "if-none-match",
    "authorization",
};

struct ccr_ui_server {
    uv_tcp_t tcp;
    uv_loop_t *loop;
    ccr_ui_handler_cb cb;
    void *ctx;
    int port;
    char token[TOKEN_BYTES * 2 + 1];
    char cookie_name[32];
    struct conn *conns;
    unsigned open_handles;
    bool stopping;
    char read_buf[READ_BUFFER];
};

struct conn {
    uv_tcp_t tcp;
    struct ccr_ui_server *srv;
    struct conn *next;
    struct conn **pprev;
    http_parser parser;
    bool closing;
    bool in_value;
    bool has_body;
    size_t head_bytes;
    enum hdr current;
    struct ccr_buf url;
    struct ccr_buf field;
    struct ccr_buf hdrs[HDR_COUNT];
    bool seen[HDR_COUNT];
};

struct write_req {
    uv_write_t req;
    bool close_after;
    char data[];
};

static void maybe_free(struct ccr_ui_server *s)
{
    if (s->stopping && s->open_handles == 0) {
        free(s);
    }
}

static void on_listener_closed(uv_handle_t *h)
{
    struct ccr_ui_server *s = h->data;

    s->open_handles--;
    maybe_free(s);
}

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct ccr_ui_server *s = c->srv;

    ccr_buf_finish(&c->url);
    ccr_buf_finish(&c->field);
    for (int i = 0; i < HDR_COUNT; i++) {
        ccr_buf_finish(&c->hdrs[i]);
    }
    free(c);
    s->open_handles--;
    maybe_free(s);
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
}

static void on_written(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct conn *c = req->handle->data;

    if (status < 0 || w->close_after) {
        conn_close(c);
    }
    free(w);
}

/* Queues head and body as one write; close_after closes once it is sent. */
static void conn_write(struct conn *c, const struct ccr_buf *head, const uint8_t *body,
                       size_t len, bool close_after)
{
    if (c->closing) {
        return;
    }
    struct write_req *w = ccr_xmalloc(sizeof(*w) + head->len + len);
    memcpy(w->data, head->data, head->len);
    if (len > 0) {
        memcpy(w->data + head->len, body, len);
    }
    w->close_after = close_after;
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)(head->len + len));
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) < 0) {
        free(w);
        conn_close(c);
    }
}

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

/*
 * The page runs only its own scripts and styles, talks only to this
 * server, and may not be framed: prompts and tool output are shown in it,
 * so even a slip that put one into HTML could not run code.
 */
static const char security_headers[] =
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Cross-Origin-Opener-Policy: same-origin\r\n"
    "Cross-Origin-Resource-Policy: same-origin\r\n";

static void head_start(struct ccr_buf *h, int status, bool keep_alive)
{
    ccr_buf_printf(h, "HTTP/1.1 %d %s\r\n%sConnection: %s\r\n", status, status_text(status),
                   security_headers, keep_alive ? "keep-alive" : "close");
}

/* A short plain-text answer: errors, redirects. */
static void send_simple(struct conn *c, int status, const char *text, const char *extra)
{
    bool keep = http_should_keep_alive(&c->parser) && status < 400;
    bool head_only = c->parser.method == HTTP_HEAD;
    struct ccr_buf h = {0};
    size_t len = strlen(text);

    head_start(&h, status, keep);
    ccr_buf_printf(&h, "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"
                       "Content-Length: %zu\r\n%s\r\n", len, extra != NULL ? extra : "");
    conn_write(c, &h, (const uint8_t *)text, head_only ? 0 : len, !keep);
    ccr_buf_finish(&h);
}

/* Whether the client takes gzip; every browser and curl --compressed do. */
static bool accepts_gzip(struct conn *c)
{
    const char *v = ccr_buf_cstr(&c->hdrs[HDR_ACCEPT_ENCODING]);

    /* Browsers never send "gzip;q=0"; a plain substring test is what they need. */
    return strstr(v, "gzip") != NULL;
}

/*
 * Sends a handler's answer: 304 when the client holds this version already,
 * otherwise the body, compressed when the client takes gzip.
 */
static void send_response(struct conn *c, const struct ccr_ui_response *r)
{
    bool keep = http_should_keep_alive(&c->parser);
    bool head_only = c->parser.method == HTTP_HEAD;
    const uint8_t *body = r->body;
    size_t len = r->len;
    uint8_t *gz = NULL;
    char etag[24];
    struct ccr_buf h = {0};
    const char *encoding = NULL;

    if (r->etag != NULL) {
        snprintf(etag, sizeof(etag), "%s", r->etag);
    } else {
        ccr_ui_etag(r->body, r->len, etag);
    }
    if (r->status == 200 && strcmp(ccr_buf_cstr(&c->hdrs[HDR_IF_NONE_MATCH]), etag) == 0) {
        head_start(&h, 304, keep);
        ccr_buf_printf(&h, "ETag: %s\r\nCache-Control: no-cache\r\n\r\n", etag);
        conn_write(c, &h, NULL, 0, !keep);
        ccr_buf_finish(&h);
        return;
    }
    if (accepts_gzip(c) && r->gz_body != NULL) {
        body = r->gz_body;
        len = r->gz_len;
        encoding = "gzip";
    } else if (accepts_gzip(c) && len >= GZIP_MIN &&
               ccr_ui_gzip(body, len, GZIP_LEVEL_DYNAMIC, &gz, &len) == 0) {
        body = gz;
        encoding = "gzip";
    }
    head_start(&h, r->status, keep);
    ccr_buf_printf(&h, "Content-Type: %s\r\nContent-Length: %zu\r\nETag: %s\r\n"
                       "Cache-Control: %s\r\nVary: Accept-Encoding\r\n",
                   r->type, len, etag, r->cache_revalidate ? "no-cache" : "no-store, no-cache");
    if (encoding != NULL) {
        ccr_buf_printf(&h, "Content-Encoding: %s\r\n", encoding);
    }
    ccr_buf_append(&h, "\r\n", 2);
    conn_write(c, &h, body, head_only ? 0 : len, !keep);
    ccr_buf_finish(&h);
    free(gz);
}

/* Constant time, so the answer's timing says nothing about how much of a guess was right. */
static bool token_equal(const struct ccr_ui_server *s, const char *v, size_t len)
{
    return len == TOKEN_BYTES * 2 && sodium_memcmp(v, s->token, len) == 0;
}

/* Finds name=value in a list split by sep (a query, or a Cookie header). */
static const char *find_param(const char *list, const char *name, char sep, size_t *len)
{
    size_t n = strlen(name);

    for (const char *p = list; p != NULL && *p != '\0';) {
        while (*p == ' ') {
            p++;
        }
        const char *end = strchr(p, sep);
        size_t item = end != NULL ? (size_t)(end - p) : strlen(p);
        if (item > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            *len = item - n - 1;
            return p + n + 1;
        }
        p = end != NULL ? end + 1 : NULL;
    }
    return NULL;
}

/*
 * A browser that reached us by a name other than our address (DNS
 * rebinding), or a page of another site, is refused before anything else.
 */
static bool host_ok(const struct conn *c, const char *host)
{
    char a[64];
    char b[64];

    snprintf(a, sizeof(a), "127.0.0.1:%d", c->srv->port);
    snprintf(b, sizeof(b), "localhost:%d", c->srv->port);
    return strcmp(host, a) == 0 || strcmp(host, b) == 0;
}

/*
 * Why a request is refused before its token is even looked at, or NULL.
 * Fetch Metadata is trusted when present: a browser sets it and a page
 * cannot forge it; "none" is a URL typed or pasted by the user.
 */
static const char *refusal(struct conn *c)
{
    const char *origin = ccr_buf_cstr(&c->hdrs[HDR_ORIGIN]);
    const char *site = ccr_buf_cstr(&c->hdrs[HDR_FETCH_SITE]);

    if (c->parser.method != HTTP_GET && c->parser.method != HTTP_HEAD) {
        return "only GET and HEAD are served";
    }
    if (!c->seen[HDR_HOST] || !host_ok(c, ccr_buf_cstr(&c->hdrs[HDR_HOST]))) {
        return "wrong Host header";
    }
    if (c->seen[HDR_ORIGIN] &&
        (strncmp(origin, "http://", 7) != 0 || !host_ok(c, origin + 7))) {
        return "cross-site request refused";
    }
    if (c->seen[HDR_FETCH_SITE] && strcmp(site, "same-origin") != 0 &&
        strcmp(site, "none") != 0) {
        return "cross-site request refused";
    }
    return NULL;
}

/* 1: the cookie or an Authorization header carries the token; 2: the query does. */
static int authorised(struct conn *c, const char *query)
{
    const char *auth = ccr_buf_cstr(&c->hdrs[HDR_AUTHORIZATION]);
    const char *v;
    size_t len;

    v = find_param(ccr_buf_cstr(&c->hdrs[HDR_COOKIE]), c->srv->cookie_name, ';', &len);
    if (v != NULL && token_equal(c->srv, v, len)) {
        return 1;
    }
    if (strncmp(auth, "Bearer ", 7) == 0 && token_equal(c->srv, auth + 7, strlen(auth + 7))) {
        return 1;
    }
    v = find_param(query, "token", '&', &len);
    if (v != NULL && token_equal(c->srv, v, len)) {
        return 2;
    }
    return 0;
}

/* Trades the token in a page's URL for a cookie, so it leaves the address bar. */
static void redirect_with_cookie(struct conn *c, const char *path)
{
    /* "//host" in a Location is another site; only ever send the browser home. */
    if (path[0] != '/' || path[1] == '/') {
        path = "/";
    }
    char *extra = ccr_xasprintf("Location: %s\r\nSet-Cookie: %s=%s; HttpOnly; SameSite=Strict;"
                                " Path=/\r\n",
                                path, c->srv->cookie_name, c->srv->token);

    send_simple(c, 303, "see the page without the token\n", extra);
    free(extra);
}

/* One complete request: refuse it, redirect it, or hand it to the handler. */
static void dispatch(struct conn *c)
{
    char *url = ccr_xstrdup(ccr_buf_cstr(&c->url));
    char *q = strchr(url, '?');
    const char *why = refusal(c);
    struct ccr_ui_response res = {.status = 404};
    int auth;

    if (q != NULL) {
        *q++ = '\0';
    }
    if (why != NULL) {
        send_simple(c, c->parser.method == HTTP_GET || c->parser.method == HTTP_HEAD ? 403 : 405,
                    why, NULL);
        goto out;
    }
    auth = authorised(c, q != NULL ? q : "");
    if (auth == 0) {
        send_simple(c, 401, "open the URL ccrun ui printed (it carries the token)\n", NULL);
        goto out;
    }
    if (auth == 2 && strncmp(url, "/api/", 5) != 0) {
        redirect_with_cookie(c, url);
        goto out;
    }
    struct ccr_ui_request req = {.path = url, .query = q != NULL ? q : ""};
    c->srv->cb(c->srv->ctx, &req, &res);
    if (res.body == NULL) {
        send_simple(c, res.status, res.status == 404 ? "not found\n" : "error\n", NULL);
    } else {
        send_response(c, &res);
    }
    if (res.owned) {
        free((void *)res.body);
    }
out:
    free(url);
}

/* A kept-alive connection parses request after request into the same buffers. */
static int on_message_begin(http_parser *p)
{
    struct conn *c = p->data;

    ccr_buf_reset(&c->url);
    ccr_buf_reset(&c->field);
    for (int i = 0; i < HDR_COUNT; i++) {
        ccr_buf_reset(&c->hdrs[i]);
        c->seen[i] = false;
    }
    c->in_value = false;
    c->has_body = false;
    c->head_bytes = 0;
    return 0;
}

/* Every byte of the request line and headers counts towards MAX_HEAD. */
static int count_head(struct conn *c, size_t len)
{
    c->head_bytes += len;
    return c->head_bytes > MAX_HEAD ? -1 : 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;

    if (count_head(c, len) < 0 || c->url.len + len > MAX_URL) {
        return -1;
    }
    ccr_buf_append(&c->url, at, len);
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;

    if (count_head(c, len) < 0) {
        return -1;
    }
    if (c->in_value) {
        ccr_buf_reset(&c->field);
        c->in_value = false;
    }
    ccr_buf_append(&c->field, at, len);
    return 0;
}

static enum hdr which_header(struct conn *c)
{
    const char *name = ccr_buf_cstr(&c->field);

    for (int i = 0; i < HDR_COUNT; i++) {
        if (strcasecmp(name, hdr_names[i]) == 0) {
            return (enum hdr)i;
        }
    }
    return HDR_OTHER;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;

    if (count_head(c, len) < 0) {
        return -1;
    }
    if (!c->in_value) {
        c->in_value = true;
        c->current = which_header(c);
        /* A repeated header of these is never sent by a browser; refuse the doubt. */
        if (c->current != HDR_OTHER && c->seen[c->current] && c->current != HDR_COOKIE) {
            return -1;
        }
        if (c->current == HDR_COOKIE && c->seen[HDR_COOKIE]) {
            ccr_buf_append(&c->hdrs[HDR_COOKIE], ";", 1);
        }
        if (c->current != HDR_OTHER) {
            c->seen[c->current] = true;
        }
    }
    if (c->current != HDR_OTHER) {
        ccr_buf_append(&c->hdrs[c->current], at, len);
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;

    /* Nothing here takes a body; remember it to refuse the request. */
    c->has_body = true;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = p->data;

    if (c->has_body) {
        send_simple(c, 400, "requests carry no body here\n", NULL);
        return 0;
    }
    dispatch(c);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = h->data;

    *buf = uv_buf_init(c->srv->read_buf, sizeof(c->srv->read_buf));
}

/*
 * Feeds what arrived to the parser, which dispatches each complete request.
 * On a malformed request the answer says so and the connection closes once
 * it is written; reading stops so nothing more is parsed meanwhile.
 */
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = st->data;

    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (nread == 0 || c->closing) {
        return;
    }
    size_t done = http_parser_execute(&c->parser, &parser_settings, buf->base, (size_t)nread);
    if (c->parser.http_errno != HPE_OK || done != (size_t)nread) {
        bool too_big = c->head_bytes > MAX_HEAD;
        send_simple(c, too_big ? 431 : 400, too_big ? "request head too large\n"
                                                    : "malformed request\n", NULL);
        if (!c->closing) {
            uv_read_stop(st);
        }
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct ccr_ui_server *s = server->data;

    if (status < 0) {
        ccr_log_warn("ui", "accept failed: %s", uv_strerror(status));
        return;
    }
    struct conn *c = ccr_xcalloc(1, sizeof(*c));
    c->srv = s;
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    s->open_handles++;
    c->next = s->conns;
    c->pprev = &s->conns;
    if (s->conns != NULL) {
        s->conns->pprev = &c->next;
    }
    s->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    /*
     * A page loads a dozen small files over a few kept-alive connections;
     * with Nagle's algorithm each answer after the first would wait for the
     * browser's delayed acknowledgement, tens of milliseconds.
     */
    uv_tcp_nodelay(&c->tcp, 1);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int ccr_ui_server_start(uv_loop_t *loop, int port, ccr_ui_handler_cb cb, void *ctx,
                        struct ccr_ui_server **out, char **cause)
{
    struct ccr_ui_server *s = ccr_xcalloc(1, sizeof(*s));
    struct sockaddr_in addr;
    uint8_t raw[TOKEN_BYTES];
    int rc;

    s->loop = loop;
    s->cb = cb;
    s->ctx = ctx;
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(s->token, sizeof(s->token), raw, sizeof(raw));
    sodium_memzero(raw, sizeof(raw));
    uv_ip4_addr("127.0.0.1", port, &addr);
    uv_tcp_init(loop, &s->tcp);
    s->tcp.data = s;
    s->open_handles = 1;
    rc = uv_tcp_bind(&s->tcp, (const struct sockaddr *)&addr, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&s->tcp, 64, on_connection);
    }
    if (rc < 0) {
        *cause = ccr_xasprintf("cannot listen on 127.0.0.1:%d: %s", port, uv_strerror(rc));
        s->stopping = true;
        uv_close((uv_handle_t *)&s->tcp, on_listener_closed);
        return rc;
    }
    struct sockaddr_in bound;
    int len = sizeof(bound);
    uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&bound, &len);
    s->port = ntohs(bound.sin_port);
    /* Cookies ignore the port, so each server names its own. */
    snprintf(s->cookie_name, sizeof(s->cookie_name), "ccrun_ui_%d", s->port);
    *out = s;
    return 0;
}

int ccr_ui_server_port(const struct ccr_ui_server *s)
{
    return s->port;
}

const char *ccr_ui_server_token(const struct ccr_ui_server *s)
{
    return s->token;
}

void ccr_ui_server_stop(struct ccr_ui_server *s)
{
    if (s == NULL || s->stopping) {
        return;
    }
    s->stopping = true;
    while (s->conns != NULL) {
        conn_close(s->conns);
    }
    uv_close((uv_handle_t *)&s->tcp, on_listener_closed);
}

int ccr_ui_gzip(const uint8_t *data, size_t len, int level, uint8_t **out, size_t *out_len)
{
    z_stream z;

    memset(&z, 0, sizeof(z));
    /* 15 + 16: the largest window, with a gzip header and trailer. */
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        return -ENOMEM;
    }
    size_t cap = deflateBound(&z, len);
    *out = ccr_xmalloc(cap);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = *out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(*out);
        *out = NULL;
        return -ENOMEM;
    }
    return 0;
}

void ccr_ui_etag(const uint8_t *data, size_t len, char out[24])
{
    uint8_t digest[crypto_generichash_BYTES_MIN];
    char hex[17];

    /* 16 bytes is the shortest digest BLAKE2b gives; 8 of them name a version. */
    crypto_generichash(digest, sizeof(digest), data, len, NULL, 0);
    sodium_bin2hex(hex, sizeof(hex), digest, 8);
    snprintf(out, 24, "\"%s\"", hex);
}
