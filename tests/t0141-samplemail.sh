#!/bin/sh
# scripts/samplemail: the same seed gives the same bytes, the mail has the
# variety it promises, every message imports (Maildir++ tree and mbox)
# and is indexed, and searches find what the manifest says is there.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

GEN="$top_srcdir/scripts/samplemail"
N=1000
if ! command -v python3 > /dev/null; then
    pass "# SKIP no python3 (scripts/deps installs it)"
    done_testing
    exit
fi

# ---------------------------------------------------------------- determinism
expect_exit 0 "samplemail writes a Maildir++ tree" \
    python3 "$GEN" --seed 42 --count $N --folders --mbox "$T/a.mbox" --manifest "$T/a.json" "$T/a"
expect_grep "$N messages" "$T/err" "... and says how many"
python3 "$GEN" --seed 42 --count $N --folders --mbox "$T/b.mbox" --manifest "$T/b.json" "$T/b" 2> /dev/null
if diff -r "$T/a" "$T/b" > "$T/diff" && cmp -s "$T/a.mbox" "$T/b.mbox" && cmp -s "$T/a.json" "$T/b.json"; then
    pass "the same seed gives the same bytes (tree, mbox, manifest)"
else
    fail "the same seed gives the same bytes (tree, mbox, manifest)" "$(head -20 "$T/diff")"
fi
python3 "$GEN" --seed 43 --count $N --manifest "$T/c.json" "$T/c" 2> /dev/null
if cmp -s "$T/a.json" "$T/c.json"; then fail "another seed gives other mail"; else pass "another seed gives other mail"; fi
expect_exit 2 "samplemail refuses a Maildir that holds mail" python3 "$GEN" --count 5 "$T/c"

files=$(find "$T/a" -path '*/cur/*' -o -path '*/new/*' | grep -c .)
lines=$(grep -c . "$T/a.json")
if [ "$files" -eq $N ] && [ "$lines" -eq $N ]; then
    pass "$N message files and $N manifest lines"
else
    fail "$N message files and $N manifest lines" "files $files, manifest $lines"
fi

# ---------------------------------------------------------------- variety
# has PATTERN DESCRIPTION: some message file matches PATTERN.
has() {
    if grep -rqE -- "$1" "$T/a"; then pass "$2"; else fail "$2" "no message matches $1"; fi
}
has '^In-Reply-To: <' "replies (In-Reply-To)"
has '^References: <' "threads (References)"
has '^List-Id: .*<xapiary-devel.lists.example.org>' "mailing lists (List-Id)"
has 'multipart/alternative' "multipart/alternative bodies"
has 'multipart/mixed' "multipart/mixed bodies"
has '^Content-Type: text/html' "HTML bodies"
has 'Content-Disposition: attachment; filename="invoice-' "attachments"
has "filename\\*=utf-8''" "RFC 2231 attachment names"
has '^Content-Transfer-Encoding: quoted-printable' "quoted-printable bodies"
has '^Content-Transfer-Encoding: 8bit' "8bit bodies"
for cs in utf-8 iso-8859-1 iso-8859-15 koi8-r iso-2022-jp gb2312; do
    has "^(Subject|From): =\\?$cs\\?" "RFC 2047 headers in $cs"
done
has '^Status: RO' "mbox-style Status headers"
if grep -rlq "$(printf '\r')\$" "$T/a"; then pass "some messages have CRLF line ends"; else fail "some messages have CRLF line ends"; fi
if grep -q '^>From ' "$T/a.mbox"; then pass "the mbox quotes body From lines"; else fail "the mbox quotes body From lines"; fi
years=$(grep -rh '^Date: ' "$T/a" | sed 's/^Date: [A-Za-z]*, [0-9]* [A-Za-z]* \([0-9]*\).*/\1/' | sort -u | grep -c .)
if [ "$years" -ge 6 ]; then pass "dates over $years years"; else fail "dates over six years or more" "$years"; fi
for f in Lists.xapiary-devel Lists.jp-users Lists.cn-users Sent; do
    if [ -d "$T/a/.$f/cur" ]; then pass "folder .$f"; else fail "folder .$f" "$(ls -a "$T/a")"; fi
done

# ---------------------------------------------------------------- import, index
expect_exit 0 "mbctl import -r imports the tree" "$MBCTL" import -r user.s "$T/a"
if [ -s "$T/err" ]; then fail "... with no complaint" "$(cat "$T/err")"; else pass "... with no complaint"; fi
total=0
for mb in $("$MBCTL" list 'user.s*'); do
    n=$("$MBCTL" status "$mb" | sed -n 's/^messages: //p')
    total=$((total + n))
done
if [ "$total" -eq $N ]; then pass "every message is in a mailbox"; else fail "every message is in a mailbox" "$total of $N"; fi
expect_exit 0 "mbctl import imports the mbox" "$MBCTL" import user.m "$T/a.mbox"
"$MBCTL" status user.m > "$T/status"
expect_grep "^messages: $N\$" "$T/status" "... every message of it"
expect_exit 0 "mbctl verify" "$MBCTL" verify
expect_exit 0 "squatter indexes them" "$SQUATTER" -u s m
expect_exit 0 "squatter -A finds nothing unindexed" "$SQUATTER" -A -u s m
if [ -s "$T/out" ]; then fail "... and prints nothing" "$(head "$T/out")"; else pass "... and prints nothing"; fi

# ---------------------------------------------------------------- searches
# count_of FIELD WORD: manifest entries whose FIELD (subject, from, or
# attachments) holds WORD, case-folded.
count_of() {
    python3 - "$T/a.json" "$1" "$2" <<'PY'
import json, sys
path, field, word = sys.argv[1], sys.argv[2], sys.argv[3].casefold()
n = 0
for line in open(path, encoding="utf-8"):
    m = json.loads(line)
    v = m[field] if field != "attachments" else " ".join(m["attachments"])
    n += word in v.casefold()
print(n)
PY
}
# search USER QUERY FIELD WORD DESCRIPTION
search() {
    want=$(count_of "$3" "$4")
    got=$("$XSEARCH" -u "$1" --count "$2" 2>&1)
    if [ "$want" -gt 0 ] && [ "$got" = "$want" ]; then
        pass "$5: $2 finds $got"
    else
        fail "$5: $2" "found $got, the manifest says $want"
    fi
}
search s 'subject:議事録' subject 議事録 "a CJK word (ISO-2022-JP)"
search s 'subject:会议纪要' subject 会议纪要 "a CJK word (GB2312)"
search s 'subject:réunion' subject réunion "an RFC 2047 subject word (ISO-8859-1)"
search s 'subject:Встреча' subject Встреча "an RFC 2047 subject word (KOI8-R, UTF-8)"
search s 'from:田中' from 田中 "an RFC 2047 sender name"
search s 'attachment:forecast' attachments forecast "an attachment name"
search s 'attachment:Übersicht' attachments Übersicht "an RFC 2231 attachment name"
search m 'subject:議事録' subject 議事録 "the same from the mbox"

done_testing
