#!/bin/sh
# seeds/004: `mbctl watch` keeps the mailbox open and sees every committed
# append exactly once, while several processes append at once.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

APPENDERS=4
PER=260          # 4 x 260 = 1,040 appends

"$MBCTL" create user.w || fail "create"
"$MBCTL" watch -i 5 user.w > "$T/watch.out" 2> "$T/watch.err" &
watcher=$!

printf 'From: w@example.com\nSubject: w\n\nw\n' > "$T/msg"
i=0
while [ $i -lt $APPENDERS ]; do
    (
        j=0
        while [ $j -lt $PER ]; do
            "$MBCTL" append user.w "$T/msg" >/dev/null || exit 1
            j=$((j + 1))
        done
    ) &
    eval "app$i=\$!"
    i=$((i + 1))
done
ok=1
i=0
while [ $i -lt $APPENDERS ]; do
    eval "wait \$app$i" || ok=0
    i=$((i + 1))
done
[ $ok -eq 1 ] && pass "every appender succeeded" || fail "an appender failed"
total=$((APPENDERS * PER))
# Give the watcher time to poll once more, then stop it cleanly.
n=0
while [ "$(wc -l < "$T/watch.out")" -lt $total ] && [ $n -lt 200 ]; do
    sleep 0.05; n=$((n + 1))
done
kill -TERM $watcher
wait $watcher; ws=$?
[ $ws -eq 0 ] && pass "watch exits 0 on SIGTERM" || fail "watch exit $ws" "$(cat "$T/watch.err")"
lines=$(wc -l < "$T/watch.out")
uniq_lines=$(sort -n "$T/watch.out" | uniq | wc -l)
[ "$lines" -eq $total ] && pass "watch printed $total lines" || fail "watch printed $lines lines"
[ "$uniq_lines" -eq $total ] && pass "every UID exactly once" || fail "$uniq_lines distinct UIDs"
expected=$(seq 1 $total | tr '\n' ' ')
got=$(sort -n "$T/watch.out" | tr '\n' ' ')
[ "$got" = "$expected" ] && pass "UIDs 1..$total, none missing" || fail "UIDs differ"
sort -nc "$T/watch.out" 2>/dev/null && pass "UIDs printed in order" || fail "UIDs out of order"
expect_exit 0 "verify after concurrent appends" "$MBCTL" verify user.w

done_testing
