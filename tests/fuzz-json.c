/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: OTLP/JSON decoding, then what ingest does with a decoded
 * request: the privacy policy and recording into a history. The first byte
 * picks the signal (its value mod 3) and the two privacy modes; the rest is
 * the body. Besides not crashing:
 *
 * - a refused body gets -EBADMSG or -E2BIG and a reason, and nothing else;
 * - an accepted body survives the way to an upstream and back: packed as
 *   protobuf, re-encoded as OTLP/JSON by the forwarder and decoded again, it
 *   packs to the same bytes;
 * - the attribute JSON the history stores parses and agrees with jansson.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "otlp-encode.h"
#include "otlp-json.h"
#include "otlp.h"
#include "privacy.h"
#include "record.h"
#include "store.h"
#include "util.h"

static struct ccr_store *store;
static struct ccr_recorder rec;

static void dump(const char *what, const struct ccr_buf *b)
{
    fprintf(stderr, "%s (%zu bytes):\n", what, b->len);
    fwrite(b->data, 1, b->len, stderr);
    fputc('\n', stderr);
}

/* The decoded request packed as protobuf, as the forwarder sends it. */
static void pack(struct ccr_otlp_request *req, struct ccr_buf *out)
{
    ccr_buf_reset(out);
    ccr_otlp_encode_protobuf(req, NULL, out);
}

/*
 * Packs req, turns the packing into OTLP/JSON and decodes that: the second
 * packing must equal the first, or the two JSON directions disagree.
 */
static void check_round_trip(struct ccr_otlp_request *req)
{
    struct ccr_buf first = {0};
    struct ccr_buf json = {0};
    struct ccr_buf second = {0};
    struct ccr_otlp_request again;
    const char *why = NULL;

    pack(req, &first);
    if (ccr_otlp_encode_json(req->signal, first.data, first.len, &json) < 0) {
        dump("fuzz-json: the packed request does not decode as protobuf", &first);
        abort();
    }
    if (ccr_otlp_decode_json(req->signal, json.data, json.len, &again, &why) < 0) {
        dump("fuzz-json: the re-encoded JSON does not decode", &json);
        fprintf(stderr, "reason: %s\n", why);
        abort();
    }
    pack(&again, &second);
    if (first.len != second.len || memcmp(first.data, second.data, first.len) != 0) {
        dump("fuzz-json: a round trip through OTLP/JSON changed the request", &json);
        abort();
    }
    ccr_otlp_request_finish(&again);
    ccr_buf_finish(&first);
    ccr_buf_finish(&json);
    ccr_buf_finish(&second);
}

static void check_refusal(int rc, const struct ccr_otlp_request *req, const char *why)
{
    if ((rc != -EBADMSG && rc != -E2BIG) || why == NULL || req->logs != NULL ||
        req->metrics != NULL || req->traces != NULL) {
        fprintf(stderr, "fuzz-json: a refusal with rc %d, reason %s, and a request left\n", rc,
                why != NULL ? why : "(none)");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum ccr_mode modes[] = {CCR_MODE_KEEP, CCR_MODE_HASH, CCR_MODE_DROP};
    static struct ccr_privacy privacy = {.token = "fuzz-token-0123456789abcdef"};
    struct ccr_otlp_request req;
    const char *why = NULL;

    if (store == NULL) {
        ccr_fuzz_open_recorder("json", &store, &rec);
    }
    if (size < 1) {
        return 0;
    }
    privacy.prompts = modes[data[0] / 3 % 3];
    privacy.tool_details = modes[data[0] / 9 % 3];
    memset(privacy.key, 0x5a, sizeof(privacy.key));
    rec.privacy = &privacy;

    int rc = ccr_otlp_decode_json((enum ccr_signal)(data[0] % 3), data + 1, size - 1, &req,
                                  &why);
    if (rc < 0) {
        check_refusal(rc, &req, why);
        return 0;
    }
    check_round_trip(&req);
    ccr_otlp_request_items(&req);
    ccr_privacy_apply(&privacy, &req);
    ccr_fuzz_check_attrs(&req);
    if (ccr_record_request(&rec, &req) < 0) {
        fprintf(stderr, "fuzz-json: a decoded request could not be stored\n");
        abort();
    }
    ccr_otlp_request_finish(&req);
    return 0;
}
