/* xapian_wrap.h - placeholder */
#ifndef XAPIARY_XAPIAN_WRAP_H
#define XAPIARY_XAPIAN_WRAP_H
#endif
