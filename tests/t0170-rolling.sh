#!/bin/sh
# The rolling indexer is safe to leave running (issue 16, point 4):
# squatter -R drops a sync-log entry whose user or mailbox is gone (one
# log line), indexes mail of a folder renamed before it got there under
# the new name, writes a pidfile, logs with a timestamp and a level to a
# log file that SIGHUP reopens, and exits 0 on SIGTERM.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

LOG="$T/conf/sync/squatter/log"

# wait_until COMMAND...: until COMMAND succeeds (at most 30 s).
wait_until() {
    i=0
    while ! "$@" && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
    "$@"
}
count() { [ "$("$XSEARCH" -u "$1" --count "$2" 2>/dev/null)" = "$3" ]; }
gone() { [ ! -e "$1" ]; }
dead() { ! kill -0 "$1" 2>/dev/null; }
msg() { printf 'From: a@example.com\nSubject: %s\n\n%s\n' "$1" "$1" > "$T/m"; }

# A user whose changes are not indexed is deleted before -R reaches them;
# another user's mail is in the same log.
expect_exit 0 "create user.gone" "$MBCTL" create user.gone
expect_exit 0 "create user.b and user.b.old" "$MBCTL" create user.b user.b.old
msg wombatgone; "$MBCTL" append user.gone "$T/m" > /dev/null
expect_exit 0 "delete user.gone" "$MBCTL" delete user.gone
# A folder renamed before -R reached its line.
msg numbatrenamed; "$MBCTL" append user.b.old "$T/m" > /dev/null
expect_exit 0 "rename user.b.old to user.b.new" "$MBCTL" rename user.b.old user.b.new
msg quollother; "$MBCTL" append user.b "$T/m" > /dev/null
# A renamer killed after the switch (rename.5): recovery finishes the
# rename, and logs the new name.
expect_exit 0 "create user.b.x" "$MBCTL" create user.b.x
msg kowarikilled; "$MBCTL" append user.b.x "$T/m" > /dev/null
XAPIARY_FAULT=rename.5 "$MBCTL" rename user.b.x user.b.y 2> /dev/null
[ $? -eq 137 ] && pass "rename killed at rename.5" || fail "rename killed at rename.5"
expect_exit 0 "mbctl recover finishes it" "$MBCTL" recover

"$SQUATTER" -R -d -v --pidfile "$T/pid" > "$T/roll.out" 2> "$T/roll.err" &
roller=$!
if wait_until count b quollother 1; then pass "another user's mail is indexed"
else fail "another user's mail is indexed" "$(cat "$T/roll.err")"; fi
if wait_until count b numbatrenamed 1; then pass "mail of a renamed folder is indexed"
else fail "mail of a renamed folder is indexed" "$(cat "$T/roll.err")"; fi
if wait_until count b kowarikilled 1; then pass "mail of a rename finished by recovery is indexed"
else fail "mail of a rename finished by recovery is indexed" "$(cat "$T/roll.err")"; fi
if wait_until gone "$LOG-work"; then pass "log-work goes away"
else fail "log-work goes away" "$(cat "$T/roll.err")"; fi
if [ "$(cat "$T/pid" 2>/dev/null)" = "$roller" ]; then pass "--pidfile holds the pid"
else fail "--pidfile holds the pid" "$(cat "$T/pid" 2>&1)"; fi

# A second round through the log: still one line about user.gone.
msg quollagain; "$MBCTL" append user.b "$T/m" > /dev/null
wait_until count b quollagain 1
kill -TERM $roller
wait $roller && pass "-R exits 0 on SIGTERM" || fail "-R exit status" "$(cat "$T/roll.err")"
n=$(grep -c "user.gone" "$T/roll.err")
[ "$n" = 1 ] && pass "one line about the deleted user" || fail "one line about the deleted user: $n" "$(cat "$T/roll.err")"
n=$(grep -c "user.b.old" "$T/roll.err")
[ "$n" = 1 ] && pass "one line about the renamed-away folder" || fail "one line about the renamed-away folder: $n" "$(cat "$T/roll.err")"
expect_grep "user.gone: .*dropped" "$T/roll.err" "the line says the entry is dropped"
if grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z squatter\[[0-9]+\]: (warning|notice): user.gone' "$T/roll.err"
then pass "the line has a timestamp and a level"; else fail "timestamp and level" "$(cat "$T/roll.err")"; fi
[ ! -e "$T/pid" ] && pass "the pidfile is removed at exit" || fail "the pidfile is removed at exit"

# Detached, with a log file that SIGHUP reopens (as logrotate does).
expect_exit 0 "squatter -R detaches" "$SQUATTER" -R -v --pidfile "$T/pid2" --log-file "$T/roll.log"
wait_until test -s "$T/pid2"; pid=$(cat "$T/pid2")
msg dingoone; "$MBCTL" append user.b "$T/m" > /dev/null
if wait_until grep -q "info: b: 1 mailbox" "$T/roll.log"; then pass "the log file gets the lines"
else fail "the log file gets the lines" "$(cat "$T/roll.log" 2>&1)"; fi
mv "$T/roll.log" "$T/roll.log.1"
kill -HUP "$pid"
msg dingotwo; "$MBCTL" append user.b "$T/m" > /dev/null
wait_until count b dingotwo 1
if wait_until grep -q "info: b: 1 mailbox" "$T/roll.log"; then pass "SIGHUP reopens the log file"
else fail "SIGHUP reopens the log file" "$(ls "$T"; cat "$T/roll.log.1")"; fi
kill -TERM "$pid"
if wait_until dead "$pid"; then pass "the daemon stops on SIGTERM"; else fail "the daemon stops on SIGTERM"; fi
[ ! -e "$T/pid2" ] && pass "its pidfile is removed" || fail "its pidfile is removed"
# A failure that lasts (the search partition away) keeps the entry, which
# is indexed once the partition is back.
mv "$T/search" "$T/search.away"
msg emuaway; "$MBCTL" append user.b "$T/m" > /dev/null
"$SQUATTER" -R -d > "$T/roll.out" 2> "$T/roll3.err" &
roller=$!
if wait_until grep -q "error: user b: search partition" "$T/roll3.err"; then pass "a missing partition is an error"
else fail "a missing partition is an error" "$(cat "$T/roll3.err")"; fi
[ -e "$LOG-work" ] && pass "the entry is kept" || fail "the entry is kept"
mv "$T/search.away" "$T/search"
if wait_until count b emuaway 1; then pass "indexed once the partition is back"
else fail "indexed once the partition is back" "$(cat "$T/roll3.err")"; fi
if wait_until gone "$LOG-work"; then pass "then log-work goes away"; else fail "then log-work goes away"; fi
kill -TERM $roller
wait $roller && pass "exit 0 on SIGTERM after a failure" || fail "exit 0 on SIGTERM after a failure"
expect_exit 64 "--pidfile goes with -R" "$SQUATTER" --pidfile "$T/x" -u b
done_testing
