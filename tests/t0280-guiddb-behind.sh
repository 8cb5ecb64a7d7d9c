#!/bin/sh
# A commit whose GUID db update failed (here: the GUID db refused for a
# newer format version while the mailbox commits) leaves the GUID db
# behind the mailbox.  The append succeeds, saying so; a search meanwhile
# counts the new copies as unindexed; the next `squatter -u` catches the
# GUID db up before it marks anything indexed, so that the search then
# finds every live copy (never fewer hits with nothing said); `squatter
# -A` and `mbctl verify`, which write nothing, report the gap instead;
# and a squatter that cannot catch up fails.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

if ! command -v sqlite3 > /dev/null 2>&1; then
    echo "1..0 # SKIP no sqlite3 command"
    exit 0
fi

msg() {   # msg N: a message with the word bword and number N
    printf 'From: b%d@example.com\nSubject: bword %d\nMessage-ID: <b%d@example.com>\n\nbword number%d\n' \
        "$1" "$1" "$1" "$1" > "$T/m$1"
}
for i in 1 2 3 4 5; do msg $i; done
count() {   # count QUERY: the number of hits, or "error N"
    "$XSEARCH" -u b --count "$1" 2> "$T/serr" || { echo "error $?"; return; }
}
unindexed() {
    "$XSEARCH" -u b --json "$1" 2> /dev/null | sed -n 's/.*"unindexed": *\([0-9]*\).*/\1/p'
}
refuse() { sqlite3 "$db" "PRAGMA user_version = 99"; }
allow() { sqlite3 "$db" "PRAGMA user_version = 1"; }

expect_exit 0 "create user.b and user.b.sub" "$MBCTL" create user.b user.b.sub
(cd "$T" && "$MBCTL" append user.b m1 m2 > /dev/null && "$MBCTL" append user.b.sub m3 > /dev/null)
expect_exit 0 "squatter" "$SQUATTER" -u b
[ "$(count bword)" = 3 ] && pass "3 found" || fail "not 3 found: $(count bword)"
db=$(find "$T/conf/user" -path '*user/b/*' -name guid.db)

# a new message and a copy of an indexed one, committed while the GUID
# db is refused (each mailbox had a commit before: a mailbox with mail
# and no row at all is a lost GUID db, t0102)
refuse
expect_exit 0 "append while the GUID db is refused" sh -c "cd '$T' && '$MBCTL' append user.b m4"
expect_grep "GUID db not updated" "$T/err" "the append says the GUID db was not updated"
expect_exit 0 "copy of an indexed message while the GUID db is refused" \
    sh -c "cd '$T' && '$MBCTL' append user.b.sub m1"
allow
[ "$(unindexed bword)" -ge 1 ] 2> /dev/null && pass "a search meanwhile counts them as unindexed" \
    || fail "unindexed: '$(unindexed bword)'"

# mbctl verify and squatter -A write nothing: they report the gap
expect_exit 65 "mbctl verify with the GUID db behind: a problem" "$MBCTL" verify user.b
expect_grep "GUID db .* is behind mailbox user.b " "$T/err" "verify says the GUID db is behind user.b"
expect_grep "squatter -u b" "$T/err" "verify names the repair"
expect_exit 65 "squatter -A with the GUID db behind: an error" "$SQUATTER" -A -u b
expect_grep "behind" "$T/err" "squatter -A says the GUID db is behind"
expect_grep "user.b" "$T/err" "squatter -A names the mailbox"

# squatter that cannot write the GUID db fails
refuse
expect_exit 69 "squatter with the GUID db still refused: an error" "$SQUATTER" -u b
allow

expect_exit 0 "squatter once the GUID db is writable" "$SQUATTER" -u b
expect_grep "caught up" "$T/err" "squatter says it caught the GUID db up"
[ "$(count bword)" = 5 ] && pass "every live copy found: 5" || fail "found $(count bword), want 5" "$(cat "$T/serr")"
[ "$(count number1)" = 2 ] && pass "both copies of m1 found" || fail "found $(count number1) copies of m1"
[ "$(unindexed bword)" = 0 ] && pass "nothing unindexed" || fail "unindexed: '$(unindexed bword)'"
expect_exit 0 "squatter -A after the catch-up" "$SQUATTER" -A -u b
expect_exit 0 "mbctl verify after the catch-up" "$MBCTL" verify
expect_exit 0 "squatter again: nothing to catch up" "$SQUATTER" -u b
[ -s "$T/err" ] && fail "squatter with nothing to do is quiet" "$(cat "$T/err")" || pass "squatter with nothing to do is quiet"

# and again, after a catch-up
refuse
(cd "$T" && "$MBCTL" append user.b m5 > /dev/null 2>&1)
allow
expect_exit 0 "squatter catches up a commit after the last one" "$SQUATTER" -u b
[ "$(count number5)" = 1 ] && pass "m5 found" || fail "found $(count number5) m5"

done_testing
