/* squatter-pool.c - users indexed side by side: each in a child process,
 * up to -j at once.  Different users have different databases and
 * different locks, so their writers never wait for one another; the
 * children share nothing but the files (mailboxes.db's connection is
 * closed before a fork and namelocks are forgotten in the child: see
 * mailbox/mboxlist.c and mailbox/namelock.c). */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "squatter/squatter.h"
#include "tools/cli.h"

int squatter_merge_exit(int ret, int r)
{
    /* the first failure is kept, except that "try again" wins; -A's
     * report (not a failure) gives way to any failure */
    return r && (ret == EX_OK || ret == SQUATTER_EX_REPORTED || r == EX_TEMPFAIL) ? r : ret;
}

struct child {
    pid_t pid;
    size_t job;
};

int squatter_pool(size_t n, unsigned procs, squatter_job_fn *fn, void *rock,
                  const char *(*name)(size_t job, void *rock))
{
    struct child *kids = talloc_zero_array(NULL, struct child, procs);
    size_t next = 0;
    unsigned running = 0;
    int ret = EX_OK, forwarded = 0;

    while (next < n || running) {
        /* start as many as allowed */
        while (running < procs && next < n && !squatter_stopping()) {
            unsigned slot = 0;
            while (kids[slot].pid)
                slot++;
            fflush(stdout);
            fflush(stderr);
            pid_t pid = fork();
            if (pid == 0) {
                int r = fn(next, rock);
                /* closes mailboxes.db, so that SQLite removes its -wal
                 * and -shm files as it does at the end of any run */
                xap_done();
                fflush(NULL);
                _exit(r);
            }
            if (pid < 0) {
                fprintf(stderr, "squatter: %s: cannot start a process: %s; indexing it "
                        "here\n", name(next, rock), strerror(errno));
                ret = squatter_merge_exit(ret, fn(next, rock));
                next++;
                continue;
            }
            kids[slot].pid = pid;
            kids[slot].job = next++;
            running++;
        }
        if (!running)
            break;
        if (squatter_stopping() && !forwarded) {
            /* each child finishes its current batch and stops */
            for (unsigned k = 0; k < procs; k++)
                if (kids[k].pid)
                    kill(kids[k].pid, SIGTERM);
            forwarded = 1;
        }
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (unsigned k = 0; k < procs; k++) {
            if (kids[k].pid != pid)
                continue;
            int r;
            if (WIFEXITED(status)) {
                r = WEXITSTATUS(status);
            } else {
                fprintf(stderr, "squatter: %s: the indexing process was killed by signal "
                        "%d\n", name(kids[k].job, rock), WTERMSIG(status));
                r = EX_SOFTWARE;
            }
            ret = squatter_merge_exit(ret, r);
            kids[k].pid = 0;
            running--;
        }
    }
    talloc_free(kids);
    return ret;
}
