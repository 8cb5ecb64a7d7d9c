/* unindexed.h - how many of a user's messages no search tier has indexed
 * yet, for search_result.unindexed, from the state the indexer keeps:
 * per mailbox, the union of "indexed.UNIQUEID" over the tiers
 * (docs/FORMAT.md).  A mailbox whose state covers 1 to its last UID costs
 * one read of its index header, as in a squatter run with nothing new;
 * only a mailbox with a backlog has its records read.
 *
 * Three steps, in the lock order (docs/LOCKING.md):
 *     unindexed_list(ctx, "alice", &u);     mailboxes.db only, no lock
 *     ... the search takes the GUID db's read transaction and the Xapian
 *     locks, opens its databases ...
 *     unindexed_read(u, gdb, dbr, paths, n); under those locks
 *     ... the search releases every lock ...
 *     unindexed_count(u, &n);               each mailbox opened in turn
 *
 * unindexed_count also checks that the GUID db describes every mailbox
 * with mail (guiddb_check_mailbox): a search through a lost GUID db
 * finds nothing in them. */
#ifndef XAPIARY_UNINDEXED_H
#define XAPIARY_UNINDEXED_H

#include <stdint.h>

struct guiddb;
struct unindexed;
struct xw_dbr;

int unindexed_list(void *ctx, const char *userid, struct unindexed **u_r);
/* GDB: the user's GUID db in a read transaction, or NULL when it does not
 * exist; DBR: the N databases of the search, opened from PATHS (N may be
 * 0, DBR NULL). */
int unindexed_read(struct unindexed *u, struct guiddb *gdb, struct xw_dbr *dbr,
                   const char *const *paths, unsigned n);
/* No lock held.  *N_R: the live messages not indexed.  A mailbox deleted
 * since it was listed counts for nothing. */
int unindexed_count(struct unindexed *u, uint64_t *n_r);

#endif
