/* SPDX-License-Identifier: MIT */
/*
 * OTLP/JSON decoding into the same protobuf-c structs the protobuf decoder
 * builds, so nothing after the decoder knows which encoding came in.
 */
#ifndef CCR_OTLP_JSON_H
#define CCR_OTLP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "otlp.h"

/* Messages nested deeper than this are refused (an AnyValue level takes three). */
#define CCR_OTLP_JSON_MAX_DEPTH CCR_OTLP_MAX_DEPTH
/*
 * JSON values (objects, arrays, scalars) in one request, at most. Claude
 * Code's largest bodies hold a few ten thousand; the cap keeps the parsed
 * tree of a hostile body to tens of MiB.
 */
#define CCR_OTLP_JSON_MAX_ITEMS CCR_OTLP_MAX_ITEMS

/*
 * Decodes an OTLP/JSON Export…ServiceRequest. Accepted spellings: field
 * names in lowerCamelCase or as in the .proto; 64-bit integers as strings
 * or numbers; enums as integers or names; trace and span ids as hex (base64
 * also); other bytes as base64. Unknown fields are ignored.
 *
 * Returns 0 and fills req (release it with ccr_otlp_request_finish);
 * -EBADMSG when the body is not JSON or a value has the wrong form; -E2BIG
 * when it passes a limit above. On failure *why names the problem (static).
 */
int ccr_otlp_decode_json(enum ccr_signal signal, const uint8_t *body, size_t len,
                         struct ccr_otlp_request *req, const char **why);

#endif
