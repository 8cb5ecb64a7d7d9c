#!/bin/sh
# A search's documents become their live locations either by one GUID db
# look-up each or, when they are a good part of the user's mail, by one
# scan of the GUID db (xapianlock/search.c, expand): both give the same
# locations in the same order.  A query for one message takes the first
# way, one for all of them the second; copies in two mailboxes, an
# expunged copy and a renamed mailbox are where they could differ.  The
# look-ups are made in GUID order, so a query for a few messages (the
# first way) must still give its hits in the order asked for.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

expect_exit 0 "create user.s" "$MBCTL" create user.s
expect_exit 0 "create user.s.b" "$MBCTL" create user.s.b
expect_exit 0 "create user.s.c" "$MBCTL" create user.s.c
i=1
while [ $i -le 40 ]; do
    printf 'From: s%d@example.com\nDate: Thu, 1 Jan 2026 00:%02d:00 +0000\nSubject: sword %d\nMessage-ID: <s%d@example.com>\n\nsword number%d\n' \
        $i $i $i $i $i > "$T/m$i"
    "$MBCTL" append user.s "$T/m$i" > /dev/null || fail "append $i"
    i=$((i + 1))
done
# every fourth message has copies in b and c; one of c's is expunged and
# b is renamed: locations by uniqueid, names as they are now
for i in 4 8 12 16 20 24 28 32 36 40; do
    "$MBCTL" append user.s.b "$T/m$i" > /dev/null
    "$MBCTL" append user.s.c "$T/m$i" > /dev/null
done
expect_exit 0 "expunge a copy" "$MBCTL" expunge user.s.c 3
expect_exit 0 "expunge a message" "$MBCTL" expunge user.s 5
expect_exit 0 "index" "$SQUATTER" -u s
expect_exit 0 "rename b" "$MBCTL" rename user.s.b user.s.bb

# every location, from the query matching every message (the scan) ...
"$XSEARCH" -u s -s oldest sword > "$T/all" 2> "$T/err" || fail "search sword" "$(cat "$T/err")"
# ... and message by message (a look-up each: 1 of 39 documents)
i=1
while [ $i -le 40 ]; do
    "$XSEARCH" -u s "number$i" 2>> "$T/err"
    i=$((i + 1))
done > "$T/each"
[ "$(wc -l < "$T/all")" -eq 58 ] && pass "58 live locations (39 messages, 19 copies)" \
    || fail "$(wc -l < "$T/all") locations, want 58" "$(cat "$T/all")"
cmp -s "$T/all" "$T/each" && pass "the scan and the look-ups give the same locations, in order" \
    || fail "the scan and the look-ups differ" "$(diff "$T/all" "$T/each" | head -20)"

# seven of the 40 documents (under a fifth: look-ups), one expunged, one
# with three locations (8 hits): in date order both ways, as the
# searches of one message each give them
q="number1 OR number2 OR number3 OR number4 OR number5 OR number6 OR number7"
for sort in oldest newest; do
    "$XSEARCH" -u s -s $sort "$q" > "$T/few" 2>> "$T/err" || fail "search $q"
    order="1 2 3 4 5 6 7"
    [ $sort = newest ] && order="7 6 5 4 3 2 1"
    for i in $order; do "$XSEARCH" -u s "number$i"; done > "$T/few-each" 2>> "$T/err"
    [ "$(wc -l < "$T/few")" -eq 8 ] && cmp -s "$T/few" "$T/few-each" \
        && pass "a few documents looked up in GUID order: their hits $sort first" \
        || fail "a few documents, $sort first" "$(diff "$T/few" "$T/few-each" | head -20)"
done
expect_grep "user.s.bb	" "$T/all" "a renamed mailbox by its name now"
grep -q "user.s.b	" "$T/all" && fail "the old name of a renamed mailbox" || pass "not by its old name"

done_testing
