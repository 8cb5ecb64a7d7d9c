/* mailbox.h - a mailbox: its header, index and cache files and its
 * message files (FORMAT.md in the documentation directory).
 *
 * Calling sequence
 *     struct xap_mailbox *mailbox = NULL;
 *     int r = xap_mailbox_open_iwl("user.alice", &mailbox);
 *     if (r) return r;
 *     ... read, rewrite or append records ...
 *     r = xap_mailbox_commit(mailbox);
 *     xap_mailbox_close(&mailbox);          (sets mailbox to NULL)
 *
 * Locks taken by the opens (namelock, then index lock):
 *
 *     xap_mailbox_open_iwl        SHARED namelock   EXCLUSIVE index lock
 *     xap_mailbox_open_irl        SHARED namelock   SHARED index lock
 *     xap_mailbox_open_exclusive  EXCLUSIVE         EXCLUSIVE
 *
 * Opening a mailbox this process already has open returns the same
 * mailbox and counts a reference; it must be unlocked at that moment, else
 * XAP_IMAP_MAILBOX_LOCKED.  Only the last xap_mailbox_close() does the delayed
 * actions.
 *
 * Holding the mailbox open keeps the namelock: record numbers will not
 * change and message files will not be deleted.  xap_mailbox_unlock_index()
 * lets other processes change the mailbox meanwhile; xap_mailbox_lock_index()
 * re-reads the index header under the lock (never trusting mtimes), so a
 * reader that polls misses no committed append.
 *
 * Writing
 *   rewrite and append need the EXCLUSIVE index lock; read needs either.
 *   Changes are checked (UIDs only grow, an expunged record is never
 *   unexpunged, a UID never changes) and counted (exists, deleted,
 *   answered, flagged, unseen, quota) as they are made, and become durable
 *   at xap_mailbox_commit(), which fsyncs.  Unlocking or closing with
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
 *   Functions return 0 or an XAP_IMAP_* code.  A CRC mismatch is
 *   XAP_IMAP_MAILBOX_CHECKSUM, logged with the file and record.
 *
 * Threads
 *   One thread at a time (<xapiary/xapiary.h>): open mailboxes and their
 *   locks belong to the process, and opening a name twice returns the
 *   same mailbox.
 */
#ifndef XAPIARY_MAILBOX_H
#define XAPIARY_MAILBOX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xap_mailbox;
struct xap_mailbox_iter;

/* System flags (IMAP). */
#define XAP_FLAG_ANSWERED   (1u << 0)
#define XAP_FLAG_FLAGGED    (1u << 1)
#define XAP_FLAG_DELETED    (1u << 2)
#define XAP_FLAG_DRAFT      (1u << 3)
#define XAP_FLAG_SEEN       (1u << 4)

/* Internal flags. */
#define XAP_FLAG_INTERNAL_EXPUNGED  (1u << 0)  /* gone for IMAP; record kept */
#define XAP_FLAG_INTERNAL_UNLINKED  (1u << 1)  /* message file removed */

#define XAP_MAX_USER_FLAGS 128
#define XAP_MESSAGE_GUID_SIZE 20

/* The ten cache fields, in their order in a cache record. */
enum {
    XAP_CACHE_ENVELOPE = 0,
    XAP_CACHE_BODYSTRUCTURE,
    XAP_CACHE_BODY,
    XAP_CACHE_SECTION,
    XAP_CACHE_HEADERS,
    XAP_CACHE_FROM,
    XAP_CACHE_TO,
    XAP_CACHE_CC,
    XAP_CACHE_BCC,
    XAP_CACHE_SUBJECT,
    XAP_NUM_CACHE_FIELDS
};

/* A cache record once loaded by xap_mailbox_cacherecord(): pointers into a
 * buffer owned by the mailbox, valid until the index is unlocked. */
struct xap_cacherecord {
    const char *base;       /* NULL until loaded */
    size_t len;
    struct {
        size_t offset;
        size_t size;
    } item[XAP_NUM_CACHE_FIELDS];
};

struct xap_index_record {
    uint32_t recno;               /* 1-based; set by read/append */
    uint32_t uid;
    int64_t internaldate;
    int64_t sentdate;
    uint32_t size;
    uint32_t header_size;
    uint32_t system_flags;
    uint32_t internal_flags;
    uint32_t user_flags[XAP_MAX_USER_FLAGS / 32];
    uint64_t cache_offset;
    uint8_t guid[XAP_MESSAGE_GUID_SIZE];
    uint64_t modseq;
    int64_t last_updated;
    uint32_t cache_crc;
    int silent;                   /* set: do not bump modseq/last_updated */
    struct xap_cacherecord crec;      /* see xap_mailbox_cacherecord() */
};

/* What STATUS reports; also the statuscache value. */
struct xap_statusdata {
    uint32_t messages;
    uint32_t uidnext;
    uint32_t uidvalidity;
    uint32_t unseen;
    uint64_t highestmodseq;
    uint64_t size;                /* quota used by this mailbox, bytes */
};

/* Every function below returns 0 or an XAP_IMAP_* code, the detail logged;
 * besides the codes named, any may return XAP_IMAP_IOERROR, and those that
 * read a mailbox's files XAP_IMAP_MAILBOX_CHECKSUM or XAP_IMAP_MAILBOX_BADFORMAT.
 * A struct xap_mailbox is the library's (one per name per process): never
 * freed by the caller, given back with xap_mailbox_close().  Threads: one
 * thread at a time (<xapiary/xapiary.h>); locks belong to the process. */

/* xap_mailbox_open_iwl - open NAME for writing: SHARED namelock, then
 * EXCLUSIVE index lock, both held on return (see the table above).
 * *MAILBOXP: NULL on entry; the mailbox on success, NULL on failure.
 * Returns 0; XAP_IMAP_MAILBOX_BADNAME; XAP_IMAP_MAILBOX_NONEXISTENT (no record,
 * or a tombstone); XAP_IMAP_MAILBOX_LOCKED (namelock_timeout expired, or this
 * process has NAME open and its index locked); XAP_IMAP_PERMISSION_DENIED (a
 * read-only spool).  Waits for the namelock and, while a rename moves
 * NAME, for the rename to finish. */
int xap_mailbox_open_iwl(const char *name, struct xap_mailbox **mailboxp);

/* xap_mailbox_open_irl - open NAME for reading: SHARED namelock, then SHARED
 * index lock.  As xap_mailbox_open_iwl() otherwise. */
int xap_mailbox_open_irl(const char *name, struct xap_mailbox **mailboxp);

/* xap_mailbox_open_exclusive - open NAME alone: EXCLUSIVE namelock (waits
 * until every other process has closed it), then EXCLUSIVE index lock.
 * As xap_mailbox_open_iwl() otherwise. */
int xap_mailbox_open_exclusive(const char *name, struct xap_mailbox **mailboxp);

/* xap_mailbox_close - unlock the index if needed (fatal if uncommitted
 * changes), drop one reference, and at the last one run the delayed
 * actions (see above) and release the namelock.  Sets *MAILBOXP to NULL;
 * *MAILBOXP NULL is a no-op. */
void xap_mailbox_close(struct xap_mailbox **mailboxp);

/* xap_mailbox_close_checked - as xap_mailbox_close(), returning the result of the
 * delayed repack or cleanup it ran (logged already; the next close
 * retries it): 0 when there was none or another process still has the
 * mailbox open and will do it. */
int xap_mailbox_close_checked(struct xap_mailbox **mailboxp);

/* xap_mailbox_lock_index - take the index lock again after
 * xap_mailbox_unlock_index(): LOCKTYPE is XAP_LOCK_SHARED or XAP_LOCK_EXCLUSIVE of
 * <xapiary/namelock.h>.  Waits as long as another process holds it (it is
 * held only while records are read or written), then re-reads the index
 * header under the lock (never trusting mtimes), so a reader that polls
 * misses no committed append.  Returns 0; XAP_IMAP_MAILBOX_LOCKED when the
 * index is locked already; XAP_IMAP_PERMISSION_DENIED for EXCLUSIVE on a
 * read-only spool; an error reading the header (the lock is then not
 * held). */
int xap_mailbox_lock_index(struct xap_mailbox *mailbox, int locktype);

/* xap_mailbox_unlock_index - release the index lock (the namelock stays),
 * running the delayed actions of a change (notifier, sync log,
 * statuscache).  SDATA: a fresh status to store in the statuscache (the
 * library copies it), or NULL to just invalidate it when the mailbox
 * changed.  Fatal (the process aborts) with uncommitted changes.  Returns
 * 0, also when the index was not locked. */
int xap_mailbox_unlock_index(struct xap_mailbox *mailbox, const struct xap_statusdata *sdata);

/* xap_mailbox_create - create NAME on PARTITION (NULL: "default") with
 * UNIQUEID (NULL: a new one) and UIDVALIDITY (0: chosen so it is never
 * reused for the name).  Writes the files and the mailboxes.db record
 * (a transaction of its own).  Returns 0 and *MAILBOXP, the mailbox open
 * with an EXCLUSIVE namelock and index lock (close it with
 * xap_mailbox_close()); XAP_IMAP_MAILBOX_EXISTS; XAP_IMAP_MAILBOX_BADNAME;
 * XAP_IMAP_PARTITION_UNKNOWN; XAP_IMAP_MAILBOX_LOCKED. */
int xap_mailbox_create(const char *name, const char *partition,
                   const char *uniqueid, uint32_t uidvalidity,
                   struct xap_mailbox **mailboxp);

/* xap_mailbox_delete - mark *MAILBOXP deleted, turn its mailboxes.db record
 * into a DELETED tombstone and close it (*MAILBOXP set to NULL); the
 * files go at the last close (delete cleanup).  Needs the EXCLUSIVE index
 * lock.  On error the mailbox stays open, for the caller to close. */
int xap_mailbox_delete(struct xap_mailbox **mailboxp);

/* xap_mailbox_delete_user - delete user USERID whole: every mailbox of
 * user.USERID's tree, then the user's search tiers, xapianactive, GUID db
 * and owner file.  Crash safe: a deletion that was interrupted is
 * finished by the next call, by xap_mailbox_expire()/xap_mailbox_recover() and by
 * a create of user.USERID.  Opens each mailbox in turn as
 * xap_mailbox_open_iwl() does, then takes the user's EXCLUSIVE Xapian
 * namelock.  Returns 0,
 * XAP_IMAP_MAILBOX_NONEXISTENT when there is no such user and nothing of one
 * is left, or the first error (logged, naming the mailbox or file; the
 * deletion stays pending).  Call it holding no mailbox open. */
int xap_mailbox_delete_user(const char *userid);

/* xap_mailbox_rename_copy - copy OLDMAILBOX (EXCLUSIVE index lock) to NEWNAME
 * on NEWPARTITION (NULL: the same): header, index, cache and message
 * files; the copy gets the same uniqueid and uidvalidity.  Returns 0 and
 * *NEWMAILBOXP, the new mailbox with EXCLUSIVE locks (close it with
 * xap_mailbox_close()).  It does not touch mailboxes.db: the caller (rename)
 * owns the records.  The caller must hold NEWNAME's exclusive namelock,
 * taken before OLDMAILBOX was opened (namelocks before index locks). */
int xap_mailbox_rename_copy(struct xap_mailbox *oldmailbox, const char *newname,
                        const char *newpartition,
                        struct xap_mailbox **newmailboxp);

/* What xap_mailbox_rename_tree() did, for its caller's report. */
struct xap_mailbox_rename_stats {
    unsigned mailboxes;
    unsigned long messages;
    double mark_s, copy_s, switch_s, remove_s, tombstone_s;   /* seconds */
};

/* xap_mailbox_rename_tree - rename mailbox FROM and every mailbox below it to
 * TO as one atomic operation: other processes see the whole old tree or
 * the whole new one, and a crash at any point is finished or undone by
 * the next open of a name involved, by xap_mailbox_expire() or by
 * xap_mailbox_recover().  user.A -> user.B also moves the user's GUID db,
 * xapianactive and search tier directories.  Mailboxes keep their
 * uniqueid, uidvalidity, UIDs and partition, so nothing is reindexed.
 * Holds FROM's EXCLUSIVE namelock for its duration and takes each
 * mailbox's (old name and new) in turn, and for user.A -> user.B the
 * users' EXCLUSIVE Xapian namelocks.
 * Returns 0; XAP_IMAP_MAILBOX_BADNAME (a bad name, or TO inside FROM's
 * tree); XAP_IMAP_MAILBOX_EXISTS (TO or a new name below it exists, or user B
 * already has search data); XAP_IMAP_MAILBOX_NONEXISTENT (no FROM);
 * XAP_IMAP_MAILBOX_NOTSUPPORTED (mail would change owner: between users, or a
 * user's INBOX to a folder); XAP_IMAP_MAILBOX_LOCKED (another rename of these
 * names is running).  Nothing is changed on error.  STATS (may be NULL,
 * the caller's) is filled in.  Call it holding no mailbox open. */
int xap_mailbox_rename_tree(const char *from, const char *to,
                        struct xap_mailbox_rename_stats *stats);

/* xap_mailbox_rename_resolve - finish or undo the rename whose NAMELOCK field
 * is ROOT when its process is dead: waits for ROOT's namelock while a
 * live process renames, or with NONBLOCK non-zero returns
 * XAP_IMAP_MAILBOX_LOCKED at once.  Returns 0 also when there is nothing to
 * do. */
int xap_mailbox_rename_resolve(const char *root, int nonblock);

/* What xap_mailbox_expire() and xap_mailbox_recover() did. */
struct xap_mailbox_expire_stats {
    unsigned long renames, busy, tombstones;
    unsigned long users;          /* interrupted user deletions finished */
};

/* xap_mailbox_expire - visit every mailboxes.db record: clean up dead renames
 * (a live one, whose namelock is held, is counted as busy and left
 * alone), finish interrupted user deletions and remove DELETED
 * tombstones older than TOMBSTONE_DAYS (negative: keep them all).
 * Returns 0 or the first error; STATS (may be NULL, the caller's) counts
 * what was done. */
int xap_mailbox_expire(int tombstone_days, struct xap_mailbox_expire_stats *stats);

/* xap_mailbox_recover - at boot, before any other process of the server
 * runs: xap_mailbox_expire() keeping the tombstones, then removes the
 * namelock tree (everything under CONFIGDIRECTORY/lock/).  Never while
 * another process may hold a namelock.  STATS as xap_mailbox_expire(). */
int xap_mailbox_recover(struct xap_mailbox_expire_stats *stats);

/* xap_mailbox_read_index_record - read record RECNO (1 ..
 * xap_mailbox_num_records()) into RECORD (the caller's; its cache record not
 * loaded), uncommitted changes of this process included.  Needs the
 * index lock, either mode.  Returns 0; XAP_IMAP_NOTFOUND for a RECNO out of
 * range; XAP_IMAP_MAILBOX_CHECKSUM. */
int xap_mailbox_read_index_record(struct xap_mailbox *mailbox, uint32_t recno,
                              struct xap_index_record *record);

/* xap_mailbox_rewrite_index_record - replace the record RECORD->recno with
 * RECORD (flags, modseq; UID, GUID and the expunged state checked not to
 * go back: XAP_IMAP_INTERNAL).  Needs the EXCLUSIVE index lock; durable at
 * xap_mailbox_commit().  Sets RECORD's modseq unless RECORD->silent. */
int xap_mailbox_rewrite_index_record(struct xap_mailbox *mailbox,
                                 struct xap_index_record *record);

/* xap_mailbox_append_index_record - append RECORD (sets RECORD->recno).  The
 * message file (xap_mailbox_message_path(mailbox, record->uid)) must be in
 * place; record->uid must be above every existing UID.  Needs the
 * EXCLUSIVE index lock; durable at xap_mailbox_commit(). */
int xap_mailbox_append_index_record(struct xap_mailbox *mailbox,
                                struct xap_index_record *record);

/* xap_mailbox_commit - make this lock's changes durable (fsynced) and visible
 * to other processes; the index lock stays.  Needs the EXCLUSIVE index
 * lock when there are changes; 0 at once when there are none.  On
 * failure (a full disk, an I/O error) the changes are dropped and the
 * index lock released: the error is returned and the mailbox can be
 * closed. */
int xap_mailbox_commit(struct xap_mailbox *mailbox);

/* xap_mailbox_cacherecord - load RECORD's cache record into RECORD->crec,
 * checking its CRC.  RECORD is one of this mailbox read under the current
 * index lock; the data belongs to the mailbox and is valid until the
 * index is unlocked.  Needs the index lock, either mode.  Returns 0;
 * XAP_IMAP_MAILBOX_CHECKSUM; XAP_IMAP_MAILBOX_BADFORMAT (no cache record). */
int xap_mailbox_cacherecord(struct xap_mailbox *mailbox, struct xap_index_record *record);

/* xap_cacheitem_base - field FIELD (XAP_CACHE_*) of RECORD's loaded cache record:
 * a pointer into the mailbox's buffer, not NUL-terminated (see
 * xap_cacheitem_size()), valid until the index is unlocked; NULL when the
 * record is not loaded or FIELD is out of range. */
const char *xap_cacheitem_base(const struct xap_index_record *record, int field);

/* xap_cacheitem_size - the length in bytes of xap_cacheitem_base(RECORD, FIELD);
 * 0 when the record is not loaded or FIELD is out of range. */
unsigned xap_cacheitem_size(const struct xap_index_record *record, int field);

/* Flags for xap_mailbox_iter_init(). */
#define XAP_ITER_SKIP_EXPUNGED 1

/* xap_mailbox_iter_init - an iteration over MAILBOX's records in recno order,
 * those whose modseq is above CHANGEDSINCE (0: all), without expunged ones
 * with XAP_ITER_SKIP_EXPUNGED.  The iterator is a talloc child of the mailbox
 * (freed at its last close, or by xap_mailbox_iter_done()).  Needs the index
 * lock, either mode, for the whole iteration; without it every step
 * fails (xap_mailbox_iter_error()). */
struct xap_mailbox_iter *xap_mailbox_iter_init(struct xap_mailbox *mailbox,
                                       uint64_t changedsince, unsigned flags);

/* xap_mailbox_iter_step - the next record, owned by the iterator and valid
 * until the next step; NULL at the end or on error (see
 * xap_mailbox_iter_error()). */
const struct xap_index_record *xap_mailbox_iter_step(struct xap_mailbox_iter *iter);

/* xap_mailbox_iter_error - 0, or the error that ended the iteration. */
int xap_mailbox_iter_error(const struct xap_mailbox_iter *iter);

/* xap_mailbox_iter_done - free *ITERP and set it to NULL; *ITERP NULL is a
 * no-op. */
void xap_mailbox_iter_done(struct xap_mailbox_iter **iterp);

/* Accessors: valid while the mailbox is open; strings owned by it; counts
 * as of the last header read under the index lock.  No lock taken. */

/* xap_mailbox_name - the mailbox's internal name, e.g. user.alice.Sent. */
const char *xap_mailbox_name(const struct xap_mailbox *mailbox);
/* xap_mailbox_uniqueid - its uniqueid, kept across renames. */
const char *xap_mailbox_uniqueid(const struct xap_mailbox *mailbox);
/* xap_mailbox_partition - the name of its partition, e.g. "default". */
const char *xap_mailbox_partition(const struct xap_mailbox *mailbox);
/* xap_mailbox_uidvalidity - its UIDVALIDITY. */
uint32_t xap_mailbox_uidvalidity(const struct xap_mailbox *mailbox);
/* xap_mailbox_last_uid - the highest UID ever given (UIDNEXT - 1). */
uint32_t xap_mailbox_last_uid(const struct xap_mailbox *mailbox);
/* xap_mailbox_num_records - the number of index records, expunged included. */
uint32_t xap_mailbox_num_records(const struct xap_mailbox *mailbox);
/* xap_mailbox_exists - the number of messages that are not expunged. */
uint32_t xap_mailbox_exists(const struct xap_mailbox *mailbox);
/* xap_mailbox_highestmodseq - its HIGHESTMODSEQ. */
uint64_t xap_mailbox_highestmodseq(const struct xap_mailbox *mailbox);
/* xap_mailbox_status - fills SDATA (the caller's) with the STATUS values. */
void xap_mailbox_status(const struct xap_mailbox *mailbox, struct xap_statusdata *sdata);
/* xap_mailbox_user_flag - the name of user flag I (bit I % 32 of
 * index_record.user_flags[I / 32]), or NULL when the mailbox has no such
 * flag.  The string belongs to the mailbox: valid while it is open.  Takes
 * no lock; read the record and the name under the same index lock. */
const char *xap_mailbox_user_flag(const struct xap_mailbox *mailbox, unsigned i);

/* xap_mailbox_message_path - the path of message UID's file (whether it
 * exists or not), under CTX; the caller frees it with talloc_free(). */
char *xap_mailbox_message_path(void *ctx, const struct xap_mailbox *mailbox, uint32_t uid);

/* xap_mailbox_append_message - high-level append: stores LEN bytes of MSG
 * (not kept) as the next UID, parses it, appends the record.  Needs the
 * EXCLUSIVE index lock; durable at xap_mailbox_commit(), which syncs the
 * message files of all the transaction's appends before the records (so
 * many appends per commit cost one sync pass, not an fsync each).  INTERNALDATE 0 =
 * now; SYSTEM_FLAGS XAP_FLAG_*.  Returns 0 and the UID in *UID_R;
 * XAP_IMAP_MESSAGE_BADHEADER (not a message); XAP_IMAP_MESSAGE_TOOLARGE (over the
 * configured max_message_size or max_header_fields: refused before
 * anything is written, logged naming the limit). */
int xap_mailbox_append_message(struct xap_mailbox *mailbox, const char *msg, size_t len,
                           int64_t internaldate, uint32_t system_flags,
                           uint32_t *uid_r);

/* xap_mailbox_append_message_dated - as xap_mailbox_append_message(), with
 * FALLBACKDATE (0: none) as the internal date instead of INTERNALDATE
 * when the message has no Date: header that parses (an mbox envelope
 * line's date, which is when the mail was delivered). */
int xap_mailbox_append_message_dated(struct xap_mailbox *mailbox, const char *msg, size_t len,
                                 int64_t internaldate, int64_t fallbackdate,
                                 uint32_t system_flags, uint32_t *uid_r);

/* xap_mailbox_deliver - one delivery, as `mbctl append` and lmtpd make it:
 * opens NAME with xap_mailbox_open_iwl(), appends MSG with
 * xap_mailbox_append_message_dated() (FALLBACKDATE as there; 0: none),
 * commits (the message is durable when this returns 0) and closes.
 * Returns 0 and the UID in *UID_R (may be NULL); XAP_IMAP_MAILBOX_NONEXISTENT;
 * XAP_IMAP_MAILBOX_LOCKED (namelock_timeout expired); XAP_IMAP_MESSAGE_BADHEADER
 * (not a message); XAP_IMAP_MESSAGE_TOOLARGE (over a limit, as above);
 * XAP_IMAP_IOERROR (logged; the disk may be full).  On
 * failure nothing of MSG is in the mailbox. */
int xap_mailbox_deliver(const char *name, const char *msg, size_t len,
                    int64_t internaldate, int64_t fallbackdate, uint32_t system_flags,
                    uint32_t *uid_r);

/* xap_mailbox_open_message - open the file of the live message UID read-only
 * (O_CLOEXEC) and set *FD_R to its descriptor, which the caller closes; -1
 * on error.  Needs the index lock (either mode); the mailbox being open
 * (its namelock) keeps the file from being deleted until then, and the
 * descriptor stays readable after an expunge removes the file.  Returns 0;
 * XAP_IMAP_NOTFOUND when there is no such UID or it is expunged; XAP_IMAP_IOERROR
 * (logged, naming the file) when the file cannot be opened.  Any thread
 * may call it on a mailbox it has open. */
int xap_mailbox_open_message(struct xap_mailbox *mailbox, uint32_t uid, int *fd_r);

/* xap_mailbox_expunge_uid - mark UID expunged (EXPUNGED|UNLINKED) and schedule
 * its file's unlink for the last close.  Needs the EXCLUSIVE index lock;
 * durable at xap_mailbox_commit().  XAP_IMAP_NOTFOUND if there is no such live
 * UID. */
int xap_mailbox_expunge_uid(struct xap_mailbox *mailbox, uint32_t uid);

/* xap_mailbox_find_uid - read the record of UID (expunged or not) into RECORD
 * (the caller's).  Needs the index lock, either mode.  XAP_IMAP_NOTFOUND if
 * none. */
int xap_mailbox_find_uid(struct xap_mailbox *mailbox, uint32_t uid,
                     struct xap_index_record *record);

/* The callback of xap_mailbox_verify(): NAME the mailbox, PROBLEM a sentence;
 * both valid during the call only. */
typedef void xap_mailbox_verify_fn(void *rock, const char *name, const char *problem);

/* xap_mailbox_verify - audit NAME read-only (opened as xap_mailbox_open_irl()):
 * every CRC, every message file (present, size, GUID), the counts, stray
 * files.  Calls CB(ROCK, ...) once per problem found and sets *PROBLEMS_R
 * to their number.  Returns 0 when the audit ran (even with problems),
 * else why it could not (e.g. XAP_IMAP_MAILBOX_CHECKSUM for a header that
 * cannot be trusted). */
int xap_mailbox_verify(const char *name, xap_mailbox_verify_fn *cb, void *rock,
                   int *problems_r);

/* xap_mailbox_reconstruct - rebuild NAME's index, cache and header files from
 * its message files under the EXCLUSIVE namelock, keeping the flags and
 * dates of records that still check out.  Works on a mailbox whose index
 * or cache is truncated or corrupt.  For a user's mailbox it then
 * rebuilds the mailbox's part of the owner's GUID db (creating a lost
 * one).  Sets *MESSAGES_R to the number of messages in the rebuilt
 * index. */
int xap_mailbox_reconstruct(const char *name, uint32_t *messages_r);

/* The callback of xap_mailbox_set_updatenotifier(): NAME the mailbox that
 * changed, valid during the call only.  Runs inside xap_mailbox_unlock_index()
 * (no index lock held, the namelock held); must not open mailboxes. */
typedef void xap_mailbox_notify_fn(const char *name);

/* xap_mailbox_set_updatenotifier - call FN at every unlock after changes, in
 * this process (IDLE and the like).  NULL to remove. */
void xap_mailbox_set_updatenotifier(xap_mailbox_notify_fn *fn);

#ifdef __cplusplus
}
#endif
#endif
