#!/bin/sh
# lmtpd: delivery over LMTP with real clients (Python's smtplib.LMTP, a raw
# socket where a client must misbehave, and swaks), every reply code, bad
# input, a killed delivery, a locked mailbox, a full disk, SIGTERM, then
# squatter and xsearch over what was delivered.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

LMTPD="$top_builddir/lmtpd"
PY="python3 $top_srcdir/tests/lmtp_client.py"
if ! command -v python3 > /dev/null; then
    echo "1..0 # SKIP python3 is missing (scripts/deps installs it)"
    exit 0
fi

# A small tmpfs for the full-disk case, when this user may mount one.
SMALL=""
if mkdir "$T/small" && mount -t tmpfs -o size=1m tmpfs "$T/small" 2> /dev/null; then
    SMALL="$T/small"
    trap 'umount "$T/small"; rm -rf "$T"' EXIT
fi
base_conf() {
    cat "$T/xapiary.conf.orig"
    echo "namelock_timeout: 1"
    [ -n "$SMALL" ] && echo "partition-small: $SMALL"
}
cp "$T/xapiary.conf" "$T/xapiary.conf.orig"
{ base_conf; echo "lmtp_max_message_size: 60000000"; } > "$T/xapiary.conf"
{ base_conf; echo "lmtp_max_message_size: 100000"; echo "lmtp_max_connections: 2"
  echo "lmtp_domains: example.com, example.net"; } > "$T/small.conf"
{ base_conf; echo "lmtp_max_connections: 0"; } > "$T/bad.conf"

for m in user.alice user.alice.lists user.bob user.carol user.dan; do
    "$MBCTL" create "$m" || fail "create $m"
done

# start_lmtpd NAME ARGS...: lmtpd in the background, its pid in $NAME_pid,
# once its log says it listens on everything asked.
start_lmtpd() {
    name=$1; shift
    "$LMTPD" "$@" > /dev/null 2> "$T/$name.log" &
    eval "${name}_pid=$!"
    want=$(printf '%s\n' "$@" | grep -c -- '--listen')
    n=0
    while [ "$(grep -c 'listening on' "$T/$name.log")" -lt "$want" ] && [ $n -lt 200 ]; do
        sleep 0.05; n=$((n + 1))
    done
    expect_grep "listening on" "$T/$name.log" "lmtpd $name started"
}
# stop_lmtpd NAME: SIGTERM, which must end it with status 0.
stop_lmtpd() {
    eval "pid=\$${1}_pid"
    kill -TERM "$pid"
    wait "$pid"
    st=$?
    [ $st -eq 0 ] && pass "lmtpd $1: SIGTERM, exit 0" || fail "lmtpd $1: exit $st after SIGTERM"
}
# client CASE ARGS...: runs a case of lmtp_client.py, its lines as TAP.
client() {
    $PY "$@" > "$T/py.out" 2> "$T/py.err"
    st=$?
    while IFS= read -r l; do
        case "$l" in
            "ok "*) pass "${l#ok }" ;;
            "not ok "*) fail "${l#not ok }" ;;
        esac
    done < "$T/py.out"
    [ $st -eq 0 ] || fail "lmtp_client.py $1 exited $st" "$(cat "$T/py.err")"
}
count() { "$MBCTL" status "$1" | awk '/^messages:/ { print $2 }'; }
expect_count() {
    got=$(count "$1")
    [ "$got" = "$2" ] && pass "$1 has $2 messages" || fail "$1 has $got messages, want $2"
}
# The message files ("UID.") holding LINE (a whole line).
files_with() { find "$T/spool" -name '*.' -type f -exec grep -lx -- "$1" {} + | sort; }

S="$T/lmtp.sock"
expect_exit 64 "no --listen: usage error" "$LMTPD"
expect_exit 64 "a bad address: usage error" "$LMTPD" --listen nocolon
expect_exit 78 "a bad lmtp_ key: configuration error" "$LMTPD" -C "$T/bad.conf" --listen "unix:$S"
expect_grep "bad.conf:.*lmtp_max_connections" "$T/err" "the error names the file, line and key"
echo "not a socket" > "$T/file"
expect_exit 73 "unix: on a file that is not a socket: refused" "$LMTPD" --listen "unix:$T/file"
expect_grep "not a socket" "$T/file" "and the file is left alone"
start_lmtpd main -C "$T/xapiary.conf" --listen "unix:$S" --listen 127.0.0.1:0
PORT=$(sed -n 's/^lmtpd: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/main.log")

# --- per-recipient replies, folders, unknown users, dot-stuffing, 8 bit
client basic "$S"
expect_count user.alice 1
expect_count user.alice.lists 1
expect_count user.bob 1
[ "$(files_with 'Subject: basic' | wc -l)" -eq 3 ] && pass "three copies: alice, alice.lists, bob" \
    || fail "copies of 'basic'" "$(files_with 'Subject: basic')"
f=$(files_with 'Subject: basic' | head -1)
expect_grep '^\.leading dot$' "$f" "a stuffed dot is taken off"
expect_grep 'grüße' "$f" "8-bit text kept"
if grep -q "$(printf '\r')" "$f"; then fail "stored with LF line ends"; else pass "stored with LF line ends"; fi
client rset "$S"

# --- bare LF, PIPELINING, long lines
client bare_lf "$S"
expect_grep '^\.two$' "$(files_with 'Subject: barelf')" "bare LF message: stuffed dot taken off"
client pipelining "$S"
expect_count user.alice 2
expect_count user.bob 4
client longline "$S"
f=$(files_with 'Subject: longline')
[ "$(awk '{ print length($0) }' "$f" | sort -n | tail -2 | tr '\n' ' ')" = "5000 100000 " ] \
    && pass "long message lines stored whole (the second unstuffed)" \
    || fail "long lines" "$(awk '{ print length($0) }' "$f" | sort -n | tail -2)"

# --- bad input leaves nothing behind
client garbage "$S"
client disconnect "$S"
client many_rcpts "$S" 10000
expect_count user.alice 3
expect_count user.bob 5
[ -z "$(files_with 'Subject: cut')" ] && pass "nothing of the cut message is stored" \
    || fail "a cut message was stored"

# --- a message of 50 MB
client big "$S" 52428800
expect_count user.bob 6
f=$(files_with 'Subject: big')
[ -n "$f" ] && [ "$(wc -c < "$f")" -gt 51700000 ] && pass "the 50 MB message is whole" \
    || fail "50 MB message" "$f"

# --- a locked mailbox: 451 4.x (namelock_timeout 1), then delivered once
rm -f "$T/held"; touch "$T/hold"
"$MBCTL" lock -x user.carol sh -c "touch '$T/held'; while [ -e '$T/hold' ]; do sleep 0.05; done" &
locker=$!
n=0; while [ ! -e "$T/held" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
client one "$S" carol@x locked "451 4.2.0"
rm -f "$T/hold"; wait $locker
expect_count user.carol 0
client one "$S" carol@x unlocked "250 2.0.0"
expect_count user.carol 1

# --- swaks, over the unix socket and over TCP
expect_exit 0 "swaks --protocol LMTP over the unix socket" \
    swaks --protocol LMTP --socket "$S" --from s@example.org --to bob@example.com \
    --h-Subject swaksone --body "swaksbodyword"
expect_grep "250 2.0.0" "$T/out" "swaks: 250 after DATA"
expect_count user.bob 7
swaks --protocol LMTP --server 127.0.0.1 --port "$PORT" --from s@example.org \
    --to nobody@example.com > "$T/out" 2>&1
expect_grep "550 5.1.1" "$T/out" "swaks over TCP: unknown user, 550 5.1.1"
expect_exit 0 "swaks over TCP to alice+lists" \
    swaks --protocol LMTP --server 127.0.0.1 --port "$PORT" --from s@example.org \
    --to alice+lists@example.com --h-Subject swakstwo --body "swaksbodyword"
expect_count user.alice.lists 2

# --- SIGTERM: an idle client gets 421, lmtpd exits 0, the socket goes
rm -f "$T/ready"
$PY idle "$S" "$T/ready" > "$T/idle.out" 2>&1 &
idler=$!
n=0; while [ ! -e "$T/ready" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
stop_lmtpd main
wait $idler
expect_grep "^ok SIGTERM" "$T/idle.out" "SIGTERM: the idle client got 421"
[ ! -e "$S" ] && pass "the unix socket is removed" || fail "the unix socket is left"

# --- a delivery killed before its commit: no reply, nothing stored; the
# MTA's retry delivers it once
export XAPIARY_FAULT=mailbox.commit.3
start_lmtpd killed -C "$T/xapiary.conf" --listen "unix:$S"
unset XAPIARY_FAULT
client killed "$S" dan@x
expect_count user.dan 0
stop_lmtpd killed
start_lmtpd main -C "$T/xapiary.conf" --listen "unix:$S"
client one "$S" dan@x retried "250 2.0.0"
expect_count user.dan 1
expect_exit 0 "verify user.dan after the retry" "$MBCTL" verify user.dan

# --- a full disk: 452 4.3.1, no partial file, then a small one fits
if [ -n "$SMALL" ]; then
    "$MBCTL" create -p small user.tiny
    client one "$S" tiny@x diskfull "452 4.3.1" 2000000
    expect_count user.tiny 0
    [ -z "$(find "$SMALL" -name '1.')" ] && pass "no partial message file on the full disk" \
        || fail "a partial message file is left" "$(find "$SMALL" -name '1.' | xargs ls -l)"
    client one "$S" tiny@x fits "250 2.0.0" 1000
    expect_count user.tiny 1
    # Room for the message file and not for its cache record: the commit
    # fails after the append; the delivery is dropped, not the process.
    bs=$(stat -f -c %S "$SMALL")
    dd if=/dev/zero of="$SMALL/filler" bs="$bs" count=$(($(stat -f -c %a "$SMALL") - 3)) 2> /dev/null
    client one "$S" tiny@x commitfull "452 4.3.1" 0 8000
    expect_count user.tiny 1
    rm "$SMALL/filler"
    client one "$S" tiny@x afterfull "250 2.0.0" 0 8000
    expect_count user.tiny 2
    expect_exit 0 "verify user.tiny: the failed commit left nothing" "$MBCTL" verify user.tiny
else
    pass "# SKIP full disk: cannot mount a tmpfs here"
fi
stop_lmtpd main

# --- SIZE limit and the connection bound (lmtp_max_connections 2)
start_lmtpd small -C "$T/small.conf" --listen "unix:$S"
client size "$S" 100000
client domains "$S"
expect_count user.bob 7
client greeting_wait "$S" 2
stop_lmtpd small

# --- -d: detached, the pidfile names it, SIGTERM ends it
expect_exit 0 "lmtpd -d returns at once" "$LMTPD" -d -p "$T/lmtpd.pid" -C "$T/xapiary.conf" \
    --listen "unix:$S"
n=0; while [ ! -s "$T/lmtpd.pid" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
client one "$S" carol@x detached "250 2.0.0"
expect_count user.carol 2
kill -TERM "$(cat "$T/lmtpd.pid")"
n=0; while [ -e "$T/lmtpd.pid" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
[ ! -e "$T/lmtpd.pid" ] && [ ! -e "$S" ] && pass "SIGTERM: the pidfile and the socket are removed" \
    || fail "pidfile or socket left after SIGTERM"

# --- a socket passed by systemd (LISTEN_FDS, LISTEN_PID), as a .socket
# unit does; the libtool wrapper execs the program, so the pid stays
python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
os.dup2(s.fileno(), 3)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
os.execv(sys.argv[2], [sys.argv[2]])
' "$T/act.sock" "$LMTPD" 2> "$T/act.log" &
act=$!
n=0; while ! grep -q "listening on" "$T/act.log" && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
expect_grep "listening on inherited socket 3" "$T/act.log" "lmtpd takes the socket systemd passes"
client one "$T/act.sock" carol@x activated "250 2.0.0"
expect_count user.carol 3
kill -TERM $act; wait $act
st=$?
[ $st -eq 0 ] && pass "socket-activated lmtpd: SIGTERM, exit 0" || fail "socket-activated: exit $st"
[ -S "$T/act.sock" ] && pass "the passed socket is left to its owner" \
    || fail "lmtpd removed a socket it did not make"

# --- everything delivered is intact, indexed and found
expect_exit 0 "verify every mailbox" "$MBCTL" verify
expect_exit 0 "squatter indexes alice" "$SQUATTER" -u alice
expect_exit 0 "squatter indexes bob" "$SQUATTER" -u bob
got=$("$XSEARCH" -u alice --count lmtpbasicword)
[ "$got" = 2 ] && pass "xsearch finds the delivered message in alice's INBOX and folder" \
    || fail "xsearch alice lmtpbasicword: $got, want 2"
got=$("$XSEARCH" -u bob --count swaksbodyword)
[ "$got" = 1 ] && pass "xsearch finds swaks's message" || fail "xsearch bob swaksbodyword: $got"
got=$("$XSEARCH" -u alice --count swaksbodyword)
[ "$got" = 1 ] && pass "and the one swaks sent to alice+lists" || fail "xsearch alice swaksbodyword: $got"

done_testing
