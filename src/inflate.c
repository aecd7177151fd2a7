/* SPDX-License-Identifier: MIT */
/* gzip inflation with zlib, bounded by a caller-given output cap. */
#include "inflate.h"

#include <errno.h>
#include <limits.h>

#include <zlib.h>

/* The first output allocation; it doubles from there, so growth stays linear. */
#define INFLATE_STEP (64u * 1024)

/* 16 added to the window bits tells zlib to expect a gzip header and trailer. */
#define GZIP_WINDOW_BITS (MAX_WBITS + 16)

/* Makes room for more output, never past max + 1 bytes (one over tells "too large"). */
static size_t reserve(struct ccr_buf *out, size_t max)
{
    size_t want = out->cap < INFLATE_STEP ? INFLATE_STEP : out->cap * 2;

    if (out->len < out->cap) {
        return out->cap - out->len;
    }
    if (want > max + 1) {
        want = max + 1;
    }
    if (want > out->cap) {
        out->data = ccr_xrealloc(out->data, want);
        out->cap = want;
    }
    return out->cap - out->len;
}

/* Runs inflate over the whole input; each finished member is followed by the next. */
static int inflate_all(z_stream *zs, size_t max, struct ccr_buf *out)
{
    for (;;) {
        size_t room = reserve(out, max);
        if (room == 0) {
            return -EMSGSIZE;
        }
        if (room > UINT_MAX) {
            room = UINT_MAX;
        }
        zs->next_out = out->data + out->len;
        zs->avail_out = (unsigned)room;
        int zrc = inflate(zs, Z_NO_FLUSH);
        out->len += room - zs->avail_out;
        if (out->len > max) {
            return -EMSGSIZE;
        }
        if (zrc == Z_STREAM_END) {
            if (zs->avail_in == 0) {
                return 0;
            }
            /* Concatenated members are one stream by the gzip format. */
            if (inflateReset(zs) != Z_OK) {
                return -EBADMSG;
            }
            continue;
        }
        if (zrc == Z_BUF_ERROR && zs->avail_in == 0) {
            return -EBADMSG; /* the input ended inside a member */
        }
        if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            return -EBADMSG;
        }
    }
}

int ccr_inflate_gzip(const uint8_t *in, size_t len, size_t max, struct ccr_buf *out)
{
    z_stream zs = {0};
    int rc;

    if (len == 0 || len > UINT_MAX) {
        return -EBADMSG;
    }
    if (inflateInit2(&zs, GZIP_WINDOW_BITS) != Z_OK) {
        return -ENOMEM;
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (unsigned)len;
    rc = inflate_all(&zs, max, out);
    inflateEnd(&zs);
    return rc;
}
