#!/bin/sh
# squatter indexes at a lower CPU and I/O priority than searches (issue 20
# point 7): squatter_nice / squatter_ioprio and --nice / --ioprio, seen
# from outside in /proc and ioprio_get (ionice -p) of the processes that
# index, the per-user children of -j included; bad values are refused.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

wait_file() {
    i=0
    while [ ! -e "$1" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
    [ -e "$1" ]
}

msg() {
    printf 'From: a@example.com\r\nTo: b@example.com\r\nSubject: prio %s\r\n' "$1"
    printf 'Message-ID: <prio-%s@example.com>\r\n\r\nbody %s\r\n' "$1" "$1"
}

nice_of() { cut -d' ' -f19 "/proc/$1/stat"; }
# What squatter may reach: it lowers its priority, never raises it.
start_nice=$(nice_of $$)
at_least() { [ "$1" -gt "$start_nice" ] && echo "$1" || echo "$start_nice"; }
have_ionice=0
ionice -p $$ > /dev/null 2>&1 && have_ionice=1

for u in u1 u2; do
    "$MBCTL" create "user.$u" > /dev/null 2>&1
    msg "$u" > "$T/m"
    "$MBCTL" append "user.$u" "$T/m" > /dev/null 2>&1
done

# check_run DESC NICE IOPRIO-PATTERN [SQUATTER ARGS...]: squatter -j 2 on
# two users whose search locks are held EXCLUSIVE, so that it and both
# of its per-user children sit waiting; their nice values and I/O
# priorities are read, then the locks are let go and the run must index.
check_run() {
    local desc=$1 want=$2 io=$3 pid kids k bad=""
    shift 3
    rm -f "$T/held" "$T/kids"; touch "$T/go"
    "$MBCTL" lock -x '$XAPIAN$u1' "$MBCTL" lock -x '$XAPIAN$u2' \
        sh -c "touch $T/held; while [ -e $T/go ]; do sleep 0.05; done" &
    holder=$!
    wait_file "$T/held" || fail "$desc: the locks were never taken"
    "$SQUATTER" -j 2 "$@" -u u1 u2 > /dev/null 2> "$T/sq.err" &
    pid=$!
    i=0
    while [ $i -lt 600 ]; do
        kids=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)
        [ "$(echo $kids | wc -w)" -eq 2 ] && break
        sleep 0.05; i=$((i + 1))
    done
    [ "$(echo $kids | wc -w)" -eq 2 ] || bad="no two children: '$kids'"
    for k in $pid $kids; do
        [ "$(nice_of "$k")" -eq "$want" ] || bad="$bad pid $k at nice $(nice_of "$k");"
        if [ $have_ionice -eq 1 ]; then
            ionice -p "$k" | grep -q -- "$io" || bad="$bad pid $k at I/O $(ionice -p "$k");"
        fi
    done
    rm -f "$T/go"
    wait $holder
    wait $pid; rc=$?
    [ -z "$bad" ] && [ $rc -eq 0 ] && pass "$desc" \
        || fail "$desc" "want nice $want, I/O '$io'; $bad exit $rc: $(cat "$T/sq.err")"
}

check_run "default: nice 10, best-effort 7, children too" "$(at_least 10)" \
    "best-effort: prio 7"

cp "$XAPIARY_CONFIG" "$T/conf2"
printf 'squatter_nice: 5\nsquatter_ioprio: idle\n' >> "$T/conf2"
check_run "squatter_nice: 5 and squatter_ioprio: idle" "$(at_least 5)" "idle" -C "$T/conf2"
check_run "--nice 3 --ioprio 4 win over the configuration" "$(at_least 3)" \
    "best-effort: prio 4" -C "$T/conf2" --nice 3 --ioprio 4

cp "$XAPIARY_CONFIG" "$T/conf3"
printf 'squatter_nice: 0\nsquatter_ioprio: none\n' >> "$T/conf3"
start_io=$(ionice -p $$ 2>/dev/null)
check_run "squatter_nice: 0 and none: as started" "$start_nice" "${start_io:-.}" -C "$T/conf3"

# The rolling daemon: at the configured values once its pidfile is there
# (written after the priority is set).
"$SQUATTER" -C "$T/conf2" -R -d --pidfile "$T/pid" 2> "$T/roll.err" &
roll=$!
if wait_file "$T/pid"; then
    got=$(nice_of $roll)
    io=$([ $have_ionice -eq 1 ] && ionice -p $roll || echo idle)
    [ "$got" -eq "$(at_least 5)" ] && echo "$io" | grep -q idle \
        && pass "-R runs at squatter_nice and squatter_ioprio" \
        || fail "-R runs at squatter_nice and squatter_ioprio" "nice $got, I/O $io"
else
    fail "-R never wrote its pidfile" "$(cat "$T/roll.err")"
fi
kill -TERM $roll; wait $roll

# Bad values: a clear error, nothing done.
cp "$XAPIARY_CONFIG" "$T/bad1"; echo "squatter_nice: 20" >> "$T/bad1"
expect_exit 78 "squatter_nice: 20 is a configuration error" "$SQUATTER" -C "$T/bad1" -u u1
expect_grep "bad1:[0-9]*: squatter_nice: '20' is not a number from 0 to 19" "$T/err" \
    "the error names the file, the line and the key"
cp "$XAPIARY_CONFIG" "$T/bad2"; echo "squatter_ioprio: low" >> "$T/bad2"
expect_exit 78 "squatter_ioprio: low is a configuration error" "$SQUATTER" -C "$T/bad2" -u u1
expect_grep "squatter_ioprio: 'low' is not idle, none or a best-effort level from 0 to 7" \
    "$T/err" "the error says what is accepted"
expect_exit 64 "--nice 20 is a usage error" "$SQUATTER" --nice 20 -u u1
expect_grep "^squatter: --nice wants a nice value from 0 to 19" "$T/err" "--nice: why"
expect_exit 64 "--nice -1 is a usage error" "$SQUATTER" --nice -1 -u u1
expect_exit 64 "--ioprio 8 is a usage error" "$SQUATTER" --ioprio 8 -u u1
expect_exit 64 "--nice does not go with -z" "$SQUATTER" --nice 5 -z t1 -t t1 -u u1
expect_grep "go with the index modes and -R" "$T/err" "--nice with -z: why"

done_testing
