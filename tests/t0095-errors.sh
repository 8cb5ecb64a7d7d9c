#!/bin/sh
# Every XAP_IMAP_* error a tool can print, provoked for real, with its exit
# code and a message naming the object and the cause.  Not provoked here:
# XAP_IMAP_INTERNAL (a broken invariant: a bug, never an input), XAP_IMAP_AGAIN
# (a compaction that lost a race: t0060 races them), XAP_IMAP_MESSAGE_BADHEADER
# (only a message over 4 GiB: the index stores 32-bit sizes).
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

# err CODE DESC PATTERN... COMMAND: exit CODE and every PATTERN on stderr
err() {
    local want=$1 desc=$2 got pat
    shift 2
    pats=""
    while [ "$1" != "--" ]; do pats="$pats
$1"; shift; done
    shift
    "$@" > "$T/out" 2> "$T/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "$desc" "exit $got, want $want; stderr: $(cat "$T/err")"
        return
    fi
    echo "$pats" | while IFS= read -r pat; do
        [ -z "$pat" ] && continue
        grep -q -- "$pat" "$T/err" || echo "missing '$pat'"
    done > "$T/missing"
    [ -s "$T/missing" ] && fail "$desc" "$(cat "$T/missing"); stderr: $(cat "$T/err")" || pass "$desc"
}

printf 'From: a@example.com\nSubject: hi\nMessage-ID: <e1@example.com>\n\nerrword\n' > "$T/m"
"$MBCTL" create user.a user.a.x > /dev/null && "$MBCTL" append user.a "$T/m" > /dev/null &&
    "$SQUATTER" -u a || fail "setup"

err 78 "XAP_IMAP_CONFIG: a missing configuration file" \
    "mbctl" "$T/nope.conf" "No such file" -- "$MBCTL" -C "$T/nope.conf" list
printf 'configdirectory %s\n' "$T/conf" > "$T/bad.conf"
err 78 "XAP_IMAP_CONFIG: a malformed line names file and line" \
    "bad.conf:1" -- "$MBCTL" -C "$T/bad.conf" list

printf 'configdirectory: %s/conf2\npartition-default: %s/m\n' "$T" "$T" > "$T/io.conf"
err 74 "XAP_IMAP_IOERROR: the partition is a file" \
    "user.io: System I/O error" "$T/m" "Not a directory" -- "$MBCTL" -C "$T/io.conf" create user.io

err 66 "XAP_IMAP_MAILBOX_NONEXISTENT" "mbctl: user.nope: Mailbox does not exist" -- \
    "$MBCTL" status user.nope
err 73 "XAP_IMAP_MAILBOX_EXISTS" "mbctl: user.a: Mailbox already exists" -- "$MBCTL" create user.a
err 64 "XAP_IMAP_MAILBOX_BADNAME" "mbctl: user.a/b: Invalid mailbox name" -- "$MBCTL" create 'user.a/b'
err 75 "XAP_IMAP_MAILBOX_LOCKED" "mbctl: user.a: Mailbox is locked" -- \
    "$MBCTL" lock -x user.a "$MBCTL" lock -n user.a true
err 78 "XAP_IMAP_PARTITION_UNKNOWN" "user.b: Unknown partition" "nopart" -- \
    "$MBCTL" create -p nopart user.b
err 69 "XAP_IMAP_MAILBOX_NOTSUPPORTED: mail changing owner" \
    "user.a.x: Mailbox format not supported" "between users" -- "$MBCTL" rename user.a.x user.b.x
err 66 "XAP_IMAP_NOTFOUND: expunge of a UID that is not there" \
    "user.a UID 99: Not found" "no such message" -- "$MBCTL" expunge user.a 99
err 78 "XAP_IMAP_SEARCH_TIER_UNKNOWN" "t9" "Unknown search tier" -- \
    "$SQUATTER" -z t9 -t t1 -u a
err 64 "XAP_IMAP_SEARCH_SYNTAX names the position" "Search query syntax error" "position" -- \
    "$XSEARCH" -u a '(errword'

# XAP_IMAP_MAILBOX_CHECKSUM: one byte of a record changed
idx=$(find "$T/spool" -path '*/user/a/xapiary.index')
cp "$idx" "$T/idx.good"
size=$(wc -c < "$idx")
printf 'Z' | dd of="$idx" bs=1 seek=$((size - 20)) conv=notrunc 2>/dev/null
err 65 "XAP_IMAP_MAILBOX_CHECKSUM: verify names the mailbox and the record" \
    "user.a" "checksum\|CRC" -- "$MBCTL" verify user.a
cp "$T/idx.good" "$idx"

# XAP_IMAP_MAILBOX_BADFORMAT: an index file that is not one
printf 'this is not an index file at all, nothing like one' > "$idx"
err 65 "XAP_IMAP_MAILBOX_BADFORMAT: a garbage index" "user.a: Mailbox file has a bad format" \
    "xapiary.index" -- "$MBCTL" status user.a
cp "$T/idx.good" "$idx"

# XAP_IMAP_PERMISSION_DENIED: a planted symlink
dir=$(find "$T/spool" -path '*/user/a/x' -type d)
mv "$dir" "$T/xdir"; ln -s "$T/xdir" "$dir"
err 77 "XAP_IMAP_PERMISSION_DENIED: a symlinked mailbox directory" \
    "user.a.x: Permission denied" "symbolic link" -- "$MBCTL" status user.a.x
rm "$dir"; mv "$T/xdir" "$dir"

# XAP_IMAP_SEARCH_CORRUPT: a database file overwritten
db=$(find "$T/search" -name 'postlist.glass' | head -1)
cp "$db" "$T/postlist.good"
dd if=/dev/urandom of="$db" bs=1024 count=8 conv=notrunc 2>/dev/null
err 65 "XAP_IMAP_SEARCH_CORRUPT: an unreadable tier is an error with its path, not an empty result" \
    "Search index cannot be read" "xapian" -- "$XSEARCH" -u a errword
cp "$T/postlist.good" "$db"
[ "$("$XSEARCH" -u a --count errword)" = 1 ] && pass "and readable again when repaired" \
    || fail "not readable after repair"

# XAP_IMAP_INVALID_ARGUMENT: a -T item outside the -t tiers
mkdir -p "$T/search2"
echo "t2searchpartition-default: $T/search2" >> "$XAPIARY_CONFIG"
err 64 "XAP_IMAP_INVALID_ARGUMENT: -T names a tier that is not a source" \
    "-T item 't2'" "not one of the -t tiers" -- "$SQUATTER" -z t2 -t t1 -T t2 -u a

done_testing
