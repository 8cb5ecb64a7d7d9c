/* translate.h - a parsed query (xapianlock/query.h) as a Xapian query, by
 * the term prefixes of docs/FORMAT.md "Xapian document schema": the one
 * place that knows how a field of the query language maps to terms. */
#ifndef XAPIARY_TRANSLATE_H
#define XAPIARY_TRANSLATE_H

#include "cwrap/xapian_wrap.h"
#include "xapianlock/query.h"

/* Resolves mailbox:NAME (which needs the user's GUID db): returns the
 * query under CTX, or NULL after setting *R. */
typedef struct xw_query *translate_mailbox_fn(void *rock, void *ctx, const char *name,
                                              int *r);

/* Q as a Xapian query under CTX, to run on DBR (may be NULL: see
 * xw_query_text).  MAILBOX (with ROCK) answers mailbox: terms; with
 * MAILBOX NULL they are XAP_IMAP_SEARCH_SYNTAX.  Returns NULL and sets *R on
 * failure; *R is 0 otherwise. */
struct xw_query *query_translate(void *ctx, const struct query *q, struct xw_dbr *dbr,
                                 translate_mailbox_fn *mailbox, void *rock, int *r);

#endif
