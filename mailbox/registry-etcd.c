/* registry-etcd.c - the cluster registry kept in etcd (docs/SCALING.md).
 *
 * etcd's v3 API over its HTTP/JSON gateway (POST /v3/kv/range,
 * /v3/kv/txn, /v3/lease/grant), through libcurl (loaded as a module:
 * mailbox/http.h) and jansson: Debian has no etcd C client, and the
 * gateway is in every etcd since 3.3.  Keys and
 * values travel base64-encoded; 64-bit numbers travel as JSON strings.
 *
 * Every request has a timeout (ETCD_CONNECT_MS to connect, ETCD_CALL_MS
 * for the whole call).  Every request this file sends is idempotent by
 * construction (reads; a create guarded by create_revision == 0 whose
 * value names its writer; a put of our own registration; a delete guarded
 * by the value we wrote), so a request whose outcome is unknown (timed
 * out, connection lost after sending, 5xx) is simply sent again, to the
 * next endpoint, up to ETCD_PASSES passes over the endpoint list.  When
 * none answers the caller gets XAP_IMAP_REGISTRY_DOWN. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/config.h"
#include "common/xlog.h"
#include "mailbox/http.h"
#include "mailbox/registry.h"

#define ETCD_CONNECT_MS 2000L
#define ETCD_CALL_MS 5000L
#define ETCD_PASSES 3
/* A watch is ended after this long and resumed where it stopped: no
 * call, not even the watch, waits without a limit. */
#define ETCD_WATCH_MS 300000L

/* Whether the last post() may have delivered its request (see
 * etcd_create's UNKNOWN_R). */
static int maybe_sent;

/* What the last failed attempt said, for the error when none answers. */
static char last_error[256];

/* Collects a reply's body into *ROCK, a talloc string. */
static int collect(const char *data, size_t n, void *rock)
{
    char **buf = rock;
    size_t old = talloc_get_size(*buf);

    /* old counts the NUL kept at the end */
    *buf = talloc_realloc_size(NULL, *buf, old + n);
    memcpy(*buf + old - 1, data, n);
    (*buf)[old - 1 + n] = '\0';
    return 0;
}

/* One POST of BODY to ENDPOINT PATH.  Returns 0 and *JSON_R; XAP_IMAP_AGAIN
 * when the outcome is unknown or the endpoint cannot serve (try the next);
 * XAP_IMAP_INTERNAL when etcd refused the request itself (a 4xx: retrying
 * cannot help); XAP_IMAP_CONFIG when there is no HTTP client to send it. */
static int post_one(const char *endpoint, const char *path, const char *body,
                    json_t **json_r)
{
    char *buf = talloc_strdup(NULL, "");
    char *url = talloc_asprintf(NULL, "%s%s", endpoint, path);
    struct http_request req = { url, body, ETCD_CONNECT_MS, ETCD_CALL_MS, 0, collect, &buf };
    long status = 0;
    int r = XAP_IMAP_AGAIN;

    *json_r = NULL;
    switch (http_post(&req, &status, last_error, sizeof last_error)) {
    case HTTP_DONE:
        break;
    case HTTP_NO_CLIENT:
        xlog(LOG_ERR, "etcd: %s", last_error);
        r = XAP_IMAP_CONFIG;
        goto out;
    case HTTP_UNKNOWN:
    case HTTP_STOPPED:
        maybe_sent = 1;
        /* fall through */
    case HTTP_UNREACHED:
        xlog(LOG_INFO, "etcd %s", last_error);
        goto out;
    }
    if (status != 200) {
        snprintf(last_error, sizeof last_error, "%s: HTTP %ld: %.100s", url, status, buf);
        xlog(status >= 400 && status < 500 ? LOG_ERR : LOG_INFO, "etcd %s", last_error);
        if (status >= 400 && status < 500)
            r = XAP_IMAP_INTERNAL;
        goto out;
    }
    json_error_t err;
    *json_r = json_loads(buf, 0, &err);
    if (!*json_r || !json_is_object(*json_r)) {
        snprintf(last_error, sizeof last_error, "%s: reply is not a JSON object: %s", url,
                 err.text);
        xlog(LOG_INFO, "etcd %s", last_error);
        json_decref(*json_r);
        *json_r = NULL;
        goto out;
    }
    r = 0;
out:
    talloc_free(url);
    talloc_free(buf);
    return r;
}

/* POSTs REQ (consumed) to PATH, trying every endpoint in turn, ETCD_PASSES
 * times over (see the top of the file for why this is safe).  Returns 0
 * and *JSON_R (the caller decrefs), XAP_IMAP_REGISTRY_DOWN or XAP_IMAP_INTERNAL. */
static int post(const char *path, json_t *req, json_t **json_r)
{
    const char *const *eps = config_etcd_endpoints(NULL);
    char *body = json_dumps(req, JSON_COMPACT);
    int r = XAP_IMAP_REGISTRY_DOWN;

    json_decref(req);
    *json_r = NULL;
    maybe_sent = 0;
    if (!eps || !body) {
        free(body);
        return XAP_IMAP_CONFIG;
    }
    for (int pass = 0; pass < ETCD_PASSES; pass++) {
        /* A cluster electing a leader answers again within a second or
         * two: wait a little longer before each new pass. */
        if (pass)
            g_usleep((gulong)pass * 300000);
        for (const char *const *ep = eps; *ep; ep++) {
            int rr = post_one(*ep, path, body, json_r);
            if (rr != XAP_IMAP_AGAIN) {
                r = rr;
                goto done;
            }
        }
    }
    xlog(LOG_ERR, "etcd: no endpoint of etcd_endpoints answered (last: %s)", last_error);
done:
    free(body);
    return r;
}

static json_t *b64(const char *s)
{
    gchar *e = g_base64_encode((const guchar *)s, strlen(s));
    json_t *j = json_string(e);
    g_free(e);
    return j;
}

static char *unb64(void *ctx, json_t *j)
{
    gsize len = 0;
    guchar *d;
    char *s;

    if (!json_is_string(j))
        return talloc_strdup(ctx, "");
    d = g_base64_decode(json_string_value(j), &len);
    s = talloc_strndup(ctx, (const char *)d, len);
    g_free(d);
    return s;
}

static int64_t num(json_t *j)
{
    if (json_is_string(j))
        return g_ascii_strtoll(json_string_value(j), NULL, 10);
    return json_is_integer(j) ? json_integer_value(j) : 0;
}

/* The kvs array of a range response, as registry_kv entries under CTX. */
static void read_kvs(void *ctx, json_t *range, struct registry_kv **kvs_r, size_t *n_r)
{
    json_t *kvs = json_object_get(range, "kvs");
    size_t n = json_array_size(kvs);
    struct registry_kv *v = talloc_zero_array(ctx, struct registry_kv, n ? n : 1);

    for (size_t i = 0; i < n; i++) {
        json_t *kv = json_array_get(kvs, i);
        v[i].key = unb64(v, json_object_get(kv, "key"));
        v[i].value = unb64(v, json_object_get(kv, "value"));
        v[i].create_revision = num(json_object_get(kv, "create_revision"));
        v[i].mod_revision = num(json_object_get(kv, "mod_revision"));
    }
    *kvs_r = v;
    *n_r = n;
}

int etcd_get(void *ctx, const char *key, int prefix, struct registry_kv **kvs_r,
             size_t *n_r)
{
    int64_t rev = 0;
    int more;
    return etcd_get_page(ctx, key, prefix, NULL, &rev, 0, kvs_r, n_r, &more);
}

int etcd_get_page(void *ctx, const char *key, int prefix, const char *after,
                  int64_t *rev_io, size_t limit, struct registry_kv **kvs_r, size_t *n_r,
                  int *more_r)
{
    json_t *req, *rep;
    char buf[24];
    int r;

    *kvs_r = NULL;
    *n_r = 0;
    *more_r = 0;
    /* The first key after AFTER is AFTER with a NUL byte appended: its
     * terminating NUL, encoded with it. */
    if (prefix && after) {
        gchar *e = g_base64_encode((const guchar *)after, strlen(after) + 1);
        req = json_pack("{s:s}", "key", e);
        g_free(e);
    } else {
        req = json_pack("{s:o}", "key", b64(key));
    }
    if (prefix) {
        /* [key, key with its last byte + 1): every key that starts with
         * KEY (our prefixes end in '/', so the last byte never wraps). */
        char *end = talloc_strdup(NULL, key);
        end[strlen(end) - 1]++;
        json_object_set_new(req, "range_end", b64(end));
        talloc_free(end);
    }
    if (*rev_io) {
        snprintf(buf, sizeof buf, "%lld", (long long)*rev_io);
        json_object_set_new(req, "revision", json_string(buf));
    }
    if (limit) {
        snprintf(buf, sizeof buf, "%zu", limit);
        json_object_set_new(req, "limit", json_string(buf));
    }
    if ((r = post("/v3/kv/range", req, &rep)))
        return r;
    read_kvs(ctx, rep, kvs_r, n_r);
    if (!*rev_io)
        *rev_io = num(json_object_get(json_object_get(rep, "header"), "revision"));
    *more_r = json_is_true(json_object_get(rep, "more"));
    json_decref(rep);
    return 0;
}

/* ---------------------------------------------------------- watch */

/* One /v3/watch stream being read. */
struct watch {
    char *buf;              /* talloc: bytes of a message not ended yet */
    etcd_event_fn *fn;
    void *rock;
    int started;            /* etcd said the watch is created */
    int stop;               /* FN's nonzero answer */
    int64_t compacted;      /* the revision etcd compacted to, when it
                             * cancelled the watch for that */
    int refused;            /* cancelled for another reason */
};

/* One message of the stream.  Returns 0 to read on, -1 to end it. */
static int watch_message(struct watch *w, json_t *msg)
{
    json_t *res = json_object_get(msg, "result"), *events;
    size_t i;

    if (!json_is_object(res)) {
        char *s = json_dumps(msg, JSON_COMPACT);
        xlog(LOG_INFO, "etcd watch: not a watch message: %.200s", s ? s : "?");
        free(s);
        return -1;
    }
    if (json_is_true(json_object_get(res, "created")) && !w->started) {
        w->started = 1;
        if ((w->stop = w->fn(w->rock, NULL, 0)))
            return -1;
    }
    if (json_is_true(json_object_get(res, "canceled"))) {
        const char *why = json_string_value(json_object_get(res, "cancel_reason"));
        w->compacted = num(json_object_get(res, "compact_revision"));
        if (!w->compacted) {
            xlog(LOG_ERR, "etcd watch cancelled: %s", why ? why : "no reason given");
            w->refused = 1;
        }
        return -1;
    }
    events = json_object_get(res, "events");
    for (i = 0; i < json_array_size(events); i++) {
        json_t *ev = json_array_get(events, i), *kv = json_object_get(ev, "kv");
        const char *type = json_string_value(json_object_get(ev, "type"));
        struct registry_kv e;
        void *tmp = talloc_new(NULL);

        /* PUT is the enum's zero value, which the gateway leaves out. */
        e.key = unb64(tmp, json_object_get(kv, "key"));
        e.value = unb64(tmp, json_object_get(kv, "value"));
        e.create_revision = num(json_object_get(kv, "create_revision"));
        e.mod_revision = num(json_object_get(kv, "mod_revision"));
        w->stop = w->fn(w->rock, &e, type && !strcmp(type, "DELETE"));
        talloc_free(tmp);
        if (w->stop)
            return -1;
    }
    return 0;
}

/* The HTTP client's data callback: the gateway ends each message with a
 * newline.  Returns nonzero to end the transfer. */
static int watch_data(const char *data, size_t n, void *rock)
{
    struct watch *w = rock;
    char *nl;

    w->buf = talloc_strndup_append(w->buf, data, n);
    while ((nl = strchr(w->buf, '\n'))) {
        size_t len = (size_t)(nl - w->buf);
        json_error_t err;
        json_t *msg = len ? json_loadb(w->buf, len, 0, &err) : NULL;
        int r;

        if (len && !msg)
            xlog(LOG_INFO, "etcd watch: a message is not JSON: %s", err.text);
        memmove(w->buf, nl + 1, strlen(nl + 1) + 1);
        /* A message not understood ends the stream: the caller resumes. */
        r = msg ? watch_message(w, msg) : len ? -1 : 0;
        json_decref(msg);
        if (r)
            return 1;
    }
    return 0;
}

int etcd_watch(const char *prefix, int64_t from, etcd_event_fn *fn, void *rock,
               int64_t *compacted_r)
{
    const char *const *eps = config_etcd_endpoints(NULL);
    char *end = talloc_strdup(NULL, prefix), fromstr[24], *body;
    int r = XAP_IMAP_REGISTRY_DOWN;

    *compacted_r = 0;
    if (!eps) {
        talloc_free(end);
        return XAP_IMAP_CONFIG;
    }
    end[strlen(end) - 1]++;
    snprintf(fromstr, sizeof fromstr, "%lld", (long long)from);
    {
        json_t *req = json_pack("{s:{s:o,s:o,s:s}}", "create_request", "key", b64(prefix),
                                "range_end", b64(end), "start_revision", fromstr);
        body = json_dumps(req, JSON_COMPACT);
        json_decref(req);
    }
    talloc_free(end);
    for (const char *const *ep = eps; *ep && body; ep++) {
        struct watch w = { talloc_strdup(NULL, ""), fn, rock, 0, 0, 0, 0 };
        char *url = talloc_asprintf(NULL, "%s/v3/watch", *ep);
        /* A member that vanishes without closing the connection is
         * noticed by TCP keepalive (10 s idle) before the time limit. */
        struct http_request req = { url, body, ETCD_CONNECT_MS, ETCD_WATCH_MS, 10,
                                    watch_data, &w };
        long status = 0;
        enum http_result hr = http_post(&req, &status, last_error, sizeof last_error);

        talloc_free(w.buf);
        if (hr == HTTP_NO_CLIENT) {
            xlog(LOG_ERR, "etcd: %s", last_error);
            r = XAP_IMAP_CONFIG;
            talloc_free(url);
            break;
        }
        if (hr == HTTP_DONE)
            snprintf(last_error, sizeof last_error, "%s: HTTP %ld, end of stream", url, status);
        if (w.stop || w.compacted || w.started) {
            /* FN's answer; a compaction (read again); or a watch that ran
             * and ended (time limit, member gone): resume from where the
             * caller got to. */
            xlog(LOG_DEBUG, "etcd watch %s ended: %s", url,
                 hr == HTTP_STOPPED ? "stopped" : last_error);
            *compacted_r = w.compacted;
            /* A watch etcd cancels for another reason would be cancelled
             * again at once: an error, which the caller waits on. */
            r = w.stop ? w.stop : w.refused ? XAP_IMAP_INTERNAL : 0;
            talloc_free(url);
            break;
        }
        xlog(LOG_INFO, "etcd watch %s", last_error);
        talloc_free(url);
    }
    if (r == XAP_IMAP_REGISTRY_DOWN)
        xlog(LOG_INFO, "etcd: no endpoint of etcd_endpoints could be watched (last: %s)",
             last_error);
    free(body);
    return r;
}

int etcd_create(void *ctx, const char *key, const char *value, int *created_r,
                struct registry_kv **current_r, int *unknown_r)
{
    json_t *req, *rep, *resp;
    size_t n = 0;
    int r;

    *created_r = 0;
    *current_r = NULL;
    req = json_pack("{s:[{s:o,s:s,s:s,s:s}],s:[{s:{s:o,s:o}}],s:[{s:{s:o}}]}",
                    "compare", "key", b64(key), "target", "CREATE", "result", "EQUAL",
                    "create_revision", "0",
                    "success", "request_put", "key", b64(key), "value", b64(value),
                    "failure", "request_range", "key", b64(key));
    r = post("/v3/kv/txn", req, &rep);
    *unknown_r = r && maybe_sent;
    if (r)
        return r;
    *created_r = json_is_true(json_object_get(rep, "succeeded"));
    resp = json_array_get(json_object_get(rep, "responses"), 0);
    if (!*created_r)
        read_kvs(ctx, json_object_get(resp, "response_range"), current_r, &n);
    if (!*created_r && n == 0) {
        /* The compare failed yet the key is gone: deleted in between.
         * The caller tries again. */
        TALLOC_FREE(*current_r);
        r = XAP_IMAP_AGAIN;
    }
    json_decref(rep);
    return r;
}

int etcd_delete_if(const char *key, const char *value, int *deleted_r)
{
    json_t *req, *rep;
    int r;

    *deleted_r = 0;
    req = json_pack("{s:[{s:o,s:s,s:s,s:o}],s:[{s:{s:o}}]}",
                    "compare", "key", b64(key), "target", "VALUE", "result", "EQUAL",
                    "value", b64(value),
                    "success", "request_delete_range", "key", b64(key));
    if ((r = post("/v3/kv/txn", req, &rep)))
        return r;
    *deleted_r = json_is_true(json_object_get(rep, "succeeded"));
    json_decref(rep);
    return 0;
}

int etcd_replace_if(const char *key, const char *old, const char *value, int *replaced_r)
{
    json_t *req, *rep;
    int r;

    *replaced_r = 0;
    req = json_pack("{s:[{s:o,s:s,s:s,s:o}],s:[{s:{s:o,s:o}}]}",
                    "compare", "key", b64(key), "target", "VALUE", "result", "EQUAL",
                    "value", b64(old),
                    "success", "request_put", "key", b64(key), "value", b64(value));
    if ((r = post("/v3/kv/txn", req, &rep)))
        return r;
    *replaced_r = json_is_true(json_object_get(rep, "succeeded"));
    json_decref(rep);
    return 0;
}

int etcd_replace_at(void *ctx, const char *key, int64_t rev, const char *value,
                    int *replaced_r, struct registry_kv **current_r, size_t *n_r)
{
    json_t *req, *rep, *resp;
    char revs[24];
    int r;

    *replaced_r = 0;
    *current_r = NULL;
    *n_r = 0;
    snprintf(revs, sizeof revs, "%lld", (long long)rev);
    req = json_pack("{s:[{s:o,s:s,s:s,s:s}],s:[{s:{s:o,s:o}}],s:[{s:{s:o}}]}",
                    "compare", "key", b64(key), "target", "MOD", "result", "EQUAL",
                    "mod_revision", revs,
                    "success", "request_put", "key", b64(key), "value", b64(value),
                    "failure", "request_range", "key", b64(key));
    if ((r = post("/v3/kv/txn", req, &rep)))
        return r;
    *replaced_r = json_is_true(json_object_get(rep, "succeeded"));
    resp = json_array_get(json_object_get(rep, "responses"), 0);
    if (!*replaced_r)
        read_kvs(ctx, json_object_get(resp, "response_range"), current_r, n_r);
    json_decref(rep);
    return 0;
}

int etcd_put_leased(const char *key, const char *value, unsigned ttl)
{
    json_t *rep;
    char ttls[16];
    int64_t id;
    int r;

    snprintf(ttls, sizeof ttls, "%u", ttl);
    if ((r = post("/v3/lease/grant", json_pack("{s:s}", "TTL", ttls), &rep)))
        return r;
    id = num(json_object_get(rep, "ID"));
    json_decref(rep);
    if (!id) {
        xlog(LOG_ERR, "etcd: lease grant answered no lease ID");
        return XAP_IMAP_INTERNAL;
    }
    /* A put repeated after an unknown outcome writes the same value; a
     * lease granted by a request whose answer was lost expires unused. */
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    r = post("/v3/kv/put", json_pack("{s:o,s:o,s:s}", "key", b64(key), "value", b64(value),
                                     "lease", ids), &rep);
    if (!r)
        json_decref(rep);
    return r;
}
