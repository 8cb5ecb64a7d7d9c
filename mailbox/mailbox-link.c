/* mailbox-link.c - the message file of an append made as a hard link to
 * the file it was read from (mailbox/append.h says when, and why that is
 * safe).
 *
 * A new file costs the filesystem an inode; a link costs a directory
 * entry.  On ext4 without a journal, the inode allocation scans the free
 * inodes deleted in the last seconds, and dominated the import's CPU time
 * (docs/PERFORMANCE.md "Import --link"). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/syncbatch.h"
#include "common/xlog.h"
#include "mailbox/append.h"
#include "mailbox/mailbox-private.h"

/* Whether A and B are the same file, unchanged between them. */
static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The errors of linkat(2) that mean "not here": copy instead. */
static int link_refused(int err)
{
    return err == EXDEV || err == EPERM || err == EACCES || err == EMLINK ||
           err == EOPNOTSUPP || err == ENOSYS;
}

int mailbox_link_file(struct xap_mailbox *mailbox, const struct append_source *src,
                      const char *name, const char *path, size_t len, int *linked_r)
{
    struct stat st;
    int fd;

    *linked_r = 0;
    if (!S_ISREG(src->st->st_mode) || src->st->st_uid != geteuid() ||
        (uintmax_t)src->st->st_size != len)
        return 0;
    if (linkat(src->dirfd, src->name, mailbox->dir_fd, name,
               src->follow ? AT_SYMLINK_FOLLOW : 0) < 0) {
        if (link_refused(errno))
            return 0;
        xlog_syserr("link", path);
        return XAP_IMAP_IOERROR;
    }
    /* Read-only: the batch fsyncs or syncfs's through it, and nothing of
     * ours ever writes to a message file. */
    fd = openat(mailbox->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || fstat(fd, &st) < 0 || !same_file(&st, src->st)) {
        /* Swapped since it was read (ELOOP: for a symbolic link, which
         * linkat links itself), or not ours to read: a copy of what was
         * read is stored instead. */
        if (fd >= 0)
            close(fd);
        if (unlinkat(mailbox->dir_fd, name, 0) < 0) {
            xlog_syserr("unlink", path);
            return XAP_IMAP_IOERROR;
        }
        return 0;
    }
    *linked_r = 1;
    /* The batch owns FD from here, also on failure; the caller removes
     * the name when the append fails. */
    return syncbatch_add(mailbox->unsynced, fd, path);
}
