#!/bin/sh
# mbctl move between two back ends against a real etcd (docs/SCALING.md
# "Move a user"): the moved user gives the same answers on its new owner
# (and through forwarding), nothing of it is left on the old one; mail
# delivered during the move is deferred (451 4.2.0, exit 75) and taken
# after it; a stale mover (the key changed since it read it) loses the
# switch and the user stays whole where it was; a user the destination
# has already is not overwritten.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "$top_srcdir/tests/cluster.sh"

two_backends

"$top_srcdir/scripts/samplemail" --seed 11 --count 40 --folders "$T/md" > /dev/null ||
    { echo "Bail out! samplemail failed"; exit 1; }

# mkuser USER: USER on be1 with the sample mail, indexed.
mkuser() {
    $M1 create -s be1 "user.$1" > /dev/null &&
        $M1 import -r "user.$1" "$T/md" > /dev/null 2>&1 &&
        XAPIARY_CONFIG="$T/be1.conf" "$SQUATTER" -u "$1" || fail "make user $1 on be1"
}
# answers BACKEND USER FILE: what searches of USER on BACKEND say, and
# its mailboxes and INBOX counters.
answers() {
    for q in the re invoice meeting 'from:example.com'; do
        echo "== $q"
        XAPIARY_CONFIG="$T/$1.conf" "$XSEARCH" -u "$2" -s oldest -n 0 "$q" 2>&1
    done > "$3"
    $MBCTL -C "$T/$1.conf" list "user.$2*" >> "$3"
    $MBCTL -C "$T/$1.conf" status "user.$2" 2>&1 | grep -v '^partition' >> "$3"
}
# paused_move POINT USER DEST: starts a move of USER from be1 to DEST that
# stops at POINT (on either side); returns once it is there.
paused_move() {
    rm -f "$T/pause"
    XAPIARY_PAUSE="$1:$T/pause" $M1 move "$2" "$3" > "$T/move.out" 2> "$T/move.err" &
    mover=$!
    i=0
    while [ ! -e "$T/pause" ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i + 1)); done
    [ -e "$T/pause" ] && pass "move paused at $1" || fail "move paused at $1" "$(cat "$T/move.err")"
}

mkuser alice
answers be1 alice "$T/before"
[ "$(grep -c '^user\.alice' "$T/before")" -gt 1 ] &&
    [ "$(XAPIARY_CONFIG="$T/be1.conf" "$XSEARCH" -u alice -c the)" -gt 0 ] &&
    pass "alice has folders and finds mail on be1" || fail "alice on be1" "$(cat "$T/before")"
rev_before=$(python3 - "$ETCD_URL_1" <<'PY'
import base64, json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/v3/kv/range",
    data=json.dumps({"key": base64.b64encode(b"/xapiary/users/alice").decode()}).encode(),
    headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=5))["kvs"][0]["mod_revision"])
PY
)

expect_exit 0 "move alice to be2" $M1 -v move user.alice be2
expect_grep "not writable for" "$T/err" "-v says how long alice was not writable"
[ "$($M1 where alice)" = be2 ] && [ "$($M2 where alice)" = be2 ] &&
    pass "etcd says be2" || fail "etcd says be2"
etcd_get /xapiary/users/alice | grep -q "\"moved_at_revision\":$rev_before" &&
    pass "the switch names the revision the mover read" ||
    fail "the switch names the revision" "$(etcd_get /xapiary/users/alice)"
[ -z "$(debris be1 alice)" ] && pass "nothing of alice left on be1" ||
    fail "nothing of alice left on be1" "$(debris be1 alice)"
answers be2 alice "$T/after"
cmp -s "$T/before" "$T/after" && pass "be2 gives the same answers, mailboxes, counters" ||
    fail "be2 gives the same answers" "$(diff "$T/before" "$T/after")"
XAPIARY_CONFIG="$T/be1.conf" "$XSEARCH" -u alice -s oldest -n 0 the > "$T/fwd.out" 2>&1
XAPIARY_CONFIG="$T/be2.conf" "$XSEARCH" -u alice -s oldest -n 0 the > "$T/local.out" 2>&1
cmp -s "$T/fwd.out" "$T/local.out" && pass "a search on be1 is forwarded to be2: same output" ||
    fail "forwarded search" "$(diff "$T/local.out" "$T/fwd.out")"
expect_exit 0 "be2: alice verifies" $M2 verify
printf 'From: a@example.org\nSubject: after the move zebrafish\n\nbody\n' |
    $M2 append user.alice > /dev/null && XAPIARY_CONFIG="$T/be2.conf" "$SQUATTER" -u alice &&
    [ "$(XAPIARY_CONFIG="$T/be2.conf" "$XSEARCH" -u alice -c zebrafish)" = 1 ] &&
    pass "be2: alice takes mail and indexes it" || fail "be2: alice takes mail"

# Back again, from be2 (the switch value of the first move is replaced).
expect_exit 0 "move alice back to be1" $M2 move alice be1
[ "$($M2 where alice)" = be1 ] && [ -z "$(debris be2 alice)" ] &&
    [ "$(XAPIARY_CONFIG="$T/be1.conf" "$XSEARCH" -u alice -c zebrafish)" = 1 ] &&
    pass "back on be1, whole, nothing left on be2" || fail "back on be1" "$(debris be2 alice)"

# Mail during a move: paused once the copy is durable on be2 (before the
# switch), be1's lmtpd defers, mbctl append exits 75; after the move be2
# takes the same message and be1's lmtpd says where alice lives.
answers be1 alice "$T/before2"
S1="$T/lmtp1.sock"
"$top_builddir/lmtpd" -C "$T/be1.conf" --listen "unix:$S1" > /dev/null 2> "$T/lmtpd1.log" &
l1=$!
S2="$T/lmtp2.sock"
"$top_builddir/lmtpd" -C "$T/be2.conf" --listen "unix:$S2" > /dev/null 2> "$T/lmtpd2.log" &
l2=$!
k=0
while ! { grep -q "listening on" "$T/lmtpd1.log" && grep -q "listening on" "$T/lmtpd2.log"; } &&
    [ $k -lt 200 ]; do sleep 0.05; k=$((k + 1)); done
# deliver SOCKET: one message to alice, the replies to RCPT and DATA.
deliver() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
def cmd(line):
    if line is not None:
        f.write(line.encode() + b"\r\n"); f.flush()
    while True:
        l = f.readline().decode()
        if l[3:4] != "-":
            return l.strip()
cmd(None)
cmd("LHLO test")
cmd("MAIL FROM:<a@example.org>")
r = cmd("RCPT TO:<alice@example.org>")
print("RCPT " + r)
if r.startswith("250"):
    cmd("DATA")
    print("DATA " + cmd("From: a@example.org\r\nSubject: during the move quagga\r\n\r\nbody\r\n."))
cmd("QUIT")
PY
}
paused_move receive.2 alice be2
deliver "$S1" > "$T/during.out"
grep -q "^DATA 451 4\.2\.0" "$T/during.out" && pass "during the move: lmtpd defers with 451 4.2.0" ||
    fail "during the move: lmtpd defers" "$(cat "$T/during.out")"
printf 'Subject: during the move\n\nx\n' > "$T/msg"
expect_exit 75 "during the move: mbctl append exits 75" $M1 append user.alice "$T/msg"
expect_exit 0 "during the move: reading still works on be1" $M1 status user.alice
expect_exit 75 "during the move: a folder create exits 75" $M1 create user.alice.during
expect_exit 75 "during the move: an expunge exits 75" $M1 expunge user.alice 1
rm -f "$T/pause"
wait $mover
st=$?
[ $st -eq 0 ] && pass "the paused move finishes" || fail "the paused move finishes" "exit $st: $(cat "$T/move.err")"
deliver "$S1" > "$T/after1.out"
grep -q "^RCPT 451 4\.2\.0 .*be2" "$T/after1.out" && pass "after: be1's lmtpd names be2" ||
    fail "after: be1's lmtpd names be2" "$(cat "$T/after1.out")"
deliver "$S2" > "$T/after2.out"
grep -q "^DATA 250" "$T/after2.out" && pass "after: be2's lmtpd takes the deferred message" ||
    fail "after: be2 takes the message" "$(cat "$T/after2.out")"
kill -TERM $l1 $l2; wait $l1 $l2
XAPIARY_CONFIG="$T/be2.conf" "$SQUATTER" -u alice
[ "$(XAPIARY_CONFIG="$T/be2.conf" "$XSEARCH" -u alice -c quagga)" = 1 ] &&
    pass "the deferred message is found once on be2" || fail "the deferred message on be2"

# A folder create that made its check before the move marked the user's
# records, and writes its record after: it must be refused then, or the
# folder (and mail put in it) would stay behind on be1, unmarked.
mkuser frank
rm -f "$T/cpause"
XAPIARY_PAUSE="mailbox.create.1:$T/cpause" $M1 create user.frank.late > /dev/null 2> "$T/create.err" &
creator=$!
i=0
while [ ! -e "$T/cpause" ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i + 1)); done
[ -e "$T/cpause" ] && pass "a folder create paused before its record" ||
    fail "a folder create paused before its record" "$(cat "$T/create.err")"
paused_move move.1 frank be2
rm -f "$T/cpause"
wait $creator
st=$?
[ $st -eq 75 ] && pass "... is refused once the move has marked the user (exit 75)" ||
    fail "... is refused once the move has marked the user" "exit $st: $(cat "$T/create.err")"
rm -f "$T/pause"
wait $mover
st=$?
[ $st -eq 0 ] && pass "... and the move finishes" || fail "... and the move finishes" "exit $st: $(cat "$T/move.err")"
[ -z "$($M1 list -a 'user.frank*' 2> /dev/null)" ] && pass "... leaving no record of frank on be1" ||
    fail "... leaving no record of frank on be1" "$($M1 list -a 'user.frank*')"
[ "$($M2 where frank)" = be2 ] && pass "... frank is on be2" || fail "... frank is on be2"

# A stale mover: the key changes while the mover is paused after reading
# it; the switch loses, be2 keeps nothing, alice is whole and writable on
# be2 (where it is now) - moved from be2 to be1 here.
mkuser bob
answers be1 bob "$T/bob.before"
paused_move move.1 bob be2
python3 - "$ETCD_URL_1" <<'PY'
import base64, json, sys, urllib.request
b = lambda s: base64.b64encode(s).decode()
u = sys.argv[1]
req = lambda path, body: json.load(urllib.request.urlopen(urllib.request.Request(u + path,
    data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}), timeout=5))
kv = req("/v3/kv/range", {"key": b(b"/xapiary/users/bob")})["kvs"][0]
req("/v3/kv/put", {"key": kv["key"], "value": kv["value"]})   # same value, new revision
PY
rm -f "$T/pause"
wait $mover
st=$?
[ $st -ne 0 ] && pass "a stale mover fails (exit $st)" || fail "a stale mover fails"
grep -q "changed since the move began" "$T/move.err" && pass "... saying the key changed" ||
    fail "... saying the key changed" "$(cat "$T/move.err")"
[ "$($M2 where bob)" = be1 ] && pass "stale: etcd still says be1" || fail "stale: etcd says be1"
[ -z "$(debris be2 bob)" ] && pass "stale: nothing of bob on be2" ||
    fail "stale: nothing of bob on be2" "$(debris be2 bob)"
answers be1 bob "$T/bob.after"
cmp -s "$T/bob.before" "$T/bob.after" && pass "stale: bob whole on be1" ||
    fail "stale: bob whole on be1" "$(diff "$T/bob.before" "$T/bob.after")"
expect_exit 0 "stale: bob writable on be1 again" $M1 append user.bob "$T/msg"

# The destination has files of the user (debris of another time): not
# overwritten, the move fails, the user is whole and writable on be1.
mkuser erin
answers be1 erin "$T/erin.before"
hh=$(printf 'user.erin' | sha1sum | cut -c1-2)
mkdir -p "$T/be2/conf/user/$hh/user/erin"
echo 0123 > "$T/be2/conf/user/$hh/user/erin/owner"
expect_exit 73 "a move to a back end that has files of erin fails" $M1 move erin be2
expect_grep "has data here" "$T/err" "... naming them"
answers be1 erin "$T/erin.after"
[ "$($M1 where erin)" = be1 ] && cmp -s "$T/erin.before" "$T/erin.after" &&
    pass "... erin whole on be1" || fail "... erin whole on be1" "$(diff "$T/erin.before" "$T/erin.after")"
[ "$(cat "$T/be2/conf/user/$hh/user/erin/owner")" = 0123 ] &&
    pass "... be2's files left as they were" || fail "... be2's files left as they were"
expect_exit 0 "... erin writable on be1" $M1 append user.erin "$T/msg"

# A back end that cannot receive (no such server here): the move fails
# with the receiving side's status, the user stays writable on be1.
XAPIARY_CONFIG="$T/be1.conf" "$MBCTL" move erin nosuch > /dev/null 2> "$T/err"
st=$?
[ $st -ne 0 ] && pass "a move to a back end that does not answer fails (exit $st)" ||
    fail "a move to a back end that does not answer fails"
[ "$($M1 where erin)" = be1 ] && expect_exit 0 "... and erin is writable on be1" \
    $M1 append user.erin "$T/msg"
done_testing
