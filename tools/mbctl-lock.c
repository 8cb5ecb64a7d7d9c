/* mbctl lock - hold a namelock while a command runs, as flock(1) does for
 * a file: lets an operator's script keep squatter, a rename or a repack
 * away from a mailbox, and shows namelocks at work between processes. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xapiary/xapiary.h"
#include "xapiary/namelock.h"
#include "tools/cli.h"
#include "tools/mbctl.h"

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: mbctl lock [-s|-x|-n] NAME COMMAND [ARG...]\n"
        "Take the namelock on NAME, run COMMAND, release the lock.\n\n"
        "  -s, --shared        shared lock (default)\n"
        "  -x, --exclusive     exclusive lock; waits for other holders\n"
        "  -n, --nonblock      exclusive, but fail at once (exit 75) if busy\n"
        "  -h, --help          show this help\n\n"
        "NAME is a mailbox name (user.alice) or a user's search lock\n"
        "($XAPIAN$alice).  Exit status: COMMAND's, or 75 when the lock is\n"
        "busy (-n, or namelock_timeout expired), or another sysexits code.\n\n"
        "See mbctl(8).\n");
}

int mbctl_lock(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        { "shared", no_argument, NULL, 's' },
        { "exclusive", no_argument, NULL, 'x' },
        { "nonblock", no_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct xap_mboxlock *lock = NULL;
    int type = XAP_LOCK_SHARED, c, r, status;
    const char *name;
    pid_t pid;

    while ((c = mbctl_getopt(argc, argv, "+sxnh", opts)) != -1) {
        switch (c) {
        case 's': type = XAP_LOCK_SHARED; break;
        case 'x': type = XAP_LOCK_EXCLUSIVE; break;
        case 'n': type = XAP_LOCK_NONBLOCKING; break;
        case 'h': usage(stdout); return EX_OK;
        default: cli_bad_option("lock", argv);
        }
    }
    if (argc - optind < 2)
        cli_usage_error("lock: NAME and COMMAND are required");
    name = argv[optind];
    cli_init(ctx->config);
    cli_set_verbose(ctx->verbose);

    r = xap_mboxname_lock(name, &lock, type);
    if (r)
        return cli_error(name, r, type == XAP_LOCK_NONBLOCKING
                         ? "held by another process" : NULL);

    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        int saved = errno;
        xap_mboxname_release(&lock);
        return cli_error(name, XAP_IMAP_IOERROR, strerror(saved));
    }
    if (pid == 0) {
        execvp(argv[optind + 1], &argv[optind + 1]);
        fprintf(stderr, "mbctl: %s: %s\n", argv[optind + 1], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    xap_mboxname_release(&lock);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}
