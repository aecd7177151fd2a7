/* SPDX-License-Identifier: MIT */
/* ccrun's own diagnostics: one line per event in a file under .ccrun/. */
#ifndef CCR_LOG_H
#define CCR_LOG_H

#include <stdbool.h>

#include "util.h"

enum ccr_log_level {
    CCR_LOG_ERROR,
    CCR_LOG_WARN,
    CCR_LOG_INFO,
    CCR_LOG_DEBUG,
};

/*
 * Directs the log to path (appended to, created mode 0600 on the first line
 * written). Until this is called, and after ccr_log_close, lines are dropped.
 * Lines above the level set by CCRUN_LOG (error|warn|info|debug, default
 * info) are dropped too.
 */
void ccr_log_open(const char *path);
void ccr_log_close(void);

/*
 * Writes "<RFC 3339 time> <level> <module>: <message>". Messages must not
 * contain untrusted text unless it went through ccr_escape_untrusted.
 */
void ccr_log(enum ccr_log_level level, const char *module, const char *fmt, ...)
    CCR_PRINTF(3, 4);

#define ccr_log_error(mod, ...) ccr_log(CCR_LOG_ERROR, mod, __VA_ARGS__)
#define ccr_log_warn(mod, ...) ccr_log(CCR_LOG_WARN, mod, __VA_ARGS__)
#define ccr_log_info(mod, ...) ccr_log(CCR_LOG_INFO, mod, __VA_ARGS__)
#define ccr_log_debug(mod, ...) ccr_log(CCR_LOG_DEBUG, mod, __VA_ARGS__)

#endif
