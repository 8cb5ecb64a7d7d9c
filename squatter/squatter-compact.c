/* squatter-compact.c - -z: compacting search tiers (the 13 steps of spec
 * section 9).  Not built yet: the mode is refused with a clear message
 * rather than half done. */
#include <config.h>

#include <stdio.h>

#include "xapiary/xapiary.h"
#include "squatter/squatter.h"
#include "tools/cli.h"

int squatter_compact(const struct squatter_opts *o)
{
    (void)o;
    fprintf(stderr, "squatter: -z (compaction) is not available in this build yet\n");
    return EX_UNAVAILABLE;
}
