/* mboxlist.h - mailboxes.db, the server's list of mailboxes.
 *
 * One record per name: which partition holds the mailbox, its uniqueid and
 * uidvalidity, its type and, during a rename, the NAMELOCK field.  The
 * list is the authority on whether a mailbox exists: a mailbox's files
 * without a record are debris.  The file is CONFIGDIRECTORY/mailboxes.db;
 * FORMAT.md in the documentation directory describes it.
 *
 * Record types
 *   XAP_MBTYPE_NORMAL        a mailbox.
 *   XAP_MBTYPE_DELETED       a tombstone: the mailbox was deleted.  It keeps the
 *                        uidvalidity (so that a new mailbox of that name
 *                        gets a larger one, never the same) and the
 *                        uniqueid.  xap_mboxlist_create_exclusive() replaces it.
 *   XAP_MBTYPE_RENAMELOCKED  a mailbox that a rename is moving away: it still
 *                        exists; openers wait for the namelock named by
 *                        the NAMELOCK field, then look again.
 *   XAP_MBTYPE_RENAMETEMP    a name a rename is moving to (or, after the
 *                        rename's commit, the old name whose files are
 *                        being removed): not a mailbox yet / any more;
 *                        openers wait on NAMELOCK and clean up a dead
 *                        rename.
 *   XAP_MBTYPE_RESERVED      a name a create holds in a cluster while it asks
 *                        the cluster registry (SCALING.md): not a
 *                        mailbox yet.  Only xap_mboxlist_lookup_any() and
 *                        foreach with XAP_MBOXLIST_ALL see it; the next create
 *                        of the name or `mbctl recover` resolves a
 *                        leftover one.
 *
 * Calling sequence
 *   xap_init() first.  Every function opens the database on first use
 *   (once per process) and xap_done() closes it.  Reads need no
 *   transaction.  Writes are grouped with
 *
 *       struct xap_mboxlist_txn *txn = NULL;
 *       r = xap_mboxlist_begin(&txn);
 *       if (!r) r = xap_mboxlist_update(txn, &e1);
 *       if (!r) r = xap_mboxlist_update(txn, &e2);
 *       if (r) xap_mboxlist_abort(&txn); else r = xap_mboxlist_commit(&txn);
 *
 *   and other processes see all of the transaction's writes or none, even
 *   if the writer is killed.  Every write function takes TXN NULL to mean
 *   "a transaction of its own, committed before returning".  Reads in the
 *   process that holds a transaction see its uncommitted writes.
 *
 * Locking
 *   A transaction is the one write lock on the list (LOCKING.md in the
 *   documentation directory, level 25): one writer at a time
 *   server-wide; readers never wait.  It may be taken while holding
 *   mailbox namelocks and index locks, never after a higher lock
 *   (statuscache, Xapian locks), and a process holds at most one.  A writer waits for another process's transaction as
 *   long as `namelock_timeout` says (default 60 s; 0: for ever), then gets
 *   XAP_IMAP_MAILBOX_LOCKED.  The death of the holder ends the wait.
 *
 * Processes
 *   A connection to the database must not cross fork().  The library
 *   closes its connection before a fork (both sides reopen it on next use)
 *   unless a transaction is open; a child forked with a transaction open
 *   gets XAP_IMAP_INTERNAL from every function here.
 *
 * Error handling
 *   Every function returns 0 or an XAP_IMAP_* code; the detail has been
 *   logged.  Codes any function may return besides those listed:
 *   XAP_IMAP_CONFIG (no configuration), XAP_IMAP_IOERROR, XAP_IMAP_MAILBOX_BADFORMAT
 *   (mailboxes.db is not a mailboxes.db: garbage, another database, a
 *   broken record), XAP_IMAP_MAILBOX_NOTSUPPORTED (written by a newer
 *   version), XAP_IMAP_MAILBOX_LOCKED (writes only: the wait timed out).
 *   Names are checked (valid UTF-8 without control characters or '/',
 *   no empty part between dots, no leading '$') before the database is
 *   touched: a bad one is XAP_IMAP_MAILBOX_BADNAME and nothing is written.
 *
 * Memory
 *   Entries returned are talloc objects under the CTX passed in (NULL: a
 *   new talloc root); their strings are children of the entry.  The caller
 *   owns them and frees the entry with talloc_free().
 *
 * Threads
 *   One thread at a time (see <xapiary/xapiary.h>): the connection and the
 *   transaction belong to the process.
 */
#ifndef XAPIARY_MBOXLIST_H
#define XAPIARY_MBOXLIST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Record types (stored as "", "DELETED", "RENAMELOCKED", "RENAMETEMP",
 * "RESERVED"). */
enum {
    XAP_MBTYPE_NORMAL = 0,
    XAP_MBTYPE_DELETED,
    XAP_MBTYPE_RENAMELOCKED,
    XAP_MBTYPE_RENAMETEMP,
    XAP_MBTYPE_RESERVED
};

struct xap_mboxlist_entry {
    char *name;           /* the internal name, e.g. user.alice.Sent */
    char *partition;      /* a configured partition-NAME */
    char *uniqueid;       /* never empty */
    uint32_t uidvalidity;
    int type;             /* XAP_MBTYPE_* */
    char *namelock;       /* NAMELOCK: the name whose namelock a rename
                           * holds (its source root), NULL when none */
    int64_t mtime;        /* when the record was last written (seconds
                           * since the epoch); set by every write, the
                           * value passed in is ignored */
    char *extra;          /* fields this version has no member for: the
                           * text of a JSON object, or NULL when none.
                           * Kept as read, so pass a looked-up entry's
                           * value back to update() to keep fields a newer
                           * version wrote.  Keys this version names
                           * ("mtime") are overwritten. */
};

/* A write transaction; opaque. */
struct xap_mboxlist_txn;

/* Flags for xap_mboxlist_foreach(). */
#define XAP_MBOXLIST_TREE 1   /* PREFIX is a name: visit PREFIX and PREFIX.*
                           * only (user.alice: user.alice, user.alice.Sent,
                           * not user.alicex) */
#define XAP_MBOXLIST_ALL  2   /* every record: tombstones (DELETED) and
                           * RENAMETEMP records too */

/* xap_mboxlist_type_name - "" for XAP_MBTYPE_NORMAL, "DELETED", ...; "?" for
 * anything else.  Static string; needs no xap_init(). */
const char *xap_mboxlist_type_name(int type);

/* ------------------------------------------------------------ reads */

/* xap_mboxlist_lookup - the record of mailbox NAME, if it is not a tombstone.
 * Returns 0 and *ENTRY_R (a new entry under CTX, owned by the caller);
 * XAP_IMAP_MAILBOX_NONEXISTENT when NAME has no record, a DELETED or a
 * RESERVED one;
 * XAP_IMAP_MAILBOX_BADNAME.  *ENTRY_R is NULL on failure.  RENAMELOCKED and
 * RENAMETEMP records are returned: the caller must look at the type. */
int xap_mboxlist_lookup(void *ctx, const char *name,
                    struct xap_mboxlist_entry **entry_r);

/* xap_mboxlist_lookup_any - as xap_mboxlist_lookup(), tombstones included. */
int xap_mboxlist_lookup_any(void *ctx, const char *name,
                        struct xap_mboxlist_entry **entry_r);

/* xap_mboxlist_lookup_by_uniqueid - the record that is not a tombstone with
 * UNIQUEID.  A rename gives two
 * records one uniqueid for a while; the mailbox (NORMAL, else
 * RENAMELOCKED, else RENAMETEMP) is returned.  Returns 0 and *ENTRY_R
 * (under CTX, owned by the caller); XAP_IMAP_MAILBOX_NONEXISTENT;
 * XAP_IMAP_INVALID_ARGUMENT for a NULL or empty UNIQUEID. */
int xap_mboxlist_lookup_by_uniqueid(void *ctx, const char *uniqueid,
                                struct xap_mboxlist_entry **entry_r);

/* xap_mboxlist_next_uidvalidity - a uidvalidity for a new mailbox NAME: at least
 * the current time and larger than the uidvalidity of any record NAME has (a
 * tombstone's), so that a recreated mailbox never repeats one.  Returns 0
 * and *UV_R; XAP_IMAP_MAILBOX_BADNAME.  Call it under the name's EXCLUSIVE
 * namelock, or the record may change before it is used. */
int xap_mboxlist_next_uidvalidity(const char *name, uint32_t *uv_r);

/* The callback of xap_mboxlist_foreach(). */
typedef int xap_mboxlist_foreach_cb(const struct xap_mboxlist_entry *entry, void *rock);

/* xap_mboxlist_foreach - calls CB(entry, ROCK) for each record whose name starts
 * with PREFIX ("" or NULL: all), in name order (byte order of the UTF-8
 * names), skipping tombstones and RENAMETEMP records unless FLAGS has
 * XAP_MBOXLIST_ALL; with XAP_MBOXLIST_TREE, only PREFIX itself and the names below
 * it.  ENTRY is owned by foreach and valid during the call only.  CB may
 * read and write the list (expire removes what it visits); the walk is not a
 * snapshot: each record is visited at most once, in order, and records
 * written during the walk may or may not be seen.  Returns 0, the first
 * non-zero value CB returned (the walk stops there), or an error.  Takes no
 * lock (reads a snapshot per step). */
int xap_mboxlist_foreach(const char *prefix, int flags, xap_mboxlist_foreach_cb *cb,
                     void *rock);

/* xap_mboxlist_collect_tree - appends to *NAMES (a talloc array of strings,
 * reallocated; the caller owns it) the name of every mailbox in ROOT's tree
 * (ROOT and below, XAP_MBOXLIST_TREE), in name order, skipping records a rename
 * has marked.  Returns 0 or the error of xap_mboxlist_foreach(). */
int xap_mboxlist_collect_tree(const char *root, char ***names);

/* ------------------------------------------------------------ writes */

/* xap_mboxlist_begin - starts a write transaction: waits until no other process
 * has one (see Locking).  Returns 0 and *TXN_R (owned by the library until
 * xap_mboxlist_commit() or xap_mboxlist_abort()); XAP_IMAP_MAILBOX_LOCKED when the wait
 * timed out; XAP_IMAP_INTERNAL if this process already has one (the debug build
 * aborts instead: a lock order violation). */
int xap_mboxlist_begin(struct xap_mboxlist_txn **txn_r);

/* xap_mboxlist_commit - makes the transaction's writes durable (on disk,
 * fsynced) and visible, and ends it.  Returns 0, or XAP_IMAP_IOERROR after
 * rolling back.  Either way *TXNP is set to NULL; NULL is a no-op returning
 * 0. */
int xap_mboxlist_commit(struct xap_mboxlist_txn **txnp);

/* xap_mboxlist_abort - drops the transaction's writes and ends it; sets *TXNP to
 * NULL.  NULL is a no-op. */
void xap_mboxlist_abort(struct xap_mboxlist_txn **txnp);

/* xap_mboxlist_create_exclusive - writes ENTRY as a new record.  The entry is
 * checked first: NAME and NAMELOCK (when set) valid names, else
 * XAP_IMAP_MAILBOX_BADNAME; PARTITION configured, else XAP_IMAP_PARTITION_UNKNOWN;
 * UNIQUEID not empty, TYPE an XAP_MBTYPE_* and EXTRA NULL or a JSON object, else
 * XAP_IMAP_INVALID_ARGUMENT.  Returns 0; XAP_IMAP_MAILBOX_EXISTS when NAME has a
 * record that is not a tombstone (a tombstone is replaced: take the
 * uidvalidity from xap_mboxlist_next_uidvalidity() first).  ENTRY is not kept. */
int xap_mboxlist_create_exclusive(struct xap_mboxlist_txn *txn,
                              const struct xap_mboxlist_entry *entry);

/* xap_mboxlist_update - replaces the record of ENTRY->name, of any type, with
 * ENTRY (checked as by create).  Returns 0; XAP_IMAP_MAILBOX_NONEXISTENT when
 * there is no record. */
int xap_mboxlist_update(struct xap_mboxlist_txn *txn, const struct xap_mboxlist_entry *entry);

/* xap_mboxlist_delete - turns the record of NAME into a DELETED tombstone that
 * keeps the partition, uniqueid, uidvalidity and extra fields and drops
 * NAMELOCK.  Returns 0; XAP_IMAP_MAILBOX_NONEXISTENT when there is no record or
 * it is a tombstone already. */
int xap_mboxlist_delete(struct xap_mboxlist_txn *txn, const char *name);

/* xap_mboxlist_remove - removes the record of NAME, of any type, for good
 * (expire, rename cleanup).  Returns 0; XAP_IMAP_MAILBOX_NONEXISTENT when there
 * is none. */
int xap_mboxlist_remove(struct xap_mboxlist_txn *txn, const char *name);

#ifdef __cplusplus
}
#endif
#endif
