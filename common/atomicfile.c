/* atomicfile.c - see atomicfile.h. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/atomicfile.h"
#include "common/fault.h"
#include "common/xlog.h"

int pwrite_all(int fd, const void *buf, size_t len, off_t offset)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
        offset += n;
    }
    return 0;
}

int pread_all(int fd, void *buf, size_t len, off_t offset)
{
    char *p = buf;

    while (len > 0) {
        ssize_t n = pread(fd, p, len, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = 0;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        offset += n;
    }
    return 0;
}

int file_write_sync(const char *path, const void *buf, size_t len, int replace)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
                (replace ? O_TRUNC : O_EXCL);
    int fd = open(path, flags, 0600);

    if (fd < 0) {
        if (errno == EEXIST)
            return XAP_IMAP_MAILBOX_EXISTS;
        xlog_syserr("open", path);
        return XAP_IMAP_IOERROR;
    }
    if (pwrite_all(fd, buf, len, 0) < 0) {
        xlog_syserr("write", path);
        close(fd);
        return XAP_IMAP_IOERROR;
    }
    if (fsync(fd) < 0) {
        xlog_syserr("fsync", path);
        close(fd);
        return XAP_IMAP_IOERROR;
    }
    if (close(fd) < 0) {
        xlog_syserr("close", path);
        return XAP_IMAP_IOERROR;
    }
    return 0;
}

/* Also the directory's fsync, with O_DIRECTORY. */
static int fsync_path(const char *path, int dir)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : O_NOFOLLOW));
    int r = 0;

    if (fd < 0) {
        xlog_syserr("open", path);
        return XAP_IMAP_IOERROR;
    }
    /* A write-back error of the earlier writes is reported here: Linux
     * gives it to the next fsync of the file, whichever descriptor. */
    if (fsync(fd) < 0) {
        xlog_syserr("fsync", path);
        r = XAP_IMAP_IOERROR;
    }
    close(fd);
    return r;
}

int fsync_file(const char *path)
{
    return fsync_path(path, 0);
}

int sync_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int r = 0;

    if (!d) {
        xlog_syserr("opendir", dir);
        return XAP_IMAP_IOERROR;
    }
    while (!r && (de = readdir(d))) {
        struct stat st;
        char *p = talloc_asprintf(NULL, "%s/%s", dir, de->d_name);
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            r = fsync_file(p);
        talloc_free(p);
    }
    closedir(d);
    return r ? r : fsync_dir(dir);
}

int fsync_dir(const char *dir)
{
    return fsync_path(dir, 1);
}

int fsync_parent(const char *path)
{
    char *dir = talloc_strdup(NULL, path);
    char *slash = strrchr(dir, '/');
    int r;

    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    r = fsync_dir(dir);
    talloc_free(dir);
    return r;
}

int file_replace(const char *path, const void *buf, size_t len,
                 const char *fault_prefix)
{
    char *tmp = talloc_asprintf(NULL, "%s.NEW", path);
    int r = file_write_sync(tmp, buf, len, 1);

    if (!r && fault_prefix) {
        char point[128];
        snprintf(point, sizeof point, "%s.written", fault_prefix);
        fault_point(point);
    }
    if (!r && rename(tmp, path) < 0) {
        xlog_syserr("rename", tmp);
        unlink(tmp);
        r = XAP_IMAP_IOERROR;
    }
    if (!r)
        r = fsync_parent(path);
    talloc_free(tmp);
    return r;
}
