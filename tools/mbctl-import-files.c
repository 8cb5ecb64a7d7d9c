/* mbctl-import-files.c - what the files of a mail directory are, for
 * mbctl import (mbctl-append.c): a directory's sorted listing, a Maildir
 * file name's flags, and whether a file is a message, an mbox, or
 * neither.  Nothing here touches a mailbox; all of it may run in the
 * import's worker threads. */
#include <config.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "tools/mbctl.h"

/* Maildir flags from the ":2,FLAGS" suffix of a file name. */
uint32_t maildir_flags(const char *fname)
{
    const char *info = strstr(fname, ":2,");
    uint32_t flags = 0;

    if (!info)
        return 0;
    for (const char *p = info + 3; *p; p++) {
        switch (*p) {
        case 'S': flags |= XAP_FLAG_SEEN; break;
        case 'R': flags |= XAP_FLAG_ANSWERED; break;
        case 'F': flags |= XAP_FLAG_FLAGGED; break;
        case 'T': flags |= XAP_FLAG_DELETED; break;
        case 'D': flags |= XAP_FLAG_DRAFT; break;
        }
    }
    return flags;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry of D but dot files, sorted (so UIDs follow delivery
 * names); closes D.  The names share one buffer and the array grows by
 * doubling: a folder of a million messages is listed in two allocations
 * of about 60 MB, not a million small ones that stay live all through the
 * import and scatter the heap (every later malloc then searched longer). */
static char **list_dir(void *ctx, DIR *d)
{
    char *pool = NULL, **names;
    size_t *offs = NULL, n = 0, cap = 0, used = 0, room = 0;
    struct dirent *de;

    while (d && (de = readdir(d))) {
        size_t len = strlen(de->d_name) + 1;
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            offs = talloc_realloc(ctx, offs, size_t, cap);
        }
        if (used + len > room) {
            room = room ? 2 * room : 16384;
            while (room < used + len)
                room *= 2;
            pool = talloc_realloc(ctx, pool, char, room);
        }
        memcpy(pool + used, de->d_name, len);
        offs[n++] = used;
        used += len;
    }
    if (d)
        closedir(d);
    names = talloc_array(ctx, char *, n);
    if (pool)
        talloc_steal(names, pool);
    for (size_t i = 0; i < n; i++)
        names[i] = pool + offs[i];
    talloc_free(offs);
    qsort(names, n, sizeof *names, cmp_str);
    return names;
}

/* The entries of the directory open as DFD (read from its start). */
char **list_at(void *ctx, int dfd)
{
    int fd = dup(dfd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);

    if (!d && fd >= 0)
        close(fd);
    if (d)
        rewinddir(d);       /* the duplicate shares DFD's position */
    return list_dir(ctx, d);
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

/* The length of BUF's leading mbox envelope line ("From SENDER DATE\n",
 * which mail copied out of an mbox keeps, and which no message header
 * can be), 0 when there is none.  *DATE_R: its asctime(3) date, read as
 * UTC (the line says nothing of the zone), or 0 when it has none. */
size_t envelope_line(const char *buf, size_t len, int64_t *date_r)
{
    const char *nl, *sp;
    char line[128], *end;
    struct tm tm;
    size_t n;

    *date_r = 0;
    if (len < 5 || memcmp(buf, "From ", 5) || !(nl = memchr(buf, '\n', len)))
        return 0;
    if ((sp = memchr(buf + 5, ' ', (size_t)(nl - buf - 5)))) {
        n = (size_t)(nl - sp - 1);
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, sp + 1, n);
        line[n] = '\0';
        memset(&tm, 0, sizeof tm);
        end = strptime(line, "%a %b %e %H:%M:%S %Y", &tm);
        if (end && strspn(end, " \r") == strlen(end))
            *date_r = (int64_t)timegm(&tm);
    }
    return (size_t)(nl + 1 - buf);
}

/* A message, possibly behind one mbox envelope line (skipped: *SKIP_R is
 * its length, *DATE_R its date), or an mbox of several messages, or
 * something else. */
enum filekind classify(const char *buf, size_t len, size_t *skip_r,
                              int64_t *date_r)
{
    *skip_r = envelope_line(buf, len, date_r);
    if (*skip_r && memmem(buf, len, "\nFrom ", 6))
        return FILE_MBOX;
    if (len >= 5 && !memcmp(buf, "From ", 5) && !*skip_r)
        return FILE_OTHER;      /* a "From " line and nothing else */
    return looks_like_message(buf + *skip_r, len - *skip_r) ? FILE_MESSAGE : FILE_OTHER;
}

int is_maildir_sub(const char *name)
{
    return !strcmp(name, "cur") || !strcmp(name, "new") || !strcmp(name, "tmp");
}
