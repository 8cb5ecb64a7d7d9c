/* compact-reindex.c - -X and -T of compact_dbs: see compact-reindex.h. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "common/config.h"
#include "common/xlog.h"
#include "cwrap/xapian_wrap.h"
#include "xapianlock/compact-reindex.h"
#include "xapianlock/tierlist.h"
#include "xapianlock/xapianlock-private.h"

/* Whether the -T item SPEC ("TIER" or "TIER:N") names IT. */
static int item_matches(const char *spec, const struct activeitem *it)
{
    size_t tl = strlen(it->tier);
    char *end;

    if (strncmp(spec, it->tier, tl))
        return 0;
    if (!spec[tl])
        return 1;
    return spec[tl] == ':' && spec[tl + 1] >= '0' && spec[tl + 1] <= '9' &&
           strtoul(spec + tl + 1, &end, 10) == it->gen && !*end;
}

int compact_is_reindexed(const struct activeitem *it, const char *const *reindex, int flags)
{
    if (flags & COMPACT_REINDEX)
        return 1;
    for (size_t i = 0; reindex && reindex[i]; i++)
        if (item_matches(reindex[i], it))
            return 1;
    return 0;
}

/* Every -T item names a source: its tier is one of SRCTIERS, and a TIER:N
 * is listed in ITEMS.  (A bare TIER may match nothing for this user.) */
int compact_check_reindex_items(const char *userid, const struct activeitem *items,
                               const char *const *srctiers, const char *const *reindex)
{
    for (size_t i = 0; reindex && reindex[i]; i++) {
        const char *spec = reindex[i];
        size_t tl = strcspn(spec, ":");
        int known = 0, found = 0;
        for (size_t t = 0; srctiers[t]; t++)
            known |= strlen(srctiers[t]) == tl && !strncmp(srctiers[t], spec, tl);
        for (size_t k = 0; k < talloc_array_length(items); k++)
            found |= item_matches(spec, &items[k]);
        if (!known || (spec[tl] && !found)) {
            xlog(LOG_ERR, "user %s: -T item '%s': %s", userid, spec,
                 known ? "no such database in xapianactive" : "not one of the -t tiers");
            return known ? XAP_IMAP_NOTFOUND : XAP_IMAP_INVALID_ARGUMENT;
        }
    }
    return 0;
}


static int plan_mailbox(const struct xap_mboxlist_entry *e, void *rock)
{
    struct plan *pl = rock;
    size_t n = talloc_array_length(pl->names);

    if (e->type != XAP_MBTYPE_NORMAL)
        return 0;
    pl->names = talloc_realloc(NULL, pl->names, char *, n + 1);
    pl->uniqueids = talloc_realloc(NULL, pl->uniqueids, char *, n + 1);
    pl->names[n] = talloc_strdup(pl->names, e->name);
    pl->uniqueids[n] = talloc_strdup(pl->uniqueids, e->uniqueid);
    return 0;
}

/* The indexed state of each of the user's mailboxes in RDIRS (the
 * reindexed sources), read under SHARED namelock + READ lock after
 * checking that xapianactive is still FROZEN (else XAP_IMAP_AGAIN).  The
 * Xapian locks are released before returning: mailboxes come next. */
int compact_plan_state(void *ctx, const char *userid, const char *frozen, char **rdirs,
                      struct plan *pl)
{
    void *tmp = talloc_new(NULL);
    char *root = talloc_asprintf(tmp, "user.%s", userid);
    const char **have = talloc_array(tmp, const char *, talloc_array_length(rdirs));
    struct xap_mboxlock *lock = NULL;
    struct activefile *af = NULL;
    struct xw_dbr *dbr = NULL;
    unsigned nhave = 0;
    size_t n;
    int r;

    pl->names = talloc_array(ctx, char *, 0);
    pl->uniqueids = talloc_array(ctx, char *, 0);
    pl->msgs = talloc_array(ctx, struct indexer_msg, 0);
    if ((r = xap_mboxlist_foreach(root, XAP_MBOXLIST_TREE, plan_mailbox, pl)))
        goto out;
    n = talloc_array_length(pl->names);
    pl->sets = talloc_zero_array(ctx, struct uidset *, n);
    if ((r = xapianlock_namelock(userid, XAP_LOCK_SHARED, &lock)) ||
        (r = activefile_lock(tmp, userid, 0, &af)))
        goto out;
    if (strcmp(activefile_format(tmp, af->items), frozen)) {
        xlog(LOG_NOTICE, "user %s: xapianactive changed before step 3: another "
             "compaction won", userid);
        r = XAP_IMAP_AGAIN;
        goto out;
    }
    for (size_t i = 0; i < talloc_array_length(rdirs); i++)
        if (!tierlist_dir_unbuilt(rdirs[i]))   /* never written: no state */
            have[nhave++] = rdirs[i];
    if (nhave && (r = xw_dbr_open(tmp, have, nhave, &dbr)))
        goto out;
    for (size_t m = 0; m < n && nhave; m++) {
        char *key = talloc_asprintf(tmp, SCHEMA_INDEXED_KEY "%s", pl->uniqueids[m]);
        pl->sets[m] = uidset_new(pl->sets);
        for (unsigned i = 0; i < nhave; i++) {
            struct uidset *one;
            char *val;
            if ((r = xw_dbr_get_metadata(dbr, i, tmp, key, &val)))
                goto out;
            if (!*val)
                continue;
            if (uidset_parse(tmp, val, strlen(val), &one)) {
                xlog(LOG_ERR, "user %s: %s: metadata %s is corrupt", userid, have[i], key);
                r = XAP_IMAP_SEARCH_CORRUPT;
                goto out;
            }
            uidset_union(pl->sets[m], one);
        }
    }
out:
    if (af)
        activefile_unlock(&af);
    if (lock)
        xap_mboxname_release(&lock);
    talloc_free(tmp);
    return r;
}

/* The live messages of each mailbox whose state is not empty, read under
 * the mailbox's SHARED locks with no Xapian lock held (docs/LOCKING.md).
 * A mailbox is found by uniqueid, so a rename meanwhile does not lose it;
 * one deleted meanwhile is gone, and its state with it. */
int compact_plan_messages(const char *userid, struct plan *pl)
{
    for (size_t m = 0; m < talloc_array_length(pl->names); m++) {
        struct xap_mboxlist_entry *e = NULL;
        struct xap_mailbox *mb = NULL;
        int r;
        if (!pl->sets[m] || !uidset_count(pl->sets[m]))
            continue;
        r = xap_mboxlist_lookup_by_uniqueid(NULL, pl->uniqueids[m], &e);
        if (!r)
            r = xap_mailbox_open_irl(e->name, &mb);
        if (!r && strcmp(xap_mailbox_uniqueid(mb), pl->uniqueids[m]))
            r = XAP_IMAP_MAILBOX_NONEXISTENT;     /* deleted and recreated */
        if (!r)
            r = indexer_collect_indexed(mb, pl->sets[m], &pl->msgs);
        xap_mailbox_close(&mb);
        if (r == XAP_IMAP_MAILBOX_NONEXISTENT) {
            talloc_free(pl->sets[m]);
            pl->sets[m] = NULL;
            r = 0;
        }
        if (r) {
            xlog(LOG_ERR, "user %s: mailbox %s: cannot read it to reindex: %s", userid,
                 e ? e->name : pl->names[m], xap_error_message(r));
            talloc_free(e);
            return r;
        }
        talloc_free(e);
    }
    return 0;
}

/* Takes out of PL's state the messages step 5 did not write (DONE[i] 0):
 * their file was gone.  An expunge unlinks it, and then the message is
 * gone too; but a rename of the folder since the plan moved it, and the
 * state must not claim a document that was never written: the message
 * stays unindexed, `squatter -A` reports it and the next run indexes it.
 * (Messages appended since the plan are in no source's state at all.) */
static void unclaim_unwritten(const struct plan *pl, const uint8_t *done)
{
    for (size_t i = 0; i < talloc_array_length(pl->msgs); i++) {
        const struct indexer_msg *p = &pl->msgs[i];
        for (size_t m = 0; !done[i] && m < talloc_array_length(pl->uniqueids); m++)
            if (pl->sets[m] && !strcmp(pl->uniqueids[m], p->uniqueid)) {
                uidset_remove(pl->sets[m], p->uid);
                break;
            }
    }
}

/* Step 5 with reindexing: PL's messages indexed into NEWDIR (created
 * empty, or holding the copied sources), a commit per search_batchsize
 * messages (nobody reads a .NEW), then the state of each mailbox: what
 * NEWDIR has from the copied sources united with the reindexed sources',
 * less what was not written (unclaim_unwritten). */
int compact_reindex_into(const char *userid, const char *newdir, struct plan *pl,
                        struct compact_stats *st)
{
    void *tmp = talloc_new(NULL);
    size_t n = talloc_array_length(pl->msgs), batch = config_search_batchsize(NULL);
    uint8_t *done = talloc_zero_array(tmp, uint8_t, n);
    struct indexer_stats ixst;
    struct xw_dbw *dbw = NULL;
    int r;

    memset(&ixst, 0, sizeof ixst);
    if (!batch)
        batch = 1000;
    /* Private until step 8; build_target syncs it once. */
    /* the compaction's target: its tags as a compaction stores them */
    r = xw_dbw_open(tmp, newdir, XW_CREATE | XW_NO_SYNC | XW_DEFLATE, &dbw);
    for (size_t off = 0; !r && off < n; off += batch) {
        size_t k = n - off < batch ? n - off : batch;
        if (!(r = indexer_write_docs(userid, pl->msgs + off, k, NULL, dbw, done + off, &ixst)))
            r = xw_dbw_commit(dbw);
    }
    if (!r)
        unclaim_unwritten(pl, done);
    for (size_t m = 0; !r && m < talloc_array_length(pl->names); m++) {
        struct uidset *set;
        char *key, *val;
        if (!pl->sets[m] || !uidset_count(pl->sets[m]))
            continue;
        key = talloc_asprintf(tmp, SCHEMA_INDEXED_KEY "%s", pl->uniqueids[m]);
        if ((r = xw_dbw_get_metadata(dbw, tmp, key, &val)))
            break;
        if (!*val)
            set = uidset_new(tmp);
        else if (uidset_parse(tmp, val, strlen(val), &set)) {
            xlog(LOG_ERR, "user %s: %s: metadata %s is corrupt", userid, newdir, key);
            r = XAP_IMAP_SEARCH_CORRUPT;
            break;
        }
        uidset_union(set, pl->sets[m]);
        r = xw_dbw_set_metadata(dbw, key, uidset_format(tmp, set));
    }
    if (!r)
        st->docs = xw_dbw_doccount(dbw);
    if (dbw && !r)
        r = xw_dbw_close(&dbw);
    st->reindexed = ixst.indexed;
    st->vanished = ixst.skipped;
    talloc_free(tmp);
    return r;
}

