#!/bin/sh
# squatter and mbctl run on jemalloc when configure found it (the default
# build; docs/PERFORMANCE-CPU.md "The allocator"), and never in a
# sanitizer build, whose ASan brings its own malloc.  Which malloc a
# program really has is asked of the program: jemalloc reads MALLOC_CONF
# and names itself when an option is unknown; glibc and ASan ignore the
# variable.  With jemalloc, an index built while every allocation is
# filled with junk (a read of memory never written or already freed then
# sees garbage) answers as one built without.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

if grep -q '^#define XAPIARY_JEMALLOC 1' "$top_builddir/config.h"; then
    want=jemalloc
else
    want="another malloc"
fi
if grep -q '^SAN_FLAGS = .*-fsanitize' "$top_builddir/Makefile"; then
    if [ "$want" != jemalloc ]; then pass "a sanitizer build keeps ASan's malloc"; else
        fail "a sanitizer build keeps ASan's malloc" "config.h defines XAPIARY_JEMALLOC"; fi
elif command -v pkg-config > /dev/null 2>&1 && pkg-config --exists jemalloc; then
    # The default is jemalloc whenever its pkg-config file is there.
    if [ "$want" = jemalloc ]; then pass "configure chose jemalloc, which is installed"; else
        fail "configure chose jemalloc, which is installed" "config.h has no XAPIARY_JEMALLOC"; fi
fi

# malloc_of PROGRAM: "jemalloc" when PROGRAM's malloc reads MALLOC_CONF.
malloc_of() {
    MALLOC_CONF=xapiary_no_such_option:1 "$1" --help > /dev/null 2> "$T/malloc.err"
    if grep -q '<jemalloc>' "$T/malloc.err"; then echo jemalloc; else echo "another malloc"; fi
}
for prog in "$SQUATTER" "$MBCTL"; do
    got=$(malloc_of "$prog")
    if [ "$got" = "$want" ]; then pass "$(basename "$prog") runs on $want"; else
        fail "$(basename "$prog") runs on $want" "it runs on $got"; fi
done

if [ "$want" = jemalloc ]; then
    "$top_srcdir/scripts/samplemail" --seed 395 --count 300 "$T/md" > /dev/null 2>&1
    expect_exit 0 "create user.a" "$MBCTL" create user.a
    expect_exit 0 "create user.b" "$MBCTL" create user.b
    expect_exit 0 "import into user.a" "$MBCTL" import user.a "$T/md"
    expect_exit 0 "import into user.b" "$MBCTL" import user.b "$T/md"
    # abort_conf: an option this jemalloc lacks (junk needs its fill
    # support) stops the run instead of being ignored.
    expect_exit 0 "squatter indexes user a with junk-filled memory" \
        env MALLOC_CONF=abort_conf:true,junk:true "$SQUATTER" -u a
    expect_exit 0 "squatter indexes user b" "$SQUATTER" -u b
    for q in 'the' 'subject:re' 'from:com' 'body:meeting OR body:report' 'date:2000-01-01..2100-01-01'; do
        a=$("$XSEARCH" -u a --count "$q" 2> "$T/err")
        b=$("$XSEARCH" -u b --count "$q" 2>> "$T/err")
        if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" -gt 0 ]; then
            pass "'$q': $a hits either way"
        else
            fail "'$q': the same hits either way" "junk $a, plain $b; $(cat "$T/err")"
        fi
    done
fi

done_testing
