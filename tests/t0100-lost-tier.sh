#!/bin/sh
# A lost search database or a missing search partition is an error naming
# it, never fewer hits: for a search, for squatter (which must not index
# the mail again behind it or drop the item), for -z (which must not make
# the partition tree again on a bare mount point); squatter -A reports the
# lost database's mail as unindexed and exits 1; --forget-lost is the way
# to give a lost database up.  A first item listed but never written (an
# empty directory) stays a legitimate empty database.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

U=erin W=eword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"

expect_exit 0 "create user.erin" "$MBCTL" create user.erin
add; add; add
expect_exit 0 "compact t1 into t2" "$SQUATTER" -z t2 -t t1 -u erin
# the legitimate absence: the new first item, listed, nothing written yet
expect_exit 0 "search with an unwritten first item" "$XSEARCH" -u erin --count eword
[ "$(cat "$T/out")" = 3 ] && pass "3 found with an unwritten first item" \
    || fail "found $(cat "$T/out") with an unwritten first item"
add; add
[ "$(count eword)" = 5 ] && pass "5 found in two tiers" || fail "found $(count eword)"
set -- $(active)
second=$2
gen=${second#t2:}
db2=$(find "$T/search2" -mindepth 4 -maxdepth 4 -name "xapian.$gen")
[ -d "$db2" ] && pass "t2 database at $db2" || fail "no t2 database ($second)"
before=$(active)

# a lost non-first database
mv "$db2" "$T/away"
expect_exit 65 "search with a lost t2 database: an error" "$XSEARCH" -u erin --count eword
expect_grep "$db2" "$T/err" "the error names the lost database"
expect_grep "is missing" "$T/err" "the error says it is missing"
[ -s "$T/out" ] && fail "no count printed" "$(cat "$T/out")" || pass "no count printed"
add
expect_exit 65 "squatter with a lost t2 database: an error" "$SQUATTER" -u erin
expect_grep "$db2" "$T/err" "squatter names the lost database"
[ "$(active)" = "$before" ] && pass "xapianactive untouched by squatter" \
    || fail "xapianactive changed: $(active)"
expect_exit 65 "squatter -j 3 with a lost t2 database: an error" "$SQUATTER" -j 3 -u erin
[ "$(active)" = "$before" ] && pass "xapianactive untouched by squatter -j 3" \
    || fail "xapianactive changed: $(active)"
expect_exit 1 "squatter -A with a lost t2 database exits 1" "$SQUATTER" -A -u erin
expect_grep "$db2" "$T/err" "-A names the lost database"
expect_grep "Unindexed message(s) in user.erin: 1 2 3 6" "$T/out" \
    "-A reports the lost database's mail and the new message as unindexed"
expect_exit 65 "squatter -l with a lost t2 database: an error" "$SQUATTER" -l -u erin
expect_grep "$db2" "$T/err" "-l names the lost database"
expect_exit 65 "squatter -z with a lost t2 database: an error" "$SQUATTER" -z t2 -t t1,t2 -u erin
expect_grep "$db2" "$T/err" "-z names the lost database"
[ "$(active)" = "$before" ] && pass "xapianactive untouched by -z" || fail "xapianactive changed: $(active)"

# restored: everything as before, nothing was indexed twice behind it
mv "$T/away" "$db2"
expect_exit 0 "squatter after the restore" "$SQUATTER" -u erin
[ "$(count eword)" = 6 ] && pass "6 found after the restore" || fail "found $(count eword)"
expect_exit 0 "squatter -A silent after the restore: exit 0" "$SQUATTER" -A -u erin
[ -s "$T/out" ] && fail "audit silent" "$(cat "$T/out")" || pass "audit silent"

# a missing search partition (renamed, not mounted)
before=$(active)
mv "$T/search2" "$T/search2.away"
expect_exit 65 "search with the t2 partition missing: an error" "$XSEARCH" -u erin --count eword
expect_grep "$T/search2" "$T/err" "the error names the partition"
expect_grep "not mounted" "$T/err" "the error says the partition is missing"
add
expect_exit 65 "squatter with the t2 partition missing: an error" "$SQUATTER" -u erin
expect_exit 65 "squatter -j 3 with the t2 partition missing: an error" "$SQUATTER" -j 3 -u erin
expect_exit 65 "squatter -z with the t2 partition missing: an error" "$SQUATTER" -z t2 -t t1,t2 -u erin
expect_exit 65 "--forget-lost refuses while the partition is missing" \
    "$SQUATTER" --forget-lost -u erin
expect_exit 65 "a user rename with the t2 partition missing: an error" \
    "$MBCTL" rename user.erin user.erin2
expect_grep "$T/search2" "$T/err" "the rename names the partition"
expect_exit 0 "user.erin is still there" "$MBCTL" status user.erin
expect_exit 66 "user.erin2 is not" "$MBCTL" status user.erin2
[ ! -e "$T/search2" ] && pass "no tool made the partition again" || fail "$T/search2 made again"
[ "$(active)" = "$before" ] && pass "xapianactive untouched" || fail "xapianactive changed: $(active)"
# a bare mount point: the directory is there, the disk is not
mkdir "$T/search2"
expect_exit 65 "squatter -z on a bare mount point: an error" "$SQUATTER" -z t2 -t t1,t2 -u erin
expect_exit 65 "squatter on a bare mount point: an error" "$SQUATTER" -j 3 -u erin
[ -z "$(ls -A "$T/search2")" ] && pass "nothing made on the bare mount point" \
    || fail "made on the bare mount point: $(find "$T/search2")"
[ "$(active)" = "$before" ] && pass "xapianactive untouched" || fail "xapianactive changed: $(active)"
rmdir "$T/search2"
mv "$T/search2.away" "$T/search2"
expect_exit 0 "squatter once the partition is back" "$SQUATTER" -u erin
[ "$(count eword)" = 7 ] && pass "7 found once the partition is back" || fail "found $(count eword)"

# --forget-lost: a lost t2 database and a lost first database given up,
# their mail indexed again
set -- $(active)
first=$(find "$T/search" -mindepth 4 -maxdepth 4 -name "xapian.${1#t1:}")
rm -rf "$db2" "$first"
expect_exit 65 "search with both lost" "$XSEARCH" -u erin --count eword
expect_exit 0 "squatter --forget-lost" "$SQUATTER" --forget-lost -u erin
expect_grep "2 lost search database" "$T/err" "--forget-lost says what it dropped"
[ "$(count eword)" = 7 ] && pass "7 found after --forget-lost" || fail "found $(count eword)"
expect_exit 0 "audit silent after --forget-lost" "$SQUATTER" -A -u erin
no_debris "no debris after --forget-lost"
expect_exit 0 "compaction after --forget-lost" "$SQUATTER" -z t2 -t t1,t2 -u erin
[ "$(count eword)" = 7 ] && pass "7 found after compaction" || fail "found $(count eword)"
no_debris "no debris after compaction"

# xapianactive.dirs: killed after an item's directory is made, before the
# list names it (a new user's first item, a compaction's step 1,
# --forget-lost, side writers' targets): nothing lost, no debris once the
# next run (or compaction) is done
U=k W=kword
killed() {   # killed DESCRIPTION SQUATTER-ARGS...
    local desc=$1 rc
    shift
    XAPIARY_FAULT=xapianactive.dirs "$SQUATTER" "$@" 2> "$T/kill.err"; rc=$?
    [ $rc -eq 137 ] && pass "$desc: killed at xapianactive.dirs" \
        || fail "$desc: killed at xapianactive.dirs" "exit $rc: $(cat "$T/kill.err")"
}
expect_exit 0 "create user.k" "$MBCTL" create user.k
printf 'Subject: kword 0\n\nkword number0\n' > "$T/m"
"$MBCTL" append user.k "$T/m" > /dev/null
killed "a new user's first run" -u k
expect_exit 0 "the next run" "$SQUATTER" -u k
[ "$(count kword)" = 1 ] && pass "1 found" || fail "found $(count kword)"
no_debris "no debris after the next run"
add
killed "compaction" -z t2 -t t1 -u k
[ "$(count kword)" = 2 ] && pass "2 found after the killed compaction" || fail "found $(count kword)"
add
expect_exit 0 "compaction after the kill" "$SQUATTER" -z t2 -t t1,t2 -u k
[ "$(count kword)" = 3 ] && pass "3 found after compaction" || fail "found $(count kword)"
no_debris "no debris after the next compaction"
add
set -- $(active)
rm -rf "$(find "$T/search" -mindepth 4 -maxdepth 4 -name "xapian.${1#t1:}" -path '*/user/k/*')"
killed "--forget-lost" --forget-lost -u k
expect_exit 65 "the lost first database is still an error" "$XSEARCH" -u k --count kword
expect_exit 0 "--forget-lost again" "$SQUATTER" --forget-lost -u k
[ "$(count kword)" = 4 ] && pass "4 found after --forget-lost" || fail "found $(count kword)"
expect_exit 0 "compaction after --forget-lost" "$SQUATTER" -z t2 -t t1,t2 -u k
no_debris "no debris after --forget-lost and compaction"
echo "search_batchsize: 2" >> "$XAPIARY_CONFIG"
i=10
while [ $i -lt 20 ]; do
    printf 'Subject: kword %d\n\nkword number%d\n' $i $i > "$T/m"
    "$MBCTL" append user.k "$T/m" > /dev/null
    i=$((i + 1))
done
killed "side writers" -j 3 -u k
[ "$(count kword)" = 4 ] && pass "4 found after the killed side run" || fail "found $(count kword)"
expect_exit 0 "the next side run" "$SQUATTER" -j 3 -u k
[ "$(count kword)" = 14 ] && pass "14 found after the next run" || fail "found $(count kword)"
expect_exit 0 "compaction after the side runs" "$SQUATTER" -z t2 -t t1,t2 -u k
[ "$(count kword)" = 14 ] && pass "14 found after compaction" || fail "found $(count kword)"
no_debris "no debris after the side runs and compaction"
expect_exit 0 "audit silent" "$SQUATTER" -A -u k

done_testing
