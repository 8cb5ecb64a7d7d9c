#!/bin/sh
# squatter -z: the 13 steps, killed after each one (three times each),
# the Cassandane scenarios, -F, and compaction racing indexing and search.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

mkdir -p "$T/search2"
echo "t2searchpartition-default: $T/search2" >> "$XAPIARY_CONFIG"

n=0
# add: one new message with the word cword, indexed
add() {
    n=$((n + 1))
    printf 'From: c%d@example.com\nSubject: compact %d\nMessage-ID: <c%d@example.com>\n\ncword number%d\n' \
        $n $n $n $n > "$T/m"
    "$MBCTL" append user.c "$T/m" > /dev/null && "$SQUATTER" -u c 2>> "$T/sq.err"
}
count() { "$XSEARCH" -u c --count "$1" 2>> "$T/xs.err"; }
active() { cat "$(find "$T/conf/user" -path '*user/c/xapianactive')"; }
# Every xapian.* directory of user c is listed, and there is no .NEW.
no_debris() {
    local list bad=""
    list=$(active)
    for d in $(find "$T/search" "$T/search2" -mindepth 4 -maxdepth 4 -name 'xapian*' -path '*/user/c/*'); do
        case "$d" in *.NEW) bad="$bad $d"; continue ;; esac
        tier=t1; case "$d" in "$T/search2"*) tier=t2 ;; esac
        gen=${d##*xapian.}
        echo " $list " | grep -q " $tier:$gen " || bad="$bad $d"
    done
    [ -z "$bad" ] && pass "$1" || fail "$1" "debris:$bad (xapianactive: $list)"
}

expect_exit 0 "create user.c" "$MBCTL" create user.c
add; add; add

# Cassandane: compact t1 -> t2; still found; t1's first database is empty
expect_exit 0 "compact t1 into t2" "$SQUATTER" -v -z t2 -t t1 -u c
[ "$(count cword)" = 3 ] && pass "found after compaction" || fail "found after compaction"
first=$(active | cut -d' ' -f1)
case "$first" in t1:*) pass "a new t1 first item ($first)" ;; *) fail "first item $first" ;; esac
[ ! -e "$T/search/$(ls "$T/search")/user/c/xapian.${first#t1:}" ] \
    && pass "t1's first database is empty (not created yet)" || fail "t1's first database exists"
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
    round=1
    while [ $round -le 3 ]; do
        add
        want=$n
        XAPIARY_FAULT=compact.$k "$SQUATTER" -z t2 -t t1,t2 -u c 2> "$T/kill.err"; rc=$?
        [ $rc -eq 137 ] || fail "compact.$k round $round: killed" "exit $rc: $(cat "$T/kill.err")"
        got=$(count cword)
        [ "$got" = "$want" ] || fail "compact.$k round $round: $got found after the kill, want $want"
        add
        got=$(count cword)
        [ "$got" = "$n" ] || fail "compact.$k round $round: indexing after the kill: $got, want $n"
        "$SQUATTER" -z t2 -t t1,t2 -u c 2> "$T/err" || fail "compact.$k round $round: the next run" "$(cat "$T/err")"
        got=$(count cword)
        [ "$got" = "$n" ] || fail "compact.$k round $round: $got after recovery, want $n"
        round=$((round + 1))
    done
    pass "killed after step $k three times: nothing lost, indexing and search kept working"
    no_debris "no debris after recovery from compact.$k"
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
rm -f "$T/sq.err" "$T/xs.err"
(
    i=0
    while [ $i -lt 12 ]; do
        "$SQUATTER" -z t2 -t t1,t2 -u c 2>> "$T/cz.err" || echo "compaction $i failed" >> "$T/cz.fail"
        i=$((i + 1))
    done
) &
compactor=$!
(
    i=0
    while [ $i -lt 12 ]; do
        add || echo "indexing $i failed" >> "$T/ix.fail"
        i=$((i + 1))
    done
) &
indexer=$!
last=0
backwards=0
errors=0
i=0
while [ $i -lt 60 ]; do
    got=$("$XSEARCH" -u c --count cword 2>> "$T/xs.err") || errors=$((errors + 1))
    [ -n "$got" ] && [ "$got" -lt "$last" ] && backwards=$((backwards + 1))
    [ -n "$got" ] && last=$got
    i=$((i + 1))
done
wait $compactor
wait $indexer
[ ! -s "$T/cz.fail" ] && pass "12 compactions during indexing and search" || fail "compactions failed" "$(cat "$T/cz.fail" "$T/cz.err")"
[ ! -s "$T/ix.fail" ] && pass "12 appends indexed during compaction" || fail "indexing failed" "$(cat "$T/ix.fail" "$T/sq.err")"
[ $errors -eq 0 ] && pass "60 searches, no error" || fail "$errors searches failed" "$(cat "$T/xs.err")"
[ $backwards -eq 0 ] && pass "hit counts never went backwards" || fail "$backwards times backwards"
n=$((n + 12))      # the subshell's appends
"$SQUATTER" -u c
[ "$("$XSEARCH" -u c --count cword)" = "$n" ] && pass "every appended-and-indexed message found ($n)" \
    || fail "found $("$XSEARCH" -u c --count cword), want $n"
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
