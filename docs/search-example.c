/* search-example.c - the search API from a program outside the tree.
 *
 *   cc -o search-example search-example.c $(pkg-config --cflags --libs xapiary)
 *   ./search-example -C /etc/xapiary.conf alice 'from:bob subject:lunch'
 *
 * Prints one line per live location of each matching message, newest
 * first: MAILBOX UID GUID SUBJECT.  The test suite builds this file
 * against the installed library (scripts/check). */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include <xapiary/xapiary.h>
#include <xapiary/search.h>

int main(int argc, char **argv)
{
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res = NULL;
    struct xap_search_options opts = { XAP_SEARCH_SORT_DATE_DESC, 0, 20, 0 };
    const char *config = NULL;
    char *err = NULL;
    int r;

    if (argc == 5 && !strcmp(argv[1], "-C")) {
        config = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: search-example [-C CONFIG] USER QUERY\n");
        return EX_USAGE;
    }
    if ((r = xap_init(config)))
        return EX_CONFIG;

    /* The session owns every result; NULL: no talloc parent of ours. */
    r = xap_search_open(NULL, argv[1], &ss);
    if (!r)
        r = xap_search_run(ss, argv[2], &opts, &res, &err);
    if (r) {
        fprintf(stderr, "search-example: %s: %s%s%s\n", argv[1], xap_error_message(r),
                err ? ": " : "", err ? err : "");
    } else {
        printf("%zu matches\n", res->total);
        for (size_t i = 0; i < res->nhits; i++)
            printf("%s %u %s %s\n", res->hits[i].mailbox, res->hits[i].uid,
                   res->hits[i].guid, res->hits[i].subject);
    }
    xap_search_close(&ss);
    xap_done();
    return r ? EX_SOFTWARE : EX_OK;
}
