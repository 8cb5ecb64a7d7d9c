#!/bin/sh
# mbctl export / receive on one machine: the backup and restore of one
# user (docs/OPERATIONS.md).  A restored user gives the same search
# answers, verifies and takes mail; receive never overwrites a user; a
# damaged or truncated stream leaves nothing; a receive killed at each of
# its steps (docs/FAULTS.md receive.*) and then `mbctl recover` leaves
# either the whole user or nothing.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

if ! command -v python3 > /dev/null; then
    echo "1..0 # SKIP python3 is missing (scripts/samplemail needs it)"
    exit 0
fi
"$top_srcdir/scripts/samplemail" --seed 7 --count 60 --folders "$T/md" > /dev/null ||
    { echo "Bail out! samplemail failed"; exit 1; }
$MBCTL create user.alice || fail "create user.alice"
$MBCTL import -r user.alice "$T/md" > /dev/null 2>&1 || fail "import"
"$SQUATTER" -u alice || fail "squatter"

# answers FILE: what searches of alice say, and her mailboxes.
answers() {
    for q in the re from:example.com 'subject:report' invoice meeting; do
        echo "== $q"
        "$XSEARCH" -u alice -s oldest -n 0 "$q" 2>&1
    done > "$1"
    $MBCTL list 'user.alice*' >> "$1"
    $MBCTL status user.alice >> "$1" 2>&1
}
# nothing_left: no record, file of the spool, tier or user data of alice
# (a delete leaves tombstones and empty directories).
nothing_left() {
    d="$($MBCTL list -a 'user.alice*' | grep -v DELETED;
         find "$T/spool" "$T/search" "$T/conf/user" -path '*/alice/*' -type f 2> /dev/null)"
    [ -z "$d" ] && pass "$1: nothing of alice left" || fail "$1: nothing of alice left" "$d"
}

answers "$T/before"
[ "$(grep -c '^user\.alice' "$T/before")" -gt 1 ] && grep -q '^== the' "$T/before" &&
    [ "$("$XSEARCH" -u alice -c the)" -gt 0 ] && pass "alice has folders and finds mail" ||
    fail "alice has folders and finds mail" "$(cat "$T/before")"

expect_exit 0 "export to a file" $MBCTL export -o "$T/alice.export" alice
[ -s "$T/alice.export" ] && [ ! -e "$T/alice.export.NEW" ] && pass "the file is there, whole" ||
    fail "the file is there, whole"
$MBCTL export user.alice > "$T/alice.stdout" 2> "$T/err" && pass "export to standard output" ||
    fail "export to standard output" "$(cat "$T/err")"
head -1 "$T/alice.stdout" | grep -q '"format":"xapiary-user-export"' &&
    pass "the stream starts with its header line" || fail "the stream's header"

expect_exit 73 "receive does not overwrite alice" $MBCTL receive -i "$T/alice.export"
expect_grep "alice exists here" "$T/err" "... and says why"
answers "$T/same"
cmp -s "$T/before" "$T/same" && pass "alice unchanged" || fail "alice unchanged"

# Restore after the user was deleted.
$MBCTL delete user.alice || fail "delete alice"
nothing_left "deleted"
expect_exit 0 "receive restores alice" $MBCTL receive -i "$T/alice.export"
answers "$T/after"
cmp -s "$T/before" "$T/after" && pass "restored: the same answers, mailboxes and counters" ||
    fail "restored: the same answers" "$(diff "$T/before" "$T/after")"
expect_exit 0 "restored: verify" $MBCTL verify
printf 'From: a@example.org\nSubject: after restore zebrafish\n\nbody\n' |
    $MBCTL append user.alice > /dev/null && "$SQUATTER" -u alice &&
    [ "$("$XSEARCH" -u alice -c zebrafish)" = 1 ] && pass "restored: takes mail, indexes it" ||
    fail "restored: takes mail, indexes it"

# Damaged streams: nothing received, nothing left.
$MBCTL delete user.alice
size=$(wc -c < "$T/alice.export")
head -c $((size / 2)) "$T/alice.export" > "$T/half"
expect_exit 65 "a truncated stream is refused" $MBCTL receive -i "$T/half"
nothing_left "truncated"
python3 - "$T/alice.export" "$T/flipped" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b'"file":"1."')      # the first message file: flip a byte of it
i = b.index(b"\n", i) + 10
b[i] ^= 0x20
open(sys.argv[2], "wb").write(b)
PY
expect_exit 65 "a stream with a changed byte is refused" $MBCTL receive -i "$T/flipped"
expect_grep "checksum does not match" "$T/err" "... naming the checksum"
nothing_left "changed byte"
echo "not a stream" > "$T/junk"
expect_exit 65 "something else is refused" $MBCTL receive -i "$T/junk"
nothing_left "not a stream"

# A receive killed at each step, then recover: all or nothing.
for point in receive.1 receive.2 receive.3; do
    XAPIARY_FAULT=$point $MBCTL receive -i "$T/alice.export" > /dev/null 2>&1
    st=$?
    [ $st -eq 137 ] && pass "$point: killed" || fail "$point: killed" "exit $st"
    expect_exit 0 "$point: recover" $MBCTL recover
    if [ $point = receive.3 ]; then
        answers "$T/after"
        cmp -s "$T/before" "$T/after" && pass "$point + recover: alice whole" ||
            fail "$point + recover: alice whole" "$(diff "$T/before" "$T/after")"
        $MBCTL delete user.alice
    else
        nothing_left "$point + recover"
        expect_exit 0 "$point: the restore can run again" $MBCTL receive -i "$T/alice.export"
        answers "$T/after"
        cmp -s "$T/before" "$T/after" && pass "$point: then alice is whole" ||
            fail "$point: then alice is whole" "$(diff "$T/before" "$T/after")"
        $MBCTL delete user.alice
    fi
done
done_testing
