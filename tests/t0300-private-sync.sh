#!/bin/sh
# A side writer's .NEW and a compaction's target are written without
# per-commit fsyncs and made durable once, before the rename that lists
# them (docs/LOCKING.md "Private databases are synced once"):
#  - a side database's .NEW gets exactly one fsync per file and one for
#    its directory, all after its last commit (none per batch);
#  - an fsync of that sync failing aborts the publish: exit 74, the
#    database is not renamed into the list, search still answers, and
#    the next runs index what it held and leave no debris;
#  - the same for a compaction's target (-F, Xapian's compaction and then
#    our deletions, unsynced, and a plain one): every fsync of its sync
#    failing in turn leaves the sources
#    listed (and the new first database step 1 put before them), the
#    target unlisted, every message found; the next compaction succeeds
#    with the same answers.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
U=p
W=privword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/ioerr-shim.sh"
echo "search_batchsize: 4" >> "$XAPIARY_CONFIG"

messages 40
"$MBCTL" create user.p && (cd "$T" && "$MBCTL" append user.p $(seq -f g%g 1 40) > /dev/null)
[ $? -eq 0 ] && pass "the starting state" || fail "the starting state"
(cd "$T" && tar cf base.tar conf spool search search2)
restore() { (cd "$T" && rm -rf conf spool search search2 && tar xf base.tar); }
userdir() { find "$T/$1" -mindepth 3 -maxdepth 3 -path "*/user/$U"; }

# counted OP STRING CMD...: CMD's calls of OP on files named STRING
counted() {
    local op=$1 path=$2
    shift 2
    rm -f "$T/cnt"
    LD_PRELOAD="$SHIM" XAPIARY_IOERR_PATH="$path" XAPIARY_IOERR_COUNT="$T/cnt" "$@" \
        > "$T/out" 2> "$T/err"
    awk -v op="$op" '$1 == op { print $2 }' "$T/cnt"
}
# inject OP:N STRING CMD...: CMD with that call failing; exit in $rc
inject() {
    local spec=$1 path=$2
    shift 2
    LD_PRELOAD="$SHIM" XAPIARY_IOERR="$spec" XAPIARY_IOERR_PATH="$path" "$@" > "$T/out" 2> "$T/err"
    rc=$?
}

# --- side writers: a fresh user's run with 3 writers lists t1:2 and t1:3
# at the tail; xapian.2.NEW is one of them.
n=$(counted fsync xapian.2.NEW "$SQUATTER" -j 3 -u p)
[ "$(active)" = "t1:1 t1:2 t1:3" ] && pass "three writers: two side databases" \
                                  || fail "three writers: two side databases" "$(active)"
files=$(find "$(userdir search)/xapian.2" -type f | wc -l)
[ "$files" -ge 4 ] && [ "${n:-0}" -eq $((files + 1)) ] \
    && pass "a side database: one fsync per file ($files) and one for its directory" \
    || fail "a side database: one fsync per file ($files) and one for its directory" \
            "${n:-0} fsyncs of xapian.2.NEW"
[ "$(count "$W")" = 40 ] && pass "every message found" || fail "every message found" "$(count "$W")"

restore
inject "fsync:$n" xapian.2.NEW "$SQUATTER" -j 3 -u p
[ "$rc" -eq 74 ] && pass "the last fsync of a side .NEW fails: exit 74" \
                 || fail "the last fsync of a side .NEW fails: exit 74" "exit $rc: $(cat "$T/err")"
expect_grep "xapian.2.NEW" "$T/err" "the error names the .NEW"
[ -z "$(ls -A "$(userdir search)/xapian.2")" ] && pass "it is not renamed into the list" \
    || fail "it is not renamed into the list" "$(ls -A "$(userdir search)/xapian.2")"
got=$(count "$W")
[ -n "$got" ] && [ "$got" -lt 40 ] && pass "search answers without it ($got found)" \
                                   || fail "search answers without it" "$got: $(cat "$T/xs.err")"
expect_exit 0 "the next run" "$SQUATTER" -j 3 -u p
[ "$(count "$W")" = 40 ] && pass "and every message is found" || fail "and every message is found" "$(count "$W")"
expect_exit 0 "a compaction" "$SQUATTER" -z t2 -t t1 -u p
[ "$(count "$W")" = 40 ] && pass "after it too" || fail "after it too" "$(count "$W")"
no_debris "no debris"

# --- compactions of the three databases (-F and plain, both Xapian's;
# -F then deletes the documents it drops, unsynced), each fsync of the
# target's sync failing in turn.  From the same list t1:1 t1:2 t1:3, each
# numbers its target xapian.5.
# One message expunged, so that -F has a document to delete.
restore
"$SQUATTER" -j 3 -u p 2> /dev/null
"$MBCTL" expunge user.p 1 > /dev/null || fail "expunge one"
(cd "$T" && tar cf base.tar conf spool search search2)
answers "$T/before"
before=$(active)
for how in -F plain; do
    set -- "$SQUATTER" -z t2 -t t1 -u p
    [ "$how" = -F ] && set -- "$@" -F
    restore
    total=$(counted fsync xapian.5.NEW "$@")
    files=$(find "$T/search2" -type f | wc -l)
    # Xapian's own compaction syncs its tables as it goes; ours (files +
    # 1) come last, and -F's deletions add none.
    if [ "$how" = -F ]; then
        fsyncs_f=${total:-0}
    else
        [ "$files" -ge 4 ] && [ "${total:-0}" -eq "$fsyncs_f" ] \
            && pass "-F's deletions add no fsync to a plain compaction's ($fsyncs_f)" \
            || fail "-F's deletions add no fsync to a plain compaction's" \
                    "-F ${fsyncs_f} fsyncs, plain ${total:-0}"
    fi
    first=$((total - files))
    k=$first
    bad=""
    while [ "$k" -le "${total:-0}" ]; do
        restore
        inject "fsync:$k" xapian.5.NEW "$@"
        [ "$rc" -eq 74 ] || bad="$bad fsync:$k exit $rc ($(head -1 "$T/err"));"
        [ "$(active)" = "t1:4 $before" ] || bad="$bad fsync:$k list $(active);"
        [ "$(count "$W")" = 39 ] || bad="$bad fsync:$k found $(count "$W");"
        k=$((k + 1))
    done
    [ -z "$bad" ] && [ "${total:-0}" -ge "$first" ] \
        && pass "$how: fsync $first..$total of the target failing: exit 74, list as before, all found" \
        || fail "$how: fsync $first..$total of the target failing: exit 74, list as before, all found" "$bad"
    expect_exit 0 "$how: the next compaction" "$@"
    answers "$T/after"
    cmp -s "$T/before" "$T/after" && pass "$how: same answers after it" \
        || fail "$how: same answers after it" "$(diff "$T/before" "$T/after")"
    no_debris "$how: no debris"
done

done_testing
