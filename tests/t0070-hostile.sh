#!/bin/sh
# Mail no one should send: each is appended, indexed and verified; the
# mailbox stays sound and the rest of the mail stays searchable.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

GEN="$top_builddir/tests/hostile_gen"
expect_exit 0 "create user.h" "$MBCTL" create user.h
# Full sizes (64 MiB header, 200 MiB body) unless XAPIARY_HOSTILE_SMALL
# (scripts/check sets it for the sanitizer build, where they take minutes).
scale() {
    case "${XAPIARY_HOSTILE_SMALL:-}:$1" in
        1:header) echo 2 ;;
        1:body) echo 8 ;;
        *) echo "" ;;
    esac
}
for kind in nest header nul charset encoding parts body boundary; do
    "$GEN" $kind $(scale $kind) > "$T/$kind" || { fail "generate $kind"; continue; }
    expect_exit 0 "append $kind ($(wc -c < "$T/$kind") bytes)" "$MBCTL" append user.h "$T/$kind"
    rm -f "$T/$kind"
    expect_exit 0 "index $kind" "$SQUATTER" -u h
done
expect_exit 0 "verify after hostile mail" "$MBCTL" verify user.h
expect_exit 0 "status" "$MBCTL" status user.h
expect_grep "^messages: 8$" "$T/out" "all eight stored"
expect_exit 0 "audit" "$SQUATTER" -A -u h
[ -s "$T/out" ] && fail "all indexed" "$(cat "$T/out")" || pass "all indexed"
# Text deeper than MESSAGE_MAX_DEPTH (32) or past MESSAGE_MAX_PARTS (1,000)
# is stored but not indexed: the bounds that keep memory and time finite.
got=$("$XSEARCH" -u h --count 'subject:nest')
[ "$got" = 1 ] && pass "the 10,000-deep message is indexed (its headers)" || fail "subject:nest: $got"
got=$("$XSEARCH" -u h --count 'hostilenest')
[ "$got" = 0 ] && pass "text below depth 32 is not indexed" || fail "hostilenest: $got"
for w in hostileheader hostilenul hostilecharset hostileencoding hostileparts \
         hostilebody hostileboundary; do
    got=$("$XSEARCH" -u h --count "$w" 2> "$T/err")
    [ "$got" = 1 ] && pass "$w found" || fail "$w found: '$got'" "$(cat "$T/err")"
done
got=$("$XSEARCH" -u h --count 'attachment:f998.bin')
[ "$got" = 1 ] && pass "attachment names within the part limit are searchable" || fail "attachment f998: $got"
got=$("$XSEARCH" -u h --count 'attachment:f19999.bin')
[ "$got" = 0 ] && pass "parts past the limit of 1,000 are not" || fail "attachment f19999: $got"
expect_exit 0 "the big messages verify" "$MBCTL" verify user.h
got=$("$XSEARCH" -u h --count 'subject:nul')
[ "$got" = 1 ] && pass "a subject with a NUL byte is searchable" || fail "subject with NUL: $got"

done_testing
