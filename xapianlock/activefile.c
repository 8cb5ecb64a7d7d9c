/* activefile.c - see activefile.h. */
#include <config.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/atomicfile.h"
#include "common/config.h"
#include "common/lockfile.h"
#include "common/mboxname.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/guiddb.h"
#include "xapianlock/activefile.h"

#define MAX_ITEMS 1000

int activefile_parse(void *ctx, const char *name, const char *buf, size_t len,
                     struct activeitem **items_r)
{
    struct activeitem *items = talloc_array(ctx, struct activeitem, 0);
    size_t i = 0;

    *items_r = NULL;
    while (i < len) {
        size_t start, colon = 0;
        unsigned long gen;
        char *end;

        while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t'))
            i++;
        if (i == len)
            break;
        start = i;
        while (i < len && buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\t') {
            if (buf[i] == ':' && !colon)
                colon = i;
            i++;
        }
        char *tok = talloc_strndup(items, buf + start, i - start);
        if (strlen(tok) != i - start || !colon || colon == start || colon + 1 == i)
            goto bad;
        for (size_t k = start; k < colon; k++)
            if (!islower((unsigned char)buf[k]) && !isdigit((unsigned char)buf[k]))
                goto bad;
        if (!isdigit((unsigned char)buf[colon + 1]))
            goto bad;
        errno = 0;
        gen = strtoul(tok + (colon - start) + 1, &end, 10);
        if (errno || *end || gen > 1000000000UL)
            goto bad;
        size_t n = talloc_array_length(items);
        if (n == MAX_ITEMS)
            goto bad;
        items = talloc_realloc(ctx, items, struct activeitem, n + 1);
        items[n].tier = talloc_strndup(items, buf + start, colon - start);
        items[n].gen = (unsigned)gen;
        talloc_free(tok);
    }
    if (talloc_array_length(items) == 0)
        goto bad;
    *items_r = items;
    return 0;
bad:
    xlog(LOG_ERR, "%s: not a list of TIER:N items", name);
    talloc_free(items);
    return XAP_IMAP_MAILBOX_BADFORMAT;
}

char *activefile_format(void *ctx, const struct activeitem *items)
{
    char *s = talloc_strdup(ctx, "");

    for (size_t i = 0; i < talloc_array_length(items); i++)
        s = talloc_asprintf_append_buffer(s, "%s%s:%u", i ? " " : "",
                                          items[i].tier, items[i].gen);
    return talloc_asprintf_append_buffer(s, "\n");
}

int activefile_check_tiers(const char *userid, const char *partition,
                           const struct activeitem *items)
{
    for (size_t i = 0; i < talloc_array_length(items); i++) {
        if (!config_searchpartition(NULL, items[i].tier, partition)) {
            xlog(LOG_ERR, "user %s: xapianactive names tier '%s', which has no "
                 "%ssearchpartition-%s in the configuration", userid, items[i].tier,
                 items[i].tier, partition);
            return XAP_IMAP_SEARCH_TIER_UNKNOWN;
        }
    }
    return 0;
}

char *activefile_path(void *ctx, const char *userid)
{
    char *dir = user_config_dir(NULL, userid);
    char *path = dir ? talloc_asprintf(ctx, "%s/xapianactive", dir) : NULL;

    talloc_free(dir);
    return path;
}

/* The turnstile: an EXCLUSIVE flock on the user's config directory, held
 * by a locker of xapianactive only while it waits for that lock.  flock
 * keeps no queue: an indexer that releases WRITE after a batch and asks
 * for it again for the next one gets it back before a woken search runs,
 * so a search waited for batch after batch (measured: 10 s while 10,000
 * messages were indexed).  The waiter that holds the turnstile is served
 * next; the others queue on the turnstile behind it.  The directory is
 * there as long as xapianactive is, and is only moved or removed under
 * the EXCLUSIVE Xapian namelock, which no turnstile holder can be
 * waiting beside (they hold it SHARED).  NOTFOUND: no directory, so no
 * xapianactive either; the caller finds that out itself. */
static int turnstile_enter(void *ctx, const char *userid, struct lockfile **lf_r)
{
    char *dir = user_config_dir(ctx, userid);
    struct lockfile *lf;
    int r;

    *lf_r = NULL;
    if (!dir)
        return XAP_IMAP_MAILBOX_BADNAME;
    lf = lockfile_new(ctx, dir, NULL, LOCKLEVEL_XAPIAN_TURNSTILE, O_RDONLY | O_DIRECTORY,
                      LOCKFILE_MAY_BE_MISSING | LOCKFILE_NEVER_REPLACED);
    r = lockfile_lock(lf, LOCK_EX, 0, talloc_asprintf(lf, "the turnstile of %s's "
                                                      "xapianactive", userid));
    if (r) {
        talloc_free(lf);
        return r == XAP_IMAP_NOTFOUND ? 0 : r;
    }
    *lf_r = lf;
    return 0;
}

int activefile_lock(void *ctx, const char *userid, int write, struct activefile **af_r)
{
    struct activefile *af = talloc_zero(ctx, struct activefile);
    struct lockfile *turnstile = NULL;
    char *buf, *what;
    size_t len;
    int r;

    *af_r = NULL;
    af->write = write;
    af->userid = talloc_strdup(af, userid);
    af->path = activefile_path(af, userid);
    if (!af->path) {
        talloc_free(af);
        return XAP_IMAP_MAILBOX_BADNAME;
    }
    /* Replaced by rename at every change of the list: the lock file
     * re-checks that it locked the file the path names. */
    af->lock = lockfile_new(af, af->path, NULL, LOCKLEVEL_XAPIANACTIVE, O_RDONLY,
                            LOCKFILE_MAY_BE_MISSING);
    what = talloc_asprintf(af, "the %s lock of %s", write ? "WRITE" : "READ",
                           af->path);
    /* No timeout: it is held for one batch's commit or one search. */
    if ((r = turnstile_enter(af, userid, &turnstile))) {
        talloc_free(af);
        return r;
    }
    r = lockfile_lock(af->lock, write ? LOCK_EX : LOCK_SH, 0, what);
    talloc_free(turnstile);           /* unlocks: the next waiter's turn */
    if (r) {
        talloc_free(af);
        return r;
    }
    if (read_file(af, af->path, &buf, &len) < 0) {
        xlog_syserr("read", af->path);
        talloc_free(af);
        return XAP_IMAP_IOERROR;
    }
    if ((r = activefile_parse(af, af->path, buf, len, &af->items))) {
        talloc_free(af);
        return r;
    }
    *af_r = af;
    return 0;
}

void activefile_unlock(struct activefile **afp)
{
    TALLOC_FREE(*afp);
}

int activefile_read(void *ctx, const char *userid, struct activeitem **items_r)
{
    char *path = activefile_path(NULL, userid);
    char *buf;
    size_t len;
    int r;

    *items_r = NULL;
    if (!path)
        return XAP_IMAP_MAILBOX_BADNAME;
    if (read_file(path, path, &buf, &len) < 0) {
        r = errno == ENOENT ? XAP_IMAP_NOTFOUND : XAP_IMAP_IOERROR;
        if (r == XAP_IMAP_IOERROR)
            xlog_syserr("read", path);
    } else {
        r = activefile_parse(ctx, path, buf, len, items_r);
    }
    talloc_free(path);
    return r;
}

int activefile_write(const char *userid, const struct activeitem *items,
                     const char *fault)
{
    char *path = activefile_path(NULL, userid);
    char *text;
    int r;

    if (!path)
        return XAP_IMAP_MAILBOX_BADNAME;
    if ((r = mkdir_parents(path, 0700)))
        goto done;
    text = activefile_format(path, items);
    r = file_replace(path, text, strlen(text), fault);
done:
    talloc_free(path);
    return r;
}
