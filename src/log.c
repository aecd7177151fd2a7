/* SPDX-License-Identifier: MIT */
/* The diagnostics file: opened lazily so a run that logs nothing touches no file. */
#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The log is for diagnosis, not an archive: past this size it starts over, keeping one old file. */
#define CCR_LOG_MAX_BYTES (4 << 20)
/* Lines one process writes at most; a misbehaving peer must not fill the disk. */
#define CCR_LOG_MAX_LINES 10000

static char *log_path;
static FILE *log_file;
static long log_lines;
static int log_max = -1;
static bool log_failed;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static int max_level(void)
{
    if (log_max >= 0) {
        return log_max;
    }
    log_max = CCR_LOG_INFO;
    const char *v = getenv("CCRUN_LOG");
    for (int i = 0; v != NULL && i <= CCR_LOG_DEBUG; i++) {
        if (strcmp(v, level_names[i]) == 0) {
            log_max = i;
        }
    }
    return log_max;
}

void ccr_log_open(const char *path)
{
    ccr_log_close();
    log_path = ccr_xstrdup(path);
    log_failed = false;
}

void ccr_log_close(void)
{
    if (log_file != NULL) {
        fclose(log_file);
        log_file = NULL;
    }
    free(log_path);
    log_path = NULL;
}

static FILE *get_file(void)
{
    if (log_file != NULL || log_path == NULL || log_failed) {
        return log_file;
    }
    struct stat st;
    if (lstat(log_path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > CCR_LOG_MAX_BYTES) {
        char *old = ccr_xasprintf("%s.1", log_path);
        rename(log_path, old);
        free(old);
    }
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        fchmod(fd, 0600);
        log_file = fdopen(fd, "a");
    }
    if (log_file == NULL) {
        /* A log that cannot be written must never disturb the run. */
        if (fd >= 0) {
            close(fd);
        }
        log_failed = true;
    }
    return log_file;
}

void ccr_log(enum ccr_log_level level, const char *module, const char *fmt, ...)
{
    if ((int)level > max_level()) {
        return;
    }
    FILE *f = get_file();
    if (f == NULL || log_lines > CCR_LOG_MAX_LINES) {
        return;
    }
    if (++log_lines > CCR_LOG_MAX_LINES) {
        fprintf(f, "%s: further messages of this run are dropped\n", module);
        fflush(f);
        return;
    }
    char when[32];
    va_list ap;

    ccr_format_rfc3339(ccr_now_ms(), when);
    fprintf(f, "%s %-5s %s: ", when, level_names[level], module);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fflush(f);
}
