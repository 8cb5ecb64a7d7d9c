/* append.h - appending a message whose bytes are a whole file of the
 * caller's (mbctl import --link): the spool's file may then be a second
 * hard link to that file instead of a copy.
 *
 * Why a link is safe to name from a record: the bytes appended are the
 * bytes read from the file, the GUID is their SHA-1, and the link is made
 * only when the name still leads to the inode that was read (same device,
 * inode, size and modification time); the commit syncs it with the
 * transaction's other files before any record names it, as a copy.  What
 * a link cannot keep out: the source rewritten in place later (Maildir
 * never does; `mbctl verify` reports the file's GUID or size as not the
 * record's).  Only a file owned by the effective user is linked, so that
 * nobody but that user (and root) can rewrite the spool's file; the link
 * keeps the source's mode, and the spool's directories keep others out. */
#ifndef XAPIARY_MAILBOX_APPEND_H
#define XAPIARY_MAILBOX_APPEND_H

#include <stdint.h>
#include <sys/stat.h>

struct xap_mailbox;
struct message_parsed;

/* The file whose whole content is the message: NAME in the directory
 * DIRFD (FOLLOW: a symbolic link in NAME is followed, else a link there
 * is never linked), ST its fstat(2) taken when it was read. */
struct append_source {
    int dirfd;
    const char *name;
    int follow;
    const struct stat *st;
};

/* xap_mailbox_append_message_dated() that hard-links SRC into the spool
 * when it can, and copies MSG as it does otherwise: when SRC is on
 * another filesystem (EXDEV), links are refused (EPERM, EACCES, EMLINK,
 * or not supported), SRC is not the effective user's, or its name no
 * longer leads to the file read.  *LINKED_R: whether it was linked.  On
 * a failure no file of this append is left in the spool. */
int mailbox_append_linked(struct xap_mailbox *mailbox, const char *msg, size_t len,
                          int64_t internaldate, int64_t fallbackdate, uint32_t system_flags,
                          const struct append_source *src, int *linked_r, uint32_t *uid_r);

/* What an append does with MSG before it touches the mailbox: refuses it
 * past max_message_size or max_header_fields (logged for the mailbox
 * NAME) and parses it (*PARSED_R under CTX).  Thread-safe, so that an
 * import parses ahead in other threads while one thread appends in
 * order (mbctl import). */
int mailbox_append_prepare(void *ctx, const char *name, const char *msg, size_t len,
                           struct message_parsed **parsed_r);

/* mailbox_append_linked() of MSG as mailbox_append_prepare() left it
 * (PARSED); SRC may be NULL (a copy). */
int mailbox_append_prepared(struct xap_mailbox *mailbox, const char *msg, size_t len,
                            const struct message_parsed *parsed, int64_t internaldate,
                            int64_t fallbackdate, uint32_t system_flags,
                            const struct append_source *src, int *linked_r, uint32_t *uid_r);

#endif
