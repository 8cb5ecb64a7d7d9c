/* mbctl cat - print a message as it is stored.
 *
 * The file is opened under the mailbox's shared locks (so that it is the
 * live message of that UID) and copied after they are released: the
 * descriptor stays readable even if the message is expunged meanwhile,
 * and a slow reader of the output holds up no one. */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "tools/cli.h"
#include "tools/mbctl.h"

/* FD to standard output; -1 with errno set on a failed read (*WHICH_R
 * "read") or write ("write"). */
static int copy_out(int fd, const char **which_r)
{
    char buf[65536];
    ssize_t n;

    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *which_r = "read";
            return -1;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(STDOUT_FILENO, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                *which_r = "write";
                return -1;
            }
            done += w;
        }
    }
    return 0;
}

int mbctl_cat(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl cat MAILBOX UID\n"
        "Print the message UID of MAILBOX on standard output, byte for byte\n"
        "as stored.  An expunged or unknown UID is an error (exit 66).\n";
    int first = mbctl_simple_opts(argc, argv, usage, 2), fd = -1, r;
    const char *name = argv[first], *which = NULL;
    struct xap_mailbox *mb = NULL;
    unsigned long uid;
    char *end, *what;

    if (argc - first > 2)
        cli_usage_error("cat: one MAILBOX and one UID");
    errno = 0;
    uid = strtoul(argv[first + 1], &end, 10);
    if (*end || argv[first + 1][0] < '1' || argv[first + 1][0] > '9' || errno ||
        uid > UINT32_MAX)
        cli_usage_error("cat: '%s' is not a UID", argv[first + 1]);
    cli_init(ctx->config);
    if ((r = xap_mailbox_open_irl(name, &mb)))
        return cli_error(name, r, NULL);
    r = xap_mailbox_open_message(mb, (uint32_t)uid, &fd);
    xap_mailbox_close(&mb);
    what = talloc_asprintf(NULL, "%s UID %lu", name, uid);
    if (r) {
        int code = cli_error(what, r, r == XAP_IMAP_NOTFOUND ? "no such message" : NULL);
        talloc_free(what);
        return code;
    }
    r = copy_out(fd, &which);
    close(fd);
    if (r < 0) {
        /* A full disk or closed pipe on our side is not the message's
         * fault: EX_IOERR, not the code of a damaged mailbox. */
        fprintf(stderr, "mbctl: %s: %s: %s\n", what,
                which[0] == 'w' ? "writing standard output" : "reading the message file",
                strerror(errno));
        talloc_free(what);
        return EX_IOERR;
    }
    talloc_free(what);
    return EX_OK;
}
