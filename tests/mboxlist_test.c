/* mboxlist_test - mailboxes.db (spec section 5): every function and flag,
 * tombstones and uidvalidity, transactions seen from other processes,
 * writers killed mid-transaction, concurrent exclusive creates, and files
 * that are not a mailboxes.db.  Real processes, real SQLite files. */
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
#include "tests/testutil.h"

/* How long a waiter must stay unanswered before we call it blocked (not a
 * speed threshold: a wait that should not end never ends). */
#define BLOCKED_MS 300
#define REPLY_MS 20000

static struct testenv *env;

static void setup(void)
{
    env = testenv_new(NULL);
    ck_assert_int_eq(xap_init(env->config), 0);
}

static void teardown(void)
{
    xap_done();
    testenv_free(env);
    env = NULL;
}

static char *db_file(const char *suffix)
{
    return talloc_asprintf(env, "%s/mailboxes.db%s", env->confdir, suffix);
}

static struct xap_mboxlist_entry mk(const char *name, const char *uniqueid,
                                uint32_t uv, int type)
{
    struct xap_mboxlist_entry e;

    memset(&e, 0, sizeof e);
    e.name = (char *)name;
    e.partition = (char *)"default";
    e.uniqueid = (char *)uniqueid;
    e.uidvalidity = uv;
    e.type = type;
    return e;
}

static void create(const char *name, const char *uniqueid, uint32_t uv, int type)
{
    struct xap_mboxlist_entry e = mk(name, uniqueid, uv, type);
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), 0);
}

static void create_in(struct xap_mboxlist_txn *txn, const char *name)
{
    struct xap_mboxlist_entry e = mk(name, name, 1, XAP_MBTYPE_NORMAL);
    ck_assert_int_eq(xap_mboxlist_create_exclusive(txn, &e), 0);
}

static int read_whole(const char *path, char **buf_r, size_t *len_r)
{
    return read_file(env, path, buf_r, len_r);
}

static int lookup_rc(const char *name)
{
    struct xap_mboxlist_entry *e = NULL;
    int r = xap_mboxlist_lookup(NULL, name, &e);
    talloc_free(e);
    return r;
}

/* foreach into "name name ..." */
static int join_cb(const struct xap_mboxlist_entry *e, void *rock)
{
    char **s = rock;
    *s = talloc_asprintf_append(*s, "%s%s", **s ? " " : "", e->name);
    return 0;
}

static char *list(const char *prefix, int flags)
{
    char *s = talloc_strdup(env, "");
    ck_assert_int_eq(xap_mboxlist_foreach(prefix, flags, join_cb, &s), 0);
    return s;
}

#define ck_list(prefix, flags, want) do { \
    char *got_ = list((prefix), (flags)); \
    ck_assert_msg(!strcmp(got_, (want)), "foreach(%s, %d): got '%s', want '%s'", \
                  (prefix), (flags), got_, (want)); \
} while (0)

/* The database opened directly, to look at what is on disk. */
static sqlite3 *raw_open(void)
{
    sqlite3 *raw = NULL;
    ck_assert_int_eq(sqlite3_open_v2(db_file(""), &raw, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    sqlite3_busy_timeout(raw, 10000);
    return raw;
}

static char *raw_text(sqlite3 *raw, const char *sql)
{
    sqlite3_stmt *st = NULL;
    char *s = NULL;

    ck_assert_int_eq(sqlite3_prepare_v2(raw, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        s = talloc_strdup(env, sqlite3_column_text(st, 0)
                               ? (const char *)sqlite3_column_text(st, 0) : "(null)");
    sqlite3_finalize(st);
    return s;
}

static void raw_exec(const char *sql)
{
    sqlite3 *raw = raw_open();
    ck_assert_msg(sqlite3_exec(raw, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s",
                  sql, sqlite3_errmsg(raw));
    sqlite3_close(raw);
}

/* ------------------------------------------------------------ processes */

/* Forks a child running FN(ARG) and exiting with its value; stderr goes to
 * ERRFILE when not NULL. */
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

/* ------------------------------------------------------------ records */

START_TEST(create_and_lookup)
{
    void *ctx = talloc_new(env);
    struct xap_mboxlist_entry *e = NULL;
    time_t before = time(NULL), after;

    create("user.alice", "uid-alice", 1234, XAP_MBTYPE_NORMAL);
    after = time(NULL);
    ck_assert_int_eq(xap_mboxlist_lookup(ctx, "user.alice", &e), 0);
    ck_assert_ptr_eq(talloc_parent(e), ctx);
    ck_assert_str_eq(e->name, "user.alice");
    ck_assert_str_eq(e->partition, "default");
    ck_assert_str_eq(e->uniqueid, "uid-alice");
    ck_assert_uint_eq(e->uidvalidity, 1234);
    ck_assert_int_eq(e->type, XAP_MBTYPE_NORMAL);
    ck_assert_ptr_null(e->namelock);
    ck_assert_ptr_null(e->extra);
    ck_assert_int_ge(e->mtime, before);
    ck_assert_int_le(e->mtime, after);
    ck_assert_int_eq(xap_mboxlist_lookup_any(ctx, "user.alice", &e), 0);
    ck_assert_str_eq(e->uniqueid, "uid-alice");
    talloc_free(ctx);

    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.bob", &e), XAP_IMAP_MAILBOX_NONEXISTENT);
    ck_assert_ptr_null(e);
    ck_assert_int_eq(xap_mboxlist_lookup_any(NULL, "user.bob", &e), XAP_IMAP_MAILBOX_NONEXISTENT);
    ck_assert_str_eq(xap_mboxlist_type_name(XAP_MBTYPE_NORMAL), "");
    ck_assert_str_eq(xap_mboxlist_type_name(XAP_MBTYPE_RENAMETEMP), "RENAMETEMP");
    ck_assert_str_eq(xap_mboxlist_type_name(42), "?");
}
END_TEST

START_TEST(create_is_exclusive)
{
    struct xap_mboxlist_entry e = mk("user.alice", "other", 99, XAP_MBTYPE_NORMAL);
    struct xap_mboxlist_entry *got = NULL;

    create("user.alice", "first", 1, XAP_MBTYPE_NORMAL);
    create("user.alice.lock", "l", 1, XAP_MBTYPE_RENAMELOCKED);
    create("user.alice.temp", "t", 1, XAP_MBTYPE_RENAMETEMP);
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), XAP_IMAP_MAILBOX_EXISTS);
    e.name = (char *)"user.alice.lock";
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), XAP_IMAP_MAILBOX_EXISTS);
    e.name = (char *)"user.alice.temp";
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), XAP_IMAP_MAILBOX_EXISTS);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.alice", &got), 0);
    ck_assert_str_eq(got->uniqueid, "first");
    talloc_free(got);
}
END_TEST

START_TEST(delete_leaves_a_tombstone)
{
    struct xap_mboxlist_entry *e = NULL;
    struct xap_mboxlist_entry ext = mk("user.carol", "uid-carol", 0, XAP_MBTYPE_NORMAL);
    uint32_t uv, future = (uint32_t)time(NULL) + 100000;

    ck_assert_int_eq(xap_mboxlist_next_uidvalidity("user.carol", &uv), 0);
    ck_assert_uint_ge(uv, (uint32_t)time(NULL) - 1);
    ext.uidvalidity = future;
    ext.extra = (char *)"{\"color\":\"red\"}";
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &ext), 0);

    ck_assert_int_eq(xap_mboxlist_delete(NULL, "user.carol"), 0);
    ck_assert_int_eq(lookup_rc("user.carol"), XAP_IMAP_MAILBOX_NONEXISTENT);
    ck_assert_int_eq(xap_mboxlist_lookup_any(NULL, "user.carol", &e), 0);
    ck_assert_int_eq(e->type, XAP_MBTYPE_DELETED);
    ck_assert_uint_eq(e->uidvalidity, future);
    ck_assert_str_eq(e->uniqueid, "uid-carol");
    ck_assert_str_eq(e->partition, "default");
    ck_assert_str_eq(e->extra, "{\"color\":\"red\"}");
    TALLOC_FREE(e);
    ck_assert_int_eq(xap_mboxlist_delete(NULL, "user.carol"), XAP_IMAP_MAILBOX_NONEXISTENT);
    ck_assert_int_eq(xap_mboxlist_delete(NULL, "user.nobody"), XAP_IMAP_MAILBOX_NONEXISTENT);

    /* the next one is above the tombstone's, even one from the future */
    ck_assert_int_eq(xap_mboxlist_next_uidvalidity("user.carol", &uv), 0);
    ck_assert_uint_gt(uv, future);
    create("user.carol", "uid-carol-2", uv, XAP_MBTYPE_NORMAL);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.carol", &e), 0);
    ck_assert_uint_eq(e->uidvalidity, uv);
    ck_assert_str_eq(e->uniqueid, "uid-carol-2");
    ck_assert_ptr_null(e->extra);
    talloc_free(e);

    /* a fresh tombstone in the past: now wins */
    create("user.dave", "d", 5, XAP_MBTYPE_NORMAL);
    ck_assert_int_eq(xap_mboxlist_delete(NULL, "user.dave"), 0);
    ck_assert_int_eq(xap_mboxlist_next_uidvalidity("user.dave", &uv), 0);
    ck_assert_uint_ge(uv, (uint32_t)time(NULL) - 1);
    ck_assert_int_eq(xap_mboxlist_next_uidvalidity("user..bad", &uv), XAP_IMAP_MAILBOX_BADNAME);
}
END_TEST

START_TEST(update_and_remove)
{
    struct xap_mboxlist_entry e = mk("user.erin", "u1", 7, XAP_MBTYPE_NORMAL);
    struct xap_mboxlist_entry *got = NULL;

    ck_assert_int_eq(xap_mboxlist_update(NULL, &e), XAP_IMAP_MAILBOX_NONEXISTENT);
    ck_assert_int_eq(lookup_rc("user.erin"), XAP_IMAP_MAILBOX_NONEXISTENT);
    create("user.erin", "u1", 7, XAP_MBTYPE_NORMAL);

    e.type = XAP_MBTYPE_RENAMELOCKED;
    e.namelock = (char *)"user.erin";
    e.uidvalidity = 8;
    ck_assert_int_eq(xap_mboxlist_update(NULL, &e), 0);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.erin", &got), 0);
    ck_assert_int_eq(got->type, XAP_MBTYPE_RENAMELOCKED);
    ck_assert_str_eq(got->namelock, "user.erin");
    ck_assert_uint_eq(got->uidvalidity, 8);
    TALLOC_FREE(got);

    e.namelock = (char *)"user..erin";
    ck_assert_int_eq(xap_mboxlist_update(NULL, &e), XAP_IMAP_MAILBOX_BADNAME);
    e.namelock = NULL;
    e.partition = (char *)"nowhere";
    ck_assert_int_eq(xap_mboxlist_update(NULL, &e), XAP_IMAP_PARTITION_UNKNOWN);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.erin", &got), 0);
    ck_assert_str_eq(got->namelock, "user.erin");     /* nothing written */
    TALLOC_FREE(got);

    /* delete drops NAMELOCK; remove takes even the tombstone */
    ck_assert_int_eq(xap_mboxlist_delete(NULL, "user.erin"), 0);
    ck_assert_int_eq(xap_mboxlist_lookup_any(NULL, "user.erin", &got), 0);
    ck_assert_ptr_null(got->namelock);
    TALLOC_FREE(got);
    ck_assert_int_eq(xap_mboxlist_remove(NULL, "user.erin"), 0);
    ck_assert_int_eq(xap_mboxlist_lookup_any(NULL, "user.erin", &got), XAP_IMAP_MAILBOX_NONEXISTENT);
    ck_assert_int_eq(xap_mboxlist_remove(NULL, "user.erin"), XAP_IMAP_MAILBOX_NONEXISTENT);
    ck_assert_int_eq(xap_mboxlist_remove(NULL, "user/erin"), XAP_IMAP_MAILBOX_BADNAME);
}
END_TEST

START_TEST(lookup_by_uniqueid)
{
    struct xap_mboxlist_entry *e = NULL;
    struct xap_mboxlist_entry u;

    ck_assert_int_eq(xap_mboxlist_lookup_by_uniqueid(NULL, "", &e), XAP_IMAP_INVALID_ARGUMENT);
    ck_assert_int_eq(xap_mboxlist_lookup_by_uniqueid(NULL, NULL, &e), XAP_IMAP_INVALID_ARGUMENT);
    create("user.a", "U", 1, XAP_MBTYPE_NORMAL);
    ck_assert_int_eq(xap_mboxlist_lookup_by_uniqueid(NULL, "U", &e), 0);
    ck_assert_str_eq(e->name, "user.a");
    TALLOC_FREE(e);
    ck_assert_int_eq(xap_mboxlist_lookup_by_uniqueid(NULL, "V", &e), XAP_IMAP_MAILBOX_NONEXISTENT);

    /* a rename in flight: old RENAMELOCKED, new RENAMETEMP, one uniqueid */
    u = mk("user.a", "U", 1, XAP_MBTYPE_RENAMELOCKED);
    u.namelock = (char *)"user.a";
    ck_assert_int_eq(xap_mboxlist_update(NULL, &u), 0);
    u = mk("user.0", "U", 1, XAP_MBTYPE_RENAMETEMP);
    u.namelock = (char *)"user.a";
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &u), 0);
    ck_assert_int_eq(xap_mboxlist_lookup_by_uniqueid(NULL, "U", &e), 0);
    ck_assert_str_eq(e->name, "user.a");
    TALLOC_FREE(e);
    /* after its commit: new NORMAL, old RENAMETEMP */
    u = mk("user.0", "U", 1, XAP_MBTYPE_NORMAL);
    ck_assert_int_eq(xap_mboxlist_update(NULL, &u), 0);
    u = mk("user.a", "U", 1, XAP_MBTYPE_RENAMETEMP);
    ck_assert_int_eq(xap_mboxlist_update(NULL, &u), 0);
    ck_assert_int_eq(xap_mboxlist_lookup_by_uniqueid(NULL, "U", &e), 0);
    ck_assert_str_eq(e->name, "user.0");
    TALLOC_FREE(e);
    /* tombstones are not found */
    ck_assert_int_eq(xap_mboxlist_delete(NULL, "user.a"), 0);
    ck_assert_int_eq(xap_mboxlist_delete(NULL, "user.0"), 0);
    ck_assert_int_eq(xap_mboxlist_lookup_by_uniqueid(NULL, "U", &e), XAP_IMAP_MAILBOX_NONEXISTENT);
}
END_TEST

START_TEST(extra_fields)
{
    struct xap_mboxlist_entry e = mk("user.f", "f", 1, XAP_MBTYPE_NORMAL);
    struct xap_mboxlist_entry *got = NULL;
    sqlite3 *raw;
    char *col;

    e.extra = (char *)"{\"zeta\":[1,2],\"alpha\":\"x\",\"mtime\":5}";
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), 0);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.f", &got), 0);
    ck_assert_str_eq(got->extra, "{\"alpha\":\"x\",\"zeta\":[1,2]}");
    ck_assert_int_gt(got->mtime, 5);   /* a key we name is ours */

    raw = raw_open();
    col = raw_text(raw, "SELECT extra FROM mailboxes WHERE name = 'user.f'");
    ck_assert_msg(strstr(col, "\"mtime\":") && strstr(col, "\"zeta\":[1,2]"), "%s", col);
    sqlite3_close(raw);

    /* a field a newer version added survives our update */
    raw_exec("UPDATE mailboxes SET extra = json_set(extra, '$.future', 42)"
             " WHERE name = 'user.f'");
    TALLOC_FREE(got);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.f", &got), 0);
    got->uidvalidity = 2;
    ck_assert_int_eq(xap_mboxlist_update(NULL, got), 0);
    TALLOC_FREE(got);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.f", &got), 0);
    ck_assert_str_eq(got->extra, "{\"alpha\":\"x\",\"future\":42,\"zeta\":[1,2]}");
    ck_assert_uint_eq(got->uidvalidity, 2);
    TALLOC_FREE(got);

    e.name = (char *)"user.g";
    e.extra = (char *)"[1]";
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), XAP_IMAP_INVALID_ARGUMENT);
    e.extra = (char *)"{not json";
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), XAP_IMAP_INVALID_ARGUMENT);
    ck_assert_int_eq(lookup_rc("user.g"), XAP_IMAP_MAILBOX_NONEXISTENT);
}
END_TEST

START_TEST(on_disk)
{
    struct stat st;
    sqlite3 *raw;

    umask(0);   /* the modes must not come from the umask */
    create("user.n", "n", 1, XAP_MBTYPE_NORMAL);
    create("user.d", "d", 1, XAP_MBTYPE_NORMAL);
    ck_assert_int_eq(xap_mboxlist_delete(NULL, "user.d"), 0);
    create("user.l", "l", 1, XAP_MBTYPE_RENAMELOCKED);
    create("user.t", "t", 1, XAP_MBTYPE_RENAMETEMP);

    ck_assert_int_eq(stat(db_file(""), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(stat(db_file("-wal"), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(stat(db_file("-shm"), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);

    raw = raw_open();
    ck_assert_str_eq(raw_text(raw, "PRAGMA journal_mode"), "wal");
    ck_assert_str_eq(raw_text(raw, "PRAGMA user_version"), "1");
    ck_assert_str_eq(raw_text(raw, "SELECT group_concat(name || '=' || type, ' ')"
                                   " FROM (SELECT * FROM mailboxes ORDER BY name)"),
                     "user.d=DELETED user.l=RENAMELOCKED user.n= user.t=RENAMETEMP");
    ck_assert_str_eq(raw_text(raw, "SELECT count(*) FROM sqlite_master"
                                   " WHERE type = 'index' AND sql LIKE '%uniqueid%'"),
                     "1");
    sqlite3_close(raw);

    /* closed at done; the file still opens */
    xap_done();
    ck_assert_int_eq(xap_init(env->config), 0);
    ck_assert_int_eq(lookup_rc("user.n"), 0);
}
END_TEST

START_TEST(bad_input_touches_nothing)
{
    static const char *const bad[] = {
        "", ".", "user..x", "user.x.", ".user", "user/x", "user.a\tb",
        "$XAPIAN$alice", "user.-rf", "user.a*",
    };
    struct xap_mboxlist_entry e = mk("user.ok", "u", 1, XAP_MBTYPE_NORMAL);
    struct xap_mboxlist_entry *got = NULL;
    struct xap_mboxlist_txn *txn = NULL;
    struct stat st;
    uint32_t uv;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct xap_mboxlist_entry b = mk(bad[i], "u", 1, XAP_MBTYPE_NORMAL);
        ck_assert_msg(xap_mboxlist_create_exclusive(NULL, &b) == XAP_IMAP_MAILBOX_BADNAME, "%s", bad[i]);
        ck_assert_int_eq(xap_mboxlist_update(NULL, &b), XAP_IMAP_MAILBOX_BADNAME);
        ck_assert_int_eq(xap_mboxlist_delete(NULL, bad[i]), XAP_IMAP_MAILBOX_BADNAME);
        ck_assert_int_eq(xap_mboxlist_remove(NULL, bad[i]), XAP_IMAP_MAILBOX_BADNAME);
        ck_assert_int_eq(xap_mboxlist_lookup(NULL, bad[i], &got), XAP_IMAP_MAILBOX_BADNAME);
        ck_assert_int_eq(xap_mboxlist_lookup_any(NULL, bad[i], &got), XAP_IMAP_MAILBOX_BADNAME);
        ck_assert_int_eq(xap_mboxlist_next_uidvalidity(bad[i], &uv), XAP_IMAP_MAILBOX_BADNAME);
    }
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, NULL), XAP_IMAP_MAILBOX_BADNAME);
    e.partition = (char *)"nowhere";
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), XAP_IMAP_PARTITION_UNKNOWN);
    e.partition = NULL;
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), XAP_IMAP_PARTITION_UNKNOWN);
    e = mk("user.ok", "", 1, XAP_MBTYPE_NORMAL);
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), XAP_IMAP_INVALID_ARGUMENT);
    e = mk("user.ok", "u", 1, 17);
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), XAP_IMAP_INVALID_ARGUMENT);
    /* checked before the database is even opened */
    ck_assert_int_eq(stat(db_file(""), &st), -1);

    /* and inside a transaction, nothing either */
    ck_assert_int_eq(xap_mboxlist_begin(&txn), 0);
    e = mk("user.ok", "u", 1, XAP_MBTYPE_NORMAL);
    e.partition = (char *)"nowhere";
    ck_assert_int_eq(xap_mboxlist_create_exclusive(txn, &e), XAP_IMAP_PARTITION_UNKNOWN);
    ck_assert_int_eq(xap_mboxlist_commit(&txn), 0);
    ck_list("", XAP_MBOXLIST_ALL, "");
}
END_TEST

/* ------------------------------------------------------------ foreach */

static void make_tree(void)
{
    static const char *const names[] = {
        "user.alice.Sent.2024", "user.alicex", "user.alice", "user.bob",
        "user.alice-x", "user.alice.Ärger", "user.alice.Sent", "user.ali",
        "user.é", "user.élodie.Boîte", "user.élodie", "shared.lists",
    };
    struct xap_mboxlist_txn *txn = NULL;

    ck_assert_int_eq(xap_mboxlist_begin(&txn), 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct xap_mboxlist_entry e = mk(names[i], names[i], 1, XAP_MBTYPE_NORMAL);
        ck_assert_int_eq(xap_mboxlist_create_exclusive(txn, &e), 0);
    }
    ck_assert_int_eq(xap_mboxlist_commit(&txn), 0);
}

START_TEST(foreach_prefix_and_tree)
{
    make_tree();
    /* byte order: '-' < '.' < 'x' < UTF-8 lead bytes */
    ck_list("", 0, "shared.lists user.ali user.alice user.alice-x user.alice.Sent "
            "user.alice.Sent.2024 user.alice.Ärger user.alicex user.bob user.é "
            "user.élodie user.élodie.Boîte");
    ck_assert_str_eq(list(NULL, 0), list("", 0));
    ck_list("user.alice", 0, "user.alice user.alice-x user.alice.Sent "
            "user.alice.Sent.2024 user.alice.Ärger user.alicex");
    ck_list("user.alice", XAP_MBOXLIST_TREE, "user.alice user.alice.Sent "
            "user.alice.Sent.2024 user.alice.Ärger");
    ck_list("user.alice.Sent", XAP_MBOXLIST_TREE, "user.alice.Sent user.alice.Sent.2024");
    ck_list("user.ali", XAP_MBOXLIST_TREE, "user.ali");
    ck_list("user.é", XAP_MBOXLIST_TREE, "user.é");
    ck_list("user.é", 0, "user.é user.élodie user.élodie.Boîte");
    ck_list("user.élodie", XAP_MBOXLIST_TREE, "user.élodie user.élodie.Boîte");
    ck_list("user.alice.Ä", 0, "user.alice.Ärger");
    ck_list("user.carol", XAP_MBOXLIST_TREE, "");
    ck_list("zzz", 0, "");
    ck_list("", XAP_MBOXLIST_TREE, list("", 0));
    /* the root need not exist for its children to be found */
    ck_assert_int_eq(xap_mboxlist_remove(NULL, "user.alice"), 0);
    ck_list("user.alice", XAP_MBOXLIST_TREE, "user.alice.Sent user.alice.Sent.2024 "
            "user.alice.Ärger");
}
END_TEST

START_TEST(foreach_types)
{
    create("user.n", "n", 1, XAP_MBTYPE_NORMAL);
    create("user.d", "d", 1, XAP_MBTYPE_NORMAL);
    ck_assert_int_eq(xap_mboxlist_delete(NULL, "user.d"), 0);
    create("user.l", "l", 1, XAP_MBTYPE_RENAMELOCKED);
    create("user.t", "t", 1, XAP_MBTYPE_RENAMETEMP);
    ck_list("", 0, "user.l user.n");
    ck_list("", XAP_MBOXLIST_ALL, "user.d user.l user.n user.t");
    ck_list("user.d", XAP_MBOXLIST_TREE, "");
    ck_list("user.d", XAP_MBOXLIST_TREE | XAP_MBOXLIST_ALL, "user.d");
}
END_TEST

static int stop_at_two(const struct xap_mboxlist_entry *e, void *rock)
{
    int *n = rock;
    (void)e;
    return ++*n == 2 ? 77 : 0;
}

START_TEST(foreach_stops)
{
    int n = 0;

    make_tree();
    ck_assert_int_eq(xap_mboxlist_foreach("", 0, stop_at_two, &n), 77);
    ck_assert_int_eq(n, 2);
}
END_TEST

struct walk {
    struct xap_mboxlist_txn *txn;
    int seen;
    char last[64];
    int out_of_order;
};

/* Removes what it visits but every 200th, in W's transaction (NULL: each
 * in a transaction of its own). */
static int remove_each(const struct xap_mboxlist_entry *e, void *rock)
{
    struct walk *w = rock;

    if (strcmp(w->last, e->name) >= 0)
        w->out_of_order++;
    snprintf(w->last, sizeof w->last, "%s", e->name);
    if (++w->seen % 200 == 0)
        return 0;
    return xap_mboxlist_remove(w->txn, e->name);
}

/* More records than one batch, with the callback writing as it goes. */
START_TEST(foreach_batches_while_writing)
{
    struct xap_mboxlist_txn *txn = NULL;
    struct walk w = { 0 };
    int n = 0;

    ck_assert_int_eq(xap_mboxlist_begin(&txn), 0);
    for (int i = 0; i < 600; i++) {
        char name[32];
        snprintf(name, sizeof name, "user.u%04d", (i * 7919) % 600);
        struct xap_mboxlist_entry e = mk(name, name, 1, XAP_MBTYPE_NORMAL);
        ck_assert_int_eq(xap_mboxlist_create_exclusive(txn, &e), 0);
    }
    ck_assert_int_eq(xap_mboxlist_commit(&txn), 0);
    ck_assert_int_eq(xap_mboxlist_foreach("user", 0, stop_at_two, &n), 77);

    ck_assert_int_eq(xap_mboxlist_begin(&w.txn), 0);
    ck_assert_int_eq(xap_mboxlist_foreach("", XAP_MBOXLIST_ALL, remove_each, &w), 0);
    ck_assert_int_eq(xap_mboxlist_commit(&w.txn), 0);
    ck_assert_int_eq(w.seen, 600);
    ck_assert_int_eq(w.out_of_order, 0);
    ck_list("", XAP_MBOXLIST_ALL, "user.u0199 user.u0399 user.u0599");

    /* and writes that commit one by one from inside the walk */
    memset(&w, 0, sizeof w);
    make_tree();
    ck_assert_int_eq(xap_mboxlist_foreach("user.alice", 0, remove_each, &w), 0);
    ck_assert_int_eq(w.seen, 6);
    ck_list("user.al", XAP_MBOXLIST_ALL, "user.ali");
}
END_TEST

START_TEST(foreach_inside_a_transaction)
{
    struct xap_mboxlist_txn *txn = NULL;
    struct xap_mboxlist_entry e = mk("user.zed", "z", 1, XAP_MBTYPE_NORMAL);
    int n = 0;

    make_tree();
    ck_assert_int_eq(xap_mboxlist_begin(&txn), 0);
    ck_assert_int_eq(xap_mboxlist_remove(txn, "user.bob"), 0);
    ck_assert_int_eq(xap_mboxlist_create_exclusive(txn, &e), 0);
    /* reads in the writing process see its writes */
    ck_list("user.bob", 0, "");
    ck_list("user.zed", 0, "user.zed");
    ck_assert_int_eq(xap_mboxlist_foreach("user.alice", XAP_MBOXLIST_TREE, stop_at_two, &n), 77);
    xap_mboxlist_abort(&txn);
    ck_assert_ptr_null(txn);
    ck_list("user.bob", 0, "user.bob");
    ck_list("user.zed", 0, "");
}
END_TEST

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

/* ------------------------------------------------------------ bad files */

/* Runs the API over a bad file: every call must fail with WANT. */
static void all_fail_with(int want)
{
    struct xap_mboxlist_entry e = mk("user.x", "x", 1, XAP_MBTYPE_NORMAL);
    struct xap_mboxlist_entry *got = NULL;
    struct xap_mboxlist_txn *txn = NULL;
    char *s = NULL;
    uint32_t uv;

    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.x", &got), want);
    ck_assert_int_eq(xap_mboxlist_lookup_any(NULL, "user.x", &got), want);
    ck_assert_int_eq(xap_mboxlist_lookup_by_uniqueid(NULL, "x", &got), want);
    ck_assert_int_eq(xap_mboxlist_next_uidvalidity("user.x", &uv), want);
    ck_assert_int_eq(xap_mboxlist_foreach("", 0, join_cb, &s), want);
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), want);
    ck_assert_int_eq(xap_mboxlist_begin(&txn), want);
    ck_assert_ptr_null(txn);
    ck_assert_int_eq(lockorder_held(), 0);
}

static char *capture_start(int *saved)
{
    char *path = talloc_asprintf(env, "%s/log", env->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    *saved = dup(2);
    dup2(fd, 2);
    close(fd);
    return path;
}

static char *capture_end(char *path, int saved)
{
    char *text = NULL;
    size_t len;

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ck_assert_int_eq(read_whole(path, &text, &len), 0);
    return text;
}

START_TEST(garbage_file_is_badformat)
{
    static const char *const kinds[] = { "long", "short" };
    char junk[4096], *log, *path, *before = NULL, *after = NULL;
    size_t blen, alen;
    int saved;

    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)((i * 37 + 11) % 255 + 1);
    junk[sizeof junk - 1] = '\0';
    for (int k = 0; k < 2; k++) {
        path = testenv_write(env, "conf/mailboxes.db", k ? "hello, world\n" : junk);
        ck_assert_int_eq(read_whole(path, &before, &blen), 0);
        log = capture_start(&saved);
        all_fail_with(XAP_IMAP_MAILBOX_BADFORMAT);
        log = capture_end(log, saved);
        ck_assert_msg(strstr(log, path) && strstr(log, "not a valid mailboxes.db"),
                      "%s: %s", kinds[k], log);
        ck_assert_int_eq(read_whole(path, &after, &alen), 0);
        ck_assert_int_eq(alen, blen);
        ck_assert_msg(!memcmp(before, after, blen), "%s: the file was changed", kinds[k]);
    }
}
END_TEST

START_TEST(another_sqlite_database_is_badformat)
{
    sqlite3 *raw = NULL;
    char *log;
    int saved;

    ck_assert_int_eq(sqlite3_open(db_file(""), &raw), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(raw, "CREATE TABLE foo (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    log = capture_start(&saved);
    all_fail_with(XAP_IMAP_MAILBOX_BADFORMAT);
    log = capture_end(log, saved);
    ck_assert_msg(strstr(log, db_file("")), "%s", log);
    raw = raw_open();
    ck_assert_str_eq(raw_text(raw, "SELECT group_concat(name) FROM sqlite_master"), "foo");
    sqlite3_close(raw);
}
END_TEST

START_TEST(newer_version_is_refused)
{
    char *log;
    int saved;

    create("user.x", "x", 1, XAP_MBTYPE_NORMAL);
    xap_done();
    raw_exec("PRAGMA user_version = 2");
    ck_assert_int_eq(xap_init(env->config), 0);
    log = capture_start(&saved);
    all_fail_with(XAP_IMAP_MAILBOX_NOTSUPPORTED);
    log = capture_end(log, saved);
    ck_assert_msg(strstr(log, db_file("")) && strstr(log, "newer"), "%s", log);
}
END_TEST

START_TEST(broken_record_is_badformat)
{
    struct xap_mboxlist_entry *e = NULL;
    char *s = NULL, *log;
    int saved;

    create("user.a", "a", 1, XAP_MBTYPE_NORMAL);
    create("user.b", "b", 1, XAP_MBTYPE_NORMAL);
    raw_exec("UPDATE mailboxes SET type = 'FROB' WHERE name = 'user.a'");
    raw_exec("UPDATE mailboxes SET extra = '[1]' WHERE name = 'user.b'");
    log = capture_start(&saved);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.a", &e), XAP_IMAP_MAILBOX_BADFORMAT);
    ck_assert_int_eq(xap_mboxlist_lookup(NULL, "user.b", &e), XAP_IMAP_MAILBOX_BADFORMAT);
    ck_assert_int_eq(xap_mboxlist_foreach("user.a", 0, join_cb, &s), 0);  /* FROB is filtered */
    ck_assert_int_eq(xap_mboxlist_foreach("user.a", XAP_MBOXLIST_ALL, join_cb, &s),
                     XAP_IMAP_MAILBOX_BADFORMAT);
    ck_assert_int_eq(xap_mboxlist_foreach("", 0, join_cb, &s), XAP_IMAP_MAILBOX_BADFORMAT);
    log = capture_end(log, saved);
    ck_assert_msg(strstr(log, "user.a") && strstr(log, "FROB") && strstr(log, "user.b"),
                  "%s", log);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("mboxlist");
    TCase *tc;

#define TC(name) do { tc = tcase_create(name); \
    tcase_add_checked_fixture(tc, setup, teardown); \
    tcase_set_timeout(tc, 60); \
    suite_add_tcase(s, tc); } while (0)

    TC("records");
    tcase_add_test(tc, create_and_lookup);
    tcase_add_test(tc, create_is_exclusive);
    tcase_add_test(tc, delete_leaves_a_tombstone);
    tcase_add_test(tc, update_and_remove);
    tcase_add_test(tc, lookup_by_uniqueid);
    tcase_add_test(tc, extra_fields);
    tcase_add_test(tc, on_disk);
    tcase_add_test(tc, bad_input_touches_nothing);

    TC("foreach");
    tcase_add_test(tc, foreach_prefix_and_tree);
    tcase_add_test(tc, foreach_types);
    tcase_add_test(tc, foreach_stops);
    tcase_add_test(tc, foreach_batches_while_writing);
    tcase_add_test(tc, foreach_inside_a_transaction);

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

    TC("bad files");
    tcase_add_test(tc, garbage_file_is_badformat);
    tcase_add_test(tc, another_sqlite_database_is_badformat);
    tcase_add_test(tc, newer_version_is_refused);
    tcase_add_test(tc, broken_record_is_badformat);
    return s;
}
