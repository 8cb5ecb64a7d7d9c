/* mailbox-guiddb.c - keeping the owner's GUID db in step with a mailbox
 * (see guiddb.h).  The process keeps one open GUID db per user it has
 * written, closed at xap_done(). */
#include <config.h>

#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/init.h"
#include "common/mboxname.h"
#include "common/xlog.h"
#include "mailbox/guiddb.h"
#include "mailbox/mailbox-private.h"

struct cached {
    struct cached *next;
    char *userid;
    struct guiddb *db;
};

static void *cache_ctx;       /* owns every entry */
static struct cached *cache;

static void close_cache(void)
{
    TALLOC_FREE(cache_ctx);
    cache = NULL;
}

static int cached_open(const char *userid, struct guiddb **db_r)
{
    struct cached *c;
    int r;

    for (c = cache; c; c = c->next) {
        if (!strcmp(c->userid, userid)) {
            *db_r = c->db;
            return 0;
        }
    }
    if (!cache_ctx) {
        cache_ctx = talloc_new(NULL);
        xapiary_atdone(close_cache);
    }
    c = talloc_zero(cache_ctx, struct cached);
    if ((r = guiddb_open(c, userid, 1, &c->db))) {
        talloc_free(c);
        return r;
    }
    c->userid = talloc_strdup(c, userid);
    c->next = cache;
    cache = c;
    *db_r = c->db;
    return 0;
}

void guiddb_forget(const char *userid)
{
    guiddb_forget_reader();
    for (struct cached **cp = &cache; *cp; cp = &(*cp)->next) {
        if (!strcmp((*cp)->userid, userid)) {
            struct cached *c = *cp;
            *cp = c->next;
            talloc_free(c);
            return;
        }
    }
}

static int apply(struct guiddb *db, const char *uniqueid, const struct xap_index_record *rec)
{
    if (rec->internal_flags & XAP_FLAG_INTERNAL_EXPUNGED)
        return guiddb_remove(db, uniqueid, rec->uid);
    return guiddb_add(db, rec->guid, uniqueid, rec->uid);
}

int guiddb_sync_mailbox(struct xap_mailbox *mailbox, int full)
{
    struct guiddb *db;
    char *userid = NULL;
    uint64_t synced;
    int r;

    if (mboxname_to_userid(NULL, mailbox->name, &userid))
        return 0;       /* not a user's mailbox: nobody searches it */
    r = cached_open(userid, &db);
    talloc_free(userid);
    if (r)
        return r;
    if ((r = guiddb_begin(db, 1)))
        return r;
    if ((r = guiddb_get_synced(db, mailbox->uniqueid, &synced)))
        goto fail;
    if (synced > mailbox->i.highestmodseq)
        full = 1;       /* the mailbox was reconstructed behind our back */

    if (!full && synced == mailbox->committed.highestmodseq &&
        talloc_array_length(mailbox->pending)) {
        /* In step until this commit: its records are all that changed. */
        for (size_t i = 0; i < talloc_array_length(mailbox->pending) && !r; i++)
            r = apply(db, mailbox->uniqueid, &mailbox->pending[i].record);
    } else if (full || synced < mailbox->i.highestmodseq) {
        struct xap_mailbox_iter *iter;
        const struct xap_index_record *rec;
        if (full && (r = guiddb_remove_mailbox(db, mailbox->uniqueid)))
            goto fail;
        iter = xap_mailbox_iter_init(mailbox, full ? 0 : synced, 0);
        while (!r && (rec = xap_mailbox_iter_step(iter)))
            r = apply(db, mailbox->uniqueid, rec);
        if (!r)
            r = xap_mailbox_iter_error(iter);
        xap_mailbox_iter_done(&iter);
    }
    if (!r && mailbox->i.options & OPT_MAILBOX_DELETED)
        r = guiddb_remove_mailbox(db, mailbox->uniqueid);
    if (!r)
        r = guiddb_set_synced(db, mailbox->uniqueid, mailbox->i.highestmodseq);
    if (r)
        goto fail;
    return guiddb_commit(db);
fail:
    guiddb_abort(db);
    return r;
}

int guiddb_catch_up(struct guiddb *db, const char *userid, struct xap_mailbox *mailbox,
                    int repair)
{
    uint64_t synced = 0;
    char *path;
    int r;

    /* No GUID db or no row: lost, or a brand-new user (guiddb_check_mailbox). */
    if (!db || !mailbox->i.last_uid)
        return 0;
    if ((r = guiddb_get_synced(db, mailbox->uniqueid, &synced)))
        return r;
    if (!synced || synced == mailbox->i.highestmodseq)
        return 0;
    path = guiddb_file(NULL, userid);
    if (!repair) {
        xlog(LOG_ERR, "user %s: GUID db %s is behind mailbox %s (synced to modseq %llu, "
             "the mailbox is at %llu: a commit could not update it), so a search "
             "would miss its latest mail: squatter -u %s catches it up", userid,
             path ? path : "?", mailbox->name, (unsigned long long)synced,
             (unsigned long long)mailbox->i.highestmodseq, userid);
        r = XAP_IMAP_SEARCH_CORRUPT;
    } else if ((r = guiddb_sync_mailbox(mailbox, 0))) {
        xlog(LOG_ERR, "user %s: GUID db %s is behind mailbox %s and could not be "
             "caught up: %s", userid, path ? path : "?", mailbox->name, xap_error_message(r));
    } else {
        xlog(LOG_WARNING, "user %s: GUID db %s was behind mailbox %s (synced to modseq "
             "%llu of %llu: a commit could not update it): caught up", userid,
             path ? path : "?", mailbox->name, (unsigned long long)synced,
             (unsigned long long)mailbox->i.highestmodseq);
    }
    talloc_free(path);
    return r;
}

int guiddb_verify_mailbox(const char *name)
{
    struct xap_mailbox *mailbox = NULL;
    struct guiddb *db = NULL;
    char *userid = NULL;
    int r;

    if (mboxname_to_userid(NULL, name, &userid))
        return 0;       /* not a user's mailbox: no GUID db */
    if ((r = xap_mailbox_open_irl(name, &mailbox)))
        goto out;
    r = guiddb_open(NULL, userid, 0, &db);
    if (r == XAP_IMAP_NOTFOUND)
        r = 0;
    if (!r)
        r = guiddb_check_mailbox(db, userid, name, mailbox->uniqueid, mailbox->i.last_uid);
    if (!r)
        r = guiddb_catch_up(db, userid, mailbox, 0);
    guiddb_close(&db);
    xap_mailbox_close(&mailbox);
out:
    talloc_free(userid);
    return r;
}

int guiddb_rebuild_mailbox(const char *name)
{
    struct xap_mailbox *mailbox = NULL;
    char *userid = NULL;
    int r;

    if (mboxname_to_userid(NULL, name, &userid))
        return 0;       /* not a user's mailbox: no GUID db */
    talloc_free(userid);
    if ((r = xap_mailbox_open_iwl(name, &mailbox)))
        return r;
    r = guiddb_sync_mailbox(mailbox, 1);
    xap_mailbox_close(&mailbox);
    return r;
}
