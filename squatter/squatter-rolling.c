/* squatter -R - rolling mode: index the mailboxes the sync log names, as
 * they change.  Takes the log (synclog_take), indexes every named
 * mailbox, and only then removes the taken file, so a crash replays it.
 * Stops cleanly on SIGTERM/SIGINT after the current batch. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/mboxname.h"
#include "common/xlog.h"
#include "mailbox/synclog.h"
#include "squatter/squatter.h"
#include "tools/cli.h"
#include "xapianlock/index.h"

#define POLL_MS 200

/* Indexes NAMES (grouped by user, in order); returns a sysexits code. */
static int index_names(char **names, int verbose)
{
    int ret = EX_OK;

    for (size_t i = 0; i < talloc_array_length(names) && !squatter_stopping(); ) {
        char *userid = NULL;
        struct indexer *ix = NULL;
        size_t j;
        int r;

        if (mboxname_to_userid(NULL, names[i], &userid)) {
            i++;                  /* shared mailboxes have no search tiers */
            continue;
        }
        r = indexer_begin(NULL, userid, 0, &ix);
        for (j = i; j < talloc_array_length(names); j++) {
            char *other = NULL;
            int same = !mboxname_to_userid(NULL, names[j], &other) &&
                       !strcmp(other, userid);
            talloc_free(other);
            if (!same)
                break;
            if (!r) {
                int r2 = indexer_mailbox(ix, names[j]);
                if (r2 && r2 != IMAP_MAILBOX_NONEXISTENT)
                    ret = cli_error(names[j], r2, "not indexed");
            }
        }
        if (r)
            ret = cli_error(userid, r, "cannot open the search index");
        else if ((r = indexer_end(&ix)))
            ret = cli_error(userid, r, "not indexed");
        if (verbose && !r)
            fprintf(stderr, "squatter: %s: %zu mailbox(es) indexed\n", userid, j - i);
        talloc_free(userid);
        i = j;
    }
    return ret;
}

int squatter_rolling(const struct squatter_opts *o)
{
    int ret = EX_OK;

    if (!o->foreground && daemon(0, 0) < 0)
        return cli_error("squatter", IMAP_IOERROR, "cannot detach");
    while (!squatter_stopping()) {
        char **names = NULL, *work = NULL;
        int r = synclog_take(NULL, o->channel, &names, &work);
        if (r) {
            ret = cli_error("sync log", r, o->channel);
            talloc_free(names);
            break;
        }
        if (talloc_array_length(names)) {
            r = index_names(names, o->verbose);
            /* Only a fully processed log is removed; on failure or stop it
             * stays and is replayed. */
            if (r == EX_OK && !squatter_stopping())
                synclog_done(work);
            else if (r != EX_OK)
                ret = r;
        } else if (work) {
            synclog_done(work);
        }
        talloc_free(names);
        talloc_free(work);
        if (!squatter_stopping()) {
            struct timespec ts = { 0, POLL_MS * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    return ret;
}
