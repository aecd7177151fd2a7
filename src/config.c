/* SPDX-License-Identifier: MIT */
/* Reading ccrun's INI configuration files with inih. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "prices-builtin.h"
#include "util.h"

#define PRICE_SECTION "price "

struct parse_state {
    struct ccr_config *config;
    const char *origin;
    struct ccr_price pending; /* the [price …] section being read */
    bool pending_bad;         /* it had a bad value: the whole entry is left out */
    bool bad_value;
    struct ccr_buf unknown;
};

/*
 * An entry with a bad value is left out whole: a typo must not become a
 * price of $0 that under-reports every request.
 */
static void commit_price(struct parse_state *st)
{
    if (st->pending.pattern != NULL && !st->pending_bad) {
        ccr_prices_put(&st->config->prices, &st->pending);
    }
    ccr_price_finish(&st->pending);
    st->pending_bad = false;
}

static int on_price(struct parse_state *st, const char *model, const char *name,
                    const char *value)
{
    if (st->pending.pattern == NULL || strcmp(st->pending.pattern, model) != 0) {
        commit_price(st);
        st->pending.pattern = ccr_xstrdup(model);
        st->pending.origin = ccr_xstrdup(st->origin);
    }
    if (!ccr_price_set(&st->pending, name, value)) {
        st->bad_value = true;
        st->pending_bad = true;
        return 0; /* inih then reports this line */
    }
    return 1;
}

/* The keys of [forward]; forward-config.c gives them their meaning. */
static const char *const forward_keys[] = {
    "endpoint", "protocol", "headers", "compression", "timeout", "certificate",
    "client_certificate", "client_key", "deadline", "queue_mib",
};
/* Keys before this index also exist per signal: logs_headers, metrics_protocol, … */
#define FORWARD_PER_SIGNAL 8

static bool forward_key_known(const char *name)
{
    static const char *const signals[] = {"logs_", "metrics_", "traces_"};

    for (size_t s = 0; s < 3; s++) {
        if (strncmp(name, signals[s], strlen(signals[s])) == 0) {
            name += strlen(signals[s]);
            for (size_t i = 0; i < FORWARD_PER_SIGNAL; i++) {
                if (strcmp(name, forward_keys[i]) == 0) {
                    return true;
                }
            }
            return false;
        }
    }
    for (size_t i = 0; i < sizeof(forward_keys) / sizeof(forward_keys[0]); i++) {
        if (strcmp(name, forward_keys[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool on_forward(struct ccr_config *c, const char *name, const char *value)
{
    if (!forward_key_known(name)) {
        return false;
    }
    c->forward = ccr_xrealloc(c->forward, (2 * c->n_forward + 3) * sizeof(char *));
    c->forward[2 * c->n_forward] = ccr_xstrdup(name);
    c->forward[2 * c->n_forward + 1] = ccr_xstrdup(value);
    c->forward[2 * ++c->n_forward] = NULL;
    return true;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *st = user;
    char **slot = NULL;

    if (strncmp(section, PRICE_SECTION, strlen(PRICE_SECTION)) == 0 &&
        section[strlen(PRICE_SECTION)] != '\0') {
        return on_price(st, section + strlen(PRICE_SECTION), name, value);
    }
    if (strcmp(section, "forward") == 0 && on_forward(st->config, name, value)) {
        return 1;
    }
    if (strcmp(section, "privacy") == 0 && strcmp(name, "prompts") == 0) {
        slot = &st->config->prompts;
    } else if (strcmp(section, "privacy") == 0 && strcmp(name, "tool_details") == 0) {
        slot = &st->config->tool_details;
    } else if (strcmp(section, "budget") == 0) {
        slot = strcmp(name, "run") == 0    ? &st->config->budget_run
               : strcmp(name, "day") == 0  ? &st->config->budget_day
               : strcmp(name, "hard") == 0 ? &st->config->budget_hard
                                           : NULL;
    } else if (strcmp(section, "status") == 0 && strcmp(name, "line") == 0) {
        slot = &st->config->status_line;
    }
    if (slot == NULL) {
        ccr_buf_printf(&st->unknown, "%s[%s] %s", st->unknown.len ? ", " : "", section, name);
        return 1;
    }
    free(*slot);
    *slot = ccr_xstrdup(value);
    return 1;
}

/* Runs inih over f or text, whichever is given, and reports as the file origin. */
static int parse(FILE *f, const char *text, const char *origin, struct ccr_config *c,
                 char **warning, char **cause)
{
    struct parse_state st = {.config = c, .origin = origin};
    int line = f != NULL ? ini_parse_file(f, on_entry, &st) : ini_parse_string(text, on_entry, &st);
    int rc = 0;

    commit_price(&st);
    if (line != 0) {
        *cause = ccr_xasprintf("%s: line %d: %s", origin, line,
                               st.bad_value ? "not a price (USD per million tokens) or an unknown "
                                              "price key; that model's entry is left out"
                                            : "expected key = value or [section]");
        rc = -EINVAL;
    } else if (st.unknown.len > 0 && warning != NULL) {
        *warning = ccr_xasprintf("%s: unknown settings ignored: %s", origin,
                                 ccr_buf_cstr(&st.unknown));
    }
    ccr_buf_finish(&st.unknown);
    return rc;
}

int ccr_config_load(const char *path, struct ccr_config *c, char **warning, char **cause)
{
    if (warning != NULL) {
        *warning = NULL;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return 0;
        }
        int err = errno;
        *cause = ccr_xasprintf("open %s: %s", path, strerror(err));
        return -err;
    }
    int rc = parse(f, NULL, path, c, warning, cause);
    fclose(f);
    return rc;
}

char *ccr_config_user_path(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");

    if (xdg != NULL && xdg[0] == '/') {
        return ccr_xasprintf("%s/ccrun/config", xdg);
    }
    if (home != NULL && home[0] == '/') {
        return ccr_xasprintf("%s/.config/ccrun/config", home);
    }
    return NULL;
}

void ccr_config_builtin_prices(struct ccr_config *c)
{
    char *cause = NULL;

    /* The table is part of the build; a parse failure is a bug the tests catch. */
    if (parse(NULL, ccr_prices_builtin, "built-in", c, NULL, &cause) < 0) {
        fprintf(stderr, "ccrun: %s\n", cause);
        free(cause);
    }
}

const char *ccr_config_forward(const struct ccr_config *c, const char *key)
{
    for (size_t i = c->n_forward; i-- > 0;) {
        if (strcmp(c->forward[2 * i], key) == 0) {
            return c->forward[2 * i + 1];
        }
    }
    return NULL;
}

void ccr_config_finish(struct ccr_config *c)
{
    for (size_t i = 0; i < 2 * c->n_forward; i++) {
        free(c->forward[i]);
    }
    free(c->forward);
    free(c->prompts);
    free(c->tool_details);
    free(c->budget_run);
    free(c->budget_day);
    free(c->budget_hard);
    free(c->status_line);
    ccr_prices_finish(&c->prices);
    memset(c, 0, sizeof(*c));
}
