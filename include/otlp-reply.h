/* SPDX-License-Identifier: MIT */
/* The Export…ServiceResponse an OTLP receiver answers with, as protobuf or JSON. */
#ifndef CCR_OTLP_REPLY_H
#define CCR_OTLP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp.h"
#include "util.h"

/*
 * Appends the response for signal to out: with rejected > 0, a
 * partial_success holding the count and message; otherwise an empty
 * response (zero bytes as protobuf, "{}" as JSON).
 */
void ccr_otlp_reply_encode(enum ccr_signal signal, bool json, int64_t rejected,
                           const char *message, struct ccr_buf *out);

#endif
