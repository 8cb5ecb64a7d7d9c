/* uidset_test - UID range sets and their text form. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapianlock/uidset.h"
#include "tests/testutil.h"

static char *fmt(struct uidset *s)
{
    return uidset_format(s, s);
}

START_TEST(add_in_any_order_merges)
{
    struct uidset *s = uidset_new(NULL);

    for (uint32_t u = 1; u <= 100; u++)
        uidset_add(s, u);
    ck_assert_str_eq(fmt(s), "1-100");
    uidset_add(s, 105);
    uidset_add(s, 103);
    ck_assert_str_eq(fmt(s), "1-100,103,105");
    uidset_add(s, 104);
    ck_assert_str_eq(fmt(s), "1-100,103-105");
    uidset_add(s, 101);
    uidset_add(s, 102);
    ck_assert_str_eq(fmt(s), "1-105");
    uidset_add_range(s, 200, 300);
    uidset_add_range(s, 150, 250);
    ck_assert_str_eq(fmt(s), "1-105,150-300");
    uidset_add_range(s, 50, 400);
    ck_assert_str_eq(fmt(s), "1-400");
    uidset_add(s, 0);          /* not a UID */
    uidset_add(s, UINT32_MAX);
    ck_assert_str_eq(fmt(s), "1-400,4294967295");
    ck_assert_uint_eq(uidset_count(s), 401);
    ck_assert_uint_eq(uidset_max(s), UINT32_MAX);
    ck_assert(uidset_contains(s, 1) && uidset_contains(s, 400) && !uidset_contains(s, 401));
    talloc_free(s);
}
END_TEST

START_TEST(random_adds_match_a_bitmap)
{
    struct uidset *s = uidset_new(NULL);
    unsigned char bits[1001] = { 0 };

    srand(42);
    for (int i = 0; i < 3000; i++) {
        uint32_t a = 1 + (uint32_t)(rand() % 1000), b = a + (uint32_t)(rand() % 5);
        if (b > 1000)
            b = 1000;
        uidset_add_range(s, a, b);
        for (uint32_t u = a; u <= b; u++)
            bits[u] = 1;
    }
    size_t want = 0;
    for (uint32_t u = 1; u <= 1000; u++) {
        ck_assert_int_eq(uidset_contains(s, u), bits[u]);
        want += bits[u];
    }
    ck_assert_uint_eq(uidset_count(s), want);
    /* ranges are sorted, disjoint and not adjacent */
    for (size_t i = 1; i < talloc_array_length(s->r); i++)
        ck_assert_uint_gt(s->r[i].first, s->r[i - 1].last + 1);
    talloc_free(s);
}
END_TEST

START_TEST(removes_match_a_bitmap)
{
    struct uidset *s = uidset_new(NULL);
    unsigned char bits[302] = { 0 };

    srand(11);
    uidset_add_range(s, 1, 300);
    for (uint32_t u = 1; u <= 300; u++)
        bits[u] = 1;
    uidset_remove(s, 301);                   /* not there: no-op */
    for (int i = 0; i < 400; i++) {
        uint32_t u = 1 + (uint32_t)(rand() % 301);
        uidset_remove(s, u);
        bits[u] = 0;
        if (i % 7 == 0) {                    /* put some back */
            uint32_t a = 1 + (uint32_t)(rand() % 300);
            uidset_add(s, a);
            bits[a] = 1;
        }
    }
    size_t want = 0;
    for (uint32_t u = 1; u <= 301; u++) {
        ck_assert_int_eq(uidset_contains(s, u), bits[u]);
        want += bits[u];
    }
    ck_assert_uint_eq(uidset_count(s), want);
    for (size_t i = 1; i < talloc_array_length(s->r); i++)
        ck_assert_uint_gt(s->r[i].first, s->r[i - 1].last + 1);
    for (uint32_t u = 1; u <= 301; u++)
        uidset_remove(s, u);
    ck_assert_uint_eq(uidset_count(s), 0);
    ck_assert_str_eq(fmt(s), "");
    uidset_add(s, 5);
    ck_assert_str_eq(fmt(s), "5");
    talloc_free(s);
}
END_TEST

START_TEST(covers_matches_a_bitmap)
{
    struct uidset *s = uidset_new(NULL);
    unsigned char bits[202] = { 0 };

    srand(7);
    for (int i = 0; i < 40; i++) {
        uint32_t a = 1 + (uint32_t)(rand() % 200), b = a + (uint32_t)(rand() % 20);
        if (b > 200)
            b = 200;
        uidset_add_range(s, a, b);
        for (uint32_t u = a; u <= b; u++)
            bits[u] = 1;
    }
    for (uint32_t a = 1; a <= 201; a++) {
        int all = 1;
        for (uint32_t b = a; b <= 201; b++) {
            all = all && bits[b];
            ck_assert_int_eq(uidset_covers(s, a, b), all);
        }
        ck_assert_int_eq(uidset_covers(s, a, a - 1), 1);   /* empty: covered */
    }
    talloc_free(s);
}
END_TEST

START_TEST(parse_format_union)
{
    struct uidset *a, *b;

    ck_assert_int_eq(uidset_parse(NULL, "1-3,7,9-10", 10, &a), 0);
    ck_assert_int_eq(uidset_parse(NULL, "4-6,8", 5, &b), 0);
    uidset_union(a, b);
    ck_assert_str_eq(fmt(a), "1-10");
    talloc_free(a);
    talloc_free(b);
    ck_assert_int_eq(uidset_parse(NULL, "", 0, &a), 0);
    ck_assert_uint_eq(uidset_count(a), 0);
    talloc_free(a);
    static const char *const bad[] = { "0", "3-1", "1,", ",1", "1--2", "a", "1-", "1 2",
                                       "99999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(uidset_parse(NULL, bad[i], strlen(bad[i]), &a) ==
                      XAP_IMAP_MAILBOX_BADFORMAT, "'%s' accepted", bad[i]);
    ck_assert_int_eq(uidset_parse(NULL, "1\0002", 3, &a), XAP_IMAP_MAILBOX_BADFORMAT);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("uidset");
    TCase *tc = tcase_create("uidset");

    tcase_add_test(tc, add_in_any_order_merges);
    tcase_add_test(tc, random_adds_match_a_bitmap);
    tcase_add_test(tc, covers_matches_a_bitmap);
    tcase_add_test(tc, removes_match_a_bitmap);
    tcase_add_test(tc, parse_format_union);
    suite_add_tcase(s, tc);
    return s;
}
