/* index.h - indexing a user's mailboxes into the user's first search
 * database (docs/FORMAT.md "Xapian document schema").
 *
 * Calling sequence
 *     indexer_begin(ctx, "alice", flags, &ix);     reads the indexed state
 *     indexer_mailbox(ix, "user.alice");           collects, indexes in batches
 *     indexer_mailbox(ix, "user.alice.Sent");
 *     indexer_end(&ix);                            flushes the last batch
 *
 * Locking (docs/LOCKING.md): records are collected under the mailbox's
 * SHARED index lock, which is released before the Xapian locks are taken
 * for a batch (begin/end_mailbox_update); no mailbox lock is held while
 * the Xapian locks are.  A batch is at most search_batchsize messages,
 * possibly from several mailboxes, and is one Xapian commit together with
 * the indexed-state metadata of every mailbox it touched.  A mailbox is
 * collected a batch at a time: it is closed before each flush and opened
 * again to resume after the last UID read, so memory holds one batch
 * whatever the size of the mailbox, and a run killed between two commits
 * leaves the earlier batches indexed.
 *
 * A message whose file vanished between collecting and indexing (an
 * expunge's close unlinked it) is skipped and not marked indexed. */
#ifndef XAPIARY_INDEX_H
#define XAPIARY_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "mailbox/message.h"

#define INDEXER_RECHECK  1   /* -Z: ask Xapian about each message */
#define INDEXER_AUDIT    2   /* -A: report, index nothing */

struct indexer;

struct indexer_stats {
    unsigned long mailboxes;
    unsigned long indexed;        /* documents written */
    unsigned long copies;         /* already indexed by GUID: only marked */
    unsigned long skipped;        /* vanished before indexing */
    unsigned long failed;         /* unparseable beyond repair, logged */
    unsigned long long bytes;
    unsigned long batches;
    unsigned long unchanged;      /* mailboxes skipped by their indexed state alone */
};

/* Called by -A for each mailbox with unindexed messages. */
typedef void indexer_audit_fn(void *rock, const char *mailbox,
                              const uint32_t *uids, unsigned long n);

/* The term prefix of a kind of text (docs/FORMAT.md), or NULL when that
 * kind is not free text (the Message-ID is a boolean term). */
const char *indexer_text_prefix(enum message_text_kind kind);

/* A message collected under its mailbox's lock, indexed after it is let
 * go: what building its document needs, without the mailbox. */
struct indexer_msg {
    char *mailbox;       /* name, for logs */
    char *uniqueid;
    char *path;          /* the message file */
    uint32_t uid;
    uint8_t guid[XAP_MESSAGE_GUID_SIZE];
    int64_t internaldate;
    uint32_t size;
};

struct xap_mailbox;
struct uidset;
struct xw_dbr;
struct xw_dbw;
struct xw_doc;

/* P's Xapian document (docs/FORMAT.md "Xapian document schema") from its
 * LEN bytes BUF, under CTX: the terms, positions, data and values every
 * writer stores (bench/rawindex builds the very same documents). */
int indexer_build_doc(void *ctx, const struct indexer_msg *p, const char *buf, size_t len,
                      struct xw_doc **doc_r);

/* Appends to *MSGS (a talloc array) the live records of MAILBOX (open,
 * index lock held) whose UID is in SET: compaction's reindexing (-X). */
int indexer_collect_indexed(struct xap_mailbox *mailbox, const struct uidset *set,
                            struct indexer_msg **msgs);

/* Reads and parses the N messages MSGS and adds their documents to DBW
 * (one per GUID: a GUID DBW has already, or an earlier message has, or
 * one HAVE (NULL, or per message) says another database has, is only
 * marked), with a worker thread building documents ahead.  DONE[i]
 * becomes 1 for each message indexed or marked; a vanished file is
 * skipped (counted in STATS->skipped).  No lock is taken: the caller
 * holds whatever DBW needs.  Returns the first error. */
int indexer_write_docs(const char *userid, const struct indexer_msg *msgs, size_t n,
                       const uint8_t *have, struct xw_dbw *dbw, uint8_t *done,
                       struct indexer_stats *stats);

/* Adds to SET the union of "indexed.UNIQUEID" over the N databases of
 * DBR (opened from PATHS, named in logs), under the search locks: what
 * is indexed or gone in that mailbox.  XAP_IMAP_SEARCH_CORRUPT (logged) for
 * a value that does not parse. */
int indexer_read_state(struct xw_dbr *dbr, const char *const *paths, unsigned n,
                       const char *userid, const char *uniqueid, struct uidset *set);

int indexer_begin(void *ctx, const char *userid, int flags, struct indexer **ix_r);
/* How many Xapian writers a large backlog is split between (default 1):
 * the first database and WRITERS - 1 side databases, each a new item of
 * the default tier (docs/LOCKING.md "Side writers").  Ignored for -Z and
 * -A. */
#define INDEXER_MAX_WRITERS 16
void indexer_set_writers(struct indexer *ix, unsigned writers);
/* Called after each batch written, in the caller's thread, with the
 * messages this run has indexed or marked so far (for -v). */
typedef void indexer_progress_fn(void *rock, unsigned long done);
void indexer_set_progress(struct indexer *ix, indexer_progress_fn *fn, void *rock);
void indexer_set_audit(struct indexer *ix, indexer_audit_fn *fn, void *rock);
/* How many of MAILBOX's messages are not indexed (no file read). */
int indexer_count_pending(struct indexer *ix, const char *mailbox, unsigned long *n_r);
int indexer_mailbox(struct indexer *ix, const char *mailbox);
/* Indexes what is collected (a commit). */
int indexer_flush(struct indexer *ix);
const struct indexer_stats *indexer_stats(const struct indexer *ix);
/* -A only: the listed databases found missing (lost, or their search
 * partition away), each logged; their mail is reported unindexed.  Every
 * other mode fails at indexer_begin instead.  Returns how many. */
size_t indexer_lost(const struct indexer *ix, const char *const **lost_r);
/* Flushes and frees; returns the flush's result. */
int indexer_end(struct indexer **ixp);

#endif
