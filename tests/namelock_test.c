/* namelock_test - the namelock contract of seeds/000 and spec section 4,
 * row by row, with real separate processes (tests/lockhelper) holding
 * real flocks on real files. */
#include <config.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/namelock.h"
#include "tests/testutil.h"

/* How long a blocked request must stay unanswered before we call it
 * blocked.  Not a timing threshold on speed: a grant that should not
 * happen never happens, however long we wait. */
#define BLOCKED_MS 300
#define REPLY_MS 10000

static struct testenv *env;

static void setup(void)
{
    env = testenv_new(NULL);
}

static void teardown(void)
{
    xap_done();
    testenv_free(env);
    env = NULL;
}

#define ck_reply(h, cmd, want) ck_helper_reply((h), (cmd), (want), REPLY_MS)

START_TEST(shared_is_shared_between_processes)
{
    struct helper *a = helper_start(env), *b = helper_start(env);
    ck_reply(a, "lock user.alice shared", "ok");
    ck_reply(b, "lock user.alice shared", "ok");
    ck_reply(b, "lock user.alice.Sent exclusive", "ok");
    helper_stop(a, 0);
    helper_stop(b, 0);
}
END_TEST

/* A second process asking for TYPE2 while the first holds TYPE1 waits
 * until the first releases, and is then granted. */
static void check_blocks(const char *type1, const char *type2, int how)
{
    struct helper *a = helper_start(env), *b = helper_start(env);
    char cmd[128];

    snprintf(cmd, sizeof cmd, "lock user.bob %s", type1);
    ck_reply(a, cmd, "ok");
    snprintf(cmd, sizeof cmd, "lock user.bob %s", type2);
    helper_send_async(b, cmd);
    ck_assert_msg(helper_reply(b, BLOCKED_MS) == NULL,
                  "%s granted while %s held elsewhere", type2, type1);
    switch (how) {
    case 0: ck_reply(a, "release user.bob", "ok"); break;
    case 1: helper_stop(a, 0); a = NULL; break;           /* holder exits */
    case 2: helper_stop(a, SIGKILL); a = NULL; break;     /* holder killed */
    }
    ck_helper_replied(b, "ok", REPLY_MS, "waiter not woken");
    if (a)
        helper_stop(a, 0);
    helper_stop(b, 0);
}

START_TEST(exclusive_blocks_shared)
{
    check_blocks("exclusive", "shared", 0);
}
END_TEST

START_TEST(shared_blocks_exclusive)
{
    check_blocks("shared", "exclusive", 0);
}
END_TEST

START_TEST(exclusive_blocks_exclusive)
{
    check_blocks("exclusive", "exclusive", 0);
}
END_TEST

START_TEST(waiter_woken_when_holder_exits)
{
    check_blocks("exclusive", "exclusive", 1);
}
END_TEST

START_TEST(waiter_woken_when_holder_killed)
{
    check_blocks("exclusive", "shared", 2);
    check_blocks("shared", "exclusive", 2);
}
END_TEST

START_TEST(nonblocking_fails_at_once_when_held)
{
    struct helper *a = helper_start(env), *b = helper_start(env);

    ck_reply(a, "lock user.carol shared", "ok");
    ck_reply(b, "lock user.carol nonblocking", "err Mailbox is locked");
    ck_reply(a, "release user.carol", "ok");
    ck_reply(a, "lock user.carol exclusive", "ok");
    ck_reply(b, "lock user.carol nonblocking", "err Mailbox is locked");
    ck_reply(a, "release user.carol", "ok");
    ck_reply(b, "lock user.carol nonblocking", "ok");
    /* and a NONBLOCKING lock excludes others like an exclusive one */
    ck_reply(a, "lock user.carol nonblocking", "err Mailbox is locked");
    helper_send_async(a, "lock user.carol shared");
    ck_assert_ptr_null(helper_reply(a, BLOCKED_MS));
    ck_reply(b, "release user.carol", "ok");
    ck_assert_str_eq(helper_reply(a, REPLY_MS), "ok");
    helper_stop(a, 0);
    helper_stop(b, 0);
}
END_TEST

START_TEST(same_type_in_one_process_is_refcounted)
{
    struct helper *a = helper_start(env), *b = helper_start(env);

    ck_reply(a, "lock user.dave shared", "ok");
    ck_reply(a, "lock user.dave shared", "ok");
    ck_reply(a, "held user.dave", "1");
    ck_reply(a, "release user.dave", "ok");
    /* one reference left: still held */
    ck_reply(a, "held user.dave", "1");
    ck_reply(b, "lock user.dave nonblocking", "err Mailbox is locked");
    ck_reply(a, "release user.dave", "ok");
    ck_reply(a, "held user.dave", "0");
    ck_reply(b, "lock user.dave nonblocking", "ok");
    /* NONBLOCKING is exclusive for the same-type test: refcounted with
     * EXCLUSIVE */
    ck_reply(b, "lock user.dave exclusive", "ok");
    ck_reply(b, "held user.dave", "2");
    ck_reply(b, "release user.dave", "ok");
    ck_reply(b, "release user.dave", "ok");
    ck_reply(b, "held user.dave", "0");
    helper_stop(a, 0);
    helper_stop(b, 0);
}
END_TEST

START_TEST(other_type_in_one_process_is_locked)
{
    struct xap_mboxlock *s = NULL, *x = NULL;

    ck_assert_int_eq(xap_init(env->config), 0);
    ck_assert_int_eq(xap_mboxname_lock("user.erin", &s, XAP_LOCK_SHARED), 0);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(xap_mboxname_lock("user.erin", &x, XAP_LOCK_EXCLUSIVE),
                     XAP_IMAP_MAILBOX_LOCKED);
    ck_assert_ptr_null(x);
    ck_assert_int_eq(xap_mboxname_lock("user.erin", &x, XAP_LOCK_NONBLOCKING),
                     XAP_IMAP_MAILBOX_LOCKED);
    ck_assert_ptr_null(x);
    ck_assert_str_eq(xap_mboxlock_name(s), "user.erin");
    xap_mboxname_release(&s);
    ck_assert_ptr_null(s);
    /* releasing NULL is a no-op */
    xap_mboxname_release(&s);
    ck_assert_int_eq(xap_mboxname_lock("user.erin", &x, XAP_LOCK_EXCLUSIVE), 0);
    ck_assert_int_eq(xap_mboxname_lock("user.erin", &s, XAP_LOCK_SHARED),
                     XAP_IMAP_MAILBOX_LOCKED);
    ck_assert_ptr_null(s);
    xap_mboxname_release(&x);
    ck_assert_ptr_null(x);
}
END_TEST

START_TEST(bad_names_are_rejected_and_touch_nothing)
{
    static const char *const bad[] = {
        "", "user..x", ".user", "user.", "user/x", "user.a/../b", "..",
        "user.\x01", "$XAPIAN$", "$XAPIAN$a.b", "$other", "user.-rf",
        "user.a%", "user.\xff\xfe",
    };
    struct xap_mboxlock *l = NULL;
    char *lockdir = talloc_asprintf(NULL, "%s/lock", env->confdir);
    char longname[600];
    struct stat st;

    ck_assert_int_eq(xap_init(env->config), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(xap_mboxname_lock(bad[i], &l, XAP_LOCK_SHARED) == XAP_IMAP_MAILBOX_BADNAME,
                      "name %zu accepted", i);
        ck_assert_ptr_null(l);
    }
    memset(longname, 'a', sizeof longname - 1);
    memcpy(longname, "user.", 5);
    longname[491] = '\0';
    ck_assert_int_eq(xap_mboxname_lock(longname, &l, XAP_LOCK_SHARED), XAP_IMAP_MAILBOX_BADNAME);
    ck_assert_int_eq(stat(lockdir, &st), -1);   /* nothing created */
    longname[490] = '\0';
    ck_assert_int_eq(xap_mboxname_lock(longname, &l, XAP_LOCK_SHARED), 0);
    xap_mboxname_release(&l);
    ck_assert_int_eq(xap_mboxname_lock("bogus", &l, 99), XAP_IMAP_INVALID_ARGUMENT);
    talloc_free(lockdir);
}
END_TEST

/* Every regular file under DIR, recursively. */
static int count_files(const char *dir, off_t *bytes, int *badmode)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d))) {
        char path[4096];
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        ck_assert_int_eq(lstat(path, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            if ((st.st_mode & 0777) != 0700)
                (*badmode)++;
            n += count_files(path, bytes, badmode);
        } else {
            *bytes += st.st_size;
            if ((st.st_mode & 0777) != 0600)
                (*badmode)++;
            n++;
        }
    }
    closedir(d);
    return n;
}

START_TEST(lock_files_are_zero_bytes_in_a_hashed_tree_and_stay)
{
    struct xap_mboxlock *a = NULL, *b = NULL, *x = NULL;
    char *lockdir = talloc_asprintf(NULL, "%s/lock", env->confdir);
    char xname[64];
    off_t bytes = 0;
    int badmode = 0;

    ck_assert_int_eq(xap_init(env->config), 0);
    ck_assert_int_eq(xap_mboxname_lock("user.frank", &a, XAP_LOCK_SHARED), 0);
    ck_assert_int_eq(xap_mboxname_lock("shared.lists", &b, XAP_LOCK_EXCLUSIVE), 0);
    ck_assert_int_eq(xap_mboxname_xapian_lockname("frank", xname, sizeof xname), 0);
    ck_assert_str_eq(xname, "$XAPIAN$frank");
    ck_assert_int_eq(xap_mboxname_lock(xname, &x, XAP_LOCK_SHARED), 0);
    ck_assert_int_eq(count_files(lockdir, &bytes, &badmode), 3);
    ck_assert_int_eq(bytes, 0);
    ck_assert_int_eq(badmode, 0);
    xap_mboxname_release(&x);
    xap_mboxname_release(&b);
    xap_mboxname_release(&a);
    /* never removed while the server runs */
    ck_assert_int_eq(count_files(lockdir, &bytes, &badmode), 3);
    ck_assert_int_eq(xap_mboxname_xapian_lockname("a.b", xname, sizeof xname),
                     XAP_IMAP_MAILBOX_BADNAME);
    ck_assert_int_eq(xap_mboxname_xapian_lockname("frank", xname, 5),
                     XAP_IMAP_MAILBOX_BADNAME);
    talloc_free(lockdir);
}
END_TEST

START_TEST(timeout_returns_locked)
{
    struct testenv *tenv = testenv_new("namelock_timeout: 1\n");
    struct helper *a = helper_start(tenv), *b = helper_start(tenv);
    struct timespec t0, t1;

    ck_reply(a, "lock user.gina exclusive", "ok");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_reply(b, "lock user.gina shared", "err Mailbox is locked");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* It waited (not an immediate failure) - at least most of a second. */
    ck_assert_int_ge((t1.tv_sec - t0.tv_sec) * 1000 +
                     (t1.tv_nsec - t0.tv_nsec) / 1000000, 900);
    /* and a wait that ends in time still succeeds */
    helper_send_async(b, "lock user.gina exclusive");
    ck_assert_int_eq(usleep(200000), 0);
    ck_reply(a, "release user.gina", "ok");
    ck_assert_str_eq(helper_reply(b, REPLY_MS), "ok");
    helper_stop(a, 0);
    helper_stop(b, 0);
    testenv_free(tenv);
}
END_TEST

START_TEST(forked_child_does_not_release_parent_lock)
{
    struct helper *a = helper_start(env), *b = helper_start(env);

    ck_reply(a, "lock user.hal exclusive", "ok");
    ck_reply(a, "fork-release user.hal", "ok");
    ck_reply(b, "lock user.hal nonblocking", "err Mailbox is locked");
    helper_stop(a, 0);
    helper_stop(b, 0);
}
END_TEST

START_TEST(locks_are_server_wide_not_per_partition)
{
    /* Two configurations with different partitions but one
     * configdirectory share the lock tree. */
    struct testenv *other = testenv_new(NULL);
    char *text = talloc_asprintf(other,
        "configdirectory: %s\npartition-other: %s/spool2\n",
        env->confdir, other->dir);
    char *conf2 = testenv_write(other, "other.conf", text);
    struct helper *a = helper_start(env), *b;

    other->config = conf2;
    b = helper_start(other);

    ck_reply(a, "lock user.ivy exclusive", "ok");
    ck_reply(b, "lock user.ivy nonblocking", "err Mailbox is locked");
    helper_stop(a, 0);
    helper_stop(b, 0);
    testenv_free(other);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("namelock");
    TCase *tc = tcase_create("contract");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, shared_is_shared_between_processes);
    tcase_add_test(tc, exclusive_blocks_shared);
    tcase_add_test(tc, shared_blocks_exclusive);
    tcase_add_test(tc, exclusive_blocks_exclusive);
    tcase_add_test(tc, waiter_woken_when_holder_exits);
    tcase_add_test(tc, waiter_woken_when_holder_killed);
    tcase_add_test(tc, nonblocking_fails_at_once_when_held);
    tcase_add_test(tc, same_type_in_one_process_is_refcounted);
    tcase_add_test(tc, other_type_in_one_process_is_locked);
    tcase_add_test(tc, bad_names_are_rejected_and_touch_nothing);
    tcase_add_test(tc, lock_files_are_zero_bytes_in_a_hashed_tree_and_stay);
    tcase_add_test(tc, timeout_returns_locked);
    tcase_add_test(tc, forked_child_does_not_release_parent_lock);
    tcase_add_test(tc, locks_are_server_wide_not_per_partition);
    suite_add_tcase(s, tc);
    return s;
}
