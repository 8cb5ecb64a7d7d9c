#!/bin/sh
# A read-only spool or search tier (issue 16, point 8): readers (mbctl
# verify, squatter -A, xsearch) work on it; a writer fails with 77 (no
# permission), never 75 ("busy, retry"), which would have cron retry
# forever.  Read-only is made with file modes, as a user other than root
# when run by root (root ignores modes); skipped when that cannot be set up.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

msg() {
    printf 'From: a@example.com\r\nTo: b@example.com\r\nSubject: ro %s\r\n' "$1"
    printf 'Message-ID: <ro-%s@example.com>\r\n\r\nreadonly body %s\r\n' "$1" "$1"
}
for i in 1 2 3; do msg $i > "$T/m$i"; done
chmod 644 "$T"/m*

expect_exit 0 "create user.ro" "$MBCTL" create user.ro
expect_exit 0 "append" "$MBCTL" append user.ro "$T/m1"
expect_exit 0 "index" "$SQUATTER" -u ro

# as: runs a command as the user the modes apply to.
if [ "$(id -u)" -eq 0 ]; then
    if command -v setpriv > /dev/null && id nobody > /dev/null 2>&1; then
        as() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
        chmod 755 "$T"
        chown -R nobody "$T"
    else
        as() { return 1; }
    fi
else
    as() { "$@"; }
fi

chmod -R a-w "$T/spool"
# Skipped when that user can write anyway, or cannot run the tools (a
# build tree it may not read).
if as sh -c ": > '$T/spool/probe'" 2> /dev/null ||
   ! as "$MBCTL" --help > /dev/null 2>&1; then
    pass "# SKIP a read-only spool cannot be set up here"
    done_testing
    exit
fi

# The spool read-only.
expect_exit 0 "verify on a read-only spool" as "$MBCTL" verify
expect_exit 0 "verify of the mailbox on a read-only spool" as "$MBCTL" verify user.ro
expect_exit 0 "squatter -A on a read-only spool" as "$SQUATTER" -A
expect_exit 0 "xsearch on a read-only spool" as "$XSEARCH" -u ro readonly
expect_grep "user.ro" "$T/out" "and it finds the message"
expect_exit 77 "append to a read-only spool: no permission, not busy" \
    as "$MBCTL" append user.ro "$T/m2"
expect_grep "^mbctl: .*read-only" "$T/err" "append says the index is read-only"
chmod -R u+w "$T/spool"

# The search tier read-only.
expect_exit 0 "append with the spool writable again" as "$MBCTL" append user.ro "$T/m3"
chmod -R a-w "$T/search"
expect_exit 77 "squatter into a read-only tier: no permission, not busy" \
    as "$SQUATTER" -u ro
expect_grep "^squatter: .*read-only search tier" "$T/err" "squatter says the tier is read-only"
expect_exit 1 "squatter -A on a read-only tier reports the unindexed message" \
    as "$SQUATTER" -A -u ro
chmod -R u+w "$T/search"
expect_exit 0 "squatter once the tier is writable" as "$SQUATTER" -u ro

done_testing
