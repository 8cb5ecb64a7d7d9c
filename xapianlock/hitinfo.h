/* hitinfo.h - reading hits from their mailboxes after a search: the
 * details the search documents do not hold (search.h "Hit details"), and
 * the way to the message for xap_search_hit_open and snippets. */
#ifndef XAPIARY_HITINFO_H
#define XAPIARY_HITINFO_H

#include <stddef.h>

#include "xapiary/mailbox.h"
#include "xapiary/search.h"

/* Called for hit I with its mailbox open (SHARED namelock, and the SHARED
 * index lock unless HITINFO_RECORDS_ONLY) and REC its live record (the
 * cache not loaded), or with MAILBOX and REC NULL when the location is
 * gone: the UID is expunged or holds another message now, or the mailbox
 * was deleted or renamed.  Non-zero stops the visit with that result. */
typedef int hitinfo_fn(void *rock, struct xap_mailbox *mailbox, struct xap_index_record *rec,
                       size_t i);

/* FN reads records and their cache only, never a message file: each
 * mailbox's last commit is read without its index lock when it can be
 * (mailbox/snapshot.h), so a writer holding the lock over a batch of
 * appends does not hold the page up.  Without it FN runs under the lock,
 * for message files: an expunge's files are unlinked after its commit,
 * which the lock keeps out. */
#define HITINFO_RECORDS_ONLY 1

/* Visits HITS[0 .. N), opening each mailbox that has some once, in name
 * order.  Call it holding no lock.  Returns 0, FN's result, or the error
 * of a mailbox that could not be read (logged). */
int hitinfo_visit(const struct xap_search_hit *hits, size_t n, unsigned flags,
                  hitinfo_fn *fn, void *rock);

/* Fills TO .. PATH of HITS[0 .. *N_R), strings under CTX.  A hit whose
 * location is gone is removed, the rest moving down in order, and *N_R
 * counts those left. */
int hitinfo_fill(void *ctx, struct xap_search_hit *hits, size_t *n_r);
/* The details of N HITS left empty (XAP_SEARCH_LOCATIONS_ONLY). */
void hitinfo_blank(struct xap_search_hit *hits, size_t n);

/* What xap_search_snippets marks in the hits of RES (a result of xap_search_run
 * or xap_search_run_query, which keep it): owned by RES. */
struct xw_query;
const struct xw_query *search_result_snippet_query(const struct xap_search_result *res);

#endif
