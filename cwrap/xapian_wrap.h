/* xapian_wrap.h - the plain C face of Xapian.  cwrap/ is the only C++ in
 * the project and the only place that sees <xapian.h>; everything above it
 * speaks this API.
 *
 * Every function catches every exception: Xapian::DatabaseLockError is
 * XAP_IMAP_MAILBOX_LOCKED, Xapian::DatabaseCorruptError and
 * DatabaseVersionError are XAP_IMAP_SEARCH_CORRUPT, Xapian::QueryParserError is
 * XAP_IMAP_SEARCH_SYNTAX, anything else XAP_IMAP_IOERROR; the exception's message is
 * logged with xlog naming the database path.  Nothing throws into C.
 *
 * Objects are talloc-allocated under the CTX given and release their Xapian
 * state in a talloc destructor, so freeing a parent frees them.
 *
 * Terms follow docs/FORMAT.md "Xapian document schema", whose prefixes,
 * value slots and metadata keys are common/schema.h's: the caller passes
 * the field prefix (SCHEMA_FROM, ...); the wrapper owns stemming (English,
 * for SCHEMA_STEMMED only, stems as SCHEMA_STEM+prefix), positions and CJK
 * n-grams, so that indexing and querying cannot disagree, and the schema
 * version: every database opened (xw_dbw_open, xw_dbr_open, the sources of
 * xw_compact and xw_compact_filter) is refused with XAP_IMAP_SEARCH_NOTSUPPORTED
 * when its SCHEMA_VERSION_KEY is newer than SCHEMA_VERSION, a database
 * that xw_dbw_open creates gets SCHEMA_VERSION, and one of an older
 * version gets it with the first document xw_dbw_put or xw_dbw_add puts
 * in. */
#ifndef XAPIARY_XAPIAN_WRAP_H
#define XAPIARY_XAPIAN_WRAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xw_dbw;     /* one writable database */
struct xw_dbr;     /* several databases read as one */
struct xw_doc;     /* a document being built */
struct xw_query;   /* a query tree */

/* ---------------------------------------------------------------- write */

/* Opens PATH for writing; FLAGS: XW_CREATE creates it (glass backend) if
 * missing; XW_NO_SYNC commits without fsync, for a database nobody sees
 * until the caller has made it durable itself (sync_tree) and renamed it
 * into place: a private .NEW, which a crash leaves as debris only
 * (docs/LOCKING.md "Private databases are synced once"). */
#define XW_CREATE  1
#define XW_NO_SYNC 2
/* XW_DEFLATE: the documents put in are stored as a compaction stores
 * them (long tags deflated, short ones raw), not all raw as the
 * indexer's (cwrap/xapian_rawtags.cc): for a compaction's own target. */
#define XW_DEFLATE 4
int xw_dbw_open(void *ctx, const char *path, int flags, struct xw_dbw **dbw_r);
/* Commits (if anything pending) and closes; *DBW_P becomes NULL. */
int xw_dbw_close(struct xw_dbw **dbw_p);
/* *REV_R: the revision of the last commit the writer stands on (its next
 * commit makes *REV_R + 1).  0 for a database never committed. */
int xw_dbw_revision(struct xw_dbw *dbw, unsigned long *rev_r);
/* A transaction: documents and metadata become visible together. */
int xw_dbw_begin(struct xw_dbw *dbw);
int xw_dbw_commit(struct xw_dbw *dbw);
int xw_dbw_cancel(struct xw_dbw *dbw);
/* *VAL_R is "" when KEY is not set. */
int xw_dbw_get_metadata(struct xw_dbw *dbw, void *ctx, const char *key, char **val_r);
int xw_dbw_set_metadata(struct xw_dbw *dbw, const char *key, const char *val);
/* Whether a document for GUIDHEX (40 hex digits) exists. */
int xw_dbw_has_guid(struct xw_dbw *dbw, const char *guidhex, int *yes_r);
/* Adds or replaces the document of GUIDHEX (unique term SCHEMA_GUID+GUIDHEX). */
int xw_dbw_put(struct xw_dbw *dbw, const char *guidhex, struct xw_doc *doc);
/* Adds the document of GUIDHEX, which the caller knows DBW does not have
 * (xw_dbw_has_guid under the same write lock, nothing added since): a
 * second document with the same GUID would otherwise be created. */
int xw_dbw_add(struct xw_dbw *dbw, const char *guidhex, struct xw_doc *doc);
/* How many tags Xapian has stored without zlib in this process because
 * cwrap declined to deflate them (cwrap/xapian_rawtags.cc: the documents
 * of xw_dbw_put and xw_dbw_add, the short tags of a compaction): 0 where
 * the executable does not link cwrap's deflate (libxapiary.so's users). */
unsigned long xw_raw_tags(void);
int xw_dbw_delete_guid(struct xw_dbw *dbw, const char *guidhex);
unsigned long xw_dbw_doccount(struct xw_dbw *dbw);

/* Compacts the databases SRCS (N of them) into DEST (which must not
 * exist), merging their metadata: for a key present in several sources
 * MERGE is called (may be NULL: the first source's value wins) and returns
 * the merged value allocated under CTX; but SCHEMA_VERSION_KEY is never
 * passed to MERGE: DEST gets the highest of the sources'. */
typedef char *xw_merge_fn(void *ctx, const char *key, const char *const *vals,
                          unsigned nvals);
int xw_compact(const char *const *srcs, unsigned n, const char *dest, xw_merge_fn *merge);

/* Compacts SRCS into DEST as xw_compact does, keeping one document per
 * GUID (the first source's) and only those for which KEEP (may be NULL)
 * returns non-zero: it drops the documents of expunged mail and the
 * duplicates that tiers accumulate.  The others are deleted after the
 * compaction, which leaves gaps in DEST's document ids: DEST then gets
 * the SCHEMA_SPACER document (docs/FORMAT.md "Gaps").  *KEPT_R and
 * *DROPPED_R (may be NULL) count documents.  The deletions are written
 * without fsync, as XW_NO_SYNC: DEST is a private target that the
 * caller syncs (sync_tree) before renaming it.  Fault point compact.5a:
 * between the compaction and the deletions.  The sources' GUID terms are
 * read in a second thread while Xapian compacts; KEEP and MERGE are
 * called from the calling thread only. */
typedef int xw_keep_fn(void *rock, const char *guidhex);
int xw_compact_filter(const char *const *srcs, unsigned n, const char *dest,
                      xw_keep_fn *keep, void *rock, xw_merge_fn *merge,
                      unsigned long *kept_r, unsigned long *dropped_r);

/* ---------------------------------------------------------------- documents */

struct xw_doc *xw_doc_new(void *ctx);
/* Free text: words of TEXT (UTF-8, LEN bytes) with positions under
 * PREFIX, CJK as n-grams; for SCHEMA_STEMMED, their stems are added by
 * xw_doc_prune_stems or, without it, when the document is written. */
int xw_doc_add_text(struct xw_doc *doc, const char *prefix, const char *text, size_t len);
/* Once every text of DOC is added: adds the stem terms of its stemmed
 * fields but those its words stand for (schema 3, docs/FORMAT.md
 * "Stems"), each stem once with its words' summed wdf.  A document not
 * pruned gets every stem term when it is written (xw_dbw_add, xw_dbw_put),
 * as schema 2 had them: found by the same queries, only larger. */
int xw_doc_prune_stems(struct xw_doc *doc);
/* One boolean term, PREFIX + TERM, as is (truncated to Xapian's limit). */
int xw_doc_add_term(struct xw_doc *doc, const char *prefix, const char *term);
/* Value slot SLOT as sortable_serialise(NUM). */
int xw_doc_set_number(struct xw_doc *doc, unsigned slot, double num);
int xw_doc_set_data(struct xw_doc *doc, const char *data, size_t len);

/* ---------------------------------------------------------------- read */

/* Opens the N databases PATHS as one.  A missing one is an error here: the
 * caller decides what may be skipped. */
int xw_dbr_open(void *ctx, const char *const *paths, unsigned n, struct xw_dbr **dbr_r);
/* *REV_R: the revision of the database PATH as a reader opening it now
 * sees it (the last commit). */
int xw_db_revision(const char *path, unsigned long *rev_r);
/* *REV_R: the revision database I (0-based, in PATHS order) of DBR was
 * opened at. */
int xw_dbr_revision(struct xw_dbr *dbr, unsigned i, unsigned long *rev_r);
/* Metadata KEY of database I (0-based, in PATHS order); "" when unset. */
int xw_dbr_get_metadata(struct xw_dbr *dbr, unsigned i, void *ctx, const char *key,
                        char **val_r);
unsigned long xw_dbr_doccount(struct xw_dbr *dbr);
/* Whether any of the databases has a document for GUIDHEX. */
int xw_dbr_has_guid(struct xw_dbr *dbr, const char *guidhex, int *yes_r);

/* Query trees; each node is allocated under CTX.
 *
 * Given the databases DBR that the query will run on (may be NULL), a
 * term that none of them has is left out of the tree when it is built
 * (an OR drops it, an AND or phrase becomes nothing): Xapian 1.4 pays for
 * every absent term of an OR once per other term, so a query of a few
 * thousand mostly absent terms took minutes.  A search that sees a newer
 * revision than DBR had (xw_dbr_search's retry) may miss documents of
 * the terms left out, as if it had run a moment earlier. */
#define XW_PHRASE   1   /* TEXT is a phrase: words in order */
#define XW_WILDCARD 2   /* the last word is a prefix (word*) */
/* TEXT parsed the way xw_doc_add_text indexes it, under each of the
 * NPREFIXES PREFIXES (OR of the fields); words are ANDed, or a phrase. */
struct xw_query *xw_query_text(void *ctx, struct xw_dbr *dbr, const char *const *prefixes,
                               unsigned nprefixes, const char *text, int flags);
/* An exact boolean term PREFIX+TERM. */
struct xw_query *xw_query_term(void *ctx, struct xw_dbr *dbr, const char *prefix,
                               const char *term);
/* The documents of the N GUIDs HEXES (N x 40 lower-case hex digits, one
 * after the other, ascending, no repeats), as a filter: it matches
 * them and adds no weight.  Its cost is one look-up per GUID and
 * database when the search starts, whatever N (an OR of N terms was
 * minutes at 100,000). */
struct xw_query *xw_query_guids(void *ctx, const char *hexes, size_t n);
/* Documents whose value SLOT (a number) is in [LO, HI]; NAN = open end. */
struct xw_query *xw_query_range(void *ctx, unsigned slot, double lo, double hi);
#define XW_AND 0
#define XW_OR  1
#define XW_AND_NOT 2   /* the first and none of the rest */
struct xw_query *xw_query_combine(void *ctx, int op, struct xw_query **subs, unsigned n);
/* Every document of a message (not SCHEMA_SPACER's). */
struct xw_query *xw_query_all(void *ctx);
struct xw_query *xw_query_none(void *ctx);
/* A readable form (Xapian's get_description), for tests and -v. */
char *xw_query_describe(void *ctx, const struct xw_query *q);

/* One hit: the document data as stored with xw_doc_set_data. */
typedef int xw_hit_fn(void *rock, const char *data, size_t len);
#define XW_SORT_RELEVANCE 0
#define XW_SORT_DATE_DESC 1
#define XW_SORT_DATE_ASC  2
/* Runs Q, calling FN for hits OFFSET.. (at most LIMIT of them, 0 = all)
 * in SORT order; FN returning non-zero stops the run with that result.
 * A NULL query (from an allocation failure) is XAP_IMAP_INTERNAL. */
int xw_dbr_search(struct xw_dbr *dbr, const struct xw_query *q, int sort,
                  unsigned long offset, unsigned long limit, xw_hit_fn *fn, void *rock);

/* ---------------------------------------------------------------- snippets */

/* What a body snippet of Q's hits marks (Q's words searched in the body,
 * not those under a NOT), as a query of its own under CTX that matches
 * nothing: kept with a result for the snippets asked for later.  NULL
 * after a failure (logged). */
struct xw_query *xw_query_snippet_part(void *ctx, const struct xw_query *q);

/* A snippet maker for Q (an xw_query_snippet_part or any query), under
 * CTX.  It reads no database, so it needs no search lock. */
struct xw_snipper;
int xw_snipper_new(void *ctx, const struct xw_query *q, struct xw_snipper **sn_r);
/* About LENGTH bytes of TEXT (UTF-8, LEN bytes) around the words SN
 * marks, chosen by MSet::snippet with the English stemmer and CJK
 * n-grams as at index time: escaped for HTML, each match between
 * HI_START and HI_END (one pair around adjacent matches, as the
 * characters of a CJK word), OMIT where text was left out.  When nothing
 * matches, the start of TEXT.  *SNIPPET_R under CTX. */
int xw_snippet(struct xw_snipper *sn, void *ctx, const char *text, size_t len,
               size_t length, const char *hi_start, const char *hi_end, const char *omit,
               char **snippet_r);

#ifdef __cplusplus
}
#endif

#endif
