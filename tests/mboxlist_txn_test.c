/* mboxlist_txn_test - mailboxes.db transactions seen from other
 * processes: all or nothing, writers killed mid-transaction, concurrent
 * exclusive creates, a writer waiting for a writer, and the transaction's
 * place in the lock order.  Real processes, real SQLite files. */
#include <config.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "common/lockorder.h"
#include "common/util.h"
#include "tests/mboxlist_fixture.h"

/* How long a waiter must stay unanswered before we call it blocked (not a
 * speed threshold: a wait that should not end never ends). */
#define BLOCKED_MS 300
#define REPLY_MS 20000

/* ------------------------------------------------------------ processes */

/* Forks a child running FN(ARG) and exiting with its value. */
static pid_t spawn(int (*fn)(void *), void *arg)
{
    pid_t pid;

    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(fn(arg));
    return pid;
}

static int reap(pid_t pid)
{
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

static int exit_code(pid_t pid)
{
    int status = reap(pid);
    ck_assert_msg(WIFEXITED(status), "child died: status %d", status);
    return WEXITSTATUS(status);
}

/* Whether a byte came on FD within MS. */
static int wait_byte(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char c;
    return poll(&p, 1, ms) == 1 && read(fd, &c, 1) == 1;
}

static void send_byte(int fd)
{
    ck_assert_int_eq(write(fd, "x", 1), 1);
}

/* An error code squeezed into an exit status. */
#define CODE(r) ((r) ? (r) - XAP_IMAP_INTERNAL + 1 : 0)

/* A child that answers "lookup NAME" requests: one byte in (the index
 * into names), the lookup's code() out.  Forked before the parent opens a
 * transaction, so it is a separate reader. */
struct reader {
    pid_t pid;
    int to, from;
};

static const char *const reader_names[] = { "user.t1", "user.t2", "user.t3" };

static int reader_main(void *arg)
{
    int *fds = arg;
    unsigned char i, c;

    close(fds[2]);   /* the parent's ends: EOF must mean the parent closed */
    close(fds[3]);
    while (read(fds[0], &i, 1) == 1) {
        c = (unsigned char)CODE(lookup_rc(reader_names[i]));
        if (write(fds[1], &c, 1) != 1)
            return 1;
    }
    return 0;
}

static struct reader reader_start(void)
{
    int in[2], out[2], fds[4];
    struct reader rd;

    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    fds[0] = in[0];
    fds[1] = out[1];
    fds[2] = in[1];
    fds[3] = out[0];
    rd.pid = spawn(reader_main, fds);
    close(in[0]);
    close(out[1]);
    rd.to = in[1];
    rd.from = out[0];
    return rd;
}

static int reader_lookup(struct reader *rd, unsigned char i)
{
    unsigned char c = 0xff;
    ck_assert_int_eq(write(rd->to, &i, 1), 1);
    ck_assert_int_eq(read(rd->from, &c, 1), 1);
    return c;
}

static void reader_stop(struct reader *rd)
{
    close(rd->to);
    close(rd->from);
    ck_assert_int_eq(exit_code(rd->pid), 0);
}
/* ------------------------------------------------------------ transactions */

START_TEST(transaction_all_or_nothing)
{
    struct reader rd = reader_start();
    struct xap_mboxlist_txn *txn = NULL;
    int held = lockorder_held();

    ck_assert_int_eq(xap_mboxlist_begin(&txn), 0);
    ck_assert_int_eq(lockorder_held(), held + 1);
    for (int i = 0; i < 3; i++)
        create_in(txn, reader_names[i]);
    for (unsigned char i = 0; i < 3; i++) {
        ck_assert_int_eq(lookup_rc(reader_names[i]), 0);
        ck_assert_int_eq(reader_lookup(&rd, i), CODE(XAP_IMAP_MAILBOX_NONEXISTENT));
    }
    xap_mboxlist_abort(&txn);
    ck_assert_ptr_null(txn);
    ck_assert_int_eq(lockorder_held(), held);
    for (unsigned char i = 0; i < 3; i++) {
        ck_assert_int_eq(lookup_rc(reader_names[i]), XAP_IMAP_MAILBOX_NONEXISTENT);
        ck_assert_int_eq(reader_lookup(&rd, i), CODE(XAP_IMAP_MAILBOX_NONEXISTENT));
    }

    ck_assert_int_eq(xap_mboxlist_begin(&txn), 0);
    for (int i = 0; i < 3; i++)
        create_in(txn, reader_names[i]);
    ck_assert_int_eq(xap_mboxlist_delete(txn, "user.t2"), 0);
    ck_assert_int_eq(reader_lookup(&rd, 0), CODE(XAP_IMAP_MAILBOX_NONEXISTENT));
    ck_assert_int_eq(xap_mboxlist_commit(&txn), 0);
    ck_assert_ptr_null(txn);
    ck_assert_int_eq(lockorder_held(), held);
    ck_assert_int_eq(reader_lookup(&rd, 0), 0);
    ck_assert_int_eq(reader_lookup(&rd, 1), CODE(XAP_IMAP_MAILBOX_NONEXISTENT));
    ck_assert_int_eq(reader_lookup(&rd, 2), 0);
    reader_stop(&rd);

    /* ending nothing is a no-op */
    ck_assert_int_eq(xap_mboxlist_commit(&txn), 0);
    xap_mboxlist_abort(&txn);
}
END_TEST

struct pipes {
    int ready[2];
    int go[2];
};

static int write_then_hang(void *arg)
{
    struct pipes *p = arg;
    struct xap_mboxlist_txn *txn = NULL;

    if (xap_mboxlist_begin(&txn))
        return 2;
    for (int i = 0; i < 3; i++) {
        struct xap_mboxlist_entry e = mk(reader_names[i], "killed", 9, XAP_MBTYPE_NORMAL);
        if (xap_mboxlist_create_exclusive(txn, &e))
            return 3;
    }
    send_byte(p->ready[1]);
    pause();
    return 4;
}

START_TEST(writer_killed_mid_transaction)
{
    struct pipes p;
    struct xap_mboxlist_txn *txn = NULL;
    sqlite3 *raw;
    pid_t pid;
    int status;

    create("user.before", "b", 1, XAP_MBTYPE_NORMAL);
    ck_assert_int_eq(pipe(p.ready), 0);
    pid = spawn(write_then_hang, &p);
    ck_assert_msg(wait_byte(p.ready[0], REPLY_MS), "writer did not get going");
    kill(pid, SIGKILL);
    status = reap(pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    ck_list("", XAP_MBOXLIST_ALL, "user.before");
    raw = raw_open();
    ck_assert_str_eq(raw_text(raw, "PRAGMA integrity_check"), "ok");
    sqlite3_close(raw);
    /* the dead writer's lock is gone */
    ck_assert_int_eq(xap_mboxlist_begin(&txn), 0);
    create_in(txn, "user.t1");
    ck_assert_int_eq(xap_mboxlist_commit(&txn), 0);
    ck_list("", 0, "user.before user.t1");
}
END_TEST

static int create_then_die(void *arg)
{
    (void)arg;
    create("user.durable", "d", 1, XAP_MBTYPE_NORMAL);
    raise(SIGKILL);
    return 1;
}

START_TEST(committed_create_survives_a_kill)
{
    int status = reap(spawn(create_then_die, NULL));

    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ck_assert_int_eq(lookup_rc("user.durable"), 0);
}
END_TEST

#define RACERS 8

struct racer {
    int gate[2];
    int i;
};

static int race_create(void *arg)
{
    struct racer *rc = arg;
    char uid[32], c;
    struct xap_mboxlist_entry e;

    /* all start when the parent closes the gate's write end */
    close(rc->gate[1]);
    if (read(rc->gate[0], &c, 1) != 0)
        return 100;
    snprintf(uid, sizeof uid, "racer-%d", rc->i);
    e = mk("user.race", uid, 1, XAP_MBTYPE_NORMAL);
    return CODE(xap_mboxlist_create_exclusive(NULL, &e));
}

START_TEST(concurrent_exclusive_creates)
{
    struct xap_mboxlist_entry *e = NULL;
    pid_t pids[RACERS];
    int gate[2], winners = 0, winner = -1;
    char uid[32];

    if (_i)   /* else the racers also race to create the file's schema */
        create("user.warm", "w", 1, XAP_MBTYPE_NORMAL);
    ck_assert_int_eq(pipe(gate), 0);
    for (int i = 0; i < RACERS; i++) {
        struct racer rc = { { gate[0], gate[1] }, i };
        pids[i] = spawn(race_create, &rc);
    }
    close(gate[1]);
    for (int i = 0; i < RACERS; i++) {
        int c = exit_code(pids[i]);
        if (c == 0) {
            winners++;
            winner = i;
        } else {
            ck_assert_msg(c == CODE(XAP_IMAP_MAILBOX_EXISTS), "racer %d: %d", i, c);
        }
    }
    ck_assert_int_eq(winners, 1);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.race", &e), 0);
    snprintf(uid, sizeof uid, "racer-%d", winner);
    ck_assert_str_eq(e->uniqueid, uid);
    talloc_free(e);
}
END_TEST

static int write_wait_commit(void *arg)
{
    struct pipes *p = arg;
    struct xap_mboxlist_txn *txn = NULL;
    struct xap_mboxlist_entry e = mk("user.w", "A", 1, XAP_MBTYPE_NORMAL);

    if (xap_mboxlist_begin(&txn) || xap_mboxlist_create_exclusive(txn, &e))
        return 2;
    send_byte(p->ready[1]);
    if (!wait_byte(p->go[0], REPLY_MS))
        return 3;
    return CODE(xap_mboxlist_commit(&txn));
}

static int create_w(void *arg)
{
    struct xap_mboxlist_entry e = mk("user.w", "B", 1, XAP_MBTYPE_NORMAL);
    (void)arg;
    return CODE(xap_mboxlist_create_exclusive(NULL, &e));
}

/* Within namelock_timeout (the default here) a second writer waits for the
 * first, and then sees its commit; readers never wait. */
START_TEST(writer_waits_for_writer)
{
    struct xap_mboxlist_entry *e = NULL;
    struct pipes p;
    pid_t a, b;
    int status;

    ck_assert_int_eq(pipe(p.ready), 0);
    ck_assert_int_eq(pipe(p.go), 0);
    a = spawn(write_wait_commit, &p);
    ck_assert(wait_byte(p.ready[0], REPLY_MS));
    b = spawn(create_w, NULL);
    ck_assert_int_eq(lookup_rc("user.w"), XAP_IMAP_MAILBOX_NONEXISTENT);
    usleep(BLOCKED_MS * 1000);
    ck_assert_msg(waitpid(b, &status, WNOHANG) == 0, "second writer did not wait");
    send_byte(p.go[1]);
    ck_assert_int_eq(exit_code(a), 0);
    ck_assert_int_eq(exit_code(b), CODE(XAP_IMAP_MAILBOX_EXISTS));
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.w", &e), 0);
    ck_assert_str_eq(e->uniqueid, "A");
    talloc_free(e);
}
END_TEST

START_TEST(writer_gives_up_after_namelock_timeout)
{
    struct xap_mboxlist_entry e = mk("user.w", "B", 1, XAP_MBTYPE_NORMAL);
    struct pipes p;
    pid_t a;

    xap_done();
    testenv_free(env);
    env = testenv_new("namelock_timeout: 1\n");
    ck_assert_int_eq(xap_init(env->config), 0);

    ck_assert_int_eq(pipe(p.ready), 0);
    ck_assert_int_eq(pipe(p.go), 0);
    a = spawn(write_wait_commit, &p);
    ck_assert(wait_byte(p.ready[0], REPLY_MS));
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), XAP_IMAP_MAILBOX_LOCKED);
    send_byte(p.go[1]);
    ck_assert_int_eq(exit_code(a), 0);
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), XAP_IMAP_MAILBOX_EXISTS);
}
END_TEST

static int use_after_fork(void *arg)
{
    struct xap_mboxlist_entry e = mk("user.child", "c", 1, XAP_MBTYPE_NORMAL);
    (void)arg;
    if (!freopen("/dev/null", "w", stderr))
        return 90;
    if (lookup_rc("user.t1") != XAP_IMAP_INTERNAL)
        return 91;
    return CODE(xap_mboxlist_create_exclusive(NULL, &e));
}

START_TEST(child_of_a_writer_keeps_off)
{
    struct xap_mboxlist_txn *txn = NULL;

    ck_assert_int_eq(xap_mboxlist_begin(&txn), 0);
    create_in(txn, "user.t1");
    ck_assert_int_eq(exit_code(spawn(use_after_fork, NULL)), CODE(XAP_IMAP_INTERNAL));
    ck_assert_int_eq(xap_mboxlist_commit(&txn), 0);
    ck_list("", XAP_MBOXLIST_ALL, "user.t1");
}
END_TEST

/* A record is read through a statement kept with the process's
 * connection (mboxlist.c, get_row): once the connection is closed and
 * another mailboxes.db opened, a look-up must read the new file, not
 * the statement of the old connection (which SQLite keeps working while
 * a statement of it is left). */
START_TEST(lookup_after_reopen_reads_the_new_file)
{
    struct xap_mboxlist_entry e = mk("user.r1", "A", 1, XAP_MBTYPE_NORMAL);
    struct xap_mboxlist_entry *got = NULL;

    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), 0);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.r1", &got), 0);
    ck_assert_str_eq(got->uniqueid, "A");
    TALLOC_FREE(got);

    xap_done();
    testenv_free(env);
    env = testenv_new(NULL);
    ck_assert_int_eq(xap_init(env->config), 0);
    ck_assert_int_eq(lookup_rc("user.r1"), XAP_IMAP_MAILBOX_NONEXISTENT);
    e = mk("user.r1", "B", 1, XAP_MBTYPE_NORMAL);
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), 0);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.r1", &got), 0);
    ck_assert_str_eq(got->uniqueid, "B");
    TALLOC_FREE(got);
}
END_TEST

/* A child forked between two look-ups of its parent reads records, and
 * writes one that the parent's next look-up sees. */
static int lookup_and_create(void *arg)
{
    struct xap_mboxlist_entry e = mk("user.f2", "C", 1, XAP_MBTYPE_NORMAL);
    struct xap_mboxlist_entry *got = NULL;
    (void)arg;
    if (xap_mboxlist_lookup(NULL, "user.f1", &got) || strcmp(got->uniqueid, "B"))
        return 91;
    talloc_free(got);
    return CODE(xap_mboxlist_create_exclusive(NULL, &e));
}

START_TEST(lookups_across_fork)
{
    struct xap_mboxlist_entry e = mk("user.f1", "B", 1, XAP_MBTYPE_NORMAL);
    struct xap_mboxlist_entry *got = NULL;

    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), 0);
    ck_assert_int_eq(lookup_rc("user.f2"), XAP_IMAP_MAILBOX_NONEXISTENT);
    ck_assert_int_eq(exit_code(spawn(lookup_and_create, NULL)), 0);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.f2", &got), 0);
    ck_assert_str_eq(got->uniqueid, "C");
    TALLOC_FREE(got);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.f1", &got), 0);
    ck_assert_str_eq(got->uniqueid, "B");
    TALLOC_FREE(got);
}
END_TEST

/* ------------------------------------------------------------ lock order */

static int begin_after_statuscache(void *arg)
{
    struct xap_mboxlist_txn *txn = NULL;
    (void)arg;
    lockorder_check(LOCKLEVEL_STATUSCACHE, "statuscache.db", 0);
    lockorder_acquired(LOCKLEVEL_STATUSCACHE, "statuscache.db");
    xap_mboxlist_begin(&txn);
    return 0;
}

static int own_write_inside_txn(void *arg)
{
    struct xap_mboxlist_txn *txn = NULL;
    (void)arg;
    if (xap_mboxlist_begin(&txn))
        return 2;
    return CODE(xap_mboxlist_remove(NULL, "user.x"));
}

/* Runs FN in a child with stderr into a file; returns its status and the
 * text in *ERR_R. */
static int run_capturing(int (*fn)(void *), char **err_r)
{
    char *path = talloc_asprintf(env, "%s/stderr", env->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), saved = dup(2), status;
    size_t len;

    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    dup2(fd, 2);
    status = reap(spawn(fn, NULL));
    dup2(saved, 2);
    close(saved);
    close(fd);
    *err_r = NULL;
    ck_assert_int_eq(read_whole(path, err_r, &len), 0);
    return status;
}

START_TEST(transaction_is_a_lock_in_the_order)
{
    char *err;
    int status;

#ifndef XAPIARY_DEBUG
    ck_assert_msg(0, "lock-order checker is not built (configure --enable-debug)");
#endif
    status = run_capturing(begin_after_statuscache, &err);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "%d: %s", status, err);
    ck_assert_msg(strstr(err, "mailboxes.db lock 'mailboxes.db'") &&
                  strstr(err, "statuscache lock 'statuscache.db'"), "%s", err);
    status = run_capturing(own_write_inside_txn, &err);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "%d: %s", status, err);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("mboxlist_txn");
    TCase *tc;

#define TC(name) do { tc = tcase_create(name); \
    tcase_add_checked_fixture(tc, setup, teardown); \
    tcase_set_timeout(tc, 60); \
    suite_add_tcase(s, tc); } while (0)

    TC("transactions");
    tcase_add_test(tc, transaction_all_or_nothing);
    tcase_add_test(tc, writer_killed_mid_transaction);
    tcase_add_test(tc, committed_create_survives_a_kill);
    tcase_add_loop_test(tc, concurrent_exclusive_creates, 0, 2);
    tcase_add_test(tc, writer_waits_for_writer);
    tcase_add_test(tc, writer_gives_up_after_namelock_timeout);
    tcase_add_test(tc, child_of_a_writer_keeps_off);
    tcase_add_test(tc, lookup_after_reopen_reads_the_new_file);
    tcase_add_test(tc, lookups_across_fork);
    tcase_add_test(tc, transaction_is_a_lock_in_the_order);

    return s;
}
