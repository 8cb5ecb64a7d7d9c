#!/bin/sh
# A symbolic link planted in a search partition above a user's tier
# directory (SEARCHPART/HH/user -> elsewhere) is refused by the commands
# that move or remove a user's files whole, as it is by search and
# squatter (t0177): deleting or renaming the user must not act on what the
# link points to.  The tier path is common/tierpath.c's, for both layers.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

printf 'From: a@example.com\r\nSubject: link\r\nMessage-ID: <tl-1@example.com>\r\n\r\nlinked body\r\n' > "$T/m1"
expect_exit 0 "create user.tl" "$MBCTL" create user.tl
expect_exit 0 "append" "$MBCTL" append user.tl "$T/m1"
expect_exit 0 "index" "$SQUATTER" -u tl

sdir=$(find "$T/search" -type d -path '*/user/tl' | head -n 1)
hh_user=$(dirname "$sdir")
# Someone else's files, reached through the link.
mkdir -p "$T/elsewhere/tl/xapian.1"
echo precious > "$T/elsewhere/tl/xapian.1/precious"
mv "$sdir" "$T/saved"
rmdir "$hh_user"
ln -s "$T/elsewhere" "$hh_user"

expect_exit 77 "rename of the user is refused" "$MBCTL" rename user.tl user.tm
expect_grep "^mbctl: .*symbolic link $hh_user" "$T/err" "mbctl names the link"
if [ -f "$T/elsewhere/tl/xapian.1/precious" ] && [ ! -e "$T/elsewhere/tm" ]; then
    pass "rename: nothing moved through the link"
else
    fail "rename: nothing moved through the link" "$(find "$T/elsewhere")"
fi
expect_exit 0 "user.tl is still there" "$MBCTL" status user.tl

expect_exit 77 "delete of the user is refused" "$MBCTL" delete user.tl
expect_grep "^mbctl: .*symbolic link $hh_user" "$T/err" "mbctl names the link"
if [ -f "$T/elsewhere/tl/xapian.1/precious" ]; then
    pass "delete: nothing removed through the link"
else
    fail "delete: nothing removed through the link" "$(find "$T/elsewhere")"
fi

# The link gone, the interrupted delete finishes.
rm "$hh_user"
mkdir "$hh_user"
mv "$T/saved" "$sdir"
expect_exit 0 "delete again" "$MBCTL" delete user.tl
if [ -z "$(find "$T/search" "$T/conf/user" -path '*/user/tl*')" ]; then
    pass "no file of the user left"
else
    fail "no file of the user left" "$(find "$T/search" "$T/conf/user" -path '*/user/tl*')"
fi
[ -f "$T/elsewhere/tl/xapian.1/precious" ] && pass "the other files untouched" ||
    fail "the other files untouched"

done_testing
