/* mailbox-deluser.c - deleting a whole user (user.ID and its tree) as one
 * operation that a crash cannot leave half done.
 *
 * Steps, each followed by its fault point (docs/FAULTS.md):
 *
 *   mark      the INBOX record gets "deleting": true in its extra fields,
 *             under the INBOX's SHARED namelock (so no rename of the user
 *             is under way).                                 user.delete.1
 *   mailboxes every mailbox of the tree is deleted, children first and
 *             the INBOX last; the INBOX's tombstone keeps the mark.
 *                                      user.delete.2 (after the first),
 *                                      user.delete.3 (after all)
 *   files     the user's search tiers, xapianactive, GUID db and owner
 *             file, under the user's EXCLUSIVE Xapian namelock
 *             (userdata_remove), unless a new user of the name was
 *             created meanwhile and claimed them.  userdata.remove.1, .2
 *   unmark    the tombstone loses the mark: the user is gone.
 *
 * The mark is what a crash leaves for the next process: an INBOX record,
 * live or a tombstone, that says "deleting" means the rest of the steps
 * are still to run, and each is idempotent.  The next `mbctl delete`, a
 * sweep (xap_mailbox_expire, hence `mbctl recover`) and a create of the same
 * user run them again; until then the files belong to the old INBOX's
 * uniqueid (userdata.c), so nobody else reads them either. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "common/fault.h"
#include "common/mboxname.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"
#include "mailbox/registry.h"
#include "mailbox/userdata.h"

#define MARK "deleting"

/* Renames in the way are waited for at most this many times. */
#define MAX_RETRIES 8

int mailbox_user_deleting(const struct xap_mboxlist_entry *e)
{
    json_t *x = e->extra ? json_loads(e->extra, 0, NULL) : NULL;
    int marked = json_is_true(json_object_get(x, MARK));

    json_decref(x);
    return marked;
}

/* Writes E again with the mark set (ON) or dropped. */
static int set_mark(struct xap_mboxlist_entry *e, int on)
{
    json_t *x = e->extra ? json_loads(e->extra, 0, NULL) : NULL;
    char *s = NULL;

    if (!json_is_object(x)) {
        json_decref(x);
        x = json_object();
    }
    if (on)
        json_object_set_new(x, MARK, json_true());
    else
        json_object_del(x, MARK);
    if (json_object_size(x))
        s = json_dumps(x, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(x);
    e->extra = s ? talloc_strdup(e, s) : NULL;
    free(s);
    return xap_mboxlist_update(NULL, e);
}

/* The mark step.  XAP_IMAP_AGAIN after waiting for a rename of the user. */
static int mark(const char *inbox)
{
    struct xap_mboxlock *lock = NULL;
    struct xap_mboxlist_entry *e = NULL;
    char *root = NULL;
    int r = xap_mboxname_lock(inbox, &lock, XAP_LOCK_SHARED);

    if (!r)
        r = xap_mboxlist_lookup(NULL, inbox, &e);
    if (!r && mailbox_is_renaming(e) && e->namelock) {
        root = talloc_strdup(NULL, e->namelock);
        r = XAP_IMAP_AGAIN;
    } else if (!r && e->type == XAP_MBTYPE_NORMAL && !mailbox_user_deleting(e)) {
        r = set_mark(e, 1);
    }
    talloc_free(e);
    xap_mboxname_release(&lock);
    if (root) {
        /* A dead rename's records: clean them up, then look again. */
        int r2 = mailbox_rename_wait(root);
        talloc_free(root);
        if (r2)
            return r2;
    }
    return r;
}

static int delete_mailbox(const char *userid, const char *name)
{
    struct xap_mailbox *mb = NULL;
    int r = xap_mailbox_open_iwl(name, &mb);

    if (!r)
        r = xap_mailbox_delete(&mb);
    xap_mailbox_close(&mb);
    if (r == XAP_IMAP_MAILBOX_NONEXISTENT)
        r = 0;           /* gone already */
    else if (r)
        xlog(LOG_ERR, "user %s: cannot delete %s: %s", userid, name, xap_error_message(r));
    return r;
}

/* The mailboxes step: children first; the INBOX only when every child is
 * gone, so that a failure leaves the user whole enough to try again. */
static int delete_mailboxes(const char *userid, const char *inbox)
{
    char **names = talloc_array(NULL, char *, 0);
    size_t n;
    int r = xap_mboxlist_collect_tree(inbox, &names), ret = 0, first = 1;

    n = talloc_array_length(names);
    for (size_t i = n; !r && i-- > 0; ) {
        int r2;
        if (!strcmp(names[i], inbox) && ret)
            break;
        if ((r2 = delete_mailbox(userid, names[i]))) {
            ret = ret ? ret : r2;
            continue;
        }
        if (first)
            fault_point("user.delete.2");
        first = 0;
    }
    talloc_free(names);
    return r ? r : ret;
}

/* The files step.  A user of the same name created since the mailboxes
 * step (no lock of ours spans the two) finished this work itself and
 * claimed the files (userdata_claim): once its INBOX is live and the owner
 * file does not name another incarnation, they are the new user's. */
static int remove_files(const char *userid, const char *inbox)
{
    char xname[MBOXNAME_MAX + 16];
    struct xap_mboxlock *xl = NULL;
    struct xap_mboxlist_entry *e = NULL;
    int r = xap_mboxname_xapian_lockname(userid, xname, sizeof xname);

    if (!r && !(r = xap_mboxname_lock(xname, &xl, XAP_LOCK_EXCLUSIVE))) {
        if (!xap_mboxlist_lookup(NULL, inbox, &e) && !userdata_check(userid))
            xlog(LOG_NOTICE, "user %s: created again meanwhile: its files are left to it",
                 userid);
        else
            r = userdata_remove(userid);
    }
    talloc_free(e);
    xap_mboxname_release(&xl);
    return r;
}

static int unmark(const char *inbox)
{
    struct xap_mboxlist_entry *e = NULL;
    int r = xap_mboxlist_lookup_any(NULL, inbox, &e);

    /* A live INBOX now is a new user's (a create finished our work). */
    if (!r && e->type == XAP_MBTYPE_DELETED && mailbox_user_deleting(e))
        r = set_mark(e, 0);
    else if (r == XAP_IMAP_MAILBOX_NONEXISTENT)
        r = 0;
    talloc_free(e);
    return r;
}

int xap_mailbox_delete_user(const char *userid)
{
    struct xap_mboxlist_entry *e = NULL;
    char *inbox, *found = NULL, **names;
    int r, attempt = 0;

    if (mboxname_userid_validate(userid))
        return XAP_IMAP_MAILBOX_BADNAME;
    inbox = talloc_asprintf(NULL, "user.%s", userid);
    do {
        TALLOC_FREE(e);
        r = xap_mboxlist_lookup_any(inbox, inbox, &e);
        if (!r && e->type != XAP_MBTYPE_DELETED)
            r = mark(inbox);
    } while (r == XAP_IMAP_AGAIN && ++attempt < MAX_RETRIES);
    if (!r && e->type != XAP_MBTYPE_DELETED) {
        fault_point("user.delete.1");
    } else if (!r && mailbox_user_deleting(e)) {
        xlog(LOG_NOTICE, "user %s: finishing a deletion that was interrupted", userid);
    } else if (!r || r == XAP_IMAP_MAILBOX_NONEXISTENT) {
        /* No user, no mark: gone, unless something of it was left behind
         * (files of an earlier version's interrupted delete). */
        names = talloc_array(inbox, char *, 0);
        r = xap_mboxlist_collect_tree(inbox, &names);
        if (!r && !talloc_array_length(names) &&
            userdata_find(inbox, userid, &found) != XAP_IMAP_MAILBOX_EXISTS)
            r = XAP_IMAP_MAILBOX_NONEXISTENT;
        else if (!r)
            xlog(LOG_NOTICE, "user %s: removing what is left of a deleted user", userid);
    }
    if (!r && !(r = delete_mailboxes(userid, inbox))) {
        fault_point("user.delete.3");
        if (!(r = remove_files(userid, inbox)))
            r = unmark(inbox);
        /* Last: while the key says "here", no other back end can take the
         * name, and this one replaces its own stale key at the next create,
         * so a delete that cannot reach etcd is still a delete. */
        if (!r && e) {
            int r2 = registry_release(inbox, e->uniqueid);
            if (r2)
                xlog(LOG_WARNING, "user %s: deleted, but its registry key still names "
                     "this server (%s): the next create of it here replaces the key",
                     userid, xap_error_message(r2));
        }
    }
    talloc_free(inbox);
    return r;
}

int mailbox_user_delete_pending(void *ctx, const char *name, char **userid_r)
{
    struct xap_mboxlist_entry *e = NULL;
    int pending;

    *userid_r = NULL;
    if (mboxname_to_userid(ctx, name, userid_r) || strchr(name + 5, MBOXNAME_SEP)) {
        TALLOC_FREE(*userid_r);
        return 0;        /* not a user's INBOX */
    }
    pending = !xap_mboxlist_lookup_any(NULL, name, &e) && mailbox_user_deleting(e);
    talloc_free(e);
    if (!pending)
        TALLOC_FREE(*userid_r);
    return pending;
}
