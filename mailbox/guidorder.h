/* guidorder.h - a list of messages put in the order of their GUIDs: the
 * order of the GUID db's index and of a Xapian table's GUID terms, which
 * a walk along them wants (the search's hits, the indexer's look-ups of a
 * batch). */
#ifndef XAPIARY_GUIDORDER_H
#define XAPIARY_GUIDORDER_H

#include <stddef.h>

/* The positions 0..N-1 ordered by their GUIDs, bytewise; positions of one
 * GUID in increasing order.  The GUID of position I is the
 * XAP_MESSAGE_GUID_SIZE bytes at BASE + I * STRIDE (BASE: the first
 * element's GUID member, STRIDE: the element's size).  Returns a talloc
 * array of N under CTX. */
size_t *message_guid_order(void *ctx, const void *base, size_t stride, size_t n);

#endif
