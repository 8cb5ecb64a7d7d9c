#!/bin/sh
# Placement and routing in a cluster (docs/SCALING.md): creates without a
# back end spread users by the documented rule, xsearch on a back end
# that is not the owner forwards through backend_shell with the same
# output and exit status, xap_search_open() says XAP_IMAP_MAILBOX_REMOTE, lmtpd
# answers 451 4.2.0 naming the owner.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "$top_srcdir/tests/cluster.sh"

start_etcd 1
backend be1
backend be2
backend be3
M1="$MBCTL -C $T/be1.conf"
M2="$MBCTL -C $T/be2.conf"
M3="$MBCTL -C $T/be3.conf"
# Every back end registered, with no users yet.
for b in be1 be2 be3; do $MBCTL -C "$T/$b.conf" register || fail "register $b"; done

# Fewest users first: six creates from be1 give each back end two.
for u in p1 p2 p3 p4 p5 p6; do
    $M1 create "user.$u" 2>> "$T/place.err" || fail "placed create user.$u" "$(cat "$T/place.err")"
done
counts=""
for b in be1 be2 be3; do
    counts="$counts $($MBCTL -C "$T/$b.conf" list 'user.p*' | wc -l)"
done
[ "$counts" = " 2 2 2" ] && pass "placement: 2 users on each of 3 back ends" ||
    fail "placement: 2 users on each of 3 back ends" "counts:$counts"
for u in p1 p2 p3 p4 p5 p6; do
    w=$($M3 where "$u")
    [ "$($MBCTL -C "$T/$w.conf" list "user.$u")" = "user.$u" ] ||
        fail "where $u says $w, which does not have it"
done
pass "where names the back end that has each placed user"

# Forwarded search: bob on be2, searched from be1 and be3.
expect_exit 0 "create user.bob on be2" $M2 create -s be2 user.bob
for i in 1 2 3; do
    printf 'From: a@example.org\nSubject: hello %s "quoted"\n\nbody word%s it'"'"'s\n' $i $i |
        $M2 append user.bob > /dev/null || fail "append $i"
done
XAPIARY_CONFIG="$T/be2.conf" "$SQUATTER" -u bob || fail "squatter on be2"
XAPIARY_CONFIG="$T/be2.conf" "$XSEARCH" -u bob -s oldest hello > "$T/local.out" || fail "local search"
[ "$(wc -l < "$T/local.out")" -eq 3 ] && pass "the owner finds 3" || fail "the owner finds 3"
XAPIARY_CONFIG="$T/be1.conf" "$XSEARCH" -u bob -s oldest hello > "$T/fwd.out" 2> "$T/fwd.err"
st=$?
[ $st -eq 0 ] && cmp -s "$T/local.out" "$T/fwd.out" && pass "be1 forwards: same output" ||
    fail "be1 forwards: same output" "exit $st; $(cat "$T/fwd.err"; diff "$T/local.out" "$T/fwd.out")"
XAPIARY_CONFIG="$T/be2.conf" "$XSEARCH" -u bob --json 'subject:"hello 2"' > "$T/local.json"
XAPIARY_CONFIG="$T/be3.conf" "$XSEARCH" -u bob --json 'subject:"hello 2"' > "$T/fwd.json"
cmp -s "$T/local.json" "$T/fwd.json" && grep -q '"total": 1' "$T/fwd.json" &&
    pass "a quoted phrase arrives whole (--json, same answer)" ||
    fail "a quoted phrase arrives whole" "$(cat "$T/fwd.json")"
XAPIARY_CONFIG="$T/be1.conf" "$XSEARCH" -u bob --count -- -hello > "$T/neg.out"
[ "$(cat "$T/neg.out")" = 0 ] && pass "a query starting with -word is forwarded as one" ||
    fail "a query starting with -word" "$(cat "$T/neg.out")"
expect_exit 64 "a syntax error on the owner: its exit status" env XAPIARY_CONFIG="$T/be1.conf" "$XSEARCH" -u bob '(hello'
expect_grep "xsearch: " "$T/err" "... and its message"
# xap_search_open() on a back end that is not the owner: XAP_IMAP_MAILBOX_REMOTE
# (exit 73 from xsearch --here, which does not forward).
expect_exit 73 "xap_search_open on be1: lives on another server" env XAPIARY_CONFIG="$T/be1.conf" "$XSEARCH" --here -u bob hello
expect_grep "lives on another server" "$T/err" "... says so"
expect_exit 66 "a user no back end has: does not exist" env XAPIARY_CONFIG="$T/be1.conf" "$XSEARCH" -u nobody hello

# lmtpd on be1 for bob (on be2): 451 4.2.0 naming be2; for nobody: 550.
S="$T/lmtp.sock"
"$top_builddir/lmtpd" -C "$T/be1.conf" --listen "unix:$S" > /dev/null 2> "$T/lmtpd.log" &
lpid=$!
k=0
while ! grep -q "listening on" "$T/lmtpd.log" && [ $k -lt 200 ]; do sleep 0.05; k=$((k + 1)); done
rcpt bob nobody > "$T/lmtp.out"
kill -TERM $lpid; wait $lpid
expect_grep "^451 4.2.0 .*be2" "$T/lmtp.out" "lmtpd: 451 4.2.0 naming the owner"
expect_grep "^550 5.1.1" "$T/lmtp.out" "lmtpd: 550 for a user no back end has"
done_testing
