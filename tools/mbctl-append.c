/* mbctl import - bringing mail in (mbctl append: mbctl-deliver.c).
 *
 * import reads a Maildir folder (cur/ and new/), an mbox file, or with -r
 * a Maildir++ tree (.Sub.Folder directories) or a directory of Maildirs,
 * whose folders become child mailboxes.  Messages are committed in
 * batches of IMPORT_BATCH, and the index lock is released between
 * batches so that readers and other writers are not shut out.  A
 * message file is written without an fsync; the batch's commit syncs
 * them all before its records (mailbox-append.c), one sync pass per
 * batch instead of a synchronous write per message.  With --link a
 * Maildir's file is hard-linked instead of copied (mailbox/append.h):
 * the file is read once, for its GUID and its parse, and the link is
 * checked to lead to the file read.  A folder's files are read, hashed
 * and parsed by worker threads (-j) a few files ahead of the one thread
 * that appends them in name order (mbctl-import-pipe.c): the parse was
 * most of an import's CPU time, and UIDs stay the sequential import's.
 *
 * Symbolic links inside the imported tree are skipped with a warning (a
 * user's Maildir imported by root must not turn `cur/x -> /etc/shadow`
 * into mail), unless --follow-symlinks: the tree is walked by directory
 * descriptors, each entry looked at with fstatat(AT_SYMLINK_NOFOLLOW) and
 * opened with openat(O_NOFOLLOW) relative to its parent, so that nothing
 * swapped for a link meanwhile leads out of the tree either.  The PATH the
 * operator names may be a link. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/namelock.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/append.h"
#include "tools/cli.h"
#include "tools/mbctl.h"

#define IMPORT_BATCH 1000

/* --follow-symlinks: links inside the tree are followed. */
static int follow_links;
/* --duplicates: a message already in the mailbox (same GUID) is stored again. */
static int keep_duplicates;
/* --link: a message file is hard-linked into the spool when it can be
 * (mailbox/append.h). */
static int link_files;
/* --jobs: worker threads that read and parse ahead of the appends
 * (mbctl-import-pipe.c); 0: the appending thread does it all. */
static int import_jobs = -1;

struct importer {
    const char *name;          /* the mailbox */
    struct xap_mailbox *mailbox;
    int batch;
    unsigned long count;
    unsigned long long bytes;
    unsigned long failed;
    unsigned long skipped;     /* already in the mailbox */
    unsigned long linked;      /* --link: stored as a link to their file */
    struct import_guids *guids;
    double start;
    int verbose;
};

/* Opens (creating if need be) the mailbox for writing. */
static int importer_open(struct importer *im)
{
    int r = xap_mailbox_open_iwl(im->name, &im->mailbox);

    if (r == XAP_IMAP_MAILBOX_NONEXISTENT)
        r = xap_mailbox_create(im->name, NULL, NULL, 0, &im->mailbox);
    else if (!r && !keep_duplicates)
        r = import_guids_load(im->mailbox, im->mailbox, &im->guids);
    if (r)
        cli_error(im->name, r, NULL);
    return r;
}

static int importer_commit(struct importer *im)
{
    int r;

    /* The batch's files are written, not yet synced: the commit syncs
     * them all (its step 0) before any record names them. */
    fault_point("import.written");
    r = xap_mailbox_commit(im->mailbox);

    if (r)
        return cli_error(im->name, r, "commit failed"), r;
    im->batch = 0;
    /* Let others in between batches. */
    xap_mailbox_unlock_index(im->mailbox, NULL);
    if (im->verbose)
        fprintf(stderr, "mbctl: %s: %lu messages, %.0f msgs/s\n", im->name, im->count,
                (double)im->count / (now_seconds() - im->start + 1e-9));
    return xap_mailbox_lock_index(im->mailbox, XAP_LOCK_EXCLUSIVE);
}

/* What a worker thread made of one file ahead of its append
 * (read_ahead). */
struct ahead {
    const char *name;          /* the entry, in the directory's listing */
    int ignore;                /* not a file of ours, said nothing of */
    struct stat st;            /* its fstatat(2) */
    int read;                  /* its bytes are BUF (else READ_ERRNO says why not) */
    int read_errno;
    char *buf;
    size_t len;
    struct stat readst;        /* fstat(2) of what was read (--link) */
    size_t skip;               /* a leading envelope line's length */
    int64_t envdate;
    int kind;                  /* enum filekind, for a loose file */
    int dup;                   /* already in the mailbox: not parsed */
    int prep_r;                /* mailbox_append_prepare()'s result */
    struct message_parsed *parsed;
};

/* SRC: the file BUF is the whole of, for --link (else NULL).  A: what a
 * worker made of it ahead (the GUID looked up, the bytes checked and
 * parsed), or NULL to do it all here. */
static int importer_add(struct importer *im, const char *buf, size_t len,
                        int64_t internaldate, int64_t envdate, uint32_t flags,
                        const char *source, const struct append_source *src,
                        const struct ahead *a)
{
    int r, linked = 0;

    if (a ? a->dup : import_guids_has(im->guids, buf, len)) {
        /* Stored by an earlier run of the same import. */
        im->skipped++;
        return 0;
    }
    if (a)
        r = a->prep_r ? a->prep_r
                      : mailbox_append_prepared(im->mailbox, buf, len, a->parsed, internaldate,
                                                envdate, flags, src, &linked, NULL);
    else
        r = src ? mailbox_append_linked(im->mailbox, buf, len, internaldate, envdate, flags,
                                        src, &linked, NULL)
                : xap_mailbox_append_message_dated(im->mailbox, buf, len, internaldate,
                                                   envdate, flags, NULL);
    if (r) {
        char *what = talloc_asprintf(NULL, "%s: %s", im->name, source);
        cli_error(what, r, NULL);
        talloc_free(what);
        im->failed++;
        return r;
    }
    im->count++;
    im->linked += (unsigned long)linked;
    im->bytes += len;
    if (++im->batch >= IMPORT_BATCH)
        return importer_commit(im);
    return 0;
}

static int importer_close(struct importer *im)
{
    int r = 0;

    if (im->mailbox) {
        fault_point("import.written");
        r = xap_mailbox_commit(im->mailbox);
        if (r)
            cli_error(im->name, r, "commit failed");
        xap_mailbox_close(&im->mailbox);
    }
    return r;
}

/* Opens NAME in the directory DIRFD as a directory: never through a link
 * in NAME unless NAMED (the operator named it) or --follow-symlinks. */
static int open_dir_at(int dirfd, const char *name, int named)
{
    return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                               (named || follow_links ? 0 : O_NOFOLLOW));
}

/* The paths of the links skipped (not followed), for their count at the
 * end: an import that skipped every file still succeeds (skipping is the
 * policy), but says how much it left out. */
static GHashTable *links_skipped;

/* Says that the link PATH is skipped (only in the appending thread). */
static void link_skipped(const char *path)
{
    if (!links_skipped)
        links_skipped = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    /* import -r looks at a loose file twice (as a folder, then as a
     * message): it is named and counted once. */
    if (g_hash_table_add(links_skipped, g_strdup(path)))
        fprintf(stderr, "mbctl: %s: a symbolic link: skipped (--follow-symlinks "
                "imports what it points to)\n", path);
}

/* lstat(2), or stat(2) with --follow-symlinks, of NAME in directory
 * DIRFD, an entry of the imported tree whose path is PATH: -1 (no
 * warning) when it cannot be read, 1 with a warning naming it when it is
 * a link that is not followed, else 0. */
static int entry_stat_at(int dirfd, const char *name, const char *path, struct stat *st)
{
    if (fstatat(dirfd, name, st, follow_links ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    if (S_ISLNK(st->st_mode)) {
        link_skipped(path);
        return 1;
    }
    return 0;
}

/* Reads NAME in the directory DIRFD (whose path is PATH): with O_NOFOLLOW
 * and relative to DIRFD, so that neither a link put there after
 * entry_stat_at() looked nor a directory above swapped for a link leads
 * elsewhere; by PATH when NAMED or --follow-symlinks. */
static int read_at(void *ctx, int dirfd, const char *name, const char *path, int named,
                   char **buf_r, size_t *len_r)
{
    return named || follow_links ? read_file_follow(ctx, path, buf_r, len_r)
                                 : read_file_at(ctx, dirfd, name, buf_r, len_r);
}

static enum filekind classify_at(int dirfd, const char *name, const char *path)
{
    enum filekind k = FILE_OTHER;
    size_t len, skip;
    int64_t date;
    char *buf;

    if (read_at(NULL, dirfd, name, path, 0, &buf, &len) == 0) {
        k = classify(buf, len, &skip, &date);
        talloc_free(buf);
    }
    return k;
}

/* The files of one directory, for read_ahead(). */
struct ahead_dir {
    struct importer *im;
    const char *dir;
    int dfd;
    char **files;
    int loose;
};

/* Looks at, reads and parses file I of the directory ROCK, in a worker
 * thread (mbctl-import-pipe.c): nothing here touches the mailbox or
 * anything else shared but read-only (the GUIDs already there, the
 * options).  What the appending thread must say or count (links skipped,
 * read errors) is left for it in the result. */
static void *read_ahead(size_t i, void *rock)
{
    struct ahead_dir *d = rock;
    struct ahead *a = talloc_zero(NULL, struct ahead);
    const char *msg;
    int rc;

    if (!a)
        return NULL;
    a->name = d->files[i];
    if ((d->loose && is_maildir_sub(a->name)) ||
        fstatat(d->dfd, a->name, &a->st, follow_links ? 0 : AT_SYMLINK_NOFOLLOW) < 0) {
        a->ignore = 1;
        return a;
    }
    if (!S_ISREG(a->st.st_mode))
        return a;
    /* --link needs what was read to be the file its name leads to:
     * read relative to DFD, following a link only when
     * --follow-symlinks (as read_at()). */
    rc = link_files ? read_file_stat(a, d->dfd, a->name, follow_links, &a->buf, &a->len,
                                     &a->readst)
                    : read_at(a, d->dfd, a->name,
                              talloc_asprintf(a, "%s/%s", d->dir, a->name), 0, &a->buf,
                              &a->len);
    if (rc < 0) {
        a->read_errno = errno;
        return a;
    }
    a->read = 1;
    /* A Maildir's files are messages, but may keep the envelope line
     * of the mbox they were copied from. */
    a->skip = envelope_line(a->buf, a->len, &a->envdate);
    if (d->loose && (a->kind = (int)classify(a->buf, a->len, &a->skip, &a->envdate)) !=
                    FILE_MESSAGE)
        return a;
    msg = a->buf + a->skip;
    if ((a->dup = import_guids_has(d->im->guids, msg, a->len - a->skip)))
        return a;
    a->prep_r = mailbox_append_prepare(a, d->im->name, msg, a->len - a->skip, &a->parsed);
    return a;
}

/* Appends the file A, an entry of DIR (open as DFD), as read_ahead() left
 * it; LOOSE as import_files(). */
static int import_file(struct importer *im, const char *dir, int dfd, struct ahead *a,
                       int loose)
{
    char *path = talloc_asprintf(a, "%s/%s", dir, a->name);
    struct append_source src = { dfd, a->name, follow_links, &a->readst };
    int r;

    if (a->ignore || !(S_ISLNK(a->st.st_mode) || S_ISREG(a->st.st_mode)))
        return 0;
    if (S_ISLNK(a->st.st_mode)) {
        link_skipped(path);
        return 0;
    }
    if (!a->read) {
        fprintf(stderr, "mbctl: %s: %s\n", path, strerror(a->read_errno));
        im->failed++;
        return 0;
    }
    if (loose && a->kind != FILE_MESSAGE) {
        /* mbox files become child mailboxes (import -r) */
        if (im->verbose)
            fprintf(stderr, "mbctl: %s: not a message file: skipped\n", path);
        return 0;
    }
    /* Only a whole file can be linked: not one whose envelope line
     * is not stored. */
    r = importer_add(im, a->buf + a->skip, a->len - a->skip, (int64_t)a->st.st_mtime,
                     a->envdate, maildir_flags(a->name), path,
                     link_files && !a->skip ? &src : NULL, a);
    if (r == XAP_IMAP_MESSAGE_BADHEADER || r == XAP_IMAP_MESSAGE_TOOLARGE)
        r = 0;     /* counted and reported; go on with the rest */
    return r;
}

/* Appends the message files of DIR, open as DFD; LOOSE: DIR is a plain
 * directory of files, where only those that look like mail count (a
 * Maildir's cur/ and new/ hold nothing else, so there every file is a
 * message).  The files are looked at and read relative to DFD, by
 * import_jobs worker threads ahead of the appends, which stay in this
 * thread and in the order of the names. */
static int import_files(struct importer *im, void *tmp, const char *dir, int dfd, int loose)
{
    struct ahead_dir d = { im, dir, dfd, list_at(tmp, dfd), loose };
    size_t n = talloc_array_length(d.files);
    struct import_pipe *pipe;
    int r = 0;

    /* Nothing on disk changes here: a test pauses the import at this
     * point to swap DIR for a link (docs/FAULTS.md). */
    fault_point("import.listed");
    pipe = import_pipe_start(tmp, n, import_jobs, read_ahead, &d);
    for (size_t i = 0; i < n && !r; i++) {
        /* Nothing of one file outlives its turn: small leftovers kept
         * for the whole import would scatter the heap among the freed
         * buffers of the files after it (list_dir). */
        struct ahead *a = import_pipe_take(pipe);
        if (!a) {
            cli_error(im->name, XAP_IMAP_IOERROR, "out of memory");
            r = XAP_IMAP_IOERROR;
            break;
        }
        r = import_file(im, dir, dfd, a, loose);
        talloc_free(a);
    }
    import_pipe_finish(pipe);
    return r;
}

/* The Maildir DIR, open as DFD: its cur/ and new/. */
static int import_maildir(struct importer *im, const char *dir, int dfd)
{
    static const char *const subs[] = { "cur", "new" };
    void *tmp = talloc_new(NULL);
    int r = 0;

    for (int s = 0; s < 2 && !r; s++) {
        char *sub = talloc_asprintf(tmp, "%s/%s", dir, subs[s]);
        struct stat st;
        int sfd;
        if (entry_stat_at(dfd, subs[s], sub, &st) || !S_ISDIR(st.st_mode))
            continue;
        if ((sfd = open_dir_at(dfd, subs[s], 0)) < 0) {
            fprintf(stderr, "mbctl: %s: %s\n", sub, strerror(errno));
            im->failed++;
            continue;
        }
        r = import_files(im, tmp, sub, sfd, 0);
        close(sfd);
    }
    talloc_free(tmp);
    return r;
}

/* Whether DIR (open as DFD) directly holds at least one file that looks
 * like mail, or a link that is not followed (import_files names it). */
static int has_loose_messages(void *ctx, const char *dir, int dfd)
{
    char **files = list_at(ctx, dfd);

    for (size_t i = 0; i < talloc_array_length(files); i++) {
        char *path = talloc_asprintf(ctx, "%s/%s", dir, files[i]);
        struct stat st;
        if (is_maildir_sub(files[i]) ||
            fstatat(dfd, files[i], &st, follow_links ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISLNK(st.st_mode) ||
            (S_ISREG(st.st_mode) && classify_at(dfd, files[i], path) == FILE_MESSAGE))
            return 1;
    }
    return 0;
}

/* Splits an mbox at "From " lines, undoing ">From " quoting.  The file
 * is NAME in the directory DIRFD, whose path is PATH; NAMED: the operator
 * named PATH (it may be a link). */
static int import_mbox(struct importer *im, const char *path, int dirfd, const char *name,
                       int named)
{
    char *buf, *p, *end;
    size_t len;
    int r = 0;

    if (read_at(NULL, dirfd, name, path, named, &buf, &len) < 0) {
        fprintf(stderr, "mbctl: %s: %s\n", path, strerror(errno));
        return XAP_IMAP_IOERROR;
    }
    if (len < 5 || strncmp(buf, "From ", 5)) {
        fprintf(stderr, "mbctl: %s: not an mbox file (no initial From line)\n", path);
        talloc_free(buf);
        return XAP_IMAP_MAILBOX_BADFORMAT;
    }
    p = buf;
    end = buf + len;
    while (p < end && !r) {
        char *body = memchr(p, '\n', (size_t)(end - p));
        char *next, *msg, *out;
        int64_t envdate;
        if (!body)
            break;
        envelope_line(p, (size_t)(end - p), &envdate);
        body++;
        for (next = body; next < end; ) {
            char *nl = memchr(next, '\n', (size_t)(end - next));
            if (!nl) {
                next = end;
                break;
            }
            if (nl + 6 <= end && !strncmp(nl + 1, "From ", 5)) {
                next = nl + 1;
                break;
            }
            next = nl + 1;
        }
        /* Unquote ">From " (mboxrd: any number of '>'). */
        msg = talloc_array(buf, char, (size_t)(next - body) + 1);
        out = msg;
        for (char *line = body; line < next; ) {
            char *nl = memchr(line, '\n', (size_t)(next - line));
            size_t n = nl ? (size_t)(nl - line + 1) : (size_t)(next - line);
            char *q = line;
            while (q < line + n && *q == '>')
                q++;
            if (q > line && (size_t)(line + n - q) >= 5 && !strncmp(q, "From ", 5)) {
                line++;
                n--;
            }
            memcpy(out, line, n);
            out += n;
            line += n;
        }
        r = importer_add(im, msg, (size_t)(out - msg), 0, envdate, 0, path, NULL, NULL);
        if (r == XAP_IMAP_MESSAGE_BADHEADER || r == XAP_IMAP_MESSAGE_TOOLARGE)
            r = 0;
        talloc_free(msg);
        p = next;
    }
    talloc_free(buf);
    return r;
}

/* Whether the directory open as DFD has a cur/ or new/ directory (a
 * linked one too: import_maildir names the link it skips). */
static int is_maildir_at(int dfd)
{
    static const char *const subs[] = { "cur", "new" };
    struct stat st;

    for (int s = 0; s < 2; s++)
        if (fstatat(dfd, subs[s], &st, 0) == 0 && S_ISDIR(st.st_mode))
            return 1;
    return 0;
}

/* Imports PATH, which is NAME in the directory DIRFD (AT_FDCWD and PATH
 * itself for what the operator NAMED), into mailbox MBOX. */
static int import_one(const char *mbox, const char *path, int dirfd, const char *name,
                      int named, int verbose, struct importer *total)
{
    struct importer im = { .name = mbox, .verbose = verbose, .start = now_seconds() };
    struct stat st;
    int r, dfd = -1;

    if (fstatat(dirfd, name, &st, named || follow_links ? 0 : AT_SYMLINK_NOFOLLOW) < 0 ||
        (S_ISDIR(st.st_mode) && (dfd = open_dir_at(dirfd, name, named)) < 0)) {
        fprintf(stderr, "mbctl: %s: %s\n", path, strerror(errno));
        return XAP_IMAP_IOERROR;
    }
    if ((r = importer_open(&im))) {
        if (dfd >= 0)
            close(dfd);
        return r;
    }
    if (dfd >= 0) {
        /* A Maildir, and loose message files beside cur/ and new/ (some
         * tools leave them there), or a plain directory of messages. */
        void *tmp = talloc_new(NULL);
        int maildir = is_maildir_at(dfd), loose = has_loose_messages(tmp, path, dfd);
        if (maildir)
            r = import_maildir(&im, path, dfd);
        if (loose && !r)
            r = import_files(&im, tmp, path, dfd, 1);
        if (!maildir && !loose) {
            fprintf(stderr, "mbctl: %s: neither a Maildir (no cur/ or new/) nor a "
                    "directory of message files; use -r for a tree\n", path);
            r = XAP_IMAP_MAILBOX_BADFORMAT;
        }
        talloc_free(tmp);
        close(dfd);
    } else {
        r = import_mbox(&im, path, dirfd, name, named);
    }
    if (importer_close(&im) && !r)
        r = XAP_IMAP_IOERROR;
    total->count += im.count;
    total->bytes += im.bytes;
    total->failed += im.failed;
    total->skipped += im.skipped;
    total->linked += im.linked;
    if (verbose)
        fprintf(stderr, "mbctl: %s: imported %lu messages from %s, %lu already there\n",
                mbox, im.count, path, im.skipped);
    return r;
}

/* -r: PATH (open as DFD) is a Maildir++ tree (".A.B" folders) or a
 * directory of Maildirs, mbox files and directories of message files;
 * each folder becomes NAME.FOLDER, and loose message files in PATH itself
 * go to NAME.  Every directory below is opened relative to its parent's
 * descriptor, so no directory swapped for a link leads out of the tree. */
static int import_tree(void *ctx, const char *name, const char *path, int dfd, int verbose,
                       struct importer *total)
{
    char **entries = list_at(ctx, dfd);
    int r = 0, ret = 0;

    if (is_maildir_at(dfd) || has_loose_messages(ctx, path, dfd))
        ret = import_one(name, path, dfd, ".", 0, verbose, total);
    for (size_t i = 0; i < talloc_array_length(entries); i++) {
        const char *e = entries[i];
        char *sub = talloc_asprintf(ctx, "%s/%s", path, e);
        char *child;
        struct stat st;
        int cfd;
        if (is_maildir_sub(e))
            continue;
        if (entry_stat_at(dfd, e, sub, &st))
            continue;
        /* Loose message files were imported into NAME above. */
        if (S_ISREG(st.st_mode) && classify_at(dfd, e, sub) != FILE_MBOX)
            continue;
        /* One entry, one folder: a dot in its name ("2024.mbox") is not a
         * hierarchy separator; it is stored as '^', as Cyrus does. */
        child = talloc_asprintf(ctx, "%s.%s", name, e);
        for (char *q = child + strlen(name) + 1; *q; q++)
            if (*q == MBOXNAME_SEP)
                *q = '^';
        if (mboxname_validate(child)) {
            fprintf(stderr, "mbctl: %s: folder name '%s' is not a valid mailbox name: skipped\n",
                    sub, child);
            ret = XAP_IMAP_MAILBOX_BADNAME;
            continue;
        }
        r = 0;
        if (S_ISDIR(st.st_mode) && (cfd = open_dir_at(dfd, e, 0)) < 0) {
            fprintf(stderr, "mbctl: %s: %s\n", sub, strerror(errno));
            r = XAP_IMAP_IOERROR;
        } else if (S_ISDIR(st.st_mode)) {
            r = import_tree(ctx, child, sub, cfd, verbose, total);
            close(cfd);
        } else if (S_ISREG(st.st_mode)) {
            r = import_one(child, sub, dfd, e, 0, verbose, total);
        }
        if (r)
            ret = r;
    }
    return ret;
}

/* Maildir++ names folders ".A.B" inside the root (open as DFD): list
 * them as A.B. */
static int import_maildirpp(void *ctx, const char *name, const char *path, int dfd,
                            int verbose, struct importer *total, int *found)
{
    int fd = dup(dfd), ret = 0;
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    struct dirent *de;

    *found = 0;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    rewinddir(d);
    while ((de = readdir(d))) {
        if (de->d_name[0] != '.' || !de->d_name[1] || !strcmp(de->d_name, ".."))
            continue;
        char *sub = talloc_asprintf(ctx, "%s/%s", path, de->d_name);
        struct stat st;
        int cfd, maildir;
        if (entry_stat_at(dfd, de->d_name, sub, &st) || !S_ISDIR(st.st_mode) ||
            (cfd = open_dir_at(dfd, de->d_name, 0)) < 0)
            continue;
        maildir = is_maildir_at(cfd);
        char *child = talloc_asprintf(ctx, "%s%s", name, de->d_name);
        if (maildir && mboxname_validate(child)) {
            fprintf(stderr, "mbctl: %s: '%s' is not a valid mailbox name: skipped\n",
                    sub, child);
            ret = XAP_IMAP_MAILBOX_BADNAME;
        } else if (maildir) {
            int r = import_one(child, sub, cfd, ".", 0, verbose, total);
            if (r)
                ret = r;
        }
        *found |= maildir;
        close(cfd);
    }
    closedir(d);
    return ret;
}

int mbctl_import(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl import [-v] [-r] [-L] [-d] [-l] [-j N] MAILBOX PATH\n"
        "Import a Maildir folder, a directory of message files or an mbox\n"
        "file into MAILBOX (created if missing).\n\n"
        "  -r, --recursive   PATH is a Maildir++ tree or a directory of\n"
        "                    Maildirs, mbox files and message directories:\n"
        "                    folders become child mailboxes (a dot in a\n"
        "                    file or directory name is stored as '^')\n"
        "  -L, --follow-symlinks  follow symbolic links inside PATH; by\n"
        "                    default each one (to a file or a directory) is\n"
        "                    skipped with a warning naming it, so that\n"
        "                    importing a user's Maildir as root cannot\n"
        "                    store files the links point to (PATH itself\n"
        "                    may always be a link)\n"
        "  -d, --duplicates  store a message even when the mailbox already\n"
        "                    has one with the same GUID (the same bytes); by\n"
        "                    default it is skipped, so that running the same\n"
        "                    import again adds only what is new\n"
        "  -l, --link        hard-link each Maildir or message file into\n"
        "                    the spool instead of copying it (no data copy,\n"
        "                    no new inode); copied instead when the spool is\n"
        "                    on another filesystem, links are refused, the\n"
        "                    file is not the importing user's, or it starts\n"
        "                    with an envelope line.  The spool then shares\n"
        "                    the file: it must never be rewritten in place\n"
        "                    (Maildir programs never do; mbctl verify reports\n"
        "                    one that was); deleting either name leaves the\n"
        "                    other\n"
        "  -j, --jobs N      N threads read and parse files ahead of the\n"
        "                    appends (default: one fewer than the CPUs, at\n"
        "                    most 8; 0: none); messages get their UIDs in\n"
        "                    the order of their file names whatever N is\n"
        "  -v, --verbose     progress: each batch and folder, then the totals\n"
        "  -h, --help        show this help\n\n"
        "Maildir flags (S R F T D) become \\Seen \\Answered \\Flagged\n"
        "\\Deleted \\Draft; the file time becomes the internal date.  A\n"
        "file's leading mbox envelope line (\"From SENDER DATE\") is not\n"
        "stored; its date (read as UTC), like an mbox message's From line's,\n"
        "becomes the internal date when the message has no Date: header\n"
        "that parses.\n";
    static const struct option opts[] = {
        { "recursive", no_argument, NULL, 'r' },
        { "follow-symlinks", no_argument, NULL, 'L' },
        { "duplicates", no_argument, NULL, 'd' },
        { "link", no_argument, NULL, 'l' },
        { "jobs", required_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct importer total = { .start = now_seconds() };
    const char *path;
    void *tmp;
    int recursive = 0, c, r, rfd;

    while ((c = mbctl_getopt(argc, argv, "rLdlj:h", opts)) != -1) {
        switch (c) {
        case 'r': recursive = 1; break;
        case 'L': follow_links = 1; break;
        case 'd': keep_duplicates = 1; break;
        case 'l': link_files = 1; break;
        case 'j': {
            char *end;
            long j = strtol(optarg, &end, 10);
            if (end == optarg || *end || j < 0 || j > 64)
                cli_usage_error("import: --jobs takes a number from 0 to 64");
            import_jobs = (int)j;
            break;
        }
        case 'h': mbctl_help(usage); return EX_OK;
        default: cli_bad_option("import", argv);
        }
    }
    if (argc - optind != 2)
        cli_usage_error("import: MAILBOX and PATH are required");
    if (import_jobs < 0) {
        /* The appending thread parses too while it waits: one thread
         * fewer than the CPUs keeps them all busy. */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        import_jobs = cpus < 2 ? 0 : cpus > 9 ? 8 : (int)cpus - 1;
    }
    if (mboxname_validate(argv[optind]))
        return cli_error(argv[optind], XAP_IMAP_MAILBOX_BADNAME, NULL);
    path = argv[optind + 1];
    cli_init(ctx->config);
    cli_set_verbose(ctx->verbose);
    tmp = talloc_new(NULL);
    if (recursive) {
        /* The root exists even when PATH holds only folders, so that the
         * tree has its parent (a user's INBOX above all). */
        struct importer root = { .name = argv[optind] };
        int found;
        if ((r = importer_open(&root))) {
            talloc_free(tmp);
            return cli_exit_code(r);
        }
        xap_mailbox_close(&root.mailbox);
        /* PATH itself may be a link: the operator named it. */
        if ((rfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
            fprintf(stderr, "mbctl: %s: %s\n", path, strerror(errno));
            talloc_free(tmp);
            return cli_exit_code(XAP_IMAP_IOERROR);
        }
        r = import_maildirpp(tmp, argv[optind], path, rfd, ctx->verbose, &total, &found);
        if (is_maildir_at(rfd) && found) {
            int r2 = import_one(argv[optind], path, rfd, ".", 0, ctx->verbose, &total);
            if (r2)
                r = r2;
        } else if (!found) {
            r = import_tree(tmp, argv[optind], path, rfd, ctx->verbose, &total);
        }
        close(rfd);
    } else {
        r = import_one(argv[optind], path, AT_FDCWD, path, 1, ctx->verbose, &total);
    }
    talloc_free(tmp);
    double secs = now_seconds() - total.start;
    if (ctx->verbose || total.failed)
        fprintf(stderr, "mbctl: imported %lu messages (%.1f MB) in %.2f s: %.0f msgs/s, "
                "%.1f MB/s; %lu already there; %lu failed\n", total.count,
                (double)total.bytes / 1e6, secs, (double)total.count / (secs + 1e-9),
                (double)total.bytes / 1e6 / (secs + 1e-9), total.skipped, total.failed);
    if (link_files && (ctx->verbose || total.failed))
        fprintf(stderr, "mbctl: %lu of the %lu messages stored as links to their files\n",
                total.linked, total.count);
    if (links_skipped) {
        unsigned n = g_hash_table_size(links_skipped);
        fprintf(stderr, "mbctl: %s: %u symbolic link%s skipped, not imported "
                "(--follow-symlinks imports what they point to)\n", path, n, n == 1 ? "" : "s");
        g_hash_table_destroy(links_skipped);
        links_skipped = NULL;
    }
    if (!r && total.failed)
        r = XAP_IMAP_MESSAGE_BADHEADER;
    return r ? cli_exit_code(r) : EX_OK;
}
