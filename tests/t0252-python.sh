#!/bin/sh
# The Python binding (bindings/python): its pytest suite against the
# library and tools of this build.  Skipped without python3-cffi or
# python3-pytest (scripts/deps installs them).
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

# libxapiary.so.N, whatever N the -version-info in Makefile.am gives.
lib=$(ls "$top_builddir"/.libs/libxapiary.so.* 2> /dev/null | grep -E '\.so\.[0-9]+$' | head -1)
# The first Python that has both (the system's, where Debian installs
# them, may come after another in PATH).
py=""
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import cffi, pytest' 2> /dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then
    pass "# SKIP python3-cffi or python3-pytest missing (scripts/deps)"
elif [ -z "$lib" ]; then
    pass "# SKIP no shared libxapiary in this build"
elif nm -D "$lib" 2> /dev/null | grep -q ' U __\(asan\|ubsan\)_'; then
    # Python itself is not built with the sanitizers: their runtime would
    # have to be preloaded into the interpreter, which is not this test.
    pass "# SKIP a sanitizer build's library cannot be loaded into python3"
else
    if XAPIARY_LIBRARY="$lib" XAPIARY_MBCTL="$MBCTL" XAPIARY_SQUATTER="$SQUATTER" \
       PYTHONPATH="$top_srcdir/bindings/python" PYTHONDONTWRITEBYTECODE=1 \
       "$py" -m pytest -q -p no:cacheprovider --basetemp="$T/pytest" \
           "$top_srcdir/bindings/python/tests" > "$T/out" 2>&1; then
        pass "pytest bindings/python: $(tail -1 "$T/out")"
    else
        fail "pytest bindings/python" "$(tail -60 "$T/out")"
    fi
fi
done_testing
