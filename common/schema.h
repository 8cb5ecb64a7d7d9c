/* schema.h - the one table of a search database's schema (docs/FORMAT.md
 * "Xapian document schema"): term prefixes, value slots, metadata keys and
 * the schema version.  The indexer (xapianlock/index*.c), the query
 * translator (xapianlock/translate.c), cwrap (stemming, the GUID term, the
 * version check) and compaction all name them from here, so that they
 * cannot disagree.  Plain C constants, no code: cwrap sits below
 * xapianlock and sees only common/. */
#ifndef XAPIARY_COMMON_SCHEMA_H
#define XAPIARY_COMMON_SCHEMA_H

/* The version written as metadata SCHEMA_VERSION_KEY when a database is
 * created, and the newest one this program reads or writes.  A database
 * with a higher one is refused (XAP_IMAP_SEARCH_NOTSUPPORTED): its terms may
 * mean something else, and answering from it could be wrong.  One without
 * the key predates it and holds schema 1 or 2 documents, which this
 * version reads (XV2 below tells them apart).  Schema 3 leaves out the
 * stem terms that a word of the document stands for (SCHEMA_STEM below),
 * which a schema 2 reader would miss; schema 3 reads 1 and 2 as they are.
 * Bump it when a reader of the old version would answer wrongly from the
 * new documents. */
#define SCHEMA_VERSION      3
#define SCHEMA_VERSION_KEY  "xapiary.schema"
/* + mailbox uniqueid: the UIDs of that mailbox the database covers. */
#define SCHEMA_INDEXED_KEY  "indexed."

/* Free text with positions. */
#define SCHEMA_FROM       "F"
#define SCHEMA_TO         "T"
#define SCHEMA_CC         "C"
#define SCHEMA_BCC        "X"
#define SCHEMA_SUBJECT    "S"
#define SCHEMA_BODY       "B"
#define SCHEMA_ATTACHMENT "A"
/* Every free-text prefix, for a bare word (searches them all). */
#define SCHEMA_TEXT_PREFIXES SCHEMA_FROM, SCHEMA_TO, SCHEMA_CC, SCHEMA_BCC, \
    SCHEMA_SUBJECT, SCHEMA_BODY, SCHEMA_ATTACHMENT
/* The one-letter prefixes whose words also get English stems, as
 * SCHEMA_STEM + prefix + stem (no positions); since schema 3 not when the
 * document has the stem as a word of that prefix and it is its own stem
 * (prefix + stem stands for it at query time). */
#define SCHEMA_STEMMED    SCHEMA_SUBJECT SCHEMA_BODY
#define SCHEMA_STEM       "Z"

/* Boolean terms. */
#define SCHEMA_MSGID      "M"     /* + Message-ID without <>, lower case */
#define SCHEMA_GUID       "Q"     /* + 40 hex digits: one document per GUID */

/* Every address of From, To, Cc and Bcc also gives boolean terms, under
 * "XE" or "XD" and then the field's letter (F, T, C or X): XE + the address
 * in lower case (XEFkeithp@keithp.com) and XD + its domain and each parent
 * domain that still has a dot (XDFmail.kernel.org, XDFkernel.org).  The
 * upper-case second letter keeps them apart from Bcc's text terms, which
 * are "X" + a lower-case word. */
#define SCHEMA_ADDRESS    "XE"
#define SCHEMA_DOMAIN     "XD"
/* Every document that has the address terms has this one too: documents
 * indexed before (schema 1) are told apart and searched by phrase. */
#define SCHEMA_V2         "XV2"
/* The one document that is not a message: a database some of whose
 * documents were dropped (squatter -z -F) gets one, so that no term
 * indexes every document while its document ids have gaps, the state
 * in which Xapian 1.4 fails a search (docs/FORMAT.md "Gaps").  It has
 * this term only; searches leave it out (xw_query_all). */
#define SCHEMA_SPACER     "XSPACER"

/* Value slots, as Xapian's sortable_serialise of a number. */
#define SCHEMA_SLOT_DATE  0       /* Date:, else the internal date (seconds) */
#define SCHEMA_SLOT_SIZE  1       /* the message's size in bytes */

#endif
