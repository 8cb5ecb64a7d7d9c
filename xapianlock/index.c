/* index.c - indexing a user's mailboxes into the first database of the
 * user's search tiers (see index.h for the calling sequence and the
 * locking, docs/FORMAT.md "Xapian document schema" for what is written).
 *
 * The indexed state of a mailbox is the union, over every tier, of the
 * metadata "indexed.UNIQUEID" (UID ranges): the UIDs indexed, and those a
 * scan found gone (expunged, or never a record).  A mailbox whose state
 * covers 1 to its last UID is not read at all.  A batch is at most
 * search_batchsize messages; it writes their documents and the new ranges
 * of every mailbox it touched in one Xapian transaction, so after a crash
 * the state never claims a message that is not there, and the next run
 * resumes after the last committed batch.  Under the write lock, a GUID
 * the database has is only marked, never written twice.  Documents are
 * built in index-docs.c; a backlog of more than a batch may be shared
 * with side writers (index-side.c). */
#include <config.h>

#include <errno.h>
#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/util.h"
#include "common/xlog.h"
#include "cwrap/xapian_wrap.h"
#include "mailbox/guiddb.h"
#include "mailbox/message.h"
#include "xapianlock/index.h"
#include "xapianlock/index-private.h"
#include "xapianlock/uidset.h"
#include "xapianlock/xapianlock-private.h"


static int read_indexed(struct indexer *ix, const char *uniqueid, struct uidset **set_r);

/* QUIET: a lost database was reported by indexer_begin already.  DBR_R:
 * the databases opened too (NULL: not). */
static int begin_search(const struct indexer *ix, int quiet, struct xap_xapianlock **xl_r,
                        struct xw_dbr **dbr_r)
{
    if (ix->flags & INDEXER_AUDIT)
        return xapianlock_begin_search_partial(NULL, ix->userid, quiet, xl_r, dbr_r);
    if (dbr_r)
        return xapianlock_begin_search_open(NULL, ix->userid, xl_r, dbr_r);
    return xap_xapianlock_begin_search(NULL, ix->userid, xl_r);
}

int indexer_begin(void *ctx, const char *userid, int flags, struct indexer **ix_r)
{
    struct indexer *ix = talloc_zero(ctx, struct indexer);
    struct xap_xapianlock *xl = NULL;
    int r;

    ix->userid = talloc_strdup(ix, userid);
    ix->flags = flags;
    ix->batchsize = config_search_batchsize(NULL);
    if (!ix->batchsize)
        ix->batchsize = 1000;
    ix->writers = 1;
    ix->batch = talloc_array(ix, struct indexer_msg, 0);
    ix->known = talloc_array(ix, struct known, 0);
    /* Fail early, naming the cause, on a user without a mailbox, a bad
     * xapianactive or an unreadable or lost tier.  An audit goes on
     * without a lost one, and reports its mail as unindexed. */
    if ((r = begin_search(ix, 0, &xl, NULL))) {
        talloc_free(ix);
        return r;
    }
    /* Kept open for the run: each mailbox with mail must be in it, or a
     * search would miss what we index (guiddb_check_mailbox). */
    r = guiddb_open(ix, userid, 0, &ix->gdb);
    if (r && r != XAP_IMAP_NOTFOUND) {
        xap_xapianlock_end(&xl);
        talloc_free(ix);
        return r;
    }
    ix->lost = talloc_array(ix, char *, 0);
    for (const char *const *l = xapianlock_lost(xl); *l; l++) {
        size_t n = talloc_array_length(ix->lost);
        ix->lost = talloc_realloc(ix, ix->lost, char *, n + 1);
        ix->lost[n] = talloc_strdup(ix->lost, *l);
    }
    xap_xapianlock_end(&xl);
    *ix_r = ix;
    return 0;
}

void indexer_set_writers(struct indexer *ix, unsigned writers)
{
    /* -Z asks the first database about every message: one writer. */
    ix->writers = (ix->flags & (INDEXER_RECHECK | INDEXER_AUDIT)) || writers < 1 ? 1
                  : writers > INDEXER_MAX_WRITERS ? INDEXER_MAX_WRITERS : writers;
}

void indexer_set_progress(struct indexer *ix, indexer_progress_fn *fn, void *rock)
{
    ix->progress = fn;
    ix->progress_rock = rock;
}

void indexer_report(struct indexer *ix, unsigned long extra)
{
    if (ix->progress)
        ix->progress(ix->progress_rock, ix->stats.indexed + ix->stats.copies + extra);
}

void indexer_set_audit(struct indexer *ix, indexer_audit_fn *fn, void *rock)
{
    ix->audit = fn;
    ix->audit_rock = rock;
}

size_t indexer_lost(const struct indexer *ix, const char *const **lost_r)
{
    *lost_r = (const char *const *)ix->lost;
    return talloc_array_length(ix->lost);
}

const struct indexer_stats *indexer_stats(const struct indexer *ix)
{
    return &ix->stats;
}

/* ------------------------------------------------------------ indexed state */

/* The cache entry of UNIQUEID, or NULL before read_indexed made it. */
static struct known *known_of(const struct indexer *ix, const char *uniqueid)
{
    for (size_t i = 0; i < talloc_array_length(ix->known); i++)
        if (!strcmp(ix->known[i].uniqueid, uniqueid))
            return &ix->known[i];
    return NULL;
}

int indexer_read_state(struct xw_dbr *dbr, const char *const *paths, unsigned n,
                       const char *userid, const char *uniqueid, struct uidset *set)
{
    void *tmp = talloc_new(NULL);
    char *key = talloc_asprintf(tmp, SCHEMA_INDEXED_KEY "%s", uniqueid), *val;
    int r = 0;

    for (unsigned i = 0; i < n && !r; i++) {
        struct uidset *one;
        if ((r = xw_dbr_get_metadata(dbr, i, tmp, key, &val)))
            break;
        if (!*val)
            continue;
        if (uidset_parse(tmp, val, strlen(val), &one)) {
            xlog(LOG_ERR, "user %s: %s: metadata %s is corrupt", userid, paths[i], key);
            r = XAP_IMAP_SEARCH_CORRUPT;
            break;
        }
        uidset_union(set, one);
    }
    talloc_free(tmp);
    return r;
}

/* Reads the union of "indexed.UNIQUEID" over every tier, under the search
 * locks.  An unreadable tier is an error, never an empty state (that
 * would reindex everything into the first tier). */
static int read_indexed(struct indexer *ix, const char *uniqueid, struct uidset **set_r)
{
    struct xap_xapianlock *xl = NULL;
    struct xw_dbr *dbr = NULL;
    struct uidset *set;
    const char *const *paths;
    struct known *k = known_of(ix, uniqueid);
    unsigned n = 0;
    int r;

    if (k) {
        *set_r = k->set;
        return 0;
    }
    if ((r = begin_search(ix, 1, &xl, &dbr)))
        return r;
    set = uidset_new(ix);
    paths = xap_xapianlock_paths(xl);
    while (paths[n])
        n++;
    if (n)
        r = indexer_read_state(dbr, paths, n, ix->userid, uniqueid, set);
    xap_xapianlock_end(&xl);
    if (r) {
        talloc_free(set);
        return r;
    }
    size_t nk = talloc_array_length(ix->known);
    ix->known = talloc_realloc(ix, ix->known, struct known, nk + 1);
    ix->known[nk].uniqueid = talloc_strdup(ix->known, uniqueid);
    ix->known[nk].set = talloc_steal(ix->known, set);
    ix->known[nk].gone = uidset_new(ix->known);
    *set_r = set;
    return 0;
}

/* ------------------------------------------------------------ collecting */

/* Appends REC of MAILBOX to the talloc array *MSGS. */
static void queue_msg(struct indexer_msg **msgs, struct xap_mailbox *mailbox,
                      const struct xap_index_record *rec)
{
    size_t b = talloc_array_length(*msgs);
    struct indexer_msg *p;

    *msgs = talloc_realloc(NULL, *msgs, struct indexer_msg, b + 1);
    p = &(*msgs)[b];
    if (b && !strcmp(p[-1].uniqueid, xap_mailbox_uniqueid(mailbox)) &&
        !strcmp(p[-1].mailbox, xap_mailbox_name(mailbox))) {
        /* the same mailbox as the message before: one copy of its names
         * for the whole run of its messages (the array owns them all) */
        p->mailbox = p[-1].mailbox;
        p->uniqueid = p[-1].uniqueid;
    } else {
        p->mailbox = talloc_strdup(*msgs, xap_mailbox_name(mailbox));
        p->uniqueid = talloc_strdup(*msgs, xap_mailbox_uniqueid(mailbox));
    }
    p->path = xap_mailbox_message_path(*msgs, mailbox, rec->uid);
    p->uid = rec->uid;
    memcpy(p->guid, rec->guid, XAP_MESSAGE_GUID_SIZE);
    p->internaldate = rec->internaldate;
    p->size = rec->size;
}

int indexer_collect_indexed(struct xap_mailbox *mailbox, const struct uidset *set,
                            struct indexer_msg **msgs)
{
    struct xap_mailbox_iter *iter = xap_mailbox_iter_init(mailbox, 0, XAP_ITER_SKIP_EXPUNGED);
    const struct xap_index_record *rec;
    int r;

    while ((rec = xap_mailbox_iter_step(iter)))
        if (uidset_contains(set, rec->uid))
            queue_msg(msgs, mailbox, rec);
    r = xap_mailbox_iter_error(iter);
    xap_mailbox_iter_done(&iter);
    return r;
}

/* Under MAILBOX's shared index lock: the UIDs of the live records not in
 * SET (all of them with INDEXER_RECHECK), for counting and auditing. */
static int collect(struct indexer *ix, struct xap_mailbox *mailbox, const struct uidset *set,
                   uint32_t **uids_r)
{
    struct xap_mailbox_iter *iter = xap_mailbox_iter_init(mailbox, 0, XAP_ITER_SKIP_EXPUNGED);
    const struct xap_index_record *rec;
    uint32_t *uids = talloc_array(ix, uint32_t, 0);
    int r;

    while ((rec = xap_mailbox_iter_step(iter))) {
        if (!(ix->flags & INDEXER_RECHECK) && uidset_contains(set, rec->uid))
            continue;
        size_t n = talloc_array_length(uids);
        uids = talloc_realloc(ix, uids, uint32_t, n + 1);
        uids[n] = rec->uid;
    }
    r = xap_mailbox_iter_error(iter);
    xap_mailbox_iter_done(&iter);
    if (r) {
        talloc_free(uids);
        return r;
    }
    *uids_r = uids;
    return 0;
}

/* Opens MAILBOX for reading and reads its indexed state. */
static int open_mailbox(struct indexer *ix, const char *name, struct xap_mailbox **mb_r,
                        struct uidset **set_r)
{
    int r = xap_mailbox_open_irl(name, mb_r);

    if (r)
        return r;
    /* A GUID db left behind by a failed commit is caught up before
     * anything is marked indexed: a search maps what it finds to live
     * copies through the GUID db only.  An audit writes nothing: it
     * reports it. */
    if ((r = guiddb_check_mailbox(ix->gdb, ix->userid, name, xap_mailbox_uniqueid(*mb_r),
                                  xap_mailbox_last_uid(*mb_r))) ||
        (r = guiddb_catch_up(ix->gdb, ix->userid, *mb_r, !(ix->flags & INDEXER_AUDIT))) ||
        (r = read_indexed(ix, xap_mailbox_uniqueid(*mb_r), set_r)))
        xap_mailbox_close(mb_r);
    return r;
}

int indexer_count_pending(struct indexer *ix, const char *name, unsigned long *n_r)
{
    struct xap_mailbox *mailbox = NULL;
    struct uidset *set;
    uint32_t *uids;
    int r;

    if ((r = open_mailbox(ix, name, &mailbox, &set)))
        return r;
    if (uidset_covers(set, 1, xap_mailbox_last_uid(mailbox))) {
        xap_mailbox_close(&mailbox);
        *n_r = 0;
        return 0;
    }
    r = collect(ix, mailbox, set, &uids);
    xap_mailbox_close(&mailbox);
    if (!r) {
        *n_r = talloc_array_length(uids);
        talloc_free(uids);
    }
    return r;
}

/* Queues REC unless it is expunged or indexed (SET); *AFTER becomes its
 * UID, where the next pass resumes.  UIDs that will never be a message
 * again go into GONE: an expunged record's, and those between two
 * records (records are in UID order, and a UID is never given twice). */
static void consider(struct indexer *ix, struct xap_mailbox *mailbox, const struct uidset *set,
                     struct uidset *gone, const struct xap_index_record *rec, uint32_t *after)
{
    if (rec->uid > *after + 1)
        uidset_add_range(gone, *after + 1, rec->uid - 1);
    *after = rec->uid;
    if (rec->internal_flags & XAP_FLAG_INTERNAL_EXPUNGED) {
        uidset_add(gone, rec->uid);
        return;
    }
    if (!(ix->flags & INDEXER_RECHECK) && uidset_contains(set, rec->uid))
        return;
    queue_msg(&ix->batch, mailbox, rec);
}

/* With several writers a run collects a chunk of INDEXER_CHUNK_BATCHES
 * batches per writer before it writes: each chunk costs a new database
 * per side writer (index-side.c), so chunks are large. */
static int batch_full(const struct indexer *ix)
{
    size_t limit = ix->writers > 1 ? (size_t)ix->batchsize * ix->writers * INDEXER_CHUNK_BATCHES
                                   : ix->batchsize;
    return talloc_array_length(ix->batch) >= limit;
}

/* Under MAILBOX's shared index lock: queues the unindexed live records
 * with a UID above *AFTER until the batch is full; *MORE says whether
 * records are left.  The first pass reads the records in chunks; a
 * resumed one finds where to start by bisection (records are in UID
 * order), so a mailbox of N messages costs N reads, not N^2/batch. */
static int collect_batch(struct indexer *ix, struct xap_mailbox *mailbox, const struct uidset *set,
                         struct uidset *gone, uint32_t *after, int *more)
{
    uint32_t n = xap_mailbox_num_records(mailbox), lo = 1, hi = n + 1;
    struct xap_index_record rec;
    int r = 0;

    *more = 0;
    if (!*after) {
        struct xap_mailbox_iter *iter = xap_mailbox_iter_init(mailbox, 0, 0);
        const struct xap_index_record *p;
        while (!(*more = batch_full(ix)) && (p = xap_mailbox_iter_step(iter)))
            consider(ix, mailbox, set, gone, p, after);
        if (*more)   /* full: was that the last record? */
            *more = xap_mailbox_iter_step(iter) != NULL;
        r = xap_mailbox_iter_error(iter);
        xap_mailbox_iter_done(&iter);
        return r;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((r = xap_mailbox_read_index_record(mailbox, mid, &rec)))
            return r;
        if (rec.uid <= *after)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo <= n && !(*more = batch_full(ix)); lo++) {
        if ((r = xap_mailbox_read_index_record(mailbox, lo, &rec)))
            return r;
        consider(ix, mailbox, set, gone, &rec, after);
    }
    return 0;
}

/* Batches of search_batchsize: the mailbox is opened, read up to a full
 * batch, and closed before each flush (no mailbox lock is held while the
 * Xapian locks are), then reopened to resume after the last UID looked
 * at.  So at most one batch of messages is in memory, and a message that
 * failed is not retried within this run. */
int indexer_mailbox(struct indexer *ix, const char *name)
{
    struct xap_mailbox *mailbox = NULL;
    struct uidset *set;
    uint32_t *uids = NULL, after = 0;
    char *uniqueid = NULL;
    int r, more = 1;

    if (ix->flags & INDEXER_AUDIT) {
        if ((r = open_mailbox(ix, name, &mailbox, &set)))
            return r;
        r = collect(ix, mailbox, set, &uids);
        xap_mailbox_close(&mailbox);
        if (r)
            return r;
        ix->stats.mailboxes++;
        if (talloc_array_length(uids) && ix->audit)
            ix->audit(ix->audit_rock, name, uids, talloc_array_length(uids));
        talloc_free(uids);
        return 0;
    }
    while (more) {
        struct known *k;
        if ((r = open_mailbox(ix, name, &mailbox, &set)))
            break;
        if (!uniqueid) {
            uniqueid = talloc_strdup(ix, xap_mailbox_uniqueid(mailbox));
            ix->stats.mailboxes++;
            if (!(ix->flags & INDEXER_RECHECK) &&
                uidset_covers(set, 1, xap_mailbox_last_uid(mailbox))) {
                /* every UID it ever gave is indexed or gone: nothing to
                 * read (what makes a run with nothing new cheap) */
                ix->stats.unchanged++;
                xap_mailbox_close(&mailbox);
                break;
            }
        } else if (strcmp(uniqueid, xap_mailbox_uniqueid(mailbox))) {
            /* deleted and created again meanwhile: the next run */
            xap_mailbox_close(&mailbox);
            break;
        }
        k = known_of(ix, uniqueid);
        r = collect_batch(ix, mailbox, set, k->gone, &after, &more);
        if (!r && !more && xap_mailbox_last_uid(mailbox) > after)
            uidset_add_range(k->gone, after + 1, xap_mailbox_last_uid(mailbox));
        xap_mailbox_close(&mailbox);
        if (r || (batch_full(ix) && (r = indexer_flush(ix))))
            break;
    }
    talloc_free(uniqueid);
    return r;
}

/* ------------------------------------------------------------ flushing */

/* The new UIDs of each mailbox among the N messages MSGS (those DONE),
 * merged with what DBW already says (another squatter may have written
 * since this one read), set in DBW's open transaction.  Touches nothing
 * but DBW: a side writer's thread calls it too. */
int indexer_write_state(const struct indexer *ix, const char *userid,
                        const struct indexer_msg *msgs, size_t n, struct xw_dbw *dbw,
                        const uint8_t *done)
{
    void *tmp = talloc_new(NULL);
    int r = 0;

    for (size_t i = 0; i < n && !r; i++) {
        const char *uid = msgs[i].uniqueid;
        struct uidset *set;
        char *key, *val;
        size_t j;
        /* first entry of this mailbox? */
        for (j = 0; j < i && strcmp(msgs[j].uniqueid, uid); j++)
            ;
        if (j < i)
            continue;
        key = talloc_asprintf(tmp, SCHEMA_INDEXED_KEY "%s", uid);
        if ((r = xw_dbw_get_metadata(dbw, tmp, key, &val)))
            break;
        if (!*val)
            set = uidset_new(tmp);
        else if (uidset_parse(tmp, val, strlen(val), &set)) {
            xlog(LOG_ERR, "user %s: metadata %s is corrupt: rewritten", userid, key);
            set = uidset_new(tmp);
        }
        for (j = i; j < n; j++)
            if (done[j] && !strcmp(msgs[j].uniqueid, uid))
                uidset_add(set, msgs[j].uid);
        struct known *k = ix ? known_of(ix, uid) : NULL;
        if (k)
            uidset_union(set, k->gone);
        r = xw_dbw_set_metadata(dbw, key, uidset_format(tmp, set));
    }
    talloc_free(tmp);
    return r;
}

/* Keeps this run's view of the indexed state in step with what it wrote,
 * so a mailbox resumed later in the run skips it. */
void indexer_note_done(struct indexer *ix, const struct indexer_msg *msgs, size_t n,
                       const uint8_t *done)
{
    for (size_t i = 0; i < n; i++) {
        struct known *k = done[i] ? known_of(ix, msgs[i].uniqueid) : NULL;
        if (k)
            uidset_add(k->set, msgs[i].uid);
    }}

int indexer_known_guids(const char *userid, const struct indexer_msg *msgs, size_t n,
                        uint8_t *have)
{
    struct xap_xapianlock *xl = NULL;
    struct xw_dbr *dbr = NULL;
    int r;

    if ((r = xapianlock_begin_search_open(NULL, userid, &xl, &dbr)))
        return r;
    if (dbr) {
        /* In GUID order: a chunk's 128,000 GUIDs looked up in UID order,
         * each in a random block of every database, took 3 s once the
         * databases held 770,000 (a core idle meanwhile); now 0.13 s. */
        size_t *order = indexer_guid_order(NULL, msgs, n);
        for (size_t k = 0; k < n && !r; k++) {
            size_t i = order[k];
            char hex[41];
            int yes = 0;
            message_guid_hex(msgs[i].guid, hex);
            r = xw_dbr_has_guid(dbr, hex, &yes);
            have[i] = (uint8_t)yes;
        }
        talloc_free(order);
    }
    xap_xapianlock_end(&xl);
    return r;
}

void indexer_stats_add(struct indexer_stats *to, const struct indexer_stats *from)
{
    to->indexed += from->indexed;
    to->copies += from->copies;
    to->skipped += from->skipped;
    to->failed += from->failed;
    to->bytes += from->bytes;
    to->batches += from->batches;
}

int indexer_flush_first(struct indexer *ix, const struct indexer_msg *msgs, size_t n,
                        uint8_t *done)
{
    return indexer_flush_first_from(ix, NULL, 0, msgs, n, done);
}

int indexer_flush_first_from(struct indexer *ix, struct docstream *st, size_t off,
                             const struct indexer_msg *msgs, size_t n, uint8_t *done)
{
    struct xap_xapianlock *xl = NULL;
    struct xw_dbw *dbw = NULL;
    uint8_t *have = NULL;
    void *tmp;
    int r;

    if (!n)
        return 0;
    tmp = talloc_new(NULL);
    /* -Z asks Xapian itself: a GUID any tier has is indexed (after a
     * compaction or a run with side writers the first database is not
     * the only one with documents). */
    if (ix->flags & INDEXER_RECHECK) {
        have = talloc_zero_array(tmp, uint8_t, n);
        if ((r = indexer_known_guids(ix->userid, msgs, n, have)))
            goto out;
    }
    /* Searches go on while the documents are made, added and committed:
     * they see the last commit, whose blocks this batch does not reuse;
     * the writer lock keeps the database ours (docs/LOCKING.md "Searches
     * while a batch is written"). */
    if ((r = xapianlock_begin_batch(tmp, ix->userid, tmp, &xl, &dbw)) ||
        (r = xw_dbw_begin(dbw)))
        goto out;
    r = st ? docstream_write(ix->userid, st, off, msgs, n, have, dbw, done, &ix->stats)
           : indexer_write_docs(ix->userid, msgs, n, have, dbw, done, &ix->stats);
    if (!r)
        r = indexer_write_state(ix, ix->userid, msgs, n, dbw, done);
    fault_point("index.batch.1");
    if (!r)
        r = xw_dbw_commit(dbw);
    else
        xw_dbw_cancel(dbw);
    if (!r)
        r = xw_dbw_close(&dbw);
    if (!r) {
        ix->stats.batches++;
        fault_point("index.batch.2");
    }
out:
    if (dbw)
        xw_dbw_close(&dbw);
    if (xl)
        xap_xapianlock_end(&xl);
    talloc_free(tmp);
    return r;
}

int indexer_flush_serial(struct indexer *ix, const struct indexer_msg *msgs, size_t n,
                         uint8_t *done, unsigned long (*others)(void *rock), void *rock)
{
    int r = 0;

    for (size_t i = 0; i < n && !r; i += ix->batchsize) {
        size_t k = n - i < ix->batchsize ? n - i : ix->batchsize;
        r = indexer_flush_first(ix, msgs + i, k, done + i);
        indexer_report(ix, others ? others(rock) : 0);
    }
    return r;
}

int indexer_flush(struct indexer *ix)
{
    size_t n = talloc_array_length(ix->batch);
    uint8_t *done;
    int r = 0;

    if (!n)
        return 0;
    done = talloc_zero_array(NULL, uint8_t, n);
    if (ix->writers > 1 && n > ix->batchsize)
        r = indexer_flush_parallel(ix, ix->batch, n, done);
    else if (!(r = indexer_clean_side_debris(ix)))
        r = indexer_flush_serial(ix, ix->batch, n, done, NULL, NULL);
    indexer_note_done(ix, ix->batch, n, done);
    talloc_free(done);
    /* The batch is spent either way: what failed was not marked indexed,
     * so the next run collects it again. */
    talloc_free(ix->batch);
    ix->batch = talloc_array(ix, struct indexer_msg, 0);
    return r;
}

int indexer_end(struct indexer **ixp)
{
    int r = 0;

    if (*ixp) {
        if (!((*ixp)->flags & INDEXER_AUDIT))
            r = indexer_flush(*ixp);
        talloc_free(*ixp);
        *ixp = NULL;
    }
    return r;
}
