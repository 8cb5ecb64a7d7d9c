/* squatter-prio.c - indexing at a lower CPU and I/O priority than
 * searches.  Searches are interactive and short; an index run is long and
 * nobody waits for a given second of it.  On a busy machine the run
 * queue, not the locks, was what a search waited for while squatter's
 * writers used every core (docs/PERFORMANCE-SEARCH.md "Search while indexing").
 *
 * Set once, in the main thread, before any thread or child process is
 * made: both inherit the nice value and the I/O priority, so the side
 * writers' threads and the per-user processes of -j run at them too.
 * A value that would raise the priority (squatter started nicer than
 * asked) is left alone: lowering needs no privilege, raising does. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "xapiary/xapiary.h"
#include "common/config.h"
#include "common/xlog.h"
#include "squatter/squatter.h"

/* The kernel's encoding (linux/ioprio.h, not in every libc's headers). */
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_CLASS_BE 2
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_WHO_PROCESS 1

static int set_nice(unsigned nice)
{
    int now;

    errno = 0;
    now = getpriority(PRIO_PROCESS, 0);
    if (errno) {
        xlog_syserr("getpriority", "squatter");
        return -1;
    }
    if (now >= (int)nice)
        return 0;
    if (setpriority(PRIO_PROCESS, 0, (int)nice) < 0) {
        xlog_syserr("setpriority", "squatter");
        return -1;
    }
    return 0;
}

static int set_ioprio(int ioprio)
{
#ifdef SYS_ioprio_set
    int value = ioprio == CONFIG_IOPRIO_IDLE ? IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT
                                             : IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT | ioprio;

    if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) < 0) {
        xlog_syserr("ioprio_set", "squatter");
        return -1;
    }
    return 0;
#else
    (void)ioprio;
    xlog(LOG_WARNING, "squatter_ioprio: no ioprio_set on this system; ignored");
    return 0;
#endif
}

int squatter_lower_priority(const struct squatter_opts *o)
{
    unsigned nice = o->nice >= 0 ? (unsigned)o->nice : config_squatter_nice(NULL);
    int ioprio = o->ioprio != CONFIG_IOPRIO_BAD ? o->ioprio : config_squatter_ioprio(NULL);

    if (nice && set_nice(nice) < 0)
        return EX_OSERR;
    if (ioprio != CONFIG_IOPRIO_NONE && set_ioprio(ioprio) < 0)
        return EX_OSERR;
    if (o->verbose) {
        char io[32];
        if (ioprio == CONFIG_IOPRIO_NONE)
            snprintf(io, sizeof io, "the kernel's");
        else if (ioprio == CONFIG_IOPRIO_IDLE)
            snprintf(io, sizeof io, "idle");
        else
            snprintf(io, sizeof io, "best-effort %d", ioprio);
        fprintf(stderr, "squatter: indexing at nice %d, I/O priority %s\n",
                getpriority(PRIO_PROCESS, 0), io);
    }
    return EX_OK;
}
