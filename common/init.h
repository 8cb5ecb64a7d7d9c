/* init.h - process-wide start and end of the library (internal side of
 * xap_init/xap_done).  Lower layers must not call up into higher
 * ones, so a module that keeps process state registers its own cleanup
 * here and xap_done() runs it, last registered first. */
#ifndef XAPIARY_INIT_H
#define XAPIARY_INIT_H

typedef void xapiary_done_fn(void);

/* Registers FN to run at xap_done() (once per FN). */
void xapiary_atdone(xapiary_done_fn *fn);

#endif
