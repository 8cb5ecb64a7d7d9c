/* mbctl rename | expire | recover - moving a folder tree, and the sweeps
 * that clean up after renames that died (spec section 7). */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/registry.h"
#include "common/xlog.h"
#include "mailbox/usermove.h"
#include "tools/cli.h"
#include "tools/mbctl.h"

int mbctl_rename(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl rename OLD NEW\n"
        "Rename mailbox OLD and every mailbox below it to NEW, atomically:\n"
        "other processes see the whole old tree or the whole new one, and\n"
        "a crash is finished or undone by the next open, `mbctl expire` or\n"
        "`mbctl recover`.  user.A -> user.B renames a whole user, search\n"
        "index and GUID db included.  Mail keeps its UIDs and uidvalidity\n"
        "and is not reindexed.  Mailboxes never move between users or into\n"
        "or out of the user namespace: a user's folder stays that user's,\n"
        "an INBOX renames only to another user's INBOX, and `user` itself\n"
        "(the root of every user's tree) is neither OLD nor NEW.  With -v\n"
        "(global), prints where the time went.\n"
        "In a cluster (cluster_registry: etcd) a user rename claims the new\n"
        "name in the registry first: exit 73 when another back end has it,\n"
        "75 when etcd cannot be reached; shared mailboxes are not renamed.\n";
    int first = mbctl_simple_opts(argc, argv, usage, 2), r;
    struct xap_mailbox_rename_stats st;

    if (argc - first != 2)
        cli_usage_error("rename: give exactly OLD and NEW");
    cli_init(ctx->config);
    r = xap_mailbox_rename_tree(argv[first], argv[first + 1], &st);
    if (r == XAP_IMAP_MAILBOX_REMOTE) {
        /* A cluster: another back end has the new user (docs/SCALING.md). */
        char *owner = NULL, *why;
        xap_registry_where_mailbox(NULL, argv[first + 1], &owner);
        why = talloc_asprintf(NULL, "%s is on %s", argv[first + 1], owner ? owner : "?");
        r = cli_error(argv[first], r, why);
        talloc_free(why);
        talloc_free(owner);
        return r;
    }
    if (r) {
        const char *why = r == XAP_IMAP_MAILBOX_EXISTS ? "the new name is taken" :
                          r == XAP_IMAP_MAILBOX_NOTSUPPORTED ? "renaming across owners is not supported" :
                          r == XAP_IMAP_MAILBOX_BADNAME ? "bad name, or a move into its own subtree" :
                          r == XAP_IMAP_MAILBOX_LOCKED ? "another rename of these names is running" :
                          NULL;
        return cli_error(argv[first], r, why);
    }
    if (ctx->verbose)
        fprintf(stderr, "rename %s -> %s: %u mailboxes, %lu messages; mark %.3fs, "
                "copy %.3fs, switch %.3fs, remove %.3fs, tombstones %.3fs\n",
                argv[first], argv[first + 1], st.mailboxes, st.messages, st.mark_s,
                st.copy_s, st.switch_s, st.remove_s, st.tombstone_s);
    return EX_OK;
}

/* Cron mails whatever a job prints: on success expire and recover say
 * nothing unless -v, and then on stderr, like every other message. */
static void report(const struct mbctl_ctx *ctx, const char *what,
                   const struct xap_mailbox_expire_stats *st)
{
    if (ctx->verbose)
        fprintf(stderr, "mbctl: %s: %lu dead renames cleaned up, %lu interrupted user "
                "deletions finished, %lu busy left alone, %lu tombstones removed\n", what,
                st->renames, st->users, st->busy, st->tombstones);
}

/* Without -v only warnings and errors: finishing a dead rename is a
 * notice, part of a successful run. */
static void quiet_unless_verbose(const struct mbctl_ctx *ctx)
{
    if (!ctx->verbose)
        xlog_set_level(LOG_WARNING);
}

int mbctl_expire(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl expire [-D DAYS]\n"
        "Visit every mailboxes.db record: finish or undo renames whose\n"
        "process died, finish deleting users whose deletion was\n"
        "interrupted, and remove DELETED tombstones older than DAYS.\n\n"
        "  -D, --tombstones DAYS  tombstone age to remove (default 90;\n"
        "                         -1 keeps them all)\n";
    static const struct option opts[] = {
        { "tombstones", required_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct xap_mailbox_expire_stats st;
    long days = 90;
    char *end;
    int c, r;

    while ((c = mbctl_getopt(argc, argv, "D:h", opts)) != -1) {
        switch (c) {
        case 'D':
            days = strtol(optarg, &end, 10);
            if (*end || !*optarg || days < -1 || days > 100000)
                cli_usage_error("expire: -D '%s' is not a number of days", optarg);
            break;
        case 'h': mbctl_help(usage); return EX_OK;
        default: cli_bad_option("expire", argv);
        }
    }
    if (optind != argc)
        cli_usage_error("expire: takes no arguments");
    cli_init(ctx->config);
    quiet_unless_verbose(ctx);
    r = xap_mailbox_expire((int)days, &st);
    report(ctx, "expire", &st);
    return r ? cli_error("mailboxes.db", r, "expire did not finish") : EX_OK;
}

int mbctl_recover(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl recover\n"
        "Run at boot, before any other xapiary process: clean up renames\n"
        "and user deletions that died (as expire does, keeping\n"
        "tombstones), then remove the\n"
        "namelock tree (CONFIGDIRECTORY/lock/).  In a cluster, first resolve\n"
        "the RESERVED records of creates that died by reading the registry:\n"
        "finished when the create won, removed otherwise (exit 75, the\n"
        "records kept, when etcd cannot be reached).  Then resolve the moves\n"
        "of users that died, on either side, by the registry: the copy of\n"
        "the owner it names stays, the other is removed.\n";
    struct xap_mailbox_expire_stats st;
    unsigned reserved = 0, moved = 0;
    int r, rr, rm = 0;

    mbctl_simple_opts(argc, argv, usage, 0);
    if (optind != argc)
        cli_usage_error("recover: takes no arguments");
    cli_init(ctx->config);
    quiet_unless_verbose(ctx);
    /* Before xap_mailbox_recover(), which wants no namelock held and removes
     * the lock tree last. */
    rr = usermove_recover(&moved);
    if (ctx->verbose && moved)
        fprintf(stderr, "mbctl: recover: %u move(s) resolved\n", moved);
    if (rr)
        rm = rr;
    rr = xap_registry_recover(&reserved);
    if (ctx->verbose && reserved)
        fprintf(stderr, "mbctl: recover: %u reserved record(s) resolved\n", reserved);
    r = xap_mailbox_recover(&st);
    report(ctx, "recover", &st);
    if (!r && rr)
        return cli_error("mailboxes.db", rr, "reserved records left");
    if (!r && rm)
        return cli_error("mailboxes.db", rm, "moves left unresolved");
    return r ? cli_error("mailboxes.db", r, "recover did not finish") : EX_OK;
}
