#!/bin/sh
# The batched sync shared by the mailbox commit and `mbctl receive`
# (common/syncbatch.h): a batch of more than 16 files is synced by one
# syncfs per filesystem, through the first file written there, not by an
# fsync per file; a smaller one by an fsync per file.  The sync failing
# fails the whole operation: exit 74, nothing named that is not durable
# (the import commits none of the batch, the receive leaves nothing of
# the user), no debris.  300 files.
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

# The one sync call of the import's commit is the syncfs, through
# message 1's file; it fails.
restore
rm -f "$T/cnt"
LD_PRELOAD="$SHIM" XAPIARY_IOERR="fsync:1" XAPIARY_IOERR_PATH=user/k \
    XAPIARY_IOERR_COUNT="$T/cnt" "$MBCTL" import user.k "$T/m" > /dev/null 2> "$T/err"
rc=$?
what="import of 300 messages, the sync fails"
fired=$(sed -n 's/^fired fsync [0-9]* //p' "$T/cnt")
case "$fired" in
    */user/k/1.) pass "$what: it is the syncfs through message 1's file" ;;
    *) fail "$what: it is the syncfs through message 1's file" "$fired" ;;
esac
[ "$rc" -eq 74 ] && pass "$what: exit 74" || fail "$what: exit 74" "exit $rc: $(cat "$T/err")"
expect_grep "user.k" "$T/err" "$what: the error names the mailbox"
expect_grep "syncfs" "$T/err" "$what: the error says which call"
[ "$(count user.k)" = 0 ] && pass "$what: nothing committed" \
                          || fail "$what: nothing committed" "$(count user.k)"
expect_exit 0 "$what: mbctl verify" "$MBCTL" verify user.k
[ "$(files k)" -eq 0 ] && pass "$what: no debris" || fail "$what: no debris" "$(files k) files"
expect_exit 0 "the import without a failure" "$MBCTL" import user.k "$T/m"
[ "$(count user.k)" = 300 ] && pass "every message there" || fail "every message there" "$(count user.k)"

# mbctl receive of the same 300 files as user b: one sync call for the
# files (then one per directory), not one per file; it failing fails the
# receive, and nothing of b stays.
"$MBCTL" rename user.k user.b && "$MBCTL" export -o "$T/b.export" b &&
    "$MBCTL" rename user.b user.k && "$MBCTL" expire > /dev/null ||
    fail "the stream of user b"
(cd "$T" && tar cf base.tar conf spool)
restore
rm -f "$T/cnt"
LD_PRELOAD="$SHIM" XAPIARY_IOERR_PATH=user/b/ XAPIARY_IOERR_COUNT="$T/cnt" \
    "$MBCTL" receive -i "$T/b.export" > /dev/null 2> "$T/err"
rc=$?
[ "$rc" -eq 0 ] && pass "receive of 300 files" || fail "receive of 300 files" "exit $rc: $(cat "$T/err")"
syncs=$(sed -n 's/^fsync //p' "$T/cnt")
[ "${syncs:-0}" -lt 10 ] && pass "receive of 300 files: $syncs sync calls, not one per file" \
                       || fail "receive of 300 files: a few sync calls, not one per file" "$syncs"
[ "$(count user.b)" = 300 ] && pass "receive of 300 files: user b whole" \
                            || fail "receive of 300 files: user b whole" "$(count user.b)"
restore
rm -f "$T/cnt"
LD_PRELOAD="$SHIM" XAPIARY_IOERR="fsync:1" XAPIARY_IOERR_PATH=user/b/ \
    XAPIARY_IOERR_COUNT="$T/cnt" "$MBCTL" receive -i "$T/b.export" > /dev/null 2> "$T/err"
rc=$?
what="receive of 300 files, the sync fails"
grep -q '^fired fsync' "$T/cnt" && pass "$what: it fired" || fail "$what: it fired" "$(cat "$T/cnt")"
[ "$rc" -eq 74 ] && pass "$what: exit 74" || fail "$what: exit 74" "exit $rc: $(cat "$T/err")"
expect_grep "syncfs" "$T/err" "$what: the error says which call"
expect_exit 66 "$what: no user b" "$MBCTL" status user.b
[ "$(files b)" -eq 0 ] && pass "$what: no debris" || fail "$what: no debris" "$(files b) files"
[ "$(count user.k)" = 300 ] && pass "$what: user k untouched" || fail "$what: user k untouched"

done_testing
