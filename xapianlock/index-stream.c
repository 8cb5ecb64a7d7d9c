/* index-stream.c - one writer's documents built ahead across its batches.
 *
 * indexer_write_docs (index-docs.c) builds a batch's documents in a
 * thread of its own that starts with the batch and ends before its
 * commit, so while a writer commits (Xapian's merge of the batch, and
 * for the first database an fsync) nothing of that writer parses mail.
 * A stream keeps one builder thread for all of a writer's batches: it
 * asks the writer's source for the next unit of messages when it has
 * built the last, and runs up to a window of documents ahead of the
 * writer, through the commits.  The builder takes no lock and touches
 * no database: it reads message files (a file expunged meanwhile is a
 * vanished one, as always), and its documents are only added by the
 * writer, in order, under whatever locks the writer holds; which of them
 * are copies is decided there, per transaction, as before.
 *
 * States of a unit: taken by the builder (NEXT called, appended to the
 * list), built up to READY, consumed by the writer (docstream_unit),
 * freed when the writer asks for the next one or at the stop. */
#include <config.h>

#include <pthread.h>

#include <talloc.h>

#include "xapiary/xapiary.h"
#include "common/xlog.h"
#include "xapianlock/index-private.h"

struct sunit {
    struct indexer_msg *msgs;     /* from the source; this unit owns them */
    const void *tag;
    size_t n, ready;
    struct indexer_built *out;
    struct sunit *next;
};

struct docstream {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    docstream_next_fn *next;
    void *rock;
    struct sunit *head, *tail;    /* head: the writer's current unit */
    int started;                  /* the writer has taken HEAD */
    size_t ahead, ahead_bytes;    /* built and not yet taken */
    size_t window, window_bytes;
    int stop, ended;
    pthread_t th;
};

static void *builder(void *arg)
{
    struct docstream *st = arg;

    for (;;) {
        struct indexer_msg *msgs = NULL;
        const void *tag = NULL;
        size_t n;
        struct sunit *u;

        /* A unit is taken only when there is room to build it: taken
         * early, it would be one the other writers cannot have. */
        pthread_mutex_lock(&st->mu);
        while (!st->stop && (st->ahead >= st->window || st->ahead_bytes >= st->window_bytes))
            pthread_cond_wait(&st->cv, &st->mu);
        int stop = st->stop;     /* read under the lock: the writer sets it */
        pthread_mutex_unlock(&st->mu);
        n = stop ? 0 : st->next(st->rock, &msgs, &tag);
        pthread_mutex_lock(&st->mu);
        if (!n || st->stop) {
            talloc_free(msgs);
            st->ended = 1;
            pthread_cond_broadcast(&st->cv);
            pthread_mutex_unlock(&st->mu);
            return NULL;
        }
        pthread_mutex_unlock(&st->mu);
        /* its own tree, handed to the writer's thread through the list */
        u = talloc_zero(NULL, struct sunit);
        u->msgs = talloc_steal(u, msgs);
        u->tag = tag;
        u->n = n;
        u->out = talloc_zero_array(u, struct indexer_built, n);
        pthread_mutex_lock(&st->mu);
        if (st->tail)
            st->tail->next = u;
        else
            st->head = u;
        st->tail = u;
        pthread_cond_broadcast(&st->cv);
        pthread_mutex_unlock(&st->mu);
        for (size_t i = 0; i < n; i++) {
            struct indexer_built b = { NULL, 0, 0, 0 };
            pthread_mutex_lock(&st->mu);
            while (!st->stop && (st->ahead >= st->window || st->ahead_bytes >= st->window_bytes))
                pthread_cond_wait(&st->cv, &st->mu);
            stop = st->stop;
            pthread_mutex_unlock(&st->mu);
            if (stop)
                return NULL;
            indexer_build_one(&msgs[i], &b);
            pthread_mutex_lock(&st->mu);
            u->out[i] = b;
            u->ready = i + 1;
            st->ahead++;
            st->ahead_bytes += b.len;
            pthread_cond_broadcast(&st->cv);
            pthread_mutex_unlock(&st->mu);
        }
    }
}

int docstream_start(void *ctx, docstream_next_fn *next, void *rock, size_t window,
                    struct docstream **st_r)
{
    struct docstream *st = talloc_zero(ctx, struct docstream);

    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    st->next = next;
    st->rock = rock;
    st->window = window ? window : 1;
    /* Documents of large mail weigh more than the count says. */
    st->window_bytes = DOCSTREAM_WINDOW_BYTES;
    if (pthread_create(&st->th, NULL, builder, st)) {
        xlog(LOG_ERR, "cannot start the indexing thread");
        talloc_free(st);
        return XAP_IMAP_IOERROR;
    }
    *st_r = st;
    return 0;
}

static void free_unit(struct sunit *u, size_t from)
{
    for (size_t i = from; i < u->ready; i++)
        talloc_free(u->out[i].doc);
    talloc_free(u);
}

size_t docstream_unit(struct docstream *st, const struct indexer_msg **msgs_r,
                      const void **tag_r)
{
    struct sunit *u;

    pthread_mutex_lock(&st->mu);
    if (st->started && st->head) {
        /* the writer is done with it: every document was taken */
        u = st->head;
        st->head = u->next;
        if (!st->head)
            st->tail = NULL;
        st->started = 0;
        pthread_mutex_unlock(&st->mu);
        free_unit(u, 0);
        pthread_mutex_lock(&st->mu);
    }
    while (!st->head && !st->ended)
        pthread_cond_wait(&st->cv, &st->mu);
    u = st->head;
    st->started = u != NULL;
    pthread_mutex_unlock(&st->mu);
    if (!u)
        return 0;
    *msgs_r = u->msgs;
    *tag_r = u->tag;
    return u->n;
}

static struct indexer_built *docstream_take(struct docstream *st, size_t i)
{
    struct sunit *u;

    pthread_mutex_lock(&st->mu);
    u = st->head;
    while (u->ready <= i)
        pthread_cond_wait(&st->cv, &st->mu);
    st->ahead--;
    st->ahead_bytes -= u->out[i].len;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    return &u->out[i];
}

void docstream_stop(struct docstream **stp)
{
    struct docstream *st = *stp;

    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    st->stop = 1;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    pthread_join(st->th, NULL);
    /* Documents taken were freed by the writer (indexer_put_one); those
     * built ahead of an error or the end are freed here. */
    while (st->head) {
        struct sunit *u = st->head;
        st->head = u->next;
        free_unit(u, 0);
    }
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    talloc_free(st);
    *stp = NULL;
}

int docstream_write(const char *userid, struct docstream *st, size_t off,
                    const struct indexer_msg *msgs, size_t n, const uint8_t *have,
                    struct xw_dbw *dbw, uint8_t *done, struct indexer_stats *stats)
{
    void *tmp = talloc_new(NULL);
    uint8_t *copy;
    size_t *first;
    int r;

    if (!(r = indexer_find_copies(tmp, msgs, n, have, dbw, &copy, &first)))
        for (size_t i = 0; i < n && !r; i++)
            r = indexer_put_one(userid, msgs, i, copy, first, dbw, docstream_take(st, off + i),
                                done, stats);
    talloc_free(tmp);
    return r;
}
