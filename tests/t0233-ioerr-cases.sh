#!/bin/sh
# The failures the I/O-error sweeps found, each aimed at with
# XAPIARY_IOERR_PATH (only the calls on one file count) so that the case
# is tried whatever the sweeps' sampling:
#  - an fsync of xapiary.index failing in an append's or an expunge's
#    commit: the message file of a record that stays (the header put
#    back after a failed last step; the expunge's unlink not run) must
#    stay, `mbctl verify` must pass;
#  - the GUID db failing to open for an I/O error: exit 74, not a "bad
#    format" (65);
#  - an expunge or an append whose GUID db update failed: the repack at
#    close, or else the next squatter run, catches the db up (searches
#    found the expunged message for good, and missed the appended one
#    until the mailbox's next commit);
#  - Xapian's lock file failing to open: exit 74, not 75 ("locked, retry");
#  - a user rename whose rmdir of the old user's directory failed: exit
#    0 and the directory left for good;
#  - a source's docdata or position table of a compaction failing to
#    open, which Xapian takes for a missing table: the compaction must
#    fail, not write a database without the documents' data; a search
#    must fail, not answer without them;
#  - an append's input file failing to open (EIO): exit 66, "no such
#    input", where an I/O error is 74 (a missing file stays 66);
#  - a SQLite database's -wal or -shm failing to open: the message gave
#    the errno of SQLite's read-only retry ("No such file or directory"),
#    not the cause; the database itself failing to open read-write: the
#    retry opened it read-only, and the first write failed with no cause
#    ("attempt to write a readonly database").
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

. "${top_srcdir:-$(dirname "$0")/..}/tests/ioerr-shim.sh"
mkdir -p "$T/search2"
echo "t2searchpartition-default: $T/search2" >> "$XAPIARY_CONFIG"

msg() {
    printf 'From: x%d@example.com\nSubject: word %d\nMessage-ID: <m%d@example.com>\n\nbody word number%d\n' \
        "$1" "$1" "$1" "$1" > "$T/m$1"
}
for i in 1 2 3 4 5; do msg $i; done
msgs() { "$MBCTL" status user.a | sed -n 's/^messages: //p'; }

"$MBCTL" create user.a && "$MBCTL" append user.a "$T/m1" "$T/m2" "$T/m3" > /dev/null &&
    "$SQUATTER" -u a && "$SQUATTER" -z t2 -t t1 -u a && "$MBCTL" append user.a "$T/m4" > /dev/null &&
    "$SQUATTER" -u a
[ $? -eq 0 ] && pass "the starting state" || fail "the starting state"
(cd "$T" && tar cf base.tar conf spool search search2)
restore() { (cd "$T" && rm -rf conf spool search search2 && tar xf base.tar); }

# calls OP STRING CMD...: how many calls of OP on files named STRING CMD makes
calls() {
    local op=$1 path=$2
    shift 2
    restore
    rm -f "$T/cnt"
    LD_PRELOAD="$SHIM" XAPIARY_IOERR_PATH="$path" XAPIARY_IOERR_COUNT="$T/cnt" "$@" > /dev/null 2>&1
    awk -v op="$op" '$1 == op { print $2 }' "$T/cnt"
}

# inject OP:N STRING CMD...: CMD with that call failing; exit in $rc
inject() {
    local spec=$1 path=$2
    shift 2
    restore
    LD_PRELOAD="$SHIM" XAPIARY_IOERR="$spec" XAPIARY_IOERR_PATH="$path" "$@" > "$T/out" 2> "$T/err"
    rc=$?
}

# --- every fsync of xapiary.index in an append, then in an expunge
for cmd in append expunge; do
    if [ $cmd = append ]; then set -- "$MBCTL" append user.a "$T/m5"; want="4 5"
    else set -- "$MBCTL" expunge user.a 2; want="4 3"; fi
    total=$(calls fsync xapiary.index "$@")
    [ "${total:-0}" -ge 2 ] && pass "$cmd: $total fsyncs of xapiary.index" \
                            || fail "$cmd: fsyncs of xapiary.index counted" "$total"
    n=1
    while [ "$n" -le "${total:-0}" ]; do
        inject "fsync:$n" xapiary.index "$@"
        [ "$rc" -eq 74 ] && pass "$cmd, fsync $n of xapiary.index fails: exit 74" \
                         || fail "$cmd, fsync $n of xapiary.index fails: exit 74" "exit $rc: $(cat "$T/err")"
        expect_exit 0 "$cmd, fsync $n of xapiary.index: mbctl verify passes" "$MBCTL" verify user.a
        got=$(msgs)
        case " $want " in *" $got "*) pass "$cmd, fsync $n: $got messages, as before or after" ;;
            *) fail "$cmd, fsync $n: messages before or after" "$got, want one of $want" ;; esac
        n=$((n + 1))
    done
done

# --- the GUID db does not open: every open of it
total=$(calls open guid.db "$SQUATTER" -u a)
[ "${total:-0}" -ge 1 ] && pass "squatter: $total opens of the GUID db" || fail "squatter: opens of the GUID db counted"
n=1
bad=""
while [ "$n" -le "${total:-0}" ]; do
    inject "open:$n" guid.db "$SQUATTER" -u a
    [ "$rc" -eq 0 ] || [ "$rc" -eq 74 ] || bad="$bad open:$n exit $rc ($(head -1 "$T/err"))"
    n=$((n + 1))
done
[ -z "$bad" ] && pass "an I/O error opening the GUID db is an I/O error (exit 74)" \
              || fail "an I/O error opening the GUID db is an I/O error (exit 74)" "$bad"

# --- an append's input file that does not open: 74 for an I/O error,
# 66 for a file that is not there; the mailbox is as before
inject open:1 '/m5$' "$MBCTL" append user.a "$T/m5"
[ "$rc" -eq 74 ] && grep -q "m5: Input/output error" "$T/err" && [ "$(msgs)" = 4 ] &&
    pass "append, the input file does not open (EIO): exit 74, named, nothing appended" ||
    fail "append, the input file does not open (EIO): exit 74, named, nothing appended" \
         "exit $rc, $(msgs) messages: $(cat "$T/err")"
expect_exit 66 "append of a file that does not exist: exit 66" "$MBCTL" append user.a "$T/nosuch"

# --- a -wal or -shm that does not open: the error gives the cause, not
# the ENOENT of SQLite's read-only retry
for f in guid.db-wal:EIO:Input/output guid.db-shm:ENOSPC:'No space left' \
         mailboxes.db-wal:EDQUOT:'quota exceeded' mailboxes.db-shm:EIO:Input/output; do
    file=${f%%:*}; err=${f#*:}; cause=${err#*:}; err=${err%%:*}
    inject "open:1:$err" "$file" "$SQUATTER" -u a
    [ "$rc" -eq 74 ] && grep -q "$cause" "$T/err" && ! grep -q "No such file" "$T/err" &&
        pass "$file does not open ($err): exit 74, the message gives the cause" ||
        fail "$file does not open ($err): exit 74, the message gives the cause" "exit $rc: $(cat "$T/err")"
done

inject open:1 'mailboxes.db$' "$MBCTL" rename user.a user.a2
[ "$rc" -eq 74 ] && grep -q "mailboxes.db: open: .*Input/output error" "$T/err" &&
    "$MBCTL" status user.a > /dev/null 2>&1 &&
    pass "mailboxes.db does not open read-write: a rename fails giving the cause" ||
    fail "mailboxes.db does not open read-write: a rename fails giving the cause" "exit $rc: $(cat "$T/err")"

# --- an expunge whose GUID db update fails: the mailbox is committed (the
# update is best effort, and said so); the next squatter run catches up,
# and no search finds the expunged message after it
inject write:1 guid.db-wal "$MBCTL" expunge user.a 2
expect_grep "GUID db not updated" "$T/err" "expunge, the GUID db fails: a warning naming it"
[ "$(msgs)" = 3 ] && pass "expunge, the GUID db fails: the mailbox is expunged" \
                  || fail "expunge, the GUID db fails: the mailbox is expunged" "$(msgs)"
expect_exit 0 "the next squatter run" "$SQUATTER" -u a
"$XSEARCH" -u a word > "$T/found" 2>&1
awk '$1 == "user.a" && $2 == 2' "$T/found" | grep -q . \
    && fail "after it no search finds the expunged message" "$(cat "$T/found")" \
    || pass "after it no search finds the expunged message"
[ "$(wc -l < "$T/found")" = 3 ] && pass "and the other three are found" \
                                || fail "and the other three are found" "$(cat "$T/found")"

# an append whose GUID db update fails: the message is found once the
# next squatter run has indexed it
inject write:1 guid.db-wal "$MBCTL" append user.a "$T/m5"
expect_grep "GUID db not updated" "$T/err" "append, the GUID db fails: a warning naming it"
expect_exit 0 "the next squatter run" "$SQUATTER" -u a
got=$("$XSEARCH" -u a --count number5 2>&1)
[ "$got" = 1 ] && pass "after it a search finds the appended message" \
               || fail "after it a search finds the appended message" "$got"

# --- Xapian's lock file does not open: an I/O error, not "locked, retry"
restore
"$MBCTL" append user.a "$T/m5" > /dev/null
LD_PRELOAD="$SHIM" XAPIARY_IOERR=open:1 XAPIARY_IOERR_PATH=flintlock "$SQUATTER" -u a \
    > "$T/out" 2> "$T/err"
rc=$?
[ "$rc" -eq 74 ] && pass "Xapian's lock file does not open: exit 74" \
                 || fail "Xapian's lock file does not open: exit 74" "exit $rc: $(cat "$T/err")"
expect_grep "Input/output error" "$T/err" "the error says why"
inject open:1 flintlock "$SQUATTER" -z t2 -t t1,t2 -u a
[ "$rc" -eq 74 ] && pass "... in a compaction too: exit 74" \
                 || fail "... in a compaction too: exit 74" "exit $rc: $(cat "$T/err")"

# --- a user rename whose removal of the old user's directory fails: the
# rename's cleanup (here mbctl expire) removes it
inject unlink:1 'user/a$' "$MBCTL" rename user.a user.b
[ "$rc" -eq 74 ] && pass "user rename, rmdir of the old directory fails: exit 74" \
                 || fail "user rename, rmdir of the old directory fails: exit 74" "exit $rc: $(cat "$T/err")"
expect_exit 0 "mbctl expire after it" "$MBCTL" expire
left=$(find "$T/spool" -path '*/user/a')
[ -z "$left" ] && pass "no directory of user a left" || fail "no directory of user a left" "$left"
[ "$("$XSEARCH" -u b --count word 2>&1)" = 4 ] && pass "user b finds the 4 messages" \
    || fail "user b finds the 4 messages" "$("$XSEARCH" -u b --count word 2>&1)"

# --- a compaction source whose docdata or position table does not open
for table in docdata position; do
    inject open:1 "xapian.3/$table.glass" "$SQUATTER" -z t2 -t t1,t2 -u a
    fired=$rc
    found=$("$XSEARCH" -u a --count word 2> /dev/null)
    if [ "$rc" -eq 0 ]; then
        fail "compaction with t2's $table.glass unreadable: fails" "exit 0, $found found"
    else
        [ "$rc" -eq 74 ] && pass "compaction with t2's $table.glass unreadable: exit 74" \
                         || fail "compaction with t2's $table.glass unreadable: exit 74" "exit $fired: $(cat "$T/err")"
        expect_grep "$table.glass could not be read" "$T/err" "the error names the table"
    fi
    [ "$found" = 4 ] && pass "$table.glass: every message still found" \
                     || fail "$table.glass: every message still found" "$found"
    [ "$table" = position ] || continue
    got=$("$XSEARCH" -u a --count '"body word"' 2> /dev/null)
    [ "$got" = 4 ] && pass "position.glass: phrases still found" || fail "position.glass: phrases still found" "$got"
done
# ... and a search: an error, never fewer answers
for table in docdata position; do
    restore
    LD_PRELOAD="$SHIM" XAPIARY_IOERR=open:1 XAPIARY_IOERR_PATH="xapian.3/$table.glass" \
        "$XSEARCH" -u a --count '"body word"' > "$T/out" 2> "$T/err"
    rc=$?
    [ "$rc" -eq 74 ] && pass "a search with t2's $table.glass unreadable: exit 74" \
        || fail "a search with t2's $table.glass unreadable: exit 74" "exit $rc: $(cat "$T/out" "$T/err")"
    expect_grep "$table.glass could not be read" "$T/err" "the error names the table"
done
expect_exit 0 "the next compaction succeeds" "$SQUATTER" -z t2 -t t1,t2 -u a
[ "$("$XSEARCH" -u a --count word 2> /dev/null)" = 4 ] && pass "every message found after it" \
    || fail "every message found after it"

done_testing
