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
 * Policy, measured (docs/PERFORMANCE.md "Import"): up to SYNCBATCH_EACH
 * files are fsynced one by one (a delivery: that waits for nothing else
 * the filesystem has to write); a larger batch is synced by one syncfs
 * per filesystem it wrote on.  On ext4 each fsync costs a journal commit
 * or a cache flush of its own even after the file's write-back was
 * started (sync_file_range): on 5,000 messages the fsyncs took 5.4 s of
 * wall time where five syncfs took 0.11 s.  The price: syncfs also
 * writes back what other processes left dirty on that filesystem.  A
 * write-back error is still seen: each syncfs goes through a descriptor
 * opened before the batch's first write there, and Linux reports to it
 * any error of the filesystem since that open.
 *
 * Not thread-safe; a batch belongs to its talloc parent. */
#ifndef XAPIARY_SYNCBATCH_H
#define XAPIARY_SYNCBATCH_H

#include <stddef.h>

struct syncbatch;

/* A new, empty batch, freed with CTX (freeing it closes what it holds,
 * unsynced). */
struct syncbatch *syncbatch_new(void *ctx);

/* Takes FD, a file just written whose name is PATH (for errors).  FD is
 * the batch's from now on, also on failure.  Returns 0 or
 * XAP_IMAP_IOERROR (logged with the path). */
int syncbatch_add(struct syncbatch *b, int fd, const char *path);

/* Creates (or truncates: the caller's names are new or debris) NAME in
 * the directory DIRFD, PATH for errors, with LEN bytes of BUF and adds
 * it.  Returns 0 or XAP_IMAP_IOERROR; on a failure nothing stays open and
 * a partial file is removed. */
int syncbatch_write(struct syncbatch *b, int dirfd, const char *name, const char *path,
                    const void *buf, size_t len);

/* Makes every file added since the last sync durable and closes what the
 * batch holds.  Returns 0 or XAP_IMAP_IOERROR (logged with the file or
 * the filesystem that failed); either way the batch is empty afterwards. */
int syncbatch_sync(struct syncbatch *b);

/* Closes every file held without syncing (a transaction dropped). */
void syncbatch_drop(struct syncbatch *b);

/* How many files were added since the last sync: what the next
 * syncbatch_sync() answers for. */
size_t syncbatch_count(const struct syncbatch *b);

#endif
