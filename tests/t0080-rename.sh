#!/bin/sh
# mbctl rename: a folder tree renamed atomically (seeds/001).  Bad renames
# touch nothing; search shows new names at once; a rename killed at every
# fault point (three times each, recovered by an open, by expire and by
# recover) leaves the tree whole under exactly one name; an open during a
# rename waits and then sees the new tree.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

# Mail: three messages of ours with a word to search for, and real mail
# from the corpus when it is there.
for i in 1 2 3; do
    printf 'From: a%d@example.com\nTo: r@example.com\nSubject: hello %d\nMessage-ID: <rn%d@example.com>\n\nrenameword body %d\n' \
        $i $i $i $i > "$T/m$i"
done
real=""
if [ -d "$XAPIARY_CORPUS/notmuch/lkml" ]; then
    real=$(find "$XAPIARY_CORPUS/notmuch/lkml" -type f | sort | head -12)
fi
SUBS="Sent lists lists.a lists.b"
# shellcheck disable=SC2086
make_tree() {   # make_tree ROOT
    "$MBCTL" create "$1" > /dev/null || return 1
    for s in $SUBS; do "$MBCTL" create "$1.$s" > /dev/null || return 1; done
    for mb in "$1" "$1.Sent" "$1.lists.a" "$1.lists.b"; do
        "$MBCTL" append "$mb" "$T/m1" "$T/m2" "$T/m3" $real > /dev/null || return 1
    done
}
nmsgs=$((3 + $(echo $real | wc -w)))
tree_names() { printf '%s\n' "$1" "$1.Sent" "$1.lists" "$1.lists.a" "$1.lists.b"; }
user_of() { echo "$1" | cut -d. -f2; }

# state: everything a failed rename must leave as it was
state() {
    "$MBCTL" list -a
    (cd "$T" && find spool conf/user search -type f ! -name '*.db-shm' ! -name '*.db-wal' | sort)
}

# check_tree ROOT OTHER DESC: the tree exists entirely under ROOT, nothing
# of it under OTHER, no rename records, every mailbox verifies, counts are
# intact, no mailbox files without a record, and search finds every copy
# under ROOT's names.
check_tree() {
    local root=$1 other=$2 desc=$3 bad="" u
    u=$(user_of "$root")
    [ "$("$MBCTL" list "$root*")" = "$(tree_names "$root")" ] || bad="$bad list($("$MBCTL" list))"
    [ -z "$("$MBCTL" list "$other*")" ] || bad="$bad old-names-live"
    "$MBCTL" list -a | grep -q 'RENAME' && bad="$bad rename-records($("$MBCTL" list -a | grep RENAME))"
    for mb in "$root" "$root.Sent" "$root.lists.a" "$root.lists.b"; do
        "$MBCTL" verify "$mb" > /dev/null 2>&1 || bad="$bad verify:$mb"
        m=$("$MBCTL" status "$mb" 2>/dev/null | sed -n 's/^messages: //p')
        [ "$m" = "$nmsgs" ] || bad="$bad count:$mb=$m"
    done
    # every directory with mailbox files belongs to a live mailbox
    for f in $(find "$T/spool" -name xapiary.header); do
        d=${f%/xapiary.header}
        case "$d" in
        */user/$u|*/user/$u/Sent|*/user/$u/lists/a|*/user/$u/lists/b|*/user/$u/lists) ;;
        *) bad="$bad orphan:${d#"$T"/}" ;;
        esac
    done
    ou=$(user_of "$other")
    if [ "$ou" != "$u" ] && [ -n "$(find "$T/spool" "$T/search" "$T/conf/user" -path "*/user/$ou" 2>/dev/null)" ]; then
        bad="$bad old-user-files"
    fi
    hits=$("$XSEARCH" -u "$u" renameword 2>&1 | cut -f1 | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
    want=""
    for mb in "$root" "$root.Sent" "$root.lists.a" "$root.lists.b"; do want="$want$mb=3 "; done
    [ "$hits" = "$want" ] || bad="$bad search($hits want $want)"
    [ -z "$bad" ] && pass "$desc" || fail "$desc" "$bad"
}

expect_exit 0 "make a tree of 5 mailboxes" make_tree user.alice
expect_exit 0 "index it" "$SQUATTER" -u alice
check_tree user.alice user.nobody "the tree before any rename"

# ---------------------------------------------------------------- refusals
before=$(state)
expect_exit 64 "into its own subtree" "$MBCTL" rename user.alice.lists user.alice.lists.x
expect_grep "own subtree" "$T/err" "says why (own subtree)"
expect_exit 73 "onto an existing name" "$MBCTL" rename user.alice.Sent user.alice.lists
expect_grep "user.alice.lists exists" "$T/err" "names the existing mailbox"
expect_exit 73 "a subtree onto a name taken below" "$MBCTL" rename user.alice.lists.a user.alice.lists.b
expect_exit 64 "a bad new name" "$MBCTL" rename user.alice.Sent 'user.alice..x'
expect_exit 64 "a new name with a slash" "$MBCTL" rename user.alice.Sent 'user.alice.a/b'
expect_exit 64 "a new name over 490 bytes below" "$MBCTL" rename user.alice.lists \
    "user.alice.$(printf 'x%.0s' $(seq 1 478))"
expect_exit 66 "a source that does not exist" "$MBCTL" rename user.alice.nope user.alice.nope2
expect_exit 69 "a folder to another user" "$MBCTL" rename user.alice.Sent user.zed.Sent
expect_grep "between users" "$T/err" "says mail cannot change owner"
expect_exit 69 "an INBOX to a folder" "$MBCTL" rename user.alice user.zed.x
expect_exit 64 "no arguments" "$MBCTL" rename user.alice
state > "$T/after"
echo "$before" | diff - "$T/after" > "$T/diff" && pass "refused renames touched nothing" || \
    fail "refused renames touched something" "$(cat "$T/diff")"

# ---------------------------------------------------------------- folder rename
expect_exit 0 "rename a subtree" "$MBCTL" rename user.alice.lists user.alice.archive
"$XSEARCH" -u alice renameword | cut -f1 | sort -u > "$T/names"
[ "$(cat "$T/names")" = "$(printf '%s\n' user.alice user.alice.Sent user.alice.archive.a user.alice.archive.b)" ] \
    && pass "search shows the new folder names at once, no reindex" || fail "names after folder rename" "$(cat "$T/names")"
"$SQUATTER" -A -u alice > "$T/audit" 2>&1 && [ ! -s "$T/audit" ] \
    && pass "nothing to reindex after the rename" || fail "audit after rename" "$(cat "$T/audit")"
expect_exit 0 "rename it back" "$MBCTL" rename user.alice.archive user.alice.lists
"$MBCTL" list -a | grep -q '^user.alice.archive	DELETED' && pass "the old names are tombstones" \
    || fail "no tombstones" "$("$MBCTL" list -a)"

# ---------------------------------------------------------------- user rename
expect_exit 0 "rename a whole user" "$MBCTL" rename user.alice user.bob
check_tree user.bob user.alice "the user's tree, search index and GUID db moved"
expect_exit 66 "the old user has no search any more" "$XSEARCH" -u alice renameword
expect_exit 0 "index new mail for the renamed user" sh -c \
    "'$MBCTL' append user.bob.Sent '$T/m1' >/dev/null && '$SQUATTER' -u bob && '$MBCTL' expunge user.bob.Sent $((nmsgs + 1)) && '$SQUATTER' -u bob"

# onto a user that existed once: delete_user leaves an empty directory
expect_exit 0 "create, index and delete user.dora" sh -c "'$MBCTL' create user.dora &&
    '$MBCTL' append user.dora '$T/m1' >/dev/null && '$SQUATTER' -u dora && '$MBCTL' delete user.dora"
expect_exit 0 "rename onto a deleted user's name" "$MBCTL" rename user.bob user.dora
check_tree user.dora user.bob "the tree under the once-deleted name"
expect_exit 0 "and back" "$MBCTL" rename user.dora user.bob

# ---------------------------------------------------------------- killed at every step
# Points 1-4 come before the switch (the old tree survives), 5-8 after
# (the new one does).  Recovery rotates: an open of a name in the tree,
# `mbctl expire`, `mbctl recover`.  Some rounds also kill the recovery
# once (rename.undo.1 / rename.6 in the cleanup) before it completes.
cur=user.bob
nextuser() { case "$1" in user.bob) echo user.carol ;; *) echo user.bob ;; esac; }
for k in 1 2 3 4 5 6 7 8; do
    for round in 1 2 3; do
        to=$(nextuser $cur)
        XAPIARY_FAULT=rename.$k "$MBCTL" rename $cur $to > /dev/null 2>&1
        rc=$?
        [ $rc -eq 137 ] || fail "rename.$k round $round: killed" "exit $rc"
        if [ $k -le 4 ]; then surv=$cur; gone=$to; else surv=$to; gone=$cur; fi
        # Round 1 recovers through an open of a name the rename gives up
        # (it waits, finds the renamer dead and cleans up), killing that
        # cleanup once first for points 1-5.
        if [ $round -eq 1 ] && [ $k -le 5 ]; then
            point=rename.undo.1; [ $k -eq 5 ] && point=rename.6
            XAPIARY_FAULT=$point "$MBCTL" status $gone.Sent > /dev/null 2>&1
            rc=$?
            [ $rc -eq 137 ] || fail "rename.$k: the cleanup was not killed at $point" "exit $rc"
        fi
        case $round in
        1) "$MBCTL" status $gone.lists.a > "$T/out" 2> "$T/err"
           [ $? -eq 66 ] || fail "rename.$k: $gone.lists.a still opens" "$(cat "$T/err")" ;;
        2) "$MBCTL" expire > "$T/out" 2> "$T/err" || fail "rename.$k: expire failed" "$(cat "$T/err")" ;;
        3) "$MBCTL" recover > "$T/out" 2> "$T/err" || fail "rename.$k: recover failed" "$(cat "$T/err")" ;;
        esac
        check_tree $surv $gone "killed at rename.$k (round $round), recovered: whole under $surv"
        cur=$surv
    done
done

# ---------------------------------------------------------------- waiting
# A process holds user.X.Sent open (its SHARED namelock): the rename marks
# the tree and waits for it.  Opens of old and new names meanwhile wait
# for the rename, then see the new tree whole.
to=$(nextuser $cur)
"$MBCTL" lock "$cur.Sent" sh -c "touch '$T/held'; while [ ! -e '$T/go' ]; do sleep 0.05; done" &
holder=$!
while [ ! -e "$T/held" ]; do sleep 0.05; done
"$MBCTL" rename $cur $to > "$T/rn.out" 2>&1 &
renamer=$!
i=0
while ! "$MBCTL" list -a | grep -q RENAMELOCKED && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
"$MBCTL" list -a | grep -q "^$cur.lists.a	RENAMELOCKED	$cur\$" \
    && pass "the old names are RENAMELOCKED with the root as NAMELOCK" || fail "not marked" "$("$MBCTL" list -a)"
"$MBCTL" list -a | grep -q "^$to.lists.a	RENAMETEMP	$cur\$" \
    && pass "the new names are RENAMETEMP" || fail "new names not marked" "$("$MBCTL" list -a)"
"$MBCTL" status $cur.lists.a > "$T/old.out" 2> "$T/old.err" &
o1=$!
"$MBCTL" status $to.lists.a > "$T/new.out" 2> "$T/new.err" &
o2=$!
sleep 0.5
kill -0 $o1 2>/dev/null && kill -0 $o2 2>/dev/null \
    && pass "opens of old and new names wait while the rename runs" || fail "an open did not wait"
touch "$T/go"
wait $holder; wait $renamer; rr=$?
wait $o1; r1=$?
wait $o2; r2=$?
[ $rr -eq 0 ] && pass "the rename finished" || fail "rename failed" "$(cat "$T/rn.out")"
[ $r1 -eq 66 ] && pass "the old name is gone when the wait ends" || fail "old name open: exit $r1" "$(cat "$T/old.out" "$T/old.err")"
[ $r2 -eq 0 ] && grep -q "^messages: $nmsgs" "$T/new.out" \
    && pass "the new name opens whole when the wait ends" || fail "new name open: exit $r2" "$(cat "$T/new.err")"
check_tree $to $cur "whole under the new name after a contended rename"
cur=$to

# ---------------------------------------------------------------- expire
sleep 1
expect_exit 0 "expire -D 0" "$MBCTL" -v expire -D 0
expect_grep "^mbctl: expire: .* tombstones removed" "$T/err" "expire -v reports what it did"
"$MBCTL" list -a | grep -q DELETED && fail "tombstones left" "$("$MBCTL" list -a)" \
    || pass "old tombstones are gone"
expect_exit 64 "expire -D nonsense" "$MBCTL" expire -D soon
expect_exit 0 "recover" "$MBCTL" recover
[ -z "$(ls "$T/conf/lock")" ] && pass "recover removed the lock tree" || fail "lock tree left"
check_tree $cur user.nobody "the tree after expire and recover"

done_testing
