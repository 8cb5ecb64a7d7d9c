#!/bin/sh
# squatter -z -X / -T: the target built by reindexing from the mail instead
# of copying documents.  Killed after steps 4, 5, 6, 8 and 11 (three times
# each); doc counts against the live GUIDs; -T reindexing one item only;
# unknown items; expunged mail dropped; the same answers before and after;
# -X racing indexing, expunges and searches.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

CORPUS="${XAPIARY_CORPUS:-$top_srcdir/../shared/corpus}/notmuch"
U=r W=rword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"
[ -d "$CORPUS" ] && QUERIES="$QUERIES
notmuch
from:carl
subject:notmuch
body:thread
patch
\"the same\"
date:2009-01-01..2010-12-31"

# docs_in_target: the document count -v reported for the target
docs_in_target() { sed -n 's/.* \([0-9]*\) documents$/\1/p' "$T/err" | tail -1; }
# The distinct GUIDs of user r's live messages that a search finds
# (every location of every document, mapped through the GUID db).
live_guids() {
    "$XSEARCH" -u r 'NOT zzqqxxnothere' 2> /dev/null | cut -f3 | sort -u | wc -l
}

expect_exit 0 "create user.r" "$MBCTL" create user.r
if [ -d "$CORPUS" ]; then
    expect_exit 0 "import the corpus into user.r.nm" "$MBCTL" import -r user.r.nm "$CORPUS"
    expect_exit 0 "index it" "$SQUATTER" -u r
else
    pass "# SKIP corpus not found"
fi
add; add; add; add
# a copy of message 1 in another folder: one GUID, two locations
"$MBCTL" create user.r.copy
f=$(find "$T/spool" -path '*user/r/1.' | head -1)
"$MBCTL" append user.r.copy "$f" > /dev/null
"$SQUATTER" -u r
answers "$T/before"

# -X: every source reindexed; the answers do not change
live=$(live_guids)
expect_exit 0 "-X compacts t1 into t2 by reindexing" "$SQUATTER" -v -X -z t2 -t t1 -u r
expect_grep "messages reindexed" "$T/err" "-v reports the reindexing"
docs=$(docs_in_target)
[ -n "$docs" ] && [ "$docs" = "$live" ] && pass "-X: one document per live GUID ($docs)" \
    || fail "-X: $docs documents, $live live GUIDs"
answers "$T/after"
cmp -s "$T/before" "$T/after" && pass "the same answers before and after -X" \
    || fail "answers changed by -X" "$(diff "$T/before" "$T/after" | head -20)"
no_debris "no debris after -X"
expect_exit 0 "audit silent after -X" "$SQUATTER" -A -u r
[ -s "$T/out" ] && fail "nothing unindexed after -X" "$(cat "$T/out")" || pass "nothing unindexed after -X"

# -X after an expunge: the expunged message's document is gone
add
expect_exit 0 "expunge message $n" "$MBCTL" expunge user.r $n
gone=$n
"$SQUATTER" -u r
expect_exit 0 "-X after the expunge" "$SQUATTER" -v -X -z t2 -t t1,t2 -u r
docs=$(docs_in_target)
[ "$docs" = "$live" ] && pass "-X dropped the expunged message's document ($docs)" \
    || fail "-X after expunge: $docs documents, want $live"
[ "$(count number$gone)" = 0 ] && pass "the expunged message is not found" \
    || fail "expunged message found: $(count number$gone)"
answers "$T/after"
cmp -s "$T/before" "$T/after" && pass "the same answers after expunge and -X" \
    || fail "answers changed" "$(diff "$T/before" "$T/after" | head -20)"

# -T: only the named item is reindexed, the others are compacted
add; add
t2item=$(active | tr ' ' '\n' | grep '^t2:' | head -1)
expect_exit 0 "-T t1 reindexes t1 only" "$SQUATTER" -v -T t1 -z t2 -t t1,t2 -u r
expect_grep " 2 messages reindexed" "$T/err" "-T t1: the two messages of t1 reindexed, t2 copied"
docs=$(docs_in_target)
live=$((live + 2))
[ "$docs" = "$live" ] && pass "-T: $docs documents" || fail "-T: $docs documents, want $live"
add
t2item=$(active | tr ' ' '\n' | grep '^t2:' | head -1)
expect_exit 0 "-T $t2item reindexes that item only" "$SQUATTER" -v -T "$t2item" -z t2 -t t1,t2 -u r
expect_grep " $live messages reindexed" "$T/err" "-T $t2item: its $live messages reindexed, t1 copied"
live=$((live + 1))
# message 1 has two locations and message $gone is expunged: n hits
[ "$(count rword)" = "$n" ] && pass "every message found after -T ($n)" \
    || fail "after -T: $(count rword), want $n"
no_debris "no debris after -T"

# unknown -T items: errors naming the user and the item, nothing changed
before=$(active)
expect_exit 66 "-T t2:999 (not listed)" "$SQUATTER" -T t2:999 -z t2 -t t1,t2 -u r
expect_grep "user r: -T item 't2:999'" "$T/err" "the error names the user and the item"
expect_exit 64 "-T t9 (not a -t tier)" "$SQUATTER" -T t9 -z t2 -t t1,t2 -u r
expect_grep "user r: -T item 't9'" "$T/err" "the error names the user and the item"
[ "$(active)" = "$before" ] && pass "xapianactive untouched" || fail "xapianactive changed"
expect_exit 64 "-X with -T" "$SQUATTER" -X -T t1 -z t2 -t t1,t2 -u r
expect_exit 64 "-X with -o" "$SQUATTER" -X -o -z t2 -t t1 -u r
expect_exit 78 "-X into an unknown tier" "$SQUATTER" -X -z t9 -t t1 -u r
expect_grep "t9" "$T/err" "the error names the tier"

# killed after steps 4, 5, 6, 8 and 11 of -X, three times each
for k in 4 5 6 8 11; do
    kill_rounds $k -X -z t2 -t t1,t2
done
expect_exit 0 "audit after all the kills" "$SQUATTER" -A -u r
[ -s "$T/out" ] && fail "audit silent" "$(cat "$T/out")" || pass "audit silent"

# -X racing appends with indexing and searches (separate processes): no
# failure, no deadlock, counts never go backwards.
race 6 8 40 -X -z t2 -t t1,t2
"$SQUATTER" -X -z t2 -t t1,t2 -u r 2> "$T/err" || fail "-X after the race" "$(cat "$T/err")"
no_debris "no debris after the race"

done_testing
