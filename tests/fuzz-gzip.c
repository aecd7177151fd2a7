/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: gzip inflation with a cap, alone and on the ingest path.
 * The first byte picks the cap (low four bits), whether and how the body
 * also goes through ingest as a compressed request (next two bits) and the
 * signal (top two bits, mod 3); the rest is the gzip body. Checked:
 *
 * - ccr_inflate_gzip agrees with a second decoder written here from RFC 1952
 *   (headers, trailers and members read by hand, zlib only for raw deflate):
 *   the same outcome, and on success the same bytes;
 * - it never holds more than cap + 1 bytes, so a bomb stops at the cap;
 * - ingest answers 413 for a body that inflates past CCR_MAX_INFLATED, 400
 *   for one that is not gzip or does not decode, and 200 otherwise.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "fuzz.h"
#include "inflate.h"
#include "ingest.h"
#include "otlp-json.h"
#include "otlp.h"
#include "record.h"
#include "store.h"
#include "util.h"

/* RFC 1952 header flags. */
#define GZ_FHCRC 0x02
#define GZ_FEXTRA 0x04
#define GZ_FNAME 0x08
#define GZ_FCOMMENT 0x10
#define GZ_RESERVED 0xe0

static const size_t caps[16] = {
    0, 1, 2, 7, 100, 4095, 4096, 65535, 65536, 65537, 100000,
    1u << 20, 4u << 20, 16u << 20, CCR_MAX_INFLATED, CCR_MAX_INFLATED,
};

/* How the body is sent through ingest, by bits 4 and 5 of the first byte. */
static const struct {
    const char *encoding;
    const char *type;
} ingest_modes[4] = {
    {NULL, NULL},
    {"gzip", "application/x-protobuf"},
    {"x-gzip", "application/json"},
    {" GZIP\t", "application/protobuf; proto=whatever"},
};

static struct ccr_store *store;
static struct ccr_recorder rec;

/* Skips a zero-terminated header field; false when the input ends first. */
static bool skip_string(const uint8_t *in, size_t len, size_t *p)
{
    const uint8_t *nul = memchr(in + *p, 0, len - *p);

    if (nul == NULL) {
        return false;
    }
    *p = (size_t)(nul - in) + 1;
    return true;
}

/* Moves *pos past the member header at in[*pos]; false when there is none. */
static bool skip_header(const uint8_t *in, size_t len, size_t *pos)
{
    size_t p = *pos;

    if (len - p < 10 || in[p] != 0x1f || in[p + 1] != 0x8b || in[p + 2] != Z_DEFLATED ||
        (in[p + 3] & GZ_RESERVED) != 0) {
        return false;
    }
    uint8_t flags = in[p + 3];
    p += 10;
    if (flags & GZ_FEXTRA) {
        if (len - p < 2) {
            return false;
        }
        size_t xlen = in[p] | (size_t)in[p + 1] << 8;
        p += 2;
        if (len - p < xlen) {
            return false;
        }
        p += xlen;
    }
    if ((flags & GZ_FNAME) && !skip_string(in, len, &p)) {
        return false;
    }
    if ((flags & GZ_FCOMMENT) && !skip_string(in, len, &p)) {
        return false;
    }
    if (flags & GZ_FHCRC) {
        uLong crc = crc32(0, in + *pos, (uInt)(p - *pos));
        if (len - p < 2 || (in[p] | (uLong)in[p + 1] << 8) != (crc & 0xffff)) {
            return false;
        }
        p += 2;
    }
    *pos = p;
    return true;
}

static uint32_t le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Inflates one member's raw deflate data at in[*pos] into out, never past
 * limit bytes in all; then checks its trailer. Returns 0, -EMSGSIZE once out
 * is full, or -EBADMSG.
 */
static int raw_member(const uint8_t *in, size_t len, size_t *pos, size_t limit,
                      struct ccr_buf *out)
{
    z_stream zs = {0};
    size_t start = out->len;
    int zrc = Z_OK;

    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
        abort();
    }
    zs.next_in = (Bytef *)in + *pos;
    zs.avail_in = (uInt)(len - *pos);
    while (zrc == Z_OK) {
        if (out->len == limit) {
            break;
        }
        size_t want = out->cap == 0 ? 4096 : out->cap * 2;
        if (out->len == out->cap) {
            out->cap = want < limit ? want : limit;
            out->data = ccr_xrealloc(out->data, out->cap);
        }
        zs.next_out = out->data + out->len;
        zs.avail_out = (uInt)(out->cap - out->len);
        zrc = inflate(&zs, Z_NO_FLUSH);
        out->len = out->cap - zs.avail_out;
        if (zrc == Z_BUF_ERROR && zs.avail_out > 0) {
            break; /* the input ended inside the member */
        }
        if (zrc == Z_BUF_ERROR) {
            zrc = Z_OK;
        }
    }
    *pos = len - zs.avail_in;
    inflateEnd(&zs);
    if (out->len == limit) {
        return -EMSGSIZE;
    }
    if (zrc != Z_STREAM_END || len - *pos < 8 ||
        le32(in + *pos) != crc32(0, out->data + start, (uInt)(out->len - start)) ||
        le32(in + *pos + 4) != (uint32_t)(out->len - start)) {
        return -EBADMSG;
    }
    *pos += 8;
    return 0;
}

/* The reference: every member in turn, each read by hand around its deflate data. */
static int reference_inflate(const uint8_t *in, size_t len, size_t cap, struct ccr_buf *out)
{
    size_t pos = 0;

    if (len == 0) {
        return -EBADMSG;
    }
    while (pos < len) {
        if (!skip_header(in, len, &pos)) {
            return -EBADMSG;
        }
        int rc = raw_member(in, len, &pos, cap + 1, out);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static void check_inflate(const uint8_t *in, size_t len, size_t cap)
{
    struct ccr_buf got = {0};
    struct ccr_buf want = {0};
    int rc = ccr_inflate_gzip(in, len, cap, &got);
    int ref = reference_inflate(in, len, cap, &want);

    if (got.cap > cap + 1 || got.len > cap + 1 || (rc == 0 && got.len > cap)) {
        fprintf(stderr, "fuzz-gzip: %zu bytes held (%zu allocated) for a cap of %zu\n",
                got.len, got.cap, cap);
        abort();
    }
    if (rc != ref) {
        fprintf(stderr, "fuzz-gzip: inflate says %d, the reference %d (cap %zu)\n", rc, ref,
                cap);
        abort();
    }
    if (rc == 0 && (got.len != want.len || memcmp(got.data, want.data, got.len) != 0)) {
        fprintf(stderr, "fuzz-gzip: inflate and the reference differ (%zu and %zu bytes)\n",
                got.len, want.len);
        abort();
    }
    ccr_buf_finish(&got);
    ccr_buf_finish(&want);
}

/* The status ingest must give a body inflating with rc to plain[0..len). */
static int expected_status(int rc, enum ccr_signal signal, bool json, const uint8_t *plain,
                           size_t len)
{
    struct ccr_otlp_request req;
    const char *why;

    if (rc == -EMSGSIZE) {
        return 413;
    }
    if (rc < 0) {
        return 400;
    }
    rc = json ? ccr_otlp_decode_json(signal, plain, len, &req, &why)
              : ccr_otlp_decode_protobuf(signal, plain, len, &req);
    if (rc < 0) {
        return 400;
    }
    ccr_otlp_request_finish(&req);
    return 200;
}

static void check_ingest(const uint8_t *in, size_t len, unsigned mode, enum ccr_signal signal)
{
    struct ccr_request req = {
        .signal = signal,
        .content_type = ingest_modes[mode].type,
        .content_encoding = ingest_modes[mode].encoding,
        .body = in,
        .len = len,
        .peer = "127.0.0.1:1",
    };
    struct ccr_reply reply;
    struct ccr_buf plain = {0};
    bool json = strcmp(req.content_type, "application/json") == 0;
    int rc = ccr_inflate_gzip(in, len, CCR_MAX_INFLATED, &plain);
    int want = expected_status(rc, signal, json, plain.data, plain.len);

    ccr_buf_finish(&plain);
    ccr_ingest(&rec, &req, &reply);
    if (reply.status != want) {
        fprintf(stderr, "fuzz-gzip: ingest answered %d where %d was due\n", reply.status, want);
        abort();
    }
    if (json && strcmp(reply.content_type, "application/json") != 0) {
        fprintf(stderr, "fuzz-gzip: a JSON request answered in %s\n", reply.content_type);
        abort();
    }
    ccr_reply_finish(&reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (store == NULL) {
        ccr_fuzz_open_recorder("gzip", &store, &rec);
    }
    if (size < 1) {
        return 0;
    }
    size_t cap = caps[data[0] & 15];
    unsigned mode = (data[0] >> 4) & 3;
    check_inflate(data + 1, size - 1, cap);
    if (mode != 0) {
        check_ingest(data + 1, size - 1, mode, (enum ccr_signal)((data[0] >> 6) % 3));
    }
    return 0;
}
