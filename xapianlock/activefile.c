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
    return IMAP_MAILBOX_BADFORMAT;
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
            return IMAP_SEARCH_TIER_UNKNOWN;
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

/* Why the last activefile_tier_dir() of this thread returned NULL: a
 * refused link must not be reported as a tier missing from the
 * configuration. */
static __thread int last_dir_error;

char *activefile_tier_dir(void *ctx, const char *userid, const char *partition,
                          const char *tier)
{
    const char *base = config_searchpartition(NULL, tier, partition);
    char *name, *path;

    last_dir_error = IMAP_SEARCH_TIER_UNKNOWN;
    if (!base)
        return NULL;
    name = talloc_asprintf(NULL, "user.%s", userid);
    path = mboxname_hashed_path(ctx, base, name);
    talloc_free(name);
    if (path && (last_dir_error = path_check_beneath(base, path)))
        TALLOC_FREE(path);
    return path;
}

int activefile_dir_failed(void)
{
    return last_dir_error ? last_dir_error : IMAP_SEARCH_TIER_UNKNOWN;
}

char *activefile_item_dir(void *ctx, const char *userid, const char *partition,
                          const struct activeitem *item)
{
    char *dir = activefile_tier_dir(ctx, userid, partition, item->tier);
    char *path;

    if (!dir)
        return NULL;
    path = talloc_asprintf(ctx, "%s/xapian.%u", dir, item->gen);
    if (item->gen == 0 && access(path, F_OK) < 0) {
        /* Cyrus's name for generation 0. */
        char *cyrus = talloc_asprintf(ctx, "%s/xapian", dir);
        if (access(cyrus, F_OK) == 0)
            path = cyrus;
    }
    talloc_free(dir);
    return path;
}

int activefile_check_partition(const char *userid, const char *partition, const char *tier)
{
    const char *base = config_searchpartition(NULL, tier, partition);
    const char *why = NULL;
    struct stat st;

    if (!base)
        return IMAP_SEARCH_TIER_UNKNOWN;
    if (stat(base, &st) < 0)
        why = strerror(errno);
    else if (!S_ISDIR(st.st_mode))
        why = "not a directory";
    if (!why)
        return 0;
    /* The fix is the operator's: no tool makes a partition's root, so
     * that a disk that is away is never replaced by an empty index. */
    xlog(LOG_ERR, "user %s: search partition %s (%ssearchpartition-%s) is missing "
         "(not mounted?): %s; mount it, or on a new server create it with "
         "mkdir -m 0700 %s", userid, base, tier, partition, why, base);
    return IMAP_SEARCH_CORRUPT;
}

static int dir_is_empty(const char *dir, int *empty_r)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return -1;
    *empty_r = 1;
    while (*empty_r && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            *empty_r = 0;
    closedir(d);
    return 0;
}

int activefile_dir_unbuilt(const char *dir)
{
    int empty = 0;

    return dir_is_empty(dir, &empty) == 0 && empty;
}

int activefile_item_check(void *ctx, const char *userid, const char *partition,
                          const struct activeitem *item, char **dir_r, int *state_r)
{
    char *dir = activefile_item_dir(ctx, userid, partition, item);
    struct stat st;
    int r = 0, empty = 0;

    if (dir_r)
        *dir_r = NULL;
    if (!dir)
        return activefile_dir_failed();
    if (stat(dir, &st) < 0) {
        if (errno != ENOENT) {
            xlog_syserr("stat", dir);
            r = IMAP_SEARCH_CORRUPT;
        } else {
            *state_r = ACTIVE_LOST;
            if (dir_r)
                *dir_r = dir;
            else
                talloc_free(dir);
            return 0;
        }
    } else if (!S_ISDIR(st.st_mode) || access(dir, R_OK | X_OK) < 0 ||
               dir_is_empty(dir, &empty) < 0) {
        xlog(LOG_ERR, "user %s: search database %s cannot be read", userid, dir);
        r = IMAP_SEARCH_CORRUPT;
    }
    if (r) {
        talloc_free(dir);
        return r;
    }
    *state_r = empty ? ACTIVE_UNBUILT : ACTIVE_BUILT;
    if (dir_r)
        *dir_r = dir;
    else
        talloc_free(dir);
    return 0;
}

int activefile_lost(const char *userid, const char *partition,
                    const struct activeitem *item)
{
    char *dir;

    if (activefile_check_partition(userid, partition, item->tier))
        return IMAP_SEARCH_CORRUPT;         /* logged: the partition is away */
    dir = activefile_item_dir(NULL, userid, partition, item);
    xlog(LOG_ERR, "user %s: search database %s (%s:%u) is missing: it is listed in "
         "xapianactive and was never removed (restore it, or drop it with squatter "
         "--forget-lost and index its mail again)", userid, dir ? dir : "?", item->tier,
         item->gen);
    talloc_free(dir);
    return IMAP_SEARCH_CORRUPT;
}

int activefile_item_create(const char *userid, const char *partition,
                           const struct activeitem *item)
{
    char *dir;
    int r;

    if ((r = activefile_check_partition(userid, partition, item->tier)))
        return r;
    if (!(dir = activefile_item_dir(NULL, userid, partition, item)))
        return activefile_dir_failed();
    r = mkdir_p(dir, 0700);
    if (!r)
        r = fsync_parent(dir);
    talloc_free(dir);
    return r;
}

int activefile_lock(void *ctx, const char *userid, int write, struct activefile **af_r)
{
    struct activefile *af = talloc_zero(ctx, struct activefile);
    char *buf, *what;
    size_t len;
    int r;

    *af_r = NULL;
    af->write = write;
    af->userid = talloc_strdup(af, userid);
    af->path = activefile_path(af, userid);
    if (!af->path) {
        talloc_free(af);
        return IMAP_MAILBOX_BADNAME;
    }
    /* Replaced by rename at every change of the list: the lock file
     * re-checks that it locked the file the path names. */
    af->lock = lockfile_new(af, af->path, NULL, LOCKLEVEL_XAPIANACTIVE, O_RDONLY,
                            LOCKFILE_MAY_BE_MISSING);
    what = talloc_asprintf(af, "the %s lock of %s", write ? "WRITE" : "READ",
                           af->path);
    /* No timeout: it is held for one batch's commit or one search. */
    if ((r = lockfile_lock(af->lock, write ? LOCK_EX : LOCK_SH, 0, what))) {
        talloc_free(af);
        return r;
    }
    if (read_file(af, af->path, &buf, &len) < 0) {
        xlog_syserr("read", af->path);
        talloc_free(af);
        return IMAP_IOERROR;
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
        return IMAP_MAILBOX_BADNAME;
    if (read_file(path, path, &buf, &len) < 0) {
        r = errno == ENOENT ? IMAP_NOTFOUND : IMAP_IOERROR;
        if (r == IMAP_IOERROR)
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
        return IMAP_MAILBOX_BADNAME;
    if ((r = mkdir_parents(path, 0700)))
        goto done;
    text = activefile_format(path, items);
    r = file_replace(path, text, strlen(text), fault);
done:
    talloc_free(path);
    return r;
}

/* Highest N of xapian.N / xapian.N.NEW / xapian (N=0) in DIR. */
static unsigned max_gen_in_dir(const char *dir, int *found)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    unsigned max = 0;

    if (!d)
        return 0;
    while ((de = readdir(d))) {
        char *end;
        unsigned long n;
        if (!strcmp(de->d_name, "xapian")) {
            *found = 1;
            continue;
        }
        if (strncmp(de->d_name, "xapian.", 7) || !isdigit((unsigned char)de->d_name[7]))
            continue;
        n = strtoul(de->d_name + 7, &end, 10);
        if ((*end && strcmp(end, ".NEW")) || n > 1000000000UL)
            continue;
        *found = 1;
        if (n > max)
            max = (unsigned)n;
    }
    closedir(d);
    return max;
}

void activefile_remove_unbuilt(const char *userid, const char *partition)
{
    const char *const *tiers = config_tiers(NULL);

    for (size_t t = 0; tiers && tiers[t]; t++) {
        char *dir = activefile_tier_dir(NULL, userid, partition, tiers[t]);
        DIR *d = dir ? opendir(dir) : NULL;
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (strncmp(de->d_name, "xapian", 6))
                continue;
            /* rmdir removes only an empty directory: nothing is lost */
            char *path = talloc_asprintf(dir, "%s/%s", dir, de->d_name);
            if (rmdir(path) == 0)
                xlog(LOG_INFO, "user %s: removed %s: empty and not listed", userid, path);
        }
        if (d)
            closedir(d);
        talloc_free(dir);
    }
}

unsigned activefile_next_gen(const char *userid, const char *partition,
                             const struct activeitem *items)
{
    unsigned max = 0;
    int found = 0;

    for (size_t i = 0; i < talloc_array_length(items); i++) {
        found = 1;
        if (items[i].gen > max)
            max = items[i].gen;
    }
    /* Every configured tier, listed or not: a directory left behind by a
     * crash or an earlier list still holds its name. */
    const char *const *tiers = config_tiers(NULL);
    for (size_t t = 0; tiers && tiers[t]; t++) {
        char *dir = activefile_tier_dir(NULL, userid, partition, tiers[t]);
        if (dir) {
            unsigned m = max_gen_in_dir(dir, &found);
            if (m > max)
                max = m;
        }
        talloc_free(dir);
    }
    return found ? max + 1 : 1;
}
