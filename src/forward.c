/* SPDX-License-Identifier: MIT */
/* The upstream queue: libcurl's multi interface driven by uv_poll and uv_timer. */
#include "forward.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zlib.h>

#include "curl-lib.h"
#include "log.h"
#include "otlp-encode.h"
#include "util.h"


/* libcurl's functions, set when the first forwarder is created. */
static const struct ccr_curl *cu;
/* Transfers at once: enough to keep up with one exporter, few enough to be polite. */
#define MAX_IN_FLIGHT 4
/* Tries of one batch while ccrun runs; after the last it waits in the outbox. */
#define MAX_ATTEMPTS 6
/* The first retry waits this long, doubling up to BACKOFF_MAX_MS. */
#define BACKOFF_MS 500
#define BACKOFF_MAX_MS 30000
/* A Retry-After longer than this is cut to it: the outbox is the place for long waits. */
#define RETRY_AFTER_MAX_MS (5 * 60 * 1000)
/* Connecting may take this long at most, whatever the request timeout. */
#define CONNECT_TIMEOUT_MS 5000

/* One export request on its way. */
struct batch {
    struct batch *next;
    enum ccr_signal signal;
    uint8_t *body; /* packed protobuf, resource attributes already added */
    size_t len;
    char *spool_path; /* the outbox file it came from, removed once delivered */
    unsigned attempts;
    uint64_t not_before; /* monotonic ms; 0 for at once */
    bool asked_to_wait;  /* not_before is the upstream's Retry-After */
};

struct transfer {
    struct ccr_forward *fw;
    CURL *easy;
    struct batch *batch;
    struct ccr_buf payload;
    struct curl_slist *headers;
    char error[CURL_ERROR_SIZE];
};

/* A socket libcurl asked us to watch. */
struct sock {
    uv_poll_t poll;
    struct ccr_forward *fw;
    struct sock *next;
};

struct ccr_forward {
    uv_loop_t *loop;
    const struct ccr_forward_config *cfg;
    struct ccr_outbox *outbox;
    CURLM *multi;
    uv_timer_t curl_timer;  /* libcurl's own timeouts */
    uv_timer_t retry_timer; /* the next batch waiting for its retry */
    uv_timer_t deadline;    /* the end of the grace period when closing */
    struct batch *queue;    /* waiting, oldest first */
    struct batch **queue_tail;
    size_t queued_bytes;
    unsigned in_flight;
    struct transfer *transfers[MAX_IN_FLIGHT];
    struct sock *socks;
    unsigned open_handles; /* embedded timers and socks not yet closed */
    bool closing;
    uint64_t close_end; /* monotonic ms when closing must be over */
    bool closed; /* everything spooled; handles closing or closed */
    ccr_forward_done_cb on_done;
    void *ctx;
    struct ccr_forward_stats stats;
};

static uint64_t now_ms(void)
{
    return ccr_mono_ns() / 1000000;
}

static void batch_free(struct batch *b)
{
    if (b != NULL) {
        free(b->body);
        free(b->spool_path);
        free(b);
    }
}

/* Copies as much of s as fits, always terminated. */
static void copy_text(char *out, size_t n, const char *s)
{
    size_t len = strlen(s);

    if (len >= n) {
        len = n - 1;
    }
    memcpy(out, s, len);
    out[len] = '\0';
}

static void note_failure(struct ccr_forward *fw, const char *why)
{
    copy_text(fw->stats.why, sizeof(fw->stats.why), why);
}

/* Writes b to the outbox unless it is there already, and frees it. */
static void spool(struct ccr_forward *fw, struct batch *b)
{
    int rc = 0;

    if (b->spool_path == NULL) {
        rc = fw->outbox != NULL ? ccr_outbox_put(fw->outbox, b->signal, b->body, b->len, NULL)
                                : -ENOENT;
    }
    if (rc == 0) {
        fw->stats.spooled++;
    } else {
        fw->stats.lost++;
        ccr_log_error("forward", "lost a %s batch: cannot spool it: %s (bytes=%zu)",
                      ccr_signal_name(b->signal), strerror(-rc), b->len);
    }
    batch_free(b);
}

static void enqueue(struct ccr_forward *fw, struct batch *b)
{
    b->next = NULL;
    *fw->queue_tail = b;
    fw->queue_tail = &b->next;
    fw->queued_bytes += b->len;
}

/* Takes the first batch that is due out of the queue, or NULL. */
static struct batch *dequeue_due(struct ccr_forward *fw, uint64_t now)
{
    for (struct batch **p = &fw->queue; *p != NULL; p = &(*p)->next) {
        struct batch *b = *p;
        if (b->not_before <= now) {
            *p = b->next;
            if (fw->queue_tail == &b->next) {
                fw->queue_tail = p;
            }
            fw->queued_bytes -= b->len;
            return b;
        }
    }
    return NULL;
}

/*
 * One deflate call over the whole body: bodies are at most a few MiB and
 * deflateBound guarantees the output fits, so there is no loop to get wrong.
 */
static void gzip_body(const uint8_t *in, size_t len, struct ccr_buf *out)
{
    z_stream zs = {0};

    deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, MAX_WBITS + 16, 8, Z_DEFAULT_STRATEGY);
    size_t bound = deflateBound(&zs, (uLong)len);
    out->data = ccr_xrealloc(out->data, bound);
    out->cap = bound;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out->data;
    zs.avail_out = (uInt)bound;
    deflate(&zs, Z_FINISH);
    out->len = bound - zs.avail_out;
    deflateEnd(&zs);
}

/* The answer's body (a partial_success at most) is not needed; the status says enough. */
static size_t discard_body(char *p, size_t size, size_t n, void *ctx)
{
    return size * n;
}

/* The body as the target wants it; false when it cannot be encoded (never sendable). */
static bool build_payload(struct transfer *t, const struct ccr_forward_target *target)
{
    struct ccr_buf json = {0};
    const uint8_t *body = t->batch->body;
    size_t len = t->batch->len;

    if (target->json) {
        if (ccr_otlp_encode_json(t->batch->signal, body, len, &json) < 0) {
            return false;
        }
        body = json.data;
        len = json.len;
    }
    if (target->gzip) {
        gzip_body(body, len, &t->payload);
    } else {
        ccr_buf_append(&t->payload, body, len);
    }
    ccr_buf_finish(&json);
    t->headers = cu->slist_append(t->headers, target->json
                                                   ? "Content-Type: application/json"
                                                   : "Content-Type: application/x-protobuf");
    if (target->gzip) {
        t->headers = cu->slist_append(t->headers, "Content-Encoding: gzip");
    }
    t->headers = cu->slist_append(t->headers, "Expect:");
    t->headers = cu->slist_append(t->headers, "User-Agent: ccrun/" CCRUN_VERSION);
    for (size_t i = 0; target->headers != NULL && target->headers[i] != NULL; i++) {
        t->headers = cu->slist_append(t->headers, target->headers[i]);
    }
    return true;
}

/*
 * No redirects are followed and only http and https are allowed, so a
 * misbehaving upstream cannot send the telemetry, or the headers that carry
 * its credentials, somewhere else. NOSIGNAL keeps libcurl's resolver
 * timeouts away from the signals ccrun passes on to the child.
 */
static void setup_easy(struct transfer *t, const struct ccr_forward_target *target)
{
    CURL *e = t->easy;

    cu->easy_setopt(e, CURLOPT_URL, target->url);
    cu->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    cu->easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    cu->easy_setopt(e, CURLOPT_POST, 1L);
    cu->easy_setopt(e, CURLOPT_POSTFIELDS, (const char *)t->payload.data);
    cu->easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->payload.len);
    cu->easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    cu->easy_setopt(e, CURLOPT_TIMEOUT_MS, target->timeout_ms);
    cu->easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     target->timeout_ms < CONNECT_TIMEOUT_MS ? target->timeout_ms
                                                             : (long)CONNECT_TIMEOUT_MS);
    cu->easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
    cu->easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    cu->easy_setopt(e, CURLOPT_PRIVATE, t);
    if (target->ca_file != NULL) {
        cu->easy_setopt(e, CURLOPT_CAINFO, target->ca_file);
    }
    if (target->cert_file != NULL) {
        cu->easy_setopt(e, CURLOPT_SSLCERT, target->cert_file);
    }
    if (target->key_file != NULL) {
        cu->easy_setopt(e, CURLOPT_SSLKEY, target->key_file);
    }
}

static void transfer_free(struct transfer *t)
{
    cu->slist_free_all(t->headers);
    ccr_buf_finish(&t->payload);
    if (t->easy != NULL) {
        cu->easy_cleanup(t->easy);
    }
    free(t);
}

/* Starts sending b; on a body that cannot be encoded it is dropped. */
static void start(struct ccr_forward *fw, struct batch *b)
{
    const struct ccr_forward_target *target = &fw->cfg->targets[b->signal];
    struct transfer *t = ccr_xcalloc(1, sizeof(*t));

    t->fw = fw;
    t->batch = b;
    t->easy = cu->easy_init();
    if (t->easy == NULL || !build_payload(t, target)) {
        ccr_log_error("forward", "dropped a %s batch: cannot encode it (bytes=%zu)",
                      ccr_signal_name(b->signal), b->len);
        fw->stats.refused++;
        if (b->spool_path != NULL) {
            ccr_outbox_remove(b->spool_path);
        }
        batch_free(b);
        transfer_free(t);
        return;
    }
    setup_easy(t, target);
    b->attempts++;
    for (int i = 0; i < MAX_IN_FLIGHT; i++) {
        if (fw->transfers[i] == NULL) {
            fw->transfers[i] = t;
            break;
        }
    }
    fw->in_flight++;
    cu->multi_add_handle(fw->multi, t->easy);
}

static void on_retry_timer(uv_timer_t *timer);

/* Starts what is due, and sets the retry timer for what waits. */
static void pump(struct ccr_forward *fw)
{
    uint64_t now = now_ms();
    struct batch *b;

    while (fw->in_flight < MAX_IN_FLIGHT && (b = dequeue_due(fw, now)) != NULL) {
        start(fw, b);
    }
    uint64_t next = 0;
    for (b = fw->queue; b != NULL; b = b->next) {
        if (next == 0 || b->not_before < next) {
            next = b->not_before;
        }
    }
    if (next > now && !fw->closed) {
        uv_timer_start(&fw->retry_timer, on_retry_timer, next - now, 0);
    }
}

static void on_retry_timer(uv_timer_t *timer)
{
    pump(timer->data);
}

/* A short reason for the summary: "connection refused", "HTTP 503", "timed out". */
static void describe_failure(struct transfer *t, CURLcode code, long status, char *out,
                             size_t n)
{
    long os_errno = 0;

    if (code == CURLE_OK) {
        snprintf(out, n, "HTTP %ld", status);
        return;
    }
    cu->easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &os_errno);
    if (code == CURLE_OPERATION_TIMEDOUT) {
        copy_text(out, n, "timed out");
    } else if (code == CURLE_COULDNT_CONNECT && os_errno != 0) {
        copy_text(out, n, strerror((int)os_errno));
    } else {
        copy_text(out, n, t->error[0] != '\0' ? t->error : cu->easy_strerror(code));
    }
    /* "Connection refused" reads on in a sentence as "connection refused"; "URL" stays. */
    if (!isupper((unsigned char)out[1])) {
        out[0] = (char)tolower((unsigned char)out[0]);
    }
}

/* When a failed batch may go again: backoff with jitter, or what Retry-After asks. */
static uint64_t retry_at(struct transfer *t, unsigned attempts)
{
    uint64_t delay = BACKOFF_MS;
    curl_off_t after = 0;

    for (unsigned i = 1; i < attempts && delay < BACKOFF_MAX_MS; i++) {
        delay *= 2;
    }
    if (delay > BACKOFF_MAX_MS) {
        delay = BACKOFF_MAX_MS;
    }
    delay += randombytes_uniform((uint32_t)delay / 4 + 1);
    if (cu->easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0) {
        uint64_t asked = (uint64_t)after * 1000;
        delay = asked > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : asked;
    }
    return now_ms() + delay;
}

/*
 * 2xx is delivered. 429 and 5xx and transport failures are worth another
 * try; 400, 413 and 415 say the body itself is wrong, so it is dropped;
 * anything else (a wrong path, bad credentials) waits in the outbox until the
 * configuration is fixed.
 */
static void finish_transfer(struct transfer *t, CURLcode code)
{
    struct ccr_forward *fw = t->fw;
    struct batch *b = t->batch;
    long status = 0;
    char why[sizeof(fw->stats.why)];

    cu->easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (code == CURLE_OK && status >= 200 && status < 300) {
        fw->stats.forwarded++;
        fw->stats.resent += b->spool_path != NULL;
        if (b->spool_path != NULL) {
            ccr_outbox_remove(b->spool_path);
        }
        ccr_log_debug("forward", "sent %s batch (bytes=%zu status=%ld attempt=%u)",
                      ccr_signal_name(b->signal), b->len, status, b->attempts);
        batch_free(b);
        return;
    }
    describe_failure(t, code, status, why, sizeof(why));
    note_failure(fw, why);
    ccr_log_warn("forward", "%s batch not delivered: %s (attempt=%u)",
                 ccr_signal_name(b->signal), why, b->attempts);
    if (code == CURLE_OK && (status == 400 || status == 413 || status == 415)) {
        fw->stats.refused++;
        if (b->spool_path != NULL) {
            ccr_outbox_remove(b->spool_path);
        }
        batch_free(b);
        return;
    }
    bool again = code != CURLE_OK || status == 429 || status >= 500;
    curl_off_t asked = 0;
    if (again) {
        b->not_before = retry_at(t, b->attempts);
        cu->easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &asked);
        b->asked_to_wait = asked > 0;
    }
    /*
     * Once ccrun is closing, only an upstream that said when to come back,
     * within the deadline, is waited for; other failures go to the outbox.
     */
    if (fw->closing && (asked <= 0 || b->not_before > fw->close_end)) {
        again = false;
    }
    if (!again || b->attempts >= MAX_ATTEMPTS) {
        spool(fw, b);
        return;
    }
    enqueue(fw, b);
}

static void remove_transfer(struct ccr_forward *fw, struct transfer *t)
{
    for (int i = 0; i < MAX_IN_FLIGHT; i++) {
        if (fw->transfers[i] == t) {
            fw->transfers[i] = NULL;
        }
    }
    fw->in_flight--;
    cu->multi_remove_handle(fw->multi, t->easy);
}

static void maybe_finish(struct ccr_forward *fw);

/* Collects finished transfers after libcurl has done some work. */
static void check_done(struct ccr_forward *fw)
{
    CURLMsg *msg;
    int left;

    while ((msg = cu->multi_info_read(fw->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        struct transfer *t = NULL;
        CURLcode code = msg->data.result;
        cu->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        remove_transfer(fw, t);
        finish_transfer(t, code);
        transfer_free(t);
    }
    if (!fw->closed) {
        pump(fw);
    }
    maybe_finish(fw);
}

/* A watched socket is ready: libcurl does the reading and writing. */
static void on_poll(uv_poll_t *poll, int status, int events)
{
    struct sock *s = poll->data;
    struct ccr_forward *fw = s->fw;
    int running;
    uv_os_fd_t fd;
    int flags = 0;

    uv_fileno((uv_handle_t *)poll, &fd);
    if (status < 0) {
        flags = CURL_CSELECT_ERR;
    }
    flags |= (events & UV_READABLE) ? CURL_CSELECT_IN : 0;
    flags |= (events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0;
    cu->multi_socket_action(fw->multi, fd, flags, &running);
    check_done(fw);
}

static void handle_gone(struct ccr_forward *fw);

static void on_sock_closed(uv_handle_t *h)
{
    struct sock *s = h->data;
    struct ccr_forward *fw = s->fw;

    free(s);
    handle_gone(fw);
}

static void sock_close(struct ccr_forward *fw, struct sock *s)
{
    for (struct sock **p = &fw->socks; *p != NULL; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

/* libcurl's CURLMOPT_SOCKETFUNCTION: start, change or stop watching a socket. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct ccr_forward *fw = userp;
    struct sock *s = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            cu->multi_assign(fw->multi, fd, NULL);
            sock_close(fw, s);
        }
        return 0;
    }
    /* The sock rides along with the socket in libcurl, found again by curl_multi_assign. */
    if (s == NULL) {
        s = ccr_xcalloc(1, sizeof(*s));
        s->fw = fw;
        if (uv_poll_init_socket(fw->loop, &s->poll, fd) < 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        s->next = fw->socks;
        fw->socks = s;
        fw->open_handles++;
        cu->multi_assign(fw->multi, fd, s);
    }
    int events = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static void on_curl_timer(uv_timer_t *timer)
{
    struct ccr_forward *fw = timer->data;
    int running;

    cu->multi_socket_action(fw->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(fw);
}

/*
 * libcurl's CURLMOPT_TIMERFUNCTION. Even a zero timeout goes through the
 * loop: calling back into libcurl from here is not allowed.
 */
static int on_curl_timeout(CURLM *multi, long timeout_ms, void *userp)
{
    struct ccr_forward *fw = userp;

    if (timeout_ms < 0) {
        uv_timer_stop(&fw->curl_timer);
    } else {
        uv_timer_start(&fw->curl_timer, on_curl_timer, (uint64_t)timeout_ms, 0);
    }
    return 0;
}

/* The outbox's files go to the front of the queue, oldest first, while there is room. */
static void resend_outbox(struct ccr_forward *fw)
{
    char **paths;
    size_t n;

    if (fw->outbox == NULL || !ccr_outbox_claim(fw->outbox)) {
        return;
    }
    n = ccr_outbox_list(fw->outbox, &paths);
    for (size_t i = 0; i < n; i++) {
        struct ccr_buf body = {0};
        enum ccr_signal signal;
        if (fw->queued_bytes < fw->cfg->queue_bytes &&
            ccr_outbox_read(paths[i], &signal, &body) == 0 &&
            fw->cfg->targets[signal].url != NULL) {
            struct batch *b = ccr_xcalloc(1, sizeof(*b));
            b->signal = signal;
            b->body = body.data;
            b->len = body.len;
            b->spool_path = paths[i];
            paths[i] = NULL;
            enqueue(fw, b);
        } else {
            ccr_buf_finish(&body);
        }
        free(paths[i]);
    }
    free(paths);
    if (fw->queue != NULL) {
        ccr_log_info("forward", "resending batches from the outbox");
    }
}

/*
 * libcurl drives its sockets through the two callbacks, so the transfers
 * run on ccrun's loop with the receiver: nothing waits on the network.
 */
int ccr_forward_create(uv_loop_t *loop, const struct ccr_forward_config *cfg,
                       struct ccr_outbox *outbox, bool resend, struct ccr_forward **out,
                       char **cause)
{
    if (cu == NULL && (cu = ccr_curl_open(cause)) == NULL) {
        return -EIO;
    }
    struct ccr_forward *fw = ccr_xcalloc(1, sizeof(*fw));
    fw->loop = loop;
    fw->cfg = cfg;
    fw->outbox = outbox;
    fw->queue_tail = &fw->queue;
    fw->multi = cu->multi_init();
    cu->multi_setopt(fw->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    cu->multi_setopt(fw->multi, CURLMOPT_SOCKETDATA, fw);
    cu->multi_setopt(fw->multi, CURLMOPT_TIMERFUNCTION, on_curl_timeout);
    cu->multi_setopt(fw->multi, CURLMOPT_TIMERDATA, fw);
    uv_timer_t *timers[] = {&fw->curl_timer, &fw->retry_timer, &fw->deadline};
    for (size_t i = 0; i < 3; i++) {
        uv_timer_init(loop, timers[i]);
        timers[i]->data = fw;
        fw->open_handles++;
    }
    if (resend) {
        resend_outbox(fw);
        pump(fw);
    }
    *out = fw;
    return 0;
}

/*
 * The queue is bounded in bytes: an upstream that is down for a long run
 * must not grow ccrun's memory without end, and a batch on disk is as good
 * as one in memory for the next run.
 */
static void push_batch(struct ccr_forward *fw, struct batch *b)
{
    if (fw->closed || fw->queued_bytes + b->len > fw->cfg->queue_bytes) {
        if (!fw->closed) {
            note_failure(fw, "the queue was full");
        }
        spool(fw, b);
        return;
    }
    enqueue(fw, b);
    pump(fw);
}

void ccr_forward_push(struct ccr_forward *fw, struct ccr_otlp_request *req)
{
    struct ccr_buf body = {0};

    if (fw->cfg->targets[req->signal].url == NULL) {
        return;
    }
    ccr_otlp_encode_protobuf(req, fw->cfg->resource, &body);
    struct batch *b = ccr_xcalloc(1, sizeof(*b));
    b->signal = req->signal;
    b->body = body.data;
    b->len = body.len;
    push_batch(fw, b);
}

void ccr_forward_push_body(struct ccr_forward *fw, enum ccr_signal signal, const uint8_t *body,
                           size_t len)
{
    if (fw->cfg->targets[signal].url == NULL) {
        return;
    }
    struct batch *b = ccr_xcalloc(1, sizeof(*b));
    b->signal = signal;
    b->body = ccr_xmalloc(len);
    memcpy(b->body, body, len);
    b->len = len;
    push_batch(fw, b);
}

size_t ccr_forward_pending(const struct ccr_forward *fw)
{
    size_t n = fw->in_flight;

    for (const struct batch *b = fw->queue; b != NULL; b = b->next) {
        n++;
    }
    return n;
}

static void handle_gone(struct ccr_forward *fw)
{
    if (--fw->open_handles == 0 && fw->on_done != NULL) {
        fw->on_done(fw, fw->ctx);
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    handle_gone(h->data);
}

/*
 * The end: transfers still going are stopped and their batches, with every
 * one still queued, go to the outbox; then the handles close.
 */
static void finish(struct ccr_forward *fw)
{
    struct batch *b;

    fw->closed = true;
    for (int i = 0; i < MAX_IN_FLIGHT; i++) {
        struct transfer *t = fw->transfers[i];
        if (t != NULL) {
            remove_transfer(fw, t);
            note_failure(fw, "no answer before the deadline");
            spool(fw, t->batch);
            transfer_free(t);
        }
    }
    while ((b = dequeue_due(fw, UINT64_MAX)) != NULL) {
        spool(fw, b);
    }
    cu->multi_cleanup(fw->multi);
    fw->multi = NULL;
    while (fw->socks != NULL) {
        sock_close(fw, fw->socks);
    }
    uv_close((uv_handle_t *)&fw->curl_timer, on_timer_closed);
    uv_close((uv_handle_t *)&fw->retry_timer, on_timer_closed);
    uv_close((uv_handle_t *)&fw->deadline, on_timer_closed);
}

/* Closing ends early once nothing is queued or in flight. */
static void maybe_finish(struct ccr_forward *fw)
{
    if (fw->closing && !fw->closed && fw->in_flight == 0 && fw->queue == NULL) {
        finish(fw);
    }
}

static void on_deadline(uv_timer_t *timer)
{
    struct ccr_forward *fw = timer->data;

    if (!fw->closed) {
        finish(fw);
    }
}

void ccr_forward_close(struct ccr_forward *fw, unsigned deadline_ms, ccr_forward_done_cb cb,
                       void *ctx)
{
    uint64_t end = now_ms() + deadline_ms;

    fw->on_done = cb;
    fw->ctx = ctx;
    fw->closing = true;
    fw->close_end = end;
    /*
     * A batch waiting out its backoff gets one last try now. One the
     * upstream asked to wait past the deadline would only hold ccrun up: it
     * goes to the outbox now.
     */
    for (struct batch **p = &fw->queue; *p != NULL;) {
        struct batch *b = *p;
        if (!b->asked_to_wait) {
            b->not_before = 0;
        }
        if (b->not_before <= end) {
            p = &b->next;
            continue;
        }
        *p = b->next;
        fw->queued_bytes -= b->len;
        spool(fw, b);
    }
    fw->queue_tail = &fw->queue;
    while (*fw->queue_tail != NULL) {
        fw->queue_tail = &(*fw->queue_tail)->next;
    }
    uv_timer_start(&fw->deadline, on_deadline, deadline_ms, 0);
    pump(fw);
    maybe_finish(fw);
}

void ccr_forward_stats(const struct ccr_forward *fw, struct ccr_forward_stats *st)
{
    *st = fw->stats;
}

void ccr_forward_destroy(struct ccr_forward *fw)
{
    free(fw);
}
