/* snapshot_test - reading a mailbox's last commit without its index lock
 * (mailbox/snapshot.h) while another process is inside a commit, stopped
 * there by XAPIARY_PAUSE: the reader never waits, never sees what is not
 * committed, and answers XAP_IMAP_AGAIN when a commit rewrites records it
 * would read. */
#include <config.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "mailbox/snapshot.h"
#include "tests/testutil.h"

static struct testenv *env;

static const char msg[] =
    "From: carol@example.net\r\n"
    "Subject: snapshot\r\n"
    "\r\n"
    "Body.\r\n";

static void setup(void)
{
    env = testenv_new(NULL);
    ck_assert_int_eq(xap_init(env->config), 0);
}

static void teardown(void)
{
    xap_done();
    testenv_free(env);
}

static void make_mailbox(const char *name, int n)
{
    struct xap_mailbox *mb = NULL;
    uint32_t uid;

    ck_assert_int_eq(xap_mailbox_create(name, NULL, NULL, 0, &mb), 0);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(xap_mailbox_append_message(mb, msg, strlen(msg), 0, 0, &uid), 0);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_close(&mb);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Waits (at most 60 s: a hang detector, not a timing) until PATH exists. */
static void wait_for(const char *path)
{
    struct timespec tick = { 0, 10 * 1000 * 1000 };

    for (int i = 0; i < 6000 && !exists(path); i++)
        nanosleep(&tick, NULL);
    ck_assert_msg(exists(path), "%s never appeared", path);
}

enum change { APPEND, SET_SEEN_2 };

/* A child that waits for GO (if not NULL), opens NAME for writing, makes
 * CHANGE and commits with XAPIARY_PAUSE at mailbox.commit.3: records
 * written, the header that counts them not yet.  The caller waits for
 * PAUSE to appear, then removes it to let the commit end. */
static pid_t start_writer(const char *name, enum change change, const char *go,
                          const char *pause)
{
    pid_t pid;

    xap_done();
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct xap_mailbox *mb = NULL;
        struct xap_index_record rec;
        uint32_t uid;
        char *spec = talloc_asprintf(NULL, "mailbox.commit.3:%s", pause);
        if (go)
            wait_for(go);
        setenv("XAPIARY_PAUSE", spec, 1);
        if (xap_init(env->config) || xap_mailbox_open_iwl(name, &mb))
            _exit(3);
        if (change == APPEND) {
            if (xap_mailbox_append_message(mb, msg, strlen(msg), 0, 0, &uid))
                _exit(4);
        } else if (xap_mailbox_read_index_record(mb, 2, &rec) ||
                   (rec.system_flags |= XAP_FLAG_SEEN,
                    xap_mailbox_rewrite_index_record(mb, &rec))) {
            _exit(5);
        }
        _exit(xap_mailbox_commit(mb) ? 6 : 0);
    }
    ck_assert_int_eq(xap_init(env->config), 0);
    return pid;
}

static void finish_writer(pid_t pid, const char *pause)
{
    int status;

    unlink(pause);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer status %d", status);
}

static uint32_t count_records(struct xap_mailbox *mb, int *error)
{
    struct xap_mailbox_iter *it = xap_mailbox_iter_init(mb, 0, 0);
    uint32_t n = 0;

    while (xap_mailbox_iter_step(it))
        n++;
    *error = xap_mailbox_iter_error(it);
    xap_mailbox_iter_done(&it);
    return n;
}

START_TEST(reads_the_last_commit_while_a_writer_holds_the_lock)
{
    char *pause = talloc_asprintf(env, "%s/pause", env->dir);
    struct xap_mailbox *mb = NULL;
    uint32_t uid;
    int error;
    pid_t pid;

    make_mailbox("user.sn", 2);
    pid = start_writer("user.sn", APPEND, NULL, pause);
    wait_for(pause);
    /* The writer holds the EXCLUSIVE index lock, its record 3 written
     * past the committed end: the snapshot does not wait and sees 2. */
    ck_assert_int_eq(mailbox_open_snapshot("user.sn", &mb), 0);
    ck_assert_uint_eq(xap_mailbox_num_records(mb), 2);
    ck_assert_uint_eq(xap_mailbox_last_uid(mb), 2);
    ck_assert_uint_eq(count_records(mb, &error), 2);
    ck_assert_int_eq(error, 0);
    /* and it writes nothing */
    ck_assert_int_ne(xap_mailbox_append_message(mb, msg, strlen(msg), 0, 0, &uid), 0);
    xap_mailbox_close(&mb);
    finish_writer(pid, pause);
    ck_assert_int_eq(mailbox_open_snapshot("user.sn", &mb), 0);
    ck_assert_uint_eq(xap_mailbox_num_records(mb), 3);
    ck_assert_uint_eq(count_records(mb, &error), 3);
    ck_assert_int_eq(error, 0);
    xap_mailbox_close(&mb);
}
END_TEST

START_TEST(refuses_a_commit_rewriting_records)
{
    char *pause = talloc_asprintf(env, "%s/pause", env->dir);
    char *go = talloc_asprintf(env, "%s/go", env->dir);
    struct xap_mailbox *mb = NULL;
    struct xap_index_record rec;
    int error;
    pid_t pid;

    make_mailbox("user.sn", 3);
    /* Opened at the header the rewrite changes. */
    pid = start_writer("user.sn", SET_SEEN_2, go, pause);
    ck_assert_int_eq(mailbox_open_snapshot("user.sn", &mb), 0);
    close(open(go, O_WRONLY | O_CREAT, 0600));
    wait_for(pause);
    ck_assert_int_eq(xap_mailbox_read_index_record(mb, 1, &rec), 0);
    ck_assert_int_eq(xap_mailbox_read_index_record(mb, 2, &rec), XAP_IMAP_AGAIN);
    count_records(mb, &error);
    ck_assert_int_eq(error, XAP_IMAP_AGAIN);
    xap_mailbox_close(&mb);
    /* Opened while the commit is in flight (the header says DIRTY). */
    ck_assert_int_eq(mailbox_open_snapshot("user.sn", &mb), XAP_IMAP_AGAIN);
    ck_assert_ptr_null(mb);
    finish_writer(pid, pause);
    ck_assert_int_eq(mailbox_open_snapshot("user.sn", &mb), 0);
    ck_assert_int_eq(xap_mailbox_read_index_record(mb, 2, &rec), 0);
    ck_assert_uint_eq(rec.system_flags & XAP_FLAG_SEEN, XAP_FLAG_SEEN);
    xap_mailbox_close(&mb);
}
END_TEST

START_TEST(seeks_by_uid)
{
    struct xap_mailbox *mb = NULL;
    struct xap_mailbox_iter *it;
    const struct xap_index_record *rec;

    make_mailbox("user.sn", 5);
    ck_assert_int_eq(xap_mailbox_open_irl("user.sn", &mb), 0);
    for (uint32_t uid = 0; uid <= 7; uid++) {
        it = xap_mailbox_iter_init(mb, 0, 0);
        ck_assert_int_eq(mailbox_iter_seek_uid(it, uid), 0);
        rec = xap_mailbox_iter_step(it);
        if (uid <= 5)
            ck_assert_uint_eq(rec ? rec->uid : 0, uid ? uid : 1);
        else
            ck_assert_ptr_null(rec);
        xap_mailbox_iter_done(&it);
    }
    xap_mailbox_close(&mb);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("snapshot");
    TCase *tc = tcase_create("snapshot");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, reads_the_last_commit_while_a_writer_holds_the_lock);
    tcase_add_test(tc, refuses_a_commit_rewriting_records);
    tcase_add_test(tc, seeks_by_uid);
    suite_add_tcase(s, tc);
    return s;
}
