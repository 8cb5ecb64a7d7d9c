/* uidset.c - see uidset.h.  Adding in ascending order (the common case:
 * indexing walks a mailbox by UID) extends the last range in O(1). */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapianlock/uidset.h"

struct uidset *uidset_new(void *ctx)
{
    struct uidset *set = talloc_zero(ctx, struct uidset);
    set->r = talloc_array(set, struct uidrange, 0);
    return set;
}

static size_t nranges(const struct uidset *set)
{
    return talloc_array_length(set->r);
}

void uidset_add_range(struct uidset *set, uint32_t first, uint32_t last)
{
    size_t n = nranges(set), lo = 0, hi;

    if (first == 0 || first > last)
        return;
    /* Fast path: at or after the end. */
    if (n && first <= (uint64_t)set->r[n - 1].last + 1 && first >= set->r[n - 1].first) {
        if (last > set->r[n - 1].last)
            set->r[n - 1].last = last;
        return;
    }
    if (!n || first > (uint64_t)set->r[n - 1].last + 1) {
        set->r = talloc_realloc(set, set->r, struct uidrange, n + 1);
        set->r[n].first = first;
        set->r[n].last = last;
        return;
    }
    /* General case: find the ranges that touch [first, last] and merge. */
    while (lo < n && (uint64_t)set->r[lo].last + 1 < first)
        lo++;
    hi = lo;
    while (hi < n && set->r[hi].first <= (uint64_t)last + 1)
        hi++;
    if (lo == hi) {
        set->r = talloc_realloc(set, set->r, struct uidrange, n + 1);
        memmove(&set->r[lo + 1], &set->r[lo], (n - lo) * sizeof *set->r);
        set->r[lo].first = first;
        set->r[lo].last = last;
        return;
    }
    if (set->r[lo].first < first)
        first = set->r[lo].first;
    if (set->r[hi - 1].last > last)
        last = set->r[hi - 1].last;
    set->r[lo].first = first;
    set->r[lo].last = last;
    memmove(&set->r[lo + 1], &set->r[hi], (n - hi) * sizeof *set->r);
    set->r = talloc_realloc(set, set->r, struct uidrange, n - (hi - lo - 1));
}

void uidset_add(struct uidset *set, uint32_t uid)
{
    uidset_add_range(set, uid, uid);
}

void uidset_union(struct uidset *set, const struct uidset *other)
{
    for (size_t i = 0; i < nranges(other); i++)
        uidset_add_range(set, other->r[i].first, other->r[i].last);
}

/* The index of the range holding UID, or -1. */
static long find_range(const struct uidset *set, uint32_t uid)
{
    size_t lo = 0, hi = nranges(set);

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (set->r[mid].last < uid)
            lo = mid + 1;
        else if (set->r[mid].first > uid)
            hi = mid;
        else
            return (long)mid;
    }
    return -1;
}

void uidset_remove(struct uidset *set, uint32_t uid)
{
    long i = find_range(set, uid);
    size_t n = nranges(set);
    struct uidrange *r;

    if (i < 0)
        return;
    r = &set->r[i];
    if (r->first == r->last) {
        memmove(r, r + 1, (n - (size_t)i - 1) * sizeof *r);
        if (n == 1) {          /* talloc_realloc to 0 would free the array */
            talloc_free(set->r);
            set->r = talloc_array(set, struct uidrange, 0);
        } else {
            set->r = talloc_realloc(set, set->r, struct uidrange, n - 1);
        }
    } else if (uid == r->first) {
        r->first++;
    } else if (uid == r->last) {
        r->last--;
    } else {
        /* split: [first, uid - 1] and [uid + 1, last] */
        set->r = talloc_realloc(set, set->r, struct uidrange, n + 1);
        memmove(&set->r[i + 1], &set->r[i], (n - (size_t)i) * sizeof *set->r);
        set->r[i].last = uid - 1;
        set->r[i + 1].first = uid + 1;
    }
}

int uidset_contains(const struct uidset *set, uint32_t uid)
{
    return find_range(set, uid) >= 0;
}

int uidset_covers(const struct uidset *set, uint32_t first, uint32_t last)
{
    long i;

    if (last < first)
        return 1;
    /* ranges are disjoint and never adjacent: one range must hold them all */
    i = find_range(set, first);
    return i >= 0 && set->r[i].last >= last;
}

size_t uidset_count(const struct uidset *set)
{
    size_t n = 0;
    for (size_t i = 0; i < nranges(set); i++)
        n += (size_t)(set->r[i].last - set->r[i].first) + 1;
    return n;
}

uint32_t uidset_first_missing(const struct uidset *set)
{
    return nranges(set) && set->r[0].first == 1 ? set->r[0].last + 1 : 1;
}

uint32_t uidset_max(const struct uidset *set)
{
    size_t n = nranges(set);
    return n ? set->r[n - 1].last : 0;
}

int uidset_parse(void *ctx, const char *text, size_t len, struct uidset **set_r)
{
    struct uidset *set = uidset_new(ctx);
    char *copy = talloc_strndup(set, text, len), *p = copy, *end;

    *set_r = NULL;
    if (strlen(copy) != len)
        goto bad;
    while (*p) {
        unsigned long first, last;
        if (!isdigit((unsigned char)*p))
            goto bad;
        errno = 0;
        first = strtoul(p, &end, 10);
        last = first;
        if (*end == '-') {
            if (!isdigit((unsigned char)end[1]))
                goto bad;
            last = strtoul(end + 1, &end, 10);
        }
        if (errno || first == 0 || first > last || last > UINT32_MAX)
            goto bad;
        uidset_add_range(set, (uint32_t)first, (uint32_t)last);
        if (*end == ',' && end[1])
            end++;
        else if (*end)
            goto bad;
        p = end;
    }
    talloc_free(copy);
    *set_r = set;
    return 0;
bad:
    talloc_free(set);
    return XAP_IMAP_MAILBOX_BADFORMAT;
}

char *uidset_format(void *ctx, const struct uidset *set)
{
    char *s = talloc_strdup(ctx, "");

    for (size_t i = 0; i < nranges(set); i++) {
        if (set->r[i].first == set->r[i].last)
            s = talloc_asprintf_append_buffer(s, "%s%u", i ? "," : "", set->r[i].first);
        else
            s = talloc_asprintf_append_buffer(s, "%s%u-%u", i ? "," : "",
                                              set->r[i].first, set->r[i].last);
    }
    return s;
}
