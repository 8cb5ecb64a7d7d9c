/* cli.c - helpers shared by the command-line tools. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xapiary/xapiary.h"
#include "common/xlog.h"
#include "tools/cli.h"

int cli_exit_code(int r)
{
    switch (r) {
    case 0:
        return EX_OK;
    case XAP_IMAP_MAILBOX_LOCKED:
    case XAP_IMAP_AGAIN:
    case XAP_IMAP_REGISTRY_DOWN:
        return EX_TEMPFAIL;
    case XAP_IMAP_CONFIG:
    case XAP_IMAP_PARTITION_UNKNOWN:
    case XAP_IMAP_SEARCH_TIER_UNKNOWN:
        return EX_CONFIG;
    case XAP_IMAP_INVALID_ARGUMENT:
    case XAP_IMAP_MAILBOX_BADNAME:
    case XAP_IMAP_SEARCH_SYNTAX:
        return EX_USAGE;
    case XAP_IMAP_MAILBOX_NONEXISTENT:
    case XAP_IMAP_NOTFOUND:
        return EX_NOINPUT;
    case XAP_IMAP_MAILBOX_EXISTS:
    case XAP_IMAP_MAILBOX_REMOTE:
        return EX_CANTCREAT;
    case XAP_IMAP_PERMISSION_DENIED:
        return EX_NOPERM;
    case XAP_IMAP_MAILBOX_CHECKSUM:
    case XAP_IMAP_MAILBOX_BADFORMAT:
    case XAP_IMAP_SEARCH_CORRUPT:
    case XAP_IMAP_MESSAGE_BADHEADER:
    case XAP_IMAP_MESSAGE_TOOLARGE:
        return EX_DATAERR;
    case XAP_IMAP_IOERROR:
        return EX_IOERR;
    case XAP_IMAP_MAILBOX_NOTSUPPORTED:
    case XAP_IMAP_SEARCH_NOTSUPPORTED:
        return EX_UNAVAILABLE;
    default:
        return EX_SOFTWARE;
    }
}

void cli_init(const char *config)
{
    int r = xap_init(config);
    if (r) {
        /* The configuration code has logged file:line and the cause. */
        fprintf(stderr, "%s: cannot start: %s\n",
                program_invocation_short_name, xap_error_message(r));
        exit(EX_CONFIG);
    }
}

int cli_error(const char *object, int r, const char *detail)
{
    fprintf(stderr, "%s: %s: %s%s%s\n", program_invocation_short_name,
            object, xap_error_message(r), detail ? ": " : "", detail ? detail : "");
    return cli_exit_code(r);
}

void cli_usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", program_invocation_short_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    /* Prefixed too: every line on stderr says which program wrote it. */
    fprintf(stderr, "\n%s: try '%s --help' for more information\n",
            program_invocation_short_name, program_invocation_short_name);
    exit(EX_USAGE);
}

/* getopt's own messages start with argv[0]: a path for a libtool-built
 * program, the command's name for an mbctl command.  The tools print their
 * own (cli_bad_option), prefixed like every other line. */
__attribute__((constructor)) static void quiet_getopt(void)
{
    opterr = 0;
}

void cli_bad_option(const char *command, char **argv)
{
    char shortopt[3] = { '-', (char)optopt, '\0' };
    const char *arg = optind > 0 ? argv[optind - 1] : NULL;
    const char *what = optopt && !(arg && !strncmp(arg, "--", 2)) ? shortopt
                       : arg ? arg : "?";

    if (command)
        cli_usage_error("%s: %s: unknown option or missing argument", command, what);
    cli_usage_error("%s: unknown option or missing argument", what);
}

void cli_version(void)
{
    printf("%s (%s) %s\n", program_invocation_short_name, PACKAGE_NAME, PACKAGE_VERSION);
}

void cli_set_verbose(int verbose)
{
    if (verbose >= 2)
        xlog_set_level(LOG_DEBUG);
    else if (verbose == 1)
        xlog_set_level(LOG_INFO);
}
