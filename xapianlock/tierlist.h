/* tierlist.h - the lifecycle of a user's search databases: how an item of
 * xapianactive is numbered, listed, built, published and retired.  The
 * states and the rules that make each transition safe are at the top of
 * tierlist.c; docs/LOCKING.md gives the locks of compaction and side
 * writers step by step.  Names of directories: common/tierpath.h.
 *
 * Calling sequence of a new item that is built apart (a compaction's
 * target, a side database), with the Xapian namelock held as noted:
 *
 *   EXCLUSIVE  items = activefile_read(); gen = tierlist_next_gen(items);
 *              tierlist_clean(&items); tierlist_target(gen) -> t;
 *              tierlist_reserve(items + t->item)               reserved
 *   SHARED     tierlist_build(t); write t->newdir              building
 *   SHARED or  tierlist_publish(t)                             published
 *   EXCLUSIVE  (or, on failure: tierlist_abandon(t), which leaves it
 *              reserved, or under EXCLUSIVE tierlist_take_back(t))
 *   EXCLUSIVE  tierlist_retire(the items it replaces)          retired
 *   SHARED     tierlist_remove_unlisted(the list as it is now)
 *
 * Errors are XAP_IMAP_* codes, logged naming the user and the path. */
#ifndef XAPIARY_TIERLIST_H
#define XAPIARY_TIERLIST_H

#include <stddef.h>

#include "xapianlock/activefile.h"

/* A new item on its way from reserved to published, and its directories
 * (under the struct). */
struct tiertarget {
    struct activeitem item;
    char *dir;                   /* xapian.N: empty until published */
    char *newdir;                /* xapian.N.NEW: the database while building */
};

/* ------------------------------------------------------------ states */

/* What is on disk for a listed item (docs/FORMAT.md "Search tiers"). */
enum {
    TIERLIST_PUBLISHED = 1,      /* its directory holds a database */
    TIERLIST_RESERVED,           /* its directory is empty: nothing written yet */
    TIERLIST_LOST                /* its directory is missing: tierlist_lost says so */
};

/* The directory of ITEM for USERID on PARTITION, under CTX (it need not
 * exist); NULL with *R_R as tierpath_user_dir. */
char *tierlist_item_dir(void *ctx, const char *userid, const char *partition,
                        const struct activeitem *item, int *r_r);
/* 0 with *STATE_R; XAP_IMAP_SEARCH_CORRUPT when the directory cannot be read
 * (logged), or an error of tierlist_item_dir.  *DIR_R (may be NULL): the
 * directory, under CTX. */
int tierlist_item_check(void *ctx, const char *userid, const char *partition,
                        const struct activeitem *item, char **dir_r, int *state_r);
/* Logs that ITEM is lost, naming its directory, or its search partition
 * when that is what is missing (not mounted?); XAP_IMAP_SEARCH_CORRUPT. */
int tierlist_lost(const char *userid, const char *partition,
                  const struct activeitem *item);
/* 0 when the search partition of TIER for PARTITION is a directory;
 * else XAP_IMAP_SEARCH_CORRUPT (logged: not mounted?) or
 * XAP_IMAP_SEARCH_TIER_UNKNOWN. */
int tierlist_check_partition(const char *userid, const char *partition, const char *tier);
/* 1 when DIR exists and is empty: a reserved item, nothing written. */
int tierlist_dir_unbuilt(const char *dir);
/* 1 when ITEMS lists ITEM. */
int tierlist_listed(const struct activeitem *items, const struct activeitem *item);

/* ------------------------------------------------------------ transitions */

/* The next free generation: one above every N in ITEMS and every xapian.N
 * or xapian.N.NEW directory of USERID in every tier, so a name is never
 * given out twice.  Numbers come from the list as read, before
 * tierlist_clean (docs/model: REUSE_GEN). */
unsigned tierlist_next_gen(const char *userid, const char *partition,
                           const struct activeitem *items);

/* Under the EXCLUSIVE namelock, on *ITEMS as read: retires listed items
 * other than the first that were never built (reserved: targets of dead
 * runs; a live run's would lose its race anyway, since the caller changes
 * the list) and removes every unlisted directory and every .NEW.  A
 * listed item whose directory is missing is lost: XAP_IMAP_SEARCH_CORRUPT,
 * nothing changed.  *CHANGED_R: *ITEMS was shortened; the caller writes
 * it (tierlist_reserve does). */
int tierlist_clean(const char *userid, const char *partition, struct activeitem **items,
                   int *changed_r);

/* Under the EXCLUSIVE namelock: removes every empty xapian* directory of
 * USERID in every tier (with no xapianactive, those are what a crash left
 * between making a first item's directory and listing it). */
void tierlist_remove_unbuilt(const char *userid, const char *partition);

/* TIER:GEN as a target built apart, with its directories, under CTX.
 * Errors of tierlist_item_dir. */
int tierlist_target(void *ctx, const char *userid, const char *partition,
                    const char *tier, unsigned gen, struct tiertarget **t_r);

/* Under the EXCLUSIVE namelock: HEAD (may be NULL, a new first item),
 * ITEMS, then TAIL[0..NTAIL) become the list.  The new items' empty
 * directories are made first (fault point xapianactive.dirs), since a
 * listed item without one is lost; then the list is written
 * (activefile_write with FAULT).  *LIST_R (may be NULL): the list
 * written, under CTX. */
int tierlist_reserve(void *ctx, const char *userid, const char *partition,
                     const struct activeitem *items, const struct activeitem *head,
                     const struct activeitem *tail, size_t ntail, const char *fault,
                     struct activeitem **list_r);

/* Building: removes a .NEW left by a dead run, so that the caller creates
 * T->newdir afresh.  The caller holds the SHARED namelock, has checked
 * under it that T is still listed, and either keeps the lock until
 * tierlist_publish (side writers) or publishes only after checking under
 * the EXCLUSIVE namelock that the list has not changed since T was
 * reserved (compaction): an EXCLUSIVE holder in between may have removed
 * the .NEW, and has changed the list. */
int tierlist_build(const struct tiertarget *t);

/* Published: T->newdir, complete, renamed over T's empty directory (and
 * made durable).  XAP_IMAP_IOERROR, logged, and T as it was. */
int tierlist_publish(const struct tiertarget *t);

/* A build given up: its .NEW removed, T stays reserved (readers skip it;
 * the next tierlist_clean retires it). */
void tierlist_abandon(const struct tiertarget *t);

/* A lost race or a failure: T's .NEW removed and T retired, with its
 * empty directory, if it is still listed.  EXCLUSIVE namelock held, and
 * the user checked to be the one T was listed for. */
void tierlist_take_back(const char *userid, const struct tiertarget *t);

/* Under the EXCLUSIVE namelock: writes ITEMS without the items of GONE
 * (a talloc array).  Their directories stay until
 * tierlist_remove_unlisted. */
int tierlist_retire(const char *userid, const struct activeitem *items,
                    const struct activeitem *gone);

/* Under the SHARED namelock (the list cannot change): removes every
 * directory of USERID in every tier that ITEMS (the list as it is now)
 * does not name, and a .NEW only if its target is not listed (a live
 * run may be building it). */
int tierlist_remove_unlisted(const char *userid, const char *partition,
                             const struct activeitem *items);

#endif
