#!/bin/sh
# squatter -z -X against the mail changing under it: the run pauses after
# its plan (XAPIARY_PAUSE at compact.4: the messages to reindex are
# collected, step 5 has not read them), a folder is renamed, a message
# expunged, one appended, a folder deleted; then the run goes on.  After
# it every live message is either found or reported by `squatter -A`, and
# the next plain run indexes it: nothing is believed indexed that is not.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
U=x
W=raceword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"

messages 12

# setup USER: INBOX g1-g4, folder a g5-g8, folder b g9-g12, all indexed
setup() {
    "$MBCTL" create "user.$1" > /dev/null && "$MBCTL" create "user.$1.a" > /dev/null &&
    "$MBCTL" create "user.$1.b" > /dev/null &&
    (cd "$T" && "$MBCTL" append "user.$1" g1 g2 g3 g4 > /dev/null) &&
    (cd "$T" && "$MBCTL" append "user.$1.a" g5 g6 g7 g8 > /dev/null) &&
    (cd "$T" && "$MBCTL" append "user.$1.b" g9 g10 g11 g12 > /dev/null) &&
    "$SQUATTER" -u "$1" 2> "$T/setup.err"
}

# paused_reindex USER: starts squatter -z t1 -t t1 -X -u USER, paused
# right after step 4; waits until it is there.
paused_reindex() {
    rm -f "$T/pause"
    XAPIARY_PAUSE="compact.4:$T/pause" "$SQUATTER" -v -z t1 -t t1 -X -u "$1" \
        2> "$T/paused.err" &
    paused=$!
    i=0
    while [ ! -e "$T/pause" ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i + 1)); done
    [ -e "$T/pause" ] && pass "$1: -X paused after its plan" \
                      || fail "$1: -X did not reach compact.4" "$(cat "$T/paused.err")"
}

resume() {
    rm -f "$T/pause"
    wait $paused; rc=$?
    [ $rc -eq 0 ] && pass "$U: the paused -X finishes" \
                  || fail "$U: the paused -X: exit $rc" "$(cat "$T/paused.err")"
}

# settle WHAT WANT: what -A says, then a plain run, then: -A silent,
# WANT messages found, no debris.
settle() {
    # -A exits 1 exactly when it reports something (unindexed mail).
    "$SQUATTER" -A -u "$U" > "$T/out" 2> "$T/err"; rc=$?
    if [ -s "$T/out" ]; then want=1; else want=0; fi
    [ $rc -eq $want ] && pass "$1: audit after the race (exit $rc)" \
        || fail "$1: audit after the race" "exit $rc, want $want: $(cat "$T/out" "$T/err")"
    cp "$T/out" "$T/audit.$1"
    expect_exit 0 "$1: the next run" "$SQUATTER" -u "$U"
    expect_exit 0 "$1: audit after the next run" "$SQUATTER" -A -u "$U"
    [ -s "$T/out" ] && fail "$1: audit silent after the next run" "$(cat "$T/out")" \
                    || pass "$1: audit silent after the next run"
    got=$(count "$W")
    [ "$got" = "$2" ] && pass "$1: every live message found ($2)" \
        || fail "$1: every live message found" "found $got, want $2; list $(active); audit before: $(cat "$T/audit.$1"); -X: $(cat "$T/paused.err")"
    no_debris "$1: no debris"
}

# A folder renamed: its messages move; they are not lost for good.
U=ren
expect_exit 0 "setup user.ren" setup ren
paused_reindex ren
expect_exit 0 "rename user.ren.a meanwhile" "$MBCTL" rename user.ren.a user.ren.c
resume
got=$(count "$W")
if [ "$got" != 12 ]; then
    expect_exit 1 "rename: audit (exit 1: it reports unindexed mail)" "$SQUATTER" -A -u ren
    expect_grep "user.ren.c" "$T/out" "rename: what -X could not read is reported unindexed ($got found)"
else
    pass "rename: every message found after -X"
fi
settle rename 12

# A message expunged: gone, and nothing else.
U=exp
expect_exit 0 "setup user.exp" setup exp
paused_reindex exp
expect_exit 0 "expunge UID 2 of user.exp.a meanwhile" "$MBCTL" expunge user.exp.a 2
resume
settle expunge 11

# A message appended (and indexed into the new first database).
U=app
expect_exit 0 "setup user.app" setup app
paused_reindex app
printf 'From: late@example.com\nSubject: %s late\nMessage-ID: <late@example.com>\n\n%s late\n' \
    "$W" "$W" > "$T/late"
expect_exit 0 "append to user.app.b meanwhile" "$MBCTL" append user.app.b "$T/late"
resume
settle append 13

# The same, indexed at once by a plain run while -X is paused.
U=apx
expect_exit 0 "setup user.apx" setup apx
paused_reindex apx
expect_exit 0 "append to user.apx.b meanwhile" "$MBCTL" append user.apx.b "$T/late"
expect_exit 0 "index it meanwhile" "$SQUATTER" -u apx
resume
expect_exit 0 "append+index: audit silent at once" "$SQUATTER" -A -u apx
[ -s "$T/out" ] && fail "append+index: nothing unindexed" "$(cat "$T/out")" \
                || pass "append+index: nothing unindexed"
settle append-indexed 13

# A folder deleted: its mail is gone, the rest stays.
U=del
expect_exit 0 "setup user.del" setup del
paused_reindex del
expect_exit 0 "delete user.del.b meanwhile" "$MBCTL" delete user.del.b
resume
settle delete 8

# All at once: a rename, an expunge in the renamed folder, an append.
U=all
expect_exit 0 "setup user.all" setup all
paused_reindex all
expect_exit 0 "rename user.all.b meanwhile" "$MBCTL" rename user.all.b user.all.z
expect_exit 0 "expunge UID 1 of user.all.z" "$MBCTL" expunge user.all.z 1
expect_exit 0 "append to user.all.a" "$MBCTL" append user.all.a "$T/late"
resume
settle all 12

done_testing
