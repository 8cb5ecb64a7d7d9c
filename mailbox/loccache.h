/* loccache.h - a GUID db's locations held in memory, in the GUID index's
 * order, for the searches of a process that come while the db does not
 * change (guiddb_lookup_sorted decides when it is built and when it is
 * still true: mailbox/guiddb.c).  A search's hits, in GUID order, then
 * find their locations by a search onward from the previous hit's row
 * instead of a walk along the SQLite index, which was most of what the
 * API added to a dense search. */
#ifndef XAPIARY_LOCCACHE_H
#define XAPIARY_LOCCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"

struct loccache;

/* The memory of a row. */
#define LOCCACHE_ROW_BYTES 28

/* Empty, under CTX, with room for HINT rows before it grows. */
struct loccache *loccache_new(void *ctx, size_t hint);
/* Appends a row; the rows come in ascending order of (GUID, UNIQUEID,
 * UID), as the GUID index has them.  XAP_IMAP_INTERNAL when out of
 * memory. */
int loccache_add(struct loccache *c, const uint8_t guid[XAP_MESSAGE_GUID_SIZE],
                 const char *uniqueid, uint32_t uid);
size_t loccache_rows(const struct loccache *c);
/* Gives back the room past the last row (after the last add). */
void loccache_trim(struct loccache *c);
/* What guiddb_lookup_sorted calls for GUIDS (N distinct, ascending):
 * CB (I, UNIQUEID, UID) for each row of GUIDS[I], in the rows' order.
 * Stops at CB's first non-zero return and returns it. */
int loccache_lookup(const struct loccache *c, const uint8_t *const *guids, size_t n,
                    int (*cb)(void *rock, size_t i, const char *uniqueid, uint32_t uid),
                    void *rock);

#endif
