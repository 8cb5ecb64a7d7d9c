/* xapianlock.pml - a Promela model of the two-level locking of one user's
 * search tiers (seeds/003, SPEC sections 8-9, docs/LOCKING.md), checked
 * with spin by docs/model/check.  docs/model/README.md maps every process
 * and step to the C code and lists what is left out.
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
 * Two configurations (check runs both):
 *   (default)  an indexer, a searcher, two compactions, delete_user;
 *   -DSIDE     an indexer, a searcher, one compaction, a side writer
 *              with two side databases (squatter -j 3,
 *              xapianlock/index-side.c), delete_user.
 * A side writer with two compactions, or two side writers, is too large
 * for a quick exhaustive run; NCOMPACT, NSIDEW and NSIDE select them
 * (README.md gives their sizes).
 *
 * Mutants (docs/model/check --mutant NAME defines M_NAME) break one rule
 * each; see README.md for which must fail and why. */

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
 *   M_SIDE_CLEANUP_KEEPS_UNBUILT  compact_cleanup_locked (step 1 and
 *                          side.1) keeps listed items without a directory
 * and what xapianlock/ does today where the model differs:
 *   M_STALE_STEP12         step 12 uses the list written at step 9
 *                          instead of the current xapianactive
 *   M_REUSE_GEN            step 1 numbers the new items after dropping
 *                          the listed targets of other runs
 *   M_RESURRECT            create_activefile does not check, under the
 *                          EXCLUSIVE namelock, that the user still exists
 * and an open issue of both:
 *   M_RECREATE             the user is created again after delete_user */
#ifdef M_NO_STEP7_CHECK_NOR_NEW_CLEANUP
#define M_NO_STEP7_CHECK
#define M_NO_STEP1_NEW_CLEANUP
#endif

#ifdef M_RECREATE
#define RECREATE
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

/* The user's INBOX exists (xapianlock_user_partition succeeds). */
bool inbox = 1;

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

/* activefile_next_gen: one more than the highest generation listed in
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

/* compact_cleanup_locked (under the EXCLUSIVE namelock): drop the listed
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

/* xapianlock_begin_mailbox_update up to the first item: SHARED namelock,
 * WRITE lock with the inode re-check.  A missing xapianactive is created
 * under the EXCLUSIVE namelock (create_activefile, which gives up if the
 * user is gone meanwhile) and the begin starts again, once.  r_: OK with
 * both locks held, or NOTFOUND with none. */
inline begin_update(lk_, fd_, r_, att_) {
    att_ = 0;
    do
    :: true ->
#ifndef M_INDEX_NO_NAMELOCK
        nl_shared(lk_);
#endif
        af_lock(1, fd_, r_);
        if
        :: r_ == NOTFOUND && att_ == 0 ->
            nl_release(lk_);
            printf("[%d] no xapianactive: create it\n", _pid);
            nl_excl(lk_);
            atomic {
                if
                :: cur != 0 -> r_ = OK     /* someone else created it */
                :: cur == 0 && (inbox || RESURRECT) ->
                    next_gen(0, sl, ng);
                    allot(ng);
                    sl[0] = ng;
                    write_list(1, sl);
                    sl[0] = 0;
                    r_ = OK
                :: else                    /* the user was deleted meanwhile */
                fi
            };
            nl_release(lk_);
            if
            :: r_ == NOTFOUND -> break
            :: else -> att_ = 1
            fi
        :: r_ == NOTFOUND ->
            nl_release(lk_);
            break
        :: else -> break
        fi
    od
}

/* From the end of begin_mailbox_update (the WRITE lock held): the first
 * item's directory (mkdir_p), xw_dbw_open, one Xapian commit of the
 * messages m_ (documents and indexed state together), xw_dbw_close and
 * the file lock's end.  The caller releases the namelock. */
inline commit_first(fd_, wg_, m_) {
    atomic {
        wg_ = lst[0];
        live[wg_] = 1;
        users[wg_]++;
        printf("[%d] opens xapian.%d to write\n", _pid, wg_)
    };
    atomic {
        assert(cur == fd_ && ilw[fd_] && lst_n > 0 && lst[0] == wg_); /* P3 */
        assert(live[wg_]);                                          /* P2 */
        printf("[%d] commits messages %d into xapian.%d\n", _pid, m_, wg_);
        dmask[wg_] = dmask[wg_] | m_;
        written = written | m_
    };
    atomic {
        users[wg_]--;
        wg_ = 0;
        af_unlock(1, fd_);
        fd_ = 0
    }
}

/* indexer_flush: begin_mailbox_update (SHARED namelock, WRITE lock, the
 * first item's directory), one commit into it, end. */
proctype indexer(byte bits)
{
    byte fd, r, wg, lk, attempt, batch;

    batch = 0;
    do
    :: batch == NBATCH -> break
    :: else ->
        batch++;
        if
        :: !inbox -> goto next             /* xapianlock_user_partition */
        :: else
        fi;
        begin_update(lk, fd, r, attempt);
        if
        :: r == NOTFOUND -> goto next
        :: else
        fi;
        commit_first(fd, wg, bits << (batch - 1));
        nl_release(lk);
next:
        skip
    od
}

/* search_run / read_indexed: begin_search (SHARED namelock, READ lock,
 * resolve_paths: every listed directory that exists is opened, a missing
 * one is skipped), the query, end in reverse order. */
proctype searcher()
{
    byte fd, r, lk, opened;

    if
    :: !inbox -> goto done
    :: else
    fi;
#ifndef M_SEARCH_NO_NAMELOCK
    nl_shared(lk);
#endif
    af_lock(0, fd, r);
    if
    :: r == NOTFOUND ->                    /* nothing indexed: no hits */
        nl_release(lk);
        goto done
    :: else
    fi;
    atomic {
        opened = 0;
        j = 0;
        do
        :: j < lst_n ->
            if
            :: live[lst[j]] ->
                users[lst[j]]++;
                opened = opened | (1 << lst[j]);
                printf("[%d] searcher opens xapian.%d\n", _pid, lst[j])
            :: else                        /* ENOENT: not renamed yet */
            fi;
            j++
        :: else -> break
        od
    };
    /* the query runs here, reading every opened database */
    atomic {
        j = 1;
        do
        :: j < MAXG ->
            if
            :: opened & (1 << j) -> assert(live[j]); users[j]--   /* P2 */
            :: else
            fi;
            j++
        :: else -> break
        od;
        opened = 0;
        printf("[%d] searcher closes its databases\n", _pid);
        af_unlock(0, fd)
    };
    nl_release(lk);
done:
    skip
}

/* compact_dbs: the 13 steps of xapianlock/compact.c. */
proctype compact(byte id)
{
    byte fd, r, F, T, lk, opened, srcs;
    bool haveaf;
    byte it_n;
    byte it[MAXL];
    byte fz_n;
    byte fz[MAXL];
    byte nx_n;
    byte nx[MAXL];

    if
    :: !inbox -> goto out                  /* xapianlock_user_partition */
    :: else
    fi;

    /* 1: EXCLUSIVE namelock; cleanup_locked; a new first item, the
     * target at the tail. */
    nl_excl(lk);
    atomic {
        if
        :: cur == 0 -> goto out            /* nothing indexed */
        :: else
        fi;
        printf("[%d] compact %d: step 1\n", _pid, id);
        copy_cur(it_n, it);
#ifndef M_REUSE_GEN
        next_gen(it_n, it, F);
#endif
#ifdef M_NO_STEP1_NEW_CLEANUP
        cleanup_locked(it_n, it, 2);
#else
        cleanup_locked(it_n, it, 1);
#endif
#ifdef M_REUSE_GEN
        next_gen(it_n, it, F);
#endif
        T = F + 1;
        assert(it_n + 2 <= MAXL);                               /* BOUND */
        allot(F);
        allot(T);
        nx[0] = F;
        i = 0;
        srcs = 0;
        do
        :: i < it_n -> nx[i + 1] = it[i]; srcs = srcs | (1 << it[i]); i++
        :: else -> break
        od;
        nx[it_n + 1] = T;
        nx_n = it_n + 2;
        write_list(nx_n, nx);
        copy_cur(fz_n, fz);                /* frozen */
        check_findable()
    };

    /* 2 */
    nl_release(lk);

    /* 3: SHARED namelock + READ lock: still the list of step 1? */
    printf("[%d] compact %d: step 3\n", _pid, id);
    nl_shared(lk);
    af_lock(0, fd, r);
    if
    :: r == NOTFOUND -> goto undo
    :: else
    fi;
    haveaf = 1;
#ifndef M_NO_STEP3_CHECK
    atomic {
        same_list(fz_n, fz, found);
        if
        :: !found -> r = AGAIN; goto undo
        :: else
        fi
    };
#endif

    /* 4 */
    atomic { af_unlock(0, fd); haveaf = 0 };

    /* 5: mkdir_parents + remove_tree(newdir), then build it from the
     * sources that exist (frozen since step 1). */
    atomic {
        if
        :: nw[T] -> rm_new(T)
        :: else
        fi;
        printf("[%d] compact %d: step 5 builds xapian.%d.NEW\n", _pid, id, T);
        nw[T] = 1;
        nwowner[T] = id;
        nwbusy[T] = 1;
        nwmask[T] = 0;
        opened = 0;
        g = 1;
        do
        :: g < MAXG ->
            if
            :: (srcs & (1 << g)) && live[g] ->
                users[g]++;
                opened = opened | (1 << g);
                printf("[%d] compact %d: reads xapian.%d\n", _pid, id, g)
            :: else
            fi;
            g++
        :: else -> break
        od
    };
    atomic {
        g = 1;
        do
        :: g < MAXG ->
            if
            :: opened & (1 << g) ->
                assert(live[g]);                                /* P2 */
                nwmask[T] = nwmask[T] | dmask[g];
                users[g]--
            :: else
            fi;
            g++
        :: else -> break
        od;
        opened = 0;
        printf("[%d] compact %d: xapian.%d.NEW built\n", _pid, id, T);
        assert(nw[T] && nwowner[T] == id);                      /* P2 */
        nwbusy[T] = 0
    };

    /* 6 */
    nl_release(lk);

    /* 7: EXCLUSIVE namelock: still the list of step 1? */
    printf("[%d] compact %d: step 7\n", _pid, id);
#ifdef M_SHARED_STEP7
    nl_shared(lk);
#else
    nl_excl(lk);
#endif
    atomic {
        if
        :: cur == 0 -> r = NOTFOUND; goto undo
        :: else
        fi;
        copy_cur(it_n, it);
#ifndef M_NO_STEP7_CHECK
        same_list(fz_n, fz, found);
        if
        :: !found -> r = AGAIN; goto undo
        :: else
        fi
#endif
    };

    /* 8: rename xapian.T.NEW to xapian.T */
    atomic {
        if
        :: nw[T] && !live[T] ->
            printf("[%d] compact %d: step 8 renames xapian.%d.NEW\n", _pid, id, T);
            assert(nwowner[T] == id);                           /* P5 */
            live[T] = 1;
            dmask[T] = nwmask[T];
            nw[T] = 0;
            nwowner[T] = 0;
            nwmask[T] = 0
        :: else -> r = IOERR; goto undo
        fi
    };

    /* 9: the sources leave the list: keep the first item and the target */
    atomic {
        nx[0] = it[0];
        k = 1;
        i = 1;
        do
        :: i < it_n ->
            if
            :: it[i] == T -> nx[k] = T; k++
            :: else
            fi;
            i++
        :: else -> break
        od;
        nx_n = k;
        printf("[%d] compact %d: step 9\n", _pid, id);
        write_list(nx_n, nx);
        check_findable()
    };

    /* 10, 11 */
    nl_release(lk);
    nl_shared(lk);

    /* 12: remove what the list no longer names; a .NEW only if its
     * target is not listed.  compact.c uses the list it wrote at step 9
     * (M_STALE_STEP12); the model re-reads the file. */
    atomic {
        printf("[%d] compact %d: step 12\n", _pid, id);
#ifdef M_STALE_STEP12
        remove_unlisted(nx_n, nx, 0);
#else
        if
        :: cur != 0 ->
            copy_cur(nx_n, nx);
#ifdef M_STEP12_ALL_NEW
            remove_unlisted(nx_n, nx, 1);
#else
            remove_unlisted(nx_n, nx, 0);
#endif
        :: else
        fi;
#endif
        check_findable()
    };

    /* 13 */
    goto out;

undo:
    /* lost a race or failed after step 1: let go, then under the
     * EXCLUSIVE namelock remove our .NEW and take our target out. */
    if
    :: haveaf -> atomic { af_unlock(0, fd); haveaf = 0 }
    :: else
    fi;
    /* r: 1 no xapianactive, 2 the list changed, 3 the rename failed */
    printf("[%d] compact %d: lost (%d): undo\n", _pid, id, r);
    nl_release(lk);
    nl_excl(lk);
    atomic {
        if
        :: nw[T] ->
            assert(nwowner[T] == id);                           /* P5 */
            rm_new(T)
        :: else
        fi;
        if
        :: cur != 0 ->
            copy_cur(it_n, it);
            k = 0;
            i = 0;
            do
            :: i < it_n ->
                if
                :: it[i] != T -> nx[k] = it[i]; k++
                :: else -> assert(i > 0)                        /* P5 */
                fi;
                i++
            :: else -> break
            od;
            if
            :: k < it_n -> nx_n = k; write_list(nx_n, nx); check_findable()
            :: else
            fi
        :: else
        fi
    };
out:
    nl_release(lk)
}

/* indexer_flush_parallel (xapianlock/index-side.c): squatter -j with
 * NSIDE side databases.  Message bits: the first writer's share, then
 * one message per side database (SHARE(w)); a side database that gets no
 * writer gives its share to the first writer.  id is its .NEW owner id
 * (the compactions are 1 and 2). */
#define SHARE(w_) (bits << ((w_) + 1))

proctype sidewriter(byte id; byte bits)
{
    byte fd, r, wg, lk, attempt, w;
    byte mine;                  /* bit w: side database w has a writer */
    byte m;                     /* messages for the first database */
    byte tg[NSIDE];             /* the side targets' generations */

    assert((bits << NSIDE) < 256);                              /* BOUND */
    if
    :: !inbox -> goto done                 /* xapianlock_user_partition */
    :: else
    fi;

    /* (prep) begin_mailbox_update: xapianactive and the first database
     * exist from here on (created if missing); end. */
    begin_update(lk, fd, r, attempt);
    if
    :: r == NOTFOUND -> goto done
    :: else
    fi;
    atomic {
        assert(cur == fd && ilw[fd] && lst_n > 0);              /* P3 */
        live[lst[0]] = 1;
        printf("[%d] side: xapian.%d exists\n", _pid, lst[0]);
        af_unlock(1, fd);
        fd = 0
    };
    nl_release(lk);

    /* (prep) begin_search: which GUIDs some database has (they would go
     * to the first writer; the model has none); end. */
    if
    :: !inbox -> goto done
    :: else
    fi;
    nl_shared(lk);
    af_lock(0, fd, r);
    atomic {
        if
        :: r == OK -> af_unlock(0, fd)
        :: else                            /* nothing indexed: none known */
        fi;
        fd = 0
    };
    nl_release(lk);

    /* side.1: EXCLUSIVE namelock: number the targets from the list as
     * read, then the cleanup of compaction's step 1, then the targets at
     * the tail. */
#ifdef M_SIDE_SHARED_STEP1
    nl_shared(lk);
#else
    nl_excl(lk);
#endif
    atomic {
        if
        :: cur == 0 -> goto done           /* activefile_read fails */
        :: else
        fi;
        printf("[%d] side.1\n", _pid);
        copy_cur(sn, sl);
#ifndef M_SIDE_NUMBER_AFTER_CLEANUP
        next_gen(sn, sl, ng);
#endif
#ifndef M_SIDE_NO_CLEANUP
        cleanup_locked(sn, sl, 1);
#endif
#ifdef M_SIDE_NUMBER_AFTER_CLEANUP
        next_gen(sn, sl, ng);
#endif
        assert(sn + NSIDE <= MAXL);                             /* BOUND */
        i = 0;
        do
        :: i < NSIDE ->
            tg[i] = ng + i;
            allot(tg[i]);
            sl[sn] = tg[i];
            sn++;
            i++
        :: else -> break
        od;
        write_list(sn, sl);
        check_findable();
        sn = 0;
        i = 0;
        do
        :: i < MAXL -> sl[i] = 0; i++
        :: else -> break
        od
    };

    /* side.2 */
    nl_release(lk);

    /* side.3: SHARED namelock (kept to the end) and READ lock: a .NEW
     * for each target still listed (remove_tree, then create); a target
     * an EXCLUSIVE holder dropped meanwhile gets no writer. */
    nl_shared(lk);
#ifdef M_SIDE_NO_READ_LOCK
    r = (cur == 0 -> NOTFOUND : OK);
#else
    af_lock(0, fd, r);
#endif
    if
    :: r == NOTFOUND ->                    /* deleted meanwhile */
        nl_release(lk);
        goto serial
    :: else
    fi;
    atomic {
        mine = 0;
        i = 0;
        do
        :: i < NSIDE ->
            listed(lst_n, lst, tg[i], found);
#ifdef M_SIDE_NO_LISTED_CHECK
            found = 1;
#endif
            if
            :: found ->
                if
                :: nw[tg[i]] -> rm_new(tg[i])
                :: else
                fi;
                printf("[%d] side.3 creates xapian.%d.NEW\n", _pid, tg[i]);
                nw[tg[i]] = 1;
                nwowner[tg[i]] = id;
                nwbusy[tg[i]] = 1;         /* live until side.5 renames it */
                nwmask[tg[i]] = 0;
                mine = mine | (1 << i)
            :: else ->
                printf("[%d] side.3: xapian.%d left the list: no writer\n", _pid,
                       tg[i])
            fi;
            i++
        :: else -> break
        od;
#ifndef M_SIDE_NO_READ_LOCK
        af_unlock(0, fd);
#endif
        fd = 0
    };
#ifdef M_SIDE_UNLOCKED_WRITE
    nl_release(lk);
#endif
    if
    :: mine == 0 ->
        nl_release(lk);
        goto serial
    :: else
    fi;

    /* side.4: each side writer commits its share into its .NEW, no lock
     * (its threads; a .NEW is private, so the order against writer 0
     * does not matter to anyone else) ... */
    atomic {
        i = 0;
        do
        :: i < NSIDE ->
            if
            :: mine & (1 << i) ->
                assert(nw[tg[i]] && nwowner[tg[i]] == id);      /* P2 */
                printf("[%d] side.4 commits message %d into xapian.%d.NEW\n", _pid,
                       SHARE(i), tg[i]);
                nwmask[tg[i]] = nwmask[tg[i]] | SHARE(i)
            :: else
            fi;
            i++
        :: else -> break
        od
    };
    /* ... and writer 0 its share (with the shares of the targets that
     * got no writer) into the first database, as indexer_flush does:
     * begin_mailbox_update, whose SHARED namelock is already held
     * (refcounted in the process: only the WRITE lock is taken). */
    atomic {
        m = bits;
        i = 0;
        do
        :: i < NSIDE ->
            m = m | ((mine & (1 << i)) -> 0 : SHARE(i));
            i++
        :: else -> break
        od
    };
    if
    :: !inbox                              /* write_first fails */
    :: else ->
        af_lock(1, fd, r);
        /* our SHARED namelock keeps delete_user out: the file is there */
        assert(r == OK);                                        /* P3 */
        commit_first(fd, wg, m)
    fi;
    m = 0;

    /* side.5: still under the SHARED namelock, each .NEW is renamed to
     * its listed item; xapianactive does not change.  Its messages are
     * findable from here on. */
#ifdef M_SIDE_EARLY_RELEASE
    nl_release(lk);
#endif
    w = 0;
    do
    :: w < NSIDE ->
        atomic {
            if
            :: mine & (1 << w) ->
                g = tg[w];
                printf("[%d] side.5 renames xapian.%d.NEW\n", _pid, g);
                assert(nw[g] && nwowner[g] == id && !live[g]);  /* P2 */
                live[g] = 1;
                dmask[g] = nwmask[g];
                nw[g] = 0;
                nwowner[g] = 0;
                nwbusy[g] = 0;
                nwmask[g] = 0;
                written = written | SHARE(w);
                check_findable()
            :: else
            fi;
            w++
        }
    :: else -> break
    od;
    w = 0;
    nl_release(lk);
    goto done;

serial:
    /* no side writer (flush_serial): the first database takes it all,
     * with begin_mailbox_update, holding nothing before. */
    if
    :: !inbox -> goto done
    :: else
    fi;
    begin_update(lk, fd, r, attempt);
    if
    :: r == NOTFOUND -> goto done
    :: else
    fi;
    atomic {
        m = bits;
        i = 0;
        do
        :: i < NSIDE -> m = m | SHARE(i); i++
        :: else -> break
        od
    };
    commit_first(fd, wg, m);
    m = 0;
    nl_release(lk);
done:
    nl_release(lk)
}

/* xapianlock_delete_user, called by mbctl after the user's mailboxes are
 * gone: EXCLUSIVE namelock, WRITE lock, every directory, the file. */
proctype deleter()
{
    byte fd, r, lk;

    inbox = 0;
    printf("[%d] delete_user: the mailboxes are gone\n", _pid);
#ifndef M_DELETE_NO_NAMELOCK
    nl_excl(lk);
#endif
    af_lock(1, fd, r);
    atomic {
        printf("[%d] delete_user: removes everything\n", _pid);
        g = 1;
        do
        :: g < MAXG ->
            if
            :: live[g] -> rm_dir(g)
            :: else
            fi;
            if
            :: nw[g] -> rm_new(g)
            :: else
            fi;
            g++
        :: else -> break
        od;
        cur = 0;
        lst_n = 0;
        written = 0;                       /* the user's mail is gone */
        gused = 0                          /* and its numbers (P7) */
    };
    if
    :: r == OK -> af_unlock(1, fd)
    :: else
    fi;
    nl_release(lk);
#ifdef RECREATE
    /* a new user of the same name (mbctl create user.ID) */
    inbox = 1;
    printf("[%d] the user is created again\n", _pid)
#endif
}

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
