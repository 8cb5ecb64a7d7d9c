/* stems_test - schema 3's stem terms (docs/FORMAT.md "Stems"): a document
 * keeps a stem term only when none of its words stands for it, a query
 * finds the same documents either way, and a database of an older schema
 * says the new one once a document of it goes in.  Real databases on
 * disk, through cwrap/xapian_wrap.h. */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "cwrap/xapian_wrap.h"
#include "tests/testutil.h"

/* Bodies, each a document numbered by its place (1, 2, ...).  "expens" is
 * the English stem of "expense" but stems to "expen" itself: a word that
 * is not its own stem never stands for a stem term. */
static const char *const bodies[] = {
    "the tree",                  /* 1: "tree" is its own stem */
    "trees",                     /* 2: only a word that stems to "tree" */
    "tree trees treed",          /* 3: both */
    "expense report",            /* 4 */
    "expens",                    /* 5: the stem of 4's word as a word */
    "expens expense",            /* 6 */
};
#define NBODIES (sizeof bodies / sizeof bodies[0])

/* One database of the bodies, pruned (schema 3) or as schema 2 wrote them. */
static char *make(struct testenv *env, const char *name, int prune)
{
    char *path = talloc_asprintf(env, "%s/%s", env->dir, name);
    struct xw_dbw *dbw;

    ck_assert_int_eq(xw_dbw_open(env, path, XW_CREATE, &dbw), 0);
    for (unsigned i = 0; i < NBODIES; i++) {
        struct xw_doc *doc = xw_doc_new(env);
        char *g = talloc_asprintf(doc, "%040x", i + 1);
        ck_assert_int_eq(xw_doc_add_text(doc, SCHEMA_SUBJECT, "x", 1), 0);
        ck_assert_int_eq(xw_doc_add_text(doc, SCHEMA_BODY, bodies[i], strlen(bodies[i])), 0);
        if (prune)
            ck_assert_int_eq(xw_doc_prune_stems(doc), 0);
        ck_assert_int_eq(xw_doc_set_data(doc, g, 40), 0);
        ck_assert_int_eq(xw_dbw_add(dbw, g, doc), 0);
        talloc_free(doc);
    }
    ck_assert_int_eq(xw_dbw_close(&dbw), 0);
    return path;
}

static int collect(void *rock, const char *data, size_t len)
{
    char **ids = rock;

    ck_assert_uint_eq(len, 40);
    *ids = talloc_asprintf_append(*ids, "%s%lu", **ids ? "," : "",
                                  strtoul(data + 32, NULL, 16));
    return 0;
}

/* The documents Q finds in PATH, as "1,3". */
static char *hits(void *ctx, const char *path, struct xw_query *q)
{
    struct xw_dbr *dbr;
    char *ids = talloc_strdup(ctx, "");

    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(xw_dbr_open(ctx, &path, 1, &dbr), 0);
    ck_assert_int_eq(xw_dbr_search(dbr, q, XW_SORT_DATE_ASC, 0, 0, collect, &ids), 0);
    talloc_free(dbr);
    return ids;
}

static char *term(void *ctx, const char *path, const char *t)
{
    return hits(ctx, path, xw_query_term(ctx, NULL, "", t));
}

static char *word(void *ctx, const char *path, const char *w)
{
    const char *body = SCHEMA_BODY;
    return hits(ctx, path, xw_query_text(ctx, NULL, &body, 1, w, 0));
}

START_TEST(a_word_that_is_its_own_stem_stands_for_the_stem_term)
{
    struct testenv *env = testenv_new(NULL);
    char *db = make(env, "db", 1);

    /* Only document 2 has "tree" by another word alone; 1 and 3 have the
     * word itself, which stands for the stem term. */
    ck_assert_str_eq(term(env, db, "ZBtree"), "2");
    ck_assert_str_eq(term(env, db, "Btree"), "1,3");
    ck_assert_str_eq(term(env, db, "ZBthe"), "");
    ck_assert_str_eq(term(env, db, "ZSx"), "");
    ck_assert_str_eq(term(env, db, "Sx"), "1,2,3,4,5,6");
    /* "expens" is not its own stem: 4's and 6's stem term stays. */
    ck_assert_str_eq(term(env, db, "ZBexpens"), "4,6");
    ck_assert_str_eq(term(env, db, "ZBexpen"), "5,6");
    testenv_free(env);
}
END_TEST

/* The same hits from pruned documents as from those schema 2 wrote (an
 * old tier), and from both in one search. */
START_TEST(queries_find_the_same_in_either_schema)
{
    static const struct { const char *q, *want; } cases[] = {
        { "tree", "1,2,3" }, { "trees", "1,2,3" }, { "treed", "3" },
        { "the", "1" }, { "report", "4" },
        { "expense", "4,6" }, { "expenses", "4,6" }, { "expens", "5,6" },
        { "tree trees", "1,2,3" }, { "nothing", "" },
    };
    struct testenv *env = testenv_new(NULL);
    const char *dbs[2] = { make(env, "new", 1), make(env, "old", 0) };
    const char *body = SCHEMA_BODY;
    struct xw_dbr *both;

    ck_assert_str_eq(term(env, dbs[1], "ZBtree"), "1,2,3");   /* not pruned */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int d = 0; d < 2; d++)
            ck_assert_msg(!strcmp(word(env, dbs[d], cases[i].q), cases[i].want),
                          "%s in %s: %s, not %s", cases[i].q, dbs[d],
                          word(env, dbs[d], cases[i].q), cases[i].want);
        ck_assert_str_eq(hits(env, dbs[0], xw_query_text(env, NULL, &body, 1, cases[i].q,
                                                         XW_PHRASE)),
                         hits(env, dbs[1], xw_query_text(env, NULL, &body, 1, cases[i].q,
                                                         XW_PHRASE)));
    }
    /* Both as one: each document twice (the same GUIDs in two databases). */
    ck_assert_int_eq(xw_dbr_open(env, dbs, 2, &both), 0);
    ck_assert_uint_eq(xw_dbr_doccount(both), 2 * NBODIES);
    talloc_free(both);
    testenv_free(env);
}
END_TEST

static char *version(void *ctx, const char *path)
{
    struct xw_dbr *dbr;
    char *v;

    ck_assert_int_eq(xw_dbr_open(ctx, &path, 1, &dbr), 0);
    ck_assert_int_eq(xw_dbr_get_metadata(dbr, 0, ctx, SCHEMA_VERSION_KEY, &v), 0);
    talloc_free(dbr);
    return v;
}

static void set_version(void *ctx, const char *path, const char *v)
{
    struct xw_dbw *dbw;

    ck_assert_int_eq(xw_dbw_open(ctx, path, 0, &dbw), 0);
    ck_assert_int_eq(xw_dbw_set_metadata(dbw, SCHEMA_VERSION_KEY, v), 0);
    ck_assert_int_eq(xw_dbw_close(&dbw), 0);
}

static void add_one(void *ctx, const char *path, unsigned n, int txn, int commit)
{
    struct xw_dbw *dbw;
    struct xw_doc *doc = xw_doc_new(ctx);
    char *g = talloc_asprintf(doc, "%040x", n);

    ck_assert_int_eq(xw_dbw_open(ctx, path, 0, &dbw), 0);
    if (txn)
        ck_assert_int_eq(xw_dbw_begin(dbw), 0);
    ck_assert_int_eq(xw_doc_add_text(doc, SCHEMA_BODY, "trees", 5), 0);
    ck_assert_int_eq(xw_doc_prune_stems(doc), 0);
    ck_assert_int_eq(xw_doc_set_data(doc, g, 40), 0);
    ck_assert_int_eq(xw_dbw_put(dbw, g, doc), 0);
    if (!commit)
        ck_assert_int_eq(xw_dbw_cancel(dbw), 0);
    ck_assert_int_eq(xw_dbw_close(&dbw), 0);
    talloc_free(doc);
}

/* A reader of schema 2 would miss pruned documents: a database of schema 2
 * (or none) says 3 from the commit that brings the first one in. */
START_TEST(an_older_database_says_the_new_schema_with_its_first_new_document)
{
    struct testenv *env = testenv_new(NULL);
    char *now = talloc_asprintf(env, "%d", SCHEMA_VERSION);
    char *db = make(env, "db", 0);

    ck_assert_int_eq(SCHEMA_VERSION, 3);
    ck_assert_str_eq(version(env, db), now);            /* created by this version */
    set_version(env, db, "2");
    ck_assert_str_eq(version(env, db), "2");            /* metadata alone: as it was */
    add_one(env, db, 100, 1, 0);                        /* cancelled: nothing new */
    ck_assert_str_eq(version(env, db), "2");
    add_one(env, db, 100, 1, 1);
    ck_assert_str_eq(version(env, db), now);
    set_version(env, db, "");                           /* made before the key */
    add_one(env, db, 101, 0, 1);
    ck_assert_str_eq(version(env, db), now);
    ck_assert_str_eq(word(env, db, "tree"), "1,2,3,100,101");
    testenv_free(env);
}
END_TEST

/* Word I of 56,000 made of syllables and an English suffix: most are new
 * to a thread's memo of stems, so each costs a call of the stemmer. */
static char *tword(void *ctx, unsigned i)
{
    static const char *const syl[] = { "ba", "cor", "dun", "fel", "gri", "hol", "jam",
                                       "kin", "lor", "mas", "nev", "pol", "quar", "ros",
                                       "sil", "tam", "ven", "wor", "yel", "zan" };
    static const char *const suffix[] = { "ing", "ed", "ness", "ly", "ation", "s", "er" };

    return talloc_asprintf(ctx, "%s%s%s%s", syl[i % 20], syl[i / 20 % 20], syl[i / 400 % 20],
                           suffix[i / 8000 % 7]);
}

#define TDOCS 1500
#define TDOC_WORDS 60

struct build_job {
    const char *path;
    int r;
};

/* Builds TDOCS documents of stemmed text into JOB->path; no check
 * assertion here (it may run in another thread). */
static void *build_words(void *arg)
{
    struct build_job *job = arg;
    void *ctx = talloc_new(NULL);
    struct xw_dbw *dbw;

    job->r = xw_dbw_open(ctx, job->path, XW_CREATE, &dbw);
    for (unsigned d = 0; d < TDOCS && !job->r; d++) {
        struct xw_doc *doc = xw_doc_new(ctx);
        char *body = talloc_strdup(doc, ""), *g = talloc_asprintf(doc, "%040x", d + 1);
        for (unsigned k = 0; k < TDOC_WORDS; k++)
            body = talloc_asprintf_append(body, " %s",
                                          tword(doc, (d * TDOC_WORDS + k) * 7919 % 56000));
        if ((job->r = xw_doc_add_text(doc, SCHEMA_BODY, body, strlen(body))) ||
            (job->r = xw_doc_prune_stems(doc)) || (job->r = xw_doc_set_data(doc, g, 40)))
            break;
        job->r = xw_dbw_add(dbw, g, doc);
        talloc_free(doc);
    }
    if (!job->r)
        job->r = xw_dbw_close(&dbw);
    talloc_free(ctx);
    return NULL;
}

/* The indexer builds documents in several threads at once: what one
 * builds must not depend on what the others stem meanwhile (a stemmer
 * shared between threads crashed, or stemmed wrong).  Two databases built
 * at the same time answer every sampled word as one built alone. */
START_TEST(documents_built_in_two_threads_at_once_are_those_built_alone)
{
    struct testenv *env = testenv_new(NULL);
    struct build_job jobs[3];
    pthread_t t[2];

    for (int i = 0; i < 3; i++) {
        jobs[i].path = talloc_asprintf(env, "%s/db%d", env->dir, i);
        jobs[i].r = -1;
    }
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, build_words, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    build_words(&jobs[2]);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(jobs[i].r, 0);
    for (unsigned i = 0; i < 56000; i += 997) {
        char *w = tword(env, i), *alone = word(env, jobs[2].path, w);
        ck_assert_str_ne(alone, "");
        ck_assert_str_eq(word(env, jobs[0].path, w), alone);
        ck_assert_str_eq(word(env, jobs[1].path, w), alone);
    }
    testenv_free(env);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("stems");
    TCase *tc = tcase_create("stems");

    tcase_add_test(tc, a_word_that_is_its_own_stem_stands_for_the_stem_term);
    tcase_add_test(tc, queries_find_the_same_in_either_schema);
    tcase_add_test(tc, an_older_database_says_the_new_schema_with_its_first_new_document);
    tcase_add_test(tc, documents_built_in_two_threads_at_once_are_those_built_alone);
    suite_add_tcase(s, tc);
    return s;
}
