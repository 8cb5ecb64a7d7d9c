/* userreceive.c - reading a user export stream (userexport.c, docs/FORMAT.md
 * "User export stream") into a user of this back end, durable: `mbctl
 * receive`, the destination's half of a move and the restore of a backup.
 *
 * Steps, under the INBOX's EXCLUSIVE namelock (docs/FAULTS.md "Moving a
 * user"):
 *
 *   check     nothing of the user is here (no record but tombstones, no
 *             user data); a copy a dead receive left is resolved first.
 *   records   one transaction, every record marked IN.      receive.1
 *   files     each written and its checksum compared; then every file
 *             is synced (common/syncbatch.h: one syncfs per filesystem
 *             for more than a few) and every directory written in is
 *             fsynced.                                      receive.2
 *   switch    a move only: the registry's owner becomes this server,
 *             compare on the revision the mover read.       move.2
 *   unmark    the records lose the mark: the user is here.  receive.3
 *
 * A failure before the switch removes what was written (usermove_remove);
 * a switch whose outcome is unknown (etcd went away) keeps the marked copy
 * for `mbctl recover`, which reads the registry. */
#include <config.h>

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
#include "common/config.h"
#include "common/fault.h"
#include "common/mboxname.h"
#include "common/syncbatch.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"
#include "mailbox/registry.h"
#include "mailbox/userdata.h"
#include "mailbox/usermove.h"

#define BUFSIZE (1 << 20)
#define MAX_LINE (1 << 20)

struct in {
    int fd;
    char *buf;
    size_t pos, len;
    struct usermove_stats *st;
};

struct recv {
    struct in in;
    const char *userid, *inbox;
    struct xap_mboxlist_entry **rows;
    char **dirs, **labels;           /* the user data places here */
    GHashTable *sync;                /* directories to fsync at the end */
    struct syncbatch *files;         /* written, not known durable yet
                                      * (common/syncbatch.h, the commit's
                                      * policy too) */
};

static int bad(const char *what)
{
    xlog(LOG_ERR, "receive: the stream is damaged: %s", what);
    return XAP_IMAP_MAILBOX_BADFORMAT;
}

/* 1 with bytes buffered, 0 at the end of the stream, -1 on an error. */
static int in_fill(struct in *in)
{
    ssize_t n;

    if (in->pos < in->len)
        return 1;
    do
        n = read(in->fd, in->buf, BUFSIZE);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        xlog(LOG_ERR, "receive: cannot read the stream: %s", strerror(errno));
        return -1;
    }
    in->pos = 0;
    in->len = (size_t)n;
    in->st->bytes += (uint64_t)n;
    return n > 0;
}

/* The next line as JSON (a new reference), or NULL with *R_R. */
static json_t *in_line(struct in *in, int *r_r)
{
    GString *line = g_string_new(NULL);
    json_t *j = NULL;
    int f;

    *r_r = 0;
    for (;;) {
        char *nl;
        if ((f = in_fill(in)) <= 0) {
            *r_r = f < 0 ? XAP_IMAP_IOERROR : bad("it ends before its end line");
            break;
        }
        nl = memchr(in->buf + in->pos, '\n', in->len - in->pos);
        size_t take = nl ? (size_t)(nl - (in->buf + in->pos)) : in->len - in->pos;
        g_string_append_len(line, in->buf + in->pos, (gssize)take);
        in->pos += take + (nl ? 1 : 0);
        if (line->len > MAX_LINE) {
            *r_r = bad("a line is too long");
            break;
        }
        if (nl) {
            /* json_is_object() evaluates its argument twice. */
            j = json_loadb(line->str, line->len, 0, NULL);
            if (!json_is_object(j)) {
                json_decref(j);
                j = NULL;
                *r_r = bad("a line is not a JSON object");
            }
            break;
        }
    }
    g_string_free(line, TRUE);
    return j;
}

/* Whether REL is a relative path with no empty, "." or ".." component. */
static int safe_rel(const char *rel)
{
    gchar **parts;
    int ok = rel && *rel && *rel != '/';

    if (!ok)
        return 0;
    parts = g_strsplit(rel, "/", -1);
    for (size_t i = 0; parts[i] && ok; i++)
        ok = *parts[i] && strcmp(parts[i], ".") && strcmp(parts[i], "..");
    g_strfreev(parts);
    return ok;
}

/* Makes PATH and what is missing above it; each directory made puts its
 * parent on the fsync list. */
static int make_dir(struct recv *rv, const char *path)
{
    struct stat st;
    char *parent;
    int r = 0;

    if (stat(path, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : (xlog(LOG_ERR, "receive: %s is not a directory",
                                               path), XAP_IMAP_IOERROR);
    parent = g_path_get_dirname(path);
    if (strcmp(parent, path) && (r = make_dir(rv, parent))) {
        g_free(parent);
        return r;
    }
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        xlog_syserr("mkdir", path);
        g_free(parent);
        return XAP_IMAP_IOERROR;
    }
    g_hash_table_add(rv->sync, parent);
    return 0;
}

/* The directory here that entry J's paths are relative to. */
static const char *base_of(void *ctx, struct recv *rv, json_t *j)
{
    const char *mbox = json_string_value(json_object_get(j, "mailbox"));
    const char *area = json_string_value(json_object_get(j, "area"));

    for (size_t i = 0; mbox && i < talloc_array_length(rv->rows); i++)
        if (!strcmp(rv->rows[i]->name, mbox))
            return mailbox_dir(ctx, rv->rows[i]->partition, mbox);
    for (size_t i = 0; area && i < talloc_array_length(rv->labels); i++)
        if (!strcmp(rv->labels[i], area))
            return rv->dirs[i];
    xlog(LOG_ERR, "receive: user %s: no place here for %s %s (the same partitions and "
         "search tiers must be configured)", rv->userid, mbox ? "mailbox" : "data",
         mbox ? mbox : area ? area : "?");
    return NULL;
}

/* One file of SIZE bytes from the stream to PATH, then its checksum line. */
static int in_file(struct recv *rv, const char *path, json_int_t size)
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    json_t *tail;
    off_t off = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600), r = 0;

    if (fd < 0) {
        xlog_syserr("open", path);
        g_checksum_free(sum);
        return XAP_IMAP_IOERROR;
    }
    while (size > 0 && !r) {
        int f = in_fill(&rv->in);
        size_t take = rv->in.len - rv->in.pos;
        if (f <= 0) {
            r = f < 0 ? XAP_IMAP_IOERROR : bad("it ends inside a file");
            break;
        }
        if ((json_int_t)take > size)
            take = (size_t)size;
        g_checksum_update(sum, (const guchar *)rv->in.buf + rv->in.pos, (gssize)take);
        if (pwrite_all(fd, rv->in.buf + rv->in.pos, take, off) < 0) {
            xlog_syserr("write", path);
            r = XAP_IMAP_IOERROR;
        }
        rv->in.pos += take;
        off += (off_t)take;
        size -= (json_int_t)take;
    }
    /* Synced with all the others at the end (sync_dirs), one pass rather
     * than a wait for the disk per file. */
    if (!r)
        r = syncbatch_add(rv->files, fd, path);
    else
        close(fd);
    if (!r && (tail = in_line(&rv->in, &r))) {
        const char *want = json_string_value(json_object_get(tail, "sha256"));
        if (!want || strcmp(want, g_checksum_get_string(sum))) {
            xlog(LOG_ERR, "receive: %s: its checksum does not match", path);
            r = XAP_IMAP_MAILBOX_CHECKSUM;
        }
        json_decref(tail);
    }
    g_checksum_free(sum);
    rv->in.st->files++;
    return r;
}

/* One "file" or "dir" entry. */
static int in_entry(struct recv *rv, json_t *j)
{
    void *tmp = talloc_new(NULL);
    const char *file = json_string_value(json_object_get(j, "file"));
    const char *dir = json_string_value(json_object_get(j, "dir"));
    json_t *size = json_object_get(j, "size");
    const char *base;
    char *path;
    int r;

    if (!safe_rel(file ? file : dir) ||
        (json_object_get(j, "mailbox") && (!file || strchr(file, '/'))) ||
        (file && (!json_is_integer(size) || json_integer_value(size) < 0))) {
        talloc_free(tmp);
        return bad("an entry names no safe path");
    }
    if (!(base = base_of(tmp, rv, j))) {
        talloc_free(tmp);
        return XAP_IMAP_PARTITION_UNKNOWN;
    }
    path = talloc_asprintf(tmp, "%s/%s", base, file ? file : dir);
    if (!file) {
        r = make_dir(rv, path);
    } else {
        gchar *parent = g_path_get_dirname(path);
        if (!(r = make_dir(rv, parent)))
            r = in_file(rv, path, json_integer_value(size));
        g_hash_table_add(rv->sync, parent);
    }
    talloc_free(tmp);
    return r;
}

/* A record of the stream: in the user's tree, on a partition known here. */
static int in_row(struct recv *rv, json_t *row)
{
    struct xap_mboxlist_entry *e = talloc_zero(rv->rows, struct xap_mboxlist_entry);
    size_t n = talloc_array_length(rv->rows), ilen = strlen(rv->inbox);
    json_t *extra = json_object_get(row, "extra");
    const char *s;
    char *x;

    e->name = talloc_strdup(e, (s = json_string_value(json_object_get(row, "name"))) ? s : "");
    e->partition = talloc_strdup(e, (s = json_string_value(json_object_get(row, "partition")))
                                        ? s : "");
    e->uniqueid = talloc_strdup(e, (s = json_string_value(json_object_get(row, "uniqueid")))
                                       ? s : "");
    e->uidvalidity = (uint32_t)json_integer_value(json_object_get(row, "uidvalidity"));
    if (json_is_object(extra) && json_object_size(extra) &&
        (x = json_dumps(extra, JSON_COMPACT | JSON_SORT_KEYS))) {
        e->extra = talloc_strdup(e, x);
        free(x);
    }
    if (strncmp(e->name, rv->inbox, ilen) || (e->name[ilen] && e->name[ilen] != MBOXNAME_SEP) ||
        (!n && e->name[ilen]) || mboxname_validate(e->name) || !*e->uniqueid) {
        talloc_free(e);
        return bad("a record is not one of the user's mailboxes");
    }
    if (!config_partitiondir(NULL, e->partition)) {
        xlog(LOG_ERR, "receive: mailbox %s: partition '%s' is not configured here",
             e->name, e->partition);
        talloc_free(e);
        return XAP_IMAP_PARTITION_UNKNOWN;
    }
    rv->rows = talloc_realloc(NULL, rv->rows, struct xap_mboxlist_entry *, n + 1);
    rv->rows[n] = talloc_steal(rv->rows, e);
    return 0;
}

/* Nothing of the user may be here; a dead receive's copy is resolved. */
static int check_absent(struct recv *rv)
{
    struct xap_mboxlist_entry **marked = NULL;
    char *found = NULL, **names = talloc_array(NULL, char *, 0);
    size_t n;
    int r = usermove_marked_rows(NULL, rv->userid, &marked, &n);

    talloc_free(marked);
    if (!r && n)
        r = usermove_resolve(rv->userid);
    if (!r)
        r = xap_mboxlist_collect_tree(rv->inbox, &names);
    if (!r && talloc_array_length(names)) {
        xlog(LOG_ERR, "receive: user %s exists here (%s): not overwritten", rv->userid,
             names[0]);
        r = XAP_IMAP_MAILBOX_EXISTS;
    }
    if (!r && (r = userdata_find(NULL, rv->userid, &found)) == XAP_IMAP_MAILBOX_EXISTS)
        xlog(LOG_ERR, "receive: user %s has data here (%s): not overwritten", rv->userid,
             found);
    talloc_free(found);
    talloc_free(names);
    return r;
}

/* In a cluster, a restore (no move) is of a user the registry gives to
 * this server already: anything else would make two owners. */
static int check_restore(struct recv *rv)
{
    char *server = NULL, *uniqueid = NULL;
    int64_t rev;
    int r = registry_user_owner(NULL, rv->userid, &server, &uniqueid, &rev, NULL);

    if (!r && (strcmp(server, registry_me()) || strcmp(uniqueid, rv->rows[0]->uniqueid))) {
        xlog(LOG_ERR, "receive: user %s: the registry names %s (INBOX %s): restore it "
             "there, or move it", rv->userid, server, uniqueid);
        r = XAP_IMAP_MAILBOX_REMOTE;
    } else if (r == XAP_IMAP_MAILBOX_NONEXISTENT) {
        xlog(LOG_ERR, "receive: user %s: no registry key names this server: create the "
             "user's key first (a restore does not claim one)", rv->userid);
    }
    talloc_free(server);
    talloc_free(uniqueid);
    return r;
}

static int sync_dirs(struct recv *rv)
{
    GHashTableIter it;
    gpointer key;
    int r = 0;

    r = syncbatch_sync(rv->files);
    g_hash_table_iter_init(&it, rv->sync);
    while (!r && g_hash_table_iter_next(&it, &key, NULL))
        r = fsync_dir(key);
    return r;
}

static int body(struct recv *rv, const char *from, int64_t rev)
{
    json_t *j;
    int r = 0, added = 0, keep = 0;

    while ((j = in_line(&rv->in, &r)) && json_object_get(j, "row")) {
        r = in_row(rv, json_object_get(j, "row"));
        json_decref(j);
        if (r)
            return r;
    }
    if (r)
        return r;
    if (!talloc_array_length(rv->rows)) {
        json_decref(j);
        return bad("it has no INBOX record");
    }
    if (registry_clustered() && !rev && (r = check_restore(rv))) {
        json_decref(j);
        return r;
    }
    if (!(r = usermove_add_rows(rv->rows, talloc_array_length(rv->rows), from, rev)))
        added = 1;
    while (!r && j && !json_object_get(j, "end")) {
        r = in_entry(rv, j);
        json_decref(j);
        j = r ? NULL : in_line(&rv->in, &r);
    }
    if (!r) {
        json_t *end = json_object_get(j, "end");
        if (json_integer_value(json_object_get(end, "files")) != rv->in.st->files)
            r = bad("its end line counts other files");
    }
    json_decref(j);
    if (!r && !(r = sync_dirs(rv)))
        fault_point("receive.2");
    if (!r && rev) {
        r = registry_move_switch(rv->userid, rev);
        /* The switch may have been applied: only the registry can say. */
        keep = r == XAP_IMAP_REGISTRY_DOWN;
        if (!r)
            fault_point("move.2");
    }
    if (!r && !(r = usermove_unmark(rv->userid)))
        fault_point("receive.3");
    if (r && added && !keep) {
        int r2 = usermove_remove(rv->userid, 0);
        if (r2)
            xlog(LOG_ERR, "receive: user %s: cannot remove what was received: %s (mbctl "
                 "recover does it)", rv->userid, xap_error_message(r2));
    } else if (r && keep) {
        xlog(LOG_ERR, "receive: user %s: the copy stays marked until mbctl recover reads "
             "the registry", rv->userid);
    }
    return r;
}

int usermove_receive(void *ctx, int fd, const char *from, int64_t rev, char **userid_r,
                     struct usermove_stats *st)
{
    struct recv rv = { .in = { fd, NULL, 0, 0, st } };
    struct xap_mboxlock *lock = NULL;
    const char *s;
    json_t *hdr;
    int r;

    memset(st, 0, sizeof *st);
    *userid_r = NULL;
    rv.in.buf = talloc_size(NULL, BUFSIZE);
    if (!(hdr = in_line(&rv.in, &r))) {
        talloc_free(rv.in.buf);
        return r;
    }
    if (!(s = json_string_value(json_object_get(hdr, "format"))) ||
        strcmp(s, "xapiary-user-export")) {
        r = bad("it is not a user export");
    } else if (json_integer_value(json_object_get(hdr, "version")) != 1) {
        xlog(LOG_ERR, "receive: the stream is of version %lld, this xapiary reads 1",
             (long long)json_integer_value(json_object_get(hdr, "version")));
        r = XAP_IMAP_MAILBOX_NOTSUPPORTED;
    } else if (!(s = json_string_value(json_object_get(hdr, "user"))) ||
               mboxname_userid_validate(s)) {
        r = bad("its user is not a valid userid");
    }
    if (r)
        goto out;
    *userid_r = talloc_strdup(ctx, s);
    rv.userid = *userid_r;
    rv.inbox = talloc_asprintf(rv.in.buf, "user.%s", s);
    rv.rows = talloc_array(NULL, struct xap_mboxlist_entry *, 0);
    rv.sync = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    rv.files = syncbatch_new(rv.in.buf);
    if (!from)
        from = (s = json_string_value(json_object_get(hdr, "server"))) ? s : "?";
    if ((r = xap_mboxname_lock(rv.inbox, &lock, XAP_LOCK_EXCLUSIVE)) ||
        (r = check_absent(&rv)))
        goto out;
    if (!(rv.dirs = userdata_dirs(NULL, rv.userid, &rv.labels, &r)))
        goto out;
    r = body(&rv, from, rev);
    st->rows = (unsigned)talloc_array_length(rv.rows);
out:
    xap_mboxname_release(&lock);
    if (rv.sync)
        g_hash_table_destroy(rv.sync);
    talloc_free(rv.dirs);
    talloc_free(rv.rows);
    json_decref(hdr);
    talloc_free(rv.in.buf);
    return r;
}
