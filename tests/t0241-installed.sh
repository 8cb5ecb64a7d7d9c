#!/bin/sh
# The installed library as a program outside the tree sees it (issue 17,
# the ABI test): `make install` of the library, its headers, xapiary.pc,
# the documents and pages into a temporary DESTDIR; every public header
# compiles alone (C11 -pedantic, and as C++); tests/external/abi_prog.c,
# which uses every header, builds with nothing but `pkg-config --cflags
# --libs xapiary` and runs against the installed libxapiary.so; and no
# installed header cites a document that is not installed.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

CC=${CC:-cc}
if [ ! -f "$top_builddir/.libs/libxapiary.so" ]; then
    echo "1..0 # SKIP no shared library (configured with --disable-shared)"
    exit 0
fi
if ! command -v pkg-config > /dev/null 2>&1; then
    echo "1..0 # SKIP pkg-config not installed"
    exit 0
fi

# Only the library's parts: the tools are not needed to build against it.
# MAKEFLAGS of a `make check` that runs us is not for this make.
inst=$T/inst
if env -u MAKEFLAGS -u MFLAGS make -s -C "$top_builddir" DESTDIR="$inst" \
        install-libLTLIBRARIES install-pkgincludeHEADERS install-pkgconfigDATA \
        install-dist_docDATA install-man > "$T/install" 2>&1; then
    pass "make install DESTDIR (library, headers, xapiary.pc, docs, pages)"
else
    fail "make install DESTDIR" "$(tail -20 "$T/install")"
fi
pc=$(find "$inst" -name xapiary.pc)
lib=$(find "$inst" -name 'libxapiary.so.*' -type f)
incdir=$(find "$inst" -type d -path '*/include/xapiary')
docdir=$(dirname "$(find "$inst" -name FORMAT.md)")
mandir=$(dirname "$(dirname "$(find "$inst" -name libxapiary.3)")")
if [ -n "$pc" ] && [ -n "$lib" ] && [ -n "$incdir" ] && [ -d "$docdir" ] && [ -d "$mandir" ]; then
    pass "installed: $(echo "$pc $lib $incdir $docdir $mandir" | sed "s|$inst||g")"
else
    fail "installed xapiary.pc, libxapiary.so, headers, docs and pages" "$(find "$inst")"
    done_testing
    exit
fi

# pkg-config as a program outside the tree uses it; SYSROOT puts the
# DESTDIR in front of the paths it prints.
PKG_CONFIG_PATH=$(dirname "$pc"); PKG_CONFIG_SYSROOT_DIR=$inst
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
if flags=$(pkg-config --cflags --libs xapiary 2> "$T/err"); then
    pass "pkg-config --cflags --libs xapiary: $flags"
else
    fail "pkg-config --cflags --libs xapiary" "$(cat "$T/err")"
fi
# The headers alone: each one, nothing else, warnings are errors.
for h in "$incdir"/*.h; do
    name=xapiary/$(basename "$h")
    printf '#include <%s>\n' "$name" > "$T/one.c"
    # shellcheck disable=SC2086
    if "$CC" -std=c11 -pedantic -Wall -Wextra -Werror $flags -fsyntax-only "$T/one.c" 2> "$T/err"; then
        pass "<$name> compiles alone (C11)"
    else
        fail "<$name> compiles alone (C11)" "$(cat "$T/err")"
    fi
    if command -v c++ > /dev/null 2>&1; then
        cp "$T/one.c" "$T/one.cc"
        # shellcheck disable=SC2086
        if c++ -std=c++17 -Wall -Wextra -Werror $flags -fsyntax-only "$T/one.cc" 2> "$T/err"; then
            pass "<$name> compiles alone (C++)"
        else
            fail "<$name> compiles alone (C++)" "$(cat "$T/err")"
        fi
    fi
done

# Every header the program includes is every header installed.
for h in "$incdir"/*.h; do
    grep -q "#include <xapiary/$(basename "$h")>" "$top_srcdir/tests/external/abi_prog.c" ||
        fail "abi_prog.c includes <xapiary/$(basename "$h")>"
done
# A sanitizer build's library needs the sanitizers' runtime in the
# program too: their flags, and nothing else, are added.
san=$(sed -n 's/^SAN_FLAGS = //p' "$top_builddir/Makefile")
# shellcheck disable=SC2046,SC2086
if "$CC" -Wall -Wextra -Werror $san -o "$T/abi_prog" "$top_srcdir/tests/external/abi_prog.c" \
        $(pkg-config --cflags --libs xapiary) 2> "$T/err"; then
    pass "abi_prog.c builds with pkg-config's flags only"
else
    fail "abi_prog.c builds with pkg-config's flags only" "$(cat "$T/err")"
fi
if LD_LIBRARY_PATH=$(dirname "$lib") ldd "$T/abi_prog" | grep -q "libxapiary.so.* => $inst"; then
    pass "abi_prog loads the installed libxapiary.so"
else
    fail "abi_prog loads the installed libxapiary.so" "$(LD_LIBRARY_PATH=$(dirname "$lib") ldd "$T/abi_prog")"
fi
expect_exit 0 "abi_prog runs" env LD_LIBRARY_PATH="$(dirname "$lib")" "$T/abi_prog" "$XAPIARY_CONFIG"
expect_grep "^log 3 .*/nonexistent/xapiary.conf" "$T/out" "the hook got init's error with the path"
expect_grep "^init missing: Configuration error" "$T/out" "and init returned XAP_IMAP_CONFIG"
expect_grep "^version $(pkg-config --modversion xapiary)\$" "$T/out" "xap_version() is xapiary.pc's version"
expect_grep "^uid 1 exists 1\$" "$T/out" "a message appended through mailbox.h"
expect_grep "^entry user.ext default type ''\$" "$T/out" "its record through mboxlist.h"
expect_grep "^locked user.ext 1\$" "$T/out" "its namelock through namelock.h"
expect_grep "^xap_search_run: " "$T/out" "a search through search.h"
expect_grep "^xap_search_run bad: .*syntax" "$T/out" "a syntax error through search.h"
expect_grep "^open missing: .*does not exist" "$T/out" "an error code through xap_error_message()"
[ -s "$T/err" ] && fail "abi_prog wrote nothing on stderr (the hook has every line)" "$(cat "$T/err")" ||
    pass "abi_prog wrote nothing on stderr (the hook has every line)"

# No installed header cites a document that is not installed: every
# NAME.md is in the documentation directory, every page(N) installed, and
# nothing of the source tree (docs/, seeds, the spec, a .c file) is named.
for h in "$incdir"/*.h; do
    name=$(basename "$h")
    bad=$(grep -n -E 'docs/|seeds|spec section|\b(common|mailbox|cwrap|xapianlock|squatter|tools|tests)/[a-z_-]+\.' "$h")
    [ -z "$bad" ] && pass "$name names nothing of the source tree" ||
        fail "$name names nothing of the source tree" "$bad"
    for md in $(grep -o -E '\b[A-Z]+\.md\b' "$h" | sort -u); do
        [ -f "$docdir/$md" ] && pass "$name cites $md: installed" ||
            fail "$name cites $md: installed" "not in $docdir"
    done
    for page in $(grep -o -E '\b[a-z][a-z.-]*\([1-8]\)' "$h" | sort -u); do
        sect=$(echo "$page" | sed 's/.*(\(.\))/\1/'); base=${page%(*}
        case $base in
            # pages of other packages (the C library, talloc, syslog)
            syslog|talloc*|printf|open|flock|fork|fcntl) continue ;;
        esac
        [ -f "$mandir/man$sect/$base.$sect" ] && pass "$name cites $page: installed" ||
            fail "$name cites $page: installed" "no $mandir/man$sect/$base.$sect"
    done
done

done_testing
