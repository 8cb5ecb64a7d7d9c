/* fault.c - fault points: die here, as a crash would. */
#include <config.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>

#include "common/fault.h"
#include "common/xlog.h"

/* The armed names, one string "a,b,c" copied at init; NULL when none. */
static char *armed;

void fault_init(void)
{
    const char *env = getenv("XAPIARY_FAULT");

    fault_done();
    if (env && *env)
        armed = talloc_strdup(NULL, env);
}

void fault_done(void)
{
    TALLOC_FREE(armed);
}

int fault_armed(const char *name)
{
    size_t len = strlen(name);
    const char *p = armed;

    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && memcmp(p, name, n) == 0)
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

void fault_point(const char *name)
{
    if (!armed || !fault_armed(name))
        return;
    xlog(LOG_NOTICE, "fault point %s reached: killing process %ld",
         name, (long)getpid());
    kill(getpid(), SIGKILL);
    /* SIGKILL cannot be caught; this is only reached if kill() failed. */
    abort();
}
