#!/bin/sh
# A compaction that outlives its user (docs/model: RECREATE): it lists
# its target at step 1 and lets the namelock go; the user is deleted and
# created again, and the new user's own compaction lists the same
# generation numbers.  When the old run goes on it must not act on them
# (its undo took "its" target out of the new user's list: the new user's
# mail was no longer found).  Paused with XAPIARY_PAUSE at each gap where
# no Xapian lock is held: after step 2 (before 3), after step 6 (before
# 7), after step 10 (before 11).
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
W=recreateword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"

messages 6

for k in 2 6 10; do
    U=z$k
    expect_exit 0 "step $k: create user.$U" "$MBCTL" create "user.$U"
    (cd "$T" && "$MBCTL" append "user.$U" g1 g2 g3 > /dev/null)
    expect_exit 0 "step $k: index it" "$SQUATTER" -u "$U"
    rm -f "$T/pause"
    XAPIARY_PAUSE="compact.$k:$T/pause" "$SQUATTER" -z t1 -t t1 -u "$U" 2> "$T/paused.err" &
    paused=$!
    i=0
    while [ ! -e "$T/pause" ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i + 1)); done
    [ -e "$T/pause" ] && pass "step $k: the compaction is paused" \
                      || fail "step $k: the compaction did not reach compact.$k" "$(cat "$T/paused.err")"
    expect_exit 0 "step $k: delete user.$U meanwhile" "$MBCTL" delete "user.$U"
    expect_exit 0 "step $k: create user.$U again" "$MBCTL" create "user.$U"
    (cd "$T" && "$MBCTL" append "user.$U" g4 g5 g6 > /dev/null)
    expect_exit 0 "step $k: index the new user" "$SQUATTER" -u "$U"
    expect_exit 0 "step $k: compact the new user" "$SQUATTER" -z t1 -t t1 -u "$U"
    before=$(active)
    rm -f "$T/pause"
    wait $paused; rc=$?
    # The old run may end either way (75: the list changed, or 0 once its
    # work was done); it must not touch the new user's list.
    { [ $rc -eq 0 ] || [ $rc -eq 75 ]; } && pass "step $k: the old run ends (exit $rc)" \
        || fail "step $k: the old run: exit $rc" "$(cat "$T/paused.err")"
    [ "$(active)" = "$before" ] && pass "step $k: the new user's list is untouched ($before)" \
        || fail "step $k: the new user's list is untouched" "$before -> $(active); $(cat "$T/paused.err")"
    [ "$(count "$W")" = 3 ] && pass "step $k: the new user's 3 messages found" \
        || fail "step $k: the new user's 3 messages found" "$(count "$W"); $(cat "$T/paused.err")"
    [ "$(count number1)" = 0 ] && pass "step $k: none of the old user's" \
        || fail "step $k: none of the old user's" "$(count number1)"
    expect_exit 0 "step $k: audit the new user" "$SQUATTER" -A -u "$U"
    [ -s "$T/out" ] && fail "step $k: audit silent" "$(cat "$T/out")" || pass "step $k: audit silent"
    expect_exit 0 "step $k: the new user compacts on" "$SQUATTER" -z t1 -t t1 -u "$U"
    [ "$(count "$W")" = 3 ] && pass "step $k: still 3 after another compaction" \
        || fail "step $k: still 3 after another compaction" "$(count "$W")"
    no_debris "step $k: no debris"
done

done_testing
