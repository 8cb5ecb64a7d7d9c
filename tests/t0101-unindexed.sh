#!/bin/sh
# Mail not indexed yet is never invisible: a search says how many of the
# user's messages it could not see (search_result.unindexed, "unindexed"
# in xsearch --json, a one-line warning on stderr), and squatter -A exits
# 1 when it reported something, 0 only when nothing is unindexed.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

msg() {   # msg N: a message with the word uword and number N
    printf 'From: u%d@example.com\nSubject: uword %d\nMessage-ID: <u%d@example.com>\n\nuword number%d\n' \
        "$1" "$1" "$1" "$1" > "$T/m$1"
}
for i in 1 2 3 4 5 6; do msg $i; done
expect_exit 0 "create user.u and user.u.sub" "$MBCTL" create user.u user.u.sub
(cd "$T" && "$MBCTL" append user.u m1 m2 > /dev/null && "$MBCTL" append user.u.sub m3 > /dev/null)

# never indexed
expect_exit 0 "search of a never-indexed user: exit 0" "$XSEARCH" -u u --count uword
[ "$(cat "$T/out")" = 0 ] && pass "0 found" || fail "found $(cat "$T/out")"
expect_grep "3 message(s) not indexed yet" "$T/err" "a warning says 3 messages are not indexed"
[ "$(wc -l < "$T/err")" -eq 1 ] && pass "the warning is one line" || fail "warning: $(cat "$T/err")"
expect_exit 0 "--json of a never-indexed user" "$XSEARCH" -u u --json uword
expect_grep '"unindexed": 3' "$T/out" "--json says unindexed: 3"
expect_grep '"total": 0' "$T/out" "--json says total: 0"
expect_exit 1 "squatter -A exits 1 when it reports" "$SQUATTER" -A -u u
expect_grep "^Unindexed message(s) in user.u: 1 2$" "$T/out" "-A names INBOX's two"
expect_grep "^Unindexed message(s) in user.u.sub: 1$" "$T/out" "-A names the folder's one"

# indexed: no warning, unindexed 0, -A exit 0
expect_exit 0 "squatter" "$SQUATTER" -u u
expect_exit 0 "search when all is indexed" "$XSEARCH" -u u --count uword
[ "$(cat "$T/out")" = 3 ] && pass "3 found" || fail "found $(cat "$T/out")"
[ -s "$T/err" ] && fail "no warning when all is indexed" "$(cat "$T/err")" \
    || pass "no warning when all is indexed"
expect_exit 0 "--json when all is indexed" "$XSEARCH" -u u --json uword
expect_grep '"unindexed": 0' "$T/out" "--json says unindexed: 0"
expect_grep '"total": 3' "$T/out" "--json says total: 3"
expect_grep '"subject": "uword 1"' "$T/out" "--json has the hits"
expect_exit 0 "squatter -A exits 0 when nothing is unindexed" "$SQUATTER" -A -u u
[ -s "$T/out" ] && fail "audit silent" "$(cat "$T/out")" || pass "audit silent"

# appended since the last run; an expunged one no longer counts
(cd "$T" && "$MBCTL" append user.u m4 m5 > /dev/null && "$MBCTL" append user.u.sub m6 > /dev/null)
expect_exit 0 "search with three appended since" "$XSEARCH" -u u --count uword
[ "$(cat "$T/out")" = 3 ] && pass "still 3 found" || fail "found $(cat "$T/out")"
expect_grep "3 message(s) not indexed yet" "$T/err" "the warning counts the three new ones"
expect_exit 0 "expunge an unindexed message" "$MBCTL" expunge user.u 4
expect_exit 0 "search after the expunge" "$XSEARCH" -u u --json uword
expect_grep '"unindexed": 2' "$T/out" "an expunged message is not counted"
# one user reports, another is clean: -A still exits 1
expect_exit 0 "create user.v" "$MBCTL" create user.v
expect_exit 1 "squatter -A of two users, one with a backlog" "$SQUATTER" -A -u v u
expect_exit 0 "squatter" "$SQUATTER" -u u
expect_exit 0 "squatter -A of both after indexing" "$SQUATTER" -A -u u v
expect_exit 0 "search after indexing" "$XSEARCH" -u u --count uword
[ "$(cat "$T/out")" = 5 ] && pass "5 found (the expunged one gone)" || fail "found $(cat "$T/out")"
[ -s "$T/err" ] && fail "no warning after indexing" "$(cat "$T/err")" || pass "no warning after indexing"
# documented
expect_exit 0 "squatter --help" "$SQUATTER" --help
expect_grep "1 when -A reported" "$T/out" "--help documents -A's exit 1"
expect_exit 0 "xsearch --help" "$XSEARCH" --help
expect_grep "unindexed" "$T/out" "--help documents unindexed"

done_testing
