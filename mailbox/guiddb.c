/* guiddb.c - see guiddb.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/config.h"
#include "common/init.h"
#include "common/lockorder.h"
#include "common/mboxname.h"
#include "common/sqldb.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/guiddb.h"
#include "mailbox/loccache.h"
#include "mailbox/message.h"
#include "mailbox/userdata.h"

enum { ST_ADD, ST_REMOVE, ST_REMOVE_MAILBOX, ST_GET_SYNCED, ST_SET_SYNCED,
       ST_LOOKUP, ST_MAILBOX_GUIDS, ST_ALL_LOCATIONS, ST_FROM_GUID, ST_DATA_VERSION,
       ST_BEGIN, ST_BEGIN_WRITE, ST_SNAPSHOT, ST_COMMIT, ST_ROLLBACK, ST_COUNT };

static const char *const sql[ST_COUNT] = {
    "INSERT OR REPLACE INTO locations (guid, uniqueid, uid) VALUES (?1, ?2, ?3)",
    "DELETE FROM locations WHERE uniqueid = ?1 AND uid = ?2",
    "DELETE FROM locations WHERE uniqueid = ?1",
    "SELECT modseq FROM synced WHERE uniqueid = ?1",
    "INSERT OR REPLACE INTO synced (uniqueid, modseq) VALUES (?1, ?2)",
    "SELECT uniqueid, uid FROM locations WHERE guid = ?1 ORDER BY uniqueid, uid",
    "SELECT DISTINCT guid FROM locations WHERE uniqueid = ?1",
    /* the guid index's order: it holds every column, so no table read */
    "SELECT guid, uniqueid, uid FROM locations ORDER BY guid, uniqueid, uid",
    /* the same order from a GUID on: a seek, then a walk */
    "SELECT guid, uniqueid, uid FROM locations WHERE guid >= ?1 ORDER BY guid, uniqueid, uid",
    /* changes when another connection, of any process, has committed */
    "PRAGMA data_version",
    /* the transactions' own, prepared once per connection like the rest
     * (compiled at every search they were 4% of a small one's CPU) */
    "BEGIN",
    "BEGIN IMMEDIATE",
    "SELECT count(*) FROM synced",
    "COMMIT",
    "ROLLBACK",
};

/* A connection's locations in memory (guiddb_lookup_sorted). */
struct rows_mem {
    struct loccache *cache;      /* under the connection's sql, or NULL */
    int64_t version;             /* the data_version it is true for */
    /* The data_version of the last dense search that found no cache:
     * the rows are read at the second dense search of a version */
    int64_t dense_version;
    int dense_seen;
};

struct guiddb {
    struct sqldb *sql;
    sqlite3 *db;                 /* sql's */
    char *path;
    char *lockname;
    sqlite3_stmt *st[ST_COUNT];
    int in_txn;          /* 0, 1 read, 2 write */
    int keep;            /* opened by guiddb_open_reader: its connection
                          * is kept for the next one when closed */
    struct rows_mem mem;
};

/* The connection of the last GUID db a reader closed in this process, its
 * statements prepared, for the next reader's open (guiddb_open_reader):
 * opening the file (WAL and its index, the schema read) was half of what
 * an empty search cost.  It holds no transaction, so no lock level and no
 * snapshot: each search's guiddb_begin takes a new one.  A file renamed
 * over it or removed since is noticed at the next open (SQLite's
 * SQLITE_FCNTL_HAS_MOVED: the path no longer names the inode it has open)
 * and that connection closed.  Closed before a fork (SQLite's POSIX locks
 * are per process: a child would believe it holds the parent's), at
 * guiddb_forget and at xap_done. */
struct spare {
    struct sqldb *sql;           /* NULL: none; sql->path is the file */
    sqlite3_stmt *st[ST_COUNT];
    pid_t pid;
    struct rows_mem mem;         /* the connection's */
};
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct spare spare;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

char *user_config_dir(void *ctx, const char *userid)
{
    const char *confdir = config_configdirectory(NULL);
    char *base, *name, *path;

    if (!confdir || mboxname_userid_validate(userid))
        return NULL;
    base = talloc_asprintf(NULL, "%s/user", confdir);
    name = talloc_asprintf(base, "user.%s", userid);
    path = mboxname_hashed_path(ctx, base, name);
    if (path && path_check_beneath(base, path))
        TALLOC_FREE(path);
    talloc_free(base);
    return path;
}

char *guiddb_file(void *ctx, const char *userid)
{
    char *dir = user_config_dir(NULL, userid);
    char *path = dir ? talloc_asprintf(ctx, "%s/guid.db", dir) : NULL;

    talloc_free(dir);
    return path;
}

static int check_synced(const char *userid, const char *name, int have_db,
                        uint64_t synced, uint32_t last_uid)
{
    char *path;

    if (last_uid == 0 || synced > 0)
        return 0;
    path = guiddb_file(NULL, userid);
    if (!have_db && path && access(path, F_OK) == 0) {
        talloc_free(path);        /* made by a first append since */
        return 0;
    }
    xlog(LOG_ERR, "user %s: GUID db %s %s mailbox %s, which has mail (lost?): "
         "rebuild it with mbctl reconstruct -u %s", userid, path ? path : "?",
         have_db ? "does not describe" : "is missing: it must describe", name, userid);
    talloc_free(path);
    return XAP_IMAP_SEARCH_CORRUPT;
}

int guiddb_check_mailbox(struct guiddb *db, const char *userid, const char *name,
                         const char *uniqueid, uint32_t last_uid)
{
    uint64_t synced = 0;
    int r;

    if (db && last_uid && (r = guiddb_get_synced(db, uniqueid, &synced)))
        return r;
    return check_synced(userid, name, db != NULL, synced, last_uid);
}

static const struct sqldb_spec spec = {
    .label = "GUID db ",
    .kind = "GUID db",
    .synchronous = "NORMAL",
};

/* A search's connection (guiddb_open_reader): one search uses it at a
 * time, and between searches it waits in the spare slot, which hands it
 * to one taker under spare_lock.  A search steps along thousands of rows
 * (the walk, the rows read into memory), and SQLite's mutex, taken by
 * every step and column call, was 7% of reading 10,000 rows. */
static const struct sqldb_spec reader_spec = {
    .label = "GUID db ",
    .kind = "GUID db",
    .synchronous = "NORMAL",
    .one_thread = 1,
};

static int fail(struct guiddb *db, const char *what, int rc)
{
    return sqldb_error(db->sql, what, rc);
}

/* The format version (PRAGMA user_version), docs/FORMAT.md "guid.db".  A
 * newer file is refused: its rows may mean something else.  0 is a file
 * made before the version was written (the same format), or a new one:
 * both get this version at their first open. */
#define GUIDDB_VERSION 1

static int check_version(struct guiddb *db)
{
    int64_t version = -1;
    int rc = sqldb_query_int(db->sql, "PRAGMA user_version", &version);

    /* Garbage in place of the file is XAP_IMAP_MAILBOX_BADFORMAT (sqldb_error). */
    if (rc != SQLITE_OK)
        return fail(db, "read the format version", rc);
    if (version > GUIDDB_VERSION) {
        xlog(LOG_ERR, "GUID db %s: format version %lld is newer than %d, the newest this "
             "xapiary reads: upgrade xapiary (nothing was read or written)", db->path,
             (long long)version, GUIDDB_VERSION);
        return XAP_IMAP_MAILBOX_NOTSUPPORTED;
    }
    if (version == 0) {
        char *set = talloc_asprintf(NULL, "PRAGMA user_version = %d", GUIDDB_VERSION);
        rc = sqldb_exec(db->sql, set);
        talloc_free(set);
        /* A read-only file keeps 0, which means the same format. */
        if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_READONLY)
            return fail(db, "write the format version", rc);
    }
    return 0;
}

/* Closes S's connection (of this process: a child's copy is forgotten,
 * never closed) and empties S. */
static void spare_close(struct spare *s)
{
    if (s->sql && s->pid == getpid()) {
        for (int i = 0; i < ST_COUNT; i++)
            sqlite3_finalize(s->st[i]);
        talloc_free(s->sql);
    }
    memset(s, 0, sizeof *s);
}

/* The spare, taken out of the slot (empty when there was none). */
static struct spare spare_take(void)
{
    struct spare s;

    pthread_mutex_lock(&spare_lock);
    s = spare;
    memset(&spare, 0, sizeof spare);
    pthread_mutex_unlock(&spare_lock);
    return s;
}

static void spare_drop(void)
{
    struct spare s = spare_take();

    spare_close(&s);
}

static void spare_init(void)
{
    pthread_atfork(spare_drop, NULL, NULL);
    xapiary_atdone(spare_drop);
}

static int destroy(struct guiddb *db)
{
    if (db->in_txn == 2)
        lockorder_released(LOCKLEVEL_GUIDDB, db->lockname);
    if (db->keep && !db->in_txn) {
        struct spare old, s = { db->sql, { 0 }, getpid(), db->mem };
        memcpy(s.st, db->st, sizeof s.st);
        pthread_once(&spare_once, spare_init);
        pthread_mutex_lock(&spare_lock);
        old = spare;
        spare = s;
        pthread_mutex_unlock(&spare_lock);
        spare_close(&old);
        return 0;
    }
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(db->st[i]);
    talloc_free(db->sql);       /* the statements first */
    return 0;
}

/* A schema that is not a GUID db's is XAP_IMAP_MAILBOX_BADFORMAT; a
 * failed read or write (a full disk, EIO) is an I/O error, not a file in
 * a bad format. */
static int prepare_failed(struct guiddb *db, int rc)
{
    int bad = (rc & 0xff) != SQLITE_IOERR && rc != SQLITE_FULL &&
              rc != SQLITE_CANTOPEN && rc != SQLITE_READONLY && rc != SQLITE_NOMEM &&
              rc != SQLITE_PERM;
    int r = fail(db, bad ? "not a GUID db" : "open", rc);

    return bad ? XAP_IMAP_MAILBOX_BADFORMAT : r;
}

static int open_spec(void *ctx, const char *userid, int create, const struct sqldb_spec *sp,
                     struct guiddb **db_r)
{
    struct guiddb *db;
    char *path = guiddb_file(NULL, userid), *waiting;
    int rc, r;

    *db_r = NULL;
    if (!path)
        return XAP_IMAP_MAILBOX_BADNAME;
    if ((r = userdata_check(userid))) {
        talloc_free(path);
        return r;       /* another incarnation's: never read nor written */
    }
    db = talloc_zero(ctx, struct guiddb);
    db->path = talloc_steal(db, path);
    db->lockname = talloc_asprintf(db, "GUID db of %s", userid);
    if (create && mkdir_parents(db->path, 0700)) {
        talloc_free(db);
        return XAP_IMAP_IOERROR;
    }
    waiting = talloc_asprintf(db, "the write lock of the %s", db->lockname);
    /* Not a child of DB: the destructor frees it after the statements. */
    r = sqldb_open(NULL, db->path, sp, create, waiting, &db->sql);
    if (r) {
        talloc_free(db);
        return r;
    }
    db->db = db->sql->db;
    talloc_set_destructor(db, destroy);
    if ((r = check_version(db))) {
        talloc_free(db);
        return r;
    }
    rc = sqldb_exec(db->sql,
        "CREATE TABLE IF NOT EXISTS locations (guid BLOB NOT NULL,"
        " uniqueid TEXT NOT NULL, uid INTEGER NOT NULL,"
        " PRIMARY KEY (uniqueid, uid)) WITHOUT ROWID;"
        "CREATE INDEX IF NOT EXISTS locations_guid ON locations (guid);"
        "CREATE TABLE IF NOT EXISTS synced (uniqueid TEXT PRIMARY KEY,"
        " modseq INTEGER NOT NULL) WITHOUT ROWID;");
    /* The statements are prepared at their first use (stmt()): a search
     * uses two or three of them, and preparing all of them was a good
     * part of the fixed cost of every search (docs/PERFORMANCE.md
     * "Search: API vs raw Xapian"). */
    if (rc != SQLITE_OK) {
        r = prepare_failed(db, rc);
        talloc_free(db);
        return r;
    }
    *db_r = db;
    return 0;
}

int guiddb_open(void *ctx, const char *userid, int create, struct guiddb **db_r)
{
    return open_spec(ctx, userid, create, &spec, db_r);
}

int guiddb_open_reader(void *ctx, const char *userid, struct guiddb **db_r)
{
    struct guiddb *db;
    struct spare s = spare_take();
    char *path;
    int moved = 1, r;

    *db_r = NULL;
    if (s.sql && s.pid == getpid() && (path = guiddb_file(NULL, userid))) {
        if (!strcmp(path, s.sql->path) && !(r = userdata_check(userid)) &&
            sqlite3_file_control(s.sql->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) ==
                SQLITE_OK && !moved) {
            db = talloc_zero(ctx, struct guiddb);
            db->path = talloc_steal(db, path);
            db->lockname = talloc_asprintf(db, "GUID db of %s", userid);
            db->sql = s.sql;
            db->db = s.sql->db;
            memcpy(db->st, s.st, sizeof db->st);
            db->mem = s.mem;
            db->keep = 1;
            talloc_set_destructor(db, destroy);
            /* a newer xapiary may have raised it in place */
            if ((r = check_version(db))) {
                db->keep = 0;
                talloc_free(db);
                return r;
            }
            *db_r = db;
            return 0;
        }
        talloc_free(path);
    }
    spare_close(&s);
    if ((r = open_spec(ctx, userid, 0, &reader_spec, &db)))
        return r;
    db->keep = 1;
    *db_r = db;
    return 0;
}

void guiddb_forget_reader(void)
{
    spare_drop();
}

/* Statement I, prepared now if it was not yet: NULL (and *R_OUT set,
 * logged) when it cannot be, as for a file whose tables are not a GUID
 * db's. */
static sqlite3_stmt *stmt(struct guiddb *db, int i, int *r_out)
{
    int rc;

    if (db->st[i])
        return db->st[i];
    rc = sqlite3_prepare_v2(db->db, sql[i], -1, &db->st[i], NULL);
    if (rc == SQLITE_OK)
        return db->st[i];
    *r_out = prepare_failed(db, rc);
    return NULL;
}

void guiddb_close(struct guiddb **dbp)
{
    if (*dbp && (*dbp)->in_txn)
        guiddb_abort(*dbp);
    TALLOC_FREE(*dbp);
}

/* Runs statement I of a transaction to its end: an SQLite code. */
static int txn_step(struct guiddb *db, int i)
{
    int rc, r = 0;
    sqlite3_stmt *st = stmt(db, i, &r);

    if (!st)
        return SQLITE_ERROR;   /* logged by stmt() */
    while ((rc = sqldb_step(db->sql, st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int guiddb_begin(struct guiddb *db, int write)
{
    if (write) {
        lockorder_check(LOCKLEVEL_GUIDDB, db->lockname, 0);
        /* this connection's own commits leave data_version alone */
        TALLOC_FREE(db->mem.cache);
        db->mem.dense_seen = 0;
    }
    int rc = txn_step(db, write ? ST_BEGIN_WRITE : ST_BEGIN);

    if (rc != SQLITE_OK)
        return fail(db, "begin", rc);
    db->in_txn = write ? 2 : 1;
    if (write)
        lockorder_acquired(LOCKLEVEL_GUIDDB, db->lockname);
    else
        /* A read snapshot starts at the first read, not at BEGIN: take it
         * now, before the caller takes the Xapian locks. */
        txn_step(db, ST_SNAPSHOT);
    return 0;
}

static void end_txn(struct guiddb *db)
{
    if (db->in_txn == 2)
        lockorder_released(LOCKLEVEL_GUIDDB, db->lockname);
    db->in_txn = 0;
}

int guiddb_commit(struct guiddb *db)
{
    int rc = txn_step(db, ST_COMMIT);

    if (rc != SQLITE_OK) {
        int r = fail(db, "commit", rc);
        guiddb_abort(db);
        return r;
    }
    end_txn(db);
    return 0;
}

void guiddb_abort(struct guiddb *db)
{
    if (!db->in_txn)
        return;
    txn_step(db, ST_ROLLBACK);
    end_txn(db);
}

/* Runs statement I to completion (no rows expected). */
static int run(struct guiddb *db, sqlite3_stmt *st, int i)
{
    int rc = sqldb_step(db->sql, st);

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : fail(db, sql[i], rc);
}

int guiddb_add(struct guiddb *db, const uint8_t guid[XAP_MESSAGE_GUID_SIZE],
               const char *uniqueid, uint32_t uid)
{
    int r = 0;
    sqlite3_stmt *st = stmt(db, ST_ADD, &r);

    if (!st)
        return r;
    sqlite3_bind_blob(st, 1, guid, XAP_MESSAGE_GUID_SIZE, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, uniqueid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, uid);
    return run(db, st, ST_ADD);
}

int guiddb_remove(struct guiddb *db, const char *uniqueid, uint32_t uid)
{
    int r = 0;
    sqlite3_stmt *st = stmt(db, ST_REMOVE, &r);

    if (!st)
        return r;
    sqlite3_bind_text(st, 1, uniqueid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, uid);
    return run(db, st, ST_REMOVE);
}

int guiddb_remove_mailbox(struct guiddb *db, const char *uniqueid)
{
    int r = 0;
    sqlite3_stmt *st = stmt(db, ST_REMOVE_MAILBOX, &r);

    if (!st)
        return r;
    sqlite3_bind_text(st, 1, uniqueid, -1, SQLITE_STATIC);
    return run(db, st, ST_REMOVE_MAILBOX);
}

int guiddb_get_synced(struct guiddb *db, const char *uniqueid, uint64_t *modseq_r)
{
    int rc, r = 0;
    sqlite3_stmt *st = stmt(db, ST_GET_SYNCED, &r);

    *modseq_r = 0;
    if (!st)
        return r;
    sqlite3_bind_text(st, 1, uniqueid, -1, SQLITE_STATIC);
    rc = sqldb_step(db->sql, st);
    if (rc == SQLITE_ROW)
        *modseq_r = (uint64_t)sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        r = fail(db, "get synced", rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

int guiddb_set_synced(struct guiddb *db, const char *uniqueid, uint64_t modseq)
{
    int r = 0;
    sqlite3_stmt *st = stmt(db, ST_SET_SYNCED, &r);

    if (!st)
        return r;
    sqlite3_bind_text(st, 1, uniqueid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)modseq);
    return run(db, st, ST_SET_SYNCED);
}

int guiddb_lookup(struct guiddb *db, const uint8_t guid[XAP_MESSAGE_GUID_SIZE],
                  guiddb_location_fn *cb, void *rock)
{
    int rc, r = 0;
    sqlite3_stmt *st = stmt(db, ST_LOOKUP, &r);

    if (!st)
        return r;

    sqlite3_bind_blob(st, 1, guid, XAP_MESSAGE_GUID_SIZE, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        r = cb(rock, (const char *)sqlite3_column_text(st, 0),
               (uint32_t)sqlite3_column_int64(st, 1));
        if (r)
            break;
    }
    if (!r && rc != SQLITE_DONE)
        r = fail(db, "lookup", rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

int guiddb_foreach_guid(struct guiddb *db, const char *uniqueid,
                        guiddb_guid_fn *cb, void *rock)
{
    int rc, r = 0;
    sqlite3_stmt *st = stmt(db, ST_MAILBOX_GUIDS, &r);

    if (!st)
        return r;

    sqlite3_bind_text(st, 1, uniqueid, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != XAP_MESSAGE_GUID_SIZE)
            continue;
        r = cb(rock, sqlite3_column_blob(st, 0));
        if (r)
            break;
    }
    if (!r && rc != SQLITE_DONE)
        r = fail(db, "listing a mailbox's GUIDs", rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

int guiddb_foreach_location(struct guiddb *db, guiddb_row_fn *cb, void *rock)
{
    int rc, r = 0;
    sqlite3_stmt *st = stmt(db, ST_ALL_LOCATIONS, &r);

    if (!st)
        return r;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != XAP_MESSAGE_GUID_SIZE)
            continue;
        r = cb(rock, sqlite3_column_blob(st, 0), (const char *)sqlite3_column_text(st, 1),
               (uint32_t)sqlite3_column_int64(st, 2));
        if (r)
            break;
    }
    if (!r && rc != SQLITE_DONE)
        r = fail(db, "listing every location", rc);
    sqlite3_reset(st);
    return r;
}

/* A seek in the GUID index costs about as much as this many steps of a
 * walk along it: the walk of a search's hits took least CPU with 3 to 6
 * at 10,000 and at 100,000 messages, 15% less than a look-up per GUID
 * (docs/PERFORMANCE-SEARCH.md "Search: the walk of the GUID index"). */
#define SEEK_STEPS 4.0

/* Is WANT, after ROW in the index, expected further away than a seek? */
static int far_ahead(const uint8_t *row, const uint8_t *want, double rows_per_unit)
{
    return (double)(message_guid_prefix(want) - message_guid_prefix(row)) * rows_per_unit >
           SEEK_STEPS;
}

/* The locations held in memory (loccache.h): built for a search with
 * hits for at least one row in CACHE_DENSITY, whose walk steps along
 * most of the index anyway, and only when the rows fit in the memory
 * search_cache_mib allows; used by every search of the connection until
 * another connection commits.  Built at the second dense search that
 * sees the same data_version, not the first: while an indexer or a
 * delivery commits between two dense searches, each build (every row
 * read, about 1.5 ms at 10,000 messages) served one search, which the
 * walk answers for less (docs/PERFORMANCE-SEARCH.md "The rows in memory
 * while the mail changes"). */
#define CACHE_DENSITY 8
/* cache_row's "no more": not an XAP_IMAP_* code */
#define CACHE_FULL (-1)

static atomic_ulong cache_builds;

unsigned long guiddb_cache_builds(void)
{
    return atomic_load(&cache_builds);
}

struct cache_fill {
    struct loccache *cache;
    size_t max;
};

static int cache_row(void *rock, const uint8_t guid[XAP_MESSAGE_GUID_SIZE],
                     const char *uniqueid, uint32_t uid)
{
    struct cache_fill *f = rock;

    /* past the bound (more rows than the search counted): stop, and
     * leave the db to the walk */
    if (loccache_rows(f->cache) == f->max)
        return CACHE_FULL;
    return loccache_add(f->cache, guid, uniqueid, uid);
}

/* DB's cache, true for the snapshot of the search's read transaction: a
 * cache built at the same data_version saw the same rows (SQLite moves a
 * connection's data_version on at the first read after any other
 * connection's commit).  NULL when there is none to use (and *R_OUT set
 * when the version cannot be read). */
static struct loccache *true_cache(struct guiddb *db, size_t n, uint64_t rows, int *r_out)
{
    struct cache_fill fill;
    size_t max;
    sqlite3_stmt *st;
    int64_t version;
    int rc, r;

    if (!db->keep || !db->in_txn || !(st = stmt(db, ST_DATA_VERSION, r_out)))
        return NULL;
    rc = sqlite3_step(st);
    version = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) {
        *r_out = fail(db, "data_version", rc);
        return NULL;
    }
    if (db->mem.cache && db->mem.version == version)
        return db->mem.cache;
    TALLOC_FREE(db->mem.cache);
    max = (size_t)config_search_cache_mib(NULL) * 1048576 / LOCCACHE_ROW_BYTES;
    if (n < rows / CACHE_DENSITY || rows > max)
        return NULL;
    if (!db->mem.dense_seen || db->mem.dense_version != version) {
        db->mem.dense_seen = 1;
        db->mem.dense_version = version;
        return NULL;
    }
    if (!(db->mem.cache = loccache_new(db->sql, rows)))
        return NULL;
    db->mem.version = version;
    fill.cache = db->mem.cache;
    fill.max = max;
    if ((r = guiddb_foreach_location(db, cache_row, &fill))) {
        TALLOC_FREE(db->mem.cache);
        if (r != CACHE_FULL)
            *r_out = r;
        return NULL;
    }
    loccache_trim(db->mem.cache);
    atomic_fetch_add(&cache_builds, 1);
    return db->mem.cache;
}

int guiddb_lookup_sorted(struct guiddb *db, const uint8_t *const *guids, size_t n,
                         uint64_t rows, guiddb_match_fn *cb, void *rock)
{
    int rc, r = 0;
    size_t i = 0;
    sqlite3_stmt *st;
    struct loccache *cache;
    /* 2^-64: rows between two GUIDs per unit of their prefixes' difference */
    double rows_per_unit = (double)rows / 18446744073709551616.0;

    if (!n)
        return 0;
    if ((cache = true_cache(db, n, rows, &r)))
        return loccache_lookup(cache, guids, n, cb, rock);
    if (r || !(st = stmt(db, ST_FROM_GUID, &r)))
        return r;
    sqlite3_bind_blob(st, 1, guids[0], XAP_MESSAGE_GUID_SIZE, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *g = sqlite3_column_blob(st, 0);
        int cmp = 1;
        if (sqlite3_column_bytes(st, 0) != XAP_MESSAGE_GUID_SIZE)
            continue;
        /* the wanted GUIDs before this row have no more locations */
        while (i < n && (cmp = memcmp(guids[i], g, XAP_MESSAGE_GUID_SIZE)) < 0)
            i++;
        if (i == n)
            break;
        if (!cmp) {
            if ((r = cb(rock, i, (const char *)sqlite3_column_text(st, 1),
                        (uint32_t)sqlite3_column_int64(st, 2))))
                break;
        } else if (far_ahead(g, guids[i], rows_per_unit)) {
            /* the next step seeks guids[i] instead of walking to it */
            sqlite3_reset(st);
            sqlite3_bind_blob(st, 1, guids[i], XAP_MESSAGE_GUID_SIZE, SQLITE_STATIC);
        }
    }
    if (!r && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(db, "lookup", rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}
