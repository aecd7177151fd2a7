/* SPDX-License-Identifier: MIT */
/*
 * The dashboard's HTTP/1.1 server on 127.0.0.1: GET and HEAD only, a random
 * token turned into a cookie, Host, Origin and Fetch-Metadata checks, strict
 * security headers, ETags and gzip. What to answer is up to a handler.
 */
#ifndef CCR_UI_SERVER_H
#define CCR_UI_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* What the handler is asked; the strings live until the handler returns. */
struct ccr_ui_request {
    const char *path;  /* the path as sent (not percent-decoded), without the query */
    const char *query; /* the query without '?', "" when none */
};

/*
 * What the handler answers. body is owned by the response when owned is
 * true (freed with free() once sent), else it must outlive the server.
 * gzipped marks a body that is already gzip-compressed; gz_body, when set,
 * is a compressed copy the server may send instead of body. etag, when
 * set, must outlive the server too; otherwise the server hashes the body.
 */
struct ccr_ui_response {
    int status;
    const char *type;
    const uint8_t *body;
    size_t len;
    bool owned;
    const uint8_t *gz_body;
    size_t gz_len;
    const char *etag;
    bool cache_revalidate; /* assets: "no-cache" (revalidate); else "no-store" */
};

typedef void (*ccr_ui_handler_cb)(void *ctx, const struct ccr_ui_request *req,
                                  struct ccr_ui_response *res);

struct ccr_ui_server;

/*
 * Listens on 127.0.0.1:port (0: the kernel picks) with a fresh random
 * token. The handler runs on the loop for every request that passed the
 * checks. Returns 0 with *out set, or a negative libuv status with *cause
 * set (allocated; the caller frees).
 */
int ccr_ui_server_start(uv_loop_t *loop, int port, ccr_ui_handler_cb cb, void *ctx,
                        struct ccr_ui_server **out, char **cause);

int ccr_ui_server_port(const struct ccr_ui_server *s);
/* The token as 64 hex digits; it belongs to the server. */
const char *ccr_ui_server_token(const struct ccr_ui_server *s);

/* Closes the listener and every connection; the server frees itself once closed. */
void ccr_ui_server_stop(struct ccr_ui_server *s);

/*
 * Compresses len bytes of data with gzip at level (1 fastest, 9 smallest)
 * into *out (allocated; the caller frees). Returns 0 or -ENOMEM.
 */
int ccr_ui_gzip(const uint8_t *data, size_t len, int level, uint8_t **out, size_t *out_len);

/* Writes the ETag of data ("\"<16 hex>\"", from an unkeyed BLAKE2b digest) into out[24]. */
void ccr_ui_etag(const uint8_t *data, size_t len, char out[24]);

#endif
