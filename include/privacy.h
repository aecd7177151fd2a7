/* SPDX-License-Identifier: MIT */
/*
 * The privacy policy: secret scrubbing, and keeping, hashing or dropping
 * prompts and tool details. This module alone holds the project's hash key.
 */
#ifndef CCR_PRIVACY_H
#define CCR_PRIVACY_H

#include <stdbool.h>
#include <stddef.h>

#include <sodium.h>

#include "otlp.h"

enum ccr_mode {
    CCR_MODE_KEEP,
    CCR_MODE_HASH,
    CCR_MODE_DROP,
};

struct ccr_privacy {
    enum ccr_mode prompts;
    enum ccr_mode tool_details;
    unsigned char key[crypto_generichash_KEYBYTES];
    const char *token; /* the receiver's bearer token, scrubbed wherever it appears; or NULL */
};

/* Parses "keep", "hash" or "drop"; returns false for anything else. */
bool ccr_privacy_parse_mode(const char *s, enum ccr_mode *out);
const char *ccr_privacy_mode_name(enum ccr_mode mode);

/*
 * Reads the project's hash key from dir/key, creating it (32 random bytes,
 * mode 0600) on first use. Returns 0, or a negative errno with *cause set.
 */
int ccr_privacy_load_key(struct ccr_privacy *p, const char *dir, char **cause);

/*
 * Rewrites a decoded request in place before anything is stored: secrets in
 * every string attribute become "[secret:<8 hex>]"; prompts and tool details
 * are kept (scrubbed), replaced by keyed hashes under "<key>_hash", or
 * removed, as the policy says. A prompt already "<REDACTED>" stays as it is.
 */
void ccr_privacy_apply(const struct ccr_privacy *p, struct ccr_otlp_request *req);

/*
 * Returns s with every secret replaced, as a new string, or NULL when s holds
 * no secret.
 */
char *ccr_privacy_scrub(const struct ccr_privacy *p, const char *s);

/*
 * An argument of the wrapped command as it may be stored (a new string): a
 * prompt on the command line is subject to the prompt policy, so in hash and
 * drop mode an argument that reads as free text (white space, or longer than
 * 40 bytes) becomes "#<16 hex>" or "[dropped]"; secrets are scrubbed always.
 */
char *ccr_privacy_argument(const struct ccr_privacy *p, const char *arg);

/* Writes the keyed BLAKE2b hash of s (hex, 64 characters) into out. */
void ccr_privacy_hash_hex(const struct ccr_privacy *p, const char *s, size_t len,
                          char out[65]);

#endif
