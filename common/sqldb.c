/* sqldb.c - opening a SQLite database and waiting for its locks (see
 * sqldb.h).
 *
 * Why one busy wait and not sqlite3_busy_timeout: SQLite's own handler
 * neither says what it waits for nor follows namelock_timeout, and it is
 * not called at all when a statement cannot get a read snapshot (BUSY at
 * once, e.g. while another connection recovers the WAL); sqldb_step
 * retries those within the same wait.
 *
 * Why the file is made with O_EXCL: POSIX locks, which SQLite uses, are
 * the process's, and a close() of any descriptor of the file drops every
 * one of them.  A raw open()+close() of a database that a connection of
 * this process has open makes that connection lose its locks without
 * knowing; another process's connection, closing, then takes itself for
 * the last one, checkpoints and deletes the WAL under it ("database disk
 * image is malformed").  With O_EXCL a descriptor exists only when the
 * file did not, so nobody can have had it open. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/config.h"
#include "common/lockwait.h"
#include "common/sqldb.h"
#include "common/util.h"
#include "common/xlog.h"

/* How long a wait goes unreported (as lockwait.c). */
#define REPORT_AFTER_S 1.0

static void start_wait(struct sqldb *db)
{
    unsigned timeout = config_namelock_timeout(NULL);

    db->started = now_seconds();
    db->deadline = timeout ? db->started + timeout : 0;
    db->told = 0;
}

/* SQLite's busy handler and sqldb_step's retry rule: 1 = slept, try
 * again; 0 = give up. */
static int busy_wait(void *arg, int count)
{
    static const int ms[] = { 1, 2, 5, 10, 20, 50, 100 };
    int n = (int)(sizeof ms / sizeof ms[0]);
    struct sqldb *db = arg;
    struct timespec ts;
    double now;

    /* A statement stepped by SQLite alone (not sqldb_step) starts its
     * wait at SQLite's first call. */
    if (count == 0 && !db->stepping)
        start_wait(db);
    now = now_seconds();
    if (db->deadline && now >= db->deadline)
        return 0;
    if (!db->told && now - db->started >= REPORT_AFTER_S) {
        /* SQLite's lock is a POSIX lock on the file; /proc/locks would
         * name the holder, but SQLite keeps its descriptor to itself. */
        lockwait_report(-1, db->waiting);
        db->told = 1;
    }
    ts.tv_sec = 0;
    ts.tv_nsec = (long)ms[count < n ? count : n - 1] * 1000000L;
    nanosleep(&ts, NULL);
    return 1;
}

static int is_busy(int rc)
{
    return (rc & 0xff) == SQLITE_BUSY;
}

int sqldb_step(struct sqldb *db, sqlite3_stmt *st)
{
    int rc, count = 0;

    start_wait(db);
    db->stepping = 1;
    while (is_busy(rc = sqlite3_step(st)) && busy_wait(db, count++))
        sqlite3_reset(st);
    db->stepping = 0;
    return rc;
}

int sqldb_exec(struct sqldb *db, const char *sql)
{
    int rc = SQLITE_OK;

    while (rc == SQLITE_OK && *sql) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;

        rc = sqlite3_prepare_v2(db->db, sql, -1, &st, &tail);
        if (rc == SQLITE_OK && st) {
            while ((rc = sqldb_step(db, st)) == SQLITE_ROW)
                ;
            if (rc == SQLITE_DONE)
                rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
        sql = tail ? tail : "";
    }
    return rc;
}

int sqldb_query_int(struct sqldb *db, const char *sql, int64_t *v_r)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->db, sql, -1, &st, NULL);

    if (rc == SQLITE_OK && (rc = sqldb_step(db, st)) == SQLITE_ROW) {
        *v_r = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int sqldb_error(struct sqldb *db, const char *what, int rc)
{
    const char *label = db->spec->label;
    const char *msg = db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc);
    int sys = db->db ? sqlite3_system_errno(db->db) : 0;

    switch (rc & 0xff) {
    case SQLITE_BUSY:
        xlog(LOG_ERR, "%s%s: %s: still locked by another process after "
             "namelock_timeout", label, db->path, what);
        return XAP_IMAP_MAILBOX_LOCKED;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_SCHEMA:
        xlog(LOG_ERR, "%s%s: not a valid %s (%s: %s)", label, db->path,
             db->spec->kind, what, msg);
        return XAP_IMAP_MAILBOX_BADFORMAT;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
        if (sys) {
            xlog(LOG_ERR, "%s%s: %s: %s: %s", label, db->path, what, msg,
                 strerror(sys));
            return XAP_IMAP_IOERROR;
        }
        break;
    }
    xlog(LOG_ERR, "%s%s: %s: %s", label, db->path, what, msg);
    return XAP_IMAP_IOERROR;
}

/* Why SQLite's open() goes through open_keeping_cause: when the unix VFS
 * cannot open a file read-write it tries again read-only and without
 * O_CREAT.  That retry is meant for a file we may not write (EACCES,
 * EPERM, EROFS: the read-only spool), but SQLite makes it whatever the
 * cause, and then either fails with ENOENT for a -wal or -shm that was
 * to be made, which SQLite keeps as the cause ("No such file or
 * directory" for a disk that failed or was full), or opens the
 * database read-only, which fails at its first write ("attempt to write
 * a readonly database", no cause at all).  So after any other failure
 * the wrapper fails the retry at once with the first failure's errno,
 * and after those three it gives a failed retry the first errno.  It
 * goes in through the unix VFS's own table of system calls
 * (xSetSystemCall), once, before this process opens its first database;
 * for every other call it is SQLite's open. */
typedef int (*sqlite_open_fn)(const char *, int, int);
static sqlite_open_fn sqlite_open;
static pthread_once_t wrap_once = PTHREAD_ONCE_INIT;
/* The read-write open that just failed, and why: the retry is the very
 * next open SQLite makes, of the same name (the same pointer). */
static __thread const char *failed_path;
static __thread int failed_errno;

static int open_keeping_cause(const char *path, int flags, int mode)
{
    int retry = (flags & O_ACCMODE) == O_RDONLY && failed_path == path;
    int fd;

    failed_path = NULL;
    if (retry && failed_errno != EACCES && failed_errno != EPERM && failed_errno != EROFS) {
        errno = failed_errno;
        return -1;
    }
    fd = sqlite_open(path, flags, mode);
    if (fd >= 0)
        return fd;
    if (retry) {
        errno = failed_errno;
    } else if ((flags & O_ACCMODE) == O_RDWR) {
        failed_path = path;
        failed_errno = errno;
    }
    return fd;
}

static void wrap_open(void)
{
    sqlite3_vfs *vfs = sqlite3_vfs_find("unix");

    if (!vfs || vfs->iVersion < 3 || !vfs->xGetSystemCall || !vfs->xSetSystemCall)
        return;
    sqlite_open = (sqlite_open_fn)vfs->xGetSystemCall(vfs, "open");
    if (sqlite_open)
        vfs->xSetSystemCall(vfs, "open", (sqlite3_syscall_ptr)open_keeping_cause);
}

static int destroy_sqldb(struct sqldb *db)
{
    if (db->db)
        sqlite3_close_v2(db->db);
    return 0;
}

/* Switches to WAL and checks that it took: the first statement reads the
 * header, so a file that is not a database shows here. */
static int set_wal(struct sqldb *db)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);

    if (rc == SQLITE_OK && (rc = sqldb_step(db, st)) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        if (!mode || strcmp(mode, "wal")) {
            xlog(LOG_ERR, "%s%s: cannot switch to WAL mode (journal mode %s)",
                 db->spec->label, db->path, mode ? mode : "unknown");
            sqlite3_finalize(st);
            return XAP_IMAP_IOERROR;
        }
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc ? sqldb_error(db, "open", rc) : 0;
}

int sqldb_open(void *ctx, const char *path, const struct sqldb_spec *spec,
               int create, const char *waiting, struct sqldb **db_r)
{
    struct sqldb *db;
    char *sql;
    int fd, rc, r;

    *db_r = NULL;
    pthread_once(&wrap_once, wrap_open);
    if (!create && access(path, F_OK) < 0 && errno == ENOENT)
        return XAP_IMAP_NOTFOUND;
    if (create) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0) {
            close(fd);
        } else if (errno != EEXIST) {
            xlog_syserr("open", path);
            return XAP_IMAP_IOERROR;
        }
    }
    db = talloc_zero(ctx, struct sqldb);
    db->path = talloc_strdup(db, path);
    db->spec = spec;
    db->waiting = talloc_strdup(db, waiting);
    talloc_set_destructor(db, destroy_sqldb);
    rc = sqlite3_open_v2(path, &db->db,
                         SQLITE_OPEN_READWRITE | (spec->one_thread ? SQLITE_OPEN_NOMUTEX : 0),
                         NULL);
    if (rc) {
        r = sqldb_error(db, "open", rc);
        talloc_free(db);
        return r;
    }
    sqlite3_extended_result_codes(db->db, 1);
    sqlite3_busy_handler(db->db, busy_wait, db);
    if ((r = set_wal(db))) {
        talloc_free(db);
        return r;
    }
    sql = talloc_asprintf(db, "PRAGMA synchronous=%s", spec->synchronous);
    rc = sqldb_exec(db, sql);
    if (rc) {
        r = sqldb_error(db, "open", rc);
        talloc_free(db);
        return r;
    }
    *db_r = db;
    return 0;
}
