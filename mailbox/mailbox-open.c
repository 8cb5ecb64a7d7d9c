/* mailbox-open.c - opening, locking, unlocking and closing mailboxes, and
 * the delayed actions of unlock and close (seeds/002).
 *
 * Open is namelock first, then the mailboxes.db record, then the index
 * lock (docs/LOCKING.md).  The process keeps one struct xap_mailbox per name
 * and counts references. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "common/init.h"
#include "common/lockfile.h"
#include "common/mboxname.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"
#include "mailbox/snapshot.h"
#include "mailbox/usermove.h"
#include "mailbox/statuscache.h"
#include "mailbox/synclog.h"

static struct xap_mailbox *open_mailboxes;
static xap_mailbox_notify_fn *updatenotifier;
static int registered;

void xap_mailbox_set_updatenotifier(xap_mailbox_notify_fn *fn)
{
    updatenotifier = fn;
}

static int destroy_mailbox(struct xap_mailbox *mailbox)
{
    mailbox_release_lock_state(mailbox);
    if (mailbox->cache_fd >= 0)
        close(mailbox->cache_fd);
    mailbox_forget_unsynced(mailbox);
    return 0;
}

static void close_all(void)
{
    /* At xap_done(): a tool that exits with mailboxes open. */
    while (open_mailboxes) {
        struct xap_mailbox *m = open_mailboxes;
        if (m->dirty) {
            xlog(LOG_CRIT, "mailbox %s: closed at exit with uncommitted changes",
                 m->name);
            abort();
        }
        m->refcount = 1;
        xap_mailbox_close(&m);
    }
}

struct xap_mailbox *mailbox_new(const char *name, const char *partition)
{
    struct xap_mailbox *mailbox = talloc_zero(NULL, struct xap_mailbox);
    char *path, *lockname;

    if (!registered) {
        registered = 1;
        xapiary_atdone(close_all);
    }
    talloc_set_destructor(mailbox, destroy_mailbox);
    mailbox->name = talloc_strdup(mailbox, name);
    mailbox->partition = talloc_strdup(mailbox, partition ? partition : "default");
    mailbox->cache_fd = -1;
    mailbox->dir_fd = -1;
    mailbox->user_flags = talloc_array(mailbox, char *, 0);
    mailbox->path = mailbox_dir(mailbox, mailbox->partition, name);
    if (!mailbox->path) {
        talloc_free(mailbox);
        return NULL;
    }
    path = mailbox_file(NULL, mailbox, FNAME_INDEX);
    lockname = talloc_asprintf(path, "index of %s", name);
    mailbox->index_lock = lockfile_new(mailbox, path, lockname, LOCKLEVEL_MBOX_INDEX,
                                       O_RDWR, LOCKFILE_RDONLY_FALLBACK);
    talloc_free(path);
    return mailbox;
}

static int lock_index(struct xap_mailbox *mailbox, int locktype);

int mailbox_finish_open(struct xap_mailbox *mailbox, int indexlocktype, int r,
                        struct xap_mailbox **mailboxp)
{
    if (!r && !(r = mailbox_open_index_file(mailbox)) &&
        !(r = lock_index(mailbox, indexlocktype))) {
        mailbox->refcount = 1;
        mailbox->next = open_mailboxes;
        open_mailboxes = mailbox;
        *mailboxp = mailbox;
        return 0;
    }
    xap_mboxname_release(&mailbox->namelock);
    talloc_free(mailbox);
    return r;
}

static struct xap_mailbox *find_open(const char *name)
{
    for (struct xap_mailbox *m = open_mailboxes; m; m = m->next)
        if (!strcmp(m->name, name))
            return m;
    return NULL;
}

static void unregister(struct xap_mailbox *mailbox)
{
    for (struct xap_mailbox **pp = &open_mailboxes; *pp; pp = &(*pp)->next) {
        if (*pp == mailbox) {
            *pp = mailbox->next;
            return;
        }
    }
}

int mailbox_open_index_file(struct xap_mailbox *mailbox)
{
    int r = lockfile_open(mailbox->index_lock);

    return r == XAP_IMAP_NOTFOUND ? XAP_IMAP_MAILBOX_BADFORMAT : r;
}

/* The index lock LOCKTYPE (XAP_LOCK_SHARED, XAP_LOCK_EXCLUSIVE or, for the
 * library's own opens only, MAILBOX_INDEX_SNAPSHOT: no lock), then the
 * header read under it. */
static int lock_index(struct xap_mailbox *mailbox, int locktype)
{
    int op = locktype == XAP_LOCK_SHARED ? LOCK_SH : LOCK_EX;
    char *what;
    int r;

    if (mailbox->index_locktype) {
        xlog(LOG_ERR, "mailbox %s: index is already locked", mailbox->name);
        return XAP_IMAP_MAILBOX_LOCKED;
    }
    if (locktype == MAILBOX_INDEX_SNAPSHOT) {
        mailbox->index_locktype = locktype;
        if ((r = mailbox_read_header_locked(mailbox)))
            mailbox->index_locktype = 0;
        return r;
    }
    if (op == LOCK_EX && mailbox->index_lock->readonly) {
        /* Not EX_TEMPFAIL: retrying will not make the spool writable. */
        xlog(LOG_ERR, "mailbox %s: index file is read-only (read-only spool?): "
             "cannot be changed", mailbox->name);
        return XAP_IMAP_PERMISSION_DENIED;
    }
    what = talloc_asprintf(NULL, "the %s index lock of mailbox %s",
                           op == LOCK_SH ? "SHARED" : "EXCLUSIVE", mailbox->name);
    /* No timeout: it is held only while records are read or written.  A
     * repack replaces the index file by rename while holding the
     * EXCLUSIVE namelock, so an open mailbox never sees it happen; but the
     * lock file makes sure the lock is on the file the path names. */
    r = lockfile_lock(mailbox->index_lock, op, 0, what);
    talloc_free(what);
    if (r)
        return r == XAP_IMAP_NOTFOUND ? XAP_IMAP_MAILBOX_BADFORMAT : r;
    mailbox->index_locktype = locktype == XAP_LOCK_SHARED ? XAP_LOCK_SHARED : XAP_LOCK_EXCLUSIVE;
    r = mailbox_read_header_locked(mailbox);
    if (r) {
        lockfile_unlock(mailbox->index_lock);
        mailbox->index_locktype = 0;
    }
    return r;
}

int xap_mailbox_lock_index(struct xap_mailbox *mailbox, int locktype)
{
    /* As it always was: anything but SHARED is EXCLUSIVE. */
    return lock_index(mailbox, locktype == XAP_LOCK_SHARED ? XAP_LOCK_SHARED : XAP_LOCK_EXCLUSIVE);
}

int xap_mailbox_unlock_index(struct xap_mailbox *mailbox, const struct xap_statusdata *sdata)
{
    if (!mailbox->index_locktype)
        return 0;
    if (mailbox->dirty) {
        /* Committing for the caller would hide a bug; leaving the changes
         * half applied would corrupt the mailbox. */
        xlog(LOG_CRIT, "mailbox %s: unlocked with uncommitted changes", mailbox->name);
        abort();
    }
    if (mailbox->has_changed) {
        if (updatenotifier)
            updatenotifier(mailbox->name);
        synclog_append(SYNCLOG_CHANNEL_SQUATTER, mailbox->name);
        if (sdata)
            statuscache_store(mailbox->name, sdata);
        else
            statuscache_invalidate(mailbox->name);
        mailbox->has_changed = 0;
    }
    mailbox_release_lock_state(mailbox);
    if (mailbox->index_locktype != MAILBOX_INDEX_SNAPSHOT)
        lockfile_unlock(mailbox->index_lock);
    mailbox->index_locktype = 0;
    return 0;
}

static int open_locked(const char *name, int namelocktype, int indexlocktype,
                       struct xap_mailbox **mailboxp);

/* NAME's record ENTRY (freed here) is part of a rename: wait for it to
 * end (or clean up after it), then open again. */
static int wait_and_retry(struct xap_mboxlist_entry *entry, const char *name,
                          int namelocktype, int indexlocktype,
                          struct xap_mailbox **mailboxp)
{
    int r = entry->namelock ? mailbox_rename_wait(entry->namelock)
                            : XAP_IMAP_MAILBOX_BADFORMAT;

    talloc_free(entry);
    return r ? r : open_locked(name, namelocktype, indexlocktype, mailboxp);
}

static int open_locked(const char *name, int namelocktype, int indexlocktype,
                       struct xap_mailbox **mailboxp)
{
    struct xap_mboxlist_entry *entry = NULL;
    struct xap_mailbox *mailbox;
    int r;

    *mailboxp = NULL;
    if (mboxname_validate(name))
        return XAP_IMAP_MAILBOX_BADNAME;

    mailbox = find_open(name);
    if (mailbox) {
        if (mailbox->index_locktype)
            return XAP_IMAP_MAILBOX_LOCKED;
        if (namelocktype == XAP_LOCK_EXCLUSIVE && xap_mboxname_islocked(name) != XAP_LOCK_EXCLUSIVE)
            return XAP_IMAP_MAILBOX_LOCKED;
        if ((r = lock_index(mailbox, indexlocktype)))
            return r;
        mailbox->refcount++;
        *mailboxp = mailbox;
        return 0;
    }

    r = xap_mboxlist_lookup(NULL, name, &entry);
    if (r)
        return r;
    if (mailbox_is_renaming(entry))
        return wait_and_retry(entry, name, namelocktype, indexlocktype, mailboxp);
    mailbox = mailbox_new(name, entry->partition);
    if (!mailbox) {
        r = mailbox_new_failed();
        talloc_free(entry);
        return r;
    }
    mailbox->uniqueid = talloc_steal(mailbox, entry->uniqueid);
    talloc_free(entry);

    r = xap_mboxname_lock(name, &mailbox->namelock, namelocktype);
    if (r)
        goto finish;
    /* The record may have changed while we waited for the namelock
     * (deleted, renamed, recreated): read it again under the lock. */
    r = xap_mboxlist_lookup(NULL, name, &entry);
    if (r)
        goto finish;
    if (mailbox_is_renaming(entry)) {
        /* Our namelock may be what the renamer waits for: let it go. */
        xap_mboxname_release(&mailbox->namelock);
        talloc_free(mailbox);
        return wait_and_retry(entry, name, namelocktype, indexlocktype, mailboxp);
    }
    /* A user on its way to another back end is read-only; one being
     * received is nobody's yet (mailbox/usermove.c). */
    if (usermove_marked(entry) == USERMOVE_IN ||
        (usermove_marked(entry) == USERMOVE_OUT && indexlocktype == XAP_LOCK_EXCLUSIVE)) {
        talloc_free(entry);
        xap_mboxname_release(&mailbox->namelock);
        talloc_free(mailbox);
        return XAP_IMAP_MAILBOX_LOCKED;
    }
    if (strcmp(entry->uniqueid, mailbox->uniqueid) ||
        strcmp(entry->partition, mailbox->partition)) {
        talloc_free(entry);
        xap_mboxname_release(&mailbox->namelock);
        talloc_free(mailbox);
        return open_locked(name, namelocktype, indexlocktype, mailboxp);
    }
    talloc_free(entry);

    r = mailbox_read_header(mailbox);
finish:
    return mailbox_finish_open(mailbox, indexlocktype, r, mailboxp);
}

int xap_mailbox_open_iwl(const char *name, struct xap_mailbox **mailboxp)
{
    return open_locked(name, XAP_LOCK_SHARED, XAP_LOCK_EXCLUSIVE, mailboxp);
}

int xap_mailbox_open_irl(const char *name, struct xap_mailbox **mailboxp)
{
    return open_locked(name, XAP_LOCK_SHARED, XAP_LOCK_SHARED, mailboxp);
}

int mailbox_open_snapshot(const char *name, struct xap_mailbox **mailboxp)
{
    return open_locked(name, XAP_LOCK_SHARED, MAILBOX_INDEX_SNAPSHOT, mailboxp);
}

int xap_mailbox_open_exclusive(const char *name, struct xap_mailbox **mailboxp)
{
    return open_locked(name, XAP_LOCK_EXCLUSIVE, XAP_LOCK_EXCLUSIVE, mailboxp);
}

int mailbox_unlink_message(struct xap_mailbox *mailbox, uint32_t uid)
{
    char *path = xap_mailbox_message_path(NULL, mailbox, uid);
    int gone = unlink(path) == 0;

    if (!gone && errno != ENOENT)
        xlog_syserr("unlink", path);
    talloc_free(path);
    return gone;
}

static void run_unlinks(struct xap_mailbox *mailbox)
{
    for (size_t i = 0; i < talloc_array_length(mailbox->unlinks); i++)
        mailbox_unlink_message(mailbox, mailbox->unlinks[i]);
    TALLOC_FREE(mailbox->unlinks);
}

/* Repack or delete cleanup, when no other process has the mailbox open:
 * trade our SHARED namelock for a NONBLOCKING EXCLUSIVE one; if someone
 * else holds it, the last of them does the work at their close.  Returns
 * the work's result: 0 when it was left to another process. */
static int cleanup_if_alone(struct xap_mailbox *mailbox)
{
    int r = 0;

    if (xap_mboxname_islocked(mailbox->name) != XAP_LOCK_EXCLUSIVE) {
        xap_mboxname_release(&mailbox->namelock);
        if (xap_mboxname_lock(mailbox->name, &mailbox->namelock, XAP_LOCK_NONBLOCKING))
            return 0;
    }
    if (xap_mailbox_lock_index(mailbox, XAP_LOCK_EXCLUSIVE))
        return 0;
    if (mailbox->i.options & OPT_MAILBOX_DELETED) {
        xap_mailbox_unlock_index(mailbox, NULL);
        return mailbox_delete_cleanup(mailbox);
    }
    if (mailbox->i.options & OPT_MAILBOX_NEEDS_REPACK)
        r = mailbox_repack_due(mailbox) ? mailbox_index_repack(mailbox)
                                        : mailbox_unlink_expunged(mailbox);
    else if (mailbox->i.options & OPT_MAILBOX_NEEDS_CLEANUP)
        r = mailbox_finish_cleanup(mailbox);
    xap_mailbox_unlock_index(mailbox, NULL);
    return r;
}

int xap_mailbox_close_checked(struct xap_mailbox **mailboxp)
{
    struct xap_mailbox *mailbox = mailboxp ? *mailboxp : NULL;
    int r = 0;

    if (!mailbox)
        return 0;
    *mailboxp = NULL;
    xap_mailbox_unlock_index(mailbox, NULL);
    if (--mailbox->refcount > 0)
        return 0;
    unregister(mailbox);
    run_unlinks(mailbox);
    if (mailbox->i.options & (OPT_MAILBOX_DELETED | OPT_MAILBOX_NEEDS_REPACK |
                              OPT_MAILBOX_NEEDS_CLEANUP))
        r = cleanup_if_alone(mailbox);
    xap_mboxname_release(&mailbox->namelock);
    talloc_free(mailbox);
    return r;
}

void xap_mailbox_close(struct xap_mailbox **mailboxp)
{
    /* The delayed work logged its own failure; the next close retries it. */
    (void)xap_mailbox_close_checked(mailboxp);
}

/* ------------------------------------------------------------ accessors */

const char *xap_mailbox_name(const struct xap_mailbox *m) { return m->name; }
const char *xap_mailbox_uniqueid(const struct xap_mailbox *m) { return m->uniqueid; }
const char *xap_mailbox_partition(const struct xap_mailbox *m) { return m->partition; }
uint32_t xap_mailbox_uidvalidity(const struct xap_mailbox *m) { return m->i.uidvalidity; }
uint32_t xap_mailbox_last_uid(const struct xap_mailbox *m) { return m->i.last_uid; }
uint32_t xap_mailbox_num_records(const struct xap_mailbox *m) { return m->i.num_records; }
uint32_t xap_mailbox_exists(const struct xap_mailbox *m) { return m->i.exists; }
uint64_t xap_mailbox_highestmodseq(const struct xap_mailbox *m) { return m->i.highestmodseq; }

const char *xap_mailbox_user_flag(const struct xap_mailbox *m, unsigned i)
{
    return i < talloc_array_length(m->user_flags) ? m->user_flags[i] : NULL;
}

void xap_mailbox_status(const struct xap_mailbox *m, struct xap_statusdata *s)
{
    s->messages = m->i.exists;
    s->uidnext = m->i.last_uid + 1;
    s->uidvalidity = m->i.uidvalidity;
    s->unseen = m->i.unseen;
    s->highestmodseq = m->i.highestmodseq;
    s->size = m->i.quota_used;
}
