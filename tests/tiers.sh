# tiers.sh - sourced after tap.sh by the compaction tests: a second search
# tier t2, and helpers about user $U, whose test messages carry the word
# $W and the subject "$W N".  The test sets U and W before sourcing.
mkdir -p "$T/search2"
echo "t2searchpartition-default: $T/search2" >> "$XAPIARY_CONFIG"

n=0
# add: one new message (number $n) in user.$U with the word $W, indexed
add() {
    n=$((n + 1))
    printf 'From: %s%d@example.com\nSubject: %s %d\nMessage-ID: <%s%d@example.com>\n\n%s number%d\n' \
        "$U" $n "$W" $n "$U" $n "$W" $n > "$T/m"
    "$MBCTL" append "user.$U" "$T/m" > /dev/null && "$SQUATTER" -u "$U" 2>> "$T/sq.err"
}
# messages N: files $T/g1..$T/gN, message I with the word $W, the subject
# "$W I" and the word numberI
messages() {
    local i=1
    while [ $i -le "$1" ]; do
        printf 'From: g%d@example.com\nSubject: %s %d\nMessage-ID: <g%d.%s@example.com>\n\n%s number%d\n' \
            $i "$W" $i $i "$W" "$W" $i > "$T/g$i"
        i=$((i + 1))
    done
}
count() { "$XSEARCH" -u "$U" --count "$1" 2>> "$T/xs.err"; }
active() { cat "$(find "$T/conf/user" -path "*user/$U/xapianactive")"; }

# no_debris DESCRIPTION: every xapian.* directory of the user is listed,
# and there is no .NEW.
no_debris() {
    local list bad=""
    list=$(active)
    for d in $(find "$T/search" "$T/search2" -mindepth 4 -maxdepth 4 -name 'xapian*' -path "*/user/$U/*"); do
        case "$d" in *.NEW) bad="$bad $d"; continue ;; esac
        tier=t1; case "$d" in "$T/search2"*) tier=t2 ;; esac
        gen=${d##*xapian.}
        echo " $list " | grep -q " $tier:$gen " || bad="$bad $d"
    done
    [ -z "$bad" ] && pass "$1" || fail "$1" "debris:$bad (xapianactive: $list)"
}

# answers FILE: the full results (mailbox, UID, GUID, date, from, subject)
# of every query of $QUERIES (one a line), each sorted: messages of the
# same second have no defined order.  The first query matches every
# message, so a document lost anywhere shows.
QUERIES="NOT zzqqxxnothere
$W
number1
subject:$W"
answers() {
    printf '%s\n' "$QUERIES" | while IFS= read -r q; do
        echo "== $q"
        "$XSEARCH" -u "$U" "$q" 2>&1 | sort
    done > "$1"
}

# kill_rounds K SQUATTER-ARGS...: three times: add a message, run squatter
# ARGS -u $U with fault point compact.K, check it was killed, that every
# message is found with the same count and the same answers, that
# indexing works, and that the next run (the same ARGS) recovers.
kill_rounds() {
    local k=$1 round=1 want got
    shift
    while [ $round -le 3 ]; do
        add
        want=$(count "$W")
        answers "$T/before"
        XAPIARY_FAULT=compact.$k "$SQUATTER" "$@" -u "$U" 2> "$T/kill.err"; rc=$?
        [ $rc -eq 137 ] || fail "compact.$k round $round: killed" "exit $rc: $(cat "$T/kill.err")"
        got=$(count "$W")
        [ "$got" = "$want" ] || fail "compact.$k round $round: $got found after the kill, want $want"
        answers "$T/after"
        cmp -s "$T/before" "$T/after" || fail "compact.$k round $round: answers changed by the kill" \
            "$(diff "$T/before" "$T/after" | head -10)"
        add
        want=$((want + 1))
        got=$(count "$W")
        [ "$got" = "$want" ] || fail "compact.$k round $round: indexing after the kill: $got, want $want"
        "$SQUATTER" "$@" -u "$U" 2> "$T/err" || fail "compact.$k round $round: the next run" "$(cat "$T/err")"
        got=$(count "$W")
        [ "$got" = "$want" ] || fail "compact.$k round $round: $got after recovery, want $want"
        round=$((round + 1))
    done
    pass "$* killed after step $k three times: nothing lost, indexing and search kept working"
    no_debris "no debris after recovery from compact.$k"
}

# race NC NA NS SQUATTER-ARGS...: NC runs of squatter ARGS -u $U, NA
# appends (each indexed) and NS searches at once, in separate processes:
# none fails, hit counts never go backwards, every message is found.
race() {
    local nc=$1 na=$2 ns=$3 want last=0 backwards=0 errors=0 i=0 got
    shift 3
    want=$(($(count "$W") + na))
    rm -f "$T/sq.err" "$T/xs.err" "$T/cz.err" "$T/cz.fail" "$T/ix.fail"
    (
        i=0
        while [ $i -lt "$nc" ]; do
            "$SQUATTER" "$@" -u "$U" 2>> "$T/cz.err" || echo "compaction $i failed" >> "$T/cz.fail"
            i=$((i + 1))
        done
    ) &
    compactor=$!
    (
        i=0
        while [ $i -lt "$na" ]; do
            add || echo "indexing $i failed" >> "$T/ix.fail"
            i=$((i + 1))
        done
    ) &
    indexer=$!
    while [ $i -lt "$ns" ]; do
        got=$("$XSEARCH" -u "$U" --count "$W" 2>> "$T/xs.err") || errors=$((errors + 1))
        [ -n "$got" ] && [ "$got" -lt "$last" ] && backwards=$((backwards + 1))
        [ -n "$got" ] && last=$got
        i=$((i + 1))
    done
    wait $compactor
    wait $indexer
    [ ! -s "$T/cz.fail" ] && pass "$nc runs of $* during indexing and search" \
        || fail "compactions failed" "$(cat "$T/cz.fail" "$T/cz.err")"
    [ ! -s "$T/ix.fail" ] && pass "$na appends indexed meanwhile" \
        || fail "indexing failed" "$(cat "$T/ix.fail" "$T/sq.err")"
    [ $errors -eq 0 ] && pass "$ns searches, no error" || fail "$errors searches failed" "$(cat "$T/xs.err")"
    [ $backwards -eq 0 ] && pass "hit counts never went backwards" || fail "$backwards times backwards"
    n=$((n + na))      # the subshell's appends
    "$SQUATTER" -u "$U"
    [ "$(count "$W")" = "$want" ] && pass "every appended-and-indexed message found ($want)" \
        || fail "found $(count "$W"), want $want"
}
