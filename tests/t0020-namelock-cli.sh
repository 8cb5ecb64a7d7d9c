#!/bin/sh
# mbctl lock: namelocks between real processes, from the shell.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

# A holder keeps user.demo exclusively until we remove $T/go.
touch "$T/go"
"$MBCTL" lock -x user.demo sh -c "touch $T/held; while [ -e $T/go ]; do sleep 0.05; done" &
holder=$!
i=0; while [ ! -e "$T/held" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
[ -e "$T/held" ] && pass "holder took the exclusive lock" || fail "holder never started"

expect_exit 75 "-n on a held name exits 75" "$MBCTL" lock -n user.demo true
expect_grep "user.demo: Mailbox is locked" "$T/err" "error names the mailbox and the cause"
expect_exit 0 "another name is free" "$MBCTL" lock -n user.other true

# A shared waiter blocks until the holder is done.
"$MBCTL" lock -s user.demo sh -c "touch $T/waiter-got-it" &
waiter=$!
sleep 0.3
[ ! -e "$T/waiter-got-it" ] && pass "shared waiter blocks" || fail "shared waiter did not block"
rm -f "$T/go"
wait $holder; hs=$?
wait $waiter; ws=$?
[ $hs -eq 0 ] && pass "holder exit status passed through" || fail "holder exit $hs"
[ $ws -eq 0 ] && [ -e "$T/waiter-got-it" ] && pass "waiter ran after release" \
    || fail "waiter exit $ws"

expect_exit 3 "command's exit status is passed through" "$MBCTL" lock user.demo sh -c 'exit 3'
expect_exit 127 "missing command exits 127" "$MBCTL" lock user.demo /nonexistent/cmd
expect_exit 64 "bad mailbox name is a usage error" "$MBCTL" lock 'user..x' true
expect_grep "Invalid mailbox name" "$T/err" "bad name error says why"
expect_exit 0 "a user's search lock name is accepted" "$MBCTL" lock -x '$XAPIAN$demo' true
n=$(find "$T/conf/lock" -type f | wc -l)
[ "$n" -eq 3 ] && pass "one lock file per name ($n)" || fail "lock files: $n"
[ -z "$(find "$T/conf/lock" -type f -size +0)" ] && pass "lock files are empty" \
    || fail "non-empty lock files"

done_testing
