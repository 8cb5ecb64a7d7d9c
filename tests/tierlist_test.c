/* tierlist_test - the names of a user's search databases (common/
 * tierpath.c: one parser, one path to the user's tier directory, which
 * refuses a planted symbolic link) and what the tier-list lifecycle
 * (xapianlock/tierlist.c) and a user's removal (mailbox/userdata.c) do
 * with the directories they find, on real files. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "tests/testutil.h"
#include "xapiary/xapiary.h"
#include "common/tierpath.h"
#include "common/util.h"
#include "mailbox/userdata.h"
#include "xapianlock/tierlist.h"

static struct testenv *env;

static void setup(void)
{
    env = testenv_new("defaultsearchtier: t1\n");
    ck_assert_int_eq(xap_init(env->config), 0);
}

static void teardown(void)
{
    xap_done();
    testenv_free(env);
}

/* ------------------------------------------------------------ the parser */

static const struct { const char *name; unsigned gen; int is_new; } good[] = {
    { "xapian", 0, 0 },                 /* Cyrus's generation 0 */
    { "xapian.1", 1, 0 },
    { "xapian.42", 42, 0 },
    { "xapian.1000000000", 1000000000, 0 },
    { "xapian.5.NEW", 5, 1 },
    { "xapian.1000000000.NEW", 1000000000, 1 },
};

START_TEST(parse_good)
{
    unsigned gen = 99;
    int is_new = 99;

    ck_assert_int_eq(tierpath_parse(good[_i].name, &gen, &is_new), 0);
    ck_assert_uint_eq(gen, good[_i].gen);
    ck_assert_int_eq(is_new, good[_i].is_new);
    /* without IS_NEW_R only a database's own name is one */
    ck_assert_int_eq(tierpath_parse(good[_i].name, &gen, NULL), (good[_i].is_new ? -1 : 0));
}
END_TEST

static const char *const bad[] = {
    "xapian.0",                         /* generation 0 is spelt "xapian" */
    "xapian.0.NEW",
    "xapian.-1",
    "xapian.+1",
    "xapian. 1",
    "xapian.01",                        /* a second spelling of 1 */
    "xapian.007.NEW",
    "xapian.1000000001",                /* above TIER_GEN_MAX */
    "xapian.4294967297",                /* 2^32 + 1: would wrap to 1 */
    "xapian.99999999999999999999999",   /* beyond unsigned long */
    "xapian.5x",
    "xapian.5.",
    "xapian.5.NEWER",
    "xapian.5.new",
    "xapian.5.NEW.NEW",
    "xapian.",
    "xapian.NEW",
    "xapianx",
    "Xapian.1",
    "",
};

START_TEST(parse_bad)
{
    unsigned gen = 77;
    int is_new = 77;

    ck_assert_msg(tierpath_parse(bad[_i], &gen, &is_new) == -1, "'%s' accepted as %u",
                  bad[_i], gen);
    ck_assert_int_eq(tierpath_parse(bad[_i], &gen, NULL), -1);
}
END_TEST

START_TEST(names_round_trip)
{
    unsigned gens[] = { 0, 1, 9, 10, 123456, 1000000000 };

    for (size_t i = 0; i < sizeof gens / sizeof gens[0]; i++) {
        char *name = tierpath_name(NULL, gens[i]);
        unsigned gen = 77;
        ck_assert_int_eq(tierpath_parse(name, &gen, NULL), 0);
        ck_assert_uint_eq(gen, gens[i]);
        talloc_free(name);
    }
}
END_TEST

/* ------------------------------------------------------------ the path */

START_TEST(user_dir_is_below_the_partition)
{
    int r = 77;
    char *dir = tierpath_user_dir(NULL, "alice", "default", "t1", &r);
    char *base = talloc_asprintf(dir, "%s/search/", env->dir);

    ck_assert_int_eq(r, 0);
    ck_assert_ptr_nonnull(dir);
    ck_assert_msg(!strncmp(dir, base, strlen(base)), "%s", dir);
    ck_assert_msg(strstr(dir, "/user/alice") && !strcmp(strstr(dir, "/user/alice"),
                                                        "/user/alice"), "%s", dir);
    talloc_free(dir);
    ck_assert_ptr_null(tierpath_user_dir(NULL, "alice", "default", "t2", &r));
    ck_assert_int_eq(r, XAP_IMAP_SEARCH_TIER_UNKNOWN);
}
END_TEST

/* LEVEL 0: the user's directory itself is the link; 1: HH/user is. */
START_TEST(user_dir_refuses_a_link)
{
    int r = 77;
    char *dir = tierpath_user_dir(NULL, "bob", "default", "t1", &r);
    char *link = talloc_strdup(dir, dir), *elsewhere;

    ck_assert_ptr_nonnull(dir);
    if (_i == 1)
        *strrchr(link, '/') = '\0';
    elsewhere = talloc_asprintf(dir, "%s/elsewhere", env->dir);
    ck_assert_int_eq(mkdir_parents(link, 0700), 0);
    ck_assert_int_eq(mkdir(elsewhere, 0700), 0);
    ck_assert_int_eq(symlink(elsewhere, link), 0);

    ck_assert_ptr_null(tierpath_user_dir(NULL, "bob", "default", "t1", &r));
    ck_assert_int_eq(r, XAP_IMAP_PERMISSION_DENIED);
    talloc_free(dir);
}
END_TEST

/* A user's removal must not follow a link planted in a search partition:
 * the files it points to belong to someone else. */
START_TEST(userdata_remove_does_not_follow_a_link)
{
    int r = 77;
    char *dir = tierpath_user_dir(NULL, "carol", "default", "t1", &r);
    char *hh_user = talloc_strdup(dir, dir), *elsewhere, *victim;
    struct stat st;

    ck_assert_ptr_nonnull(dir);
    *strrchr(hh_user, '/') = '\0';
    elsewhere = talloc_asprintf(dir, "%s/elsewhere", env->dir);
    victim = talloc_asprintf(dir, "%s/carol/xapian.1/precious", elsewhere);
    ck_assert_int_eq(mkdir_parents(victim, 0700), 0);
    testenv_write(env, "elsewhere/carol/xapian.1/precious", "keep me\n");
    ck_assert_int_eq(mkdir_parents(hh_user, 0700), 0);
    ck_assert_int_eq(symlink(elsewhere, hh_user), 0);

    r = userdata_remove("carol");
    ck_assert_msg(stat(victim, &st) == 0, "%s was removed through the link", victim);
    ck_assert_int_eq(r, XAP_IMAP_PERMISSION_DENIED);
    talloc_free(dir);
}
END_TEST

/* ------------------------------------------------------------ the lifecycle */

static void make_dir(const char *dir, const char *name, int with_file)
{
    char *path = talloc_asprintf(NULL, "%s/%s", dir, name);

    ck_assert_int_eq(mkdir_p(path, 0700), 0);
    if (with_file) {
        char *file = talloc_asprintf(path, "%s/data", path);
        FILE *f = fopen(file, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
    }
    talloc_free(path);
}

static int present(const char *dir, const char *name)
{
    char *path = talloc_asprintf(NULL, "%s/%s", dir, name);
    struct stat st;
    int r = lstat(path, &st) == 0;

    talloc_free(path);
    return r;
}

/* What the cleanup removes and what numbers it gives out are decided by
 * the one parser: a name that is not a database's is neither removed nor
 * counted. */
START_TEST(clean_leaves_names_not_ours)
{
    int r = 77, changed = 77;
    char *dir = tierpath_user_dir(NULL, "dave", "default", "t1", &r);
    struct activeitem *items = talloc_array(dir, struct activeitem, 1);

    ck_assert_ptr_nonnull(dir);
    items[0].tier = talloc_strdup(items, "t1");
    items[0].gen = 1;
    ck_assert_int_eq(activefile_write("dave", items, NULL), 0);
    make_dir(dir, "xapian.1", 1);                 /* listed, published */
    make_dir(dir, "xapian.2", 1);                 /* unlisted: debris */
    make_dir(dir, "xapian.1.NEW", 1);             /* a dead run's build */
    make_dir(dir, "xapian.0", 1);                 /* not ours */
    make_dir(dir, "xapian.01", 1);
    make_dir(dir, "xapian.4294967297", 1);
    make_dir(dir, "xapian.99999999999999999999", 1);
    make_dir(dir, "xapian.7x", 1);
    make_dir(dir, "xapian.3000000000", 0);

    ck_assert_uint_eq(tierlist_next_gen("dave", "default", items), 3);
    ck_assert_int_eq(tierlist_clean("dave", "default", &items, &changed), 0);
    ck_assert_int_eq(changed, 0);
    ck_assert_int_eq(present(dir, "xapian.1"), 1);
    ck_assert_int_eq(present(dir, "xapian.2"), 0);
    ck_assert_int_eq(present(dir, "xapian.1.NEW"), 0);
    ck_assert_int_eq(present(dir, "xapian.0"), 1);
    ck_assert_int_eq(present(dir, "xapian.01"), 1);
    ck_assert_int_eq(present(dir, "xapian.4294967297"), 1);
    ck_assert_int_eq(present(dir, "xapian.99999999999999999999"), 1);
    ck_assert_int_eq(present(dir, "xapian.7x"), 1);
    tierlist_remove_unbuilt("dave", "default");
    ck_assert_int_eq(present(dir, "xapian.3000000000"), 1);
    talloc_free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("tierlist");
    TCase *tc = tcase_create("parse");

    tcase_add_loop_test(tc, parse_good, 0, (int)(sizeof good / sizeof good[0]));
    tcase_add_loop_test(tc, parse_bad, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, names_round_trip);
    suite_add_tcase(s, tc);

    tc = tcase_create("path");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, user_dir_is_below_the_partition);
    tcase_add_loop_test(tc, user_dir_refuses_a_link, 0, 2);
    tcase_add_test(tc, userdata_remove_does_not_follow_a_link);
    suite_add_tcase(s, tc);

    tc = tcase_create("lifecycle");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, clean_leaves_names_not_ours);
    suite_add_tcase(s, tc);
    return s;
}
