/* lockfile_test - the lock primitives of common/: the file lock
 * (common/lockfile.h) and the SQLite busy wait (common/sqldb.h), with
 * real separate processes (tests/lockhelper) on real files: a wait gives
 * up after its timeout, a signal does not end a wait, a file replaced
 * under a waiter is opened again, a lock taken out of order aborts, and
 * a GUID db write waits for namelock_timeout like every other lock. */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/lockorder.h"
#include "mailbox/guiddb.h"
#include "tests/testutil.h"

/* A request that must not be granted is observed as no reply within
 * BLOCKED_MS, never as "fast enough". */
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
}

#define ck_reply(h, cmd, want) ck_helper_reply((h), (cmd), (want), REPLY_MS)

#define ck_blocked(h, what) do { \
    const char *got_ = helper_reply((h), BLOCKED_MS); \
    ck_assert_msg(!got_, "%s: got '%s', want no reply", (what), got_); \
} while (0)

/* "flock PATH MODE TIMEOUT LEVEL" for the file NAME under the tree. */
static char *flock_cmd(void *ctx, const char *name, const char *mode,
                       unsigned timeout, enum lock_level level)
{
    return talloc_asprintf(ctx, "flock %s/%s %s %u %d", env->dir, name, mode,
                           timeout, (int)level);
}

static char *file_cmd(void *ctx, const char *cmd, const char *name)
{
    return talloc_asprintf(ctx, "%s %s/%s", cmd, env->dir, name);
}

static char *read_all(void *ctx, const char *path)
{
    char *buf = talloc_strdup(ctx, "");
    char chunk[1024];
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return buf;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf = talloc_strndup_append(buf, chunk, n);
    fclose(f);
    return buf;
}

/* A releases the file "f", B (waiting for it) gets it; then both exit
 * and TMP is freed. */
static void release_then_granted(struct helper *a, struct helper *b, void *tmp)
{
    ck_reply(a, file_cmd(tmp, "funlock", "f"), "ok");
    ck_assert_str_eq(helper_reply(b, REPLY_MS), "ok");
    helper_stop(a, 0);
    helper_stop(b, 0);
    talloc_free(tmp);
}

START_TEST(timeout_gives_up_and_try_fails_at_once)
{
    void *tmp = talloc_new(NULL);
    struct helper *a = helper_start(env), *b = helper_start(env);

    ck_reply(a, flock_cmd(tmp, "f", "exclusive", 0, LOCKLEVEL_XAPIANACTIVE), "ok");
    ck_reply(b, flock_cmd(tmp, "f", "try-shared", 0, LOCKLEVEL_XAPIANACTIVE),
             "err Mailbox is locked");
    /* A one-second timeout: the reply comes, and it is a failure. */
    ck_reply(b, flock_cmd(tmp, "f", "shared", 1, LOCKLEVEL_XAPIANACTIVE),
             "err Mailbox is locked");
    ck_reply(b, file_cmd(tmp, "funlock", "f"), "err not held");
    /* A wait that ends in time still gets the lock. */
    helper_send_async(b, flock_cmd(tmp, "f", "shared", 3600, LOCKLEVEL_XAPIANACTIVE));
    ck_blocked(b, "shared under exclusive");
    release_then_granted(a, b, tmp);
}
END_TEST

/* B waits (TIMEOUT 0: a plain flock; else the timed wait) while A holds
 * the file; signals to B must not end its wait. */
static void signals_do_not_end_a_wait(unsigned timeout)
{
    void *tmp = talloc_new(NULL);
    struct helper *a = helper_start(env), *b = helper_start(env);

    ck_reply(a, flock_cmd(tmp, "f", "exclusive", 0, LOCKLEVEL_MBOX_INDEX), "ok");
    helper_send_async(b, flock_cmd(tmp, "f", "exclusive", timeout,
                                   LOCKLEVEL_MBOX_INDEX));
    ck_blocked(b, "exclusive under exclusive");
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(kill(b->pid, SIGUSR1), 0);
        ck_blocked(b, "exclusive under exclusive, after SIGUSR1");
    }
    release_then_granted(a, b, tmp);
}

START_TEST(signal_does_not_end_a_wait_without_timeout)
{
    signals_do_not_end_a_wait(0);
}
END_TEST

START_TEST(signal_does_not_end_a_wait_with_timeout)
{
    signals_do_not_end_a_wait(3600);
}
END_TEST

START_TEST(file_replaced_under_a_waiter_is_opened_again)
{
    void *tmp = talloc_new(NULL);
    struct helper *a = helper_start(env), *b = helper_start(env),
                  *c = helper_start(env);
    char *path = talloc_asprintf(tmp, "%s/f", env->dir);
    char *next = talloc_asprintf(tmp, "%s/f.NEW", env->dir);
    char *want;
    struct stat st;
    FILE *f;

    ck_reply(a, flock_cmd(tmp, "f", "exclusive", 0, LOCKLEVEL_XAPIANACTIVE), "ok");
    helper_send_async(b, flock_cmd(tmp, "f", "shared", 0, LOCKLEVEL_XAPIANACTIVE));
    ck_blocked(b, "shared under exclusive");
    /* A replaces the file, as a writer of xapianactive does, and C locks
     * the new one. */
    ck_assert_ptr_nonnull(f = fopen(next, "w"));
    fclose(f);
    ck_assert_int_eq(rename(next, path), 0);
    ck_reply(c, flock_cmd(tmp, "f", "exclusive", 0, LOCKLEVEL_XAPIANACTIVE), "ok");
    /* B is granted the old file, sees it is no longer at the path and
     * waits on the new one, which C holds. */
    ck_reply(a, file_cmd(tmp, "funlock", "f"), "ok");
    ck_blocked(b, "shared on the old file, the new one held exclusive");
    ck_reply(c, file_cmd(tmp, "funlock", "f"), "ok");
    ck_assert_str_eq(helper_reply(b, REPLY_MS), "ok");
    ck_assert_int_eq(stat(path, &st), 0);
    want = talloc_asprintf(tmp, "%lu", (unsigned long)st.st_ino);
    ck_reply(b, file_cmd(tmp, "fino", "f"), want);
    helper_stop(a, 0);
    helper_stop(b, 0);
    helper_stop(c, 0);
    talloc_free(tmp);
}
END_TEST

START_TEST(order_violation_aborts_naming_both_locks)
{
    void *tmp = talloc_new(NULL);
    struct helper *b = helper_start(env);
    char *log = talloc_asprintf(tmp, "%s/helper.err", env->dir);
    char *err, *want;
    int status;

#ifndef XAPIARY_DEBUG
    ck_assert_msg(0, "lock-order checker is not built (configure --enable-debug)");
#endif
    ck_reply(b, talloc_asprintf(tmp, "stderr %s", log), "ok");
    ck_reply(b, flock_cmd(tmp, "high", "shared", 0, LOCKLEVEL_XAPIANACTIVE), "ok");
    /* A try cannot deadlock: not checked, and registered. */
    ck_reply(b, flock_cmd(tmp, "low1", "try-exclusive", 0, LOCKLEVEL_MBOX_INDEX), "ok");
    ck_reply(b, file_cmd(tmp, "funlock", "low1"), "ok");
    /* A blocking lock below a held one: the checker aborts. */
    ck_assert_ptr_null(helper_send(b, flock_cmd(tmp, "low2", "exclusive", 0,
                                                LOCKLEVEL_MBOX_INDEX), REPLY_MS));
    status = helper_stop(b, 0);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
                  "status %#x, want SIGABRT", (unsigned)status);
    err = read_all(tmp, log);
    want = talloc_asprintf(tmp, "lock order violation: taking mailbox index lock "
                           "'%s/low2' while holding xapianactive lock '%s/high'",
                           env->dir, env->dir);
    ck_assert_msg(strstr(err, want), "stderr: %s", err);
    talloc_free(tmp);
}
END_TEST

START_TEST(guiddb_write_waits_for_namelock_timeout)
{
    void *tmp = talloc_new(NULL);
    struct testenv *tenv = testenv_new("namelock_timeout: 1\n");
    struct helper *a = helper_start(tenv), *b = helper_start(tenv);
    char *log = talloc_asprintf(tmp, "%s/helper.err", tenv->dir);
    char *err, *path;

    ck_reply(b, talloc_asprintf(tmp, "stderr %s", log), "ok");
    ck_reply(a, "gdb-begin g", "ok");
    /* Not the GUID db's own 10-minute wait: the one policy. */
    ck_reply(b, "gdb-begin g", "err Mailbox is locked");
    err = read_all(tmp, log);
    ck_assert_int_eq(xap_init(tenv->config), 0);
    path = guiddb_file(tmp, "g");
    ck_assert_msg(strstr(err, path) && strstr(err, "still locked by another process "
                                              "after namelock_timeout"),
                  "stderr: %s", err);
    ck_reply(a, "gdb-end", "ok");
    ck_reply(b, "gdb-begin g", "ok");
    ck_reply(b, "gdb-end", "ok");
    helper_stop(a, 0);
    helper_stop(b, 0);
    xap_done();
    testenv_free(tenv);
    talloc_free(tmp);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("lockfile");
    TCase *tc = tcase_create("primitives");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, timeout_gives_up_and_try_fails_at_once);
    tcase_add_test(tc, signal_does_not_end_a_wait_without_timeout);
    tcase_add_test(tc, signal_does_not_end_a_wait_with_timeout);
    tcase_add_test(tc, file_replaced_under_a_waiter_is_opened_again);
    tcase_add_test(tc, order_violation_aborts_naming_both_locks);
    tcase_add_test(tc, guiddb_write_waits_for_namelock_timeout);
    suite_add_tcase(s, tc);
    return s;
}
