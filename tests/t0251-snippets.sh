#!/bin/sh
# xsearch --snippets on real mail: stemmed matches (body:index marks
# indexer, indexing) and CJK ones (議事録 in ISO-2022-JP mail, 北京 in
# GB2312 mail) are marked in the extract; words of other fields are not.
# With the shared corpus present, the same on the notmuch mail.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

CORPUS="${XAPIARY_CORPUS:-$top_srcdir/../shared/corpus}/notmuch"

if ! command -v python3 > /dev/null; then
    pass "# SKIP no python3 (scripts/deps installs it)"
    done_testing
    exit
fi

python3 "$top_srcdir/scripts/samplemail" --seed 251 --count 400 "$T/mail" 2> /dev/null
expect_exit 0 "import sample mail" "$MBCTL" import user.s "$T/mail"
expect_exit 0 "index it" "$SQUATTER" -u s

# marks USER QUERY PYTHON-TEST DESCRIPTION: xsearch --json --snippets,
# then TEST (a Python expression over the list of snippets S of the
# hits whose body has a match) must hold.
marks() {
    expect_exit 0 "--snippets $2" "$XSEARCH" -u "$1" --json --snippets --limit 20 "$2"
    if python3 -c '
import json, re, sys
hits = json.load(open(sys.argv[1]))["hits"]
S = [h["snippet"] for h in hits if "<mark>" in h["snippet"]]
sys.exit(0 if hits and ('"$3"') else 1)' "$T/out"; then
        pass "$4"
    else
        fail "$4" "$(head -c 2000 "$T/out")"
    fi
}

marks s 'body:index' \
    'any(re.search("<mark>index(er|ing|es)</mark>", s) for s in S)' \
    "a stemmed match is marked (index marks indexer or indexing)"
marks s 'body:index' \
    'all(m.lower().startswith("index") for s in S for m in re.findall("<mark>(.*?)</mark>", s))' \
    "... and nothing else is"
marks s '議事録' \
    'len(S) >= 1 and all("<mark>議事録</mark>" in s for s in S if "議事録" in re.sub("<.*?>", "", s))' \
    "Japanese (ISO-2022-JP mail): the word is marked whole"
marks s '北京' \
    'len(S) >= 1 and any("<mark>北京</mark>" in s for s in S)' \
    "Chinese (GB2312 mail): the word is marked"
marks s 'from:sam body:index' \
    'any(re.search("Sam Sample", s) for s in S) and not any("sam" in m.lower() for s in S for m in re.findall("<mark>(.*?)</mark>", s))' \
    "a from: word is not marked in the body (Sam signs his mail)"
expect_exit 64 "--snippets with --count is a usage error" "$XSEARCH" -u s --count --snippets x

# the summary line gets the snippet as its last field, on one line
expect_exit 0 "--snippets on summary lines" "$XSEARCH" -u s --snippets --limit 5 body:index
if awk -F '\t' 'NF != 7 || $7 !~ /<mark>/ { bad = 1 } END { exit bad }' "$T/out"; then
    pass "... a seventh field with the marks"
else
    fail "... a seventh field with the marks" "$(cat "$T/out")"
fi

if [ -d "$CORPUS" ]; then
    expect_exit 0 "import the notmuch corpus" "$MBCTL" import -r user.nm "$CORPUS"
    expect_exit 0 "index it" "$SQUATTER" -u nm
    marks nm 'body:parsing' \
        'any(re.search("<mark>pars(e|ed|er|es|ing)</mark>", s, re.I) for s in S)' \
        "corpus: parsing marks a word of its stem"
else
    pass "# SKIP the shared corpus is not here"
fi

done_testing
