#!/bin/sh
# mbctl import (issue 16, point 8): a file name with dots in a tree is one
# folder, not one level per dot; running the same import again adds only
# what is new (a message whose GUID the mailbox holds is skipped), unless
# -d (--duplicates) asks for copies.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

mkdir -p "$T/tree/Lists.2023" "$T/md/cur" "$T/md/new" "$T/md/tmp"
mbox() {
    printf 'From a@example.com Mon Jan  1 00:00:00 2024\nFrom: a@example.com\n'
    printf 'Subject: %s one\nMessage-ID: <%s-1@example.com>\n\nbody one\n\n' "$1" "$1"
    printf 'From a@example.com Mon Jan  1 00:00:00 2024\nFrom: a@example.com\n'
    printf 'Subject: %s two\nMessage-ID: <%s-2@example.com>\n\nbody two\n' "$1" "$1"
}
mbox dots > "$T/tree/archive.2024.01.mbox"
printf 'From: a@example.com\nSubject: loose\nMessage-ID: <loose@example.com>\n\nloose\n' \
    > "$T/tree/Lists.2023/1"
for i in 1 2; do
    printf 'From: a@example.com\nSubject: md %s\nMessage-ID: <md-%s@example.com>\n\nmd %s\n' \
        $i $i $i > "$T/md/cur/$i:2,S"
done

count() { "$MBCTL" status "$1" 2> /dev/null | sed -n 's/^messages: //p'; }

expect_exit 0 "create user.im" "$MBCTL" create user.im
expect_exit 0 "import -r a tree with dotted names" "$MBCTL" import -r user.im "$T/tree"
expect_exit 0 "list" "$MBCTL" list
expect_grep "^user.im.archive^2024^01^mbox$" "$T/out" "the dotted mbox file is one folder"
expect_grep "^user.im.Lists^2023$" "$T/out" "the dotted directory is one folder"
if grep -q "^user\.im\.archive\.2024" "$T/out" || grep -q "^user\.im\.Lists\.2023" "$T/out"; then
    fail "no folder level per dot" "$(cat "$T/out")"
else
    pass "no folder level per dot"
fi
[ "$(count 'user.im.archive^2024^01^mbox')" = 2 ] && pass "both mbox messages are there" \
    || fail "both mbox messages are there" "messages: $(count 'user.im.archive^2024^01^mbox')"

# The same import again: nothing new, nothing doubled.
expect_exit 0 "the same import again" "$MBCTL" -v import -r user.im "$T/tree"
expect_grep "2 already there" "$T/err" "-v says what was already there"
[ "$(count 'user.im.archive^2024^01^mbox')" = 2 ] && pass "a re-run doubles nothing" \
    || fail "a re-run doubles nothing" "messages: $(count 'user.im.archive^2024^01^mbox')"
[ "$(count 'user.im.Lists^2023')" = 1 ] && pass "nor in the directory's folder" \
    || fail "nor in the directory's folder" "messages: $(count 'user.im.Lists^2023')"

# A Maildir imported, then again with one new message: only that one added.
expect_exit 0 "import a Maildir" "$MBCTL" import user.im.md "$T/md"
printf 'From: a@example.com\nSubject: md 3\nMessage-ID: <md-3@example.com>\n\nmd 3\n' \
    > "$T/md/new/3"
expect_exit 0 "import it again with one new message" "$MBCTL" import user.im.md "$T/md"
[ "$(count user.im.md)" = 3 ] && pass "only the new message was added" \
    || fail "only the new message was added" "messages: $(count user.im.md)"

# -d (--duplicates): copies on request.
expect_exit 0 "import -d" "$MBCTL" import -d user.im.md "$T/md"
[ "$(count user.im.md)" = 6 ] && pass "-d stores copies" \
    || fail "-d stores copies" "messages: $(count user.im.md)"
expect_exit 0 "import --duplicates" "$MBCTL" import --duplicates user.im.md "$T/md"
[ "$(count user.im.md)" = 9 ] && pass "--duplicates stores copies" \
    || fail "--duplicates stores copies" "messages: $(count user.im.md)"
expect_exit 0 "import --help" "$MBCTL" import --help
expect_grep "duplicates" "$T/out" "--help names --duplicates"

done_testing
