#!/bin/sh
# A xapiary.index whose header counts more records than the file holds
# (a truncated copy, a disk that lost the tail) is corruption: every
# command that opens the mailbox says so, naming the mailbox and the
# file, and changes nothing (an append used to write past the end and
# leave a hole of empty records); `mbctl reconstruct` repairs it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

i=1
while [ $i -le 5 ]; do
    printf 'From: t%d@example.com\nSubject: trunc %d\nMessage-ID: <t%d@example.com>\n\ntruncword %d\n' \
        $i $i $i $i > "$T/m$i"
    i=$((i + 1))
done
expect_exit 0 "create user.t" "$MBCTL" create user.t
(cd "$T" && "$MBCTL" append user.t m1 m2 m3 m4 m5 > /dev/null)
expect_exit 0 "index it" "$SQUATTER" -u t
idx=$(find "$T/spool" -path '*/user/t/xapiary.index')
[ -f "$idx" ] && pass "the index file is there" || fail "the index file" "$idx"
size=$(wc -c < "$idx")
# the header and two of the five records
head -c $((size - 3 * 104)) "$idx" > "$T/short" && cp "$T/short" "$idx"
cp "$idx" "$T/truncated"

# corrupt NAME COMMAND...: COMMAND fails (not 0, not a crash), says the
# index is truncated, names the mailbox, and leaves the file as it was
corrupt() {
    local what=$1 rc
    shift
    "$@" > "$T/out" 2> "$T/err"; rc=$?
    { [ $rc -ne 0 ] && [ $rc -lt 128 ]; } && pass "$what: fails (exit $rc)" \
        || fail "$what: fails, no crash" "exit $rc: $(cat "$T/err")"
    expect_grep "user.t" "$T/err" "$what: names the mailbox"
    expect_grep "truncated" "$T/err" "$what: says the index is truncated"
    cmp -s "$idx" "$T/truncated" && pass "$what: the index is left as it was" \
        || fail "$what: the index is left as it was" "$(wc -c < "$idx") bytes"
}
corrupt "status" "$MBCTL" status user.t
corrupt "append" "$MBCTL" append user.t "$T/m1"
corrupt "expunge" "$MBCTL" expunge user.t 1
corrupt "verify" "$MBCTL" verify user.t
corrupt "squatter" "$SQUATTER" -u t
corrupt "squatter -A" "$SQUATTER" -A -u t

expect_exit 0 "reconstruct repairs it" "$MBCTL" reconstruct user.t
expect_exit 0 "verify after reconstruct" "$MBCTL" verify user.t
expect_exit 0 "status after reconstruct" "$MBCTL" status user.t
expect_grep "^messages: 5" "$T/out" "the five messages are back"
expect_exit 0 "append after reconstruct" "$MBCTL" append user.t "$T/m1"
expect_exit 0 "squatter after reconstruct" "$SQUATTER" -u t

done_testing
