#!/bin/sh
# max_message_size and max_header_fields: a message past either is refused
# by every append (mbctl append and import, LMTP: 552 5.3.4) with an error
# naming the limit, one at the limit is stored and indexed, and a message
# stored before the limit existed is indexed within it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

GEN="$top_builddir/tests/hostile_gen"
LMTPD="$top_builddir/lmtpd"
cp "$XAPIARY_CONFIG" "$T/default.conf"
stored() { "$MBCTL" status "$1" 2> /dev/null | sed -n 's/^messages: //p'; }
expect_exit 0 "create user.l" "$MBCTL" create user.l

# Default limit (100,000): hostile_gen's "fields" message has N + 6 header
# fields (five before, Content-Type after).
"$GEN" fields 99994 > "$T/at"
"$GEN" fields 99995 > "$T/over"
expect_exit 0 "100,000 header fields are stored" "$MBCTL" append user.l "$T/at"
expect_exit 65 "100,001 are refused" "$MBCTL" append user.l "$T/over"
expect_grep "user.l: message has more than max_header_fields (100000) header fields" \
    "$T/err" "the error names the mailbox and the limit"
expect_grep "^mbctl: user.l: $T/over: Message exceeds the size limits" "$T/err" \
    "and the file"
[ "$(stored user.l)" = 1 ] && pass "only the one within the limit is stored" \
    || fail "messages: $(stored user.l)"
expect_exit 65 "standard input is refused alike" sh -c "cat '$T/over' | '$MBCTL' append user.l"
expect_grep "max_header_fields (100000)" "$T/err" "naming the limit"
mkdir -p "$T/md/cur" "$T/md/new" "$T/md/tmp"
cp "$T/over" "$T/md/cur/1.over:2,"
printf 'From: a@example.com\nSubject: small\n\nlimitsmall\n' > "$T/md/cur/2.small:2,S"
expect_exit 65 "import goes on past a refused message, then fails" \
    "$MBCTL" import user.l.imp "$T/md"
expect_grep "max_header_fields" "$T/err" "import names the limit"
expect_grep "1 failed" "$T/err" "and counts the refused message"
[ "$(stored user.l.imp)" = 1 ] && pass "the other message is imported" \
    || fail "imported: $(stored user.l.imp)"
expect_exit 0 "index" "$SQUATTER" -u l
got=$("$XSEARCH" -u l --count hostilefields)
[ "$got" = 1 ] && pass "the message at the limit is indexed" || fail "hostilefields: $got"

# Small limits; the header fields of MIME parts count too.
{ cat "$T/default.conf"; echo "max_message_size: 4096"; echo "max_header_fields: 100"; } \
    > "$T/small.conf"
export XAPIARY_CONFIG="$T/small.conf"
part() {   # part TOP PARTFIELDS: TOP header fields, then a part with PARTFIELDS
    printf 'From: p@example.com\nSubject: parts\nMIME-Version: 1.0\n'
    printf 'Content-Type: multipart/mixed; boundary="b"\n'
    i=4; while [ $i -lt "$1" ]; do printf 'X-A: %d\n' $i; i=$((i + 1)); done
    printf '\n--b\n'
    i=0; while [ $i -lt "$2" ]; do printf 'X-P: %d\n' $i; i=$((i + 1)); done
    printf '\nlimitpart\n--b--\n'
}
# Fields: TOP, one for the boundary line, PARTFIELDS, one for the closing line.
part 50 48 > "$T/p-at"
part 50 49 > "$T/p-over"
expect_exit 0 "100 fields with a part's are stored" "$MBCTL" append user.l "$T/p-at"
expect_exit 65 "101 with a part's are refused" "$MBCTL" append user.l "$T/p-over"
expect_grep "max_header_fields (100)" "$T/err" "naming the limit"
# "Subject: size\n\n" is 15 bytes, the body a line of a's.
head -c 4096 /dev/zero | tr '\0' 'a' > "$T/body"
{ printf 'Subject: size\n\n'; head -c $((4096 - 16)) "$T/body"; printf '\n'; } > "$T/s-at"
{ printf 'Subject: size\n\n'; head -c $((4096 - 15)) "$T/body"; printf '\n'; } > "$T/s-over"
expect_exit 0 "4,096 bytes are stored" "$MBCTL" append user.l "$T/s-at"
expect_exit 65 "4,097 bytes are refused" "$MBCTL" append user.l "$T/s-over"
expect_grep "message of 4097 bytes is larger than max_message_size (4096 bytes)" "$T/err" \
    "the error names the size and the limit"
expect_exit 65 "and from a pipe" sh -c "cat '$T/s-over' | '$MBCTL' append user.l"
expect_grep "message of 4097 bytes is larger than max_message_size" "$T/err" \
    "naming the limit"

# A message stored before (a higher limit) is indexed within the limit:
# the headers before the cut are searchable, and squatter succeeds.
{ cat "$T/default.conf"; echo "max_header_fields: 1000000"; } > "$T/raised.conf"
"$GEN" fields 300000 > "$T/big"
expect_exit 0 "create user.l.old" "$MBCTL" create user.l.old
expect_exit 0 "stored with a raised limit" env XAPIARY_CONFIG="$T/raised.conf" \
    "$MBCTL" append user.l.old "$T/big"
XAPIARY_CONFIG="$T/default.conf"
export XAPIARY_CONFIG
expect_exit 0 "indexed with the default limit" "$SQUATTER" -u l
got=$("$XSEARCH" -u l --count 'subject:fields mailbox:user.l.old')
[ "$got" = 1 ] && pass "its header before the cut is searchable" || fail "subject:fields: $got"
expect_exit 0 "verify" "$MBCTL" verify user.l.old
rm -f "$T/big" "$T/over" "$T/md/cur/1.over:2,"

# Out of range: a configuration error naming the key and the range.
{ cat "$T/default.conf"; echo "max_message_size: 267386881"; } > "$T/bad.conf"
expect_exit 78 "max_message_size over 255 MiB" env XAPIARY_CONFIG="$T/bad.conf" \
    "$MBCTL" status user.l
expect_grep "max_message_size: '267386881' is not a number of bytes from 1024 to 267386880" \
    "$T/err" "the error names the key and the range"
{ cat "$T/default.conf"; echo "max_header_fields: 99"; } > "$T/bad.conf"
expect_exit 78 "max_header_fields under 100" env XAPIARY_CONFIG="$T/bad.conf" \
    "$MBCTL" status user.l
expect_grep "max_header_fields: '99' is not a number from 100 to 10000000" "$T/err" \
    "the error names the key and the range"

# LMTP: SIZE in LHLO is the smaller limit; both limits get 552 5.3.4.
if command -v python3 > /dev/null; then
    S="$T/lmtp.sock"
    "$LMTPD" -C "$T/small.conf" --listen "unix:$S" > /dev/null 2> "$T/lmtpd.log" &
    lpid=$!
    n=0
    while ! grep -q 'listening on' "$T/lmtpd.log" && [ $n -lt 200 ]; do
        sleep 0.05; n=$((n + 1))
    done
    python3 - "$S" "$T/p-over" "$T/s-over" "$T/p-at" > "$T/lmtp.out" 2>&1 <<'PY'
import socket, sys
def conv(sock_path, msg):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    f = s.makefile("rb")
    def reply():
        lines = []
        while True:
            l = f.readline().decode()
            lines.append(l.strip())
            if len(l) < 4 or l[3] != "-":
                return lines
    out = [reply()[-1]]
    for cmd in ("LHLO x", "MAIL FROM:<a@example.com>", "RCPT TO:<l@example.com>", "DATA"):
        s.sendall((cmd + "\r\n").encode())
        r = reply()
        out.append(r[-1] if cmd != "LHLO x" else [x for x in r if "SIZE" in x][0])
    data = open(msg, "rb").read().replace(b"\n", b"\r\n")
    s.sendall(data + b".\r\n")
    out.append(reply()[-1])
    s.sendall(b"QUIT\r\n")
    s.close()
    return out
for m in sys.argv[2:]:
    print(" | ".join(conv(sys.argv[1], m)))
PY
    kill -TERM $lpid; wait $lpid
    sed -n 1p "$T/lmtp.out" | grep -q '250 SIZE 4096' && pass "LHLO announces SIZE 4096" \
        || fail "SIZE in LHLO" "$(cat "$T/lmtp.out")"
    sed -n 1p "$T/lmtp.out" | grep -q '| 552 5.3.4 [^|]*(max_header_fields)$' \
        && pass "LMTP: too many header fields get 552 5.3.4" \
        || fail "LMTP header fields" "$(cat "$T/lmtp.out")"
    sed -n 2p "$T/lmtp.out" | grep -q '| 552 5.3.4 [^|]*$' \
        && pass "LMTP: too large gets 552 5.3.4" || fail "LMTP size" "$(cat "$T/lmtp.out")"
    sed -n 3p "$T/lmtp.out" | grep -q '| 250 2.0.0 [^|]*$' \
        && pass "LMTP: at the limits, delivered" || fail "LMTP at the limits" "$(cat "$T/lmtp.out")"
else
    pass "# SKIP LMTP: python3 is missing"
fi

done_testing
