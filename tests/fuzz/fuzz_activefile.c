/* fuzz_activefile - libFuzzer harness for the xapianactive parser
 * (xapianlock/activefile.c).
 *
 * The input is parsed as the bytes of a xapianactive file.  Checked
 * beyond the sanitizers: a parsed list is non-empty, every tier is a
 * non-empty run of [a-z0-9], and formatting the list and parsing that
 * again gives the same list. */
#include <config.h>

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "tests/fuzz/fuzz.h"
#include "xapiary/xapiary.h"
#include "common/xlog.h"
#include "xapianlock/activefile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *ctx = talloc_new(NULL);
    struct activeitem *items = NULL, *again = NULL;
    int r = activefile_parse(ctx, "fuzz", (const char *)data, size, &items);

    if (r == 0) {
        size_t n = talloc_array_length(items);
        if (n == 0)
            abort();
        for (size_t i = 0; i < n; i++) {
            if (!items[i].tier[0])
                abort();
            for (const char *c = items[i].tier; *c; c++)
                if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c))
                    abort();
        }
        char *text = activefile_format(ctx, items);
        if (activefile_parse(ctx, "fuzz-again", text, strlen(text), &again) ||
            talloc_array_length(again) != n)
            abort();
        for (size_t i = 0; i < n; i++)
            if (strcmp(items[i].tier, again[i].tier) || items[i].gen != again[i].gen)
                abort();
    } else if (r != XAP_IMAP_MAILBOX_BADFORMAT || items) {
        abort();
    }
    talloc_free(ctx);
    return 0;
}
