/* SPDX-License-Identifier: MIT */
/* Reading .ccrun/config with inih. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "util.h"

struct parse_state {
    struct ccr_config *config;
    struct ccr_buf unknown;
};

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *st = user;
    char **slot = NULL;

    if (strcmp(section, "privacy") == 0 && strcmp(name, "prompts") == 0) {
        slot = &st->config->prompts;
    } else if (strcmp(section, "privacy") == 0 && strcmp(name, "tool_details") == 0) {
        slot = &st->config->tool_details;
    }
    if (slot == NULL) {
        ccr_buf_printf(&st->unknown, "%s[%s] %s", st->unknown.len ? ", " : "", section, name);
        return 1;
    }
    free(*slot);
    *slot = ccr_xstrdup(value);
    return 1;
}

int ccr_config_load(const char *dir, struct ccr_config *c, char **warning, char **cause)
{
    char *path = ccr_xasprintf("%s/config", dir);
    struct parse_state st = {.config = c};
    int rc = 0;

    memset(c, 0, sizeof(*c));
    *warning = NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno != ENOENT) {
            rc = -errno;
            *cause = ccr_xasprintf("open %s: %s", path, strerror(errno));
        }
        free(path);
        return rc;
    }
    int line = ini_parse_file(f, on_entry, &st);
    fclose(f);
    if (line != 0) {
        *cause = ccr_xasprintf("%s: line %d is not of the form key = value", path, line);
        ccr_config_finish(c);
        rc = -EINVAL;
    } else if (st.unknown.len > 0) {
        *warning = ccr_xasprintf("%s: unknown settings ignored: %s", path,
                                 ccr_buf_cstr(&st.unknown));
    }
    ccr_buf_finish(&st.unknown);
    free(path);
    return rc;
}

void ccr_config_finish(struct ccr_config *c)
{
    free(c->prompts);
    free(c->tool_details);
    memset(c, 0, sizeof(*c));
}
