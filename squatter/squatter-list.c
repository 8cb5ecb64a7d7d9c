/* squatter -l - the files of users' active search databases. */
#include <config.h>

#include <stdio.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/xapianlock.h"
#include "squatter/squatter.h"
#include "tools/cli.h"

int squatter_list(const struct squatter_opts *o)
{
    int ret = EX_OK;

    for (int i = 0; i < o->nargs; i++) {
        char **files = NULL;
        int r = xap_xapianlock_list_files(NULL, o->args[i], &files);
        if (r) {
            ret = cli_error(o->args[i], r, "cannot list search files");
            continue;
        }
        for (size_t k = 0; files[k]; k++)
            printf("%s\n", files[k]);
        talloc_free(files);
    }
    return ret;
}
