/* syncbatch.h - files written without a sync, made durable together
 * before anything durable names them: the one batched-sync policy of the
 * mailbox commit (an import's or a delivery's message files) and of
 * `mbctl receive` (a user's files).
 *
 * The crash rule it serves: a file is durable before an index record or
 * any other durable name points at it.  The caller writes a file, hands
 * its descriptor to the batch, and calls syncbatch_sync() before writing
 * what names the files; the directory entries are the caller's (an fsync
 * of each directory written in, after the sync).
 *
 * Policy (measured, docs/PERFORMANCE.md "Import"): each file's write-back
 * starts when it is added (sync_file_range), so the disk works while the
 * next files are written; the sync fsyncs each file, by then mostly a
 * journal commit that an earlier file's fsync already made.  The batch
 * keeps at most SYNCBATCH_OPEN files open: the oldest are synced early
 * (durable sooner than needed is never wrong).  One syncfs per batch was
 * faster on an idle disk but waits for every other writer of the
 * filesystem, and a file's own write-back error is only reliably reported
 * to an fsync of that file.
 *
 * Not thread-safe; a batch belongs to its talloc parent. */
#ifndef XAPIARY_SYNCBATCH_H
#define XAPIARY_SYNCBATCH_H

#include <stddef.h>

struct syncbatch;

/* A new, empty batch, freed with CTX (freeing it closes what it holds,
 * unsynced). */
struct syncbatch *syncbatch_new(void *ctx);

/* Takes FD, a file just written whose name is PATH (for errors), and
 * starts its write-back.  FD is the batch's from now on, also on
 * failure.  May sync the batch's older files (the open-file bound):
 * returns 0 or XAP_IMAP_IOERROR (logged with the path). */
int syncbatch_add(struct syncbatch *b, int fd, const char *path);

/* Creates (or truncates: the caller's names are new or debris) NAME in
 * the directory DIRFD, PATH for errors, with LEN bytes of BUF and adds
 * it.  Returns 0 or XAP_IMAP_IOERROR; on a failure nothing stays open and
 * a partial file is removed. */
int syncbatch_write(struct syncbatch *b, int dirfd, const char *name, const char *path,
                    const void *buf, size_t len);

/* Makes every file added since the last sync durable and closes them.
 * Returns 0 or XAP_IMAP_IOERROR (logged with the first file that failed);
 * either way the batch is empty afterwards. */
int syncbatch_sync(struct syncbatch *b);

/* Closes every file held without syncing (a transaction dropped). */
void syncbatch_drop(struct syncbatch *b);

/* How many files are added and not yet synced, early syncs included:
 * the files the next syncbatch_sync() answers for. */
size_t syncbatch_count(const struct syncbatch *b);

#endif
