#!/bin/sh
# Schema versions: a search database says its schema (xapiary.schema), a
# compaction carries it, and a database or GUID db of a newer version is
# a clear error, never an answer read as if it were ours.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

U=s W=sword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"
XMETA="$top_builddir/tests/xmeta"
# The version this build writes (common/schema.h).
V=$(sed -n 's/^#define SCHEMA_VERSION  *\([0-9]*\)$/\1/p' "$top_srcdir/common/schema.h")
NEWER=$((V + 1))
# db ITEM: the directory of the user's item ITEM (t1:N or t2:N)
db() {
    local base="$T/search"
    case "$1" in t2:*) base="$T/search2" ;; esac
    find "$base" -path "*/user/$U/xapian.${1#*:}" -type d
}

expect_exit 0 "create user.$U" "$MBCTL" create "user.$U"
add; add
first=$(active | cut -d' ' -f1)
got=$("$XMETA" "$(db "$first")" xapiary.schema)
[ "$got" = "$V" ] && pass "a new database says schema $V" || fail "xapiary.schema of $first: '$got'"

expect_exit 0 "compact t1 into t2" "$SQUATTER" -z t2 -t t1 -u "$U"
target=$(active | tr ' ' '\n' | grep '^t2:')
got=$("$XMETA" "$(db "$target")" xapiary.schema)
[ "$got" = "$V" ] && pass "the compaction target carries schema $V" \
    || fail "xapiary.schema of $target: '$got'"
[ "$(count sword)" = 2 ] && pass "found after compaction" || fail "found after compaction"

# A newer schema: every reader and writer refuses it, naming the database
# and both versions.
tdir=$(db "$target")
cp -a "$tdir" "$T/saved"
expect_exit 0 "mark $target as schema $NEWER" "$XMETA" "$tdir" xapiary.schema "$NEWER"
expect_exit 69 "search refuses a newer schema" "$XSEARCH" -u "$U" sword
expect_grep "$tdir: search database of schema $NEWER, newer than $V" "$T/err" \
    "the search error names the database and both versions"
expect_grep "^xsearch: .*newer schema" "$T/err" "and the user's error says why"
[ -s "$T/out" ] && fail "no answer from a newer schema" "$(cat "$T/out")" \
    || pass "no answer from a newer schema"
expect_exit 69 "search --count too" "$XSEARCH" -u "$U" --count sword
expect_grep "schema $NEWER, newer than $V" "$T/err" "the --count error names both versions"
n=$((n + 1))
printf 'From: x@example.com\nSubject: new %d\n\nsword\n' $n > "$T/m"
expect_exit 0 "append more mail" "$MBCTL" append "user.$U" "$T/m"
expect_exit 69 "squatter refuses a newer schema" "$SQUATTER" -u "$U"
expect_grep "$tdir: search database of schema $NEWER, newer than $V" "$T/err" \
    "the squatter error names the database and both versions"
expect_exit 69 "compaction refuses a newer schema" "$SQUATTER" -z t1 -t t2 -u "$U"
expect_grep "schema $NEWER, newer than $V" "$T/err" "the compaction error names both versions"
expect_exit 1 "nor can it be changed through cwrap" "$XMETA" "$tdir" xapiary.schema "$V"
expect_exit 0 "put the saved database back" sh -c "rm -rf '$tdir' && mv '$T/saved' '$tdir'"
expect_exit 0 "squatter runs again" "$SQUATTER" -u "$U"
[ "$(count sword)" = 3 ] && pass "and everything is found" || fail "found: $(count sword)"

# The GUID db: PRAGMA user_version, the same way.
gdb=$(find "$T/conf/user" -path "*/user/$U/guid.db")
got=$("$XMETA" -s "$gdb")
[ "$got" = 1 ] && pass "the GUID db says format version 1" || fail "GUID db user_version: '$got'"
expect_exit 0 "mark the GUID db as version 2" "$XMETA" -s "$gdb" 2
expect_exit 69 "search refuses a newer GUID db" "$XSEARCH" -u "$U" sword
expect_grep "GUID db $gdb: format version 2 is newer than 1" "$T/err" \
    "the search error names the file and both versions"
[ -s "$T/out" ] && fail "no answer with a newer GUID db" "$(cat "$T/out")" \
    || pass "no answer with a newer GUID db"
printf 'From: y@example.com\nSubject: newer\n\nsword\n' > "$T/m"
# The mail is stored all the same (the GUID db is bookkeeping a later
# commit or squatter run catches up with), with a warning that says why.
expect_exit 0 "append stores mail with a newer GUID db" "$MBCTL" append "user.$U" "$T/m"
expect_grep "format version 2 is newer than 1" "$T/err" "the append warning says why"
expect_exit 69 "squatter refuses a newer GUID db" "$SQUATTER" -u "$U"
expect_grep "format version 2 is newer than 1" "$T/err" "the squatter error says why"
expect_exit 0 "back to version 1" "$XMETA" -s "$gdb" 1
printf 'From: z@example.com\nSubject: later\n\nsword\n' > "$T/m"
expect_exit 0 "append works again (and catches the GUID db up)" "$MBCTL" append "user.$U" "$T/m"
expect_exit 0 "squatter works again" "$SQUATTER" -u "$U"
[ "$(count sword)" = 5 ] && pass "all five found" || fail "found: $(count sword)"

# A GUID db made before the version existed (user_version 0) is the same
# format: it keeps working and is stamped.
expect_exit 0 "an old GUID db (version 0)" "$XMETA" -s "$gdb" 0
[ "$(count sword)" = 5 ] && pass "an old GUID db is read" || fail "found: $(count sword)"
got=$("$XMETA" -s "$gdb")
[ "$got" = 1 ] && pass "and gets version 1" || fail "GUID db user_version: '$got'"
# Likewise a search database without the key (made before it existed).
first=$(active | cut -d' ' -f1)
expect_exit 0 "drop the key of the first database" "$XMETA" "$(db "$first")" xapiary.schema ""
[ "$(count sword)" = 5 ] && pass "a database without the key is read" || fail "found: $(count sword)"
got=$("$XMETA" "$(db "$first")" xapiary.schema)
[ -z "$got" ] && pass "and is not stamped by a search" || fail "xapiary.schema of $first: '$got'"

# One of schema 2 (the previous version's) is read as it is, and says this
# version from the run that adds a document of it: a schema 2 reader would
# miss some of its hits (docs/FORMAT.md "Stems").
expect_exit 0 "mark the first database as schema 2" "$XMETA" "$(db "$first")" xapiary.schema 2
[ "$(count sword)" = 5 ] && pass "a schema 2 database is read" || fail "found: $(count sword)"
got=$("$XMETA" "$(db "$first")" xapiary.schema)
[ "$got" = 2 ] && pass "and keeps its version" || fail "xapiary.schema of $first: '$got'"
add
[ "$(count sword)" = 6 ] && pass "new mail indexed into it" || fail "found: $(count sword)"
[ "$(active | cut -d' ' -f1)" = "$first" ] && pass "into that database" \
    || fail "the first database is now $(active | cut -d' ' -f1), not $first"
got=$("$XMETA" "$(db "$first")" xapiary.schema)
[ "$got" = "$V" ] && pass "which now says schema $V" || fail "xapiary.schema of $first: '$got'"

done_testing
