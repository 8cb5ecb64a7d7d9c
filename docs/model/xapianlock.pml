/* xapianlock.pml - a Promela model of the two-level locking of one user's
 * search tiers (seeds/003, SPEC sections 8-9, docs/LOCKING.md), checked
 * with spin by docs/model/check.  docs/model/README.md maps every process
 * and step to the C code and lists what is left out.
 *
 * This file has the configuration, the state, the locks, the helpers and
 * init; it includes the processes (spin runs the model through cpp):
 *   xapianlock-index.pml    indexer, searcher, side writer
 *   xapianlock-compact.pml  compaction, delete_user
 *
 * One user, one tier (the default tier is also the source and the
 * destination tier, as in `squatter -z t1 -t t1`), generations 1..MAXG-1.
 *
 * Properties (each assert below is tagged with the one it checks):
 *   P1  no invalid end state: nothing blocks forever (spin's own check).
 *   P2  nobody deletes a directory that someone has open or is building
 *       (a side writer's .NEW from side.3 to side.5), and nobody but
 *       delete_user deletes a directory xapianactive lists (a reader
 *       would skip it as "not yet renamed": a silent gap).
 *   P3  a writer writes only the first database of the current
 *       xapianactive, holding the WRITE lock on the current file.
 *   P4  every message ever committed stays in some listed database (a
 *       side writer's messages count from their rename at side.5, when
 *       they become findable).
 *   P5  a compaction renames and removes only its own .NEW, and never
 *       takes the first (writable) item out of the list.
 *   P6  when everything has ended, no lock is left held.
 *   P7  a generation number is given out once: a number that step 1,
 *       side.1 or create_activefile allots was never allotted before.
 *
 * Three configurations (check runs each):
 *   -DRECREATE an indexer, a searcher, two compactions, delete_user,
 *              which then creates the user again (its INBOX another
 *              uniqueid); without RECREATE the same minus the new user;
 *   -DSIDE     an indexer, a searcher, one compaction, a side writer
 *              with two side databases (squatter -j 3,
 *              xapianlock/index-side.c), delete_user;
 *   -DREINDEX  the -X plan against the mail changing: the file
 *              xapianlock-reindex.pml only, with its property P8.
 * A side writer with two compactions, or two side writers, is too large
 * for a quick exhaustive run; NCOMPACT, NSIDEW and NSIDE select them
 * (README.md gives their sizes).
 *
 * Mutants (docs/model/check --mutant NAME defines M_NAME) break one rule
 * each; see README.md for which must fail and why. */

#ifdef REINDEX
#include "xapianlock-reindex.pml"       /* the -X plan: all of it is there */
#elif defined(REVISION)
#include "xapianlock-revision.pml"      /* searches beside commits: all there */
#else

#ifndef MAXG
#define MAXG 8          /* generations 1..7; 0 is "none" */
#endif
#define MAXL 6          /* items in xapianactive */
#define MAXINO 10       /* inodes of xapianactive ever created */
#ifndef NBATCH
#define NBATCH 2        /* indexer flushes */
#endif

/* Which processes init starts: NCOMPACT compactions (1 or 2), NSIDEW
 * side writers (0, 1 or 2) with NSIDE side databases each. */
/* -DSIDE_RECREATE: the side configuration with the user created again
 * after delete_user (RECREATE), and the compaction a run for the new
 * user only (it starts once the user is created again): the side
 * writer's part of RECREATE, in fewer states than -DSIDE -DRECREATE
 * (the compaction's part is checked in the model configuration). */
#ifdef SIDE_RECREATE
#define SIDE
#define RECREATE
#endif
#ifdef SIDE
#ifndef NCOMPACT
#define NCOMPACT 1
#endif
#ifndef NSIDEW
#define NSIDEW 1
#endif
#endif
#ifndef NCOMPACT
#define NCOMPACT 2
#endif
#ifndef NSIDEW
#define NSIDEW 0
#endif
#ifndef NSIDE
#if NSIDEW > 1
#define NSIDE 1         /* squatter -j NSIDE+1 */
#else
#define NSIDE 2
#endif
#endif

#define OK 0
#define NOTFOUND 1
#define AGAIN 2
#define IOERR 3

#define NONE 0
#define SH 1
#define EX 2

/* Mutants, each one rule broken (README.md says which the check must
 * catch):
 *   M_SEARCH_NO_NAMELOCK   a search takes only the READ lock
 *   M_INDEX_NO_NAMELOCK    an indexer takes only the WRITE lock
 *   M_DELETE_NO_NAMELOCK   delete_user takes only the WRITE lock
 *   M_SHARED_STEP7         compaction steps 7-9 under a SHARED namelock
 *   M_NO_STEP3_CHECK       no "did we lose the race" check at step 3
 *   M_NO_STEP7_CHECK       none at step 7
 *   M_NO_STEP1_NEW_CLEANUP step 1 removes no .NEW directory
 *   M_NO_STEP7_CHECK_NOR_NEW_CLEANUP  both of the last two
 *   M_STEP12_ALL_NEW       step 12 removes every .NEW
 *   M_NO_RECHECK           activefile_lock trusts the inode it locked
 * and of the side writer (-DSIDE):
 *   M_SIDE_EARLY_RELEASE   side.5 releases the SHARED namelock before
 *                          the renames
 *   M_SIDE_NUMBER_AFTER_CLEANUP  side.1 numbers the targets after the
 *                          cleanup dropped other runs' targets
 *   M_SIDE_NO_LISTED_CHECK side.3 builds every target, listed or not
 *   M_SIDE_SHARED_STEP1    side.1 under a SHARED namelock
 *   M_SIDE_UNLOCKED_WRITE  side.3 releases the namelock with the READ
 *                          lock: side.4 and side.5 hold nothing
 *   M_SIDE_NO_READ_LOCK    side.3 reads xapianactive without the READ
 *                          lock (under the SHARED namelock)
 *   M_SIDE_NO_CLEANUP      side.1 leaves debris and unbuilt targets
 *   M_SIDE_CLEANUP_KEEPS_UNBUILT  tierlist_clean (step 1 and
 *                          side.1) keeps listed items without a directory
 *   M_SIDE_NO_IDENTITY_CHECK  side.3 does not compare the INBOX's
 *                          identity with the one read before side.1
 *                          (caught only with RECREATE: -DSIDE_RECREATE)
 * and of compaction with RECREATE:
 *   M_COMPACT_NO_IDENTITY_CHECK  steps 3, 7, 11 and the undo do not
 *                          compare the INBOX's identity with step 1's
 * and of the reindex configuration (-DREINDEX):
 *   M_X_CLAIM_PLAN         (in xapianlock-reindex.pml)
 * and what xapianlock/ does today where the model differs:
 *   M_STALE_STEP12         step 12 uses the list written at step 9
 *                          instead of the current xapianactive
 *   M_REUSE_GEN            step 1 numbers the new items after dropping
 *                          the listed targets of other runs
 *   M_RESURRECT            create_activefile does not check, under the
 *                          EXCLUSIVE namelock, that the user still exists */
#ifdef M_NO_STEP7_CHECK_NOR_NEW_CLEANUP
#define M_NO_STEP7_CHECK
#define M_NO_STEP1_NEW_CLEANUP
#endif

#ifdef M_RESURRECT
#define RESURRECT 1
#else
#define RESURRECT 0
#endif

#ifdef M_NO_RECHECK
#define RECHECK 0
#else
#define RECHECK 1
#endif

#ifdef M_SIDE_CLEANUP_KEEPS_UNBUILT
#define KEEP_UNBUILT 1
#else
#define KEEP_UNBUILT 0
#endif

/* ---------------------------------------------------------------- state */

/* The Xapian namelock $XAPIAN$USER: a readers-writer lock (flock). */
byte nl_r;
bool nl_w;

/* xapianactive: the inode the path names (0: no file), a flock per inode,
 * and the content of the current file (a replaced file is never read by
 * path again, so only the current content is kept). */
byte cur;
byte nextino;
byte ilr[MAXINO];
bool ilw[MAXINO];
byte lst_n;
byte lst[MAXL];

/* The user's INBOX exists (xapianlock_user_partition succeeds), and its
 * identity (its uniqueid in mailboxes.db): a user deleted and created
 * again under the same name (RECREATE) has another one. */
bool inbox = 1;
byte uid = 1;

/* Directories per generation: xapian.G (live) and xapian.G.NEW (nw). */
bool live[MAXG];
byte users[MAXG];       /* readers and writers that have xapian.G open */
byte dmask[MAXG];       /* messages committed in xapian.G (bit per message) */
bool nw[MAXG];
byte nwowner[MAXG];     /* compaction id that created xapian.G.NEW */
bool nwbusy[MAXG];      /* its owner is inside step 5 building it */
byte nwmask[MAXG];

byte written;           /* every message committed so far (P4) */
byte gused;             /* every generation allotted so far (P7) */

/* Scratch variables, used only inside one atomic step: hidden keeps them
 * out of the state vector. */
hidden byte j, i, k, g, fm, found;
hidden byte ng;         /* a generation being allotted */
hidden byte sn;         /* side.1's new list */
hidden byte sl[MAXL];

/* ---------------------------------------------------------------- locks */

/* The printf calls are the narrative of an error trail (spin -t). */
inline nl_shared(lk_) {
    atomic { !nl_w -> nl_r++; lk_ = SH; printf("[%d] namelock SHARED\n", _pid) }
}
inline nl_excl(lk_) {
    atomic {
        !nl_w && nl_r == 0 -> nl_w = 1; lk_ = EX;
        printf("[%d] namelock EXCLUSIVE\n", _pid)
    }
}
inline nl_release(lk_) {
    atomic {
        if
        :: lk_ == SH -> nl_r--; printf("[%d] namelock released\n", _pid)
        :: lk_ == EX -> nl_w = 0; printf("[%d] namelock released\n", _pid)
        :: else
        fi;
        lk_ = NONE
    }
}

inline af_unlock(wr_, fd_) {
    if
    :: wr_ -> ilw[fd_] = 0
    :: else -> ilr[fd_]--
    fi;
    printf("[%d] xapianactive unlocked (inode %d)\n", _pid, fd_)
}

/* activefile_lock: open the path, flock the descriptor (blocking), then
 * check that the path still names the inode we locked; if not, close and
 * start again.  A missing file is NOTFOUND. */
inline af_lock(wr_, fd_, r_) {
    r_ = AGAIN;
    do
    :: r_ != AGAIN -> break
    :: else ->
        atomic {
            if
            :: cur == 0 -> r_ = NOTFOUND
            :: else -> fd_ = cur
            fi
        };
        if
        :: r_ == NOTFOUND
        :: else ->
            if
            :: wr_ -> atomic { !ilw[fd_] && ilr[fd_] == 0 -> ilw[fd_] = 1 }
            :: else -> atomic { !ilw[fd_] -> ilr[fd_]++ }
            fi;
            atomic {
                printf("[%d] xapianactive locked (inode %d, write %d)\n", _pid, fd_, wr_);
                if
                :: cur == fd_ || !RECHECK -> r_ = OK
                :: else ->
                    printf("[%d] inode %d was replaced: again\n", _pid, fd_);
                    af_unlock(wr_, fd_)
                fi
            }
        fi
    od
}

/* file_replace: a new inode with new content (xapianactive.NEW + rename). */
inline new_inode() {
    assert(nextino < MAXINO);                                   /* BOUND */
    cur = nextino;
    nextino++
}

#define write_list(n_,a_)                                    \
    new_inode();                                             \
    lst_n = n_;                                              \
    j = 0;                                                   \
    do                                                       \
    :: j < n_ -> lst[j] = a_[j]; j++                         \
    :: j >= n_ && j < MAXL -> lst[j] = 0; j++                \
    :: else -> break                                         \
    od;                                                      \
    printf("[%d] xapianactive := inode %d: %d %d %d %d %d %d\n", _pid, cur, \
           lst[0], lst[1], lst[2], lst[3], lst[4], lst[5])

/* ---------------------------------------------------------------- helpers */

/* found_ = g_ is in a_[0..n_-1] */
#define listed(n_,a_,g_,found_)                      \
    found_ = 0;                                      \
    j = 0;                                           \
    do                                               \
    :: j < n_ -> found_ = found_ || a_[j] == g_; j++ \
    :: else -> break                                 \
    od

/* eq_ = the current file says exactly a_[0..n_-1] (activefile_format
 * compared as text) */
#define same_list(n_,a_,eq_)                       \
    eq_ = (cur != 0 && lst_n == n_);               \
    j = 0;                                         \
    do                                             \
    :: j < n_ -> eq_ = eq_ && lst[j] == a_[j]; j++ \
    :: else -> break                               \
    od

#define copy_cur(n_,a_)                \
    n_ = lst_n;                        \
    j = 0;                             \
    do                                 \
    :: j < MAXL -> a_[j] = lst[j]; j++ \
    :: else -> break                   \
    od

/* tierlist_next_gen: one more than the highest generation listed in
 * a_ or present as xapian.G or xapian.G.NEW. */
#define next_gen(n_,a_,g_)                                            \
    g_ = 0;                                                           \
    j = 0;                                                            \
    do                                                                \
    :: j < n_ -> g_ = (a_[j] > g_ -> a_[j] : g_); j++                 \
    :: else -> break                                                  \
    od;                                                               \
    j = 1;                                                            \
    do                                                                \
    :: j < MAXG -> g_ = ((live[j] || nw[j]) && j > g_ -> j : g_); j++ \
    :: else -> break                                                  \
    od;                                                               \
    g_++

/* P2: removing xapian.G that nobody has open. */
inline rm_dir(g_) {
    printf("[%d] rm xapian.%d\n", _pid, g_);
    assert(users[g_] == 0);                                     /* P2 */
    live[g_] = 0;
    dmask[g_] = 0
}

/* P2: removing xapian.G.NEW that nobody is building. */
inline rm_new(g_) {
    printf("[%d] rm xapian.%d.NEW\n", _pid, g_);
    assert(!nwbusy[g_]);                                        /* P2 */
    nw[g_] = 0;
    nwowner[g_] = 0;
    nwmask[g_] = 0
}

/* P2: only delete_user removes a directory the current file lists. */
inline unlisted_now(g_) {
    listed(lst_n, lst, g_, found);
    assert(!found)                                              /* P2 */
}

/* P4: the listed databases hold every committed message. */
inline check_findable() {
    fm = 0;
    j = 0;
    do
    :: j < lst_n -> fm = fm | (live[lst[j]] -> dmask[lst[j]] : 0); j++
    :: else -> break
    od;
    assert((written & ~fm) == 0)                                /* P4 */
}

/* remove_unlisted: every xapian.G not in a_; and every .NEW when all_ is
 * 1 (the caller holds the EXCLUSIVE namelock), the .NEW whose target is
 * not in a_ when all_ is 0, no .NEW when all_ is 2 (a mutant). */
#define remove_unlisted(n_,a_,all_)               \
    g = 1;                                        \
    do                                            \
    :: g < MAXG ->                                \
        listed(n_, a_, g, found);                 \
        if                                        \
        :: live[g] && !found ->                   \
            unlisted_now(g);                      \
            rm_dir(g)                             \
        :: else                                   \
        fi;                                       \
        listed(n_, a_, g, found);                 \
        if                                        \
        :: nw[g] && (all_ == 1 || all_ == 0 && !found) -> rm_new(g) \
        :: else                                   \
        fi;                                       \
        g++                                       \
    :: else -> break                              \
    od

/* tierlist_clean (under the EXCLUSIVE namelock): drop the listed
 * non-first items without a directory (targets of dead runs, or of live
 * ones that lose their race), then remove_unlisted with all_. */
#define cleanup_locked(n_,a_,all_)                \
    k = 1;                                        \
    i = 1;                                        \
    do                                            \
    :: i < n_ ->                                  \
        if                                        \
        :: live[a_[i]] || KEEP_UNBUILT -> a_[k] = a_[i]; k++ \
        :: else                                   \
        fi;                                       \
        i++                                       \
    :: else -> break                              \
    od;                                           \
    i = k;                                        \
    do                                            \
    :: i < MAXL -> a_[i] = 0; i++                 \
    :: else -> break                              \
    od;                                           \
    n_ = k;                                       \
    remove_unlisted(n_, a_, all_)

/* P7: generation g_ is allotted to a new directory: never before. */
inline allot(g_) {
    assert(g_ < MAXG);                                          /* BOUND */
    assert((gused & (1 << g_)) == 0);                           /* P7 */
    gused = gused | (1 << g_)
}

/* ---------------------------------------------------------------- processes */

#include "xapianlock-index.pml"         /* indexer, searcher, side writer */
#include "xapianlock-compact.pml"       /* compaction, delete_user */

init
{
    atomic {
        /* one indexed database, xapian.1, holding message 0 */
        cur = 1;
        nextino = 2;
        lst_n = 1;
        lst[0] = 1;
        live[1] = 1;
        dmask[1] = 1;
        written = 1;
        gused = 2;
#if NCOMPACT == 2 && NSIDEW == 0
        printf("[1] indexer [2] searcher [3] compact 1 [4] compact 2 [5] delete_user\n");
#elif NCOMPACT == 1 && NSIDEW == 1
        printf("[1] indexer [2] searcher [3] compact 1 [4] side writer [5] delete_user\n");
#else
        printf("[1] indexer [2] searcher [3] compact 1 [4..] %d compaction(s) more, then %d side writer(s), then delete_user\n",
               NCOMPACT - 1, NSIDEW);
#endif
        printf("xapianactive = inode 1: 1 0 0 0 0 0 (0: no item); xapian.1 holds message 0\n");
        run indexer(2);                    /* messages 1 .. NBATCH */
        run searcher();
        run compact(1);
#if NCOMPACT > 1
        run compact(2);
#endif
#if NSIDEW > 0
        run sidewriter(3, 8);              /* messages 3 .. 3 + NSIDE */
#endif
#if NSIDEW > 1
        run sidewriter(4, 8 << (NSIDE + 1));
#endif
        run deleter()
    };
    _nr_pr == 1;
    /* P6: everything ended and let go of everything.  One atomic step:
     * j is hidden (not in the state), so a loop over it spread over
     * several steps would revisit the same state and stop at j = 0. */
    atomic {
        assert(nl_r == 0 && !nl_w);                             /* P6 */
        j = 0;
        do
        :: j < MAXINO -> assert(ilr[j] == 0 && !ilw[j]); j++    /* P6 */
        :: else -> break
        od;
        j = 0;
        do
        :: j < MAXG -> assert(users[j] == 0 && !nwbusy[j]); j++ /* P6 */
        :: else -> break
        od
    }
}

#endif /* REINDEX, REVISION */
