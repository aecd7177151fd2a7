/* SPDX-License-Identifier: MIT */
/* Presenting a run: the summary as aligned text for people, or as JSON. */
#ifndef CCR_REPORT_H
#define CCR_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "price.h"
#include "store.h"

/*
 * Writes the summary of s to f; colour only when color is true. prices, when
 * not NULL, names the figures behind ccrun's re-pricing.
 */
void ccr_report_text(FILE *f, const struct ccr_summary *s, bool color,
                     const struct ccr_prices *prices);

/* The summary as the JSON object `ccrun last --json` prints (a new reference). */
json_t *ccr_report_json(const struct ccr_summary *s);

/*
 * JSON values for the --json outputs (new references): an RFC 3339 time, an
 * integer, a string; each null when absent (CCR_NONE, NULL).
 */
json_t *ccr_json_time(int64_t ms);
json_t *ccr_json_int(int64_t v);
json_t *ccr_json_str(const char *s);

/* True when colour may be used on fd: a terminal, and NO_COLOR unset. */
bool ccr_report_use_color(int fd);

/* Human units: "$0.0228", "12.4k", "1.2 s". Each writes into out and returns it. */
const char *ccr_format_usd(double usd, char out[32]);
const char *ccr_format_count(int64_t n, char out[32]);
const char *ccr_format_duration(int64_t ms, char out[32]);

#endif
