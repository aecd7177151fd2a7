/* SPDX-License-Identifier: MIT */
/*
 * A load generator that stands in for Claude Code's exporters: run as
 * ccrun's child, it reads the endpoint and token ccrun injected and posts the
 * fixture bodies, rewritten so that nothing de-duplicates, over keep-alive
 * connections:
 *
 *   otlp-load DATA_DIR OUT COPIES SINGLES [ACK_LOG]
 *
 * COPIES of every fixture body, or SINGLES bodies of one log record each.
 * OUT gets "requests records seconds rss_early_kib rss_end_kib hwm_kib
 * cpu_seconds" (ccrun's memory and CPU, read from /proc for the parent);
 * ACK_LOG gets a line per acknowledged body as soon as its 200 arrives.
 * Any answer but 200 makes it exit 1.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "corpus.h"
#include "util.h"

_Noreturn static void die(const char *fmt, ...) CCR_PRINTF(1, 2);

_Noreturn static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "otlp-load: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static double now_s(void)
{
    return (double)ccr_mono_ns() / 1e9;
}

/*
 * Claude Code exports logs and metrics on separate connections; the load
 * generator keeps this many requests in flight, one per connection, so that
 * loopback latency overlaps with ccrun's work as it does with a real exporter.
 */
#define LOAD_CONNECTIONS 4

struct loader {
    int fd[LOAD_CONNECTIONS];
    char *auth;
    FILE *ack_log; /* one line per acknowledged body: its record count */
    char buf[8192];
};

static void loader_connect(struct loader *l)
{
    const char *endpoint = getenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    const char *headers = getenv("OTEL_EXPORTER_OTLP_HEADERS");
    struct sockaddr_in sin = {.sin_family = AF_INET};
    int port;
    int one = 1;

    if (endpoint == NULL || headers == NULL ||
        sscanf(endpoint, "http://127.0.0.1:%d", &port) != 1 ||
        strncmp(headers, "Authorization=", 14) != 0) {
        die("not run under ccrun: %s", endpoint ? endpoint : "no endpoint");
    }
    l->auth = ccr_xstrdup(headers + 14);
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < LOAD_CONNECTIONS; i++) {
        l->fd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l->fd[i] < 0 || connect(l->fd[i], (struct sockaddr *)&sin, sizeof(sin)) < 0) {
            die("connect: %s", strerror(errno));
        }
        setsockopt(l->fd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
}

static void write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            die("write: %s", strerror(errno));
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
}

/* Reads one answer and returns its status; ccrun's answers are small. */
static int read_answer(struct loader *l, int fd)
{
    size_t have = 0;
    char *end = NULL;
    long content_length = 0;
    int status = 0;

    for (;;) {
        ssize_t r = read(fd, l->buf + have, sizeof(l->buf) - 1 - have);
        if (r <= 0) {
            die("read answer: %s", r == 0 ? "connection closed" : strerror(errno));
        }
        have += (size_t)r;
        l->buf[have] = '\0';
        if (end == NULL && (end = strstr(l->buf, "\r\n\r\n")) != NULL) {
            const char *cl = strstr(l->buf, "\r\nContent-Length:");
            content_length = cl != NULL && cl < end ? strtol(cl + 17, NULL, 10) : 0;
            sscanf(l->buf, "HTTP/1.1 %d", &status);
        }
        if (end != NULL && (size_t)(end + 4 - l->buf) + (size_t)content_length <= have) {
            return status;
        }
        if (have >= sizeof(l->buf) - 1) {
            die("answer too long");
        }
    }
}

static void send_request(struct loader *l, int fd, const struct ccr_body *b)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "POST /v1/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n"
                     "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
                     ccr_signal_name(b->signal), l->auth, b->len);
    struct iovec iov[2] = {{head, (size_t)n}, {b->data, b->len}};

    write_all(fd, iov, 2);
}

/* Waits for the answer to body b on fd; notes it in the ack log once it is 200. */
static void expect_ok(struct loader *l, int fd, const struct ccr_body *b)
{
    int status = read_answer(l, fd);

    if (status != 200) {
        die("answer %d", status);
    }
    if (l->ack_log != NULL) {
        fprintf(l->ack_log, "%zu\n", b->records);
        fflush(l->ack_log);
    }
}

/* The CPU time, user and system, that process pid has used, in seconds. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], text[1024];
    unsigned long long utime = 0, stime = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    /* The fields after the command name, which may hold spaces, start after the last ')'. */
    const char *p = strrchr(text, ')');
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                            &utime, &stime) != 2) {
        return -1;
    }
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* A field of /proc/PID/status in KiB, or -1. */
static long proc_status_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    long v = -1;
    size_t n = strlen(field);

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

/*
 * Posts the bodies and writes what it measured to out. ccrun's memory is read
 * from /proc for its parent, ccrun itself, after a tenth of the bodies and at
 * the end, to see whether it grows per request.
 */
static int run_loader(const char *data_dir, const char *out, size_t copies, size_t singles,
                      const char *ack_path)
{
    struct ccr_templates t;
    struct ccr_corpus c = {0};
    struct loader l = {0};
    int64_t seq = 1;
    pid_t ccrun = getppid();
    long rss_early = -1;

    ccr_templates_load(data_dir, &t);
    if (singles > 0) {
        ccr_corpus_add_singles(&c, &t, singles, (uint64_t)getpid() << 20, &seq);
    } else {
        ccr_corpus_add_copies(&c, &t, copies, (uint64_t)getpid() << 20, &seq);
    }
    ccr_templates_finish(&t);
    loader_connect(&l);
    if (ack_path != NULL && (l.ack_log = fopen(ack_path, "w")) == NULL) {
        die("cannot write %s", ack_path);
    }
    double cpu0 = proc_cpu_s(ccrun);
    double t0 = now_s();
    /* Body i goes on connection i % LOAD_CONNECTIONS once its previous answer is in. */
    for (size_t i = 0; i < c.n; i++) {
        int fd = l.fd[i % LOAD_CONNECTIONS];
        if (i >= LOAD_CONNECTIONS) {
            expect_ok(&l, fd, &c.v[i - LOAD_CONNECTIONS]);
        }
        send_request(&l, fd, &c.v[i]);
        if (i == c.n / 10) {
            rss_early = proc_status_kib(ccrun, "VmRSS");
        }
    }
    for (size_t i = c.n > LOAD_CONNECTIONS ? c.n - LOAD_CONNECTIONS : 0; i < c.n; i++) {
        expect_ok(&l, l.fd[i % LOAD_CONNECTIONS], &c.v[i]);
    }
    double secs = now_s() - t0;
    double cpu = proc_cpu_s(ccrun) - cpu0;
    FILE *f = fopen(out, "w");
    if (f == NULL) {
        die("cannot write %s", out);
    }
    fprintf(f, "%zu %zu %.9f %ld %ld %ld %.3f\n", c.n, c.records, secs, rss_early,
            proc_status_kib(ccrun, "VmRSS"), proc_status_kib(ccrun, "VmHWM"), cpu);
    fclose(f);
    for (int i = 0; i < LOAD_CONNECTIONS; i++) {
        close(l.fd[i]);
    }
    free(l.auth);
    if (l.ack_log != NULL) {
        fclose(l.ack_log);
    }
    ccr_corpus_finish(&c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: otlp-load DATA_DIR OUT COPIES SINGLES [ACK_LOG]\n");
        return 2;
    }
    return run_loader(argv[1], argv[2], strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10),
                      argc == 6 ? argv[5] : NULL);
}
