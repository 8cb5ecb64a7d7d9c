/* schema.h - the terms of a message's Xapian document (docs/FORMAT.md
 * "Xapian document schema"): the one place that names the field prefixes
 * and makes the address terms, so that the indexer (index-docs.c) and the
 * query translator (translate.c) cannot disagree. */
#ifndef XAPIARY_SCHEMA_H
#define XAPIARY_SCHEMA_H

/* Free text with positions (cwrap stems S and B as "Z" + prefix). */
#define SCHEMA_FROM       "F"
#define SCHEMA_TO         "T"
#define SCHEMA_CC         "C"
#define SCHEMA_BCC        "X"
#define SCHEMA_SUBJECT    "S"
#define SCHEMA_BODY       "B"
#define SCHEMA_ATTACHMENT "A"
/* Boolean terms. */
#define SCHEMA_MSGID      "M"     /* + Message-ID without <>, lower case */
#define SCHEMA_GUID       "Q"     /* + 40 hex digits */

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

/* The address terms of ADDR (an addr-spec) in the field of FIELD_PREFIX
 * (SCHEMA_FROM...): a talloc array under CTX, possibly empty (ADDR without
 * '@'). */
char **schema_address_terms(void *ctx, const char *field_prefix, const char *addr);

/* The term for the address ADDR (lower-cased here) in FIELD_PREFIX, or for
 * the domain DOMAIN; under CTX. */
char *schema_address_term(void *ctx, const char *field_prefix, const char *addr);
char *schema_domain_term(void *ctx, const char *field_prefix, const char *domain);

#endif
