#!/bin/sh
# mailbox: is a filter over the GUIDs with a live copy in the mailbox,
# found per database when the match starts (cwrap/xapian_guidset.cc): a
# set that is a good part of a database's GUIDs is walked along its GUID
# terms, a small one sought GUID by GUID.  Two tiers here, so that one
# query meets both ways: mailbox:small* (2 GUIDs) is sought in t2 (40
# documents) and walked in t1 (21); mailbox:INBOX is walked in both,
# mailbox:small sought in both.  A GUID indexed in both tiers (g3, copied
# after its first document was compacted) and queries that combine
# mailbox: with words, OR and NOT check what each way found.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

U=m W=mword
. "${top_srcdir:-$(dirname "$0")/..}/tests/tiers.sh"

# check QUERY WANT: WANT hits (one per live location)
check() {
    local got
    got=$(count "$1")
    [ "$got" = "$2" ] && pass "'$1': $2 hits" || fail "'$1': $got hits, not $2" "$(cat "$T/xs.err")"
}

expect_exit 0 "create user.m" "$MBCTL" create user.m
expect_exit 0 "create user.m.small" "$MBCTL" create user.m.small
expect_exit 0 "create user.m.small.sub" "$MBCTL" create user.m.small.sub
messages 60
i=1
while [ $i -le 40 ]; do "$MBCTL" append user.m "$T/g$i" > /dev/null; i=$((i + 1)); done
expect_exit 0 "index 40 messages" "$SQUATTER" -u m
expect_exit 0 "compact them into t2" "$SQUATTER" -z t2 -t t1 -u m
expect_exit 0 "copy g3 into small" "$MBCTL" append user.m.small "$T/g3"
expect_exit 0 "g45 into small.sub only" "$MBCTL" append user.m.small.sub "$T/g45"
i=41
while [ $i -le 60 ]; do
    [ $i -eq 45 ] || "$MBCTL" append user.m "$T/g$i" > /dev/null
    i=$((i + 1))
done
expect_exit 0 "index the copy and 20 more" "$SQUATTER" -u m
[ "$(wc -w < "$(find "$T/conf/user" -path "*user/m/xapianactive")")" -eq 2 ] \
    && pass "two databases: t1 and t2" || fail "not two databases" "$(active)"

# INBOX: 59 messages; g3 also in small; g45 only in small.sub
check "$W" 61
check 'mailbox:INBOX' 60
check 'mailbox:small' 2
check 'mailbox:small/sub' 1
check 'mailbox:small*' 3
check 'mailbox:INBOX*' 61
check 'mailbox:INBOX number3' 2
check 'mailbox:INBOX number45' 0
check 'mailbox:INBOX number50' 1
check 'mailbox:INBOX AND NOT number3' 58
check "$W AND NOT mailbox:INBOX" 1
check "$W AND NOT mailbox:small*" 58
check 'number45 OR mailbox:small' 3
check 'mailbox:small* AND (number3 OR number45 OR number7)' 3
check 'mailbox:small OR mailbox:small/sub' 3
for sort in newest oldest relevance; do
    "$XSEARCH" -u m -s "$sort" 'mailbox:small*' > "$T/s.$sort" 2>> "$T/xs.err"
    [ "$(cut -f1 "$T/s.$sort" | sort | tr '\n' ' ')" = "user.m user.m.small user.m.small.sub " ] \
        && pass "-s $sort: mailbox:small* lists g3's two copies and g45" \
        || fail "-s $sort: mailbox:small* lists" "$(cat "$T/s.$sort")"
done

done_testing
