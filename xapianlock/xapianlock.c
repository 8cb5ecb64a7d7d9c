/* xapianlock.c - the two-level locking of a user's search tiers.  See
 * <xapiary/xapianlock.h> and docs/LOCKING.md.
 *
 * States of a struct xapianlock
 *   search   SHARED namelock + READ lock; paths[] resolved.
 *   update   SHARED namelock + WRITE lock; write_path exists on disk.
 *   (freed)  locks released in reverse order by the talloc destructor.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "xapiary/xapianlock.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/userdata.h"
#include "xapianlock/activefile.h"
#include "xapianlock/xapianlock-private.h"

static int destroy(struct xapianlock *xl)
{
    activefile_unlock(&xl->af);            /* the file lock first */
    mboxname_release(&xl->namelock);
    return 0;
}

int xapianlock_user_partition(void *ctx, const char *userid, char **partition_r)
{
    struct mboxlist_entry *e = NULL;
    char *inbox;
    int r;

    *partition_r = NULL;
    if (mboxname_userid_validate(userid))
        return IMAP_MAILBOX_BADNAME;
    inbox = talloc_asprintf(NULL, "user.%s", userid);
    r = mboxlist_lookup(inbox, inbox, &e);
    if (r == IMAP_MAILBOX_NONEXISTENT)
        xlog(LOG_ERR, "user %s: no mailbox %s", userid, inbox);
    if (!r)
        *partition_r = talloc_strdup(ctx, e->partition);
    talloc_free(inbox);
    return r;
}

char *xapianlock_inbox_uniqueid(void *ctx, const char *userid)
{
    char *inbox = talloc_asprintf(NULL, "user.%s", userid), *id = NULL;
    struct mboxlist_entry *e = NULL;

    if (!mboxlist_lookup(inbox, inbox, &e) && e->type == MBTYPE_NORMAL)
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

int xapianlock_namelock(const char *userid, int type, struct mboxlock **lock_r)
{
    char name[600];
    int r = mboxname_xapian_lockname(userid, name, sizeof name);

    if (!r)
        r = mboxname_lock(name, lock_r, type);
    if (r == IMAP_MAILBOX_LOCKED)
        xlog(LOG_NOTICE, "user %s: search namelock is busy", userid);
    return r;
}

static struct xapianlock *new_lock(void *ctx, const char *userid)
{
    struct xapianlock *xl = talloc_zero(ctx, struct xapianlock);

    xl->userid = talloc_strdup(xl, userid);
    talloc_set_destructor(xl, destroy);
    return xl;
}

static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int empty = 1;

    while (d && empty && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            empty = 0;
    if (d)
        closedir(d);
    return d && empty;
}

/* Resolves every listed item to a directory: missing ones are skipped
 * (ENOENT: a compaction target not yet renamed into place); anything else
 * that stops us from reading one is an error, never a silent gap. */
static int resolve_paths(struct xapianlock *xl)
{
    size_t n = talloc_array_length(xl->af->items), k = 0;

    xl->paths = talloc_zero_array(xl, const char *, n + 1);
    for (size_t i = 0; i < n; i++) {
        char *dir = activefile_item_dir(xl, xl->userid, xl->partition, &xl->af->items[i]);
        struct stat st;
        if (!dir)
            return IMAP_SEARCH_TIER_UNKNOWN;
        if (stat(dir, &st) < 0) {
            if (errno == ENOENT)
                continue;
            xlog_syserr("stat", dir);
            return IMAP_SEARCH_CORRUPT;
        }
        if (!S_ISDIR(st.st_mode) || access(dir, R_OK | X_OK) < 0) {
            xlog(LOG_ERR, "user %s: search database %s cannot be read", xl->userid, dir);
            return IMAP_SEARCH_CORRUPT;
        }
        if (i == 0 && dir_is_empty(dir)) {
            /* The first item's directory is made just before its database
             * is created in it (begin_mailbox_update): nothing written. */
            continue;
        }
        xl->paths[k++] = dir;
    }
    return 0;
}

/* Creates the user's xapianactive with one item in the default tier,
 * under the EXCLUSIVE namelock (a SHARED holder relies on the list not
 * changing, so even its creation needs the exclusive lock). */
/* 0 when user.USERID is a mailbox (not a tombstone, not a rename's new
 * name still being filled); IMAP_MAILBOX_NONEXISTENT otherwise. */
static int user_exists(const char *userid)
{
    struct mboxlist_entry *e = NULL;
    char *inbox = talloc_asprintf(NULL, "user.%s", userid);
    int r = mboxlist_lookup(inbox, inbox, &e);

    if (!r && e->type != MBTYPE_NORMAL && e->type != MBTYPE_RENAMELOCKED)
        r = IMAP_MAILBOX_NONEXISTENT;
    if (r == IMAP_MAILBOX_NONEXISTENT)
        xlog(LOG_ERR, "user %s: %s is gone: no search index is created", userid, inbox);
    talloc_free(inbox);
    return r;
}

static int create_activefile(const char *userid, const char *partition)
{
    struct mboxlock *lock = NULL;
    struct activeitem *items = NULL;
    const char *tier = config_defaultsearchtier(NULL);
    int r;

    if (!tier || !config_searchpartition(NULL, tier, partition)) {
        xlog(LOG_ERR, "user %s: no default search tier with a searchpartition for "
             "partition %s", userid, partition);
        return IMAP_SEARCH_TIER_UNKNOWN;
    }
    if ((r = xapianlock_namelock(userid, LOCK_EXCLUSIVE, &lock)))
        return r;
    /* The user may have been deleted (or renamed away) since the caller
     * looked it up: delete_user and a user rename hold this namelock
     * EXCLUSIVE, so a look now is final.  Without it a late indexer would
     * bring back an index for a user that is gone (docs/model: RESURRECT). */
    if ((r = user_exists(userid))) {
        mboxname_release(&lock);
        return r;
    }
    r = activefile_read(NULL, userid, &items);
    if (r == IMAP_NOTFOUND) {
        items = talloc_zero_array(NULL, struct activeitem, 1);
        items[0].tier = talloc_strdup(items, tier);
        items[0].gen = activefile_next_gen(userid, partition, NULL);
        r = activefile_write(userid, items, "xapianactive");
    }
    talloc_free(items);
    mboxname_release(&lock);
    return r;
}

static int begin(void *ctx, const char *userid, int write, struct xapianlock **xl_r)
{
    struct xapianlock *xl = NULL;
    char *partition = NULL;
    int r;

    *xl_r = NULL;
    if ((r = userdata_check(userid)) ||
        (r = xapianlock_user_partition(NULL, userid, &partition)))
        return r;
    for (int attempt = 0; ; attempt++) {
        xl = new_lock(ctx, userid);
        xl->partition = talloc_strdup(xl, partition);
        if ((r = xapianlock_namelock(userid, LOCK_SHARED, &xl->namelock)))
            break;
        r = activefile_lock(xl, userid, write, &xl->af);
        if (r == IMAP_NOTFOUND && !write) {
            /* Nothing indexed yet: a search finds nothing, truthfully. */
            xl->paths = talloc_zero_array(xl, const char *, 1);
            r = 0;
            break;
        }
        if (r == IMAP_NOTFOUND && attempt == 0) {
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
            xl->write_path = activefile_item_dir(xl, userid, xl->partition,
                                                 &xl->af->items[0]);
            r = xl->write_path ? mkdir_p(xl->write_path, 0700) : IMAP_SEARCH_TIER_UNKNOWN;
        } else {
            r = resolve_paths(xl);
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

int xapianlock_begin_search(void *ctx, const char *userid, struct xapianlock **xl_r)
{
    return begin(ctx, userid, 0, xl_r);
}

int xapianlock_begin_mailbox_update(void *ctx, const char *userid,
                                    struct xapianlock **xl_r)
{
    return begin(ctx, userid, 1, xl_r);
}

void xapianlock_end(struct xapianlock **xlp)
{
    TALLOC_FREE(*xlp);
}

const char *const *xapianlock_paths(const struct xapianlock *xl)
{
    return xl->paths;
}

const char *xapianlock_write_path(const struct xapianlock *xl)
{
    return xl->write_path;
}

const char *xapianlock_partition(const struct xapianlock *xl)
{
    return xl->partition;
}

const char *xapianlock_userid(const struct xapianlock *xl)
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

int xapianlock_list_files(void *ctx, const char *userid, char ***files_r)
{
    struct mboxlock *lock = NULL;
    struct activeitem *items = NULL;
    char *partition = NULL;
    char **files = talloc_array(ctx, char *, 0);
    int r;

    *files_r = NULL;
    if ((r = userdata_check(userid)) ||
        (r = xapianlock_user_partition(NULL, userid, &partition)))
        goto done;
    if ((r = xapianlock_namelock(userid, LOCK_SHARED, &lock)))
        goto done;
    /* Under the SHARED namelock the list cannot change: no file lock. */
    r = activefile_read(NULL, userid, &items);
    if (r == IMAP_NOTFOUND)
        r = 0;
    else if (!r)
        r = activefile_check_tiers(userid, partition, items);
    for (size_t i = 0; !r && i < talloc_array_length(items); i++) {
        char *dir = activefile_item_dir(NULL, userid, partition, &items[i]);
        add_files(ctx, &files, dir);
        talloc_free(dir);
    }
done:
    mboxname_release(&lock);
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

int xapianlock_remove_tree(const char *dir)
{
    return remove_tree(dir);
}
