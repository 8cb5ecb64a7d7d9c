#!/bin/sh
# squatter -z -F drops documents by deleting them after a compaction,
# which leaves gaps in the target's document ids.  With Xapian 1.4, a
# search that does not weigh a term (every date-sorted search, the right
# side of a NOT) of a term that every document has then fails with
# "Unexpected end of posting list" once the documents span more than one
# posting-list chunk (docs/FORMAT.md "Gaps").  3,000 messages all with
# the word $W and the domain example.com, three expunged, -F: every
# search of those terms, in every order, finds the rest; again after a
# second -F and after a plain compaction of the filtered database; and
# killed between the compaction and the deletions, nothing is lost.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

U=g W=gapword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"

N=3000
expect_exit 0 "create user.g" "$MBCTL" create user.g
messages $N
i=1 files=""
while [ $i -le $N ]; do files="$files $T/g$i"; i=$((i + 1)); done
# shellcheck disable=SC2086
expect_exit 0 "append $N messages" "$MBCTL" append user.g $files
expect_exit 0 "index them" "$SQUATTER" -u g
expect_exit 0 "expunge three" "$MBCTL" expunge user.g 7 1500 2999
live=$((N - 3))

# searches LABEL WANT: the searches of a term every document has, each
# exits 0, writes nothing on stderr and finds WANT messages
searches() {
    local label=$1 want=$2 q got bad=""
    for q in "$W" "--sort=oldest $W" "--sort=relevance $W" "from:example.com" \
             "--sort=oldest from:example.com" "NOT zzqqxxnothere" "$W NOT number5"; do
        # shellcheck disable=SC2086
        got=$("$XSEARCH" -u g --count $q 2> "$T/xs.err") || bad="$bad [$q: exit $?]"
        [ -s "$T/xs.err" ] && bad="$bad [$q: $(cat "$T/xs.err")]"
        w=$want
        [ "$q" = "$W NOT number5" ] && w=$((want - 1))
        [ "$got" = "$w" ] || bad="$bad [$q: $got found, want $w]"
    done
    # the hits themselves, not only their number (newest first)
    "$XSEARCH" -u g "$W" > "$T/hits" 2> "$T/xs.err" || bad="$bad [listing: exit $?]"
    [ "$(wc -l < "$T/hits")" -eq "$want" ] || bad="$bad [listing: $(wc -l < "$T/hits") lines]"
    [ -z "$bad" ] && pass "$label: every search finds the $want live messages" \
        || fail "$label: searches failed" "$bad"
}

searches "before -F" $live
expect_exit 0 "-F compaction of the $N documents" "$SQUATTER" -v -F -z t2 -t t1 -u g
expect_grep "$live documents kept, 3 dropped" "$T/err" "-v counts kept and dropped documents"
searches "after -F" $live

# a second -F over the gapped database and new mail: the first run's
# spacer is dropped like any document that is not a message
add
expect_exit 0 "expunge one more" "$MBCTL" expunge user.g 42
expect_exit 0 "second -F" "$SQUATTER" -v -F -z t2 -t t1,t2 -u g
# 2,997 + the new one - 42
expect_grep "$live documents kept, 2 dropped" "$T/err" "the second -F drops the dead one and the spacer"
searches "after the second -F" $live

# a plain compaction carries the gaps and the spacer along
add
live=$((live + 1))
expect_exit 0 "plain compaction of the filtered database" "$SQUATTER" -z t2 -t t1,t2 -u g
searches "after a plain compaction" $live
expect_exit 0 "audit" "$SQUATTER" -A -u g
[ -s "$T/out" ] && fail "audit silent" "$(cat "$T/out")" || pass "audit silent"
no_debris "no debris"

# killed between Xapian's compaction and the deletions (compact.5a)
kill_rounds 5a -F -z t2 -t t1,t2

done_testing
