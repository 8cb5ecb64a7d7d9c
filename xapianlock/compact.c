/* compact.c - compact_dbs, the 13 steps of spec section 9 (seeds/003).
 *
 * The sources are frozen at step 1 (a new first item takes the writes),
 * so step 5 reads databases nobody writes and needs no lock beyond the
 * SHARED namelock that keeps them from being deleted.  The target is built
 * as xapian.M.NEW, private to this run, and becomes visible by one rename
 * under the EXCLUSIVE namelock.  A process killed at any step leaves the
 * sources listed, so nothing indexed is ever unsearchable; the debris is
 * removed by the next compaction (tierlist_clean at step 1) or step 12 of
 * any run.  Fault point compact.K fires right after step K.  What each
 * step does to the list and the directories (reserve the target, build,
 * publish, retire the sources) is xapianlock/tierlist.c's: this file
 * says when, and with which lock.
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

#include <glib.h>
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
#include "xapianlock/tierlist.h"
#include "xapianlock/uidset.h"
#include "xapianlock/xapianlock-private.h"

static void step(int k)
{
    char name[32];

    snprintf(name, sizeof name, "compact.%d", k);
    fault_point(name);
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

/* The live GUIDs (hex), read from the GUID db in one scan: a look-up
 * per document cost a SQLite query each. */
static int add_live(void *rock, const uint8_t guid[XAP_MESSAGE_GUID_SIZE],
                    const char *uniqueid, uint32_t uid)
{
    char hex[41];

    (void)uniqueid;
    (void)uid;
    message_guid_hex(guid, hex);
    if (!g_hash_table_contains(rock, hex))
        g_hash_table_add(rock, g_strdup(hex));
    return 0;
}

/* A document is kept when its GUID has a live copy in the GUID db. */
static int is_live(void *rock, const char *guidhex)
{
    return g_hash_table_contains(rock, guidhex);
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
        return XAP_IMAP_IOERROR;
    if (mkdir(dest, 0700) < 0) {
        closedir(d);
        xlog_syserr("mkdir", dest);
        return XAP_IMAP_IOERROR;
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
                r = XAP_IMAP_IOERROR;
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
        if (tierlist_dir_unbuilt(srcs[i]))
            continue;
        have[n++] = srcs[i];
        st->bytes_in += tree_bytes(srcs[i]);
    }
    if (n == 0) {
        /* Nothing was ever written to the sources: an empty database. */
        r = xw_dbw_open(have, newdir, XW_CREATE | XW_NO_SYNC, &dbw);
        if (!r)
            r = xw_dbw_close(&dbw);
    } else if ((flags & COMPACT_COPY) && n == 1) {
        r = copy_dir(have[0], newdir);
    } else if (flags & COMPACT_FILTER) {
        /* Without a GUID db, nothing is live. */
        GHashTable *live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        r = gdb ? guiddb_foreach_location(gdb, add_live, live) : 0;
        if (!r)
            r = xw_compact_filter(have, n, newdir, is_live, live, merge_metadata, &st->kept,
                                  &st->dropped);
        g_hash_table_destroy(live);
    } else {
        r = xw_compact(have, n, newdir, merge_metadata);
    }
    if (!r && pl)
        r = compact_reindex_into(userid, newdir, pl, st);
    /* Written without syncing (private: a crash leaves debris only), so
     * made durable here, once, before step 8 renames it into the list;
     * still under the SHARED namelock, so as not to sync under the
     * EXCLUSIVE one. */
    if (!r)
        r = sync_tree(newdir);
    if (r)
        xlog(LOG_ERR, "user %s: building %s failed: %s", userid, newdir, xap_error_message(r));
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
    return XAP_IMAP_AGAIN;
}

static int check_tiers(const char *userid, const char *partition, const char *desttier,
                       const char *const *srctiers)
{
    const char *deftier = config_defaultsearchtier(NULL);

    if (!deftier || !config_searchpartition(NULL, deftier, partition)) {
        xlog(LOG_ERR, "user %s: the default search tier has no searchpartition for "
             "partition %s", userid, partition);
        return XAP_IMAP_SEARCH_TIER_UNKNOWN;
    }
    for (int i = -1; i < 0 || srctiers[i]; i++) {
        const char *t = i < 0 ? desttier : srctiers[i];
        if (!config_searchpartition(NULL, t, partition)) {
            xlog(LOG_ERR, "user %s: tier '%s' has no %ssearchpartition-%s in the "
                 "configuration", userid, t, t, partition);
            return XAP_IMAP_SEARCH_TIER_UNKNOWN;
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

/* What a run carries from step to step. */
struct run {
    const char *userid;
    char *partition;
    char *me;                     /* the INBOX's uniqueid at step 1: who the user is */
    char *frozen;                 /* the list step 1 wrote */
    struct tiertarget *target;    /* NULL: nothing to compact */
    struct activeitem *sources;   /* the listed items merged */
    char **srcdirs, **rdirs;      /* their directories: compacted, reindexed */
};

/* Step 1, under the EXCLUSIVE namelock: the sources are frozen behind a
 * new first item (which takes the writes from now on) and the target is
 * reserved at the tail of the list. */
static int list_target(void *tmp, struct run *run, const char *desttier,
                       const char *const *srctiers, const char *const *reindex, int flags,
                       struct compact_stats *st)
{
    struct activeitem *items = NULL, *list, first;
    unsigned gen = 0;
    int r, changed;

    /* Who the user is: whenever the namelock is taken again, a user of
     * the same name created since may have listed the same numbers for
     * its own databases (docs/model: RECREATE). */
    run->me = xapianlock_inbox_uniqueid(tmp, run->userid);
    r = run->me ? activefile_read(tmp, run->userid, &items) : XAP_IMAP_NOTFOUND;
    if (r == XAP_IMAP_NOTFOUND)
        return 0;                 /* nothing indexed, or no user: nothing to compact */
    /* The new generation numbers come from the list as read, before the
     * cleanup drops the unbuilt target of another run: that run may be
     * alive (between steps 6 and 7) and would later undo its target by
     * name, so the name must not be given to anything else
     * (docs/model: REUSE_GEN). */
    if (!r)
        gen = tierlist_next_gen(run->userid, run->partition, items);
    if (r || (r = activefile_check_tiers(run->userid, run->partition, items)) ||
        (r = tierlist_clean(run->userid, run->partition, &items, &changed)))
        return r;
    talloc_steal(tmp, items);
    run->sources = talloc_array(tmp, struct activeitem, 0);
    run->srcdirs = talloc_array(tmp, char *, 0);
    run->rdirs = talloc_array(tmp, char *, 0);
    for (size_t i = 0; i < talloc_array_length(items); i++) {
        if (!is_source(items[i].tier, srctiers))
            continue;
        size_t n = talloc_array_length(run->sources);
        run->sources = talloc_realloc(tmp, run->sources, struct activeitem, n + 1);
        run->sources[n] = items[i];
        char ***dirs = compact_is_reindexed(&items[i], reindex, flags) ? &run->rdirs
                                                                         : &run->srcdirs;
        size_t m = talloc_array_length(*dirs);
        *dirs = talloc_realloc(tmp, *dirs, char *, m + 1);
        if (!((*dirs)[m] = tierlist_item_dir(*dirs, run->userid, run->partition,
                                             &items[i], &r)))
            return r;
    }
    st->sources = (unsigned)talloc_array_length(run->sources);
    if (!st->sources ||
        (r = compact_check_reindex_items(run->userid, items, srctiers, reindex)))
        return !r && changed ? activefile_write(run->userid, items, NULL) : r;
    first.tier = talloc_strdup(tmp, config_defaultsearchtier(NULL));
    first.gen = gen;
    if ((r = tierlist_target(tmp, run->userid, run->partition, desttier, gen + 1,
                             &run->target)) ||
        (r = tierlist_reserve(tmp, run->userid, run->partition, items, &first,
                              &run->target->item, 1, NULL, &list))) {
        TALLOC_FREE(run->target);
        return r;
    }
    run->frozen = activefile_format(tmp, list);
    snprintf(st->target, sizeof st->target, "%s:%u", desttier, run->target->item.gen);
    return 0;
}

/* Steps 3 and 7: ITEMS (NULL: not read) must be what step 1 wrote;
 * else another compaction, or a side run, changed the list and won. */
static int lost_race(const struct run *run, const struct activeitem *items, int k,
                     const struct compact_stats *st)
{
    char *now = items ? activefile_format(NULL, items) : NULL;
    int same = now && !strcmp(now, run->frozen);

    talloc_free(now);
    if (same)
        return 0;
    xlog(LOG_NOTICE, "user %s: xapianactive changed before step %d: another "
         "compaction won; %s abandoned", run->userid, k, st->target);
    return XAP_IMAP_AGAIN;
}

int compact_dbs(const char *userid, const char *desttier, const char *const *srctiers,
                const char *const *reindex, int flags, struct compact_stats *st)
{
    void *tmp = talloc_new(NULL);
    struct run run = { .userid = userid };
    struct xap_mboxlock *lock = NULL;
    struct activefile *af = NULL;
    struct activeitem *items = NULL;
    struct guiddb *gdb = NULL;
    struct plan plan, *pl = NULL;
    int r, raced;

    memset(st, 0, sizeof *st);
    if ((r = xapianlock_user_partition(tmp, userid, &run.partition)) ||
        (r = check_tiers(userid, run.partition, desttier, srctiers)))
        goto out;

    /* 1: EXCLUSIVE: freeze the sources behind a new first item, reserve
     * the target at the tail. */
    if ((r = xapianlock_namelock(userid, flags & COMPACT_NONBLOCK ? XAP_LOCK_NONBLOCKING
                                                                  : XAP_LOCK_EXCLUSIVE, &lock)) ||
        (r = list_target(tmp, &run, desttier, srctiers, reindex, flags, st)) || !run.target)
        goto out;
    step(1);

    /* 2 */
    xap_mboxname_release(&lock);
    step(2);

    /* Reindexing: what to index is read now, holding the Xapian locks and
     * then the mailbox locks, never both at once (docs/LOCKING.md). */
    if (talloc_array_length(run.rdirs)) {
        pl = &plan;
        if ((r = compact_plan_state(tmp, userid, run.frozen, run.rdirs, pl)) ||
            (r = compact_plan_messages(userid, pl)))
            goto undo;
    }

    /* The GUID db's read snapshot comes before the Xapian locks
     * (docs/LOCKING.md); -F keeps the documents live in it. */
    if (flags & COMPACT_FILTER) {
        r = guiddb_open(tmp, userid, 0, &gdb);
        if (!r)
            r = guiddb_begin(gdb, 0);
        if (r == XAP_IMAP_NOTFOUND)
            r = 0;                /* no mail: no document is live */
        if (r)
            goto undo;
    }

    /* 3: SHARED + READ: has anyone changed the list since step 1? */
    if ((r = xapianlock_namelock(userid, XAP_LOCK_SHARED, &lock)))
        goto undo;
    if (!xapianlock_same_user(userid, run.me)) {
        r = user_gone(userid, 3, st);
        goto out;
    }
    if ((r = activefile_lock(tmp, userid, 0, &af)) || (r = lost_race(&run, af->items, 3, st)))
        goto undo;
    step(3);

    /* 4 */
    activefile_unlock(&af);
    step(4);

    /* 5: the target, privately, under the SHARED namelock only. */
    if ((r = tierlist_build(run.target)) ||
        (r = build_target(userid, run.srcdirs, run.rdirs, pl, run.target->newdir, flags,
                          gdb, st)))
        goto undo;
    if (gdb) {
        guiddb_abort(gdb);
        guiddb_close(&gdb);
    }
    step(5);

    /* 6 */
    xap_mboxname_release(&lock);
    step(6);

    /* 7: EXCLUSIVE: the same list as at step 1, or we lost the race. */
    if ((r = xapianlock_namelock(userid, XAP_LOCK_EXCLUSIVE, &lock)))
        goto undo;
    if (!xapianlock_same_user(userid, run.me)) {
        r = user_gone(userid, 7, st);
        goto out;
    }
    r = activefile_read(tmp, userid, &items);
    if ((raced = lost_race(&run, items, 7, st))) {
        r = r ? r : raced;
        goto undo;
    }
    step(7);

    /* 8: the target appears, whole. */
    if ((r = tierlist_publish(run.target)))
        goto undo;
    step(8);

    /* 9: the sources leave the list. */
    if ((r = tierlist_retire(userid, items, run.sources)))
        goto out;                 /* target and sources both listed: duplicates only */
    step(9);

    /* 10, 11 */
    xap_mboxname_release(&lock);
    step(10);
    if ((r = xapianlock_namelock(userid, XAP_LOCK_SHARED, &lock)))
        goto out;
    step(11);

    /* 12: the sources and anything else no longer listed; a .NEW only if
     * its target is not listed (another run may be building it).  Listed
     * *now*: no lock was held at step 10, so another run may have changed
     * the list since step 9 (docs/model: STALE_STEP12); under the SHARED
     * namelock it cannot change. */
    r = xapianlock_same_user(userid, run.me) ? activefile_read(tmp, userid, &items)
                                             : XAP_IMAP_NOTFOUND;
    if (r == XAP_IMAP_NOTFOUND)
        r = 0;                    /* the user was deleted meanwhile */
    else if (!r)
        r = tierlist_remove_unlisted(userid, run.partition, items);
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
        xap_mboxname_release(&lock);
    /* Our target's name is ours only as long as the user is: a user
     * created since may list it for a database of its own.  (Every .NEW
     * of that name was then removed by delete_user.) */
    if (!xapianlock_namelock(userid, XAP_LOCK_EXCLUSIVE, &lock) &&
        xapianlock_same_user(userid, run.me))
        tierlist_take_back(userid, run.target);
    st->target[0] = 0;
out:
    /* 13 */
    if (af)
        activefile_unlock(&af);
    if (gdb)
        guiddb_close(&gdb);
    if (lock)
        xap_mboxname_release(&lock);
    if (!r)
        step(13);
    talloc_free(tmp);
    return r;
}
