/* compact.c - compact_dbs, the 13 steps of spec section 9 (seeds/003).
 *
 * The sources are frozen at step 1 (a new first item takes the writes),
 * so step 5 reads databases nobody writes and needs no lock beyond the
 * SHARED namelock that keeps them from being deleted.  The target is built
 * as xapian.M.NEW, private to this run, and becomes visible by one rename
 * under the EXCLUSIVE namelock.  A process killed at any step leaves the
 * sources listed, so nothing indexed is ever unsearchable; the debris is
 * removed by the next compaction (compact_cleanup_exclusive at step 1) or
 * step 12 of any run.  Fault point compact.K fires right after step K.
 *
 * Reindexing (-X, -T): step 5 holds the Xapian namelock, and mailbox locks
 * come before it (docs/LOCKING.md), so step 5 cannot open a mailbox.
 * Between steps 2 and 3 compact_plan_state (compact-reindex.c) reads the
 * reindexed sources' indexed state under the Xapian locks and lets them
 * go; compact_plan_messages then opens each mailbox in turn (its SHARED
 * locks only) and collects the live messages in that state; step 5
 * indexes them from their files, which
 * never change (one gone meanwhile, expunged or moved by a folder rename,
 * is skipped and left out of the target's indexed state). */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/mboxlist.h"
#include "common/atomicfile.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/util.h"
#include "common/xlog.h"
#include "cwrap/xapian_wrap.h"
#include "mailbox/guiddb.h"
#include "mailbox/message.h"
#include "xapianlock/compact.h"
#include "xapianlock/compact-reindex.h"
#include "xapianlock/index.h"
#include "xapianlock/uidset.h"
#include "xapianlock/xapianlock-private.h"

static void step(int k)
{
    char name[32];

    snprintf(name, sizeof name, "compact.%d", k);
    fault_point(name);
}

static int same_item(const struct activeitem *a, const struct activeitem *b)
{
    return a->gen == b->gen && !strcmp(a->tier, b->tier);
}

static int listed(const struct activeitem *items, const char *tier, unsigned gen)
{
    for (size_t i = 0; i < talloc_array_length(items); i++)
        if (items[i].gen == gen && !strcmp(items[i].tier, tier))
            return 1;
    return 0;
}

/* "xapian" (Cyrus's generation 0), "xapian.N" or "xapian.N.NEW". */
static int parse_dirname(const char *name, unsigned *gen, int *is_new)
{
    char *end;
    unsigned long n;

    *is_new = 0;
    if (!strcmp(name, "xapian")) {
        *gen = 0;
        return 0;
    }
    if (strncmp(name, "xapian.", 7) || name[7] < '0' || name[7] > '9')
        return -1;
    n = strtoul(name + 7, &end, 10);
    if (!strcmp(end, ".NEW"))
        *is_new = 1;
    else if (*end)
        return -1;
    *gen = (unsigned)n;
    return 0;
}

/* Removes, in every tier directory of USERID, the databases ITEMS does not
 * name; and the .NEW directories: all of them when ALL_NEW (the caller
 * holds the EXCLUSIVE namelock: no run is writing one), else those whose
 * target is not listed (a live run's .NEW always has its target listed). */
static int remove_unlisted(const char *userid, const char *partition,
                           const struct activeitem *items, int all_new)
{
    const char *const *tiers = config_tiers(NULL);
    int ret = 0;

    for (size_t t = 0; tiers && tiers[t]; t++) {
        char *dir = activefile_tier_dir(NULL, userid, partition, tiers[t]);
        struct dirent *de;
        DIR *d = dir ? opendir(dir) : NULL;

        while (d && (de = readdir(d))) {
            unsigned gen;
            int is_new;
            if (parse_dirname(de->d_name, &gen, &is_new))
                continue;
            if (is_new ? (!all_new && listed(items, tiers[t], gen))
                       : listed(items, tiers[t], gen))
                continue;
            char *path = talloc_asprintf(dir, "%s/%s", dir, de->d_name);
            xlog(LOG_INFO, "user %s: removing %s: not in xapianactive", userid, path);
            if (xapianlock_remove_tree(path)) {
                xlog_syserr("remove", path);
                ret = IMAP_IOERROR;
            }
        }
        if (d)
            closedir(d);
        talloc_free(dir);
    }
    return ret;
}

/* Under the EXCLUSIVE namelock: drops listed items other than the first
 * that were never built (an empty directory: targets of dead runs; a
 * live run's target would lose its race anyway, since the caller changes
 * the file), and removes unlisted directories and every .NEW.  A listed
 * item whose directory is missing is lost: IMAP_SEARCH_CORRUPT, nothing
 * changed (dropping it would hide that its mail is no longer searchable,
 * and a partition that is only away would come back as an orphan).
 * *CHANGED_R: ITEMS was shortened (the caller writes it). */
int compact_cleanup_locked(const char *userid, const char *partition,
                           struct activeitem **items, int *changed_r)
{
    size_t n = talloc_array_length(*items), k = 0;
    int r, *state = talloc_array(NULL, int, n);

    *changed_r = 0;
    for (size_t i = 0; i < n; i++) {
        if ((r = activefile_item_check(NULL, userid, partition, &(*items)[i], NULL,
                                       &state[i])) ||
            (state[i] == ACTIVE_LOST &&
             (r = activefile_lost(userid, partition, &(*items)[i])))) {
            talloc_free(state);
            return r;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && state[i] == ACTIVE_UNBUILT) {
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

int compact_cleanup_exclusive(const char *userid)
{
    struct activeitem *items = NULL;
    char *partition = NULL;
    int changed, r;

    if ((r = xapianlock_user_partition(NULL, userid, &partition)))
        return r;
    r = activefile_read(NULL, userid, &items);
    if (r == IMAP_NOTFOUND)
        r = 0;
    else if (!r && !(r = compact_cleanup_locked(userid, partition, &items, &changed)) && changed)
        r = activefile_write(userid, items, NULL);
    talloc_free(items);
    talloc_free(partition);
    return r;
}

/* ------------------------------------------------------------ step 5 */

/* The indexed state of one mailbox in several sources: the union. */
static char *merge_metadata(void *ctx, const char *key, const char *const *vals,
                            unsigned nvals)
{
    struct uidset *all, *one;

    if (strncmp(key, SCHEMA_INDEXED_KEY, strlen(SCHEMA_INDEXED_KEY)))
        return talloc_strdup(ctx, vals[0]);
    all = uidset_new(ctx);
    for (unsigned i = 0; i < nvals; i++) {
        if (uidset_parse(ctx, vals[i], strlen(vals[i]), &one)) {
            xlog(LOG_ERR, "metadata %s is corrupt in a source: '%s'", key, vals[i]);
            return NULL;
        }
        uidset_union(all, one);
    }
    return uidset_format(ctx, all);
}

static int found_one(void *rock, const char *uniqueid, uint32_t uid)
{
    (void)rock;
    (void)uniqueid;
    (void)uid;
    return 1;
}

/* A document is kept when its GUID has a live copy in the GUID db. */
static int is_live(void *rock, const char *guidhex)
{
    uint8_t guid[MESSAGE_GUID_SIZE];

    return rock && !message_guid_from_hex(guidhex, guid) &&
           guiddb_lookup(rock, guid, found_one, NULL) == 1;
}

static unsigned long long tree_bytes(const char *dir)
{
    unsigned long long total = 0;
    struct dirent *de;
    DIR *d = opendir(dir);

    while (d && (de = readdir(d))) {
        struct stat st;
        char *p = talloc_asprintf(NULL, "%s/%s", dir, de->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            total += (unsigned long long)st.st_size;
        talloc_free(p);
    }
    if (d)
        closedir(d);
    return total;
}

/* -o: the files of SRC, copied into DEST. */
static int copy_dir(const char *src, const char *dest)
{
    struct dirent *de;
    DIR *d = opendir(src);
    int r = 0;

    if (!d)
        return IMAP_IOERROR;
    if (mkdir(dest, 0700) < 0) {
        closedir(d);
        xlog_syserr("mkdir", dest);
        return IMAP_IOERROR;
    }
    while (!r && (de = readdir(d))) {
        char *from = talloc_asprintf(NULL, "%s/%s", src, de->d_name);
        char *to = talloc_asprintf(from, "%s/%s", dest, de->d_name);
        struct stat st;
        char *buf;
        size_t len;
        if (stat(from, &st) == 0 && S_ISREG(st.st_mode)) {
            if (read_file(from, from, &buf, &len) < 0) {
                xlog_syserr("read", from);
                r = IMAP_IOERROR;
            } else {
                r = file_write_sync(to, buf, len, 0);
            }
        }
        talloc_free(from);
    }
    closedir(d);
    return r ? r : fsync_dir(dest);
}

/* Builds NEWDIR from the built SRCS (empty ones were never written)
 * and, when PL, by reindexing the messages of RDIRS. */
static int build_target(const char *userid, char **srcs, char **rdirs, struct plan *pl,
                        const char *newdir, int flags, struct guiddb *gdb,
                        struct compact_stats *st)
{
    const char **have = talloc_array(NULL, const char *, talloc_array_length(srcs));
    unsigned n = 0;
    struct xw_dbw *dbw = NULL;
    int r;

    for (size_t i = 0; i < talloc_array_length(rdirs); i++)
        st->bytes_in += tree_bytes(rdirs[i]);
    for (size_t i = 0; i < talloc_array_length(srcs); i++) {
        if (activefile_dir_unbuilt(srcs[i]))
            continue;
        have[n++] = srcs[i];
        st->bytes_in += tree_bytes(srcs[i]);
    }
    if (n == 0) {
        /* Nothing was ever written to the sources: an empty database. */
        r = xw_dbw_open(have, newdir, 1, &dbw);
        if (!r)
            r = xw_dbw_close(&dbw);
    } else if ((flags & COMPACT_COPY) && n == 1) {
        r = copy_dir(have[0], newdir);
    } else if (flags & COMPACT_FILTER) {
        r = xw_copy_docs(have, n, newdir, is_live, gdb, merge_metadata, &st->kept,
                         &st->dropped);
    } else {
        r = xw_compact(have, n, newdir, merge_metadata);
    }
    if (!r && pl)
        r = compact_reindex_into(userid, newdir, pl, st);
    if (r)
        xlog(LOG_ERR, "user %s: building %s failed: %s", userid, newdir, error_message(r));
    else
        st->bytes_out = tree_bytes(newdir);
    talloc_free(have);
    return r;
}

/* ------------------------------------------------------------ the steps */

/* At step K, under the namelock: the user is not the one of step 1. */
static int user_gone(const char *userid, int k, struct compact_stats *st)
{
    st->target[0] = 0;
    xlog(LOG_NOTICE, "user %s: deleted or created again since step 1: compaction "
         "abandoned at step %d, nothing changed", userid, k);
    return IMAP_AGAIN;
}

/* Lost a race, or failed after step 1: take our target out of the list
 * again (EXCLUSIVE namelock held) and remove its .NEW. */
static void undo_target(const char *userid, const struct activeitem *target,
                        const char *targetdir, const char *newdir)
{
    struct activeitem *items = NULL, *keep;
    size_t k = 0;

    xapianlock_remove_tree(newdir);
    if (activefile_read(NULL, userid, &items))
        return;
    keep = talloc_array(items, struct activeitem, talloc_array_length(items));
    for (size_t i = 0; i < talloc_array_length(items); i++)
        if (!same_item(&items[i], target))
            keep[k++] = items[i];
    if (k < talloc_array_length(items)) {
        keep = talloc_realloc(items, keep, struct activeitem, k);
        /* Its empty directory goes once the list no longer names it. */
        if (!activefile_write(userid, keep, NULL))
            xapianlock_remove_tree(targetdir);
    }
    talloc_free(items);
}

static int check_tiers(const char *userid, const char *partition, const char *desttier,
                       const char *const *srctiers)
{
    const char *deftier = config_defaultsearchtier(NULL);

    if (!deftier || !config_searchpartition(NULL, deftier, partition)) {
        xlog(LOG_ERR, "user %s: the default search tier has no searchpartition for "
             "partition %s", userid, partition);
        return IMAP_SEARCH_TIER_UNKNOWN;
    }
    for (int i = -1; i < 0 || srctiers[i]; i++) {
        const char *t = i < 0 ? desttier : srctiers[i];
        if (!config_searchpartition(NULL, t, partition)) {
            xlog(LOG_ERR, "user %s: tier '%s' has no %ssearchpartition-%s in the "
                 "configuration", userid, t, t, partition);
            return IMAP_SEARCH_TIER_UNKNOWN;
        }
    }
    return 0;
}

static int is_source(const char *tier, const char *const *srctiers)
{
    for (size_t i = 0; srctiers[i]; i++)
        if (!strcmp(srctiers[i], tier))
            return 1;
    return 0;
}

int compact_dbs(const char *userid, const char *desttier, const char *const *srctiers,
                const char *const *reindex, int flags, struct compact_stats *st)
{
    void *tmp = talloc_new(NULL);
    struct mboxlock *lock = NULL;
    struct activefile *af = NULL;
    struct activeitem *items = NULL, *next, first, target = { NULL, 0 };
    struct guiddb *gdb = NULL;
    char *partition = NULL, *frozen = NULL, *targetdir = NULL, *newdir = NULL, **srcdirs;
    char *me = NULL;
    char **rdirs;
    struct plan plan, *pl = NULL;
    size_t n, k;
    int r, changed = 0;
    unsigned nextgen = 0;

    memset(st, 0, sizeof *st);
    if ((r = xapianlock_user_partition(tmp, userid, &partition)) ||
        (r = check_tiers(userid, partition, desttier, srctiers)))
        goto out;

    /* 1: EXCLUSIVE: freeze the sources behind a new first item, list the
     * target at the tail. */
    if ((r = xapianlock_namelock(userid, flags & COMPACT_NONBLOCK ? LOCK_NONBLOCKING
                                                                  : LOCK_EXCLUSIVE, &lock)))
        goto out;
    /* Who the user is: whenever the namelock is taken again, a user of
     * the same name created since may have listed the same numbers for
     * its own databases (docs/model: RECREATE). */
    me = xapianlock_inbox_uniqueid(tmp, userid);
    r = me ? activefile_read(tmp, userid, &items) : IMAP_NOTFOUND;
    if (r == IMAP_NOTFOUND) {
        r = 0;                    /* nothing indexed, or no user: nothing to compact */
        goto out;
    }
    /* The new generation numbers come from the list as read, before the
     * cleanup drops the unbuilt target of another run: that run may be
     * alive (between steps 6 and 7) and would later undo its target by
     * name, so the name must not be given to anything else
     * (docs/model: REUSE_GEN). */
    if (!r)
        nextgen = activefile_next_gen(userid, partition, items);
    if (r || (r = activefile_check_tiers(userid, partition, items)) ||
        (r = compact_cleanup_locked(userid, partition, &items, &changed)))
        goto out;
    talloc_steal(tmp, items);
    n = talloc_array_length(items);
    srcdirs = talloc_array(tmp, char *, 0);
    rdirs = talloc_array(tmp, char *, 0);
    for (size_t i = 0; i < n; i++)
        if (is_source(items[i].tier, srctiers))
            st->sources++;
    if (!st->sources || (r = compact_check_reindex_items(userid, items, srctiers, reindex))) {
        if (!r && changed)
            r = activefile_write(userid, items, NULL);
        goto out;
    }
    first.tier = talloc_strdup(tmp, config_defaultsearchtier(NULL));
    first.gen = nextgen;
    target.tier = talloc_strdup(tmp, desttier);
    target.gen = first.gen + 1;
    next = talloc_array(tmp, struct activeitem, n + 2);
    next[0] = first;
    for (size_t i = 0; i < n; i++)
        next[i + 1] = items[i];
    next[n + 1] = target;
    /* Their empty directories first: a listed item without one is lost. */
    if ((r = activefile_item_create(userid, partition, &first)) ||
        (r = activefile_item_create(userid, partition, &target)))
        goto out;
    fault_point("xapianactive.dirs");
    if ((r = activefile_write(userid, next, NULL)))
        goto out;
    frozen = activefile_format(tmp, next);
    snprintf(st->target, sizeof st->target, "%s:%u", target.tier, target.gen);
    targetdir = activefile_item_dir(tmp, userid, partition, &target);
    newdir = talloc_asprintf(tmp, "%s.NEW", targetdir);
    for (size_t i = 0; i < n; i++) {
        if (!is_source(items[i].tier, srctiers))
            continue;
        char ***dirs = compact_is_reindexed(&items[i], reindex, flags) ? &rdirs : &srcdirs;
        size_t m = talloc_array_length(*dirs);
        *dirs = talloc_realloc(tmp, *dirs, char *, m + 1);
        (*dirs)[m] = activefile_item_dir(*dirs, userid, partition, &items[i]);
    }
    step(1);

    /* 2 */
    mboxname_release(&lock);
    step(2);

    /* Reindexing: what to index is read now, holding the Xapian locks and
     * then the mailbox locks, never both at once (docs/LOCKING.md). */
    if (talloc_array_length(rdirs)) {
        pl = &plan;
        if ((r = compact_plan_state(tmp, userid, frozen, rdirs, pl)) ||
            (r = compact_plan_messages(userid, pl)))
            goto undo;
    }

    /* The GUID db's read snapshot comes before the Xapian locks
     * (docs/LOCKING.md); -F keeps the documents live in it. */
    if (flags & COMPACT_FILTER) {
        r = guiddb_open(tmp, userid, 0, &gdb);
        if (!r)
            r = guiddb_begin(gdb, 0);
        if (r == IMAP_NOTFOUND)
            r = 0;                /* no mail: no document is live */
        if (r)
            goto undo;
    }

    /* 3: SHARED + READ: has anyone changed the list since step 1? */
    if ((r = xapianlock_namelock(userid, LOCK_SHARED, &lock)))
        goto undo;
    if (!xapianlock_same_user(userid, me)) {
        r = user_gone(userid, 3, st);
        goto out;
    }
    if ((r = activefile_lock(tmp, userid, 0, &af)))
        goto undo;
    if (strcmp(activefile_format(tmp, af->items), frozen)) {
        xlog(LOG_NOTICE, "user %s: xapianactive changed before step 3: another "
             "compaction won; %s abandoned", userid, st->target);
        r = IMAP_AGAIN;
        goto undo;
    }
    step(3);

    /* 4 */
    activefile_unlock(&af);
    step(4);

    /* 5: the target, privately, under the SHARED namelock only. */
    /* Beside the target's directory (made at step 1): nothing is made
     * above it, so a partition that went away is not made again. */
    if (xapianlock_remove_tree(newdir)) {
        r = IMAP_IOERROR;
        goto undo;
    }
    if ((r = build_target(userid, srcdirs, rdirs, pl, newdir, flags, gdb, st)))
        goto undo;
    if (gdb) {
        guiddb_abort(gdb);
        guiddb_close(&gdb);
    }
    step(5);

    /* 6 */
    mboxname_release(&lock);
    step(6);

    /* 7: EXCLUSIVE: the same list as at step 1, or we lost the race. */
    if ((r = xapianlock_namelock(userid, LOCK_EXCLUSIVE, &lock)))
        goto undo;
    if (!xapianlock_same_user(userid, me)) {
        r = user_gone(userid, 7, st);
        goto out;
    }
    r = activefile_read(tmp, userid, &items);
    if (r || strcmp(activefile_format(tmp, items), frozen)) {
        xlog(LOG_NOTICE, "user %s: xapianactive changed before step 7: another "
             "compaction won; %s abandoned", userid, st->target);
        r = r ? r : IMAP_AGAIN;
        goto undo;
    }
    step(7);

    /* 8: the target appears, whole. */
    if (rename(newdir, targetdir) < 0 || fsync_parent(targetdir)) {
        xlog_syserr("rename", newdir);
        r = IMAP_IOERROR;
        goto undo;
    }
    step(8);

    /* 9: the sources leave the list. */
    n = talloc_array_length(items);
    next = talloc_array(tmp, struct activeitem, n);
    for (size_t i = k = 0; i < n; i++)
        if (i == 0 || same_item(&items[i], &target) || !is_source(items[i].tier, srctiers))
            next[k++] = items[i];
    next = talloc_realloc(tmp, next, struct activeitem, k);
    if ((r = activefile_write(userid, next, NULL)))
        goto out;                 /* target and sources both listed: duplicates only */
    step(9);

    /* 10, 11 */
    mboxname_release(&lock);
    step(10);
    if ((r = xapianlock_namelock(userid, LOCK_SHARED, &lock)))
        goto out;
    step(11);

    /* 12: the sources and anything else no longer listed; a .NEW only if
     * its target is not listed (another run may be building it).  Listed
     * *now*: no lock was held at step 10, so another run may have changed
     * the list since step 9 (docs/model: STALE_STEP12); under the SHARED
     * namelock it cannot change. */
    r = xapianlock_same_user(userid, me) ? activefile_read(tmp, userid, &items)
                                         : IMAP_NOTFOUND;
    if (r == IMAP_NOTFOUND)
        r = 0;                    /* the user was deleted meanwhile */
    else if (!r)
        r = remove_unlisted(userid, partition, items, 0);
    step(12);
    goto out;

undo:
    if (af)
        activefile_unlock(&af);
    if (gdb) {
        guiddb_abort(gdb);
        guiddb_close(&gdb);
    }
    if (lock)
        mboxname_release(&lock);
    /* Our target's name is ours only as long as the user is: a user
     * created since may list it for a database of its own.  (Every .NEW
     * of that name was then removed by delete_user.) */
    if (!xapianlock_namelock(userid, LOCK_EXCLUSIVE, &lock) &&
        xapianlock_same_user(userid, me))
        undo_target(userid, &target, targetdir, newdir);
    st->target[0] = 0;
out:
    /* 13 */
    if (af)
        activefile_unlock(&af);
    if (gdb)
        guiddb_close(&gdb);
    if (lock)
        mboxname_release(&lock);
    if (!r)
        step(13);
    talloc_free(tmp);
    return r;
}
