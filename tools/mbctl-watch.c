/* mbctl watch - keep a mailbox open and print each new UID as it appears.
 *
 * The seeds/004 rule: the open mailbox keeps its SHARED namelock; every
 * poll takes the SHARED index lock and re-reads the index header under
 * it, then reads the records past the last one seen.  No mtime is ever
 * consulted, so an append committed between two polls is always seen. */
#include <config.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/namelock.h"
#include "tools/cli.h"
#include "tools/mbctl.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int mbctl_watch(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl watch [-i MILLISECONDS] MAILBOX\n"
        "Print the UID of every message in MAILBOX, then of each new one as\n"
        "it is committed, one per line, until killed (SIGTERM/SIGINT end it\n"
        "cleanly).\n\n"
        "  -i, --interval MS   poll interval (default 50)\n";
    static const struct option opts[] = {
        { "interval", required_argument, NULL, 'i' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct xap_mailbox *mb = NULL;
    uint32_t seen = 0, recno = 0;
    long interval = 50;
    int c, r;

    while ((c = mbctl_getopt(argc, argv, "i:h", opts)) != -1) {
        switch (c) {
        case 'i': interval = strtol(optarg, NULL, 10); break;
        case 'h': mbctl_help(usage); return EX_OK;
        default: cli_bad_option("watch", argv);
        }
    }
    if (argc - optind != 1 || interval <= 0)
        cli_usage_error("watch: one MAILBOX and a positive interval are required");
    cli_init(ctx->config);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);

    if ((r = xap_mailbox_open_irl(argv[optind], &mb)))
        return cli_error(argv[optind], r, NULL);
    while (!stop) {
        /* Locked here: the header was just re-read under the lock. */
        while (recno < xap_mailbox_num_records(mb)) {
            struct xap_index_record rec;
            if ((r = xap_mailbox_read_index_record(mb, recno + 1, &rec))) {
                xap_mailbox_close(&mb);
                return cli_error(argv[optind], r, NULL);
            }
            recno++;
            if (rec.uid > seen && !(rec.internal_flags & XAP_FLAG_INTERNAL_EXPUNGED)) {
                printf("%u\n", rec.uid);
                seen = rec.uid;
            }
        }
        xap_mailbox_unlock_index(mb, NULL);
        struct timespec ts = { interval / 1000, (interval % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        if (stop)
            break;
        if ((r = xap_mailbox_lock_index(mb, XAP_LOCK_SHARED))) {
            xap_mailbox_close(&mb);
            return cli_error(argv[optind], r, NULL);
        }
    }
    xap_mailbox_close(&mb);
    return EX_OK;
}
