/* tierlist.c - the lifecycle of a user's search databases (tierlist.h).
 *
 * A user's databases are the items TIER:N of the user's xapianactive,
 * each in SEARCHPART/HH/user/ID/xapian.N (common/tierpath.h).  The list is
 * written only under the EXCLUSIVE Xapian namelock; a SHARED holder relies
 * on it not changing.  An item goes through these states, and nothing
 * else writes the list or makes or removes a database directory (but a
 * user's rename or removal, which moves or removes them all at once:
 * mailbox/userdata.c):
 *
 *   free       N is above every generation listed and every xapian.N or
 *              xapian.N.NEW directory of the user, in any tier
 *              (tierlist_next_gen).  Numbered from the list as read,
 *              before tierlist_clean: a live run whose reserved target
 *              the cleanup retires will take it back by name later, so
 *              the name must not be given to anything else.
 *
 *   reserved   free -> reserved by tierlist_reserve (EXCLUSIVE): its empty
 *              directory is made, then the list that names it is written,
 *              so that a listed item without its directory is always a
 *              lost one.  Readers skip an empty directory.  A first item
 *              is written in place from here (index.c): its first commit
 *              makes it published.
 *
 *   building   reserved -> building by tierlist_build (SHARED): xapian.N.NEW,
 *              private to one process, written under the SHARED namelock.
 *              A side writer keeps that lock until its rename; a
 *              compaction lets it go (steps 6, 7) and renames only if the
 *              list is still the one it reserved the target in.  So an
 *              EXCLUSIVE holder may remove every .NEW it meets
 *              (tierlist_clean): its builder is dead, or will find the
 *              list changed by that very holder and give up.  A SHARED
 *              holder (a compaction's step 12) keeps a .NEW whose target
 *              is listed.  building -> reserved by tierlist_abandon.
 *
 *   published  building -> published by tierlist_publish (SHARED or
 *              EXCLUSIVE): the .NEW, complete, renamed over the empty
 *              directory (rename(2) replaces an empty directory whole).
 *              The list does not change: the database only appears.
 *
 *   retired    listed -> retired (EXCLUSIVE): the list is written without
 *              it.  tierlist_retire (the sources of a compaction, step
 *              9), tierlist_take_back (a compaction that lost its race or
 *              failed takes its own target back), tierlist_clean (reserved
 *              items after the first, dead runs' targets).  Its directory
 *              is removed afterwards, by tierlist_remove_unlisted (SHARED:
 *              compaction step 12) or tierlist_clean (the next EXCLUSIVE
 *              holder).  Its number stays taken while a directory of that
 *              name is left.
 *
 *   lost       listed, its directory missing (deleted, a restore without
 *              it, a disk not mounted): an error for every reader and
 *              writer, never retired here; only `squatter --forget-lost`
 *              (xap_xapianlock_forget_lost) gives it up, on the admin's word.
 *
 * A user deleted and created again may list the same numbers for its own
 * databases: a process that reserved a target, let the namelock go and
 * takes it again checks the user's identity before any transition
 * (xapianlock_same_user; docs/model: RECREATE). */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/atomicfile.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/tierpath.h"
#include "common/util.h"
#include "common/xlog.h"
#include "xapianlock/tierlist.h"

/* ------------------------------------------------------------ states */

char *tierlist_item_dir(void *ctx, const char *userid, const char *partition,
                        const struct activeitem *item, int *r_r)
{
    char *dir = tierpath_user_dir(NULL, userid, partition, item->tier, r_r);
    char *path = NULL;

    if (dir) {
        char *name = tierpath_name(dir, item->gen);
        path = talloc_asprintf(ctx, "%s/%s", dir, name);
    }
    talloc_free(dir);
    return path;
}

int tierlist_check_partition(const char *userid, const char *partition, const char *tier)
{
    const char *base = config_searchpartition(NULL, tier, partition);
    const char *why = NULL;
    struct stat st;

    if (!base)
        return XAP_IMAP_SEARCH_TIER_UNKNOWN;
    if (stat(base, &st) < 0)
        why = strerror(errno);
    else if (!S_ISDIR(st.st_mode))
        why = "not a directory";
    if (!why)
        return 0;
    /* The fix is the operator's: no tool makes a partition's root, so
     * that a disk that is away is never replaced by an empty index. */
    xlog(LOG_ERR, "user %s: search partition %s (%ssearchpartition-%s) is missing "
         "(not mounted?): %s; mount it, or on a new server create it with "
         "mkdir -m 0700 %s", userid, base, tier, partition, why, base);
    return XAP_IMAP_SEARCH_CORRUPT;
}

static int dir_is_empty(const char *dir, int *empty_r)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return -1;
    *empty_r = 1;
    while (*empty_r && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            *empty_r = 0;
    closedir(d);
    return 0;
}

int tierlist_dir_unbuilt(const char *dir)
{
    int empty = 0;

    return dir_is_empty(dir, &empty) == 0 && empty;
}

int tierlist_item_check(void *ctx, const char *userid, const char *partition,
                        const struct activeitem *item, char **dir_r, int *state_r)
{
    struct stat st;
    int r = 0, empty = 0;
    char *dir = tierlist_item_dir(ctx, userid, partition, item, &r);

    if (dir_r)
        *dir_r = NULL;
    if (!dir)
        return r;
    if (stat(dir, &st) < 0) {
        if (errno != ENOENT) {
            xlog_syserr("stat", dir);
            r = XAP_IMAP_SEARCH_CORRUPT;
        } else {
            *state_r = TIERLIST_LOST;
        }
    } else if (!S_ISDIR(st.st_mode) || access(dir, R_OK | X_OK) < 0 ||
               dir_is_empty(dir, &empty) < 0) {
        xlog(LOG_ERR, "user %s: search database %s cannot be read", userid, dir);
        r = XAP_IMAP_SEARCH_CORRUPT;
    } else {
        *state_r = empty ? TIERLIST_RESERVED : TIERLIST_PUBLISHED;
    }
    if (!r && dir_r)
        *dir_r = dir;
    else
        talloc_free(dir);
    return r;
}

int tierlist_lost(const char *userid, const char *partition, const struct activeitem *item)
{
    char *dir;
    int r;

    if (tierlist_check_partition(userid, partition, item->tier))
        return XAP_IMAP_SEARCH_CORRUPT;         /* logged: the partition is away */
    dir = tierlist_item_dir(NULL, userid, partition, item, &r);
    xlog(LOG_ERR, "user %s: search database %s (%s:%u) is missing: it is listed in "
         "xapianactive and was never removed (restore it, or drop it with squatter "
         "--forget-lost and index its mail again)", userid, dir ? dir : "?", item->tier,
         item->gen);
    talloc_free(dir);
    return XAP_IMAP_SEARCH_CORRUPT;
}

int tierlist_listed(const struct activeitem *items, const struct activeitem *item)
{
    for (size_t i = 0; i < talloc_array_length(items); i++)
        if (items[i].gen == item->gen && !strcmp(items[i].tier, item->tier))
            return 1;
    return 0;
}

/* ------------------------------------------------------------ free */

/* Highest N of the database directories (and .NEW) in DIR. */
static unsigned max_gen_in_dir(const char *dir, int *found)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    unsigned max = 0, gen;
    int is_new;

    if (!d)
        return 0;
    while ((de = readdir(d))) {
        if (tierpath_parse(de->d_name, &gen, &is_new))
            continue;
        *found = 1;
        if (gen > max)
            max = gen;
    }
    closedir(d);
    return max;
}

unsigned tierlist_next_gen(const char *userid, const char *partition,
                           const struct activeitem *items)
{
    const char *const *tiers = config_tiers(NULL);
    unsigned max = 0;
    int found = 0, r;

    for (size_t i = 0; i < talloc_array_length(items); i++) {
        found = 1;
        if (items[i].gen > max)
            max = items[i].gen;
    }
    /* Every configured tier, listed or not: a directory left behind by a
     * crash or an earlier list still holds its name. */
    for (size_t t = 0; tiers && tiers[t]; t++) {
        char *dir = tierpath_user_dir(NULL, userid, partition, tiers[t], &r);
        if (dir) {
            unsigned m = max_gen_in_dir(dir, &found);
            if (m > max)
                max = m;
        }
        talloc_free(dir);
    }
    return found ? max + 1 : 1;
}

/* ------------------------------------------------------------ reserved */

/* ITEM's empty directory (and the user's directory above it), never the
 * search partition itself: a missing partition (not mounted) is
 * XAP_IMAP_SEARCH_CORRUPT, logged.  An existing empty directory is fine. */
static int item_create(const char *userid, const char *partition,
                       const struct activeitem *item)
{
    char *dir;
    int r;

    if ((r = tierlist_check_partition(userid, partition, item->tier)))
        return r;
    if (!(dir = tierlist_item_dir(NULL, userid, partition, item, &r)))
        return r;
    r = mkdir_p(dir, 0700);
    if (!r)
        r = fsync_parent(dir);
    talloc_free(dir);
    return r;
}

int tierlist_reserve(void *ctx, const char *userid, const char *partition,
                     const struct activeitem *items, const struct activeitem *head,
                     const struct activeitem *tail, size_t ntail, const char *fault,
                     struct activeitem **list_r)
{
    size_t n = talloc_array_length(items), k = 0;
    struct activeitem *list = talloc_array(ctx, struct activeitem, n + ntail + !!head);
    int r = 0;

    if (head)
        list[k++] = *head;
    for (size_t i = 0; i < n; i++)
        list[k++] = items[i];
    for (size_t i = 0; i < ntail; i++)
        list[k++] = tail[i];
    if (head)
        r = item_create(userid, partition, head);
    for (size_t i = 0; i < ntail && !r; i++)
        r = item_create(userid, partition, &tail[i]);
    if (!r && (head || ntail))
        fault_point("xapianactive.dirs");
    if (!r)
        r = activefile_write(userid, list, fault);
    if (r || !list_r)
        TALLOC_FREE(list);
    if (list_r)
        *list_r = list;
    return r;
}

int tierlist_target(void *ctx, const char *userid, const char *partition,
                    const char *tier, unsigned gen, struct tiertarget **t_r)
{
    struct tiertarget *t = talloc_zero(ctx, struct tiertarget);
    int r;

    t->item.tier = talloc_strdup(t, tier);
    t->item.gen = gen;
    if (!(t->dir = tierlist_item_dir(t, userid, partition, &t->item, &r))) {
        talloc_free(t);
        *t_r = NULL;
        return r;
    }
    t->newdir = talloc_asprintf(t, "%s" TIER_NEW_SUFFIX, t->dir);
    *t_r = t;
    return 0;
}

/* ------------------------------------------------------------ building */

int tierlist_build(const struct tiertarget *t)
{
    /* Beside the target's directory (made when it was reserved): nothing
     * is made above it, so a partition that went away is not made
     * again. */
    return remove_tree(t->newdir);
}

void tierlist_abandon(const struct tiertarget *t)
{
    remove_tree(t->newdir);
}

/* ------------------------------------------------------------ published */

int tierlist_publish(const struct tiertarget *t)
{
    if (rename(t->newdir, t->dir) < 0 || fsync_parent(t->dir)) {
        xlog_syserr("rename", t->newdir);
        return XAP_IMAP_IOERROR;
    }
    return 0;
}

/* ------------------------------------------------------------ retired */

/* ITEMS without GONE's, under CTX; *DROPPED_R: how many were dropped. */
static struct activeitem *without(void *ctx, const struct activeitem *items,
                                  const struct activeitem *gone, size_t *dropped_r)
{
    size_t n = talloc_array_length(items), k = 0;
    struct activeitem *keep = talloc_array(ctx, struct activeitem, n);

    for (size_t i = 0; i < n; i++)
        if (!tierlist_listed(gone, &items[i]))
            keep[k++] = items[i];
    *dropped_r = n - k;
    return talloc_realloc(ctx, keep, struct activeitem, k);
}

int tierlist_retire(const char *userid, const struct activeitem *items,
                    const struct activeitem *gone)
{
    size_t dropped;
    struct activeitem *keep = without(NULL, items, gone, &dropped);
    int r = activefile_write(userid, keep, NULL);

    talloc_free(keep);
    return r;
}

void tierlist_take_back(const char *userid, const struct tiertarget *t)
{
    struct activeitem *items = NULL, *keep, *gone;
    size_t dropped;

    remove_tree(t->newdir);
    if (activefile_read(NULL, userid, &items))
        return;
    gone = talloc_array(items, struct activeitem, 1);
    gone[0] = t->item;
    keep = without(items, items, gone, &dropped);
    /* Its empty directory goes once the list no longer names it. */
    if (dropped && !activefile_write(userid, keep, NULL))
        remove_tree(t->dir);
    talloc_free(items);
}

/* Removes, in every tier directory of USERID, the databases ITEMS does not
 * name; and the .NEW directories: all of them when ALL_NEW (the caller
 * holds the EXCLUSIVE namelock: no run is building one), else those whose
 * target is not listed (a live run's .NEW always has its target listed). */
static int remove_unlisted(const char *userid, const char *partition,
                           const struct activeitem *items, int all_new)
{
    const char *const *tiers = config_tiers(NULL);
    int ret = 0, r;

    for (size_t t = 0; tiers && tiers[t]; t++) {
        char *dir = tierpath_user_dir(NULL, userid, partition, tiers[t], &r);
        struct dirent *de;
        DIR *d = dir ? opendir(dir) : NULL;

        while (d && (de = readdir(d))) {
            struct activeitem it = { (char *)tiers[t], 0 };
            int is_new;
            if (tierpath_parse(de->d_name, &it.gen, &is_new))
                continue;
            if (tierlist_listed(items, &it) && !(is_new && all_new))
                continue;
            char *path = talloc_asprintf(dir, "%s/%s", dir, de->d_name);
            xlog(LOG_INFO, "user %s: removing %s: not in xapianactive", userid, path);
            if (remove_tree(path)) {
                xlog_syserr("remove", path);
                ret = XAP_IMAP_IOERROR;
            }
        }
        if (d)
            closedir(d);
        talloc_free(dir);
    }
    return ret;
}

int tierlist_remove_unlisted(const char *userid, const char *partition,
                             const struct activeitem *items)
{
    return remove_unlisted(userid, partition, items, 0);
}

int tierlist_clean(const char *userid, const char *partition, struct activeitem **items,
                   int *changed_r)
{
    size_t n = talloc_array_length(*items), k = 0;
    int r, *state = talloc_array(NULL, int, n);

    *changed_r = 0;
    /* A lost item is never dropped here: that would hide that its mail is
     * no longer searchable, and a partition that is only away would come
     * back as an orphan. */
    for (size_t i = 0; i < n; i++) {
        if ((r = tierlist_item_check(NULL, userid, partition, &(*items)[i], NULL,
                                     &state[i])) ||
            (state[i] == TIERLIST_LOST &&
             (r = tierlist_lost(userid, partition, &(*items)[i])))) {
            talloc_free(state);
            return r;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && state[i] == TIERLIST_RESERVED) {
            *changed_r = 1;
            continue;
        }
        (*items)[k++] = (*items)[i];
    }
    talloc_free(state);
    if (k < n)
        *items = talloc_realloc(NULL, *items, struct activeitem, k);
    return remove_unlisted(userid, partition, *items, 1);
}

void tierlist_remove_unbuilt(const char *userid, const char *partition)
{
    const char *const *tiers = config_tiers(NULL);
    int r;

    for (size_t t = 0; tiers && tiers[t]; t++) {
        char *dir = tierpath_user_dir(NULL, userid, partition, tiers[t], &r);
        DIR *d = dir ? opendir(dir) : NULL;
        struct dirent *de;
        while (d && (de = readdir(d))) {
            unsigned gen;
            int is_new;
            if (tierpath_parse(de->d_name, &gen, &is_new))
                continue;
            /* rmdir removes only an empty directory: nothing is lost */
            char *path = talloc_asprintf(dir, "%s/%s", dir, de->d_name);
            if (rmdir(path) == 0)
                xlog(LOG_INFO, "user %s: removed %s: empty and not listed", userid, path);
        }
        if (d)
            closedir(d);
        talloc_free(dir);
    }
}
