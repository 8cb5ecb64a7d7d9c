#!/bin/sh
# squatter commits every search_batchsize messages: a run killed after its
# first batch leaves that batch (documents and indexed state) committed and
# the rest unindexed, and the next run resumes there and indexes every
# message exactly once, copies across batches and mailboxes included.
# This is the single writer (-j 1); t0077 splits a backlog between writers.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

echo "search_batchsize: 3" >> "$T/xapiary.conf"

# msg FILE N WORD: a message with its own Message-ID and a unique word
msg() {
    printf 'From: m%d@example.com\nSubject: batch test %d\nMessage-ID: <m%d.%s@example.com>\n\n%s uniq%s%d\n' \
        "$2" "$2" "$2" "$3" "$3" "$3" "$2" > "$T/$1"
}

# count USER QUERY WANT
count() {
    local got
    got=$("$XSEARCH" -u "$1" --count "$2" 2> "$T/err")
    if [ "$got" = "$3" ]; then pass "$1: count '$2' = $3"; else fail "$1: count '$2' = $3" "got '$got' $(cat "$T/err")"; fi
}

# user k: 7 messages in INBOX, 2 in a folder plus a copy of INBOX's first
# (same bytes, same GUID): batches of 3 are INBOX 1-3 | 4-6 | 7, sub 1-2 | sub 3
expect_exit 0 "create user.k" "$MBCTL" create user.k
expect_exit 0 "create user.k.sub" "$MBCTL" create user.k.sub
for i in 1 2 3 4 5 6 7; do msg "k$i" $i kword; done
msg s1 8 sword
msg s2 9 sword
(cd "$T" && "$MBCTL" append user.k k1 k2 k3 k4 k5 k6 k7 > /dev/null)
(cd "$T" && "$MBCTL" append user.k.sub s1 s2 k1 > /dev/null)

XAPIARY_FAULT=index.batch.2 "$SQUATTER" -j 1 -u k 2> "$T/err"; rc=$?
[ $rc -eq 137 ] && pass "killed after the first batch's commit" \
                || fail "killed at index.batch.2: exit $rc" "$(cat "$T/err")"
expect_exit 1 "audit after the kill (exit 1: it reported)" "$SQUATTER" -A -u k
expect_grep "^Unindexed message(s) in user.k: 4 5 6 7$" "$T/out" "INBOX resumes after the first batch"
expect_grep "^Unindexed message(s) in user.k.sub: 1 2 3$" "$T/out" "the folder is untouched"
[ "$(wc -l < "$T/out")" -eq 2 ] && pass "audit lists two mailboxes" \
                                || fail "audit lists two mailboxes" "$(cat "$T/out")"
# INBOX 1-3, and the folder's copy of 1 (a hit shows every location of its GUID)
count k kword 4
count k uniqkword3 1
count k uniqkword4 0

expect_exit 0 "the next run" "$SQUATTER" -j 1 -v -u k
expect_grep " 6 indexed .* 1 already indexed (copies), 0 vanished, 3 batches" "$T/err" \
    "it resumes: 6 documents, the copy only marked, 3 batches of at most 3"
expect_exit 0 "audit after the resumed run" "$SQUATTER" -A -u k
[ -s "$T/out" ] && fail "audit silent after the resumed run" "$(cat "$T/out")" \
                || pass "audit silent after the resumed run"
# one location per message: a document written twice would show twice
count k kword 8
count k sword 2
for i in 1 2 3 4 5 6 7; do
    want=1
    [ $i -eq 1 ] && want=2      # INBOX 1 and its copy in the folder
    count k "uniqkword$i" $want
done
count k uniqsword8 1
count k uniqsword9 1
expect_exit 0 "json of the copied message" "$XSEARCH" -u k --json uniqkword1
[ "$(grep '"guid"' "$T/out" | sort -u | wc -l)" -eq 1 ] \
    && pass "the copy shares one GUID" || fail "the copy shares one GUID" "$(cat "$T/out")"
expect_exit 0 "a run with nothing new" "$SQUATTER" -j 1 -v -u k
expect_grep " 0 indexed .* 0 batches" "$T/err" "nothing new: no batch"

# user j: killed before the first commit: nothing indexed, all resumed
expect_exit 0 "create user.j" "$MBCTL" create user.j
for i in 1 2 3 4 5; do msg "j$i" $i jword; done
(cd "$T" && "$MBCTL" append user.j j1 j2 j3 j4 j5 > /dev/null)
XAPIARY_FAULT=index.batch.1 "$SQUATTER" -j 1 -u j 2> "$T/err"; rc=$?
[ $rc -eq 137 ] && pass "killed inside the first batch" \
                || fail "killed at index.batch.1: exit $rc" "$(cat "$T/err")"
expect_exit 1 "audit after the kill (exit 1: it reported)" "$SQUATTER" -A -u j
expect_grep "^Unindexed message(s) in user.j: 1 2 3 4 5$" "$T/out" "the killed batch is not indexed"
expect_exit 0 "the next run" "$SQUATTER" -j 1 -v -u j
expect_grep " 5 indexed .* 2 batches" "$T/err" "5 documents in 2 batches"
count j jword 5

# appended between runs: a new batch after the indexed UIDs
msg j6 6 jword
(cd "$T" && "$MBCTL" append user.j j6 > /dev/null)
expect_exit 0 "an incremental run" "$SQUATTER" -j 1 -v -u j
expect_grep " 1 indexed .* 1 batches" "$T/err" "only the new message"
count j jword 6
count j uniqjword6 1

# A run with nothing new reads no record: the indexed state covers every
# UID the mailbox ever gave, the expunged ones and those before the first
# record included, so the mailbox counts as unchanged.
expect_exit 0 "create user.g" "$MBCTL" create user.g
for i in 1 2 3 4 5; do msg "g$i" $i gword; done
(cd "$T" && "$MBCTL" append user.g g1 g2 g3 g4 g5 > /dev/null)
expect_exit 0 "expunge UIDs 1 and 4 before they are indexed" "$MBCTL" expunge user.g 1 4
expect_exit 0 "index user.g" "$SQUATTER" -j 1 -v -u g
expect_grep " 3 indexed .* 0 mailbox(es) unchanged" "$T/err" "the three live messages are indexed"
expect_exit 0 "again, nothing new" "$SQUATTER" -j 1 -v -u g
expect_grep " 0 indexed .* 1 mailbox(es) unchanged" "$T/err" "nothing new: the mailbox is not read"
msg g6 6 gword
(cd "$T" && "$MBCTL" append user.g g6 > /dev/null)
expect_exit 0 "a new message" "$SQUATTER" -j 1 -v -u g
expect_grep " 1 indexed .* 0 mailbox(es) unchanged" "$T/err" "a new message is read and indexed"
expect_exit 0 "again" "$SQUATTER" -j 1 -v -u g
expect_grep " 0 indexed .* 1 mailbox(es) unchanged" "$T/err" "unchanged again"
count g gword 4
expect_exit 0 "audit user.g" "$SQUATTER" -A -u g
[ -s "$T/out" ] && fail "audit silent for user.g" "$(cat "$T/out")" || pass "audit silent for user.g"

done_testing
