/* lockfile.h - the one way this project takes a flock(2) on a file.
 *
 * Every file lock (namelocks, mailbox index locks, xapianactive, the sync
 * log) is a struct lockfile: open the file, check the lock order
 * (common/lockorder.h), wait for the flock with a deadline and through
 * signals (common/lockwait.h), check that the path still names the file
 * that was locked (a file replaced by rename(2) while we waited is opened
 * again and waited for again; not for LOCKFILE_NEVER_REPLACED), and
 * release.  The rules that make flock
 * the right tool, and the order, are in docs/LOCKING.md.
 *
 * States of a struct lockfile
 *   closed    fd == -1, held == 0.
 *   open      fd >= 0, held == 0: the caller may read or write through fd
 *             (the mailbox index is read between locks).
 *   held      fd >= 0, held == LOCK_SH or LOCK_EX: flocked and registered
 *             with the lock-order checker.
 * Freeing the object (talloc) unlocks and closes it whatever its state. */
#ifndef XAPIARY_LOCKFILE_H
#define XAPIARY_LOCKFILE_H

#include "common/lockorder.h"

/* Flags of lockfile_new(). */
#define LOCKFILE_MAY_BE_MISSING 1 /* ENOENT is XAP_IMAP_NOTFOUND, not logged */
#define LOCKFILE_RDONLY_FALLBACK 2 /* opened O_RDONLY when O_RDWR is refused
                                     * (EACCES, EROFS): a read-only spool */
#define LOCKFILE_NEVER_REPLACED 4 /* no re-check after the grant: nothing
                                    * replaces or removes the file while
                                    * lockers run (the namelock files) */

/* Makes the missing directories of PATH; 0 or an XAP_IMAP_* code (logged). */
typedef int lockfile_mkdirs_fn(const char *path);

struct lockfile {
    char *path;
    char *name;                 /* in the lock-order registry */
    enum lock_level level;
    int oflags;                 /* open(2) flags; O_CLOEXEC|O_NOFOLLOW added */
    int flags;                  /* LOCKFILE_* */
    lockfile_mkdirs_fn *mkdirs; /* with O_CREAT: called on ENOENT/ENOTDIR */
    int fd;
    int held;                   /* 0, LOCK_SH or LOCK_EX */
    int readonly;               /* LOCKFILE_RDONLY_FALLBACK happened */
};

/* A closed lock file PATH, registered as NAME (NULL: PATH) at LEVEL,
 * under CTX.  Files created are 0600. */
struct lockfile *lockfile_new(void *ctx, const char *path, const char *name,
                              enum lock_level level, int oflags, int flags);

/* Opens the file (closing the descriptor it had, which must not be
 * locked).  0, XAP_IMAP_NOTFOUND (ENOENT; logged unless
 * LOCKFILE_MAY_BE_MISSING), or the mkdirs callback's error, or
 * XAP_IMAP_IOERROR (logged). */
int lockfile_open(struct lockfile *lf);

/* Takes OP (LOCK_SH or LOCK_EX; | LOCK_NB for one attempt, whose order is
 * not checked) on the file the path names, opening it first if it is
 * closed.  A blocking wait ends after TIMEOUT seconds (0: never); at -v it
 * says after a second that it waits for WHAT (NULL: it says nothing) and
 * who holds it.  Returns 0 (held), XAP_IMAP_MAILBOX_LOCKED (busy with LOCK_NB,
 * or the time ran out), or an error of lockfile_open(), or XAP_IMAP_IOERROR
 * (logged).  On failure the file is left open or closed, never held. */
int lockfile_lock(struct lockfile *lf, int op, unsigned timeout, const char *what);

/* Releases the lock; the descriptor stays open.  No-op when not held. */
void lockfile_unlock(struct lockfile *lf);

/* The holder replaced the file itself (rename over the path): moves the
 * held lock to the file the path names now, in the same mode.  Nobody
 * else can have the new file locked (the holder excludes them some other
 * way), so no order question and no moment without the lock arises from
 * the holder's point of view.  0 or an error as lockfile_lock(); on
 * failure the lock is released. */
int lockfile_reopen(struct lockfile *lf);

/* Closes the descriptor without unlocking (after fork, in the child: the
 * flock belongs to the open file description the parent still uses) and
 * without unregistering (the child's registry is reset). */
void lockfile_forget(struct lockfile *lf);

#endif
