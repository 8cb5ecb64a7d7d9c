/* synclog.c - see synclog.h. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/atomicfile.h"
#include "common/config.h"
#include "common/lockfile.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/synclog.h"

static char *log_path(void *ctx, const char *channel, const char *suffix)
{
    const char *confdir = config_configdirectory(NULL);
    return confdir ? talloc_asprintf(ctx, "%s/sync/%s/log%s", confdir, channel, suffix)
                   : NULL;
}

static int make_dirs(const char *path)
{
    return mkdir_parents(path, 0700) ? XAP_IMAP_IOERROR : 0;
}

int synclog_append(const char *channel, const char *name)
{
    char *path = log_path(NULL, channel, "");
    struct lockfile *lf;
    char *line;
    int r;

    if (!path)
        return XAP_IMAP_CONFIG;
    line = talloc_asprintf(path, "MAILBOX %s\n", name);
    /* The reader renames the file away (synclog_take): the lock file
     * re-checks that the one locked is still the one at the path, so the
     * line goes to the new file.  A leaf held for one write: no progress
     * line. */
    lf = lockfile_new(path, path, NULL, LOCKLEVEL_SYNCLOG,
                      O_WRONLY | O_APPEND | O_CREAT, 0);
    lf->mkdirs = make_dirs;
    if ((r = lockfile_lock(lf, LOCK_EX, 0, NULL)))
        goto done;
    if (write(lf->fd, line, strlen(line)) != (ssize_t)strlen(line)) {
        xlog_syserr("write", path);
        r = XAP_IMAP_IOERROR;
    }
done:
    if (r)
        xlog(LOG_ERR, "sync log %s: mailbox %s not logged: squatter -R will miss it",
             channel, name);
    talloc_free(path);      /* and the lock file: unlocked, closed */
    return r;
}

int synclog_take(void *ctx, const char *channel, char ***names_r, char **workfile_r)
{
    char *path = log_path(NULL, channel, "");
    char *work, *buf;
    size_t len;
    char **names = talloc_array(ctx, char *, 0);
    struct lockfile *lf;
    int r = 0;

    *names_r = names;
    *workfile_r = NULL;
    if (!path)
        return XAP_IMAP_CONFIG;
    /* A work file left by a reader that died is taken first. */
    work = log_path(ctx, channel, "-work");
    if (access(work, F_OK) < 0) {
        if (rename(path, work) < 0) {
            if (errno != ENOENT) {
                xlog_syserr("rename", path);
                r = XAP_IMAP_IOERROR;
            }
            talloc_free(work);
            goto done;
        }
    }
    /* Wait for writers who opened the file before the rename. */
    lf = lockfile_new(NULL, work, NULL, LOCKLEVEL_SYNCLOG, O_RDONLY, 0);
    r = lockfile_lock(lf, LOCK_EX, 0, NULL);
    talloc_free(lf);
    if (r) {
        r = XAP_IMAP_IOERROR;       /* logged; even a work file gone is one */
        goto done;
    }
    if (read_file(path, work, &buf, &len) < 0) {
        xlog_syserr("read", work);
        r = XAP_IMAP_IOERROR;
        goto done;
    }
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        size_t n = talloc_array_length(names), i;
        if (strncmp(line, "MAILBOX ", 8))
            continue;
        for (i = 0; i < n && strcmp(names[i], line + 8); i++)
            ;
        if (i < n)
            continue;
        names = talloc_realloc(ctx, names, char *, n + 1);
        names[n] = talloc_strdup(names, line + 8);
    }
    *names_r = names;
    *workfile_r = work;
done:
    talloc_free(path);
    return r;
}

void synclog_done(const char *workfile)
{
    if (workfile && unlink(workfile) < 0 && errno != ENOENT)
        xlog_syserr("unlink", workfile);
}
