#!/bin/sh
# A user rename (issue 16, point 8) leaves no empty directories of the
# old name in the spool, the search partition or the config directory
# (the hash directory HH/ and HH/user/ that held only the old user),
# and the partitions themselves stay.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

printf 'From: a@example.com\r\nSubject: mv\r\nMessage-ID: <mv-1@example.com>\r\n\r\nmoved body\r\n' > "$T/m1"
expect_exit 0 "create user.old" "$MBCTL" create user.old
expect_exit 0 "create user.old.sub" "$MBCTL" create user.old.sub
expect_exit 0 "create user.old.sub.deep" "$MBCTL" create user.old.sub.deep
expect_exit 0 "append" "$MBCTL" append user.old.sub.deep "$T/m1"
expect_exit 0 "index" "$SQUATTER" -u old
expect_exit 0 "create user.other" "$MBCTL" create user.other

expect_exit 0 "rename the user" "$MBCTL" rename user.old user.new
empty=$(find "$T/spool" "$T/search" "$T/conf" -mindepth 1 -type d -empty)
[ -z "$empty" ] && pass "no empty directory is left" \
    || fail "no empty directory is left" "$empty"
old=$(find "$T" -path '*/user/old*')
[ -z "$old" ] && pass "nothing of the old name is left" \
    || fail "nothing of the old name is left" "$old"
[ -d "$T/spool" ] && [ -d "$T/search" ] && pass "the partitions stay" \
    || fail "the partitions stay"
expect_exit 0 "the other user is untouched" "$MBCTL" status user.other
expect_exit 0 "the renamed user's mail is searchable" "$XSEARCH" -u new moved
expect_grep "user.new.sub.deep" "$T/out" "and found under the new name"

# Back again: the old name's directories are made anew.
expect_exit 0 "rename back" "$MBCTL" rename user.new user.old
expect_exit 0 "append under the old name" "$MBCTL" append user.old "$T/m1"
expect_exit 0 "index it" "$SQUATTER" -u old
empty=$(find "$T/spool" "$T/search" "$T/conf" -mindepth 1 -type d -empty)
[ -z "$empty" ] && pass "still no empty directory" \
    || fail "still no empty directory" "$empty"

done_testing
