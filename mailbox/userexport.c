/* userexport.c - a whole user as one stream: what `mbctl export` writes
 * and `mbctl receive` reads (docs/FORMAT.md "User export stream"), for a
 * move between back ends and for a backup and restore on one machine.
 *
 * The stream is a sequence of JSON lines, each file's bytes after its
 * line and its SHA-256 in a line after them: a reader learns a file's
 * size before its bytes (no buffering of a whole file), can check each
 * file, and finds a truncated stream by the missing "end" line.  Paths
 * in the stream are relative to a place both back ends name the same
 * way (a mailbox name, or a user data label of userdata_dirs()), never
 * to a directory of this machine, so partitions may live elsewhere on
 * the receiver.
 *
 * The receiver writes the records first (marked as a copy being received,
 * usermove.c), then the files, each fsynced, then fsyncs every directory
 * it made or wrote in: a crash at any point leaves records that say what
 * to remove. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <jansson.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "xapiary/namelock.h"
#include "common/atomicfile.h"
#include "common/fault.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"
#include "mailbox/registry.h"
#include "mailbox/userdata.h"
#include "mailbox/usermove.h"

#define FORMAT_NAME "xapiary-user-export"
#define FORMAT_VERSION 1
#define CHUNK (1 << 20)
/* The longest JSON line a reader accepts (a record's extra fields). */
#define MAX_LINE (1 << 20)

/* ---------------------------------------------------------- writing */

struct out {
    int fd;
    struct usermove_stats *st;
    char *buf;
};

static int out_write(struct out *o, const void *buf, size_t len)
{
    const char *p = buf;

    while (len) {
        ssize_t w = write(o->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            xlog(LOG_ERR, "export: cannot write the stream: %s%s", strerror(errno),
                 errno == EPIPE ? " (the reader went away)" : "");
            return XAP_IMAP_IOERROR;
        }
        p += w;
        len -= (size_t)w;
        o->st->bytes += (uint64_t)w;
    }
    return 0;
}

/* Writes J (its reference taken) as one line. */
static int out_line(struct out *o, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    int r;

    json_decref(j);
    if (!s)
        return XAP_IMAP_INTERNAL;
    r = out_write(o, s, strlen(s));
    if (!r)
        r = out_write(o, "\n", 1);
    free(s);
    return r;
}

/* One file: HDR (its reference taken) gains the size, then the bytes,
 * then the checksum line.  PATH is opened without following a link. */
static int out_file(struct out *o, json_t *hdr, const char *path)
{
    GChecksum *sum;
    struct stat st;
    off_t left;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), r;

    if (fd < 0 || fstat(fd, &st) < 0) {
        xlog_syserr("open", path);
        json_decref(hdr);
        if (fd >= 0)
            close(fd);
        return XAP_IMAP_IOERROR;
    }
    json_object_set_new(hdr, "size", json_integer((json_int_t)st.st_size));
    if ((r = out_line(o, hdr))) {
        close(fd);
        return r;
    }
    sum = g_checksum_new(G_CHECKSUM_SHA256);
    for (left = st.st_size; left > 0 && !r; ) {
        ssize_t n = read(fd, o->buf, left < CHUNK ? (size_t)left : CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* Nobody may write it under our locks: a short read is a fault. */
            xlog(LOG_ERR, "export: %s: %s", path, n ? strerror(errno) : "shorter than it was");
            r = XAP_IMAP_IOERROR;
            break;
        }
        g_checksum_update(sum, (const guchar *)o->buf, (gssize)n);
        r = out_write(o, o->buf, (size_t)n);
        left -= n;
    }
    close(fd);
    if (!r)
        r = out_line(o, json_pack("{s:s}", "sha256", g_checksum_get_string(sum)));
    g_checksum_free(sum);
    o->st->files++;
    return r;
}

/* Every directory and regular file below DIR/REL, recursively, as
 * entries relative to the user data place LABEL.  A missing DIR is no
 * data. */
static int out_tree(struct out *o, const char *label, const char *dir, const char *rel)
{
    char *path = rel ? talloc_asprintf(NULL, "%s/%s", dir, rel) : talloc_strdup(NULL, dir);
    DIR *d = opendir(path);
    struct dirent *de;
    int r = 0;

    if (!d) {
        r = errno == ENOENT && !rel ? 0 : XAP_IMAP_IOERROR;
        if (r)
            xlog_syserr("opendir", path);
        talloc_free(path);
        return r;
    }
    while (!r && (de = readdir(d))) {
        char *sub, *full;
        struct stat st;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        sub = rel ? talloc_asprintf(path, "%s/%s", rel, de->d_name)
                  : talloc_strdup(path, de->d_name);
        full = talloc_asprintf(path, "%s/%s", dir, sub);
        if (lstat(full, &st) < 0) {
            xlog_syserr("lstat", full);
            r = XAP_IMAP_IOERROR;
        } else if (S_ISDIR(st.st_mode)) {
            if (!(r = out_line(o, json_pack("{s:s,s:s}", "area", label, "dir", sub))))
                r = out_tree(o, label, dir, sub);
        } else if (S_ISREG(st.st_mode)) {
            /* SQLite rebuilds the shared-memory index of a WAL itself. */
            if (!g_str_has_suffix(de->d_name, "-shm"))
                r = out_file(o, json_pack("{s:s,s:s}", "area", label, "file", sub), full);
        } else {
            xlog(LOG_ERR, "export: %s is not a file or a directory: refused", full);
            r = XAP_IMAP_PERMISSION_DENIED;
        }
    }
    closedir(d);
    talloc_free(path);
    return r;
}

/* The files of mailbox E (not its children's directories, not debris of
 * an interrupted write). */
static int out_mailbox(struct out *o, const struct xap_mboxlist_entry *e)
{
    char *dir = mailbox_dir(NULL, e->partition, e->name);
    DIR *d;
    struct dirent *de;
    int r = 0;

    if (!dir)
        return mailbox_new_failed();
    if (!(d = opendir(dir))) {
        xlog_syserr("opendir", dir);
        talloc_free(dir);
        return XAP_IMAP_IOERROR;
    }
    while (!r && (de = readdir(d))) {
        char *full;
        struct stat st;
        if (de->d_name[0] == '.' || !strchr(de->d_name, '.') ||
            g_str_has_suffix(de->d_name, ".NEW"))
            continue;
        full = talloc_asprintf(dir, "%s/%s", dir, de->d_name);
        if (lstat(full, &st) == 0 && S_ISREG(st.st_mode))
            r = out_file(o, json_pack("{s:s,s:s}", "mailbox", e->name, "file", de->d_name),
                         full);
    }
    closedir(d);
    talloc_free(dir);
    return r;
}

static json_t *row_json(const struct xap_mboxlist_entry *e)
{
    json_t *x = e->extra ? json_loads(e->extra, 0, NULL) : NULL;

    if (!json_is_object(x)) {
        json_decref(x);
        x = json_object();
    }
    json_object_del(x, USERMOVE_MARK);
    json_object_del(x, "mtime");
    return json_pack("{s:{s:s,s:s,s:s,s:I,s:o}}", "row", "name", e->name,
                     "partition", e->partition, "uniqueid", e->uniqueid,
                     "uidvalidity", (json_int_t)e->uidvalidity, "extra", x);
}

int usermove_export(struct usermove *um, int fd, struct usermove_stats *st)
{
    struct out o = { fd, st, talloc_size(NULL, CHUNK) };
    char xname[MBOXNAME_MAX + 16], **dirs, **labels = NULL;
    struct xap_mboxlock *xl = NULL;
    size_t n = talloc_array_length(um->rows);
    int r;

    memset(st, 0, sizeof *st);
    if ((r = xap_mboxname_xapian_lockname(um->userid, xname, sizeof xname)) ||
        (r = xap_mboxname_lock(xname, &xl, XAP_LOCK_EXCLUSIVE))) {
        talloc_free(o.buf);
        return r;
    }
    r = out_line(&o, json_pack("{s:s,s:i,s:s,s:s,s:I}", "format", FORMAT_NAME,
                               "version", FORMAT_VERSION, "user", um->userid,
                               "server", registry_me(), "exported", (json_int_t)time(NULL)));
    for (size_t i = 0; i < n && !r; i++, st->rows++)
        r = out_line(&o, row_json(um->rows[i]));
    for (size_t i = 0; i < n && !r; i++)
        r = out_mailbox(&o, um->rows[i]);
    if (!r && (dirs = userdata_dirs(NULL, um->userid, &labels, &r))) {
        for (size_t i = 0; i < talloc_array_length(dirs) && !r; i++)
            r = out_tree(&o, labels[i], dirs[i], NULL);
        talloc_free(dirs);
    }
    if (!r)
        r = out_line(&o, json_pack("{s:{s:i,s:i}}", "end", "rows", st->rows,
                                   "files", st->files));
    xap_mboxname_release(&xl);
    talloc_free(o.buf);
    return r;
}
