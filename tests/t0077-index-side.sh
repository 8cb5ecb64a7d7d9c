#!/bin/sh
# squatter -j N: a backlog larger than a batch is split by GUID between
# the first database and N-1 side databases, listed at the tail of
# xapianactive and renamed into place when whole (docs/LOCKING.md "Side
# writers").  The same mail indexed by one writer and by three gives the
# same answers and the same documents, one per GUID; a run killed at each
# fault point index.side.K loses nothing indexed before, search keeps
# working, and the next run finishes the job and leaves no debris.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
U=s
W=sideword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"
echo "search_batchsize: 4" >> "$XAPIARY_CONFIG"

# Mail: 40 messages of ours, each with the word $W and one of its own;
# real mail from the corpus when it is there.
i=1
while [ $i -le 40 ]; do
    printf 'From: s%d@example.com\nTo: r@example.com\nDate: Mon, 2 Nov 2026 10:00:00 +0000\nSubject: %s %d\nMessage-ID: <side%d@example.com>\n\n%s number%d\n' \
        $i "$W" $i $i "$W" $i > "$T/g$i"
    i=$((i + 1))
done
real=""
if [ -d "$XAPIARY_CORPUS/notmuch/lkml" ]; then
    real=$(find "$XAPIARY_CORPUS/notmuch/lkml" -type f | sort | head -30)
fi
QUERIES="$QUERIES
from:s7
body:number3*
the"

# fill USER: INBOX with g1-g25 and the real mail, a folder with g26-g40
# and a copy of g1 (the same bytes: one GUID, two locations).
# shellcheck disable=SC2086
fill() {
    "$MBCTL" create "user.$1" > /dev/null && "$MBCTL" create "user.$1.f" > /dev/null &&
    (cd "$T" && "$MBCTL" append "user.$1" $(seq -f g%g 1 25) $real > /dev/null) &&
    (cd "$T" && "$MBCTL" append "user.$1.f" $(seq -f g%g 26 40) g1 > /dev/null)
}
# norm FILE USER: answers with the user's name made neutral
norm() { sed "s/user\.$2\([^a-z0-9]\|$\)/user.X\1/g" "$1"; }
items() { active | wc -w; }
# docs USER: "KEPT DROPPED" of a compaction that copies every document
# once per GUID (-F): DROPPED counts duplicates (nothing is expunged here)
docs() {
    "$SQUATTER" -v -z t2 -t t1 -F -u "$1" 2>&1 |
        sed -n 's/.* \([0-9]*\) documents kept, \([0-9]*\) dropped.*/\1 \2/p'
}

expect_exit 64 "-j 0 is a usage error" "$SQUATTER" -j 0 -u r
expect_grep "from 1 to 16" "$T/err" "it says what -j takes"
expect_exit 64 "-j 17 is a usage error" "$SQUATTER" -j 17 -u r

# The reference: one writer.
expect_exit 0 "fill user.r" fill r
expect_exit 0 "one writer indexes user.r" "$SQUATTER" -v -j 1 -u r
ref_indexed=$(sed -n 's/.*: \([0-9]*\) indexed .*/\1/p' "$T/err")
U=r answers "$T/ref.raw"
norm "$T/ref.raw" r > "$T/ref"
[ "$(U=r items)" -eq 1 ] && pass "one writer: one database" || fail "one writer: one database" "$(U=r active)"

# Three writers on the same mail.
expect_exit 0 "fill user.s" fill s
expect_exit 0 "three writers index user.s" "$SQUATTER" -v -j 3 -u s
expect_grep ": $ref_indexed indexed " "$T/err" "as many documents written as by one writer ($ref_indexed)"
[ "$(items)" -eq 3 ] && pass "the first database and two side databases are listed" \
                     || fail "three databases listed" "$(active)"
no_debris "no .NEW left, every directory listed"
answers "$T/s.raw"
norm "$T/s.raw" s > "$T/s"
cmp -s "$T/ref" "$T/s" && pass "the same answers as one writer" \
                       || fail "the same answers as one writer" "$(diff "$T/ref" "$T/s" | head -20)"
expect_exit 0 "audit" "$SQUATTER" -A -u s
[ -s "$T/out" ] && fail "audit silent" "$(cat "$T/out")" || pass "audit silent"
expect_exit 0 "-Z finds every message in some tier" "$SQUATTER" -v -Z -u s
expect_grep ": 0 indexed " "$T/err" "-Z indexes nothing"
before=$(active)
expect_exit 0 "a run with nothing new" "$SQUATTER" -v -j 3 -u s
expect_grep ": 0 indexed .* 0 batches" "$T/err" "nothing new: no batch"
printf 'From: new@example.com\nSubject: %s late\nMessage-ID: <late@example.com>\n\n%s late\n' \
    "$W" "$W" > "$T/late"
"$MBCTL" append user.s "$T/late" > /dev/null
expect_exit 0 "a run with less than a batch" "$SQUATTER" -v -j 3 -u s
expect_grep ": 1 indexed " "$T/err" "the new message is indexed"
[ "$(active)" = "$before" ] && pass "less than a batch: one writer, no new database" \
                            || fail "no new database" "$before -> $(active)"
# every message once: a compaction that keeps one document per GUID
# drops nothing, and keeps one more than the reference wrote
got=$(docs s)
[ "$got" = "$((ref_indexed + 1)) 0" ] && pass "one document per GUID across the tiers" \
    || fail "one document per GUID across the tiers" "kept/dropped '$got', want '$((ref_indexed + 1)) 0'"
answers "$T/s2.raw"
[ "$(count late)" = 1 ] && pass "found after the compaction" || fail "found after the compaction"

# Killed at each fault point, then the same command again.
for k in 1 2 3 4 5; do
    U=k$k
    expect_exit 0 "fill user.$U" fill "$U"
    XAPIARY_FAULT=index.side.$k "$SQUATTER" -j 3 -u "$U" 2> "$T/kill.err"; rc=$?
    [ $rc -eq 137 ] && pass "killed at index.side.$k" \
                    || fail "killed at index.side.$k: exit $rc" "$(cat "$T/kill.err")"
    got=$("$XSEARCH" -u "$U" --count "$W" 2> "$T/xs.err"); rc=$?
    [ $rc -eq 0 ] && pass "index.side.$k: search works after the kill ($got)" \
                  || fail "index.side.$k: search after the kill: exit $rc" "$(cat "$T/xs.err")"
    expect_exit 0 "index.side.$k: the next run" "$SQUATTER" -j 3 -u "$U"
    no_debris "index.side.$k: no debris after the next run"
    expect_exit 0 "index.side.$k: audit" "$SQUATTER" -A -u "$U"
    [ -s "$T/out" ] && fail "index.side.$k: audit silent" "$(cat "$T/out")" \
                    || pass "index.side.$k: audit silent"
    answers "$T/k.raw"
    norm "$T/k.raw" "$U" > "$T/k"
    cmp -s "$T/ref" "$T/k" && pass "index.side.$k: the same answers as one writer" \
        || fail "index.side.$k: the same answers as one writer" "$(diff "$T/ref" "$T/k" | head -20)"
    got=$(docs "$U")
    [ "$got" = "$ref_indexed 0" ] && pass "index.side.$k: one document per GUID" \
        || fail "index.side.$k: one document per GUID" "kept/dropped '$got', want '$ref_indexed 0'"
done

# A side run killed while building leaves .NEW directories and listed,
# unbuilt targets; a next run with one writer (a backlog of one batch
# does the same) removes them when the EXCLUSIVE namelock is free at
# once, instead of leaving them for the next compaction or side run.
U=k1w
expect_exit 0 "fill user.$U" fill "$U"
XAPIARY_FAULT=index.side.4 "$SQUATTER" -j 3 -u "$U" 2> "$T/kill.err"; rc=$?
[ $rc -eq 137 ] && pass "killed at index.side.4" || fail "killed at index.side.4: exit $rc" "$(cat "$T/kill.err")"
find "$T/search" -path "*/user/$U/*.NEW" -prune | grep -q . && pass "a .NEW is left" \
    || fail "no .NEW left by the kill"
expect_exit 0 "the next run, one writer" "$SQUATTER" -j 1 -u "$U"
no_debris "one writer: no debris after the next run"
answers "$T/k.raw"
norm "$T/k.raw" "$U" > "$T/k"
cmp -s "$T/ref" "$T/k" && pass "one writer after the kill: the same answers" \
    || fail "one writer after the kill: the same answers" "$(diff "$T/ref" "$T/k" | head -20)"

# Compactions and searches while three writers index a backlog, in
# separate processes: no search fails, nothing is lost.  A compaction may
# lose its race to side.1 (exit 75, nothing changed), never fail otherwise.
U=c
expect_exit 0 "fill user.c" fill c
rm -f "$T/cz.bad" "$T/ix.bad" "$T/xs.err"
("$SQUATTER" -j 3 -u c 2> "$T/ix.err" || echo "indexing failed" > "$T/ix.bad") &
ixpid=$!
(for j in 1 2 3; do
    "$SQUATTER" -z t2 -t t1 -u c 2>> "$T/cz.err"; rc=$?
    [ $rc -eq 0 ] || [ $rc -eq 75 ] || echo "compaction exit $rc" >> "$T/cz.bad"
done) &
czpid=$!
errors=0
for j in $(seq 1 20); do
    "$XSEARCH" -u c --count "$W" > /dev/null 2>> "$T/xs.err" || errors=$((errors + 1))
done
wait $ixpid
wait $czpid
[ ! -e "$T/ix.bad" ] && pass "three writers during compactions" || fail "indexing failed" "$(cat "$T/ix.err")"
[ ! -e "$T/cz.bad" ] && pass "compactions during the side writers" \
                     || fail "compactions failed" "$(cat "$T/cz.bad" "$T/cz.err")"
[ $errors -eq 0 ] && pass "20 searches meanwhile, no error" || fail "$errors searches failed" "$(cat "$T/xs.err")"
expect_exit 0 "the next run" "$SQUATTER" -j 3 -u c
expect_exit 0 "audit after the race" "$SQUATTER" -A -u c
[ -s "$T/out" ] && fail "audit silent after the race" "$(cat "$T/out")" \
                || pass "audit silent after the race"
answers "$T/c.raw"
norm "$T/c.raw" c > "$T/c"
cmp -s "$T/ref" "$T/c" && pass "the same answers as one writer after the race" \
    || fail "the same answers after the race" "$(diff "$T/ref" "$T/c" | head -20)"
expect_exit 0 "a compaction after the race" "$SQUATTER" -z t2 -t t1 -u c
no_debris "no debris after the race and a compaction"

# Several users side by side (squatter -j 2 with no user named: every
# user, one process each).  A user whose xapianactive is corrupt fails,
# named, and the run exits non-zero; the others are indexed all the same.
for u in p1 p2 p3; do
    expect_exit 0 "fill user.$u" fill $u
done
printf 'garbage!!\n' > "$T/bad"
"$MBCTL" append user.p2 "$T/late" > /dev/null
expect_exit 0 "p2 indexed once" "$SQUATTER" -j 1 -u p2
"$MBCTL" append user.p2 "$T/g2" > /dev/null
cp "$T/bad" "$(find "$T/conf/user" -path '*user/p2/xapianactive')"
"$SQUATTER" -j 2 2> "$T/err"; rc=$?
[ $rc -ne 0 ] && pass "a failed user makes the run fail (exit $rc)" || fail "a failed user makes the run fail"
expect_grep "p2" "$T/err" "the failed user is named"
expect_exit 0 "audit of the other users" "$SQUATTER" -A -u p1 p3 s r
[ -s "$T/out" ] && fail "the other users are indexed" "$(cat "$T/out")" \
                || pass "the other users are indexed"
for u in p1 p3; do
    [ "$(U=$u count "$W")" = 41 ] && pass "user.$u: every message found" \
        || fail "user.$u: every message found" "$(U=$u count "$W")"
done
# a child killed at a fault point: named, the run fails, the next one finishes
for u in q1 q2; do
    expect_exit 0 "fill user.$u" fill $u
done
XAPIARY_FAULT=index.batch.2 "$SQUATTER" -j 2 -u q1 q2 2> "$T/err"; rc=$?
[ $rc -ne 0 ] && pass "killed children make the run fail (exit $rc)" || fail "killed children: exit 0"
expect_grep "killed by signal 9" "$T/err" "a killed child is reported"
expect_exit 0 "the next run" "$SQUATTER" -j 2 -u q1 q2
expect_exit 0 "audit after the next run" "$SQUATTER" -A -u q1 q2
[ -s "$T/out" ] && fail "audit silent after the next run" "$(cat "$T/out")" \
                || pass "audit silent after the next run"

# Races made to happen (XAPIARY_PAUSE stops the run right after side.2,
# with no Xapian lock held, until the file is removed).
# pause_run USER: starts squatter -j 3 -u USER paused there; waits for it.
pause_run() {
    rm -f "$T/pause"
    XAPIARY_PAUSE="index.side.2:$T/pause" "$SQUATTER" -j 3 -u "$1" 2> "$T/paused.err" &
    paused=$!
    i=0
    while [ ! -e "$T/pause" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done
    [ -e "$T/pause" ] && pass "$1: the run is paused after side.1" \
                      || fail "$1: the run did not reach side.2" "$(cat "$T/paused.err")"
}

# A compaction in that gap drops the unbuilt side targets: the run goes
# on with the first database alone, and nothing is lost.
U=d
expect_exit 0 "fill user.d" fill d
pause_run d
expect_exit 0 "a compaction while the run is paused" "$SQUATTER" -z t1 -t t1 -u d
rm -f "$T/pause"
wait $paused; rc=$?
[ $rc -eq 0 ] && pass "the paused run finishes" || fail "the paused run: exit $rc" "$(cat "$T/paused.err")"
expect_grep "one writer fewer" "$T/paused.err" "it says its side targets were dropped"
expect_exit 0 "audit user.d" "$SQUATTER" -A -u d
[ -s "$T/out" ] && fail "audit silent for user.d" "$(cat "$T/out")" || pass "audit silent for user.d"
answers "$T/d.raw"
norm "$T/d.raw" d > "$T/d"
cmp -s "$T/ref" "$T/d" && pass "user.d: the same answers as one writer" \
    || fail "user.d: the same answers as one writer" "$(diff "$T/ref" "$T/d" | head -20)"
no_debris "user.d: no debris"

# The user deleted and created again in that gap, and compacted until its
# new list names the numbers the paused run listed: the run builds no
# side database (it would have renamed one onto the new user's own).
U=z
expect_exit 0 "create user.z" "$MBCTL" create user.z
(cd "$T" && "$MBCTL" append user.z $(seq -f g%g 1 25) > /dev/null)
pause_run z
before=$(active | cut -d' ' -f2-)
expect_exit 0 "delete user.z meanwhile" "$MBCTL" delete user.z
expect_exit 0 "create user.z again" "$MBCTL" create user.z
(cd "$T" && "$MBCTL" append user.z g26 g27 g28 > /dev/null)
expect_exit 0 "index the new user.z" "$SQUATTER" -j 1 -u z
expect_exit 0 "compact it" "$SQUATTER" -z t1 -t t1 -u z
[ "$(active)" = "$before" ] && pass "the new list names the paused run's targets ($before)" \
                            || fail "the new list names the paused run's targets" "$before -> $(active)"
rm -f "$T/pause"
wait $paused; rc=$?
[ $rc -eq 0 ] && pass "the paused run ends well: the old user's mail is gone, nothing to write" \
              || fail "the paused run: exit $rc" "$(cat "$T/paused.err")"
expect_grep "created again" "$T/paused.err" "it builds no side database for a user created again"
[ "$(count "$W")" = 3 ] && pass "the new user.z: its 3 messages found" \
                        || fail "the new user.z: its 3 messages found" "$(count "$W") (list was $before, now $(active))"
expect_exit 0 "audit the new user.z" "$SQUATTER" -A -u z
[ -s "$T/out" ] && fail "audit silent for the new user.z" "$(cat "$T/out")" \
                || pass "audit silent for the new user.z"
expect_exit 0 "the new user.z indexes on" "$SQUATTER" -j 3 -u z
no_debris "the new user.z: no debris"

done_testing
