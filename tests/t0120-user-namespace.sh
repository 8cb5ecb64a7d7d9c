#!/bin/sh
# The user namespace: no mailbox named `user` (the root of every user's
# tree) can be created, and no rename may move mailboxes into or out of
# the user namespace, so that no user's mailboxes leave their search
# tiers and GUID db behind for a later user of the same name to inherit.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

printf 'From: a@example.com\nSubject: bobsecret\nMessage-ID: <s@example.com>\n\nbobsecret\n' > "$T/m"
expect_exit 0 "create user.bob with mail, indexed" sh -c "'$MBCTL' create user.bob &&
    '$MBCTL' append user.bob '$T/m' >/dev/null && '$SQUATTER' -u bob"

expect_exit 64 "mbctl create user is refused" "$MBCTL" create user
expect_grep "user" "$T/err" "the error names the mailbox"
expect_grep "namespace" "$T/err" "and says why"
"$MBCTL" list -a > "$T/list"
awk '$1 == "user"' "$T/list" | grep -q . && fail "a record named user was written" "$(cat "$T/list")" \
    || pass "no record named user exists"
mkdir -p "$T/md/cur" "$T/md/new" && cp "$T/m" "$T/md/cur/1"
expect_exit 64 "mbctl import into user is refused" "$MBCTL" import user "$T/md"

expect_exit 0 "create zz" "$MBCTL" create zz zz.bob
for pair in "user top" "zz user"; do
    set -- $pair
    expect_exit 69 "mbctl rename $1 $2 is refused" "$MBCTL" rename "$1" "$2"
    expect_grep "user namespace" "$T/err" "the refusal says why"
done
for pair in "user.bob zz.bob" "zz.bob user.bob.x" "user.bob.y zz.y"; do
    set -- $pair
    expect_exit 69 "mbctl rename $1 $2 is refused" "$MBCTL" rename "$1" "$2"
done
expect_grep "between users" "$T/err" "the refusal says why"
[ "$("$MBCTL" list user.bob)" = user.bob ] && pass "user.bob is where it was" \
    || fail "user.bob moved" "$("$MBCTL" list)"
[ "$("$XSEARCH" -u bob --count bobsecret)" = 1 ] && pass "bob's search still finds his mail" \
    || fail "bob's search"
# ---------------------------------------------------------------- incarnations
# A user's GUID db and search tiers belong to one incarnation of the user
# (its INBOX uniqueid): files an earlier user.eve left behind (a restore,
# a crash of an older version) are never a new user.eve's.
userfiles() { (cd "$T" && find conf/user search -path '*/user/eve' -prune -print); }
printf 'From: a@example.com\nSubject: evesecret\nMessage-ID: <e@example.com>\n\nevesecret\n' > "$T/e1"
printf 'From: a@example.com\nSubject: evenew\nMessage-ID: <n@example.com>\n\nevenew\n' > "$T/e2"
expect_exit 0 "create user.eve with mail, indexed" sh -c "'$MBCTL' create user.eve &&
    '$MBCTL' append user.eve '$T/e1' >/dev/null && '$SQUATTER' -u eve"
mkdir "$T/saved"
for d in $(userfiles); do mkdir -p "$T/saved/$d" && cp -a "$T/$d/." "$T/saved/$d/"; done
restore() { (cd "$T/saved" && find . -path '*/user/eve' -prune -print) | while read -r d; do
    mkdir -p "$T/$d" && cp -a "$T/saved/$d/." "$T/$d/"; done; }
expect_exit 0 "delete user.eve" "$MBCTL" delete user.eve
restore
expect_exit 0 "a new user.eve over the old files" "$MBCTL" create user.eve
[ "$("$XSEARCH" -u eve --count evesecret 2>"$T/err")" = 0 ] &&
    pass "the new user.eve does not find the old user's mail" || fail "inherited" "$(cat "$T/err")"
expect_exit 0 "mail for the new user.eve, indexed" sh -c "'$MBCTL' append user.eve '$T/e2' >/dev/null &&
    '$SQUATTER' -u eve"
[ "$("$XSEARCH" -u eve --count evenew):$("$XSEARCH" -u eve --count evesecret)" = 1:0 ] &&
    pass "it finds its own mail, still not the old" || fail "new user.eve's search"

# The old files put back over the live user: refused, never searched.
for d in $(userfiles); do rm -rf "${T:?}/$d"; done
restore
expect_exit 77 "a search over another incarnation's files is refused" "$XSEARCH" -u eve evesecret
expect_grep "owner" "$T/err" "the error names the owner file"
grep -q "^1 \|<e@example.com>\|evesecret" "$T/out" && fail "old mail shown" "$(cat "$T/out")" \
    || pass "nothing of the old user's is shown"
expect_exit 77 "squatter refuses them too" "$SQUATTER" -u eve
expect_exit 0 "an append stores the mail" "$MBCTL" append user.eve "$T/e2"
expect_grep "owner names INBOX" "$T/err" "but leaves the other incarnation's GUID db alone, saying so"

# A create killed while it removes an earlier user's files: the next one
# finishes, and the user still starts empty.
expect_exit 0 "delete user.eve" "$MBCTL" delete user.eve
restore
XAPIARY_FAULT=userdata.remove.1 "$MBCTL" create user.eve > "$T/out" 2>&1
[ $? -eq 137 ] && pass "create killed while it removes the old files" || fail "not killed" "$(cat "$T/out")"
expect_exit 0 "create user.eve again" "$MBCTL" create user.eve
[ "$("$XSEARCH" -u eve --count evesecret 2>"$T/err")" = 0 ] &&
    pass "it starts empty" || fail "inherited after a killed create" "$(cat "$T/err")"
[ "$(cd "$T" && find search -path '*/user/eve/*' | wc -l)" = 0 ] &&
    pass "no search tier of the old user is left" || fail "old tiers" "$(cd "$T" && find search -path '*/user/eve/*')"
done_testing
