/* mailbox-append.c - storing a new message, expunging one, and opening
 * a live one's file for reading.
 *
 * Append writes the message file "UID." without an fsync, into the
 * transaction's sync batch (common/syncbatch.h); the commit makes the
 * files of all its appends durable (step 0, mailbox_sync_appended) before
 * it writes any record, so no committed record can name a file that is
 * not on disk, and a batch of appends (an import) costs one sync pass
 * instead of a synchronous write per message.  If the process dies
 * before commit, the file is debris with a UID above the committed last
 * UID; the next append finds it and clears all such files before reusing
 * those UIDs. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/namelock.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/xlog.h"
#include "mailbox/append.h"
#include "mailbox/mailbox-private.h"
#include "mailbox/message.h"

/* Removes message files with UIDs above the committed last UID. */
int mailbox_remove_uncommitted_files(struct xap_mailbox *mailbox)
{
    DIR *d = opendir(mailbox->path);
    struct dirent *de;
    int r = 0;

    if (!d) {
        xlog_syserr("opendir", mailbox->path);
        return XAP_IMAP_IOERROR;
    }
    while ((de = readdir(d))) {
        char *end;
        unsigned long uid = strtoul(de->d_name, &end, 10);
        if (end == de->d_name || strcmp(end, ".") || uid <= mailbox->committed.last_uid)
            continue;
        char *path = talloc_asprintf(NULL, "%s/%s", mailbox->path, de->d_name);
        xlog(LOG_NOTICE, "mailbox %s: removing %s left by an interrupted append",
             mailbox->name, path);
        if (unlink(path) < 0 && errno != ENOENT) {
            xlog_syserr("unlink", path);
            r = XAP_IMAP_IOERROR;
        }
        talloc_free(path);
    }
    closedir(d);
    return r;
}

/* The files are synced by the policy of common/syncbatch.h, shared with
 * mbctl receive: an fsync each for a delivery's few, one syncfs for an
 * import's batch. */
int mailbox_sync_appended(struct xap_mailbox *mailbox)
{
    int r = mailbox->unsynced ? syncbatch_sync(mailbox->unsynced) : 0;

    mailbox_forget_unsynced(mailbox);
    return r;
}

void mailbox_forget_unsynced(struct xap_mailbox *mailbox)
{
    /* Freeing the batch closes its files, unsynced. */
    TALLOC_FREE(mailbox->unsynced);
    if (mailbox->dir_fd >= 0)
        close(mailbox->dir_fd);
    mailbox->dir_fd = -1;
}

static int check_limits(const char *name, const char *msg, size_t len)
{
    unsigned max_size = config_max_message_size(NULL);
    unsigned max_fields = config_max_header_fields(NULL);

    /* Refused before anything is written: memory and time per message
     * stay bounded by the two limits (docs/OPERATIONS.md "Limits"). */
    if (len > max_size) {
        xlog(LOG_ERR, "mailbox %s: message of %zu bytes is larger than max_message_size "
             "(%u bytes)", name, len, max_size);
        return XAP_IMAP_MESSAGE_TOOLARGE;
    }
    if (message_header_fields(msg, len, max_fields, NULL) > max_fields) {
        xlog(LOG_ERR, "mailbox %s: message has more than max_header_fields (%u) header "
             "fields, counting those of its MIME parts", name, max_fields);
        return XAP_IMAP_MESSAGE_TOOLARGE;
    }
    return 0;
}

int xap_mailbox_append_message(struct xap_mailbox *mailbox, const char *msg, size_t len,
                           int64_t internaldate, uint32_t system_flags,
                           uint32_t *uid_r)
{
    return xap_mailbox_append_message_dated(mailbox, msg, len, internaldate, 0, system_flags,
                                        uid_r);
}

int mailbox_append_prepare(void *ctx, const char *name, const char *msg, size_t len,
                           struct message_parsed **parsed_r)
{
    int r = check_limits(name, msg, len);

    *parsed_r = NULL;
    return r ? r : message_parse(ctx, msg, len, parsed_r);
}

/* Appends MSG, whose file is a link to SRC's when SRC is given and
 * mailbox_link_file() can make one (*LINKED_R then set).  PRE: MSG as
 * mailbox_append_prepare() left it, or NULL to check and parse it here. */
static int append(struct xap_mailbox *mailbox, const char *msg, size_t len,
                  const struct message_parsed *pre,
                  int64_t internaldate, int64_t fallbackdate, uint32_t system_flags,
                  const struct append_source *src, int *linked_r, uint32_t *uid_r)
{
    const struct message_parsed *parsed = pre;
    struct message_parsed *own = NULL;
    struct xap_index_record record;
    const char *fields[XAP_NUM_CACHE_FIELDS];
    const char *name = NULL;
    int written = 0, linked = 0;
    size_t off;
    char *path;
    int r;

    if (mailbox->index_locktype != XAP_LOCK_EXCLUSIVE) {
        xlog(LOG_ERR, "mailbox %s: append without the exclusive index lock", mailbox->name);
        return XAP_IMAP_INTERNAL;
    }
    if (!pre && (r = check_limits(mailbox->name, msg, len)))
        return r;
    memset(&record, 0, sizeof record);
    record.uid = mailbox->i.last_uid + 1;
    path = xap_mailbox_message_path(NULL, mailbox, record.uid);

    if (mailbox->i.last_uid == mailbox->committed.last_uid && access(path, F_OK) == 0 &&
        (r = mailbox_remove_uncommitted_files(mailbox)))
        goto done;
    /* The directory is opened once per transaction: each file is created
     * relative to it, without a path lookup. */
    if (mailbox->dir_fd < 0 &&
        (mailbox->dir_fd = open(mailbox->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        xlog_syserr("open", mailbox->path);
        r = XAP_IMAP_IOERROR;
        goto done;
    }
    if (!mailbox->unsynced)
        mailbox->unsynced = syncbatch_new(mailbox);
    name = strrchr(path, '/') + 1;
    r = src ? mailbox_link_file(mailbox, src, name, path, len, &linked) : 0;
    written = linked;
    if (r || (!linked && (r = syncbatch_write(mailbox->unsynced, mailbox->dir_fd, name,
                                              path, msg, len))))
        goto done;
    written = 1;
    fault_point("mailbox.append.1");

    if (!pre && (r = message_parse(path, msg, len, &own)))
        goto done;
    if (!pre)
        parsed = own;
    for (int f = 0; f < XAP_NUM_CACHE_FIELDS; f++)
        fields[f] = parsed->cache[f];
    if (!mailbox->cache_pending)
        mailbox->cache_pending = talloc_array(mailbox, char, 0);
    off = cache_record_build(&mailbox->cache_pending, fields, &record.cache_crc);
    if (off == CACHE_BUILD_FAILED) {
        xlog(LOG_ERR, "mailbox %s: out of memory for a cache record", mailbox->name);
        r = XAP_IMAP_INTERNAL;
        goto done;
    }

    /* The Date: header, when readable, dates the message for search; only
     * without one is a better internal date than INTERNALDATE worth it. */
    if (fallbackdate && !parsed->sentdate)
        record.internaldate = fallbackdate;
    else
        record.internaldate = internaldate ? internaldate : (int64_t)time(NULL);
    record.sentdate = parsed->sentdate;
    record.size = (uint32_t)len;
    record.header_size = (uint32_t)parsed->header_size;
    record.system_flags = system_flags;
    record.cache_offset = mailbox->cache_end + off;
    memcpy(record.guid, parsed->guid, XAP_MESSAGE_GUID_SIZE);
    r = xap_mailbox_append_index_record(mailbox, &record);
    if (r) {
        /* Drop the cache bytes we just added; the file is debris that the
         * next append clears. */
        mailbox->cache_pending = talloc_realloc(mailbox, mailbox->cache_pending, char, off);
        goto done;
    }
    if (uid_r)
        *uid_r = record.uid;
    if (linked_r)
        *linked_r = linked;
done:
    /* A copy left behind is debris that the next append overwrites; a
     * link must go now, lest that write went through it into the file it
     * shares with the caller's. */
    if (r && src && written && unlinkat(mailbox->dir_fd, name, 0) < 0)
        xlog_syserr("unlink", path);
    talloc_free(path);
    return r;
}

int xap_mailbox_append_message_dated(struct xap_mailbox *mailbox, const char *msg, size_t len,
                                 int64_t internaldate, int64_t fallbackdate,
                                 uint32_t system_flags, uint32_t *uid_r)
{
    return append(mailbox, msg, len, NULL, internaldate, fallbackdate, system_flags, NULL,
                  NULL, uid_r);
}

int mailbox_append_linked(struct xap_mailbox *mailbox, const char *msg, size_t len,
                          int64_t internaldate, int64_t fallbackdate, uint32_t system_flags,
                          const struct append_source *src, int *linked_r, uint32_t *uid_r)
{
    *linked_r = 0;
    return append(mailbox, msg, len, NULL, internaldate, fallbackdate, system_flags, src,
                  linked_r, uid_r);
}

int mailbox_append_prepared(struct xap_mailbox *mailbox, const char *msg, size_t len,
                            const struct message_parsed *parsed, int64_t internaldate,
                            int64_t fallbackdate, uint32_t system_flags,
                            const struct append_source *src, int *linked_r, uint32_t *uid_r)
{
    *linked_r = 0;
    return append(mailbox, msg, len, parsed, internaldate, fallbackdate, system_flags, src,
                  linked_r, uid_r);
}

int xap_mailbox_deliver(const char *name, const char *msg, size_t len,
                    int64_t internaldate, int64_t fallbackdate, uint32_t system_flags,
                    uint32_t *uid_r)
{
    struct xap_mailbox *mailbox = NULL;
    uint32_t uid = 0;
    int r;

    if ((r = xap_mailbox_open_iwl(name, &mailbox)))
        return r;
    r = xap_mailbox_append_message_dated(mailbox, msg, len, internaldate, fallbackdate,
                                     system_flags, &uid);
    if (!r)
        r = xap_mailbox_commit(mailbox);   /* a failed commit drops what it had */
    xap_mailbox_close(&mailbox);
    if (!r && uid_r)
        *uid_r = uid;
    return r;
}

/* The record with UID, by binary search (UIDs grow with recno). */
static int find_uid(struct xap_mailbox *mailbox, uint32_t uid, struct xap_index_record *record)
{
    uint32_t lo = 1, hi = mailbox->i.num_records;
    int r;

    while (lo <= hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((r = xap_mailbox_read_index_record(mailbox, mid, record)))
            return r;
        if (record->uid == uid)
            return 0;
        if (record->uid < uid)
            lo = mid + 1;
        else if (mid == 1)
            break;
        else
            hi = mid - 1;
    }
    return XAP_IMAP_NOTFOUND;
}

int xap_mailbox_find_uid(struct xap_mailbox *mailbox, uint32_t uid, struct xap_index_record *record)
{
    return find_uid(mailbox, uid, record);
}

int xap_mailbox_open_message(struct xap_mailbox *mailbox, uint32_t uid, int *fd_r)
{
    struct xap_index_record record;
    char *path;
    int r, fd;

    *fd_r = -1;
    if ((r = find_uid(mailbox, uid, &record)))
        return r;
    if (record.internal_flags & XAP_FLAG_INTERNAL_EXPUNGED)
        return XAP_IMAP_NOTFOUND;
    path = xap_mailbox_message_path(NULL, mailbox, uid);
    /* A live record always has its file (append writes it first): a
     * missing one is damage, never "not found". */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        xlog_syserr("open", path);
        talloc_free(path);
        return XAP_IMAP_IOERROR;
    }
    talloc_free(path);
    *fd_r = fd;
    return 0;
}

int xap_mailbox_expunge_uid(struct xap_mailbox *mailbox, uint32_t uid)
{
    struct xap_index_record record;
    size_t n;
    int r;

    if ((r = find_uid(mailbox, uid, &record)))
        return r;
    if (record.internal_flags & XAP_FLAG_INTERNAL_EXPUNGED)
        return XAP_IMAP_NOTFOUND;
    record.internal_flags |= XAP_FLAG_INTERNAL_EXPUNGED | XAP_FLAG_INTERNAL_UNLINKED;
    if ((r = xap_mailbox_rewrite_index_record(mailbox, &record)))
        return r;
    /* The file goes at close, after the commit that marks it unlinked;
     * the record goes at the next repack. */
    n = talloc_array_length(mailbox->unlinks);
    mailbox->unlinks = talloc_realloc(mailbox, mailbox->unlinks, uint32_t, n + 1);
    mailbox->unlinks[n] = uid;
    mailbox->i.options |= OPT_MAILBOX_NEEDS_REPACK;
    return 0;
}
