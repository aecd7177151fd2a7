/* SPDX-License-Identifier: MIT */
/*
 * Inflating gzip bodies (HTTP Content-Encoding and gRPC message compression)
 * with a hard cap on the inflated size, so a small gzip bomb costs at most
 * the cap in memory and time before it is refused.
 */
#ifndef CCR_INFLATE_H
#define CCR_INFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The most a compressed body may inflate to; more is answered with 413. */
#define CCR_MAX_INFLATED (32u << 20)

/*
 * Inflates the gzip stream (one or more members) in in[0..len) and appends
 * the result to out. Returns 0; -EMSGSIZE as soon as the output would pass
 * max bytes; -EBADMSG when the input is not gzip, is corrupt or is cut short.
 * On failure out holds a partial result the caller should discard.
 */
int ccr_inflate_gzip(const uint8_t *in, size_t len, size_t max, struct ccr_buf *out);

#endif
