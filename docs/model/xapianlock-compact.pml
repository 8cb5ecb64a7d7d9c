/* xapianlock-compact.pml - the processes that remove directories:
 * compaction (compact_dbs, xapianlock/compact.c) and delete_user
 * (xapianlock_delete_user).  Part of xapianlock.pml, which includes it
 * after the state, the locks and the helpers it uses; see there for the
 * properties and the mutants, and docs/model/README.md for the mapping to
 * the C code. */

/* ---------------------------------------------------------------- processes */

/* Under the namelock taken again (steps 3, 7, 11, the undo): a user
 * deleted and created again since step 1 may list our numbers for its
 * own databases; stop, changing nothing (RECREATE).  One step with the
 * taking of the lock: the mailboxes.db lookup does not touch the
 * namelock, and the INBOX changes without it (mbctl), so checking in
 * the same step reaches the same outcomes with fewer states. */
#ifdef M_COMPACT_NO_IDENTITY_CHECK
#define same_user() skip
#else
#define same_user() \
    if \
    :: !(inbox && uid == myid) -> goto gone \
    :: else \
    fi
#endif

/* compact_dbs: the 13 steps of xapianlock/compact.c. */
proctype compact(byte id)
{
    byte fd, r, F, T, lk, opened, srcs;
    byte myid;                  /* the INBOX's identity at step 1 */
    bool haveaf;
    byte it_n;
    byte it[MAXL];
    byte fz_n;
    byte fz[MAXL];
    byte nx_n;
    byte nx[MAXL];

#ifdef SIDE_RECREATE
    uid > 1;                               /* a run for the new user */
#endif
    if
    :: !inbox -> goto out                  /* xapianlock_user_partition */
    :: else
    fi;

    /* 1: EXCLUSIVE namelock; cleanup_locked; a new first item, the
     * target at the tail. */
    nl_excl(lk);
    atomic {
        myid = (inbox -> uid : 0);         /* xapianlock_inbox_uniqueid */
        if
        :: cur == 0 || myid == 0 -> goto out   /* nothing indexed, no user */
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
    atomic { nl_shared(lk); same_user() };
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
    atomic { nl_shared(lk); same_user() };
#else
    atomic { nl_excl(lk); same_user() };
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
    atomic { nl_shared(lk); same_user() };

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
    atomic { nl_excl(lk); same_user() };
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
gone:
    printf("[%d] compact %d: the user is not step 1's: stops\n", _pid, id);
out:
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
    /* a new user of the same name (mbctl create user.ID): an INBOX
     * with another uniqueid */
    atomic {
        uid++;
        inbox = 1;
        printf("[%d] the user is created again (INBOX identity %d)\n", _pid, uid)
    }
#endif
}
