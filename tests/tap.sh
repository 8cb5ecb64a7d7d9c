# tap.sh - sourced by the shell tests: a fresh server tree in $T and TAP
# output.  Each test script calls `plan N` (or `done_testing` at the end)
# and reports with `ok COND-EXIT-STATUS DESCRIPTION` helpers below.
set -u

: "${top_builddir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
MBCTL="$top_builddir/mbctl"
SQUATTER="$top_builddir/tools/squatter"
XSEARCH="$top_builddir/xsearch"

_tap_n=0
_tap_failed=0

T=$(mktemp -d /tmp/xapiary-shtest-XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/conf" "$T/search"   # no tool makes a search partition
cat > "$T/xapiary.conf" <<CONF
configdirectory: $T/conf
partition-default: $T/spool
t1searchpartition-default: $T/search
defaultsearchtier: t1
CONF
export XAPIARY_CONFIG="$T/xapiary.conf"

# pass DESCRIPTION / fail DESCRIPTION [DETAIL]
pass() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
fail() {
    _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1))
    echo "not ok $_tap_n - $1"
    [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/# /'
    return 0
}

# expect_exit CODE DESCRIPTION COMMAND... : runs COMMAND, keeps its stderr
# in $T/err and stdout in $T/out, passes when it exits with CODE.
expect_exit() {
    local want=$1 desc=$2 got
    shift 2
    "$@" > "$T/out" 2> "$T/err"
    got=$?
    if [ "$got" -eq "$want" ]; then
        pass "$desc"
    else
        fail "$desc" "exit $got, want $want; stderr: $(cat "$T/err")"
    fi
}

# expect_grep PATTERN FILE DESCRIPTION
expect_grep() {
    if grep -q -- "$1" "$2"; then pass "$3"; else fail "$3" "no '$1' in: $(cat "$2")"; fi
}

done_testing() {
    echo "1..$_tap_n"
    [ "$_tap_failed" -eq 0 ]
}
