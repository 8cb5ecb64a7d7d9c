#!/bin/sh
# A GUID with a document in two tiers (a copy indexed again after its
# first document was compacted into t2) is one message: each of its live
# locations is one hit, in every sort order and on every page, and the
# total counts each location once.  The search collects every document
# and drops a GUID met again once they are sorted by GUID
# (xapianlock/search.c, expand): a duplicate kept there shows here as a
# location listed twice and a total past the live locations.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

U=d W=dword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"
XMETA="$top_builddir/tests/xmeta"

expect_exit 0 "create user.d" "$MBCTL" create user.d
expect_exit 0 "create user.d.copy" "$MBCTL" create user.d.copy
messages 20
i=1
while [ $i -le 6 ]; do "$MBCTL" append user.d "$T/g$i" > /dev/null; i=$((i + 1)); done
expect_exit 0 "index 6 messages" "$SQUATTER" -u d
expect_exit 0 "compact them into t2" "$SQUATTER" -z t2 -t t1 -u d
expect_exit 0 "copy two messages" "$MBCTL" append user.d.copy "$T/g2" "$T/g3"
i=7
while [ $i -le 20 ]; do "$MBCTL" append user.d "$T/g$i" > /dev/null; i=$((i + 1)); done
expect_exit 0 "index the copies and 14 more" "$SQUATTER" -u d

dbs=$(find "$T/search" "$T/search2" -mindepth 4 -maxdepth 4 -type d -path "*/user/d/xapian.*")
# shellcheck disable=SC2086
dups=$("$XMETA" -d $dbs | sort | uniq -d | wc -l)
[ "$dups" -eq 2 ] && pass "two GUIDs have a document in two tiers" \
    || fail "$dups GUIDs in two tiers, not 2" "$("$XMETA" -d $dbs)"

# 20 messages in user.d, 2 copies in user.d.copy.  A query that matches
# most documents matches them against a scan of the GUID db, one that
# matches few looks each GUID up: both are asked.
for sort in newest oldest relevance; do
    "$XSEARCH" -u d -s "$sort" "$W" > "$T/all.$sort" 2>> "$T/xs.err"
    [ "$(wc -l < "$T/all.$sort")" -eq 22 ] && pass "-s $sort: 22 hits, one per live location" \
        || fail "-s $sort: $(wc -l < "$T/all.$sort") hits, not 22" "$(cat "$T/all.$sort")"
    dup=$(cut -f1,2 "$T/all.$sort" | sort | uniq -d)
    [ -z "$dup" ] && pass "-s $sort: no location twice" || fail "-s $sort: listed twice" "$dup"
done
[ "$(count "$W")" = 22 ] && pass "the total is 22" || fail "the total is $(count "$W")"
[ "$(count number2)" = 2 ] && pass "a message in two tiers with two copies: 2 hits" \
    || fail "number2: $(count number2) hits, not 2"
"$XSEARCH" -u d "number2 OR number3 OR number9" > "$T/few" 2>> "$T/xs.err"
[ "$(wc -l < "$T/few")" -eq 5 ] && pass "three messages, two of them in two tiers: 5 hits" \
    || fail "$(wc -l < "$T/few") hits, not 5" "$(cat "$T/few")"
dup=$(cut -f1,2 "$T/few" | sort | uniq -d)
[ -z "$dup" ] && pass "no location of the three twice" || fail "listed twice" "$dup"
"$XSEARCH" -u d -n 4 --offset 3 "$W" > "$T/page" 2>> "$T/xs.err"
sed -n 4,7p "$T/all.newest" > "$T/slice"
cmp -s "$T/page" "$T/slice" && pass "a page (offset 3, limit 4) is the slice of the whole list" \
    || fail "the page differs from the slice" "$(diff "$T/page" "$T/slice")"
"$XSEARCH" -u d -j -n 2 "$W" 2>> "$T/xs.err" | grep -q '"total": 22' \
    && pass "a page reports the total of every live location" \
    || fail "a page's total is not 22" "$("$XSEARCH" -u d -j -n 2 "$W")"

done_testing
