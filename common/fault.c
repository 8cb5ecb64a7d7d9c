/* fault.c - fault points: die here, as a crash would; or wait here, so
 * that a test can make a race happen at exactly this point. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>

#include "common/fault.h"
#include "common/xlog.h"

/* The armed names, one string "a,b,c" copied at init; NULL when none. */
static char *armed;
/* XAPIARY_PAUSE=point:FILE, split at init; NULL when none.  PAUSED: the
 * first thread to reach the point has taken it (points are reached in
 * side writers' threads too). */
static char *pause_point, *pause_file;
static int paused;

void fault_init(void)
{
    const char *env = getenv("XAPIARY_FAULT"), *p = getenv("XAPIARY_PAUSE");

    fault_done();
    paused = 0;
    if (env && *env)
        armed = talloc_strdup(NULL, env);
    const char *colon = p ? strchr(p, ':') : NULL;
    if (colon && colon != p && colon[1]) {
        pause_point = talloc_strndup(NULL, p, (size_t)(colon - p));
        pause_file = talloc_strdup(NULL, colon + 1);
    }
}

void fault_done(void)
{
    TALLOC_FREE(armed);
    TALLOC_FREE(pause_point);
    TALLOC_FREE(pause_file);
}

/* At the pause point: creates the file, then waits until somebody
 * removes it (the test, after doing what it wants done at this point). */
static void pause_here(const char *name)
{
    struct timespec tick = { 0, 10 * 1000 * 1000 };
    struct stat st;
    int fd = open(pause_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        xlog(LOG_ERR, "pause point %s: cannot create %s: %s", name, pause_file,
             strerror(errno));
        return;
    }
    close(fd);
    xlog(LOG_NOTICE, "pause point %s reached: process %ld waits until %s is removed",
         name, (long)getpid(), pause_file);
    while (stat(pause_file, &st) == 0)
        nanosleep(&tick, NULL);
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
    if (pause_point && !strcmp(pause_point, name) &&
        !__atomic_exchange_n(&paused, 1, __ATOMIC_SEQ_CST))
        pause_here(name);
    if (!armed || !fault_armed(name))
        return;
    xlog(LOG_NOTICE, "fault point %s reached: killing process %ld",
         name, (long)getpid());
    kill(getpid(), SIGKILL);
    /* SIGKILL cannot be caught; this is only reached if kill() failed. */
    abort();
}
