/* mailbox-create.c - creating, deleting and copying mailboxes.
 *
 * Create writes the files first and the mailboxes.db record last, all
 * under the EXCLUSIVE namelock: until the record exists nobody can open
 * the mailbox, and files without a record are debris that the next create
 * of the name removes.  Delete turns the record into a DELETED tombstone
 * first (the name vanishes at once, atomically), then marks the index
 * deleted; the files go at the last close. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "common/atomicfile.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"
#include "mailbox/registry.h"
#include "mailbox/userdata.h"
#include "mailbox/usermove.h"

/* Whether FNAME is one of a mailbox's own files (not a child's directory):
 * every such name contains a '.', which no name component can. */
static int is_mailbox_file(const char *fname)
{
    return fname[0] != '.' && strchr(fname, '.') != NULL;
}

/* A folder of a user who is being moved would be left behind: refused
 * like any other write to the user (mailbox/usermove.c). */
static int check_not_moving(const char *name)
{
    struct xap_mboxlist_entry *e = NULL;
    char *userid = NULL, *inbox;
    int r = 0;

    if (mboxname_to_userid(NULL, name, &userid))
        return 0;
    inbox = talloc_asprintf(userid, "user.%s", userid);
    if (strcmp(inbox, name) && !xap_mboxlist_lookup(userid, inbox, &e) &&
        usermove_marked(e)) {
        xlog(LOG_NOTICE, "mailbox %s: user %s is being moved: not created now", name, userid);
        r = XAP_IMAP_MAILBOX_LOCKED;
    }
    talloc_free(userid);
    return r;
}

int mailbox_remove_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int r = 0;

    if (!d) {
        if (errno == ENOENT)
            return 0;
        xlog_syserr("opendir", dir);
        return XAP_IMAP_IOERROR;
    }
    while ((de = readdir(d))) {
        if (!is_mailbox_file(de->d_name))
            continue;
        char *path = talloc_asprintf(NULL, "%s/%s", dir, de->d_name);
        if (unlink(path) < 0 && errno != ENOENT) {
            xlog_syserr("unlink", path);
            r = XAP_IMAP_IOERROR;
        }
        talloc_free(path);
    }
    closedir(d);
    if (!r)
        r = fsync_dir(dir);
    return r;
}

int mailbox_init_files(struct xap_mailbox *mailbox)
{
    unsigned char ibuf[INDEX_HEADER_SIZE], cbuf[CACHE_HEADER_SIZE];
    char *ipath = mailbox_file(NULL, mailbox, FNAME_INDEX);
    char *cpath = mailbox_cache_file(ipath, mailbox, mailbox->i.generation);
    int r;

    index_header_encode(&mailbox->i, ibuf);
    cache_header_encode(mailbox->i.generation, cbuf);
    r = mailbox_write_header(mailbox);
    if (!r)
        r = file_write_sync(cpath, cbuf, sizeof cbuf, 1);
    if (!r)
        r = file_write_sync(ipath, ibuf, sizeof ibuf, 1);
    if (!r)
        r = fsync_dir(mailbox->path);
    talloc_free(ipath);
    return r;
}

int xap_mailbox_create(const char *name, const char *partition,
                   const char *uniqueid, uint32_t uidvalidity,
                   struct xap_mailbox **mailboxp)
{
    struct xap_mboxlist_entry *entry = NULL;
    struct xap_mboxlist_entry newentry;
    struct xap_mboxlist_txn *txn = NULL;
    struct xap_mailbox *mailbox;
    char *userid = NULL;
    int r, reserved = 0;

    *mailboxp = NULL;
    if (mboxname_validate(name))
        return XAP_IMAP_MAILBOX_BADNAME;
    if (!strcmp(name, "user")) {
        /* Every user's tree would live inside it, and a rename of it
         * would move them all away from their search tiers. */
        xlog(LOG_ERR, "mailbox %s: the root of the user namespace cannot be a mailbox",
             name);
        return XAP_IMAP_MAILBOX_BADNAME;
    }
    if (!partition)
        partition = "default";
    if (!config_partitiondir(NULL, partition)) {
        xlog(LOG_ERR, "mailbox %s: partition '%s' is not configured", name, partition);
        return XAP_IMAP_PARTITION_UNKNOWN;
    }

    mailbox = mailbox_new(name, partition);
    if (!mailbox)
        return mailbox_new_failed();
    r = xap_mboxname_lock(name, &mailbox->namelock, XAP_LOCK_EXCLUSIVE);
    if (r)
        goto finish;
    r = xap_mboxlist_lookup(NULL, name, &entry);
    if (r == 0 && mailbox_is_renaming(entry) && entry->namelock) {
        /* A rename is moving a mailbox to or from this name: once it is
         * over (or cleaned up) the name is either taken or free. */
        char *root = talloc_steal(mailbox, entry->namelock);
        talloc_free(entry);
        xap_mboxname_release(&mailbox->namelock);
        if ((r = mailbox_rename_wait(root)))
            goto finish;
        talloc_free(mailbox);
        return xap_mailbox_create(name, partition, uniqueid, uidvalidity, mailboxp);
    }
    talloc_free(entry);
    if (r == 0) {
        r = XAP_IMAP_MAILBOX_EXISTS;
        goto finish;
    }
    if (r != XAP_IMAP_MAILBOX_NONEXISTENT)
        goto finish;
    if ((r = check_not_moving(name)))
        goto finish;
    if (mailbox_user_delete_pending(mailbox, name, &userid)) {
        /* An earlier user of this name whose deletion was interrupted:
         * its mailboxes and files go first (taking their own locks), or
         * the new user would inherit them. */
        xap_mboxname_release(&mailbox->namelock);
        r = xap_mailbox_delete_user(userid);
        talloc_free(mailbox);
        return r ? r : xap_mailbox_create(name, partition, uniqueid, uidvalidity, mailboxp);
    }
    if (!uidvalidity && (r = xap_mboxlist_next_uidvalidity(name, &uidvalidity)))
        goto finish;

    mailbox->uniqueid = uniqueid ? talloc_strdup(mailbox, uniqueid)
                                 : mailbox_make_uniqueid(mailbox);
    mailbox->i.generation = 1;
    mailbox->i.uidvalidity = uidvalidity;
    mailbox->i.highestmodseq = 1;

    /* In a cluster, the name is held locally and claimed in the registry
     * before any file is made (docs/SCALING.md); a lost claim has
     * removed its record by the time we return. */
    if ((r = registry_reserve(mailbox, name, partition, uidvalidity, &mailbox->uniqueid,
                              &reserved)))
        goto finish;

    /* A new user's search tiers and GUID db are its own, whatever an
     * earlier user of the name left (mailbox/userdata.c). */
    if (!mboxname_to_userid(mailbox, name, &userid) && !strchr(name + 5, MBOXNAME_SEP) &&
        (r = userdata_claim(userid, mailbox->uniqueid)))
        goto finish;
    /* Files first: anything already here has no record and is debris. */
    if ((r = mkdir_p(mailbox->path, 0700)) ||
        (r = mailbox_remove_files(mailbox->path)) ||
        (r = mailbox_init_files(mailbox)))
        goto finish;
    fault_point("mailbox.create.1");

    memset(&newentry, 0, sizeof newentry);
    newentry.name = mailbox->name;
    newentry.partition = mailbox->partition;
    newentry.uniqueid = mailbox->uniqueid;
    newentry.uidvalidity = uidvalidity;
    newentry.type = XAP_MBTYPE_NORMAL;
    /* The check that the user is not being moved is made again in the
     * transaction that writes the record: a move that marked the user's
     * records after the first check (it does not know this name yet)
     * would otherwise leave the folder behind, unmarked, on this server
     * (mailbox/usermove.c). */
    if ((r = xap_mboxlist_begin(&txn)))
        goto finish;
    if ((r = check_not_moving(name)) ||
        (r = reserved ? xap_mboxlist_update(txn, &newentry)
                      : xap_mboxlist_create_exclusive(txn, &newentry))) {
        xap_mboxlist_abort(&txn);
        goto finish;
    }
    if ((r = xap_mboxlist_commit(&txn)))
        goto finish;
    fault_point("mailbox.create.2");

finish:
    return mailbox_finish_open(mailbox, XAP_LOCK_EXCLUSIVE, r, mailboxp);
}

int xap_mailbox_delete(struct xap_mailbox **mailboxp)
{
    struct xap_mailbox *mailbox = *mailboxp;
    int r;

    if (mailbox->index_locktype != XAP_LOCK_EXCLUSIVE) {
        xlog(LOG_ERR, "mailbox %s: delete without the exclusive index lock", mailbox->name);
        return XAP_IMAP_INTERNAL;
    }
    if ((r = xap_mboxlist_delete(NULL, mailbox->name)))
        return r;
    fault_point("mailbox.delete.1");
    mailbox->i.options |= OPT_MAILBOX_DELETED;
    mailbox->dirty = 1;
    mailbox->has_changed = 1;
    if ((r = xap_mailbox_commit(mailbox)))
        return r;
    fault_point("mailbox.delete.2");
    xap_mailbox_close(mailboxp);
    return 0;
}

int mailbox_delete_cleanup(struct xap_mailbox *mailbox)
{
    int r = mailbox_remove_files(mailbox->path);

    /* The directory goes too unless a child mailbox lives in it. */
    if (!r && rmdir(mailbox->path) < 0 && errno != ENOTEMPTY && errno != EEXIST &&
        errno != ENOENT)
        xlog_syserr("rmdir", mailbox->path);
    return r;
}

static int copy_file(const char *src, const char *dst)
{
    char *buf;
    size_t len;
    int r;

    if (read_file(NULL, src, &buf, &len) < 0) {
        xlog_syserr("read", src);
        return XAP_IMAP_IOERROR;
    }
    r = file_write_sync(dst, buf, len, 1);
    talloc_free(buf);
    return r;
}

/* Hard-links SRC to DST, or copies it when they are on different file
 * systems (or links are refused). */
static int link_or_copy(const char *src, const char *dst)
{
    if (link(src, dst) == 0)
        return 0;
    if (errno == EEXIST && unlink(dst) == 0 && link(src, dst) == 0)
        return 0;
    return copy_file(src, dst);
}

int xap_mailbox_rename_copy(struct xap_mailbox *oldmailbox, const char *newname,
                        const char *newpartition, struct xap_mailbox **newmailboxp)
{
    struct xap_mailbox *mailbox;
    struct xap_mailbox_iter *iter;
    const struct xap_index_record *rec;
    char *src, *dst;
    int r;

    *newmailboxp = NULL;
    if (mboxname_validate(newname))
        return XAP_IMAP_MAILBOX_BADNAME;
    if (oldmailbox->index_locktype != XAP_LOCK_EXCLUSIVE || oldmailbox->dirty) {
        xlog(LOG_ERR, "mailbox %s: rename copy needs a clean exclusive index lock",
             oldmailbox->name);
        return XAP_IMAP_INTERNAL;
    }
    /* Namelocks come before index locks (docs/LOCKING.md), so the new
     * name's must already be held; taking it here would be out of order. */
    if (xap_mboxname_islocked(newname) != XAP_LOCK_EXCLUSIVE) {
        xlog(LOG_ERR, "mailbox %s: rename copy to %s without its exclusive namelock",
             oldmailbox->name, newname);
        return XAP_IMAP_INTERNAL;
    }
    if (!newpartition)
        newpartition = oldmailbox->partition;
    mailbox = mailbox_new(newname, newpartition);
    if (!mailbox)
        return mailbox_new_failed();
    if ((r = xap_mboxname_lock(newname, &mailbox->namelock, XAP_LOCK_EXCLUSIVE)))
        goto finish;
    mailbox->uniqueid = talloc_strdup(mailbox, oldmailbox->uniqueid);
    mailbox->user_flags = talloc_array(mailbox, char *,
                                       talloc_array_length(oldmailbox->user_flags));
    for (size_t i = 0; i < talloc_array_length(oldmailbox->user_flags); i++)
        mailbox->user_flags[i] = talloc_strdup(mailbox->user_flags,
                                               oldmailbox->user_flags[i]);
    mailbox->i = oldmailbox->i;
    if ((r = mkdir_p(mailbox->path, 0700)) ||
        (r = mailbox_remove_files(mailbox->path)))
        goto finish;

    iter = xap_mailbox_iter_init(oldmailbox, 0, 0);
    while ((rec = xap_mailbox_iter_step(iter))) {
        if (rec->internal_flags & XAP_FLAG_INTERNAL_UNLINKED)
            continue;
        src = xap_mailbox_message_path(NULL, oldmailbox, rec->uid);
        dst = xap_mailbox_message_path(src, mailbox, rec->uid);
        r = link_or_copy(src, dst);
        talloc_free(src);
        if (r)
            break;
    }
    if (!r)
        r = xap_mailbox_iter_error(iter);
    xap_mailbox_iter_done(&iter);
    if (r)
        goto finish;

    /* Message files never change once written, so they can be shared;
     * the index and cache are written in place and must be copies. */
    src = mailbox_file(NULL, oldmailbox, FNAME_INDEX);
    dst = mailbox_file(src, mailbox, FNAME_INDEX);
    r = copy_file(src, dst);
    talloc_free(src);
    if (!r) {
        src = mailbox_cache_file(NULL, oldmailbox, oldmailbox->i.generation);
        dst = mailbox_cache_file(src, mailbox, mailbox->i.generation);
        r = copy_file(src, dst);
        talloc_free(src);
    }
    if (!r)
        r = mailbox_write_header(mailbox);
    if (!r)
        r = fsync_dir(mailbox->path);
finish:
    return mailbox_finish_open(mailbox, XAP_LOCK_EXCLUSIVE, r, newmailboxp);
}
