/* fuzz.h - what every libFuzzer harness of tests/fuzz/ shares. */
#ifndef XAPIARY_FUZZ_H
#define XAPIARY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/xlog.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Logging off: the inputs are bad on purpose, and a line per input would
 * cost more than the code under test.  $XAPIARY_FUZZ_VERBOSE turns it on
 * to look at one input. */
static inline void fuzz_quiet(void)
{
    xlog_set_level(getenv("XAPIARY_FUZZ_VERBOSE") ? LOG_DEBUG : -1);
}

#endif
