/* ioerr_shim.c - I/O-error injection for the tests, loaded with LD_PRELOAD.
 *
 * One table of operations (open, write, fsync, rename, unlink, mkdir,
 * flock, link), each with a counter of the calls a process makes through libc's
 * exported functions.  Those are the calls of our code, of Xapian and of
 * SQLite alike (SQLite's unix VFS looks its system calls up by name), so
 * that the error reaches whichever layer made the call; patching our own
 * call sites would leave out most of the bytes a compaction writes.
 *
 *   XAPIARY_IOERR=OP:N[:ERRNO]   the Nth call of OP fails once, with EIO
 *                                (ENOSPC for write) or ERRNO (a name
 *                                such as EDQUOT, or a number)
 *   XAPIARY_IOERR_COUNT=FILE     at exit, append "OP COUNT" for every OP
 *                                to FILE; and when a call is failed, a
 *                                line "fired OP N OBJECT" at once
 *   XAPIARY_IOERR_PATH=STRING    count (and fail) only the calls on a
 *                                file whose path contains STRING (ends
 *                                with it, if STRING ends with '$'), so a
 *                                test can aim at one file's calls
 *
 * Which libc functions count as which OP is the table `ops` below.  Only
 * processes that link libxapiary count and fail: the libtool wrapper
 * scripts and the shell of a test run under the same environment, and
 * must neither use up the count nor be hit.  Writes to standard input,
 * output and error are not counted: a failed write of the error message
 * itself would only hide what the test checks.
 *
 * Calls glibc makes internally (fopen, opendir, the dynamic loader) do
 * not go through these symbols and are neither counted nor failed; nor
 * are fcntl() locks (SQLite's and Xapian's), read() or ftruncate().
 * docs/FAULTS.md says what this reaches.  Not for sanitizer builds:
 * ASan's runtime must be the first object loaded. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum op { OP_OPEN, OP_WRITE, OP_FSYNC, OP_RENAME, OP_UNLINK, OP_MKDIR, OP_FLOCK, OP_LINK,
          NOPS };

static const struct {
    const char *name;
    int errnum;         /* the default error of a failed call */
} ops[NOPS] = {
    [OP_OPEN] = { "open", EIO },          /* open open64 openat openat64 creat __open_2 ... */
    [OP_WRITE] = { "write", ENOSPC },     /* write pwrite pwrite64 writev pwritev */
    [OP_FSYNC] = { "fsync", EIO },        /* fsync fdatasync syncfs */
    [OP_RENAME] = { "rename", EIO },      /* rename renameat renameat2 */
    [OP_UNLINK] = { "unlink", EIO },      /* unlink unlinkat rmdir */
    [OP_MKDIR] = { "mkdir", EIO },        /* mkdir mkdirat */
    [OP_FLOCK] = { "flock", EIO },        /* flock */
    [OP_LINK] = { "link", EIO },          /* link linkat (the source's path) */
};

static unsigned long counts[NOPS];
static int active;                 /* this process links libxapiary */
static int fail_op = -1;           /* the armed OP, or -1 */
static unsigned long fail_n;       /* ... its Nth call fails */
static int fail_errno;
static const char *count_file, *path_filter;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define REAL(ret, name, args) \
    static ret (*real_##name) args; \
    if (!real_##name) \
        real_##name = (ret (*) args)dlsym(RTLD_NEXT, #name)

static int errno_by_name(const char *s)
{
    static const struct { const char *name; int num; } names[] = {
        { "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT },
        { "EROFS", EROFS }, { "EACCES", EACCES }, { "EPERM", EPERM },
        { "EFBIG", EFBIG }, { "ENOMEM", ENOMEM }, { "EMFILE", EMFILE },
        { "EXDEV", EXDEV }, { "EMLINK", EMLINK },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i].name))
            return names[i].num;
    return atoi(s);
}

static void setup(void)
{
    const char *spec = getenv("XAPIARY_IOERR");

    /* Every library is mapped before the first call reaches us. */
    active = dlsym(RTLD_DEFAULT, "xap_init") != NULL;
    count_file = getenv("XAPIARY_IOERR_COUNT");
    path_filter = getenv("XAPIARY_IOERR_PATH");
    if (path_filter && !*path_filter)
        path_filter = NULL;
    if (!active || !spec || !*spec)
        return;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", spec);
    char *n = strchr(buf, ':'), *e = n ? strchr(n + 1, ':') : NULL;
    if (!n)
        return;
    *n++ = '\0';
    if (e)
        *e++ = '\0';
    for (int i = 0; i < NOPS; i++)
        if (!strcmp(buf, ops[i].name)) {
            fail_op = i;
            fail_n = strtoul(n, NULL, 10);
            fail_errno = e ? errno_by_name(e) : ops[i].errnum;
        }
}

static void report(const char *line)
{
    REAL(int, open, (const char *, int, ...));
    REAL(ssize_t, write, (int, const void *, size_t));
    int fd = real_open(count_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

    if (fd < 0)
        return;
    if (real_write(fd, line, strlen(line)) < 0) {
        /* nothing to do: the test sees the count missing */
    }
    close(fd);
}

__attribute__((destructor)) static void write_counts(void)
{
    char line[64];

    if (!active || !count_file)
        return;
    for (int i = 0; i < NOPS; i++) {
        snprintf(line, sizeof line, "%s %lu\n", ops[i].name,
                 __atomic_load_n(&counts[i], __ATOMIC_SEQ_CST));
        report(line);
    }
}

static int matches(const char *path)
{
    size_t n = strlen(path_filter), len = strlen(path);

    if (path_filter[n - 1] != '$')
        return strstr(path, path_filter) != NULL;
    return len >= n - 1 && !strncmp(path + len - (n - 1), path_filter, n - 1);
}

/* Counts a call of OP; 1 (errno set) when this is the one to fail.
 * OBJECT is the path, or NULL and FD. */
static int hit(enum op op, const char *object, int fd)
{
    char path[PATH_MAX] = "?";

    pthread_once(&once, setup);
    if (!active)
        return 0;
    if (!object && (path_filter || ((int)op == fail_op && count_file))) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        ssize_t len = readlink(proc, path, sizeof path - 1);
        path[len > 0 ? len : 1] = '\0';
        object = path;
    }
    if (path_filter && !matches(object))
        return 0;
    unsigned long n = __atomic_add_fetch(&counts[op], 1, __ATOMIC_SEQ_CST);
    if ((int)op != fail_op || n != fail_n)
        return 0;
    if (count_file) {
        char line[PATH_MAX + 64];
        snprintf(line, sizeof line, "fired %s %lu %s\n", ops[op].name, n, object);
        report(line);
    }
    errno = fail_errno;
    return 1;
}

/* open(2) and friends pass a mode only with O_CREAT or O_TMPFILE. */
#define MODE_ARG(flags, mode) \
    mode_t mode = 0; \
    if ((flags) & (O_CREAT | __O_TMPFILE)) { \
        va_list ap; \
        va_start(ap, flags); \
        mode = va_arg(ap, mode_t); \
        va_end(ap); \
    }

#define OPEN_LIKE(name) \
    int name(const char *path, int flags, ...) \
    { \
        MODE_ARG(flags, mode); \
        REAL(int, name, (const char *, int, ...)); \
        return hit(OP_OPEN, path, -1) ? -1 : real_##name(path, flags, mode); \
    }
OPEN_LIKE(open)
OPEN_LIKE(open64)

#define OPENAT_LIKE(name) \
    int name(int dirfd, const char *path, int flags, ...) \
    { \
        MODE_ARG(flags, mode); \
        REAL(int, name, (int, const char *, int, ...)); \
        return hit(OP_OPEN, path, -1) ? -1 : real_##name(dirfd, path, flags, mode); \
    }
OPENAT_LIKE(openat)
OPENAT_LIKE(openat64)

/* What _FORTIFY_SOURCE turns open() into when it cannot see the mode. */
int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
    REAL(int, __open_2, (const char *, int));
    return hit(OP_OPEN, path, -1) ? -1 : real___open_2(path, flags);
}
int __open64_2(const char *path, int flags);
int __open64_2(const char *path, int flags)
{
    REAL(int, __open64_2, (const char *, int));
    return hit(OP_OPEN, path, -1) ? -1 : real___open64_2(path, flags);
}
int __openat_2(int dirfd, const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags)
{
    REAL(int, __openat_2, (int, const char *, int));
    return hit(OP_OPEN, path, -1) ? -1 : real___openat_2(dirfd, path, flags);
}
int __openat64_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags)
{
    REAL(int, __openat64_2, (int, const char *, int));
    return hit(OP_OPEN, path, -1) ? -1 : real___openat64_2(dirfd, path, flags);
}

int creat(const char *path, mode_t mode)
{
    REAL(int, creat, (const char *, mode_t));
    return hit(OP_OPEN, path, -1) ? -1 : real_creat(path, mode);
}
int creat64(const char *path, mode_t mode)
{
    REAL(int, creat64, (const char *, mode_t));
    return hit(OP_OPEN, path, -1) ? -1 : real_creat64(path, mode);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    REAL(ssize_t, write, (int, const void *, size_t));
    return fd > 2 && hit(OP_WRITE, NULL, fd) ? -1 : real_write(fd, buf, len);
}
ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    REAL(ssize_t, pwrite, (int, const void *, size_t, off_t));
    return fd > 2 && hit(OP_WRITE, NULL, fd) ? -1 : real_pwrite(fd, buf, len, off);
}
ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
    REAL(ssize_t, pwrite64, (int, const void *, size_t, off64_t));
    return fd > 2 && hit(OP_WRITE, NULL, fd) ? -1 : real_pwrite64(fd, buf, len, off);
}
ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    REAL(ssize_t, writev, (int, const struct iovec *, int));
    return fd > 2 && hit(OP_WRITE, NULL, fd) ? -1 : real_writev(fd, iov, cnt);
}
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    REAL(ssize_t, pwritev, (int, const struct iovec *, int, off_t));
    return fd > 2 && hit(OP_WRITE, NULL, fd) ? -1 : real_pwritev(fd, iov, cnt, off);
}

int fsync(int fd)
{
    REAL(int, fsync, (int));
    return hit(OP_FSYNC, NULL, fd) ? -1 : real_fsync(fd);
}
int fdatasync(int fd)
{
    REAL(int, fdatasync, (int));
    return hit(OP_FSYNC, NULL, fd) ? -1 : real_fdatasync(fd);
}
int syncfs(int fd)
{
    REAL(int, syncfs, (int));
    return hit(OP_FSYNC, NULL, fd) ? -1 : real_syncfs(fd);
}

int rename(const char *from, const char *to)
{
    REAL(int, rename, (const char *, const char *));
    return hit(OP_RENAME, from, -1) ? -1 : real_rename(from, to);
}
int renameat(int fromfd, const char *from, int tofd, const char *to)
{
    REAL(int, renameat, (int, const char *, int, const char *));
    return hit(OP_RENAME, from, -1) ? -1 : real_renameat(fromfd, from, tofd, to);
}
int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
    REAL(int, renameat2, (int, const char *, int, const char *, unsigned));
    return hit(OP_RENAME, from, -1) ? -1 : real_renameat2(fromfd, from, tofd, to, flags);
}

int unlink(const char *path)
{
    REAL(int, unlink, (const char *));
    return hit(OP_UNLINK, path, -1) ? -1 : real_unlink(path);
}
int unlinkat(int dirfd, const char *path, int flags)
{
    REAL(int, unlinkat, (int, const char *, int));
    return hit(OP_UNLINK, path, -1) ? -1 : real_unlinkat(dirfd, path, flags);
}
int rmdir(const char *path)
{
    REAL(int, rmdir, (const char *));
    return hit(OP_UNLINK, path, -1) ? -1 : real_rmdir(path);
}

int mkdir(const char *path, mode_t mode)
{
    REAL(int, mkdir, (const char *, mode_t));
    return hit(OP_MKDIR, path, -1) ? -1 : real_mkdir(path, mode);
}
int mkdirat(int dirfd, const char *path, mode_t mode)
{
    REAL(int, mkdirat, (int, const char *, mode_t));
    return hit(OP_MKDIR, path, -1) ? -1 : real_mkdirat(dirfd, path, mode);
}

int flock(int fd, int how)
{
    REAL(int, flock, (int, int));
    return hit(OP_FLOCK, NULL, fd) ? -1 : real_flock(fd, how);
}

int link(const char *from, const char *to)
{
    REAL(int, link, (const char *, const char *));
    return hit(OP_LINK, from, -1) ? -1 : real_link(from, to);
}
int linkat(int fromfd, const char *from, int tofd, const char *to, int flags)
{
    REAL(int, linkat, (int, const char *, int, const char *, int));
    return hit(OP_LINK, from, -1) ? -1 : real_linkat(fromfd, from, tofd, to, flags);
}
