#!/bin/sh
# A repack and a reconstruct write the new cache file a chunk at a time
# (mailbox/mailbox-cachewrite.c), so that a cache can outgrow one
# allocation: 160 messages whose header blocks are 64 KB each make a cache
# of about 10 MB, and 9 after the expunge: two chunks and a part.  After an expunge (a repack at the
# close) and after a reconstruct, every record's cache entry must be found
# at its offset with its CRC (verify), each message must still show its own
# subject, and the old cache generation must be gone.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

N=160
pad=$(awk 'BEGIN { for (i = 0; i < 800; i++) printf "X-Pad-%d: %070d\n", i, i }')
i=1
while [ $i -le $N ]; do
    { printf 'From: c%d@example.com\nSubject: chunkmsg%d\nMessage-ID: <c%d@example.com>\n' $i $i $i
      printf '%s\n\nbody %d\n' "$pad" $i; } > "$T/c$i"
    i=$((i + 1))
done
files=$(i=1; while [ $i -le $N ]; do printf '%s ' "$T/c$i"; i=$((i + 1)); done)

expect_exit 0 "create user.c" "$MBCTL" create user.c
# shellcheck disable=SC2086
expect_exit 0 "append $N messages with 64 KB headers" "$MBCTL" append user.c $files
dir=$(dirname "$(find "$T/spool" -name 'xapiary.cache.*' | head -1)")

# subjects: each live UID's Subject, from the stored message
subjects() {
    for u in $1; do "$MBCTL" cat user.c "$u" | grep '^Subject:'; done
}
dead=$(seq 3 7 $N | tr '\n' ' ')
live=$(seq 1 $N | grep -vxF -f "$(printf '%s\n' $dead > "$T/dead"; echo "$T/dead")" | tr '\n' ' ')
# shellcheck disable=SC2086
expect_exit 0 "expunge one message in seven (repack at close)" "$MBCTL" expunge user.c $dead
ls "$dir" | grep -q 'xapiary.cache.1$' && fail "the old cache generation is gone" "$(ls "$dir")" \
    || pass "the old cache generation is gone"
ls "$dir" | grep -q 'xapiary.cache.2$' && pass "the repack wrote generation 2" \
    || fail "the repack wrote generation 2" "$(ls "$dir")"
size=$(stat -c %s "$dir"/xapiary.cache.2)
[ "$size" -gt $((8 << 20)) ] && pass "the repacked cache is past two 4 MiB chunks ($size bytes)" \
    || fail "the repacked cache is too small to take two chunks" "$size bytes"
expect_exit 0 "verify after the repack: every cache record at its offset, CRC right" \
    "$MBCTL" verify user.c
subjects "$live" > "$T/subj"
want=$(for u in $live; do echo "Subject: chunkmsg$u"; done)
[ "$(cat "$T/subj")" = "$want" ] && pass "every live message keeps its own subject" \
    || fail "subjects after the repack" "$(diff "$T/subj" - <<EOT | head -5
$want
EOT
)"
expect_exit 0 "reconstruct" "$MBCTL" reconstruct user.c
expect_exit 0 "verify after the reconstruct" "$MBCTL" verify user.c
expect_exit 0 "status after the reconstruct" "$MBCTL" status user.c
expect_grep "$((N - $(echo $dead | wc -w)))" "$T/out" "the reconstructed index counts the live messages"
[ "$(ls "$dir" | grep -c 'xapiary.cache')" = 1 ] && pass "one cache file after the reconstruct" \
    || fail "one cache file after the reconstruct" "$(ls "$dir")"

done_testing
