#!/bin/sh
# etcd stopped (docs/SCALING.md "When etcd is down"): what needs the
# cluster to agree fails with exit 75 and leaves nothing behind; delivery,
# indexing, search and folder creates of local users go on; once etcd is
# back, creates work again.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "$top_srcdir/tests/cluster.sh"

two_backends
export XAPIARY_CONFIG="$T/be1.conf"

expect_exit 0 "create user.alice on be1" $M1 create -s be1 user.alice
printf 'Subject: before\n\nfirst message\n' | $M1 append user.alice > /dev/null || fail "append"

stop_member 1

expect_exit 75 "etcd down: a user create exits 75" $M1 create -s be1 user.bob
expect_grep "unreachable" "$T/err" "... says the registry is unreachable"
[ -z "$(debris be1 bob)" ] && pass "... and leaves no record or file" ||
    fail "... and leaves no record or file" "$(debris be1 bob)"
expect_exit 75 "etcd down: a shared mailbox create exits 75" $M1 create -s be1 shared
expect_exit 75 "etcd down: a placed create exits 75" $M1 create user.carol
expect_exit 75 "etcd down: where of a user not here exits 75" $M1 where bob
expect_exit 0 "etcd down: where of a local user answers" $M1 where alice
expect_grep "^be1$" "$T/out" "... be1"
expect_exit 0 "etcd down: a folder of a local user is created" $M1 create user.alice.Sent
printf 'Subject: during\n\nsecond message\n' > "$T/msg"
expect_exit 0 "etcd down: delivery to a local user" $M1 append user.alice "$T/msg"
expect_exit 0 "etcd down: indexing" "$SQUATTER" -u alice
expect_exit 0 "etcd down: local search" "$XSEARCH" -u alice --count message
expect_grep "^2$" "$T/out" "... finds both messages"
expect_exit 75 "etcd down: search of a user not here exits 75" "$XSEARCH" -u bob x
expect_exit 75 "etcd down: mbctl register exits 75" $M1 register
expect_exit 75 "etcd down: a user rename exits 75" $M1 rename user.alice user.alex
[ "$($M1 list 'user.al*')" = "user.alice
user.alice.Sent" ] && pass "... and the user is as it was" || fail "... and the user is as it was" "$($M1 list -a)"
expect_exit 0 "etcd down: a folder rename of a local user" $M1 rename user.alice.Sent user.alice.Old

run_member 1
wait_member 1
expect_exit 0 "etcd back: the create works" $M1 create -s be1 user.bob
expect_exit 0 "etcd back: where bob" $M1 where bob
expect_grep "^be1$" "$T/out" "... be1"
done_testing
