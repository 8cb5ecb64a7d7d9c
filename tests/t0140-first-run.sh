#!/bin/sh
# First run: a server that has only its configuration file (no
# configdirectory, no spool, no search partition).  Every command works
# or says what to do, without source-file locations; the default
# configuration path is the same in --help, the README and the binaries;
# --version everywhere; global options after the mbctl command.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

F="$T/fresh"
mkdir -p "$F"
# tap.sh's configuration, with directories that do not exist.
sed -e "s#$T/conf#$F/lib#" -e "s#$T/spool#$F/spool#" -e "s#$T/search#$F/search#" \
    "$T/xapiary.conf" > "$F/xapiary.conf"
XAPIARY_CONFIG="$F/xapiary.conf"; export XAPIARY_CONFIG
mkdir -p "$T/mail/cur" "$T/mail/new" "$T/mail/tmp"
for i in 1 2 3; do
    printf 'From: Carol <carol@example.org>\nSubject: firstrun note %d\nMessage-ID: <fr%d@example.org>\n\nhello %d\n' \
        "$i" "$i" "$i" > "$T/mail/cur/$i:2,S"
done

# no_source_location DESCRIPTION: $T/err names no file:line of our code.
no_source_location() {
    if grep -q '\.c:[0-9]' "$T/err"; then fail "$1" "$(cat "$T/err")"; else pass "$1"; fi
}

expect_exit 0 "mbctl list on an empty server exits 0" "$MBCTL" list
if [ -s "$T/out" ] || [ -s "$T/err" ]; then
    fail "... and prints nothing" "out: $(cat "$T/out") err: $(cat "$T/err")"
else
    pass "... and prints nothing"
fi
if [ -e "$F/lib" ]; then fail "a read creates nothing" "$(ls -R "$F")"; else pass "a read creates nothing"; fi
expect_exit 0 "squatter with no users exits 0" "$SQUATTER"
expect_exit 0 "squatter -v with no users exits 0" "$SQUATTER" -v
expect_exit 0 "squatter -A with no users exits 0" "$SQUATTER" -A
expect_exit 66 "xsearch for a user that does not exist: EX_NOINPUT" "$XSEARCH" -u alice hello
expect_grep "alice" "$T/err" "... naming the user"
no_source_location "... without a source location"
expect_exit 66 "squatter -u for a user that does not exist: EX_NOINPUT" "$SQUATTER" -u alice
expect_grep "no such user (no mailbox user.alice)" "$T/err" "... saying there is no such user"
if [ "$(wc -l < "$T/err")" -eq 1 ]; then pass "... in one line"; else fail "... in one line" "$(cat "$T/err")"; fi

expect_exit 0 "mbctl import user.x DIR creates user.x" "$MBCTL" import user.x "$T/mail"
"$MBCTL" list > "$T/list"
expect_grep "^user.x$" "$T/list" "user.x is listed"
"$MBCTL" status user.x > "$T/status"
expect_grep "^messages: 3$" "$T/status" "user.x holds the 3 messages"
# No tool makes a search partition (a disk that is away must not be
# replaced by an empty index): squatter says which one and what to do.
expect_exit 65 "squatter before the search partition exists" "$SQUATTER" -u x
expect_grep "search partition $T/fresh/search .* missing.*mkdir -m 0700 $T/fresh/search" \
    "$T/err" "... names it and says how to create it"
no_source_location "... without a source location"
mkdir -m 0700 "$T/fresh/search"
expect_exit 0 "squatter indexes the new user" "$SQUATTER" -u x
expect_exit 0 "xsearch finds its mail" "$XSEARCH" -u x --count firstrun
expect_grep "^3$" "$T/out" "... all 3 messages"

# A configdirectory that cannot be made: the message says what to do.
printf 'configdirectory: %s/afile/lib\npartition-default: %s/spool\n' "$F" "$F" > "$F/bad.conf"
: > "$F/afile"
expect_exit 74 "an impossible configdirectory is an error" "$MBCTL" -C "$F/bad.conf" create user.y
expect_grep "configdirectory $F/afile/lib: cannot create it" "$T/err" "... naming the configdirectory"
expect_grep "set configdirectory in $F/bad.conf" "$T/err" "... and what to do"
no_source_location "... without a source location"

# The default configuration file: --help, the binaries and the README agree.
default=$(env -u XAPIARY_CONFIG "$MBCTL" --help | sed -n 's/.*else \(\/[^)]*\)).*/\1/p')
case "$default" in
    /*) pass "mbctl --help names the default configuration ($default)" ;;
    *) fail "mbctl --help names the default configuration" "$(env -u XAPIARY_CONFIG "$MBCTL" --help)" ;;
esac
for tool in "$SQUATTER" "$XSEARCH"; do
    "$tool" --help > "$T/out"
    expect_grep "else $default)" "$T/out" "$(basename "$tool") --help names the same default"
done
expect_grep "$default" "$top_srcdir/README.md" "the README names the same default"
if [ -e "$default" ]; then
    pass "# SKIP $default exists here: the binaries' default is not observable"
else
    expect_exit 78 "without -C or XAPIARY_CONFIG the binaries read the default" \
        env -u XAPIARY_CONFIG "$MBCTL" list
    expect_grep "configuration $default: No such file" "$T/err" "... and name it"
    expect_grep "name another with -C FILE or XAPIARY_CONFIG" "$T/err" "... saying what to do"
    no_source_location "... without a source location"
fi

# --version on every tool.
for tool in "$MBCTL" "$SQUATTER" "$XSEARCH"; do
    name=$(basename "$tool")
    expect_exit 0 "$name --version exits 0" env XAPIARY_CONFIG=/nonexistent "$tool" --version
    expect_grep "^$name (xapiary) [0-9][0-9.]*$" "$T/out" "$name --version prints the version"
done

# mbctl create without user.: a shared mailbox, and said so.
expect_exit 0 "mbctl create -v NAME" "$MBCTL" create -v bob
expect_grep "bob: created a shared mailbox" "$T/err" "... says it made a shared mailbox"
expect_exit 0 "mbctl create NAME, not on a terminal" "$MBCTL" create carol
if [ -s "$T/err" ]; then fail "... says nothing" "$(cat "$T/err")"; else pass "... says nothing"; fi
expect_exit 0 "mbctl -v create user.dave" "$MBCTL" -v create user.dave
if grep -q shared "$T/err"; then fail "... is no shared mailbox" "$(cat "$T/err")"; else pass "... is no shared mailbox"; fi
if command -v script > /dev/null; then
    script -qec "'$MBCTL' create erin" /dev/null > "$T/tty" 2>&1
    expect_grep "erin: created a shared mailbox" "$T/tty" "on a terminal, create says so without -v"
else
    pass "# SKIP no script(1) to give mbctl a terminal"
fi

# Global options before or after the command.
expect_exit 0 "mbctl list -C FILE (after the command)" \
    env XAPIARY_CONFIG=/nonexistent "$MBCTL" list -C "$F/xapiary.conf"
expect_grep "^user.x$" "$T/out" "... reads that file"
expect_exit 0 "mbctl -C FILE list (before)" env XAPIARY_CONFIG=/nonexistent "$MBCTL" -C "$F/xapiary.conf" list
expect_grep "^user.x$" "$T/out" "... reads that file"
expect_exit 0 "mbctl import -v MAILBOX DIR" "$MBCTL" import -v user.y "$T/mail"
expect_grep "user.y: imported 3 messages" "$T/err" "... -v after import prints progress"
expect_exit 0 "mbctl import MAILBOX DIR -v" "$MBCTL" import user.z "$T/mail" -v
expect_grep "user.z: imported 3 messages" "$T/err" "... -v after the arguments too"
expect_exit 0 "mbctl -v import MAILBOX DIR" "$MBCTL" -v import user.w "$T/mail"
expect_grep "user.w: imported 3 messages" "$T/err" "... -v before the command"
expect_exit 0 "mbctl import without -v" "$MBCTL" import user.v "$T/mail"
if [ -s "$T/err" ]; then fail "... is quiet" "$(cat "$T/err")"; else pass "... is quiet"; fi
expect_exit 0 "mbctl lock leaves the options of its command alone" \
    "$MBCTL" lock -n user.x echo -v -C x
expect_grep "^-v -C x$" "$T/out" "... the command got -v -C x"

# The sample configuration parses and runs a server once its paths are set.
S="$T/sample"
sed -e "s#/var/lib/xapiary#$S/lib#g" -e "s#/var/spool/xapiary#$S/spool#g" \
    -e "s#/srv/xapiary#$S/srv#g" "$top_srcdir/docs/xapiary.conf.sample" > "$T/sample.conf"
expect_exit 0 "the sample configuration works (mbctl import)" \
    "$MBCTL" -C "$T/sample.conf" import user.s "$T/mail"
mkdir -p "$S/lib/search-t1"     # as the sample's comment says
expect_exit 0 "... (squatter)" "$SQUATTER" -C "$T/sample.conf" -u s
expect_exit 0 "... (xsearch)" "$XSEARCH" -C "$T/sample.conf" -u s --count firstrun
expect_grep "^3$" "$T/out" "... finds the mail"

done_testing
