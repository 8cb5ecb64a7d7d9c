/* mbctl where | register, and the placement of `mbctl create` - the
 * commands of the cluster registry (docs/SCALING.md).  Without
 * `cluster_registry: etcd` they answer for this one server. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/registry.h"
#include "common/config.h"
#include "common/mboxname.h"
#include "tools/backend.h"
#include "tools/cli.h"
#include "tools/mbctl.h"

/* Whether NAME is the root of a unit the registry places: a user's INBOX
 * (user.ID) or a shared mailbox. */
static int is_unit_root(const char *name)
{
    return strncmp(name, "user.", 5) || !strchr(name + 5, MBOXNAME_SEP);
}

int mbctl_create_placed(const char *name, const char *server, const char *partition,
                        int *handled_r)
{
    char *target = NULL;
    char *args[5];
    int n = 0, r, ret;

    *handled_r = 0;
    /* Here by choice: the create's own claim is the exclusive check and
     * names the owner when it loses. */
    if (!config_cluster_etcd(NULL) || !is_unit_root(name) || mboxname_validate(name) ||
        (server && !strcmp(server, config_servername(NULL))))
        return EX_OK;
    /* A unit that has an owner is not placed again: its owner's create
     * says it exists, another's names the owner (exit 73). */
    r = xap_registry_where_mailbox(NULL, name, &target);
    if (!r && strcmp(target, config_servername(NULL))) {
        ret = cli_error(name, XAP_IMAP_MAILBOX_REMOTE, target);
        *handled_r = 1;
        talloc_free(target);
        return ret;
    }
    TALLOC_FREE(target);
    if (r && r != XAP_IMAP_MAILBOX_NONEXISTENT)
        return cli_error(name, r, NULL);
    if (!r)
        return EX_OK;
    if (!server) {
        if ((r = xap_registry_place(NULL, &target)))
            return cli_error(name, r, "cannot place it");
        server = target;
    }
    if (!strcmp(server, config_servername(NULL))) {
        talloc_free(target);
        return EX_OK;
    }
    /* The other back end makes it under its own locks; -s stops it from
     * placing the name again. */
    *handled_r = 1;
    args[n++] = "create";
    args[n++] = "-s";
    args[n++] = (char *)server;
    if (partition) {
        args[n++] = "-p";
        args[n++] = (char *)partition;
    }
    args[n] = NULL;
    {
        char *all[7];
        for (int i = 0; i < n; i++)
            all[i] = args[i];
        all[n] = (char *)name;
        ret = backend_run(server, "mbctl", all, n + 1);
    }
    talloc_free(target);
    return ret;
}

int mbctl_where(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl where USER...\n"
        "Print the servername of the back end that owns each USER (a userid,\n"
        "as in user.USER), one per line.  Exit 69 when no back end has a USER,\n"
        "75 when the cluster registry cannot be reached.\n";
    int ret = EX_OK;

    mbctl_simple_opts(argc, argv, usage, 1);
    cli_init(ctx->config);
    for (int i = optind; i < argc; i++) {
        char *server = NULL;
        int r = xap_registry_where(NULL, argv[i], &server);
        if (r == XAP_IMAP_MAILBOX_NONEXISTENT) {
            fprintf(stderr, "mbctl: %s: no back end has this user\n", argv[i]);
            ret = EX_UNAVAILABLE;
        } else if (r) {
            ret = cli_error(argv[i], r, NULL);
        } else {
            printf("%s\n", server);
        }
        talloc_free(server);
    }
    return ret;
}

int mbctl_register(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl register\n"
        "Publish this back end in the cluster registry with its free space and\n"
        "user count, under a lease of 300 seconds: run it every minute (a\n"
        "timer) so that placement sees the back end.  Does nothing without\n"
        "cluster_registry: etcd.\n";
    int r;

    mbctl_simple_opts(argc, argv, usage, 0);
    if (optind != argc)
        cli_usage_error("register: takes no arguments");
    cli_init(ctx->config);
    r = xap_registry_register();
    return r ? cli_error(config_servername(NULL) ? config_servername(NULL) : "localhost",
                         r, "cannot register") : EX_OK;
}
