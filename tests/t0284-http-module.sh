#!/bin/sh
# The etcd client's HTTP module (mailbox/http.h): the library and the
# programs do not link libcurl, a site without a cluster runs without the
# module, and a cluster whose module cannot be loaded fails loudly, naming
# the file and the cause, and leaves nothing behind.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "$top_srcdir/tests/cluster.sh"

# needs FILE: the shared libraries FILE names as needed, one per line.
needs() {
    LC_ALL=C readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
}
for f in "$top_builddir/.libs/libxapiary.so" "$MBCTL" "$SQUATTER" "$XSEARCH" \
         "$top_builddir/lmtpd"; do
    [ -f "$f" ] || { fail "$(basename "$f") is built"; continue; }
    if needs "$f" | grep -q curl; then
        fail "$(basename "$f") does not need libcurl" "$(needs "$f" | tr '\n' ' ')"
    else
        pass "$(basename "$f") does not need libcurl"
    fi
done
needs "$top_builddir/.libs/xapiary_http.so" | grep -q curl &&
    pass "the module needs libcurl" || fail "the module needs libcurl"

start_etcd 1
backend be1
export XAPIARY_MODULEDIR="$T/nomodule"
mkdir -p "$XAPIARY_MODULEDIR"

expect_exit 78 "no module: a cluster create fails as a configuration error" \
    $MBCTL -C "$T/be1.conf" create -s be1 user.alice
expect_grep "xapiary_http.so" "$T/err" "... naming the module's file"
expect_grep "No such file" "$T/err" "... and the cause"
[ -z "$(debris be1 alice)" ] && pass "... and leaves no record or file" ||
    fail "... and leaves no record or file" "$(debris be1 alice)"

# The same site without the cluster: nothing loads the module.
sed '/^cluster_registry:/d; /^etcd_endpoints:/d' "$T/be1.conf" > "$T/local.conf"
expect_exit 0 "no module, no cluster: a user is created" \
    $MBCTL -C "$T/local.conf" create user.bob
printf 'Subject: hello\n\nsome words\n' > "$T/msg"
expect_exit 0 "... mail is delivered" $MBCTL -C "$T/local.conf" append user.bob "$T/msg"
expect_exit 0 "... indexed" "$SQUATTER" -C "$T/local.conf" -u bob
expect_exit 0 "... and found" "$XSEARCH" -C "$T/local.conf" -u bob --count words
expect_grep "^1$" "$T/out" "... once"

unset XAPIARY_MODULEDIR
expect_exit 0 "with the module: the cluster create works" \
    env XAPIARY_MODULEDIR="$top_builddir/.libs" $MBCTL -C "$T/be1.conf" create -s be1 user.alice
done_testing
