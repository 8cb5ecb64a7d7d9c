/* unindexed.c - see unindexed.h.
 *
 * States of a struct unindexed
 *   listed   the user's mailboxes (name, uniqueid) from mailboxes.db
 *   read     + each one's indexed state and GUID db row, under the
 *            search's locks
 *   counted  each mailbox read in turn, no other lock held: its last
 *            commit read without the index lock, or under it SHARED
 *            when that read cannot be believed */
#include <config.h>

#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/mboxlist.h"
#include "common/mboxname.h"
#include "mailbox/guiddb.h"
#include "mailbox/snapshot.h"
#include "xapianlock/index.h"
#include "xapianlock/uidset.h"
#include "xapianlock/unindexed.h"
#include "xapianlock/xapianlock-private.h"

struct one {
    char *name;
    char *uniqueid;
    struct uidset *set;           /* indexed or gone, over every tier */
    uint64_t synced;              /* the GUID db's row (0: none) */
};

struct unindexed {
    char *userid;
    struct one *mb;               /* talloc array */
};

static int list_one(const struct xap_mboxlist_entry *e, void *rock)
{
    struct unindexed *u = rock;
    size_t n = talloc_array_length(u->mb);

    if (e->type != XAP_MBTYPE_NORMAL)
        return 0;
    u->mb = talloc_realloc(u, u->mb, struct one, n + 1);
    u->mb[n].name = talloc_strdup(u->mb, e->name);
    u->mb[n].uniqueid = talloc_strdup(u->mb, e->uniqueid);
    u->mb[n].set = NULL;
    u->mb[n].synced = 0;
    return 0;
}

int unindexed_list(void *ctx, const char *userid, struct unindexed **u_r)
{
    struct unindexed *u = talloc_zero(ctx, struct unindexed);
    char *root = talloc_asprintf(u, "user.%s", userid);
    int r;

    *u_r = NULL;
    u->userid = talloc_strdup(u, userid);
    u->mb = talloc_array(u, struct one, 0);
    if ((r = xap_mboxlist_foreach(root, XAP_MBOXLIST_TREE, list_one, u))) {
        talloc_free(u);
        return r;
    }
    *u_r = u;
    return 0;
}

int unindexed_read(struct unindexed *u, struct guiddb *gdb, struct xw_dbr *dbr,
                   const char *const *paths, unsigned n)
{
    int r = 0;

    for (size_t i = 0; i < talloc_array_length(u->mb) && !r; i++) {
        struct one *m = &u->mb[i];
        m->set = uidset_new(u->mb);
        if (gdb && (r = guiddb_get_synced(gdb, m->uniqueid, &m->synced)))
            break;
        if (n)
            r = indexer_read_state(dbr, paths, n, u->userid, m->uniqueid, m->set);
    }
    return r;
}

/* The live records of MAILBOX whose UID is not in SET, added to *N_R.
 * Those below SET's first gap are all in it, and need not be read: the
 * search reads only the records squatter has not reached. */
static int count_backlog(struct xap_mailbox *mailbox, const struct uidset *set, uint64_t *n_r)
{
    struct xap_mailbox_iter *iter = xap_mailbox_iter_init(mailbox, 0, XAP_ITER_SKIP_EXPUNGED);
    const struct xap_index_record *rec;
    uint64_t n = 0;
    int r;

    if (!mailbox_iter_seek_uid(iter, uidset_first_missing(set)))
        while ((rec = xap_mailbox_iter_step(iter)))
            if (!uidset_contains(set, rec->uid))
                n++;
    r = xap_mailbox_iter_error(iter);
    xap_mailbox_iter_done(&iter);
    if (!r)
        *n_r += n;
    return r;
}

/* MAILBOX has mail and no row in the GUID db as the search read it.  That
 * snapshot may predate the mailbox's first commit; every commit syncs
 * the GUID db under the index lock, which we now hold SHARED: asked
 * again, the GUID db must describe it. */
static int recheck_guiddb(const char *userid, struct xap_mailbox *mailbox)
{
    struct guiddb *db = NULL;
    int r = guiddb_open(NULL, userid, 0, &db);

    if (r == XAP_IMAP_NOTFOUND)
        r = 0;
    if (!r)
        r = guiddb_check_mailbox(db, userid, xap_mailbox_name(mailbox),
                                 xap_mailbox_uniqueid(mailbox), xap_mailbox_last_uid(mailbox));
    guiddb_close(&db);
    return r;
}

/* Adds M's unindexed mail to *N_R.  SNAPSHOT: read the mailbox's last
 * commit without its index lock (mailbox/snapshot.h), so that a search
 * never waits for a writer holding it over a long batch of appends;
 * XAP_IMAP_AGAIN when that cannot be believed, or when a missing GUID db
 * row must be asked again under the lock. */
static int count_one(struct unindexed *u, const struct one *m, int snapshot, uint64_t *n_r)
{
    struct xap_mailbox *mailbox = NULL;
    int r = snapshot ? mailbox_open_snapshot(m->name, &mailbox)
                     : xap_mailbox_open_irl(m->name, &mailbox);

    if (r)
        return r == XAP_IMAP_MAILBOX_NONEXISTENT ? 0 : r;  /* deleted since it was listed */
    if (strcmp(xap_mailbox_uniqueid(mailbox), m->uniqueid)) {
        xap_mailbox_close(&mailbox);  /* another mailbox under the name now */
        return 0;
    }
    if (xap_mailbox_last_uid(mailbox) && !m->synced)
        r = snapshot ? XAP_IMAP_AGAIN : recheck_guiddb(u->userid, mailbox);
    if (!r && !uidset_covers(m->set, 1, xap_mailbox_last_uid(mailbox)))
        r = count_backlog(mailbox, m->set, n_r);
    xap_mailbox_close(&mailbox);
    return r;
}

int unindexed_count(struct unindexed *u, uint64_t *n_r)
{
    int r = 0;

    *n_r = 0;
    for (size_t i = 0; i < talloc_array_length(u->mb) && !r; i++)
        if ((r = count_one(u, &u->mb[i], 1, n_r)) == XAP_IMAP_AGAIN)
            r = count_one(u, &u->mb[i], 0, n_r);
    return r;
}
