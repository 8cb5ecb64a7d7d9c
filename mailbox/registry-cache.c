/* registry-cache.c - the users' owners followed through an etcd watch,
 * for a long-running process (registry-cache.h, docs/SCALING.md "What
 * each node caches").
 *
 * The lines on the pipe, one JSON object each:
 *   {"reset": R}                 a full read at revision R follows: forget
 *                                everything
 *   {"put": USER, "server": S, "rev": N}   USER's owner is S (from revision N)
 *   {"del": USER, "rev": N}      no back end has USER
 *   {"synced": R}                the watch is in place: the cache is what
 *                                etcd says, and stays so
 *   {"down": REASON}             etcd cannot be reached
 * Changes arrive in revision order (one watch, applied as read), so the
 * table is always etcd's state at some revision. */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <jansson.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/xlog.h"
#include "mailbox/registry.h"
#include "mailbox/registry-cache.h"

#define USERS_PREFIX REGISTRY_PREFIX "users/"
/* Keys per request of the full read. */
#define READ_PAGE 1000
/* Between attempts while etcd cannot be reached. */
#define RETRY_US 1000000

/* ---------------------------------------------------------- follower */

struct follower {
    int fd;
    int64_t rev;        /* every change up to here has been written */
};

/* Writes J (consumed) and a newline to F's pipe.  Returns 0 or -1. */
static int emit(struct follower *f, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    size_t len, off = 0;
    int r = 0;

    json_decref(j);
    if (!s)
        return -1;
    len = strlen(s);
    s[len++] = '\n';    /* replaces the NUL, which is not written */
    while (off < len) {
        ssize_t n = write(f->fd, s + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = -1;
            break;
        }
        off += (size_t)n;
    }
    free(s);
    return r;
}

/* The "put" line for a user's KEY and VALUE: its servername (empty when
 * the value names none). */
static json_t *put_line(const char *key, const char *value, int64_t rev)
{
    json_t *v = json_loads(value, 0, NULL);
    const char *server = json_string_value(json_object_get(v, "server"));
    json_t *line = json_pack("{s:s,s:s,s:I}", "put", key + strlen(USERS_PREFIX), "server",
                             server ? server : "", "rev", (json_int_t)rev);

    json_decref(v);
    return line;
}

static int on_event(void *rock, const struct registry_kv *kv, int deleted)
{
    struct follower *f = rock;
    json_t *line;

    if (!kv)
        return emit(f, json_pack("{s:I}", "synced", (json_int_t)f->rev));
    if (strncmp(kv->key, USERS_PREFIX, strlen(USERS_PREFIX)))
        return 0;
    line = deleted ? json_pack("{s:s,s:I}", "del", kv->key + strlen(USERS_PREFIX), "rev",
                               (json_int_t)kv->mod_revision)
                   : put_line(kv->key, kv->value, kv->mod_revision);
    f->rev = kv->mod_revision;
    return emit(f, line);
}

/* The full read, in pages of READ_PAGE keys all read at one revision (a
 * single answer for a million users would be hundreds of megabytes).
 * Returns 0, -1 (the pipe) or an XAP_IMAP_* error. */
static int read_all(struct follower *f)
{
    char *after = NULL;
    int more = 1, r = 0, first = 1;

    f->rev = 0;
    while (more && !r) {
        struct registry_kv *kvs;
        size_t n;

        if ((r = etcd_get_page(NULL, USERS_PREFIX, 1, after, &f->rev, READ_PAGE, &kvs, &n,
                               &more)))
            break;
        if (first)
            r = emit(f, json_pack("{s:I}", "reset", (json_int_t)f->rev));
        first = 0;
        for (size_t i = 0; i < n && !r; i++)
            r = emit(f, put_line(kvs[i].key, kvs[i].value, kvs[i].mod_revision));
        talloc_free(after);
        after = n ? talloc_strdup(NULL, kvs[n - 1].key) : NULL;
        talloc_free(kvs);
        more = more && after;
    }
    talloc_free(after);
    return r;
}

void registry_follow(int fd)
{
    struct follower f = { fd, 0 };
    int fresh = 1;  /* read everything before the next watch */

    for (;;) {
        int64_t compacted = 0;
        int r = 0;

        if (fresh && (r = read_all(&f)) == 0)
            fresh = 0;
        if (r == 0)
            r = etcd_watch(USERS_PREFIX, f.rev + 1, on_event, &f, &compacted);
        if (r == -1)
            return;
        if (compacted) {
            xlog(LOG_NOTICE, "registry cache: revision %lld is compacted away (etcd kept"
                 " from %lld): reading every user again", (long long)f.rev + 1,
                 (long long)compacted);
            fresh = 1;
        } else if (r) {
            /* Resumes where it got to: every change since comes in the
             * watch, unless compacted away meanwhile. */
            if (emit(&f, json_pack("{s:s}", "down", xap_error_message(r))))
                return;
            g_usleep(RETRY_US);
        }
    }
}

/* ---------------------------------------------------------- table */

enum cache_state { CACHE_FILLING, CACHE_SYNCED, CACHE_DOWN };

struct registry_cache {
    GHashTable *owners;     /* userid -> servername */
    enum cache_state state;
    int64_t rev;
    char *partial;          /* the start of a line not ended yet */
};

static int cache_destroy(struct registry_cache *c)
{
    g_hash_table_destroy(c->owners);
    return 0;
}

struct registry_cache *registry_cache_new(void *ctx)
{
    struct registry_cache *c = talloc_zero(ctx, struct registry_cache);

    c->owners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    c->partial = talloc_strdup(c, "");
    talloc_set_destructor(c, cache_destroy);
    return c;
}

void registry_cache_lost(struct registry_cache *c)
{
    if (c->state == CACHE_SYNCED)
        xlog(LOG_WARNING, "registry cache: out of touch with etcd (answers as of"
             " revision %lld)", (long long)c->rev);
    c->state = CACHE_DOWN;
}

static void apply(struct registry_cache *c, json_t *j)
{
    const char *user;

    if (json_object_get(j, "reset")) {
        g_hash_table_remove_all(c->owners);
        c->state = CACHE_FILLING;
        c->rev = json_integer_value(json_object_get(j, "reset"));
    } else if ((user = json_string_value(json_object_get(j, "put")))) {
        const char *server = json_string_value(json_object_get(j, "server"));
        g_hash_table_insert(c->owners, g_strdup(user), g_strdup(server ? server : ""));
        /* A full read's keys carry older revisions than the read's. */
        c->rev = MAX(c->rev, json_integer_value(json_object_get(j, "rev")));
    } else if ((user = json_string_value(json_object_get(j, "del")))) {
        g_hash_table_remove(c->owners, user);
        c->rev = MAX(c->rev, json_integer_value(json_object_get(j, "rev")));
    } else if (json_object_get(j, "synced")) {
        if (c->state != CACHE_SYNCED)
            xlog(LOG_NOTICE, "registry cache: following etcd from revision %lld (%u users)",
                 (long long)c->rev, g_hash_table_size(c->owners));
        c->state = CACHE_SYNCED;
    } else if (json_object_get(j, "down")) {
        if (c->state != CACHE_DOWN)
            xlog(LOG_WARNING, "registry cache: etcd cannot be reached (%s): users of"
                 " other back ends are answered as of revision %lld",
                 json_string_value(json_object_get(j, "down")), (long long)c->rev);
        c->state = CACHE_DOWN;
    }
}

int registry_cache_feed(struct registry_cache *c, int fd)
{
    char buf[65536];
    ssize_t n;
    char *line, *nl;

    while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0)
            c->partial = talloc_strndup_append(c->partial, buf, (size_t)n);
    }
    line = c->partial;
    while ((nl = strchr(line, '\n'))) {
        json_t *j = json_loadb(line, (size_t)(nl - line), 0, NULL);
        if (j)
            apply(c, j);
        json_decref(j);
        line = nl + 1;
    }
    memmove(c->partial, line, strlen(line) + 1);
    if (n == 0) {
        registry_cache_lost(c);
        return -1;
    }
    return 0;
}

int registry_cache_where(const struct registry_cache *c, const char *userid,
                         const char **server_r)
{
    *server_r = g_hash_table_lookup(c->owners, userid);
    if (*server_r)
        return 0;
    return c->state == CACHE_SYNCED ? XAP_IMAP_MAILBOX_NONEXISTENT
           : c->state == CACHE_DOWN ? XAP_IMAP_REGISTRY_DOWN : XAP_IMAP_AGAIN;
}
