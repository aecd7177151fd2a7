/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every module: checked allocation, byte buffers, time. */
#ifndef CCR_UTIL_H
#define CCR_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CCR_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CCR_PRINTF(fmt, args)
#endif

/*
 * Allocation that cannot fail: on exhaustion these print
 * "ccrun: out of memory (N bytes)" and abort. Callers never check for NULL.
 */
void *ccr_xmalloc(size_t size);
void *ccr_xcalloc(size_t n, size_t size);
void *ccr_xrealloc(void *p, size_t size);
char *ccr_xstrdup(const char *s);
char *ccr_xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string; the caller frees it. */
char *ccr_xasprintf(const char *fmt, ...) CCR_PRINTF(1, 2);

/* A growable byte buffer. Zero-initialised is empty; ccr_buf_finish frees it. */
struct ccr_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

void ccr_buf_append(struct ccr_buf *b, const void *p, size_t n);
void ccr_buf_printf(struct ccr_buf *b, const char *fmt, ...) CCR_PRINTF(2, 3);
/* Keeps a NUL after the data without counting it, so data reads as a C string. */
const char *ccr_buf_cstr(struct ccr_buf *b);
void ccr_buf_reset(struct ccr_buf *b);
void ccr_buf_finish(struct ccr_buf *b);

/* Wall-clock time in milliseconds and nanoseconds since the Unix epoch. */
int64_t ccr_now_ms(void);
int64_t ccr_now_ns(void);
/* Monotonic time in nanoseconds, for measuring durations. */
uint64_t ccr_mono_ns(void);

/* Writes "2026-12-03T12:37:32.863Z" (RFC 3339, UTC, milliseconds) into out[32]. */
void ccr_format_rfc3339(int64_t ms, char out[32]);

/* True when s is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
bool ccr_utf8_valid(const char *s);

/*
 * NULL when s is UTF-8; otherwise a new copy with every control byte, byte
 * from 0x7f up and backslash written as \xNN, which is valid text that still
 * shows the bytes. The caller frees it.
 */
char *ccr_utf8_escaped(const char *s);

/*
 * Writes at most max bytes of s into b with control bytes (C0, DEL, and the
 * C1 controls U+0080 to U+009F in their UTF-8 form) and '\\' escaped as \xNN.
 */
void ccr_escape_untrusted(struct ccr_buf *b, const char *s, size_t len, size_t max);

#endif
