#!/bin/sh
# mbctl import never follows a symbolic link inside the tree it imports
# (run by root on a user's ~/Maildir, a planted `cur/x -> /etc/shadow`
# must not become mail): each link, to a file or a directory, is skipped
# with a warning naming it, unless --follow-symlinks says otherwise.  The
# PATH named on the command line may itself be a link.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

mail() {   # mail FILE WORD
    printf 'From: %s@example.com\nSubject: about %s\nMessage-ID: <%s@example.com>\n\nthe word is %s\n' \
        "$2" "$2" "$2" "$2" > "$1"
}
stored() {   # stored WORD: how many stored message files (UID.) contain WORD
    find "$T/spool" -type f -name '*[0-9].' -exec grep -l -- "$1" {} + | wc -l
}
mkdir -p "$T/md/cur" "$T/outside/new" "$T/tree/.Real/cur" "$T/othermd/cur"
mail "$T/md/cur/1:2,S" realword
mail "$T/secret" shadowsecret
ln -s "$T/secret" "$T/md/cur/2:2,S"
ln -s "$T/outside/new" "$T/md/new"
mail "$T/outside/new/3" linkeddirword
ln -s "$T/secret" "$T/md/loose"
mail "$T/tree/.Real/cur/1" treeword
mail "$T/othermd/cur/1" othermdword
ln -s "$T/othermd" "$T/tree/.Linked"
mkdir -p "$T/plain"
mail "$T/plain/1" plainword
ln -s "$T/othermd" "$T/plain/sub"

expect_exit 0 "import a Maildir with planted links" "$MBCTL" import user.u "$T/md"
[ "$(stored shadowsecret):$(stored linkeddirword):$(stored realword)" = 0:0:1 ] &&
    pass "only the real message is stored" ||
    fail "links followed" "shadow $(stored shadowsecret), linked dir $(stored linkeddirword), real $(stored realword)"
expect_grep "$T/md/cur/2:2,S: a symbolic link: skipped" "$T/err" "the file link is named"
expect_grep "$T/md/new: a symbolic link: skipped" "$T/err" "the directory link is named"
expect_grep "$T/md/loose: a symbolic link: skipped" "$T/err" "the loose file link is named"
expect_grep "$T/md: 3 symbolic links skipped, not imported" "$T/err" "and their count is given at the end"

# Skipping is the policy, so an import of links only still succeeds; but
# it says so, with the count, rather than silently storing nothing.
mkdir -p "$T/onlylinks/cur"
ln -s "$T/secret" "$T/onlylinks/cur/1:2,S"
ln -s "$T/md/cur/1:2,S" "$T/onlylinks/cur/2:2,S"
expect_exit 0 "import a Maildir of links only" "$MBCTL" import user.ol "$T/onlylinks"
expect_grep "$T/onlylinks: 2 symbolic links skipped, not imported" "$T/err" "the count skipped is on stderr"
[ "$("$MBCTL" status user.ol | sed -n 's/^messages: //p')" = 0 ] && pass "nothing was stored" ||
    fail "user.ol" "$("$MBCTL" status user.ol)"

expect_exit 0 "import -r a Maildir++ tree with a linked folder" "$MBCTL" import -r user.t "$T/tree"
[ "$(stored othermdword):$(stored treeword)" = 0:1 ] && pass "the linked folder is not imported" ||
    fail "linked folder followed" "$(stored othermdword) $(stored treeword)"
expect_grep "$T/tree/.Linked: a symbolic link: skipped" "$T/err" "and is named"
"$MBCTL" list 'user.t*' > "$T/list"
grep -q Linked "$T/list" && fail "a mailbox for the link" "$(cat "$T/list")" || pass "no mailbox was made for it"

expect_exit 0 "import -r a directory of messages with a linked directory" "$MBCTL" import -r user.p "$T/plain"
[ "$(stored othermdword):$(stored plainword)" = 0:1 ] && pass "the linked directory is not imported" ||
    fail "linked directory followed" "$(stored othermdword) $(stored plainword)"
expect_grep "$T/plain/sub: a symbolic link: skipped" "$T/err" "and is named"
[ "$(grep -c 'plain/sub: a symbolic link' "$T/err")" = 1 ] && pass "once" ||
    fail "named more than once" "$(cat "$T/err")"
expect_grep "$T/plain: 1 symbolic link skipped," "$T/err" "and counted once"

ln -s "$T/md" "$T/mdlink"
expect_exit 0 "the PATH named on the command line may be a link" "$MBCTL" import user.w "$T/mdlink"
[ "$("$MBCTL" status user.w | sed -n 's/^messages: //p')" = 1 ] && pass "its real message is imported" ||
    fail "user.w" "$("$MBCTL" status user.w)"

expect_exit 0 "--follow-symlinks imports what the links point to" "$MBCTL" import --follow-symlinks user.f "$T/md"
[ "$("$MBCTL" status user.f | sed -n 's/^messages: //p')" = 4 ] && pass "all four messages" ||
    fail "user.f" "$("$MBCTL" status user.f)"
# Races made to happen: the import is paused after it listed the first
# directory of message files (import.listed), DIR is swapped for a link
# to TARGET, and the import goes on.
# swapped_import DIR TARGET IMPORT-ARGS...
swapped_import() {
    local dir=$1 target=$2 paused i=0
    shift 2
    rm -f "$T/pause"
    XAPIARY_PAUSE="import.listed:$T/pause" "$MBCTL" import "$@" > "$T/out" 2> "$T/err" &
    paused=$!
    while [ ! -e "$T/pause" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done
    [ -e "$T/pause" ] && pass "import $*: paused after listing" || fail "import $*: no pause"
    mv "$dir" "$dir.real" && ln -s "$target" "$dir"
    rm -f "$T/pause"
    wait $paused && pass "import $*: ends" || fail "import $* failed" "$(cat "$T/err")"
}

# cur/ swapped for a link to a directory with a file of the same name
# while it is read: the files are read from the directory listed.
mkdir -p "$T/race/cur" "$T/evil"
mail "$T/race/cur/victim" raceword
mail "$T/evil/victim" evilsecret
swapped_import "$T/race/cur" "$T/evil" user.r "$T/race"
[ "$(stored evilsecret):$(stored raceword)" = 0:1 ] &&
    pass "cur/ swapped for a link while it is read: the listed directory's file is stored" ||
    fail "the link was followed" "evil $(stored evilsecret), race $(stored raceword)"

# The same one level up, in a tree: while .A/cur/ is read, the folder .A
# itself is swapped for a link to a Maildir whose new/ has a file of the
# same name as .A/new/'s.  new/ is opened from .A as it was listed.
mkdir -p "$T/tree2/.A/cur" "$T/tree2/.A/new" "$T/evilmd/new"
mail "$T/tree2/.A/cur/1" treecurword
mail "$T/tree2/.A/new/2" treenewword
mail "$T/evilmd/new/2" evilnewsecret
swapped_import "$T/tree2/.A" "$T/evilmd" -r user.tr "$T/tree2"
[ "$(stored evilnewsecret):$(stored treenewword):$(stored treecurword)" = 0:1:1 ] &&
    pass "a folder swapped for a link while it is read: its own new/ is stored" ||
    fail "the folder link was followed" "evil $(stored evilnewsecret), new $(stored treenewword), cur $(stored treecurword)"

expect_exit 0 "--help documents it" "$MBCTL" import --help
expect_grep "follow-symlinks" "$T/out" "--help names the option"
done_testing
