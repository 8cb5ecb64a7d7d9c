#!/bin/sh
# Cron-friendly output (issue 16, point 9): `mbctl expire`, `mbctl
# recover` and the compaction (`squatter -z`) print nothing on success
# unless -v, and every line they write on stderr starts with the tool's
# name, on success with -v and on failure.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

echo "t2searchpartition-default: $T/search2" >> "$XAPIARY_CONFIG"
mkdir "$T/search2"    # no tool makes a search partition (README)

# silent DESCRIPTION COMMAND...: exits 0 with empty stdout and stderr.
silent() {
    local desc=$1
    shift
    expect_exit 0 "$desc: exit 0" "$@"
    if [ -s "$T/out" ] || [ -s "$T/err" ]; then
        fail "$desc: prints nothing" "stdout: $(cat "$T/out") stderr: $(cat "$T/err")"
    else
        pass "$desc: prints nothing"
    fi
}

# prefixed PROGRAM FILE DESCRIPTION: FILE is not empty and every line of
# it starts with "PROGRAM: ".
prefixed() {
    if [ ! -s "$2" ]; then
        fail "$3" "nothing on stderr"
    elif grep -v "^$1: " "$2" > "$T/bare"; then
        fail "$3" "lines without '$1: ': $(cat "$T/bare")"
    else
        pass "$3"
    fi
}

msg() {
    printf 'From: a@example.com\r\nTo: b@example.com\r\nSubject: cron %s\r\n' "$1"
    printf 'Message-ID: <cron-%s@example.com>\r\n\r\nbody %s\r\n' "$1" "$1"
}

expect_exit 0 "create user.cron" "$MBCTL" create user.cron
expect_exit 0 "create user.cron.sub" "$MBCTL" create user.cron.sub
for i in 1 2 3; do msg $i > "$T/m$i"; done
expect_exit 0 "append" "$MBCTL" append user.cron "$T/m1" "$T/m2" "$T/m3"
expect_exit 0 "index" "$SQUATTER" -u cron

# expire and recover, with nothing to do.
silent "expire" "$MBCTL" expire
silent "recover" "$MBCTL" recover
expect_exit 0 "expire -v" "$MBCTL" -v expire
prefixed mbctl "$T/err" "expire -v: every line starts with 'mbctl: '"
[ -s "$T/out" ] && fail "expire -v: nothing on stdout" "$(cat "$T/out")" \
                || pass "expire -v: nothing on stdout"

# expire after a rename whose process died: finishing it is part of a
# successful run, said only with -v.
XAPIARY_FAULT=rename.5 "$MBCTL" rename user.cron.sub user.cron.moved 2> /dev/null
expect_exit 0 "a deleted mailbox for a tombstone" "$MBCTL" delete user.cron.moved
silent "expire cleaning up a dead rename and a tombstone" "$MBCTL" expire -D 0
XAPIARY_FAULT=rename.5 "$MBCTL" rename user.cron user.cron2 2> /dev/null
expect_exit 0 "expire -v cleaning up a dead rename" "$MBCTL" -v expire
prefixed mbctl "$T/err" "expire -v: every line starts with 'mbctl: '"
expect_grep "1 dead renames cleaned up" "$T/err" "expire -v: says what it did"
expect_exit 0 "the user is whole under one name" "$MBCTL" status user.cron2

# The nightly compaction: -z of the previous tier with -B.
expect_exit 0 "index again" "$SQUATTER" -u cron2
silent "squatter -z t2 -t t1 -B" "$SQUATTER" -z t2 -t t1 -B
expect_exit 0 "squatter -z -v" "$SQUATTER" -v -z t2 -t t1 -B
prefixed squatter "$T/err" "squatter -z -v: every line starts with 'squatter: '"
XAPIARY_FAULT=compact.5 "$SQUATTER" -z t2 -t t1 2> /dev/null
silent "squatter -z after a killed compaction (cleans its debris)" \
    "$SQUATTER" -z t2 -t t1 -B

# A busy user is skipped with -B: 75, and the reason, prefixed.
touch "$T/go"
"$MBCTL" lock -x '$XAPIAN$cron2' sh -c "touch $T/held; while [ -e $T/go ]; do sleep 0.05; done" &
holder=$!
i=0; while [ ! -e "$T/held" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
expect_exit 75 "squatter -z -B: a busy user is skipped" "$SQUATTER" -z t2 -t t1 -B
prefixed squatter "$T/err" "the skip is said on stderr, prefixed"
rm -f "$T/go"
wait $holder

# Failures: every line prefixed, usage errors included.
expect_exit 78 "squatter -z to an unknown tier" "$SQUATTER" -z t9 -t t1
prefixed squatter "$T/err" "squatter -z error: every line starts with 'squatter: '"
expect_exit 64 "expire -D nonsense" "$MBCTL" expire -D soon
prefixed mbctl "$T/err" "usage error: every line starts with 'mbctl: '"
expect_exit 64 "squatter with a bad option" "$SQUATTER" --no-such-option
prefixed squatter "$T/err" "squatter usage error: every line starts with 'squatter: '"
chmod 000 "$T/conf"
if [ "$(id -u)" -ne 0 ]; then
    "$MBCTL" expire > "$T/out" 2> "$T/err"
    [ $? -ne 0 ] && pass "expire on an unreadable configdirectory fails" \
                 || fail "expire on an unreadable configdirectory fails"
    prefixed mbctl "$T/err" "expire error: every line starts with 'mbctl: '"
fi
chmod 755 "$T/conf"

done_testing
