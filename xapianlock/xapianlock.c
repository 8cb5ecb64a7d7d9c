/* xapianlock.c - the two-level locking of a user's search tiers.  See
 * <xapiary/xapianlock.h> and docs/LOCKING.md.
 *
 * States of a struct xap_xapianlock
 *   search   SHARED namelock + the revision lock of the first database's
 *            revision, SHARED (READ until it was had; READ throughout
 *            when the first database is not built, or no writer ever
 *            made the revision locks); paths[] resolved.
 *   update   SHARED namelock + writer lock + WRITE lock + both revision
 *            locks EXCLUSIVE; write_path exists on disk.
 *   batch    SHARED namelock + writer lock + the revision lock of the
 *            revision the batch will write, EXCLUSIVE; no WRITE: the
 *            first database was opened under it (xapianlock_begin_batch).
 *   (freed)  locks released in reverse order by the talloc destructor.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "xapiary/xapianlock.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/lockfile.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/userdata.h"
#include "cwrap/xapian_wrap.h"
#include "xapianlock/activefile.h"
#include "xapianlock/revlock.h"
#include "xapianlock/tierlist.h"
#include "xapianlock/xapianlock-private.h"

static int destroy(struct xap_xapianlock *xl)
{
    TALLOC_FREE(xl->rev[1]);               /* the highest first */
    TALLOC_FREE(xl->rev[0]);
    activefile_unlock(&xl->af);
    TALLOC_FREE(xl->writer);
    xap_mboxname_release(&xl->namelock);
    return 0;
}

int xapianlock_user_partition(void *ctx, const char *userid, char **partition_r)
{
    struct xap_mboxlist_entry *e = NULL;
    char *inbox;
    int r;

    *partition_r = NULL;
    if (mboxname_userid_validate(userid))
        return XAP_IMAP_MAILBOX_BADNAME;
    inbox = talloc_asprintf(NULL, "user.%s", userid);
    r = xap_mboxlist_lookup(inbox, inbox, &e);
    if (r == XAP_IMAP_MAILBOX_NONEXISTENT)
        xlog(LOG_ERR, "user %s: no mailbox %s", userid, inbox);
    if (!r)
        *partition_r = talloc_strdup(ctx, e->partition);
    talloc_free(inbox);
    return r;
}

char *xapianlock_inbox_uniqueid(void *ctx, const char *userid)
{
    char *inbox = talloc_asprintf(NULL, "user.%s", userid), *id = NULL;
    struct xap_mboxlist_entry *e = NULL;

    if (!xap_mboxlist_lookup(inbox, inbox, &e) && e->type == XAP_MBTYPE_NORMAL)
        id = talloc_strdup(ctx, e->uniqueid);
    talloc_free(inbox);
    return id;
}

int xapianlock_same_user(const char *userid, const char *id)
{
    char *now = id ? xapianlock_inbox_uniqueid(NULL, userid) : NULL;
    int same = now && !strcmp(now, id);

    talloc_free(now);
    return same;
}

int xapianlock_namelock(const char *userid, int type, struct xap_mboxlock **lock_r)
{
    char name[600];
    int r = xap_mboxname_xapian_lockname(userid, name, sizeof name);

    if (!r)
        r = xap_mboxname_lock(name, lock_r, type);
    if (r == XAP_IMAP_MAILBOX_LOCKED)
        xlog(LOG_NOTICE, "user %s: search namelock is busy", userid);
    return r;
}

static struct xap_xapianlock *new_lock(void *ctx, const char *userid)
{
    struct xap_xapianlock *xl = talloc_zero(ctx, struct xap_xapianlock);

    xl->userid = talloc_strdup(xl, userid);
    talloc_set_destructor(xl, destroy);
    return xl;
}

/* Resolves every listed item to a directory: a database is read, an
 * item not built yet (an empty directory) is skipped, and a missing
 * directory is a lost database: an error, never a silent gap (with
 * PARTIAL, for an audit, it is recorded in LOST and skipped instead). */
static int resolve_paths(struct xap_xapianlock *xl, int partial, int quiet)
{
    size_t n = talloc_array_length(xl->af->items), k = 0, nlost = 0;

    xl->paths = talloc_zero_array(xl, const char *, n + 1);
    xl->lost = talloc_zero_array(xl, const char *, n + 1);
    for (size_t i = 0; i < n; i++) {
        char *dir;
        int state, r;
        if ((r = tierlist_item_check(xl, xl->userid, xl->partition, &xl->af->items[i],
                                     &dir, &state)))
            return r;
        if (state == TIERLIST_LOST && !(partial && quiet))
            r = tierlist_lost(xl->userid, xl->partition, &xl->af->items[i]);
        if (state == TIERLIST_LOST && !partial)
            return r;
        if (state == TIERLIST_LOST)
            xl->lost[nlost++] = dir;
        else if (state == TIERLIST_PUBLISHED)
            xl->paths[k++] = dir;
        if (i == 0)
            xl->first_read = state == TIERLIST_PUBLISHED;
    }
    return 0;
}

/* 0 when user.USERID is a mailbox (not a tombstone, not a rename's new
 * name still being filled); XAP_IMAP_MAILBOX_NONEXISTENT otherwise. */
static int user_exists(const char *userid)
{
    struct xap_mboxlist_entry *e = NULL;
    char *inbox = talloc_asprintf(NULL, "user.%s", userid);
    int r = xap_mboxlist_lookup(inbox, inbox, &e);

    if (!r && e->type != XAP_MBTYPE_NORMAL && e->type != XAP_MBTYPE_RENAMELOCKED)
        r = XAP_IMAP_MAILBOX_NONEXISTENT;
    if (r == XAP_IMAP_MAILBOX_NONEXISTENT)
        xlog(LOG_ERR, "user %s: %s is gone: no search index is created", userid, inbox);
    talloc_free(inbox);
    return r;
}

/* Creates the user's xapianactive with one item in the default tier,
 * under the EXCLUSIVE namelock (a SHARED holder relies on the list not
 * changing, so even its creation needs the exclusive lock).  The item's
 * empty directory comes first: a listed item without one is lost. */
static int create_activefile(const char *userid, const char *partition)
{
    struct xap_mboxlock *lock = NULL;
    struct activeitem *items = NULL;
    const char *tier = config_defaultsearchtier(NULL);
    int r;

    if (!tier || !config_searchpartition(NULL, tier, partition)) {
        xlog(LOG_ERR, "user %s: no default search tier with a searchpartition for "
             "partition %s", userid, partition);
        return XAP_IMAP_SEARCH_TIER_UNKNOWN;
    }
    if ((r = xapianlock_namelock(userid, XAP_LOCK_EXCLUSIVE, &lock)))
        return r;
    /* The user may have been deleted (or renamed away) since the caller
     * looked it up: delete_user and a user rename hold this namelock
     * EXCLUSIVE, so a look now is final.  Without it a late indexer would
     * bring back an index for a user that is gone (docs/model: RESURRECT). */
    if ((r = user_exists(userid))) {
        xap_mboxname_release(&lock);
        return r;
    }
    r = activefile_read(NULL, userid, &items);
    if (r == XAP_IMAP_NOTFOUND) {
        struct activeitem first = { (char *)tier, 0 };
        tierlist_remove_unbuilt(userid, partition);
        first.gen = tierlist_next_gen(userid, partition, NULL);
        r = tierlist_reserve(NULL, userid, partition, NULL, &first, NULL, 0,
                             "xapianactive", NULL);
    }
    talloc_free(items);
    xap_mboxname_release(&lock);
    return r;
}

/* Under READ: trades it for the revision lock of the revision a reader
 * opening the first database sees now (docs/LOCKING.md "Searches while a
 * batch is written").  The caller opens the databases after this; it
 * sees that revision or the next, whose blocks both stay as they are
 * while the lock is held: writing the one after the next needs it
 * EXCLUSIVE.  The revision is read through a handle of its own, as the
 * callers open the databases themselves (one Xapian open, far less than
 * a search).  READ is kept when the first database is not built (nobody
 * reads it: the other items are never written) or when the revision
 * locks were never made (every writer makes them under WRITE before it
 * opens the database, so none can be writing; READ keeps the next one
 * out). */
static int pin_revision(struct xap_xapianlock *xl)
{
    unsigned long rev;
    struct lockfile *lf = NULL;
    int r;

    if (!xl->first_read)
        return 0;
    if ((r = xl->dbr ? xw_dbr_revision(xl->dbr, 0, &rev) : xw_db_revision(xl->paths[0], &rev)))
        return r;
    r = revlock_take(xl, xl->userid, rev, 0, 0, &lf);
    if (r == XAP_IMAP_NOTFOUND)
        return 0;
    if (r)
        return r;
    xl->rev[rev % 2] = lf;
    activefile_unlock(&xl->af);
    return 0;
}

#define BEGIN_WRITE   1
#define BEGIN_PARTIAL 2
#define BEGIN_QUIET   4
#define BEGIN_OPEN    8

/* BEGIN_OPEN: the search's databases opened as one, under READ. */
static int open_paths(struct xap_xapianlock *xl)
{
    unsigned n = 0;

    while (xl->paths[n])
        n++;
    return n ? xw_dbr_open(xl, xl->paths, n, &xl->dbr) : 0;
}

static int begin(void *ctx, const char *userid, int flags, struct xap_xapianlock **xl_r)
{
    struct xap_xapianlock *xl = NULL;
    char *partition = NULL;
    int r, write = flags & BEGIN_WRITE;

    *xl_r = NULL;
    if ((r = userdata_check(userid)) ||
        (r = xapianlock_user_partition(NULL, userid, &partition)))
        return r;
    for (int attempt = 0; ; attempt++) {
        xl = new_lock(ctx, userid);
        xl->partition = talloc_strdup(xl, partition);
        if ((r = xapianlock_namelock(userid, XAP_LOCK_SHARED, &xl->namelock)))
            break;
        r = activefile_lock(xl, userid, write, &xl->af);
        if (r == XAP_IMAP_NOTFOUND && !write) {
            /* Nothing indexed yet: a search finds nothing, truthfully. */
            xl->paths = talloc_zero_array(xl, const char *, 1);
            xl->lost = talloc_zero_array(xl, const char *, 1);
            r = 0;
            break;
        }
        if (r == XAP_IMAP_NOTFOUND && attempt == 0) {
            /* Drop everything, create it under the EXCLUSIVE namelock,
             * start again. */
            talloc_free(xl);
            xl = NULL;
            if ((r = create_activefile(userid, partition)))
                break;
            continue;
        }
        if (r)
            break;
        if ((r = activefile_check_tiers(userid, xl->partition, xl->af->items)))
            break;
        if (write) {
            /* Made when the item was listed: never made here, where a
             * missing partition would be made again on its mount point. */
            int state;
            r = tierlist_item_check(xl, userid, xl->partition, &xl->af->items[0],
                                    &xl->write_path, &state);
            if (!r && state == TIERLIST_LOST)
                r = tierlist_lost(userid, xl->partition, &xl->af->items[0]);
        } else if (!(r = resolve_paths(xl, flags & BEGIN_PARTIAL, flags & BEGIN_QUIET)) &&
                   !(r = (flags & BEGIN_OPEN) ? open_paths(xl) : 0)) {
            r = pin_revision(xl);
        }
        break;
    }
    talloc_free(partition);
    if (r) {
        talloc_free(xl);
        return r;
    }
    *xl_r = xl;
    return 0;
}

int xap_xapianlock_begin_search(void *ctx, const char *userid, struct xap_xapianlock **xl_r)
{
    return begin(ctx, userid, 0, xl_r);
}

int xapianlock_begin_search_open(void *ctx, const char *userid, struct xap_xapianlock **xl_r,
                                 struct xw_dbr **dbr_r)
{
    int r = begin(ctx, userid, BEGIN_OPEN, xl_r);

    *dbr_r = r ? NULL : (*xl_r)->dbr;
    return r;
}

/* Takes WRITE again, checking that the first item is still the one the
 * update began with (the SHARED namelock rules out a change: a change is
 * XAP_IMAP_INTERNAL, logged, holding nothing more than before). */
static int write_resume(struct xap_xapianlock *xl)
{
    int r = activefile_lock(xl, xl->userid, 1, &xl->af);

    if (r)
        return r;
    if (strcmp(xl->af->items[0].tier, xl->first.tier) || xl->af->items[0].gen != xl->first.gen) {
        xlog(LOG_ERR, "user %s: the first search database changed from %s:%u to %s:%u "
             "under the SHARED namelock", xl->userid, xl->first.tier, xl->first.gen,
             xl->af->items[0].tier, xl->af->items[0].gen);
        activefile_unlock(&xl->af);
        return XAP_IMAP_INTERNAL;
    }
    return 0;
}

/* The writer lock is on the first database's directory, which the
 * WRITE lock names; it comes before WRITE in the lock order, so WRITE is
 * let go, the writer lock waited for (another writer's whole batch), and
 * WRITE taken again.  The directory stays the first item's while the
 * SHARED namelock is held: only an EXCLUSIVE holder changes the first
 * item, and nothing replaces a listed item's directory. */
static int begin_update(void *ctx, const char *userid, struct xap_xapianlock **xl_r)
{
    struct xap_xapianlock *xl;
    int r = begin(ctx, userid, BEGIN_WRITE, &xl);

    *xl_r = NULL;
    if (r)
        return r;
    xl->first.tier = talloc_strdup(xl, xl->af->items[0].tier);
    xl->first.gen = xl->af->items[0].gen;
    xl->writer = lockfile_new(xl, xl->write_path, NULL, LOCKLEVEL_XAPIAN_WRITER,
                              O_RDONLY | O_DIRECTORY, LOCKFILE_NEVER_REPLACED);
    activefile_unlock(&xl->af);
    if ((r = lockfile_lock(xl->writer, LOCK_EX, 0, talloc_asprintf(xl, "the writer "
                           "lock of %s", xl->write_path))) ||
        (r = write_resume(xl))) {
        talloc_free(xl);
        return r;
    }
    *xl_r = xl;
    return 0;
}

/* An update holds both revision locks: a caller that commits, as often
 * as it likes, under WRITE overwrites no revision a search still reads.
 * The locks wait for the searches that let READ go before WRITE was
 * had; new ones wait for WRITE. */
int xap_xapianlock_begin_mailbox_update(void *ctx, const char *userid,
                                    struct xap_xapianlock **xl_r)
{
    struct xap_xapianlock *xl;
    int r = begin_update(ctx, userid, &xl);

    *xl_r = NULL;
    if (r)
        return r;
    if ((r = revlock_take(xl, userid, 0, 1, 1, &xl->rev[0])) ||
        (r = revlock_take(xl, userid, 1, 1, 1, &xl->rev[1]))) {
        talloc_free(xl);
        return r;
    }
    *xl_r = xl;
    return 0;
}

int xapianlock_begin_batch(void *ctx, const char *userid, void *dbw_ctx,
                           struct xap_xapianlock **xl_r, struct xw_dbw **dbw_r)
{
    struct xap_xapianlock *xl;
    unsigned long rev;
    int r = begin_update(ctx, userid, &xl);

    *xl_r = NULL;
    *dbw_r = NULL;
    if (r)
        return r;
    /* Both files exist before any writer opens the database, under WRITE:
     * a reader that finds none (under READ) knows no batch is past this
     * point, and keeps READ (pin_revision). */
    if (!(r = revlock_make(userid)))
        r = xw_dbw_open(dbw_ctx, xl->write_path, XW_CREATE, dbw_r);
    if (!r)
        r = xw_dbw_revision(*dbw_r, &rev);
    if (r)
        goto fail;
    fault_point("index.batch.0");
    /* Opened: it stands on REV, and its next commit writes REV + 1,
     * which may reuse the blocks of REV - 1 (not of REV): the readers of
     * REV - 1, who let READ go before this batch's WRITE, are waited
     * for; the readers of REV go on, and so do those who come while the
     * batch is added and committed. */
    activefile_unlock(&xl->af);
    if ((r = revlock_take(xl, userid, rev + 1, 1, 1, &xl->rev[(rev + 1) % 2])))
        goto fail;
    *xl_r = xl;
    return 0;
fail:
    xw_dbw_close(dbw_r);
    talloc_free(xl);
    return r;
}


int xapianlock_begin_search_partial(void *ctx, const char *userid, int quiet,
                                    struct xap_xapianlock **xl_r, struct xw_dbr **dbr_r)
{
    int r = begin(ctx, userid, BEGIN_PARTIAL | (quiet ? BEGIN_QUIET : 0) |
                               (dbr_r ? BEGIN_OPEN : 0), xl_r);

    if (dbr_r)
        *dbr_r = r ? NULL : (*xl_r)->dbr;
    return r;
}

const char *const *xapianlock_lost(const struct xap_xapianlock *xl)
{
    return xl->lost;
}

void xap_xapianlock_end(struct xap_xapianlock **xlp)
{
    TALLOC_FREE(*xlp);
}

const char *const *xap_xapianlock_paths(const struct xap_xapianlock *xl)
{
    return xl->paths;
}

const char *xap_xapianlock_write_path(const struct xap_xapianlock *xl)
{
    return xl->write_path;
}

const char *xap_xapianlock_partition(const struct xap_xapianlock *xl)
{
    return xl->partition;
}

const char *xapianlock_userid(const struct xap_xapianlock *xl)
{
    return xl->userid;
}

static void add_files(void *ctx, char ***files, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d))) {
        char *path;
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        /* A child of the array: the caller frees the list as one tree
         * (each path on CTX leaked, which LeakSanitizer saw only when
         * no stale copy of a pointer was left for it to find). */
        path = talloc_asprintf(*files, "%s/%s", dir, de->d_name);
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
            talloc_free(path);
            continue;
        }
        size_t n = talloc_array_length(*files);
        *files = talloc_realloc(ctx, *files, char *, n + 1);
        (*files)[n] = path;
    }
    closedir(d);
}

int xap_xapianlock_list_files(void *ctx, const char *userid, char ***files_r)
{
    struct xap_mboxlock *lock = NULL;
    struct activeitem *items = NULL;
    char *partition = NULL;
    char **files = talloc_array(ctx, char *, 0);
    int r;

    *files_r = NULL;
    if ((r = userdata_check(userid)) ||
        (r = xapianlock_user_partition(NULL, userid, &partition)))
        goto done;
    if ((r = xapianlock_namelock(userid, XAP_LOCK_SHARED, &lock)))
        goto done;
    /* Under the SHARED namelock the list cannot change: no file lock. */
    r = activefile_read(NULL, userid, &items);
    if (r == XAP_IMAP_NOTFOUND)
        r = 0;
    else if (!r)
        r = activefile_check_tiers(userid, partition, items);
    for (size_t i = 0; !r && i < talloc_array_length(items); i++) {
        char *dir = NULL;
        int state;
        /* a lost database is an error here too, not a shorter list */
        if (!(r = tierlist_item_check(NULL, userid, partition, &items[i], &dir, &state)) &&
            state == TIERLIST_LOST)
            r = tierlist_lost(userid, partition, &items[i]);
        if (!r)
            add_files(ctx, &files, dir);
        talloc_free(dir);
    }
done:
    xap_mboxname_release(&lock);
    talloc_free(items);
    talloc_free(partition);
    if (r) {
        talloc_free(files);
        return r;
    }
    files = talloc_realloc(ctx, files, char *, talloc_array_length(files) + 1);
    files[talloc_array_length(files) - 1] = NULL;
    *files_r = files;
    return 0;
}

int xap_xapianlock_forget_lost(const char *userid, unsigned *n_r)
{
    struct xap_mboxlock *lock = NULL;
    struct activeitem *items = NULL, *keep, first = { NULL, 0 };
    char *partition = NULL;
    size_t n, k = 0;
    int r;

    *n_r = 0;
    if ((r = xapianlock_user_partition(NULL, userid, &partition)))
        return r;
    if ((r = xapianlock_namelock(userid, XAP_LOCK_EXCLUSIVE, &lock)))
        goto out;
    r = activefile_read(NULL, userid, &items);
    if (r == XAP_IMAP_NOTFOUND) {
        r = 0;                    /* nothing listed: nothing lost */
        goto out;
    }
    if (r || (r = activefile_check_tiers(userid, partition, items)))
        goto out;
    n = talloc_array_length(items);
    keep = talloc_array(items, struct activeitem, n);
    for (size_t i = 0; i < n; i++) {
        char *dir = NULL;
        int state;
        if ((r = tierlist_check_partition(userid, partition, items[i].tier)) ||
            (r = tierlist_item_check(items, userid, partition, &items[i], &dir, &state)))
            goto out;
        if (state != TIERLIST_LOST) {
            keep[k++] = items[i];
            continue;
        }
        xlog(LOG_WARNING, "user %s: %s:%u (%s) is forgotten: its mail is indexed again",
             userid, items[i].tier, items[i].gen, dir);
        (*n_r)++;
        if (i == 0) {
            /* The first item is the one written: a new one takes its place,
             * numbered from the list as read. */
            first.tier = talloc_strdup(items, config_defaultsearchtier(NULL));
            first.gen = tierlist_next_gen(userid, partition, items);
        }
    }
    if (*n_r) {
        keep = talloc_realloc(items, keep, struct activeitem, k);
        r = tierlist_reserve(NULL, userid, partition, keep, first.tier ? &first : NULL, NULL,
                             0, "xapianactive", NULL);
    }
out:
    xap_mboxname_release(&lock);
    talloc_free(items);
    talloc_free(partition);
    return r;
}
