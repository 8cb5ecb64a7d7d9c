/* search.h - searching a user's mail.
 *
 * A search reads every database of the user's search tiers at once, under
 * the user's two Xapian locks (SHARED namelock, READ lock on xapianactive),
 * and turns each hit (a message GUID) into its live locations through the
 * user's GUID db and mailboxes.db: expunged copies never appear, renamed
 * mailboxes appear under their new names (looked up afresh by every run,
 * so a long-lived session sees renames); no mailbox is opened under those
 * locks, only after them, to read the page's hits (see "Hit details").
 *
 * Calling sequence
 *     struct xap_search_session *ss = NULL;
 *     struct xap_search_result *res = NULL;
 *     char *err = NULL;
 *     r = xap_init(NULL);     (once per process, <xapiary/xapiary.h>)
 *     r = xap_search_open(ctx, "alice", &ss);
 *     r = xap_search_run(ss, "from:bob subject:\"lunch\"", NULL, &res, &err);
 *     for (size_t i = 0; i < res->nhits; i++)
 *         printf("%s %u\n", res->hits[i].mailbox, res->hits[i].uid);
 *     xap_search_close(&ss);          (frees every result of the session)
 *     xap_done();             (before the process exits)
 *   CTX is a talloc context (<talloc.h>) or NULL: the session is its
 *   child (NULL: a new root), so freeing CTX also closes the session.
 *   Check each r: on error the output pointers stay NULL.
 *
 * Locks: a run takes the user's SHARED Xapian namelock and the READ lock
 * on xapianactive for its duration and releases both before returning;
 * between runs a session holds nothing, so it never blocks squatter or
 * another process.  mailboxes.db and the GUID db are read without locks
 * (SQLite WAL snapshots).
 *
 * Threads: one thread at a time in the library (<xapiary/xapiary.h>); a
 * session is not to be used from two threads, not even in turn while
 * another thread is in the library.
 *
 * The query language (xapiary-search(7); every form in xsearch --help):
 *   words, "quoted phrases", word* (a prefix); bare words search all text
 *   AND OR NOT (or -word) in any case ("and" quoted is the word), ( )
 *   *                     every message of the user
 *   from: to: cc: bcc: recipient: subject: body: attachment: id: date:
 *   mailbox:              field names in any case; FIELD:(a OR b) applies
 *                         the field to the group; to: is the To header
 *                         only, recipient: To, Cc and Bcc
 *   a@b.org kernel.org    '@' or '.' inside a word: a phrase, as notmuch;
 *                         in an address field an address (exact) or a
 *                         domain (that domain or below it, nothing else)
 *   date:2009 date:2009-11 date:2009-11-18 date:today date:yesterday
 *   date:7d date:2w date:3m date:1y (that day N days/weeks/months/years
 *                         ago), ranges A..B A.. ..B of any of them (B
 *                         inclusive); days of the local time zone (TZ);
 *                         an impossible date (2002-02-30) is a syntax error
 *   mailbox:INBOX mailbox:lkml mailbox:Archive/2019 mailbox:Archive.2019
 *   mailbox:user.alice.lkml  the name as the user sees it, or in full;
 *   mailbox:lkml*         with the mailboxes below it; mailbox: filters,
 *                         it adds nothing to relevance
 * Bounds: 65536 bytes, 16384 terms of which 100 word*, 100 levels of
 * groups; past them XAP_IMAP_SEARCH_SYNTAX.  English stemming on body and
 * subject; CJK text searchable.
 *
 * Ownership: results and their strings belong to the session and are
 * valid until xap_search_close() (or until freed with talloc_free()).
 *
 * Errors: 0; XAP_IMAP_SEARCH_SYNTAX with *ERR_R naming the position;
 * XAP_IMAP_MAILBOX_NONEXISTENT for a user without mail, or (xap_search_run, with
 * *ERR_R naming it) a mailbox: that the user does not have;
 * XAP_IMAP_MAILBOX_REMOTE (xap_search_open, cluster_registry: etcd) for a user
 * that lives on another back end, which xap_registry_where() names
 * (<xapiary/registry.h>); XAP_IMAP_REGISTRY_DOWN when the user is not here
 * and etcd cannot be asked;
 * XAP_IMAP_SEARCH_CORRUPT or XAP_IMAP_IOERROR when a tier cannot be read (never
 * an empty result): a listed database that is missing (lost) or whose
 * search partition is missing (not mounted), a corrupt one, or a GUID db
 * that is missing or does not describe a mailbox that has mail (lost;
 * mbctl reconstruct -u rebuilds it), each logged naming the path;
 * XAP_IMAP_SEARCH_NOTSUPPORTED (a search database of a newer schema) or
 * XAP_IMAP_MAILBOX_NOTSUPPORTED (a GUID db of a newer format), logged naming
 * the file and both versions: nothing is read;
 * XAP_IMAP_MAILBOX_LOCKED when namelock_timeout expired;
 * XAP_IMAP_PERMISSION_DENIED when the user's GUID db and tiers belong to an
 * earlier user of the same name ("owner" in FORMAT.md, installed in the
 * documentation directory): never searched.
 * A user with mail that is not indexed yet is not an error: see
 * search_result.unindexed.
 *
 * Hit details
 *   TO .. PATH of a hit are read, for the hits of the page only (after
 *   offset and limit), from the live location's mailbox: once the search
 *   has released its locks, each mailbox with hits is opened in turn with
 *   xap_mailbox_open_irl() (its SHARED namelock and SHARED index lock, nothing
 *   else held; LOCKING.md), the record of each UID read with its
 *   cache record, and the mailbox closed.  The flags are those committed
 *   at that moment.  A location expunged (or its mailbox deleted or
 *   renamed) between the search and that read is left out of the page
 *   and of TOTAL, as if the search had run a moment later.  A mailbox
 *   whose index or cache cannot be read fails the search with that
 *   mailbox's error (XAP_IMAP_MAILBOX_CHECKSUM, XAP_IMAP_MAILBOX_BADFORMAT,
 *   XAP_IMAP_IOERROR, logged naming it), never a hit without its details.
 */
#ifndef XAPIARY_SEARCH_H
#define XAPIARY_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xap_search_session;
struct xap_search_query;

enum xap_search_sort {
    XAP_SEARCH_SORT_DATE_DESC = 0,    /* newest first (default) */
    XAP_SEARCH_SORT_DATE_ASC,
    XAP_SEARCH_SORT_RELEVANCE
};

struct xap_search_options {
    enum xap_search_sort sort;
    size_t offset;                /* skip this many hits */
    size_t limit;                 /* at most this many (0: all) */
    unsigned flags;               /* XAP_SEARCH_* below, or 0 */
};

/* Flag of xap_search_options: only the locations (MAILBOX to SUBJECT of
 * each hit); TO .. PATH are left "" (KEYWORDS empty, the numbers 0) and
 * no mailbox is opened after the search, which costs about half the
 * search's time for a page of a hundred hits (an IMAP SEARCH needs UIDs
 * only).  The locations are the GUID db's at the search: one expunged
 * after it may be among them. */
#define XAP_SEARCH_LOCATIONS_ONLY 1u

/* A hit is one live location of a matching message.  MAILBOX to SUBJECT
 * come from the search document; the rest (see "Hit details" above) from
 * the live location's mailbox index and cache, read after the search.
 * Every string is UTF-8 and never NULL ("" when the message has none). */
struct xap_search_hit {
    const char *mailbox;          /* live location: mailbox name */
    uint32_t uid;                 /* and UID */
    const char *guid;             /* 40 hex digits */
    int64_t date;                 /* Date: in seconds since the epoch */
    const char *from;             /* decoded From: */
    const char *subject;          /* decoded Subject: */
    const char *to;               /* decoded To: */
    const char *cc;               /* decoded Cc: */
    const char *message_id;       /* Message-ID: as in the header (<a@b>) */
    const char *in_reply_to;      /* In-Reply-To: as in the header */
    uint32_t size;                /* bytes of the message (RFC822.SIZE) */
    int64_t internaldate;         /* arrival, seconds since the epoch */
    uint32_t flags;               /* system flags: the XAP_FLAG_ANSWERED,
                                   * XAP_FLAG_FLAGGED, XAP_FLAG_DELETED, XAP_FLAG_DRAFT
                                   * and XAP_FLAG_SEEN bits of xapiary/mailbox.h */
    const char *const *keywords;  /* user flags ($Forwarded, ...), a
                                   * NULL-terminated array, never NULL */
    const char *path;             /* the message file, to read only (see
                                   * xap_search_hit_open for the safe way) */
};

struct xap_search_result {
    size_t total;                 /* every live location that matched */
    size_t nhits;                 /* those in HITS, after offset/limit */
    struct xap_search_hit *hits;
    size_t unindexed;             /* the user's live messages that no tier
                                   * has indexed yet (appended since the
                                   * last squatter run, or never indexed):
                                   * they cannot be among the hits.  Read
                                   * from the same per-mailbox indexed
                                   * state as a squatter run, counted
                                   * after the search; 0 when all is
                                   * indexed. */
};

/* xap_search_open - a search session for USERID (alice for user.alice).
 * CTX: talloc parent of the session (NULL: a new root).
 * Returns 0 and *SS_R, to be closed with xap_search_close(); or
 * XAP_IMAP_MAILBOX_BADNAME (not a userid), XAP_IMAP_MAILBOX_NONEXISTENT (no such
 * user) or an error reading mailboxes.db, with *SS_R NULL.  Takes no
 * lock. */
int xap_search_open(void *ctx, const char *userid, struct xap_search_session **ss_r);

/* xap_search_close - free the session *SSP and every result and error string
 * of it, and set *SSP to NULL.  SSP or *SSP NULL is a no-op. */
void xap_search_close(struct xap_search_session **ssp);

/* xap_search_run - run QUERY (the query language above) in session SS.
 * OPTS: sort, offset and limit; NULL for the defaults (newest first, all).
 * *RES_R: the result, owned by the session (valid until xap_search_close()
 * or talloc_free() of it), NULL on error.
 * *ERR_R (ERR_R may be NULL): on XAP_IMAP_SEARCH_SYNTAX or a mailbox: term
 * the user does not have, a sentence naming the position or the mailbox,
 * owned by the session; NULL otherwise.
 * Returns 0 or a code of Errors above.  Locks: see Locks above. */
int xap_search_run(struct xap_search_session *ss, const char *query,
               const struct xap_search_options *opts, struct xap_search_result **res_r,
               char **err_r);

/* xap_search_run_query - run the built query Q (not modified, still the
 * caller's) in session SS; OPTS and *RES_R as xap_search_run().  Returns 0,
 * XAP_IMAP_INVALID_ARGUMENT for a NULL Q, or a code of Errors above. */
int xap_search_run_query(struct xap_search_session *ss, const struct xap_search_query *q,
                     const struct xap_search_options *opts, struct xap_search_result **res_r);

/* xap_search_hit_open - open the message of HIT (a hit of a result of SS)
 * read-only and set *FD_R to a descriptor (O_CLOEXEC) that the caller owns
 * and close()s; -1 on error.  Opens HIT's mailbox with xap_mailbox_open_irl() (SHARED
 * namelock and index lock, LOCKING.md) for the moment it takes: call
 * it holding no other lock of the library.  The descriptor stays readable
 * after the message is expunged.  Returns 0; XAP_IMAP_NOTFOUND when the
 * location is gone (the UID expunged, the mailbox deleted or renamed, or
 * the UID now holds another message); XAP_IMAP_MAILBOX_LOCKED when
 * namelock_timeout expired; XAP_IMAP_IOERROR (logged, naming the file).
 * Threads: one per process, as all of the library (xapiary.h). */
int xap_search_hit_open(struct xap_search_session *ss, const struct xap_search_hit *hit, int *fd_r);

/* Snippets: for chosen hits of a result, a short extract of the message's
 * body around what the query matched, made by Xapian's snippet generator
 * (MSet::snippet) with the English stemmer and CJK n-grams used at index
 * time, so a search for "razor" marks "razors" and one for 東京 marks it
 * in Japanese text.  The body is the text the indexer reads (text parts
 * decoded, HTML without markup; of a long body the first 256 KiB).  Only
 * the query's words searched in the body are marked (bare words, body:,
 * not those under NOT or in from:, subject:...); without such words a
 * snippet is the start of the body.  The extract is escaped for HTML
 * (&amp; &lt; &gt; &quot;); the markers are put in as given, one pair
 * around adjacent matches (the characters of a CJK word). */
struct xap_search_snippet_options {
    const char *hi_start;         /* before each match; NULL: "<mark>" */
    const char *hi_end;           /* after each match; NULL: "</mark>" */
    const char *omit;             /* where text was left out at either
                                   * end; NULL: "\u2026" (an ellipsis) */
    size_t length;                /* bytes of text to aim for (markers
                                   * and escapes not counted); 0: 200 */
};

/* xap_search_snippets - make a snippet for each of N hits of RES (a result of
 * xap_search_run or xap_search_run_query on SS): RES->hits[WHICH[i]] for i < N, or, with WHICH
 * NULL, the first N hits.  Sets *SNIPPETS_R to an array of N strings
 * (UTF-8), the i-th that of the i-th hit chosen, or NULL for a hit whose
 * location is gone since the search (expunged, its mailbox deleted or
 * renamed).  The array and its strings belong to RES: freed with it (or
 * with talloc_free(*SNIPPETS_R)).  Reads each message file: opens each
 * mailbox with hits chosen once, with xap_mailbox_open_irl() (SHARED namelock
 * and index lock, LOCKING.md), one at a time; takes no Xapian lock.
 * Call it holding no other lock of the library.  Returns 0;
 * XAP_IMAP_INVALID_ARGUMENT (an index past RES->nhits); XAP_IMAP_MAILBOX_LOCKED
 * when namelock_timeout expired; XAP_IMAP_IOERROR (logged, naming the file).
 * Threads: one per process, as all of the library (xapiary.h). */
int xap_search_snippets(struct xap_search_session *ss, const struct xap_search_result *res,
                    const size_t *which, size_t n,
                    const struct xap_search_snippet_options *opts, char ***snippets_r);

/* Building queries without a string.  Queries are talloc objects under
 * CTX (NULL: a new root) that the caller frees with talloc_free(); a
 * compound query takes over its parts: they are freed by the
 * constructor (their content lives on in the compound), so free the
 * compound only and use the parts no more.  The constructors need no
 * session, take no lock and return the new query. */
enum xap_search_field {
    XAP_SEARCH_FIELD_ALL = 0, XAP_SEARCH_FIELD_FROM, XAP_SEARCH_FIELD_TO, XAP_SEARCH_FIELD_CC,
    XAP_SEARCH_FIELD_BCC, XAP_SEARCH_FIELD_SUBJECT, XAP_SEARCH_FIELD_BODY,
    XAP_SEARCH_FIELD_ATTACHMENT, XAP_SEARCH_FIELD_ID
};

/* xap_search_query_parse - QUERY (the query language) as a built query, in
 * *Q_R under CTX.  Returns 0, or XAP_IMAP_SEARCH_SYNTAX with *Q_R NULL and
 * *ERR_R (ERR_R may be NULL) a sentence naming the position, under CTX. */
int xap_search_query_parse(void *ctx, const char *query, struct xap_search_query **q_r,
                       char **err_r);

/* xap_search_query_words - every word of TEXT in FIELD (as bare words in the
 * query language: all of them must match).  TEXT is copied. */
struct xap_search_query *xap_search_query_words(void *ctx, enum xap_search_field field,
                                        const char *text);

/* xap_search_query_phrase - the words of TEXT in FIELD, in that order, as a
 * "quoted phrase".  TEXT is copied. */
struct xap_search_query *xap_search_query_phrase(void *ctx, enum xap_search_field field,
                                         const char *text);

/* xap_search_query_and - messages matching all N queries of QS (the array
 * stays the caller's; the queries in it are taken over and freed). */
struct xap_search_query *xap_search_query_and(void *ctx, struct xap_search_query **qs, unsigned n);

/* xap_search_query_or - messages matching any of the N queries of QS (taken
 * over as by xap_search_query_and()). */
struct xap_search_query *xap_search_query_or(void *ctx, struct xap_search_query **qs, unsigned n);

/* xap_search_query_not - messages not matching Q (taken over and freed). */
struct xap_search_query *xap_search_query_not(void *ctx, struct xap_search_query *q);

/* xap_search_query_date - messages dated in [FROM, TO), seconds since the
 * epoch; -1 for an open end. */
struct xap_search_query *xap_search_query_date(void *ctx, int64_t from, int64_t to);

/* xap_search_query_mailbox - MAILBOX as mailbox: takes it (INBOX, lkml,
 * Archive/2019, user.alice.lkml, lkml*; copied); xap_search_run_query fails
 * with XAP_IMAP_MAILBOX_NONEXISTENT when the user has no such mailbox. */
struct xap_search_query *xap_search_query_mailbox(void *ctx, const char *mailbox);

#ifdef __cplusplus
}
#endif
#endif
