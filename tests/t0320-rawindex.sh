#!/bin/sh
# bench/rawindex, the raw Xapian yardstick of bench/run and bench/scale,
# stores the very documents squatter stores (same terms, same
# within-document frequencies, hence the same positions counted, same
# data and values), so that "squatter vs raw" compares one writer's cost
# and nothing else.  -n writes nothing; -p I/N takes a share.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

RAW="$top_builddir/bench/rawindex"
if ! command -v xapian-delve > /dev/null; then
    echo "1..0 # SKIP xapian-delve (xapian-tools) is not installed"
    exit 0
fi

python3 "$top_srcdir/scripts/samplemail" --seed 320 --count 120 "$T/mail" 2> /dev/null
n=$(ls "$T/mail/cur" "$T/mail/new" | grep -c '^[0-9]')
expect_exit 0 "import the mail" "$MBCTL" import user.raw "$T/mail"
expect_exit 0 "squatter -j 1 indexes it" "$SQUATTER" -j 1 -u raw
sqdb=$(find "$T/search" -type d -name 'xapian.*' | head -1)
expect_exit 0 "rawindex indexes the same Maildir" "$RAW" "$T/raw" "$T/mail"
expect_grep "^$n messages" "$T/out" "rawindex counts every message"

# Every term with its document frequency, then per document (in GUID
# order: the docids differ) its terms with their wdf, its data and values.
dump() {
    xapian-delve -a -v -1 "$1" > "$2.terms"
    : > "$2.docs"
    for g in $(xapian-delve -A Q -1 "$1" | sed 1d | sort); do
        r=$(xapian-delve -t "$g" -1 "$1" | sed -n 's/^ *\([0-9][0-9]*\)$/\1/p' | head -1)
        { echo "$g"; xapian-delve -r "$r" -v -1 "$1" | sed 1d
          xapian-delve -r "$r" -d "$1" | sed 1d; xapian-delve -r "$r" -V "$1" | sed 1d
        } | sed "s/record #[0-9]*/record/" >> "$2.docs"
    done
}
dump "$sqdb" "$T/sq"
dump "$T/raw" "$T/rw"
ndocs=$(grep -c "^Q" "$T/sq.terms")
[ "$ndocs" = "$n" ] && pass "squatter has a document per message" \
                   || fail "squatter has a document per message" "$ndocs of $n"
if cmp -s "$T/sq.terms" "$T/rw.terms"; then
    pass "the same terms with the same frequencies"
else
    fail "the same terms with the same frequencies" "$(diff -a "$T/sq.terms" "$T/rw.terms" | head -20)"
fi
if cmp -s "$T/sq.docs" "$T/rw.docs"; then
    pass "each document: the same terms, wdf, data and values"
else
    fail "each document: the same terms, wdf, data and values" \
         "$(diff -a "$T/sq.docs" "$T/rw.docs" | head -20)"
fi

expect_exit 0 "rawindex -n builds every document" "$RAW" -n "$T/dry" "$T/mail"
expect_grep "^$n messages" "$T/out" "rawindex -n counts every message"
[ ! -e "$T/dry" ] && pass "rawindex -n writes no database" \
                  || fail "rawindex -n writes no database"
expect_exit 0 "rawindex -p 0/2" "$RAW" -n -p 0/2 "$T/dry" "$T/mail"
a=$(sed -n 's/ messages//p' "$T/out")
expect_exit 0 "rawindex -p 1/2" "$RAW" -n -p 1/2 "$T/dry" "$T/mail"
b=$(sed -n 's/ messages//p' "$T/out")
[ $((a + b)) = "$n" ] && pass "two shares cover the Maildir once" \
                      || fail "two shares cover the Maildir once" "$a + $b of $n"
expect_exit 64 "rawindex refuses -p 2/2" "$RAW" -p 2/2 "$T/dry" "$T/mail"
expect_grep "usage: rawindex" "$T/err" "with its usage"

done_testing
