/* userdata.c - a user's files that live outside the mailboxes: the
 * per-user config directory (GUID db, xapianactive, owner) and the user's
 * directory in every search tier.  They are moved whole by a user rename
 * (spec section 7), removed whole when the user is deleted, and belong to
 * one incarnation of the user: the `owner` file names the INBOX uniqueid
 * they were made for (docs/FORMAT.md).
 *
 * Each item moves with one rename(2) of a directory, so an item is either
 * at the old place or at the new one, never half.  A move is idempotent:
 * an item already at its destination (or that never existed) is skipped,
 * which is what lets a crashed rename be rolled forward or back by
 * running the same move again in either direction.  The paths depend only
 * on the configuration and the userid, not on xapianactive, so the move
 * needs no Xapian code; the caller holds the Xapian namelock EXCLUSIVE so
 * that nobody has the files open for writing. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "common/atomicfile.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/mboxname.h"
#include "common/tierpath.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/guiddb.h"
#include "mailbox/userdata.h"

/* Every directory that may hold USERID's data, under CTX: the config
 * directory first, then each tier on each partition (the user's INBOX
 * partition may not be known, as in delete_user).  NULL with *R_R when
 * one of them is refused (a symbolic link below its search partition,
 * logged): moving or removing through it would act outside the
 * partition. */
static char **user_dirs_labeled(void *ctx, const char *userid, char ***labels_r, int *r_r)
{
    const char *const *tiers = config_tiers(NULL);
    char **dirs = talloc_array(ctx, char *, 1);
    char **labels = talloc_array(dirs, char *, 1);

    *r_r = 0;
    dirs[0] = user_config_dir(dirs, userid);
    labels[0] = talloc_strdup(labels, "config");
    for (size_t p = 0; p < config_npartitions(NULL); p++) {
        for (size_t t = 0; tiers && tiers[t]; t++) {
            size_t n = talloc_array_length(dirs);
            int r;
            char *dir = tierpath_user_dir(dirs, userid, config_partition_name(NULL, p),
                                          tiers[t], &r);
            if (r == XAP_IMAP_SEARCH_TIER_UNKNOWN)
                continue;         /* no such tier on this partition */
            if (r) {
                *r_r = r;
                TALLOC_FREE(dirs);
                return NULL;
            }
            /* Two partitions may share a tier directory: list it once. */
            for (size_t i = 0; i < n && dir; i++)
                if (dirs[i] && !strcmp(dirs[i], dir))
                    TALLOC_FREE(dir);
            if (!dir)
                continue;
            dirs = talloc_realloc(ctx, dirs, char *, n + 1);
            dirs[n] = dir;
            labels = talloc_realloc(dirs, labels, char *, n + 1);
            labels[n] = talloc_asprintf(labels, "%s/%s", tiers[t],
                                        config_partition_name(NULL, p));
        }
    }
    if (labels_r)
        *labels_r = labels;
    return dirs;
}

static char **user_dirs(void *ctx, const char *userid, int *r_r)
{
    return user_dirs_labeled(ctx, userid, NULL, r_r);
}

char **userdata_dirs(void *ctx, const char *userid, char ***labels_r, int *r_r)
{
    if (mboxname_userid_validate(userid)) {
        *r_r = XAP_IMAP_MAILBOX_BADNAME;
        return NULL;
    }
    return user_dirs_labeled(ctx, userid, labels_r, r_r);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 || errno != ENOENT;
}

/* Whether PATH exists and is not an empty directory (an earlier version's
 * delete left the user's config directory empty: that is no data). */
static int has_data(const char *path)
{
    struct stat st;
    struct dirent *de;
    DIR *d;
    int found = 0;

    if (lstat(path, &st) < 0)
        return errno != ENOENT;
    if (!S_ISDIR(st.st_mode) || !(d = opendir(path)))
        return 1;
    while (!found && (de = readdir(d)))
        found = strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    return found;
}

int userdata_find(void *ctx, const char *userid, char **path_r)
{
    char **dirs;
    int r = 0;

    *path_r = NULL;
    if (mboxname_userid_validate(userid))
        return XAP_IMAP_MAILBOX_BADNAME;
    if (!(dirs = user_dirs(NULL, userid, &r)))
        return r;
    for (size_t i = 0; i < talloc_array_length(dirs) && !r; i++) {
        if (dirs[i] && has_data(dirs[i])) {
            *path_r = talloc_strdup(ctx, dirs[i]);
            r = XAP_IMAP_MAILBOX_EXISTS;
        }
    }
    talloc_free(dirs);
    return r;
}

static char *parent_of(void *ctx, const char *path)
{
    const char *slash = strrchr(path, '/');
    return talloc_strndup(ctx, path, slash && slash != path ? (size_t)(slash - path) : 1);
}

int userdata_check_partitions(const char *userid)
{
    char **dirs;
    int r = 0;

    if (mboxname_userid_validate(userid))
        return XAP_IMAP_MAILBOX_BADNAME;
    if (!(dirs = user_dirs(NULL, userid, &r)))
        return r;
    for (size_t i = 1; i < talloc_array_length(dirs) && !r; i++) {
        char *base = dirs[i];     /* SEARCHPART/HH/user/ID */
        struct stat st;
        for (int up = 0; up < 3; up++)
            base = parent_of(dirs, base);
        if (stat(base, &st) < 0 || !S_ISDIR(st.st_mode)) {
            xlog(LOG_ERR, "user %s: search partition %s is missing (not mounted?): the "
                 "user's search data there cannot be moved", userid, base);
            r = XAP_IMAP_SEARCH_CORRUPT;
        }
    }
    talloc_free(dirs);
    return r;
}

int userdata_move(const char *from, const char *to)
{
    char **src, **dst;
    int r = 0;

    if (mboxname_userid_validate(from) || mboxname_userid_validate(to))
        return XAP_IMAP_MAILBOX_BADNAME;
    if (!(src = user_dirs(NULL, from, &r)))
        return r;
    if (!(dst = user_dirs(src, to, &r))) {
        talloc_free(src);
        return r;
    }
    if (!src[0] || !dst[0] || talloc_array_length(src) != talloc_array_length(dst)) {
        talloc_free(src);
        return XAP_IMAP_CONFIG;
    }
    for (size_t i = 0; i < talloc_array_length(src) && !r; i++) {
        char *sparent, *dparent;
        if (!exists(src[i]))
            continue;           /* moved already, or never there */
        if (exists(dst[i]) && (has_data(dst[i]) || rmdir(dst[i]) < 0)) {
            xlog(LOG_ERR, "user %s: cannot move %s: %s exists", from, src[i], dst[i]);
            r = XAP_IMAP_MAILBOX_EXISTS;
            break;
        }
        dparent = parent_of(src, dst[i]);
        sparent = parent_of(src, src[i]);
        if ((r = mkdir_p(dparent, 0700)))
            break;
        if (rename(src[i], dst[i]) < 0) {
            xlog(LOG_ERR, "user %s: cannot move %s to %s: %s", from, src[i], dst[i],
                 strerror(errno));
            r = XAP_IMAP_IOERROR;
            break;
        }
        /* Both directory entries changed: make both durable. */
        if ((r = fsync_dir(dparent)) || (r = fsync_dir(sparent)))
            break;
        /* SRC is BASE/HH/user/ID: HH/user and HH belong to the old name
         * when no other user shares them. */
        rmdir_empty_parents(src[i], 2);
    }
    talloc_free(src);
    return r;
}

int userdata_remove(const char *userid)
{
    char **dirs;
    int r = 0;

    if (mboxname_userid_validate(userid))
        return XAP_IMAP_MAILBOX_BADNAME;
    /* A process that wrote the GUID db keeps it open: forget it, or a new
     * user of this name would be written into the removed file. */
    guiddb_forget(userid);
    if (!(dirs = user_dirs(NULL, userid, &r)))
        return r;
    /* The config directory, with the owner file, goes last: until then
     * whatever is left is still marked as this incarnation's. */
    for (size_t i = talloc_array_length(dirs); i-- > 0 && !r; ) {
        char *parent;
        if (!dirs[i] || !exists(dirs[i]))
            continue;
        if ((r = remove_tree(dirs[i])))
            break;
        parent = parent_of(dirs, dirs[i]);
        r = fsync_dir(parent);
        fault_point("userdata.remove.1");
    }
    if (!r)
        fault_point("userdata.remove.2");
    talloc_free(dirs);
    return r;
}

static char *owner_path(void *ctx, const char *userid)
{
    char *dir = user_config_dir(NULL, userid), *path;

    path = dir ? talloc_asprintf(ctx, "%s/owner", dir) : NULL;
    talloc_free(dir);
    return path;
}

/* The INBOX uniqueid the owner file of USERID names (under CTX), or NULL
 * with *R_OUT 0 when there is none. */
static char *read_owner(void *ctx, const char *userid, int *r_out)
{
    char *path = owner_path(NULL, userid), *buf = NULL, *nl, *ret = NULL;
    size_t len;

    *r_out = 0;
    if (!path) {
        *r_out = XAP_IMAP_MAILBOX_BADNAME;
    } else if (read_file(path, path, &buf, &len) < 0) {
        if (errno != ENOENT) {
            xlog_syserr("read", path);
            *r_out = XAP_IMAP_IOERROR;
        }
    } else if (!(nl = memchr(buf, '\n', len)) || nl != buf + len - 1 || nl == buf) {
        xlog(LOG_ERR, "user %s: %s is not an owner file", userid, path);
        *r_out = XAP_IMAP_MAILBOX_BADFORMAT;
    } else {
        ret = talloc_strndup(ctx, buf, (size_t)(nl - buf));
    }
    talloc_free(path);
    return ret;
}

int userdata_claim(const char *userid, const char *uniqueid)
{
    char xname[MBOXNAME_MAX + 16], *owner, *path = NULL, *text, *found = NULL;
    struct xap_mboxlock *xl = NULL;
    int r;

    if ((r = xap_mboxname_xapian_lockname(userid, xname, sizeof xname)) ||
        (r = xap_mboxname_lock(xname, &xl, XAP_LOCK_EXCLUSIVE)))
        return r;
    owner = read_owner(NULL, userid, &r);
    if (r == XAP_IMAP_MAILBOX_BADFORMAT)
        r = 0;           /* not ours either: removed below */
    if (!r && (!owner || strcmp(owner, uniqueid))) {
        if (userdata_find(NULL, userid, &found) == XAP_IMAP_MAILBOX_EXISTS)
            xlog(LOG_NOTICE, "user %s: removing the files of an earlier user of this "
                 "name (%s)", userid, found);
        r = userdata_remove(userid);
        path = owner_path(NULL, userid);
        text = talloc_asprintf(path, "%s\n", uniqueid);
        if (!r)
            r = path ? mkdir_parents(path, 0700) : XAP_IMAP_MAILBOX_BADNAME;
        if (!r)
            r = file_replace(path, text, strlen(text), NULL);
    }
    talloc_free(found);
    talloc_free(path);
    talloc_free(owner);
    xap_mboxname_release(&xl);
    return r;
}

int userdata_check(const char *userid)
{
    struct xap_mboxlist_entry *e = NULL;
    char *inbox, *owner;
    int r;

    owner = read_owner(NULL, userid, &r);
    if (r || !owner)
        return r;        /* none: files from before owners were recorded */
    inbox = talloc_asprintf(owner, "user.%s", userid);
    r = xap_mboxlist_lookup(owner, inbox, &e);
    if (r == XAP_IMAP_MAILBOX_NONEXISTENT) {
        r = 0;           /* no user to compare with: the caller says so */
    } else if (!r && strcmp(e->uniqueid, owner)) {
        char *path = owner_path(owner, userid);
        xlog(LOG_ERR, "user %s: %s names INBOX %s, but the INBOX is %s: the GUID db and "
             "search tiers beside it belong to an earlier user of this name and are "
             "not used", userid, path, owner, e->uniqueid);
        r = XAP_IMAP_PERMISSION_DENIED;
    }
    talloc_free(owner);
    return r;
}
