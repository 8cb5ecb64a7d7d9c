/* mbctl create | delete | list | status | expunge - the everyday mailbox
 * commands, each small. */
#include <config.h>

#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/mboxlist.h"
#include "tools/cli.h"
#include "tools/mbctl.h"

/* Parses only --help for commands without options; returns optind. */
static int simple_opts(int argc, char **argv, const char *usage, int min_args)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            exit(EX_OK);
        }
        cli_usage_error("%s: bad option", argv[0]);
    }
    if (argc - optind < min_args)
        cli_usage_error("%s: missing arguments (see --help)", argv[0]);
    return optind;
}

int mbctl_create(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl create [-p PARTITION] MAILBOX...\n"
        "Create each MAILBOX (e.g. user.alice, user.alice.Sent).\n\n"
        "  -p, --partition NAME  the partition (default: default)\n";
    static const struct option opts[] = {
        { "partition", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *partition = NULL;
    int c, ret = EX_OK;

    while ((c = getopt_long(argc, argv, "+p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': partition = optarg; break;
        case 'h': fputs(usage, stdout); return EX_OK;
        default: cli_usage_error("create: bad option");
        }
    }
    if (optind >= argc)
        cli_usage_error("create: no mailbox named");
    cli_init(ctx->config);
    for (int i = optind; i < argc; i++) {
        struct mailbox *mb = NULL;
        int r = mailbox_create(argv[i], partition, NULL, 0, &mb);
        if (r) {
            ret = cli_error(argv[i], r, NULL);
            continue;
        }
        mailbox_close(&mb);
    }
    return ret;
}

int mbctl_delete(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl delete MAILBOX...\n"
        "Delete each MAILBOX and its messages (a DELETED tombstone keeps\n"
        "its uidvalidity from being reused).\n";
    int first = simple_opts(argc, argv, usage, 1), ret = EX_OK;

    cli_init(ctx->config);
    for (int i = first; i < argc; i++) {
        struct mailbox *mb = NULL;
        int r = mailbox_open_iwl(argv[i], &mb);
        if (!r)
            r = mailbox_delete(&mb);
        if (r) {
            mailbox_close(&mb);
            ret = cli_error(argv[i], r, NULL);
        }
    }
    return ret;
}

struct list_rock {
    const char *pattern;
};

static int list_one(const struct mboxlist_entry *e, void *rock)
{
    const struct list_rock *lr = rock;

    if (!lr->pattern || fnmatch(lr->pattern, e->name, 0) == 0)
        printf("%s\n", e->name);
    return 0;
}

int mbctl_list(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl list [PATTERN]\n"
        "List mailboxes, in name order; PATTERN is a shell pattern\n"
        "(user.alice*).\n";
    int first = simple_opts(argc, argv, usage, 0), r;
    struct list_rock lr = { first < argc ? argv[first] : NULL };

    cli_init(ctx->config);
    r = mboxlist_foreach("", 0, list_one, &lr);
    return r ? cli_error("mailboxes.db", r, NULL) : EX_OK;
}

int mbctl_status(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl status MAILBOX...\n"
        "Print `key: value` lines: messages, uidnext, uidvalidity,\n"
        "highestmodseq, unseen, size, uniqueid, partition.\n";
    int first = simple_opts(argc, argv, usage, 1), ret = EX_OK;

    cli_init(ctx->config);
    for (int i = first; i < argc; i++) {
        struct mailbox *mb = NULL;
        struct statusdata sd;
        int r = mailbox_open_irl(argv[i], &mb);
        if (r) {
            ret = cli_error(argv[i], r, NULL);
            continue;
        }
        mailbox_status(mb, &sd);
        if (argc - first > 1)
            printf("mailbox: %s\n", argv[i]);
        printf("messages: %u\nuidnext: %u\nuidvalidity: %u\nhighestmodseq: %llu\n"
               "unseen: %u\nsize: %llu\nuniqueid: %s\npartition: %s\n",
               sd.messages, sd.uidnext, sd.uidvalidity,
               (unsigned long long)sd.highestmodseq, sd.unseen,
               (unsigned long long)sd.size, mailbox_uniqueid(mb), mailbox_partition(mb));
        mailbox_unlock_index(mb, &sd);
        mailbox_close(&mb);
    }
    return ret;
}

int mbctl_expunge(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl expunge MAILBOX UID...\n"
        "Expunge the messages with these UIDs; their files are removed.\n";
    int first = simple_opts(argc, argv, usage, 2), ret = EX_OK, r;
    struct mailbox *mb = NULL;
    const char *name = argv[first];

    for (int i = first + 1; i < argc; i++) {
        char *end;
        unsigned long uid = strtoul(argv[i], &end, 10);
        if (*end || uid == 0 || uid > UINT32_MAX)
            cli_usage_error("expunge: '%s' is not a UID", argv[i]);
    }
    cli_init(ctx->config);
    if ((r = mailbox_open_iwl(name, &mb)))
        return cli_error(name, r, NULL);
    for (int i = first + 1; i < argc; i++) {
        r = mailbox_expunge_uid(mb, (uint32_t)strtoul(argv[i], NULL, 10));
        if (r) {
            char *what = talloc_asprintf(NULL, "%s UID %s", name, argv[i]);
            ret = cli_error(what, r == IMAP_NOTFOUND ? IMAP_NOTFOUND : r,
                            r == IMAP_NOTFOUND ? "no such message" : NULL);
            talloc_free(what);
        }
    }
    if ((r = mailbox_commit(mb)))
        ret = cli_error(name, r, "commit failed");
    mailbox_close(&mb);
    return ret;
}
