/* activefile.h - a user's xapianactive file: the list of that user's
 * search databases, as space-separated TIER:N items; the FIRST item is
 * the only one that may be written.  TIER names a configured tier, N a
 * generation that is never reused for that user.
 *
 *   CONFIGDIRECTORY/user/HH/user/ID/xapianactive
 *
 * Database directories: SEARCHPART/HH/user/ID/xapian.N, where SEARCHPART
 * is TIERsearchpartition-PARTITION for the partition of user.ID
 * (common/tierpath.h).  How an item enters and leaves the list, and its
 * directory with it: xapianlock/tierlist.h.
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
 * Returns 0, or XAP_IMAP_MAILBOX_BADFORMAT (logged with NAME) for anything
 * that is not a non-empty list of TIER:N with N a decimal number. */
int activefile_parse(void *ctx, const char *name, const char *buf, size_t len,
                     struct activeitem **items_r);
/* "TIER:N TIER:N...\n" under CTX. */
char *activefile_format(void *ctx, const struct activeitem *items);

/* Every item's tier is configured with a search partition for PARTITION:
 * 0 or XAP_IMAP_SEARCH_TIER_UNKNOWN (logged, naming the user and the tier). */
int activefile_check_tiers(const char *userid, const char *partition,
                           const struct activeitem *items);

char *activefile_path(void *ctx, const char *userid);

/* The locked file. */
struct activefile {
    char *path;
    char *userid;
    struct lockfile *lock;
    int write;
    struct activeitem *items;
};

/* Opens and flocks USERID's xapianactive (WRITE: exclusive), re-checking
 * the inode, and reads the items.  XAP_IMAP_NOTFOUND when there is none. */
int activefile_lock(void *ctx, const char *userid, int write,
                    struct activefile **af_r);
void activefile_unlock(struct activefile **afp);

/* Reads the items without the file lock: only for a holder of the
 * EXCLUSIVE Xapian namelock, for whom the file cannot change.
 * XAP_IMAP_NOTFOUND when there is none. */
int activefile_read(void *ctx, const char *userid, struct activeitem **items_r);
/* Replaces the file (EXCLUSIVE Xapian namelock required).  FAULT names
 * the fault point reached after the new file is durable, before the
 * rename (may be NULL). */
int activefile_write(const char *userid, const struct activeitem *items,
                     const char *fault);

#endif
