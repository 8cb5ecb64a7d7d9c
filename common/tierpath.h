/* tierpath.h - where a user's search databases live, for every layer that
 * touches them: the user's directory in a search tier, and the names of
 * the database directories in it.  What those directories mean (listed,
 * being built, debris) is xapianlock/tierlist.c's business; this is only
 * the naming, below mailbox/userdata.c, which moves and removes a user's
 * tier directories whole, so that both find them the same way and both
 * refuse a planted symbolic link (docs/FORMAT.md "Search tiers"):
 *
 *   SEARCHPART/HH/user/ID                the user's directory in a tier
 *   SEARCHPART/HH/user/ID/xapian.N       generation N (1 <= N <= TIER_GEN_MAX)
 *   SEARCHPART/HH/user/ID/xapian         Cyrus's name for generation 0
 *   SEARCHPART/HH/user/ID/xapian.N.NEW   generation N being built
 *
 * Anything else in a tier directory is not ours: never read, never
 * removed. */
#ifndef XAPIARY_TIERPATH_H
#define XAPIARY_TIERPATH_H

/* The largest generation: what xapianactive accepts too. */
#define TIER_GEN_MAX 1000000000u
/* What a database being built adds to its name. */
#define TIER_NEW_SUFFIX ".NEW"

/* Parses the directory name NAME: 0 with *GEN_R, or -1 for a name that is
 * not one of the above (xapian.0, a sign, a leading zero, a number above
 * TIER_GEN_MAX, anything after the number).  A "xapian.N.NEW" name is
 * accepted only when IS_NEW_R is not NULL, and sets *IS_NEW_R to 1. */
int tierpath_parse(const char *name, unsigned *gen_r, int *is_new_r);

/* The name of generation GEN's directory ("xapian.N", or "xapian" for
 * 0), under CTX. */
char *tierpath_name(void *ctx, unsigned gen);

/* USERID's directory in TIER for the mail partition PARTITION, under CTX.
 * NULL with *R_R: XAP_IMAP_SEARCH_TIER_UNKNOWN (no TIERsearchpartition-
 * PARTITION configured), XAP_IMAP_PERMISSION_DENIED (a symbolic link below
 * the search partition: refused and logged, naming it) or XAP_IMAP_IOERROR
 * (logged).  The directory need not exist. */
char *tierpath_user_dir(void *ctx, const char *userid, const char *partition,
                        const char *tier, int *r_r);

#endif
