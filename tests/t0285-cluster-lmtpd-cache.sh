#!/bin/sh
# lmtpd's registry cache (docs/SCALING.md "What each node caches"): a
# full read and then a watch, so that lmtpd answers a user of another
# back end without asking etcd at each RCPT, and sees each change another
# node makes (a user deleted there and created on a third back end, an
# owner switched by a put, a user created, a user deleted) without a
# restart.  be1 reaches etcd through a proxy that counts the requests.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "$top_srcdir/tests/cluster.sh"

start_etcd 1
tcp_proxy p1
backend be1
backend be2
backend be3
sed -i "s|^etcd_endpoints: .*|etcd_endpoints: $PROXY_p1|" "$T/be1.conf"
M1="$MBCTL -C $T/be1.conf"
M2="$MBCTL -C $T/be2.conf"
M3="$MBCTL -C $T/be3.conf"
$M1 create -s be1 user.alice && $M2 create -s be2 user.bob && $M2 create -s be2 user.carol ||
    fail "creates"

# 2500 more users of be3, written as another node would (in transactions
# of 125 puts): the cache's full read takes several pages.
python3 - "$ETCD_URL_1" <<'PY' || fail "2500 users put in etcd"
import base64, json, sys, urllib.request
b = lambda s: base64.b64encode(s.encode()).decode()
for start in range(0, 2500, 125):
    ops = [{"request_put": {"key": b("/xapiary/users/bulk%04d" % i),
                            "value": b('{"server": "be3", "uniqueid": "u%d"}' % i)}}
           for i in range(start, start + 125)]
    urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/v3/kv/txn",
        data=json.dumps({"success": ops}).encode(),
        headers={"Content-Type": "application/json"}), timeout=10).read()
PY

start_lmtpd "$T/be1.conf"
wait_log "registry cache: following etcd"
expect_grep "(2503 users)" "$T/lmtpd.log" "the cache read the 2503 users (in pages)"
before=$(proxy_conns p1)
rcpt bob carol alice bob carol bob carol bob carol bob > "$T/r1"
rcpt carol bob carol bob carol bob carol bob carol bob >> "$T/r1"
rcpt bulk0000 bulk0999 bulk1000 bulk2499 > "$T/r2"
[ "$(grep -c '^451 4.2.0 .*lives on be2' "$T/r1")" -eq 19 ] && [ "$(grep -c '^250' "$T/r1")" -eq 1 ] &&
    pass "19 RCPTs for users of be2 answered 451 naming be2, alice (local) 250" ||
    fail "19 RCPTs for users of be2 answered 451 naming be2" "$(cat "$T/r1")"
[ "$(grep -c '^451 4.2.0 .*lives on be3' "$T/r2")" -eq 4 ] &&
    pass "users of be3 from the first, second and last page: 451 naming be3" ||
    fail "users of be3 from every page: 451 naming be3" "$(cat "$T/r2")"
after=$(proxy_conns p1)
[ "$before" -eq "$after" ] && pass "... and none of the 24 asked etcd" ||
    fail "... and none of the 24 asked etcd" "$before requests before, $after after"

# Another node's changes, seen by new connections without a restart.
$M2 delete user.bob && $M3 create -s be3 user.bob || fail "bob deleted on be2, created on be3"
expect_grep "^451 4.2.0 .*lives on be3" /dev/stdin "bob recreated on be3: lmtpd names be3" <<E
$(rcpt_until bob "be3")
E
etcd_put /xapiary/users/carol '{"server": "be3", "partition": "default", "uniqueid": "c"}'
expect_grep "^451 4.2.0 .*lives on be3" /dev/stdin "carol's owner switched by a put: lmtpd names be3" <<E
$(rcpt_until carol "be3")
E
$M2 create -s be2 user.dave || fail "dave created on be2"
expect_grep "^451 4.2.0 .*lives on be2" /dev/stdin "dave created on be2: lmtpd names be2" <<E
$(rcpt_until dave "be2")
E
$M3 delete user.bob || fail "bob deleted on be3"
expect_grep "^550 5.1.1" /dev/stdin "bob deleted: 550" <<E
$(rcpt_until bob "^550")
E
expect_grep "^250" /dev/stdin "alice is still delivered to" <<E
$(rcpt alice)
E

# The follower (lmtpd's one child that outlives connections) killed: the
# listener starts another, which reads and follows etcd again.
follower=$(pgrep -P "$LMTPD_PID" | head -1)
kill -9 "$follower"
wait_log "registry cache follower $follower ended" && wait_log "registry cache: following etcd" 2 &&
    pass "a killed follower is replaced and the cache follows etcd again"
$M2 create -s be2 user.erin || fail "erin created on be2"
expect_grep "^451 4.2.0 .*lives on be2" /dev/stdin "... and sees a user created since" <<E
$(rcpt_until erin "be2")
E

kill -TERM "$LMTPD_PID"
wait "$LMTPD_PID"
st=$?
[ $st -eq 0 ] && pass "lmtpd: SIGTERM, exit 0" || fail "lmtpd: exit $st after SIGTERM"
# The follower ended with the listener: nothing holds a watch through the proxy.
[ -z "$(pgrep -f "lmtpd -C $T/be1.conf")" ] && pass "... and no process of it is left" ||
    fail "... and no process of it is left" "$(pgrep -af "lmtpd -C $T/be1.conf")"
done_testing
