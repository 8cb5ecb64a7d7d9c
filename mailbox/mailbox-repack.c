/* mailbox-repack.c - dropping unlinked records from the index and their
 * bytes from the cache, and removing what crashed runs left behind.
 *
 * Needs the EXCLUSIVE namelock (nobody else has the files open) and the
 * EXCLUSIVE index lock.  The cache file is named by a generation that the
 * index header records, so the switch is one rename:
 *
 *   1. write xapiary.cache.G+1 with the kept cache records, fsync
 *                                                      mailbox.repack.1
 *   2. write xapiary.index.NEW naming generation G+1, fsync, rename over
 *      xapiary.index, fsync the directory              mailbox.repack.2
 *   3. unlink xapiary.cache.G                          mailbox.repack.3
 *   4. clear OPT_MAILBOX_NEEDS_CLEANUP in the header
 *
 * A crash before 2 leaves the old index, which names the old cache and
 * still says NEEDS_REPACK: the new cache is debris and the next repack
 * removes it.  The index switched in at 2 says NEEDS_CLEANUP until 4, so
 * after a crash there the next last close removes the old cache. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/namelock.h"
#include "common/atomicfile.h"
#include "common/fault.h"
#include "common/lockfile.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"
#include "mailbox/guiddb.h"

int mailbox_remove_debris(struct xap_mailbox *mailbox)
{
    DIR *d = opendir(mailbox->path);
    struct dirent *de;
    size_t plen = strlen(FNAME_CACHE_PREFIX);
    int r = 0;

    if (!d) {
        xlog_syserr("opendir", mailbox->path);
        return XAP_IMAP_IOERROR;
    }
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        int debris = 0;
        size_t len = strlen(n);
        if (len > 4 && !strcmp(n + len - 4, ".NEW") && !strncmp(n, "xapiary.", 8))
            debris = 1;
        else if (!strncmp(n, FNAME_CACHE_PREFIX, plen) &&
                 strtoul(n + plen, NULL, 10) != mailbox->i.generation)
            debris = 1;
        if (!debris)
            continue;
        char *path = talloc_asprintf(NULL, "%s/%s", mailbox->path, n);
        if (unlink(path) < 0 && errno != ENOENT) {
            xlog_syserr("unlink", path);
            r = XAP_IMAP_IOERROR;
        }
        talloc_free(path);
    }
    closedir(d);
    return r;
}

int mailbox_finish_cleanup(struct xap_mailbox *mailbox)
{
    int r = mailbox_remove_debris(mailbox);

    if (r)
        return r;
    mailbox->i.options &= ~OPT_MAILBOX_NEEDS_CLEANUP;
    mailbox->dirty = 1;
    return xap_mailbox_commit(mailbox);
}

/* A repack rewrites every record and the whole cache: at a million
 * messages 3-4 s and hundreds of MB written, which every close after an
 * expunge paid.  It is due once the records it would drop are a
 * REPACK_FRACTION of the index (so each record's rewrite is paid for by
 * that many expunges), or while the index is small enough that the
 * rewrite costs next to nothing. */
#define REPACK_SMALL 4096
#define REPACK_FRACTION 16

int mailbox_repack_due(const struct xap_mailbox *mailbox)
{
    uint32_t dropped = mailbox->i.num_records - mailbox->i.exists;

    return mailbox->i.num_records < REPACK_SMALL ||
           (uint64_t)dropped * REPACK_FRACTION >= mailbox->i.num_records;
}

int mailbox_unlink_expunged(struct xap_mailbox *mailbox)
{
    struct xap_mailbox_iter *iter;
    const struct xap_index_record *rec;
    int r, first = 1;

    /* The files of every unlinked record: the closes that scheduled
     * them may have died first.  The records stay (unlinked, skipped by
     * every reader) until a repack is due. */
    iter = xap_mailbox_iter_init(mailbox, 0, 0);
    while ((rec = xap_mailbox_iter_step(iter)))
        if ((rec->internal_flags & XAP_FLAG_INTERNAL_UNLINKED) &&
            mailbox_unlink_message(mailbox, rec->uid) && first) {
            first = 0;
            fault_point("mailbox.unlinked.1");
        }
    r = xap_mailbox_iter_error(iter);
    xap_mailbox_iter_done(&iter);
    if (r)
        return r;
    mailbox->i.options &= ~OPT_MAILBOX_NEEDS_REPACK;
    if (mailbox->i.options & OPT_MAILBOX_NEEDS_CLEANUP)
        return mailbox_finish_cleanup(mailbox);
    mailbox->dirty = 1;
    return xap_mailbox_commit(mailbox);
}

int mailbox_index_repack(struct xap_mailbox *mailbox)
{
    void *tmp = talloc_new(NULL);
    struct xap_mailbox_iter *iter;
    const struct xap_index_record *rec;
    struct index_header h = mailbox->i;
    unsigned char *index = talloc_array(tmp, unsigned char, INDEX_HEADER_SIZE);
    struct cache_writer *cache;
    uint32_t oldgen = mailbox->i.generation;
    char *path;
    int r;

    if (mailbox->index_locktype != XAP_LOCK_EXCLUSIVE ||
        xap_mboxname_islocked(mailbox->name) != XAP_LOCK_EXCLUSIVE || mailbox->dirty) {
        xlog(LOG_ERR, "mailbox %s: repack needs both exclusive locks and no changes",
             mailbox->name);
        talloc_free(tmp);
        return XAP_IMAP_INTERNAL;
    }
    /* The records dropped here are what would tell the GUID db to forget
     * their messages: a commit whose GUID db update failed is caught up
     * first, or searches would find expunged mail for good. */
    if ((r = guiddb_sync_mailbox(mailbox, 0)))
        goto done;
    if ((r = mailbox_remove_debris(mailbox)))
        goto done;

    h.generation = oldgen + 1;
    h.num_records = 0;
    h.options &= ~(OPT_MAILBOX_NEEDS_REPACK | OPT_MAILBOX_DIRTY);
    h.options |= OPT_MAILBOX_NEEDS_CLEANUP;
    h.exists = h.deleted = h.answered = h.flagged = h.unseen = 0;
    h.quota_used = 0;
    path = mailbox_cache_file(tmp, mailbox, h.generation);
    if ((r = cache_writer_open(tmp, path, h.generation, &cache)))
        goto done;

    iter = xap_mailbox_iter_init(mailbox, 0, 0);
    while ((rec = xap_mailbox_iter_step(iter))) {
        struct xap_index_record copy = *rec;
        const char *fields[XAP_NUM_CACHE_FIELDS];
        void *one;

        if (copy.internal_flags & XAP_FLAG_INTERNAL_UNLINKED) {
            /* The close that scheduled it may have died before unlinking. */
            mailbox_unlink_message(mailbox, copy.uid);
            continue;
        }
        if ((r = xap_mailbox_cacherecord(mailbox, &copy)))
            break;
        one = talloc_new(tmp);     /* this record's strings only */
        for (int f = 0; f < XAP_NUM_CACHE_FIELDS; f++)
            fields[f] = talloc_strndup(one, xap_cacheitem_base(&copy, f),
                                       xap_cacheitem_size(&copy, f));
        r = cache_writer_add(cache, fields, &copy.cache_offset, &copy.cache_crc);
        talloc_free(one);
        if (r)
            break;
        copy.recno = ++h.num_records;
        index = talloc_realloc(tmp, index, unsigned char,
                               INDEX_HEADER_SIZE + (size_t)h.num_records * INDEX_RECORD_SIZE);
        if (!index) {
            r = XAP_IMAP_INTERNAL;
            break;
        }
        index_record_encode(&copy, index + INDEX_HEADER_SIZE +
                            (size_t)(h.num_records - 1) * INDEX_RECORD_SIZE);
        mailbox_count_record(&h, &copy, +1);
    }
    if (!r)
        r = xap_mailbox_iter_error(iter);
    xap_mailbox_iter_done(&iter);
    if (r)
        goto done;
    index_header_encode(&h, index);

    if ((r = cache_writer_finish(cache)))
        goto done;
    fault_point("mailbox.repack.1");
    path = mailbox_file(tmp, mailbox, FNAME_INDEX);
    if ((r = file_replace(path, index, talloc_array_length(index), NULL)))
        goto done;
    fault_point("mailbox.repack.2");

    /* Our descriptor is on the old file: move the lock to the new one.
     * Nobody else can have it open (we hold the EXCLUSIVE namelock), so
     * there is no moment where another process could get in. */
    if ((r = lockfile_reopen(mailbox->index_lock))) {
        r = r == XAP_IMAP_NOTFOUND ? XAP_IMAP_MAILBOX_BADFORMAT : r;
        goto done;
    }
    mailbox_release_lock_state(mailbox);
    if ((r = mailbox_read_header_locked(mailbox)))
        goto done;
    path = mailbox_cache_file(tmp, mailbox, oldgen);
    if (unlink(path) < 0 && errno != ENOENT)
        xlog_syserr("unlink", path);
    fault_point("mailbox.repack.3");
    r = mailbox_finish_cleanup(mailbox);
done:
    if (r)
        xlog(LOG_ERR, "mailbox %s: repack failed: %s", mailbox->name, xap_error_message(r));
    talloc_free(tmp);
    return r;
}
