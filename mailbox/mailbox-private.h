/* mailbox-private.h - what the mailbox-*.c files share and nothing else
 * may see: struct xap_mailbox, the on-disk header, and the internal helpers.
 *
 * States of a struct xap_mailbox
 *   open, unlocked   namelock held (SHARED or EXCLUSIVE), index fd open,
 *                    header as of the last lock.  Records may be read only
 *                    after locking again.
 *   locked           index flocked (SHARED or EXCLUSIVE), header fresh.
 *   snapshot         no index lock: the committed header as read at
 *                    xap_mailbox_open_snapshot(); records read are checked
 *                    against it (a commit rewriting them fails the read
 *                    with XAP_IMAP_AGAIN).  Reads only.
 *   dirty            EXCLUSIVE, with changes not yet committed (pending
 *                    records and cache bytes in memory, header in memory).
 *                    Unlock or close in this state aborts the process.
 *   (freed)          after the last close.
 */
#ifndef XAPIARY_MAILBOX_PRIVATE_H
#define XAPIARY_MAILBOX_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "xapiary/mailbox.h"
#include "xapiary/namelock.h"
#include "common/lockfile.h"
#include "common/syncbatch.h"

/* index_locktype of a snapshot read: no lock held (after the XAP_LOCK_*
 * values). */
#define MAILBOX_INDEX_SNAPSHOT 4

#define INDEX_MAGIC "\x89XPYIDX\n"
#define INDEX_VERSION 1
#define INDEX_HEADER_SIZE 128
#define INDEX_RECORD_SIZE 104
#define CACHE_MAGIC "\x89XPYCCH\n"
#define CACHE_HEADER_SIZE 16

#define FNAME_HEADER "xapiary.header"
#define FNAME_INDEX "xapiary.index"
#define FNAME_CACHE_PREFIX "xapiary.cache."

/* Options in the index header. */
#define OPT_MAILBOX_DELETED   (1u << 0)
#define OPT_MAILBOX_NEEDS_REPACK (1u << 1)
/* Set on disk before records are rewritten in place and cleared by the
 * header write that ends the commit: a reader that finds it knows a
 * commit died half way and the counts must be recomputed. */
#define OPT_MAILBOX_DIRTY     (1u << 2)
/* Set by the index a repack switches in, cleared once the old cache file
 * is gone: a crash in between leaves the flag, and the next last close
 * removes the debris. */
#define OPT_MAILBOX_NEEDS_CLEANUP (1u << 3)

struct index_header {
    uint32_t version;
    uint32_t generation;       /* names the cache file */
    uint32_t num_records;
    uint32_t exists;
    uint32_t uidvalidity;
    uint32_t last_uid;
    uint64_t highestmodseq;
    int64_t last_appenddate;
    uint32_t options;
    uint32_t deleted;
    uint32_t answered;
    uint32_t flagged;
    uint32_t unseen;
    uint64_t quota_used;
};

/* A record changed or appended in the current transaction. */
struct pending {
    struct xap_index_record record;
    int is_append;
};

struct xap_mailbox {
    struct xap_mailbox *next;          /* the process's open mailboxes */
    int refcount;
    char *name;
    char *partition;
    char *uniqueid;
    char *path;                    /* the mailbox directory */
    char **user_flags;             /* talloc array of names */
    struct xap_mboxlock *namelock;
    struct lockfile *index_lock;   /* the index file: its fd, and the lock;
                                    * readonly: a read-only spool */
    int index_locktype;            /* 0, XAP_LOCK_SHARED, XAP_LOCK_EXCLUSIVE
                                    * or MAILBOX_INDEX_SNAPSHOT */
    struct index_header i;         /* as of now, with pending changes */
    struct index_header committed; /* as on disk */
    int cache_fd;
    uint32_t cache_generation;     /* generation cache_fd belongs to */
    uint64_t cache_end;            /* where the next cache record goes */
    struct cachemap *maps;         /* mmaps of the cache, freed at unlock */
    void *lock_ctx;                /* freed at unlock: loaded cache copies */
    /* The current transaction. */
    int dirty;
    int has_changed;               /* since the last unlock: delayed actions */
    struct pending *pending;       /* talloc array, ascending recno */
    char *cache_pending;           /* talloc array of cache bytes */
    int header_changed;            /* user flags: rewrite the header file */
    uint32_t *unlinks;             /* talloc array of UIDs to unlink at close */
    struct syncbatch *unsynced;    /* the files appended in this
                                    * transaction, not yet known durable
                                    * (the commit's step 0), or NULL */
    int dir_fd;                    /* the directory, for creating them
                                    * (openat), or -1 */
};

struct cachemap {
    struct cachemap *next;
    const char *base;
    size_t len;
};

/* mailbox-format.c: on-disk encodings, all big-endian, each with a CRC32. */
void index_header_encode(const struct index_header *h, unsigned char *buf);
/* Returns 0, XAP_IMAP_MAILBOX_BADFORMAT or XAP_IMAP_MAILBOX_CHECKSUM. */
int index_header_decode(const unsigned char *buf, size_t len, struct index_header *h);
void index_record_encode(const struct xap_index_record *r, unsigned char *buf);
int index_record_decode(const unsigned char *buf, struct xap_index_record *r);
/* Appends a cache record for the ten FIELDS (NULL = empty) to *BUF (a
 * talloc char array); returns its offset within *BUF and its CRC, or
 * CACHE_BUILD_FAILED (*BUF unchanged) when *BUF cannot grow. */
#define CACHE_BUILD_FAILED SIZE_MAX
size_t cache_record_build(char **buf, const char *const fields[XAP_NUM_CACHE_FIELDS],
                          uint32_t *crc_r);
/* mailbox-cachewrite.c: a new cache file written a chunk at a time.
 * open creates PATH (truncating) with the header of GENERATION; add gives
 * each record's offset in the file; finish writes the rest and fsyncs.
 * Freeing the writer (a talloc child of CTX) closes the file. */
struct cache_writer;
int cache_writer_open(void *ctx, const char *path, uint32_t generation,
                      struct cache_writer **wp);
int cache_writer_add(struct cache_writer *w, const char *const fields[XAP_NUM_CACHE_FIELDS],
                     uint64_t *offset_r, uint32_t *crc_r);
int cache_writer_finish(struct cache_writer *w);
/* Splits the record at BASE of at most AVAIL bytes into CREC; checks CRC.
 * Returns 0, XAP_IMAP_MAILBOX_BADFORMAT or XAP_IMAP_MAILBOX_CHECKSUM. */
int cache_record_parse(const char *base, size_t avail, uint32_t crc,
                       struct xap_cacherecord *crec);
void cache_header_encode(uint32_t generation, unsigned char *buf);
int cache_header_decode(const unsigned char *buf, size_t len, uint32_t *generation_r);

/* mailbox-path.c */
/* The directory of NAME on PARTITION under CTX; NULL (logged) when the
 * partition is not configured. */
char *mailbox_dir(void *ctx, const char *partition, const char *name);
char *mailbox_file(void *ctx, const struct xap_mailbox *mailbox, const char *fname);
char *mailbox_cache_file(void *ctx, const struct xap_mailbox *mailbox, uint32_t generation);
/* A new uniqueid (32 hex digits of randomness). */
char *mailbox_make_uniqueid(void *ctx);

/* mailbox-header.c: the header file (name, uniqueid, user flags). */
int mailbox_write_header(struct xap_mailbox *mailbox);
int mailbox_read_header(struct xap_mailbox *mailbox);

/* mailbox-index.c */
int mailbox_read_header_locked(struct xap_mailbox *mailbox);
int mailbox_open_cache(struct xap_mailbox *mailbox);
/* Writes the initial empty index and cache files for a new mailbox. */
int mailbox_init_files(struct xap_mailbox *mailbox);
/* Recomputes the counts of the header from the records. */
int mailbox_recount(struct xap_mailbox *mailbox, struct index_header *h);
/* Drops the cache maps and per-lock allocations (at unlock). */
void mailbox_release_lock_state(struct xap_mailbox *mailbox);
/* Adds or removes R's contribution to the counts of H. */
void mailbox_count_record(struct index_header *h, const struct xap_index_record *r,
                          int sign);

/* mailbox-open.c */
/* A new, unregistered struct xap_mailbox for NAME on PARTITION (no files
 * touched); NULL when the partition is unknown (logged). */
struct xap_mailbox *mailbox_new(const char *name, const char *partition);
/* The code for mailbox_new() returning NULL in this thread:
 * XAP_IMAP_PARTITION_UNKNOWN, XAP_IMAP_PERMISSION_DENIED (the path met a planted
 * symlink) or XAP_IMAP_IOERROR; the cause is logged. */
int mailbox_new_failed(void);
/* The last steps of every open and create, R being the result so far:
 * opens and locks the index file (INDEXLOCKTYPE) and adds MAILBOX to the
 * process's open list with one reference, setting *MAILBOXP; on any
 * failure releases the namelock and frees MAILBOX.  Returns the result. */
int mailbox_finish_open(struct xap_mailbox *mailbox, int indexlocktype, int r,
                        struct xap_mailbox **mailboxp);
int mailbox_open_index_file(struct xap_mailbox *mailbox);

/* mailbox-create.c: removes a mailbox's own files in DIR (not child
 * mailboxes' directories). */
int mailbox_remove_files(const char *dir);

/* mailbox-open.c: unlinks the message file of UID; 1 when it was there,
 * 0 when it was not or could not be (logged). */
int mailbox_unlink_message(struct xap_mailbox *mailbox, uint32_t uid);

/* mailbox-repack.c */
int mailbox_index_repack(struct xap_mailbox *mailbox);
/* Whether the last close after an expunge repacks (the unlinked records
 * are a good part of the index, or the index is small), or only
 * mailbox_unlink_expunged.  Both need the EXCLUSIVE namelock and index
 * lock. */
int mailbox_repack_due(const struct xap_mailbox *mailbox);
/* Unlinks the message files of the unlinked records still in the index
 * (those of a close that died), then clears OPT_MAILBOX_NEEDS_REPACK
 * and OPT_MAILBOX_NEEDS_CLEANUP (committed). */
int mailbox_unlink_expunged(struct xap_mailbox *mailbox);
int mailbox_delete_cleanup(struct xap_mailbox *mailbox);
/* Removes files of a crashed run: stale .NEW files and cache generations
 * the index does not name.  Needs the EXCLUSIVE namelock. */
int mailbox_remove_debris(struct xap_mailbox *mailbox);
/* Removes debris and clears OPT_MAILBOX_NEEDS_CLEANUP (committed). */
int mailbox_finish_cleanup(struct xap_mailbox *mailbox);

/* mailbox-index.c: whether an index shorter than its header's count of
 * records may be opened (only xap_mailbox_verify, which reports it; every
 * other opener gets XAP_IMAP_MAILBOX_BADFORMAT). */
void mailbox_allow_short_index(int allow);

/* mailbox-append.c: removes the message files above the committed last
 * UID (an interrupted append, or a failed commit's). */
int mailbox_remove_uncommitted_files(struct xap_mailbox *mailbox);
/* mailbox-append.c: the commit's step 0, makes the files of this
 * transaction's appends (written unsynced by the append) durable before
 * any record naming them is written. */
int mailbox_sync_appended(struct xap_mailbox *mailbox);
/* Forgets them (a commit that failed, or done): unsynced and dir_fd. */
void mailbox_forget_unsynced(struct xap_mailbox *mailbox);
/* mailbox-link.c: makes the file NAME (PATH) of an append of LEN bytes
 * a hard link to SRC's and adds it to the transaction's batch, when
 * mailbox/append.h allows: 0 with *LINKED_R set or clear (then nothing was
 * made: copy), or XAP_IMAP_IOERROR, logged (*LINKED_R set: the link was
 * made, the caller removes it). */
struct append_source;
int mailbox_link_file(struct xap_mailbox *mailbox, const struct append_source *src,
                      const char *name, const char *path, size_t len, int *linked_r);

/* namelock.c: how many names this process holds a namelock on. */
int namelock_held_count(void);

/* mailbox-rename.c */
struct xap_mboxlist_entry;
/* Whether this process is the rename whose NAMELOCK field is NAMELOCK. */
int mailbox_rename_is_mine(const char *namelock);
/* Whether E is marked by a rename (RENAMELOCKED or RENAMETEMP) that is
 * not this process's: an opener must mailbox_rename_wait() on its
 * NAMELOCK, holding no namelock of its own, and look again. */
int mailbox_is_renaming(const struct xap_mboxlist_entry *e);
/* Waits for the rename holding ROOT to end, cleaning it up if its process
 * died.  When this process holds namelocks it only tries (a renamer may
 * be waiting for one of them): XAP_IMAP_MAILBOX_LOCKED if the rename is
 * alive. */
int mailbox_rename_wait(const char *root);

/* mailbox-deluser.c */
/* Whether E (a user's INBOX record, live or a tombstone) is marked by a
 * deletion of the user that has not finished. */
int mailbox_user_deleting(const struct xap_mboxlist_entry *e);
/* Whether NAME is a user's INBOX whose record carries that mark: 1 with
 * the userid in *USERID_R (under CTX), for xap_mailbox_delete_user(). */
int mailbox_user_delete_pending(void *ctx, const char *name, char **userid_r);

#endif
