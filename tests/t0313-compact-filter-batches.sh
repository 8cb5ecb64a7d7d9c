#!/bin/sh
# squatter -z -F commits its deletions every 1,000 documents, so that
# Xapian's in-memory changes stay bounded however many are dropped
# (docs/PERFORMANCE-COMPACT.md "Filtering compaction").  2,500 messages, all but
# one in six expunged (2,084 to drop, three commits): the counts, every
# search, the target's revision (one commit per batch), and a kill
# between two commits (compact.5b) that loses nothing and leaves no debris.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

U=g W=batchword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"

N=2500
expect_exit 0 "create user.g" "$MBCTL" create user.g
messages $N
i=1 files="" dead=""
while [ $i -le $N ]; do
    files="$files $T/g$i"
    [ $((i % 6)) -eq 0 ] || dead="$dead $i"
    i=$((i + 1))
done
# shellcheck disable=SC2086
expect_exit 0 "append $N messages" "$MBCTL" append user.g $files
expect_exit 0 "index them" "$SQUATTER" -u g
# shellcheck disable=SC2086
expect_exit 0 "expunge all but one in six" "$MBCTL" expunge user.g $dead
live=$((N / 6))
dropped=$((N - live))

# found LABEL: every live message and no dead one is found
found() {
    local bad=""
    [ "$(count "$W")" = "$live" ] || bad="$bad [$W: $(count "$W")]"
    [ "$(count "NOT zzqqxxnothere")" = "$live" ] || bad="$bad [NOT: $(count "NOT zzqqxxnothere")]"
    [ "$(count number6)" = 1 ] || bad="$bad [number6 (live): $(count number6)]"
    [ "$(count number2497)" = 0 ] || bad="$bad [number2497 (dead): $(count number2497)]"
    [ -z "$bad" ] && pass "$1: the $live live messages found, no dead one" || fail "$1" "$bad"
}

found "before -F"
answers "$T/before"
# killed after the first commit of deletions: the .NEW is debris
XAPIARY_FAULT=compact.5b "$SQUATTER" -F -z t2 -t t1 -u g 2> "$T/kill.err"; rc=$?
[ $rc -eq 137 ] && pass "killed at compact.5b" || fail "killed at compact.5b" "exit $rc: $(cat "$T/kill.err")"
found "after the kill"
answers "$T/after"
cmp -s "$T/before" "$T/after" && pass "the same answers after the kill" \
    || fail "answers changed by the kill" "$(diff "$T/before" "$T/after" | head -10)"

expect_exit 0 "-F compaction again" "$SQUATTER" -v -F -z t2 -t t1 -u g
expect_grep "$live documents kept, $dropped dropped" "$T/err" "-v counts kept and dropped documents"
found "after -F"
answers "$T/after"
cmp -s "$T/before" "$T/after" && pass "the same answers after -F" \
    || fail "answers changed by -F" "$(diff "$T/before" "$T/after" | head -10)"
no_debris "no debris after recovery from compact.5b"

# Xapian's compaction is revision 1; then one commit per 1,000
# deletions and the last: 4.  A single commit at the end would be 2.
if command -v xapian-delve > /dev/null; then
    db=$(find "$T/search2" -mindepth 4 -maxdepth 4 -name 'xapian.*' -path "*/user/$U/*")
    rev=$(xapian-delve "$db" | sed -n 's/^revision = //p')
    [ "$rev" = 4 ] && pass "the deletions were committed in three batches" \
        || fail "the deletions were committed in three batches" "revision $rev of $db, want 4"
else
    pass "# SKIP xapian-delve (xapian-tools) is not installed"
fi

done_testing
