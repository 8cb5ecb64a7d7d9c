/* mailbox-verify.c - a read-only audit of one mailbox: every CRC (index
 * header and records, header file, cache records), every live record's
 * message file (present, right size, right GUID), the counts, and files
 * that no record names. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/namelock.h"
#include "common/util.h"
#include "mailbox/mailbox-private.h"

struct verify {
    struct xap_mailbox *mailbox;
    xap_mailbox_verify_fn *cb;
    void *rock;
    int problems;
};

static void problem(struct verify *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct verify *v, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = talloc_vasprintf(NULL, fmt, ap);
    va_end(ap);
    v->problems++;
    v->cb(v->rock, v->mailbox->name, msg);
    talloc_free(msg);
}

static void check_message_file(struct verify *v, const struct xap_index_record *rec)
{
    char *path = xap_mailbox_message_path(NULL, v->mailbox, rec->uid);
    char *buf;
    size_t len;
    guint8 digest[20];
    gsize dlen = sizeof digest;

    if (read_file(path, path, &buf, &len) < 0) {
        problem(v, "UID %u: message file %s: %s", rec->uid, path, strerror(errno));
    } else if (len != rec->size) {
        problem(v, "UID %u: message file %s has %zu bytes, the record says %u",
                rec->uid, path, len, rec->size);
    } else {
        GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
        g_checksum_update(sum, (const guchar *)buf, (gssize)len);
        g_checksum_get_digest(sum, digest, &dlen);
        g_checksum_free(sum);
        if (memcmp(digest, rec->guid, XAP_MESSAGE_GUID_SIZE))
            problem(v, "UID %u: message file %s does not match the record's GUID",
                    rec->uid, path);
    }
    talloc_free(path);
}

static int cmp_uid(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Message files no live record names.  LIVE holds the live UIDs, sorted
 * (records are in UID order; sorted again in case the file lies). */
static void check_stray_files(struct verify *v, uint32_t *live, size_t nlive,
                              uint32_t last_uid)
{
    DIR *d = opendir(v->mailbox->path);
    struct dirent *de;

    if (!d) {
        problem(v, "cannot list %s: %s", v->mailbox->path, strerror(errno));
        return;
    }
    qsort(live, nlive, sizeof *live, cmp_uid);
    while ((de = readdir(d))) {
        char *end;
        unsigned long uid = strtoul(de->d_name, &end, 10);
        uint32_t key = (uint32_t)uid;
        if (end == de->d_name || strcmp(end, "."))
            continue;
        if (uid > last_uid)
            problem(v, "file %s/%s: UID above the last UID %u (an interrupted append)",
                    v->mailbox->path, de->d_name, last_uid);
        else if (!bsearch(&key, live, nlive, sizeof *live, cmp_uid))
            problem(v, "file %s/%s: no live record names it", v->mailbox->path, de->d_name);
    }
    closedir(d);
}

int xap_mailbox_verify(const char *name, xap_mailbox_verify_fn *cb, void *rock, int *problems_r)
{
    struct verify v = { NULL, cb, rock, 0 };
    struct index_header counts;
    struct stat st;
    uint32_t *live, nrecords;
    size_t nlive = 0;
    int r;

    *problems_r = 0;
    mailbox_allow_short_index(1);
    r = xap_mailbox_open_irl(name, &v.mailbox);
    mailbox_allow_short_index(0);
    if (r)
        return r;
    counts = v.mailbox->i;
    counts.exists = counts.deleted = counts.answered = counts.flagged = counts.unseen = 0;
    counts.quota_used = 0;
    /* The records the file really holds: a header that claims more is a
     * problem to report once, not billions of reads past the end. */
    nrecords = v.mailbox->i.num_records;
    if (fstat(v.mailbox->index_lock->fd, &st) == 0 && st.st_size >= INDEX_HEADER_SIZE) {
        uint64_t held = ((uint64_t)st.st_size - INDEX_HEADER_SIZE) / INDEX_RECORD_SIZE;
        if (held < nrecords) {
            problem(&v, "index truncated: the header says %u records, the file holds %llu",
                    nrecords, (unsigned long long)held);
            nrecords = (uint32_t)held;
        }
    }
    live = talloc_array(v.mailbox, uint32_t, nrecords ? nrecords : 1);

    for (uint32_t recno = 1; recno <= nrecords; recno++) {
        struct xap_index_record rec;
        r = xap_mailbox_read_index_record(v.mailbox, recno, &rec);
        if (r) {
            problem(&v, "index record %u: %s", recno, xap_error_message(r));
            continue;
        }
        if (rec.uid > v.mailbox->i.last_uid || rec.uid == 0) {
            problem(&v, "index record %u: UID %u out of range", recno, rec.uid);
            continue;
        }
        mailbox_count_record(&counts, &rec, +1);
        if (rec.internal_flags & XAP_FLAG_INTERNAL_UNLINKED)
            continue;
        live[nlive++] = rec.uid;
        if ((r = xap_mailbox_cacherecord(v.mailbox, &rec)))
            problem(&v, "UID %u: cache record: %s", rec.uid, xap_error_message(r));
        check_message_file(&v, &rec);
    }
    if (counts.exists != v.mailbox->i.exists || counts.unseen != v.mailbox->i.unseen ||
        counts.deleted != v.mailbox->i.deleted || counts.flagged != v.mailbox->i.flagged ||
        counts.answered != v.mailbox->i.answered ||
        counts.quota_used != v.mailbox->i.quota_used)
        problem(&v, "index header counts (exists %u, unseen %u, size %llu) do not match "
                "the records (exists %u, unseen %u, size %llu)", v.mailbox->i.exists,
                v.mailbox->i.unseen, (unsigned long long)v.mailbox->i.quota_used,
                counts.exists, counts.unseen, (unsigned long long)counts.quota_used);
    check_stray_files(&v, live, nlive, v.mailbox->i.last_uid);
    xap_mailbox_close(&v.mailbox);
    *problems_r = v.problems;
    return 0;
}
