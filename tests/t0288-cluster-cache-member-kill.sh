#!/bin/sh
# A three-member etcd whose member that lmtpd's registry cache watches
# (the first of etcd_endpoints) is killed: the watch resumes on another
# member from the revision it had reached, without losing touch, and the
# users created meanwhile are answered (docs/SCALING.md "What each node
# caches").
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "$top_srcdir/tests/cluster.sh"

start_etcd 3
backend be1
backend be2
M2="$MBCTL -C $T/be2.conf"
$M2 create -s be2 user.bob || fail "bob created on be2"
start_lmtpd "$T/be1.conf"
wait_log "registry cache: following etcd"

stop_member 1
for u in u1 u2 u3; do
    $M2 create -s be2 "user.$u" 2>> "$T/create.err" || fail "user.$u created on be2" "$(cat "$T/create.err")"
done
expect_grep "^451 4.2.0 .*lives on be2" /dev/stdin "a user created after member 1 died is seen" <<E
$(rcpt_until u3 "be2")
E
rcpt bob u1 u2 u3 > "$T/r"
[ "$(grep -c '^451 4.2.0 .*lives on be2' "$T/r")" -eq 4 ] &&
    pass "every user of be2 is answered 451 naming be2" ||
    fail "every user of be2 is answered 451 naming be2" "$(cat "$T/r")"
[ "$(log_count "cannot be reached")" -eq 0 ] &&
    pass "the watch moved to another member without losing touch" ||
    fail "the watch moved to another member without losing touch" "$(cat "$T/lmtpd.log")"
kill -TERM "$LMTPD_PID"
wait "$LMTPD_PID" && pass "lmtpd: SIGTERM, exit 0" || fail "lmtpd: SIGTERM, exit 0"
done_testing
