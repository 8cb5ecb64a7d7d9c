/* lockhelper - a process that takes and releases namelocks on command, for
 * the multi-process lock tests.  Commands on stdin, one per line; one reply
 * line each on stdout:
 *   lock NAME shared|exclusive|nonblocking  -> "ok" | "err MESSAGE"
 *   release NAME                            -> "ok" | "err not held"
 *   held NAME                               -> "0" | "1" (shared) | "2"
 *   fork-release NAME  (a forked child releases its copy and exits; the
 *                       lock must stay held here)  -> "ok"
 *   exit               exits at once, without releasing anything
 * and, for the file lock primitive (common/lockfile.h), the file at PATH
 * locked at lock-order level LEVEL (a number of enum lock_level):
 *   flock PATH shared|exclusive|try-shared|try-exclusive TIMEOUT LEVEL
 *                                           -> "ok" | "err MESSAGE"
 *   funlock PATH                            -> "ok" | "err not held"
 *   fino PATH          the inode the held lock is on -> "INO" | "err not held"
 *   stderr PATH        sends stderr (log lines) to PATH -> "ok"
 * and, for the SQLite busy wait (common/sqldb.h), USERID's GUID db:
 *   gdb-begin USERID   opens it (creating it) and begins a write
 *                      transaction  -> "ok" | "err MESSAGE"
 *   gdb-end            rolls it back and closes it -> "ok"
 * and, for a user's two Xapian locks (xapianlock/), one at a time:
 *   xl-search USERID   begin_search            -> "ok" | "err MESSAGE"
 *   xl-search-open USERID  the search API's begin: the databases opened
 *                      under READ, the revision read from that open
 *                      -> "ok" | "err MESSAGE"
 *   xl-update USERID   begin_mailbox_update    -> "ok" | "err MESSAGE"
 *   xl-again USERID    ends the update held and begins the next one at
 *                      once, as the indexer does between batches -> "ok"
 *   xl-batch USERID    begins a batch as the indexer does (the first
 *                      database opened under WRITE, WRITE let go, the
 *                      revision lock of the next revision held) -> "ok"
 *   xl-commit          commits a metadata change into the batch's
 *                      database, closes it and ends the batch -> "ok"
 *   xl-end             -> "ok"
 * SIGUSR1 is caught, without SA_RESTART, so that a test can interrupt a
 * blocking wait.
 * It prints "ready" once initialised. */
#include <config.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/namelock.h"
#include "common/lockfile.h"
#include "cwrap/xapian_wrap.h"
#include "mailbox/guiddb.h"
#include "xapianlock/xapianlock-private.h"

#define MAXLOCKS 64
static struct { char name[512]; struct xap_mboxlock *lock; } locks[MAXLOCKS];

static struct lockfile *files[MAXLOCKS];
static struct guiddb *gdb;
static struct xap_xapianlock *xl;
static struct xw_dbw *dbw;       /* xl-batch: the first database */
static unsigned commits;

static void reply(int r)
{
    if (r)
        printf("err %s\n", xap_error_message(r));
    else
        printf("ok\n");
}

static void on_usr1(int sig)
{
    (void)sig;
}

static struct lockfile **file_slot(const char *path)
{
    for (int i = 0; i < MAXLOCKS; i++)
        if (files[i] && !strcmp(files[i]->path, path))
            return &files[i];
    return NULL;
}

/* "flock PATH MODE TIMEOUT LEVEL" */
static void file_lock(const char *line)
{
    char path[512], mode[32];
    unsigned timeout, level;
    struct lockfile **slot = NULL;
    int op, r;

    if (sscanf(line, "flock %511s %31s %u %u", path, mode, &timeout, &level) != 4) {
        printf("err usage\n");
        return;
    }
    op = strstr(mode, "shared") ? LOCK_SH : LOCK_EX;
    if (!strncmp(mode, "try-", 4))
        op |= LOCK_NB;
    for (int i = 0; i < MAXLOCKS && !slot; i++)
        if (!files[i])
            slot = &files[i];
    if (!slot) {
        printf("err too many locks\n");
        return;
    }
    *slot = lockfile_new(NULL, path, NULL, (enum lock_level)level,
                         O_RDWR | O_CREAT, 0);
    r = lockfile_lock(*slot, op, timeout, path);
    if (r) {
        TALLOC_FREE(*slot);
        printf("err %s\n", xap_error_message(r));
        return;
    }
    printf("ok\n");
}

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
    r = xap_init(argv[2]);
    if (r) {
        printf("err %s\n", xap_error_message(r));
        return 78;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    printf("ready\n");

    while (fgets(line, sizeof line, stdin)) {
        char cmd[32] = "", name[512] = "", type[32] = "";
        line[strcspn(line, "\n")] = '\0';
        sscanf(line, "%31s %511s %31s", cmd, name, type);

        if (!strcmp(cmd, "lock")) {
            int t = !strcmp(type, "shared") ? XAP_LOCK_SHARED
                  : !strcmp(type, "exclusive") ? XAP_LOCK_EXCLUSIVE
                  : XAP_LOCK_NONBLOCKING;
            int i;
            for (i = 0; i < MAXLOCKS && locks[i].lock; i++)
                ;
            if (i == MAXLOCKS) {
                printf("err too many locks\n");
                continue;
            }
            r = xap_mboxname_lock(name, &locks[i].lock, t);
            if (r) {
                printf("err %s%s\n", xap_error_message(r),
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
            xap_mboxname_release(&locks[i].lock);
            printf(locks[i].lock ? "err lockp not NULL\n" : "ok\n");
        } else if (!strcmp(cmd, "held")) {
            printf("%d\n", xap_mboxname_islocked(name));
        } else if (!strcmp(cmd, "fork-release")) {
            int i = slot_for_release(name);
            pid_t pid = fork();
            if (pid == 0) {
                /* The child has forgotten the parent's locks at fork. */
                if (i >= 0 && xap_mboxname_islocked(name))
                    _exit(1);
                _exit(0);
            }
            int status;
            waitpid(pid, &status, 0);
            printf(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok\n"
                                                                 : "err child\n");
        } else if (!strcmp(cmd, "flock")) {
            file_lock(line);
        } else if (!strcmp(cmd, "funlock") || !strcmp(cmd, "fino")) {
            struct lockfile **slot = file_slot(name);
            struct stat st;
            if (!slot || !(*slot)->held) {
                printf("err not held\n");
            } else if (!strcmp(cmd, "fino")) {
                fstat((*slot)->fd, &st);
                printf("%lu\n", (unsigned long)st.st_ino);
            } else {
                TALLOC_FREE(*slot);
                printf("ok\n");
            }
        } else if (!strcmp(cmd, "gdb-begin")) {
            r = gdb ? XAP_IMAP_INTERNAL : guiddb_open(NULL, name, 1, &gdb);
            if (!r && (r = guiddb_begin(gdb, 1)))
                guiddb_close(&gdb);
            if (r)
                printf("err %s\n", xap_error_message(r));
            else
                printf("ok\n");
        } else if (!strcmp(cmd, "xl-search")) {
            reply(xl ? XAP_IMAP_INTERNAL : xap_xapianlock_begin_search(NULL, name, &xl));
        } else if (!strcmp(cmd, "xl-search-open")) {
            struct xw_dbr *dbr;
            reply(xl ? XAP_IMAP_INTERNAL : xapianlock_begin_search_open(NULL, name, &xl, &dbr));
        } else if (!strcmp(cmd, "xl-update")) {
            reply(xl ? XAP_IMAP_INTERNAL : xap_xapianlock_begin_mailbox_update(NULL, name, &xl));
        } else if (!strcmp(cmd, "xl-again")) {
            xap_xapianlock_end(&xl);
            reply(xap_xapianlock_begin_mailbox_update(NULL, name, &xl));
        } else if (!strcmp(cmd, "xl-batch")) {
            reply(xl ? XAP_IMAP_INTERNAL : xapianlock_begin_batch(NULL, name, NULL, &xl, &dbw));
        } else if (!strcmp(cmd, "xl-commit")) {
            char val[32];
            snprintf(val, sizeof val, "%u", ++commits);
            r = dbw ? xw_dbw_set_metadata(dbw, "lockhelper.commit", val) : XAP_IMAP_INTERNAL;
            if (dbw && !r)
                r = xw_dbw_close(&dbw);
            xw_dbw_close(&dbw);
            xap_xapianlock_end(&xl);
            reply(r);
        } else if (!strcmp(cmd, "xl-end")) {
            xw_dbw_close(&dbw);
            xap_xapianlock_end(&xl);
            printf("ok\n");
        } else if (!strcmp(cmd, "gdb-end")) {
            guiddb_close(&gdb);
            printf("ok\n");
        } else if (!strcmp(cmd, "stderr")) {
            int ok = freopen(name, "a", stderr) != NULL;
            if (ok)
                setvbuf(stderr, NULL, _IONBF, 0);   /* abort() flushes nothing */
            printf(ok ? "ok\n" : "err freopen\n");
        } else if (!strcmp(cmd, "exit")) {
            _exit(0);
        } else {
            printf("err unknown command\n");
        }
    }
    xap_done();
    return 0;
}
