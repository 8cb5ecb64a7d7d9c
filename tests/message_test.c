/* message_test - placeholder until the module lands. */
#include <config.h>
#include "tests/testutil.h"

START_TEST(placeholder)
{
    ck_assert_int_eq(1 + 1, 2);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("message");
    TCase *tc = tcase_create("placeholder");
    tcase_add_test(tc, placeholder);
    suite_add_tcase(s, tc);
    return s;
}
