/* registry.c - the cluster registry: which back end owns each user and
 * each shared mailbox (docs/SCALING.md), behind one interface with two
 * back ends.
 *
 *   local  (default) mailboxes.db is the whole truth: a unit exists here
 *          or nowhere, claims always succeed (mailboxes.db's own
 *          exclusive create decides), and this server is the only one.
 *   etcd   (cluster_registry: etcd) one key per unit under
 *          /xapiary/users/ and /xapiary/mailboxes/, one leased key per
 *          back end under /xapiary/servers/; wire in registry-etcd.c.
 *
 * A unit's value names its owner and the uniqueid of the mailbox the
 * winning create made: that is how a create that repeats a request whose
 * answer was lost, or a recovery after a crash, recognizes its own win. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include <jansson.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "xapiary/registry.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/mboxname.h"
#include "common/xlog.h"
#include "mailbox/registry.h"

struct registry_backend {
    /* The owner of the unit whose key is KEY and whose root is ROOT. */
    int (*lookup)(void *ctx, const char *key, const char *root,
                  struct registry_owner **owner_r);
    /* Makes MINE (a JSON value) the unit's owner unless it has one;
     * *OWNER_R is the owner afterwards.  *UNKNOWN_R as etcd_create's. */
    int (*claim)(void *ctx, const char *key, const char *root, const char *mine,
                 struct registry_owner **owner_r, int *unknown_r);
    /* Removes the unit's key if its value is still VALUE. */
    int (*release)(const char *key, const char *value);
    /* Publishes this back end's registration. */
    int (*announce)(const char *key, const char *value);
    /* Every registered back end. */
    int (*servers)(void *ctx, struct registry_server **v_r, size_t *n_r);
};

int registry_clustered(void)
{
    return config_cluster_etcd(NULL);
}

const char *registry_me(void)
{
    const char *me = config_servername(NULL);
    return me ? me : "localhost";
}

/* user.X and below: X's key, root user.X; a shared mailbox: its own. */
static char *unit_key(void *ctx, const char *name, char **root_r)
{
    char *userid = NULL;

    if (!mboxname_to_userid(ctx, name, &userid)) {
        *root_r = talloc_asprintf(ctx, "user.%s", userid);
        return talloc_asprintf(ctx, REGISTRY_PREFIX "users/%s", userid);
    }
    *root_r = talloc_strdup(ctx, name);
    return talloc_asprintf(ctx, REGISTRY_PREFIX "mailboxes/%s", name);
}

static struct registry_owner *parse_owner(void *ctx, const char *value, int64_t rev)
{
    struct registry_owner *o = talloc_zero(ctx, struct registry_owner);
    json_t *j = json_loads(value, 0, NULL);
    const char *s;

    o->value = talloc_strdup(o, value);
    o->mod_revision = rev;
    o->server = talloc_strdup(o, (s = json_string_value(json_object_get(j, "server"))) ? s : "");
    o->partition = talloc_strdup(o, (s = json_string_value(json_object_get(j, "partition")))
                                        ? s : "");
    o->uniqueid = talloc_strdup(o, (s = json_string_value(json_object_get(j, "uniqueid")))
                                       ? s : "");
    json_decref(j);
    return o;
}

/* ---------------------------------------------------------- local */

static int local_lookup(void *ctx, const char *key, const char *root,
                        struct registry_owner **owner_r)
{
    struct xap_mboxlist_entry *e = NULL;
    int r = xap_mboxlist_lookup(NULL, root, &e);

    (void)key;
    *owner_r = NULL;
    if (r)
        return r;
    *owner_r = talloc_zero(ctx, struct registry_owner);
    (*owner_r)->server = talloc_strdup(*owner_r, registry_me());
    (*owner_r)->partition = talloc_strdup(*owner_r, e->partition);
    (*owner_r)->uniqueid = talloc_strdup(*owner_r, e->uniqueid);
    talloc_free(e);
    return 0;
}

static int local_claim(void *ctx, const char *key, const char *root, const char *mine,
                       struct registry_owner **owner_r, int *unknown_r)
{
    (void)key;
    (void)root;
    *unknown_r = 0;
    *owner_r = parse_owner(ctx, mine, 0);
    return 0;
}

static int local_release(const char *key, const char *value)
{
    (void)key;
    (void)value;
    return 0;
}

static int local_servers(void *ctx, struct registry_server **v_r, size_t *n_r)
{
    *v_r = talloc_zero_array(ctx, struct registry_server, 1);
    (*v_r)[0].name = talloc_strdup(*v_r, registry_me());
    *n_r = 1;
    return 0;
}

static const struct registry_backend local_backend = {
    local_lookup, local_claim, local_release, local_release, local_servers,
};

/* ---------------------------------------------------------- etcd */

static int etcd_lookup(void *ctx, const char *key, const char *root,
                       struct registry_owner **owner_r)
{
    struct registry_kv *kv;
    size_t n;
    int r;

    (void)root;
    *owner_r = NULL;
    if ((r = etcd_get(NULL, key, 0, &kv, &n)))
        return r;
    if (n)
        *owner_r = parse_owner(ctx, kv[0].value, kv[0].mod_revision);
    talloc_free(kv);
    return n ? 0 : XAP_IMAP_MAILBOX_NONEXISTENT;
}

static int etcd_claim(void *ctx, const char *key, const char *root, const char *mine,
                      struct registry_owner **owner_r, int *unknown_r)
{
    struct registry_kv *cur = NULL;
    int created = 0, r, tries = 0;

    (void)root;
    *owner_r = NULL;
    /* XAP_IMAP_AGAIN: the key was deleted between compare and read. */
    do {
        r = etcd_create(NULL, key, mine, &created, &cur, unknown_r);
    } while (r == XAP_IMAP_AGAIN && ++tries < 5);
    if (r)
        return r == XAP_IMAP_AGAIN ? XAP_IMAP_REGISTRY_DOWN : r;
    *owner_r = created ? parse_owner(ctx, mine, 0)
                       : parse_owner(ctx, cur->value, cur->mod_revision);
    talloc_free(cur);
    return 0;
}

static int etcd_release(const char *key, const char *value)
{
    int deleted;
    return etcd_delete_if(key, value, &deleted);
}

static int etcd_announce(const char *key, const char *value)
{
    return etcd_put_leased(key, value, REGISTRY_LEASE_TTL);
}

static int etcd_servers(void *ctx, struct registry_server **v_r, size_t *n_r)
{
    struct registry_kv *kv;
    size_t n;
    int r;

    if ((r = etcd_get(NULL, REGISTRY_PREFIX "servers/", 1, &kv, &n)))
        return r;
    *v_r = talloc_zero_array(ctx, struct registry_server, n ? n : 1);
    *n_r = n;
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_loads(kv[i].value, 0, NULL);
        const char *s = json_string_value(json_object_get(j, "server"));
        (*v_r)[i].name = talloc_strdup(*v_r, s ? s : "");
        (*v_r)[i].free_bytes = (uint64_t)json_integer_value(json_object_get(j, "free_bytes"));
        (*v_r)[i].users = (uint64_t)json_integer_value(json_object_get(j, "users"));
        json_decref(j);
    }
    talloc_free(kv);
    return 0;
}

static const struct registry_backend etcd_backend = {
    etcd_lookup, etcd_claim, etcd_release, etcd_announce, etcd_servers,
};

static const struct registry_backend *backend(void)
{
    return registry_clustered() ? &etcd_backend : &local_backend;
}

/* ---------------------------------------------------------- public */

int xap_registry_where_mailbox(void *ctx, const char *name, char **server_r)
{
    void *tmp = talloc_new(NULL);
    struct registry_owner *o = NULL;
    char *root, *key;
    int r;

    *server_r = NULL;
    if (mboxname_validate(name)) {
        talloc_free(tmp);
        return XAP_IMAP_MAILBOX_BADNAME;
    }
    key = unit_key(tmp, name, &root);
    /* A unit this back end has is its own, whatever etcd says: local
     * users stay reachable while etcd is down. */
    r = local_lookup(tmp, key, root, &o);
    if (r == XAP_IMAP_MAILBOX_NONEXISTENT)
        r = backend()->lookup(tmp, key, root, &o);
    if (!r)
        *server_r = talloc_strdup(ctx, o->server);
    talloc_free(tmp);
    return r;
}

int xap_registry_where(void *ctx, const char *userid, char **server_r)
{
    char *name;
    int r;

    *server_r = NULL;
    if (!userid || mboxname_userid_validate(userid))
        return XAP_IMAP_MAILBOX_BADNAME;
    name = talloc_asprintf(NULL, "user.%s", userid);
    r = xap_registry_where_mailbox(ctx, name, server_r);
    talloc_free(name);
    return r;
}

static int count_user(const struct xap_mboxlist_entry *e, void *rock)
{
    if (!strchr(e->name + 5, MBOXNAME_SEP))
        ++*(uint64_t *)rock;
    return 0;
}

int xap_registry_register(void)
{
    const char *part = config_npartitions(NULL) ? config_partition_name(NULL, 0) : NULL;
    const char *dir = config_partitiondir(NULL, "default");
    struct statvfs sv;
    uint64_t users = 0, free_bytes = 0;
    char *key, *value;
    json_t *j;
    int r;

    if (!registry_clustered())
        return 0;
    if (!dir && part)
        dir = config_partitiondir(NULL, part);
    if (dir && statvfs(dir, &sv) == 0)
        free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
    if ((r = xap_mboxlist_foreach("user.", 0, count_user, &users)))
        return r;
    j = json_pack("{s:s,s:I,s:I,s:I}", "server", registry_me(),
                  "free_bytes", (json_int_t)free_bytes, "users", (json_int_t)users,
                  "updated", (json_int_t)time(NULL));
    value = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    key = talloc_asprintf(NULL, REGISTRY_PREFIX "servers/%s", registry_me());
    r = backend()->announce(key, value);
    talloc_free(key);
    free(value);
    return r;
}

int xap_registry_place(void *ctx, char **server_r)
{
    struct registry_server *v = NULL, *best = NULL;
    size_t n = 0;
    int r;

    *server_r = NULL;
    if ((r = xap_registry_register()) || (r = backend()->servers(NULL, &v, &n)))
        return r;
    for (size_t i = 0; i < n; i++) {
        struct registry_server *s = &v[i];
        if (!*s->name)
            continue;
        if (!best || s->users < best->users ||
            (s->users == best->users && (s->free_bytes > best->free_bytes ||
             (s->free_bytes == best->free_bytes && strcmp(s->name, best->name) < 0))))
            best = s;
    }
    *server_r = talloc_strdup(ctx, best ? best->name : registry_me());
    talloc_free(v);
    return 0;
}

/* ---------------------------------------------------------- create hooks */

static char *owner_value(void *ctx, const char *partition, const char *uniqueid)
{
    json_t *j = json_pack("{s:s,s:s,s:s,s:I}", "server", registry_me(),
                          "partition", partition, "uniqueid", uniqueid,
                          "created", (json_int_t)time(NULL));
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    char *v = talloc_strdup(ctx, s);

    free(s);
    json_decref(j);
    return v;
}

/* Whether NAME may be created here as a folder of a unit whose root is
 * not NAME: its root must be here. */
static int check_folder(const char *name, const char *root)
{
    struct xap_mboxlist_entry *e = NULL;
    char *owner = NULL;
    int r = xap_mboxlist_lookup(NULL, root, &e);

    talloc_free(e);
    if (r != XAP_IMAP_MAILBOX_NONEXISTENT)
        return r;
    r = xap_registry_where_mailbox(NULL, root, &owner);
    if (!r) {
        xlog(LOG_INFO, "mailbox %s: %s lives on %s", name, root, owner);
        r = XAP_IMAP_MAILBOX_REMOTE;
    } else if (r == XAP_IMAP_MAILBOX_NONEXISTENT) {
        xlog(LOG_ERR, "mailbox %s: %s does not exist: in a cluster a user is "
             "created (user.ID) before its folders", name, root);
    }
    talloc_free(owner);
    return r;
}

int registry_reserve(void *ctx, const char *name, const char *partition,
                     uint32_t uidvalidity, char **uniqueid_io, int *reserved_r)
{
    void *tmp = talloc_new(NULL);
    struct xap_mboxlist_entry *old = NULL, e;
    struct registry_owner *o = NULL;
    char *root, *key, *mine;
    int r, unknown = 0;

    *reserved_r = 0;
    if (!registry_clustered()) {
        talloc_free(tmp);
        return 0;
    }
    key = unit_key(tmp, name, &root);
    if (strcmp(root, name)) {
        r = check_folder(name, root);
        talloc_free(tmp);
        return r;
    }
    r = xap_mboxlist_lookup_any(tmp, name, &old);
    if (r && r != XAP_IMAP_MAILBOX_NONEXISTENT)
        goto out;
    if (!r && old->type == XAP_MBTYPE_RESERVED) {
        /* A create that died (we hold the EXCLUSIVE namelock it held):
         * its uniqueid is what etcd has if its claim got there. */
        *uniqueid_io = talloc_strdup(ctx, old->uniqueid);
    }
    memset(&e, 0, sizeof e);
    e.name = (char *)name;
    e.partition = (char *)partition;
    e.uniqueid = *uniqueid_io;
    e.uidvalidity = uidvalidity;
    e.type = XAP_MBTYPE_RESERVED;
    r = !r && old->type == XAP_MBTYPE_RESERVED ? xap_mboxlist_update(NULL, &e)
                                           : xap_mboxlist_create_exclusive(NULL, &e);
    if (r)
        goto out;
    *reserved_r = 1;
    fault_point("registry.create.1");

    mine = owner_value(tmp, partition, *uniqueid_io);
    r = backend()->claim(tmp, key, root, mine, &o, &unknown);
    if (!r && registry_clustered() && !strcmp(o->server, registry_me()) &&
        strcmp(o->uniqueid, *uniqueid_io)) {
        /* Ours, but of a user this back end no longer has (a delete that
         * died before it released the key): we hold the name's EXCLUSIVE
         * namelock and have no record of it, so the key is stale. */
        int replaced = 0;
        xlog(LOG_NOTICE, "mailbox %s: replacing this server's stale registry key", name);
        if (!(r = etcd_replace_if(key, o->value, mine, &replaced)) && replaced)
            o = parse_owner(tmp, mine, 0);
        else if (!r)
            r = XAP_IMAP_AGAIN;
    }
    if (!r && (strcmp(o->server, registry_me()) || strcmp(o->uniqueid, *uniqueid_io))) {
        xlog(LOG_INFO, "mailbox %s: lives on %s", name, o->server);
        r = XAP_IMAP_MAILBOX_REMOTE;
    }
    if (r && !(r == XAP_IMAP_REGISTRY_DOWN && unknown)) {
        /* Lost (or never asked): the name goes before the namelock does,
         * so nobody ever sees a mailbox of a user that lives elsewhere. */
        int rr = xap_mboxlist_remove(NULL, name);
        if (!rr)
            *reserved_r = 0;
    } else if (r) {
        xlog(LOG_ERR, "mailbox %s: etcd may or may not have the create; "
             "`mbctl recover` or the next create of it decides", name);
    }
    if (!r)
        fault_point("registry.create.2");
out:
    talloc_free(tmp);
    return r;
}

int registry_release(const char *name, const char *uniqueid)
{
    void *tmp = talloc_new(NULL);
    struct registry_owner *o = NULL;
    char *root, *key;
    int r;

    if (!registry_clustered()) {
        talloc_free(tmp);
        return 0;
    }
    key = unit_key(tmp, name, &root);
    r = backend()->lookup(tmp, key, root, &o);
    if (!r && !strcmp(o->server, registry_me()) && !strcmp(o->uniqueid, uniqueid))
        r = backend()->release(key, o->value);
    else if (r == XAP_IMAP_MAILBOX_NONEXISTENT || !r)
        r = 0;
    talloc_free(tmp);
    return r;
}

/* ---------------------------------------------------------- recovery */

static int collect_reserved(const struct xap_mboxlist_entry *e, void *rock)
{
    char ***names = rock;
    size_t n = talloc_array_length(*names);

    if (e->type != XAP_MBTYPE_RESERVED)
        return 0;
    *names = talloc_realloc(NULL, *names, char *, n + 1);
    (*names)[n] = talloc_strdup(*names, e->name);
    return 0;
}

/* Resolves the RESERVED record of NAME, if it still has one. */
static int recover_one(const char *name)
{
    void *tmp = talloc_new(NULL);
    struct xap_mboxlock *lock = NULL;
    struct xap_mboxlist_entry *e = NULL;
    struct registry_owner *o = NULL;
    struct xap_mailbox *mb = NULL;
    char *root, *key;
    int r, ours;

    if ((r = xap_mboxname_lock(name, &lock, XAP_LOCK_EXCLUSIVE)))
        goto out;
    if ((r = xap_mboxlist_lookup_any(tmp, name, &e)) || e->type != XAP_MBTYPE_RESERVED) {
        r = r == XAP_IMAP_MAILBOX_NONEXISTENT ? 0 : r;
        goto out;
    }
    key = unit_key(tmp, name, &root);
    r = backend()->lookup(tmp, key, root, &o);
    if (r && r != XAP_IMAP_MAILBOX_NONEXISTENT)
        goto out;
    ours = !r && !strcmp(o->server, registry_me()) && !strcmp(o->uniqueid, e->uniqueid);
    if (!ours) {
        /* Another back end won, or the claim never reached etcd. */
        r = xap_mboxlist_remove(NULL, name);
        goto out;
    }
    /* The create won: finish it.  xap_mailbox_create() adopts the record
     * and finds its own claim in etcd. */
    xap_mboxname_release(&lock);
    r = xap_mailbox_create(name, e->partition, e->uniqueid, e->uidvalidity, &mb);
    if (!r)
        xap_mailbox_close(&mb);
out:
    xap_mboxname_release(&lock);
    talloc_free(tmp);
    return r;
}

int xap_registry_recover(unsigned *n_r)
{
    char **names = talloc_array(NULL, char *, 0);
    int r, first = 0;

    *n_r = 0;
    r = xap_mboxlist_foreach(NULL, XAP_MBOXLIST_ALL, collect_reserved, &names);
    for (size_t i = 0; !r && i < talloc_array_length(names); i++) {
        int rr = recover_one(names[i]);
        if (rr) {
            xlog(LOG_ERR, "mailbox %s: reserved record left: %s", names[i],
                 xap_error_message(rr));
            if (!first)
                first = rr;
        } else {
            ++*n_r;
        }
    }
    talloc_free(names);
    return r ? r : first;
}

/* ---------------------------------------------------------- renames */

int registry_rename_begin(const char *from, const char *to)
{
    void *tmp = talloc_new(NULL);
    struct xap_mboxlist_entry *e = NULL;
    struct registry_owner *o = NULL;
    char *froot, *troot, *tkey, *mine;
    int r, unknown = 0;

    if (!registry_clustered()) {
        talloc_free(tmp);
        return 0;
    }
    unit_key(tmp, from, &froot);
    tkey = unit_key(tmp, to, &troot);
    if (strncmp(from, "user.", 5)) {
        xlog(LOG_ERR, "rename %s -> %s: shared mailboxes cannot be renamed in a "
             "cluster (each is its own registry key)", from, to);
        r = XAP_IMAP_MAILBOX_NOTSUPPORTED;
        goto out;
    }
    if (strcmp(from, froot)) {
        r = 0;     /* folders stay in their user: nothing changes owner */
        goto out;
    }
    if ((r = xap_mboxlist_lookup(tmp, from, &e)))
        goto out;
    /* The new name's key, with the uniqueid the rename keeps: a retry, or
     * the next create here after a crash, recognizes it as ours. */
    mine = owner_value(tmp, e->partition, e->uniqueid);
    r = backend()->claim(tmp, tkey, troot, mine, &o, &unknown);
    if (!r && (strcmp(o->server, registry_me()) || strcmp(o->uniqueid, e->uniqueid))) {
        xlog(LOG_INFO, "rename %s -> %s: %s lives on %s", from, to, to, o->server);
        r = XAP_IMAP_MAILBOX_REMOTE;
    }
    if (!r)
        fault_point("registry.rename.1");
out:
    talloc_free(tmp);
    return r;
}

int registry_rename_end(const char *from, const char *to, const char *uniqueid,
                        int committed)
{
    if (!registry_clustered() || strncmp(from, "user.", 5) ||
        strchr(from + 5, MBOXNAME_SEP))
        return 0;
    /* The name that is not the user's any more lets go of its key. */
    return registry_release(committed ? from : to, uniqueid);
}

/* ---------------------------------------------------------- moves */

int registry_user_owner(void *ctx, const char *userid, char **server_r, char **uniqueid_r,
                        int64_t *rev_r, int64_t *moved_rev_r)
{
    void *tmp = talloc_new(NULL);
    struct registry_owner *o = NULL;
    char *root, *key;
    int r;

    *server_r = *uniqueid_r = NULL;
    *rev_r = 0;
    if (moved_rev_r)
        *moved_rev_r = 0;
    if (!registry_clustered()) {
        talloc_free(tmp);
        return XAP_IMAP_CONFIG;
    }
    key = unit_key(tmp, talloc_asprintf(tmp, "user.%s", userid), &root);
    if (!(r = etcd_lookup(tmp, key, root, &o))) {
        *server_r = talloc_strdup(ctx, o->server);
        *uniqueid_r = talloc_strdup(ctx, o->uniqueid);
        *rev_r = o->mod_revision;
        if (moved_rev_r) {
            json_t *j = json_loads(o->value, 0, NULL);
            *moved_rev_r = json_integer_value(json_object_get(j, "moved_at_revision"));
            json_decref(j);
        }
    }
    talloc_free(tmp);
    return r;
}

int registry_move_switch(const char *userid, int64_t rev)
{
    void *tmp = talloc_new(NULL);
    struct registry_kv *kv = NULL, *cur = NULL;
    json_t *j = NULL;
    char *key, *value, *s;
    size_t n;
    int r, replaced = 0;

    if (!registry_clustered()) {
        talloc_free(tmp);
        return XAP_IMAP_CONFIG;
    }
    key = talloc_asprintf(tmp, REGISTRY_PREFIX "users/%s", userid);
    if ((r = etcd_get(tmp, key, 0, &kv, &n)))
        goto out;
    /* json_is_object() evaluates its argument twice. */
    if (n && kv[0].mod_revision == rev)
        j = json_loads(kv[0].value, 0, NULL);
    if (!n || kv[0].mod_revision != rev || !json_is_object(j)) {
        xlog(LOG_ERR, "user %s: the registry key changed since the move began "
             "(revision %lld, now %lld: %s): not switched", userid, (long long)rev,
             n ? (long long)kv[0].mod_revision : 0LL, n ? kv[0].value : "no key");
        r = XAP_IMAP_MAILBOX_REMOTE;
        goto out;
    }
    /* The revision the mover read makes the value unique to this move, so
     * that a repeat of a switch whose answer was lost recognizes its own. */
    json_object_set_new(j, "server", json_string(registry_me()));
    json_object_set_new(j, "moved", json_integer((json_int_t)time(NULL)));
    json_object_set_new(j, "moved_at_revision", json_integer((json_int_t)rev));
    s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    value = talloc_strdup(tmp, s);
    free(s);
    if ((r = etcd_replace_at(tmp, key, rev, value, &replaced, &cur, &n)))
        goto out;
    if (!replaced && !(n && !strcmp(cur[0].value, value))) {
        xlog(LOG_ERR, "user %s: the registry key changed since the move began "
             "(revision %lld): %s: not switched", userid, (long long)rev,
             n ? cur[0].value : "no key");
        r = XAP_IMAP_MAILBOX_REMOTE;
    }
out:
    json_decref(j);
    talloc_free(tmp);
    return r;
}
