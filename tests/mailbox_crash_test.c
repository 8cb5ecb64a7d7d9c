/* mailbox_crash_test - kill the process at every fault point of the
 * mailbox layer (docs/FAULTS.md), recover as the next process would, and
 * check that nothing committed was lost, the mailbox verifies clean and no
 * debris is left. */
#include <config.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/mboxlist.h"
#include "mailbox/guiddb.h"
#include "tests/testutil.h"

static struct testenv *env;

static const char msg[] =
    "From: Crash Test <crash@example.com>\n"
    "Subject: crash\n"
    "Date: Wed, 02 Mar 2022 11:00:00 +0000\n"
    "\n"
    "still here?\n";

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

static void append_n(const char *name, int n)
{
    struct xap_mailbox *mb = NULL;
    int r = xap_mailbox_open_iwl(name, &mb);

    if (r == XAP_IMAP_MAILBOX_NONEXISTENT)
        r = xap_mailbox_create(name, NULL, NULL, 0, &mb);
    ck_assert_int_eq(r, 0);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(xap_mailbox_append_message(mb, msg, strlen(msg), 0, 0, NULL), 0);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_close(&mb);
}

/* The operations that cross the fault points, run in the child. */
enum op { OP_APPEND_AND_FLAG, OP_CREATE, OP_DELETE, OP_EXPUNGE_REPACK, OP_EXPUNGE_TWO,
          OP_OPEN_CLOSE };

static void child_op(enum op op)
{
    struct xap_mailbox *mb = NULL;
    struct xap_index_record rec;

    switch (op) {
    case OP_APPEND_AND_FLAG:
        if (xap_mailbox_open_iwl("user.crash", &mb))
            _exit(3);
        for (int i = 0; i < 2; i++)
            if (xap_mailbox_append_message(mb, msg, strlen(msg), 0, 0, NULL))
                _exit(4);
        if (xap_mailbox_read_index_record(mb, 1, &rec))
            _exit(5);
        rec.system_flags |= XAP_FLAG_SEEN | XAP_FLAG_FLAGGED;
        if (xap_mailbox_rewrite_index_record(mb, &rec) || xap_mailbox_commit(mb))
            _exit(6);
        xap_mailbox_close(&mb);
        break;
    case OP_CREATE:
        if (xap_mailbox_create("user.crash.New", NULL, NULL, 0, &mb))
            _exit(3);
        xap_mailbox_close(&mb);
        break;
    case OP_DELETE:
        if (xap_mailbox_open_iwl("user.crash", &mb) || xap_mailbox_delete(&mb))
            _exit(3);
        break;
    case OP_EXPUNGE_REPACK:
        if (xap_mailbox_open_iwl("user.crash", &mb) || xap_mailbox_expunge_uid(mb, 2) ||
            xap_mailbox_commit(mb))
            _exit(3);
        xap_mailbox_close(&mb);     /* repack happens here */
        break;
    case OP_EXPUNGE_TWO:
        if (xap_mailbox_open_iwl("user.crash", &mb) || xap_mailbox_expunge_uid(mb, 2) ||
            xap_mailbox_expunge_uid(mb, 3) || xap_mailbox_commit(mb))
            _exit(3);
        xap_mailbox_close(&mb);
        break;
    case OP_OPEN_CLOSE:
        if (xap_mailbox_open_irl("user.crash", &mb))
            _exit(3);
        xap_mailbox_close(&mb);     /* the last close's delayed work */
        break;
    }
    _exit(0);
}

/* Runs OP in a child with POINT armed; the child must die by SIGKILL. */
static void crash_at(const char *point, enum op op)
{
    int status;
    pid_t pid;

    xap_done();
    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setenv("XAPIARY_FAULT", point, 1);
        if (xap_init(env->config))
            _exit(2);
        child_op(op);
    }
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "%s: child was not killed at the point (status %d)", point, status);
    ck_assert_int_eq(xap_init(env->config), 0);
}

static void count_problem(void *rock, const char *name, const char *problem)
{
    (*(int *)rock)++;
    fprintf(stderr, "# %s: %s\n", name, problem);
}

/* Verifies NAME and checks that its directory holds nothing but the
 * header, the index, one cache file and one file per live message. */
static void check_clean(const char *name, unsigned want_exists)
{
    struct xap_mailbox *mb = NULL;
    int problems = 0, seen = 0;
    char *dir;
    DIR *d;
    struct dirent *de;

    ck_assert_int_eq(xap_mailbox_verify(name, count_problem, &problems, &problems), 0);
    ck_assert_int_eq(problems, 0);
    ck_assert_int_eq(xap_mailbox_open_irl(name, &mb), 0);
    ck_assert_uint_eq(xap_mailbox_exists(mb), want_exists);
    dir = xap_mailbox_message_path(env, mb, 1);
    *strrchr(dir, '/') = '\0';
    d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        struct stat st;
        char *path = talloc_asprintf(env, "%s/%s", dir, de->d_name);
        ck_assert_int_eq(stat(path, &st), 0);
        if (S_ISDIR(st.st_mode))
            continue;            /* a child mailbox */
        ck_assert_msg(strstr(de->d_name, ".NEW") == NULL, "debris %s", de->d_name);
        seen++;
    }
    closedir(d);
    /* header + index + one cache + messages */
    ck_assert_msg(seen == 3 + (int)want_exists, "%d files in %s, want %u", seen, dir,
                  3 + want_exists);
    xap_mailbox_close(&mb);
}

/* Killed after the header and before the GUID db (BEHIND): the GUID db is
 * behind NAME, which a reader reports and squatter's catch-up (SHARED
 * locks only) repairs, once.  Killed after the GUID db: it is in step. */
static void check_guiddb_caught_up(const char *name, int behind)
{
    struct xap_mailbox *mb = NULL;
    struct guiddb *db = NULL;
    uint64_t synced = 0;

    ck_assert_int_eq(xap_mailbox_open_irl(name, &mb), 0);
    ck_assert_int_eq(guiddb_open(NULL, "crash", 0, &db), 0);
    if (behind) {
        ck_assert_int_eq(guiddb_catch_up(db, "crash", mb, 0), XAP_IMAP_SEARCH_CORRUPT);
        ck_assert_int_eq(guiddb_catch_up(db, "crash", mb, 1), 0);
    }
    ck_assert_int_eq(guiddb_catch_up(db, "crash", mb, 0), 0);
    ck_assert_int_eq(guiddb_get_synced(db, xap_mailbox_uniqueid(mb), &synced), 0);
    ck_assert_uint_eq(synced, xap_mailbox_highestmodseq(mb));
    guiddb_close(&db);
    xap_mailbox_close(&mb);
}

static const char *const commit_points[] = {
    "mailbox.append.1", "mailbox.commit.0", "mailbox.commit.1", "mailbox.commit.2",
    "mailbox.commit.3", "mailbox.commit.4", "mailbox.commit.5", "mailbox.header.written",
};

START_TEST(crash_in_append_and_commit)
{
    const char *point = commit_points[_i];
    struct xap_mailbox *mb = NULL;
    struct xap_index_record rec;
    unsigned exists;

    append_n("user.crash", 3);
    if (!strcmp(point, "mailbox.header.written")) {
        /* The header file is rewritten by a rename copy; cover it there. */
        crash_at(point, OP_CREATE);
        append_n("user.crash.New", 1);
        check_clean("user.crash.New", 1);
        return;
    }
    crash_at(point, OP_APPEND_AND_FLAG);

    /* All or nothing: 3 before the header write of step 5, 5 after. */
    int after = !strcmp(point, "mailbox.commit.4") || !strcmp(point, "mailbox.commit.5");
    ck_assert_int_eq(xap_mailbox_open_iwl("user.crash", &mb), 0);
    exists = xap_mailbox_exists(mb);
    ck_assert_msg(exists == (after ? 5u : 3u), "%s: %u messages", point, exists);
    ck_assert_int_eq(xap_mailbox_read_index_record(mb, 1, &rec), 0);
    xap_mailbox_close(&mb);
    if (after)
        check_guiddb_caught_up("user.crash", !strcmp(point, "mailbox.commit.4"));
    /* the next writer goes on as if nothing happened */
    append_n("user.crash", 1);
    check_clean("user.crash", exists + 1);
}
END_TEST

static const char *const create_points[] = { "mailbox.create.1", "mailbox.create.2" };

START_TEST(crash_in_create)
{
    struct xap_mailbox *mb = NULL;
    int r;

    append_n("user.crash", 1);
    crash_at(create_points[_i], OP_CREATE);
    r = xap_mailbox_open_irl("user.crash.New", &mb);
    if (_i == 0) {
        /* files without a record: not a mailbox; creating it again works */
        ck_assert_int_eq(r, XAP_IMAP_MAILBOX_NONEXISTENT);
        append_n("user.crash.New", 1);
        check_clean("user.crash.New", 1);
    } else {
        ck_assert_int_eq(r, 0);
        xap_mailbox_close(&mb);
        check_clean("user.crash.New", 0);
    }
    check_clean("user.crash", 1);
}
END_TEST

static const char *const delete_points[] = { "mailbox.delete.1", "mailbox.delete.2" };

START_TEST(crash_in_delete)
{
    struct xap_mailbox *mb = NULL;
    struct xap_mboxlist_entry *e = NULL;

    append_n("user.crash", 2);
    crash_at(delete_points[_i], OP_DELETE);
    /* the name is gone at once, atomically */
    ck_assert_int_eq(xap_mailbox_open_irl("user.crash", &mb), XAP_IMAP_MAILBOX_NONEXISTENT);
    ck_assert_int_eq(xap_mboxlist_lookup_any(NULL, "user.crash", &e), 0);
    ck_assert_int_eq(e->type, XAP_MBTYPE_DELETED);
    talloc_free(e);
    /* a new mailbox of that name starts clean */
    append_n("user.crash", 1);
    check_clean("user.crash", 1);
}
END_TEST

static const char *const repack_points[] = {
    "mailbox.repack.1", "mailbox.repack.2", "mailbox.repack.3",
};

START_TEST(crash_in_repack)
{
    struct xap_mailbox *mb = NULL;

    append_n("user.crash", 4);
    crash_at(repack_points[_i], OP_EXPUNGE_REPACK);
    /* the expunge was committed before the repack began */
    ck_assert_int_eq(xap_mailbox_open_iwl("user.crash", &mb), 0);
    ck_assert_uint_eq(xap_mailbox_exists(mb), 3);
    xap_mailbox_close(&mb);    /* the last close finishes the repack/cleanup */
    check_clean("user.crash", 3);
    ck_assert_int_eq(xap_mailbox_open_irl("user.crash", &mb), 0);
    ck_assert_uint_eq(xap_mailbox_num_records(mb), 3);
    xap_mailbox_close(&mb);
}
END_TEST

/* In a mailbox too large to repack for two expunges (mailbox-repack.c:
 * 4,096 records), the last close only unlinks the files of the unlinked
 * records.  Killed after the expunge's commit (its own unlinks not run),
 * then while a later close's pass has unlinked one of the two files: the
 * next close unlinks the other, and the records stay until a repack is
 * due. */
START_TEST(crash_before_deferred_unlinks)
{
    struct xap_mailbox *mb = NULL;

    append_n("user.crash", 4096);
    crash_at("mailbox.commit.5", OP_EXPUNGE_TWO);
    crash_at("mailbox.unlinked.1", OP_OPEN_CLOSE);
    ck_assert_int_eq(xap_mailbox_open_irl("user.crash", &mb), 0);
    ck_assert_uint_eq(xap_mailbox_exists(mb), 4094);
    xap_mailbox_close(&mb);
    check_clean("user.crash", 4094);
    ck_assert_int_eq(xap_mailbox_open_irl("user.crash", &mb), 0);
    ck_assert_uint_eq(xap_mailbox_num_records(mb), 4096);
    xap_mailbox_close(&mb);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("mailbox_crash");
    TCase *tc = tcase_create("faults");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, crash_in_append_and_commit, 0,
                        (int)(sizeof commit_points / sizeof commit_points[0]));
    tcase_add_loop_test(tc, crash_in_create, 0, 2);
    tcase_add_loop_test(tc, crash_in_delete, 0, 2);
    tcase_add_loop_test(tc, crash_in_repack, 0, 3);
    tcase_add_test(tc, crash_before_deferred_unlinks);
    suite_add_tcase(s, tc);
    return s;
}
