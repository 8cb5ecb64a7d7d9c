/* index-docs.c - the Xapian document of a message (docs/FORMAT.md
 * "Xapian document schema") and the pipeline that builds documents in a
 * worker thread while the calling thread adds them to a database.  No
 * lock is taken here: the callers (index.c, index-side.c,
 * compact-reindex.c) hold what their database needs. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/util.h"
#include "common/xlog.h"
#include "cwrap/xapian_wrap.h"
#include "mailbox/guidorder.h"
#include "mailbox/message.h"
#include "xapianlock/index.h"
#include "xapianlock/index-private.h"
#include "xapianlock/schema.h"

/* ------------------------------------------------------------ documents */

static const char *const kind_prefix[] = {
    [MESSAGE_TEXT_FROM] = SCHEMA_FROM,
    [MESSAGE_TEXT_TO] = SCHEMA_TO,
    [MESSAGE_TEXT_CC] = SCHEMA_CC,
    [MESSAGE_TEXT_BCC] = SCHEMA_BCC,
    [MESSAGE_TEXT_SUBJECT] = SCHEMA_SUBJECT,
    [MESSAGE_TEXT_MSGID] = NULL,       /* a boolean term, below */
    [MESSAGE_TEXT_HEADER] = NULL,      /* not searchable yet */
    [MESSAGE_TEXT_BODY] = SCHEMA_BODY,
    [MESSAGE_TEXT_ATTACHMENT] = SCHEMA_ATTACHMENT,
    /* the *_ADDR kinds: boolean terms, below */
};

/* Text indexed per message, at most: a 200 MB body would otherwise cost
 * gigabytes of postings in one transaction.  What is past the cap is
 * stored and readable, only not searchable (docs/FORMAT.md). */
#define INDEX_MAX_TEXT (4u << 20)

const char *indexer_text_prefix(enum message_text_kind kind)
{
    return (size_t)kind < sizeof kind_prefix / sizeof kind_prefix[0] ? kind_prefix[kind]
                                                                      : NULL;
}

struct docbuild {
    struct xw_doc *doc;
    char *from, *subject;      /* the first of each, for the document data */
    size_t text;               /* bytes of text indexed so far */
};

static int add_text(void *rock, enum message_text_kind kind, const char *text, size_t len)
{
    struct docbuild *b = rock;
    int r = 0;

    if (kind == MESSAGE_TEXT_MSGID) {
        char *id = talloc_strndup(b->doc, text, len);
        for (char *p = id; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        r = xw_doc_add_term(b->doc, SCHEMA_MSGID, id);
        talloc_free(id);
        return r;
    }
    if (kind >= MESSAGE_TEXT_FROM_ADDR && kind <= MESSAGE_TEXT_BCC_ADDR) {
        char *addr = talloc_strndup(b->doc, text, len);
        char **terms = schema_address_terms(addr, kind_prefix[MESSAGE_TEXT_FROM + (kind -
                                                              MESSAGE_TEXT_FROM_ADDR)], addr);
        for (size_t i = 0; i < talloc_array_length(terms) && !r; i++)
            r = xw_doc_add_term(b->doc, "", terms[i]);
        talloc_free(addr);
        return r;
    }
    if (kind == MESSAGE_TEXT_FROM && !b->from)
        b->from = talloc_strndup(b->doc, text, len);
    if (kind == MESSAGE_TEXT_SUBJECT && !b->subject)
        b->subject = talloc_strndup(b->doc, text, len);
    if (indexer_text_prefix(kind)) {
        if (b->text >= INDEX_MAX_TEXT)
            return 0;
        if (len > INDEX_MAX_TEXT - b->text) {
            len = INDEX_MAX_TEXT - b->text;
            while (len && ((unsigned char)text[len] & 0xC0) == 0x80)
                len--;     /* do not cut a UTF-8 sequence */
        }
        b->text += len;
        r = xw_doc_add_text(b->doc, indexer_text_prefix(kind), text, len);
    }
    return r;
}

/* The data field keeps what a result list shows, so a search never opens
 * a mailbox. */
int indexer_build_doc(void *ctx, const struct indexer_msg *p, const char *buf, size_t len,
                     struct xw_doc **doc_r)
{
    struct docbuild b = { xw_doc_new(ctx), NULL, NULL, 0 };
    int64_t date = 0;
    char hex[41], *data;
    size_t dlen;
    int r;

    if (!b.doc)
        return XAP_IMAP_IOERROR;
    if ((r = message_foreach_text(buf, len, &date, add_text, &b)))
        return r;
    if (!date)
        date = p->internaldate;
    message_guid_hex(p->guid, hex);
    data = talloc_asprintf(b.doc, "1%c%s%c%lld%c%s%c%s", 0, hex, 0, (long long)date, 0,
                           b.from ? b.from : "", 0, b.subject ? b.subject : "");
    /* talloc_asprintf cannot return the length past the NULs: count it. */
    dlen = 2 + strlen(hex) + 1;
    dlen += strlen(data + dlen) + 1;
    dlen += strlen(data + dlen) + 1;
    dlen += strlen(data + dlen);
    if ((r = xw_doc_prune_stems(b.doc)) ||
        (r = xw_doc_add_term(b.doc, "", SCHEMA_V2)) ||
        (r = xw_doc_set_data(b.doc, data, dlen)) ||
        (r = xw_doc_set_number(b.doc, SCHEMA_SLOT_DATE, (double)date)) ||
        (r = xw_doc_set_number(b.doc, SCHEMA_SLOT_SIZE, (double)p->size)))
        return r;
    *doc_r = b.doc;
    return 0;
}

/* A batch is a pipeline of two threads: a worker reads and parses each
 * message and builds its Xapian document (GMime and the term generator,
 * about 40% of the time), while this thread adds the documents and
 * commits (the single Xapian writer, the rest).  The worker touches only
 * the read-only batch array and documents it allocates without a talloc
 * parent, so no talloc tree is shared between the threads; it runs at most
 * PIPE_WINDOW documents ahead. */
#define PIPE_WINDOW 64


struct pipeline {
    const struct indexer_msg *msgs;
    const uint8_t *copy;     /* per message: 0, COPY_IN_DB or COPY_IN_BATCH */
    struct indexer_built *out;       /* per message */
    size_t n, ready, taken;
    int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

void indexer_build_one(const struct indexer_msg *p, struct indexer_built *b)
{
    char *buf;

    if (read_file(NULL, p->path, &buf, &b->len) < 0) {
        if (errno == ENOENT)
            b->vanished = 1;
        else {
            xlog_syserr("read", p->path);
            b->r = XAP_IMAP_IOERROR;
        }
        return;
    }
    b->r = indexer_build_doc(NULL, p, buf, b->len, &b->doc);
    talloc_free(buf);
}

static void *worker(void *arg)
{
    struct pipeline *pl = arg;

    for (size_t i = 0; i < pl->n; i++) {
        struct indexer_built b = { NULL, 0, 0, 0 };
        pthread_mutex_lock(&pl->mu);
        while (!pl->stop && i >= pl->taken + PIPE_WINDOW)
            pthread_cond_wait(&pl->cv, &pl->mu);
        int stop = pl->stop;
        pthread_mutex_unlock(&pl->mu);
        if (stop)
            break;
        if (pl->copy[i] != COPY_IN_DB)
            indexer_build_one(&pl->msgs[i], &b);
        pthread_mutex_lock(&pl->mu);
        pl->out[i] = b;
        pl->ready = i + 1;
        pthread_cond_broadcast(&pl->cv);
        pthread_mutex_unlock(&pl->mu);
    }
    return NULL;
}

/* Waits for message I's document; the caller owns it afterwards. */
static struct indexer_built *take(struct pipeline *pl, size_t i)
{
    pthread_mutex_lock(&pl->mu);
    while (pl->ready <= i)
        pthread_cond_wait(&pl->cv, &pl->mu);
    pl->taken = i + 1;
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
    return &pl->out[i];
}

size_t *indexer_guid_order(void *ctx, const struct indexer_msg *msgs, size_t n)
{
    return message_guid_order(ctx, n ? msgs[0].guid : NULL, sizeof *msgs, n);
}

int indexer_find_copies(void *ctx, const struct indexer_msg *msgs, size_t n,
                        const uint8_t *have_elsewhere, struct xw_dbw *dbw, uint8_t **copy_r,
                        size_t **first_r)
{
    uint8_t *copy = talloc_zero_array(ctx, uint8_t, n);
    /* first[i] is the first message of the batch with i's GUID */
    size_t *first = talloc_array(ctx, size_t, n);
    /* In GUID order, the messages of one GUID are side by side, the
     * first of them first; and DBW's look-ups go in key order. */
    size_t *order = indexer_guid_order(ctx, msgs, n);
    int r = 0;

    for (size_t k = 0; k < n && !r; k++) {
        size_t i = order[k], prev = k ? order[k - 1] : 0;
        char hex[41];
        int have = 0;
        first[i] = i;
        if (have_elsewhere && have_elsewhere[i]) {
            copy[i] = COPY_IN_DB;
        } else if (k && !memcmp(msgs[i].guid, msgs[prev].guid, XAP_MESSAGE_GUID_SIZE)) {
            first[i] = first[prev];
            copy[i] = COPY_IN_BATCH;
        } else {
            message_guid_hex(msgs[i].guid, hex);
            r = xw_dbw_has_guid(dbw, hex, &have);
            copy[i] = have ? COPY_IN_DB : 0;
        }
    }
    talloc_free(order);
    *copy_r = copy;
    *first_r = first;
    return r;
}

int indexer_put_one(const char *userid, const struct indexer_msg *msgs, size_t i,
                    const uint8_t *copy, size_t *first, struct xw_dbw *dbw,
                    struct indexer_built *b, uint8_t *done, struct indexer_stats *stats)
{
    const struct indexer_msg *p = &msgs[i];
    size_t f = first[i];
    char hex[41];
    int r = 0;

    message_guid_hex(p->guid, hex);
    /* A copy later in the batch stands in for a first one whose file
     * vanished, so the worker built it too; it is put by GUID, as
     * another stand-in may come later if this one's file is gone too.
     * Once one is in, first[f] names it, and the copies after it are
     * copies of it (not put again, not counted as indexed).  A GUID
     * found nowhere is added without looking it up again. */
    if (copy[i] == COPY_IN_DB || (copy[i] == COPY_IN_BATCH && done[first[f]])) {
        stats->copies++;
        done[i] = 1;
    } else if (b->vanished) {
        stats->skipped++;
    } else if ((r = b->r) || (r = copy[i] ? xw_dbw_put(dbw, hex, b->doc)
                                          : xw_dbw_add(dbw, hex, b->doc))) {
        xlog(LOG_ERR, "user %s: %s UID %u: not indexed: %s", userid, p->mailbox, p->uid,
             xap_error_message(r));
    } else {
        stats->indexed++;
        stats->bytes += b->len;
        done[i] = 1;
        if (copy[i] == COPY_IN_BATCH)
            first[f] = i;
    }
    talloc_free(b->doc);
    b->doc = NULL;
    return r;
}

int indexer_write_docs(const char *userid, const struct indexer_msg *msgs, size_t n,
                       const uint8_t *have_elsewhere, struct xw_dbw *dbw, uint8_t *done,
                       struct indexer_stats *stats)
{
    void *tmp = talloc_new(NULL);
    struct pipeline pl = { msgs, NULL, NULL, n, 0, 0, 0,
                           PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };
    uint8_t *copy;
    size_t *first;
    pthread_t th;
    size_t i;
    int r;

    /* Copies of messages already indexed, or earlier in this batch, are
     * only marked: one document per GUID. */
    if ((r = indexer_find_copies(tmp, msgs, n, have_elsewhere, dbw, &copy, &first))) {
        talloc_free(tmp);
        return r;
    }
    pl.copy = copy;
    pl.out = talloc_zero_array(tmp, struct indexer_built, n);
    if (pthread_create(&th, NULL, worker, &pl)) {
        xlog(LOG_ERR, "user %s: cannot start the indexing thread", userid);
        talloc_free(tmp);
        return XAP_IMAP_IOERROR;
    }
    for (i = 0; i < n && !r; i++)
        r = indexer_put_one(userid, msgs, i, copy, first, dbw, take(&pl, i), done, stats);
    pthread_mutex_lock(&pl.mu);
    pl.stop = 1;
    pthread_cond_broadcast(&pl.cv);
    pthread_mutex_unlock(&pl.mu);
    pthread_join(th, NULL);
    for (; i < n; i++)
        talloc_free(pl.out[i].doc);   /* built ahead of an error */
    talloc_free(tmp);
    return r;
}

/* Under the search locks: for each message, 1 when some database of the
 * user has its GUID. */
