/* mbctl create | delete | list | status | expunge - the everyday mailbox
 * commands, each small. */
#include <config.h>

#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/mboxlist.h"
#include "xapiary/registry.h"
#include "common/mboxname.h"
#include "tools/cli.h"
#include "tools/mbctl.h"

int mbctl_create(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl create [-p PARTITION] MAILBOX...\n"
        "Create each MAILBOX: user.ID is the user ID's INBOX (user.alice),\n"
        "user.ID.FOLDER one of its folders (user.alice.Sent); a name not\n"
        "under user. is a shared mailbox, owned by no user (said so with\n"
        "-v or on a terminal).  `user` itself, the root of every user's\n"
        "tree, cannot be a mailbox.  A new user (user.ID) starts with an\n"
        "empty search index and GUID db: whatever an earlier user of that\n"
        "name left is removed.\n\n"
        "  -p, --partition NAME  the partition (default: default)\n";
    static const struct option opts[] = {
        { "partition", required_argument, NULL, 'p' },
        { "server", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *partition = NULL, *server = NULL;
    int c, ret = EX_OK, created = 0;

    while ((c = mbctl_getopt(argc, argv, "p:s:h", opts)) != -1) {
        switch (c) {
        case 'p': partition = optarg; break;
        case 's': server = optarg; break;
        case 'h': mbctl_help(usage); return EX_OK;
        default: cli_bad_option("create", argv);
        }
    }
    if (optind >= argc)
        cli_usage_error("create: no mailbox named");
    cli_init(ctx->config);
    for (int i = optind; i < argc; i++) {
        struct xap_mailbox *mb = NULL;
        int handled, r;
        int code = mbctl_create_placed(argv[i], server, partition, &handled);
        if (handled || code != EX_OK) {
            if (code != EX_OK)
                ret = code;
            continue;
        }
        r = xap_mailbox_create(argv[i], partition, NULL, 0, &mb);
        if (r) {
            char *owner = NULL;
            if (r == XAP_IMAP_MAILBOX_REMOTE)
                xap_registry_where_mailbox(NULL, argv[i], &owner);
            ret = cli_error(argv[i], r, owner);
            talloc_free(owner);
            continue;
        }
        xap_mailbox_close(&mb);
        created++;
        /* "alice" for "user.alice" is an easy slip that makes a mailbox
         * no user owns: say what was made where a person can read it. */
        if (strncmp(argv[i], "user.", 5) && (ctx->verbose || isatty(STDERR_FILENO)))
            fprintf(stderr, "mbctl: %s: created a shared mailbox (owned by no user; "
                    "a user's INBOX is user.NAME)\n", argv[i]);
    }
    /* Placement counts users: the next create should see these.  Once
     * per run, and the creates stand whether or not it works. */
    if (created)
        xap_registry_register();
    return ret;
}

static int delete_one(const char *name)
{
    struct xap_mailbox *mb = NULL;
    int r = xap_mailbox_open_iwl(name, &mb);

    if (!r)
        r = xap_mailbox_delete(&mb);
    if (r) {
        xap_mailbox_close(&mb);
        return cli_error(name, r, NULL);
    }
    return EX_OK;
}

/* user.ID: the whole user, its mailboxes and its files outside them
 * (xap_mailbox_delete_user); finishes an earlier deletion that was
 * interrupted. */
static int delete_user(const char *name, const char *userid)
{
    int r = xap_mailbox_delete_user(userid);

    return r ? cli_error(name, r, NULL) : EX_OK;
}

int mbctl_delete(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl delete MAILBOX...\n"
        "Delete each MAILBOX and its messages (a DELETED tombstone keeps\n"
        "its uidvalidity from being reused).  A user's INBOX (user.ID)\n"
        "deletes the whole user: every mailbox below it, the search tiers\n"
        "and the GUID db; run again, it finishes a deletion of the user\n"
        "that was interrupted (as expire and recover do).\n";
    int first = mbctl_simple_opts(argc, argv, usage, 1), ret = EX_OK;

    cli_init(ctx->config);
    for (int i = first; i < argc; i++) {
        char *userid = NULL;
        int r;
        if (!strncmp(argv[i], "user.", 5) && !strchr(argv[i] + 5, '.') &&
            !mboxname_to_userid(NULL, argv[i], &userid))
            r = delete_user(argv[i], userid);
        else
            r = delete_one(argv[i]);
        talloc_free(userid);
        if (r && ret == EX_OK)
            ret = r;
    }
    return ret;
}

struct list_rock {
    const char *pattern;
    int all;
};

static int list_one(const struct xap_mboxlist_entry *e, void *rock)
{
    const struct list_rock *lr = rock;

    if (lr->pattern && fnmatch(lr->pattern, e->name, 0) != 0)
        return 0;
    if (lr->all)
        printf("%s\t%s\t%s\n", e->name,
               e->type == XAP_MBTYPE_NORMAL ? "-" : xap_mboxlist_type_name(e->type),
               e->namelock ? e->namelock : "-");
    else
        printf("%s\n", e->name);
    return 0;
}

int mbctl_list(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl list [-a] [PATTERN]\n"
        "List mailboxes, in name order; PATTERN is a shell pattern\n"
        "(user.alice*).\n\n"
        "  -a, --all   every record, tombstones and renames in progress too,\n"
        "              as NAME TAB TYPE TAB NAMELOCK (\"-\" for none)\n";
    static const struct option opts[] = {
        { "all", no_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct list_rock lr = { NULL, 0 };
    int c, r;

    while ((c = mbctl_getopt(argc, argv, "ah", opts)) != -1) {
        switch (c) {
        case 'a': lr.all = 1; break;
        case 'h': mbctl_help(usage); return EX_OK;
        default: cli_bad_option("list", argv);
        }
    }
    if (argc - optind > 1)
        cli_usage_error("list: at most one PATTERN");
    lr.pattern = optind < argc ? argv[optind] : NULL;
    cli_init(ctx->config);
    r = xap_mboxlist_foreach("", lr.all ? XAP_MBOXLIST_ALL : 0, list_one, &lr);
    return r ? cli_error("mailboxes.db", r, NULL) : EX_OK;
}

int mbctl_status(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl status MAILBOX...\n"
        "Print `key: value` lines: messages, uidnext, uidvalidity,\n"
        "highestmodseq, unseen, size, uniqueid, partition.\n";
    int first = mbctl_simple_opts(argc, argv, usage, 1), ret = EX_OK;

    cli_init(ctx->config);
    for (int i = first; i < argc; i++) {
        struct xap_mailbox *mb = NULL;
        struct xap_statusdata sd;
        int r = xap_mailbox_open_irl(argv[i], &mb);
        if (r) {
            ret = cli_error(argv[i], r, NULL);
            continue;
        }
        xap_mailbox_status(mb, &sd);
        if (argc - first > 1)
            printf("mailbox: %s\n", argv[i]);
        printf("messages: %u\nuidnext: %u\nuidvalidity: %u\nhighestmodseq: %llu\n"
               "unseen: %u\nsize: %llu\nuniqueid: %s\npartition: %s\n",
               sd.messages, sd.uidnext, sd.uidvalidity,
               (unsigned long long)sd.highestmodseq, sd.unseen,
               (unsigned long long)sd.size, xap_mailbox_uniqueid(mb), xap_mailbox_partition(mb));
        xap_mailbox_unlock_index(mb, &sd);
        xap_mailbox_close(&mb);
    }
    return ret;
}

int mbctl_expunge(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl expunge MAILBOX UID...\n"
        "Expunge the messages with these UIDs; their files are removed.\n";
    int first = mbctl_simple_opts(argc, argv, usage, 2), ret = EX_OK, r;
    struct xap_mailbox *mb = NULL;
    const char *name = argv[first];

    for (int i = first + 1; i < argc; i++) {
        char *end;
        unsigned long uid = strtoul(argv[i], &end, 10);
        if (*end || uid == 0 || uid > UINT32_MAX)
            cli_usage_error("expunge: '%s' is not a UID", argv[i]);
    }
    cli_init(ctx->config);
    if ((r = xap_mailbox_open_iwl(name, &mb)))
        return cli_error(name, r, NULL);
    for (int i = first + 1; i < argc; i++) {
        r = xap_mailbox_expunge_uid(mb, (uint32_t)strtoul(argv[i], NULL, 10));
        if (r) {
            char *what = talloc_asprintf(NULL, "%s UID %s", name, argv[i]);
            ret = cli_error(what, r == XAP_IMAP_NOTFOUND ? XAP_IMAP_NOTFOUND : r,
                            r == XAP_IMAP_NOTFOUND ? "no such message" : NULL);
            talloc_free(what);
        }
    }
    if ((r = xap_mailbox_commit(mb)))
        ret = cli_error(name, r, "commit failed");
    /* The repack that removes the expunged records runs at the close. */
    if ((r = xap_mailbox_close_checked(&mb)) && !ret)
        ret = cli_error(name, r, "expunged, but the repack failed: the next "
                        "close of the mailbox retries it");
    return ret;
}
