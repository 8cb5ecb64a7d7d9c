/* mboxlist.h - placeholder; written by the mailbox-layer issue. */
#ifndef XAPIARY_MBOXLIST_H
#define XAPIARY_MBOXLIST_H
#endif
