#!/bin/sh
# The batched sync shared by the mailbox commit and `mbctl receive`
# (common/syncbatch.h): each file written is fsynced, the oldest early
# when the batch holds its limit of open files.  An fsync failing
# anywhere, early or at the commit, fails the whole operation: exit 74,
# nothing named that is not durable (an import commits none of the
# batch, even the files whose early sync succeeded, because Linux
# reports a lost write-back once), no debris.  300 files: more than two
# windows of the batch's 128 open files.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/ioerr-shim.sh"

mkdir -p "$T/m/cur" "$T/m/new" "$T/m/tmp"
i=1
while [ $i -le 300 ]; do
    printf 'From: s%d@example.com\nSubject: batch %d\nMessage-ID: <sb%d@example.com>\n\nbody %d\n' \
        $i $i $i $i > "$T/m/cur/$i:2,S"
    i=$((i + 1))
done
count() { "$MBCTL" status "$1" 2> /dev/null | sed -n 's/^messages: //p'; }
files() { find "$T/spool" -path "*/user/$1/*" -name '*.' -type f | wc -l; }

expect_exit 0 "create user.k" "$MBCTL" create user.k
(cd "$T" && tar cf base.tar conf spool)
restore() { (cd "$T" && rm -rf conf spool && tar xf base.tar); }

# fsync N of the import is message N's file: 1 and 127 in the first early
# sync, 200 in the second, 300 at the commit.
for n in 1 127 200 300; do
    restore
    rm -f "$T/cnt"
    LD_PRELOAD="$SHIM" XAPIARY_IOERR="fsync:$n" XAPIARY_IOERR_PATH=user/k \
        XAPIARY_IOERR_COUNT="$T/cnt" "$MBCTL" import user.k "$T/m" > /dev/null 2> "$T/err"
    rc=$?
    what="import of 300 messages, fsync $n fails"
    fired=$(sed -n 's/^fired fsync [0-9]* //p' "$T/cnt")
    case "$fired" in
        */user/k/$n.) pass "$what: it is message $n's file" ;;
        *) fail "$what: it is message $n's file" "$fired" ;;
    esac
    [ "$rc" -eq 74 ] && pass "$what: exit 74" || fail "$what: exit 74" "exit $rc: $(cat "$T/err")"
    expect_grep "user.k" "$T/err" "$what: the error names the mailbox"
    [ "$(count user.k)" = 0 ] && pass "$what: nothing committed" \
                              || fail "$what: nothing committed" "$(count user.k)"
    expect_exit 0 "$what: mbctl verify" "$MBCTL" verify user.k
    [ "$(files k)" -eq 0 ] && pass "$what: no debris" || fail "$what: no debris" "$(files k) files"
done
expect_exit 0 "the import without a failure" "$MBCTL" import user.k "$T/m"
[ "$(count user.k)" = 300 ] && pass "every message there" || fail "every message there" "$(count user.k)"

# mbctl receive of the same 300 files as user b: an fsync failing in the
# first early sync or in the last fails the receive, and nothing of b
# stays.
"$MBCTL" rename user.k user.b && "$MBCTL" export -o "$T/b.export" b &&
    "$MBCTL" rename user.b user.k && "$MBCTL" expire > /dev/null ||
    fail "the stream of user b"
(cd "$T" && tar cf base.tar conf spool)
for n in 2 290; do
    restore
    rm -f "$T/cnt"
    LD_PRELOAD="$SHIM" XAPIARY_IOERR="fsync:$n" XAPIARY_IOERR_PATH=user/b/ \
        XAPIARY_IOERR_COUNT="$T/cnt" "$MBCTL" receive -i "$T/b.export" > /dev/null 2> "$T/err"
    rc=$?
    what="receive of 300 files, fsync $n fails"
    grep -q '^fired fsync' "$T/cnt" && pass "$what: it fired" || fail "$what: it fired" "$(cat "$T/cnt")"
    [ "$rc" -eq 74 ] && pass "$what: exit 74" || fail "$what: exit 74" "exit $rc: $(cat "$T/err")"
    expect_grep "fsync" "$T/err" "$what: the error says which call"
    expect_exit 66 "$what: no user b" "$MBCTL" status user.b
    [ "$(files b)" -eq 0 ] && pass "$what: no debris" || fail "$what: no debris" "$(files b) files"
    [ "$(count user.k)" = 300 ] && pass "$what: user k untouched" || fail "$what: user k untouched"
done

done_testing
