/* index-side.c - side writers: a large backlog indexed by several Xapian
 * writers at once.
 *
 * One Xapian database takes one writer, and one writer is the wall of
 * indexing (docs/PERFORMANCE.md).  A chunk of collected messages is split
 * between the first database (written batch by batch under
 * begin_mailbox_update, as always) and W - 1 side databases, each written
 * by its own thread into a private xapian.M.NEW and registered the way a
 * compaction registers its target: listed at the tail of xapianactive
 * first, renamed into place when whole.  Searches see a user's databases
 * as one, so the new items are searched at once; compaction merges them
 * later.  docs/LOCKING.md "Side writers" gives the locks step by step:
 *
 *   side.1  EXCLUSIVE namelock: dead runs' debris removed, W - 1 targets
 *           numbered and listed at the tail.
 *   side.2  namelock released.
 *   side.3  SHARED namelock + READ lock: the targets still listed get a
 *           .NEW database each; READ released, SHARED kept.
 *   side.4  every writer writes its share, a commit per batch with its
 *           indexed state (fault point after each side commit).
 *   side.5  still under the SHARED namelock: each .NEW synced once (its
 *           commits were not: nobody else sees it before the rename) and
 *           renamed into place.
 *
 * The SHARED namelock is held from the first .NEW's creation to the last
 * rename, so an EXCLUSIVE holder (a compaction's step 1, another run's
 * side.1, delete_user) never sees a live .NEW: every .NEW it sees is
 * debris.  No mailbox is opened meanwhile (mailbox locks come before the
 * Xapian locks): the chunk was collected before.
 *
 * The chunk is cut into units of a batch each (share_out), which the
 * writers take as they finish the one before (a queue, not shares fixed
 * in advance: a writer that ran ahead used to wait idle for the slowest
 * at the end of every chunk).  The first writer takes units from the
 * front of the chunk and the side writers from the back, so each
 * database still gets a contiguous part.  The messages of one GUID are
 * all in one unit, so two writers never index the same message; a GUID
 * some database already has goes to the first writer, which marks it as
 * a copy, as a single writer would. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "xapiary/mboxlist.h"
#include "common/atomicfile.h"
#include "common/config.h"
#include "common/fault.h"
#include "common/tierpath.h"
#include "common/util.h"
#include "common/xlog.h"
#include "cwrap/xapian_wrap.h"
#include "xapianlock/index-private.h"
#include "xapianlock/tierlist.h"
#include "xapianlock/xapianlock-private.h"

/* The units of a chunk not yet taken: [lo, hi).  The first writer takes
 * lo, a side writer hi - 1. */
struct units {
    pthread_mutex_t mu;
    size_t lo, hi;
    const size_t *start;          /* unit u: order[start[u] .. start[u + 1]) */
    const size_t *order;          /* positions in the chunk, grouped by unit */
    const size_t *first;          /* the first writer's own: GUIDs a database has */
};

struct side {
    struct indexer *ix;           /* read only here: userid, batchsize */
    pthread_mutex_t *mu;          /* guards PUBLISHED, shared by the writers */
    unsigned long published;      /* messages done so far, for -v */
    void *ctx;                    /* this writer's own talloc tree */
    struct tiertarget *t;         /* this writer's target: reserved, built, published */
    struct xw_dbw *dbw;
    struct units *q;
    size_t reserved;              /* its first unit + 1, taken before it starts; 0: none */
    const struct indexer_msg *msgs;  /* the whole chunk (read only) */
    uint8_t *done;                /* the chunk's: each writer sets its units' only */
    struct indexer_stats stats;
    int r;
};

/* How far a writer's builder runs ahead of it, in documents: far enough
 * to go on through a good part of a commit.  A whole batch ahead (1,000)
 * cost 40 MiB more peak RSS at 100,000 messages, and more CPU
 * (docs/PERFORMANCE-SCALE.md "Side writers: a queue and builders that
 * run ahead"). */
#define STREAM_WINDOW 256

static size_t stream_window(size_t bs)
{
    return bs < STREAM_WINDOW ? bs : STREAM_WINDOW;
}

/* The next unit for the first writer (FRONT) or a side writer; 0 when
 * none is left, else the unit + 1. */
static size_t take_unit(struct units *q, int front)
{
    size_t u = 0;

    pthread_mutex_lock(&q->mu);
    if (q->lo < q->hi)
        u = front ? ++q->lo : q->hi--;
    pthread_mutex_unlock(&q->mu);
    return u;
}

/* Copies the messages at POS[0..N) of the chunk MSGS into a batch. */
static struct indexer_msg *gather(void *ctx, const struct indexer_msg *msgs,
                                  const size_t *pos, size_t n)
{
    struct indexer_msg *part = talloc_array(ctx, struct indexer_msg, n);

    for (size_t i = 0; i < n; i++)
        part[i] = msgs[pos[i]];
    return part;
}

/* One side transaction: the N messages MSGS, at OFF in ST's current
 * unit and at POS in the chunk, into the side database. */
static int side_batch(struct side *s, struct docstream *st, size_t off,
                      const struct indexer_msg *msgs, const size_t *pos, size_t n)
{
    uint8_t *pdone = talloc_zero_array(NULL, uint8_t, n);
    int r;

    if ((r = xw_dbw_begin(s->dbw))) {
        talloc_free(pdone);
        return r;
    }
    r = docstream_write(s->ix->userid, st, off, msgs, n, NULL, s->dbw, pdone, &s->stats);
    if (!r)
        r = indexer_write_state(NULL, s->ix->userid, msgs, n, s->dbw, pdone);
    if (!r)
        r = xw_dbw_commit(s->dbw);
    else
        xw_dbw_cancel(s->dbw);
    if (!r) {
        for (size_t i = 0; i < n; i++)
            s->done[pos[i]] = pdone[i];
        s->stats.batches++;
        fault_point("index.side.4");
        pthread_mutex_lock(s->mu);
        s->published = s->stats.indexed + s->stats.copies;
        pthread_mutex_unlock(s->mu);
    }
    talloc_free(pdone);
    return r;
}

/* A side writer's source of units, in its builder's thread: its
 * reserved unit, then units from the back of the chunk. */
static size_t side_next(void *rock, struct indexer_msg **msgs_r, const void **tag_r)
{
    struct side *s = rock;
    size_t u = s->reserved ? s->reserved : take_unit(s->q, 0), n;
    const size_t *pos;

    s->reserved = 0;
    if (!u)
        return 0;
    pos = s->q->order + s->q->start[u - 1];
    n = s->q->start[u] - s->q->start[u - 1];
    *msgs_r = gather(NULL, s->msgs, pos, n);
    *tag_r = pos;
    return n;
}

/* The side writer's thread: units until none is left, a transaction per
 * batch, the documents built ahead through the commits. */
static void *side_run(void *arg)
{
    struct side *s = arg;
    struct docstream *st = NULL;
    const struct indexer_msg *msgs;
    const void *tag;
    size_t n, bs = s->ix->batchsize;

    if ((s->r = docstream_start(NULL, side_next, s, stream_window(bs), &st)))
        return NULL;
    while (!s->r && (n = docstream_unit(st, &msgs, &tag))) {
        const size_t *pos = tag;
        /* A unit is a batch, but for copies that joined their GUID's
         * first message: it may run over, and is then written as two. */
        for (size_t i = 0; i < n && !s->r; i += bs)
            s->r = side_batch(s, st, i, msgs + i, pos + i, n - i < bs ? n - i : bs);
    }
    docstream_stop(&st);
    return NULL;
}

/* side.1: under the EXCLUSIVE namelock, removes dead runs' debris and
 * reserves NSIDE new items of the default tier at the tail.  NSIDE 0
 * only removes the debris, and only if the namelock is free at once
 * (indexer_clean_side_debris). */
static int list_targets(struct indexer *ix, const char *partition, struct side *sides,
                        unsigned nside)
{
    struct xap_mboxlock *lock = NULL;
    struct activeitem *items = NULL, *tail = NULL;
    const char *tier = config_defaultsearchtier(NULL);
    unsigned gen;
    int r, changed;

    if ((r = xapianlock_namelock(ix->userid, nside ? XAP_LOCK_EXCLUSIVE : XAP_LOCK_NONBLOCKING,
                                 &lock)))
        return r;
    if ((r = activefile_read(NULL, ix->userid, &items)))
        goto out;
    /* Numbered before the cleanup, as compaction's step 1 does: a live
     * run's unbuilt target keeps its name (docs/model: REUSE_GEN). */
    gen = tierlist_next_gen(ix->userid, partition, items);
    if ((r = tierlist_clean(ix->userid, partition, &items, &changed)))
        goto out;
    if (!nside) {
        if (changed)
            r = activefile_write(ix->userid, items, NULL);
        goto out;
    }
    tail = talloc_array(items, struct activeitem, nside);
    for (unsigned w = 0; w < nside; w++) {
        if ((r = tierlist_target(sides[w].ctx, ix->userid, partition, tier, gen + w,
                                 &sides[w].t)))
            goto out;
        tail[w] = sides[w].t->item;
    }
    if (!(r = tierlist_reserve(NULL, ix->userid, partition, items, NULL, tail, nside, NULL,
                               NULL)))
        fault_point("index.side.1");
out:
    talloc_free(items);
    xap_mboxname_release(&lock);
    return r;
}

/* Whether USERID has a .NEW database in the default tier, where side
 * writers build, and none in another tier: a compaction into another
 * tier lets go of every namelock between its steps 6 and 7, its finished
 * .NEW waiting for the rename, and a cleanup then would make it abandon. */
static int has_side_new_dir(const char *userid, const char *partition)
{
    const char *const *tiers = config_tiers(NULL);
    const char *side = config_defaultsearchtier(NULL);
    int in_side = 0, elsewhere = 0, r;

    for (size_t t = 0; tiers && tiers[t] && !elsewhere; t++) {
        char *dir = tierpath_user_dir(NULL, userid, partition, tiers[t], &r);
        DIR *d = dir ? opendir(dir) : NULL;
        struct dirent *de;
        int found = 0;
        while (d && !found && (de = readdir(d))) {
            unsigned gen;
            int is_new;
            found = !tierpath_parse(de->d_name, &gen, &is_new) && is_new;
        }
        if (found && side && !strcmp(tiers[t], side))
            in_side = 1;
        else if (found)
            elsewhere = 1;
        if (d)
            closedir(d);
        talloc_free(dir);
    }
    return in_side && !elsewhere;
}

/* A side run killed while building (index.side.3 to .5) leaves .NEW
 * directories, and their unbuilt targets listed, for the next EXCLUSIVE
 * holder: a compaction or a run with side writers.  A run that writes
 * with one writer (what is left is one batch) removes them too, or they
 * would stay until then (readers skip them; nothing is lost either
 * way).  It only tries the EXCLUSIVE namelock: a live side run or
 * compaction builds its .NEW under the SHARED one, and waiting for it
 * would stall this run behind theirs; the debris then waits for a later
 * run.  Only .NEW directories of the default tier count (side writers
 * build there), and none may stand in another (has_side_new_dir).  (A
 * side run killed before building, side.1 and .2, left its whole
 * backlog, which the next run gives to side writers.) */
int indexer_clean_side_debris(struct indexer *ix)
{
    char *partition = NULL;
    int r;

    if ((r = xapianlock_user_partition(NULL, ix->userid, &partition)))
        return r;
    if (has_side_new_dir(ix->userid, partition)) {
        r = list_targets(ix, partition, NULL, 0);
        if (r == XAP_IMAP_MAILBOX_LOCKED)
            r = 0;
    }
    talloc_free(partition);
    return r;
}

/* side.3: SHARED namelock (*LOCK_R, kept) and READ lock: a .NEW database
 * for each target still listed.  A target another EXCLUSIVE holder took
 * out of the list since side.1 gets no writer (sides[w].dbw NULL); so do
 * all of them when the user is not the one of side.1 (deleted and created
 * again in between: the numbers may be listed again, for the new user's
 * own databases; docs/model: RECREATE).  Under the SHARED namelock the
 * user cannot be deleted, so the check holds until side.5. */
static int create_targets(struct indexer *ix, struct side *sides, unsigned nside,
                          const char *inbox_id, struct xap_mboxlock **lock_r, unsigned *live_r)
{
    struct activefile *af = NULL;
    int r;

    *live_r = 0;
    if ((r = xapianlock_namelock(ix->userid, XAP_LOCK_SHARED, lock_r)))
        return r;
    if (!xapianlock_same_user(ix->userid, inbox_id)) {
        xlog(LOG_NOTICE, "user %s: deleted or created again since its side databases "
             "were listed: none is built", ix->userid);
        return 0;
    }
    if ((r = activefile_lock(NULL, ix->userid, 0, &af)))
        return r;
    for (unsigned w = 0; w < nside && !r; w++) {
        struct tiertarget *t = sides[w].t;
        if (!tierlist_listed(af->items, &t->item)) {
            xlog(LOG_NOTICE, "user %s: %s:%u left the list before it was built: one "
                 "writer fewer", ix->userid, t->item.tier, t->item.gen);
            continue;
        }
        if ((r = tierlist_build(t)))
            break;
        /* Private until side.5, which syncs it once before the rename. */
        if (!(r = xw_dbw_open(sides[w].ctx, t->newdir, XW_CREATE | XW_NO_SYNC,
                              &sides[w].dbw)))
            (*live_r)++;
    }
    activefile_unlock(&af);
    if (!r && *live_r)
        fault_point("index.side.3");
    return r;
}

/* side.5: each .NEW becomes its listed item, whole (all its commits
 * done), renamed over the item's empty directory.  Under the SHARED
 * namelock: the list does not change, and the item only appears.  A
 * failure leaves the item listed with an empty directory, which readers
 * skip and the next EXCLUSIVE holder removes. */
static int register_targets(struct indexer *ix, struct side *sides, unsigned nside)
{
    int ret = 0;

    for (unsigned w = 0; w < nside; w++) {
        int r;
        if (!sides[w].dbw)
            continue;
        /* Its commits were not synced (XW_NO_SYNC): durable before it is
         * listed, or a crash after the rename could list a torn database. */
        if (!(r = xw_dbw_close(&sides[w].dbw)) && !(r = sync_tree(sides[w].t->newdir)))
            r = tierlist_publish(sides[w].t);
        if (r) {
            xlog(LOG_ERR, "user %s: side database %s not registered: %s", ix->userid,
                 sides[w].t->newdir, xap_error_message(r));
            tierlist_abandon(sides[w].t);
            ret = ret ? ret : r;
            continue;
        }
        fault_point("index.side.5");
    }
    return ret;
}

/* Cuts MSGS into units of a batch each, in chunk order (which is UID
 * order per mailbox), for take_unit.  A GUID some database already has
 * goes to the first writer's own list (FIRST), which marks it as a copy;
 * a GUID met earlier in the chunk goes into the unit of its first
 * message, so two writers never index the same message. */
static void share_out(void *ctx, const struct indexer_msg *msgs, size_t n, const uint8_t *have,
                      size_t bs, struct units *q)
{
    /* GUID (its first 8 bytes: a collision only puts a message in
     * another unit, whose writer then indexes it too) -> unit + 1 */
    GHashTable *seen = g_hash_table_new(g_int64_hash, g_int64_equal);
    gint64 *keys = talloc_array(NULL, gint64, n);
    size_t *unit = talloc_array(NULL, size_t, n), *start, *order, *first, nunits = 0,
           fresh = 0, nfirst = 0;

    for (size_t i = 0; i < n; i++) {
        gpointer f;
        memcpy(&keys[i], msgs[i].guid, sizeof keys[i]);
        if (have[i]) {
            unit[i] = SIZE_MAX;
            nfirst++;
        } else if ((f = g_hash_table_lookup(seen, &keys[i]))) {
            unit[i] = GPOINTER_TO_SIZE(f) - 1;
        } else {
            unit[i] = fresh++ / bs;
            nunits = unit[i] + 1;
            g_hash_table_insert(seen, &keys[i], GSIZE_TO_POINTER(unit[i] + 1));
        }
    }
    g_hash_table_destroy(seen);
    talloc_free(keys);
    /* counting sort by unit: each unit's messages stay in chunk order */
    start = talloc_zero_array(ctx, size_t, nunits + 1);
    order = talloc_array(ctx, size_t, n - nfirst);
    first = talloc_array(ctx, size_t, nfirst);
    for (size_t i = 0; i < n; i++)
        if (unit[i] != SIZE_MAX)
            start[unit[i] + 1]++;
    for (size_t u = 0; u < nunits; u++)
        start[u + 1] += start[u];
    size_t *fill = talloc_memdup(unit, start, (nunits + 1) * sizeof *start);
    nfirst = 0;
    for (size_t i = 0; i < n; i++) {
        if (unit[i] == SIZE_MAX)
            first[nfirst++] = i;
        else
            order[fill[unit[i]]++] = i;
    }
    talloc_free(unit);
    q->lo = 0;
    q->hi = nunits;
    q->start = start;
    q->order = order;
    q->first = first;
}

/* What the side writers have done so far (for the progress line). */
static unsigned long side_done(void *rock)
{
    struct side *sides = rock;
    unsigned long n = 0;

    pthread_mutex_lock(sides[0].mu);
    for (size_t w = 0; w < talloc_array_length(sides); w++)
        n += sides[w].published;
    pthread_mutex_unlock(sides[0].mu);
    return n;
}

/* One batch of the first writer: the N messages MSGS, at OFF in ST's
 * current unit and at POS in the chunk. */
static int first_batch(struct indexer *ix, struct docstream *st, size_t off,
                       const struct indexer_msg *msgs, const size_t *pos, size_t n,
                       uint8_t *done, struct side *sides)
{
    uint8_t *pdone = talloc_zero_array(NULL, uint8_t, n);
    int r = indexer_flush_first_from(ix, st, off, msgs, n, pdone);

    for (size_t i = 0; i < n; i++)
        done[pos[i]] = pdone[i];
    talloc_free(pdone);
    indexer_report(ix, side_done(sides));
    return r;
}

/* The first writer's source of units, in its builder's thread. */
struct first_src {
    struct units *q;
    const struct indexer_msg *msgs;
    size_t nfirst, taken;         /* of q->first, given out so far */
    size_t bs;
};

/* The GUIDs some database has, a batch at a time, then units from the
 * front of the chunk. */
static size_t first_next(void *rock, struct indexer_msg **msgs_r, const void **tag_r)
{
    struct first_src *f = rock;
    const size_t *pos;
    size_t n, u;

    if (f->taken < f->nfirst) {
        pos = f->q->first + f->taken;
        n = f->nfirst - f->taken < f->bs ? f->nfirst - f->taken : f->bs;
        f->taken += n;
    } else if ((u = take_unit(f->q, 1))) {
        pos = f->q->order + f->q->start[u - 1];
        n = f->q->start[u] - f->q->start[u - 1];
    } else {
        return 0;
    }
    *msgs_r = gather(NULL, f->msgs, pos, n);
    *tag_r = pos;
    return n;
}

/* Writer 0: its units, a batch each into the first database. */
static int write_first(struct indexer *ix, const struct indexer_msg *msgs, struct units *q,
                       uint8_t *done, struct side *sides)
{
    struct first_src f = { q, msgs, talloc_array_length(q->first), 0, ix->batchsize };
    struct docstream *st = NULL;
    const struct indexer_msg *um;
    const void *tag;
    size_t bs = ix->batchsize, n;
    int r;

    if ((r = docstream_start(NULL, first_next, &f, stream_window(bs), &st)))
        return r;
    while (!r && (n = docstream_unit(st, &um, &tag))) {
        const size_t *pos = tag;
        for (size_t i = 0; i < n && !r; i += bs)
            r = first_batch(ix, st, i, um + i, pos + i, n - i < bs ? n - i : bs, done, sides);
    }
    docstream_stop(&st);
    return r;
}

int indexer_flush_parallel(struct indexer *ix, const struct indexer_msg *msgs, size_t n,
                           uint8_t *done)
{
    unsigned nside = ix->writers - 1, live = 0, started = 0;
    struct side *sides = talloc_zero_array(NULL, struct side, nside);
    struct xap_mboxlock *lock = NULL;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_t th[INDEXER_MAX_WRITERS];
    uint8_t *have = talloc_zero_array(sides, uint8_t, n);
    struct xap_xapianlock *xl = NULL;
    struct xw_dbw *dbw = NULL;
    char *partition = NULL, *inbox_id = NULL;
    struct units q = { .mu = PTHREAD_MUTEX_INITIALIZER };
    int r, ret;

    for (unsigned w = 0; w < nside; w++) {
        sides[w].ix = ix;
        sides[w].mu = &mu;
        sides[w].ctx = talloc_new(NULL);
    }
    /* The user's xapianactive and first database exist from here on
     * (created if missing), so they can be read below. */
    if ((r = xapianlock_begin_batch(sides, ix->userid, sides, &xl, &dbw)))
        goto out;
    partition = talloc_strdup(sides, xap_xapianlock_partition(xl));
    inbox_id = xapianlock_inbox_uniqueid(sides, ix->userid);
    r = xw_dbw_close(&dbw);
    xap_xapianlock_end(&xl);
    if (r)
        goto out;
    if ((r = indexer_known_guids(ix->userid, msgs, n, have)) ||
        (r = list_targets(ix, partition, sides, nside)))
        goto out;
    fault_point("index.side.2");
    r = create_targets(ix, sides, nside, inbox_id, &lock, &live);
    if (r == XAP_IMAP_NOTFOUND)
        r = 0;          /* deleted meanwhile: the first database decides */
    if (r || !live)
        goto out;
    share_out(sides, msgs, n, have, ix->batchsize, &q);
    xlog(LOG_INFO, "user %s: %zu messages in %zu batches for the first database and %u "
         "side database(s)", ix->userid, n, q.hi, live);
    for (unsigned w = 0; w < nside; w++) {
        if (!sides[w].dbw)
            continue;
        sides[w].q = &q;
        sides[w].msgs = msgs;
        sides[w].done = done;
        /* Each side writer's first unit is its own before any thread
         * runs, so every live side database gets some of the chunk
         * however fast the first writer goes. */
        sides[w].reserved = take_unit(&q, 0);
        if (pthread_create(&th[w], NULL, side_run, &sides[w])) {
            xlog(LOG_ERR, "user %s: cannot start a side writer", ix->userid);
            sides[w].r = XAP_IMAP_IOERROR;
            continue;
        }
        started |= 1u << w;
    }
    r = write_first(ix, msgs, &q, done, sides);
    for (unsigned w = 0; w < nside; w++) {
        if (started & (1u << w))
            pthread_join(th[w], NULL);
        indexer_stats_add(&ix->stats, &sides[w].stats);
        if (sides[w].r) {
            xlog(LOG_ERR, "user %s: side writer %s: %s", ix->userid, sides[w].t->newdir,
                 xap_error_message(sides[w].r));
            if (!r)
                r = sides[w].r;
        }
    }
    /* Whatever a side writer committed is whole: registered even after
     * an error, as the first database keeps its committed batches. */
    ret = register_targets(ix, sides, nside);
    r = r ? r : ret;
out:
    for (unsigned w = 0; w < nside; w++) {
        if (sides[w].dbw) {    /* an error before the writers ran: ours, unused */
            xw_dbw_close(&sides[w].dbw);
            tierlist_abandon(sides[w].t);
        }
    }
    xap_mboxname_release(&lock);
    if (!live && !r) {
        /* No side writer could start: the first database takes it all. */
        r = indexer_flush_serial(ix, msgs, n, done, NULL, NULL);
    }
    for (unsigned w = 0; w < nside; w++)
        talloc_free(sides[w].ctx);
    talloc_free(sides);
    return r;
}
