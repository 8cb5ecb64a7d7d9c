/* http-curl.c - the module xapiary_http.so: http_post() through libcurl
 * (mailbox/http.h says why it is a module).  It links nothing of ours, so
 * that it can be loaded into a program or into libxapiary.so alike. */
#include <config.h>

#include <stdio.h>

#include <curl/curl.h>

#include "mailbox/http.h"

http_post_fn xapiary_http_post;
http_done_fn xapiary_http_done;

static int inited;

struct sink {
    const struct http_request *req;
    int stopped;
};

static size_t pass_on(char *data, size_t size, size_t nmemb, void *rock)
{
    struct sink *s = rock;
    size_t n = size * nmemb;

    if (s->req->data(data, n, s->req->rock)) {
        s->stopped = 1;
        return 0;   /* libcurl ends the transfer: CURLE_WRITE_ERROR */
    }
    return n;
}

enum http_result xapiary_http_post(const struct http_request *req, long *status_r,
                                   char *err, size_t errlen)
{
    struct curl_slist *hdr = NULL;
    struct sink sink = { req, 0 };
    enum http_result r;
    CURLcode cc;
    CURL *c;

    *status_r = 0;
    if (!inited) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "%s: libcurl cannot start", req->url);
            return HTTP_UNREACHED;
        }
        inited = 1;
    }
    c = curl_easy_init();
    hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (!c || !hdr) {
        snprintf(err, errlen, "%s: out of memory", req->url);
        r = HTTP_UNREACHED;
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, pass_on);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->connect_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->call_ms);
    if (req->keepalive_s > 0) {
        curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, req->keepalive_s);
        curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, req->keepalive_s / 2 + 1);
    }
    /* No signals: a timeout must not interrupt the caller's syscalls. */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    cc = curl_easy_perform(c);
    if (sink.stopped) {
        r = HTTP_STOPPED;
    } else if (cc != CURLE_OK) {
        snprintf(err, errlen, "%s: %s", req->url, curl_easy_strerror(cc));
        r = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST
            ? HTTP_UNREACHED : HTTP_UNKNOWN;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status_r);
        r = HTTP_DONE;
    }
out:
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(hdr);
    return r;
}

/* libcurl's global state (its TLS library's too), at xap_done(). */
void xapiary_http_done(void)
{
    if (inited) {
        curl_global_cleanup();
        inited = 0;
    }
}
