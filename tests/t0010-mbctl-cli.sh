#!/bin/sh
# mbctl's command line: help, usage errors, configuration errors.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

expect_exit 0 "mbctl --help exits 0" "$MBCTL" --help
expect_grep "Usage: mbctl" "$T/out" "--help prints usage on stdout"
expect_exit 0 "mbctl lock --help exits 0 without a config" \
    env XAPIARY_CONFIG=/nonexistent "$MBCTL" lock --help
expect_exit 64 "no command is a usage error" "$MBCTL"
expect_exit 64 "unknown command is a usage error" "$MBCTL" frobnicate
expect_grep "unknown command 'frobnicate'" "$T/err" "usage error names the command"
expect_exit 64 "bad option is a usage error" "$MBCTL" --bogus

printf 'configdirectory: %s/conf\nsearch_batchsize: lots\n' "$T" > "$T/bad.conf"
expect_exit 78 "bad config value exits EX_CONFIG" "$MBCTL" -C "$T/bad.conf" lock user.a true
expect_grep "bad.conf:2: search_batchsize" "$T/err" "bad value names file:line"
expect_exit 78 "missing config exits EX_CONFIG" "$MBCTL" -C "$T/none.conf" lock user.a true
expect_grep "none.conf" "$T/err" "missing config is named"
printf 'configdirectory: %s/conf\nfrobnicate: 1\n' "$T" > "$T/warn.conf"
expect_exit 0 "unknown key only warns" "$MBCTL" -C "$T/warn.conf" lock user.a true
expect_grep "warn.conf:2: unknown key 'frobnicate'" "$T/err" "warning names file:line"
expect_exit 0 "XAPIARY_CONFIG is used without -C" "$MBCTL" lock user.a true

done_testing
