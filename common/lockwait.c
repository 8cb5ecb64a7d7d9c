/* lockwait.c - flock(2) with a deadline and a progress line.
 *
 * flock has no timeout.  A blocking flock is interrupted by a repeating
 * SIGALRM timer (installed without SA_RESTART for the wait only, and the
 * previous handler and timer put back); each interruption checks the
 * deadline and whether it is time to say what we are waiting for.  The
 * timer repeats, so a signal that lands just before the flock call starts
 * cannot make the wait unbounded.  A wait with no deadline and nobody to
 * tell (not -v) is a plain blocking flock: no signal at all.
 *
 * Who holds the lock comes from /proc/locks, which lists every flock with
 * the holder's pid and the file's device and inode; a process waiting on
 * it is listed too, marked "->", and is skipped. */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>

#include "common/lockwait.h"
#include "common/util.h"
#include "common/xlog.h"

/* How long a wait goes unreported. */
#define REPORT_AFTER_S 1.0

static volatile sig_atomic_t alarm_count;

static void on_alarm(int sig)
{
    (void)sig;
    alarm_count++;
}

/* Appends to BUF the holders of the flock on (DEV, INO): " (held shared
 * by pid 12, 34)". */
/* Whether PID is in LIST, a ", "-separated list of pids. */
static int pid_listed(const char *list, const char *pid)
{
    size_t n = strlen(pid);

    for (const char *p = list; (p = strstr(p, pid)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

static void describe_holders(char *buf, size_t size, dev_t dev, ino_t ino)
{
    char key[64], line[256], pids[128] = "";
    const char *mode = NULL;
    size_t used = 0;
    FILE *f;

    buf[0] = '\0';
    snprintf(key, sizeof key, "%02x:%02x:%lu", major(dev), minor(dev),
             (unsigned long)ino);
    f = fopen("/proc/locks", "re");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        /* "N: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INO 0 EOF"; a waiter has
         * "->" before FLOCK. */
        char *save = NULL, *tok[6];
        int n = 0;
        for (char *t = strtok_r(line, " \t\n", &save); t && n < 6;
             t = strtok_r(NULL, " \t\n", &save))
            tok[n++] = t;
        if (n < 6 || strcmp(tok[1], "FLOCK") || strcmp(tok[5], key))
            continue;
        /* /proc/locks is read in pieces while locks come and go, so one
         * holder can be read twice: name each pid once. */
        if (used < sizeof pids && !pid_listed(pids, tok[4])) {
            int w = snprintf(pids + used, sizeof pids - used, "%s%s",
                             used ? ", " : "", tok[4]);
            used += w > 0 ? (size_t)w : 0;
        }
        mode = !strcmp(tok[3], "WRITE") ? "exclusively" : "shared";
    }
    fclose(f);
    if (mode)
        snprintf(buf, size, " (held %s by pid %s)", mode, pids);
}

void lockwait_report(int fd, const char *what)
{
    char holders[256] = "";
    struct stat st;

    if (fd >= 0 && fstat(fd, &st) == 0)
        describe_holders(holders, sizeof holders, st.st_dev, st.st_ino);
    xlog(LOG_INFO, "waiting for %s%s", what, holders);
}

int lockwait_flock(int fd, int op, unsigned timeout, const char *what)
{
    struct sigaction sa, old_sa;
    struct itimerval it, old_it;
    double start, deadline;
    int r, tell = what && xlog_level() >= LOG_INFO, told = 0;

    if (flock(fd, op | LOCK_NB) == 0)
        return 0;
    if (errno != EWOULDBLOCK && errno != EINTR)
        return -1;
    if (timeout == 0 && !tell) {
        while ((r = flock(fd, op)) < 0 && errno == EINTR)
            ;
        return r;
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;          /* no SA_RESTART: flock must return EINTR */
    sigaction(SIGALRM, &sa, &old_sa);
    memset(&it, 0, sizeof it);
    it.it_value.tv_usec = 100000;
    it.it_interval.tv_usec = 100000;
    setitimer(ITIMER_REAL, &it, &old_it);

    start = now_seconds();
    deadline = timeout ? start + timeout : 0;
    for (;;) {
        double now;
        r = flock(fd, op);
        if (r == 0 || errno != EINTR)
            break;
        now = now_seconds();
        if (tell && !told && now - start >= REPORT_AFTER_S) {
            lockwait_report(fd, what);
            told = 1;
        }
        if (deadline && now >= deadline) {
            errno = EWOULDBLOCK;
            break;
        }
    }

    int saved = errno;
    setitimer(ITIMER_REAL, &old_it, NULL);
    sigaction(SIGALRM, &old_sa, NULL);
    if (r == 0 && told)
        xlog(LOG_INFO, "got %s after %.1f s", what, now_seconds() - start);
    else if (r < 0 && saved == EWOULDBLOCK && what)
        xlog(LOG_NOTICE, "gave up waiting for %s after %u s (namelock_timeout)",
             what, timeout);
    errno = saved;
    return r;
}
