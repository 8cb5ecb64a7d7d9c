#!/bin/sh
# mbctl move killed at each of its steps, on either side (docs/FAULTS.md
# "Moving a user"), then `mbctl recover` on both back ends: exactly one
# complete copy of the user, on the owner etcd names, with the same
# search answers as before the move and writable; nothing of it on the
# other back end.  Recover is run on the destination first for half the
# points and on the source first for the others: the order must not
# matter.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "$top_srcdir/tests/cluster.sh"

start_etcd 1
backend be1
backend be2
"$top_srcdir/scripts/samplemail" --seed 5 --count 12 --folders "$T/md" > /dev/null ||
    { echo "Bail out! samplemail failed"; exit 1; }

answers() {
    for q in the re invoice; do
        echo "== $q"
        XAPIARY_CONFIG="$T/$1.conf" "$XSEARCH" -u "$2" -s oldest -n 0 "$q" 2>&1
    done > "$3"
    $MBCTL -C "$T/$1.conf" list "user.$2*" >> "$3"
    $MBCTL -C "$T/$1.conf" status "user.$2" 2>&1 | grep -v '^partition' >> "$3"
}

# POINT, the side that dies there, and where the user must end.
n=0
for case in move.1:be1:be1 receive.1:be2:be1 receive.2:be2:be1 move.2:be2:be2 \
            receive.3:be2:be2 move.3:be1:be2 move.4:be1:be2 move.5:be1:be2; do
    point=${case%%:*}; rest=${case#*:}; side=${rest%%:*}; owner=${rest#*:}
    n=$((n + 1))
    u=k$n
    other=be1; [ $owner = be1 ] && other=be2
    $MBCTL -C "$T/be1.conf" create -s be1 "user.$u" > /dev/null &&
        $MBCTL -C "$T/be1.conf" import -r "user.$u" "$T/md" > /dev/null 2>&1 &&
        XAPIARY_CONFIG="$T/be1.conf" "$SQUATTER" -u "$u" || fail "$point: make $u"
    answers be1 "$u" "$T/before"
    XAPIARY_FAULT=$point $MBCTL -C "$T/be1.conf" move "$u" be2 > /dev/null 2> "$T/move.err"
    st=$?
    if [ $side = be1 ]; then
        [ $st -eq 137 ] && pass "$point: the mover killed" || fail "$point: the mover killed" "exit $st"
    else
        grep -q "fault point $point reached" "$T/move.err" && pass "$point: the receiver killed" ||
            fail "$point: the receiver killed" "exit $st: $(cat "$T/move.err")"
    fi
    if [ $((n % 2)) -eq 0 ]; then order="be2 be1"; else order="be1 be2"; fi
    for b in $order; do
        expect_exit 0 "$point: recover on $b" $MBCTL -C "$T/$b.conf" recover
    done
    [ "$($MBCTL -C "$T/be1.conf" where "$u")" = $owner ] && pass "$point: etcd names $owner" ||
        fail "$point: etcd names $owner" "$(etcd_get "/xapiary/users/$u")"
    [ -z "$(debris $other "$u")" ] && pass "$point: nothing of $u on $other" ||
        fail "$point: nothing of $u on $other" "$(debris $other "$u")"
    answers $owner "$u" "$T/after"
    cmp -s "$T/before" "$T/after" && pass "$point: $owner has $u whole: same answers" ||
        fail "$point: $owner has $u whole" "$(diff "$T/before" "$T/after")"
    expect_exit 0 "$point: $u verifies on $owner" $MBCTL -C "$T/$owner.conf" verify
    printf 'Subject: after %s\n\nx\n' "$point" > "$T/msg"
    expect_exit 0 "$point: $u writable on $owner" $MBCTL -C "$T/$owner.conf" append "user.$u" "$T/msg"
done

# etcd down: the move cannot start (exit 75) and changes nothing.
$MBCTL -C "$T/be1.conf" create -s be1 user.z > /dev/null || fail "create z"
stop_member 1
expect_exit 75 "etcd down: the move exits 75" $MBCTL -C "$T/be1.conf" move z be2
expect_exit 0 "etcd down: z still writable on be1" $MBCTL -C "$T/be1.conf" append user.z "$T/msg"
[ -z "$(debris be2 z)" ] && pass "etcd down: nothing of z on be2" || fail "etcd down: nothing on be2"
done_testing
