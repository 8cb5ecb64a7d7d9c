/* A program outside the tree that uses every public header: built by
 * tests/t0241-installed.sh against the installed library with nothing but
 * `cc abi_prog.c $(pkg-config --cflags --libs xapiary)`.  Usage: abi_prog
 * CONFIG; it prints one line per step for the test to check. */
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include <xapiary/xapiary.h>
#include <xapiary/namelock.h>
#include <xapiary/mboxlist.h>
#include <xapiary/mailbox.h>
#include <xapiary/xapianlock.h>
#include <xapiary/search.h>
#include <xapiary/registry.h>

static void hook(int level, const char *message, void *data)
{
    int *n = data;
    (*n)++;
    printf("log %d %s\n", level, message);
}

static int step(const char *what, int r)
{
    printf("%s: %s\n", what, xap_error_message(r));
    return r;
}

int main(int argc, char **argv)
{
    static const char msg[] = "From: bob@example.com\r\nSubject: abi\r\n\r\nhello\r\n";
    void *ctx;
    struct xap_mailbox *mb = NULL;
    struct xap_mboxlist_entry *e = NULL;
    struct xap_mboxlock *lock = NULL;
    struct xap_xapianlock *xl = NULL;
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res = NULL;
    char *err = NULL;
    uint32_t uid = 0;
    int logged = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: abi_prog CONFIG\n");
        return 2;
    }
    printf("version %s\n", xap_version());
    xap_set_log(hook, &logged);
    /* An error whose detail arrives through the hook. */
    step("init missing", xap_init("/nonexistent/xapiary.conf"));
    if (step("init", xap_init(argv[1])))
        return 1;
    ctx = talloc_new(NULL);

    /* mailbox.h, mboxlist.h */
    if (step("create", xap_mailbox_create("user.ext", NULL, NULL, 0, &mb)))
        return 1;
    if (step("append", xap_mailbox_append_message(mb, msg, strlen(msg), 0, XAP_FLAG_SEEN, &uid)) ||
        step("commit", xap_mailbox_commit(mb)))
        return 1;
    printf("uid %u exists %u\n", uid, xap_mailbox_exists(mb));
    xap_mailbox_close(&mb);
    if (step("lookup", xap_mboxlist_lookup(ctx, "user.ext", &e)))
        return 1;
    printf("entry %s %s type '%s'\n", e->name, e->partition, xap_mboxlist_type_name(e->type));
    talloc_free(e);

    /* namelock.h */
    if (step("lock", xap_mboxname_lock("user.ext", &lock, XAP_LOCK_SHARED)))
        return 1;
    printf("locked %s %d\n", xap_mboxlock_name(lock), xap_mboxname_islocked("user.ext"));
    xap_mboxname_release(&lock);

    /* xapianlock.h: no tier is built before squatter runs. */
    step("xapianlock", xap_xapianlock_begin_search(ctx, "ext", &xl));
    xap_xapianlock_end(&xl);

    /* search.h */
    if (step("xap_search_open", xap_search_open(ctx, "ext", &ss)))
        return 1;
    step("xap_search_run", xap_search_run(ss, "from:bob", NULL, &res, &err));
    if (res)
        printf("total %zu unindexed %zu\n", res->total, res->unindexed);
    step("xap_search_run bad", xap_search_run(ss, "from:(", NULL, &res, &err));
    printf("err %s\n", err ? err : "(none)");
    xap_search_close(&ss);

    /* registry.h: without a cluster every user is this server's. */
    {
        char *owner = NULL;
        if (!step("where", xap_registry_where(ctx, "ext", &owner)))
            printf("owner %s\n", owner);
    }

    step("open missing", xap_mailbox_open_irl("user.nobody", &mb));
    printf("hook lines %d\n", logged);

    talloc_free(ctx);
    xap_done();
    return 0;
}
