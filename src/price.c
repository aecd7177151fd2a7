/* SPDX-License-Identifier: MIT */
/* The price table and re-pricing of a request's tokens. */
#include "price.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const kind_keys[4] = {"input", "output", "cache_read", "cache_write"};

void ccr_price_finish(struct ccr_price *p)
{
    free(p->pattern);
    free(p->origin);
    free(p->source);
    free(p->taken);
    memset(p, 0, sizeof(*p));
}

void ccr_prices_finish(struct ccr_prices *t)
{
    for (size_t i = 0; i < t->n; i++) {
        ccr_price_finish(&t->entries[i]);
    }
    free(t->entries);
    memset(t, 0, sizeof(*t));
}

void ccr_prices_put(struct ccr_prices *t, struct ccr_price *p)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->entries[i].pattern, p->pattern) == 0) {
            ccr_price_finish(&t->entries[i]);
            t->entries[i] = *p;
            memset(p, 0, sizeof(*p));
            return;
        }
    }
    t->entries = ccr_xrealloc(t->entries, (t->n + 1) * sizeof(*t->entries));
    t->entries[t->n++] = *p;
    memset(p, 0, sizeof(*p));
}

const struct ccr_price *ccr_prices_find(const struct ccr_prices *t, const char *model)
{
    const struct ccr_price *glob = NULL;

    if (model == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->entries[i].pattern, model) == 0) {
            return &t->entries[i];
        }
        if (fnmatch(t->entries[i].pattern, model, 0) == 0) {
            glob = &t->entries[i];
        }
    }
    return glob;
}

double ccr_price_cost(const struct ccr_price *p, const int64_t tokens[4])
{
    int64_t prompt = tokens[CCR_TOKENS_INPUT] + tokens[CCR_TOKENS_CACHE_READ] +
                     tokens[CCR_TOKENS_CACHE_WRITE];
    const double *usd = p->long_threshold > 0 && prompt > p->long_threshold ? p->long_usd : p->usd;
    double cost = 0;

    for (int k = 0; k < 4; k++) {
        cost += (double)tokens[k] * usd[k];
    }
    return cost / 1e6;
}

static bool parse_usd(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);

    while (*end == ' ' || *end == '\t') {
        end++;
    }
    if (end == s || *end != '\0' || !isfinite(v) || v < 0) {
        return false;
    }
    *out = v;
    return true;
}

bool ccr_price_set(struct ccr_price *p, const char *key, const char *value)
{
    for (int k = 0; k < 4; k++) {
        if (strcmp(key, kind_keys[k]) == 0) {
            return parse_usd(value, &p->usd[k]);
        }
        if (strncmp(key, "long_", 5) == 0 && strcmp(key + 5, kind_keys[k]) == 0) {
            return parse_usd(value, &p->long_usd[k]);
        }
    }
    if (strcmp(key, "long_threshold") == 0) {
        double v;
        if (!parse_usd(value, &v) || v != floor(v) || v > 1e12) {
            return false;
        }
        p->long_threshold = (int64_t)v;
        return true;
    }
    char **text = strcmp(key, "source") == 0 ? &p->source
                  : strcmp(key, "taken") == 0 ? &p->taken : NULL;
    if (text == NULL) {
        return false;
    }
    free(*text);
    *text = ccr_xstrdup(value);
    return true;
}

int ccr_price_parse_flag(const char *arg, struct ccr_price *p, char **cause)
{
    const char *eq = strchr(arg, '=');
    char *figures;
    int n = 0;

    memset(p, 0, sizeof(*p));
    if (eq == NULL || eq == arg) {
        goto fail;
    }
    figures = ccr_xstrdup(eq + 1);
    for (char *tok = figures, *slash; tok != NULL; tok = slash != NULL ? slash + 1 : NULL) {
        slash = strchr(tok, '/');
        if (slash != NULL) {
            *slash = '\0';
        }
        if (n == 4 || !parse_usd(tok, &p->usd[n])) {
            n = -1;
            break;
        }
        n++;
    }
    free(figures);
    if (n < 2) {
        goto fail;
    }
    p->pattern = ccr_xstrndup(arg, (size_t)(eq - arg));
    p->origin = ccr_xstrdup("--price");
    return 0;
fail:
    *cause = ccr_xasprintf("--price %s: expected MODEL=IN/OUT[/CACHE_READ[/CACHE_WRITE]] in "
                           "USD per million tokens, e.g. glm-4.7=0.60/2.20/0.11", arg);
    return -EINVAL;
}
