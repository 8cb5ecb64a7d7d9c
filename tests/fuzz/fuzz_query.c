/* fuzz_query - libFuzzer harness for the query parser (xapianlock/query.c).
 *
 * The input, made a C string (it stops at the first NUL, as the parser's
 * callers' strings do), is parsed; a success is printed back with
 * query_to_string.  Checked beyond the sanitizers: a failure always
 * comes with a message naming a position, a success never does, and the
 * tree's fields are within their enums. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "tests/fuzz/fuzz.h"
#include "xapiary/xapiary.h"
#include "common/xlog.h"
#include "xapianlock/query.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    return 0;
}

static void check_tree(const struct query *q)
{
    if ((unsigned)q->op > QOP_ALL)
        abort();
    switch (q->op) {
    case QOP_AND:
    case QOP_OR:
        if (talloc_array_length(q->sub) < 2)
            abort();
        /* fall through */
    case QOP_NOT:
        if (talloc_array_length(q->sub) < 1)
            abort();
        for (size_t i = 0; i < talloc_array_length(q->sub); i++)
            check_tree(q->sub[i]);
        break;
    case QOP_MATCH:
        if ((unsigned)q->field >= QF_COUNT || q->field == QF_DATE ||
            q->field == QF_MAILBOX || !q->text || !*q->text)
            abort();
        break;
    case QOP_DATE:
        if (q->from < -1 || q->to < -1 || (q->from == -1 && q->to == -1) ||
            (q->from >= 0 && q->to >= 0 && q->from >= q->to))
            abort();
        break;
    case QOP_MAILBOX:
        if (!q->mailbox)
            abort();
        break;
    case QOP_ALL:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *ctx = talloc_new(NULL);
    char *str = talloc_strndup(ctx, (const char *)data, size);
    struct query *q = NULL;
    char *err = NULL;
    int r = query_parse(ctx, str, &q, &err);

    if (r == 0) {
        if (!q || err)
            abort();
        check_tree(q);
        (void)query_to_string(ctx, q);
    } else if (r != XAP_IMAP_SEARCH_SYNTAX || q || !err || strncmp(err, "position ", 9)) {
        abort();
    }
    talloc_free(ctx);
    return 0;
}
