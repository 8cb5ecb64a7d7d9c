/* namelock.h - server-wide locks on mailbox names.
 *
 * A namelock says "this name is mine" across every process of the server,
 * whatever the partition.  It is what makes create, delete, rename and
 * repack safe without reserved records in mailboxes.db, and what stops a
 * crash from leaving a name unusable: the kernel drops the lock when the
 * holder dies.
 *
 * Calling sequence
 *     struct mboxlock *lock = NULL;
 *     int r = mboxname_lock("user.alice", &lock, LOCK_SHARED);
 *     if (!r) {
 *         ... work on user.alice ...
 *         mboxname_release(&lock);     (sets lock back to NULL)
 *     }
 *
 * Lock types
 *   LOCK_SHARED       required by anyone who has the mailbox open.
 *   LOCK_EXCLUSIVE    required to create, finish deleting, rename or
 *                     repack; waits until every other holder is gone.
 *   LOCK_NONBLOCKING  exclusive, but returns IMAP_MAILBOX_LOCKED at once
 *                     instead of waiting when another process holds it.
 *
 * Re-locking in one process
 *   Asking again for a name this process holds with the same type returns
 *   the same lock and counts a reference; each mboxname_release() drops
 *   one, and the lock goes when the count reaches zero.  Asking with the
 *   other type (NONBLOCKING counts as EXCLUSIVE) returns
 *   IMAP_MAILBOX_LOCKED: the kernel cannot hold two modes on one name for
 *   one process, and silently converting would break the first holder.
 *
 * Waiting
 *   namelock_timeout in the configuration (seconds, default 60, 0 =
 *   forever) bounds a wait; when it expires the call returns
 *   IMAP_MAILBOX_LOCKED.  At -v (LOG_INFO) a wait of more than a second
 *   is logged with the name, the mode and the holders' pids.
 *
 * Error handling
 *   Returns 0, IMAP_MAILBOX_LOCKED, IMAP_MAILBOX_BADNAME (the name is not a
 *   valid mailbox name nor a reserved lock name), IMAP_CONFIG (no
 *   configdirectory) or IMAP_IOERROR (logged with the path).  On any
 *   failure *lockp stays NULL.
 *
 * Files
 *   One zero-byte file per name under CONFIGDIRECTORY/lock/, in a hashed
 *   tree (docs/FORMAT.md).  Lock files are never removed while the server
 *   runs; `mbctl recover` removes the tree at boot.  lock/ may be a tmpfs.
 *
 * Fork
 *   Lock descriptors are close-on-exec.  A forked child must not release
 *   or rely on its parent's locks: the kernel lock is shared between them.
 */
#ifndef XAPIARY_NAMELOCK_H
#define XAPIARY_NAMELOCK_H

#ifdef __cplusplus
extern "C" {
#endif

struct mboxlock;

enum {
    LOCK_SHARED = 1,
    LOCK_EXCLUSIVE = 2,
    LOCK_NONBLOCKING = 3
};

int mboxname_lock(const char *name, struct mboxlock **lockp, int locktype);
void mboxname_release(struct mboxlock **lockp);

/* The name a lock was taken on; owned by the lock. */
const char *mboxlock_name(const struct mboxlock *lock);

/* Whether this process holds NAME, and how: 0 (not held), LOCK_SHARED or
 * LOCK_EXCLUSIVE (a NONBLOCKING lock that was granted reads as EXCLUSIVE). */
int mboxname_islocked(const char *name);

/* The reserved lock name of a user's search tiers, "$XAPIAN$" USERID.  No
 * mailbox can have it.  Writes at most SIZE bytes to BUF; returns 0 or
 * IMAP_MAILBOX_BADNAME when USERID is not a valid userid. */
int mboxname_xapian_lockname(const char *userid, char *buf, unsigned long size);

#ifdef __cplusplus
}
#endif
#endif
