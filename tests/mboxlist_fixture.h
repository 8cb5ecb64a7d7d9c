/* mboxlist_fixture.h - what the mailboxes.db tests share: a fresh
 * environment per test, records made in one call, foreach as a string,
 * and the database opened directly to look at what is on disk. */
#ifndef XAPIARY_TESTS_MBOXLIST_FIXTURE_H
#define XAPIARY_TESTS_MBOXLIST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "tests/testutil.h"

extern struct testenv *env;

void setup(void);
void teardown(void);
char *db_file(const char *suffix);
struct xap_mboxlist_entry mk(const char *name, const char *uniqueid, uint32_t uv, int type);
void create(const char *name, const char *uniqueid, uint32_t uv, int type);
void create_in(struct xap_mboxlist_txn *txn, const char *name);
int read_whole(const char *path, char **buf_r, size_t *len_r);
int lookup_rc(const char *name);
int join_cb(const struct xap_mboxlist_entry *e, void *rock);
char *list(const char *prefix, int flags);
sqlite3 *raw_open(void);
char *raw_text(sqlite3 *raw, const char *sql);
void raw_exec(const char *sql);

#define ck_list(prefix, flags, want) do { \
    char *got_ = list((prefix), (flags)); \
    ck_assert_msg(!strcmp(got_, (want)), "foreach(%s, %d): got '%s', want '%s'", \
                  (prefix), (flags), got_, (want)); \
} while (0)

#endif
