/* mboxlist_fixture.c - the helpers of mboxlist_fixture.h. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "common/util.h"
#include "tests/mboxlist_fixture.h"

struct testenv *env;

void setup(void)
{
    env = testenv_new(NULL);
    ck_assert_int_eq(xap_init(env->config), 0);
}

void teardown(void)
{
    xap_done();
    testenv_free(env);
    env = NULL;
}

char *db_file(const char *suffix)
{
    return talloc_asprintf(env, "%s/mailboxes.db%s", env->confdir, suffix);
}

struct xap_mboxlist_entry mk(const char *name, const char *uniqueid,
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

void create(const char *name, const char *uniqueid, uint32_t uv, int type)
{
    struct xap_mboxlist_entry e = mk(name, uniqueid, uv, type);
    ck_assert_int_eq(xap_mboxlist_create_exclusive(NULL, &e), 0);
}

void create_in(struct xap_mboxlist_txn *txn, const char *name)
{
    struct xap_mboxlist_entry e = mk(name, name, 1, XAP_MBTYPE_NORMAL);
    ck_assert_int_eq(xap_mboxlist_create_exclusive(txn, &e), 0);
}

int read_whole(const char *path, char **buf_r, size_t *len_r)
{
    return read_file(env, path, buf_r, len_r);
}

int lookup_rc(const char *name)
{
    struct xap_mboxlist_entry *e = NULL;
    int r = xap_mboxlist_lookup(NULL, name, &e);
    talloc_free(e);
    return r;
}

/* foreach into "name name ..." */
int join_cb(const struct xap_mboxlist_entry *e, void *rock)
{
    char **s = rock;
    *s = talloc_asprintf_append(*s, "%s%s", **s ? " " : "", e->name);
    return 0;
}

char *list(const char *prefix, int flags)
{
    char *s = talloc_strdup(env, "");
    ck_assert_int_eq(xap_mboxlist_foreach(prefix, flags, join_cb, &s), 0);
    return s;
}


/* The database opened directly, to look at what is on disk. */
sqlite3 *raw_open(void)
{
    sqlite3 *raw = NULL;
    ck_assert_int_eq(sqlite3_open_v2(db_file(""), &raw, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    sqlite3_busy_timeout(raw, 10000);
    return raw;
}

char *raw_text(sqlite3 *raw, const char *sql)
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

void raw_exec(const char *sql)
{
    sqlite3 *raw = raw_open();
    ck_assert_msg(sqlite3_exec(raw, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s",
                  sql, sqlite3_errmsg(raw));
    sqlite3_close(raw);
}
