/* xmeta - reads or sets the versions the schema tests play with
 * (tests/t0220-schema.sh):
 *
 *   xmeta PATH KEY          prints metadata KEY of the Xapian database PATH
 *   xmeta PATH KEY VALUE    sets it
 *   xmeta -s FILE [N]       prints (or sets to N) SQLite's user_version
 *   xmeta -d PATH...        prints the GUID of every document of the
 *                           databases PATHS, one a line, duplicates kept
 *                           (tests/t0310-compact-filter.sh)
 *
 * Xapian through cwrap, so a database of a newer schema can be neither
 * read nor changed with it; SQLite directly (no sqlite3 program needed). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <talloc.h>

#include "cwrap/xapian_wrap.h"
#include "xapiary/xapiary.h"

static int user_version(const char *file, const char *set)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char sql[64];
    int rc = sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE, NULL);

    snprintf(sql, sizeof sql, "PRAGMA user_version%s%d", set ? " = " : "",
             set ? atoi(set) : 0);
    if (!set)
        sql[strlen("PRAGMA user_version")] = '\0';
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            printf("%d\n", sqlite3_column_int(st, 0));
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    if (rc != SQLITE_OK)
        fprintf(stderr, "xmeta: %s: %s\n", file, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : 1;
}

static int print_guid(void *rock, const char *data, size_t len)
{
    /* Document data "1\0GUIDHEX\0..." (docs/FORMAT.md): the second field. */
    size_t v = strnlen(data, len);

    (void)rock;
    if (v + 1 >= len)
        return XAP_IMAP_SEARCH_CORRUPT;
    printf("%.*s\n", (int)strnlen(data + v + 1, len - v - 1), data + v + 1);
    return 0;
}

/* -d: every document's GUID, in no particular order. */
static int list_guids(void *ctx, const char *const *paths, unsigned n)
{
    struct xw_dbr *dbr;
    int r = xw_dbr_open(ctx, paths, n, &dbr);

    if (!r)
        r = xw_dbr_search(dbr, xw_query_all(ctx), XW_SORT_RELEVANCE, 0, 0, print_guid, NULL);
    if (r)
        fprintf(stderr, "xmeta: %s: %s\n", paths[0], xap_error_message(r));
    return r ? 1 : 0;
}

int main(int argc, char **argv)
{
    void *ctx;
    struct xw_dbw *dbw;
    struct xw_dbr *dbr;
    const char *path = argc > 1 ? argv[1] : "";
    char *val;
    int r;

    if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "-s"))
        return user_version(argv[2], argc == 4 ? argv[3] : NULL);
    if (argc >= 3 && !strcmp(argv[1], "-d")) {
        ctx = talloc_new(NULL);
        r = list_guids(ctx, (const char *const *)argv + 2, (unsigned)argc - 2);
        talloc_free(ctx);
        return r;
    }
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: xmeta PATH KEY [VALUE] | xmeta -s FILE [N] | xmeta -d PATH...\n");
        return 64;
    }
    ctx = talloc_new(NULL);
    if (argc == 3) {
        if (!(r = xw_dbr_open(ctx, &path, 1, &dbr)) &&
            !(r = xw_dbr_get_metadata(dbr, 0, ctx, argv[2], &val)))
            printf("%s\n", val);
    } else if (!(r = xw_dbw_open(ctx, path, 0, &dbw)) &&
               !(r = xw_dbw_set_metadata(dbw, argv[2], argv[3]))) {
        r = xw_dbw_close(&dbw);
    }
    if (r)
        fprintf(stderr, "xmeta: %s: %s\n", path, xap_error_message(r));
    talloc_free(ctx);
    return r ? 1 : 0;
}
