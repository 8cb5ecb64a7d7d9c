#!/bin/sh
# squatter and xsearch on real mail: known answers, expunge, copies,
# batches, audit, users kept apart, concurrent indexing and searching,
# unreadable tiers.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

CORPUS="${XAPIARY_CORPUS:-$top_srcdir/../shared/corpus}/notmuch"

# count QUERY WANT: xsearch --count for user nm
count() {
    local got
    got=$("$XSEARCH" -u nm --count "$1" 2> "$T/err")
    if [ "$got" = "$2" ]; then pass "count '$1' = $2"; else fail "count '$1' = $2" "got '$got' $(cat "$T/err")"; fi
}

if [ -d "$CORPUS" ]; then
    expect_exit 0 "import the corpus" "$MBCTL" import -r user.nm "$CORPUS"
    expect_exit 0 "squatter -v indexes user nm" "$SQUATTER" -v -u nm
    expect_grep "msgs/s" "$T/err" "-v prints progress with a rate"
    expect_grep "done" "$T/err" "-v prints a final line"

    # Known answers: the number of files notmuch 0.37 (`notmuch count
    # --output=files`) reports for the same query on the same corpus.
    # notmuch's to: covers To and Cc, hence the OR.
    count 'from:alice' 16
    count 'from:"Carl Worth"' 12
    count 'from:keithp@keithp.com' 8
    count 'subject:notmuch' 59
    count 'subject:"[notmuch]"' 59
    count 'from:carl AND subject:notmuch' 12
    count 'to:notmuch@notmuchmail.org OR cc:notmuch@notmuchmail.org' 60
    count 'date:2009-11-17..2009-11-18' 52
    count 'date:2009-11-18' 30
    count 'id:877h1wv7mg.fsf@inf-8657.int-evry.fr' 1
    count 'id:<877h1wv7mg.fsf@inf-8657.int-evry.fr>' 1
    count 'attachment:pdf' 1
    count 'body:parse*' 3
    count 'body:"the quick brown fox"' 0
    count 'mailbox:user.nm.lkml' 210
    # a decoded encoded-word subject
    count 'subject:accentué' 1

    expect_exit 0 "audit after a full run" "$SQUATTER" -A -u nm
    [ -s "$T/out" ] && fail "audit is silent after a full run" "$(cat "$T/out")" \
                    || pass "audit is silent after a full run"
    expect_exit 0 "a second run" "$SQUATTER" -v -u nm
    expect_grep " 0 messages" "$T/err" "a second run indexes nothing"

    # --json and expunge: gone from results at once, no reindex needed
    expect_exit 0 "xsearch --json" "$XSEARCH" -u nm --json id:877h1wv7mg.fsf@inf-8657.int-evry.fr
    mb=$(sed -n 's/.*"mailbox": "\(.*\)".*/\1/p' "$T/out")
    uid=$(sed -n 's/.*"uid": \([0-9]*\).*/\1/p' "$T/out")
    expect_grep '"subject": "Essai accentu' "$T/out" "--json has the decoded subject"
    expect_grep '"from": "Olivier Berger' "$T/out" "--json has from"
    expect_exit 0 "expunge the hit" "$MBCTL" expunge "$mb" "$uid"
    count 'id:877h1wv7mg.fsf@inf-8657.int-evry.fr' 0

    # a copy in a second folder: one document, two locations
    f=$(ls "$CORPUS/lkml/cur" | head -1)
    expect_exit 0 "create a second folder" "$MBCTL" create user.nm.copy
    expect_exit 0 "append a copy" "$MBCTL" append user.nm.copy "$CORPUS/lkml/cur/$f"
    expect_exit 0 "index the copy" "$SQUATTER" -v -u nm
    expect_grep "0 indexed .* 1 already indexed" "$T/err" "the copy was not indexed again"
    id=$(sed -n 's/^Message-I[Dd]: *<\(.*\)>.*/\1/p' "$CORPUS/lkml/cur/$f" | head -1)
    count "id:$id" 2
    expect_exit 0 "both locations" "$XSEARCH" -u nm --json "id:$id"
    [ "$(grep -c '"guid"' "$T/out")" -eq 2 ] && [ "$(grep '"guid"' "$T/out" | sort -u | wc -l)" -eq 1 ] \
        && pass "two locations share one GUID" || fail "two locations share one GUID" "$(cat "$T/out")"

    # users never see each other's mail
    expect_exit 0 "create user.other" "$MBCTL" create user.other
    printf 'From: o@example.com\nSubject: zanzibarian secret\n\nonly for other\n' > "$T/o"
    expect_exit 0 "append to other" "$MBCTL" append user.other "$T/o"
    expect_exit 0 "index other" "$SQUATTER" -u other
    count 'zanzibarian' 0
    got=$("$XSEARCH" -u other --count 'subject:notmuch')
    [ "$got" = 0 ] && pass "other does not see nm's mail" || fail "other sees nm's mail: $got"
    got=$("$XSEARCH" -u other --count 'zanzibarian')
    [ "$got" = 1 ] && pass "other sees its own" || fail "other sees its own: $got"
else
    pass "# SKIP corpus not found"
fi

# 65 messages with search_batchsize 20: one plain run indexes all
echo "search_batchsize: 20" >> "$XAPIARY_CONFIG"
expect_exit 0 "create user.b" "$MBCTL" create user.b
i=1
while [ $i -le 65 ]; do
    printf 'From: b%d@example.com\nSubject: batch message %d\nMessage-ID: <b%d@example.com>\n\nbatchword %d\n' \
        $i $i $i $i > "$T/b$i"
    i=$((i + 1))
done
(cd "$T" && "$MBCTL" append user.b $(i=1; while [ $i -le 65 ]; do echo b$i; i=$((i + 1)); done) > /dev/null)
expect_exit 0 "squatter with batches of 20" "$SQUATTER" -v -u b
got=$("$XSEARCH" -u b --count batchword)
[ "$got" = 65 ] && pass "all 65 indexed in one run" || fail "all 65 indexed in one run: $got"
expect_exit 0 "audit" "$SQUATTER" -A -u b
[ -s "$T/out" ] && fail "audit silent" "$(cat "$T/out")" || pass "audit silent"
# messages left out: the audit names exactly them
(cd "$T" && "$MBCTL" append user.b b1 b2 b3 > /dev/null)
expect_exit 1 "audit with three unindexed (exit 1: it reported)" "$SQUATTER" -A -u b
expect_grep "^Unindexed message(s) in user.b: 66 67 68$" "$T/out" "audit names exactly UIDs 66 67 68"
expect_exit 0 "squatter user.b (by mailbox)" "$SQUATTER" user.b
got=$("$XSEARCH" -u b --count batchword)
[ "$got" = 68 ] && pass "68 after the incremental run" || fail "68 after the incremental run: $got"

# -l lists the files of the active databases, absolute paths
expect_exit 0 "squatter -l" "$SQUATTER" -l -u b
expect_grep "^/.*/xapian\.[0-9]*/iamglass$" "$T/out" "-l lists iamglass by absolute path"

# -Z finds what Xapian lacks even when the indexed state claims it
expect_exit 0 "squatter -Z on a complete index" "$SQUATTER" -Z -v -u b
expect_grep " 0 indexed" "$T/err" "-Z on a complete index indexes nothing"

# -R: rolling mode follows the sync log; SIGTERM stops it cleanly
"$SQUATTER" -R -d > "$T/roll.out" 2> "$T/roll.err" &
roller=$!
printf 'From: r@example.com\nSubject: rolling\n\nquokkarolling\n' > "$T/r"
"$MBCTL" append user.b "$T/r" > /dev/null
n=0
while [ "$("$XSEARCH" -u b --count quokkarolling)" != 1 ] && [ $n -lt 100 ]; do
    sleep 0.1; n=$((n + 1))
done
[ $n -lt 100 ] && pass "-R indexed a new append" || fail "-R did not index" "$(cat "$T/roll.err")"
kill -TERM $roller
wait $roller && pass "-R exits 0 on SIGTERM" || fail "-R exit status" "$(cat "$T/roll.err")"

# crashes: killed inside a batch, and while creating xapianactive
expect_exit 0 "create user.k" "$MBCTL" create user.k
(cd "$T" && "$MBCTL" append user.k b1 b2 b3 b4 b5 > /dev/null)
XAPIARY_FAULT=xapianactive.written "$SQUATTER" -u k 2> "$T/err"; rc=$?
[ $rc -eq 137 ] && pass "killed at xapianactive.written" || fail "killed at xapianactive.written: exit $rc"
XAPIARY_FAULT=index.batch.1 "$SQUATTER" -u k 2> "$T/err"; rc=$?
[ $rc -eq 137 ] && pass "killed at index.batch.1" || fail "killed at index.batch.1: exit $rc"
expect_exit 1 "audit after the crash (exit 1: it reported)" "$SQUATTER" -A -u k
expect_grep "^Unindexed message(s) in user.k: 1 2 3 4 5$" "$T/out" "the killed batch counts as not indexed"
expect_exit 0 "squatter after the crashes" "$SQUATTER" -v -u k
expect_grep " 5 indexed" "$T/err" "the run indexes the five"
expect_exit 0 "audit after recovery" "$SQUATTER" -A -u k
[ -s "$T/out" ] && fail "audit silent after recovery" "$(cat "$T/out")" || pass "audit silent after recovery"
got=$("$XSEARCH" -u k --count batchword)
[ "$got" = 5 ] && pass "each message found once" || fail "each message found once: $got"
debris=$(find "$T/conf/user" "$T/search" -path '*user/k*' -name '*.NEW*')
[ -z "$debris" ] && pass "no .NEW debris" || fail "debris: $debris"

# concurrent indexing and searching in separate processes: no errors
(
    n=0
    while [ $n -lt 15 ]; do
        "$MBCTL" append user.b "$T/b5" > /dev/null || exit 1
        "$SQUATTER" -u b 2>> "$T/sq.err" || exit 1
        n=$((n + 1))
    done
) &
writer=$!
errs=0
n=0
while [ $n -lt 40 ]; do
    "$XSEARCH" -u b --count batchword > /dev/null 2>> "$T/xs.err" || errs=$((errs + 1))
    n=$((n + 1))
done
wait $writer && pass "appending and indexing while searching" || fail "writer failed" "$(cat "$T/sq.err")"
[ $errs -eq 0 ] && pass "40 searches during indexing, no error" || fail "$errs searches failed" "$(cat "$T/xs.err")"

# an unreadable tier is an error, never an empty result
active=$(find "$T/conf/user" -path '*user/b/xapianactive')
cp "$active" "$T/active.save"
printf 'garbage here\n' > "$active"
expect_exit 65 "corrupt xapianactive is an error" "$XSEARCH" -u b --count batchword
expect_grep "xapianactive" "$T/err" "the error names xapianactive"
printf 'nosuchtier:1\n' > "$active"
expect_exit 78 "an unknown tier is an error (EX_CONFIG)" "$XSEARCH" -u b --count batchword
expect_grep "nosuchtier" "$T/err" "the error names the tier"
# a listed database not built yet (its directory empty) is skipped; one
# whose directory is missing is lost: an error naming it (issue 15); one
# that exists but is not a directory is an error naming it
cp "$T/active.save" "$active"
want=$("$XSEARCH" -u b --count batchword)
printf '%s t1:999\n' "$(tr -d '\n' < "$T/active.save")" > "$active"
dir999=$(dirname "$(find "$T/search" -type d -name 'xapian.*' -path '*user/b/*' | head -1)")/xapian.999
expect_exit 65 "a listed database whose directory is missing is an error" \
    "$XSEARCH" -u b --count batchword
expect_grep "xapian.999" "$T/err" "the error names the missing database"
mkdir "$dir999"
got=$("$XSEARCH" -u b --count batchword 2> "$T/err")
[ "$got" = "$want" ] && pass "a listed database not built yet is skipped" || fail "a listed database not built yet is skipped: $got" "$(cat "$T/err")"
rmdir "$dir999"
printf '%s t1:998\n' "$(tr -d '\n' < "$T/active.save")" > "$active"
dir998=$(dirname "$(find "$T/search" -type d -name 'xapian.*' -path '*user/b/*' | head -1)")/xapian.998
echo "not a database" > "$dir998"
"$XSEARCH" -u b --count batchword > "$T/out" 2> "$T/err"; rc=$?
[ $rc -ne 0 ] && pass "an unreadable listed database is an error" || fail "unreadable database gave $(cat "$T/out")"
expect_grep "xapian.998" "$T/err" "the error names the database"
rm -f "$dir998"
cp "$T/active.save" "$active"
db=$(find "$T/search" -type d -name 'xapian.*' -path '*user/b/*' | head -1)
# every byte of the posting lists replaced by garbage of the same size
f="$db/postlist.glass"
head -c "$(wc -c < "$f")" /dev/urandom > "$f.x" && mv "$f.x" "$f"
"$XSEARCH" -u b --count batchword > "$T/out" 2> "$T/err"; rc=$?
[ $rc -ne 0 ] && pass "a corrupt database is an error (exit $rc)" || fail "corrupt database gave $(cat "$T/out")"
expect_exit 64 "a syntax error" "$XSEARCH" -u b 'subject:(unclosed'
expect_grep "position" "$T/err" "the syntax error names the position"

done_testing
