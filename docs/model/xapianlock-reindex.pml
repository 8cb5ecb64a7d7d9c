/* xapianlock-reindex.pml - the reindex configuration (-DREINDEX) of the
 * model: what `squatter -z -X` plans before its step 3 and writes at
 * step 5 (xapianlock/compact-reindex.c), against the mail changing
 * meanwhile.  xapianlock.pml includes this file instead of everything
 * else when REINDEX is defined: the tier locking is the other
 * configurations' concern (a -X run takes and drops the Xapian locks as
 * any compaction does); here the concern is what the target's indexed
 * state claims.
 *
 * One user, two folders (0 and 1; their uniqueid is their number), four
 * messages indexed in the source S before the run (0 and 1 in folder 0,
 * 2 and 3 in folder 1), a fifth (4) appended meanwhile.  A message file
 * is named by its folder's current name (fname[]): a rename changes the
 * name and so the path of every message file in it.  Three databases:
 * S (the reindexed source), F (the new first item of step 1, where
 * indexers write), T (the target, listed at step 9 in S's place).
 * The state of a database is the set of messages it claims indexed
 * (its indexed.UNIQUEID metadata), its documents a set of messages.
 *
 * Processes: the -X run [1], the mail changes [2] (two of: a folder
 * renamed, a message expunged, a message appended, folder 1 deleted),
 * a plain squatter [3] (indexes into F every live message no listed
 * state claims, reading each file at the path it collected, skipping a
 * vanished one, as index.c does).  When all have ended, init runs one
 * more plain squatter and checks P8 again.
 *
 * P8: every live message that a listed database claims indexed has a
 * document in a listed database (else -A does not report it and no run
 * ever indexes it again); and after the last plain run, every live
 * message has a document in a listed database.
 *
 * Mutant M_X_CLAIM_PLAN: step 5 writes the planned state whole, as
 * compact-reindex.c did: a folder renamed between the plan and step 5
 * moved the files step 5 reads; their messages were claimed indexed
 * with no document (P8). */

#define NM 5            /* messages 0..4 */
#define NF 2            /* folders */
#define S 0
#define F 1
#define T 2

hidden byte j;          /* loop counter, used within one atomic step only */
byte folder[NM];        /* the folder of each message, for ever */
bool alive[NM];         /* not expunged, its folder not deleted */
bool fexists[NF];
byte fname[NF];         /* a rename gives the folder another name */
byte docs[3];           /* per database, a bit per message */
byte state[3];          /* what it claims indexed */
bool listed[3];

/* The live messages claimed by a listed database but in none. */
inline unbacked(x_) {
    x_ = 0;
    j = 0;
    do
    :: j < 3 ->
        if
        :: listed[j] -> x_ = x_ | state[j]
        :: else
        fi;
        j++
    :: else -> break
    od;
    j = 0;
    do
    :: j < 3 ->
        if
        :: listed[j] -> x_ = x_ & ~docs[j]
        :: else
        fi;
        j++
    :: else -> break
    od;
    j = 0;
    do
    :: j < NM ->
        if
        :: !alive[j] -> x_ = x_ & ~(1 << j)
        :: else
        fi;
        j++
    :: else -> break
    od
}

inline check_claims() {
    unbacked(x);
    assert(x == 0)                                              /* P8 */
}

/* The plain squatter: per folder (its mailbox locks), the live messages
 * no listed state claims, with their paths; then each file read (no
 * mailbox lock): a document and a claim in F, or skipped if it vanished. */
proctype plain()
{
    byte f, m, want, claimed, x;
    byte path[NM];

    f = 0;
    do
    :: f < NF ->
        atomic {
            want = 0;
            claimed = (listed[S] -> state[S] : 0) | state[F] | (listed[T] -> state[T] : 0);
            m = 0;
            do
            :: m < NM ->
                if
                :: fexists[f] && folder[m] == f && alive[m] && !(claimed & (1 << m)) ->
                    want = want | (1 << m);
                    path[m] = fname[f]
                :: else
                fi;
                m++
            :: else -> break
            od
        };
        m = 0;
        do
        :: m < NM ->
            atomic {
                if
                :: (want & (1 << m)) && alive[m] && fname[folder[m]] == path[m] ->
                    docs[F] = docs[F] | (1 << m);
                    state[F] = state[F] | (1 << m);
                    check_claims()
                :: else
                fi
            };
            m++
        :: else -> break
        od;
        f++
    :: else -> break
    od
}

/* squatter -z -X: the plan (compact_plan_state, then
 * compact_plan_messages folder by folder), step 5 message by message,
 * step 9. */
proctype reindex()
{
    byte f, m, plan, coll, done, x;
    byte path[NM];

    plan = state[S];                        /* under the Xapian locks */
    f = 0;
    do
    :: f < NF ->
        atomic {                            /* the folder's SHARED locks */
            m = 0;
            do
            :: m < NM ->
                if
                :: folder[m] != f
                :: else ->
                    if
                    :: !fexists[f] -> plan = plan & ~(1 << m)  /* state gone */
                    :: fexists[f] && alive[m] && (plan & (1 << m)) ->
                        coll = coll | (1 << m);
                        path[m] = fname[f]
                    :: else
                    fi
                fi;
                m++
            :: else -> break
            od
        };
        f++
    :: else -> break
    od;
    printf("[%d] -X: planned %d, collected %d\n", _pid, plan, coll);
    /* 5: each collected message from its file, if it is still there */
    m = 0;
    do
    :: m < NM ->
        atomic {
            if
            :: (coll & (1 << m)) && alive[m] && fname[folder[m]] == path[m] ->
                docs[T] = docs[T] | (1 << m);
                done = done | (1 << m)
            :: else
            fi
        };
        m++
    :: else -> break
    od;
#ifdef M_X_CLAIM_PLAN
    state[T] = plan;
#else
    state[T] = plan & ~(coll & ~done);      /* unclaim_unwritten */
#endif
    /* 9: the target replaces the source */
    atomic {
        printf("[%d] -X: step 9, T claims %d, has %d\n", _pid, state[T], docs[T]);
        listed[T] = 1;
        listed[S] = 0;
        check_claims()
    }
}

/* Two changes of the mail, any of them, at any time (mbctl: no Xapian
 * lock). */
proctype mail()
{
    byte k, m;

    k = 0;
    do
    :: k < 2 ->
        atomic {
            if
            :: fexists[0] -> fname[0]++; printf("[%d] rename folder 0\n", _pid)
            :: fexists[1] -> fname[1]++; printf("[%d] rename folder 1\n", _pid)
            :: select(m : 0 .. NM - 1);
               if
               :: alive[m] -> alive[m] = 0; printf("[%d] expunge %d\n", _pid, m)
               :: else
               fi
            :: !alive[4] && fexists[0] ->
               alive[4] = 1; printf("[%d] append 4 to folder 0\n", _pid)
            :: fexists[1] ->
               fexists[1] = 0;
               alive[2] = 0;
               alive[3] = 0;
               printf("[%d] delete folder 1\n", _pid)
            fi
        };
        k++
    :: else -> break
    od
}

init
{
    byte x;

    atomic {
        folder[0] = 0; folder[1] = 0; folder[2] = 1; folder[3] = 1; folder[4] = 0;
        alive[0] = 1; alive[1] = 1; alive[2] = 1; alive[3] = 1;
        fexists[0] = 1; fexists[1] = 1;
        docs[S] = 15;
        state[S] = 15;
        listed[S] = 1;
        listed[F] = 1;                      /* step 1: the new first item */
        printf("[1] -X [2] mail [3] squatter; S holds and claims 0-3\n");
        run reindex();
        run mail();
        run plain()
    };
    _nr_pr == 1;
    run plain();                            /* the next run */
    _nr_pr == 1;
    atomic {
        check_claims();
        /* and every live message is found */
        x = docs[F] | (listed[T] -> docs[T] : 0) | (listed[S] -> docs[S] : 0);
        j = 0;
        do
        :: j < NM -> assert(!alive[j] || (x & (1 << j))); j++   /* P8 */
        :: else -> break
        od
    }
}
