/* tierpath.c - see tierpath.h. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/config.h"
#include "common/mboxname.h"
#include "common/tierpath.h"
#include "common/util.h"

#define PREFIX "xapian"

int tierpath_parse(const char *name, unsigned *gen_r, int *is_new_r)
{
    const char *num = name + sizeof PREFIX;      /* after "xapian." */
    unsigned long n;
    char *end;

    if (is_new_r)
        *is_new_r = 0;
    if (!strcmp(name, PREFIX)) {
        *gen_r = 0;
        return 0;
    }
    /* One spelling per generation: "xapian.01" or "xapian.0" would be a
     * second name for a number, which a cleanup comparing names with the
     * list could take for an unlisted database and remove. */
    if (strncmp(name, PREFIX ".", sizeof PREFIX) || *num < '1' || *num > '9')
        return -1;
    errno = 0;
    n = strtoul(num, &end, 10);
    if (errno || n > TIER_GEN_MAX)
        return -1;
    if (*end && !(is_new_r && !strcmp(end, TIER_NEW_SUFFIX)))
        return -1;
    if (is_new_r)
        *is_new_r = *end != '\0';
    *gen_r = (unsigned)n;
    return 0;
}

char *tierpath_name(void *ctx, unsigned gen)
{
    return gen ? talloc_asprintf(ctx, PREFIX ".%u", gen) : talloc_strdup(ctx, PREFIX);
}

char *tierpath_user_dir(void *ctx, const char *userid, const char *partition,
                        const char *tier, int *r_r)
{
    const char *base = config_searchpartition(NULL, tier, partition);
    char *name, *path;

    *r_r = XAP_IMAP_SEARCH_TIER_UNKNOWN;
    if (!base)
        return NULL;
    name = talloc_asprintf(NULL, "user.%s", userid);
    path = mboxname_hashed_path(ctx, base, name);
    talloc_free(name);
    *r_r = path ? path_check_beneath(base, path) : XAP_IMAP_IOERROR;
    if (*r_r)
        TALLOC_FREE(path);
    return path;
}
