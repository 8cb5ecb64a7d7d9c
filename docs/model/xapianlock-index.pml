/* xapianlock-index.pml - the processes that write and read the databases:
 * indexer (indexer_flush), searcher (xap_search_run, read_indexed) and the
 * side writer (indexer_flush_parallel, xapianlock/index-side.c), with
 * begin_update and commit_first, which the indexer and the side writer
 * share.  Part of xapianlock.pml, which includes it after the state, the
 * locks and the helpers it uses; see there for the properties and the
 * mutants, and docs/model/README.md for the mapping to the C code. */

/* ---------------------------------------------------------------- processes */

/* xap_xapianlock_begin_mailbox_update up to the first item: SHARED namelock,
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

/* xap_search_run / read_indexed: begin_search (SHARED namelock, READ lock,
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
    byte myid;                  /* the INBOX's identity before side.1 */

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
        myid = (inbox -> uid : 0);         /* inbox_uniqueid (0: none) */
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
    /* ... but first, the user must still be the one whose list side.1
     * wrote: its INBOX has the identity read before side.1.  Deleted
     * and created again in between (RECREATE), the new user's list may
     * name the same numbers for its own databases: build none.  The
     * SHARED namelock keeps delete_user out until side.5. */
    atomic {
#ifndef M_SIDE_NO_IDENTITY_CHECK
        r = (myid != 0 && inbox && uid == myid -> OK : NOTFOUND);
#else
        r = OK;
#endif
        myid = 0
    };
    if
    :: r == NOTFOUND ->
        printf("[%d] side.3: not the user of side.1: no side database\n", _pid);
        nl_release(lk);
        goto serial
    :: else
    fi;
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
