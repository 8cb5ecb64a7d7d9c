#!/bin/sh
# The query language against notmuch on the same mail (issue 15): each
# query's count of xapiary's live locations minus notmuch's count of files
# (`notmuch count --output=files`) must be the DELTA of its row: 0, or a
# difference by design whose reason is written on the row.  Needs the
# corpus ($top_srcdir/../shared/corpus) and notmuch (scripts/deps); without
# either this test only says it skipped.
#
# Runs in a time zone west of UTC, so that days are seen to be local days
# on both sides.  The copies get a fixed mtime, which mbctl import takes
# as the internal date of a message without a usable Date: header.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

CORPUS="${XAPIARY_CORPUS:-$top_srcdir/../shared/corpus}/notmuch"
if [ ! -d "$CORPUS" ] || ! command -v notmuch > /dev/null; then
    pass "# SKIP corpus or notmuch not found"
    done_testing
    exit
fi
TZ=EST5
export TZ

# Two files share the Message-ID <encrypted-signed@crypto.notmuchmail.org>
# with different dates (2000 and 2019); notmuch dates the message by
# whichever file its scan meets first, which varies from copy to copy (it
# made the date counts below differ in one run of several).  One of them
# is left out, so that both sides see one date.
cp -r "$CORPUS" "$T/mail" && chmod -R u+w "$T/mail" &&
    rm "$T/mail/protected-headers/encrypted-signed.eml" &&
    find "$T/mail" -type f -exec touch -d '2015-06-15 12:00' {} + \
    && pass "copy the corpus" || fail "copy the corpus"
# notmuch as bench/run sets it up: its own config and HOME, the database
# inside the mail directory.
mkdir -p "$T/nmhome"
printf '[database]\npath=%s\n[user]\nname=T\nprimary_email=t@example.org\n[new]\ntags=inbox;\n[maildir]\nsynchronize_flags=false\n' \
    "$T/mail" > "$T/nmhome/config"
NOTMUCH_CONFIG="$T/nmhome/config" HOME="$T/nmhome" notmuch new --quiet > "$T/nm.out" 2>&1 \
    && pass "notmuch new" || fail "notmuch new" "$(cat "$T/nm.out")"
expect_exit 0 "import the corpus" "$MBCTL" import -r user.nm "$T/mail"
expect_exit 0 "index it" "$SQUATTER" -u nm

# ours<TAB>notmuch's<TAB>delta<TAB>why they differ
cat > "$T/queries" <<'QUERIES'
from:keithp@keithp.com	from:keithp@keithp.com	0	an address
from:cworth@cworth.org	from:cworth@cworth.org	0	an address
FROM:Joe@Perches.COM	from:joe@perches.com	0	any case
from:perches.com	from:perches.com	0	a domain
from:gmail.com	from:gmail.com	0	a domain
from:notmuchmail.org	from:notmuchmail.org	0	a domain
from:redhat.com	from:redhat.com	0	a domain
recipient:notmuch@notmuchmail.org	to:notmuch@notmuchmail.org	0	notmuch's to: is our recipient:
recipient:notmuchmail.org	to:notmuchmail.org	0	a domain of the recipients
recipient:vger.kernel.org	to:vger.kernel.org	0	a domain of the recipients
recipient:kernel.org	to:kernel.org	0	a parent domain
to:notmuch@notmuchmail.org	to:notmuch@notmuchmail.org	-5	by design: our to: is the To header only (as IMAP SEARCH TO); notmuch's is To, Cc and Bcc
linux-kernel@vger.kernel.org	linux-kernel@vger.kernel.org	0	a bare address is a phrase
kernel.org	kernel.org	0	a bare domain is a phrase
from:cworth or from:keithp	from:cworth or from:keithp	0	lower-case or
patch and kernel	patch and kernel	0	lower-case and
cifs Or nfs	cifs or nfs	0	mixed-case or
"and"	"and"	0	a quoted operator is the word
patch and not cifs	patch and not cifs	+2	by design: mbctl import reads insert/mbox-attachment.eml as an mbox of 2 messages; notmuch skips it as not mail
patch -cifs	patch and not cifs	+2	-word; the mbox as above
notmuch AND (tag OR tags)	notmuch and (tag or tags)	+1	the mbox as above
date:2009	date:2009	0	a year
date:2009-11	date:2009-11	0	a month
date:2009-11-18	date:2009-11-18	0	a day
date:2009-11-17..2009-11-18	date:2009-11-17..2009-11-18	0	a range of days
date:2009-11..2010-02	date:2009-11..2010-02	0	a range of months
date:2010-01..2010-06	date:2010-01..2010-06	0	a range of months
date:2009..2010	date:2009..2010	0	a range of years
date:..2009-11-17	date:..2009-11-17	0	an open start
date:2010..	date:2010..	+3	an open end; the mbox +2, attachment/text-calendar.eml +1 (its Date: has no year: we take the file's time, notmuch gives it no date)
date:today	date:today	0	relative: nothing is from today
date:yesterday..	date:yesterday..	0	relative: nothing since yesterday
date:..yesterday	date:..yesterday	+3	relative; the mbox +2, text-calendar.eml +1 (as above)
date:18250d..	date:18250d..	+3	days back (to 1976 this year); as above
date:2600w..	date:2600w..	+3	weeks back; as above
date:600m..	date:600M..	+3	months back: notmuch's m is minutes, ours (as in mu) months; as above
date:50y..	date:50y..	+3	years back; as above
date:..50y	date:..50y	0	nothing is 50 years old
from:"Carl Worth"	from:"Carl Worth"	0	a phrase
subject:"[notmuch]"	subject:"[notmuch]"	0	a phrase
"signed-off-by"	"signed-off-by"	0	a phrase of a hyphenated word
body:"the quick brown fox"	body:"the quick brown fox"	0	an absent phrase
"mailing list"	"mailing list"	-1	by design (per-file counting): notmuch indexes the files of one Message-ID (duplicate/msg-3-*) as one message, so a file whose own text lacks the phrase counts
*	*	+2	every message; the mbox +2 (text-calendar.eml is in both)
subject:notmuch	subject:notmuch	0	stemmed on both sides
Subject:(notmuch OR patch)	subject:notmuch or subject:patch	+2	a field over a group (notmuch 0.37 has no such form); the mbox as above
notm*	notm*	+1	a prefix; the mbox as above
id:877h1wv7mg.fsf@inf-8657.int-evry.fr	id:877h1wv7mg.fsf@inf-8657.int-evry.fr	0	a Message-ID
QUERIES

n=0
while IFS='	' read -r ours theirs delta why; do
    a=$("$XSEARCH" -u nm --count "$ours" 2> "$T/err")
    b=$(NOTMUCH_CONFIG="$T/nmhome/config" HOME="$T/nmhome" notmuch count --output=files "$theirs" 2>> "$T/err")
    if [ -n "$a" ] && [ -n "$b" ] && [ $((a - b)) -eq $((delta)) ]; then
        pass "'$ours': $a, notmuch '$theirs': $b ($why)"
    else
        fail "'$ours': $a, notmuch '$theirs': $b, want a difference of $delta ($why)" "$(cat "$T/err")"
    fi
    n=$((n + 1))
done < "$T/queries"
[ $n -ge 30 ] && pass "$n queries compared" || fail "only $n queries compared"

done_testing
