/* mbctl verify | reconstruct - finding and repairing damage. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/mboxlist.h"
#include "common/mboxname.h"
#include "mailbox/guiddb.h"
#include "tools/cli.h"
#include "tools/mbctl.h"

static void report(void *rock, const char *name, const char *problem)
{
    (void)rock;
    fprintf(stderr, "mbctl: %s: %s\n", name, problem);
}

struct names {
    char **v;
};

static int collect(const struct xap_mboxlist_entry *e, void *rock)
{
    struct names *n = rock;
    size_t len = talloc_array_length(n->v);

    if (e->type != XAP_MBTYPE_NORMAL)
        return 0;
    n->v = talloc_realloc(NULL, n->v, char *, len + 1);
    n->v[len] = talloc_strdup(n->v, e->name);
    return 0;
}

int mbctl_verify(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl verify [MAILBOX...]\n"
        "Check every CRC, every message file (present, size, SHA-1 GUID),\n"
        "the counts and stray files, of the named mailboxes or of all, and\n"
        "that the owner's GUID db describes each user's mailbox with mail,\n"
        "up to its latest commit (squatter -u USER catches up one behind).\n"
        "Each problem is one line on stderr; exit status 65 (EX_DATAERR)\n"
        "if any was found.\n";
    int first = mbctl_simple_opts(argc, argv, usage, 0), ret = EX_OK, total = 0;
    struct names names = { talloc_array(NULL, char *, 0) };

    cli_init(ctx->config);
    if (first < argc) {
        for (int i = first; i < argc; i++) {
            struct xap_mboxlist_entry *e = talloc_zero(NULL, struct xap_mboxlist_entry);
            e->name = argv[i];
            e->type = XAP_MBTYPE_NORMAL;
            collect(e, &names);
            talloc_free(e);
        }
    } else {
        int r = xap_mboxlist_foreach("", 0, collect, &names);
        if (r)
            return cli_error("mailboxes.db", r, NULL);
    }
    for (size_t i = 0; i < talloc_array_length(names.v); i++) {
        int problems = 0;
        int r = xap_mailbox_verify(names.v[i], report, NULL, &problems);
        /* a user's mailbox with mail must be in its owner's GUID db, or
         * searches miss its messages (logged, naming the repair) */
        if (!r && guiddb_verify_mailbox(names.v[i]))
            problems++;
        if (r) {
            ret = cli_error(names.v[i], r, "cannot be verified; try mbctl reconstruct");
            total++;
            continue;
        }
        total += problems;
        if (ctx->verbose)
            fprintf(stderr, "mbctl: %s: %d problem(s)\n", names.v[i], problems);
    }
    talloc_free(names.v);
    if (total && ret == EX_OK)
        ret = EX_DATAERR;
    return ret;
}

int mbctl_reconstruct(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl reconstruct MAILBOX...\n"
        "       mbctl reconstruct -u USER...\n"
        "Rebuild the index, cache and header files of each MAILBOX from its\n"
        "message files, keeping the flags of records that still check out,\n"
        "and the mailbox's part of its owner's GUID db.  With -u, every\n"
        "mailbox of each USER: that rebuilds a lost GUID db whole.\n";
    static const struct option opts[] = {
        { "user", no_argument, NULL, 'u' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct names names = { NULL };
    int ret = EX_OK, users = 0, c;

    while ((c = mbctl_getopt(argc, argv, "uh", opts)) != -1) {
        if (c == 'h') {
            mbctl_help(usage);
            exit(EX_OK);
        }
        if (c != 'u')
            cli_bad_option(argv[0], argv);
        users = 1;
    }
    if (optind >= argc)
        cli_usage_error(users ? "reconstruct: no user named" : "reconstruct: no mailbox named");
    names.v = talloc_array(NULL, char *, 0);   /* after the exits of --help and usage */
    cli_init(ctx->config);
    for (int i = optind; i < argc; i++) {
        size_t n = talloc_array_length(names.v);
        int r;
        if (!users) {
            names.v = talloc_realloc(NULL, names.v, char *, n + 1);
            names.v[n] = talloc_strdup(names.v, argv[i]);
            continue;
        }
        char *root = talloc_asprintf(NULL, "user.%s", argv[i]);
        if (mboxname_userid_validate(argv[i]))
            r = XAP_IMAP_MAILBOX_BADNAME;
        else if (!(r = xap_mboxlist_collect_tree(root, &names.v)) &&
                 talloc_array_length(names.v) == n)
            r = XAP_IMAP_MAILBOX_NONEXISTENT;
        if (r)
            ret = cli_error(root, r, NULL);
        talloc_free(root);
    }
    for (size_t i = 0; i < talloc_array_length(names.v); i++) {
        uint32_t n;
        int r = xap_mailbox_reconstruct(names.v[i], &n);
        if (r)
            ret = cli_error(names.v[i], r, NULL);
        else
            printf("%s: %u messages\n", names.v[i], n);
    }
    talloc_free(names.v);
    return ret;
}
