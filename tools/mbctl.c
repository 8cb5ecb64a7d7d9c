/* mbctl - mailbox administration.
 *
 * `mbctl [GLOBAL OPTIONS] COMMAND [OPTIONS] ARGS`; each command lives in
 * its own tools/mbctl-COMMAND.c and parses its own options. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xapiary/xapiary.h"
#include "tools/cli.h"
#include "tools/mbctl.h"

void mbctl_help(const char *usage)
{
    printf("%s\nSee mbctl(8).\n", usage);
}

/* Parses only --help for commands without options; returns optind. */
int mbctl_simple_opts(int argc, char **argv, const char *usage, int min_args)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == 'h') {
            mbctl_help(usage);
            exit(EX_OK);
        }
        cli_bad_option(argv[0], argv);
    }
    if (argc - optind < min_args)
        cli_usage_error("%s: missing arguments (see --help)", argv[0]);
    return optind;
}

static const struct mbctl_command commands[] = {
    { "create", mbctl_create, "create a mailbox" },
    { "delete", mbctl_delete, "delete a mailbox (leaves a tombstone)" },
    { "rename", mbctl_rename, "rename a mailbox and everything below it, atomically" },
    { "list", mbctl_list, "list mailboxes matching a pattern" },
    { "status", mbctl_status, "show a mailbox's counters" },
    { "append", mbctl_append, "append messages from files or stdin" },
    { "import", mbctl_import, "import a Maildir, an mbox or a tree of them" },
    { "expunge", mbctl_expunge, "expunge messages by UID" },
    { "verify", mbctl_verify, "check CRCs and message files" },
    { "reconstruct", mbctl_reconstruct, "rebuild index and cache from the message files" },
    { "watch", mbctl_watch, "print each new message's UID as it arrives" },
    { "lock", mbctl_lock, "hold a namelock while a command runs" },
    { "expire", mbctl_expire, "clean up dead renames and old tombstones" },
    { "recover", mbctl_recover, "at boot: clean up dead renames, remove the lock tree" },
};

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: mbctl [-C CONFIG] [-v] COMMAND [ARGS]\n"
        "Administer xapiary mailboxes.\n\n"
        "Global options:\n"
        "  -C, --config FILE   configuration file (default $XAPIARY_CONFIG,\n"
        "                      else /etc/xapiary.conf)\n"
        "  -v, --verbose       more progress output (repeat for debug)\n"
        "  -h, --help          show this help\n\n"
        "Commands (mbctl COMMAND --help for each):\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nExit status: 0 on success, else a sysexits(3) code "
               "(75 when a lock is busy).\n\nSee mbctl(8).\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'C' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct mbctl_ctx ctx = { NULL, 0 };
    int c;

    /* '+': stop at the command name; the rest belongs to the command. */
    while ((c = getopt_long(argc, argv, "+C:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'C': ctx.config = optarg; break;
        case 'v': ctx.verbose++; break;
        case 'h': usage(stdout); return EX_OK;
        default: cli_bad_option(NULL, argv);
        }
    }
    if (optind >= argc)
        cli_usage_error("no command given");
    /* Every command: -v shows what a blocked lock wait is waiting for. */
    cli_set_verbose(ctx.verbose);

    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(argv[optind], commands[i].name)) {
            int r;
            argc -= optind;
            argv += optind;
            optind = 0;   /* restart getopt for the command's own options */
            r = commands[i].run(&ctx, argc, argv);
            xapiary_done();
            return r;
        }
    }
    cli_usage_error("unknown command '%s'", argv[optind]);
}
