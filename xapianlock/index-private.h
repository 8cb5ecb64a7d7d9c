/* index-private.h - what index.c and index-side.c share. */
#ifndef XAPIARY_INDEX_PRIVATE_H
#define XAPIARY_INDEX_PRIVATE_H

#include "xapianlock/index.h"

/* A run with several writers collects this many batches per writer
 * before writing them (see batch_full in index.c).  Between two chunks
 * nothing is indexed (the writers finish, the side databases are synced
 * and renamed, the next chunk is collected and its GUIDs looked up in
 * every database), and each chunk adds a database per side writer: 64
 * took 0.91x the wall time and 0.93x the CPU of 16 at 100,000 messages,
 * for about 25 MiB more peak RSS (docs/PERFORMANCE-CPU.md "Chunks"). */
#define INDEXER_CHUNK_BATCHES 64

/* A message read and its document built (index-docs.c), ahead of the
 * thread that adds it. */
struct indexer_built {
    struct xw_doc *doc;      /* no talloc parent: its own tree */
    size_t len;
    int r;
    int vanished;            /* the file was gone: expunged meanwhile */
};
void indexer_build_one(const struct indexer_msg *p, struct indexer_built *b);

/* The positions 0..N-1 of MSGS in the order of their GUIDs, those of
 * one GUID by position, a talloc array under CTX: the order to look
 * GUIDs up in, since a Xapian table's cursor keeps the blocks of its
 * last look-up, and in key order the next GUID is often in a block
 * already read. */
size_t *indexer_guid_order(void *ctx, const struct indexer_msg *msgs, size_t n);

/* COPY_R[i] for each of the N messages MSGS of one transaction into DBW:
 * 0, COPY_IN_DB (some database has its GUID: HAVE, or DBW) or
 * COPY_IN_BATCH (an earlier message of MSGS has it; FIRST_R[i] is that
 * one).  Both arrays under CTX. */
#define COPY_IN_DB    1
#define COPY_IN_BATCH 2
int indexer_find_copies(void *ctx, const struct indexer_msg *msgs, size_t n,
                        const uint8_t *have, struct xw_dbw *dbw, uint8_t **copy_r,
                        size_t **first_r);
/* Message I of MSGS into DBW with its built document B (freed), or
 * marked as a copy; DONE[i] and STATS updated, and FIRST (from
 * indexer_find_copies) when I stands in for a first message whose file
 * was gone.  Called for I = 0, 1, ... in turn.  An error is logged. */
int indexer_put_one(const char *userid, const struct indexer_msg *msgs, size_t i,
                    const uint8_t *copy, size_t *first, struct xw_dbw *dbw,
                    struct indexer_built *b, uint8_t *done, struct indexer_stats *stats);

/* index-stream.c: one writer's documents built ahead across its batches
 * by one thread.  NEXT, called in that thread, gives the next unit of
 * messages (*MSGS_R a talloc array without a parent, which the stream
 * then owns; *TAG_R the caller's, handed back with it) and returns its
 * length, 0 at the end.  The builder runs at most WINDOW documents, and
 * DOCSTREAM_WINDOW_BYTES bytes of mail, ahead of the writer. */
#define DOCSTREAM_WINDOW_BYTES (32u << 20)
struct docstream;
typedef size_t docstream_next_fn(void *rock, struct indexer_msg **msgs_r, const void **tag_r);
int docstream_start(void *ctx, docstream_next_fn *next, void *rock, size_t window,
                    struct docstream **st_r);
/* The writer's next unit (the one before is done with): its length, 0
 * at the end. */
size_t docstream_unit(struct docstream *st, const struct indexer_msg **msgs_r,
                      const void **tag_r);
/* The N messages MSGS, at OFF in the current unit, into DBW's open
 * transaction with their documents from ST, as indexer_write_docs. */
int docstream_write(const char *userid, struct docstream *st, size_t off,
                    const struct indexer_msg *msgs, size_t n, const uint8_t *have,
                    struct xw_dbw *dbw, uint8_t *done, struct indexer_stats *stats);
/* Ends the builder and frees what it built ahead; NULL: nothing. */
void docstream_stop(struct docstream **st);

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
/* The same with the documents from ST, MSGS at OFF in its current unit. */
int indexer_flush_first_from(struct indexer *ix, struct docstream *st, size_t off,
                             const struct indexer_msg *msgs, size_t n, uint8_t *done);
/* MSGS in batches into the first database, calling the progress hook
 * after each with OTHERS(ROCK) (NULL: 0) messages done elsewhere. */
int indexer_flush_serial(struct indexer *ix, const struct indexer_msg *msgs, size_t n,
                         uint8_t *done, unsigned long (*others)(void *rock), void *rock);
/* index-side.c: removes a killed side run's .NEW directories and listed,
 * unbuilt targets when the EXCLUSIVE namelock is free at once. */
int indexer_clean_side_debris(struct indexer *ix);
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
