/* statuscache.h - answers STATUS without opening a mailbox.  One row per
 * mailbox in CONFIGDIRECTORY/statuscache.db (SQLite, WAL), written at
 * unlock after changes (replaced with a fresh value, or invalidated) and
 * read by status requests; a missing row just means "open the mailbox". */
#ifndef XAPIARY_STATUSCACHE_H
#define XAPIARY_STATUSCACHE_H

#include "xapiary/mailbox.h"

void statuscache_store(const char *name, const struct xap_statusdata *sdata);
void statuscache_invalidate(const char *name);
/* 0 and *SDATA, XAP_IMAP_NOTFOUND when nothing is cached, or XAP_IMAP_IOERROR. */
int statuscache_lookup(const char *name, struct xap_statusdata *sdata);

#endif
