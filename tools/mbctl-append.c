/* mbctl append | import - bringing mail in.
 *
 * import reads a Maildir folder (cur/ and new/), an mbox file, or with -r
 * a Maildir++ tree (.Sub.Folder directories) or a directory of Maildirs,
 * whose folders become child mailboxes.  Messages are committed in
 * batches of IMPORT_BATCH, and the index lock is released between
 * batches so that readers and other writers are not shut out. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/namelock.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "tools/cli.h"
#include "tools/mbctl.h"

#define IMPORT_BATCH 1000

struct importer {
    const char *name;          /* the mailbox */
    struct mailbox *mailbox;
    int batch;
    unsigned long count;
    unsigned long long bytes;
    unsigned long failed;
    double start;
    int verbose;
};

/* Opens (creating if need be) the mailbox for writing. */
static int importer_open(struct importer *im)
{
    int r = mailbox_open_iwl(im->name, &im->mailbox);

    if (r == IMAP_MAILBOX_NONEXISTENT)
        r = mailbox_create(im->name, NULL, NULL, 0, &im->mailbox);
    if (r)
        cli_error(im->name, r, NULL);
    return r;
}

static int importer_commit(struct importer *im)
{
    int r = mailbox_commit(im->mailbox);

    if (r)
        return cli_error(im->name, r, "commit failed"), r;
    im->batch = 0;
    /* Let others in between batches. */
    mailbox_unlock_index(im->mailbox, NULL);
    if (im->verbose)
        fprintf(stderr, "mbctl: %s: %lu messages, %.0f msgs/s\n", im->name, im->count,
                (double)im->count / (now_seconds() - im->start + 1e-9));
    return mailbox_lock_index(im->mailbox, LOCK_EXCLUSIVE);
}

static int importer_add(struct importer *im, const char *buf, size_t len,
                        int64_t internaldate, uint32_t flags, const char *source)
{
    int r = mailbox_append_message(im->mailbox, buf, len, internaldate, flags, NULL);

    if (r) {
        char *what = talloc_asprintf(NULL, "%s: %s", im->name, source);
        cli_error(what, r, NULL);
        talloc_free(what);
        im->failed++;
        return r;
    }
    im->count++;
    im->bytes += len;
    if (++im->batch >= IMPORT_BATCH)
        return importer_commit(im);
    return 0;
}

static int importer_close(struct importer *im)
{
    int r = 0;

    if (im->mailbox) {
        r = mailbox_commit(im->mailbox);
        if (r)
            cli_error(im->name, r, "commit failed");
        mailbox_close(&im->mailbox);
    }
    return r;
}

/* Maildir flags from the ":2,FLAGS" suffix of a file name. */
static uint32_t maildir_flags(const char *fname)
{
    const char *info = strstr(fname, ":2,");
    uint32_t flags = 0;

    if (!info)
        return 0;
    for (const char *p = info + 3; *p; p++) {
        switch (*p) {
        case 'S': flags |= FLAG_SEEN; break;
        case 'R': flags |= FLAG_ANSWERED; break;
        case 'F': flags |= FLAG_FLAGGED; break;
        case 'T': flags |= FLAG_DELETED; break;
        case 'D': flags |= FLAG_DRAFT; break;
        }
    }
    return flags;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of DIR, sorted (so UIDs follow delivery names). */
static char **list_files(void *ctx, const char *dir)
{
    char **names = talloc_array(ctx, char *, 0);
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return names;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        size_t n = talloc_array_length(names);
        names = talloc_realloc(ctx, names, char *, n + 1);
        names[n] = talloc_strdup(names, de->d_name);
    }
    closedir(d);
    qsort(names, talloc_array_length(names), sizeof *names, cmp_str);
    return names;
}

/* Whether BUF starts like a header ("Name:" with no space in the name),
 * which is how a loose file in a mail directory is told from a README. */
static int looks_like_message(const char *buf, size_t len)
{
    size_t i = 0;

    while (i < len && buf[i] > 32 && buf[i] < 127 && buf[i] != ':')
        i++;
    return i > 0 && i < len && buf[i] == ':';
}

/* What a loose file in a mail directory is. */
enum filekind { FILE_OTHER, FILE_MESSAGE, FILE_MBOX };

/* A message, possibly behind one mbox "From " line (skipped: *SKIP_R is
 * its length), or an mbox of several messages, or something else. */
static enum filekind classify(const char *buf, size_t len, size_t *skip_r)
{
    const char *nl;

    *skip_r = 0;
    if (len >= 5 && !memcmp(buf, "From ", 5)) {
        if (memmem(buf, len, "\nFrom ", 6))
            return FILE_MBOX;
        if (!(nl = memchr(buf, '\n', len)))
            return FILE_OTHER;
        *skip_r = (size_t)(nl + 1 - buf);
    }
    return looks_like_message(buf + *skip_r, len - *skip_r) ? FILE_MESSAGE : FILE_OTHER;
}

static enum filekind classify_path(const char *path)
{
    enum filekind k = FILE_OTHER;
    size_t len, skip;
    char *buf;

    if (read_file_follow(NULL, path, &buf, &len) == 0) {
        k = classify(buf, len, &skip);
        talloc_free(buf);
    }
    return k;
}

/* Appends the message files of DIR; LOOSE: DIR is a plain directory of
 * files, where only those that look like mail count (a Maildir's cur/ and
 * new/ hold nothing else, so there every file is a message). */
static int import_files(struct importer *im, void *tmp, const char *dir, int loose)
{
    char **files = list_files(tmp, dir);
    int r = 0;

    for (size_t i = 0; i < talloc_array_length(files) && !r; i++) {
        char *path = talloc_asprintf(tmp, "%s/%s", dir, files[i]);
        struct stat st;
        size_t len, skip = 0;
        char *buf;
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (read_file_follow(tmp, path, &buf, &len) < 0) {
            fprintf(stderr, "mbctl: %s: %s\n", path, strerror(errno));
            im->failed++;
            continue;
        }
        if (loose && classify(buf, len, &skip) != FILE_MESSAGE) {
            /* mbox files become child mailboxes (import -r) */
            if (im->verbose)
                fprintf(stderr, "mbctl: %s: not a message file: skipped\n", path);
            talloc_free(buf);
            continue;
        }
        r = importer_add(im, buf + skip, len - skip, (int64_t)st.st_mtime,
                         maildir_flags(files[i]), path);
        if (r == IMAP_MESSAGE_BADHEADER)
            r = 0;     /* counted and reported; go on with the rest */
        talloc_free(buf);
    }
    return r;
}

static int import_maildir(struct importer *im, const char *dir)
{
    static const char *const subs[] = { "cur", "new" };
    void *tmp = talloc_new(NULL);
    int r = 0;

    for (int s = 0; s < 2 && !r; s++)
        r = import_files(im, tmp, talloc_asprintf(tmp, "%s/%s", dir, subs[s]), 0);
    talloc_free(tmp);
    return r;
}

/* Whether DIR directly holds at least one file that looks like mail. */
static int has_loose_messages(void *ctx, const char *dir)
{
    char **files = list_files(ctx, dir);

    for (size_t i = 0; i < talloc_array_length(files); i++) {
        char *path = talloc_asprintf(ctx, "%s/%s", dir, files[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            classify_path(path) == FILE_MESSAGE)
            return 1;
    }
    return 0;
}

/* Splits an mbox at "From " lines, undoing ">From " quoting. */
static int import_mbox(struct importer *im, const char *path)
{
    char *buf, *p, *end;
    size_t len;
    int r = 0;

    if (read_file_follow(NULL, path, &buf, &len) < 0) {
        fprintf(stderr, "mbctl: %s: %s\n", path, strerror(errno));
        return IMAP_IOERROR;
    }
    if (len < 5 || strncmp(buf, "From ", 5)) {
        fprintf(stderr, "mbctl: %s: not an mbox file (no initial From line)\n", path);
        talloc_free(buf);
        return IMAP_MAILBOX_BADFORMAT;
    }
    p = buf;
    end = buf + len;
    while (p < end && !r) {
        char *body = memchr(p, '\n', (size_t)(end - p));
        char *next, *msg, *out;
        if (!body)
            break;
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
        r = importer_add(im, msg, (size_t)(out - msg), 0, 0, path);
        if (r == IMAP_MESSAGE_BADHEADER)
            r = 0;
        talloc_free(msg);
        p = next;
    }
    talloc_free(buf);
    return r;
}

static int is_maildir(const char *dir)
{
    static const char *const subs[] = { "cur", "new" };
    char sub[4096];
    struct stat st;

    for (int s = 0; s < 2; s++) {
        snprintf(sub, sizeof sub, "%s/%s", dir, subs[s]);
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            return 1;
    }
    return 0;
}

static int import_one(const char *name, const char *path, int verbose,
                      struct importer *total)
{
    struct importer im = { .name = name, .verbose = verbose, .start = now_seconds() };
    struct stat st;
    int r;

    if (stat(path, &st) < 0) {
        fprintf(stderr, "mbctl: %s: %s\n", path, strerror(errno));
        return IMAP_IOERROR;
    }
    if ((r = importer_open(&im)))
        return r;
    if (S_ISDIR(st.st_mode)) {
        /* A Maildir, and loose message files beside cur/ and new/ (some
         * tools leave them there), or a plain directory of messages. */
        void *tmp = talloc_new(NULL);
        int maildir = is_maildir(path), loose = has_loose_messages(tmp, path);
        if (maildir)
            r = import_maildir(&im, path);
        if (loose && !r)
            r = import_files(&im, tmp, path, 1);
        if (!maildir && !loose) {
            fprintf(stderr, "mbctl: %s: neither a Maildir (no cur/ or new/) nor a "
                    "directory of message files; use -r for a tree\n", path);
            r = IMAP_MAILBOX_BADFORMAT;
        }
        talloc_free(tmp);
    } else {
        r = import_mbox(&im, path);
    }
    if (importer_close(&im) && !r)
        r = IMAP_IOERROR;
    total->count += im.count;
    total->bytes += im.bytes;
    total->failed += im.failed;
    if (verbose)
        fprintf(stderr, "mbctl: %s: imported %lu messages from %s\n", name, im.count, path);
    return r;
}

/* -r: PATH is a Maildir++ tree (".A.B" folders) or a directory of
 * Maildirs, mbox files and directories of message files; each folder
 * becomes NAME.FOLDER, and loose message files in PATH itself go to NAME. */
static int import_tree(void *ctx, const char *name, const char *path, int verbose,
                       struct importer *total)
{
    char **entries = list_files(ctx, path);
    int r = 0, ret = 0;

    if (is_maildir(path) || has_loose_messages(ctx, path))
        ret = import_one(name, path, verbose, total);
    for (size_t i = 0; i < talloc_array_length(entries); i++) {
        const char *e = entries[i];
        char *sub = talloc_asprintf(ctx, "%s/%s", path, e);
        char *child;
        struct stat st;
        if (!strcmp(e, "cur") || !strcmp(e, "new") || !strcmp(e, "tmp"))
            continue;
        if (stat(sub, &st) < 0)
            continue;
        /* Loose message files were imported into NAME above. */
        if (S_ISREG(st.st_mode) && classify_path(sub) != FILE_MBOX)
            continue;
        child = talloc_asprintf(ctx, "%s.%s", name, e);
        if (mboxname_validate(child)) {
            fprintf(stderr, "mbctl: %s: folder name '%s' is not a valid mailbox name: skipped\n",
                    sub, child);
            ret = IMAP_MAILBOX_BADNAME;
            continue;
        }
        if (S_ISDIR(st.st_mode))
            r = import_tree(ctx, child, sub, verbose, total);
        else if (S_ISREG(st.st_mode))
            r = import_one(child, sub, verbose, total);
        if (r)
            ret = r;
    }
    return ret;
}

/* Maildir++ names folders ".A.B" inside the root: list them as A.B. */
static int import_maildirpp(void *ctx, const char *name, const char *path,
                            int verbose, struct importer *total, int *found)
{
    DIR *d = opendir(path);
    struct dirent *de;
    int ret = 0;

    *found = 0;
    if (!d)
        return 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] != '.' || !de->d_name[1] || !strcmp(de->d_name, ".."))
            continue;
        char *sub = talloc_asprintf(ctx, "%s/%s", path, de->d_name);
        if (!is_maildir(sub))
            continue;
        char *child = talloc_asprintf(ctx, "%s%s", name, de->d_name);
        *found = 1;
        if (mboxname_validate(child)) {
            fprintf(stderr, "mbctl: %s: '%s' is not a valid mailbox name: skipped\n",
                    sub, child);
            ret = IMAP_MAILBOX_BADNAME;
            continue;
        }
        int r = import_one(child, sub, verbose, total);
        if (r)
            ret = r;
    }
    closedir(d);
    return ret;
}

int mbctl_import(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl import [-v] [-r] MAILBOX PATH\n"
        "Import a Maildir folder, a directory of message files or an mbox\n"
        "file into MAILBOX (created if missing).\n\n"
        "  -r, --recursive   PATH is a Maildir++ tree or a directory of\n"
        "                    Maildirs, mbox files and message directories:\n"
        "                    folders become child mailboxes\n"
"  -v, --verbose     progress: each batch and folder, then the totals\n"
        "  -h, --help        show this help\n\n"
        "Maildir flags (S R F T D) become \\Seen \\Answered \\Flagged\n"
        "\\Deleted \\Draft; the file time becomes the internal date.\n";
    static const struct option opts[] = {
        { "recursive", no_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct importer total = { .start = now_seconds() };
    void *tmp;
    int recursive = 0, c, r;

    while ((c = mbctl_getopt(argc, argv, "rh", opts)) != -1) {
        switch (c) {
        case 'r': recursive = 1; break;
        case 'h': fputs(usage, stdout); return EX_OK;
        default: cli_usage_error("import: bad option");
        }
    }
    if (argc - optind != 2)
        cli_usage_error("import: MAILBOX and PATH are required");
    if (mboxname_validate(argv[optind]))
        return cli_error(argv[optind], IMAP_MAILBOX_BADNAME, NULL);
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
        mailbox_close(&root.mailbox);
        r = import_maildirpp(tmp, argv[optind], argv[optind + 1], ctx->verbose,
                             &total, &found);
        if (is_maildir(argv[optind + 1]) && found) {
            int r2 = import_one(argv[optind], argv[optind + 1], ctx->verbose, &total);
            if (r2)
                r = r2;
        } else if (!found) {
            r = import_tree(tmp, argv[optind], argv[optind + 1], ctx->verbose, &total);
        }
    } else {
        r = import_one(argv[optind], argv[optind + 1], ctx->verbose, &total);
    }
    talloc_free(tmp);
    double secs = now_seconds() - total.start;
    if (ctx->verbose || total.failed)
        fprintf(stderr, "mbctl: imported %lu messages (%.1f MB) in %.2f s: %.0f msgs/s, "
                "%.1f MB/s; %lu failed\n", total.count, (double)total.bytes / 1e6, secs,
                (double)total.count / (secs + 1e-9),
                (double)total.bytes / 1e6 / (secs + 1e-9), total.failed);
    if (!r && total.failed)
        r = IMAP_MESSAGE_BADHEADER;
    return r ? cli_exit_code(r) : EX_OK;
}

int mbctl_append(const struct mbctl_ctx *ctx, int argc, char **argv)
{
    static const char usage[] =
        "Usage: mbctl append MAILBOX [FILE...]\n"
        "Append each FILE (or standard input) as one message; prints the\n"
        "UID of each.\n";
    struct importer im = { .start = now_seconds() };
    int first = mbctl_simple_opts(argc, argv, usage, 1), r, ret = EX_OK;

    im.name = argv[first];
    cli_init(ctx->config);
    if ((r = mailbox_open_iwl(im.name, &im.mailbox)))
        return cli_error(im.name, r, NULL);
    for (int i = first + 1; i < argc || i == first + 1; i++) {
        const char *src = i < argc ? argv[i] : "-";
        char *buf;
        size_t len;
        uint32_t uid;
        if (!strcmp(src, "-"))
            r = read_file_follow(NULL, "/dev/stdin", &buf, &len);
        else
            r = read_file_follow(NULL, src, &buf, &len);
        if (r < 0) {
            fprintf(stderr, "mbctl: %s: %s\n", src, strerror(errno));
            ret = EX_NOINPUT;
            if (i >= argc)
                break;
            continue;
        }
        r = mailbox_append_message(im.mailbox, buf, len, 0, 0, &uid);
        talloc_free(buf);
        if (r) {
            char *what = talloc_asprintf(NULL, "%s: %s", im.name, src);
            ret = cli_error(what, r, NULL);
            talloc_free(what);
        } else {
            printf("%u\n", uid);
        }
        if (i >= argc)
            break;
    }
    if ((r = mailbox_commit(im.mailbox)))
        ret = cli_error(im.name, r, "commit failed");
    mailbox_close(&im.mailbox);
    return ret;
}
