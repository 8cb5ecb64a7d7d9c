#!/bin/sh
# A leading mbox envelope line ("From SENDER DATE", as mail copied out of
# an mbox keeps it) is not part of the message: mbctl append and mbctl
# import drop it, and its date becomes the internal date when the Date:
# header is missing or cannot be parsed, instead of the time of the
# append or the file's mtime.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
export TZ=UTC

msg() {   # msg FILE WORD DATEHEADER
    { printf 'From sender@example.org Mon Jan  5 10:20:30 2004\n'
      printf 'From: a@example.com\nSubject: about %s\nMessage-ID: <%s@example.com>\n' "$2" "$2"
      [ -n "$3" ] && printf 'Date: %s\n' "$3"
      printf '\nthe word is %s\nFrom here on a body line starts with From.\n' "$2"; } > "$1"
}
first_line() {   # first_line WORD: the first line of the stored message with WORD
    f=$(find "$T/spool" -type f -name '*[0-9].' -exec grep -l -- "$1" {} + | head -1)
    [ -n "$f" ] && head -1 "$f"
}
date_of() {   # date_of WORD: the date xsearch shows for it
    "$XSEARCH" -u e --json "$1" | sed -n 's/.*"date": "\([^"]*\)".*/\1/p'
}
msg "$T/bad" baddate 'not a date at all'
msg "$T/none" nodate ''
msg "$T/good" gooddate 'Tue, 01 Feb 2005 08:00:00 +0000'
expect_exit 0 "create user.e" "$MBCTL" create user.e
expect_exit 0 "append three messages behind envelope lines" "$MBCTL" append user.e "$T/bad" "$T/none" "$T/good"
for w in baddate nodate gooddate; do
    [ "$(first_line "$w")" = "From: a@example.com" ] && pass "append: $w is stored without its envelope line" ||
        fail "append: $w stored with" "$(first_line "$w")"
done

mkdir -p "$T/md/cur" "$T/md/new"
msg "$T/md/cur/1:2,S" mdbaddate 'Febtember 40'
msg "$T/md/new/2" mdgooddate 'Tue, 01 Feb 2005 09:00:00 +0000'
touch -d '2010-06-01 00:00:00' "$T/md/cur/1:2,S" "$T/md/new/2"
expect_exit 0 "import a Maildir whose files have envelope lines" "$MBCTL" import user.e.md "$T/md"
for w in mdbaddate mdgooddate; do
    [ "$(first_line "$w")" = "From: a@example.com" ] && pass "import: $w is stored without its envelope line" ||
        fail "import: $w stored with" "$(first_line "$w")"
done

expect_exit 0 "index" "$SQUATTER" -u e
for pair in baddate:2004-01-05T10:20:30 nodate:2004-01-05T10:20:30 mdbaddate:2004-01-05T10:20:30 \
            gooddate:2005-02-01T08:00:00 mdgooddate:2005-02-01T09:00:00; do
    w=${pair%%:*} want=${pair#*:}
    got=$(date_of "$w")
    case $got in
        "$want"*) pass "$w is dated $want" ;;
        *) fail "$w dated" "got '$got', want $want" ;;
    esac
done
[ "$("$XSEARCH" -u e --count sender)" = 0 ] && pass "the envelope sender is not indexed as a word" ||
    fail "envelope indexed"
expect_exit 0 "append --help says so" "$MBCTL" append --help
expect_grep "envelope" "$T/out" "--help mentions the envelope line"
done_testing
