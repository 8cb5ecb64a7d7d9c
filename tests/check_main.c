/* check_main.c - main() of every check test program: runs make_suite()
 * with the output chosen by the environment (TAP under `make check`). */
#include <config.h>

#include <stdlib.h>

#include "tests/testutil.h"

int main(void)
{
    SRunner *sr = srunner_create(make_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
