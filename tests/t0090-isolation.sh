#!/bin/sh
# Isolation and paths: bad user and mailbox names are refused before any
# file is touched; one user's search never reaches another's; every file
# is private (0600/0700, lock files included); a symlink planted in the
# spool, a search partition or the per-user config directory is refused,
# not followed.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
umask 022     # what a careless service manager might leave

mkdir -p "$T/search2" "$T/outside"
echo "t2searchpartition-default: $T/search2" >> "$XAPIARY_CONFIG"
# Every file of ours, but not SQLite's own transient files: whether
# mailboxes.db-wal and -shm exist depends on which earlier process closed
# the database last (the last connection to close checkpoints and removes
# them), not on anything the command under test did.
snapshot() {
    (cd "$T" && find conf spool search search2 outside 2>/dev/null | sort |
        grep -Ev -- '-(wal|shm|journal)$')
}
mail() {   # mail FILE WORD
    printf 'From: %s@example.com\nSubject: about %s\nMessage-ID: <%s@example.com>\n\nthe word is %s\n' \
        "$2" "$2" "$2" "$2" > "$1"
}
mail "$T/ma" aliceword; mail "$T/mb" bobword; mail "$T/mc" carolword

expect_exit 0 "create users alice and bob" "$MBCTL" create user.alice user.bob
expect_exit 0 "append and index" sh -c "'$MBCTL' append user.alice '$T/ma' >/dev/null &&
    '$MBCTL' append user.bob '$T/mb' >/dev/null && '$SQUATTER' -u alice bob"

# ---------------------------------------------------------------- bad names
long=$(printf 'x%.0s' $(seq 1 491))
before=$(snapshot)
for bad in '..' 'a/b' 'a%b' '-x' "$long" 'a..b' '.a' 'a.' 'a*' ''; do
    for cmd in "create user.$bad" "status user.$bad" "rename user.bob user.$bad" \
               "delete user.$bad"; do
        # shellcheck disable=SC2086
        "$MBCTL" $cmd > "$T/out" 2> "$T/err"
        rc=$?
        if [ $rc -eq 0 ] || ! grep -q 'Invalid mailbox name\|Mailbox does not exist\|missing arguments' "$T/err"; then
            fail "mbctl $cmd is refused" "exit $rc: $(cat "$T/err")"
        fi
    done
    "$SQUATTER" -u -- "$bad" > "$T/out" 2> "$T/err" && fail "squatter -u '$bad' is refused"
    "$XSEARCH" -u "$bad" word > "$T/out" 2> "$T/err" && fail "xsearch -u '$bad' is refused"
    grep -q 'Invalid mailbox name\|user' "$T/err" || fail "xsearch -u '$bad' says why" "$(cat "$T/err")"
done
pass "bad names and userids are refused by mbctl, squatter and xsearch"
after=$(snapshot)
[ "$after" = "$before" ] && pass "no file was created or removed for a bad name" \
    || fail "bad names touched files" "$(printf '%s\n' "$before" > "$T/before";
        printf '%s\n' "$after" | diff "$T/before" -)"
expect_exit 64 "a component that is '..' in the middle" "$MBCTL" create 'user.alice.../etc'
expect_exit 64 "the reserved \$XAPIAN\$ prefix is no mailbox" "$MBCTL" create '$XAPIAN$alice'

# ---------------------------------------------------------------- one user's search
[ "$("$XSEARCH" -u alice --count bobword)" = 0 ] && pass "alice's search does not find bob's mail" \
    || fail "alice found bob's mail"
[ "$("$XSEARCH" -u bob --count bobword)" = 1 ] && pass "bob's does" || fail "bob's search"
active=$(find "$T/conf/user" -path '*/user/alice/xapianactive')
cp "$active" "$T/active.good"
printf 't1:../../bob/xapian.1\n' > "$active"
expect_exit 65 "a xapianactive naming a path is corrupt, not followed" "$XSEARCH" -u alice bobword
expect_grep "xapianactive" "$T/err" "the error names xapianactive"
printf 't9:1\n' > "$active"
"$XSEARCH" -u alice aliceword > "$T/out" 2> "$T/err"; rc=$?
[ $rc -ne 0 ] && grep -q "t9" "$T/err" && pass "an unknown tier in xapianactive is an error naming it" \
    || fail "unknown tier: exit $rc" "$(cat "$T/err")"
cp "$T/active.good" "$active"
[ "$("$XSEARCH" -u alice --count aliceword)" = 1 ] && pass "restored xapianactive works" || fail "restore"

# ---------------------------------------------------------------- permissions
expect_exit 0 "a workload: compaction, rename, expunge, reindex" sh -c "
    '$SQUATTER' -z t2 -t t1 -u alice && '$MBCTL' create user.alice.x &&
    '$MBCTL' rename user.alice.x user.alice.y && '$MBCTL' append user.alice.y '$T/ma' >/dev/null &&
    '$MBCTL' expunge user.alice 1 && '$SQUATTER' -u alice && '$MBCTL' lock user.alice true"
open=$(cd "$T" && find conf spool search search2 -mindepth 1 -perm /077)
[ -z "$open" ] && pass "every file and directory is private (no group or other bits)" \
    || fail "files readable by others" "$open"
[ -n "$(find "$T/conf/lock" -type f)" ] && pass "(lock files exist and were checked)" || fail "no lock files"

# ---------------------------------------------------------------- planted symlinks
# A mailbox directory replaced by a link to elsewhere.
expect_exit 0 "create user.carol" "$MBCTL" create user.carol
cdir=$(find "$T/spool" -path '*/user/carol' -type d)
mv "$cdir" "$T/outside/carol"
ln -s "$T/outside/carol" "$cdir"
before=$(snapshot; ls -l "$T/outside/carol")
"$MBCTL" append user.carol "$T/mc" > "$T/out" 2> "$T/err"; rc=$?
[ $rc -ne 0 ] && grep -q "symbolic link" "$T/err" && pass "append into a symlinked mailbox directory is refused, naming the link" \
    || fail "symlinked mailbox: exit $rc" "$(cat "$T/err")"
"$MBCTL" status user.carol > "$T/out" 2> "$T/err"
[ $? -ne 0 ] && pass "status of it is refused too" || fail "status followed the link"
[ "$(snapshot; ls -l "$T/outside/carol")" = "$before" ] && pass "nothing was written through the link" \
    || fail "written through the link"
rm "$cdir"; mv "$T/outside/carol" "$cdir"

# A message file replaced by a link to a file outside, before indexing.
printf 'From: x@example.com\nSubject: secret\n\nsecretword\n' > "$T/outside/secret"
"$MBCTL" append user.bob "$T/mc" > /dev/null
msg=$(find "$T/spool" -path '*/user/bob/2.')
rm "$msg"; ln -s "$T/outside/secret" "$msg"
"$SQUATTER" -u bob > "$T/out" 2> "$T/err"
[ "$("$XSEARCH" -u bob --count secretword)" = 0 ] && pass "a symlinked message file is not read into the index" \
    || fail "the index read a file outside the spool"
rm "$msg"

# A user's search directory replaced by a link.
sdir=$(find "$T/search" -path '*/user/bob' -type d)
mv "$sdir" "$T/outside/bobsearch"
ln -s "$T/outside/bobsearch" "$sdir"
before=$(ls -lR "$T/outside/bobsearch")
"$XSEARCH" -u bob bobword > "$T/out" 2> "$T/err"; rc=$?
[ $rc -ne 0 ] && grep -q "symbolic link" "$T/err" && pass "a symlinked search directory is refused, naming the link" \
    || fail "search followed a symlinked tier: exit $rc" "$(cat "$T/out" "$T/err")"
"$MBCTL" append user.bob "$T/mb" > /dev/null
"$SQUATTER" -u bob > "$T/out" 2> "$T/err" && fail "squatter wrote through a symlinked tier" \
    || pass "squatter refuses to index into it"
[ "$(ls -lR "$T/outside/bobsearch")" = "$before" ] && pass "nothing written in the linked-to directory" \
    || fail "written outside"
rm "$sdir"; mv "$T/outside/bobsearch" "$sdir"

# The per-user config directory (GUID db, xapianactive) replaced by a link.
udir=$(find "$T/conf/user" -path '*/user/alice' -type d)
mv "$udir" "$T/outside/aliceconf"
ln -s "$T/outside/aliceconf" "$udir"
"$XSEARCH" -u alice aliceword > "$T/out" 2> "$T/err"; rc=$?
[ $rc -ne 0 ] && grep -q "symbolic link" "$T/err" && pass "a symlinked user config directory is refused" \
    || fail "followed the config link: exit $rc" "$(cat "$T/out" "$T/err")"
rm "$udir"; mv "$T/outside/aliceconf" "$udir"
[ "$("$XSEARCH" -u alice --count aliceword)" = 1 ] && pass "all fine once the links are gone" \
    || fail "not fine after removing the links"

done_testing
