/* SPDX-License-Identifier: MIT */
/*
 * libcurl, opened the first time forwarding needs it. Linked in, libcurl
 * and the forty libraries it pulls in (TLS, Kerberos, LDAP, ...) would be
 * loaded and relocated at every start of ccrun, about 10 ms: three times
 * what `ccrun last` or `ccrun statusline` needs for its work.
 */
#ifndef CCR_CURL_LIB_H
#define CCR_CURL_LIB_H

#include <curl/curl.h>

/* The libcurl calls ccrun makes, by the names of libcurl's functions without "curl_". */
struct ccr_curl {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *easy, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *easy, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode code);
    void (*easy_cleanup)(CURL *easy);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_setopt)(CURLM *multi, CURLMoption option, ...);
    CURLMcode (*multi_add_handle)(CURLM *multi, CURL *easy);
    CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *easy);
    CURLMsg *(*multi_info_read)(CURLM *multi, int *left);
    CURLMcode (*multi_socket_action)(CURLM *multi, curl_socket_t fd, int mask, int *running);
    CURLMcode (*multi_assign)(CURLM *multi, curl_socket_t fd, void *p);
    CURLMcode (*multi_cleanup)(CURLM *multi);
};

/*
 * Opens libcurl (once; later calls return the same table) and initialises
 * it. NULL with *cause set (allocated) when it cannot.
 */
const struct ccr_curl *ccr_curl_open(char **cause);

#endif
