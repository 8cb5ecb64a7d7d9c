#!/bin/sh
# Nothing hangs silently (issue 16, point 5): a blocked process says at -v,
# after a second, which lock it waits for and who holds it, and gives up
# with exit 75 when namelock_timeout expires.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

# wait_for PATTERN FILE: until PATTERN shows up in FILE (at most 30 s).
wait_for() {
    i=0
    while ! grep -q -- "$1" "$2" 2>/dev/null && [ $i -lt 600 ]; do
        sleep 0.05; i=$((i + 1))
    done
    grep -q -- "$1" "$2" 2>/dev/null
}

# expect_says PATTERN FILE DESCRIPTION: PATTERN shows up in FILE in time.
expect_says() {
    if wait_for "$1" "$2"; then pass "$3"; else fail "$3" "$(cat "$2")"; fi
}

# wait_file FILE: until FILE exists (at most 30 s).
wait_file() {
    i=0
    while [ ! -e "$1" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
    [ -e "$1" ]
}

msg() {
    printf 'From: a@example.com\r\nTo: b@example.com\r\nSubject: wait %s\r\n' "$1"
    printf 'Message-ID: <wait-%s@example.com>\r\n\r\nbody %s\r\n' "$1" "$1"
}

# The default configuration (no namelock_timeout line) waits, and says so.
touch "$T/go"
"$MBCTL" lock -x user.demo sh -c "touch $T/held; while [ -e $T/go ]; do sleep 0.05; done" &
holder=$!
wait_file "$T/held" || fail "holder never started"
"$MBCTL" -v lock -s user.demo true 2> "$T/waiter.err" &
waiter=$!
expect_says "waiting for the SHARED namelock on user.demo (held exclusively by pid $holder)" \
    "$T/waiter.err" "-v: the waiter names the lock, the mode and the holder's pid"
rm -f "$T/go"
wait $holder
wait $waiter; ws=$?
[ $ws -eq 0 ] && pass "the waiter gets the lock when the holder lets go" \
    || fail "waiter exit $ws" "$(cat "$T/waiter.err")"
expect_grep "got the SHARED namelock on user.demo after" "$T/waiter.err" \
    "-v: it says when it got the lock"

# Without -v a short wait prints nothing.
rm -f "$T/held"; touch "$T/go"
"$MBCTL" lock -x user.demo sh -c "touch $T/held; while [ -e $T/go ]; do sleep 0.05; done" &
holder=$!
wait_file "$T/held"
"$MBCTL" lock -s user.demo sh -c "touch $T/quiet-got-it" 2> "$T/quiet.err" &
waiter=$!
sleep 1.5
rm -f "$T/go"
wait $holder; wait $waiter
[ -e "$T/quiet-got-it" ] && [ ! -s "$T/quiet.err" ] && pass "without -v a wait is quiet" \
    || fail "without -v a wait is quiet" "$(cat "$T/quiet.err")"

# namelock_timeout expires: exit 75, and the reason on stderr.
cp "$XAPIARY_CONFIG" "$T/short.conf"
echo "namelock_timeout: 1" >> "$T/short.conf"
rm -f "$T/held"; touch "$T/go"
"$MBCTL" lock -x user.demo sh -c "touch $T/held; while [ -e $T/go ]; do sleep 0.05; done" &
holder=$!
wait_file "$T/held"
expect_exit 75 "a waiter gives up after namelock_timeout with 75" \
    "$MBCTL" -C "$T/short.conf" lock -x user.demo true
expect_grep "mbctl: user.demo: Mailbox is locked" "$T/err" "the error names the mailbox"
expect_exit 75 "-v: the same" "$MBCTL" -C "$T/short.conf" -v lock -x user.demo true
expect_grep "gave up waiting for the EXCLUSIVE namelock on user.demo after 1 s" "$T/err" \
    "-v: it says what it gave up on"
rm -f "$T/go"
wait $holder

# start_paused POINT COMMAND...: runs COMMAND until it reaches fault point
# POINT, where it waits (holding its locks) until $T/pause is removed.
start_paused() {
    local point=$1
    shift
    rm -f "$T/pause"
    XAPIARY_PAUSE="$point:$T/pause" "$@" > /dev/null 2> "$T/paused.err" &
    paused=$!
    wait_file "$T/pause" || fail "never reached $point" "$(cat "$T/paused.err")"
}

# release_both WAITER DESCRIPTION: lets the paused process go on; both it
# and WAITER must then exit 0.
release_both() {
    rm -f "$T/pause"
    wait $paused; s1=$?
    wait $1; s2=$?
    [ $s1 -eq 0 ] && [ $s2 -eq 0 ] && pass "$2" \
        || fail "$2" "exit $s1 and $s2: $(cat "$T/paused.err" "$T/waiter.err")"
}

# The mailbox index lock: an append paused inside its commit holds it.
expect_exit 0 "create user.demo" "$MBCTL" create user.demo
msg 1 > "$T/m1"; msg 2 > "$T/m2"
start_paused mailbox.append.1 "$MBCTL" append user.demo "$T/m1"
"$MBCTL" -v append user.demo "$T/m2" > /dev/null 2> "$T/waiter.err" &
waiter=$!
expect_says "waiting for the EXCLUSIVE index lock of mailbox user.demo (held exclusively by pid $paused)" \
    "$T/waiter.err" "-v: an append names the index lock it waits for"
release_both $waiter "both appends finish"

# The xapianactive lock: an indexer paused while it opens the first
# database holds WRITE (inside the batch it no longer does: t0164).
start_paused index.batch.0 "$SQUATTER" -j 1 -u demo
"$XSEARCH" -v -u demo wait > /dev/null 2> "$T/waiter.err" &
waiter=$!
expect_says "waiting for the READ lock of .*xapianactive (held exclusively by pid $paused)" \
    "$T/waiter.err" "-v: a search names the xapianactive lock it waits for"
release_both $waiter "the indexer and the search finish"

# Searching and indexing a user whose search lock another process holds
# EXCLUSIVE past namelock_timeout: 75 too.
rm -f "$T/held"; touch "$T/go"
"$MBCTL" lock -x '$XAPIAN$demo' sh -c "touch $T/held; while [ -e $T/go ]; do sleep 0.05; done" &
holder=$!
wait_file "$T/held"
msg 3 > "$T/m3"
expect_exit 0 "mail to index" "$MBCTL" append user.demo "$T/m3"
expect_exit 75 "xsearch gives up after namelock_timeout with 75" \
    "$XSEARCH" -C "$T/short.conf" -v -u demo wait
expect_grep 'gave up waiting for the SHARED namelock on \$XAPIAN\$demo' "$T/err" \
    "-v: xsearch names the user's search lock"
expect_exit 75 "squatter gives up after namelock_timeout with 75" \
    "$SQUATTER" -C "$T/short.conf" -u demo
rm -f "$T/go"
wait $holder
expect_exit 0 "squatter indexes once the lock is free" "$SQUATTER" -C "$T/short.conf" -u demo

done_testing
