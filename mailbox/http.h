/* http.h - one HTTP POST, for the etcd registry (docs/SCALING.md).
 *
 * The client itself (libcurl) lives in a module, xapiary_http.so, that
 * http.c loads the first time a request is made: libcurl brings some
 * thirty shared libraries (TLS, Kerberos, LDAP, SSH, ...) whose loading
 * doubled the start of every process of ours, for a feature that a site
 * on one machine never turns on.  The module is looked for in
 * $XAPIARY_MODULEDIR (the build tree's tests set it), else in the
 * directory it is installed in (docs/OPERATIONS.md). */
#ifndef XAPIARY_HTTP_H
#define XAPIARY_HTTP_H

#include <stddef.h>

/* Receives each piece of the reply's body, in order; returns 0 to go on,
 * nonzero to end the transfer there (HTTP_STOPPED). */
typedef int http_data_fn(const char *data, size_t len, void *rock);

struct http_request {
    const char *url;
    const char *body;          /* sent as application/json */
    long connect_ms;           /* limit on connecting */
    long call_ms;              /* limit on the whole call; 0: none */
    long keepalive_s;          /* TCP keepalive after this many idle
                                * seconds (a peer gone without a word is
                                * noticed); 0: none */
    http_data_fn *data;
    void *rock;
};

enum http_result {
    HTTP_DONE = 0,       /* a reply came: *STATUS_R is its status */
    HTTP_UNREACHED,      /* nothing was sent (no connection) */
    HTTP_UNKNOWN,        /* sent, or maybe sent, and no whole reply came */
    HTTP_STOPPED,        /* the data callback ended the transfer */
    HTTP_NO_CLIENT       /* the module could not be loaded */
};

/* POSTs REQ.  On anything but HTTP_DONE, ERR says what happened (the
 * URL and the cause). */
enum http_result http_post(const struct http_request *req, long *status_r,
                           char *err, size_t errlen);

/* The module's entry points, under these names (http-curl.c). */
#define HTTP_MODULE "xapiary_http.so"
typedef enum http_result http_post_fn(const struct http_request *req, long *status_r,
                                      char *err, size_t errlen);
typedef void http_done_fn(void);

#endif
