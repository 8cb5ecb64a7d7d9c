#!/bin/sh
# etcd stopped under a running lmtpd (docs/SCALING.md "When etcd is
# down"): delivery to a local user goes on (its mailboxes.db says it is
# here), a user of another back end gets a 4.x (the cache's last answer),
# a user nobody is known to have gets 451 4.3.0 rather than a final 550;
# user creates fail with exit 75 and local search works meanwhile; once
# etcd is back the cache follows it again without a restart.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "$top_srcdir/tests/cluster.sh"

two_backends
$M1 create -s be1 user.alice && $M2 create -s be2 user.bob || fail "creates"
start_lmtpd "$T/be1.conf"
wait_log "registry cache: following etcd"

stop_member 1
wait_log "registry cache: etcd cannot be reached"
python3 - "$T/lmtp.sock" > "$T/deliver" <<'PY'
import smtplib, sys
c = smtplib.LMTP(sys.argv[1])
c.ehlo("test.example")
c.sendmail("a@example.org", ["alice@example.org"],
           b"From: a@example.org\r\nSubject: while etcd is down\r\n\r\nunreachable word\r\n")
print("delivered")
c.quit()
PY
expect_grep "^delivered" "$T/deliver" "etcd down: lmtpd delivers to a local user"
[ "$($M1 status user.alice | awk '/^messages:/ { print $2 }')" = 1 ] &&
    pass "... user.alice has the message" || fail "... user.alice has the message"
rcpt bob nobody alice > "$T/down"
[ "$(sed -n 1p "$T/down" | grep -c '^451 4.2.0 .*lives on be2')" = 1 ] &&
    pass "etcd down: a user of be2 gets 451 naming be2 (from the cache)" ||
    fail "etcd down: a user of be2 gets 451 naming be2" "$(cat "$T/down")"
[ "$(sed -n 2p "$T/down" | grep -c '^451 4.3.0')" = 1 ] &&
    pass "etcd down: an unknown user gets 451 4.3.0, not 550" ||
    fail "etcd down: an unknown user gets 451 4.3.0" "$(cat "$T/down")"
[ "$(sed -n 3p "$T/down" | grep -c '^250')" = 1 ] &&
    pass "etcd down: the local user is accepted" || fail "etcd down: the local user" "$(cat "$T/down")"
expect_exit 75 "etcd down: a user create exits 75" $M1 create -s be1 user.carol
expect_exit 0 "etcd down: indexing" env XAPIARY_CONFIG="$T/be1.conf" "$SQUATTER" -u alice
expect_exit 0 "etcd down: local search" env XAPIARY_CONFIG="$T/be1.conf" "$XSEARCH" -u alice --count unreachable
expect_grep "^1$" "$T/out" "... finds the message lmtpd delivered"

run_member 1
wait_member 1
wait_log "registry cache: following etcd" 2
$M2 create -s be2 user.erin || fail "erin created on be2"
expect_grep "^451 4.2.0 .*lives on be2" /dev/stdin "etcd back: a user created since is seen (no restart)" <<E
$(rcpt_until erin "be2")
E
kill -TERM "$LMTPD_PID"
wait "$LMTPD_PID" && pass "lmtpd: SIGTERM, exit 0" || fail "lmtpd: SIGTERM, exit 0"
done_testing
