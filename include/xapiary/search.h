/* search.h - searching a user's mail.
 *
 * A search reads every database of the user's search tiers at once, under
 * the user's two Xapian locks (SHARED namelock, READ lock on xapianactive),
 * and turns each hit (a message GUID) into its live locations through the
 * user's GUID db and mailboxes.db: expunged copies never appear, renamed
 * mailboxes appear under their new names (looked up afresh by every run,
 * so a long-lived session sees renames), and no mailbox is opened.
 *
 * Calling sequence
 *     struct search_session *ss = NULL;
 *     struct search_result *res = NULL;
 *     char *err = NULL;
 *     r = search_open(ctx, "alice", &ss);
 *     r = search_run(ss, "from:bob subject:\"lunch\"", NULL, &res, &err);
 *     for (size_t i = 0; i < res->nhits; i++)
 *         printf("%s %u\n", res->hits[i].mailbox, res->hits[i].uid);
 *     search_close(&ss);          (frees every result of the session)
 *
 * The query language (spec section 10; every form in xsearch --help):
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
 *   mailbox:lkml*         with the mailboxes below it
 * Bounds: 65536 bytes, 16384 terms of which 100 word*, 100 levels of
 * groups; past them IMAP_SEARCH_SYNTAX.  English stemming on body and
 * subject; CJK text searchable.
 *
 * Ownership: results and their strings belong to the session and are
 * valid until search_close() (or until freed with talloc_free()).
 *
 * Errors: 0; IMAP_SEARCH_SYNTAX with *ERR_R naming the position;
 * IMAP_MAILBOX_NONEXISTENT for a user without mail, or (search_run, with
 * *ERR_R naming it) a mailbox: that the user does not have;
 * IMAP_MAILBOX_REMOTE (search_open, cluster_registry: etcd) for a user
 * that lives on another back end, which registry_where() names
 * (<xapiary/registry.h>); IMAP_REGISTRY_DOWN when the user is not here
 * and etcd cannot be asked;
 * IMAP_SEARCH_CORRUPT or IMAP_IOERROR when a tier cannot be read (never
 * an empty result): a listed database that is missing (lost) or whose
 * search partition is missing (not mounted), a corrupt one, or a GUID db
 * that is missing or does not describe a mailbox that has mail (lost;
 * mbctl reconstruct -u rebuilds it), each logged naming the path;
 * IMAP_MAILBOX_LOCKED when namelock_timeout expired;
 * IMAP_PERMISSION_DENIED when the user's GUID db and tiers belong to an
 * earlier user of the same name (docs/FORMAT.md "owner"): never searched.
 * A user with mail that is not indexed yet is not an error: see
 * search_result.unindexed.
 */
#ifndef XAPIARY_SEARCH_H
#define XAPIARY_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct search_session;
struct search_query;

enum search_sort {
    SEARCH_SORT_DATE_DESC = 0,    /* newest first (default) */
    SEARCH_SORT_DATE_ASC,
    SEARCH_SORT_RELEVANCE
};

struct search_options {
    enum search_sort sort;
    size_t offset;                /* skip this many hits */
    size_t limit;                 /* at most this many (0: all) */
};

struct search_hit {
    const char *mailbox;          /* live location: mailbox name */
    uint32_t uid;                 /* and UID */
    const char *guid;             /* 40 hex digits */
    int64_t date;                 /* seconds since the epoch */
    const char *from;             /* decoded From: */
    const char *subject;          /* decoded Subject: */
};

struct search_result {
    size_t total;                 /* every live location that matched */
    size_t nhits;                 /* those in HITS, after offset/limit */
    struct search_hit *hits;
    size_t unindexed;             /* the user's live messages that no tier
                                   * has indexed yet (appended since the
                                   * last squatter run, or never indexed):
                                   * they cannot be among the hits.  Read
                                   * from the same per-mailbox indexed
                                   * state as a squatter run, counted
                                   * after the search; 0 when all is
                                   * indexed. */
};

int search_open(void *ctx, const char *userid, struct search_session **ss_r);
void search_close(struct search_session **ssp);

/* Runs QUERY (the query language); OPTS may be NULL for the defaults. */
int search_run(struct search_session *ss, const char *query,
               const struct search_options *opts, struct search_result **res_r,
               char **err_r);
/* Runs a built query. */
int search_run_query(struct search_session *ss, const struct search_query *q,
                     const struct search_options *opts, struct search_result **res_r);

/* Building queries without a string.  Queries are talloc objects under
 * CTX; a compound query takes ownership of its parts. */
enum search_field {
    SEARCH_FIELD_ALL = 0, SEARCH_FIELD_FROM, SEARCH_FIELD_TO, SEARCH_FIELD_CC,
    SEARCH_FIELD_BCC, SEARCH_FIELD_SUBJECT, SEARCH_FIELD_BODY,
    SEARCH_FIELD_ATTACHMENT, SEARCH_FIELD_ID
};
int search_query_parse(void *ctx, const char *query, struct search_query **q_r,
                       char **err_r);
struct search_query *search_query_words(void *ctx, enum search_field field,
                                        const char *text);
struct search_query *search_query_phrase(void *ctx, enum search_field field,
                                         const char *text);
struct search_query *search_query_and(void *ctx, struct search_query **qs, unsigned n);
struct search_query *search_query_or(void *ctx, struct search_query **qs, unsigned n);
struct search_query *search_query_not(void *ctx, struct search_query *q);
/* [FROM, TO) in seconds since the epoch; -1 for an open end. */
struct search_query *search_query_date(void *ctx, int64_t from, int64_t to);
/* MAILBOX as mailbox: takes it (INBOX, lkml, Archive/2019, user.alice.lkml,
 * lkml*); search_run_query fails with IMAP_MAILBOX_NONEXISTENT when the
 * user has no such mailbox. */
struct search_query *search_query_mailbox(void *ctx, const char *mailbox);

#ifdef __cplusplus
}
#endif
#endif
