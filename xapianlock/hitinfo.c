/* hitinfo.c - see hitinfo.h.
 *
 * Only the page's hits are read, mailbox by mailbox: a mailbox is opened
 * once however many of its messages are on the page, and the search's
 * own locks are gone by then (mailbox locks come before the Xapian ones,
 * docs/LOCKING.md).  What is read is the committed state at that moment,
 * which is what a client asking for flags wants. */
#include <config.h>

#include <string.h>

#include <glib.h>
#include <jansson.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "mailbox/message.h"
#include "xapianlock/hitinfo.h"

static const char *const no_keywords[] = { NULL };

static char *cache_str(void *ctx, const struct index_record *rec, int field)
{
    return talloc_strndup(ctx, cacheitem_base(rec, field), cacheitem_size(rec, field));
}

/* In-Reply-To and Message-ID: items 8 and 9 of the cached ENVELOPE
 * (docs/FORMAT.md "Cache fields"); null is "". */
static void envelope_ids(void *ctx, const struct index_record *rec, struct search_hit *h)
{
    json_t *env = json_loadb(cacheitem_base(rec, CACHE_ENVELOPE),
                             cacheitem_size(rec, CACHE_ENVELOPE), 0, NULL);
    const char *irt = json_string_value(json_array_get(env, 8));
    const char *mid = json_string_value(json_array_get(env, 9));

    h->in_reply_to = talloc_strdup(ctx, irt ? irt : "");
    h->message_id = talloc_strdup(ctx, mid ? mid : "");
    json_decref(env);
}

/* The names of REC's user flags, NULL-terminated. */
static const char *const *keywords(void *ctx, struct mailbox *mailbox,
                                   const struct index_record *rec)
{
    const char **kw = NULL;
    size_t n = 0;

    for (unsigned i = 0; i < MAX_USER_FLAGS; i++) {
        const char *name;
        if (!(rec->user_flags[i / 32] & (1u << (i % 32))) ||
            !(name = mailbox_user_flag(mailbox, i)))
            continue;
        kw = talloc_realloc(ctx, kw, const char *, n + 2);
        kw[n++] = talloc_strdup(kw, name);
        kw[n] = NULL;
    }
    return kw ? kw : no_keywords;
}

/* IMAP_NOTFOUND when H's UID is no longer live in MAILBOX. */
static int fill_one(void *ctx, struct mailbox *mailbox, struct search_hit *h)
{
    struct index_record rec;
    int r;

    if ((r = mailbox_find_uid(mailbox, h->uid, &rec)))
        return r;
    if (rec.internal_flags & FLAG_INTERNAL_EXPUNGED)
        return IMAP_NOTFOUND;
    if ((r = mailbox_cacherecord(mailbox, &rec)))
        return r;
    h->to = cache_str(ctx, &rec, CACHE_TO);
    h->cc = cache_str(ctx, &rec, CACHE_CC);
    envelope_ids(ctx, &rec, h);
    h->size = rec.size;
    h->internaldate = rec.internaldate;
    h->flags = rec.system_flags;
    h->keywords = keywords(ctx, mailbox, &rec);
    h->path = mailbox_message_path(ctx, mailbox, h->uid);
    return 0;
}

/* Page order, grouped by mailbox. */
static gint by_mailbox(gconstpointer a, gconstpointer b, gpointer rock)
{
    const struct search_hit *hits = rock;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(hits[i].mailbox, hits[j].mailbox);

    return c ? c : (i > j) - (i < j);
}

int hitinfo_fill(void *ctx, struct search_hit *hits, char **uniqueids, size_t *n_r)
{
    size_t n = *n_r, *order = talloc_array(NULL, size_t, n), k = 0;
    char *gone = talloc_zero_array(NULL, char, n ? n : 1);
    int r = 0;

    for (size_t i = 0; i < n; i++)
        order[i] = i;
    g_qsort_with_data(order, (gint)n, sizeof *order, by_mailbox, hits);
    for (size_t i = 0; i < n && !r;) {
        const char *name = hits[order[i]].mailbox;
        size_t end = i;
        struct mailbox *mailbox = NULL;
        while (end < n && !strcmp(hits[order[end]].mailbox, name))
            end++;
        r = mailbox_open_irl(name, &mailbox);
        if (!r && strcmp(mailbox_uniqueid(mailbox), uniqueids[order[i]]))
            r = IMAP_MAILBOX_NONEXISTENT;   /* another mailbox has the name now */
        for (; i < end; i++) {
            size_t h = order[i];
            if (r == IMAP_MAILBOX_NONEXISTENT) {
                gone[h] = 1;
                continue;
            }
            if (!r && (r = fill_one(ctx, mailbox, &hits[h])) == IMAP_NOTFOUND) {
                gone[h] = 1;
                r = 0;
            }
        }
        if (r == IMAP_MAILBOX_NONEXISTENT)
            r = 0;
        mailbox_close(&mailbox);
    }
    for (size_t i = 0; i < n; i++)
        if (!gone[i]) {
            hits[k] = hits[i];
            uniqueids[k++] = uniqueids[i];
        }
    *n_r = k;
    talloc_free(order);
    talloc_free(gone);
    return r;
}

int search_hit_open(struct search_session *ss, const struct search_hit *hit, int *fd_r)
{
    struct mailbox *mailbox = NULL;
    struct index_record rec;
    char hex[41];
    int r;

    (void)ss;                     /* for the API's shape: hits are a session's */
    *fd_r = -1;
    if (!hit || !hit->mailbox || !hit->guid)
        return IMAP_INVALID_ARGUMENT;
    if ((r = mailbox_open_irl(hit->mailbox, &mailbox)))
        return r == IMAP_MAILBOX_NONEXISTENT ? IMAP_NOTFOUND : r;
    /* The GUID tells the message from another one that now has the name
     * and UID (the mailbox was deleted and created again). */
    r = mailbox_find_uid(mailbox, hit->uid, &rec);
    if (!r) {
        message_guid_hex(rec.guid, hex);
        if (strcmp(hex, hit->guid))
            r = IMAP_NOTFOUND;
    }
    if (!r)
        r = mailbox_open_message(mailbox, hit->uid, fd_r);
    mailbox_close(&mailbox);
    return r;
}
