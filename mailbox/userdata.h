/* userdata.h - a user's files outside the mailboxes (config directory with
 * the GUID db and xapianactive; the user's directory in each search tier),
 * moved as a whole by a user rename. */
#ifndef XAPIARY_USERDATA_H
#define XAPIARY_USERDATA_H

/* IMAP_MAILBOX_EXISTS with *PATH_R (under CTX) naming the first of
 * USERID's directories that exists; 0 when there is none. */
int userdata_find(void *ctx, const char *userid, char **path_r);

/* 0 when every search partition where USERID's data may be exists;
 * else IMAP_SEARCH_CORRUPT, logged naming it: a partition that is away
 * (not mounted) looks like one without data, and a move would leave the
 * user's databases there behind. */
int userdata_check_partitions(const char *userid);

/* Moves every directory of user FROM that exists to user TO's place, one
 * rename(2) each, skipping what is not there (idempotent, so also the way
 * back).  IMAP_MAILBOX_EXISTS (logged) when a destination exists.  The
 * caller holds FROM's Xapian namelock EXCLUSIVE. */
int userdata_move(const char *from, const char *to);

#endif
