#!/bin/sh
# The query language as users of notmuch and mu expect it (issue 15), on
# mail made here: operators in any case, *, fields in any case and over
# groups, addresses and domains matched as addresses, recipient: against
# to:, dates of every form, mailbox: by the name the user sees, errors
# naming the position, xsearch's arguments, and a long OR query.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

# count QUERY WANT: xsearch --count for user q
count() {
    local got
    got=$("$XSEARCH" -u q --count "$1" 2> "$T/err")
    if [ "$got" = "$2" ]; then pass "count '$1' = $2"; else fail "count '$1' = $2" "got '$got' $(cat "$T/err")"; fi
}

# msg FILE FROM TO CC DATE SUBJECT BODY
msg() {
    printf 'From: %s\nTo: %s\nCc: %s\nDate: %s\nSubject: %s\nMessage-ID: <%s@t0110>\n\n%s\n' \
        "$2" "$3" "$4" "$5" "$6" "$1" "$7" > "$T/$1"
}

# A day, three days ago, at noon local time: far from any midnight.
three=$(date -R -d "$(date -d '3 days ago' +%F) 12:00")
msg m1 'Alice <alice@kernel.org>' 'ilug@linux.ie' '' 'Wed, 18 Nov 2009 10:00:00 +0000' \
    'kernel release' 'zebra one'
msg m2 'Bob <bob@mail.kernel.org>' 'social@linux.ie' 'ilug@linux.ie' 'Tue, 17 Nov 2009 10:00:00 +0000' \
    'and or not' 'zebra two'
msg m3 'Carol <carol@kernel.crashing.org>' 'x@example.com' '' 'Mon, 01 Feb 2010 10:00:00 +0000' \
    'crashing' 'three'
msg m4 'Kernel Org <dave@linux-kernel.org>' 'y@example.com' '' 'Fri, 31 Dec 2010 10:00:00 +0000' \
    'display name kernel.org' 'four'
msg m5 'Eve <eve@example.com>' 'Group: ilug@linux.ie, z@example.com;' '' "$three" \
    'recent' 'five kernel.org'
# to:ilug@linux.ie must not find this one (all three words are in its To)
msg m6 'Frank <frank@example.net>' 'ilug <social@linux.ie>' '' 'Sat, 15 Mar 2008 10:00:00 +0000' \
    'list' 'six'

expect_exit 0 "create user.q" "$MBCTL" create user.q
expect_exit 0 "create user.q.lkml" "$MBCTL" create user.q.lkml
expect_exit 0 "create user.q.lkml.sub" "$MBCTL" create user.q.lkml.sub
expect_exit 0 "create user.q.Archive" "$MBCTL" create user.q.Archive
expect_exit 0 "create user.q.Archive.2019" "$MBCTL" create user.q.Archive.2019
(cd "$T" && "$MBCTL" append user.q m1 > /dev/null && "$MBCTL" append user.q.lkml m2 m3 > /dev/null &&
    "$MBCTL" append user.q.lkml.sub m4 > /dev/null && "$MBCTL" append user.q.Archive.2019 m5 > /dev/null &&
    "$MBCTL" append user.q.Archive m6 > /dev/null) \
    && pass "append" || fail "append"
expect_exit 0 "index" "$SQUATTER" -u q

# operators in any case; quoted, they are words
count '*' 6
count '* -zebra' 4
count 'zebra or three' 3
count 'zebra and two' 1
count 'zebra Not two' 1
count 'from:alice or from:carol' 2
count 'subject:"and"' 1
count '"or" "not"' 1
# field names in any case, a field over a group
count 'Subject:kernel' 2
count 'SUBJECT:(release OR crashing)' 2
count 'subject:(kernel -release)' 1
# addresses: exact, never another at the same domain
count 'to:ilug@linux.ie' 2      # m5 has it inside a group
count 'to:ILUG@Linux.IE' 2
count 'to:social@linux.ie' 2
count 'recipient:ilug@linux.ie' 3
count 'cc:ilug@linux.ie' 1
# domains: the domain or below it, nothing else (not kernel.crashing.org,
# linux-kernel.org, a display name or the body)
count 'from:kernel.org' 2
count 'from:@kernel.org' 2
count 'from:mail.kernel.org' 1
count 'from:crashing.org' 1
count 'to:linux.ie' 4
count 'recipient:linux.ie' 4
# a bare word with '.' is a phrase, as in notmuch: body and subject too
count 'kernel.org' 4
count 'from:"kernel org"' 3   # a quoted phrase is text: the display name too
# dates of every form
count 'date:2009' 2
count 'date:2009-11' 2
count 'date:2009-11-18' 1
count 'date:2009..2010-02' 3
count 'date:2010-02-01..2010' 2
count 'date:2010..' 3
count 'date:..2009-11-17' 2
count 'date:3d' 1
count 'date:1w..' 1
count 'date:..1w' 5
count 'date:1y..' 1
count 'date:today' 0
count 'date:yesterday..today' 0
# mailbox: by the name the user sees, in full, and a subtree
count 'mailbox:INBOX' 1
count 'mailbox:inbox' 1
count 'mailbox:lkml' 2
count 'mailbox:lkml*' 3
count 'mailbox:INBOX/lkml' 2
count 'mailbox:lkml/sub' 1
count 'mailbox:Archive/2019' 1
count 'mailbox:Archive.2019' 1
count 'mailbox:user.q.Archive.2019' 1
count 'mailbox:Archive*' 2
count 'mailbox:INBOX*' 6
expect_exit 66 "an unknown mailbox is an error" "$XSEARCH" -u q --count 'mailbox:nosuch'
expect_grep "mailbox:nosuch" "$T/err" "the error names the mailbox"
expect_exit 66 "another user's mailbox is unknown" "$XSEARCH" -u q --count 'mailbox:user.other'

# errors name the position and the reason
expect_exit 64 "an impossible date" "$XSEARCH" -u q --count 'zebra date:2002-02-30'
expect_grep "position 20: date: '2002-02-30': February 2002 has 28 days" "$T/err" "it names the position and the reason"
expect_exit 64 "a malformed date" "$XSEARCH" -u q --count 'date:2009-1'
expect_grep "position 6: date: '2009-1' is not a date" "$T/err" "it names the position"
expect_exit 64 "an unbalanced group" "$XSEARCH" -u q --count 'subject:(a OR b'
expect_grep "position 16: ')' expected to close the '(' at position 9" "$T/err" "it names both positions"
expect_exit 64 "a closing parenthesis too many" "$XSEARCH" -u q --count 'a b)'
expect_grep "position 4: unexpected ')'" "$T/err" "it names the position"
expect_exit 64 "an unknown field" "$XSEARCH" -u q --count 'zebra Sender:alice'
expect_grep "position 7: unknown field 'Sender:'" "$T/err" "it names the position and the field"

# xsearch's arguments
expect_exit 64 "--limit -1" "$XSEARCH" -u q --limit -1 zebra
expect_grep "not a number" "$T/err" "a negative limit is refused"
expect_exit 64 "--limit too large" "$XSEARCH" -u q --limit 99999999999999999999999 zebra
expect_grep "too large" "$T/err" "an out-of-range limit is refused"
expect_exit 64 "--offset -1" "$XSEARCH" -u q --offset -1 zebra
expect_exit 0 "--limit 1" "$XSEARCH" -u q --limit 1 zebra
[ "$(wc -l < "$T/out")" -eq 1 ] && pass "--limit 1 gives one line" || fail "--limit 1" "$(cat "$T/out")"
expect_exit 0 "-word after the first word needs no --" "$XSEARCH" -u q --count zebra -two
[ "$(cat "$T/out")" = 1 ] && pass "zebra -two = 1" || fail "zebra -two" "$(cat "$T/out")"
expect_exit 0 "-- before a query that starts with -word" "$XSEARCH" -u q --count -- -two zebra
[ "$(cat "$T/out")" = 1 ] && pass "-- -two zebra = 1" || fail "-- -two zebra" "$(cat "$T/out")"
expect_exit 64 "a long option after the query" "$XSEARCH" -u q zebra --count
expect_grep "options go before the query" "$T/err" "it says why"
expect_exit 0 "--help" "$XSEARCH" --help
for form in 'recipient:' 'To header only' 'date:2w' 'mailbox:lkml\*' 'and, or, not' 'field:(a OR b)' \
    'xsearch -u bob -- -cifs'; do
    expect_grep "$form" "$T/out" "--help documents $form"
done

# 2,000 words ORed, most of them absent from the index: the right count
# (this took minutes when each absent term cost a pass over the others)
words=$(i=0; while [ $i -lt 2000 ]; do printf 'absent%d OR ' $i; i=$((i + 1)); done)
count "${words}zebra" 2

done_testing
