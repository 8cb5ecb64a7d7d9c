#!/bin/sh
# Manual pages (issue 16, point 7): mandoc -Tlint finds nothing above
# style in any page, every tool's --help names its page, and every page a
# page or a unit refers to is in the tree.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

pages="mbctl.8 squatter.8 lmtpd.8 xsearch.1 xapiary.conf.5 xapiary-search.7 libxapiary.3"

for p in $pages; do
    [ -s "$top_srcdir/man/$p" ] && pass "man/$p is there" || fail "man/$p is there"
done

if command -v mandoc > /dev/null 2>&1; then
    for p in $pages; do
        if mandoc -Tlint -W warning "$top_srcdir/man/$p" > "$T/lint" 2>&1; then
            pass "mandoc -Tlint -W warning $p"
        else
            fail "mandoc -Tlint -W warning $p" "$(cat "$T/lint")"
        fi
    done
else
    for p in $pages; do
        echo "ok $((_tap_n + 1)) # SKIP mandoc not installed: lint of $p"
        _tap_n=$((_tap_n + 1))
    done
fi

# help_names TEXT DESCRIPTION COMMAND...: --help output has the line TEXT.
help_names() {
    local want=$1 desc=$2
    shift 2
    "$@" --help > "$T/help" 2>&1
    if grep -qxF "$want" "$T/help"; then pass "$desc"; else fail "$desc" "$(tail -3 "$T/help")"; fi
}
help_names "See mbctl(8)." "mbctl --help names mbctl(8)" "$MBCTL"
for c in create delete rename list status append import expunge cat verify \
         reconstruct watch lock expire recover where register; do
    help_names "See mbctl(8)." "mbctl $c --help names mbctl(8)" "$MBCTL" $c
done
help_names "See squatter(8)." "squatter --help names squatter(8)" "$SQUATTER"
help_names "See xsearch(1); the query language: xapiary-search(7)." \
    "xsearch --help names xsearch(1) and xapiary-search(7)" "$XSEARCH"
if [ -x "$top_builddir/lmtpd" ]; then
    help_names "See lmtpd(8)." "lmtpd --help names lmtpd(8)" "$top_builddir/lmtpd"
fi

# Every cross-reference (.Xr in the pages, man: in the units) is a page of
# ours or a system page.
refs=$(cat "$top_srcdir"/man/*.[0-9] | sed -n 's/^\.Xr \([^ ]*\) \([0-9]\).*/\1.\2/p'
       cat "$top_srcdir"/systemd/*.in | grep -o 'man:[^ ]*' | sed 's/man:\([^(]*\)(\([0-9]\))/\1.\2/')
missing=""
for r in $(echo "$refs" | sort -u); do
    case $r in
    sysexits.3|systemd.1) continue ;;
    esac
    [ -f "$top_srcdir/man/$r" ] || missing="$missing $r"
done
[ -z "$missing" ] && pass "every page referred to is in man/" \
                  || fail "every page referred to is in man/" "missing:$missing"

done_testing
