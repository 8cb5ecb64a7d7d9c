/* statuscache.c - see statuscache.h.  Failures only cost speed (a status
 * then opens the mailbox), so writes log and carry on. */
#include <config.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/config.h"
#include "common/init.h"
#include "common/lockorder.h"
#include "common/sqldb.h"
#include "common/xlog.h"
#include "mailbox/statuscache.h"

static struct sqldb *conn;
static sqlite3 *db;             /* conn's */

static const struct sqldb_spec spec = {
    .label = "statuscache ",
    .kind = "statuscache",
    .synchronous = "FULL",
};

static void close_db(void)
{
    TALLOC_FREE(conn);
    db = NULL;
}

static int open_db(void)
{
    const char *confdir = config_configdirectory(NULL);
    char *path;
    int rc, r;

    if (db)
        return 0;
    if (!confdir)
        return XAP_IMAP_CONFIG;
    path = talloc_asprintf(NULL, "%s/statuscache.db", confdir);
    r = sqldb_open(NULL, path, &spec, 1, "the statuscache.db write lock", &conn);
    talloc_free(path);
    if (r)
        return r;
    db = conn->db;
    rc = sqldb_exec(conn,
        "CREATE TABLE IF NOT EXISTS status (name TEXT PRIMARY KEY,"
        " messages INTEGER, uidnext INTEGER, uidvalidity INTEGER,"
        " unseen INTEGER, highestmodseq INTEGER, size INTEGER);");
    if (rc != SQLITE_OK) {
        r = sqldb_error(conn, "open", rc);
        close_db();
        return r;
    }
    xapiary_atdone(close_db);
    return 0;
}

static void exec_write(const char *sql, const char *name, const struct xap_statusdata *s)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (open_db())
        return;
    lockorder_check(LOCKLEVEL_STATUSCACHE, "statuscache.db", 0);
    lockorder_acquired(LOCKLEVEL_STATUSCACHE, "statuscache.db");
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (s) {
            sqlite3_bind_int64(st, 2, s->messages);
            sqlite3_bind_int64(st, 3, s->uidnext);
            sqlite3_bind_int64(st, 4, s->uidvalidity);
            sqlite3_bind_int64(st, 5, s->unseen);
            sqlite3_bind_int64(st, 6, (sqlite3_int64)s->highestmodseq);
            sqlite3_bind_int64(st, 7, (sqlite3_int64)s->size);
        }
        rc = sqldb_step(conn, st);
    }
    if (rc != SQLITE_DONE)
        xlog(LOG_WARNING, "statuscache: %s: %s", name, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    lockorder_released(LOCKLEVEL_STATUSCACHE, "statuscache.db");
}

void statuscache_store(const char *name, const struct xap_statusdata *sdata)
{
    exec_write("INSERT OR REPLACE INTO status VALUES (?1,?2,?3,?4,?5,?6,?7)",
               name, sdata);
}

void statuscache_invalidate(const char *name)
{
    exec_write("DELETE FROM status WHERE name = ?1", name, NULL);
}

int statuscache_lookup(const char *name, struct xap_statusdata *s)
{
    sqlite3_stmt *st = NULL;
    int rc, r = XAP_IMAP_NOTFOUND;

    if (open_db())
        return XAP_IMAP_IOERROR;
    rc = sqlite3_prepare_v2(db, "SELECT messages, uidnext, uidvalidity, unseen,"
                            " highestmodseq, size FROM status WHERE name = ?1",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sqldb_step(conn, st);
        if (rc == SQLITE_ROW) {
            s->messages = (uint32_t)sqlite3_column_int64(st, 0);
            s->uidnext = (uint32_t)sqlite3_column_int64(st, 1);
            s->uidvalidity = (uint32_t)sqlite3_column_int64(st, 2);
            s->unseen = (uint32_t)sqlite3_column_int64(st, 3);
            s->highestmodseq = (uint64_t)sqlite3_column_int64(st, 4);
            s->size = (uint64_t)sqlite3_column_int64(st, 5);
            r = 0;
        } else if (rc != SQLITE_DONE) {
            r = XAP_IMAP_IOERROR;
        }
    } else {
        r = XAP_IMAP_IOERROR;
    }
    if (r == XAP_IMAP_IOERROR)
        xlog(LOG_ERR, "statuscache: %s: %s", name, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return r;
}
