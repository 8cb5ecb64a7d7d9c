/* util.c - small helpers shared by every layer. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/util.h"
#include "common/xlog.h"

char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static int read_file_flags(void *ctx, int dirfd, const char *path, int flags,
                           char **buf_r, size_t *len_r, struct stat *st_r);

int read_file(void *ctx, const char *path, char **buf_r, size_t *len_r)
{
    return read_file_flags(ctx, AT_FDCWD, path, O_NOFOLLOW, buf_r, len_r, NULL);
}

int read_file_follow(void *ctx, const char *path, char **buf_r, size_t *len_r)
{
    return read_file_flags(ctx, AT_FDCWD, path, 0, buf_r, len_r, NULL);
}

int read_file_at(void *ctx, int dirfd, const char *name, char **buf_r, size_t *len_r)
{
    /* O_NONBLOCK: a FIFO put there must not hang the open; it is refused
     * below with everything else that is not a regular file. */
    return read_file_flags(ctx, dirfd, name, O_NOFOLLOW | O_NONBLOCK, buf_r, len_r, NULL);
}

int read_file_stat(void *ctx, int dirfd, const char *name, int follow, char **buf_r,
                   size_t *len_r, struct stat *st_r)
{
    return read_file_flags(ctx, dirfd, name, follow ? 0 : O_NOFOLLOW | O_NONBLOCK, buf_r,
                           len_r, st_r);
}

static int read_file_flags(void *ctx, int dirfd, const char *path, int flags,
                           char **buf_r, size_t *len_r, struct stat *st_r)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | flags), bad;
    struct stat st;
    char *buf;
    size_t len = 0;

    if (fd < 0)
        return -1;
    bad = fstat(fd, &st) < 0 ? errno
          : (flags & O_NONBLOCK) && !S_ISREG(st.st_mode) ? EINVAL : 0;
    if (bad) {
        close(fd);
        errno = bad;
        return -1;
    }
    /* Room for the NUL and one byte more, so that the read that finds
     * EOF does not need to grow the buffer.  talloc refuses single
     * objects over 256 MiB: such a file is ENOMEM, not a crash. */
    buf = talloc_array(ctx, char, (size_t)st.st_size + 2);
    /* The size can change while we read; read to EOF and grow if need be. */
    for (;;) {
        ssize_t n;
        if (buf && len + 1 >= talloc_array_length(buf))
            buf = talloc_realloc(ctx, buf, char, talloc_array_length(buf) * 2 + 4096);
        if (!buf) {
            close(fd);
            errno = ENOMEM;
            return -1;
        }
        n = read(fd, buf + len, talloc_array_length(buf) - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            talloc_free(buf);
            errno = saved;
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    if (st_r)
        *st_r = st;
    *buf_r = buf;
    *len_r = len;
    return 0;
}

/* Makes the directories of COPY (a writable copy of the path) from the
 * top down; an existing directory at any level is fine.  Returns 0, or
 * -1 with errno set and COPY cut at the directory that could not be made. */
static int make_dirs(char *copy, mode_t mode)
{
    /* ENOENT: an empty parent we made was removed by rmdir_empty_parents
     * in another process before we made its child: start again. */
    for (int tries = 0; ; tries++) {
        for (char *p = copy + 1; ; p++) {
            if (*p == '/' || *p == '\0') {
                char c = *p;
                *p = '\0';
                if (mkdir(copy, mode) < 0 && errno != EEXIST) {
                    if (errno == ENOENT && tries < 100) {
                        *p = c;
                        break;
                    }
                    return -1;
                }
                *p = c;
                if (c == '\0')
                    return 0;
            }
        }
    }
}

int mkdir_p_quiet(const char *path, mode_t mode)
{
    char *copy = talloc_strdup(NULL, path);
    int r = make_dirs(copy, mode), saved = errno;
    struct stat st;

    talloc_free(copy);
    if (!r && stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
        saved = ENOTDIR;
        r = -1;
    }
    errno = saved;
    return r;
}

int mkdir_p(const char *path, mode_t mode)
{
    char *copy = talloc_strdup(NULL, path);
    int r = 0;

    if (make_dirs(copy, mode) < 0) {
        xlog_syserr("mkdir", copy);
        r = XAP_IMAP_IOERROR;
    }
    if (!r) {
        /* The last component may exist as something else than a directory. */
        struct stat st;
        if (stat(path, &st) < 0) {
            xlog_syserr("stat", path);
            r = XAP_IMAP_IOERROR;
        } else if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            xlog_syserr("mkdir", path);
            r = XAP_IMAP_IOERROR;
        }
    }
    talloc_free(copy);
    return r;
}

int mkdir_parents(const char *path, mode_t mode)
{
    char *dir = talloc_strdup(NULL, path);
    char *slash = strrchr(dir, '/');
    int r = 0;

    if (slash && slash != dir) {
        *slash = '\0';
        r = mkdir_p(dir, mode);
    }
    talloc_free(dir);
    return r;
}

void rmdir_empty_parents(const char *path, int levels)
{
    char *dir = talloc_strdup(NULL, path);

    for (int i = 0; i < levels; i++) {
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            break;
        *slash = '\0';
        if (rmdir(dir) < 0) {
            if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
                xlog_syserr("rmdir", dir);
            break;
        }
    }
    talloc_free(dir);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    if (remove(path) < 0 && errno != ENOENT) {
        xlog_syserr("remove", path);
        return -1;
    }
    return 0;
}

int remove_tree(const char *dir)
{
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
        return XAP_IMAP_IOERROR;
    return 0;
}

int path_check_beneath(const char *root, const char *path)
{
    size_t n = strlen(root);
    char *p, *s;
    int r = 0;

    if (strncmp(path, root, n) || (path[n] != '/' && path[n])) {
        xlog(LOG_ERR, "%s is not below %s", path, root);
        return XAP_IMAP_PERMISSION_DENIED;
    }
    p = talloc_strdup(NULL, path);
    for (s = p + n; s && *s; ) {
        struct stat st;
        if ((s = strchr(s + 1, '/')))
            *s = '\0';
        if (lstat(p, &st) < 0) {
            if (errno != ENOENT) {
                xlog_syserr("lstat", p);
                r = XAP_IMAP_IOERROR;
            }
            break;
        }
        if (S_ISLNK(st.st_mode)) {
            xlog(LOG_ERR, "refusing to follow the symbolic link %s below %s", p, root);
            r = XAP_IMAP_PERMISSION_DENIED;
            break;
        }
        if (s)
            *s = '/';
    }
    talloc_free(p);
    return r;
}

double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
