/* mailbox-rename.c - renaming a folder tree as one atomic, crash-safe
 * operation (spec section 7, seeds/001).
 *
 * xap_mailbox_rename_tree(FROM, TO) holds FROM's EXCLUSIVE namelock from start
 * to end, and that namelock is the NAMELOCK field of every record it
 * marks.  Steps, each followed by its fault point:
 *
 *   mark     one mailboxes.db transaction: every mailbox of the FROM tree
 *            becomes RENAMELOCKED, and its new name gets a RENAMETEMP
 *            record (same uniqueid, uidvalidity and partition; a tombstone
 *            the new name had is kept in the record, to restore on undo).
 *                                                              rename.1
 *   claim    in a cluster, a user rename claims the new user's registry
 *            key (docs/SCALING.md); the switch's cleanup or the undo
 *            releases the key that is no longer the user's.
 *                                                     registry.rename.1
 *   copy     each mailbox's files are copied to the new name (messages
 *            hard-linked, index and cache copied, fsynced).    rename.2
 *            (after the first mailbox), rename.3 (after all)
 *   switch   one transaction: old names RENAMETEMP, new names normal
 *            mailboxes.  A user rename (user.a -> user.b) also moves the
 *            user's GUID db, xapianactive and search tier directories
 *            here, under user a's EXCLUSIVE Xapian namelock, before the
 *            commit.                                           rename.4
 *            (moved, not committed), rename.5 (committed)
 *   remove   the old names' files.                             rename.6
 *            (after the first mailbox), rename.7 (after all)
 *   tombstone one transaction: old names DELETED (uidvalidity kept).
 *                                                              rename.8
 *
 * Before the switch commits, a crash leaves the old tree the real one:
 * undo removes the new files, moves user data back and restores the old
 * records (rename.undo.1 after the files, before the records).  After
 * it, the new tree is the real one: finishing is the remove and tombstone
 * steps.  Which one applies is read from the records alone (an old name
 * still RENAMELOCKED means the switch did not commit), and both are
 * idempotent, so a crash during the cleanup is cleaned up the same way.
 *
 * Other processes: an open of a name whose record is RENAMELOCKED or
 * RENAMETEMP waits for the NAMELOCK; once granted, the rename is over, or
 * its process is dead and the opener cleans up (xap_mailbox_rename_resolve),
 * then looks again: it sees the whole old tree or the whole new one. */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "common/fault.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"
#include "mailbox/registry.h"
#include "mailbox/statuscache.h"
#include "mailbox/synclog.h"
#include "mailbox/userdata.h"

/* Collection retries when another rename's records are in the way. */
#define MAX_RETRIES 8

struct rename_item {
    char *oldname, *newname;
    char *partition, *uniqueid;
    uint32_t uidvalidity;
    char *extra;           /* the old record's other fields (no "rename") */
    json_t *prev;          /* the new name's tombstone before the rename */
};

struct rename_plan {
    char *from, *to;
    char *olduser, *newuser;      /* set for a user rename */
    struct rename_item *items;    /* talloc array, in name order */
    int committed;                /* read from records: switch done */
    int r;                        /* a collection callback's error */
};

/* The root this process is renaming: its own marks do not block it. */
static const char *renaming;

int mailbox_rename_is_mine(const char *namelock)
{
    return renaming && namelock && !strcmp(renaming, namelock);
}

int mailbox_is_renaming(const struct xap_mboxlist_entry *e)
{
    return (e->type == XAP_MBTYPE_RENAMELOCKED || e->type == XAP_MBTYPE_RENAMETEMP) &&
           !mailbox_rename_is_mine(e->namelock);
}

/* ------------------------------------------------------------ records */

/* The "rename" object of E's extra fields (a new reference), or NULL. */
static json_t *rename_info(const struct xap_mboxlist_entry *e)
{
    json_t *x = e->extra ? json_loads(e->extra, 0, NULL) : NULL;
    json_t *info = json_object_get(x, "rename");

    info = json_is_object(info) ? json_incref(info) : NULL;
    json_decref(x);
    return info;
}

/* EXTRA with its "rename" field set to INFO (stolen; NULL removes it). */
static char *extra_with(void *ctx, const char *extra, json_t *info)
{
    json_t *x = extra ? json_loads(extra, 0, NULL) : NULL;
    char *s, *ret = NULL;

    if (!json_is_object(x)) {
        json_decref(x);
        x = json_object();
    }
    if (info)
        json_object_set_new(x, "rename", info);
    else
        json_object_del(x, "rename");
    if (json_object_size(x) && (s = json_dumps(x, JSON_COMPACT | JSON_SORT_KEYS))) {
        ret = talloc_strdup(ctx, s);
        free(s);
    }
    json_decref(x);
    return ret;
}

static json_t *make_info(const struct rename_plan *p, const char *side,
                         const char *peer, json_t *prev)
{
    json_t *info = json_pack("{s:s, s:s, s:s, s:s}", "from", p->from, "to", p->to,
                             "side", side, "peer", peer);
    if (prev)
        json_object_set(info, "prev", prev);
    return info;
}

static void fill(struct xap_mboxlist_entry *e, const struct rename_item *it,
                 const char *name, int type, const char *namelock, char *extra)
{
    memset(e, 0, sizeof *e);
    e->name = (char *)name;
    e->partition = it->partition;
    e->uniqueid = it->uniqueid;
    e->uidvalidity = it->uidvalidity;
    e->type = type;
    e->namelock = (char *)namelock;
    e->extra = extra;
}

static struct rename_item *add_item(struct rename_plan *p, const struct xap_mboxlist_entry *e)
{
    size_t n = talloc_array_length(p->items);
    struct rename_item *it;

    p->items = talloc_realloc(p, p->items, struct rename_item, n + 1);
    it = &p->items[n];
    memset(it, 0, sizeof *it);
    it->oldname = talloc_strdup(p->items, e->name);
    it->partition = talloc_strdup(p->items, e->partition);
    it->uniqueid = talloc_strdup(p->items, e->uniqueid);
    it->uidvalidity = e->uidvalidity;
    it->extra = extra_with(p->items, e->extra, NULL);
    return it;
}

static int free_prevs(struct rename_plan *p)
{
    for (size_t i = 0; i < talloc_array_length(p->items); i++)
        json_decref(p->items[i].prev);
    return 0;
}

static struct rename_plan *new_plan(const char *from, const char *to)
{
    struct rename_plan *p = talloc_zero(NULL, struct rename_plan);

    p->from = talloc_strdup(p, from);
    p->to = talloc_strdup(p, to);
    p->items = talloc_array(p, struct rename_item, 0);
    talloc_set_destructor(p, free_prevs);
    return p;
}

/* A user rename: FROM and TO are both user.ID. */
static void set_users(struct rename_plan *p)
{
    char *ou = NULL, *nu = NULL;

    if (!mboxname_to_userid(p, p->from, &ou) && !mboxname_to_userid(p, p->to, &nu) &&
        !strchr(p->from + 5, '.') && !strchr(p->to + 5, '.')) {
        p->olduser = ou;
        p->newuser = nu;
    }
}

/* ------------------------------------------------------------ finish and undo */

/* Removes the files of mailbox NAME on PARTITION (children are removed
 * first by the callers, so the directory goes too unless it is shared). */
static int remove_mailbox_files(const char *partition, const char *name)
{
    char *dir = mailbox_dir(NULL, partition, name);
    int r = dir ? mailbox_remove_files(dir) : XAP_IMAP_PARTITION_UNKNOWN;

    if (!r && rmdir(dir) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST) {
        /* An error, so that the cleanup that finishes the rename (the
         * next open, expire, recover) removes it, not a directory left
         * for good */
        xlog_syserr("rmdir", dir);
        r = XAP_IMAP_IOERROR;
    } else if (!r) {
        /* PARTITION/HH/C1/.../Cn: the levels above Cn that held only this
         * name (HH/user/ after a user's INBOX) go too. */
        int levels = 1;
        for (const char *c = name; *c; c++)
            levels += *c == MBOXNAME_SEP;
        rmdir_empty_parents(dir, levels);
    }
    talloc_free(dir);
    return r;
}

/* In a cluster, the registry key of the name that is not the user's any
 * more (the old one after the switch, the new one after an undo) goes.
 * A failure leaves a key that names this server for a user it does not
 * have, which its next create here replaces: logged, not an error of the
 * rename. */
static void registry_end(struct rename_plan *p, int committed)
{
    int r;

    if (!talloc_array_length(p->items))
        return;
    if ((r = registry_rename_end(p->from, p->to, p->items[0].uniqueid, committed)))
        xlog(LOG_ERR, "rename %s -> %s: the registry still names this server for %s: %s",
             p->from, p->to, committed ? p->from : p->to, xap_error_message(r));
}

static int commit_records(struct xap_mboxlist_txn *txn, int r)
{
    if (r) {
        xap_mboxlist_abort(&txn);
        return r;
    }
    return xap_mboxlist_commit(&txn);
}

/* After the switch: the old names' files go, then their records become
 * tombstones. */
static int finish(struct rename_plan *p, struct xap_mailbox_rename_stats *st)
{
    struct xap_mboxlist_txn *txn = NULL;
    double t = now_seconds();
    int r = 0;

    /* First, so that a crash anywhere after the switch comes back here
     * and tries again (releasing is idempotent). */
    registry_end(p, 1);
    /* The log may still name the old names, which squatter -R drops as
     * gone: the new ones, live since the switch, must be in it too.  A
     * crash before this point finishes here on the next open. */
    for (size_t i = 0; i < talloc_array_length(p->items); i++)
        synclog_append(SYNCLOG_CHANNEL_SQUATTER, p->items[i].newname);
    for (size_t i = talloc_array_length(p->items); i-- > 0 && !r; ) {
        r = remove_mailbox_files(p->items[i].partition, p->items[i].oldname);
        statuscache_invalidate(p->items[i].oldname);
        if (i + 1 == talloc_array_length(p->items))
            fault_point("rename.6");
    }
    if (r)
        return r;
    fault_point("rename.7");
    if (st)
        st->remove_s += now_seconds() - t;
    t = now_seconds();
    if ((r = xap_mboxlist_begin(&txn)))
        return r;
    for (size_t i = 0; i < talloc_array_length(p->items) && !r; i++) {
        struct rename_item *it = &p->items[i];
        struct xap_mboxlist_entry e;
        fill(&e, it, it->oldname, XAP_MBTYPE_DELETED, NULL, it->extra);
        r = xap_mboxlist_update(txn, &e);
    }
    r = commit_records(txn, r);
    if (!r)
        fault_point("rename.8");
    if (st)
        st->tombstone_s += now_seconds() - t;
    return r;
}

/* Whether NAME's record is the RENAMETEMP new name of P's rename. */
static int is_new_side(const struct rename_plan *p, const char *name)
{
    struct xap_mboxlist_entry *e = NULL;
    int ours = !xap_mboxlist_lookup_any(NULL, name, &e) && e->type == XAP_MBTYPE_RENAMETEMP &&
               e->namelock && !strcmp(e->namelock, p->from);

    talloc_free(e);
    return ours;
}

/* Before the switch: the new names' files go, the user's data comes back,
 * and the records are as they were. */
static int undo(struct rename_plan *p)
{
    struct xap_mboxlist_txn *txn = NULL;
    int r = 0;

    /* First, for the same reason as in finish(). */
    registry_end(p, 0);
    for (size_t i = talloc_array_length(p->items); i-- > 0 && !r; )
        if (is_new_side(p, p->items[i].newname))
            r = remove_mailbox_files(p->items[i].partition, p->items[i].newname);
    if (!r && p->olduser) {
        char xname[MBOXNAME_MAX + 16];
        struct xap_mboxlock *xl = NULL;
        if (!(r = xap_mboxname_xapian_lockname(p->newuser, xname, sizeof xname)) &&
            !(r = xap_mboxname_lock(xname, &xl, XAP_LOCK_EXCLUSIVE)))
            r = userdata_move(p->newuser, p->olduser);
        xap_mboxname_release(&xl);
    }
    if (r)
        return r;
    fault_point("rename.undo.1");
    if ((r = xap_mboxlist_begin(&txn)))
        return r;
    for (size_t i = 0; i < talloc_array_length(p->items) && !r; i++) {
        struct rename_item *it = &p->items[i];
        struct xap_mboxlist_entry e;
        fill(&e, it, it->oldname, XAP_MBTYPE_NORMAL, NULL, it->extra);
        r = xap_mboxlist_update(txn, &e);
        if (r || !is_new_side(p, it->newname))
            continue;
        if (it->prev) {
            /* The tombstone the new name had, back as it was. */
            fill(&e, it, it->newname, XAP_MBTYPE_DELETED, NULL, NULL);
            e.partition = (char *)json_string_value(json_object_get(it->prev, "partition"));
            e.uniqueid = (char *)json_string_value(json_object_get(it->prev, "uniqueid"));
            e.uidvalidity = (uint32_t)json_integer_value(json_object_get(it->prev,
                                                                          "uidvalidity"));
            r = e.partition && e.uniqueid ? xap_mboxlist_update(txn, &e)
                                          : xap_mboxlist_remove(txn, it->newname);
        } else {
            r = xap_mboxlist_remove(txn, it->newname);
        }
    }
    return commit_records(txn, r);
}

/* ------------------------------------------------------------ dead renames */

static int collect_marked(const struct xap_mboxlist_entry *e, void *rock)
{
    struct rename_plan *p = rock;
    json_t *info;
    const char *side, *peer;

    if (e->type != XAP_MBTYPE_RENAMELOCKED && e->type != XAP_MBTYPE_RENAMETEMP)
        return 0;
    if (!e->namelock || strcmp(e->namelock, p->from))
        return 0;
    info = rename_info(e);
    side = json_string_value(json_object_get(info, "side"));
    peer = json_string_value(json_object_get(info, "peer"));
    if (!side || !peer || mboxname_validate(peer) ||
        !json_string_value(json_object_get(info, "to"))) {
        xlog(LOG_ERR, "mailboxes.db: record %s of a rename has no valid rename field",
             e->name);
        json_decref(info);
        p->r = XAP_IMAP_MAILBOX_BADFORMAT;
        return p->r;
    }
    if (!strcmp(side, "old")) {
        struct rename_item *it = add_item(p, e);
        it->newname = talloc_strdup(p->items, peer);
        if (e->type == XAP_MBTYPE_RENAMETEMP)
            p->committed = 1;
        if (!p->to || !strcmp(p->to, p->from))
            p->to = talloc_strdup(p, json_string_value(json_object_get(info, "to")));
    }
    json_decref(info);
    return 0;
}

/* The tombstones the new names had, from their RENAMETEMP records. */
static void read_prevs(struct rename_plan *p)
{
    for (size_t i = 0; i < talloc_array_length(p->items); i++) {
        struct xap_mboxlist_entry *e = NULL;
        json_t *info;
        if (xap_mboxlist_lookup_any(NULL, p->items[i].newname, &e))
            continue;
        info = rename_info(e);
        p->items[i].prev = json_incref(json_object_get(info, "prev"));
        json_decref(info);
        talloc_free(e);
    }
}

int xap_mailbox_rename_resolve(const char *root, int nonblock)
{
    struct xap_mboxlock *lock = NULL;
    struct rename_plan *p;
    int r;

    if (mboxname_validate(root))
        return XAP_IMAP_MAILBOX_BADNAME;
    if ((r = xap_mboxname_lock(root, &lock, nonblock ? XAP_LOCK_NONBLOCKING : XAP_LOCK_EXCLUSIVE)))
        return r;
    /* With the NAMELOCK granted the renamer is gone: what its records say
     * is all there is to go on. */
    p = new_plan(root, root);
    r = xap_mboxlist_foreach(root, XAP_MBOXLIST_TREE | XAP_MBOXLIST_ALL, collect_marked, p);
    if (!r && talloc_array_length(p->items)) {
        set_users(p);
        if (p->committed) {
            xlog(LOG_NOTICE, "rename %s -> %s: finishing a rename whose process died",
                 p->from, p->to);
            r = finish(p, NULL);
        } else {
            xlog(LOG_NOTICE, "rename %s -> %s: undoing a rename whose process died",
                 p->from, p->to);
            read_prevs(p);
            r = undo(p);
        }
    }
    talloc_free(p);
    xap_mboxname_release(&lock);
    return r;
}

int mailbox_rename_wait(const char *root)
{
    /* Waiting while holding other namelocks could deadlock with the
     * renamer, which may be waiting for one of them: only try. */
    return xap_mailbox_rename_resolve(root, namelock_held_count() > 0);
}

/* ------------------------------------------------------------ the rename */

static int check_names(const char *from, const char *to)
{
    size_t n = strlen(from);
    char *ou = NULL, *nu = NULL;
    int from_user, to_user, r = 0;

    if (mboxname_validate(from) || mboxname_validate(to))
        return XAP_IMAP_MAILBOX_BADNAME;
    if (!strcmp(from, to))
        return XAP_IMAP_MAILBOX_EXISTS;
    if (!strncmp(to, from, n) && to[n] == MBOXNAME_SEP) {
        xlog(LOG_ERR, "rename %s -> %s: a mailbox cannot move into its own subtree",
             from, to);
        return XAP_IMAP_MAILBOX_BADNAME;
    }
    if (!strcmp(from, "user") || !strcmp(to, "user")) {
        /* A `user` mailbox made before this check: renaming it would move
         * every user's tree, renaming onto it would make users of its
         * children. */
        xlog(LOG_ERR, "rename %s -> %s: the root of the user namespace cannot be "
             "renamed or renamed to", from, to);
        return XAP_IMAP_MAILBOX_NOTSUPPORTED;
    }
    from_user = !mboxname_to_userid(NULL, from, &ou);
    to_user = !mboxname_to_userid(NULL, to, &nu);
    if ((from_user && !strchr(from + 5, '.')) != (to_user && !strchr(to + 5, '.'))) {
        xlog(LOG_ERR, "rename %s -> %s: a user's INBOX renames only to another user's "
             "INBOX", from, to);
        r = XAP_IMAP_MAILBOX_NOTSUPPORTED;
    } else if (from_user != to_user ||
               (from_user && strchr(from + 5, '.') && strcmp(ou, nu))) {
        /* The mail would leave its owner's GUID db and search tiers. */
        xlog(LOG_ERR, "rename %s -> %s: mailboxes cannot move between users", from, to);
        r = XAP_IMAP_MAILBOX_NOTSUPPORTED;
    }
    talloc_free(ou);
    talloc_free(nu);
    return r;
}

struct collect_rock {
    struct rename_plan *p;
    char *other;          /* NAMELOCK of a rename in the way */
    int adding;           /* visiting the FROM tree: its mailboxes move */
};

static int collect_live(const struct xap_mboxlist_entry *e, void *rock)
{
    struct collect_rock *cr = rock;
    struct rename_item *it;

    if (e->type == XAP_MBTYPE_DELETED)
        return 0;
    if (e->type != XAP_MBTYPE_NORMAL) {
        cr->other = talloc_strdup(cr->p, e->namelock ? e->namelock : e->name);
        return XAP_IMAP_AGAIN;
    }
    if (!cr->adding)
        return 0;         /* a record of the TO tree: only its marks matter */
    it = add_item(cr->p, e);     /* reallocates the array: then the name */
    it->newname = talloc_asprintf(cr->p->items, "%s%s", cr->p->to,
                                  e->name + strlen(cr->p->from));
    return 0;
}

/* The mailboxes to move, with no other rename's records in either tree;
 * the new names free (a tombstone is fine: it is kept for undo). */
static int plan_rename(struct rename_plan *p)
{
    for (int tries = 0; tries < MAX_RETRIES; tries++) {
        struct collect_rock cr = { p, NULL, 1 };
        int r;
        free_prevs(p);
        talloc_free(p->items);
        p->items = talloc_array(p, struct rename_item, 0);
        r = xap_mboxlist_foreach(p->from, XAP_MBOXLIST_TREE | XAP_MBOXLIST_ALL, collect_live, &cr);
        cr.adding = 0;
        if (!r)
            r = xap_mboxlist_foreach(p->to, XAP_MBOXLIST_TREE | XAP_MBOXLIST_ALL, collect_live, &cr);
        if (r == XAP_IMAP_AGAIN) {
            /* Ours (a dead run of this rename) or another's: clean it up
             * if its process is gone; a live one makes us busy. */
            if ((r = xap_mailbox_rename_resolve(cr.other, 1)))
                return r;
            continue;
        }
        if (r)
            return r;
        if (!talloc_array_length(p->items))
            return XAP_IMAP_MAILBOX_NONEXISTENT;
        for (size_t i = 0; i < talloc_array_length(p->items); i++) {
            struct rename_item *it = &p->items[i];
            struct xap_mboxlist_entry *e = NULL;
            if (mboxname_validate(it->newname))
                return XAP_IMAP_MAILBOX_BADNAME;
            r = xap_mboxlist_lookup_any(NULL, it->newname, &e);
            if (!r && e->type != XAP_MBTYPE_DELETED) {
                xlog(LOG_ERR, "rename %s -> %s: %s exists", p->from, p->to, it->newname);
                r = XAP_IMAP_MAILBOX_EXISTS;
            } else if (!r) {
                it->prev = json_pack("{s:s, s:s, s:I}", "partition", e->partition,
                                     "uniqueid", e->uniqueid,
                                     "uidvalidity", (json_int_t)e->uidvalidity);
            } else if (r == XAP_IMAP_MAILBOX_NONEXISTENT) {
                r = 0;
            }
            talloc_free(e);
            if (r)
                return r;
        }
        return 0;
    }
    return XAP_IMAP_MAILBOX_LOCKED;
}

static int mark(struct rename_plan *p)
{
    struct xap_mboxlist_txn *txn = NULL;
    int r;

    if ((r = xap_mboxlist_begin(&txn)))
        return r;
    for (size_t i = 0; i < talloc_array_length(p->items) && !r; i++) {
        struct rename_item *it = &p->items[i];
        struct xap_mboxlist_entry e;
        fill(&e, it, it->oldname, XAP_MBTYPE_RENAMELOCKED, p->from,
             extra_with(p, it->extra, make_info(p, "old", it->newname, NULL)));
        if ((r = xap_mboxlist_update(txn, &e)))
            break;
        fill(&e, it, it->newname, XAP_MBTYPE_RENAMETEMP, p->from,
             extra_with(p, NULL, make_info(p, "new", it->oldname, it->prev)));
        r = xap_mboxlist_create_exclusive(txn, &e);
    }
    return commit_records(txn, r);
}

static int copy_one(const struct rename_item *it, struct xap_mailbox_rename_stats *st)
{
    struct xap_mboxlock *nl = NULL;
    struct xap_mailbox *old = NULL, *new = NULL;
    int r;

    /* Namelocks before index locks: the new name's first. */
    if (!(r = xap_mboxname_lock(it->newname, &nl, XAP_LOCK_EXCLUSIVE)) &&
        !(r = xap_mailbox_open_exclusive(it->oldname, &old)))
        r = xap_mailbox_rename_copy(old, it->newname, NULL, &new);
    if (!r && st)
        st->messages += xap_mailbox_exists(old);
    xap_mailbox_close(&new);
    xap_mailbox_close(&old);
    xap_mboxname_release(&nl);
    return r;
}

static int switch_records(struct rename_plan *p)
{
    for (;;) {
        struct xap_mboxlist_txn *txn = NULL;
        struct xap_mboxlock *xl = NULL;
        char xname[MBOXNAME_MAX + 16];
        int r;

        if ((r = xap_mboxlist_begin(&txn)))
            return r;
        if (p->olduser) {
            /* Only try: waiting for a compaction's SHARED hold inside the
             * transaction would stop every mailboxes.db writer. */
            if (!(r = xap_mboxname_xapian_lockname(p->olduser, xname, sizeof xname)))
                r = xap_mboxname_lock(xname, &xl, XAP_LOCK_NONBLOCKING);
            if (r == XAP_IMAP_MAILBOX_LOCKED) {
                xap_mboxlist_abort(&txn);
                if ((r = xap_mboxname_lock(xname, &xl, XAP_LOCK_EXCLUSIVE)))
                    return r;
                xap_mboxname_release(&xl);
                continue;
            }
            if (!r && !(r = userdata_move(p->olduser, p->newuser)))
                fault_point("rename.4");
        }
        for (size_t i = 0; i < talloc_array_length(p->items) && !r; i++) {
            struct rename_item *it = &p->items[i];
            struct xap_mboxlist_entry e;
            fill(&e, it, it->oldname, XAP_MBTYPE_RENAMETEMP, p->from,
                 extra_with(p, it->extra, make_info(p, "old", it->newname, NULL)));
            if ((r = xap_mboxlist_update(txn, &e)))
                break;
            fill(&e, it, it->newname, XAP_MBTYPE_NORMAL, NULL, it->extra);
            r = xap_mboxlist_update(txn, &e);
        }
        r = commit_records(txn, r);
        xap_mboxname_release(&xl);
        return r;
    }
}

int xap_mailbox_rename_tree(const char *from, const char *to, struct xap_mailbox_rename_stats *st)
{
    struct xap_mboxlock *lock = NULL;
    struct rename_plan *p;
    double t;
    int r, marked = 0;

    if (st)
        memset(st, 0, sizeof *st);
    if ((r = check_names(from, to)))
        return r;
    if (renaming) {
        xlog(LOG_ERR, "rename %s -> %s: this process is already renaming %s",
             from, to, renaming);
        return XAP_IMAP_INTERNAL;
    }
    if ((r = xap_mboxname_lock(from, &lock, XAP_LOCK_EXCLUSIVE)))
        return r;
    p = new_plan(from, to);
    set_users(p);
    t = now_seconds();
    if ((r = plan_rename(p)))
        goto done;
    if (p->olduser) {
        char *path = NULL;
        if ((r = userdata_check_partitions(p->olduser)))
            goto done;
        if ((r = userdata_find(p, p->newuser, &path))) {
            if (r == XAP_IMAP_MAILBOX_EXISTS)   /* else logged: a refused link */
                xlog(LOG_ERR, "rename %s -> %s: user %s already has data at %s",
                     from, to, p->newuser, path);
            goto done;
        }
    }
    renaming = p->from;
    if ((r = mark(p)))
        goto done;
    marked = 1;
    fault_point("rename.1");
    /* In a cluster the new user's name is claimed once the records say a
     * rename is going on, so that whoever undoes or finishes it (this
     * process or the next opener) also lets go of the key that is not
     * the user's any more (docs/SCALING.md); etcd down undoes the rename
     * here, exit 75. */
    if ((r = registry_rename_begin(from, to)))
        goto done;
    if (st) {
        st->mailboxes = (unsigned)talloc_array_length(p->items);
        st->mark_s = now_seconds() - t;
    }

    t = now_seconds();
    for (size_t i = 0; i < talloc_array_length(p->items) && !r; i++) {
        if ((r = copy_one(&p->items[i], st)))
            break;
        if (i == 0)
            fault_point("rename.2");
    }
    if (r)
        goto done;
    fault_point("rename.3");
    if (st)
        st->copy_s = now_seconds() - t;

    t = now_seconds();
    if ((r = switch_records(p)))
        goto done;
    p->committed = 1;
    fault_point("rename.5");
    if (st)
        st->switch_s = now_seconds() - t;
    r = finish(p, st);

done:
    if (r && marked && !p->committed) {
        /* Still before the switch: put everything back now rather than
         * leave it to the next opener.  A failed switch commit rolled
         * back, so the records say "not committed" either way. */
        int r2;
        if (!mailbox_rename_is_mine(p->from))
            renaming = p->from;
        if ((r2 = undo(p)))
            xlog(LOG_ERR, "rename %s -> %s: undo failed (%s): the next open or "
                 "`mbctl expire` retries it", from, to, xap_error_message(r2));
    }
    renaming = NULL;
    talloc_free(p);
    xap_mboxname_release(&lock);
    return r;
}
