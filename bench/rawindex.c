/* rawindex - the yardstick of one Xapian writer: every file of a Maildir
 * (cur/ and new/) parsed with GMime, its text put through the term
 * generator with positions, one commit per 1,000 documents, in one
 * thread, with no mailbox, lock or indexed state.  The same terms as
 * squatter (message_foreach_text, indexer_text_prefix, cwrap), so the
 * difference to squatter is what xapiary's layers cost or save.
 *
 *   bench/rawindex DBDIR MAILDIR */
#include <config.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include <talloc.h>

#include "cwrap/xapian_wrap.h"
#include "common/util.h"
#include "mailbox/message.h"
#include "xapianlock/index.h"

#define BATCH 1000

static int add(void *rock, enum message_text_kind kind, const char *text, size_t len)
{
    const char *p = indexer_text_prefix(kind);

    return p ? xw_doc_add_text(rock, p, text, len) : 0;
}

int main(int argc, char **argv)
{
    static const char *const subs[] = { "cur", "new" };
    struct xw_dbw *dbw = NULL;
    unsigned long n = 0;
    void *tmp = talloc_new(NULL);

    if (argc != 3) {
        fprintf(stderr, "usage: rawindex DBDIR MAILDIR\n");
        return EX_USAGE;
    }
    message_init();
    if (xw_dbw_open(tmp, argv[1], 1, &dbw) || xw_dbw_begin(dbw))
        return EX_IOERR;
    for (int s = 0; s < 2; s++) {
        char *dir = talloc_asprintf(tmp, "%s/%s", argv[2], subs[s]);
        struct dirent *de;
        DIR *d = opendir(dir);
        while (d && (de = readdir(d))) {
            char *path, *buf, hex[41];
            unsigned char guid[XAP_MESSAGE_GUID_SIZE];
            int64_t date = 0;
            size_t len;
            struct xw_doc *doc;
            if (de->d_name[0] == '.')
                continue;
            path = talloc_asprintf(tmp, "%s/%s", dir, de->d_name);
            if (read_file(path, path, &buf, &len) < 0) {
                talloc_free(path);
                continue;
            }
            doc = xw_doc_new(path);
            message_guid((const char *)buf, len, guid);
            message_guid_hex(guid, hex);
            if (message_foreach_text(buf, len, &date, add, doc) ||
                xw_doc_set_number(doc, SCHEMA_SLOT_DATE, (double)date) ||
                xw_doc_set_data(doc, hex, 40) || xw_dbw_put(dbw, hex, doc))
                return EX_SOFTWARE;
            talloc_free(path);
            if (++n % BATCH == 0 && (xw_dbw_commit(dbw) || xw_dbw_begin(dbw)))
                return EX_IOERR;
        }
        if (d)
            closedir(d);
    }
    if (xw_dbw_commit(dbw) || xw_dbw_close(&dbw))
        return EX_IOERR;
    printf("%lu messages\n", n);
    talloc_free(tmp);
    return EX_OK;
}
