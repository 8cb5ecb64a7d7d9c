#!/bin/sh
# A batch's GUIDs are looked up in GUID order, not UID order (a Xapian
# cursor keeps the blocks of its last look-up).  Copies in one batch, met
# in any order, are still one document each: the lowest UID of a GUID is
# indexed and the others marked; and when that first one's file is gone,
# a later copy stands in for it, and the copies after the stand-in are
# marked, not indexed again.  With one writer and with two.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

echo "search_batchsize: 4" >> "$XAPIARY_CONFIG"

# msg FILE WORD: a message with its own Message-ID and the word WORD
msg() {
    printf 'From: %s@example.com\nSubject: order %s\nMessage-ID: <%s@example.com>\n\norderword %s\n' \
        "$2" "$2" "$2" "$2" > "$T/$1"
}
for w in alpha bravo charlie delta echo; do msg "$w" "$w"; done
# UIDs 1..8: A B A C B A D E (A, B repeated, interleaved)
MSGS="alpha bravo alpha charlie bravo alpha delta echo"

# count USER QUERY WANT
count() {
    local got
    got=$("$XSEARCH" -u "$1" --count "$2" 2> "$T/xs.err")
    [ "$got" = "$3" ] && pass "$1: '$2' found at $3 location(s)" ||
        fail "$1: '$2' found at $3 location(s)" "got '$got' $(cat "$T/xs.err")"
}

for j in 1 2; do
    U=p$j
    expect_exit 0 "create user.$U" "$MBCTL" create "user.$U"
    (cd "$T" && "$MBCTL" append "user.$U" $MSGS > /dev/null)
    expect_exit 0 "-j $j indexes 8 messages" "$SQUATTER" -v -j $j -u "$U"
    expect_grep ": 5 indexed (.*), 3 already indexed (copies), 0 vanished" "$T/err" \
        "-j $j: 5 documents, 3 copies only marked"
    count "$U" orderword 8
    count "$U" alpha 3
    count "$U" bravo 2
    count "$U" echo 1
    expect_exit 0 "-j $j: audit" "$SQUATTER" -A -u "$U"
    [ -s "$T/out" ] && fail "-j $j: every UID indexed" "$(cat "$T/out")" \
                    || pass "-j $j: every UID indexed"

    # The first alpha's file (UID 1) gone before the run: UID 3 stands in.
    U=q$j
    expect_exit 0 "create user.$U" "$MBCTL" create "user.$U"
    (cd "$T" && "$MBCTL" append "user.$U" $MSGS > /dev/null)
    f=$(find "$T/spool" -path "*/user/$U/1.")
    [ -n "$f" ] && rm "$f"
    expect_exit 0 "-j $j indexes with UID 1's file gone" "$SQUATTER" -v -j $j -u "$U"
    expect_grep ": 5 indexed (.*), 2 already indexed (copies), 1 vanished" "$T/err" \
        "-j $j: a later copy of alpha indexed in place of the vanished first"
    "$XSEARCH" -u "$U" alpha > "$T/hits" 2> "$T/xs.err"
    [ -s "$T/hits" ] && pass "-j $j: alpha is found" || fail "-j $j: alpha is found" "$(cat "$T/xs.err")"

    # One batch of alpha, bravo, alpha, alpha with UID 1's file gone: UID 3
    # stands in, and UID 4 is a copy of it (put once, counted once).
    U=r$j
    expect_exit 0 "create user.$U" "$MBCTL" create "user.$U"
    (cd "$T" && "$MBCTL" append "user.$U" alpha bravo alpha alpha > /dev/null)
    f=$(find "$T/spool" -path "*/user/$U/1.")
    [ -n "$f" ] && rm "$f"
    expect_exit 0 "-j $j indexes one batch with UID 1's file gone" "$SQUATTER" -v -j $j -u "$U"
    expect_grep ": 2 indexed (.*), 1 already indexed (copies), 1 vanished" "$T/err" \
        "-j $j: one stand-in indexed, the copy after it only marked"
    count "$U" bravo 1
done
done_testing
