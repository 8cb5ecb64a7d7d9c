#!/bin/sh
# The stem terms of a document (docs/FORMAT.md "Stems"), read back from
# the database: one Z term per stem of a stemmed field, without
# positions, whose wdf is the number of the field's words of that stem;
# none for a word that starts with a digit; none where a word of the
# field is its own stem and stands for it; none for a field that is not
# stemmed.  Squatter adds them once per distinct word after the text
# (cwrap add_stems), not one occurrence at a time as Xapian's STEM_SOME
# did: these are the terms and wdfs STEM_SOME gave.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

if ! command -v xapian-delve > /dev/null; then
    echo "1..0 # SKIP xapian-delve (xapian-tools) is not installed"
    exit 0
fi

printf 'From: Running Man <runs@example.com>\r\nTo: b@example.com\r\n' > "$T/m"
printf 'Subject: Expenses report\r\nMessage-ID: <st@example.com>\r\n\r\n' >> "$T/m"
printf 'Trees trees treed tree. Running runs running 2nd 2nds.\r\n' >> "$T/m"
printf 'expense expens\r\n' >> "$T/m"
expect_exit 0 "create" "$MBCTL" create user.st
expect_exit 0 "append" "$MBCTL" append user.st "$T/m"
expect_exit 0 "index" "$SQUATTER" -j 1 -u st
db=$(find "$T/search" -type d -name 'xapian.*' | head -1)
# One "TERM WDF TERMFREQ" line per term.
xapian-delve -r 1 -v -1 "$db" | sed 1d > "$T/terms"

# wdf TERM: its wdf in the document, or "none".
wdf() { awk -v t="$1" '$1 == t { print $2; f = 1 } END { if (!f) print "none" }' "$T/terms"; }
# has TERM WDF DESCRIPTION
has() {
    got=$(wdf "$1")
    [ "$got" = "$2" ] && pass "$3" || fail "$3" "$1: wdf $got, want $2; terms: $(tr '\n' ' ' < "$T/terms")"
}

has Btrees 2 "a word's wdf counts its occurrences, case folded"
has ZBrun 3 "a stem's wdf is the sum of its words' (running x2, runs)"
has ZBtree none "no stem term where the stem is a word of the field and its own stem"
has ZBexpens 1 "a stem that is a word but not its own stem is kept"
has ZBexpen 1 "and that word's own stem"
has B2nd 1 "a word starting with a digit is indexed"
has ZB2nd none "but not stemmed"
has ZSexpens 1 "the subject is stemmed too"
has ZSreport none "where its word stands for the stem"
has ZFrun none "the From field is not stemmed"
has Frunning 1 "its words are there"
got=$(awk '$1 ~ /^Z/ { n++ } END { print n + 0 }' "$T/terms")
[ "$got" = 4 ] && pass "four stem terms in all" \
    || fail "four stem terms in all" "$(grep '^Z' "$T/terms")"
done_testing
