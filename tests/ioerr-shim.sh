# ioerr-shim.sh - sourced after tap.sh by the tests that preload the
# I/O-error shim (tests/ioerr_shim.c): sets SHIM, or skips the whole
# test, saying why, where the shim is not built, cannot be preloaded
# (ASan's runtime must come first) or does not see this build's calls
# (it finds them through libxapiary's dynamic symbols).
SHIM="$top_builddir/tests/.libs/ioerr_shim.so"
if [ ! -f "$SHIM" ]; then
    pass "# SKIP the shim tests/.libs/ioerr_shim.so is not built"
    done_testing; exit
fi
LD_PRELOAD="$SHIM" XAPIARY_IOERR_COUNT="$T/shim.cnt" "$MBCTL" list > /dev/null 2> "$T/shim.err"
if ! grep -q '^open [1-9]' "$T/shim.cnt" 2> /dev/null; then
    pass "# SKIP the shim cannot be preloaded or sees no call: $(head -1 "$T/shim.err")"
    done_testing; exit
fi
