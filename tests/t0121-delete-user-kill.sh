#!/bin/sh
# Deleting a user is one crash-safe operation: `mbctl delete user.x`
# killed at each of its fault points leaves a state that the next
# `mbctl delete user.x`, `mbctl expire` or `mbctl recover` finishes: no
# mailbox, no search tier, no xapianactive and no GUID db of the user is
# left, and a new user.x starts empty (no inherited mail, no error).
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

mail() {   # mail FILE WORD ID
    printf 'From: %s@example.com\nSubject: about %s\nMessage-ID: <%s.%s@example.com>\n\nthe word is %s\n' \
        "$2" "$2" "$2" "$3" "$2" > "$1"
}
make_user() {   # make_user WORD: user.x with three mailboxes of mail, indexed
    "$MBCTL" create user.x user.x.a user.x.b || return 1
    for mb in user.x user.x.a user.x.b; do
        mail "$T/m" "$1" "$mb"
        "$MBCTL" append "$mb" "$T/m" > /dev/null || return 1
    done
    "$SQUATTER" -u x
}
leftovers() {   # everything of user x: records, mailbox directories, user files
    "$MBCTL" list 'user.x*'
    (cd "$T" && find conf/user search spool \( -path '*/user/x' -o -path '*/user/x/*' \) -print)
}

# A reference: a delete that is not killed leaves nothing.
expect_exit 0 "make user.x" make_user oldsecret
expect_exit 0 "delete user.x" "$MBCTL" delete user.x
[ -z "$(leftovers)" ] && pass "an uninterrupted delete leaves nothing" || fail "leftovers" "$(leftovers)"

round=0
for point in user.delete.1 user.delete.2 user.delete.3 userdata.remove.1 userdata.remove.2; do
    for how in delete expire recover; do
        round=$((round + 1))
        what="killed at $point, finished by mbctl $how"
        make_user "oldsecret$round" > "$T/out" 2>&1 || { fail "$what: make user.x" "$(cat "$T/out")"; continue; }
        XAPIARY_FAULT=$point "$MBCTL" delete user.x > "$T/out" 2> "$T/err"
        rc=$?
        [ $rc -eq 137 ] || { fail "$what: killed" "exit $rc: $(cat "$T/err")"; continue; }
        case $how in
            delete) "$MBCTL" delete user.x ;;
            expire) "$MBCTL" expire ;;
            recover) "$MBCTL" recover ;;
        esac > "$T/out" 2> "$T/err"
        rc=$?
        [ $rc -eq 0 ] || { fail "$what: mbctl $how" "exit $rc: $(cat "$T/err")"; continue; }
        left=$(leftovers)
        [ -z "$left" ] || { fail "$what: nothing of user x is left" "$left"; continue; }
        # A new user of the name starts empty.
        make_user "newword$round" > "$T/out" 2>&1 || { fail "$what: a new user.x" "$(cat "$T/out")"; continue; }
        old=$("$XSEARCH" -u x --count "oldsecret$round" 2> "$T/err"); rc=$?
        new=$("$XSEARCH" -u x --count "newword$round" 2>> "$T/err")
        if [ $rc -eq 0 ] && [ "$old" = 0 ] && [ "$new" = 3 ]; then
            pass "$what: the new user.x finds its own mail only"
        else
            fail "$what: new user.x" "exit $rc, old $old, new $new: $(cat "$T/err")"
        fi
        "$MBCTL" delete user.x > "$T/out" 2>&1 && [ -z "$(leftovers)" ] ||
            fail "$what: the new user.x deleted" "$(cat "$T/out"; leftovers)"
    done
done

# A delete paused after its mailboxes step (the user's files still to be
# removed) while a new user.x is created, gets mail and is indexed: the
# create finished the old delete's work and claimed the files, so the old
# delete, going on, must leave the new user's files alone.
make_user oldpaused > "$T/out" 2>&1 || fail "user.x for the paused delete" "$(cat "$T/out")"
rm -f "$T/pause"
XAPIARY_PAUSE="user.delete.3:$T/pause" "$MBCTL" delete user.x > "$T/paused.out" 2>&1 &
paused=$!
i=0
while [ ! -e "$T/pause" ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i + 1)); done
[ -e "$T/pause" ] && pass "a delete paused after its mailboxes step" \
    || fail "the delete did not reach user.delete.3" "$(cat "$T/paused.out")"
expect_exit 0 "a new user.x meanwhile, with mail, indexed" make_user newpaused
rm -f "$T/pause"
wait $paused; rc=$?
[ $rc -eq 0 ] && pass "the paused delete finishes" || fail "the paused delete: exit $rc" "$(cat "$T/paused.out")"
new=$("$XSEARCH" -u x --count newpaused 2> "$T/err"); rc=$?
[ $rc -eq 0 ] && [ "$new" = 3 ] && [ ! -s "$T/err" ] && pass "the new user.x still finds its mail, nothing unindexed" \
    || fail "the new user.x after the old delete went on" "exit $rc, found $new: $(cat "$T/err")"
expect_exit 0 "delete the new user.x" "$MBCTL" delete user.x

# Once finished, a delete says the user does not exist.
expect_exit 66 "deleting a user that is gone" "$MBCTL" delete user.x
expect_grep "does not exist" "$T/err" "says it does not exist"
done_testing
