#!/bin/sh
# squatter -z: the 13 steps, killed after each one (three times each),
# the Cassandane scenarios, -F, and compaction racing indexing and search.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

U=c W=cword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"

expect_exit 0 "create user.c" "$MBCTL" create user.c
add; add; add

# Cassandane: compact t1 -> t2; still found; t1's first database is empty
expect_exit 0 "compact t1 into t2" "$SQUATTER" -v -z t2 -t t1 -u c
[ "$(count cword)" = 3 ] && pass "found after compaction" || fail "found after compaction"
first=$(active | cut -d' ' -f1)
case "$first" in t1:*) pass "a new t1 first item ($first)" ;; *) fail "first item $first" ;; esac
fdir="$T/search/$(ls "$T/search")/user/c/xapian.${first#t1:}"
[ -d "$fdir" ] && [ -z "$(ls -A "$fdir")" ] \
    && pass "t1's first database is empty (its directory made, no database yet)" \
    || fail "t1's first database is not an empty directory" "$(ls -la "$fdir" 2>&1)"
expect_exit 0 "compact again" "$SQUATTER" -z t2 -t t1,t2 -u c
[ "$(count cword)" = 3 ] && pass "repeated compaction is idempotent" || fail "repeated compaction: $(count cword)"
no_debris "no debris after two compactions"

# a tier the config lacks: an error naming it, nothing touched
before=$(active)
expect_exit 78 "unknown -z tier" "$SQUATTER" -z t9 -t t1 -u c
expect_grep "t9" "$T/err" "the error names the tier"
[ "$(active)" = "$before" ] && pass "xapianactive untouched" || fail "xapianactive changed"
expect_exit 75 "-B on a busy user" "$MBCTL" lock -x '$XAPIAN$c' "$SQUATTER" -B -z t2 -t t1 -u c
expect_grep "busy" "$T/err" "-B says the user is busy"

# killed after every step, three times each
k=1
while [ $k -le 13 ]; do
    kill_rounds $k -z t2 -t t1,t2
    k=$((k + 1))
done
expect_exit 0 "audit after all the kills" "$SQUATTER" -A -u c
[ -s "$T/out" ] && fail "audit silent" "$(cat "$T/out")" || pass "audit silent"

# -F: after a copy and an expunge, one document per live GUID
"$MBCTL" create user.c.copy
f=$(find "$T/spool" -path '*user/c/1.' | head -1)
"$MBCTL" append user.c.copy "$f" > /dev/null
"$MBCTL" expunge user.c 2
"$SQUATTER" -u c
expect_exit 0 "-F compaction" "$SQUATTER" -v -F -z t2 -t t1,t2 -u c
live=$((n - 1))
expect_grep "$live documents kept, [0-9]* dropped" "$T/err" "-F keeps one document per live GUID ($live)"
[ "$(count cword)" = "$n" ] && pass "hits: $n live locations (a copy and an expunge)" \
    || fail "hits after -F: $(count cword)"

# compaction, indexing and searching at once, in separate processes
race 12 12 60 -z t2 -t t1,t2
no_debris "no debris after the race"

# deleting the user removes every mailbox, xapianactive and every tier
# directory of the user
expect_exit 0 "mbctl delete user.c (the whole user)" "$MBCTL" delete user.c
expect_exit 0 "list" "$MBCTL" list 'user.c*'
[ -s "$T/out" ] && fail "no mailbox of user c left" "$(cat "$T/out")" || pass "no mailbox of user c left"
left=$(find "$T/conf/user" "$T/search" "$T/search2" -path '*/user/c/*' 2>/dev/null)
[ -z "$left" ] && pass "no xapianactive, GUID db or tier directory left" || fail "left: $left"
expect_exit 66 "searching a deleted user" "$XSEARCH" -u c --count cword

done_testing
