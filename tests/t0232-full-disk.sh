#!/bin/sh
# A real full disk: a small tmpfs holds the spool and both search tiers,
# and a filler file takes all but a few pages of it before indexing, a
# compaction, an append and an import.  Each fails with exit 74 and a
# message naming the object and the cause; what was searchable before is
# still found (the old index stays searchable), nothing committed is
# lost, `mbctl verify` passes; and once the filler is gone the same
# command completes and leaves no debris.  Needs root (mount); skipped
# otherwise.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

M="$T/small"
mkdir -p "$M"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=6m tmpfs "$M" 2> /dev/null; then
    pass "# SKIP a real full disk needs root and a tmpfs mount"
    done_testing; exit
fi
trap 'umount "$M" 2> /dev/null; rm -rf "$T"' EXIT
mkdir -p "$M/spool" "$M/search" "$M/search2"
cat >> "$XAPIARY_CONFIG" <<CONF
partition-small: $M/spool
t1searchpartition-small: $M/search
t2searchpartition-small: $M/search2
CONF

# mbox FIRST LAST FILE: messages FIRST..LAST, each with the word "fill",
# its own word "wN" and a 1 KB body
mbox() {
    pad=$(head -c 1000 /dev/zero | tr '\0' 'p')
    i=$1
    while [ "$i" -le "$2" ]; do
        printf 'From sender@example.com Mon Nov  2 10:00:00 2026\n'
        printf 'From: s%d@example.com\nTo: r@example.com\nSubject: fill %d\n' "$i" "$i"
        printf 'Message-ID: <fill%d@example.com>\n\nbody w%d fill %s\n\n' "$i" "$i" "$pad"
        i=$((i + 1))
    done > "$3"
}
msgs() { "$MBCTL" status user.d | sed -n 's/^messages: //p'; }
found() { "$XSEARCH" -u d --count fill 2> /dev/null; }

# fill: a filler file that leaves 8 KB (two pages) free
fill() {
    avail=$(df -P -k "$M" | awk 'NR == 2 { print $4 }')
    head -c $(( (avail - 8) * 1024 )) /dev/zero > "$M/filler" 2> /dev/null
}
unfill() { rm -f "$M/filler"; }

# failed NAME RC: exit 74 and a message naming user d and the cause
failed() {
    [ "$2" -eq 74 ] && pass "$1: fails with exit 74" \
                    || fail "$1: fails with exit 74" "exit $2: $(tail -5 "$T/err")"
    grep -q "user.d\|user d\| d:" "$T/err" && pass "$1: the error names the user" \
                                          || fail "$1: the error names the user" "$(cat "$T/err")"
    expect_grep "No space left on device" "$T/err" "$1: the error says why"
    expect_exit 0 "$1: mbctl verify passes" "$MBCTL" verify user.d
}

# no_debris NAME: no .NEW anywhere, every xapian.N directory listed
no_debris() {
    local act bad
    act=$(cat "$T"/conf/user/*/user/d/xapianactive)
    bad=$(find "$M" "$T/conf" -name '*.NEW*')
    for dir in $(find "$M/search" "$M/search2" -path '*/user/d/xapian.*' -prune); do
        tier=t1; case "$dir" in "$M/search2"*) tier=t2 ;; esac
        echo " $act " | grep -q " $tier:${dir##*xapian.} " || bad="$bad $dir"
    done
    [ -z "$bad" ] && pass "$1: no debris" || fail "$1: no debris" "$bad ($act)"
}

mbox 1 40 "$T/a.mbox"
mbox 41 240 "$T/b.mbox"
mbox 241 440 "$T/c.mbox"
expect_exit 0 "create user.d on a 6 MB tmpfs" "$MBCTL" create -p small user.d
expect_exit 0 "import 40 messages" "$MBCTL" import user.d "$T/a.mbox"
expect_exit 0 "index them" "$SQUATTER" -u d
expect_exit 0 "import 200 more" "$MBCTL" import user.d "$T/b.mbox"
"$XSEARCH" -u d fill 2> /dev/null | sort > "$T/found.before"

# --- indexing
fill
"$SQUATTER" -u d > "$T/out" 2> "$T/err"
failed "indexing on a full disk" $?
"$XSEARCH" -u d fill 2> /dev/null | sort > "$T/found.now"
missing=$(comm -23 "$T/found.before" "$T/found.now" | wc -l)
[ "$missing" -eq 0 ] && pass "indexing on a full disk: what was found is still found ($(found))" \
                     || fail "indexing on a full disk: $missing answers lost"
unfill
expect_exit 0 "indexing with room again" "$SQUATTER" -u d
[ "$(found)" = 240 ] && pass "indexing: all 240 found" || fail "indexing: all 240 found" "$(found)"
no_debris "indexing"

# --- compaction: t1 into t2, on the same full tmpfs
fill
"$SQUATTER" -z t2 -t t1 -u d > "$T/out" 2> "$T/err"
failed "compaction on a full disk" $?
[ "$(found)" = 240 ] && pass "compaction on a full disk: all 240 still found" \
                     || fail "compaction on a full disk: all 240 still found" "$(found)"
unfill
expect_exit 0 "compaction with room again" "$SQUATTER" -z t2 -t t1 -u d
[ "$(found)" = 240 ] && pass "compaction: all 240 found" || fail "compaction: all 240 found" "$(found)"
no_debris "compaction"

# --- append: a message bigger than the room left
mbox 441 460 "$T/big"
fill
"$MBCTL" append user.d "$T/big" > "$T/out" 2> "$T/err"
failed "append on a full disk" $?
[ "$(msgs)" = 240 ] && pass "append on a full disk: the 240 messages, no more" \
                    || fail "append on a full disk: the 240 messages" "$(msgs)"
unfill
expect_exit 0 "append with room again" "$MBCTL" append user.d "$T/big"
[ "$(msgs)" = 241 ] && pass "append: 241 messages" || fail "append: 241 messages" "$(msgs)"

# --- import of 200 messages into a disk that has room for a few
fill
"$MBCTL" import user.d "$T/c.mbox" > "$T/out" 2> "$T/err"
failed "import on a full disk" $?
before=$(msgs)
[ "$before" -ge 241 ] && [ "$before" -lt 441 ] \
    && pass "import on a full disk: what was committed stays ($before)" \
    || fail "import on a full disk: what was committed stays" "$before"
[ "$(found)" = 240 ] && pass "import on a full disk: search answers as before" \
                     || fail "import on a full disk: search answers as before" "$(found)"
unfill
expect_exit 0 "import with room again" "$MBCTL" import user.d "$T/c.mbox"
[ "$(msgs)" = 441 ] && pass "import: 441 messages, each once" || fail "import: 441 messages" "$(msgs)"
expect_exit 0 "verify at the end" "$MBCTL" verify user.d
expect_exit 0 "index everything" "$SQUATTER" -u d
[ "$(found)" = 441 ] && pass "all 441 found" || fail "all 441 found" "$(found)"
expect_exit 0 "audit" "$SQUATTER" -A -u d
[ -s "$T/out" ] && fail "audit silent" "$(cat "$T/out")" || pass "audit silent"
no_debris "the end"

umount "$M"
done_testing
