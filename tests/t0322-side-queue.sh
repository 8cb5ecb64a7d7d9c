#!/bin/sh
# squatter -j N: the writers take the batches of a chunk from one queue
# (the first writer from the front, the side writers from the back), so
# a writer that runs ahead goes on with the chunk instead of waiting idle
# for a slow one at its end.  Here the first writer is held inside its
# first batch (XAPIARY_PAUSE at index.batch.1) while the side writer
# writes every other batch of the chunk but the one the first writer's
# builder may have taken to build ahead; with shares fixed in advance it
# stopped at half the chunk.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
U=q
W=queueword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"
XMETA="$top_builddir/tests/xmeta"
echo "search_batchsize: 10" >> "$XAPIARY_CONFIG"

messages 120
expect_exit 0 "create user.$U" "$MBCTL" create "user.$U"
(cd "$T" && "$MBCTL" append "user.$U" $(seq -f g%g 1 120) > /dev/null)
"$MBCTL" status "user.$U" > "$T/status"
uid=$(sed -n 's/^uniqueid: //p' "$T/status")

rm -f "$T/pause"
XAPIARY_PAUSE="index.batch.1:$T/pause" "$SQUATTER" -v -j 2 -u "$U" 2> "$T/run.err" &
run=$!
# The side database's indexed state, read from its .NEW while the run is
# paused, until it holds every UID but the first writer's batch (and the
# one its builder may have taken ahead).
state=""
i=0
while [ $i -lt 1200 ]; do
    new=$(find "$T/search" -name 'xapian.*.NEW' -path "*/user/$U/*" | head -1)
    if [ -e "$T/pause" ] && [ -n "$new" ]; then
        state=$("$XMETA" "$new" "indexed.$uid" 2> /dev/null)
        [ "$state" = "11-120" ] || [ "$state" = "21-120" ] && break
    fi
    sleep 0.1
    i=$((i + 1))
done
[ -e "$T/pause" ] && pass "the first writer is held in its first batch" \
                  || fail "the first writer is held in its first batch" "$(cat "$T/run.err")"
[ "$state" = "11-120" ] || [ "$state" = "21-120" ] &&
    pass "meanwhile the side writer writes the rest of the chunk ($state)" ||
    fail "meanwhile the side writer writes the rest of the chunk" "its state: '$state'"
rm -f "$T/pause"
wait $run; rc=$?
[ $rc -eq 0 ] && pass "the run ends well" || fail "the run: exit $rc" "$(cat "$T/run.err")"
expect_grep ": 120 indexed " "$T/run.err" "120 indexed"
dbs=$(find "$T/search" -mindepth 4 -maxdepth 4 -name 'xapian.*' -path "*/user/$U/*" | sort)
[ "$(echo "$dbs" | wc -l)" -eq 2 ] && pass "the first database and a side database" \
                                   || fail "two databases" "$dbs"
states=""
for d in $dbs; do
    states="$states $("$XMETA" "$d" "indexed.$uid")"
done
[ "$states" = " 1-10 11-120" ] || [ "$states" = " 1-20 21-120" ] &&
    pass "each database a contiguous part:$states" ||
    fail "each database a contiguous part" "states:$states"
no_debris "no debris"
expect_exit 0 "audit" "$SQUATTER" -A -u "$U"
[ -s "$T/out" ] && fail "audit silent" "$(cat "$T/out")" || pass "audit silent"
[ "$(count "$W")" = 120 ] && pass "every message found" || fail "every message found" "$(count "$W")"
done_testing
