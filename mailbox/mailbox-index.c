/* mailbox-index.c - reading and writing index records and cache records,
 * and the commit that makes them durable.
 *
 * A transaction keeps every change in memory (struct pending, and the new
 * cache bytes) until xap_mailbox_commit(), which writes in this order:
 *
 *   0. the appended messages' files (written unsynced): fsync each, or
 *      syncfs for a large batch (common/syncbatch.h).
 *                                                          mailbox.commit.0
 *   1. new cache records at the end of the cache file, fsync; the mailbox
 *      directory, fsync (new message files are then durable by name);
 *      the header file if user flags changed.              mailbox.commit.1
 *   2. appended records after the last committed one (invisible: the
 *      committed header does not count them).
 *   3. if records are rewritten in place: the committed header with
 *      OPT_MAILBOX_DIRTY, fsync.                           mailbox.commit.2
 *   4. rewritten records in place; fsync.                  mailbox.commit.3
 *   5. the new header (counts, num_records, last_uid), fsync.
 *                                                          mailbox.commit.4
 *   6. the owner's GUID db (guiddb.h), one SQLite commit.   mailbox.commit.5
 *
 * A crash before 5 leaves the old header: appended records and cache
 * bytes are invisible garbage past the committed end, overwritten by the
 * next commit.  A crash between 3 and 5 leaves DIRTY set; the next
 * EXCLUSIVE locker recomputes the counts from the records (each record
 * carries its own CRC, so a torn record is detected, not believed). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/namelock.h"
#include "common/atomicfile.h"
#include "common/fault.h"
#include "common/xlog.h"
#include "mailbox/guiddb.h"
#include "mailbox/mailbox-private.h"
#include "mailbox/snapshot.h"

static off_t record_offset(uint32_t recno)
{
    return INDEX_HEADER_SIZE + (off_t)(recno - 1) * INDEX_RECORD_SIZE;
}

void mailbox_count_record(struct index_header *h, const struct xap_index_record *r,
                          int sign)
{
    if (r->internal_flags & XAP_FLAG_INTERNAL_EXPUNGED)
        return;
    h->exists += (uint32_t)sign;
    h->quota_used += (uint64_t)(int64_t)sign * r->size;
    if (r->system_flags & XAP_FLAG_DELETED)
        h->deleted += (uint32_t)sign;
    if (r->system_flags & XAP_FLAG_ANSWERED)
        h->answered += (uint32_t)sign;
    if (r->system_flags & XAP_FLAG_FLAGGED)
        h->flagged += (uint32_t)sign;
    if (!(r->system_flags & XAP_FLAG_SEEN))
        h->unseen += (uint32_t)sign;
}

int mailbox_open_cache(struct xap_mailbox *mailbox)
{
    char *path = mailbox_cache_file(NULL, mailbox, mailbox->i.generation);
    unsigned char hdr[CACHE_HEADER_SIZE];
    uint32_t gen;
    struct stat st;
    int fd, r = 0;

    /* Written only under the EXCLUSIVE index lock, refused on a read-only
     * spool (xap_mailbox_lock_index), so there a read-only descriptor does. */
    fd = open(path, (mailbox->index_lock->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        xlog_syserr("open", path);
        r = errno == ENOENT ? XAP_IMAP_MAILBOX_BADFORMAT : XAP_IMAP_IOERROR;
        goto done;
    }
    if (pread_all(fd, hdr, sizeof hdr, 0) < 0 || fstat(fd, &st) < 0) {
        xlog(LOG_ERR, "mailbox %s: cannot read cache file %s", mailbox->name, path);
        r = XAP_IMAP_MAILBOX_BADFORMAT;
        goto done;
    }
    r = cache_header_decode(hdr, sizeof hdr, &gen);
    if (!r && gen != mailbox->i.generation)
        r = XAP_IMAP_MAILBOX_BADFORMAT;
    if (r) {
        xlog(LOG_ERR, "mailbox %s: %s: bad cache file header (%s)", mailbox->name,
             path, xap_error_message(r));
        goto done;
    }
    if (mailbox->cache_fd >= 0)
        close(mailbox->cache_fd);
    mailbox->cache_fd = fd;
    fd = -1;
    mailbox->cache_generation = gen;
    mailbox->cache_end = (uint64_t)st.st_size;
done:
    if (fd >= 0)
        close(fd);
    talloc_free(path);
    return r;
}

/* xap_mailbox_verify reads a truncated index to report it with the rest. */
static int short_index_ok;

void mailbox_allow_short_index(int allow)
{
    short_index_ok = allow;
}

/* A snapshot reader (MAILBOX_INDEX_SNAPSHOT) holds no lock: a bad CRC may
 * be a commit's header write seen half done (read again), a DIRTY header a
 * commit in flight.  Whatever it cannot believe it answers with
 * XAP_IMAP_AGAIN and logs nothing: the caller's locked read reports real
 * damage. */
int mailbox_read_header_locked(struct xap_mailbox *mailbox)
{
    int snapshot = mailbox->index_locktype == MAILBOX_INDEX_SNAPSHOT;
    unsigned char buf[INDEX_HEADER_SIZE];
    struct index_header h;
    int r;

    for (int tries = 0;; tries++) {
        if (pread_all(mailbox->index_lock->fd, buf, sizeof buf, 0) < 0) {
            char *path;
            if (snapshot)
                return XAP_IMAP_AGAIN;
            path = mailbox_file(NULL, mailbox, FNAME_INDEX);
            if (errno)
                xlog_syserr("read", path);
            else
                xlog(LOG_ERR, "mailbox %s: %s: truncated header", mailbox->name, path);
            talloc_free(path);
            return errno ? XAP_IMAP_IOERROR : XAP_IMAP_MAILBOX_BADFORMAT;
        }
        r = index_header_decode(buf, sizeof buf, &h);
        if (!r || !snapshot || tries == 2)
            break;
    }
    if (snapshot && (r || (h.options & OPT_MAILBOX_DIRTY)))
        return XAP_IMAP_AGAIN;
    if (r) {
        xlog(LOG_ERR, "mailbox %s: %s/" FNAME_INDEX ": header: %s", mailbox->name,
             mailbox->path, xap_error_message(r));
        return r;
    }
    /* Records are written before the header that counts them, so a file
     * shorter than its count lost its tail: corruption, which an append
     * would otherwise paper over with a hole of empty records. */
    struct stat ist;
    if (fstat(mailbox->index_lock->fd, &ist) < 0) {
        xlog_syserr("fstat", mailbox->path);
        return XAP_IMAP_IOERROR;
    }
    if (!short_index_ok && h.num_records &&
        (uint64_t)ist.st_size < (uint64_t)record_offset(h.num_records + 1)) {
        if (snapshot)
            return XAP_IMAP_AGAIN;
        xlog(LOG_ERR, "mailbox %s: %s/" FNAME_INDEX ": truncated: the header counts %u "
             "records, the file holds %llu (mbctl reconstruct rebuilds it)", mailbox->name,
             mailbox->path, h.num_records,
             (unsigned long long)((uint64_t)ist.st_size < INDEX_HEADER_SIZE ? 0
                 : ((uint64_t)ist.st_size - INDEX_HEADER_SIZE) / INDEX_RECORD_SIZE));
        return XAP_IMAP_MAILBOX_BADFORMAT;
    }
    mailbox->i = h;
    mailbox->committed = h;
    if (mailbox->cache_fd < 0 || mailbox->cache_generation != h.generation) {
        r = mailbox_open_cache(mailbox);
        if (r)
            return r;
    } else {
        /* Another process may have appended cache records. */
        struct stat st;
        if (fstat(mailbox->cache_fd, &st) == 0)
            mailbox->cache_end = (uint64_t)st.st_size;
    }
    if ((h.options & OPT_MAILBOX_DIRTY) && mailbox->index_locktype == XAP_LOCK_EXCLUSIVE) {
        /* A commit died between rewriting records and the header. */
        xlog(LOG_WARNING, "mailbox %s: interrupted commit found: recounting",
             mailbox->name);
        r = mailbox_recount(mailbox, &mailbox->i);
        if (r)
            return r;
        mailbox->i.options &= ~OPT_MAILBOX_DIRTY;
        index_header_encode(&mailbox->i, buf);
        if (pwrite_all(mailbox->index_lock->fd, buf, sizeof buf, 0) < 0 ||
            fsync(mailbox->index_lock->fd) < 0) {
            xlog_syserr("write", mailbox->path);
            return XAP_IMAP_IOERROR;
        }
        mailbox->committed = mailbox->i;
    }
    return 0;
}

static struct pending *find_pending(struct xap_mailbox *mailbox, uint32_t recno)
{
    size_t n = talloc_array_length(mailbox->pending);
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (mailbox->pending[mid].record.recno < recno)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && mailbox->pending[lo].record.recno == recno
           ? &mailbox->pending[lo] : NULL;
}

static int check_locked(const struct xap_mailbox *mailbox, int want_exclusive,
                        const char *what)
{
    if (!mailbox->index_locktype ||
        (want_exclusive && mailbox->index_locktype != XAP_LOCK_EXCLUSIVE)) {
        xlog(LOG_ERR, "mailbox %s: %s without the %s index lock", mailbox->name,
             what, want_exclusive ? "exclusive" : "");
        return XAP_IMAP_INTERNAL;
    }
    return 0;
}

/* Decodes the record at RECNO from BUF; logs a checksum failure. */
static int decode_record(struct xap_mailbox *mailbox, const unsigned char *buf,
                         uint32_t recno, struct xap_index_record *record)
{
    int r = index_record_decode(buf, record);

    /* A snapshot's record must be as its header counts it: a torn one, or
     * one a commit has rewritten since (a higher modseq), makes the
     * caller read again under the lock. */
    if (mailbox->index_locktype == MAILBOX_INDEX_SNAPSHOT &&
        (r || record->modseq > mailbox->committed.highestmodseq))
        return XAP_IMAP_AGAIN;
    if (r) {
        xlog(LOG_ERR, "mailbox %s: %s/" FNAME_INDEX " record %u: %s",
             mailbox->name, mailbox->path, recno, xap_error_message(r));
        return r;
    }
    record->recno = recno;
    return 0;
}

int xap_mailbox_read_index_record(struct xap_mailbox *mailbox, uint32_t recno,
                              struct xap_index_record *record)
{
    unsigned char buf[INDEX_RECORD_SIZE];
    struct pending *p;
    int r;

    if ((r = check_locked(mailbox, 0, "read record")))
        return r;
    if (recno < 1 || recno > mailbox->i.num_records)
        return XAP_IMAP_NOTFOUND;
    if ((p = find_pending(mailbox, recno))) {
        *record = p->record;
        memset(&record->crec, 0, sizeof record->crec);
        return 0;
    }
    if (pread_all(mailbox->index_lock->fd, buf, sizeof buf, record_offset(recno)) < 0) {
        xlog(LOG_ERR, "mailbox %s: %s/" FNAME_INDEX " record %u: %s", mailbox->name,
             mailbox->path, recno, errno ? strerror(errno) : "file truncated");
        return errno ? XAP_IMAP_IOERROR : XAP_IMAP_MAILBOX_BADFORMAT;
    }
    return decode_record(mailbox, buf, recno, record);
}

/* Inserts or replaces the pending copy of RECORD. */
static void set_pending(struct xap_mailbox *mailbox, const struct xap_index_record *record,
                        int is_append)
{
    struct pending *p = find_pending(mailbox, record->recno);
    size_t n;

    if (p) {
        p->record = *record;
        return;
    }
    /* Appends come last and rewrites in any order: keep the array sorted. */
    n = talloc_array_length(mailbox->pending);
    mailbox->pending = talloc_realloc(mailbox, mailbox->pending, struct pending, n + 1);
    size_t at = n;
    while (at > 0 && mailbox->pending[at - 1].record.recno > record->recno)
        at--;
    memmove(&mailbox->pending[at + 1], &mailbox->pending[at],
            (n - at) * sizeof *mailbox->pending);
    mailbox->pending[at].record = *record;
    mailbox->pending[at].is_append = is_append;
    memset(&mailbox->pending[at].record.crec, 0, sizeof(struct xap_cacherecord));
}

static void stamp(struct xap_mailbox *mailbox, struct xap_index_record *record)
{
    if (record->silent)
        return;
    record->modseq = ++mailbox->i.highestmodseq;
    record->last_updated = (int64_t)time(NULL);
}

int xap_mailbox_rewrite_index_record(struct xap_mailbox *mailbox,
                                 struct xap_index_record *record)
{
    struct xap_index_record old;
    int r;

    if ((r = check_locked(mailbox, 1, "rewrite record")))
        return r;
    if ((r = xap_mailbox_read_index_record(mailbox, record->recno, &old)))
        return r;
    if (old.uid != record->uid) {
        xlog(LOG_ERR, "mailbox %s: record %u: UID may not change (%u -> %u)",
             mailbox->name, record->recno, old.uid, record->uid);
        return XAP_IMAP_INTERNAL;
    }
    if ((old.internal_flags & XAP_FLAG_INTERNAL_EXPUNGED) &&
        !(record->internal_flags & XAP_FLAG_INTERNAL_EXPUNGED)) {
        xlog(LOG_ERR, "mailbox %s: UID %u: an expunged message cannot be unexpunged",
             mailbox->name, record->uid);
        return XAP_IMAP_INTERNAL;
    }
    if ((old.internal_flags & XAP_FLAG_INTERNAL_UNLINKED) &&
        !(record->internal_flags & XAP_FLAG_INTERNAL_UNLINKED)) {
        xlog(LOG_ERR, "mailbox %s: UID %u: an unlinked message cannot come back",
             mailbox->name, record->uid);
        return XAP_IMAP_INTERNAL;
    }
    if (memcmp(old.guid, record->guid, XAP_MESSAGE_GUID_SIZE) || old.size != record->size ||
        old.cache_offset != record->cache_offset) {
        xlog(LOG_ERR, "mailbox %s: UID %u: message data may not change in a rewrite",
             mailbox->name, record->uid);
        return XAP_IMAP_INTERNAL;
    }
    mailbox_count_record(&mailbox->i, &old, -1);
    stamp(mailbox, record);
    mailbox_count_record(&mailbox->i, record, +1);
    set_pending(mailbox, record, 0);
    mailbox->dirty = 1;
    mailbox->has_changed = 1;
    return 0;
}

int xap_mailbox_append_index_record(struct xap_mailbox *mailbox,
                                struct xap_index_record *record)
{
    int r;

    if ((r = check_locked(mailbox, 1, "append record")))
        return r;
    if (record->uid <= mailbox->i.last_uid) {
        xlog(LOG_ERR, "mailbox %s: append of UID %u: UIDs must grow (last %u)",
             mailbox->name, record->uid, mailbox->i.last_uid);
        return XAP_IMAP_INTERNAL;
    }
    if (record->internal_flags & (XAP_FLAG_INTERNAL_EXPUNGED | XAP_FLAG_INTERNAL_UNLINKED)) {
        xlog(LOG_ERR, "mailbox %s: append of UID %u: already expunged",
             mailbox->name, record->uid);
        return XAP_IMAP_INTERNAL;
    }
    record->recno = mailbox->i.num_records + 1;
    stamp(mailbox, record);
    mailbox->i.num_records++;
    mailbox->i.last_uid = record->uid;
    mailbox->i.last_appenddate = (int64_t)time(NULL);
    mailbox_count_record(&mailbox->i, record, +1);
    set_pending(mailbox, record, 1);
    mailbox->dirty = 1;
    mailbox->has_changed = 1;
    return 0;
}

static int write_header(struct xap_mailbox *mailbox, const struct index_header *h)
{
    unsigned char buf[INDEX_HEADER_SIZE];

    index_header_encode(h, buf);
    if (pwrite_all(mailbox->index_lock->fd, buf, sizeof buf, 0) < 0 ||
        fsync(mailbox->index_lock->fd) < 0) {
        xlog_syserr("write", mailbox->path);
        return XAP_IMAP_IOERROR;
    }
    return 0;
}

/* Writes the pending records that are (APPENDS) or are not appends. */
static int write_pending(struct xap_mailbox *mailbox, int appends)
{
    size_t n = talloc_array_length(mailbox->pending);
    unsigned char buf[INDEX_RECORD_SIZE];

    for (size_t i = 0; i < n; i++) {
        const struct pending *p = &mailbox->pending[i];
        if (p->is_append != appends)
            continue;
        index_record_encode(&p->record, buf);
        if (pwrite_all(mailbox->index_lock->fd, buf, sizeof buf,
                       record_offset(p->record.recno)) < 0) {
            xlog_syserr("write", mailbox->path);
            return XAP_IMAP_IOERROR;
        }
    }
    return 0;
}

static int commit_steps(struct xap_mailbox *mailbox)
{
    size_t ncache = talloc_array_length(mailbox->cache_pending);
    size_t n = talloc_array_length(mailbox->pending);
    int rewrites = 0, appends = 0, r;

    for (size_t i = 0; i < n; i++) {
        if (mailbox->pending[i].is_append)
            appends = 1;
        else
            rewrites = 1;
    }

    /* 0 */
    if (mailbox->unsynced && syncbatch_count(mailbox->unsynced)) {
        if ((r = mailbox_sync_appended(mailbox)))
            return r;
        fault_point("mailbox.commit.0");
    }

    /* 1 */
    if (ncache) {
        if (pwrite_all(mailbox->cache_fd, mailbox->cache_pending, ncache,
                       (off_t)mailbox->cache_end) < 0 ||
            fsync(mailbox->cache_fd) < 0) {
            xlog_syserr("write", mailbox->path);
            return XAP_IMAP_IOERROR;
        }
    }
    if (appends && (r = fsync_dir(mailbox->path)))
        return r;
    if (mailbox->header_changed && (r = mailbox_write_header(mailbox)))
        return r;
    fault_point("mailbox.commit.1");

    /* 2 */
    if ((r = write_pending(mailbox, 1)))
        return r;
    /* 3 */
    if (rewrites) {
        struct index_header dirty = mailbox->committed;
        dirty.options |= OPT_MAILBOX_DIRTY;
        if ((r = write_header(mailbox, &dirty)))
            return r;
        fault_point("mailbox.commit.2");
    }
    /* 4 */
    if ((r = write_pending(mailbox, 0)))
        return r;
    if (fsync(mailbox->index_lock->fd) < 0) {
        xlog_syserr("fsync", mailbox->path);
        return XAP_IMAP_IOERROR;
    }
    fault_point("mailbox.commit.3");
    /* 5 */
    mailbox->i.options &= ~OPT_MAILBOX_DIRTY;
    if ((r = write_header(mailbox, &mailbox->i)))
        return r;
    fault_point("mailbox.commit.4");
    /* 6: the owner's GUID db.  The mailbox is committed whatever happens
     * here; a failure leaves the db's sync mark behind, which the
     * mailbox's next commit, or squatter before it marks anything
     * indexed (guiddb_catch_up), catches up: meanwhile a search counts
     * these messages as unindexed. */
    if (guiddb_sync_mailbox(mailbox, 0))
        xlog(LOG_ERR, "mailbox %s: GUID db not updated; search results will "
             "lack these changes until the mailbox's next commit or squatter run",
             mailbox->name);
    fault_point("mailbox.commit.5");

    mailbox->cache_end += ncache;
    mailbox->committed = mailbox->i;
    TALLOC_FREE(mailbox->pending);
    TALLOC_FREE(mailbox->cache_pending);
    mailbox->header_changed = 0;
    mailbox->dirty = 0;
    return 0;
}

/* Of the UIDs whose files an expunge scheduled for removal at close,
 * keeps those whose records the file says are unlinked: a failed commit
 * may have left them live. */
static void keep_committed_unlinks(struct xap_mailbox *mailbox)
{
    size_t n = talloc_array_length(mailbox->unlinks), kept = 0;
    struct xap_index_record rec;

    for (size_t i = 0; i < n; i++) {
        int unlinked = 0;
        for (uint32_t recno = 1; recno <= mailbox->i.num_records; recno++) {
            if (xap_mailbox_read_index_record(mailbox, recno, &rec))
                break;
            if (rec.uid == mailbox->unlinks[i]) {
                unlinked = (rec.internal_flags & XAP_FLAG_INTERNAL_UNLINKED) != 0;
                break;
            }
        }
        if (unlinked)
            mailbox->unlinks[kept++] = mailbox->unlinks[i];
    }
    if (kept)
        mailbox->unlinks = talloc_realloc(mailbox, mailbox->unlinks, uint32_t, kept);
    else
        TALLOC_FREE(mailbox->unlinks);
}

/* A failed commit (ENOSPC, EIO) stopped between two of the steps above:
 * on disk that is the state of a crash at the same point, which the
 * next EXCLUSIVE locker repairs (a DIRTY header is recounted; appended
 * records past the header's count and cache bytes past its end are
 * invisible).  The changes in memory are dropped, so the mailbox can be
 * closed (not the abort of an unlock with uncommitted changes).  What
 * the file says now is read back (a header whose write succeeded and
 * whose fsync failed is there for every reader), with the repair done
 * at once while we hold the lock: only the files of appends the file
 * does not count are removed, and of the messages expunged, only those
 * whose records stand as unlinked.  If even that read fails, no file is
 * removed.  Then the index lock is let go, so that nothing here goes on
 * from a header that may no longer be the one on disk. */
int xap_mailbox_commit(struct xap_mailbox *mailbox)
{
    int r;

    if (!mailbox->dirty)
        return 0;
    if ((r = check_locked(mailbox, 1, "commit")))
        return r;
    if (!(r = commit_steps(mailbox)))
        return 0;
    xlog(LOG_ERR, "mailbox %s: commit failed, its changes are dropped: %s", mailbox->name,
         xap_error_message(r));
    mailbox->i = mailbox->committed;
    TALLOC_FREE(mailbox->pending);
    TALLOC_FREE(mailbox->cache_pending);
    mailbox_forget_unsynced(mailbox);
    mailbox->header_changed = 0;
    mailbox->dirty = 0;
    if (mailbox_read_header_locked(mailbox) == 0) {
        keep_committed_unlinks(mailbox);
        mailbox_remove_uncommitted_files(mailbox);   /* room for the next try */
        /* What the file counts is what every reader sees: the GUID db
         * follows it now, as step 6 would have (if this fails too, the
         * sync mark stays behind for squatter to catch up). */
        (void)guiddb_sync_mailbox(mailbox, 0);
    } else {
        TALLOC_FREE(mailbox->unlinks);
    }
    xap_mailbox_unlock_index(mailbox, NULL);
    return r;
}

/* ------------------------------------------------------------ cache */

/* Maps the committed cache file when OFFSET..OFFSET+4 is not yet mapped;
 * earlier maps stay valid until unlock. */
static const struct cachemap *cache_map_for(struct xap_mailbox *mailbox, uint64_t offset)
{
    struct cachemap *m = mailbox->maps;
    void *base;

    if (m && offset + 4 <= m->len)
        return m;
    if (mailbox->cache_end <= offset)
        return NULL;
    base = mmap(NULL, (size_t)mailbox->cache_end, PROT_READ, MAP_SHARED,
                mailbox->cache_fd, 0);
    if (base == MAP_FAILED) {
        xlog_syserr("mmap", mailbox->path);
        return NULL;
    }
    m = talloc_zero(mailbox, struct cachemap);
    m->base = base;
    m->len = (size_t)mailbox->cache_end;
    m->next = mailbox->maps;
    mailbox->maps = m;
    return m;
}

int xap_mailbox_cacherecord(struct xap_mailbox *mailbox, struct xap_index_record *record)
{
    int r;

    if ((r = check_locked(mailbox, 0, "read cache")))
        return r;
    if (record->crec.base)
        return 0;
    if (record->cache_offset < CACHE_HEADER_SIZE) {
        xlog(LOG_ERR, "mailbox %s: UID %u has no cache record", mailbox->name, record->uid);
        return XAP_IMAP_MAILBOX_BADFORMAT;
    }
    if (record->cache_offset >= mailbox->cache_end) {
        /* Appended in this transaction: copy out of the pending buffer,
         * which may move before unlock. */
        size_t off = (size_t)(record->cache_offset - mailbox->cache_end);
        size_t avail = talloc_array_length(mailbox->cache_pending);
        if (off >= avail)
            goto bad;
        if (!mailbox->lock_ctx)
            mailbox->lock_ctx = talloc_new(mailbox);
        char *copy = talloc_memdup(mailbox->lock_ctx, mailbox->cache_pending + off,
                                   avail - off);
        r = cache_record_parse(copy, avail - off, record->cache_crc, &record->crec);
    } else {
        const struct cachemap *m = cache_map_for(mailbox, record->cache_offset);
        if (!m)
            goto bad;
        r = cache_record_parse(m->base + record->cache_offset,
                               m->len - (size_t)record->cache_offset,
                               record->cache_crc, &record->crec);
    }
    if (r) {
        xlog(LOG_ERR, "mailbox %s: cache record of UID %u at %llu: %s", mailbox->name,
             record->uid, (unsigned long long)record->cache_offset, xap_error_message(r));
        memset(&record->crec, 0, sizeof record->crec);
    }
    return r;
bad:
    xlog(LOG_ERR, "mailbox %s: cache record of UID %u at %llu is past the end of %s/"
         FNAME_CACHE_PREFIX "%u", mailbox->name, record->uid,
         (unsigned long long)record->cache_offset, mailbox->path, mailbox->i.generation);
    return XAP_IMAP_MAILBOX_BADFORMAT;
}

const char *xap_cacheitem_base(const struct xap_index_record *record, int field)
{
    if (!record->crec.base || field < 0 || field >= XAP_NUM_CACHE_FIELDS)
        return NULL;
    return record->crec.base + record->crec.item[field].offset;
}

unsigned xap_cacheitem_size(const struct xap_index_record *record, int field)
{
    if (!record->crec.base || field < 0 || field >= XAP_NUM_CACHE_FIELDS)
        return 0;
    return (unsigned)record->crec.item[field].size;
}

void mailbox_release_lock_state(struct xap_mailbox *mailbox)
{
    while (mailbox->maps) {
        struct cachemap *m = mailbox->maps;
        mailbox->maps = m->next;
        munmap((void *)m->base, m->len);
        talloc_free(m);
    }
    TALLOC_FREE(mailbox->lock_ctx);
}

/* ------------------------------------------------------------ iteration */

#define ITER_CHUNK 256

struct xap_mailbox_iter {
    struct xap_mailbox *mailbox;
    uint64_t changedsince;
    unsigned flags;
    uint32_t recno;             /* last returned */
    uint32_t chunk_first;       /* recno of buf[0], 0 = empty */
    uint32_t chunk_n;
    unsigned char buf[ITER_CHUNK * INDEX_RECORD_SIZE];
    struct xap_index_record record;
    int error;
};

struct xap_mailbox_iter *xap_mailbox_iter_init(struct xap_mailbox *mailbox,
                                       uint64_t changedsince, unsigned flags)
{
    struct xap_mailbox_iter *iter = talloc_zero(mailbox, struct xap_mailbox_iter);

    iter->mailbox = mailbox;
    iter->changedsince = changedsince;
    iter->flags = flags;
    iter->error = check_locked(mailbox, 0, "iterate");
    return iter;
}

/* Reads RECNO through the chunk buffer (committed records only). */
static int iter_read(struct xap_mailbox_iter *iter, uint32_t recno)
{
    struct xap_mailbox *mailbox = iter->mailbox;
    struct pending *p = find_pending(mailbox, recno);

    if (p) {
        iter->record = p->record;
        memset(&iter->record.crec, 0, sizeof iter->record.crec);
        return 0;
    }
    if (!iter->chunk_first || recno < iter->chunk_first ||
        recno >= iter->chunk_first + iter->chunk_n) {
        uint32_t last = mailbox->committed.num_records;
        uint32_t n = last >= recno ? last - recno + 1 : 0;
        if (n > ITER_CHUNK)
            n = ITER_CHUNK;
        if (n == 0)
            return xap_mailbox_read_index_record(mailbox, recno, &iter->record);
        if (pread_all(mailbox->index_lock->fd, iter->buf, (size_t)n * INDEX_RECORD_SIZE,
                      record_offset(recno)) < 0) {
            xlog(LOG_ERR, "mailbox %s: %s/" FNAME_INDEX ": cannot read records from %u",
                 mailbox->name, mailbox->path, recno);
            return errno ? XAP_IMAP_IOERROR : XAP_IMAP_MAILBOX_BADFORMAT;
        }
        iter->chunk_first = recno;
        iter->chunk_n = n;
    }
    return decode_record(mailbox,
                         iter->buf + (size_t)(recno - iter->chunk_first) * INDEX_RECORD_SIZE,
                         recno, &iter->record);
}

const struct xap_index_record *xap_mailbox_iter_step(struct xap_mailbox_iter *iter)
{
    while (!iter->error && iter->recno < iter->mailbox->i.num_records) {
        iter->recno++;
        if ((iter->error = iter_read(iter, iter->recno)))
            return NULL;
        if ((iter->flags & XAP_ITER_SKIP_EXPUNGED) &&
            (iter->record.internal_flags & XAP_FLAG_INTERNAL_EXPUNGED))
            continue;
        if (iter->record.modseq <= iter->changedsince)
            continue;
        return &iter->record;
    }
    return NULL;
}

int mailbox_iter_seek_uid(struct xap_mailbox_iter *iter, uint32_t uid)
{
    struct xap_index_record rec;
    uint32_t lo = 1, hi = iter->mailbox->i.num_records + 1;  /* answer in [lo, hi] */

    while (!iter->error && lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((iter->error = xap_mailbox_read_index_record(iter->mailbox, mid, &rec)))
            break;
        if (rec.uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!iter->error)
        iter->recno = lo - 1;
    return iter->error;
}

int xap_mailbox_iter_error(const struct xap_mailbox_iter *iter)
{
    return iter->error;
}

void xap_mailbox_iter_done(struct xap_mailbox_iter **iterp)
{
    TALLOC_FREE(*iterp);
}

int mailbox_recount(struct xap_mailbox *mailbox, struct index_header *h)
{
    struct xap_mailbox_iter *iter = xap_mailbox_iter_init(mailbox, 0, 0);
    const struct xap_index_record *rec;
    int r;

    h->exists = h->deleted = h->answered = h->flagged = h->unseen = 0;
    h->quota_used = 0;
    while ((rec = xap_mailbox_iter_step(iter))) {
        mailbox_count_record(h, rec, +1);
        if (rec->modseq > h->highestmodseq)
            h->highestmodseq = rec->modseq;
    }
    r = xap_mailbox_iter_error(iter);
    xap_mailbox_iter_done(&iter);
    return r;
}
