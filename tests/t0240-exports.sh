#!/bin/sh
# The ABI of libxapiary.so (issue 17 points 1 and 2): it exports exactly
# the functions include/xapiary/*.h declare, each under the version node
# that matches the soname, all with the project's prefix, and nothing else
# (no internal function, no C++ template instance, no variable); the tools
# do not load it (they link the convenience library).  What the headers declare is the compiler's view
# (gcc -aux-info), not a parse of our own.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

so="$top_builddir/.libs/libxapiary.so"
CC=${CC:-cc}

if [ ! -f "$so" ]; then
    echo "1..0 # SKIP no shared library (configured with --disable-shared)"
    exit 0
fi
if ! command -v nm > /dev/null 2>&1 || ! command -v readelf > /dev/null 2>&1; then
    echo "1..0 # SKIP nm or readelf not installed"
    exit 0
fi

for h in "$top_srcdir"/include/xapiary/*.h; do
    printf '#include <xapiary/%s>\n' "$(basename "$h")"
done > "$T/all.c"
if ! "$CC" -I"$top_srcdir/include" -aux-info "$T/aux" -fsyntax-only "$T/all.c" 2> "$T/err"; then
    if grep -q "aux-info" "$T/err"; then
        echo "1..0 # SKIP $CC has no -aux-info (GCC's): cannot list the declarations"
        exit 0
    fi
    fail "the public headers compile" "$(cat "$T/err")"
fi
# "/* .../include/xapiary/search.h:108:NC */ extern int xap_search_open (...);"
sed -n 's|^/\* [^ ]*include/xapiary/[^ ]* \*/ extern [^(]*[ *]\([A-Za-z_][A-Za-z0-9_]*\) (.*|\1|p' \
    "$T/aux" | sort -u > "$T/declared"
n=$(wc -l < "$T/declared")
[ "$n" -gt 50 ] && pass "the headers declare $n functions" ||
    fail "the headers declare functions" "only $n: $(cat "$T/aux")"

# Every public function has its own comment (issue 17 point 3): the
# comment right above its declaration names it.
sed -n 's|^/\* \([^ ]*include/xapiary/[^ :]*\):\([0-9]*\):[^ ]* \*/ extern [^(]*[ *]\([A-Za-z_][A-Za-z0-9_]*\) (.*|\1 \2 \3|p' \
    "$T/aux" | while read -r file line name; do
    awk -v line="$line" -v name="$name" '
        { text[NR] = $0 }
        END {
            i = line - 1
            if (text[i] !~ /\*\/[ \t]*$/) exit 1
            for (; i > 0; i--) {
                if (text[i] ~ "(^|[^A-Za-z0-9_])" name "([^A-Za-z0-9_]|$)") exit 0
                if (text[i] ~ /\/\*/) exit 1
            }
            exit 1
        }' "$file" || echo "$(basename "$file"):$line $name"
done > "$T/uncommented"
if [ -s "$T/uncommented" ]; then
    fail "every public function has its own comment naming it" "$(cat "$T/uncommented")"
else
    pass "every public function has its own comment naming it"
fi

soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
case $soname in
    libxapiary.so.[0-9]*) pass "soname $soname" ;;
    *) fail "soname libxapiary.so.N" "got '$soname'" ;;
esac
node=XAPIARY_${soname#libxapiary.so.}

# Every defined dynamic symbol: NAME@@NODE TYPE, the node itself apart.
nm -D --defined-only --with-symbol-versions "$so" |
    awk '{ print $3, $2 }' | sort > "$T/exported"
grep -v "^$node A\$" "$T/exported" > "$T/symbols"
if grep -q "^$node A\$" "$T/exported"; then
    pass "version node $node is defined"
else
    fail "version node $node is defined" "$(head "$T/exported")"
fi
if grep -v "@@$node T\$" "$T/symbols" > "$T/odd"; then
    fail "every exported symbol is a function of node $node" "$(head -20 "$T/odd")"
else
    pass "every exported symbol is a function of node $node"
fi

sed 's/@.*//' "$T/symbols" | sort -u > "$T/names"
if diff "$T/declared" "$T/names" > "$T/diff"; then
    pass "exported = declared in include/xapiary/*.h ($n functions)"
else
    fail "exported = declared in include/xapiary/*.h" \
        "< declared only, > exported only:
$(grep '^[<>]' "$T/diff" | head -40)"
fi

# One prefix for every public name (issue 17 point 2): no clash with
# another library a mail server links (libcom_err's error_message, say).
if grep -v '^xap_' "$T/names" > "$T/unprefixed"; then
    fail "every exported function starts with xap_" "$(cat "$T/unprefixed")"
else
    pass "every exported function starts with xap_"
fi
# Types, struct and enum tags, constants and macros of the headers too
# (the header guards XAPIARY_*_H and anonymous enums and structs apart).
if command -v ctags > /dev/null 2>&1 && ctags --version 2>/dev/null | grep -q Universal; then
    ctags -x --c-kinds=degpstu --language-force=c "$top_srcdir"/include/xapiary/*.h |
        awk '{ print $1 " (" $2 ")" }' |
        grep -v -E '^(xap_|XAP_|XAPIARY_[A-Z]+_H |__anon)' > "$T/untagged" || true
    if [ -s "$T/untagged" ]; then
        fail "every name of the headers starts with xap_ or XAP_" "$(cat "$T/untagged")"
    else
        pass "every name of the headers starts with xap_ or XAP_"
    fi
else
    echo "ok $((_tap_n + 1)) # SKIP Universal Ctags not installed: the headers' types and constants"
    _tap_n=$((_tap_n + 1))
fi

# The tools carry the internal code themselves.
for t in mbctl tools/squatter xsearch lmtpd; do
    bin="$top_builddir/$t"
    # A libtool wrapper script (a shared build of the library) keeps
    # the program in .libs/.
    readelf -h "$bin" > /dev/null 2>&1 ||
        bin="$top_builddir/$(dirname "$t")/.libs/$(basename "$t")"
    if readelf -d "$bin" | grep -q "NEEDED.*libxapiary"; then
        fail "$t does not load libxapiary.so" "$(readelf -d "$bin" | grep NEEDED)"
    else
        pass "$t does not load libxapiary.so"
    fi
done

done_testing
