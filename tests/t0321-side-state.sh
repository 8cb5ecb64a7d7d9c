#!/bin/sh
# squatter -j N gives each writer a contiguous part of a chunk, so each
# database's indexed state (indexed.UNIQUEID, rewritten at every commit)
# stays a range or two per chunk however large the mailbox grows; by a
# hash of the GUID it was a range per two messages.  A GUID met twice in
# the chunk is still indexed once, by one writer.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
U=h
W=shareword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"
XMETA="$top_builddir/tests/xmeta"
echo "search_batchsize: 10" >> "$XAPIARY_CONFIG"

# 120 messages; the last has the bytes of the first (one GUID, two UIDs,
# at the two ends of the chunk: different writers' parts).
messages 119
cp "$T/g1" "$T/g120"
expect_exit 0 "create user.$U" "$MBCTL" create "user.$U"
(cd "$T" && "$MBCTL" append "user.$U" $(seq -f g%g 1 120) > /dev/null)
expect_exit 0 "two writers index 120 messages" "$SQUATTER" -v -j 2 -u "$U"
expect_grep ": 119 indexed (.*), 1 already indexed" "$T/err" "119 documents and a copy"
"$MBCTL" status "user.$U" > "$T/status"
uid=$(sed -n 's/^uniqueid: //p' "$T/status")
dbs=$(find "$T/search" -mindepth 4 -maxdepth 4 -name 'xapian.*' -path "*/user/$U/*" | sort)
[ "$(echo "$dbs" | wc -l)" -eq 2 ] && pass "the first database and a side database" \
                                   || fail "two databases" "$dbs"
all=""
for d in $dbs; do
    state=$("$XMETA" "$d" "indexed.$uid")
    ranges=$(printf '%s' "$state" | tr ',' '\n' | grep -c .)
    [ "$ranges" -ge 1 ] && [ "$ranges" -le 2 ] &&
        pass "${d##*/}: its indexed state is 1 or 2 ranges ($state)" ||
        fail "${d##*/}: its indexed state is 1 or 2 ranges" "$ranges ranges: $state"
    all="$all,$state"
done
expect_exit 0 "audit" "$SQUATTER" -A -u "$U"
[ -s "$T/out" ] && fail "the states cover every UID" "$(cat "$T/out")" \
                || pass "the states cover every UID"
[ "$(count "$W")" = 120 ] && pass "every message found" || fail "every message found" "$(count "$W")"
got=$("$SQUATTER" -v -z t2 -t t1 -F -u "$U" 2>&1 |
      sed -n 's/.* \([0-9]*\) documents kept, \([0-9]*\) dropped.*/\1 \2/p')
[ "$got" = "119 0" ] && pass "one document per GUID (119 kept, none dropped by -F)" \
                     || fail "one document per GUID" "kept, dropped: $got"
done_testing
