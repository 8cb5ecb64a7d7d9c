/* lockhelper - a process that takes and releases namelocks on command, for
 * the multi-process lock tests.  Commands on stdin, one per line; one reply
 * line each on stdout:
 *   lock NAME shared|exclusive|nonblocking  -> "ok" | "err MESSAGE"
 *   release NAME                            -> "ok" | "err not held"
 *   held NAME                               -> "0" | "1" (shared) | "2"
 *   fork-release NAME  (a forked child releases its copy and exits; the
 *                       lock must stay held here)  -> "ok"
 *   exit               exits at once, without releasing anything
 * It prints "ready" once initialised. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xapiary/xapiary.h"
#include "xapiary/namelock.h"

#define MAXLOCKS 64
static struct { char name[512]; struct mboxlock *lock; } locks[MAXLOCKS];

static int slot_for_release(const char *name)
{
    for (int i = MAXLOCKS; i-- > 0;)
        if (locks[i].lock && !strcmp(locks[i].name, name))
            return i;
    return -1;
}

int main(int argc, char **argv)
{
    char line[1024];
    int r;

    if (argc != 3 || strcmp(argv[1], "-C")) {
        fprintf(stderr, "usage: lockhelper -C CONFIG\n");
        return 64;
    }
    r = xapiary_init(argv[2]);
    if (r) {
        printf("err %s\n", error_message(r));
        return 78;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready\n");

    while (fgets(line, sizeof line, stdin)) {
        char cmd[32] = "", name[512] = "", type[32] = "";
        line[strcspn(line, "\n")] = '\0';
        sscanf(line, "%31s %511s %31s", cmd, name, type);

        if (!strcmp(cmd, "lock")) {
            int t = !strcmp(type, "shared") ? LOCK_SHARED
                  : !strcmp(type, "exclusive") ? LOCK_EXCLUSIVE
                  : LOCK_NONBLOCKING;
            int i;
            for (i = 0; i < MAXLOCKS && locks[i].lock; i++)
                ;
            if (i == MAXLOCKS) {
                printf("err too many locks\n");
                continue;
            }
            r = mboxname_lock(name, &locks[i].lock, t);
            if (r) {
                printf("err %s%s\n", error_message(r),
                       locks[i].lock ? " (lockp not NULL!)" : "");
                continue;
            }
            snprintf(locks[i].name, sizeof locks[i].name, "%s", name);
            printf("ok\n");
        } else if (!strcmp(cmd, "release")) {
            int i = slot_for_release(name);
            if (i < 0) {
                printf("err not held\n");
                continue;
            }
            mboxname_release(&locks[i].lock);
            printf(locks[i].lock ? "err lockp not NULL\n" : "ok\n");
        } else if (!strcmp(cmd, "held")) {
            printf("%d\n", mboxname_islocked(name));
        } else if (!strcmp(cmd, "fork-release")) {
            int i = slot_for_release(name);
            pid_t pid = fork();
            if (pid == 0) {
                /* The child has forgotten the parent's locks at fork. */
                if (i >= 0 && mboxname_islocked(name))
                    _exit(1);
                _exit(0);
            }
            int status;
            waitpid(pid, &status, 0);
            printf(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok\n"
                                                                 : "err child\n");
        } else if (!strcmp(cmd, "exit")) {
            _exit(0);
        } else {
            printf("err unknown command\n");
        }
    }
    xapiary_done();
    return 0;
}
