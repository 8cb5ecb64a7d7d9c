#!/bin/sh
# The registry cache loses its watch while other nodes change the
# registry and etcd compacts its history past the cache's revision
# (docs/SCALING.md "What each node caches"): while cut off, lmtpd answers
# users of other back ends as last heard (451, never 550); once etcd is
# reachable again the watch cannot resume from the compacted revision, so
# the cache reads every user again and answers as etcd says.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "$top_srcdir/tests/cluster.sh"

start_etcd 1
tcp_proxy p1
backend be1
backend be2
backend be3
sed -i "s|^etcd_endpoints: .*|etcd_endpoints: $PROXY_p1|" "$T/be1.conf"
M2="$MBCTL -C $T/be2.conf"
M3="$MBCTL -C $T/be3.conf"
$M2 create -s be2 user.bob && $M2 create -s be2 user.carol || fail "creates"

start_lmtpd "$T/be1.conf"
wait_log "registry cache: following etcd"
expect_grep "^451 4.2.0 .*lives on be2" /dev/stdin "bob: lives on be2" <<E
$(rcpt bob)
E

# be1 is cut off from etcd: the watch is lost.
kill -USR1 "$PROXY_PID_p1"
wait_log "registry cache: etcd cannot be reached"
rcpt bob nobody > "$T/cut"
expect_grep "^451 4.2.0 .*lives on be2" "$T/cut" "cut off: bob answered as last heard (451 naming be2)"
expect_grep "^451 4.3.0" "$T/cut" "cut off: a user the cache does not have gets 451 4.3.0, not 550"

# Meanwhile: bob's owner switched, carol deleted, dave created, and the
# history compacted past every revision the cache has seen.
etcd_put /xapiary/users/bob '{"server": "be3", "partition": "default", "uniqueid": "b"}'
$M2 delete user.carol && $M3 create -s be3 user.dave || fail "changes on be2 and be3"
etcd_put /xapiary/users/bob '{"server": "be3", "partition": "default", "uniqueid": "b2"}'
etcd_compact || fail "compaction"

kill -USR2 "$PROXY_PID_p1"
# The resumed watch is in place (following again), then etcd cancels it
# for its compacted revision: every user is read again (following a
# third time).
wait_log "compacted away"
expect_grep "compacted away" "$T/lmtpd.log" "the resumed watch found its revision compacted"
wait_log "registry cache: following etcd" 3
rcpt bob carol dave > "$T/back"
[ "$(sed -n 1p "$T/back" | grep -c '^451 4.2.0 .*lives on be3')" = 1 ] &&
    pass "bob: lives on be3 now" || fail "bob: lives on be3 now" "$(cat "$T/back")"
[ "$(sed -n 2p "$T/back" | grep -c '^550 5.1.1')" = 1 ] &&
    pass "carol: deleted, 550" || fail "carol: deleted, 550" "$(cat "$T/back")"
[ "$(sed -n 3p "$T/back" | grep -c '^451 4.2.0 .*lives on be3')" = 1 ] &&
    pass "dave: lives on be3" || fail "dave: lives on be3" "$(cat "$T/back")"
before=$(proxy_conns p1)
rcpt bob dave bob dave > /dev/null
[ "$before" -eq "$(proxy_conns p1)" ] && pass "... answered from the cache again (no request)" ||
    fail "... answered from the cache again" "$before requests before, $(proxy_conns p1) after"
kill -TERM "$LMTPD_PID"
wait "$LMTPD_PID" && pass "lmtpd: SIGTERM, exit 0" || fail "lmtpd: SIGTERM, exit 0"
done_testing
