/* squatter -R - rolling mode: index the mailboxes the sync log names, as
 * they change.  Takes the log (synclog_take), indexes every named
 * mailbox, and only then removes the taken file, so a crash replays it.
 * A name whose user or mailbox no longer exists is dropped with one log
 * line: there is nothing left to index, and keeping it would replay the
 * log forever.  Stops cleanly on SIGTERM/SIGINT after the current batch;
 * SIGHUP reopens the log file and the syslog connection. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "common/mboxname.h"
#include "common/xlog.h"
#include "mailbox/synclog.h"
#include "squatter/squatter.h"
#include "tools/cli.h"
#include "xapianlock/index.h"

#define POLL_MS 200
/* After a failed batch the wait doubles up to this, so that a failure
 * that lasts (a disk away) is not logged five times a second. */
#define RETRY_MAX_MS 6400

static volatile sig_atomic_t hangup;

static void on_hup(int sig)
{
    (void)sig;
    hangup = 1;
}

/* Like cli_error, through xlog: stamped, and to syslog when configured. */
static int roll_error(const char *object, int r, const char *detail)
{
    xlog(LOG_ERR, "%s: %s%s%s", object, xap_error_message(r), detail ? ": " : "",
         detail ? detail : "");
    return cli_exit_code(r);
}

static int is_gone(int r)
{
    return r == XAP_IMAP_MAILBOX_NONEXISTENT || r == XAP_IMAP_NOTFOUND;
}

/* 0 when USERID's INBOX exists, else XAP_IMAP_MAILBOX_NONEXISTENT: looked up
 * first, so that a deleted user is one line of ours, not the index's
 * complaint too. */
static int lookup_user(const char *userid)
{
    char *inbox = talloc_asprintf(NULL, "user.%s", userid);
    struct xap_mboxlist_entry *e = NULL;
    int r = xap_mboxlist_lookup(inbox, inbox, &e);

    talloc_free(inbox);
    return r;
}

/* Indexes NAMES (grouped by user, in order); returns a sysexits code. */
static int index_names(char **names)
{
    int ret = EX_OK;

    for (size_t i = 0; i < talloc_array_length(names) && !squatter_stopping(); ) {
        char *userid = NULL;
        struct indexer *ix = NULL;
        size_t j;
        int r;

        if (mboxname_to_userid(NULL, names[i], &userid)) {
            i++;                  /* shared mailboxes have no search tiers */
            continue;
        }
        r = lookup_user(userid);
        if (!r)
            r = indexer_begin(NULL, userid, 0, &ix);
        for (j = i; j < talloc_array_length(names); j++) {
            char *other = NULL;
            int same = !mboxname_to_userid(NULL, names[j], &other) &&
                       !strcmp(other, userid);
            talloc_free(other);
            if (!same)
                break;
            if (!r) {
                int r2 = indexer_mailbox(ix, names[j]);
                if (is_gone(r2))
                    xlog(LOG_NOTICE, "%s: %s: sync log entry dropped", names[j],
                         xap_error_message(r2));
                else if (r2)
                    ret = roll_error(names[j], r2, "not indexed");
            }
        }
        if (is_gone(r))
            xlog(LOG_NOTICE, "%s: user %s no longer exists: its sync log entries "
                 "dropped", names[i], userid);
        else if (r)
            ret = roll_error(userid, r, "cannot open the search index");
        else if ((r = indexer_end(&ix)))
            ret = roll_error(userid, r, "not indexed");
        else
            xlog(LOG_INFO, "%s: %zu mailbox(es) indexed", userid, j - i);
        talloc_free(userid);
        i = j;
    }
    return ret;
}

/* Points stderr at LOGFILE (appending); returns 0 or a sysexits code. */
static int open_logfile(const char *logfile)
{
    int fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
        xlog(LOG_ERR, "%s: cannot open the log file: %s", logfile, strerror(errno));
        if (fd >= 0)
            close(fd);
        return EX_CANTCREAT;
    }
    close(fd);
    return EX_OK;
}

static int write_pidfile(const char *pidfile)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    FILE *f = fopen(pidfile, "we");

    if (!f || fwrite(buf, 1, (size_t)n, f) != (size_t)n || fclose(f)) {
        xlog(LOG_ERR, "%s: cannot write the pidfile: %s", pidfile, strerror(errno));
        return EX_CANTCREAT;
    }
    return EX_OK;
}

int squatter_rolling(const struct squatter_opts *o)
{
    int ret = EX_OK;
    long wait_ms = POLL_MS;

    if (!o->foreground && daemon(0, 0) < 0)
        return cli_error("squatter", XAP_IMAP_IOERROR, "cannot detach");
    if (o->logfile && (ret = open_logfile(o->logfile)))
        return ret;
    if (o->pidfile && (ret = write_pidfile(o->pidfile)))
        return ret;
    xlog_set_stamp(1);
    signal(SIGHUP, on_hup);
    while (!squatter_stopping()) {
        char **names = NULL, *work = NULL;
        int r;

        if (hangup) {
            hangup = 0;
            if (o->logfile)
                open_logfile(o->logfile);
            xlog_reopen();
        }
        r = synclog_take(NULL, o->channel, &names, &work);
        if (r) {
            ret = roll_error("sync log", r, o->channel);
            talloc_free(names);
            break;
        }
        /* Only a fully processed log is removed; on failure or stop it
         * stays and is replayed.  A failure is logged, not kept for the
         * exit status: a later batch may succeed. */
        if (!talloc_array_length(names))
            synclog_done(work);
        else if (index_names(names) != EX_OK)
            wait_ms = wait_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : wait_ms * 2;
        else if (!squatter_stopping()) {
            synclog_done(work);
            wait_ms = POLL_MS;
        }
        talloc_free(names);
        talloc_free(work);
        if (!squatter_stopping()) {
            /* A signal ends the wait early (nanosleep fails with EINTR). */
            struct timespec ts = { wait_ms / 1000, (wait_ms % 1000) * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    if (o->pidfile && unlink(o->pidfile) < 0)
        xlog_syserr("unlink", o->pidfile);
    return ret;
}
