/* mboxname.h - internal mailbox names (spec section 3).
 *
 * Names use '.' between components: user.alice, user.alice.Sent,
 * shared.lists.  A component is non-empty UTF-8 with no '/', NUL or
 * control character and is not "." or ".."; a name is at most
 * MBOXNAME_MAX bytes.  A name may not begin with '$': that prefix is
 * reserved for lock names such as "$XAPIAN$alice".  A userid (the
 * component after "user.") additionally may not begin with '-' (it would
 * read as an option to tools) nor contain the IMAP wildcards '%' and '*'.
 * Everything else is XAP_IMAP_MAILBOX_BADNAME, decided before any path is
 * built from the name. */
#ifndef XAPIARY_MBOXNAME_H
#define XAPIARY_MBOXNAME_H

#include <stddef.h>

#define MBOXNAME_MAX 490
#define MBOXNAME_SEP '.'
#define XAPIAN_LOCK_PREFIX "$XAPIAN$"

/* Returns 0 or XAP_IMAP_MAILBOX_BADNAME. */
int mboxname_validate(const char *name);
/* The same for LEN bytes that may contain NUL (which is always bad). */
int mboxname_validate_len(const char *name, size_t len);
int mboxname_userid_validate(const char *userid);

/* When NAME is user.ID or below, copies ID under CTX into *USERID_R and
 * returns 0; otherwise returns XAP_IMAP_NOTFOUND (a shared mailbox).  NAME
 * must be valid. */
int mboxname_to_userid(void *ctx, const char *name, char **userid_r);

/* BASE/HH/COMP1/.../COMPn for the valid name NAME, under CTX.  HH is the
 * first two hex digits of the SHA-1 of the name's root (user.ID for a
 * user's mailboxes, else the first component), so a user's whole tree
 * shares one hash directory.  A component longer than 200 bytes (NAME_MAX
 * is 255) or starting with '=' becomes "=" and its hex SHA-1, which keeps
 * the mapping one-to-one.  Used for mail spools and search partitions. */
char *mboxname_hashed_path(void *ctx, const char *base, const char *name);

/* Whether NAME is a reserved lock name ($XAPIAN$USERID with a valid ID). */
int mboxname_is_xapian_lockname(const char *name);

#endif
