#!/bin/sh
# squatter -j N when the first database is full (200 batches of
# documents, index-side.c FIRST_MAX_BATCHES): a backlog goes into N side
# databases, none into the first one, which takes only the copies of
# mail it already has.  The answers are those of one writer, every GUID
# has one document, and a run killed at each fault point index.side.K
# loses nothing and leaves no debris after the next run.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
U=f
W=fullword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"
# the first database is full at 200 documents
echo "search_batchsize: 1" >> "$XAPIARY_CONFIG"

# 240 messages with the word $W, a date of their own (the answers
# compared across users show it), and the word numberI
i=1
while [ $i -le 240 ]; do
    printf 'From: g%d@example.com\nDate: Mon, 2 Nov 2026 10:%02d:%02d +0000\nSubject: %s %d\nMessage-ID: <g%d.%s@example.com>\n\n%s number%d\n' \
        $i $((i / 60)) $((i % 60)) "$W" $i $i "$W" "$W" $i > "$T/g$i"
    i=$((i + 1))
done
# docs USER: "KEPT DROPPED" of a compaction that copies every document
# once per GUID (-F): DROPPED counts duplicates (nothing is expunged here)
docs() {
    "$SQUATTER" -v -z t2 -t t1 -F -u "$1" 2>&1 |
        sed -n 's/.* \([0-9]*\) documents kept, \([0-9]*\) dropped.*/\1 \2/p'
}
# fill USER: 200 messages indexed by one writer (the first database is
# then full), then 40 more and a copy of g1 in a folder, not indexed
fill() {
    "$MBCTL" create "user.$1" > /dev/null && "$MBCTL" create "user.$1.f" > /dev/null &&
    (cd "$T" && "$MBCTL" append "user.$1" $(seq -f g%g 1 200) > /dev/null) &&
    "$SQUATTER" -j 1 -u "$1" 2> "$T/fill.err" &&
    (cd "$T" && "$MBCTL" append "user.$1.f" $(seq -f g%g 201 240) g1 > /dev/null)
}

# The reference: one writer, all of it.
expect_exit 0 "fill user.r" fill r
expect_exit 0 "one writer indexes the rest of user.r" "$SQUATTER" -v -j 1 -u r
U=r answers "$T/ref.raw"
sed "s/user\.r\([^a-z0-9]\|$\)/user.X\1/g" "$T/ref.raw" > "$T/ref"
[ "$(U=r count "$W")" = 241 ] && pass "one writer: 241 locations" \
    || fail "one writer: 241 locations" "$(U=r count "$W")"

expect_exit 0 "fill user.$U" fill "$U"
[ "$(active | wc -w)" -eq 1 ] && pass "one database of 200 documents" || fail "one database" "$(active)"
expect_exit 0 "two writers index the rest" "$SQUATTER" -v -j 2 -u "$U"
expect_grep "41 messages in .* batches for 2 side database(s)" "$T/err" \
    "the first database full: the backlog goes to two side databases"
expect_grep ": 40 indexed (.*), 1 already indexed (copies)" "$T/err" \
    "40 new documents, and the copy of g1 marked"
[ "$(active | wc -w)" -eq 3 ] && pass "the first database and two side databases are listed" \
    || fail "three databases listed" "$(active)"
no_debris "no .NEW left, every directory listed"
# the first database did not grow (the copy is a mark, not a document)
if command -v xapian-delve > /dev/null; then
    first=$(active | cut -d' ' -f1)
    db=$(find "$T/search" -mindepth 4 -maxdepth 4 -name "xapian.${first#t1:}" -path "*/user/$U/*")
    got=$(xapian-delve "$db" | sed -n 's/^number of documents = //p')
    [ "$got" = 200 ] && pass "the first database still holds 200 documents" \
        || fail "the first database still holds 200 documents" "$got in $db ($(active))"
else
    pass "# SKIP xapian-delve (xapian-tools) is not installed"
fi
answers "$T/f.raw"
sed "s/user\.$U\([^a-z0-9]\|$\)/user.X\1/g" "$T/f.raw" > "$T/f"
cmp -s "$T/ref" "$T/f" && pass "the same answers as one writer" \
    || fail "the same answers as one writer" "$(diff "$T/ref" "$T/f" | head -20)"
expect_exit 0 "audit" "$SQUATTER" -A -u "$U"
[ -s "$T/out" ] && fail "audit silent" "$(cat "$T/out")" || pass "audit silent"
got=$(docs "$U")
[ "$got" = "240 0" ] && pass "one document per GUID across the databases" \
    || fail "one document per GUID across the databases" "kept/dropped '$got', want '240 0'"

# Killed at each fault point, then the same command again.
for k in 1 2 3 4 5; do
    U=k$k
    expect_exit 0 "fill user.$U" fill "$U"
    XAPIARY_FAULT=index.side.$k "$SQUATTER" -j 2 -u "$U" 2> "$T/kill.err"; rc=$?
    [ $rc -eq 137 ] && pass "killed at index.side.$k" \
                    || fail "killed at index.side.$k: exit $rc" "$(cat "$T/kill.err")"
    got=$("$XSEARCH" -u "$U" --count "$W" 2> "$T/xs.err"); rc=$?
    [ $rc -eq 0 ] && pass "index.side.$k: search works after the kill ($got)" \
                  || fail "index.side.$k: search after the kill: exit $rc" "$(cat "$T/xs.err")"
    expect_exit 0 "index.side.$k: the next run" "$SQUATTER" -j 2 -u "$U"
    no_debris "index.side.$k: no debris after the next run"
    answers "$T/k.raw"
    sed "s/user\.$U\([^a-z0-9]\|$\)/user.X\1/g" "$T/k.raw" > "$T/k"
    cmp -s "$T/ref" "$T/k" && pass "index.side.$k: the same answers as one writer" \
        || fail "index.side.$k: the same answers as one writer" "$(diff "$T/ref" "$T/k" | head -20)"
    got=$(docs "$U")
    [ "$got" = "240 0" ] && pass "index.side.$k: one document per GUID" \
        || fail "index.side.$k: one document per GUID" "kept/dropped '$got', want '240 0'"
done

done_testing
