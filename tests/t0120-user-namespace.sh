#!/bin/sh
# The user namespace: no mailbox named `user` (the root of every user's
# tree) can be created, and no rename may move mailboxes into or out of
# the user namespace, so that no user's mailboxes leave their search
# tiers and GUID db behind for a later user of the same name to inherit.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

printf 'From: a@example.com\nSubject: bobsecret\nMessage-ID: <s@example.com>\n\nbobsecret\n' > "$T/m"
expect_exit 0 "create user.bob with mail, indexed" sh -c "'$MBCTL' create user.bob &&
    '$MBCTL' append user.bob '$T/m' >/dev/null && '$SQUATTER' -u bob"

expect_exit 64 "mbctl create user is refused" "$MBCTL" create user
expect_grep "user" "$T/err" "the error names the mailbox"
expect_grep "namespace" "$T/err" "and says why"
"$MBCTL" list -a > "$T/list"
awk '$1 == "user"' "$T/list" | grep -q . && fail "a record named user was written" "$(cat "$T/list")" \
    || pass "no record named user exists"
mkdir -p "$T/md/cur" "$T/md/new" && cp "$T/m" "$T/md/cur/1"
expect_exit 64 "mbctl import into user is refused" "$MBCTL" import user "$T/md"

expect_exit 0 "create zz" "$MBCTL" create zz zz.bob
for pair in "user top" "zz user"; do
    set -- $pair
    expect_exit 69 "mbctl rename $1 $2 is refused" "$MBCTL" rename "$1" "$2"
    expect_grep "user namespace" "$T/err" "the refusal says why"
done
for pair in "user.bob zz.bob" "zz.bob user.bob.x" "user.bob.y zz.y"; do
    set -- $pair
    expect_exit 69 "mbctl rename $1 $2 is refused" "$MBCTL" rename "$1" "$2"
done
expect_grep "between users" "$T/err" "the refusal says why"
[ "$("$MBCTL" list user.bob)" = user.bob ] && pass "user.bob is where it was" \
    || fail "user.bob moved" "$("$MBCTL" list)"
[ "$("$XSEARCH" -u bob --count bobsecret)" = 1 ] && pass "bob's search still finds his mail" \
    || fail "bob's search"
done_testing
