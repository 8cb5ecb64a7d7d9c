/* activefile.h - a user's xapianactive file: the list of that user's
 * search databases, as space-separated TIER:N items; the FIRST item is
 * the only one that may be written.  TIER names a configured tier, N a
 * generation that is never reused for that user.
 *
 *   CONFIGDIRECTORY/user/HH/user/ID/xapianactive
 *
 * Database directories: SEARCHPART/HH/user/ID/xapian.N, where SEARCHPART
 * is TIERsearchpartition-PARTITION for the partition of user.ID (Cyrus
 * names generation 0 "xapian"; that name is accepted when reading).
 *
 * The file is replaced, never edited (file_replace: .NEW, fsync, rename),
 * and only by a holder of the EXCLUSIVE Xapian namelock.  Its lock is a
 * flock on the file itself (READ = LOCK_SH, WRITE = LOCK_EX); a locker
 * re-checks after flock that the path still names the inode it locked,
 * and reopens if not (docs/LOCKING.md). */
#ifndef XAPIARY_ACTIVEFILE_H
#define XAPIARY_ACTIVEFILE_H

#include <stddef.h>

struct activeitem {
    char *tier;
    unsigned gen;
};

/* Parses LEN bytes of BUF into a talloc array of items under CTX.
 * Returns 0, or IMAP_MAILBOX_BADFORMAT (logged with NAME) for anything
 * that is not a non-empty list of TIER:N with N a decimal number. */
int activefile_parse(void *ctx, const char *name, const char *buf, size_t len,
                     struct activeitem **items_r);
/* "TIER:N TIER:N...\n" under CTX. */
char *activefile_format(void *ctx, const struct activeitem *items);

/* Every item's tier is configured with a search partition for PARTITION:
 * 0 or IMAP_SEARCH_TIER_UNKNOWN (logged, naming the user and the tier). */
int activefile_check_tiers(const char *userid, const char *partition,
                           const struct activeitem *items);

char *activefile_path(void *ctx, const char *userid);

/* The directory of ITEM for USERID on PARTITION (NULL: see
 * activefile_dir_failed). */
char *activefile_item_dir(void *ctx, const char *userid, const char *partition,
                          const struct activeitem *item);
/* The directory where USERID's databases of TIER live (NULL: see
 * activefile_dir_failed). */
char *activefile_tier_dir(void *ctx, const char *userid, const char *partition,
                          const char *tier);
/* Why the last of the two above in this thread returned NULL:
 * IMAP_SEARCH_TIER_UNKNOWN (no searchpartition configured), or
 * IMAP_PERMISSION_DENIED (a symbolic link on the way, refused and logged),
 * or IMAP_IOERROR. */
int activefile_dir_failed(void);

/* Every listed item has a directory from the moment it is listed
 * (activefile_item_create runs before the list that names it is
 * written), so what is on disk tells the states of an item apart
 * (docs/FORMAT.md "Search tiers"):
 *   ACTIVE_BUILT    its directory holds a database
 *   ACTIVE_UNBUILT  its directory is empty: nothing written yet (a first
 *                   item before its first batch, a compaction's or side
 *                   writer's target before its rename)
 *   ACTIVE_LOST     its directory is missing: a lost database, never an
 *                   empty one (activefile_lost says so)
 * activefile_item_check returns 0 with *STATE_R, IMAP_SEARCH_CORRUPT when
 * the directory cannot be read (logged) or IMAP_SEARCH_TIER_UNKNOWN.
 * *DIR_R (may be NULL) is the directory under CTX. */
enum { ACTIVE_BUILT = 1, ACTIVE_UNBUILT, ACTIVE_LOST };
int activefile_item_check(void *ctx, const char *userid, const char *partition,
                          const struct activeitem *item, char **dir_r, int *state_r);
/* Logs that ITEM is lost, naming its directory, or its search partition
 * when that is what is missing (not mounted?); IMAP_SEARCH_CORRUPT. */
int activefile_lost(const char *userid, const char *partition,
                    const struct activeitem *item);
/* 1 when DIR exists and is empty: an item not built yet. */
int activefile_dir_unbuilt(const char *dir);
/* 0 when the search partition of TIER for PARTITION is a directory;
 * else IMAP_SEARCH_CORRUPT (logged: not mounted?) or
 * IMAP_SEARCH_TIER_UNKNOWN. */
int activefile_check_partition(const char *userid, const char *partition,
                               const char *tier);
/* Makes ITEM's empty directory (and the user's directory above it),
 * never the search partition itself: a missing partition (not mounted)
 * is IMAP_SEARCH_CORRUPT, logged.  An existing empty directory is fine. */
int activefile_item_create(const char *userid, const char *partition,
                           const struct activeitem *item);

/* The locked file. */
struct activefile {
    char *path;
    char *userid;
    struct lockfile *lock;
    int write;
    struct activeitem *items;
};

/* Opens and flocks USERID's xapianactive (WRITE: exclusive), re-checking
 * the inode, and reads the items.  IMAP_NOTFOUND when there is none. */
int activefile_lock(void *ctx, const char *userid, int write,
                    struct activefile **af_r);
void activefile_unlock(struct activefile **afp);

/* Reads the items without the file lock: only for a holder of the
 * EXCLUSIVE Xapian namelock, for whom the file cannot change.
 * IMAP_NOTFOUND when there is none. */
int activefile_read(void *ctx, const char *userid, struct activeitem **items_r);
/* Replaces the file (EXCLUSIVE Xapian namelock required).  FAULT names
 * the fault point reached after the new file is durable, before the
 * rename (may be NULL). */
int activefile_write(const char *userid, const struct activeitem *items,
                     const char *fault);

/* Removes every empty xapian* directory of USERID in every tier: under
 * the EXCLUSIVE namelock, with no xapianactive, those are what a crash
 * left between making a first item's directory and listing it. */
void activefile_remove_unbuilt(const char *userid, const char *partition);

/* The next generation: one above every N in ITEMS and every xapian.N or
 * xapian.N.NEW directory of USERID in every tier, so a name is never
 * reused. */
unsigned activefile_next_gen(const char *userid, const char *partition,
                             const struct activeitem *items);

#endif
