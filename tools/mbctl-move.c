/* mbctl export | receive | move - a whole user as one stream, and the
 * move of a user to another back end of a cluster (docs/SCALING.md "Move
 * a user"; the stream is docs/FORMAT.md "User export stream").  Export
 * and receive are also the backup and restore of one user on one machine
 * (docs/OPERATIONS.md). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/atomicfile.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/util.h"
#include "mailbox/usermove.h"
#include "tools/backend.h"
#include "tools/cli.h"
#include "tools/mbctl.h"

/* USER as given: a userid, or user.ID. */
static const char *userid_of(const char *arg)
{
    return strncmp(arg, "user.", 5) ? arg : arg + 5;
}

int mbctl_export(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl export [-o FILE] USER\n"
        "Write the whole of USER (a userid, or user.ID) as one stream: every\n"
        "mailbox's files and records, the GUID db, xapianactive and the search\n"
        "tiers.  It is taken under the locks a user rename takes, so it is one\n"
        "consistent state; the user's mail waits meanwhile.  The stream goes to\n"
        "standard output, or to FILE (written whole, then renamed into place).\n"
        "`mbctl receive` reads it: a backup of one user, or the first half of\n"
        "a move (mbctl move).\n\n"
        "  -o, --output FILE   write FILE instead of standard output\n";
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *output = NULL, *userid;
    struct usermove_stats st;
    struct usermove *um = NULL;
    char *tmp = NULL;
    int c, fd = 1, r;

    while ((c = mbctl_getopt(argc, argv, "o:h", opts)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'h': mbctl_help(usage); return EX_OK;
        default: cli_bad_option(argv[0], argv);
        }
    }
    if (argc - optind != 1)
        cli_usage_error("export: one USER (see --help)");
    userid = userid_of(argv[optind]);
    cli_init(ctx->config);
    signal(SIGPIPE, SIG_IGN);
    if (output) {
        tmp = talloc_asprintf(NULL, "%s.NEW", output);
        if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
            fprintf(stderr, "mbctl: %s: %s\n", tmp, strerror(errno));
            talloc_free(tmp);
            return EX_CANTCREAT;
        }
    }
    if (!(r = usermove_hold(NULL, userid, &um)))
        r = usermove_export(um, fd, &st);
    usermove_release(&um);
    if (output) {
        if (!r && (fsync(fd) < 0 || rename(tmp, output) < 0 || fsync_parent(output))) {
            fprintf(stderr, "mbctl: %s: %s\n", output, strerror(errno));
            r = XAP_IMAP_IOERROR;
        }
        close(fd);
        if (r)
            unlink(tmp);
        talloc_free(tmp);
    }
    if (r)
        return cli_error(argv[optind], r, "not exported");
    if (ctx->verbose)
        fprintf(stderr, "mbctl: export: user %s: %u mailboxes, %u files, %llu bytes\n",
                userid, st.rows, st.files, (unsigned long long)st.bytes);
    return EX_OK;
}

int mbctl_receive(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl receive [-i FILE] [--from SERVER --revision N]\n"
        "Read a stream of `mbctl export` and make it a user of this back end,\n"
        "every file and directory fsynced: the restore of a backup, or the\n"
        "second half of a move.  A user that has mailboxes or files here is\n"
        "never overwritten (exit 73: delete it first).  A damaged or truncated\n"
        "stream leaves nothing behind (exit 65).\n\n"
        "  -i, --input FILE    read FILE instead of standard input\n"
        "      --from SERVER   the sending back end (mbctl move sets it)\n"
        "      --revision N    switch the user's owner in the cluster registry\n"
        "                      to this back end once its copy is durable, if\n"
        "                      the key's mod_revision is still N (mbctl move)\n\n"
        "In a cluster, a restore (no --revision) is of a user whose registry\n"
        "key already names this back end.\n";
    enum { OPT_FROM = 0x100, OPT_REVISION };
    static const struct option opts[] = {
        { "input", required_argument, NULL, 'i' },
        { "from", required_argument, NULL, OPT_FROM },
        { "revision", required_argument, NULL, OPT_REVISION },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *input = NULL, *from = NULL;
    struct usermove_stats st;
    char *userid = NULL, *end;
    long long rev = 0;
    int c, fd = 0, r;

    while ((c = mbctl_getopt(argc, argv, "i:h", opts)) != -1) {
        switch (c) {
        case 'i': input = optarg; break;
        case OPT_FROM: from = optarg; break;
        case OPT_REVISION:
            errno = 0;
            rev = strtoll(optarg, &end, 10);
            if (errno || *end || rev <= 0)
                cli_usage_error("receive: --revision %s: not a revision", optarg);
            break;
        case 'h': mbctl_help(usage); return EX_OK;
        default: cli_bad_option(argv[0], argv);
        }
    }
    if (optind != argc)
        cli_usage_error("receive: takes no arguments (see --help)");
    cli_init(ctx->config);
    if (input && (fd = open(input, O_RDONLY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "mbctl: %s: %s\n", input, strerror(errno));
        return EX_NOINPUT;
    }
    r = usermove_receive(NULL, fd, from, rev, &userid, &st);
    if (input)
        close(fd);
    if (r) {
        int ret = cli_error(userid ? userid : input ? input : "standard input", r,
                            "not received");
        talloc_free(userid);
        return ret;
    }
    if (ctx->verbose)
        fprintf(stderr, "mbctl: receive: user %s: %u mailboxes, %u files, %llu bytes\n",
                userid, st.rows, st.files, (unsigned long long)st.bytes);
    talloc_free(userid);
    return EX_OK;
}

/* After the receiving side failed: the registry says which copy is the
 * user (usermove_resolve); returns the exit code to give. */
static int after_failure(const char *userid, const char *server, int ret)
{
    struct xap_mboxlist_entry **rows = NULL;
    size_t n = 0;
    int r = usermove_resolve(userid);

    if (r) {
        cli_error(userid, r, "the move did not finish; `mbctl recover` here and there "
                  "resolves it");
        return cli_exit_code(r) ? cli_exit_code(r) : ret;
    }
    if (!usermove_marked_rows(NULL, userid, &rows, &n) && !n) {
        char *inbox = talloc_asprintf(NULL, "user.%s", userid);
        struct xap_mboxlist_entry *e = NULL;
        int here = !xap_mboxlist_lookup(inbox, inbox, &e);
        talloc_free(inbox);
        talloc_free(rows);
        if (!here) {
            fprintf(stderr, "mbctl: %s: moved to %s, whose receive failed after the owner "
                    "switch: run `mbctl recover` there\n", userid, server);
            return EX_OK;
        }
    }
    fprintf(stderr, "mbctl: %s: not moved: the receive on %s failed (exit %d); the "
            "user is writable here again\n", userid, server, ret);
    return ret;
}

int mbctl_move(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl move USER SERVER\n"
        "Move USER (a userid, or user.ID) from this back end to the back end\n"
        "SERVER of the cluster: the user is exported, sent through\n"
        "backend_shell to SERVER's `mbctl receive`, made durable there, the\n"
        "cluster registry's owner is switched in one transaction (compare on\n"
        "the revision read at the start: a stale mover loses), and the copy\n"
        "here is removed.  Meanwhile the user is not writable: deliveries get\n"
        "451 4.2.0 and `mbctl append` exits 75; both succeed after, on the new\n"
        "owner.  A move that dies is resolved by `mbctl recover` on either\n"
        "side.  -v prints what was sent and the time the user was not\n"
        "writable.\n";
    const char *userid, *server;
    struct usermove *um = NULL;
    struct backend_child *child = NULL;
    struct usermove_stats st = { 0 };
    char revs[24], *args[5];
    int64_t rev = 0;
    double t0, t1;
    int fd = -1, r, ret;

    mbctl_simple_opts(argc, argv, usage, 2);
    if (argc - optind != 2)
        cli_usage_error("move: USER SERVER (see --help)");
    userid = userid_of(argv[optind]);
    server = argv[optind + 1];
    cli_init(ctx->config);
    if (!config_cluster_etcd(NULL))
        return cli_error(argv[optind], XAP_IMAP_CONFIG, "a move needs cluster_registry: etcd");
    if (!strcmp(server, config_servername(NULL)))
        cli_usage_error("move: %s is this back end", server);
    /* A receiver that goes away is an error of the write, not our death
     * with the user marked. */
    signal(SIGPIPE, SIG_IGN);
    t0 = now_seconds();
    if ((r = usermove_hold(NULL, userid, &um)) || (r = usermove_mark(um, server, &rev))) {
        usermove_release(&um);
        return cli_error(argv[optind], r, "not moved");
    }
    snprintf(revs, sizeof revs, "%lld", (long long)rev);
    args[0] = "receive";
    args[1] = "--from";
    args[2] = (char *)config_servername(NULL);
    args[3] = "--revision";
    args[4] = revs;
    ret = backend_start(NULL, server, "mbctl", args, 5, &fd, &child);
    if (ret) {
        usermove_release(&um);
        return after_failure(userid, server, ret);
    }
    r = usermove_export(um, fd, &st);
    close(fd);
    usermove_release(&um);
    ret = backend_wait(&child);
    t1 = now_seconds();
    if (r && !ret)
        ret = cli_exit_code(r);
    if (ret)
        return after_failure(userid, server, ret);
    fault_point("move.3");
    if ((r = usermove_remove(userid, 1)))
        return cli_error(argv[optind], r, "moved, but the copy here is not removed yet "
                         "(`mbctl recover` removes it)");
    if (ctx->verbose)
        fprintf(stderr, "mbctl: move: user %s to %s: %u mailboxes, %u files, %.1f MB in "
                "%.2f s (%.1f MB/s); not writable for %.2f s\n", userid, server, st.rows,
                st.files, st.bytes / 1e6, now_seconds() - t0,
                st.bytes / 1e6 / (now_seconds() - t0), t1 - t0);
    return EX_OK;
}
