/* xapianlock.h - a user's search tiers and the two locks that guard them
 * (seeds/003, spec section 8, docs/LOCKING.md).
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
 * cannot be read, or its search partition is missing), IMAP_MAILBOX_LOCKED (namelock_timeout expired), IMAP_IOERROR.
 * Every one is logged with the user and the path.
 */
#ifndef XAPIARY_XAPIANLOCK_H
#define XAPIARY_XAPIANLOCK_H

#ifdef __cplusplus
extern "C" {
#endif

struct xapianlock;

int xapianlock_begin_search(void *ctx, const char *userid, struct xapianlock **xl_r);
int xapianlock_begin_mailbox_update(void *ctx, const char *userid,
                                    struct xapianlock **xl_r);
/* Releases the xapianactive lock, then the namelock; sets *XLP to NULL. */
void xapianlock_end(struct xapianlock **xlp);

/* For a search: the database directories to open, in xapianactive order,
 * items not built yet (an empty directory: a first item before its first
 * batch, a compaction target before its rename) left out.  A listed item
 * whose directory is missing is lost: begin_search fails with
 * IMAP_SEARCH_CORRUPT, naming it.  A NULL-terminated array owned by XL. */
const char *const *xapianlock_paths(const struct xapianlock *xl);
/* For an update: the directory of the first (writable) database; it
 * exists (made when the item was listed), maybe empty.  Owned by XL. */
const char *xapianlock_write_path(const struct xapianlock *xl);
/* The user's partition. */
const char *xapianlock_partition(const struct xapianlock *xl);

/* Every file of the user's active databases, one absolute path per
 * element, NULL-terminated, under CTX (SHARED namelock only). */
int xapianlock_list_files(void *ctx, const char *userid, char ***files_r);

/* Gives up USERID's lost databases (squatter --forget-lost): under the
 * EXCLUSIVE namelock, drops from xapianactive every item whose directory
 * is missing (a new empty first item replaces a lost first one), each
 * logged, so that their mail is unindexed and the next run indexes it;
 * *N_R says how many.  Refuses (IMAP_SEARCH_CORRUPT) while a search
 * partition of a listed item is missing: a disk that is away is not
 * lost. */
int xapianlock_forget_lost(const char *userid, unsigned *n_r);

#ifdef __cplusplus
}
#endif
#endif
