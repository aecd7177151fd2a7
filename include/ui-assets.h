/* SPDX-License-Identifier: MIT */
/*
 * The dashboard's page, styles, scripts and Chart.js, compiled into ccrun
 * by ui/embed.py at build time, so nothing is read or fetched at run time.
 */
#ifndef CCR_UI_ASSETS_H
#define CCR_UI_ASSETS_H

#include <stddef.h>
#include <stdint.h>

struct ccr_ui_asset {
    const char *path; /* the URL path, e.g. "/app.js" */
    const char *type; /* the Content-Type */
    const uint8_t *data;
    size_t len;
};

extern const struct ccr_ui_asset ccr_ui_assets[];
extern const size_t ccr_ui_n_assets;

#endif
