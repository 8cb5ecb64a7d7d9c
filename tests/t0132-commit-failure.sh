#!/bin/sh
# A commit that fails for want of space: the command reports it and
# exits 74 (EX_IOERR), never aborts (134); the mailbox keeps what was
# committed before, `mbctl verify` passes, and once there is room again
# the same import succeeds.  Two ways to run out: a file size limit
# (ulimit -f, writes past it fail with EFBIG; anyone can set it), and,
# when this runs as root and may mount, a real full disk: a small tmpfs
# as the spool.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

# mbox N FILE: N messages, each with a 2 KB header field that the cache
# keeps (the subject), so the cache file grows fast.
mbox() {
    pad=$(head -c 1500 /dev/zero | tr '\0' 'p')
    i=1
    while [ "$i" -le "$1" ]; do
        printf 'From sender@example.com Mon Nov  2 10:00:00 2026\n'
        printf 'From: s%d@example.com\nTo: r@example.com\nSubject: fill %d %s\n' "$i" "$i" "$pad"
        printf 'Message-ID: <fill%d@example.com>\n\nbody %d\n\n' "$i" "$i"
        i=$((i + 1))
    done > "$2"
}

msgs() { "$MBCTL" status "$1" | sed -n 's/^messages: //p'; }

# after NAME MAILBOX RC: the checks after a failed import of MAILBOX
after() {
    [ "$3" -eq 74 ] && pass "$1: the import fails with exit 74" \
                    || fail "$1: the import fails with exit 74" "exit $3: $(tail -5 "$T/imp.err")"
    expect_grep "$2" "$T/imp.err" "$1: the error names the mailbox"
    grep -qi "no space\|too large\|I/O error\|input/output" "$T/imp.err" \
        && pass "$1: the error says why" || fail "$1: the error says why" "$(tail -5 "$T/imp.err")"
    expect_exit 0 "$1: mbctl verify passes" "$MBCTL" verify "$2"
    expect_exit 0 "$1: mbctl status works" "$MBCTL" status "$2"
    before=$(msgs "$2")
    [ "$before" = 5 ] && pass "$1: the 5 messages committed before are there" \
                      || fail "$1: the 5 messages committed before are there" "$("$MBCTL" status "$2")"
}

# again NAME MAILBOX: with room again, the same import succeeds, and
# every message is there once (the 5 of small.mbox committed before are
# the first 5 of big.mbox, byte for byte: the import skips them by GUID)
again() {
    expect_exit 0 "$1: the import again, with room" "$MBCTL" import "$2" "$T/big.mbox"
    expect_exit 0 "$1: verify after it" "$MBCTL" verify "$2"
    got=$(msgs "$2")
    [ "$got" -eq 400 ] && pass "$1: every message there, once ($got)" \
        || fail "$1: every message there, once" "$got, want 400"
    expect_exit 0 "$1: squatter indexes it" "$SQUATTER" -u "$3"
    got=$("$XSEARCH" -u "$3" --count fill 2>&1)
    [ "$got" = 400 ] && pass "$1: every message found" \
        || fail "$1: every message found" "$got, want 400"
}

# --- a file size limit
mbox 400 "$T/big.mbox"
mbox 5 "$T/small.mbox"
expect_exit 0 "create user.f" "$MBCTL" create user.f
expect_exit 0 "ulimit -f: 5 messages first" "$MBCTL" import user.f "$T/small.mbox"
(trap '' XFSZ; ulimit -f 200; exec "$MBCTL" import user.f "$T/big.mbox") \
    > "$T/imp.out" 2> "$T/imp.err"
after "ulimit -f" user.f $?
again "ulimit -f" user.f f

# --- a real full disk: a 4 MB tmpfs, mostly taken by a filler file
# (a file takes at least a 4 KB page there: 400 messages need 2.5 MB)
M="$T/small"
mkdir -p "$M"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=4m tmpfs "$M" 2> /dev/null; then
    trap 'umount "$M" 2> /dev/null; rm -rf "$T"' EXIT
    printf 'partition-small: %s\nt1searchpartition-small: %s\n' "$M" "$T/search" >> "$XAPIARY_CONFIG"
    expect_exit 0 "create user.d on a 4 MB tmpfs" "$MBCTL" create -p small user.d
    expect_exit 0 "full disk: 5 messages first" "$MBCTL" import user.d "$T/small.mbox"
    head -c 3700000 /dev/zero > "$M/filler"
    "$MBCTL" import user.d "$T/big.mbox" > "$T/imp.out" 2> "$T/imp.err"
    after "full disk" user.d $?
    expect_grep "No space" "$T/imp.err" "full disk: the error is ENOSPC"
    expect_exit 0 "full disk: squatter indexes what was committed" "$SQUATTER" -u d
    got=$("$XSEARCH" -u d --count fill 2>&1)
    [ "$got" = "$before" ] && pass "full disk: every committed message found ($got)" \
                           || fail "full disk: every committed message found" "$got, want $before"
    rm -f "$M/filler"
    again "full disk" user.d d
    umount "$M"
else
    pass "# SKIP a real full disk needs root and a tmpfs mount"
fi

done_testing
