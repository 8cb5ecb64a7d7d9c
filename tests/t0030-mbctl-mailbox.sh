#!/bin/sh
# mbctl on real mail: create, append, import, status, list, expunge,
# verify, corruption and reconstruct, delete, bad input.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

CORPUS="${XAPIARY_CORPUS:-$top_srcdir/../shared/corpus}/notmuch"

expect_exit 0 "create user.alice" "$MBCTL" create user.alice
expect_exit 73 "create again is EX_CANTCREAT" "$MBCTL" create user.alice
expect_grep "user.alice: Mailbox already exists" "$T/err" "error names mailbox and cause"
expect_exit 64 "bad name is EX_USAGE" "$MBCTL" create 'user..alice'
expect_grep "Invalid mailbox name" "$T/err" "bad name says why"
[ ! -e "$T/spool" ] || [ -z "$(find "$T/spool" -name '*..*')" ] && pass "bad name touched no file" \
    || fail "bad name created files"
expect_exit 66 "status of a missing mailbox is EX_NOINPUT" "$MBCTL" status user.nobody
expect_grep "user.nobody: Mailbox does not exist" "$T/err" "missing mailbox is named"

printf 'From: a@example.com\nSubject: one\n\nbody one\n' > "$T/m1"
printf 'From: b@example.com\nSubject: two\n\nbody two\n' > "$T/m2"
expect_exit 0 "append two files" "$MBCTL" append user.alice "$T/m1" "$T/m2"
[ "$(cat "$T/out")" = "$(printf '1\n2')" ] && pass "append prints the UIDs" \
    || fail "append output" "$(cat "$T/out")"
expect_exit 0 "append from stdin" sh -c "\"$MBCTL\" append user.alice < \"$T/m1\""
expect_exit 0 "status" "$MBCTL" status user.alice
expect_grep "^messages: 3$" "$T/out" "status messages"
expect_grep "^uidnext: 4$" "$T/out" "status uidnext"
expect_grep "^uidvalidity: [1-9]" "$T/out" "status uidvalidity"
expect_grep "^highestmodseq: [1-9]" "$T/out" "status highestmodseq"
expect_grep "^unseen: 3$" "$T/out" "status unseen"

expect_exit 0 "expunge UID 2" "$MBCTL" expunge user.alice 2
expect_exit 0 "status after expunge" "$MBCTL" status user.alice
expect_grep "^messages: 2$" "$T/out" "expunged message is gone"
expect_exit 66 "expunge of a missing UID fails" "$MBCTL" expunge user.alice 99
expect_exit 64 "expunge of a non-number fails" "$MBCTL" expunge user.alice x

if [ -d "$CORPUS" ]; then
    n=$(ls "$CORPUS/lkml/cur" | wc -l)
    expect_exit 0 "import a Maildir" "$MBCTL" -v import user.lkml "$CORPUS/lkml"
    expect_grep "imported $n messages" "$T/err" "-v reports progress and the count"
    expect_exit 0 "status of the import" "$MBCTL" status user.lkml
    expect_grep "^messages: $n$" "$T/out" "every message imported"
    expect_exit 0 "import -r a directory of Maildirs" "$MBCTL" import -r user.corpus "$CORPUS"
    expect_exit 0 "list" "$MBCTL" list 'user.corpus*'
    expect_grep "^user.corpus.broken$" "$T/out" "child mailbox per folder"
    expect_grep "^user.corpus.html$" "$T/out" "html folder imported"
    expect_exit 0 "verify everything" "$MBCTL" verify
else
    pass "# SKIP corpus not found"
fi

# mbox import
printf 'From a@b Mon Jan  1 00:00:00 2024\nSubject: m1\n\n>From quoted\n\nFrom a@b Mon Jan  1 00:00:01 2024\nSubject: m2\n\nbody\n' > "$T/mbox"
expect_exit 0 "import an mbox" "$MBCTL" import user.mbox "$T/mbox"
expect_exit 0 "status of the mbox import" "$MBCTL" status user.mbox
expect_grep "^messages: 2$" "$T/out" "mbox split into two messages"
expect_exit 65 "import of a non-mbox file fails" "$MBCTL" import user.mbox2 "$T/m1"

# corruption: verify finds it, reconstruct repairs it
idx=$(find "$T/spool" -path '*alice*' -name xapiary.index | head -1)
printf '\377' | dd of="$idx" bs=1 seek=150 conv=notrunc 2>/dev/null
expect_exit 65 "verify finds a corrupt record" "$MBCTL" verify user.alice
expect_grep "checksum" "$T/err" "verify says checksum"
expect_exit 0 "reconstruct repairs" "$MBCTL" reconstruct user.alice
expect_exit 0 "verify after reconstruct" "$MBCTL" verify user.alice
expect_exit 0 "status after reconstruct" "$MBCTL" status user.alice
expect_grep "^messages: 2$" "$T/out" "no message lost"
: > "$idx"
expect_exit 65 "a truncated index cannot be opened" "$MBCTL" status user.alice
expect_exit 0 "reconstruct a truncated index" "$MBCTL" reconstruct user.alice
expect_exit 0 "verify after second reconstruct" "$MBCTL" verify user.alice

expect_exit 0 "delete" "$MBCTL" delete user.alice
expect_exit 66 "deleted mailbox is gone" "$MBCTL" status user.alice
[ -z "$(find "$T/spool" -path '*alice*' -type f)" ] && pass "no files left" \
    || fail "files left" "$(find "$T/spool" -path '*alice*' -type f)"
expect_exit 0 "recreate after delete" "$MBCTL" create user.alice

done_testing
