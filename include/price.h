/* SPDX-License-Identifier: MIT */
/*
 * The price table: USD per million tokens for models Claude Code reaches
 * through other providers, from the built-in data file, the user's and the
 * project's configuration and the command line, later sources winning.
 */
#ifndef CCR_PRICE_H
#define CCR_PRICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Token kinds, in the order of every four-element array here. */
enum ccr_token_kind {
    CCR_TOKENS_INPUT,
    CCR_TOKENS_OUTPUT,
    CCR_TOKENS_CACHE_READ,
    CCR_TOKENS_CACHE_WRITE,
};

struct ccr_price {
    char *pattern;          /* the model's exact name, or a glob */
    double usd[4];          /* per million tokens */
    int64_t long_threshold; /* prompt tokens above which long_usd applies; 0: never */
    double long_usd[4];
    char *origin;           /* "built-in", a file path, or "--price" */
    char *source;           /* where the figures were read, or NULL */
    char *taken;            /* when, or NULL */
};

struct ccr_prices {
    struct ccr_price *entries;
    size_t n;
};

/* Adds p (taking its strings), replacing an entry with the same pattern. */
void ccr_prices_put(struct ccr_prices *t, struct ccr_price *p);

/* The entry for a model: an exact name first, else the last glob that matches. */
const struct ccr_price *ccr_prices_find(const struct ccr_prices *t, const char *model);

/* The cost of one request's tokens (input, output, cache read, cache write). */
double ccr_price_cost(const struct ccr_price *p, const int64_t tokens[4]);

/*
 * Parses "MODEL=IN/OUT[/CACHE_READ[/CACHE_WRITE]]" into p (origin "--price").
 * Returns 0, or -EINVAL with *cause set.
 */
int ccr_price_parse_flag(const char *arg, struct ccr_price *p, char **cause);

/*
 * Sets one key of a [price MODEL] section ("input", "output", "cache_read",
 * "cache_write", "long_threshold", "long_input", … "source", "taken").
 * Returns false for an unknown key or a value that is not a price.
 */
bool ccr_price_set(struct ccr_price *p, const char *key, const char *value);

void ccr_price_finish(struct ccr_price *p);
void ccr_prices_finish(struct ccr_prices *t);

#endif
