/* revlock.c - see revlock.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/lockfile.h"
#include "common/xlog.h"
#include "mailbox/guiddb.h"
#include "xapianlock/revlock.h"

int revlock_take(void *ctx, const char *userid, unsigned long rev, int write, int create,
                 struct lockfile **lf_r)
{
    char *dir = user_config_dir(NULL, userid);
    unsigned parity = (unsigned)(rev % 2);
    struct lockfile *lf;
    int r;

    *lf_r = NULL;
    if (!dir)
        return XAP_IMAP_MAILBOX_BADNAME;
    lf = lockfile_new(ctx, talloc_asprintf(dir, "%s/xapianrev.%u", dir, parity), NULL,
                      parity ? LOCKLEVEL_XAPIAN_REV_ODD : LOCKLEVEL_XAPIAN_REV_EVEN,
                      create ? O_RDONLY | O_CREAT : O_RDONLY,
                      (create ? 0 : LOCKFILE_MAY_BE_MISSING) | LOCKFILE_NEVER_REPLACED);
    r = lockfile_lock(lf, write ? LOCK_EX : LOCK_SH, 0,
                      talloc_asprintf(dir, "the %s revision lock %u of %s (to %s "
                                      "revision %lu)", write ? "EXCLUSIVE" : "SHARED",
                                      parity, userid, write ? "write" : "read", rev));
    talloc_free(dir);
    if (r) {
        talloc_free(lf);
        return r;
    }
    *lf_r = lf;
    return 0;
}

int revlock_make(const char *userid)
{
    char *dir = user_config_dir(NULL, userid);
    int r = 0;

    if (!dir)
        return XAP_IMAP_MAILBOX_BADNAME;
    for (unsigned p = 0; p < 2 && !r; p++) {
        char *path = talloc_asprintf(dir, "%s/xapianrev.%u", dir, p);
        /* No lock of this process is on a description this opens, so its
         * close drops none (flock locks belong to the description). */
        int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            xlog_syserr("open", path);
            r = XAP_IMAP_IOERROR;
        } else {
            close(fd);
        }
    }
    talloc_free(dir);
    return r;
}
