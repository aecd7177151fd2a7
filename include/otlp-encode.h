/* SPDX-License-Identifier: MIT */
/*
 * OTLP encoding for the way out: the decoded structs packed as protobuf
 * (with attributes added to each resource), and protobuf bodies re-encoded
 * as OTLP/JSON.
 */
#ifndef CCR_OTLP_ENCODE_H
#define CCR_OTLP_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "otlp.h"
#include "util.h"

/*
 * Appends req packed as an Export…ServiceRequest to out. extra (key, value,
 * …, NULL; may be NULL) adds string attributes to every resource that does
 * not already have the key; a missing resource gets one. req is changed
 * only while packing and is as it was on return.
 */
void ccr_otlp_encode_protobuf(struct ccr_otlp_request *req, char *const *extra,
                              struct ccr_buf *out);

/*
 * Appends the OTLP/JSON form of a protobuf Export…ServiceRequest body to
 * out: lowerCamelCase field names, 64-bit integers as strings, enums as
 * numbers, trace and span ids as hex, other bytes as base64. Returns 0, or
 * -EBADMSG when body does not decode.
 */
int ccr_otlp_encode_json(enum ccr_signal signal, const uint8_t *body, size_t len,
                         struct ccr_buf *out);

#endif
