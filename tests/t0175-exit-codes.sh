#!/bin/sh
# Exit codes an operator can act on (issue 16, point 8): a mailbox whose
# files cannot be read fails squatter and squatter -A, naming it; a
# failed repack fails `mbctl expunge`.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

msg() {
    printf 'From: a@example.com\r\nTo: b@example.com\r\nSubject: exit %s\r\n' "$1"
    printf 'Message-ID: <exit-%s@example.com>\r\n\r\nbody %s\r\n' "$1" "$1"
}
for i in 1 2 3; do msg $i > "$T/m$i"; done

# A listed mailbox without its header file is damage, not a mailbox
# renamed away while squatter ran: exit not 0, the mailbox named.
expect_exit 0 "create user.ex" "$MBCTL" create user.ex
expect_exit 0 "create user.ex.sub" "$MBCTL" create user.ex.sub
expect_exit 0 "append" "$MBCTL" append user.ex.sub "$T/m1"
hdr=$(find "$T/spool" -path '*/ex/sub/xapiary.header')
rm "$hdr"
expect_exit 74 "squatter -u: a mailbox without its header fails" "$SQUATTER" -u ex
expect_grep "^squatter: user.ex.sub: .*cannot be read" "$T/err" "squatter -u names it"
expect_exit 74 "squatter (all users): fails" "$SQUATTER"
expect_grep "^squatter: user.ex.sub: " "$T/err" "squatter names it"
expect_exit 74 "squatter -A -u: fails, not 'nothing unindexed'" "$SQUATTER" -A -u ex
expect_grep "^squatter: user.ex.sub: .*cannot be read" "$T/err" "squatter -A names it"

# A repack that fails (here: a directory where its new cache file goes)
# fails the expunge that asked for it.
expect_exit 0 "create user.rp" "$MBCTL" create user.rp
expect_exit 0 "append two" "$MBCTL" append user.rp "$T/m2" "$T/m3"
dir=$(dirname "$(find "$T/spool" -path '*/rp/xapiary.header')")
gen=$(ls "$dir" | sed -n 's/^xapiary\.cache\.//p')
mkdir "$dir/xapiary.cache.$((gen + 1))"
touch "$dir/xapiary.cache.$((gen + 1))/x"
expect_exit 74 "expunge: the repack fails, so does the expunge" "$MBCTL" expunge user.rp 1
expect_grep "^mbctl: user.rp: .*repack failed" "$T/err" "expunge says the repack failed"
rm -r "$dir/xapiary.cache.$((gen + 1))"
expect_exit 0 "status after the obstacle is gone" "$MBCTL" status user.rp
expect_grep "^messages: 1" "$T/out" "the expunge itself stands"

done_testing
