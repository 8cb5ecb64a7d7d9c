#!/bin/sh
# mbctl import writes each message file without an fsync and syncs the
# batch's files once, in the commit, before any record names them
# (mailbox-append.c, the commit's step 0).  Killed between the batch's
# file writes and its commit (import.written), and after the sync
# (mailbox.commit.0): the earlier import is intact, the batch is not
# there, and after the same import again every record's file is there
# (mbctl verify: present, right size, right GUID) and no file is left
# that no record names.  The sync failing (one file's fsync) fails the
# commit: exit 74, nothing of the batch committed, no debris.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

. "${top_srcdir:-$(dirname "$0")/..}/tests/maildir.sh"
maildir a 10
maildir b 20
count() { "$MBCTL" status user.k 2> /dev/null | sed -n 's/^messages: //p'; }
files() { find "$T/spool" -path '*/user/k/*' -name '*.' -type f | wc -l; }

expect_exit 0 "create user.k" "$MBCTL" create user.k
expect_exit 0 "an import committed first" "$MBCTL" import user.k "$T/a"
(cd "$T" && tar cf base.tar conf spool)
restore() { (cd "$T" && rm -rf conf spool && tar xf base.tar); }

for point in import.written mailbox.commit.0; do
    restore
    XAPIARY_FAULT=$point "$MBCTL" import user.k "$T/b" > /dev/null 2> "$T/kill.err"
    rc=$?
    [ "$rc" -eq 137 ] && pass "$point: killed" || fail "$point: killed" "exit $rc: $(cat "$T/kill.err")"
    [ "$(count)" = 10 ] && pass "$point: the earlier import is intact, the batch not there" \
                        || fail "$point: the earlier import is intact, the batch not there" "$(count)"
    [ "$(files)" -eq 30 ] && pass "$point: the batch's files were written" \
                          || fail "$point: the batch's files were written" "$(files) files"
    expect_exit 0 "$point: the same import again" "$MBCTL" import user.k "$T/b"
    [ "$(count)" = 30 ] && pass "$point: every message there" || fail "$point: every message there" "$(count)"
    expect_exit 0 "$point: mbctl verify: every record's file there, no other" "$MBCTL" verify user.k
    [ "$(files)" -eq 30 ] && pass "$point: no debris" || fail "$point: no debris" "$(files) files"
done

# The sync fails: the commit fails, nothing of the batch is committed.
# Every batch is synced file by file (common/syncbatch.h); a batch larger
# than the files it keeps open is t0340's.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ioerr-shim.sh"
maildir c 3
for case in "b 1" "c 1" "c 2" "c 3"; do
    set -- $case
    restore
    rm -f "$T/cnt"
    LD_PRELOAD="$SHIM" XAPIARY_IOERR="fsync:$2" XAPIARY_IOERR_PATH=user/k \
        XAPIARY_IOERR_COUNT="$T/cnt" "$MBCTL" import user.k "$T/$1" > /dev/null 2> "$T/err"
    rc=$?
    what="import of $(ls "$T/$1/cur" | wc -l) messages, fsync $2 fails"
    fired=$(sed -n 's/^fired fsync [0-9]* //p' "$T/cnt")
    case "$1:$fired" in
        *:*/user/k/$((10 + $2)).) pass "$what: it is message $2's (UID $((10 + $2)))" ;;
        *) fail "$what: the one expected" "$fired" ;;
    esac
    [ "$rc" -eq 74 ] && pass "$what: exit 74" || fail "$what: exit 74" "exit $rc: $(cat "$T/err")"
    expect_grep "user.k" "$T/err" "$what: the error names the mailbox"
    [ "$(count)" = 10 ] && pass "$what: nothing of the batch committed" \
                        || fail "$what: nothing of the batch committed" "$(count)"
    expect_exit 0 "$what: mbctl verify" "$MBCTL" verify user.k
    [ "$(files)" -eq 10 ] && pass "$what: no debris" || fail "$what: no debris" "$(files) files"
done
expect_exit 0 "the import again" "$MBCTL" import user.k "$T/b"
[ "$(count)" = 30 ] && pass "every message there" || fail "every message there" "$(count)"

done_testing
