/* lockfile.c - the file lock primitive (see lockfile.h).
 *
 * Why the re-check after every grant: a flock is on an inode, but lockers
 * find it by path.  A file that is replaced by rename (the mailbox index
 * at repack and reconstruct, xapianactive at every list change, the sync
 * log when the reader takes it) leaves whoever was waiting on the old
 * inode holding a lock on a file nobody else will look at again.  So,
 * once granted, the locker compares the inode it holds with the one the
 * path names, and if they differ lets go, opens the path again and waits
 * there.  A file removed meanwhile is opened again too: that is
 * XAP_IMAP_NOTFOUND, or a new file for a locker that creates it.
 *
 * Each wait after a re-open starts its own timeout: a replacement is the
 * holder making progress, not a holder that never lets go. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/lockfile.h"
#include "common/lockwait.h"
#include "common/xlog.h"

static int destroy_lockfile(struct lockfile *lf)
{
    lockfile_unlock(lf);
    if (lf->fd >= 0)
        close(lf->fd);
    return 0;
}

struct lockfile *lockfile_new(void *ctx, const char *path, const char *name,
                              enum lock_level level, int oflags, int flags)
{
    struct lockfile *lf = talloc_zero(ctx, struct lockfile);

    lf->path = talloc_strdup(lf, path);
    lf->name = name ? talloc_strdup(lf, name) : lf->path;
    lf->level = level;
    lf->oflags = oflags;
    lf->flags = flags;
    lf->fd = -1;
    talloc_set_destructor(lf, destroy_lockfile);
    return lf;
}

static int open_once(struct lockfile *lf)
{
    int oflags = lf->oflags | O_CLOEXEC | O_NOFOLLOW;

    lf->readonly = 0;
    lf->fd = open(lf->path, oflags, 0600);
    if (lf->fd < 0 && (lf->flags & LOCKFILE_RDONLY_FALLBACK) &&
        (errno == EACCES || errno == EROFS)) {
        /* A read-only spool (mounted so, or not ours to write): readers
         * still work; a writer is refused by the caller. */
        lf->fd = open(lf->path, (oflags & ~O_ACCMODE) | O_RDONLY);
        lf->readonly = lf->fd >= 0;
    }
    return lf->fd;
}

int lockfile_open(struct lockfile *lf)
{
    if (lf->fd >= 0)
        close(lf->fd);
    if (open_once(lf) < 0 && lf->mkdirs && (lf->oflags & O_CREAT) &&
        (errno == ENOENT || errno == ENOTDIR)) {
        int r = lf->mkdirs(lf->path);
        if (r)
            return r;
        open_once(lf);
    }
    if (lf->fd >= 0)
        return 0;
    if (errno == ENOENT && (lf->flags & LOCKFILE_MAY_BE_MISSING))
        return XAP_IMAP_NOTFOUND;
    xlog_syserr("open", lf->path);
    return errno == ENOENT ? XAP_IMAP_NOTFOUND : XAP_IMAP_IOERROR;
}

/* Whether the path still names the file FD is open on. */
static int still_there(const struct lockfile *lf)
{
    struct stat fst, pst;

    return fstat(lf->fd, &fst) == 0 && stat(lf->path, &pst) == 0 &&
           fst.st_ino == pst.st_ino && fst.st_dev == pst.st_dev;
}

/* flock(2) in mode OP, blocking or not, through signals. */
static int wait_flock(struct lockfile *lf, int op, unsigned timeout, const char *what)
{
    int r;

    if (!(op & LOCK_NB))
        return lockwait_flock(lf->fd, op, timeout, what);
    while ((r = flock(lf->fd, op)) < 0 && errno == EINTR)
        ;
    return r;
}

int lockfile_lock(struct lockfile *lf, int op, unsigned timeout, const char *what)
{
    int r;

    if (lf->held) {
        xlog(LOG_ERR, "%s: locked twice", lf->name);
        return XAP_IMAP_INTERNAL;
    }
    lockorder_check(lf->level, lf->name, op & LOCK_NB ? LOCKORDER_TRY : 0);
    if (lf->fd < 0 && (r = lockfile_open(lf)))
        return r;
    for (;;) {
        if (wait_flock(lf, op, timeout, what) < 0) {
            if (errno == EWOULDBLOCK)
                return XAP_IMAP_MAILBOX_LOCKED;
            xlog_syserr("flock", lf->path);
            return XAP_IMAP_IOERROR;
        }
        if ((lf->flags & LOCKFILE_NEVER_REPLACED) || still_there(lf))
            break;
        flock(lf->fd, LOCK_UN);
        if ((r = lockfile_open(lf)))
            return r;
    }
    lf->held = op & (LOCK_SH | LOCK_EX);
    lockorder_acquired(lf->level, lf->name);
    return 0;
}

void lockfile_unlock(struct lockfile *lf)
{
    if (!lf->held)
        return;
    /* Explicitly rather than by close(): a child spawned without fork
     * handlers may still share the descriptor until it execs. */
    flock(lf->fd, LOCK_UN);
    lf->held = 0;
    lockorder_released(lf->level, lf->name);
}

int lockfile_reopen(struct lockfile *lf)
{
    int op = lf->held, r;

    flock(lf->fd, LOCK_UN);
    if ((r = lockfile_open(lf)))
        goto fail;
    while ((r = flock(lf->fd, op)) < 0 && errno == EINTR)
        ;
    if (r == 0)
        return 0;
    xlog_syserr("flock", lf->path);
    r = XAP_IMAP_IOERROR;
fail:
    lf->held = 0;
    lockorder_released(lf->level, lf->name);
    return r;
}

void lockfile_forget(struct lockfile *lf)
{
    if (lf->fd >= 0)
        close(lf->fd);
    lf->fd = -1;
    lf->held = 0;
}
