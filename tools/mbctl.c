/* mbctl - mailbox administration.
 *
 * `mbctl [GLOBAL OPTIONS] COMMAND [OPTIONS] ARGS`; each command lives in
 * its own tools/mbctl-COMMAND.c and parses its own options with
 * mbctl_getopt(), which takes the global ones (-C, -v) there too: people
 * type `mbctl import -v ...` as often as `mbctl -v import ...`. */
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

/* What the global options set; commands see it through their ctx, which
 * points here, so that options after the command name count too. */
static struct mbctl_ctx global;

int mbctl_getopt(int argc, char **argv, const char *optstring,
                 const struct option *longopts)
{
    static const struct option globals[] = {
        { "config", required_argument, NULL, 'C' },
        { "verbose", no_argument, NULL, 'v' },
    };
    enum { NGLOBAL = sizeof globals / sizeof globals[0], MAXOPTS = 32 };
    struct option all[MAXOPTS + NGLOBAL + 1];
    char shorts[64];
    size_t n = 0;
    int c;

    /* A leading '+' (mbctl itself, mbctl lock) stops at the first
     * argument, which is a command with options of its own; without it
     * options may follow the arguments too (`mbctl import user.x DIR -v`). */
    if (*optstring == '+')
        snprintf(shorts, sizeof shorts, "+C:v%s", optstring + 1);
    else
        snprintf(shorts, sizeof shorts, "C:v%s", optstring);
    for (; longopts[n].name && n < MAXOPTS; n++)
        all[n] = longopts[n];
    for (size_t i = 0; i < NGLOBAL; i++)
        all[n++] = globals[i];
    memset(&all[n], 0, sizeof all[n]);
    while ((c = getopt_long(argc, argv, shorts, all, NULL)) == 'C' || c == 'v') {
        if (c == 'C')
            global.config = optarg;
        else
            global.verbose++;
    }
    /* Every command: -v shows what a blocked lock wait is waiting for
     * (set again once a command's options, which may hold -v, are read). */
    if (c == -1)
        cli_set_verbose(global.verbose);
    return c;
}

/* Parses only --help for commands without options; returns optind. */
int mbctl_simple_opts(int argc, char **argv, const char *usage, int min_args)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = mbctl_getopt(argc, argv, "h", opts)) != -1) {
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
    { "cat", mbctl_cat, "print a message as stored" },
    { "verify", mbctl_verify, "check CRCs and message files" },
    { "reconstruct", mbctl_reconstruct, "rebuild index and cache from the message files" },
    { "watch", mbctl_watch, "print each new message's UID as it arrives" },
    { "lock", mbctl_lock, "hold a namelock while a command runs" },
    { "expire", mbctl_expire, "clean up dead renames and old tombstones" },
    { "recover", mbctl_recover, "at boot: clean up dead renames, remove the lock tree" },
    { "where", mbctl_where, "print the back end that owns a user (cluster)" },
    { "register", mbctl_register, "publish this back end in the cluster registry" },
    { "export", mbctl_export, "write a whole user as one stream (backup, move)" },
    { "receive", mbctl_receive, "make a stream of export a user here (restore, move)" },
    { "move", mbctl_move, "move a user to another back end (cluster)" },
};

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: mbctl [-C CONFIG] [-v] COMMAND [ARGS]\n"
        "Administer xapiary mailboxes.\n\n"
        "Global options (before or after COMMAND):\n"
        "  -C, --config FILE   configuration file (" CLI_CONFIG_DEFAULT ")\n"
        "  -v, --verbose       more progress output (repeat for debug)\n"
        "  -h, --help          show this help\n"
        "      --version       show the version\n\n"
        "Commands (mbctl COMMAND --help for each):\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nExit status: 0 on success, else a sysexits(3) code "
               "(75 when a lock is busy,\n77 for a change to a read-only spool).\n\n"
               "See mbctl(8).\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, CLI_OPT_VERSION },
        { NULL, 0, NULL, 0 },
    };
    int c;

    /* Stops at the command name; the rest belongs to the command. */
    while ((c = mbctl_getopt(argc, argv, "+h", opts)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return EX_OK;
        case CLI_OPT_VERSION: cli_version(); return EX_OK;
        default: cli_bad_option(NULL, argv);
        }
    }
    if (optind >= argc)
        cli_usage_error("no command given");

    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(argv[optind], commands[i].name)) {
            int r;
            argc -= optind;
            argv += optind;
            optind = 0;   /* restart getopt for the command's own options */
            r = commands[i].run(&global, argc, argv);
            xap_done();
            return r;
        }
    }
    cli_usage_error("unknown command '%s'", argv[optind]);
}
