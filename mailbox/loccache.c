/* loccache.c - see loccache.h. */
#include <config.h>

#include <string.h>

#include <glib.h>
#include <talloc.h>

#include "mailbox/loccache.h"

/* 28 bytes a location: the mailbox as an index into the names. */
struct row {
    uint8_t guid[XAP_MESSAGE_GUID_SIZE];
    uint32_t mailbox;
    uint32_t uid;
};
_Static_assert(sizeof(struct row) == LOCCACHE_ROW_BYTES, "a row is LOCCACHE_ROW_BYTES");

struct loccache {
    struct row *rows;           /* talloc array, used up to nrows */
    size_t nrows;
    char **names;               /* the uniqueids, talloc array */
    GHashTable *ids;            /* uniqueid -> its index + 1 */
    size_t last;                /* the index name_index returned last */
};

static int destroy(struct loccache *c)
{
    g_hash_table_destroy(c->ids);
    return 0;
}

struct loccache *loccache_new(void *ctx, size_t hint)
{
    struct loccache *c = talloc_zero(ctx, struct loccache);

    if (!c)
        return NULL;
    c->rows = talloc_array(c, struct row, hint ? hint : 1);
    c->names = talloc_array(c, char *, 0);
    c->ids = g_hash_table_new(g_str_hash, g_str_equal);
    talloc_set_destructor(c, destroy);
    if (!c->rows || !c->names) {
        talloc_free(c);
        return NULL;
    }
    return c;
}

/* The index of UNIQUEID among C's names, added when new; -1 when out of
 * memory. */
static long name_index(struct loccache *c, const char *uniqueid)
{
    size_t n = talloc_array_length(c->names);
    void *v;
    char **names;

    /* Most mail is in a few mailboxes: the last answer first (hashing
     * each row's uniqueid was a third of the cache's building). */
    if (n && !strcmp(c->names[c->last], uniqueid))
        return (long)c->last;
    if ((v = g_hash_table_lookup(c->ids, uniqueid)))
        return (long)(c->last = GPOINTER_TO_SIZE(v) - 1);
    if (!(names = talloc_realloc(c, c->names, char *, n + 1)))
        return -1;
    c->names = names;
    if (!(names[n] = talloc_strdup(c->names, uniqueid)))
        return -1;
    g_hash_table_insert(c->ids, names[n], GSIZE_TO_POINTER(n + 1));
    c->last = n;
    return (long)n;
}

int loccache_add(struct loccache *c, const uint8_t guid[XAP_MESSAGE_GUID_SIZE],
                 const char *uniqueid, uint32_t uid)
{
    long m = name_index(c, uniqueid);
    size_t cap = talloc_array_length(c->rows);

    if (m < 0)
        return XAP_IMAP_INTERNAL;
    if (c->nrows == cap) {
        /* by half: the rows are many, and the bound is on their memory */
        struct row *rows = talloc_realloc(c, c->rows, struct row, cap + cap / 2 + 1024);
        if (!rows)
            return XAP_IMAP_INTERNAL;
        c->rows = rows;
    }
    memcpy(c->rows[c->nrows].guid, guid, XAP_MESSAGE_GUID_SIZE);
    c->rows[c->nrows].mailbox = (uint32_t)m;
    c->rows[c->nrows++].uid = uid;
    return 0;
}

size_t loccache_rows(const struct loccache *c)
{
    return c->nrows;
}

void loccache_trim(struct loccache *c)
{
    struct row *rows;

    if (c->nrows < talloc_array_length(c->rows) &&
        (rows = talloc_realloc(c, c->rows, struct row, c->nrows ? c->nrows : 1)))
        c->rows = rows;
}

static int below(const struct loccache *c, size_t at, const uint8_t *guid)
{
    return memcmp(c->rows[at].guid, guid, XAP_MESSAGE_GUID_SIZE) < 0;
}

/* The first row at or after FROM whose GUID is not below GUID.  The
 * GUIDs a search looks up ascend and are often near each other (the
 * searches that use the cache have hits for an eighth of the rows or
 * more): steps of 1, 2, 4... from FROM find the range, a binary search
 * ends in it, some 2 log2(distance) comparisons instead of log2(rows). */
static size_t lower_bound(const struct loccache *c, size_t from, const uint8_t *guid)
{
    size_t lo = from, hi = from, step = 1;

    while (hi < c->nrows && below(c, hi, guid)) {
        lo = hi + 1;
        hi = step < c->nrows - hi ? hi + step : c->nrows;
        step *= 2;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (below(c, mid, guid))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int loccache_lookup(const struct loccache *c, const uint8_t *const *guids, size_t n,
                    int (*cb)(void *rock, size_t i, const char *uniqueid, uint32_t uid),
                    void *rock)
{
    size_t at = 0;
    int r;

    for (size_t i = 0; i < n && at < c->nrows; i++) {
        /* the GUIDs ascend: each search starts where the last ended */
        at = lower_bound(c, at, guids[i]);
        for (; at < c->nrows && !memcmp(c->rows[at].guid, guids[i], XAP_MESSAGE_GUID_SIZE);
             at++)
            if ((r = cb(rock, i, c->names[c->rows[at].mailbox], c->rows[at].uid)))
                return r;
    }
    return 0;
}
