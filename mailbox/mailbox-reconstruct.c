/* mailbox-reconstruct.c - rebuild a mailbox's index, cache and header
 * files from its message files.
 *
 * Runs under the EXCLUSIVE namelock without opening the mailbox the usual
 * way (its index may be what is broken).  What survives from the old
 * index: for every record whose CRC still checks, its flags, dates and
 * modseq; an expunged record's file, if still there, is removed.  The
 * uidvalidity and uniqueid come from mailboxes.db; last_uid never goes
 * down.  The new files are written under a new cache generation and
 * switched in with one rename of the index, as a repack does; then the
 * owner's GUID db is made to describe the mailbox whole. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "common/atomicfile.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/guiddb.h"
#include "mailbox/mailbox-private.h"
#include "mailbox/message.h"

struct old_state {
    struct index_header h;
    int have_header;
    struct xap_index_record *records;   /* talloc array, valid ones only */
    uint32_t max_generation;
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void read_old_index(void *ctx, struct xap_mailbox *mailbox, struct old_state *old)
{
    char *path = mailbox_file(ctx, mailbox, FNAME_INDEX);
    char *buf;
    size_t len;

    old->records = talloc_array(ctx, struct xap_index_record, 0);
    if (read_file(ctx, path, &buf, &len) < 0)
        return;
    if (index_header_decode((unsigned char *)buf, len, &old->h) == 0)
        old->have_header = 1;
    /* Records: as many whole ones as the file holds, whatever the header
     * says (it may be the broken part). */
    for (size_t off = INDEX_HEADER_SIZE; off + INDEX_RECORD_SIZE <= len;
         off += INDEX_RECORD_SIZE) {
        struct xap_index_record rec;
        if (index_record_decode((unsigned char *)buf + off, &rec) || rec.uid == 0)
            continue;
        size_t n = talloc_array_length(old->records);
        old->records = talloc_realloc(ctx, old->records, struct xap_index_record, n + 1);
        old->records[n] = rec;
    }
}

static const struct xap_index_record *old_record(const struct old_state *old, uint32_t uid)
{
    for (size_t i = 0; i < talloc_array_length(old->records); i++)
        if (old->records[i].uid == uid)
            return &old->records[i];
    return NULL;
}

/* UIDs of the message files in the directory, sorted; also the highest
 * cache generation present. */
static uint32_t *scan_files(void *ctx, struct xap_mailbox *mailbox, struct old_state *old)
{
    uint32_t *uids = talloc_array(ctx, uint32_t, 0);
    size_t plen = strlen(FNAME_CACHE_PREFIX);
    DIR *d = opendir(mailbox->path);
    struct dirent *de;

    if (!d)
        return uids;
    while ((de = readdir(d))) {
        char *end;
        unsigned long v;
        if (!strncmp(de->d_name, FNAME_CACHE_PREFIX, plen)) {
            v = strtoul(de->d_name + plen, &end, 10);
            if (!*end && v > old->max_generation && v < UINT32_MAX)
                old->max_generation = (uint32_t)v;
            continue;
        }
        v = strtoul(de->d_name, &end, 10);
        if (end == de->d_name || strcmp(end, ".") || v == 0 || v > UINT32_MAX)
            continue;
        size_t n = talloc_array_length(uids);
        uids = talloc_realloc(ctx, uids, uint32_t, n + 1);
        uids[n] = (uint32_t)v;
    }
    closedir(d);
    qsort(uids, talloc_array_length(uids), sizeof *uids, cmp_u32);
    return uids;
}

int xap_mailbox_reconstruct(const char *name, uint32_t *messages_r)
{
    void *tmp = talloc_new(NULL);
    struct xap_mboxlist_entry *entry = NULL;
    struct xap_mailbox *mailbox = NULL;
    struct old_state old;
    struct index_header h;
    uint32_t *uids;
    unsigned char *index;
    struct cache_writer *cache;
    int r;

    memset(&old, 0, sizeof old);
    *messages_r = 0;
    if (mboxname_validate(name)) {
        r = XAP_IMAP_MAILBOX_BADNAME;
        goto done;
    }
    if ((r = xap_mboxlist_lookup(tmp, name, &entry)))
        goto done;
    mailbox = mailbox_new(name, entry->partition);
    if (!mailbox) {
        r = mailbox_new_failed();
        goto done;
    }
    talloc_steal(tmp, mailbox);
    mailbox->uniqueid = talloc_strdup(mailbox, entry->uniqueid);
    if ((r = xap_mboxname_lock(name, &mailbox->namelock, XAP_LOCK_EXCLUSIVE)))
        goto done;
    if ((r = mkdir_p(mailbox->path, 0700)))
        goto done;
    if (mailbox_read_header(mailbox)) {
        /* Lost user flag names cannot be recovered; the flags' bits are
         * kept and the names start again empty. */
        xlog(LOG_WARNING, "mailbox %s: header file unreadable: user flag names lost", name);
        talloc_free(mailbox->user_flags);
        mailbox->user_flags = talloc_array(mailbox, char *, 0);
        talloc_free(mailbox->uniqueid);
        mailbox->uniqueid = talloc_strdup(mailbox, entry->uniqueid);
    }
    read_old_index(tmp, mailbox, &old);
    uids = scan_files(tmp, mailbox, &old);

    memset(&h, 0, sizeof h);
    h.uidvalidity = entry->uidvalidity;
    h.generation = (old.max_generation > old.h.generation ? old.max_generation
                                                          : old.h.generation) + 1;
    h.highestmodseq = old.have_header ? old.h.highestmodseq : 1;
    h.last_uid = old.have_header ? old.h.last_uid : 0;
    h.last_appenddate = old.have_header ? old.h.last_appenddate : 0;
    for (size_t i = 0; i < talloc_array_length(old.records); i++) {
        if (old.records[i].modseq > h.highestmodseq)
            h.highestmodseq = old.records[i].modseq;
        if (old.records[i].uid > h.last_uid)
            h.last_uid = old.records[i].uid;
    }
    index = talloc_zero_array(tmp, unsigned char, INDEX_HEADER_SIZE);
    if ((r = cache_writer_open(tmp, mailbox_cache_file(tmp, mailbox, h.generation),
                               h.generation, &cache)))
        goto done;

    for (size_t i = 0; i < talloc_array_length(uids); i++) {
        const struct xap_index_record *o = old_record(&old, uids[i]);
        char *path = xap_mailbox_message_path(tmp, mailbox, uids[i]);
        struct message_parsed *parsed = NULL;
        const char *fields[XAP_NUM_CACHE_FIELDS];
        struct xap_index_record rec;
        struct stat st;
        char *buf;
        size_t len;

        if (o && (o->internal_flags & XAP_FLAG_INTERNAL_EXPUNGED)) {
            if (unlink(path) < 0 && errno != ENOENT)
                xlog_syserr("unlink", path);
            continue;
        }
        if (read_file(tmp, path, &buf, &len) < 0 || stat(path, &st) < 0) {
            xlog_syserr("read", path);
            continue;
        }
        if (message_parse(tmp, buf, len, &parsed)) {
            xlog(LOG_ERR, "mailbox %s: %s cannot be parsed: left out", name, path);
            continue;
        }
        memset(&rec, 0, sizeof rec);
        rec.uid = uids[i];
        if (o) {
            rec.internaldate = o->internaldate;
            rec.system_flags = o->system_flags;
            memcpy(rec.user_flags, o->user_flags, sizeof rec.user_flags);
            rec.modseq = o->modseq;
            rec.last_updated = o->last_updated;
        } else {
            rec.internaldate = (int64_t)st.st_mtime;
            rec.modseq = ++h.highestmodseq;
            rec.last_updated = (int64_t)st.st_mtime;
        }
        rec.sentdate = parsed->sentdate;
        rec.size = (uint32_t)len;
        rec.header_size = (uint32_t)parsed->header_size;
        memcpy(rec.guid, parsed->guid, XAP_MESSAGE_GUID_SIZE);
        for (int f = 0; f < XAP_NUM_CACHE_FIELDS; f++)
            fields[f] = parsed->cache[f];
        if ((r = cache_writer_add(cache, fields, &rec.cache_offset, &rec.cache_crc))) {
            talloc_free(buf);
            talloc_free(parsed);
            goto done;
        }
        rec.recno = ++h.num_records;
        if (rec.uid > h.last_uid)
            h.last_uid = rec.uid;
        index = talloc_realloc(tmp, index, unsigned char,
                               INDEX_HEADER_SIZE + (size_t)h.num_records * INDEX_RECORD_SIZE);
        index_record_encode(&rec, index + INDEX_HEADER_SIZE +
                            (size_t)(h.num_records - 1) * INDEX_RECORD_SIZE);
        mailbox_count_record(&h, &rec, +1);
        talloc_free(buf);
        talloc_free(parsed);
    }
    index_header_encode(&h, index);
    mailbox->i = h;

    if ((r = mailbox_write_header(mailbox)))
        goto done;
    if ((r = cache_writer_finish(cache)))
        goto done;
    char *ipath = mailbox_file(tmp, mailbox, FNAME_INDEX);
    if ((r = file_replace(ipath, index, talloc_array_length(index), NULL)))
        goto done;
    mailbox_remove_debris(mailbox);
    *messages_r = h.num_records;
    xlog(LOG_NOTICE, "mailbox %s: reconstructed: %u messages, last UID %u", name,
         h.num_records, h.last_uid);
done:
    if (mailbox)
        xap_mboxname_release(&mailbox->namelock);
    talloc_free(tmp);
    /* The owner's GUID db learns the mailbox anew from what was rebuilt
     * (and is made again if it was lost), under the ordinary locks. */
    if (!r)
        r = guiddb_rebuild_mailbox(name);
    return r;
}
