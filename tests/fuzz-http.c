/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the whole receiver, from bytes on a loopback connection
 * to answers, with real ingestion into a history. The first byte sets how the
 * rest is cut into writes (0: one write); "@TOKEN@" in the input is replaced
 * by the receiver's bearer token so authorised requests are reached too.
 * Every input must end with the connection closed by the receiver within a
 * bounded number of loop turns.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "batch.h"
#include "fuzz.h"
#include "ingest.h"
#include "receiver.h"
#include "record.h"
#include "store.h"
#include "util.h"

#define TOKEN_MARK "@TOKEN@"
#define MAX_TURNS 100000

static uv_loop_t loop;
static struct ccr_receiver *rx;
static struct ccr_store *store;
static struct ccr_recorder rec;
static struct ccr_batch batch;

/* Requests take the same group-commit path as under ccrun. */
static bool on_request(void *ctx, const struct ccr_request *req, struct ccr_reply *reply)
{
    return ccr_batch_add(&batch, req, reply);
}

static void setup(void)
{
    char *cause = NULL;

    uv_loop_init(&loop);
    ccr_fuzz_open_recorder("http", &store, &rec);
    if (ccr_receiver_start(&loop, on_request, NULL, &rx, &cause) < 0) {
        fprintf(stderr, "fuzz-http: setup: %s\n", cause ? cause : "");
        abort();
    }
    ccr_batch_init(&batch, &loop, &rec, NULL, NULL);
}

/* The input with every token mark replaced by the real token. */
static void expand(const uint8_t *data, size_t size, struct ccr_buf *out)
{
    const char *token = ccr_receiver_token(rx);
    size_t mark = strlen(TOKEN_MARK);

    for (size_t i = 0; i < size;) {
        if (size - i >= mark && memcmp(data + i, TOKEN_MARK, mark) == 0) {
            ccr_buf_append(out, token, strlen(token));
            i += mark;
        } else {
            ccr_buf_append(out, data + i, 1);
            i++;
        }
    }
}

static int connect_receiver(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sin.sin_port = htons((uint16_t)ccr_receiver_port(rx));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0) {
        perror("fuzz-http: socket");
        abort();
    }
    /*
     * libFuzzer's timeout alarm interrupts connect now and then; the kernel
     * goes on connecting, and asking again says when it is done.
     */
    while (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        if (errno == EISCONN) {
            break;
        }
        if (errno != EINTR && errno != EALREADY) {
            perror("fuzz-http: connect");
            abort();
        }
    }
    return fd;
}

/* Reads whatever has arrived; true once the receiver has closed the connection. */
static bool drained(int fd)
{
    char buf[4096];

    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            return true;
        }
        return false;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ccr_buf req = {0};
    size_t turns = 0;

    if (rx == NULL) {
        setup();
    }
    if (size < 1) {
        return 0;
    }
    size_t piece = data[0] == 0 ? SIZE_MAX : (size_t)data[0] * 3;
    expand(data + 1, size - 1, &req);
    int fd = connect_receiver();
    for (size_t off = 0; off < req.len;) {
        size_t n = req.len - off < piece ? req.len - off : piece;
        ssize_t w = send(fd, req.data + off, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            break; /* the receiver closed on an error answer; that is fine */
        }
        uv_run(&loop, UV_RUN_NOWAIT);
        drained(fd);
    }
    shutdown(fd, SHUT_WR);
    while (!drained(fd)) {
        if (++turns > MAX_TURNS) {
            fprintf(stderr, "fuzz-http: the receiver never closed the connection\n");
            abort();
        }
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    close(fd);
    /* One more turn runs the close callbacks, so nothing is left between inputs. */
    uv_run(&loop, UV_RUN_NOWAIT);
    ccr_buf_finish(&req);
    return 0;
}
