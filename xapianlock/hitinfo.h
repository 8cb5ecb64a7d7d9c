/* hitinfo.h - the details of a page of hits that the search documents do
 * not hold (search.h "Hit details"), read from their mailboxes. */
#ifndef XAPIARY_HITINFO_H
#define XAPIARY_HITINFO_H

#include <stddef.h>

#include "xapiary/search.h"

/* Fills TO .. PATH of HITS[0 .. *N_R), whose mailboxes the search found
 * with the uniqueids UNIQUEIDS[i]; strings under CTX.  A hit whose
 * location is gone (expunged, or its mailbox deleted, renamed or
 * replaced) is removed, the rest moving down in order, and *N_R counts
 * those left.  Call it holding no lock: it opens each mailbox with hits
 * in turn (mailbox_open_irl).  Returns 0 or the error of a mailbox that
 * could not be read (logged). */
int hitinfo_fill(void *ctx, struct search_hit *hits, char **uniqueids, size_t *n_r);

#endif
