/* mboxlist.c - mailboxes.db (spec section 5, seeds/001); the contract is
 * in <xapiary/mboxlist.h>, the file format in docs/FORMAT.md.
 *
 * Storage
 *   SQLite in WAL mode, one table `mailboxes`, one row per name.  The
 *   fields code selects on are columns; the rest (mtime, and whatever a
 *   later version adds) live in the JSON object of the `extra` column, so
 *   a new field needs no schema change and survives an older version's
 *   update (see `extra` in mboxlist.h).  PRAGMA user_version is the format
 *   version: a newer one is refused, an empty file gets the schema.
 *
 *   WAL: readers never wait for the writer and the writer never waits for
 *   readers; a transaction is one append to the WAL, so a writer killed
 *   half-way leaves frames no reader will use (recovery drops them).
 *
 *   synchronous=FULL: every commit fsyncs the WAL.  With NORMAL a WAL
 *   commit is only in the page cache until the next checkpoint, and a
 *   power failure could lose a create whose mailbox files were already
 *   made, or a delete whose files were already removed.  Writes to the
 *   list are rare (create, delete, rename) so the fsync costs nothing that
 *   matters.
 *
 * Waiting
 *   One writer at a time: a transaction is BEGIN IMMEDIATE, which takes
 *   SQLite's write lock at once, so a transaction never has to upgrade a
 *   read snapshot (that upgrade can fail with a BUSY that no wait cures).
 *   The wait for it is the one of every SQLite database of the project
 *   (common/sqldb.c): until namelock_timeout, then XAP_IMAP_MAILBOX_LOCKED.
 *
 * States of the process's connection
 *   closed    db == NULL.  The next call opens it (open_db).
 *   open      db != NULL, txn == NULL: reads are autocommit snapshots.
 *   writing   db != NULL, txn != NULL: BEGIN IMMEDIATE done and the lock
 *             registered at LOCKLEVEL_MBOXLIST; ends at commit or abort.
 *   forsaken  a child forked while its parent was writing: the connection
 *             and the SQLite locks are the parent's.  Every call fails.
 *   Before a fork an open connection is closed (before_fork): SQLite's
 *   POSIX locks are per process, and a child using an inherited connection
 *   (or SQLite's inherited in-process lock table) could believe it holds
 *   locks it does not, and let a checkpoint delete the WAL under it.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "common/config.h"
#include "common/init.h"
#include "common/lockorder.h"
#include "common/mboxname.h"
#include "common/sqldb.h"
#include "common/util.h"
#include "common/xlog.h"

#define DBNAME "mailboxes.db"
#define MBOXLIST_VERSION 1
/* Rows a foreach reads per statement.  No statement stays open while a
 * callback runs, so callbacks may write. */
#define FOREACH_BATCH 256

#define COLUMNS "name, partition, uniqueid, uidvalidity, type, namelock, extra"

static const char *const schema =
    "CREATE TABLE mailboxes ("
    " name TEXT NOT NULL PRIMARY KEY,"
    " partition TEXT NOT NULL,"
    " uniqueid TEXT NOT NULL,"
    " uidvalidity INTEGER NOT NULL,"
    " type TEXT NOT NULL DEFAULT '',"
    " namelock TEXT,"
    " extra TEXT NOT NULL DEFAULT '{}'"
    ") WITHOUT ROWID;"
    "CREATE INDEX mailboxes_uniqueid ON mailboxes (uniqueid);"
    "PRAGMA user_version = 1;";

struct xap_mboxlist_txn {
    int unused;   /* there is only ever one; the struct is its identity */
};

static struct sqldb *db;
static pid_t db_pid;
static struct xap_mboxlist_txn *cur_txn;
static int forsaken;
/* get_row's statement, prepared at its first use and kept with the
 * connection: every mailbox open reads a record, and preparing it each
 * time was a good part of a search's cost per mailbox of the user
 * (docs/PERFORMANCE.md "Search: API vs raw Xapian"). */
static sqlite3_stmt *row_st;
/* foreach's two statements (a tree, every name with a prefix), kept the
 * same way: a search lists the user's mailboxes, and preparing the list's
 * statement was an eighth of an empty search's CPU (docs/
 * PERFORMANCE-SEARCH.md "Search: the walk of the GUID index"). */
static sqlite3_stmt *foreach_st[2];
/* xap_mboxlist_lookup_by_uniqueid's, kept the same way: every search
 * names the mailboxes of its hits through it. */
static sqlite3_stmt *uniqueid_st;
static int fork_handlers;

static const struct sqldb_spec spec = {
    .label = "",
    .kind = DBNAME,
    .synchronous = "FULL",
};

static const char *const type_names[] = {
    [XAP_MBTYPE_NORMAL] = "",
    [XAP_MBTYPE_DELETED] = "DELETED",
    [XAP_MBTYPE_RENAMELOCKED] = "RENAMELOCKED",
    [XAP_MBTYPE_RENAMETEMP] = "RENAMETEMP",
    [XAP_MBTYPE_RESERVED] = "RESERVED",
};
#define NTYPES ((int)(sizeof type_names / sizeof type_names[0]))

const char *xap_mboxlist_type_name(int type)
{
    return type >= 0 && type < NTYPES ? type_names[type] : "?";
}

static int type_parse(const char *s)
{
    for (int i = 0; i < NTYPES; i++)
        if (!strcmp(s, type_names[i]))
            return i;
    return -1;
}

/* ---------------------------------------------------------------- open */

static void end_txn(void)
{
    lockorder_released(LOCKLEVEL_MBOXLIST, DBNAME);
    TALLOC_FREE(cur_txn);
}

static void close_db(void)
{
    if (forsaken && db) {
        /* The parent's: neither close nor roll back (nor unregister: the
         * lock registry may have been reset in the child already). */
        db->db = NULL;
        TALLOC_FREE(cur_txn);
        row_st = uniqueid_st = NULL;   /* the parent's too */
        foreach_st[0] = foreach_st[1] = NULL;
    }
    if (cur_txn) {
        sqldb_exec(db, "ROLLBACK");
        end_txn();
    }
    sqlite3_finalize(row_st);
    sqlite3_finalize(uniqueid_st);
    row_st = uniqueid_st = NULL;
    for (int i = 0; i < 2; i++) {
        sqlite3_finalize(foreach_st[i]);
        foreach_st[i] = NULL;
    }
    TALLOC_FREE(db);
}

static void before_fork(void)
{
    if (db && !cur_txn && db_pid == getpid())
        close_db();
}

static void in_child(void)
{
    if (db) {
        xlog(LOG_DEBUG, "%s: forked during a transaction: not usable in the child",
             db->path);
        forsaken = 1;
    }
}

/* Called with the connection open, inside nothing.  Creates the schema
 * in an empty database, refuses a newer one and anything that is not
 * ours. */
static int check_schema(void)
{
    sqlite3_stmt *st = NULL;
    int64_t version = 0, objects = 0;
    int rc;

    if ((rc = sqldb_query_int(db, "PRAGMA user_version", &version)))
        return sqldb_error(db, "read the format version", rc);
    if (version == 0) {
        /* First use.  The write lock makes concurrent first users agree;
         * it is not registered with the lock-order checker: no process
         * can hold a transaction on a database without a schema, so this
         * wait cannot be part of a deadlock. */
        if ((rc = sqldb_exec(db, "BEGIN IMMEDIATE")))
            return sqldb_error(db, "begin", rc);
        rc = sqldb_query_int(db, "PRAGMA user_version", &version);
        if (!rc && version == 0) {
            rc = sqldb_query_int(db, "SELECT count(*) FROM sqlite_master", &objects);
            if (!rc && objects) {
                sqldb_exec(db, "ROLLBACK");
                xlog(LOG_ERR, "%s: not a valid mailboxes.db (a different "
                     "SQLite database)", db->path);
                return XAP_IMAP_MAILBOX_BADFORMAT;
            }
            if (!rc)
                rc = sqldb_exec(db, schema);
        }
        if (!rc)
            rc = sqldb_exec(db, "COMMIT");
        if (rc) {
            int r = sqldb_error(db, "create the schema", rc);
            sqldb_exec(db, "ROLLBACK");
            return r;
        }
    }
    if (version > MBOXLIST_VERSION) {
        xlog(LOG_ERR, "%s: format version %lld is newer than this program's (%d)",
             db->path, (long long)version, MBOXLIST_VERSION);
        return XAP_IMAP_MAILBOX_NOTSUPPORTED;
    }
    rc = sqlite3_prepare_v2(db->db, "SELECT " COLUMNS " FROM mailboxes", -1, &st, NULL);
    sqlite3_finalize(st);
    if (rc) {
        xlog(LOG_ERR, "%s: not a valid mailboxes.db (%s)", db->path, sqlite3_errmsg(db->db));
        return XAP_IMAP_MAILBOX_BADFORMAT;
    }
    return 0;
}

/* Opens the connection unless it is open: see the states above.  A
 * server that has only its configuration file has no mailboxes.db and
 * maybe no configdirectory yet: a reader (CREATE 0) then gets
 * XAP_IMAP_NOTFOUND, to treat as an empty list, and creates nothing (it may
 * not be allowed to); a writer creates both. */
static int open_db(int create)
{
    const char *confdir;
    char *path;
    int r;

    if (forsaken) {
        xlog(LOG_ERR, "mailboxes.db: used in a process forked during a transaction");
        return XAP_IMAP_INTERNAL;
    }
    if (db && db_pid == getpid())
        return 0;
    /* Forked by something that skipped the fork handlers (a raw clone):
     * the parent's connection is not ours to close. */
    db = NULL;
    cur_txn = NULL;
    row_st = uniqueid_st = NULL;
    foreach_st[0] = foreach_st[1] = NULL;

    if (!(confdir = config_configdirectory(NULL))) {
        xlog(LOG_ERR, "mailboxes.db: no configuration (xap_init)");
        return XAP_IMAP_CONFIG;
    }
    if (!fork_handlers) {
        pthread_atfork(before_fork, NULL, in_child);
        fork_handlers = 1;
    }
    path = talloc_asprintf(NULL, "%s/" DBNAME, confdir);
    if (create && access(path, F_OK) < 0 && errno == ENOENT &&
        (r = config_make_configdirectory())) {
        talloc_free(path);
        return r;
    }
    r = sqldb_open(NULL, path, &spec, create, "the mailboxes.db write lock "
                   "(another process is creating, deleting or renaming a mailbox)",
                   &db);
    talloc_free(path);
    if (r)
        return r;
    db_pid = getpid();
    xapiary_atdone(close_db);
    if ((r = check_schema())) {
        close_db();
        return r;
    }
    return 0;
}

/* ---------------------------------------------------------------- records */

/* Fills a new entry under CTX from the current row of ST (COLUMNS). */
static int row_to_entry(void *ctx, sqlite3_stmt *st, struct xap_mboxlist_entry **entry_r)
{
    struct xap_mboxlist_entry *e = talloc_zero(ctx, struct xap_mboxlist_entry);
    const char *type = (const char *)sqlite3_column_text(st, 4);
    const char *extra = (const char *)sqlite3_column_text(st, 6);
    const char *namelock = (const char *)sqlite3_column_text(st, 5);
    json_t *obj, *mtime;
    json_error_t jerr;

    e->name = talloc_strdup(e, (const char *)sqlite3_column_text(st, 0));
    e->partition = talloc_strdup(e, (const char *)sqlite3_column_text(st, 1));
    e->uniqueid = talloc_strdup(e, (const char *)sqlite3_column_text(st, 2));
    e->uidvalidity = (uint32_t)sqlite3_column_int64(st, 3);
    e->namelock = namelock ? talloc_strdup(e, namelock) : NULL;
    e->type = type_parse(type ? type : "");
    if (e->type < 0) {
        xlog(LOG_ERR, "%s: record %s: unknown type '%s'", db->path, e->name, type);
        talloc_free(e);
        return XAP_IMAP_MAILBOX_BADFORMAT;
    }
    obj = json_loads(extra ? extra : "{}", JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(obj)) {
        xlog(LOG_ERR, "%s: record %s: extra is not a JSON object (%s)",
             db->path, e->name, obj ? "another JSON value" : jerr.text);
        json_decref(obj);
        talloc_free(e);
        return XAP_IMAP_MAILBOX_BADFORMAT;
    }
    mtime = json_object_get(obj, "mtime");
    if (json_is_integer(mtime))
        e->mtime = json_integer_value(mtime);
    json_object_del(obj, "mtime");
    if (json_object_size(obj)) {
        char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
        e->extra = talloc_strdup(e, s);
        free(s);
    }
    json_decref(obj);
    *entry_r = e;
    return 0;
}

/* Runs ST (prepared with result RC; ?1 is KEY) for at most one record:
 * XAP_IMAP_MAILBOX_NONEXISTENT when there is none.  ST is left to the
 * caller (kept_row keeps it). */
static int one_row_run(void *ctx, sqlite3_stmt *st, int rc, const char *key,
                       const char *what, struct xap_mboxlist_entry **entry_r)
{
    int r;

    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = sqldb_step(db, st);
    }
    if (rc == SQLITE_ROW)
        r = row_to_entry(ctx, st, entry_r);
    else if (rc == SQLITE_DONE)
        r = XAP_IMAP_MAILBOX_NONEXISTENT;
    else
        r = sqldb_error(db, what, rc);
    return r;
}

/* one_row_run with the kept statement *STP, prepared from SQL at its
 * first use; after a failed prepare the next call prepares again. */
static int kept_row(void *ctx, sqlite3_stmt **stp, const char *sql, const char *key,
                    const char *what, struct xap_mboxlist_entry **entry_r)
{
    int rc = SQLITE_OK, r;

    *entry_r = NULL;
    if (!*stp)
        rc = sqlite3_prepare_v2(db->db, sql, -1, stp, NULL);
    r = one_row_run(ctx, *stp, rc, key, what, entry_r);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*stp);
        *stp = NULL;
    } else {
        sqlite3_reset(*stp);
        sqlite3_clear_bindings(*stp);
    }
    return r;
}

/* The record of NAME of any type: 0 and *ENTRY_R under CTX, or
 * XAP_IMAP_MAILBOX_NONEXISTENT. */
static int get_row(void *ctx, const char *name, struct xap_mboxlist_entry **entry_r)
{
    return kept_row(ctx, &row_st, "SELECT " COLUMNS " FROM mailboxes WHERE name = ?1", name,
                    "read a record", entry_r);
}

/* The text of the extra column for E, written at MTIME. */
static char *make_extra(void *ctx, const struct xap_mboxlist_entry *e, int64_t mtime)
{
    json_t *obj = e->extra ? json_loads(e->extra, JSON_REJECT_DUPLICATES, NULL)
                           : json_object();
    char *s, *text;

    json_object_set_new(obj, "mtime", json_integer(mtime));
    s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    text = talloc_strdup(ctx, s);
    free(s);
    json_decref(obj);
    return text;
}

/* Writes E (already checked) over whatever NAME has. */
static int put_row(const struct xap_mboxlist_entry *e)
{
    sqlite3_stmt *st = NULL;
    char *extra = make_extra(NULL, e, (int64_t)time(NULL));
    int rc;

    rc = sqlite3_prepare_v2(db->db, "INSERT OR REPLACE INTO mailboxes (" COLUMNS ")"
                            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, e->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, e->partition, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, e->uniqueid, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, e->uidvalidity);
        sqlite3_bind_text(st, 5, type_names[e->type], -1, SQLITE_STATIC);
        if (e->namelock)
            sqlite3_bind_text(st, 6, e->namelock, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, extra, -1, SQLITE_STATIC);
        rc = sqldb_step(db, st);
    }
    sqlite3_finalize(st);
    talloc_free(extra);
    return rc == SQLITE_DONE ? 0 : sqldb_error(db, "write a record", rc);
}

/* The checks of xap_mboxlist_create_exclusive(), before the database. */
static int check_entry(const struct xap_mboxlist_entry *e)
{
    json_t *obj;
    int ok;

    if (!e || !e->name || mboxname_validate(e->name))
        return XAP_IMAP_MAILBOX_BADNAME;
    if (e->namelock && mboxname_validate(e->namelock))
        return XAP_IMAP_MAILBOX_BADNAME;
    if (!e->partition || !config_partitiondir(NULL, e->partition)) {
        xlog(LOG_ERR, "mailbox %s: partition '%s' is not configured", e->name,
             e->partition ? e->partition : "(none)");
        return XAP_IMAP_PARTITION_UNKNOWN;
    }
    if (!e->uniqueid || !*e->uniqueid || e->type < 0 || e->type >= NTYPES)
        return XAP_IMAP_INVALID_ARGUMENT;
    if (!e->extra)
        return 0;
    obj = json_loads(e->extra, JSON_REJECT_DUPLICATES, NULL);
    ok = json_is_object(obj);
    json_decref(obj);
    return ok ? 0 : XAP_IMAP_INVALID_ARGUMENT;
}

/* ---------------------------------------------------------------- reads */

static int lookup(void *ctx, const char *name, int any,
                  struct xap_mboxlist_entry **entry_r)
{
    int r;

    *entry_r = NULL;
    if (!name || mboxname_validate(name))
        return XAP_IMAP_MAILBOX_BADNAME;
    if ((r = open_db(0)) || (r = get_row(ctx, name, entry_r)))
        return r == XAP_IMAP_NOTFOUND ? XAP_IMAP_MAILBOX_NONEXISTENT : r;
    if (!any && ((*entry_r)->type == XAP_MBTYPE_DELETED ||
                 (*entry_r)->type == XAP_MBTYPE_RESERVED)) {
        TALLOC_FREE(*entry_r);
        return XAP_IMAP_MAILBOX_NONEXISTENT;
    }
    return 0;
}

int xap_mboxlist_lookup(void *ctx, const char *name, struct xap_mboxlist_entry **entry_r)
{
    return lookup(ctx, name, 0, entry_r);
}

int xap_mboxlist_lookup_any(void *ctx, const char *name, struct xap_mboxlist_entry **entry_r)
{
    return lookup(ctx, name, 1, entry_r);
}

int xap_mboxlist_lookup_by_uniqueid(void *ctx, const char *uniqueid,
                                struct xap_mboxlist_entry **entry_r)
{
    int r;

    *entry_r = NULL;
    if (!uniqueid || !*uniqueid)
        return XAP_IMAP_INVALID_ARGUMENT;
    if ((r = open_db(0)))
        return r == XAP_IMAP_NOTFOUND ? XAP_IMAP_MAILBOX_NONEXISTENT : r;
    return kept_row(ctx, &uniqueid_st,
                    "SELECT " COLUMNS " FROM mailboxes"
                    " WHERE uniqueid = ?1 AND type NOT IN ('DELETED', 'RESERVED')"
                    " ORDER BY CASE type WHEN '' THEN 0"
                    " WHEN 'RENAMELOCKED' THEN 1 ELSE 2 END, name LIMIT 1",
                    uniqueid, "look up a uniqueid", entry_r);
}

int xap_mboxlist_next_uidvalidity(const char *name, uint32_t *uv_r)
{
    struct xap_mboxlist_entry *e = NULL;
    uint32_t uv = (uint32_t)time(NULL);
    int r;

    *uv_r = 0;
    if ((r = lookup(NULL, name, 1, &e)) && r != XAP_IMAP_MAILBOX_NONEXISTENT)
        return r;
    if (e && e->uidvalidity >= uv) {
        if (e->uidvalidity == UINT32_MAX) {
            xlog(LOG_ERR, "mailbox %s: no uidvalidity left above %u", name,
                 e->uidvalidity);
            talloc_free(e);
            return XAP_IMAP_INTERNAL;
        }
        uv = e->uidvalidity + 1;
    }
    talloc_free(e);
    *uv_r = uv;
    return 0;
}

/* One batch of foreach: up to FOREACH_BATCH entries after AFTER (NULL:
 * from the start), under CTX. */
static int foreach_batch(void *ctx, const char *prefix, int flags,
                         const char *after, struct xap_mboxlist_entry ***v_r)
{
    /* Names are valid UTF-8, which never has the byte 0xff, so
     * [P, P "\xff") is exactly the names that start with P in SQLite's
     * memcmp order. */
    const char *sql = (flags & XAP_MBOXLIST_TREE)
        ? "SELECT " COLUMNS " FROM mailboxes WHERE (name = ?1 OR"
          " (name >= ?2 AND name < ?3)) AND (?4 IS NULL OR name > ?4)"
          " AND (?5 OR type IN ('', 'RENAMELOCKED')) ORDER BY name LIMIT ?6"
        : "SELECT " COLUMNS " FROM mailboxes WHERE name >= ?2 AND name < ?3"
          " AND (?4 IS NULL OR name > ?4)"
          " AND (?5 OR type IN ('', 'RENAMELOCKED')) ORDER BY name LIMIT ?6";
    const char *start = (flags & XAP_MBOXLIST_TREE)
        ? talloc_asprintf(ctx, "%s%c", prefix, MBOXNAME_SEP) : prefix;
    char *end = talloc_asprintf(ctx, "%s\xff", start);
    struct xap_mboxlist_entry **v = talloc_array(ctx, struct xap_mboxlist_entry *, 0);
    sqlite3_stmt **stp = &foreach_st[!(flags & XAP_MBOXLIST_TREE)], *st;
    size_t n = 0;
    int rc = SQLITE_OK, r = 0;

    if (!*stp)
        rc = sqlite3_prepare_v2(db->db, sql, -1, stp, NULL);
    st = *stp;
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, start, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, end, -1, SQLITE_STATIC);
        if (after)
            sqlite3_bind_text(st, 4, after, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, !!(flags & XAP_MBOXLIST_ALL));
        sqlite3_bind_int(st, 6, FOREACH_BATCH);
        rc = sqldb_step(db, st);
        while (rc == SQLITE_ROW) {
            v = talloc_realloc(ctx, v, struct xap_mboxlist_entry *, n + 1);
            if ((r = row_to_entry(v, st, &v[n])))
                break;
            n++;
            rc = sqlite3_step(st);
        }
    }
    if (!r && rc != SQLITE_DONE)
        r = sqldb_error(db, "list records", rc);
    if (*stp && (rc == SQLITE_ROW || rc == SQLITE_DONE)) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        sqlite3_finalize(*stp);   /* failed: prepared again next time */
        *stp = NULL;
    }
    *v_r = talloc_realloc(ctx, v, struct xap_mboxlist_entry *, n);
    return r;
}

int xap_mboxlist_foreach(const char *prefix, int flags, xap_mboxlist_foreach_cb *cb,
                     void *rock)
{
    char *after = NULL;
    int r = 0;

    if (!prefix)
        prefix = "";
    if (!*prefix)
        flags &= ~XAP_MBOXLIST_TREE;
    for (;;) {
        void *tmp = talloc_new(NULL);
        struct xap_mboxlist_entry **v;
        size_t n;

            if ((r = open_db(0)) == XAP_IMAP_NOTFOUND) {
            r = 0;      /* no mailboxes.db yet: no mailboxes */
            talloc_free(tmp);
            break;
        }
        if (r || (r = foreach_batch(tmp, prefix, flags, after, &v))) {
            talloc_free(tmp);
            break;
        }
        n = talloc_array_length(v);
        for (size_t i = 0; i < n && !r; i++)
            r = cb(v[i], rock);
        if (r || n < FOREACH_BATCH) {
            talloc_free(tmp);
            break;
        }
        talloc_free(after);
        after = talloc_strdup(NULL, v[n - 1]->name);
        talloc_free(tmp);
    }
    talloc_free(after);
    return r;
}

static int collect_name(const struct xap_mboxlist_entry *e, void *rock)
{
    char ***names = rock;
    size_t n = talloc_array_length(*names);

    if (e->type != XAP_MBTYPE_NORMAL)
        return 0;
    *names = talloc_realloc(NULL, *names, char *, n + 1);   /* keeps its parent */
    (*names)[n] = talloc_strdup(*names, e->name);
    return 0;
}

int xap_mboxlist_collect_tree(const char *root, char ***names)
{
    return xap_mboxlist_foreach(root, XAP_MBOXLIST_TREE, collect_name, names);
}

/* ---------------------------------------------------------------- writes */

int xap_mboxlist_begin(struct xap_mboxlist_txn **txn_r)
{
    int rc, r;

    *txn_r = NULL;
    if ((r = open_db(1)))
        return r;
    lockorder_check(LOCKLEVEL_MBOXLIST, DBNAME, 0);
    if (cur_txn) {
        xlog(LOG_ERR, "%s: a second transaction in one process", db->path);
        return XAP_IMAP_INTERNAL;
    }
    if ((rc = sqldb_exec(db, "BEGIN IMMEDIATE")))
        return sqldb_error(db, "begin", rc);
    lockorder_acquired(LOCKLEVEL_MBOXLIST, DBNAME);
    cur_txn = talloc_zero(NULL, struct xap_mboxlist_txn);
    *txn_r = cur_txn;
    return 0;
}

/* TXN must be the process's transaction (a freed or forsaken one is a
 * bug). */
static int txn_ok(const struct xap_mboxlist_txn *txn)
{
    if (!forsaken && txn && txn == cur_txn && db)
        return 1;
    xlog(LOG_ERR, "mailboxes.db: write with a transaction that is not open");
    return 0;
}

int xap_mboxlist_commit(struct xap_mboxlist_txn **txnp)
{
    int rc, r = 0;

    if (!*txnp)
        return 0;
    if (!txn_ok(*txnp)) {
        *txnp = NULL;
        return XAP_IMAP_INTERNAL;
    }
    if ((rc = sqldb_exec(db, "COMMIT"))) {
        r = sqldb_error(db, "commit", rc);
        if (!sqlite3_get_autocommit(db->db))
            sqldb_exec(db, "ROLLBACK");
    }
    end_txn();
    *txnp = NULL;
    return r;
}

void xap_mboxlist_abort(struct xap_mboxlist_txn **txnp)
{
    if (!*txnp)
        return;
    if (txn_ok(*txnp)) {
        int rc = sqldb_exec(db, "ROLLBACK");
        if (rc)
            sqldb_error(db, "roll back", rc);
        end_txn();
    }
    *txnp = NULL;
}

/* Runs the body of a write in TXN, or in a transaction of its own when
 * TXN is NULL: write_start() then write_end(&own, r). */
static int write_start(struct xap_mboxlist_txn *txn, struct xap_mboxlist_txn **own_r)
{
    *own_r = NULL;
    if (txn) {
            return txn_ok(txn) ? 0 : XAP_IMAP_INTERNAL;
    }
    return xap_mboxlist_begin(own_r);
}

static int write_end(struct xap_mboxlist_txn **own, int r)
{
    if (!*own)
        return r;
    if (r) {
        xap_mboxlist_abort(own);
        return r;
    }
    return xap_mboxlist_commit(own);
}

int xap_mboxlist_create_exclusive(struct xap_mboxlist_txn *txn,
                              const struct xap_mboxlist_entry *entry)
{
    struct xap_mboxlist_txn *own;
    struct xap_mboxlist_entry *old = NULL;
    int r;

    if ((r = check_entry(entry)) || (r = write_start(txn, &own)))
        return r;
    r = get_row(NULL, entry->name, &old);
    if (r == 0 && old->type != XAP_MBTYPE_DELETED)
        r = XAP_IMAP_MAILBOX_EXISTS;
    else if (r == 0 || r == XAP_IMAP_MAILBOX_NONEXISTENT)
        r = put_row(entry);
    talloc_free(old);
    return write_end(&own, r);
}

int xap_mboxlist_update(struct xap_mboxlist_txn *txn, const struct xap_mboxlist_entry *entry)
{
    struct xap_mboxlist_txn *own;
    struct xap_mboxlist_entry *old = NULL;
    int r;

    if ((r = check_entry(entry)) || (r = write_start(txn, &own)))
        return r;
    if (!(r = get_row(NULL, entry->name, &old)))
        r = put_row(entry);
    talloc_free(old);
    return write_end(&own, r);
}

int xap_mboxlist_delete(struct xap_mboxlist_txn *txn, const char *name)
{
    struct xap_mboxlist_txn *own;
    struct xap_mboxlist_entry *e = NULL;
    int r;

    if (!name || mboxname_validate(name))
        return XAP_IMAP_MAILBOX_BADNAME;
    if ((r = write_start(txn, &own)))
        return r;
    r = get_row(NULL, name, &e);
    if (r == 0 && e->type == XAP_MBTYPE_DELETED)
        r = XAP_IMAP_MAILBOX_NONEXISTENT;
    if (r == 0) {
        e->type = XAP_MBTYPE_DELETED;
        TALLOC_FREE(e->namelock);
        r = put_row(e);
    }
    talloc_free(e);
    return write_end(&own, r);
}

int xap_mboxlist_remove(struct xap_mboxlist_txn *txn, const char *name)
{
    struct xap_mboxlist_txn *own;
    sqlite3_stmt *st = NULL;
    int rc, r;

    if (!name || mboxname_validate(name))
        return XAP_IMAP_MAILBOX_BADNAME;
    if ((r = write_start(txn, &own)))
        return r;
    rc = sqlite3_prepare_v2(db->db, "DELETE FROM mailboxes WHERE name = ?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sqldb_step(db, st);
    }
    if (rc != SQLITE_DONE)
        r = sqldb_error(db, "remove a record", rc);
    else if (sqlite3_changes(db->db) == 0)
        r = XAP_IMAP_MAILBOX_NONEXISTENT;
    sqlite3_finalize(st);
    return write_end(&own, r);
}
