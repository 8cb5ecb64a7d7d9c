#!/bin/sh
# A refused symbolic link (issue 16, point 8): a user's search directory
# or a mailbox directory replaced by a link is refused, and reported as a
# link (77, no permission), not as a search tier missing from the
# configuration (78), which would send the operator to the wrong file.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

printf 'From: a@example.com\r\nSubject: link\r\nMessage-ID: <link-1@example.com>\r\n\r\nlinked body\r\n' > "$T/m1"
expect_exit 0 "create user.ln" "$MBCTL" create user.ln
expect_exit 0 "create user.ln.sub" "$MBCTL" create user.ln.sub
expect_exit 0 "append" "$MBCTL" append user.ln.sub "$T/m1"
expect_exit 0 "index" "$SQUATTER" -u ln

sdir=$(find "$T/search" -type d -path '*/user/ln' | head -n 1)
mv "$sdir" "$T/elsewhere"
ln -s "$T/elsewhere" "$sdir"
expect_exit 77 "squatter: a linked search directory is refused" "$SQUATTER" -u ln
expect_grep "^squatter: .*symbolic link $sdir" "$T/err" "squatter names the link"
if grep -q "Unknown search tier" "$T/err"; then
    fail "squatter: not an unknown tier" "$(cat "$T/err")"
else
    pass "squatter: not an unknown tier"
fi
expect_exit 77 "squatter -A: refused" "$SQUATTER" -A -u ln
expect_grep "^squatter: .*symbolic link $sdir" "$T/err" "squatter -A names the link"
expect_exit 77 "xsearch: refused" "$XSEARCH" -u ln linked
expect_grep "^xsearch: .*symbolic link $sdir" "$T/err" "xsearch names the link"
rm "$sdir"
mv "$T/elsewhere" "$sdir"
expect_exit 0 "xsearch with the directory back" "$XSEARCH" -u ln linked
expect_grep "user.ln.sub" "$T/out" "finds the message"

mdir=$(dirname "$(find "$T/spool" -path '*/ln/sub/xapiary.header')")
mv "$mdir" "$T/mbelse"
ln -s "$T/mbelse" "$mdir"
expect_exit 77 "append to a linked mailbox directory is refused" "$MBCTL" append user.ln.sub "$T/m1"
expect_grep "^mbctl: .*symbolic link $mdir" "$T/err" "mbctl names the link"
expect_exit 77 "squatter: a linked mailbox directory is refused" "$SQUATTER" -u ln
expect_grep "^squatter: .*symbolic link $mdir" "$T/err" "squatter names the link"

done_testing
