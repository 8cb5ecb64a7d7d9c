/* mbctl-import-pipe.c - the files of an import read and parsed ahead by
 * worker threads, handed to the one thread that appends them in order.
 *
 * Reading a file, hashing it and its MIME parse depend on nothing but the
 * file, and were most of an import's CPU time; the append (the UID, the
 * spool file, the record) must stay in one thread and in the order of
 * the files, so that UIDs are those of a sequential import.  Workers
 * take items in order from a window of a few per thread ahead of the
 * consumer: memory stays bounded by the window, not by the folder.  The
 * consumer, while the item it needs is not done, does the next one no
 * worker has taken; with no threads it runs each item itself when it
 * takes it. */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>

#include <talloc.h>

#include "tools/mbctl.h"

/* Items in flight per thread (the consumer counted): enough that a worker rarely waits for the
 * consumer's slower appends (a link's directory search, a batch's
 * sync), few enough that the window of messages held stays small. */
#define PER_THREAD 8

struct import_pipe {
    pthread_mutex_t mu;
    pthread_cond_t ready;      /* an item's result came in */
    pthread_cond_t room;       /* the consumer took one: the window moved */
    import_pipe_fn *fn;
    void *rock;
    size_t n;                  /* items */
    size_t window;
    size_t next;               /* the next item a worker takes */
    size_t taken;              /* items the consumer took */
    int stop;
    void **slots;              /* item I's result in slots[I % window] */
    unsigned char *done;
    pthread_t *threads;
    int nthreads;
};

static void *worker(void *arg)
{
    struct import_pipe *p = arg;

    pthread_mutex_lock(&p->mu);
    while (!p->stop && p->next < p->n) {
        if (p->next >= p->taken + p->window) {
            pthread_cond_wait(&p->room, &p->mu);
            continue;
        }
        size_t i = p->next++;
        pthread_mutex_unlock(&p->mu);
        void *res = p->fn(i, p->rock);
        pthread_mutex_lock(&p->mu);
        p->slots[i % p->window] = res;
        p->done[i % p->window] = 1;
        /* The consumer waits for one item only: it may be this one. */
        pthread_cond_signal(&p->ready);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct import_pipe *import_pipe_start(void *ctx, size_t n, int nthreads, import_pipe_fn *fn,
                                      void *rock)
{
    struct import_pipe *p = talloc_zero(ctx, struct import_pipe);

    p->fn = fn;
    p->rock = rock;
    p->n = n;
    p->window = nthreads > 0 ? (size_t)(nthreads + 1) * PER_THREAD : 1;
    p->slots = talloc_zero_array(p, void *, p->window);
    p->done = talloc_zero_array(p, unsigned char, p->window);
    p->threads = talloc_zero_array(p, pthread_t, nthreads > 0 ? nthreads : 1);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->ready, NULL);
    pthread_cond_init(&p->room, NULL);
    /* A thread that cannot be started leaves fewer workers; none leaves
     * the consumer doing every item itself. */
    for (int t = 0; t < nthreads && n > 0; t++)
        if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) == 0)
            p->nthreads++;
    return p;
}

void *import_pipe_take(struct import_pipe *p)
{
    size_t i, s;
    void *res;

    if (p->taken >= p->n)
        return NULL;
    if (!p->nthreads) {
        res = p->fn(p->taken, p->rock);
        p->taken++;
        return res;
    }
    i = p->taken;
    s = i % p->window;
    pthread_mutex_lock(&p->mu);
    while (!p->done[s]) {
        /* Rather than sleep until a worker is done with item I (a
         * sleep and a wake-up per item, and a core left idle), do the
         * next item no worker has taken yet: with one worker, two
         * cores are busy. */
        if (p->next < p->n && p->next < p->taken + p->window) {
            size_t j = p->next++;
            pthread_mutex_unlock(&p->mu);
            void *r = p->fn(j, p->rock);
            pthread_mutex_lock(&p->mu);
            p->slots[j % p->window] = r;
            p->done[j % p->window] = 1;
            continue;
        }
        pthread_cond_wait(&p->ready, &p->mu);
    }
    res = p->slots[s];
    p->slots[s] = NULL;
    p->done[s] = 0;
    p->taken++;
    pthread_cond_broadcast(&p->room);
    pthread_mutex_unlock(&p->mu);
    return res;
}

void import_pipe_finish(struct import_pipe *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->room);
    pthread_mutex_unlock(&p->mu);
    for (int t = 0; t < p->nthreads; t++)
        pthread_join(p->threads[t], NULL);
    /* What was read ahead and never taken (the consumer stopped early). */
    for (size_t s = 0; s < p->window; s++)
        if (p->done[s])
            talloc_free(p->slots[s]);
    pthread_cond_destroy(&p->room);
    pthread_cond_destroy(&p->ready);
    pthread_mutex_destroy(&p->mu);
    talloc_free(p);
}
