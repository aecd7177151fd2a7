/* SPDX-License-Identifier: MIT */
/* Starting a forwarder from the settings, and telling the user how it went. */
#include "forward.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

int ccr_forwarding_start(struct ccr_forwarding *f, uv_loop_t *loop,
                         const struct ccr_forward_sources *src, const char *ccrun_dir,
                         bool resend, char **warning, char **cause)
{
    char *why = NULL;
    int rc;

    memset(f, 0, sizeof(*f));
    f->outbox.lock_fd = -1;
    rc = ccr_forward_config_init(&f->cfg, src, warning, cause);
    if (rc < 0 || !ccr_forward_config_enabled(&f->cfg)) {
        return rc;
    }
    /* Without an outbox forwarding still works; only spooling is lost. */
    if (ccrun_dir != NULL && ccr_outbox_open(&f->outbox, ccrun_dir, &why) == 0) {
        f->have_outbox = true;
    } else if (why != NULL) {
        ccr_log_warn("forward", "no outbox: %s", why);
        free(why);
    }
    /*
     * The log says where the telemetry goes and which source said so, so
     * a surprising destination can be traced to the variable or file.
     */
    rc = ccr_forward_create(loop, &f->cfg, f->have_outbox ? &f->outbox : NULL, resend, &f->fw,
                            cause);
    if (rc == 0) {
        ccr_log_info("forward", "forwarding to %s (settings from %s, protocol %s%s)",
                     f->cfg.where, f->cfg.from,
                     f->cfg.targets[0].json || f->cfg.targets[1].json ? "http/json"
                                                                      : "http/protobuf",
                     f->cfg.targets[0].gzip || f->cfg.targets[1].gzip ? ", gzip" : "");
    }
    return rc;
}

/* "batch" or "batches": the summary reads as a sentence. */
static const char *plural(unsigned long n)
{
    return n == 1 ? "" : "es";
}

char *ccr_forwarding_summary(const struct ccr_forwarding *f, bool failures_only)
{
    struct ccr_forward_stats st;
    struct ccr_buf b = {0};

    if (f->fw == NULL) {
        return NULL;
    }
    ccr_forward_stats(f->fw, &st);
    if (st.forwarded > 0 && !failures_only) {
        ccr_buf_printf(&b, "forwarded %lu batch%s to %s", st.forwarded, plural(st.forwarded),
                       f->cfg.where);
        if (st.resent > 0) {
            ccr_buf_printf(&b, " (%lu from the outbox)", st.resent);
        }
        ccr_buf_printf(&b, "\n");
    }
    /* Failures are said even with --quiet: data waiting on disk must not go unnoticed. */
    if (st.spooled > 0) {
        ccr_buf_printf(&b, "%lu batch%s spooled to .ccrun/outbox: %s; the next run or "
                           "`ccrun flush` sends them\n", st.spooled, plural(st.spooled),
                       st.why[0] ? st.why : "not sent in time");
    }
    if (st.refused > 0) {
        ccr_buf_printf(&b, "%lu batch%s refused by %s: %s\n", st.refused, plural(st.refused),
                       f->cfg.where, st.why);
    }
    if (st.lost > 0) {
        ccr_buf_printf(&b, "%lu batch%s not forwarded and not spooled: see .ccrun/ccrun.log\n",
                       st.lost, plural(st.lost));
    }
    if (b.len == 0) {
        return NULL;
    }
    b.data[--b.len] = '\0';
    char *text = ccr_xstrdup((const char *)b.data);
    ccr_buf_finish(&b);
    return text;
}

void ccr_forwarding_finish(struct ccr_forwarding *f)
{
    ccr_forward_destroy(f->fw);
    f->fw = NULL;
    if (f->have_outbox) {
        ccr_outbox_finish(&f->outbox);
    }
    ccr_forward_config_finish(&f->cfg);
}
