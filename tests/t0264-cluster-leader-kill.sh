#!/bin/sh
# A three-member etcd whose leader is killed while two back ends race to
# create the same users: no user ends up on two back ends, no create that
# succeeded is lost, and after `mbctl recover` on both and a retry of the
# creates that failed (exit 75), every user is on exactly one back end and
# the other keeps nothing of it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "$top_srcdir/tests/cluster.sh"

start_etcd 3
backend be1
backend be2
M1="$MBCTL -C $T/be1.conf"
M2="$MBCTL -C $T/be2.conf"
N=30

# leader: the member number (1..3) of the current leader.
leader() {
    python3 - "$ETCD_URL_1" "$ETCD_URL_2" "$ETCD_URL_3" <<'PY'
import json, sys, urllib.request
for i, url in enumerate(sys.argv[1:], 1):
    try:
        st = json.load(urllib.request.urlopen(urllib.request.Request(
            url + "/v3/maintenance/status", data=b"{}",
            headers={"Content-Type": "application/json"}), timeout=2))
    except Exception:
        continue
    if st.get("leader") and st["leader"] == st["header"]["member_id"]:
        print(i)
        break
PY
}

# users_in_etcd: how many user keys exist (asked of any live member).
users_in_etcd() {
    python3 - "$ETCD_URL_1" "$ETCD_URL_2" "$ETCD_URL_3" <<'PY'
import base64, json, sys, urllib.request
b = lambda s: base64.b64encode(s.encode()).decode()
for url in sys.argv[1:]:
    try:
        r = json.load(urllib.request.urlopen(urllib.request.Request(
            url + "/v3/kv/range", data=json.dumps({"key": b("/xapiary/users/"),
            "range_end": b("/xapiary/users0"), "count_only": True}).encode(),
            headers={"Content-Type": "application/json"}), timeout=2))
        print(r.get("count", 0))
        break
    except Exception:
        continue
PY
}

# One create per process, so that each create's exit status is known.
creates() {
    for i in $(seq 1 $N); do
        $MBCTL -C "$T/$1.conf" create -s "$1" "user.k$i" > /dev/null 2>> "$T/$1.err"
        echo "k$i $?"
    done > "$T/$1.status"
}
creates be1 &
c1=$!
creates be2 &
c2=$!
k=0
while [ "$(users_in_etcd)" -lt 5 ] && [ $k -lt 600 ]; do sleep 0.05; k=$((k + 1)); done
L=$(leader)
[ -n "$L" ] && pass "leader found: member $L" || fail "leader found"
stop_member "$L"
wait $c1; wait $c2
echo "# exit statuses be1: $(cut -d' ' -f2 "$T/be1.status" | sort | uniq -c | tr '\n' ' ')"
echo "# exit statuses be2: $(cut -d' ' -f2 "$T/be2.status" | sort | uniq -c | tr '\n' ' ')"

# No duplicate, no lost create, before any repair.
bad=0
for i in $(seq 1 $N); do
    n=0
    for b in be1 be2; do
        [ "$($MBCTL -C "$T/$b.conf" list "user.k$i")" = "user.k$i" ] && n=$((n + 1))
        st=$(sed -n "s/^k$i //p" "$T/$b.status")
        if [ "$st" = 0 ] && [ "$($MBCTL -C "$T/$b.conf" list "user.k$i")" != "user.k$i" ]; then
            bad=$((bad + 1)); echo "# k$i: $b's create succeeded but it has no mailbox"
        fi
    done
    [ $n -le 1 ] || { bad=$((bad + 1)); echo "# k$i on both back ends"; }
done
[ $bad -eq 0 ] && pass "leader killed: no duplicate, no lost create" ||
    fail "leader killed: no duplicate, no lost create ($bad)"

# Repair: recover both, retry what failed, then every user on one back end.
expect_exit 0 "recover be1" $M1 recover
expect_exit 0 "recover be2" $M2 recover
for b in be1 be2; do
    for u in $(awk '$2 == 75 { print $1 }' "$T/$b.status"); do
        $MBCTL -C "$T/$b.conf" create -s $b "user.$u" > /dev/null 2>&1
    done
done
bad=0
for i in $(seq 1 $N); do
    owner=$($M1 where "k$i" 2> /dev/null)
    case "$owner" in
    be1) lost=be2 ;;
    be2) lost=be1 ;;
    *) bad=$((bad + 1)); echo "# k$i: no owner"; continue ;;
    esac
    [ "$($MBCTL -C "$T/$owner.conf" list "user.k$i")" = "user.k$i" ] ||
        { bad=$((bad + 1)); echo "# k$i: $owner has no mailbox"; }
    [ -z "$(debris $lost "k$i")" ] ||
        { bad=$((bad + 1)); echo "# k$i: $lost keeps $(debris $lost "k$i")"; }
done
[ $bad -eq 0 ] && pass "after recover and retries: each user on exactly one back end, nothing on the other" ||
    fail "after recover and retries: each user on exactly one back end ($bad wrong)"
done_testing
