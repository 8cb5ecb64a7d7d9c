/* synclog.c - see synclog.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/atomicfile.h"
#include "common/config.h"
#include "common/lockorder.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/synclog.h"

static char *log_path(void *ctx, const char *channel, const char *suffix)
{
    const char *confdir = config_configdirectory(NULL);
    return confdir ? talloc_asprintf(ctx, "%s/sync/%s/log%s", confdir, channel, suffix)
                   : NULL;
}

/* flock with EINTR retried, registered with the lock-order checker. */
static int lock_log(int fd, const char *path)
{
    int r;

    lockorder_check(LOCKLEVEL_SYNCLOG, path, 0);
    while ((r = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
        ;
    if (r < 0) {
        xlog_syserr("flock", path);
        return IMAP_IOERROR;
    }
    lockorder_acquired(LOCKLEVEL_SYNCLOG, path);
    return 0;
}

static void unlock_log(int fd, const char *path)
{
    flock(fd, LOCK_UN);
    lockorder_released(LOCKLEVEL_SYNCLOG, path);
}

int synclog_append(const char *channel, const char *name)
{
    char *path = log_path(NULL, channel, "");
    char *line;
    int fd, r = 0;

    if (!path)
        return IMAP_CONFIG;
    line = talloc_asprintf(path, "MAILBOX %s\n", name);
    for (;;) {
        struct stat st1, st2;
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 && errno == ENOENT && !mkdir_parents(path, 0700))
            continue;
        if (fd < 0) {
            xlog_syserr("open", path);
            r = IMAP_IOERROR;
            goto done;
        }
        if ((r = lock_log(fd, path))) {
            close(fd);
            goto done;
        }
        /* The reader may have renamed the file between our open and our
         * lock: then write to the new one. */
        if (fstat(fd, &st1) == 0 && stat(path, &st2) == 0 &&
            st1.st_ino == st2.st_ino && st1.st_dev == st2.st_dev)
            break;
        unlock_log(fd, path);
        close(fd);
    }
    if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
        xlog_syserr("write", path);
        r = IMAP_IOERROR;
    }
    unlock_log(fd, path);
    close(fd);
done:
    if (r)
        xlog(LOG_ERR, "sync log %s: mailbox %s not logged: squatter -R will miss it",
             channel, name);
    talloc_free(path);
    return r;
}

int synclog_take(void *ctx, const char *channel, char ***names_r, char **workfile_r)
{
    char *path = log_path(NULL, channel, "");
    char *work, *buf;
    size_t len;
    char **names = talloc_array(ctx, char *, 0);
    int fd, r = 0;

    *names_r = names;
    *workfile_r = NULL;
    if (!path)
        return IMAP_CONFIG;
    /* A work file left by a reader that died is taken first. */
    work = log_path(ctx, channel, "-work");
    if (access(work, F_OK) < 0) {
        if (rename(path, work) < 0) {
            if (errno != ENOENT) {
                xlog_syserr("rename", path);
                r = IMAP_IOERROR;
            }
            talloc_free(work);
            goto done;
        }
    }
    fd = open(work, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        xlog_syserr("open", work);
        r = IMAP_IOERROR;
        goto done;
    }
    /* Wait for writers who opened the file before the rename. */
    if ((r = lock_log(fd, work))) {
        close(fd);
        goto done;
    }
    unlock_log(fd, work);
    close(fd);
    if (read_file(path, work, &buf, &len) < 0) {
        xlog_syserr("read", work);
        r = IMAP_IOERROR;
        goto done;
    }
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        size_t n = talloc_array_length(names), i;
        if (strncmp(line, "MAILBOX ", 8))
            continue;
        for (i = 0; i < n && strcmp(names[i], line + 8); i++)
            ;
        if (i < n)
            continue;
        names = talloc_realloc(ctx, names, char *, n + 1);
        names[n] = talloc_strdup(names, line + 8);
    }
    *names_r = names;
    *workfile_r = work;
done:
    talloc_free(path);
    return r;
}

void synclog_done(const char *workfile)
{
    if (workfile && unlink(workfile) < 0 && errno != ENOENT)
        xlog_syserr("unlink", workfile);
}
