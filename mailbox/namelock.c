/* namelock.c - server-wide locks on mailbox names (seeds/000, spec 4).
 *
 * Mechanism
 *   One zero-byte file per name, CONFIGDIRECTORY/lock/HH/SHA1HEX, where
 *   SHA1HEX is the SHA-1 of the name and HH its first two digits.  Hashing
 *   the whole name keeps every name (up to 490 bytes of any UTF-8) within
 *   NAME_MAX, with no escaping, and spreads the files over 256 directories.
 *   The file is locked with flock(2): the lock belongs to the open file
 *   description, so the kernel drops it when the holder exits or is killed,
 *   and it is not the POSIX fcntl lock that any close() of the same file
 *   anywhere in the process would silently drop.
 *
 *   flock locks of one process on two descriptors of one file conflict
 *   with each other, so a process keeps one descriptor per name and counts
 *   references (see namelock.h for the rules).
 *
 * States of a struct xap_mboxlock
 *   held       refcount >= 1, fd open and flocked, on the `held` list.
 *   (freed)    after the last release; the caller's pointer is NULL.
 *
 * Waiting
 *   A blocking wait ends after namelock_timeout seconds (0: never) and,
 *   at -v, says after a second which name it waits for and who holds it:
 *   common/lockfile.c, as for every file lock.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/namelock.h"
#include "common/config.h"
#include "common/init.h"
#include "common/lockfile.h"
#include "common/lockorder.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"

struct xap_mboxlock {
    struct xap_mboxlock *next;
    char *name;
    struct lockfile *file;
    int type;                 /* XAP_LOCK_SHARED or XAP_LOCK_EXCLUSIVE */
    int refcount;
};

static struct xap_mboxlock *held;
static int registered;

static void forget_all_in_child(void);
static void release_all(void);

static void register_once(void)
{
    if (registered)
        return;
    registered = 1;
    /* A forked child shares the parent's flocks; it must never unlock
     * them, only drop its copies of the descriptors. */
    pthread_atfork(NULL, NULL, forget_all_in_child);
    xapiary_atdone(release_all);
}

/* CONFIGDIRECTORY/lock/HH/SHA1HEX under CTX, or NULL without a config. */
static char *lock_path(void *ctx, const char *name)
{
    const char *confdir = config_configdirectory(NULL);
    char *hex, *path;

    if (!confdir)
        return NULL;
    hex = g_compute_checksum_for_string(G_CHECKSUM_SHA1, name, -1);
    path = talloc_asprintf(ctx, "%s/lock/%.2s/%s", confdir, hex, hex);
    g_free(hex);
    return path;
}

/* A lock file's directories, the configdirectory first (its error says
 * what to do on a first run). */
static int make_dirs(const char *path)
{
    return config_make_configdirectory() || mkdir_parents(path, 0700)
               ? XAP_IMAP_IOERROR : 0;
}

static struct xap_mboxlock *find_held(const char *name)
{
    for (struct xap_mboxlock *l = held; l; l = l->next)
        if (!strcmp(l->name, name))
            return l;
    return NULL;
}

int xap_mboxname_lock(const char *name, struct xap_mboxlock **lockp, int locktype)
{
    struct xap_mboxlock *lock;
    int want, op, r;
    char *path;

    *lockp = NULL;
    if (locktype != XAP_LOCK_SHARED && locktype != XAP_LOCK_EXCLUSIVE &&
        locktype != XAP_LOCK_NONBLOCKING)
        return XAP_IMAP_INVALID_ARGUMENT;
    if (mboxname_validate(name) && !mboxname_is_xapian_lockname(name))
        return XAP_IMAP_MAILBOX_BADNAME;
    register_once();

    want = locktype == XAP_LOCK_SHARED ? XAP_LOCK_SHARED : XAP_LOCK_EXCLUSIVE;
    lock = find_held(name);
    if (lock) {
        if (lock->type != want)
            return XAP_IMAP_MAILBOX_LOCKED;
        lock->refcount++;
        *lockp = lock;
        return 0;
    }

    path = lock_path(NULL, name);
    if (!path) {
        xlog(LOG_ERR, "namelock %s: no configuration loaded", name);
        return XAP_IMAP_CONFIG;
    }
    lock = talloc_zero(NULL, struct xap_mboxlock);
    lock->name = talloc_strdup(lock, name);
    lock->type = want;
    lock->refcount = 1;
    lock->file = lockfile_new(lock, path, name,
                              mboxname_is_xapian_lockname(name)
                                  ? LOCKLEVEL_XAPIAN_NAMELOCK
                                  : LOCKLEVEL_MBOX_NAMELOCK,
                              O_RDWR | O_CREAT, LOCKFILE_NEVER_REPLACED);
    lock->file->mkdirs = make_dirs;
    op = want == XAP_LOCK_SHARED ? LOCK_SH : LOCK_EX;
    if (locktype == XAP_LOCK_NONBLOCKING) {
        r = lockfile_lock(lock->file, op | LOCK_NB, 0, NULL);
    } else {
        char *what = talloc_asprintf(lock, "the %s namelock on %s",
                                     want == XAP_LOCK_SHARED ? "SHARED" : "EXCLUSIVE",
                                     name);
        r = lockfile_lock(lock->file, op, config_namelock_timeout(NULL), what);
    }
    if (r)
        goto fail;

    lock->next = held;
    held = lock;
    talloc_free(path);
    *lockp = lock;
    return 0;

fail:
    talloc_free(lock);
    talloc_free(path);
    return r;
}

void xap_mboxname_release(struct xap_mboxlock **lockp)
{
    struct xap_mboxlock *lock = lockp ? *lockp : NULL;

    if (!lock)
        return;
    *lockp = NULL;
    if (--lock->refcount > 0)
        return;

    for (struct xap_mboxlock **pp = &held; *pp; pp = &(*pp)->next) {
        if (*pp == lock) {
            *pp = lock->next;
            break;
        }
    }
    talloc_free(lock);      /* and its lock file: unlocked, closed */
}

const char *xap_mboxlock_name(const struct xap_mboxlock *lock)
{
    return lock ? lock->name : NULL;
}

int namelock_held_count(void)
{
    int n = 0;

    for (struct xap_mboxlock *l = held; l; l = l->next)
        n++;
    return n;
}

int xap_mboxname_islocked(const char *name)
{
    struct xap_mboxlock *lock = find_held(name);
    return lock ? lock->type : 0;
}

int xap_mboxname_xapian_lockname(const char *userid, char *buf, unsigned long size)
{
    int n;

    if (mboxname_userid_validate(userid))
        return XAP_IMAP_MAILBOX_BADNAME;
    n = snprintf(buf, size, "%s%s", XAPIAN_LOCK_PREFIX, userid);
    if (n < 0 || (unsigned long)n >= size)
        return XAP_IMAP_MAILBOX_BADNAME;
    return 0;
}

static void release_all(void)
{
    while (held) {
        struct xap_mboxlock *lock = held;
        lock->refcount = 1;
        xap_mboxname_release(&lock);
    }
}

static void forget_all_in_child(void)
{
    while (held) {
        struct xap_mboxlock *lock = held;
        held = lock->next;
        lockfile_forget(lock->file);
        talloc_free(lock);
    }
    lockorder_reset();
}
