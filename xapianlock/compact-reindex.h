/* compact-reindex.h - -X and -T of compact_dbs (compact.c): which
 * sources are reindexed, and what step 5 reindexes, gathered between
 * steps 2 and 3 (the lock rules are in compact.c's header comment and
 * docs/LOCKING.md "Compaction"). */
#ifndef XAPIARY_COMPACT_REINDEX_H
#define XAPIARY_COMPACT_REINDEX_H

#include "xapianlock/activefile.h"
#include "xapianlock/compact.h"
#include "xapianlock/index.h"
#include "xapianlock/uidset.h"

/* What step 5 reindexes, gathered before step 3: per mailbox of the user
 * (by uniqueid), the UIDs the reindexed sources say are indexed, and the
 * live messages among them. */
struct plan {
    char **names, **uniqueids;   /* talloc arrays, the user's mailboxes */
    struct uidset **sets;
    struct indexer_msg *msgs;
};

/* Whether IT is reindexed: every source with COMPACT_REINDEX, else the
 * items REINDEX (-T) names. */
int compact_is_reindexed(const struct activeitem *it, const char *const *reindex, int flags);
/* Every -T item names a source: XAP_IMAP_INVALID_ARGUMENT (a tier not among
 * SRCTIERS) or XAP_IMAP_NOTFOUND (a TIER:N not listed), logged. */
int compact_check_reindex_items(const char *userid, const struct activeitem *items,
                                const char *const *srctiers, const char *const *reindex);
/* The indexed state of the user's mailboxes in RDIRS, under the Xapian
 * locks (xapianactive must still be FROZEN, else XAP_IMAP_AGAIN); released
 * before returning. */
int compact_plan_state(void *ctx, const char *userid, const char *frozen, char **rdirs,
                       struct plan *pl);
/* The live messages in that state, mailbox by mailbox, no Xapian lock held. */
int compact_plan_messages(const char *userid, struct plan *pl);
/* Step 5's reindexing into NEWDIR, and the merged indexed state: PL's
 * state less the messages whose file was gone (taken out of PL->sets). */
int compact_reindex_into(const char *userid, const char *newdir, struct plan *pl,
                         struct compact_stats *st);

#endif
