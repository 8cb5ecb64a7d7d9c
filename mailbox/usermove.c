/* usermove.c - moving a user between back ends: holding it, the mark its
 * records carry while a copy is on its way, removing a copy, and
 * resolving a move that died (docs/SCALING.md "Move a user").
 *
 * States of a user, on each side, as its records say:
 *
 *   unmarked        the user is here and nothing is going on.
 *   OUT (sender)    every record says "moving": {"to": DEST, "revision":
 *                   REV}; the user can be read but not written (openers
 *                   that want the index lock EXCLUSIVE get
 *                   XAP_IMAP_MAILBOX_LOCKED: exit 75, 451 4.2.0).
 *   IN (receiver)   every record says "moving": {"from": SRC, ...}; the
 *                   files are being written or wait for the switch;
 *                   nobody opens it.
 *
 * The registry decides which copy is the user: the destination switches
 * the key (compare on REV) only once its copy is durable, so a key that
 * names the destination with "moved_at_revision": REV means the IN copy
 * is complete and the OUT copy is to go; a key that still names the
 * sender means the OUT copy stays and the IN copy is to go.  Every step
 * here is idempotent, so usermove_resolve() can run it again after any
 * crash. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "common/atomicfile.h"
#include "common/fault.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"
#include "mailbox/registry.h"
#include "mailbox/statuscache.h"
#include "mailbox/userdata.h"
#include "mailbox/usermove.h"

/* The mark of E as a JSON object (a new reference), or NULL. */
static json_t *mark_of(const struct xap_mboxlist_entry *e)
{
    json_t *x = e->extra ? json_loads(e->extra, 0, NULL) : NULL;
    json_t *m = json_object_get(x, USERMOVE_MARK);

    if (json_is_object(m))
        json_incref(m);
    else
        m = NULL;
    json_decref(x);
    return m;
}

int usermove_marked(const struct xap_mboxlist_entry *e)
{
    json_t *m = mark_of(e);
    int how = !m ? USERMOVE_NONE
                 : json_object_get(m, "to") ? USERMOVE_OUT : USERMOVE_IN;

    json_decref(m);
    return how;
}

/* E's extra fields with MARK set (or dropped when NULL; a reference is
 * taken), as a string under CTX, or NULL when none is left. */
static char *extra_with(void *ctx, const struct xap_mboxlist_entry *e, json_t *mark)
{
    json_t *x = e->extra ? json_loads(e->extra, 0, NULL) : NULL;
    char *s, *ret = NULL;

    if (!json_is_object(x)) {
        json_decref(x);
        x = json_object();
    }
    if (mark)
        json_object_set(x, USERMOVE_MARK, mark);
    else
        json_object_del(x, USERMOVE_MARK);
    if (json_object_size(x) && (s = json_dumps(x, JSON_COMPACT | JSON_SORT_KEYS))) {
        ret = talloc_strdup(ctx, s);
        free(s);
    }
    json_decref(x);
    return ret;
}

static struct xap_mboxlist_entry *entry_dup(void *ctx, const struct xap_mboxlist_entry *e)
{
    struct xap_mboxlist_entry *c = talloc_zero(ctx, struct xap_mboxlist_entry);

    *c = *e;
    c->name = talloc_strdup(c, e->name);
    c->partition = talloc_strdup(c, e->partition);
    c->uniqueid = talloc_strdup(c, e->uniqueid);
    c->namelock = e->namelock ? talloc_strdup(c, e->namelock) : NULL;
    c->extra = e->extra ? talloc_strdup(c, e->extra) : NULL;
    return c;
}

struct collect {
    void *ctx;
    struct xap_mboxlist_entry **rows;
    int marked_only;
};

static int collect_row(const struct xap_mboxlist_entry *e, void *rock)
{
    struct collect *c = rock;
    size_t n = talloc_array_length(c->rows);

    if (c->marked_only ? !usermove_marked(e) : e->type == XAP_MBTYPE_DELETED)
        return 0;
    c->rows = talloc_realloc(c->ctx, c->rows, struct xap_mboxlist_entry *, n + 1);
    c->rows[n] = entry_dup(c->rows, e);
    return 0;
}

/* USERID's records (every one but tombstones, or only the marked ones),
 * in name order: the INBOX first. */
static int tree_rows(void *ctx, const char *userid, int marked_only,
                     struct xap_mboxlist_entry ***rows_r)
{
    struct collect c = { ctx, talloc_array(ctx, struct xap_mboxlist_entry *, 0),
                         marked_only };
    char *inbox = talloc_asprintf(NULL, "user.%s", userid);
    int r = xap_mboxlist_foreach(inbox, XAP_MBOXLIST_TREE | XAP_MBOXLIST_ALL, collect_row, &c);

    talloc_free(inbox);
    if (r)
        TALLOC_FREE(c.rows);
    *rows_r = c.rows;
    return r;
}

int usermove_marked_rows(void *ctx, const char *userid, struct xap_mboxlist_entry ***rows_r,
                         size_t *n_r)
{
    int r = tree_rows(ctx, userid, 1, rows_r);

    *n_r = r ? 0 : talloc_array_length(*rows_r);
    return r;
}

static int um_destroy(struct usermove *um)
{
    for (size_t i = talloc_array_length(um->locks); i-- > 0; )
        xap_mboxname_release(&um->locks[i]);
    return 0;
}

int usermove_hold(void *ctx, const char *userid, struct usermove **um_r)
{
    struct usermove *um;
    size_t n;
    int r;

    *um_r = NULL;
    if (mboxname_userid_validate(userid))
        return XAP_IMAP_MAILBOX_BADNAME;
    um = talloc_zero(ctx, struct usermove);
    um->userid = talloc_strdup(um, userid);
    um->inbox = talloc_asprintf(um, "user.%s", userid);
    um->locks = talloc_zero_array(um, struct xap_mboxlock *, 1);
    talloc_set_destructor(um, um_destroy);
    if ((r = xap_mboxname_lock(um->inbox, &um->locks[0], XAP_LOCK_EXCLUSIVE)) ||
        (r = tree_rows(um, userid, 0, &um->rows)))
        goto fail;
    n = talloc_array_length(um->rows);
    if (!n || strcmp(um->rows[0]->name, um->inbox)) {
        r = XAP_IMAP_MAILBOX_NONEXISTENT;
        goto fail;
    }
    um->locks = talloc_realloc(um, um->locks, struct xap_mboxlock *, n);
    for (size_t i = 1; i < n; i++)
        um->locks[i] = NULL;     /* released by um_destroy() if taken */
    for (size_t i = 0; i < n; i++) {
        const struct xap_mboxlist_entry *e = um->rows[i];
        if (e->type != XAP_MBTYPE_NORMAL || usermove_marked(e) ||
            mailbox_user_deleting(e)) {
            xlog(LOG_ERR, "user %s: %s is %s: not moved now", userid, e->name,
                 usermove_marked(e) ? "being moved" : mailbox_user_deleting(e)
                     ? "being deleted" : "being renamed or created");
            r = XAP_IMAP_MAILBOX_LOCKED;
            goto fail;
        }
        if (i && (r = xap_mboxname_lock(e->name, &um->locks[i], XAP_LOCK_EXCLUSIVE)))
            goto fail;
    }
    *um_r = um;
    return 0;
fail:
    talloc_free(um);
    return r;
}

void usermove_release(struct usermove **um)
{
    TALLOC_FREE(*um);
}

/* Whether USERID's records are still the N of ROWS (read again inside the
 * caller's transaction): a folder created since they were read holds no
 * lock of ours and would be left behind unmarked. */
static int same_rows(const char *userid, struct xap_mboxlist_entry **rows, size_t n)
{
    struct xap_mboxlist_entry **now = NULL;
    int r = tree_rows(NULL, userid, 0, &now);

    if (!r && talloc_array_length(now) != n)
        r = XAP_IMAP_AGAIN;
    for (size_t i = 0; !r && i < n; i++)
        if (strcmp(now[i]->name, rows[i]->name))
            r = XAP_IMAP_AGAIN;
    if (r == XAP_IMAP_AGAIN)
        xlog(LOG_ERR, "user %s: a folder was created or removed as the move began: "
             "not moved now, try again", userid);
    talloc_free(now);
    return r;
}

/* Writes every record of ROWS again with MARK (NULL: without one), in one
 * transaction; with CHECK_USERID, only if that user's records are still
 * ROWS. */
static int rewrite_rows(struct xap_mboxlist_entry **rows, size_t n, json_t *mark,
                        const char *check_userid)
{
    struct xap_mboxlist_txn *txn = NULL;
    int r = xap_mboxlist_begin(&txn);

    if (!r && check_userid)
        r = same_rows(check_userid, rows, n);

    for (size_t i = 0; i < n && !r; i++) {
        struct xap_mboxlist_entry e = *rows[i];
        e.extra = extra_with(rows, rows[i], mark);
        r = xap_mboxlist_update(txn, &e);
    }
    if (r)
        xap_mboxlist_abort(&txn);
    else
        r = xap_mboxlist_commit(&txn);
    return r;
}

int usermove_mark(struct usermove *um, const char *dest, int64_t *rev_r)
{
    char *server = NULL, *uniqueid = NULL;
    json_t *mark;
    int r;

    r = registry_user_owner(um, um->userid, &server, &uniqueid, rev_r, NULL);
    if (!r && (strcmp(server, registry_me()) || strcmp(uniqueid, um->rows[0]->uniqueid))) {
        xlog(LOG_ERR, "user %s: the registry names %s (INBOX %s), not this server's "
             "INBOX %s: not moved", um->userid, server, uniqueid, um->rows[0]->uniqueid);
        r = XAP_IMAP_MAILBOX_REMOTE;
    }
    if (r)
        return r;
    mark = json_pack("{s:s,s:I}", "to", dest, "revision", (json_int_t)*rev_r);
    r = rewrite_rows(um->rows, talloc_array_length(um->rows), mark, um->userid);
    json_decref(mark);
    if (!r)
        fault_point("move.1");
    return r;
}

int usermove_add_rows(struct xap_mboxlist_entry **rows, size_t n, const char *from,
                      int64_t rev)
{
    struct xap_mboxlist_txn *txn = NULL;
    json_t *mark = json_pack("{s:s,s:I}", "from", from, "revision", (json_int_t)rev);
    int r = xap_mboxlist_begin(&txn);

    for (size_t i = 0; i < n && !r; i++) {
        struct xap_mboxlist_entry e = *rows[i];
        struct xap_mboxlist_entry *old = NULL;
        e.type = XAP_MBTYPE_NORMAL;
        e.namelock = NULL;
        e.extra = extra_with(rows, rows[i], mark);
        /* A tombstone of the name (an earlier user) gives way: the
         * received mailbox keeps its own uidvalidity and uniqueid. */
        if (!xap_mboxlist_lookup_any(NULL, e.name, &old) && old->type == XAP_MBTYPE_DELETED)
            r = xap_mboxlist_remove(txn, e.name);
        talloc_free(old);
        if (!r)
            r = xap_mboxlist_create_exclusive(txn, &e);
    }
    json_decref(mark);
    if (r)
        xap_mboxlist_abort(&txn);
    else
        r = xap_mboxlist_commit(&txn);
    if (!r)
        fault_point("receive.1");
    return r;
}

int usermove_unmark(const char *userid)
{
    struct xap_mboxlist_entry **rows = NULL;
    size_t n;
    int r = usermove_marked_rows(NULL, userid, &rows, &n);

    if (!r && n)
        r = rewrite_rows(rows, n, NULL, NULL);
    talloc_free(rows);
    return r;
}

int usermove_remove(const char *userid, int source)
{
    char xname[MBOXNAME_MAX + 16], *dir = NULL;
    struct xap_mboxlist_entry **rows = NULL;
    struct xap_mboxlock *xl = NULL;
    struct xap_mboxlist_txn *txn = NULL;
    size_t n;
    int r = usermove_marked_rows(NULL, userid, &rows, &n);

    /* The user's whole directory in each partition its mailboxes are on:
     * every record of the tree is marked, so everything below it is this
     * copy's (or debris of it). */
    for (size_t i = 0; !r && i < n; i++) {
        int seen = 0;
        for (size_t k = 0; k < i; k++)
            seen |= !strcmp(rows[k]->partition, rows[i]->partition);
        if (seen)
            continue;
        TALLOC_FREE(dir);
        if (!(dir = mailbox_dir(rows, rows[i]->partition, rows[0]->name)))
            r = mailbox_new_failed();
        else if (!(r = remove_tree(dir)) && access(dir, F_OK) < 0 && errno == ENOENT) {
            char *parent = talloc_strndup(dir, dir, (size_t)(strrchr(dir, '/') - dir));
            if (access(parent, F_OK) == 0)
                r = fsync_dir(parent);
            rmdir_empty_parents(dir, 2);    /* HH/user and HH */
        }
    }
    if (!r && !(r = xap_mboxname_xapian_lockname(userid, xname, sizeof xname)) &&
        !(r = xap_mboxname_lock(xname, &xl, XAP_LOCK_EXCLUSIVE))) {
        r = userdata_remove(userid);
        xap_mboxname_release(&xl);
    }
    if (!r && source)
        fault_point("move.4");
    for (size_t i = 0; !r && i < n; i++)
        statuscache_invalidate(rows[i]->name);
    /* The records last: while they stand, they say what is left to do. */
    if (!r && n && !(r = xap_mboxlist_begin(&txn))) {
        for (size_t i = 0; i < n && !r; i++)
            r = xap_mboxlist_remove(txn, rows[i]->name);
        if (r)
            xap_mboxlist_abort(&txn);
        else
            r = xap_mboxlist_commit(&txn);
    }
    if (!r && source)
        fault_point("move.5");
    talloc_free(rows);
    return r;
}

int usermove_resolve(const char *userid)
{
    void *tmp = talloc_new(NULL);
    struct xap_mboxlist_entry **rows = NULL;
    struct xap_mboxlock *lock = NULL;
    char *inbox = talloc_asprintf(tmp, "user.%s", userid), *server = NULL, *uniqueid = NULL;
    int64_t rev = 0, moved_rev = 0, mark_rev;
    json_t *mark = NULL;
    size_t n;
    int r, how;

    if ((r = xap_mboxname_lock(inbox, &lock, XAP_LOCK_EXCLUSIVE)) ||
        (r = usermove_marked_rows(tmp, userid, &rows, &n)) || !n)
        goto out;
    mark = mark_of(rows[0]);
    how = usermove_marked(rows[0]);
    mark_rev = json_integer_value(json_object_get(mark, "revision"));
    if (!registry_clustered()) {
        /* A restore on one machine that died: not complete. */
        r = how == USERMOVE_IN ? usermove_remove(userid, 0) : usermove_unmark(userid);
        goto out;
    }
    r = registry_user_owner(tmp, userid, &server, &uniqueid, &rev, &moved_rev);
    if (r && r != XAP_IMAP_MAILBOX_NONEXISTENT)
        goto out;
    /* The switch names the destination and the revision the mover read:
     * only a copy that was durable can have been switched to. */
    int switched = !r && mark_rev && moved_rev == mark_rev && !strcmp(uniqueid, rows[0]->uniqueid);
    if (how == USERMOVE_IN) {
        r = switched && !strcmp(server, registry_me()) ? usermove_unmark(userid)
                                                     : usermove_remove(userid, 0);
    } else if (switched && !strcmp(server, json_string_value(json_object_get(mark, "to")))) {
        r = usermove_remove(userid, 1);
    } else if (!r && !strcmp(server, registry_me())) {
        r = usermove_unmark(userid);
    } else {
        xlog(LOG_ERR, "user %s: being moved, but the registry names %s: left as it is",
             userid, server ? server : "no back end");
        r = r ? r : XAP_IMAP_MAILBOX_REMOTE;
    }
out:
    json_decref(mark);
    xap_mboxname_release(&lock);
    talloc_free(tmp);
    return r;
}

static int collect_marked_user(const struct xap_mboxlist_entry *e, void *rock)
{
    char ***users = rock;
    char *userid = NULL;
    size_t n = talloc_array_length(*users);

    if (!usermove_marked(e) || mboxname_to_userid(NULL, e->name, &userid))
        return 0;
    if (!n || strcmp((*users)[n - 1], userid)) {
        *users = talloc_realloc(NULL, *users, char *, n + 1);
        (*users)[n] = talloc_steal(*users, userid);
    } else {
        talloc_free(userid);
    }
    return 0;
}

int usermove_recover(unsigned *n_r)
{
    char **users = talloc_array(NULL, char *, 0);
    int r, first = 0;

    *n_r = 0;
    r = xap_mboxlist_foreach("user.", XAP_MBOXLIST_ALL, collect_marked_user, &users);
    for (size_t i = 0; !r && i < talloc_array_length(users); i++) {
        int rr = usermove_resolve(users[i]);
        if (rr) {
            xlog(LOG_ERR, "user %s: a move left unresolved: %s", users[i],
                 xap_error_message(rr));
            first = first ? first : rr;
        } else {
            ++*n_r;
        }
    }
    talloc_free(users);
    return r ? r : first;
}
