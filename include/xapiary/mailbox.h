/* mailbox.h - a mailbox: its header, index and cache files and its
 * message files (seeds/002, spec section 6).
 *
 * Calling sequence
 *     struct mailbox *mailbox = NULL;
 *     int r = mailbox_open_iwl("user.alice", &mailbox);
 *     if (r) return r;
 *     ... read, rewrite or append records ...
 *     r = mailbox_commit(mailbox);
 *     mailbox_close(&mailbox);          (sets mailbox to NULL)
 *
 * Locks taken by the opens (namelock, then index lock):
 *
 *     mailbox_open_iwl        SHARED namelock   EXCLUSIVE index lock
 *     mailbox_open_irl        SHARED namelock   SHARED index lock
 *     mailbox_open_exclusive  EXCLUSIVE         EXCLUSIVE
 *
 * Opening a mailbox this process already has open returns the same
 * mailbox and counts a reference; it must be unlocked at that moment, else
 * IMAP_MAILBOX_LOCKED.  Only the last mailbox_close() does the delayed
 * actions.
 *
 * Holding the mailbox open keeps the namelock: record numbers will not
 * change and message files will not be deleted.  mailbox_unlock_index()
 * lets other processes change the mailbox meanwhile; mailbox_lock_index()
 * re-reads the index header under the lock (never trusting mtimes, as
 * seeds/004 teaches), so a reader that polls misses no committed append.
 *
 * Writing
 *   rewrite and append need the EXCLUSIVE index lock; read needs either.
 *   Changes are checked (UIDs only grow, an expunged record is never
 *   unexpunged, a UID never changes) and counted (exists, deleted,
 *   answered, flagged, unseen, quota) as they are made, and become durable
 *   at mailbox_commit(), which fsyncs.  Unlocking or closing with
 *   uncommitted changes is a fatal error (the process aborts): it would
 *   leave the mailbox inconsistent.  A commit that fails (a full disk,
 *   an I/O error) drops the uncommitted changes and releases the index
 *   lock: the error is returned and the mailbox can be closed; on disk
 *   it is as after a crash at that point, repaired by the next
 *   EXCLUSIVE lock.
 *
 * Delayed actions
 *   At unlock after changes: the update notifier, the sync log (channel
 *   "squatter", read by `squatter -R`) and the statuscache.  At the last
 *   close: scheduled unlinks of expunged message files, then, if the
 *   mailbox needs a repack or was deleted, a NONBLOCKING exclusive namelock
 *   and the repack or delete cleanup (left to the next closer when
 *   another process has the mailbox open).
 *
 * Error handling
 *   Functions return 0 or an IMAP_* code.  A CRC mismatch is
 *   IMAP_MAILBOX_CHECKSUM, logged with the file and record.
 */
#ifndef XAPIARY_MAILBOX_H
#define XAPIARY_MAILBOX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mailbox;
struct mailbox_iter;

/* System flags (IMAP). */
#define FLAG_ANSWERED   (1u << 0)
#define FLAG_FLAGGED    (1u << 1)
#define FLAG_DELETED    (1u << 2)
#define FLAG_DRAFT      (1u << 3)
#define FLAG_SEEN       (1u << 4)

/* Internal flags. */
#define FLAG_INTERNAL_EXPUNGED  (1u << 0)  /* gone for IMAP; record kept */
#define FLAG_INTERNAL_UNLINKED  (1u << 1)  /* message file removed */

#define MAX_USER_FLAGS 128
#define MESSAGE_GUID_SIZE 20

/* The ten cache fields, in their order in a cache record. */
enum {
    CACHE_ENVELOPE = 0,
    CACHE_BODYSTRUCTURE,
    CACHE_BODY,
    CACHE_SECTION,
    CACHE_HEADERS,
    CACHE_FROM,
    CACHE_TO,
    CACHE_CC,
    CACHE_BCC,
    CACHE_SUBJECT,
    NUM_CACHE_FIELDS
};

/* A cache record once loaded by mailbox_cacherecord(): pointers into a
 * buffer owned by the mailbox, valid until the index is unlocked. */
struct cacherecord {
    const char *base;       /* NULL until loaded */
    size_t len;
    struct {
        size_t offset;
        size_t size;
    } item[NUM_CACHE_FIELDS];
};

struct index_record {
    uint32_t recno;               /* 1-based; set by read/append */
    uint32_t uid;
    int64_t internaldate;
    int64_t sentdate;
    uint32_t size;
    uint32_t header_size;
    uint32_t system_flags;
    uint32_t internal_flags;
    uint32_t user_flags[MAX_USER_FLAGS / 32];
    uint64_t cache_offset;
    uint8_t guid[MESSAGE_GUID_SIZE];
    uint64_t modseq;
    int64_t last_updated;
    uint32_t cache_crc;
    int silent;                   /* set: do not bump modseq/last_updated */
    struct cacherecord crec;      /* see mailbox_cacherecord() */
};

/* What STATUS reports; also the statuscache value. */
struct statusdata {
    uint32_t messages;
    uint32_t uidnext;
    uint32_t uidvalidity;
    uint32_t unseen;
    uint64_t highestmodseq;
    uint64_t size;                /* quota used by this mailbox, bytes */
};

/* Lock types for mailbox_lock_index(): LOCK_SHARED / LOCK_EXCLUSIVE of
 * <xapiary/namelock.h>. */

int mailbox_open_iwl(const char *name, struct mailbox **mailboxp);
int mailbox_open_irl(const char *name, struct mailbox **mailboxp);
int mailbox_open_exclusive(const char *name, struct mailbox **mailboxp);
/* Unlocks the index if needed (fatal if uncommitted changes), drops one
 * reference, and at the last one runs the delayed actions and releases the
 * namelock.  Sets *mailboxp to NULL; NULL is a no-op. */
void mailbox_close(struct mailbox **mailboxp);
/* The same, returning the result of the delayed repack or cleanup it ran
 * (logged already; the next close retries it): 0 when there was none or
 * another process still has the mailbox open and will do it. */
int mailbox_close_checked(struct mailbox **mailboxp);

int mailbox_lock_index(struct mailbox *mailbox, int locktype);
/* SDATA: a fresh status to store in the statuscache, or NULL to just
 * invalidate it when the mailbox changed. */
int mailbox_unlock_index(struct mailbox *mailbox, const struct statusdata *sdata);

/* Creates NAME on PARTITION (NULL: "default") with UNIQUEID (NULL: a new
 * one) and UIDVALIDITY (0: chosen so it is never reused for the name).
 * Writes the files and the mailboxes.db record.  Returns the mailbox
 * open with an EXCLUSIVE namelock and index lock. */
int mailbox_create(const char *name, const char *partition,
                   const char *uniqueid, uint32_t uidvalidity,
                   struct mailbox **mailboxp);

/* Marks the mailbox deleted, turns its mailboxes.db record into a DELETED
 * tombstone and closes it; the files go at the last close (delete
 * cleanup).  Needs the EXCLUSIVE index lock. */
int mailbox_delete(struct mailbox **mailboxp);

/* Deletes user USERID whole: every mailbox of user.USERID's tree, then
 * the user's search tiers, xapianactive, GUID db and owner file.  Crash
 * safe: a deletion that was interrupted is finished by the next call, by
 * mailbox_expire()/mailbox_recover() and by a create of user.USERID (see
 * mailbox/mailbox-deluser.c).  Returns 0, IMAP_MAILBOX_NONEXISTENT when
 * there is no such user and nothing of one is left, or the first error
 * (logged, naming the mailbox or file; the deletion stays pending). */
int mailbox_delete_user(const char *userid);

/* Copies OLDMAILBOX (EXCLUSIVE index lock) to NEWNAME on NEWPARTITION
 * (NULL: the same): header, index, cache and message files; the copy gets
 * the same uniqueid and uidvalidity.  Returns the new mailbox with
 * EXCLUSIVE locks.  It does not touch mailboxes.db: the caller (rename)
 * owns the records.  The caller must hold NEWNAME's exclusive namelock,
 * taken before OLDMAILBOX was opened (namelocks before index locks). */
int mailbox_rename_copy(struct mailbox *oldmailbox, const char *newname,
                        const char *newpartition,
                        struct mailbox **newmailboxp);

/* Renames mailbox FROM and every mailbox below it to TO (spec section 7,
 * seeds/001) as one atomic operation: other processes see the whole old
 * tree or the whole new one, and a crash at any point is finished or
 * undone by the next open of a name involved, by mailbox_expire() or by
 * mailbox_recover().  user.A -> user.B also moves the user's GUID db,
 * xapianactive and search tier directories.  Mailboxes keep their
 * uniqueid, uidvalidity, UIDs and partition, so nothing is reindexed.
 * Returns 0; IMAP_MAILBOX_BADNAME (a bad name, or TO inside FROM's
 * tree); IMAP_MAILBOX_EXISTS (TO or a new name below it exists, or user B
 * already has search data); IMAP_MAILBOX_NONEXISTENT (no FROM);
 * IMAP_MAILBOX_NOTSUPPORTED (mail would change owner: between users, or a
 * user's INBOX to a folder); IMAP_MAILBOX_LOCKED (another rename of these
 * names is running).  Nothing is changed on error.  STATS may be NULL.
 * Call it holding no mailbox open. */
struct mailbox_rename_stats {
    unsigned mailboxes;
    unsigned long messages;
    double mark_s, copy_s, switch_s, remove_s, tombstone_s;   /* seconds */
};
int mailbox_rename_tree(const char *from, const char *to,
                        struct mailbox_rename_stats *stats);

/* Finishes or undoes the rename whose NAMELOCK is ROOT when its process
 * is dead (waits for a live one, or with NONBLOCK returns
 * IMAP_MAILBOX_LOCKED).  0 also when there is nothing to do. */
int mailbox_rename_resolve(const char *root, int nonblock);

/* Visits every mailboxes.db record: cleans up dead renames (a live one is
 * counted as busy and left alone) and removes DELETED tombstones older
 * than TOMBSTONE_DAYS (negative: keep them all).  Returns 0 or the first
 * error; STATS (may be NULL) counts what was done. */
struct mailbox_expire_stats {
    unsigned long renames, busy, tombstones;
    unsigned long users;          /* interrupted user deletions finished */
};
int mailbox_expire(int tombstone_days, struct mailbox_expire_stats *stats);

/* At boot, before any other process runs: mailbox_expire() keeping the
 * tombstones, then removes the namelock tree (everything under
 * CONFIGDIRECTORY/lock/). */
int mailbox_recover(struct mailbox_expire_stats *stats);

int mailbox_read_index_record(struct mailbox *mailbox, uint32_t recno,
                              struct index_record *record);
int mailbox_rewrite_index_record(struct mailbox *mailbox,
                                 struct index_record *record);
/* The message file (mailbox_message_path(mailbox, record->uid)) must be
 * in place; record->uid must be above every existing UID. */
int mailbox_append_index_record(struct mailbox *mailbox,
                                struct index_record *record);
int mailbox_commit(struct mailbox *mailbox);

/* Loads RECORD's cache record (checking its CRC). */
int mailbox_cacherecord(struct mailbox *mailbox, struct index_record *record);
const char *cacheitem_base(const struct index_record *record, int field);
unsigned cacheitem_size(const struct index_record *record, int field);

/* Iteration over records, in recno order. */
#define ITER_SKIP_EXPUNGED 1
struct mailbox_iter *mailbox_iter_init(struct mailbox *mailbox,
                                       uint64_t changedsince, unsigned flags);
/* The next record, or NULL at the end or on error (see
 * mailbox_iter_error). */
const struct index_record *mailbox_iter_step(struct mailbox_iter *iter);
int mailbox_iter_error(const struct mailbox_iter *iter);
void mailbox_iter_done(struct mailbox_iter **iterp);

/* Accessors (valid while the mailbox is open; counts are as of the last
 * header read under the index lock). */
const char *mailbox_name(const struct mailbox *mailbox);
const char *mailbox_uniqueid(const struct mailbox *mailbox);
const char *mailbox_partition(const struct mailbox *mailbox);
uint32_t mailbox_uidvalidity(const struct mailbox *mailbox);
uint32_t mailbox_last_uid(const struct mailbox *mailbox);
uint32_t mailbox_num_records(const struct mailbox *mailbox);
uint32_t mailbox_exists(const struct mailbox *mailbox);
uint64_t mailbox_highestmodseq(const struct mailbox *mailbox);
void mailbox_status(const struct mailbox *mailbox, struct statusdata *sdata);
/* The name of user flag I (bit I % 32 of index_record.user_flags[I / 32]),
 * or NULL when the mailbox has no such flag.  The string belongs to the
 * mailbox: valid while it is open.  Takes no lock; read the record and
 * the name under the same index lock. */
const char *mailbox_user_flag(const struct mailbox *mailbox, unsigned i);

/* The path of message UID's file, under CTX. */
char *mailbox_message_path(void *ctx, const struct mailbox *mailbox, uint32_t uid);

/* High-level append: stores LEN bytes of MSG as the next UID, parses it,
 * appends the record (needs the EXCLUSIVE index lock; commit after).
 * INTERNALDATE 0 = now.  Returns the UID in *uid_r.  A message over the
 * configured max_message_size or max_header_fields is refused before
 * anything is written: IMAP_MESSAGE_TOOLARGE, logged naming the limit. */
int mailbox_append_message(struct mailbox *mailbox, const char *msg, size_t len,
                           int64_t internaldate, uint32_t system_flags,
                           uint32_t *uid_r);
/* The same, with FALLBACKDATE (0: none) as the internal date instead of
 * INTERNALDATE when the message has no Date: header that parses (an mbox
 * envelope line's date, which is when the mail was delivered). */
int mailbox_append_message_dated(struct mailbox *mailbox, const char *msg, size_t len,
                                 int64_t internaldate, int64_t fallbackdate,
                                 uint32_t system_flags, uint32_t *uid_r);

/* One delivery, as `mbctl append` and lmtpd make it: opens NAME with
 * mailbox_open_iwl(), appends MSG with mailbox_append_message_dated()
 * (FALLBACKDATE as there; 0: none), commits
 * (the message is durable when this returns 0) and closes.  Returns 0 and
 * the UID in *uid_r (may be NULL); IMAP_MAILBOX_NONEXISTENT;
 * IMAP_MAILBOX_LOCKED (namelock_timeout expired); IMAP_MESSAGE_BADHEADER
 * (not a message); IMAP_MESSAGE_TOOLARGE (over a limit, as above);
 * IMAP_IOERROR (logged; the disk may be full).  On
 * failure nothing of MSG is in the mailbox. */
int mailbox_deliver(const char *name, const char *msg, size_t len,
                    int64_t internaldate, int64_t fallbackdate, uint32_t system_flags,
                    uint32_t *uid_r);

/* Opens the file of the live message UID read-only (O_CLOEXEC) and sets
 * *FD_R to its descriptor, which the caller closes; -1 on error.  Needs
 * the index lock (either mode); the mailbox being open (its namelock)
 * keeps the file from being deleted until then, and the descriptor stays
 * readable after an expunge removes the file.  Returns 0;
 * IMAP_NOTFOUND when there is no such UID or it is expunged;
 * IMAP_IOERROR (logged, naming the file) when the file cannot be opened.
 * Any thread may call it on a mailbox it has open. */
int mailbox_open_message(struct mailbox *mailbox, uint32_t uid, int *fd_r);

/* Marks UID expunged (EXPUNGED|UNLINKED) and schedules its file's unlink
 * for the last close.  IMAP_NOTFOUND if there is no such live UID. */
int mailbox_expunge_uid(struct mailbox *mailbox, uint32_t uid);

/* Reads the record of UID (expunged or not).  IMAP_NOTFOUND if none. */
int mailbox_find_uid(struct mailbox *mailbox, uint32_t uid,
                     struct index_record *record);

/* Audits NAME read-only: every CRC, every message file (present, size,
 * GUID), the counts, stray files.  Calls CB once per problem found and
 * sets *PROBLEMS_R to their number.  Returns 0 when the audit ran (even
 * with problems), else why it could not (e.g. IMAP_MAILBOX_CHECKSUM for a
 * header that cannot be trusted). */
typedef void mailbox_verify_fn(void *rock, const char *name, const char *problem);
int mailbox_verify(const char *name, mailbox_verify_fn *cb, void *rock,
                   int *problems_r);

/* Rebuilds NAME's index, cache and header files from its message files,
 * keeping the flags and dates of records that still check out.  Works on
 * a mailbox whose index or cache is truncated or corrupt.  For a user's
 * mailbox it then rebuilds the mailbox's part of the owner's GUID db
 * (creating a lost one).  Sets *MESSAGES_R to the number of messages in
 * the rebuilt index. */
int mailbox_reconstruct(const char *name, uint32_t *messages_r);

/* Called at unlock after changes with the mailbox name (IDLE and the
 * like).  NULL to remove. */
typedef void mailbox_notify_fn(const char *name);
void mailbox_set_updatenotifier(mailbox_notify_fn *fn);

#ifdef __cplusplus
}
#endif
#endif
