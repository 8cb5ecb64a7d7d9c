# ioerr.sh - sourced after tap.sh by the I/O-error sweeps (t0230,
# t0231): the starting state, and `sweep`, which runs a command once for
# each OP:N with the Nth call of OP failing (tests/ioerr_shim.c, through
# LD_PRELOAD, so Xapian's and SQLite's calls fail as well as ours) and
# checks after each: the command failed with exit 74 and a message naming
# the object and the cause, or succeeded with the work done; the mail and
# the search answers are as before or as after the command; `mbctl
# verify` passes; the next run succeeds; and no debris is left.
#
# By default the calls of each OP are sampled: the first, the last and
# about two between.  XAPIARY_IOERR_FULL=1 tries every N (minutes).

. "${top_srcdir:-$(dirname "$0")/..}/tests/ioerr-shim.sh"

mkdir -p "$T/search2"
echo "t2searchpartition-default: $T/search2" >> "$XAPIARY_CONFIG"
OPS="open write fsync rename unlink mkdir flock"

msg() {
    # A Date header: the search answers compared carry the date, and one
    # taken from the arrival would differ from one case to the next.
    printf 'Date: Thu, 03 Dec 2026 10:00:0%d +0000\nFrom: x%d@example.com\nSubject: word %d\nMessage-ID: <m%d@example.com>\n\nbody word number%d\n' \
        "$1" \
        "$1" "$1" "$1" "$1" > "$T/m$1"
}
for i in 1 2 3 4 5 6 7; do msg $i; done

# The state every case starts from: user.a (3 messages) and user.a.sub
# (1), indexed and compacted into t2; one more message indexed into t1;
# one message not indexed yet, unless INDEX_ALL=1.
"$MBCTL" create user.a && "$MBCTL" create user.a.sub &&
"$MBCTL" append user.a "$T/m1" "$T/m2" "$T/m3" > /dev/null &&
"$MBCTL" append user.a.sub "$T/m4" > /dev/null &&
"$SQUATTER" -u a && "$SQUATTER" -z t2 -t t1 -u a &&
"$MBCTL" append user.a.sub "$T/m5" > /dev/null && "$SQUATTER" -u a &&
"$MBCTL" append user.a "$T/m6" > /dev/null &&
if [ "${INDEX_ALL:-0}" = 1 ]; then "$SQUATTER" -u a; fi
[ $? -eq 0 ] && pass "the starting state" || fail "the starting state"
DIRS="conf spool search search2"
(cd "$T" && tar cf base.tar $DIRS)

restore() { (cd "$T" && rm -rf $DIRS && tar xf base.tar); }

# fingerprint: every mailbox of user a or b with its counters, and the
# full answers (mailbox, UID, GUID, date, from, subject) of a search that
# matches every message of the user.
fingerprint() {
    for u in a b; do
        for mb in $("$MBCTL" list "user.$u*" 2> /dev/null); do
            echo "$mb $("$MBCTL" status "$mb" 2>&1 | grep -E '^(messages|uidnext):' | tr '\n' ' ')"
        done
        echo "== $u"
        "$XSEARCH" -u "$u" 'NOT zzqqxx' 2>&1 | sort
    done
}

# debris: prints what no finished operation leaves behind: a .NEW or a
# temporary file anywhere, a xapian.N directory its user's xapianactive
# does not list, a mailbox directory with files other than its own
# (message files must be as many as its messages), files of a user
# without a mailboxes.db record.
debris() {
    find "$T/conf" "$T/spool" "$T/search" "$T/search2" -name '*.NEW*' -o -name '*.tmp*' -o -name '*-journal'
    for u in a b; do
        users=$("$MBCTL" list "user.$u" 2> /dev/null)
        act=$(cat "$T"/conf/user/*/user/$u/xapianactive 2> /dev/null)
        for d in $(find "$T/search" "$T/search2" -path "*/user/$u/xapian.*" -prune 2> /dev/null); do
            tier=t1; case "$d" in "$T/search2"*) tier=t2 ;; esac
            echo " $act " | grep -q " $tier:${d##*xapian.} " || echo "unlisted $d ($act)"
        done
        if [ -z "$users" ]; then
            find "$T"/spool/*/user/$u "$T"/conf/user/*/user/$u "$T"/search*/*/user/$u \
                -maxdepth 0 2> /dev/null | sed 's/^/left of a user without a record: /'
            continue
        fi
        for mb in $("$MBCTL" list "user.$u*"); do
            dir=$(echo "$T"/spool/*/user/$u)$(echo "${mb#user.$u}" | tr . /)
            n=$("$MBCTL" status "$mb" | sed -n 's/^messages: //p')
            files=$(ls "$dir" | grep -c '^[0-9]*\.$')
            [ "$files" = "$n" ] || echo "$mb: $files message files for $n messages"
            ls "$dir" | grep -v '^[0-9]*\.$' | grep -v '^xapiary\.\(header\|index\|cache\.[0-9]*\)$' |
                while read -r f; do [ -d "$dir/$f" ] || echo "$mb: stray $f"; done
        done
    done
}

# verify_all: mbctl verify of every mailbox of users a and b
verify_all() {
    for mb in $("$MBCTL" list 'user.*' 2> /dev/null); do
        "$MBCTL" verify "$mb" 2>&1 || echo "verify $mb failed"
    done
}

# counts: per-OP totals of one clean run of the command
counts() {
    restore
    rm -f "$T/cnt"
    LD_PRELOAD="$SHIM" XAPIARY_IOERR_COUNT="$T/cnt" "$@" > /dev/null 2>&1
}

# sweep NAME OBJECT RERUN SETTLE CMD...: CMD with each OP:N failing.
# OBJECT is what the error must name (a grep pattern); RERUN "always"
# runs CMD again after every case, "before" only when the state is the
# one before CMD; SETTLE, unless "-", is the documented cleanup that runs
# before the state is compared (`mbctl expire` finishes a rename).
sweep() {
    local name=$1 object=$2 rerun=$3 settle=$4 bad=0 tried=0
    shift 4
    # Both states as SETTLE leaves them, as every case is compared.
    restore; [ "$settle" = - ] || $settle > /dev/null 2>&1
    fingerprint > "$T/fp.before"
    restore; "$@" > /dev/null 2> "$T/clean.err" || fail "$name: a clean run" "$(cat "$T/clean.err")"
    [ "$settle" = - ] || $settle
    fingerprint > "$T/fp.after"
    [ -z "$(debris)" ] || fail "$name: a clean run leaves no debris" "$(debris)"
    counts "$@"
    for op in $OPS; do
        total=$(awk -v op=$op '$1 == op { print $2 }' "$T/cnt")
        [ -n "$total" ] || { fail "$name: counted $op" "$(cat "$T/cnt" 2>&1)"; continue; }
        stride=1
        [ "${XAPIARY_IOERR_FULL:-0}" = 1 ] || stride=$(( total / 3 + 1 ))
        n=1
        while [ "$n" -le "$total" ]; do
            one_case "$name" "$object" "$rerun" "$settle" "$op:$n" "$@" || bad=$((bad + 1))
            tried=$((tried + 1))
            if [ "$n" -lt "$total" ] && [ $((n + stride)) -gt "$total" ]; then
                n=$total
            else
                n=$((n + stride))
            fi
        done
    done
    [ "$bad" -eq 0 ] && pass "$name: $tried injected failures, each reported and recovered" \
                     || fail "$name: $bad of $tried injected failures went wrong (above)"
}

# one_case NAME OBJECT RERUN SETTLE OP:N CMD...: one injected failure and
# the checks after it; prints what went wrong as TAP comments.
one_case() {
    local name=$1 object=$2 rerun=$3 settle=$4 spec=$5 rc state problems=""
    shift 5
    restore
    rm -f "$T/cnt"
    LD_PRELOAD="$SHIM" XAPIARY_IOERR="$spec" XAPIARY_IOERR_COUNT="$T/cnt" "$@" \
        > "$T/case.out" 2> "$T/case.err"
    rc=$?
    fired=$(grep '^fired' "$T/cnt" 2> /dev/null)
    [ -n "$fired" ] || return 0     # this run made fewer calls
    [ "$settle" = - ] || $settle > /dev/null 2>&1
    fingerprint > "$T/fp.now"
    if cmp -s "$T/fp.now" "$T/fp.after"; then state=after
    elif cmp -s "$T/fp.now" "$T/fp.before"; then state=before
    else state=other; problems="$problems
the state is neither before nor after: $(diff "$T/fp.after" "$T/fp.now" | head -8)"
    fi
    if [ "$rc" -ne 0 ]; then
        # a configuration file that cannot be read is EX_CONFIG
        if [ "$rc" -eq 78 ] && grep -q "configuration" "$T/case.err"; then :
        elif [ "$rc" -ne 74 ]; then problems="$problems
exit $rc, want 74"
        fi
        grep -q "^[a-z]*: " "$T/case.err" && grep -q "$object\|configuration" "$T/case.err" ||
            problems="$problems
no error naming $object"
        # SQLite does not always keep the errno: its own words are a cause
        grep -q "^[a-z]*: .*\(Input/output error\|No space left on device\|could not be read\|disk I/O error\|disk is full\)" \
            "$T/case.err" || problems="$problems
no error giving the cause"
    elif [ "$state" != after ]; then
        problems="$problems
succeeded, the state is $state"
    fi
    v=$(verify_all)
    [ -z "$v" ] || problems="$problems
$v"
    if [ "$rerun" = always ] || [ "$state" = before ]; then
        "$@" > /dev/null 2> "$T/next.err" || problems="$problems
the next run failed: $(cat "$T/next.err")"
        [ "$settle" = - ] || $settle > /dev/null 2>&1
        fingerprint > "$T/fp.now"
        cmp -s "$T/fp.now" "$T/fp.after" || problems="$problems
after the next run: $(diff "$T/fp.after" "$T/fp.now" | head -8)"
    fi
    d=$(debris)
    [ -z "$d" ] || problems="$problems
debris: $d"
    [ -z "$problems" ] && return 0
    printf '%s\n' "$name $spec ($fired) exit $rc: $(grep -v '^$' "$T/case.err" | tail -4)$problems" |
        sed "s|$T/||g; s/^/# /"
    return 1
}
