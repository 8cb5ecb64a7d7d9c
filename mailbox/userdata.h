/* userdata.h - a user's files outside the mailboxes (config directory with
 * the GUID db, xapianactive and the owner file; the user's directory in
 * each search tier), moved as a whole by a user rename, removed as a whole
 * when the user is deleted, and bound to one incarnation of the user. */
#ifndef XAPIARY_USERDATA_H
#define XAPIARY_USERDATA_H

/* XAP_IMAP_MAILBOX_EXISTS with *PATH_R (under CTX) naming the first of
 * USERID's directories that exists; 0 when there is none. */
int userdata_find(void *ctx, const char *userid, char **path_r);

/* Every directory that may hold USERID's data (under CTX), with a label
 * each in *LABELS_R (a child of the array): "config" for the config
 * directory, "TIER/PARTITION" for a search tier's, so that a back end with
 * the same partitions and tiers finds the same directory by its label (a
 * user export, mailbox/userexport.c).  NULL with *R_R on a bad userid or a
 * refused directory.  The directories need not exist. */
char **userdata_dirs(void *ctx, const char *userid, char ***labels_r, int *r_r);

/* 0 when every search partition where USERID's data may be exists;
 * else XAP_IMAP_SEARCH_CORRUPT, logged naming it: a partition that is away
 * (not mounted) looks like one without data, and a move would leave the
 * user's databases there behind. */
int userdata_check_partitions(const char *userid);

/* Moves every directory of user FROM that exists to user TO's place, one
 * rename(2) each, skipping what is not there (idempotent, so also the way
 * back).  XAP_IMAP_MAILBOX_EXISTS (logged) when a destination exists.  The
 * caller holds FROM's Xapian namelock EXCLUSIVE. */
int userdata_move(const char *from, const char *to);

/* Removes every directory of USERID, the config directory last;
 * idempotent.  Fault points userdata.remove.1 after each directory,
 * userdata.remove.2 after all.  The caller holds USERID's Xapian
 * namelock EXCLUSIVE. */
int userdata_remove(const char *userid);

/* Makes USERID's files those of the INBOX UNIQUEID (a user being
 * created): unless the owner file already names UNIQUEID, removes
 * whatever an earlier user of the name left (userdata_remove) and writes
 * the owner file.  Takes the Xapian namelock EXCLUSIVE itself. */
int userdata_claim(const char *userid, const char *uniqueid);

/* Before USERID's GUID db or search tiers are used: 0 when the owner file
 * names the user's INBOX (or there is no owner file, or no INBOX);
 * XAP_IMAP_PERMISSION_DENIED (logged, naming the file) when it names another
 * incarnation, whose files must not be read or written. */
int userdata_check(const char *userid);

#endif
