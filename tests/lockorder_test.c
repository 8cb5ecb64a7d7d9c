/* lockorder_test - the lock-order checker fires on a violation, naming
 * both locks, and stays quiet on every allowed pattern.  Violations run in
 * a child process, which must die by SIGABRT. */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xapiary/xapiary.h"
#include "xapiary/namelock.h"
#include "common/lockorder.h"
#include "tests/testutil.h"

static struct testenv *env;

static void setup(void)
{
    env = testenv_new(NULL);
}

static void teardown(void)
{
    xap_done();
    testenv_free(env);
}

/* Runs SCENARIO in a child with stderr captured into OUT. */
static int run(int (*scenario)(void), char *out, size_t outsize)
{
    int p[2], status;
    size_t len = 0;
    ssize_t n;
    pid_t pid;

    ck_assert_int_eq(pipe(p), 0);
    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 2);
        if (xap_init(env->config))
            _exit(3);
        _exit(scenario());
    }
    close(p[1]);
    while (len + 1 < outsize && (n = read(p[0], out + len, outsize - len - 1)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(p[0]);
    waitpid(pid, &status, 0);
    return status;
}

static int xapian_then_mailbox(void)
{
    struct xap_mboxlock *x = NULL, *m = NULL;
    if (xap_mboxname_lock("$XAPIAN$alice", &x, XAP_LOCK_SHARED))
        return 4;
    xap_mboxname_lock("user.alice", &m, XAP_LOCK_SHARED);   /* must abort */
    return 0;
}

static int two_xapian_namelocks(void)
{
    struct xap_mboxlock *a = NULL, *b = NULL;
    if (xap_mboxname_lock("$XAPIAN$alice", &a, XAP_LOCK_SHARED))
        return 4;
    xap_mboxname_lock("$XAPIAN$bob", &b, XAP_LOCK_EXCLUSIVE);  /* must abort */
    return 0;
}

static int allowed_patterns(void)
{
    struct xap_mboxlock *m1 = NULL, *m2 = NULL, *x = NULL, *t = NULL, *again = NULL;

    /* mailbox namelocks may be many (a tree rename), then the xapian one */
    if (xap_mboxname_lock("user.alice", &m1, XAP_LOCK_EXCLUSIVE) ||
        xap_mboxname_lock("user.alice.Sent", &m2, XAP_LOCK_SHARED) ||
        xap_mboxname_lock("$XAPIAN$alice", &x, XAP_LOCK_SHARED))
        return 4;
    /* a refcounted re-lock takes no new kernel lock: no order question */
    if (xap_mboxname_lock("user.alice", &again, XAP_LOCK_EXCLUSIVE))
        return 5;
    xap_mboxname_release(&again);
    /* a non-blocking attempt cannot deadlock, so it is not checked */
    if (xap_mboxname_lock("user.zed", &t, XAP_LOCK_NONBLOCKING))
        return 6;
    if (lockorder_held() != 4)
        return 7;
    xap_mboxname_release(&t);
    xap_mboxname_release(&x);
    xap_mboxname_release(&m2);
    xap_mboxname_release(&m1);
    if (lockorder_held() != 0)
        return 8;
    /* released out of order is fine, and the order starts afresh */
    if (xap_mboxname_lock("$XAPIAN$alice", &x, XAP_LOCK_SHARED))
        return 9;
    xap_mboxname_release(&x);
    if (xap_mboxname_lock("user.alice", &m1, XAP_LOCK_SHARED))
        return 10;
    xap_mboxname_release(&m1);
    return 0;
}

static int direct_registry(void)
{
    lockorder_check(LOCKLEVEL_XAPIAN_NAMELOCK, "$XAPIAN$u", 0);
    lockorder_acquired(LOCKLEVEL_XAPIAN_NAMELOCK, "$XAPIAN$u");
    lockorder_check(LOCKLEVEL_XAPIANACTIVE, "xapianactive", 0);
    lockorder_acquired(LOCKLEVEL_XAPIANACTIVE, "xapianactive");
    lockorder_check(LOCKLEVEL_MBOX_INDEX, "user.u index", 0);  /* must abort */
    return 0;
}

START_TEST(violation_aborts_naming_both_locks)
{
    char out[4096];
    int status = run(xapian_then_mailbox, out, sizeof out);

#ifndef XAPIARY_DEBUG
    ck_assert_msg(0, "lock-order checker is not built (configure --enable-debug)");
#endif
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
                  "child status %d, stderr: %s", status, out);
    ck_assert_msg(strstr(out, "lock order violation") &&
                  strstr(out, "mailbox namelock 'user.alice'") &&
                  strstr(out, "xapian namelock '$XAPIAN$alice'"), "%s", out);
}
END_TEST

START_TEST(one_xapian_namelock_at_a_time)
{
    char out[4096];
    int status = run(two_xapian_namelocks, out, sizeof out);

    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "%s", out);
    ck_assert_msg(strstr(out, "'$XAPIAN$bob'") && strstr(out, "'$XAPIAN$alice'"), "%s", out);
}
END_TEST

START_TEST(registry_checks_every_level)
{
    char out[4096];
    int status = run(direct_registry, out, sizeof out);

    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "%s", out);
    ck_assert_msg(strstr(out, "mailbox index lock 'user.u index'") &&
                  strstr(out, "xapianactive lock 'xapianactive'"), "%s", out);
}
END_TEST

START_TEST(allowed_patterns_do_not_fire)
{
    char out[4096];
    int status = run(allowed_patterns, out, sizeof out);

    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "status %d, stderr: %s", status, out);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("lockorder");
    TCase *tc = tcase_create("checker");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, violation_aborts_naming_both_locks);
    tcase_add_test(tc, one_xapian_namelock_at_a_time);
    tcase_add_test(tc, registry_checks_every_level);
    tcase_add_test(tc, allowed_patterns_do_not_fire);
    suite_add_tcase(s, tc);
    return s;
}
