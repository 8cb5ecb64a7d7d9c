/* init.c - xap_init() and xap_done(). */
#include <config.h>

#include <sys/stat.h>

#include <stdlib.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/init.h"
#include "common/lockorder.h"
#include "common/xlog.h"

#define MAX_DONE_FNS 16
static xapiary_done_fn *done_fns[MAX_DONE_FNS];
static int ndone_fns;

void xapiary_atdone(xapiary_done_fn *fn)
{
    for (int i = 0; i < ndone_fns; i++)
        if (done_fns[i] == fn)
            return;
    if (ndone_fns == MAX_DONE_FNS) {
        xlog(LOG_CRIT, "xapiary_atdone: too many cleanup functions");
        abort();
    }
    done_fns[ndone_fns++] = fn;
}

int xap_init(const char *config_path)
{
    int r;

    xap_done();
    fault_init();
    /* Mail and indexes are private to the server's user.  Files we create
     * ourselves get 0600/0700 explicitly; this covers the ones Xapian and
     * SQLite create (databases, journals, compaction output). */
    umask(077);
    if (!config_path)
        config_path = getenv("XAPIARY_CONFIG");
    if (!config_path || !*config_path)
        config_path = XAPIARY_DEFAULT_CONFIG;
    r = config_load(config_path);
    if (r)
        return r;
    xlog_open(config_syslog(NULL));
    return 0;
}

void xap_done(void)
{
    while (ndone_fns > 0)
        done_fns[--ndone_fns]();
    config_unload();
    fault_done();
    lockorder_reset();
    xlog_close();
}

const char *xap_version(void)
{
    return PACKAGE_VERSION;
}

const char *xap_config_path(void)
{
    return config_path_of(NULL);
}
