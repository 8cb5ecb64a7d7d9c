/* mbctl append - storing one message per file, as a delivery does (each
 * committed on its own); the bulk way in is mbctl import
 * (mbctl-append.c). */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "common/config.h"
#include "common/util.h"
#include "common/xlog.h"
#include "tools/cli.h"
#include "tools/mbctl.h"

/* XAP_IMAP_MESSAGE_TOOLARGE, logged, when SRC ("-": standard input) is a
 * regular file over max_message_size: refused before it is read, so that
 * memory stays bounded.  A pipe is read first (talloc bounds that) and
 * refused by the append. */
static int too_large(const char *name, const char *src)
{
    struct stat st;
    unsigned max = config_max_message_size(NULL);
    int r = strcmp(src, "-") ? stat(src, &st) : fstat(STDIN_FILENO, &st);

    if (r < 0 || !S_ISREG(st.st_mode) || (uintmax_t)st.st_size <= max)
        return 0;
    xlog(LOG_ERR, "mailbox %s: %s: message of %jd bytes is larger than max_message_size "
         "(%u bytes)", name, src, (intmax_t)st.st_size, max);
    return XAP_IMAP_MESSAGE_TOOLARGE;
}

/* A FILE that is not there or not ours to read is a wrong argument
 * (66); one that fails while it is read is an I/O error (74), as import
 * reports its sources. */
static int input_exit(int err)
{
    return err == ENOENT || err == ENOTDIR || err == EACCES || err == EPERM ||
           err == EISDIR || err == ELOOP ? EX_NOINPUT : EX_IOERR;
}

int mbctl_append(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl append MAILBOX [FILE...]\n"
        "Append each FILE (or standard input) as one message; prints the\n"
        "UID of each once it is stored for good.  A leading mbox envelope\n"
        "line (\"From SENDER DATE\") is not stored; its date (read as UTC) becomes the internal date\n"
        "when the message has no Date: header that parses (else the\n"
        "internal date is the time of the append).  A message over\n"
        "max_message_size or max_header_fields is refused (exit 65).\n"
        "A FILE that does not exist or may not be read exits 66, one\n"
        "whose reading fails 74; the other FILEs are appended.\n";
    int first = mbctl_simple_opts(argc, argv, usage, 1), r, ret = EX_OK;
    const char *name = argv[first];

    cli_init(ctx->config);
    for (int i = first + 1; i < argc || i == first + 1; i++) {
        const char *src = i < argc ? argv[i] : "-";
        char *buf;
        size_t len, skip;
        int64_t envdate;
        uint32_t uid;
        if (!(r = too_large(name, src))) {
            if (read_file_follow(NULL, strcmp(src, "-") ? src : "/dev/stdin", &buf, &len) < 0) {
                int err = errno;
                fprintf(stderr, "mbctl: %s: %s\n", src, strerror(err));
                ret = input_exit(err);
                if (i >= argc)
                    break;
                continue;
            }
            /* The same delivery as lmtpd's: one commit per message. */
            skip = envelope_line(buf, len, &envdate);
            r = xap_mailbox_deliver(name, buf + skip, len - skip, 0, envdate, 0, &uid);
            talloc_free(buf);
        }
        if (r == XAP_IMAP_MESSAGE_BADHEADER || r == XAP_IMAP_MESSAGE_TOOLARGE) {
            char *what = talloc_asprintf(NULL, "%s: %s", name, src);
            ret = cli_error(what, r, NULL);
            talloc_free(what);
        } else if (r) {
            /* The mailbox, not this message: the rest would fail alike. */
            return cli_error(name, r, NULL);
        } else {
            printf("%u\n", uid);
            fflush(stdout);
        }
        if (i >= argc)
            break;
    }
    return ret;
}
