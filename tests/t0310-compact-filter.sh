#!/bin/sh
# squatter -z -F: the target holds exactly one document per live GUID,
# the same set as a plain index of the live mail, whatever the sources
# held (documents of expunged mail, a GUID indexed in two tiers); the
# answers are those before (a target that Xapian cannot search, as one
# whose documents were deleted after a compaction is with Xapian 1.4.22,
# fails here); killed after the step that builds it, nothing is lost and
# no debris is left.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

U=f W=fword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"
XMETA="$top_builddir/tests/xmeta"

# the built databases of user $1 (an empty directory was never written)
dbs() {
    for d in $(find "$T/search" "$T/search2" -mindepth 4 -maxdepth 4 -type d \
                    -path "*/user/$1/xapian.*"); do
        [ -n "$(ls -A "$d")" ] && echo "$d"
    done
}
# every document's GUID in user $1's databases, sorted, duplicates kept
docs() { "$XMETA" -d $(dbs "$1") | sort; }

expect_exit 0 "create user.f" "$MBCTL" create user.f
expect_exit 0 "create user.f.copy" "$MBCTL" create user.f.copy
messages 16
i=1
while [ $i -le 12 ]; do "$MBCTL" append user.f "$T/g$i" > /dev/null; i=$((i + 1)); done
expect_exit 0 "index 12 messages" "$SQUATTER" -u f
expect_exit 0 "compact them into t2" "$SQUATTER" -z t2 -t t1 -u f
# copies of messages 3 and 4, indexed again in t1: their GUIDs in two tiers
expect_exit 0 "copy two messages" "$MBCTL" append user.f.copy "$T/g3" "$T/g4"
"$MBCTL" append user.f "$T/g13" "$T/g14" > /dev/null
expect_exit 0 "index the copies and two more" "$SQUATTER" -u f
# 1, 2 (in t2) and 13 (in t1) gone for good; 3 still has its copy
expect_exit 0 "expunge four" "$MBCTL" expunge user.f 1 2 3 13
expect_exit 0 "index after the expunge" "$SQUATTER" -u f
dups=$(docs f | uniq -d | wc -l)
[ "$dups" -eq 2 ] && pass "before: two GUIDs have a document in two tiers" \
    || fail "before: $dups GUIDs in two tiers" "$(docs f)"
answers "$T/before"

expect_exit 0 "-F compaction" "$SQUATTER" -v -F -z t2 -t t1,t2 -u f
# 14 appended documents + 2 reindexed copies: 11 live GUIDs kept, 3 dead
# and 2 duplicates dropped
expect_grep "11 documents kept, 5 dropped" "$T/err" "-v counts kept and dropped documents"
docs f > "$T/filtered"

# a plain index of the live mail: the message files left, as user p's
live=$(find "$T/spool" -path '*/user/f/*' -type f -name '[0-9]*.')
expect_exit 0 "create user.p" "$MBCTL" create user.p
expect_exit 0 "append the live mail to user.p" "$MBCTL" append user.p $live
expect_exit 0 "index user.p" "$SQUATTER" -u p
docs p | uniq > "$T/plain"
[ "$(wc -l < "$T/plain")" -eq 11 ] && pass "11 live GUIDs in the plain index" \
    || fail "plain index: $(wc -l < "$T/plain") GUIDs"
cmp -s "$T/filtered" "$T/plain" && pass "-F's documents are exactly those of a plain index of the live mail" \
    || fail "-F's documents differ from a plain index of the live mail" \
            "$(diff "$T/filtered" "$T/plain")"
sha1sum $live | cut -d' ' -f1 | sort -u > "$T/sums"
cmp -s "$T/filtered" "$T/sums" && pass "and exactly the GUIDs of the live message files" \
    || fail "the GUIDs differ from the live files'" "$(diff "$T/filtered" "$T/sums")"
answers "$T/after"
cmp -s "$T/before" "$T/after" && pass "the answers are those before -F" \
    || fail "answers changed by -F" "$(diff "$T/before" "$T/after" | head -10)"
no_debris "no debris after -F"

# A second -F whose sources include the first's target, whose first
# documents were dropped (its ids start at 3) and which ends with the
# spacer: the GUIDs read from the sources while Xapian compacts them still
# land on the right documents of the new target, without the fall-back
# that reads the target's GUIDs instead (it logs a warning).
"$MBCTL" append user.f "$T/g15" "$T/g16" > /dev/null
expect_exit 0 "index two more" "$SQUATTER" -u f
expect_exit 0 "expunge one in each tier" "$MBCTL" expunge user.f 5 15
expect_exit 0 "a second -F" "$SQUATTER" -v -F -z t2 -t t1,t2 -u f
# 11 live GUIDs; dropped: 5, 15 and the first -F's spacer
expect_grep "11 documents kept, 3 dropped" "$T/err" "the second -F keeps 11 and drops 3"
grep -q "could not be mapped" "$T/err" && fail "the sources' GUIDs were not mapped" "$(cat "$T/err")" \
    || pass "the sources' GUIDs were mapped onto the target"
live=$(find "$T/spool" -path '*/user/f/*' -type f -name '[0-9]*.')
sha1sum $live | cut -d' ' -f1 | sort -u > "$T/sums"
docs f > "$T/filtered"
cmp -s "$T/filtered" "$T/sums" && pass "after the second -F: exactly the GUIDs of the live message files" \
    || fail "after the second -F: the GUIDs differ from the live files'" "$(diff "$T/filtered" "$T/sums")"

# killed once the target is built: nothing lost (t0060 kills plain
# compactions at every step)
kill_rounds 5 -F -z t2 -t t1,t2
expect_exit 0 "audit after the kills" "$SQUATTER" -A -u f
[ -s "$T/out" ] && fail "audit silent" "$(cat "$T/out")" || pass "audit silent"

done_testing
