/* hitinfo.c - see hitinfo.h.
 *
 * Only the page's hits are read, mailbox by mailbox: a mailbox is opened
 * once however many of its messages are on the page, and the search's
 * own locks are gone by then (mailbox locks come before the Xapian ones,
 * docs/LOCKING.md).  What is read is the committed state at that moment,
 * which is what a client asking for flags wants, read without the
 * mailbox's index lock when it can be (mailbox/snapshot.h). */
#include <config.h>

#include <string.h>

#include <glib.h>
#include <jansson.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "mailbox/message.h"
#include "mailbox/snapshot.h"
#include "xapianlock/hitinfo.h"

static const char *const no_keywords[] = { NULL };

static char *cache_str(void *ctx, const struct xap_index_record *rec, int field)
{
    return talloc_strndup(ctx, xap_cacheitem_base(rec, field), xap_cacheitem_size(rec, field));
}

/* In-Reply-To and Message-ID: items 8 and 9 of the cached ENVELOPE
 * (docs/FORMAT.md "Cache fields"); null is "". */
static void envelope_ids(void *ctx, const struct xap_index_record *rec, struct xap_search_hit *h)
{
    json_t *env = json_loadb(xap_cacheitem_base(rec, XAP_CACHE_ENVELOPE),
                             xap_cacheitem_size(rec, XAP_CACHE_ENVELOPE), 0, NULL);
    const char *irt = json_string_value(json_array_get(env, 8));
    const char *mid = json_string_value(json_array_get(env, 9));

    h->in_reply_to = talloc_strdup(ctx, irt ? irt : "");
    h->message_id = talloc_strdup(ctx, mid ? mid : "");
    json_decref(env);
}

/* The names of REC's user flags, NULL-terminated. */
static const char *const *keywords(void *ctx, struct xap_mailbox *mailbox,
                                   const struct xap_index_record *rec)
{
    const char **kw = NULL;
    size_t n = 0;

    for (unsigned i = 0; i < XAP_MAX_USER_FLAGS; i++) {
        const char *name;
        if (!(rec->user_flags[i / 32] & (1u << (i % 32))) ||
            !(name = xap_mailbox_user_flag(mailbox, i)))
            continue;
        kw = talloc_realloc(ctx, kw, const char *, n + 2);
        kw[n++] = talloc_strdup(kw, name);
        kw[n] = NULL;
    }
    return kw ? kw : no_keywords;
}

/* Is REC (of H's UID) still H's message? */
static int same_message(const struct xap_search_hit *h, const struct xap_index_record *rec)
{
    char hex[41];

    message_guid_hex(rec->guid, hex);
    return !(rec->internal_flags & XAP_FLAG_INTERNAL_EXPUNGED) && !strcmp(hex, h->guid);
}

/* Name order, then page order. */
static gint by_mailbox(gconstpointer a, gconstpointer b, gpointer rock)
{
    const struct xap_search_hit *hits = rock;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(hits[i].mailbox, hits[j].mailbox);

    return c ? c : (i > j) - (i < j);
}

/* Opens NAME and reads the records of the hits ORDER[I..J) into RECS
 * (FOUND: still the hit's message).  SNAPSHOT: the mailbox's last commit,
 * read without its index lock (mailbox/snapshot.h), so that a page of
 * hits never waits for a writer holding it over a batch of appends;
 * XAP_IMAP_AGAIN when that cannot be believed.  *MAILBOX_R: NULL for a
 * mailbox deleted since. */
static int read_group(const struct xap_search_hit *hits, const size_t *order, size_t i,
                      size_t j, int snapshot, struct xap_index_record *recs, char *found,
                      struct xap_mailbox **mailbox_r)
{
    const char *name = hits[order[i]].mailbox;
    int r = snapshot ? mailbox_open_snapshot(name, mailbox_r)
                     : xap_mailbox_open_irl(name, mailbox_r);

    memset(found, 0, j - i);
    if (r == XAP_IMAP_MAILBOX_NONEXISTENT)
        return 0;
    for (size_t k = i; k < j && !r; k++) {
        const struct xap_search_hit *h = &hits[order[k]];
        if (!(r = xap_mailbox_find_uid(*mailbox_r, h->uid, &recs[k - i])))
            found[k - i] = same_message(h, &recs[k - i]);
        else if (r == XAP_IMAP_NOTFOUND)
            r = 0;
    }
    if (r)
        xap_mailbox_close(mailbox_r);
    return r;
}

int hitinfo_visit(const struct xap_search_hit *hits, size_t n, unsigned flags,
                  hitinfo_fn *fn, void *rock)
{
    int snapshot = !!(flags & HITINFO_RECORDS_ONLY);
    void *ctx = talloc_new(NULL);
    size_t *order = talloc_array(ctx, size_t, n);
    struct xap_index_record *recs = talloc_array(ctx, struct xap_index_record, n);
    char *found = talloc_array(ctx, char, n);
    int r = 0;

    for (size_t i = 0; i < n; i++)
        order[i] = i;
    g_qsort_with_data(order, (gint)n, sizeof *order, by_mailbox, (gpointer)hits);
    for (size_t i = 0, j; i < n && !r; i = j) {
        struct xap_mailbox *mailbox = NULL;
        for (j = i + 1; j < n && !strcmp(hits[order[j]].mailbox, hits[order[i]].mailbox); j++)
            ;
        r = read_group(hits, order, i, j, snapshot, recs, found, &mailbox);
        if (r == XAP_IMAP_AGAIN && snapshot)
            r = read_group(hits, order, i, j, 0, recs, found, &mailbox);
        for (size_t k = i; k < j && !r; k++)
            r = found[k - i] ? fn(rock, mailbox, &recs[k - i], order[k])
                             : fn(rock, NULL, NULL, order[k]);
        xap_mailbox_close(&mailbox);
    }
    talloc_free(ctx);
    return r;
}

struct fill {
    void *ctx;
    struct xap_search_hit *hits;
    char *gone;
};

static int fill_one(void *rock, struct xap_mailbox *mailbox, struct xap_index_record *rec, size_t i)
{
    struct fill *f = rock;
    struct xap_search_hit *h = &f->hits[i];
    int r;

    if (!mailbox) {
        f->gone[i] = 1;
        return 0;
    }
    if ((r = xap_mailbox_cacherecord(mailbox, rec)))
        return r;
    h->to = cache_str(f->ctx, rec, XAP_CACHE_TO);
    h->cc = cache_str(f->ctx, rec, XAP_CACHE_CC);
    envelope_ids(f->ctx, rec, h);
    h->size = rec->size;
    h->internaldate = rec->internaldate;
    h->flags = rec->system_flags;
    h->keywords = keywords(f->ctx, mailbox, rec);
    h->path = xap_mailbox_message_path(f->ctx, mailbox, h->uid);
    return 0;
}

void hitinfo_blank(struct xap_search_hit *hits, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct xap_search_hit *h = &hits[i];
        h->to = h->cc = h->message_id = h->in_reply_to = h->path = "";
        h->size = 0;
        h->internaldate = 0;
        h->flags = 0;
        h->keywords = no_keywords;
    }
}

int hitinfo_fill(void *ctx, struct xap_search_hit *hits, size_t *n_r)
{
    struct fill f = { ctx, hits, talloc_zero_array(NULL, char, *n_r ? *n_r : 1) };
    size_t k = 0;
    int r = hitinfo_visit(hits, *n_r, HITINFO_RECORDS_ONLY, fill_one, &f);

    for (size_t i = 0; i < *n_r; i++)
        if (!f.gone[i])
            hits[k++] = hits[i];
    *n_r = k;
    talloc_free(f.gone);
    return r;
}

/* xap_search_hit_open's visit: the descriptor of the one hit. */
static int open_one(void *rock, struct xap_mailbox *mailbox, struct xap_index_record *rec, size_t i)
{
    (void)i;
    return mailbox ? xap_mailbox_open_message(mailbox, rec->uid, rock) : XAP_IMAP_NOTFOUND;
}

int xap_search_hit_open(struct xap_search_session *ss, const struct xap_search_hit *hit, int *fd_r)
{
    (void)ss;                     /* for the API's shape: hits are a session's */
    *fd_r = -1;
    if (!hit || !hit->mailbox || !hit->guid)
        return XAP_IMAP_INVALID_ARGUMENT;
    return hitinfo_visit(hit, 1, 0, open_one, fd_r);
}
