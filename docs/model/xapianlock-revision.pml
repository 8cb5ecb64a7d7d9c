/* xapianlock-revision.pml - the revision configuration (-DREVISION) of
 * the model: searches against batches that commit without the WRITE lock
 * (docs/LOCKING.md "Searches while a batch is written";
 * xapianlock/xapianlock.c begin_batch and pin_revision, revlock.c).
 * xapianlock.pml includes this file instead of everything else when
 * REVISION is defined: the list, the namelock and the directories are the
 * other configurations' concern (the SHARED namelock every process here
 * holds keeps the first item what it is); here the concern is the first
 * database's revisions.
 *
 * Glass keeps the blocks of revision V until V + 2 is written: a batch
 * that will commit R + 1 may overwrite the blocks of R - 1 and older from
 * its first document on.  gone: every revision below it may be
 * overwritten.
 *
 * Processes: two writers [1, 2], each NBATCH batches of indexer_flush_first
 * (writer lock; WRITE; open: read the revision R; let WRITE go; the
 * revision lock of R + 1 EXCLUSIVE; write; commit; release), and two
 * searchers [3, 4], each two searches of begin_search (READ; read the
 * revision R; the revision lock of R SHARED; let READ go), the caller's
 * open (it gets the revision of that moment), the query, the end.
 *
 * P9   no reader's revision is overwritten while it reads it.
 * P10  a search never waits for a batch: when it asks for its revision
 *      lock, a batch that holds it EXCLUSIVE has committed already (it
 *      only has its release left).
 * P11  the writer lock keeps the first database to one writer: a batch
 *      commits the revision after the one it opened.
 * P1 (spin's own check): nothing blocks forever.
 *
 * Mutants: M_REV_SAME_PARITY (a batch takes the lock of R, not R + 1),
 * M_REV_READ_RELEASED_FIRST (a search lets READ go before it has its
 * revision lock), M_REV_OPEN_WITHOUT_WRITE (a batch opens the database
 * and reads R without WRITE), M_REV_LOCK_LATE (a batch takes its revision
 * lock only for the commit, after writing). */

#ifndef NBATCH
#define NBATCH 2
#endif

byte rev = 1;           /* the first database's last commit */
byte gone = 0;          /* revisions below this may be overwritten */
byte rd = 0;            /* READ holders */
bool wr = 0;            /* WRITE held */
bool wl = 0;            /* the writer lock */
byte rsh[2];            /* SHARED holders of each revision lock */
bool rex[2];            /* held EXCLUSIVE */
bool rdone[2];          /* its EXCLUSIVE holder has committed */

/* A batch that will write R + 1 may overwrite revisions below R. */
inline overwrite(r_) {
    if
    :: gone < r_ -> gone = r_
    :: else
    fi
}

proctype writer()
{
    byte b = 0, r, p;

    do
    :: b == NBATCH -> break
    :: else ->
        b++;
        atomic { !wl -> wl = 1 };
#ifndef M_REV_OPEN_WITHOUT_WRITE
        atomic { !wr && rd == 0 -> wr = 1 };
#endif
        r = rev;                                /* open, xw_dbw_revision */
        printf("[%d] opens the first database at revision %d\n", _pid, r);
        wr = 0;
#ifdef M_REV_SAME_PARITY
        p = r % 2;
#else
        p = (r + 1) % 2;
#endif
#ifdef M_REV_LOCK_LATE
        overwrite(r);                           /* documents added first */
#endif
        atomic { !rex[p] && rsh[p] == 0 -> rex[p] = 1; rdone[p] = 0 };
        atomic {
            overwrite(r);
            printf("[%d] writes revision %d\n", _pid, r + 1)
        };
        atomic {
            assert(rev == r);                                   /* P11 */
            rev = r + 1;
            rdone[p] = 1;
            printf("[%d] commits revision %d\n", _pid, rev)
        };
        atomic { rex[p] = 0; rdone[p] = 0 };
        wl = 0
    od
}

proctype searcher()
{
    byte s = 0, r, h, p;

    do
    :: s == 2 -> break
    :: else ->
        s++;
        atomic { !wr -> rd++ };                 /* the turnstile only orders */
        r = rev;                                /* xw_db_revision */
        p = r % 2;
#ifdef M_REV_READ_RELEASED_FIRST
        rd--;
#endif
        assert(!rex[p] || rdone[p]);                            /* P10 */
        atomic { !rex[p] -> rsh[p]++ };
#ifndef M_REV_READ_RELEASED_FIRST
        rd--;
#endif
        h = rev;                                /* the caller's xw_dbr_open */
        printf("[%d] searches revision %d (locked %d)\n", _pid, h, r);
        assert(h >= gone);                                      /* P9 */
        /* the query reads blocks of h here, meanwhile anything may run */
        assert(h >= gone);                                      /* P9 */
        rsh[p]--
    od
}

init
{
    atomic {
        run writer();
        run writer();
        run searcher();
        run searcher()
    }
}
