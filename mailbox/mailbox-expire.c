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

static int visit(const struct xap_mboxlist_entry *e, void *rock)
{
    struct sweep *sw = rock;

    char *userid = NULL;

    if ((e->type == XAP_MBTYPE_NORMAL || e->type == XAP_MBTYPE_DELETED) &&
        mailbox_user_deleting(e) && !mboxname_to_userid(NULL, e->name, &userid)) {
        push(&sw->users, userid);
        talloc_free(userid);
        return 0;       /* its tombstone stays until the deletion is done */
    }
    if ((e->type == XAP_MBTYPE_RENAMELOCKED || e->type == XAP_MBTYPE_RENAMETEMP) && e->namelock)
        push(&sw->roots, e->namelock);
    else if (e->type == XAP_MBTYPE_DELETED && sw->cutoff && e->mtime < sw->cutoff &&
             (time_t)e->uidvalidity < sw->cutoff)
        push(&sw->tombstones, e->name);
    return 0;
}

/* Removes tombstone NAME if it still is one, under the name's EXCLUSIVE
 * namelock (a create of the name reads the tombstone's uidvalidity under
 * that lock); a busy name is left for the next run. */
static int drop_tombstone(const char *name)
{
    struct xap_mboxlock *lock = NULL;
    struct xap_mboxlist_entry *e = NULL;
    int r = xap_mboxname_lock(name, &lock, XAP_LOCK_NONBLOCKING);

    if (r)
        return r == XAP_IMAP_MAILBOX_LOCKED ? 0 : r;
    if (!(r = xap_mboxlist_lookup_any(NULL, name, &e)) && e->type == XAP_MBTYPE_DELETED &&
        !mailbox_user_deleting(e))
        r = xap_mboxlist_remove(NULL, name);
    else if (r == XAP_IMAP_MAILBOX_NONEXISTENT)
        r = 0;
    talloc_free(e);
    xap_mboxname_release(&lock);
    return r;
}

/* Counts the outcome R of one piece of cleanup of OBJ in *DONE, or as busy
 * (locked by a live process), or logs it and keeps the first error. */
static void tally(int r, const char *what, const char *obj, unsigned long *done,
                  struct xap_mailbox_expire_stats *stats, int *ret)
{
    if (r == XAP_IMAP_MAILBOX_LOCKED) {
        stats->busy++;
    } else if (r) {
        xlog(LOG_ERR, "expire: cannot %s %s: %s", what, obj, xap_error_message(r));
        if (!*ret)
            *ret = r;
    } else {
        (*done)++;
    }
}

int xap_mailbox_expire(int tombstone_days, struct xap_mailbox_expire_stats *stats)
{
    struct sweep sw = { talloc_array(NULL, char *, 0), talloc_array(NULL, char *, 0),
                        talloc_array(NULL, char *, 0), 0 };
    struct xap_mailbox_expire_stats dummy;
    int r, ret = 0;

    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    if (tombstone_days >= 0)
        sw.cutoff = time(NULL) - (time_t)tombstone_days * 86400;
    r = xap_mboxlist_foreach("", XAP_MBOXLIST_ALL, visit, &sw);
    /* A live rename is busy, not broken: leave it be. */
    for (size_t i = 0; !r && i < talloc_array_length(sw.roots); i++)
        tally(xap_mailbox_rename_resolve(sw.roots[i], 1), "clean up the rename of",
              sw.roots[i], &stats->renames, stats, &ret);
    for (size_t i = 0; !r && i < talloc_array_length(sw.users); i++)
        tally(xap_mailbox_delete_user(sw.users[i]), "finish deleting user", sw.users[i],
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

int xap_mailbox_recover(struct xap_mailbox_expire_stats *stats)
{
    const char *confdir = config_configdirectory(NULL);
    char *lockdir;
    DIR *d;
    struct dirent *de;
    int r;

    if (!confdir)
        return XAP_IMAP_CONFIG;
    if ((r = xap_mailbox_expire(-1, stats)))
        return r;
    if (namelock_held_count()) {
        xlog(LOG_ERR, "recover: this process still holds namelocks");
        return XAP_IMAP_INTERNAL;
    }
    /* The contents only: lock/ itself may be a mount point (tmpfs). */
    lockdir = talloc_asprintf(NULL, "%s/lock", confdir);
    if (!(d = opendir(lockdir))) {
        r = errno == ENOENT ? 0 : XAP_IMAP_IOERROR;
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
