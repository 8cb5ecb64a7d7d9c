#!/bin/sh
# Message access from a search: xsearch --output=files prints one path per
# hit, each a file that holds the term; mbctl cat prints a message byte for
# byte; xsearch --json shows a hit's details (search.h "Hit details").
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

if ! command -v python3 > /dev/null; then
    pass "# SKIP no python3 (scripts/deps installs it)"
    done_testing
    exit
fi

python3 "$top_srcdir/scripts/samplemail" --seed 250 --count 300 "$T/mail" 2> /dev/null
expect_exit 0 "import sample mail" "$MBCTL" import user.f "$T/mail"
expect_exit 0 "index it" "$SQUATTER" -u f

# files TERM GREP: every path --output=files prints for TERM names a file
# in the spool that contains GREP, and there are as many as --count says.
files() {
    local n bad=0 want
    want=$("$XSEARCH" -u f --count "$1")
    expect_exit 0 "--output=files $1" "$XSEARCH" -u f --output=files "$1"
    n=$(grep -c . "$T/out")
    while read -r p; do
        case "$p" in "$T/spool/"*) ;; *) bad=1 ;; esac
        grep -qi -- "$2" "$p" || bad=1
    done < "$T/out"
    if [ "$n" -gt 0 ] && [ "$n" = "$want" ] && [ $bad = 0 ]; then
        pass "$n paths for $1, each a spool file containing $2"
    else
        fail "$n paths for $1, each a spool file containing $2" "count $want; $(head -3 "$T/out")"
    fi
}
files 'subject:backlog' 'backlog'
files 'from:tanaka@example.jp' 'tanaka@example.jp'

# the same as notmuch: nothing else on the line, one line per hit
expect_exit 0 "--output=files with --limit" "$XSEARCH" -u f --output=files --limit 2 '*'
[ "$(grep -c . "$T/out")" = 2 ] && pass "--limit applies" || fail "--limit applies" "$(cat "$T/out")"
p=$(head -1 "$T/out")
expect_exit 64 "--output=files and --json are exclusive" "$XSEARCH" -u f --json --output=files x
expect_exit 64 "--output=nonsense is a usage error" "$XSEARCH" -u f --output=nonsense x
expect_grep "xsearch: --output: 'nonsense'" "$T/err" "... naming the value"

# mbctl cat: the stored bytes
uid=$(basename "$p" .)
"$MBCTL" cat user.f "$uid" > "$T/cat" 2> "$T/err"
if cmp -s "$T/cat" "$p"; then pass "mbctl cat prints the message byte for byte"; \
    else fail "mbctl cat prints the message byte for byte" "$(cat "$T/err")"; fi
expect_exit 0 "expunge it" "$MBCTL" expunge user.f "$uid"
expect_exit 66 "mbctl cat of an expunged UID" "$MBCTL" cat user.f "$uid"
expect_grep "mbctl: user.f UID $uid: .*no such message" "$T/err" "... says so"
expect_exit 66 "mbctl cat of an unknown mailbox" "$MBCTL" cat user.nobody 1
expect_exit 64 "mbctl cat of a bad UID" "$MBCTL" cat user.f 0
expect_exit 64 "mbctl cat without a UID" "$MBCTL" cat user.f

# --json carries the details of the live location
expect_exit 0 "--json" "$XSEARCH" -u f --json --limit 1 'from:tanaka@example.jp'
for k in to cc message_id in_reply_to size internaldate flags keywords path; do
    expect_grep "\"$k\":" "$T/out" "--json has $k"
done
expect_grep '"message_id": "<' "$T/out" "... and the Message-ID as in the header"

done_testing
