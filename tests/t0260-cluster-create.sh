#!/bin/sh
# Cluster registry in etcd (docs/SCALING.md): the exclusive create of a
# user by two back ends, the owner named in the loser's error, folders on
# the owner only, `mbctl where`, the key released by a user delete, the
# configuration keys, and two back ends racing to create the same 50
# users: each exists on exactly one, the loser keeps nothing of it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "$top_srcdir/tests/cluster.sh"

two_backends

expect_exit 0 "be1 creates user.alice" $M1 create -s be1 user.alice
expect_exit 73 "be2 cannot create user.alice (exit 73)" $M2 create -s be2 user.alice
expect_grep "be1" "$T/err" "the error names the owner"
[ -z "$(debris be2 alice)" ] && pass "the loser has no record, file or tier of alice" ||
    fail "the loser has no record, file or tier of alice" "$(debris be2 alice)"
expect_grep '"server":"be1"' /dev/stdin "etcd says be1 has alice" <<E
$(etcd_get /xapiary/users/alice)
E
expect_exit 0 "be1 creates a folder of alice" $M1 create user.alice.Sent
expect_exit 73 "be2 cannot create a folder of alice" $M2 create user.alice.Trash
expect_grep "be1" "$T/err" "... and names the owner"
expect_exit 66 "be2 cannot create a folder of a user nobody has" $M2 create user.nobody.Sent
expect_exit 0 "where alice, on be2" $M2 where alice
expect_grep "^be1$" "$T/out" "... says be1"
expect_exit 69 "where: no back end has nobody" $M2 where nobody

# A placed create of a user that has an owner is refused, not forwarded.
expect_exit 73 "be2 create without -s of alice" $M2 create user.alice
expect_grep "be1" "$T/err" "... names the owner"

# A deleted user's key goes: the other back end may create it then.
expect_exit 0 "be1 deletes user.alice" $M1 delete user.alice
[ -z "$(etcd_get /xapiary/users/alice)" ] && pass "the key is gone" ||
    fail "the key is gone" "$(etcd_get /xapiary/users/alice)"
expect_exit 0 "be2 now creates user.alice" $M2 create -s be2 user.alice
expect_exit 0 "where alice" $M1 where alice
expect_grep "^be2$" "$T/out" "... is be2"

# A user rename moves the key: the old name is free, the new one be2's.
expect_exit 0 "be2 renames user.alice to user.alicia" $M2 rename user.alice user.alicia
[ -z "$(etcd_get /xapiary/users/alice)" ] && pass "... alice's key is gone" ||
    fail "... alice's key is gone" "$(etcd_get /xapiary/users/alice)"
expect_exit 0 "where alicia" $M1 where alicia
expect_grep "^be2$" "$T/out" "... is be2"
expect_exit 0 "be1 may create user.alice now" $M1 create -s be1 user.alice user.alice.Sent
expect_exit 73 "be2 cannot rename user.alicia onto be1's user.alice" $M2 rename user.alicia user.alice
expect_grep "be1" "$T/err" "... the error names the owner"
[ "$($M2 list user.alicia)" = user.alicia ] && pass "... and alicia is as she was" ||
    fail "... and alicia is as she was"
expect_exit 0 "where alicia, still" $M1 where alicia
expect_grep "^be2$" "$T/out" "... is be2"
expect_exit 0 "a folder rename inside a user needs no registry" $M1 rename user.alice.Sent user.alice.Old
printf 'Subject: x\n\ny\n' | $M1 append user.alice.Old > /dev/null

# Shared mailboxes are units of their own.
expect_exit 0 "be1 creates shared mailbox" $M1 create -s be1 shared
expect_exit 73 "be2 cannot create it" $M2 create -s be2 shared
expect_exit 69 "shared mailboxes are not renamed in a cluster" $M1 rename shared shared2

# Configuration: etcd needs endpoints and a servername.
printf 'configdirectory: %s\ncluster_registry: etcd\n' "$T/x" > "$T/bad.conf"
expect_exit 78 "cluster_registry: etcd without endpoints" $MBCTL -C "$T/bad.conf" list
expect_grep "etcd_endpoints and servername" "$T/err" "... says what is missing"
printf 'configdirectory: %s\netcd_endpoints: 127.0.0.1:1\n' "$T/x" > "$T/bad.conf"
expect_exit 78 "an endpoint that is not a URL" $MBCTL -C "$T/bad.conf" list
printf 'configdirectory: %s\nservername: a b\n' "$T/x" > "$T/bad.conf"
expect_exit 78 "a servername a shell would split" $MBCTL -C "$T/bad.conf" list

# The race: both back ends create the same 50 users at the same time.
users=""
for i in $(seq 1 50); do users="$users user.r$i"; done
# shellcheck disable=SC2086
$M1 create -s be1 $users > /dev/null 2> "$T/race1.err" &
p1=$!
# shellcheck disable=SC2086
$M2 create -s be2 $users > /dev/null 2> "$T/race2.err" &
p2=$!
wait $p1; wait $p2
bad=0; won1=0; won2=0
for i in $(seq 1 50); do
    owner=$($M1 where "r$i" 2> /dev/null)
    case "$owner" in
    be1) won=be1; lost=be2; won1=$((won1 + 1)) ;;
    be2) won=be2; lost=be1; won2=$((won2 + 1)) ;;
    *) bad=$((bad + 1)); echo "# r$i: no owner"; continue ;;
    esac
    if [ "$($MBCTL -C "$T/$won.conf" list "user.r$i")" != "user.r$i" ]; then
        bad=$((bad + 1)); echo "# r$i: owner $won has no mailbox"
    fi
    if [ -n "$(debris $lost "r$i")" ]; then
        bad=$((bad + 1)); echo "# r$i: $lost keeps: $(debris $lost "r$i")"
    fi
done
echo "# race: be1 won $won1, be2 won $won2"
[ $bad -eq 0 ] && [ $((won1 + won2)) -eq 50 ] && pass "race: each of 50 users on exactly one back end, nothing on the other" ||
    fail "race: each of 50 users on exactly one back end ($bad wrong)"
n1=$(grep -c "lives on another server: be2" "$T/race1.err")
n2=$(grep -c "lives on another server: be1" "$T/race2.err")
[ "$n1" -eq "$won2" ] && [ "$n2" -eq "$won1" ] && pass "race: every lost create named the winner" ||
    fail "race: every lost create named the winner" "$n1/$won2 $n2/$won1"
done_testing
