/* SPDX-License-Identifier: MIT */
/* Opening libcurl at run time. */
#include "curl-lib.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "util.h"

/* The shared object of Debian's libcurl4 package (and every libcurl 7 or 8). */
#define CURL_SONAME "libcurl.so.4"

static const struct {
    const char *name;
    size_t offset;
} symbols[] = {
    {"curl_easy_init", offsetof(struct ccr_curl, easy_init)},
    {"curl_easy_setopt", offsetof(struct ccr_curl, easy_setopt)},
    {"curl_easy_getinfo", offsetof(struct ccr_curl, easy_getinfo)},
    {"curl_easy_strerror", offsetof(struct ccr_curl, easy_strerror)},
    {"curl_easy_cleanup", offsetof(struct ccr_curl, easy_cleanup)},
    {"curl_slist_append", offsetof(struct ccr_curl, slist_append)},
    {"curl_slist_free_all", offsetof(struct ccr_curl, slist_free_all)},
    {"curl_multi_init", offsetof(struct ccr_curl, multi_init)},
    {"curl_multi_setopt", offsetof(struct ccr_curl, multi_setopt)},
    {"curl_multi_add_handle", offsetof(struct ccr_curl, multi_add_handle)},
    {"curl_multi_remove_handle", offsetof(struct ccr_curl, multi_remove_handle)},
    {"curl_multi_info_read", offsetof(struct ccr_curl, multi_info_read)},
    {"curl_multi_socket_action", offsetof(struct ccr_curl, multi_socket_action)},
    {"curl_multi_assign", offsetof(struct ccr_curl, multi_assign)},
    {"curl_multi_cleanup", offsetof(struct ccr_curl, multi_cleanup)},
};

const struct ccr_curl *ccr_curl_open(char **cause)
{
    static struct ccr_curl lib;
    static bool ready;

    if (ready) {
        return &lib;
    }
    /* Kept open for the life of the process: libcurl is never unloaded. */
    void *so = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (so == NULL) {
        *cause = ccr_xasprintf("cannot load libcurl (%s): %s; install Debian's libcurl4",
                               CURL_SONAME, dlerror());
        return NULL;
    }
    for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
        void *fn = dlsym(so, symbols[i].name);
        if (fn == NULL) {
            *cause = ccr_xasprintf("libcurl (%s) has no %s", CURL_SONAME, symbols[i].name);
            return NULL;
        }
        /* POSIX makes a function pointer the size of void *; memcpy keeps the types apart. */
        memcpy((char *)&lib + symbols[i].offset, &fn, sizeof(fn));
    }
    void *init = dlsym(so, "curl_global_init");
    CURLcode (*global_init)(long);
    memcpy(&global_init, &init, sizeof(init));
    if (init == NULL || global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        *cause = ccr_xstrdup("cannot initialise libcurl");
        return NULL;
    }
    ready = true;
    return &lib;
}
