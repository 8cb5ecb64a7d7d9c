/* syncbatch.c - the batched sync of written files (syncbatch.h says why
 * this policy).
 *
 * States of a batch: empty; holding files (open, write-back started, not
 * known durable) and possibly files synced early; failed (an early sync
 * failed: the next syncbatch_sync() reports it even if the files it still
 * holds sync fine, because Linux reports a write-back error once, and a
 * record naming the lost file must never be committed).  syncbatch_sync()
 * and syncbatch_drop() return it to empty. */
#include <config.h>

#include <fcntl.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/atomicfile.h"
#include "common/syncbatch.h"
#include "common/xlog.h"

/* Files held open at most: well under the usual limit of 1,024
 * descriptors, and enough that the first fsync finds most of the
 * others' write-back done. */
#define SYNCBATCH_OPEN 128

struct held {
    int fd;
    char *path;
};

struct syncbatch {
    struct held files[SYNCBATCH_OPEN];
    size_t n;           /* files held */
    size_t count;       /* added since the last syncbatch_sync() */
    int failed;         /* an early sync failed since then */
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

/* Fsyncs and closes the files held; the first failure is logged and
 * makes the batch failed, the rest are still closed. */
static int sync_held(struct syncbatch *b)
{
    for (size_t i = 0; i < b->n && !b->failed; i++) {
        if (fsync(b->files[i].fd) < 0) {
            xlog_syserr("fsync", b->files[i].path);
            b->failed = 1;
        }
    }
    close_held(b);
    return b->failed ? XAP_IMAP_IOERROR : 0;
}

int syncbatch_add(struct syncbatch *b, int fd, const char *path)
{
    /* Write-back starts now and runs while the caller writes the next
     * files; an error here only means it starts later, at the fsync. */
    sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    b->files[b->n].fd = fd;
    b->files[b->n].path = talloc_strdup(b, path);
    b->n++;
    b->count++;
    return b->n == SYNCBATCH_OPEN ? sync_held(b) : 0;
}

int syncbatch_write(struct syncbatch *b, int dirfd, const char *name, const char *path,
                    const void *buf, size_t len)
{
    int fd;

    /* A failed early sync leaves no new file behind: the room is made
     * before the file is created. */
    if (b->n == SYNCBATCH_OPEN - 1 && sync_held(b))
        return XAP_IMAP_IOERROR;
    fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
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
    int r = sync_held(b);

    b->failed = 0;
    b->count = 0;
    return r;
}

void syncbatch_drop(struct syncbatch *b)
{
    close_held(b);
    b->failed = 0;
    b->count = 0;
}

size_t syncbatch_count(const struct syncbatch *b)
{
    return b->count;
}
