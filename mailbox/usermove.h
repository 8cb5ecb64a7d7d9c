/* usermove.h - a whole user as one stream (export, receive) and the
 * moving of a user between back ends (docs/SCALING.md "Move a user",
 * docs/FORMAT.md "User export stream").
 *
 * usermove.c holds a user (its locks and rows), marks and unmarks it,
 * removes a copy and resolves a half-done move; userexport.c writes and
 * reads the stream. */
#ifndef XAPIARY_USERMOVE_H
#define XAPIARY_USERMOVE_H

#include <stddef.h>
#include <stdint.h>

#include "xapiary/mboxlist.h"

/* The member of a record's extra fields that marks it as part of a move. */
#define USERMOVE_MARK "moving"

/* How a record takes part in a move. */
enum {
    USERMOVE_NONE = 0,
    USERMOVE_OUT,      /* this back end's copy, being sent away: read-only */
    USERMOVE_IN,       /* a copy being received: nobody opens it */
};

/* Whether and how record E is marked. */
int usermove_marked(const struct xap_mboxlist_entry *e);

/* What was written or read. */
struct usermove_stats {
    uint64_t bytes;     /* of the stream */
    unsigned files;
    unsigned rows;
};

/* A user held for an export: see usermove_hold(). */
struct usermove {
    char *userid;
    char *inbox;
    struct xap_mboxlist_entry **rows;   /* the live records, INBOX first */
    struct xap_mboxlock **locks;
};

/* Takes USERID's namelocks EXCLUSIVE, INBOX first and then every folder
 * in name order (what a user rename takes), and reads its records.
 * XAP_IMAP_MAILBOX_NONEXISTENT; XAP_IMAP_MAILBOX_LOCKED when a record is
 * being renamed, deleted or moved. */
int usermove_hold(void *ctx, const char *userid, struct usermove **um_r);
void usermove_release(struct usermove **um);

/* The mover's first step, holding UM: checks that the registry names
 * this server and the INBOX's uniqueid, sets *REV_R to the key's
 * mod_revision and marks every record {"to": DEST, "revision": REV} in
 * one transaction.  Fault point move.1 after it. */
int usermove_mark(struct usermove *um, const char *dest, int64_t *rev_r);

/* Writes UM's user to FD as one stream, under UM's namelocks and the
 * user's Xapian namelock EXCLUSIVE (taken and released here).  The
 * records are written without a move's mark. */
int usermove_export(struct usermove *um, int fd, struct usermove_stats *st);

/* Reads a stream from FD and makes it a user of this back end, durable.
 * FROM names the sender (kept in the mark), REV > 0 asks for the owner
 * switch of a move (registry_move_switch) once the copy is durable.
 * XAP_IMAP_MAILBOX_EXISTS (logged) when the user has records or files
 * here; a stream that is truncated or fails a checksum is
 * XAP_IMAP_MAILBOX_BADFORMAT, with nothing of it left.  *USERID_R under
 * CTX. */
int usermove_receive(void *ctx, int fd, const char *from, int64_t rev, char **userid_r,
                     struct usermove_stats *st);

/* Writes the records of a received user marked USERMOVE_IN with FROM.
 * Fault point receive.1 after the transaction.  (userexport.c calls it
 * once it has read the records.) */
int usermove_add_rows(struct xap_mboxlist_entry **rows, size_t n, const char *from,
                      int64_t rev);

/* The records of USERID's tree that carry a mark (under CTX, name
 * order).  *N_R may be 0. */
int usermove_marked_rows(void *ctx, const char *userid, struct xap_mboxlist_entry ***rows_r,
                         size_t *n_r);

/* Drops the mark from every record of USERID's tree (one transaction). */
int usermove_unmark(const char *userid);

/* Removes the copy of USERID this back end has (mail files, user data,
 * then the marked records, for good).  Fault points move.4 (files gone),
 * move.5 (records gone) with SOURCE set (the sender's last steps). */
int usermove_remove(const char *userid, int source);

/* A marked user whose move is not going on (its mover or receiver died,
 * or failed): reads the registry and leaves exactly one copy, on the
 * owner it names (docs/SCALING.md).  The caller holds no namelock. */
int usermove_resolve(const char *userid);

/* usermove_resolve() for every marked user here; *N_R counts them. */
int usermove_recover(unsigned *n_r);

#endif
