/* xapianlock-private.h - what the xapianlock/ files share. */
#ifndef XAPIARY_XAPIANLOCK_PRIVATE_H
#define XAPIARY_XAPIANLOCK_PRIVATE_H

#include "xapiary/namelock.h"
#include "xapiary/xapianlock.h"
#include "xapianlock/activefile.h"

struct xap_xapianlock {
    char *userid;
    char *partition;
    struct xap_mboxlock *namelock;
    struct activefile *af;          /* NULL: the user has no xapianactive */
    const char **paths;             /* search: NULL-terminated */
    const char **lost;              /* search: listed, missing (partial only) */
    char *write_path;               /* update */
    struct lockfile *writer;        /* update: the writer lock */
    struct activeitem first;        /* update: the item write_path is of */
    struct lockfile *rev[2];        /* the revision locks held, by parity */
    int first_read;                 /* search: paths[0] is the first item's */
    struct xw_dbr *dbr;             /* search_open: PATHS opened, or NULL */
};

/* The partition of user.USERID under CTX. */
int xapianlock_user_partition(void *ctx, const char *userid, char **partition_r);
/* The uniqueid of USERID's INBOX under CTX, or NULL when it has none:
 * what tells a user from one deleted and created again under its name. */
char *xapianlock_inbox_uniqueid(void *ctx, const char *userid);
/* Whether USERID's INBOX still has the uniqueid ID (read earlier by
 * xapianlock_inbox_uniqueid; NULL: never).  A run that lists generation
 * numbers, lets the namelock go and acts on them later checks this under
 * the namelock again: the list of a user created again may give the same
 * numbers to its own databases (docs/model: RECREATE). */
int xapianlock_same_user(const char *userid, const char *id);
/* The Xapian namelock of USERID. */
int xapianlock_namelock(const char *userid, int type, struct xap_mboxlock **lock_r);
const char *xapianlock_userid(const struct xap_xapianlock *xl);
struct xw_dbr;
/* As xap_xapianlock_begin_search, and the databases of
 * xap_xapianlock_paths() opened as one into *DBR_R (owned by XL; NULL
 * when there are none): what every reader of ours does next.  They are
 * opened before READ is let go, and the first one's revision lock is
 * taken for the revision that reader sees: the database is not opened a
 * second time to read it. */
int xapianlock_begin_search_open(void *ctx, const char *userid, struct xap_xapianlock **xl_r,
                                 struct xw_dbr **dbr_r);
/* As xapianlock_begin_search_open (DBR_R NULL: nothing opened), but a
 * listed database that is missing (lost, or its search partition is
 * away) is logged (unless QUIET: the caller said so once already) and
 * left out instead of failing: what an audit needs to report the mail
 * it held as unindexed.  xapianlock_lost() names them (NULL-terminated,
 * owned by XL). */
int xapianlock_begin_search_partial(void *ctx, const char *userid, int quiet,
                                    struct xap_xapianlock **xl_r, struct xw_dbr **dbr_r);
const char *const *xapianlock_lost(const struct xap_xapianlock *xl);

struct xw_dbw;
/* What the indexer writes a batch under (docs/LOCKING.md "Searches while a
 * batch is written"): the SHARED namelock, the writer lock and WRITE; the
 * first database opened (created if missing) into *DBW_R under DBW_CTX;
 * its revision R read; WRITE let go and the revision lock of R + 1 taken
 * EXCLUSIVE.  The caller adds the batch and commits holding no WRITE,
 * closes *DBW_R, then ends XL.  Searches run meanwhile, the commit
 * included.  On failure nothing is held and *DBW_R is NULL. */
int xapianlock_begin_batch(void *ctx, const char *userid, void *dbw_ctx,
                           struct xap_xapianlock **xl_r, struct xw_dbw **dbw_r);

#endif
