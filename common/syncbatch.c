/* syncbatch.c - the batched sync of written files (syncbatch.h says why
 * this policy).
 *
 * States of a batch: empty; holding up to SYNCBATCH_EACH files, each open
 * (to be fsynced); holding more (syncfs mode: one open file per
 * filesystem written on, the first written there, to syncfs through; the
 * others closed at once, so that a batch of any size holds few
 * descriptors).  syncbatch_sync() and syncbatch_drop() return it to
 * empty. */
#include <config.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/atomicfile.h"
#include "common/syncbatch.h"
#include "common/xlog.h"

/* A batch of up to this many files is fsynced file by file. */
#define SYNCBATCH_EACH 16

struct held {
    int fd;
    dev_t dev;
    char *path;
};

struct syncbatch {
    struct held files[SYNCBATCH_EACH];
    size_t n;           /* files held */
    size_t count;       /* added since the last syncbatch_sync() */
};

static void close_held(struct syncbatch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        close(b->files[i].fd);
        TALLOC_FREE(b->files[i].path);
    }
    b->n = 0;
}

static int destroy_batch(struct syncbatch *b)
{
    close_held(b);
    return 0;
}

struct syncbatch *syncbatch_new(void *ctx)
{
    struct syncbatch *b = talloc_zero(ctx, struct syncbatch);

    talloc_set_destructor(b, destroy_batch);
    return b;
}

/* Whether the batch holds one of its first K files on DEV. */
static int holds_dev(const struct syncbatch *b, size_t k, dev_t dev)
{
    for (size_t i = 0; i < k; i++)
        if (b->files[i].dev == dev)
            return 1;
    return 0;
}

/* The batch outgrew SYNCBATCH_EACH: it keeps the first file of each
 * filesystem (opened before the others there were written) and closes
 * the rest. */
static void to_syncfs_mode(struct syncbatch *b)
{
    size_t k = 0;

    for (size_t i = 0; i < b->n; i++) {
        if (holds_dev(b, k, b->files[i].dev)) {
            close(b->files[i].fd);
            TALLOC_FREE(b->files[i].path);
        } else {
            b->files[k++] = b->files[i];
        }
    }
    b->n = k;
}

int syncbatch_add(struct syncbatch *b, int fd, const char *path)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        xlog_syserr("fstat", path);
        close(fd);
        return XAP_IMAP_IOERROR;
    }
    b->count++;
    if (b->count == SYNCBATCH_EACH + 1)
        to_syncfs_mode(b);
    if (b->count > SYNCBATCH_EACH && holds_dev(b, b->n, st.st_dev)) {
        close(fd);
        return 0;
    }
    if (b->n == SYNCBATCH_EACH) {
        /* More filesystems than SYNCBATCH_EACH: not a case of ours. */
        xlog(LOG_ERR, "%s: one batch writes on more than %d filesystems", path,
             SYNCBATCH_EACH);
        close(fd);
        return XAP_IMAP_IOERROR;
    }
    b->files[b->n].fd = fd;
    b->files[b->n].dev = st.st_dev;
    b->files[b->n].path = talloc_strdup(b, path);
    b->n++;
    return 0;
}

int syncbatch_write(struct syncbatch *b, int dirfd, const char *name, const char *path,
                    const void *buf, size_t len)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                    0600);

    if (fd < 0) {
        xlog_syserr("open", path);
        return XAP_IMAP_IOERROR;
    }
    if (pwrite_all(fd, buf, len, 0) < 0) {
        xlog_syserr("write", path);
        close(fd);
        /* A partial file (the disk filled up) gives its space back now. */
        unlinkat(dirfd, name, 0);
        return XAP_IMAP_IOERROR;
    }
    return syncbatch_add(b, fd, path);
}

int syncbatch_sync(struct syncbatch *b)
{
    int each = b->count <= SYNCBATCH_EACH, r = 0;

    for (size_t i = 0; i < b->n && !r; i++) {
        if ((each ? fsync(b->files[i].fd) : syncfs(b->files[i].fd)) < 0) {
            /* syncfs: the filesystem of that file failed a write-back. */
            xlog_syserr(each ? "fsync" : "syncfs", b->files[i].path);
            r = XAP_IMAP_IOERROR;
        }
    }
    close_held(b);
    b->count = 0;
    return r;
}

void syncbatch_drop(struct syncbatch *b)
{
    close_held(b);
    b->count = 0;
}

size_t syncbatch_count(const struct syncbatch *b)
{
    return b->count;
}
