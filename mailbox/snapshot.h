/* snapshot.h - reading a mailbox's last committed state without its index
 * lock, for readers that must not wait for a writer (a search counting
 * the mail squatter has not indexed yet, while `mbctl import` holds the
 * index lock over a batch of a thousand appends).
 *
 * Why it is safe: a commit (mailbox-index.c) writes new records past the
 * committed end and the header that counts them last, so the header read
 * names records that are all written; a record rewritten in place gets a
 * modseq above the committed header's (step 4, after a DIRTY header at
 * step 3), and a torn read fails its CRC.  A snapshot read checks both on
 * every record it reads and fails with XAP_IMAP_AGAIN rather than believe
 * one; the caller then reads under the SHARED index lock.  The SHARED
 * namelock is held as by any open, so the mailbox is neither repacked
 * (the index file replaced), renamed nor deleted meanwhile.  A record
 * rewritten with `silent` set keeps its modseq: it may be seen in its
 * newer state, never torn. */
#ifndef XAPIARY_MAILBOX_SNAPSHOT_H
#define XAPIARY_MAILBOX_SNAPSHOT_H

#include <stdint.h>

#include "xapiary/mailbox.h"

/* mailbox_open_snapshot - open NAME (SHARED namelock, as
 * xap_mailbox_open_irl()) and read its committed header without the index
 * lock.  The mailbox reads like one opened with xap_mailbox_open_irl()
 * (records, iteration, the accessors) and refuses every write.  Returns
 * XAP_IMAP_AGAIN, logging nothing, when the header is torn, marks a commit
 * in flight or interrupted (DIRTY), or is otherwise not to be believed;
 * reads of the open mailbox return XAP_IMAP_AGAIN for such a record.
 * Otherwise as xap_mailbox_open_irl(). */
int mailbox_open_snapshot(const char *name, struct xap_mailbox **mailboxp);

/* mailbox_iter_seek_uid - make ITER's next step return the first record
 * whose UID is UID or more (records are in UID order), skipping the
 * reading of those before it.  Returns 0 or the error of a record read
 * (which also ends the iteration). */
int mailbox_iter_seek_uid(struct xap_mailbox_iter *iter, uint32_t uid);

#endif
