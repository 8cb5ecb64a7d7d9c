/* compact.h - compact_dbs: merging some of a user's search databases into
 * one new database of a destination tier, with the 13 steps of spec
 * section 9 (seeds/003), while other processes index and search.
 * docs/LOCKING.md "Compaction" says which lock each step holds. */
#ifndef XAPIARY_COMPACT_H
#define XAPIARY_COMPACT_H

#define COMPACT_FILTER   1   /* -F: drop documents of expunged mail, duplicates */
#define COMPACT_COPY     2   /* -o: one source: copy its files */
#define COMPACT_NONBLOCK 4   /* -B: a busy user is XAP_IMAP_MAILBOX_LOCKED at once */
#define COMPACT_REINDEX  8   /* -X: reindex every source from the mail */

struct compact_stats {
    unsigned sources;            /* databases merged (listed items) */
    unsigned long kept, dropped; /* documents (COMPACT_FILTER) */
    unsigned long reindexed;     /* documents built from the mail (-X, -T) */
    unsigned long vanished;      /* messages expunged before step 5 read them */
    unsigned long docs;          /* the target's documents (-X, -T) */
    unsigned long long bytes_in, bytes_out;
    char target[64];             /* "TIER:M", or "" when nothing was done */
};

/* Compacts every item of USERID's xapianactive whose tier is one of
 * SRCTIERS (NULL-terminated) into a new DESTTIER item.  The sources that
 * REINDEX (NULL or NULL-terminated "TIER" or "TIER:N" items, -T) names, or
 * all with COMPACT_REINDEX, are not copied: their messages are indexed
 * again from the mail (one document per live GUID; their indexed state
 * goes along).  Nothing listed in those tiers: 0 with stats->target "".
 * Errors: XAP_IMAP_SEARCH_TIER_UNKNOWN (a tier the config lacks for the
 * user's partition), XAP_IMAP_INVALID_ARGUMENT (a REINDEX item outside
 * SRCTIERS), XAP_IMAP_NOTFOUND (a REINDEX TIER:N not listed), XAP_IMAP_MAILBOX_LOCKED
 * (COMPACT_NONBLOCK and busy, or the namelock timed out), XAP_IMAP_AGAIN (lost
 * a race with another compaction: nothing changed, try again), and the
 * errors of the tiers themselves.  Each is logged naming user and path. */
int compact_dbs(const char *userid, const char *desttier, const char *const *srctiers,
                const char *const *reindex, int flags, struct compact_stats *stats);

#endif
