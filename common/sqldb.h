/* sqldb.h - the one way this project opens a SQLite database (mailboxes.db,
 * the GUID dbs, statuscache.db), and its one policy for waiting on
 * SQLite's locks (docs/LOCKING.md, "SQLite databases").
 *
 * Every database is in WAL mode and has the same busy wait: a statement
 * that finds the database locked sleeps and tries again until
 * namelock_timeout has passed since it started (never, when 0), says at
 * -v after a second what it waits for, and then fails with
 * XAP_IMAP_MAILBOX_LOCKED ("still locked by another process after
 * namelock_timeout").  SQLITE_BUSY is thus never an error a caller sees
 * before the timeout, whether SQLite's busy handler ran or the statement
 * returned BUSY at once (a read snapshot that cannot be had). */
#ifndef XAPIARY_SQLDB_H
#define XAPIARY_SQLDB_H

#include <stdint.h>

#include <sqlite3.h>

/* What differs between the databases. */
struct sqldb_spec {
    const char *label;        /* before the path in messages: "GUID db ", "" */
    const char *kind;         /* "not a valid KIND" */
    const char *synchronous;  /* PRAGMA synchronous: "FULL" or "NORMAL" */
    int one_thread;           /* never used by two threads at once: opened
                               * without SQLite's own mutex, which each
                               * call (every step, every column) takes */
};

struct sqldb {
    sqlite3 *db;
    char *path;
    const struct sqldb_spec *spec;
    char *waiting;            /* what a wait is for, in the -v line */
    double deadline;          /* of the current wait; 0: none */
    double started;           /* when the current wait began */
    int told;                 /* the current wait said so at -v */
    int stepping;             /* inside sqldb_step: it set the wait */
};

/* Opens PATH under CTX in WAL mode with SPEC's synchronous setting.
 * Without CREATE a missing file is XAP_IMAP_NOTFOUND (nothing logged); with
 * CREATE a missing file is made 0600 first (its directory must exist):
 * SQLite would take the umask's mode, and the -wal and -shm files take
 * the main file's.  WAITING names the lock in the -v line ("the
 * mailboxes.db write lock").  A database that does not open read-write
 * is opened read-only only for EACCES, EPERM or EROFS; any other cause is
 * an error giving that errno (the first call installs, for the process,
 * the wrapper of SQLite's open that sees to it; see sqldb.c).  0 or an
 * XAP_IMAP_* code, logged. */
int sqldb_open(void *ctx, const char *path, const struct sqldb_spec *spec,
               int create, const char *waiting, struct sqldb **db_r);

/* Steps ST; a BUSY before the first row (the lock or the snapshot was not
 * to be had) resets it and tries again, within one wait. */
int sqldb_step(struct sqldb *db, sqlite3_stmt *st);
/* Runs the statements of SQL (rows are stepped through and dropped). */
int sqldb_exec(struct sqldb *db, const char *sql);
/* Reads the integer a one-row PRAGMA or query returns. */
int sqldb_query_int(struct sqldb *db, const char *sql, int64_t *v_r);

/* Logs a failed call WHAT (SQLite code RC) naming the database, and maps
 * RC: BUSY to XAP_IMAP_MAILBOX_LOCKED, a file that is not SPEC's kind to
 * XAP_IMAP_MAILBOX_BADFORMAT, the rest to XAP_IMAP_IOERROR. */
int sqldb_error(struct sqldb *db, const char *what, int rc);

#endif
