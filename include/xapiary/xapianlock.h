/* xapianlock.h - a user's search tiers and the two locks that guard them
 * (LOCKING.md in the documentation directory), for a program that opens
 * the Xapian databases itself; search.h does all of this for a search.
 *
 * A user's search index is a list of Xapian databases (xapianactive): the
 * first may be written, all are read together.  Two locks:
 *
 *   the Xapian namelock "$XAPIAN$USERID"
 *     SHARED     xapianactive will not change, and no listed directory
 *                will be deleted, while you hold it
 *     EXCLUSIVE  you may change xapianactive and delete directories
 *   the lock on the xapianactive file
 *     READ       every listed database can be read consistently
 *     WRITE      you may write the first listed database
 *
 * taken in that order and released in reverse.
 *
 * Calling sequence (search)
 *     struct xapianlock *xl = NULL;
 *     r = xapianlock_begin_search(ctx, "alice", &xl);
 *     ... open xapianlock_paths(xl) read-only and search ...
 *     xapianlock_end(&xl);
 *
 * Calling sequence (indexing)
 *     r = xapianlock_begin_mailbox_update(ctx, "alice", &xl);
 *     ... open xapianlock_write_path(xl) for writing, add, commit ...
 *     xapianlock_end(&xl);
 *
 * Errors: IMAP_MAILBOX_NONEXISTENT (no user.ID), IMAP_MAILBOX_BADNAME (bad
 * userid), IMAP_SEARCH_TIER_UNKNOWN (xapianactive names a tier the config
 * lacks for the user's partition), IMAP_MAILBOX_BADFORMAT (corrupt
 * xapianactive), IMAP_SEARCH_CORRUPT (a listed directory is missing or
 * cannot be read, or its search partition is missing),
 * IMAP_MAILBOX_LOCKED (namelock_timeout expired), IMAP_IOERROR.
 * Every one is logged with the user and the path.
 *
 * Memory: a struct xapianlock is a talloc object under the CTX passed to
 * begin (NULL: a new root), released by xapianlock_end() (which frees it);
 * strings it returns are its own.  Threads: one thread at a time (see
 * <xapiary/xapiary.h>); the locks belong to the process.
 */
#ifndef XAPIARY_XAPIANLOCK_H
#define XAPIARY_XAPIANLOCK_H

#ifdef __cplusplus
extern "C" {
#endif

struct xapianlock;

/* xapianlock_begin_search - lock USERID's tiers for reading: SHARED
 * namelock, then READ lock on xapianactive, held until xapianlock_end().
 * CTX: talloc parent of *XL_R.  USERID: alice for user.alice.
 * Returns 0 and *XL_R, or an error of the list above with *XL_R NULL.
 * A user with nothing indexed yet gets an empty xapianlock_paths(). */
int xapianlock_begin_search(void *ctx, const char *userid, struct xapianlock **xl_r);

/* xapianlock_begin_mailbox_update - lock USERID's tiers for indexing:
 * SHARED namelock, then WRITE lock on xapianactive (one writer per user;
 * searches wait), held until xapianlock_end().  CTX, USERID, *XL_R and
 * returns as xapianlock_begin_search().  For a user without
 * xapianactive, first creates it and its first item under the EXCLUSIVE
 * namelock, released before the locks above are taken. */
int xapianlock_begin_mailbox_update(void *ctx, const char *userid,
                                    struct xapianlock **xl_r);

/* xapianlock_end - release the xapianactive lock, then the namelock,
 * free *XLP and set it to NULL.  XLP or *XLP NULL is a no-op. */
void xapianlock_end(struct xapianlock **xlp);

/* xapianlock_paths - for a search: the database directories to open, in
 * xapianactive order, items not built yet (an empty directory: a first
 * item before its first batch, a compaction target before its rename)
 * left out.  A listed item whose directory is missing is lost: begin_search
 * fails with IMAP_SEARCH_CORRUPT, naming it.  A NULL-terminated array
 * owned by XL (freed by xapianlock_end()). */
const char *const *xapianlock_paths(const struct xapianlock *xl);

/* xapianlock_write_path - for an update: the directory of the first
 * (writable) database; it exists (made when the item was listed), maybe
 * empty.  Owned by XL. */
const char *xapianlock_write_path(const struct xapianlock *xl);

/* xapianlock_partition - the user's mail partition (e.g. "default"), which
 * chooses the search partitions.  Owned by XL. */
const char *xapianlock_partition(const struct xapianlock *xl);

/* xapianlock_list_files - every file of USERID's active databases (for a
 * backup), one absolute path per element, NULL-terminated, in *FILES_R: a
 * talloc array under CTX, its strings its children; the caller frees it
 * with talloc_free().  Holds the SHARED namelock during the call only.
 * Returns 0 or an error of the list above. */
int xapianlock_list_files(void *ctx, const char *userid, char ***files_r);

/* xapianlock_forget_lost - give up USERID's lost databases (squatter
 * --forget-lost): under the EXCLUSIVE namelock, drops from xapianactive
 * every item whose directory is missing (a new empty first item replaces a
 * lost first one), each logged, so that their mail is unindexed and the next
 * run indexes it; *N_R says how many.  Refuses (IMAP_SEARCH_CORRUPT) while a
 * search partition of a listed item is missing: a disk that is away is not
 * lost. */
int xapianlock_forget_lost(const char *userid, unsigned *n_r);

#ifdef __cplusplus
}
#endif
#endif
