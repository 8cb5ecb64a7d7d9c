/* namelock.h - server-wide locks on mailbox names.
 *
 * A namelock says "this name is mine" across every process of the server,
 * whatever the partition.  It is what makes create, delete, rename and
 * repack safe without reserved records in mailboxes.db, and what stops a
 * crash from leaving a name unusable: the kernel drops the lock when the
 * holder dies.
 *
 * Calling sequence
 *     struct xap_mboxlock *lock = NULL;
 *     int r = xap_mboxname_lock("user.alice", &lock, XAP_LOCK_SHARED);
 *     if (!r) {
 *         ... work on user.alice ...
 *         xap_mboxname_release(&lock);     (sets lock back to NULL)
 *     }
 *
 * Lock types
 *   XAP_LOCK_SHARED       required by anyone who has the mailbox open.
 *   XAP_LOCK_EXCLUSIVE    required to create, finish deleting, rename or
 *                     repack; waits until every other holder is gone.
 *   XAP_LOCK_NONBLOCKING  exclusive, but returns XAP_IMAP_MAILBOX_LOCKED at once
 *                     instead of waiting when another process holds it.
 *
 * Re-locking in one process
 *   Asking again for a name this process holds with the same type returns
 *   the same lock and counts a reference; each xap_mboxname_release() drops
 *   one, and the lock goes when the count reaches zero.  Asking with the
 *   other type (NONBLOCKING counts as EXCLUSIVE) returns
 *   XAP_IMAP_MAILBOX_LOCKED: the kernel cannot hold two modes on one name for
 *   one process, and silently converting would break the first holder.
 *
 * Waiting
 *   namelock_timeout in the configuration (seconds, default 60, 0 =
 *   forever) bounds a wait; when it expires the call returns
 *   XAP_IMAP_MAILBOX_LOCKED.  At -v (LOG_INFO) a wait of more than a second
 *   is logged with the name, the mode and the holders' pids.
 *
 * Error handling
 *   Returns 0, XAP_IMAP_MAILBOX_LOCKED, XAP_IMAP_MAILBOX_BADNAME (the name is not a
 *   valid mailbox name nor a reserved lock name), XAP_IMAP_CONFIG (no
 *   configdirectory) or XAP_IMAP_IOERROR (logged with the path).  On any
 *   failure *lockp stays NULL.
 *
 * Files
 *   One zero-byte file per name under CONFIGDIRECTORY/lock/, in a hashed
 *   tree (FORMAT.md in the documentation directory).  Lock files are
 *   never removed while the server runs; `mbctl recover` removes the
 *   tree at boot.  lock/ may be a tmpfs.
 *
 * Fork
 *   Lock descriptors are close-on-exec.  A forked child must not release
 *   or rely on its parent's locks: the kernel lock is shared between them.
 *
 * Threads
 *   Namelocks belong to the process, not to a thread: two threads asking
 *   for one name share the lock.  Call from one thread at a time (see
 *   <xapiary/xapiary.h>).
 */
#ifndef XAPIARY_NAMELOCK_H
#define XAPIARY_NAMELOCK_H

#ifdef __cplusplus
extern "C" {
#endif

struct xap_mboxlock;

enum {
    XAP_LOCK_SHARED = 1,
    XAP_LOCK_EXCLUSIVE = 2,
    XAP_LOCK_NONBLOCKING = 3
};

/* xap_mboxname_lock - take the namelock of NAME.
 * NAME: a mailbox name (user.alice.Sent) or a reserved lock name
 * (xap_mboxname_xapian_lockname()); copied, not kept.
 * LOCKP: where the lock goes; must point to NULL.  The lock is the
 * library's: give it back with xap_mboxname_release(), never free it.
 * LOCKTYPE: XAP_LOCK_SHARED, XAP_LOCK_EXCLUSIVE or XAP_LOCK_NONBLOCKING.
 * Returns 0, or one of the codes of "Error handling" above with *LOCKP
 * left NULL.  Blocks (up to namelock_timeout) while another process holds
 * NAME in a conflicting mode. */
int xap_mboxname_lock(const char *name, struct xap_mboxlock **lockp, int locktype);

/* xap_mboxname_release - drop one reference to *LOCKP (the lock goes with the
 * last) and set *LOCKP to NULL.  LOCKP or *LOCKP NULL is a no-op. */
void xap_mboxname_release(struct xap_mboxlock **lockp);

/* xap_mboxlock_name - the name LOCK was taken on; owned by the lock, valid
 * until its last xap_mboxname_release(). */
const char *xap_mboxlock_name(const struct xap_mboxlock *lock);

/* xap_mboxname_islocked - whether this process holds NAME, and how: 0 (not
 * held), XAP_LOCK_SHARED or XAP_LOCK_EXCLUSIVE (a NONBLOCKING lock that was
 * granted reads as EXCLUSIVE).  Takes no lock; knows nothing of other
 * processes' locks. */
int xap_mboxname_islocked(const char *name);

/* xap_mboxname_xapian_lockname - the reserved lock name of a user's search
 * tiers, "$XAPIAN$" USERID, which no mailbox can have.
 * Writes at most SIZE bytes (the terminating NUL included) to BUF, which
 * the caller owns.  Returns 0, or XAP_IMAP_MAILBOX_BADNAME when USERID is not
 * a valid userid or the name does not fit.  Takes no lock. */
int xap_mboxname_xapian_lockname(const char *userid, char *buf, unsigned long size);

#ifdef __cplusplus
}
#endif
#endif
