/* SPDX-License-Identifier: MIT */
/* Arguments and history access shared by the view subcommands. */
#include "view.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "util.h"

/* Bigger counts or ages are typing mistakes, and keep the arithmetic in range. */
#define CCR_VIEW_MAX_NUMBER 1000000000LL

static int parse_number(const char *arg, const char **end, int64_t *n)
{
    int64_t v = 0;
    const char *p = arg;

    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');
        if (v > CCR_VIEW_MAX_NUMBER) {
            return -ERANGE;
        }
    }
    if (p == arg) {
        return -EINVAL;
    }
    *end = p;
    *n = v;
    return 0;
}

int ccr_view_parse_age(const char *arg, int64_t *ms, char **cause)
{
    static const struct {
        char unit;
        int64_t ms;
    } units[] = {
        {'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}, {'w', 604800000},
    };
    const char *end;
    int64_t n;

    if (parse_number(arg, &end, &n) == 0 && end[0] != '\0' && end[1] == '\0') {
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            if (units[i].unit == end[0]) {
                *ms = n * units[i].ms;
                return 0;
            }
        }
    }
    *cause = ccr_xasprintf("bad age %s (want a number and s, m, h, d or w, e.g. 90d)", arg);
    return -EINVAL;
}

/* Reads a local date or date and time; the rest of arg must be empty. */
static int parse_local_time(const char *arg, int64_t *ms)
{
    static const char *const formats[] = {
        "%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
    };

    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        const char *end = strptime(arg, formats[i], &tm);
        if (end == NULL || *end != '\0') {
            continue;
        }
        /* Let mktime decide whether daylight saving time applies on that date. */
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t == (time_t)-1) {
            return -EINVAL;
        }
        *ms = (int64_t)t * 1000;
        return 0;
    }
    return -EINVAL;
}

int ccr_view_parse_since(const char *arg, int64_t now_ms, int64_t *ms, char **cause)
{
    int64_t age;
    char *ignored = NULL;

    if (ccr_view_parse_age(arg, &age, &ignored) == 0) {
        *ms = now_ms - age;
        return 0;
    }
    free(ignored);
    if (parse_local_time(arg, ms) == 0) {
        return 0;
    }
    *cause = ccr_xasprintf("bad time %s (want an age such as 7d, or a date such as "
                           "2026-12-03 or 2026-12-03T14:00)", arg);
    return -EINVAL;
}

int ccr_view_parse_count(const char *arg, int64_t *n, char **cause)
{
    const char *end;

    if (parse_number(arg, &end, n) == 0 && *end == '\0') {
        return 0;
    }
    *cause = ccr_xasprintf("bad number %s", arg);
    return -EINVAL;
}

int ccr_view_open(struct ccr_view *v, const char *cmd, const char *dir, bool write)
{
    char *cause = NULL;
    int rc;

    memset(v, 0, sizeof(*v));
    if (ccr_project_find(dir, &v->project, &cause) < 0) {
        ccr_cmd_error("%s: %s", cmd, cause);
        free(cause);
        return -ENOENT;
    }
    if (ccr_project_check(&v->project, &cause) < 0) {
        ccr_cmd_error("%s: %s", cmd, cause);
        free(cause);
        return -ENOTDIR;
    }
    /* Writing never creates a history that did not exist. */
    if (write && access(v->project.db_path, F_OK) != 0) {
        return 0;
    }
    rc = ccr_store_open(v->project.db_path, !write, &v->store, &cause);
    if (rc == -ENOENT) {
        return 0;
    }
    if (rc < 0) {
        ccr_cmd_error("%s: cannot read %s: %s", cmd, v->project.db_path,
                      cause != NULL ? cause : "see .ccrun/ccrun.log");
        free(cause);
        return rc;
    }
    return 0;
}

void ccr_view_finish(struct ccr_view *v)
{
    ccr_store_close(v->store);
    v->store = NULL;
    if (v->project.root != NULL) {
        ccr_project_finish(&v->project);
    }
}

int ccr_view_options(const char *cmd, int argc, char **argv, const char *shortopts,
                     const struct option *longopts, const char *usage, const char *help,
                     int max_args, ccr_view_option_cb cb, void *opts)
{
    /* A leading ':' has getopt tell a missing value (':') from an unknown option. */
    char *spec = ccr_xasprintf(":%sh", shortopts);
    char *cause = NULL;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, spec, longopts, NULL)) != -1) {
        if (c == 'h') {
            printf("%s%s", usage, help);
            free(spec);
            return 0;
        }
        if (c == ':') {
            cause = ccr_xasprintf("%s needs a value", argv[optind - 1]);
        } else if (c == '?') {
            cause = ccr_xasprintf("unknown option %s", argv[optind - 1]);
        } else if (cb(opts, c, optarg, &cause) == 0) {
            continue;
        }
        break;
    }
    free(spec);
    if (cause == NULL && argc - optind > max_args) {
        cause = ccr_xasprintf("unexpected argument %s", argv[optind + max_args]);
    }
    if (cause == NULL) {
        return -1;
    }
    ccr_cmd_error("%s: %s", cmd, cause);
    fputs(usage, stderr);
    free(cause);
    return 2;
}
