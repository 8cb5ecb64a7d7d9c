#!/bin/sh
# The exclusive create of a user in a cluster killed at each of its steps
# (docs/FAULTS.md registry.create.*, and mailbox.create.* with a cluster),
# then `mbctl recover` (or the next create of the name) resolves the
# RESERVED record by reading etcd: the user is on exactly one back end,
# complete, or on none, and no record, file or tier is left over.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "$top_srcdir/tests/cluster.sh"

two_backends

# killed POINT USER: creates user.USER on be1 with POINT armed, which must
# kill it.
killed() {
    XAPIARY_FAULT=$1 $M1 create -s be1 "user.$2" > /dev/null 2>&1
    st=$?
    [ $st -eq 137 ] && pass "$1: killed" || fail "$1: killed" "exit $st"
}

# complete USER: be1 has the user, whole, and etcd says so.
complete() {
    [ "$($M1 list "user.$1")" = "user.$1" ] && pass "$2: be1 has user.$1" ||
        fail "$2: be1 has user.$1" "$($M1 list -a)"
    echo "Subject: x" | $M1 append "user.$1" > /dev/null 2>&1 &&
        $M1 verify "user.$1" > /dev/null 2>&1 && pass "$2: user.$1 takes mail and verifies" ||
        fail "$2: user.$1 takes mail and verifies"
    [ "$($M2 where "$1" 2> /dev/null)" = be1 ] && pass "$2: etcd says be1" ||
        fail "$2: etcd says be1"
    expect_exit 73 "$2: be2 cannot have it" $M2 create -s be2 "user.$1"
    [ -z "$(debris be2 "$1")" ] && pass "$2: nothing of it on be2" || fail "$2: nothing on be2"
}

# none USER: no back end has the user and nothing of it is left.
none() {
    [ -z "$(debris be1 "$1")" ] && pass "$2: nothing of user.$1 left on be1" ||
        fail "$2: nothing of user.$1 left on be1" "$(debris be1 "$1")"
    [ -z "$(etcd_get "/xapiary/users/$1")" ] && pass "$2: no key" || fail "$2: no key"
}

# registry.create.1: reserved locally, etcd never asked.
killed registry.create.1 u1
expect_grep "RESERVED" /dev/stdin "registry.create.1: the RESERVED record is there" <<E
$($M1 list -a user.u1)
E
expect_exit 0 "registry.create.1: recover" $M1 recover
none u1 "registry.create.1 + recover"
expect_exit 0 "registry.create.1: the name can be created after" $M2 create -s be2 user.u1

# registry.create.2: the claim won, no file made yet.
killed registry.create.2 u2
expect_exit 73 "registry.create.2: be2 cannot take the name meanwhile" $M2 create -s be2 user.u2
expect_exit 0 "registry.create.2: recover" $M1 recover
complete u2 "registry.create.2 + recover"

# The same, resolved by the next create of the name instead of recover.
killed registry.create.2 u3
expect_exit 0 "registry.create.2: create again" $M1 create -s be1 user.u3
complete u3 "registry.create.2 + create"

# mailbox.create.1: files made, the record still RESERVED.
killed mailbox.create.1 u4
expect_exit 0 "mailbox.create.1: recover" $M1 recover
complete u4 "mailbox.create.1 + recover"

# mailbox.create.2: the record active: the create is complete.
killed mailbox.create.2 u5
expect_exit 0 "mailbox.create.2: recover" $M1 recover
complete u5 "mailbox.create.2 + recover"

# A lost claim killed nowhere: be2 loses u5 and keeps nothing; a RESERVED
# record of a name another back end won is removed by recover.
XAPIARY_FAULT=registry.create.1 $M2 create -s be2 user.u5 > /dev/null 2>&1
expect_exit 0 "another's name: recover" $M2 recover
[ -z "$(debris be2 u5)" ] && pass "another's name: the RESERVED record is gone" ||
    fail "another's name: the RESERVED record is gone" "$(debris be2 u5)"
[ "$($M1 where u5)" = be1 ] && pass "another's name: still be1's" || fail "another's name: still be1's"

# A key of this back end for a user it no longer has (a delete killed
# before it released the key) is replaced by the next create here.
expect_exit 0 "stale key: create u6" $M1 create -s be1 user.u6
python3 - "$ETCD_URL_1" <<'PY'
import base64, json, sys, urllib.request
b = lambda s: base64.b64encode(s.encode()).decode()
body = {"key": b("/xapiary/users/u6"), "value": b(json.dumps(
    {"server": "be1", "partition": "default", "uniqueid": "0" * 32, "created": 1}))}
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/v3/kv/put",
    data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}), timeout=5)
PY
XAPIARY_FAULT=user.delete.3 $M1 delete user.u6 > /dev/null 2>&1
expect_exit 0 "stale key: recover finishes the delete" $M1 recover
expect_exit 0 "stale key: be1 creates u6 again" $M1 create -s be1 user.u6
complete u6 "stale key"
# A user rename killed on each side of its switch: recover undoes or
# finishes it, and the registry follows: the key of the name that is not
# the user's any more is gone, the other says be1.
for point in registry.rename.1 rename.3 rename.5 rename.8; do
    case $point in
    rename.5|rename.8) keep=n$point; gone=o$point ;;
    *) keep=o$point; gone=n$point ;;
    esac
    keep=$(echo "$keep" | tr -d .); gone=$(echo "$gone" | tr -d .)
    o=$(echo "o$point" | tr -d .); nn=$(echo "n$point" | tr -d .)
    $M1 create -s be1 "user.$o" > /dev/null || fail "$point: create user.$o"
    XAPIARY_FAULT=$point $M1 rename "user.$o" "user.$nn" > /dev/null 2>&1
    st=$?
    [ $st -eq 137 ] && pass "rename at $point: killed" || fail "rename at $point: killed" "exit $st"
    expect_exit 0 "rename at $point: recover" $M1 recover
    complete "$keep" "rename at $point + recover"
    [ -z "$(etcd_get "/xapiary/users/$gone")" ] && pass "rename at $point: no key for $gone" ||
        fail "rename at $point: no key for $gone" "$(etcd_get "/xapiary/users/$gone")"
    [ -z "$($M1 list "user.$gone")" ] && pass "rename at $point: be1 has no user.$gone" ||
        fail "rename at $point: be1 has no user.$gone"
    expect_exit 0 "rename at $point: be2 may create user.$gone" $M2 create -s be2 "user.$gone"
done
done_testing
