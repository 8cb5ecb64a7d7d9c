/* mailbox-cachewrite.c - writing a whole new cache file (repack,
 * reconstruct) a chunk at a time.
 *
 * Why not one buffer: a cache holds a record of a few KB per message, so
 * at a few hundred thousand messages it passes talloc's largest single
 * allocation (256 MiB) and the repack of every close after an expunge
 * failed; memory holds one chunk instead of the whole file. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/atomicfile.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"

enum { CACHE_CHUNK = 4 << 20 };

struct cache_writer {
    const char *path;
    int fd;
    uint64_t flushed;          /* bytes of the file already written */
    char *chunk;               /* talloc char array: the bytes after them */
};

static int cache_writer_destroy(struct cache_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    return 0;
}

static int cache_writer_flush(struct cache_writer *w)
{
    size_t len = talloc_array_length(w->chunk);

    if (pwrite_all(w->fd, w->chunk, len, (off_t)w->flushed) < 0) {
        xlog_syserr("write", w->path);
        return XAP_IMAP_IOERROR;
    }
    w->flushed += len;
    talloc_free(w->chunk);
    w->chunk = talloc_array(w, char, 0);
    return w->chunk ? 0 : XAP_IMAP_INTERNAL;
}

int cache_writer_open(void *ctx, const char *path, uint32_t generation,
                      struct cache_writer **wp)
{
    struct cache_writer *w = talloc_zero(ctx, struct cache_writer);

    *wp = NULL;
    if (!w)
        return XAP_IMAP_INTERNAL;
    w->path = talloc_strdup(w, path);
    w->chunk = talloc_array(w, char, CACHE_HEADER_SIZE);
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    talloc_set_destructor(w, cache_writer_destroy);
    if (w->fd < 0) {
        xlog_syserr("open", path);
        talloc_free(w);
        return XAP_IMAP_IOERROR;
    }
    if (!w->path || !w->chunk) {
        talloc_free(w);
        return XAP_IMAP_INTERNAL;
    }
    cache_header_encode(generation, (unsigned char *)w->chunk);
    *wp = w;
    return 0;
}

int cache_writer_add(struct cache_writer *w, const char *const fields[XAP_NUM_CACHE_FIELDS],
                     uint64_t *offset_r, uint32_t *crc_r)
{
    size_t off = cache_record_build(&w->chunk, fields, crc_r);

    if (off == CACHE_BUILD_FAILED) {
        xlog(LOG_ERR, "%s: out of memory for a cache record", w->path);
        return XAP_IMAP_INTERNAL;
    }
    *offset_r = w->flushed + off;
    return talloc_array_length(w->chunk) >= CACHE_CHUNK ? cache_writer_flush(w) : 0;
}

int cache_writer_finish(struct cache_writer *w)
{
    int r = cache_writer_flush(w);

    if (!r && fsync(w->fd) < 0) {
        xlog_syserr("fsync", w->path);
        r = XAP_IMAP_IOERROR;
    }
    if (close(w->fd) < 0 && !r) {
        xlog_syserr("close", w->path);
        r = XAP_IMAP_IOERROR;
    }
    w->fd = -1;
    return r;
}
