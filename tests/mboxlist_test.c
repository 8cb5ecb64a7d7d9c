/* mboxlist_test - mailboxes.db (spec section 5): every function and flag,
 * tombstones and uidvalidity, foreach, and files that are not a
 * mailboxes.db.  Transactions seen from other processes are in
 * mboxlist_txn_test.c.  Real SQLite files. */
#include <config.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "common/lockorder.h"
#include "common/util.h"
#include "tests/mboxlist_fixture.h"

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

    TC("bad files");
    tcase_add_test(tc, garbage_file_is_badformat);
    tcase_add_test(tc, another_sqlite_database_is_badformat);
    tcase_add_test(tc, newer_version_is_refused);
    tcase_add_test(tc, broken_record_is_badformat);
    return s;
}
