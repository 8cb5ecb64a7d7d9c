#!/bin/sh
# A search does not wait for the indexer's commit (issue 20, point 7;
# docs/LOCKING.md "Searches while a batch is written"): an indexer paused
# just before its commit (index.batch.1) holds the writer lock and the
# revision lock of the revision it is writing, not the xapianactive lock,
# so searches meanwhile complete and see the last commit.  (Paused where
# it still holds WRITE, index.batch.0, it keeps searches waiting for the
# open only: t0160-lockwait.sh.)
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

# wait_for COMMAND...: until COMMAND succeeds (at most 30 s).
wait_for() {
    i=0
    while ! "$@" && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
    "$@"
}
exists() { [ -e "$1" ]; }

msg() {
    printf 'From: a@example.com\r\nTo: b@example.com\r\nSubject: %s\r\n' "$1"
    printf 'Message-ID: <%s@example.com>\r\n\r\nbody %s\r\n' "$1" "$1"
}

# start_paused POINT COMMAND...: runs COMMAND until it reaches fault point
# POINT, where it waits (holding its locks) until $T/pause is removed.
start_paused() {
    local point=$1
    shift
    rm -f "$T/pause"
    XAPIARY_PAUSE="$point:$T/pause" "$@" > /dev/null 2> "$T/paused.err" &
    paused=$!
    wait_for exists "$T/pause" || fail "never reached $point" "$(cat "$T/paused.err")"
}

# search_while_paused OUT WHILE ARGS...: xsearch -u rl ARGS (into OUT,
# its exit status into $T/search.rc) completes while the paused process
# still waits at its point.
search_while_paused() {
    local out=$1 while=$2
    shift 2
    rm -f "$T/search.rc"
    ("$XSEARCH" -u rl "$@" > "$out" 2> "$T/search.err"; echo $? > "$T/search.rc") &
    searcher=$!
    if wait_for exists "$T/search.rc" && [ -e "$T/pause" ] && kill -0 $paused 2>/dev/null; then
        pass "a search completes while $while"
    else
        fail "a search completes while $while" "$(cat "$T/search.err" "$T/paused.err")"
        rm -f "$T/pause"             # or the search waits for ever
    fi
    wait $searcher
}

expect_exit 0 "create user.rl" "$MBCTL" create user.rl
msg zebrafirst > "$T/m1"; msg yakseconds > "$T/m2"; msg walrusthird > "$T/m3"
expect_exit 0 "append one" "$MBCTL" append user.rl "$T/m1"
expect_exit 0 "index it" "$SQUATTER" -j 1 -u rl
n=$(find "$T/conf/user" -name 'xapianrev.[01]' | wc -l)
[ "$n" -eq 2 ] && pass "the first batch made both revision lock files" \
    || fail "the first batch made both revision lock files" "$(find "$T/conf/user")"
# A tree from before the revision locks (no files): a search keeps READ
# to its end and finds the same; the next batch makes them again.
find "$T/conf/user" -name 'xapianrev.[01]' -exec rm {} +
got=$("$XSEARCH" -u rl --count zebrafirst 2> "$T/search.err")
[ "$got" = 1 ] && pass "a search without the revision lock files" \
    || fail "a search without the revision lock files" "got '$got' $(cat "$T/search.err")"
expect_exit 0 "append another" "$MBCTL" append user.rl "$T/m2"

# Paused before its commit: a search completes while it waits there.
start_paused index.batch.1 "$SQUATTER" -j 1 -u rl
search_while_paused "$T/count1" "the indexer is inside its batch, before its commit" \
    --count zebrafirst
s=$(cat "$T/search.rc")
[ "$s" = 0 ] && [ "$(cat "$T/count1")" = 1 ] && pass "it sees the last commit" \
    || fail "it sees the last commit" "exit $s, count '$(cat "$T/count1")' $(cat "$T/search.err")"
got=$("$XSEARCH" -u rl --count yakseconds 2> "$T/search.err")
[ "$got" = 0 ] && pass "and not the batch being written" \
    || fail "and not the batch being written" "got '$got' $(cat "$T/search.err")"
rm -f "$T/pause"
wait $paused; s=$?
[ $s -eq 0 ] && pass "the indexer commits after the searches" \
    || fail "the indexer commits after the searches" "exit $s: $(cat "$T/paused.err")"
got=$("$XSEARCH" -u rl --count yakseconds 2> "$T/search.err")
[ "$got" = 1 ] && pass "the batch is found once committed" \
    || fail "the batch is found once committed" "got '$got' $(cat "$T/search.err")"
n=$(find "$T/conf/user" -name 'xapianrev.[01]' | wc -l)
[ "$n" -eq 2 ] && pass "that batch made the revision lock files again" \
    || fail "that batch made the revision lock files again" "$(find "$T/conf/user")"

# Killed while it holds WRITE to open the database (index.batch.0):
# nothing was written; the next run indexes the message, and a search
# then takes its revision lock as usual.
expect_exit 0 "append a third" "$MBCTL" append user.rl "$T/m3"
XAPIARY_FAULT=index.batch.0 "$SQUATTER" -j 1 -u rl 2> "$T/err"; rc=$?
[ $rc -eq 137 ] && pass "killed at index.batch.0" || fail "killed at index.batch.0: exit $rc" "$(cat "$T/err")"
got=$("$XSEARCH" -u rl --count walrusthird 2> "$T/search.err")
[ "$got" = 0 ] && pass "not indexed by the killed run" \
    || fail "not indexed by the killed run" "got '$got' $(cat "$T/search.err")"
expect_exit 0 "the next run" "$SQUATTER" -j 1 -u rl
got=$("$XSEARCH" -u rl --count walrusthird 2> "$T/search.err")
[ "$got" = 1 ] && pass "the next run indexed it" \
    || fail "the next run indexed it" "got '$got' $(cat "$T/search.err")"


# A writer of the mailbox holding its index lock (an `mbctl append` paused
# at mailbox.commit.3: its record written past the committed end, the
# header not yet) does not hold a search up either: the search counts
# the unindexed mail from the mailbox's last commit, read without the
# index lock (mailbox/snapshot.h), and never the record not committed.
msg vulturefourth > "$T/m4"; msg unicornfifth > "$T/m5"
expect_exit 0 "append a fourth, not indexed" "$MBCTL" append user.rl "$T/m4"
start_paused mailbox.commit.3 "$MBCTL" append user.rl "$T/m5"
search_while_paused "$T/json1" "a writer holds the mailbox's index lock" --json walrusthird
grep -q '"unindexed": 1[,}]' "$T/json1" && grep -q '"total": 1[,}]' "$T/json1" \
    && pass "it counts the committed unindexed message, not the one being appended" \
    || fail "it counts the committed unindexed message, not the one being appended" \
        "$(cat "$T/json1" "$T/search.err")"
rm -f "$T/pause"
wait $paused; s=$?
[ $s -eq 0 ] && pass "the append commits after the search" \
    || fail "the append commits after the search" "exit $s: $(cat "$T/paused.err")"
"$XSEARCH" -u rl --json walrusthird > "$T/json2" 2> "$T/search.err"
grep -q '"unindexed": 2[,}]' "$T/json2" && pass "then both are counted" \
    || fail "then both are counted" "$(cat "$T/json2" "$T/search.err")"

done_testing
