/* SPDX-License-Identifier: MIT */
/* Checked allocation, byte buffers, clocks and small formatters. */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void out_of_memory(size_t size)
{
    fprintf(stderr, "ccrun: out of memory (%zu bytes)\n", size);
    abort();
}

void *ccr_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL) {
        out_of_memory(size);
    }
    return p;
}

void *ccr_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        out_of_memory(n * size);
    }
    return p;
}

void *ccr_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (q == NULL) {
        out_of_memory(size);
    }
    return q;
}

char *ccr_xstrdup(const char *s)
{
    return ccr_xstrndup(s, strlen(s));
}

char *ccr_xstrndup(const char *s, size_t n)
{
    char *p = ccr_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ccr_xasprintf(const char *fmt, ...)
{
    char probe[1];
    va_list ap;

    /* Never true; it spares GCC 12's UBSan builds a false format warning. */
    if (fmt == NULL) {
        return ccr_xstrdup("");
    }
    va_start(ap, fmt);
    int n = vsnprintf(probe, sizeof(probe), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return ccr_xstrdup("");
    }
    char *s = ccr_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static void reserve(struct ccr_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) {
        return;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        cap *= 2;
    }
    b->data = ccr_xrealloc(b->data, cap);
    b->cap = cap;
}

void ccr_buf_append(struct ccr_buf *b, const void *p, size_t n)
{
    reserve(b, n);
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
}

void ccr_buf_printf(struct ccr_buf *b, const char *fmt, ...)
{
    char probe[1];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(probe, sizeof(probe), fmt, ap);
    va_end(ap);
    if (n <= 0) {
        return;
    }
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *ccr_buf_cstr(struct ccr_buf *b)
{
    reserve(b, 0);
    b->data[b->len] = '\0';
    return (const char *)b->data;
}

void ccr_buf_reset(struct ccr_buf *b)
{
    b->len = 0;
}

void ccr_buf_finish(struct ccr_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int64_t ccr_now_ms(void)
{
    return ccr_now_ns() / 1000000;
}

int64_t ccr_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t ccr_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ccr_format_rfc3339(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    int frac = (int)(ms % 1000);
    struct tm tm;

    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", frac);
}

bool ccr_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p != '\0') {
        unsigned c = *p++;
        int more = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2
                 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
        if (more < 0) {
            return false;
        }
        unsigned cp = more == 0 ? c : c & (0x3f >> more);
        for (int i = 0; i < more; i++, p++) {
            if ((*p & 0xc0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (*p & 0x3f);
        }
        if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (more == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
            return false;
        }
    }
    return true;
}

char *ccr_utf8_escaped(const char *s)
{
    struct ccr_buf b = {0};

    if (ccr_utf8_valid(s)) {
        return NULL;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '\\') {
            ccr_buf_printf(&b, "\\x%02x", *p);
        } else {
            ccr_buf_append(&b, p, 1);
        }
    }
    return (char *)b.data;
}

void ccr_escape_untrusted(struct ccr_buf *b, const char *s, size_t len, size_t max)
{
    size_t n = len < max ? len : max;

    /* Cut before a UTF-8 continuation byte rather than through a character. */
    while (n < len && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned char next = i + 1 < n ? (unsigned char)s[i + 1] : 0;
        if (c < 0x20 || c == 0x7f || c == '\\') {
            ccr_buf_printf(b, "\\x%02x", c);
        } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {
            /* U+0080 to U+009F are the C1 controls, CSI among them: both bytes escaped. */
            ccr_buf_printf(b, "\\x%02x\\x%02x", c, next);
            i++;
        } else {
            ccr_buf_append(b, &c, 1);
        }
    }
    if (len > max) {
        ccr_buf_append(b, "...", 3);
    }
}
