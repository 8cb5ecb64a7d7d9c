/* rawtags_test - the indexer's documents are stored without zlib, and a
 * compaction deflates their long tags and leaves the short ones raw
 * (cwrap/xapian_rawtags.cc): the sizes of real Glass tables on disk show
 * which, and every document reads back the same from both. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/schema.h"
#include "cwrap/xapian_wrap.h"
#include "tests/testutil.h"

#define NDOCS 200
/* Document I's data: LONGLEN bytes when I is odd, SHORTLEN when even;
 * either deflates to a few dozen bytes. */
#define LONGLEN 2000
#define SHORTLEN 200
#define LEN(i) ((i) % 2 ? LONGLEN : SHORTLEN)

static char *data_of(void *ctx, unsigned i)
{
    char *d = talloc_size(ctx, LEN(i) + 1);

    memset(d, 'a' + i % 26, LEN(i));
    d[LEN(i)] = '\0';
    memcpy(d, talloc_asprintf(ctx, "%08u", i), 8);
    return d;
}

static off_t size_of(void *ctx, const char *db, const char *table)
{
    struct stat st;

    ck_assert_int_eq(stat(talloc_asprintf(ctx, "%s/%s.glass", db, table), &st), 0);
    return st.st_size;
}

struct seen {
    void *ctx;
    unsigned long n, same;
};

static int check_hit(void *rock, const char *data, size_t len)
{
    struct seen *s = rock;
    unsigned i = (unsigned)strtoul(talloc_strndup(s->ctx, data, 8), NULL, 10);

    s->n++;
    if (len == LEN(i) && memcmp(data, data_of(s->ctx, i), len) == 0)
        s->same++;
    return 0;
}

static void check_docs(struct testenv *env, const char *db)
{
    struct xw_dbr *dbr;
    struct seen s = { env, 0, 0 };

    ck_assert_int_eq(xw_dbr_open(env, &db, 1, &dbr), 0);
    ck_assert_int_eq(xw_dbr_search(dbr, xw_query_term(env, dbr, SCHEMA_BODY, "word"),
                                   XW_SORT_DATE_ASC, 0, 0, check_hit, &s), 0);
    ck_assert_uint_eq(s.n, NDOCS);
    ck_assert_uint_eq(s.same, NDOCS);
}

/* A database at PATH (opened with FLAGS) of the NDOCS documents, half
 * added and half put: the two ways a document goes in. */
static void fill(const char *path, int flags)
{
    const char *body = "word another word and some more words to index";
    void *ctx = talloc_new(NULL);
    struct xw_dbw *dbw;

    ck_assert_int_eq(xw_dbw_open(ctx, path, XW_CREATE | flags, &dbw), 0);
    ck_assert_int_eq(xw_dbw_begin(dbw), 0);
    for (unsigned i = 1; i <= NDOCS; i++) {
        void *tmp = talloc_new(NULL);
        struct xw_doc *doc = xw_doc_new(tmp);
        const char *g = talloc_asprintf(tmp, "%040x", i);

        ck_assert_int_eq(xw_doc_add_text(doc, SCHEMA_BODY, body, strlen(body)), 0);
        ck_assert_int_eq(xw_doc_set_number(doc, SCHEMA_SLOT_DATE, i), 0);
        ck_assert_int_eq(xw_doc_set_data(doc, data_of(tmp, i), LEN(i)), 0);
        ck_assert_int_eq(i % 2 ? xw_dbw_add(dbw, g, doc) : xw_dbw_put(dbw, g, doc), 0);
        talloc_free(tmp);
    }
    ck_assert_int_eq(xw_dbw_commit(dbw), 0);
    ck_assert_int_eq(xw_dbw_close(&dbw), 0);
    talloc_free(ctx);
}

/* DB's document data as a compaction stores it: the short data raw, the
 * long data deflated (a tenth of the long data would not hold it raw,
 * and the short data alone deflated fits in one block). */
static void check_compaction_sizes(struct testenv *env, const char *db)
{
    ck_assert_int_ge(size_of(env, db, "docdata"), NDOCS / 2 * SHORTLEN);
    ck_assert_int_lt(size_of(env, db, "docdata"), NDOCS / 2 * (LONGLEN / 10 + SHORTLEN));
}

START_TEST(indexed_tags_are_raw_and_compaction_deflates_the_long_ones)
{
    struct testenv *env = testenv_new(NULL);
    const char *src = talloc_asprintf(env, "%s/src", env->dir);
    const char *dest = talloc_asprintf(env, "%s/dest", env->dir);
    unsigned long before = xw_raw_tags(), after;

    fill(src, 0);
    after = xw_raw_tags();
    /* A document-data tag and a termlist tag each. */
    ck_assert_uint_ge(after - before, 2 * NDOCS);
    ck_assert_int_ge(size_of(env, src, "docdata"), NDOCS / 2 * (LONGLEN + SHORTLEN));

    /* The short data raw (and these documents' short termlists). */
    ck_assert_int_eq(xw_compact(&src, 1, dest, NULL), 0);
    ck_assert_uint_ge(xw_raw_tags() - after, NDOCS / 2);
    check_compaction_sizes(env, dest);

    check_docs(env, src);
    check_docs(env, dest);
    testenv_free(env);
}
END_TEST

/* A compaction's reindexed target (squatter -z -X, -T) is written as a
 * compaction writes. */
START_TEST(deflate_flag_stores_as_a_compaction)
{
    struct testenv *env = testenv_new(NULL);
    const char *db = talloc_asprintf(env, "%s/db", env->dir);

    fill(db, XW_DEFLATE);
    check_compaction_sizes(env, db);
    check_docs(env, db);
    testenv_free(env);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("rawtags");
    TCase *tc = tcase_create("rawtags");

    tcase_add_test(tc, indexed_tags_are_raw_and_compaction_deflates_the_long_ones);
    tcase_add_test(tc, deflate_flag_stores_as_a_compaction);
    suite_add_tcase(s, tc);
    return s;
}
