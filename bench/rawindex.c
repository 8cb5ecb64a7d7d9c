/* rawindex - the yardstick of one Xapian writer: every file of a Maildir
 * (cur/ and new/) read, parsed with GMime and made into the very same
 * document squatter stores (indexer_build_doc: the same fields, terms,
 * positions, data and values), added with add_document and committed once
 * per 1,000 documents, in one thread, with no mailbox, lock, GUID check or
 * indexed state.  So the difference to squatter is what xapiary's layers
 * (and its second thread and side writers) cost or save.
 *
 *   bench/rawindex [-n] [-p I/N] DBDIR MAILDIR
 *
 * -n builds every document and throws it away, writing nothing: the
 * parse-and-tokenise rate, the physical limit of any indexer of the same
 * documents on one core.  -p I/N takes only every Nth file from the Ith
 * (0 <= I < N, in readdir order), so that N processes side by side measure
 * that limit on N cores. */
#include <config.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <talloc.h>

#include "cwrap/xapian_wrap.h"
#include "common/util.h"
#include "mailbox/message.h"
#include "xapianlock/index.h"

#define BATCH 1000

static int usage(void)
{
    fprintf(stderr, "usage: rawindex [-n] [-p I/N] DBDIR MAILDIR\n");
    return EX_USAGE;
}

int main(int argc, char **argv)
{
    static const char *const subs[] = { "cur", "new" };
    struct xw_dbw *dbw = NULL;
    unsigned long n = 0, seen = 0, part = 0, parts = 1;
    int opt, dry = 0;
    void *tmp;

    while ((opt = getopt(argc, argv, "np:")) != -1) {
        if (opt == 'n')
            dry = 1;
        else if (opt == 'p' && sscanf(optarg, "%lu/%lu", &part, &parts) == 2 &&
                 part < parts)
            ;
        else
            return usage();
    }
    if (argc - optind != 2)
        return usage();
    tmp = talloc_new(NULL);
    message_init();
    if (!dry && (xw_dbw_open(tmp, argv[optind], 1, &dbw) || xw_dbw_begin(dbw)))
        return EX_IOERR;
    for (int s = 0; s < 2; s++) {
        char *dir = talloc_asprintf(tmp, "%s/%s", argv[optind + 1], subs[s]);
        struct dirent *de;
        DIR *d = opendir(dir);
        while (d && (de = readdir(d))) {
            struct indexer_msg m = { 0 };
            char *buf, hex[41];
            size_t len;
            struct xw_doc *doc;
            if (de->d_name[0] == '.' || seen++ % parts != part)
                continue;
            m.path = talloc_asprintf(tmp, "%s/%s", dir, de->d_name);
            m.mailbox = m.path;
            if (read_file(m.path, m.path, &buf, &len) < 0) {
                talloc_free(m.path);
                continue;
            }
            m.size = (uint32_t)len;
            message_guid(buf, len, m.guid);
            message_guid_hex(m.guid, hex);
            if (indexer_build_doc(m.path, &m, buf, len, &doc) ||
                (!dry && xw_dbw_add(dbw, hex, doc)))
                return EX_SOFTWARE;
            talloc_free(m.path);
            if (++n % BATCH == 0 && !dry && (xw_dbw_commit(dbw) || xw_dbw_begin(dbw)))
                return EX_IOERR;
        }
        if (d)
            closedir(d);
    }
    if (!dry && (xw_dbw_commit(dbw) || xw_dbw_close(&dbw)))
        return EX_IOERR;
    printf("%lu messages\n", n);
    talloc_free(tmp);
    return EX_OK;
}
