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
 *     READ       the list and the first database's revision are read
 *                consistently (begin_search trades it for a revision
 *                lock before it returns)
 *     WRITE      you may open the first listed database for writing
 *   two revision locks (one per parity of the first database's revision)
 *     SHARED     the revision you opened stays readable, commits go on
 *     EXCLUSIVE  (both, with WRITE) you may commit
 *
 * taken in that order and released in reverse.
 *
 * Calling sequence (search)
 *     struct xap_xapianlock *xl = NULL;
 *     r = xap_xapianlock_begin_search(ctx, "alice", &xl);
 *     ... open xap_xapianlock_paths(xl) read-only and search ...
 *     xap_xapianlock_end(&xl);
 *
 * Calling sequence (indexing)
 *     r = xap_xapianlock_begin_mailbox_update(ctx, "alice", &xl);
 *     ... open xap_xapianlock_write_path(xl) for writing, add, commit ...
 *     xap_xapianlock_end(&xl);
 *
 * Errors: XAP_IMAP_MAILBOX_NONEXISTENT (no user.ID), XAP_IMAP_MAILBOX_BADNAME (bad
 * userid), XAP_IMAP_SEARCH_TIER_UNKNOWN (xapianactive names a tier the config
 * lacks for the user's partition), XAP_IMAP_MAILBOX_BADFORMAT (corrupt
 * xapianactive), XAP_IMAP_SEARCH_CORRUPT (a listed directory is missing or
 * cannot be read, or its search partition is missing),
 * XAP_IMAP_MAILBOX_LOCKED (namelock_timeout expired), XAP_IMAP_IOERROR.
 * Every one is logged with the user and the path.
 *
 * Memory: a struct xap_xapianlock is a talloc object under the CTX passed to
 * begin (NULL: a new root), released by xap_xapianlock_end() (which frees it);
 * strings it returns are its own.  Threads: one thread at a time (see
 * <xapiary/xapiary.h>); the locks belong to the process.
 */
#ifndef XAPIARY_XAPIANLOCK_H
#define XAPIARY_XAPIANLOCK_H

#ifdef __cplusplus
extern "C" {
#endif

struct xap_xapianlock;

/* xap_xapianlock_begin_search - lock USERID's tiers for reading: SHARED
 * namelock, READ lock on xapianactive, the revision lock of the first
 * database's revision SHARED, READ let go; held until
 * xap_xapianlock_end().  Open the paths after this and before the end:
 * what you open stays readable, while commits of the indexer go on.
 * CTX: talloc parent of *XL_R.  USERID: alice for user.alice.
 * Returns 0 and *XL_R, or an error of the list above with *XL_R NULL.
 * A user with nothing indexed yet gets an empty xap_xapianlock_paths(). */
int xap_xapianlock_begin_search(void *ctx, const char *userid, struct xap_xapianlock **xl_r);

/* xap_xapianlock_begin_mailbox_update - lock USERID's tiers for indexing:
 * SHARED namelock, the writer lock (an EXCLUSIVE flock on the first
 * database's directory: one writer per user, a second one waits), then
 * WRITE lock on xapianactive (new searches wait) and both revision locks
 * EXCLUSIVE (waiting for the searches already running), held until
 * xap_xapianlock_end(): commit as often as you like.  (The indexer holds
 * WRITE for less: LOCKING.md.)  CTX, USERID, *XL_R and
 * returns as xap_xapianlock_begin_search().  For a user without
 * xapianactive, first creates it and its first item under the EXCLUSIVE
 * namelock, released before the locks above are taken. */
int xap_xapianlock_begin_mailbox_update(void *ctx, const char *userid,
                                    struct xap_xapianlock **xl_r);

/* xap_xapianlock_end - release the revision locks, the xapianactive lock,
 * then the namelock, free *XLP and set it to NULL.  XLP or *XLP NULL is a
 * no-op. */
void xap_xapianlock_end(struct xap_xapianlock **xlp);

/* xap_xapianlock_paths - for a search: the database directories to open, in
 * xapianactive order, items not built yet (an empty directory: a first
 * item before its first batch, a compaction target before its rename)
 * left out.  A listed item whose directory is missing is lost: begin_search
 * fails with XAP_IMAP_SEARCH_CORRUPT, naming it.  A NULL-terminated array
 * owned by XL (freed by xap_xapianlock_end()). */
const char *const *xap_xapianlock_paths(const struct xap_xapianlock *xl);

/* xap_xapianlock_write_path - for an update: the directory of the first
 * (writable) database; it exists (made when the item was listed), maybe
 * empty.  Owned by XL. */
const char *xap_xapianlock_write_path(const struct xap_xapianlock *xl);

/* xap_xapianlock_partition - the user's mail partition (e.g. "default"), which
 * chooses the search partitions.  Owned by XL. */
const char *xap_xapianlock_partition(const struct xap_xapianlock *xl);

/* xap_xapianlock_list_files - every file of USERID's active databases (for a
 * backup), one absolute path per element, NULL-terminated, in *FILES_R: a
 * talloc array under CTX, its strings its children; the caller frees it
 * with talloc_free().  Holds the SHARED namelock during the call only.
 * Returns 0 or an error of the list above. */
int xap_xapianlock_list_files(void *ctx, const char *userid, char ***files_r);

/* xap_xapianlock_forget_lost - give up USERID's lost databases (squatter
 * --forget-lost): under the EXCLUSIVE namelock, drops from xapianactive
 * every item whose directory is missing (a new empty first item replaces a
 * lost first one), each logged, so that their mail is unindexed and the next
 * run indexes it; *N_R says how many.  Refuses (XAP_IMAP_SEARCH_CORRUPT) while a
 * search partition of a listed item is missing: a disk that is away is not
 * lost. */
int xap_xapianlock_forget_lost(const char *userid, unsigned *n_r);

#ifdef __cplusplus
}
#endif
#endif
