/* translate_test - query trees as Xapian queries on real databases: the
 * address and domain terms of schema 2, the phrase that answers for
 * documents indexed before them, and the terms a database lacks left out
 * of the query. */
#include <config.h>

#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "cwrap/xapian_wrap.h"
#include "xapianlock/query.h"
#include "xapianlock/schema.h"
#include "xapianlock/translate.h"
#include "tests/testutil.h"

/* A document ID with FROM's text; with ADDR (schema 2) also its address
 * terms and SCHEMA_V2, as the indexer makes them. */
static void put(struct xw_dbw *dbw, const char *id, const char *from, const char *addr)
{
    struct xw_doc *doc = xw_doc_new(dbw);
    char guid[41];

    memset(guid, '0', 40);
    guid[40] = '\0';
    memcpy(guid, id, strlen(id));
    ck_assert_int_eq(xw_doc_add_text(doc, SCHEMA_FROM, from, strlen(from)), 0);
    if (addr) {
        char **terms = schema_address_terms(doc, SCHEMA_FROM, addr);
        for (size_t i = 0; i < talloc_array_length(terms); i++)
            ck_assert_int_eq(xw_doc_add_term(doc, "", terms[i]), 0);
        ck_assert_int_eq(xw_doc_add_term(doc, "", SCHEMA_V2), 0);
    }
    ck_assert_int_eq(xw_doc_set_data(doc, id, strlen(id)), 0);
    ck_assert_int_eq(xw_dbw_put(dbw, guid, doc), 0);
}

static int collect(void *rock, const char *data, size_t len)
{
    char **ids = rock;
    *ids = talloc_asprintf_append(*ids, "%s%.*s", **ids ? " " : "", (int)len, data);
    return 0;
}

/* The data of the documents QUERY finds in DBR, in document order. */
static char *found(struct xw_dbr *dbr, const char *query)
{
    struct query *q = NULL;
    struct xw_query *xq;
    char *ids = talloc_strdup(dbr, ""), *err = NULL;
    int r;

    ck_assert_msg(query_parse(ids, query, &q, &err) == 0, "%s: %s", query, err);
    xq = query_translate(ids, q, dbr, NULL, NULL, &r);
    ck_assert_int_eq(r, 0);
    ck_assert_int_eq(xw_dbr_search(dbr, xq, XW_SORT_DATE_ASC, 0, 0, collect, &ids), 0);
    return ids;
}

START_TEST(addresses_old_and_new_documents)
{
    struct testenv *env = testenv_new(NULL);
    char *path = talloc_asprintf(env, "%s/db", env->dir);
    const char *paths[1] = { path };
    struct xw_dbw *dbw = NULL;
    struct xw_dbr *dbr = NULL;

    ck_assert_int_eq(xw_dbw_open(env, path, 1, &dbw), 0);
    /* schema 2 */
    put(dbw, "1", "Alice <alice@kernel.org>", "alice@kernel.org");
    put(dbw, "2", "Bob <bob@mail.kernel.org>", "bob@mail.kernel.org");
    put(dbw, "3", "Carol <carol@kernel.crashing.org>", "carol@kernel.crashing.org");
    put(dbw, "4", "kernel.org <dave@example.com>", "dave@example.com");
    put(dbw, "5", "Eve <eve@linux-kernel.org>", "eve@linux-kernel.org");
    /* schema 1: no address terms */
    put(dbw, "6", "Old <old@kernel.org>", NULL);
    put(dbw, "7", "Older <older@kernel.crashing.org>", NULL);
    ck_assert_int_eq(xw_dbw_close(&dbw), 0);
    ck_assert_int_eq(xw_dbr_open(env, paths, 1, &dbr), 0);

    /* the domain and below it; an old document by the phrase */
    ck_assert_str_eq(found(dbr, "from:kernel.org"), "1 2 6");
    ck_assert_str_eq(found(dbr, "from:@kernel.org"), "1 2 6");
    ck_assert_str_eq(found(dbr, "from:mail.kernel.org"), "2");
    ck_assert_str_eq(found(dbr, "from:crashing.org"), "3 7");
    /* an address exactly, in any case */
    ck_assert_str_eq(found(dbr, "from:Alice@Kernel.org"), "1");
    ck_assert_str_eq(found(dbr, "from:old@kernel.org"), "6");
    ck_assert_str_eq(found(dbr, "from:lice@kernel.org"), "");
    /* a prefix is not an address but the phrase with a wildcard, which
     * Xapian 1.4 makes "kernel" AND or* (cwrap): a superset */
    ck_assert_str_eq(found(dbr, "from:kernel.or*"), "1 2 3 4 5 6 7");
    /* a quoted phrase is text: the display name too, and linux-kernel.org */
    ck_assert_str_eq(found(dbr, "from:\"kernel org\""), "1 2 4 5 6");
    testenv_free(env);
}
END_TEST

/* Terms the database lacks are left out of the tree (xapian_wrap.h): the
 * answers stay those of the full query. */
START_TEST(absent_terms_left_out)
{
    struct testenv *env = testenv_new(NULL);
    char *path = talloc_asprintf(env, "%s/db", env->dir);
    const char *paths[1] = { path };
    struct xw_dbw *dbw = NULL;
    struct xw_dbr *dbr = NULL;
    char *many = talloc_strdup(env, "");

    ck_assert_int_eq(xw_dbw_open(env, path, 1, &dbw), 0);
    put(dbw, "1", "Alice <alice@example.org>", "alice@example.org");
    put(dbw, "2", "Bob <bob@example.org>", "bob@example.org");
    ck_assert_int_eq(xw_dbw_close(&dbw), 0);
    ck_assert_int_eq(xw_dbr_open(env, paths, 1, &dbr), 0);

    ck_assert_str_eq(found(dbr, "nosuchword"), "");
    ck_assert_str_eq(found(dbr, "alice nosuchword"), "");
    ck_assert_str_eq(found(dbr, "alice OR nosuchword"), "1");
    ck_assert_str_eq(found(dbr, "\"alice nosuchword\""), "");
    ck_assert_str_eq(found(dbr, "bob -nosuchword"), "2");
    ck_assert_str_eq(found(dbr, "* -nosuchword"), "1 2");
    /* left out of the tree itself, which is what keeps Xapian linear */
    {
        struct query *q = NULL;
        struct xw_query *xq;
        char *d;
        int r;
        ck_assert_int_eq(query_parse(env, "absent1 OR bob OR \"absent2 alice\"", &q, NULL), 0);
        xq = query_translate(env, q, dbr, NULL, NULL, &r);
        d = xw_query_describe(env, xq);
        ck_assert_msg(!strstr(d, "absent") && strstr(d, "Fbob"), "%s", d);
        xq = query_translate(env, q, NULL, NULL, NULL, &r);
        d = xw_query_describe(env, xq);
        ck_assert_msg(strstr(d, "Fabsent1") && strstr(d, "Fabsent2"), "%s", d);
    }
    for (int i = 0; i < 3000; i++)
        many = talloc_asprintf_append(many, "absent%d OR ", i);
    many = talloc_strdup_append(many, "bob");
    ck_assert_str_eq(found(dbr, many), "2");
    testenv_free(env);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("translate");
    TCase *tc = tcase_create("translate");

    tcase_add_test(tc, addresses_old_and_new_documents);
    tcase_add_test(tc, absent_terms_left_out);
    suite_add_tcase(s, tc);
    return s;
}
