/* revlock.h - a user's two revision locks: what keeps the Xapian revision
 * a search reads from being overwritten, without keeping commits out.
 *
 * Glass keeps the blocks of revision V until revision V + 2 is written:
 * a commit of V + 1 reuses only blocks that V no longer needed.  So a
 * reader of V needs to keep out the writing of V + 2, not the commit of
 * V + 1.  One lock per parity of the first database's revision: a
 * reader of V holds lock V % 2 SHARED; the writer of V + 2 (and of V,
 * which is done) holds the same lock EXCLUSIVE.  docs/LOCKING.md
 * "Searches while a batch is written" gives the protocol and why a
 * reader's SHARED request never waits for a batch.
 *
 * Two zero-byte files next to xapianactive, xapianrev.0 and xapianrev.1
 * (docs/FORMAT.md), created by the first writer that needs them (under
 * WRITE) and never replaced while lockers run: they go only with the
 * user's config directory, under the EXCLUSIVE Xapian namelock.  Lock
 * levels 55 (even) and 56 (odd): one who holds both took the even one
 * first. */
#ifndef XAPIARY_REVLOCK_H
#define XAPIARY_REVLOCK_H

struct lockfile;

/* Takes USERID's revision lock of the parity of REV, SHARED or (WRITE)
 * EXCLUSIVE, under CTX, waiting as long as it takes (the holders hold it
 * for one search or one batch).  CREATE: the file is made if missing
 * (writers); otherwise a missing one is XAP_IMAP_NOTFOUND, unlogged: no
 * writer ever made it, and none can begin while the caller holds READ.
 * Freeing *LF_R releases it. */
int revlock_take(void *ctx, const char *userid, unsigned long rev, int write, int create,
                 struct lockfile **lf_r);

/* Makes both of USERID's revision lock files if missing (a writer, under
 * WRITE, before it opens the first database). */
int revlock_make(const char *userid);

#endif
