#!/bin/sh
# systemd units (issue 16, point 6): `make install` puts every unit in
# the unit directory, and `systemd-analyze verify` passes on each, with
# ExecStart pointing at this build's programs.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

units="xapiary-recover.service xapiary-lmtpd.socket xapiary-lmtpd.service
xapiary-squatter.service xapiary-compact.service xapiary-compact.timer
xapiary-expire.service xapiary-expire.timer"

unitdir=$(sed -n 's/^systemdsystemunitdir = //p' "$top_builddir/Makefile")
if [ "$unitdir" = no ]; then
    echo "1..0 # SKIP configured --with-systemdsystemunitdir=no"
    exit 0
fi

make -s -C "$top_builddir" install-systemdsystemunitDATA DESTDIR="$T/dest" \
    > "$T/out" 2> "$T/err" && pass "make install-systemdsystemunitDATA" \
    || fail "make install-systemdsystemunitDATA" "$(cat "$T/err")"
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
if [ "$unitdir" = '${prefix}/lib/systemd/system' ]; then
    dir="$T/dest$prefix/lib/systemd/system"
else
    dir="$T/dest$unitdir"
fi
for u in $units; do
    [ -f "$dir/$u" ] && pass "$u installed in the unit directory" \
        || fail "$u installed in the unit directory" "$(find "$T/dest" -type f)"
done
grep -l '@[a-z]*@' "$dir"/xapiary-* > "$T/left" 2>/dev/null
[ -s "$T/left" ] && fail "no @dir@ left unsubstituted" "$(cat "$T/left")" \
                 || pass "no @dir@ left unsubstituted"

if ! command -v systemd-analyze > /dev/null 2>&1; then
    echo "ok $((_tap_n + 1)) # SKIP systemd-analyze not installed"
    _tap_n=$((_tap_n + 1))
    done_testing
    exit
fi

# systemd-analyze checks the Documentation= pages with man(1): install
# ours beside the units and let man find them there.
make -s -C "$top_builddir" install-man DESTDIR="$T/dest" > "$T/out" 2> "$T/err" \
    && pass "make install-man" || fail "make install-man" "$(cat "$T/err")"
MANPATH=$(find "$T/dest" -type d -name man | head -1)
export MANPATH

# The installed units name programs under bindir, which this build has not
# installed: point them at the built programs instead.
bindir=$(sed -n 's|^ExecStart=\(/.*\)/mbctl .*|\1|p' "$dir/xapiary-recover.service")
mkdir -p "$T/bin" "$T/units"
ln -s "$top_builddir/mbctl" "$T/bin/mbctl"
ln -s "$top_builddir/tools/squatter" "$T/bin/squatter"
ln -s "$top_builddir/xsearch" "$T/bin/xsearch"
[ -x "$top_builddir/lmtpd" ] && ln -s "$top_builddir/lmtpd" "$T/bin/lmtpd"
for u in $units; do
    sed "s|$bindir/|$T/bin/|g" "$dir/$u" > "$T/units/$u"
done
for u in $units; do
    case $u in
    xapiary-lmtpd.*)
        if [ ! -x "$top_builddir/lmtpd" ]; then
            echo "ok $((_tap_n + 1)) # SKIP $u: lmtpd is not built in this tree"
            _tap_n=$((_tap_n + 1))
            continue
        fi ;;
    esac
    if systemd-analyze verify "$T/units/$u" > "$T/out" 2>&1 && [ ! -s "$T/out" ]; then
        pass "systemd-analyze verify $u"
    else
        fail "systemd-analyze verify $u" "$(cat "$T/out")"
    fi
done

done_testing
