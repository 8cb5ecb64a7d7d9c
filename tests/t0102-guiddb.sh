#!/bin/sh
# A lost or unreadable GUID db is an error naming it (search, verify,
# squatter, -A, -Z), never 0 hits; one made again by a later commit that
# describes only some mailboxes is caught the same way; mbctl reconstruct
# -u rebuilds it from the mailboxes.  A brand-new user, who has no GUID db
# until its first append, is not an error.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

msg() {   # msg N: a message with the word gword and number N
    printf 'From: g%d@example.com\nSubject: gword %d\nMessage-ID: <g%d@example.com>\n\ngword number%d\n' \
        "$1" "$1" "$1" "$1" > "$T/m$1"
}
for i in 1 2 3 4; do msg $i; done

# a brand-new user: no mail, maybe no GUID db yet, and nothing is wrong
expect_exit 0 "create user.new" "$MBCTL" create user.new
newdb=$(find "$T/conf/user" -path '*user/new/*' -name guid.db)
[ -n "$newdb" ] && rm -f "$newdb"*
expect_exit 0 "search of a new user without mail" "$XSEARCH" -u new --count gword
[ "$(cat "$T/out")" = 0 ] && pass "0 found for the new user" || fail "found $(cat "$T/out")"
expect_exit 0 "squatter of the new user" "$SQUATTER" -u new
expect_exit 0 "squatter -A of the new user" "$SQUATTER" -A -u new
expect_exit 0 "mbctl verify of the new user" "$MBCTL" verify user.new

expect_exit 0 "create user.g and user.g.sub" "$MBCTL" create user.g user.g.sub
(cd "$T" && "$MBCTL" append user.g m1 m2 > /dev/null && "$MBCTL" append user.g.sub m3 > /dev/null)
expect_exit 0 "squatter" "$SQUATTER" -u g
[ "$("$XSEARCH" -u g --count gword)" = 3 ] && pass "3 found" || fail "not 3 found"
db=$(find "$T/conf/user" -path '*user/g/*' -name guid.db)
[ -f "$db" ] && pass "the GUID db is $db" || fail "no GUID db"

# lost
rm -f "$db" "$db-wal" "$db-shm"
expect_exit 65 "search with the GUID db lost: an error" "$XSEARCH" -u g --count gword
expect_grep "$db" "$T/err" "the search names the GUID db"
expect_grep "mbctl reconstruct" "$T/err" "the search names the repair"
[ -s "$T/out" ] && fail "no count printed" "$(cat "$T/out")" || pass "no count printed"
expect_exit 65 "squatter with the GUID db lost: an error" "$SQUATTER" -u g
expect_grep "$db" "$T/err" "squatter names the GUID db"
expect_exit 65 "squatter -A with the GUID db lost: an error" "$SQUATTER" -A -u g
expect_grep "$db" "$T/err" "-A names the GUID db"
expect_exit 65 "squatter -Z with the GUID db lost: an error" "$SQUATTER" -Z -u g
expect_grep "$db" "$T/err" "-Z names the GUID db"
expect_exit 65 "mbctl verify with the GUID db lost: a problem" "$MBCTL" verify user.g
expect_grep "$db" "$T/err" "verify names the GUID db"
[ ! -e "$db" ] && pass "none of them made the GUID db again" || fail "the GUID db was made again"

# made again by a commit of one mailbox: the other is still not in it
(cd "$T" && "$MBCTL" append user.g m4 > /dev/null)
[ -f "$db" ] && pass "an append made a GUID db again" || fail "no GUID db after an append"
expect_exit 65 "search with a GUID db that lacks user.g.sub: an error" "$XSEARCH" -u g --count gword
expect_grep "user.g.sub" "$T/err" "the error names the mailbox it lacks"
expect_grep "$db" "$T/err" "the error names the GUID db"
expect_exit 65 "mbctl verify finds the mailbox it lacks" "$MBCTL" verify
expect_grep "user.g.sub" "$T/err" "verify names user.g.sub"

# rebuilt
expect_exit 0 "mbctl reconstruct -u g" "$MBCTL" reconstruct -u g
expect_grep "user.g.sub: 1 messages" "$T/out" "reconstruct -u visits every mailbox of the user"
expect_exit 0 "mbctl verify after the rebuild" "$MBCTL" verify
expect_exit 0 "squatter after the rebuild" "$SQUATTER" -u g
expect_exit 0 "search after the rebuild" "$XSEARCH" -u g --count gword
[ "$(cat "$T/out")" = 4 ] && pass "4 found after the rebuild" || fail "found $(cat "$T/out")"
expect_exit 0 "squatter -A after the rebuild" "$SQUATTER" -A -u g
expect_exit 0 "squatter -Z after the rebuild" "$SQUATTER" -Z -u g

# unreadable
cp "$db" "$T/db.save"
rm -f "$db-wal" "$db-shm"
echo "not a database at all, not at all, not at all, not at all, not at all" > "$db"
expect_exit 65 "search with an unreadable GUID db: an error" "$XSEARCH" -u g --count gword
expect_grep "$db" "$T/err" "the search names it"
expect_exit 65 "squatter with an unreadable GUID db: an error" "$SQUATTER" -u g
expect_grep "$db" "$T/err" "squatter names it"
expect_exit 0 "mbctl reconstruct -u of a user without mail" "$MBCTL" reconstruct -u new
expect_exit 66 "mbctl reconstruct -u nobody" "$MBCTL" reconstruct -u nobody
expect_exit 0 "mbctl reconstruct --help" "$MBCTL" reconstruct --help
expect_grep "GUID db" "$T/out" "reconstruct --help names the GUID db"

done_testing
