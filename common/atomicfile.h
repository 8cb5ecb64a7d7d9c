/* atomicfile.h - writing files so that a crash leaves the old contents or
 * the new, never a mixture.
 *
 * Why it is atomic: the new contents go to PATH.NEW, are fsynced, and are
 * renamed over PATH; rename(2) swaps the directory entry in one step, so a
 * reader opening PATH sees the old inode or the new one, and after a crash
 * the directory holds one of them.  The directory is fsynced after the
 * rename so that the swap itself is durable.  A PATH.NEW left by a crash is
 * debris: the next writer truncates it; readers never look at it.
 *
 * Locking is the caller's: two writers of one PATH must be serialised by a
 * lock that covers PATH (for xapianactive, the EXCLUSIVE Xapian namelock;
 * for a mailbox header, the index lock).
 *
 * Permission bits: files are created 0600.
 */
#ifndef XAPIARY_ATOMICFILE_H
#define XAPIARY_ATOMICFILE_H

#include <stddef.h>

/* Writes LEN bytes of BUF to PATH via PATH.NEW, fsync and rename.  Calls
 * fault_point(FAULT_PREFIX ".written") after PATH.NEW is durable and
 * before the rename when FAULT_PREFIX is not NULL.  Returns 0 or
 * XAP_IMAP_IOERROR (logged with the path). */
int file_replace(const char *path, const void *buf, size_t len,
                 const char *fault_prefix);

/* Creates PATH (failing with XAP_IMAP_MAILBOX_EXISTS if it exists, unless
 * REPLACE) with LEN bytes of BUF and fsyncs it. */
int file_write_sync(const char *path, const void *buf, size_t len, int replace);
/* Fsyncs the file PATH, written earlier by this or another descriptor. */
int fsync_file(const char *path);
/* Fsyncs every regular file in DIR, then DIR: a private directory (a
 * database written without syncing) made durable once, before a rename
 * makes it visible. */
int sync_tree(const char *dir);

/* Fsyncs the directory DIR (after creating, renaming or removing in it). */
int fsync_dir(const char *dir);
/* Fsyncs the directory that contains PATH. */
int fsync_parent(const char *path);

/* Writes all LEN bytes at OFFSET (pwrite until done, EINTR retried).
 * Returns 0 or -1 with errno. */
int pwrite_all(int fd, const void *buf, size_t len, off_t offset);
/* Reads exactly LEN bytes at OFFSET; a short file is -1 with errno 0. */
int pread_all(int fd, void *buf, size_t len, off_t offset);

#endif
