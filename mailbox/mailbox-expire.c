/* mailbox-expire.c - the periodic and boot-time sweeps of mailboxes.db
 * (spec section 7): dead renames are finished or undone, interrupted user
 * deletions finished, old tombstones removed; at boot the namelock tree
 * goes too. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "common/config.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"

struct sweep {
    char **roots;         /* NAMELOCK fields of marked records, distinct */
    char **tombstones;    /* names of tombstones old enough to go */
    char **users;         /* users whose deletion was interrupted */
    time_t cutoff;        /* tombstones written before this go; 0: none */
};

static void push(char ***arr, const char *s)
{
    size_t n = talloc_array_length(*arr);

    for (size_t i = 0; i < n; i++)
        if (!strcmp((*arr)[i], s))
            return;
    *arr = talloc_realloc(NULL, *arr, char *, n + 1);
    (*arr)[n] = talloc_strdup(*arr, s);
}

static int visit(const struct mboxlist_entry *e, void *rock)
{
    struct sweep *sw = rock;

    char *userid = NULL;

    if ((e->type == MBTYPE_NORMAL || e->type == MBTYPE_DELETED) &&
        mailbox_user_deleting(e) && !mboxname_to_userid(NULL, e->name, &userid)) {
        push(&sw->users, userid);
        talloc_free(userid);
        return 0;       /* its tombstone stays until the deletion is done */
    }
    if ((e->type == MBTYPE_RENAMELOCKED || e->type == MBTYPE_RENAMETEMP) && e->namelock)
        push(&sw->roots, e->namelock);
    else if (e->type == MBTYPE_DELETED && sw->cutoff && e->mtime < sw->cutoff &&
             (time_t)e->uidvalidity < sw->cutoff)
        push(&sw->tombstones, e->name);
    return 0;
}

/* Removes tombstone NAME if it still is one, under the name's EXCLUSIVE
 * namelock (a create of the name reads the tombstone's uidvalidity under
 * that lock); a busy name is left for the next run. */
static int drop_tombstone(const char *name)
{
    struct mboxlock *lock = NULL;
    struct mboxlist_entry *e = NULL;
    int r = mboxname_lock(name, &lock, LOCK_NONBLOCKING);

    if (r)
        return r == IMAP_MAILBOX_LOCKED ? 0 : r;
    if (!(r = mboxlist_lookup_any(NULL, name, &e)) && e->type == MBTYPE_DELETED &&
        !mailbox_user_deleting(e))
        r = mboxlist_remove(NULL, name);
    else if (r == IMAP_MAILBOX_NONEXISTENT)
        r = 0;
    talloc_free(e);
    mboxname_release(&lock);
    return r;
}

/* Counts the outcome R of one piece of cleanup of OBJ in *DONE, or as busy
 * (locked by a live process), or logs it and keeps the first error. */
static void tally(int r, const char *what, const char *obj, unsigned long *done,
                  struct mailbox_expire_stats *stats, int *ret)
{
    if (r == IMAP_MAILBOX_LOCKED) {
        stats->busy++;
    } else if (r) {
        xlog(LOG_ERR, "expire: cannot %s %s: %s", what, obj, error_message(r));
        if (!*ret)
            *ret = r;
    } else {
        (*done)++;
    }
}

int mailbox_expire(int tombstone_days, struct mailbox_expire_stats *stats)
{
    struct sweep sw = { talloc_array(NULL, char *, 0), talloc_array(NULL, char *, 0),
                        talloc_array(NULL, char *, 0), 0 };
    struct mailbox_expire_stats dummy;
    int r, ret = 0;

    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    if (tombstone_days >= 0)
        sw.cutoff = time(NULL) - (time_t)tombstone_days * 86400;
    r = mboxlist_foreach("", MBOXLIST_ALL, visit, &sw);
    /* A live rename is busy, not broken: leave it be. */
    for (size_t i = 0; !r && i < talloc_array_length(sw.roots); i++)
        tally(mailbox_rename_resolve(sw.roots[i], 1), "clean up the rename of",
              sw.roots[i], &stats->renames, stats, &ret);
    for (size_t i = 0; !r && i < talloc_array_length(sw.users); i++)
        tally(mailbox_delete_user(sw.users[i]), "finish deleting user", sw.users[i],
              &stats->users, stats, &ret);
    for (size_t i = 0; !r && i < talloc_array_length(sw.tombstones); i++) {
        int r2 = drop_tombstone(sw.tombstones[i]);
        if (r2 && !ret)
            ret = r2;
        else if (!r2)
            stats->tombstones++;
    }
    talloc_free(sw.roots);
    talloc_free(sw.tombstones);
    talloc_free(sw.users);
    return r ? r : ret;
}

int mailbox_recover(struct mailbox_expire_stats *stats)
{
    const char *confdir = config_configdirectory(NULL);
    char *lockdir;
    DIR *d;
    struct dirent *de;
    int r;

    if (!confdir)
        return IMAP_CONFIG;
    if ((r = mailbox_expire(-1, stats)))
        return r;
    if (namelock_held_count()) {
        xlog(LOG_ERR, "recover: this process still holds namelocks");
        return IMAP_INTERNAL;
    }
    /* The contents only: lock/ itself may be a mount point (tmpfs). */
    lockdir = talloc_asprintf(NULL, "%s/lock", confdir);
    if (!(d = opendir(lockdir))) {
        r = errno == ENOENT ? 0 : IMAP_IOERROR;
        if (r)
            xlog_syserr("opendir", lockdir);
        talloc_free(lockdir);
        return r;
    }
    while ((de = readdir(d)) && !r) {
        char *path;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        path = talloc_asprintf(lockdir, "%s/%s", lockdir, de->d_name);
        r = remove_tree(path);
    }
    closedir(d);
    talloc_free(lockdir);
    return r;
}
