/* index-private.h - what index.c and index-side.c share. */
#ifndef XAPIARY_INDEX_PRIVATE_H
#define XAPIARY_INDEX_PRIVATE_H

#include "xapianlock/index.h"

/* A run with several writers collects this many batches per writer
 * before writing them (see batch_full in index.c). */
#define INDEXER_CHUNK_BATCHES 16

/* What one mailbox has indexed, as far as this run knows. */
struct known {
    char *uniqueid;
    struct uidset *set;
    struct uidset *gone;          /* UIDs seen expunged or never used */
};

struct indexer {
    char *userid;
    int flags;
    unsigned batchsize;
    unsigned writers;             /* 1: the first database only */
    struct indexer_msg *batch;    /* talloc array */
    struct known *known;          /* talloc array, a small cache */
    indexer_audit_fn *audit;
    void *audit_rock;
    indexer_progress_fn *progress;
    void *progress_rock;
    struct indexer_stats stats;
    char **lost;                  /* -A: listed databases found missing */
    struct guiddb *gdb;           /* the user's GUID db, NULL: none yet */
};

/* One Xapian commit into the user's first database: the N messages MSGS
 * (at most a batch) and their indexed state, under
 * begin_mailbox_update.  DONE[i] becomes 1 for each message indexed. */
int indexer_flush_first(struct indexer *ix, const struct indexer_msg *msgs, size_t n,
                        uint8_t *done);
/* MSGS in batches into the first database, calling the progress hook
 * after each with OTHERS(ROCK) (NULL: 0) messages done elsewhere. */
int indexer_flush_serial(struct indexer *ix, const struct indexer_msg *msgs, size_t n,
                         uint8_t *done, unsigned long (*others)(void *rock), void *rock);
/* index-side.c: MSGS (more than a batch) split between the first
 * database and side writers; falls back to indexer_flush_first. */
int indexer_flush_parallel(struct indexer *ix, const struct indexer_msg *msgs, size_t n,
                           uint8_t *done);
/* Sets "indexed.UNIQUEID" in DBW's open transaction for the mailboxes of
 * MSGS, adding the UIDs of those DONE and, with IX (the caller's thread
 * owns it), the UIDs its scans found gone.  Touches nothing else. */
int indexer_write_state(const struct indexer *ix, const char *userid,
                        const struct indexer_msg *msgs, size_t n, struct xw_dbw *dbw,
                        const uint8_t *done);
void indexer_note_done(struct indexer *ix, const struct indexer_msg *msgs, size_t n,
                       const uint8_t *done);
/* Under the search locks: HAVE[i] = 1 when some database of USERID
 * has the GUID of MSGS[i]. */
int indexer_known_guids(const char *userid, const struct indexer_msg *msgs, size_t n,
                        uint8_t *have);
/* Calls the progress hook with this thread's count plus EXTRA. */
void indexer_report(struct indexer *ix, unsigned long extra);
void indexer_stats_add(struct indexer_stats *to, const struct indexer_stats *from);

#endif
