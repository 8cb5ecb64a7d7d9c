#!/bin/sh
# mbctl import --link: each Maildir file becomes the spool's message file
# by a hard link (the same inode, so its link count is 2), not a copy;
# what cannot be linked is copied (a file with an envelope line, a link
# refused as across filesystems, a file not the importer's); the GUID is
# the bytes' (mbctl verify); deleting either name leaves the other; a
# source rewritten in place is what mbctl verify reports.  Killed at each
# point of the import's batch, and with the batch's sync failing, the
# Maildir is untouched, and the same import again leaves every message
# linked once, no debris.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

. "${top_srcdir:-$(dirname "$0")/..}/tests/maildir.sh"
count() { "$MBCTL" status "$1" 2> /dev/null | sed -n 's/^messages: //p'; }
spool() { find "$T/spool" -path "*/user/$1/*" -name '*.' -type f | sort; }
# The link counts of a Maildir's files, sorted and counted ("  3 2").
nlinks() { stat -c %h "$T/$1"/cur/* | sort | uniq -c | sed 's/^ *//'; }
sums() { (cd "$T/$1" && cksum cur/* | sort); }

maildir a 3
sums a > "$T/a.sums"
expect_exit 0 "import --link" "$MBCTL" import -v --link user.a "$T/a" 2> "$T/err"
expect_grep "3 of the 3 messages stored as links" "$T/err" "-v says how many were linked"
[ "$(nlinks a)" = "3 2" ] && pass "every Maildir file has a second name" \
                         || fail "every Maildir file has a second name" "$(nlinks a)"
src=$(stat -c %i "$T/a/cur/2:2,S")
dst=$(stat -c %i "$(spool a | sed -n 2p)")
[ "$src" = "$dst" ] && pass "UID 2's file is the Maildir's second file" \
                    || fail "UID 2's file is the Maildir's second file" "$src against $dst"
expect_exit 0 "mbctl verify: sizes and GUIDs" "$MBCTL" verify user.a
"$MBCTL" cat user.a 2 > "$T/cat2"
cmp -s "$T/cat2" "$T/a/cur/2:2,S" && pass "mbctl cat gives the file's bytes" \
                                  || fail "mbctl cat gives the file's bytes"

# Without --link, a copy: the Maildir's files keep one name each more.
expect_exit 0 "a plain import copies" "$MBCTL" import user.c "$T/a"
[ "$(nlinks a)" = "3 2" ] && pass "a plain import adds no link" \
                         || fail "a plain import adds no link" "$(nlinks a)"

# Expunging and deleting remove the spool's name only.
expect_exit 0 "expunge UID 1" "$MBCTL" expunge user.a 1
expect_exit 0 "delete user.a" "$MBCTL" delete user.a
[ "$(nlinks a)" = "3 1" ] && pass "the Maildir files are back to one name each" \
                         || fail "the Maildir files are back to one name each" "$(nlinks a)"
sums a | cmp -s - "$T/a.sums" && pass "the Maildir is unchanged" \
                              || fail "the Maildir is unchanged"

# A file not the importer's is copied: its owner could rewrite it.
if [ "$(id -u)" = 0 ]; then
    maildir d 2
    chown 65534 "$T/d/cur/1:2,S"
    expect_exit 0 "import --link of a file owned by another user" \
        "$MBCTL" import --link user.d "$T/d"
    [ "$(stat -c %h "$T/d/cur/1:2,S") $(stat -c %h "$T/d/cur/2:2,S")" = "1 2" ] \
        && pass "another user's file is copied, the importer's linked" \
        || fail "another user's file is copied, the importer's linked" "$(nlinks d)"
else
    pass "# SKIP files of another user need root to make"
    pass "# SKIP files of another user need root to make"
fi

# The caveat: a source rewritten in place is the spool's file too.
maildir e 2
expect_exit 0 "import --link user.e" "$MBCTL" import --link user.e "$T/e"
printf 'X' | dd of="$T/e/cur/2:2,S" bs=1 seek=6 conv=notrunc 2> /dev/null
expect_exit 65 "mbctl verify finds the rewritten file" "$MBCTL" verify user.e 2> "$T/err"
expect_grep "UID 2: message file .* does not match the record's GUID" "$T/err" \
    "the report names the UID and the file"

# Killed in the batch: the earlier import is intact, the Maildir
# untouched; the import again links every message once, leaves no other
# file.
maildir f 10
maildir g 20
maildir h 3
sums g > "$T/g.sums"
sums h > "$T/h.sums"
expect_exit 0 "create user.k" "$MBCTL" create user.k
expect_exit 0 "an import committed first" "$MBCTL" import --link user.k "$T/f"
(cd "$T" && tar cf base.tar conf spool)
restore() { (cd "$T" && rm -rf conf spool && tar xf base.tar); }
# After a failed or killed import of Maildir $1 ($2 messages) into user.k.
after() {
    [ "$(count user.k)" = 10 ] && pass "$what: the earlier import is intact, the batch not there" \
                               || fail "$what: the earlier import is intact, the batch not there" "$(count user.k)"
    sums $1 | cmp -s - "$T/$1.sums" && pass "$what: the Maildir is untouched" \
                                    || fail "$what: the Maildir is untouched"
    expect_exit 0 "$what: the same import again" "$MBCTL" import --link user.k "$T/$1"
    [ "$(count user.k)" = $((10 + $2)) ] && pass "$what: every message there" \
                                         || fail "$what: every message there" "$(count user.k)"
    expect_exit 0 "$what: mbctl verify" "$MBCTL" verify user.k
    [ "$(spool k | wc -l)" -eq $((10 + $2)) ] && pass "$what: no debris" \
                                             || fail "$what: no debris" "$(spool k | wc -l) files"
    [ "$(nlinks $1)" = "$2 2" ] && pass "$what: each Maildir file linked once" \
                               || fail "$what: each Maildir file linked once" "$(nlinks $1)"
}
for point in mailbox.append.1 import.written mailbox.commit.0; do
    restore
    what=$point
    XAPIARY_FAULT=$point "$MBCTL" import --link user.k "$T/g" > /dev/null 2> "$T/kill.err"
    rc=$?
    [ "$rc" -eq 137 ] && pass "$point: killed" || fail "$point: killed" "exit $rc: $(cat "$T/kill.err")"
    after g 20
done

. "${top_srcdir:-$(dirname "$0")/..}/tests/ioerr-shim.sh"
# The batch's sync fails: of 3 files, the first one's fsync; of 20, the
# one syncfs.  Exit 74, nothing of the batch committed, no link left.
for case in "h 3" "g 20"; do
    set -- $case
    restore
    what="import --link of $2 messages, its sync failing"
    LD_PRELOAD="$SHIM" XAPIARY_IOERR=fsync:1 XAPIARY_IOERR_PATH=user/k \
        "$MBCTL" import --link user.k "$T/$1" > /dev/null 2> "$T/err"
    rc=$?
    [ "$rc" -eq 74 ] && pass "$what: exit 74" || fail "$what: exit 74" "exit $rc: $(cat "$T/err")"
    [ "$(nlinks $1)" = "$2 1" ] && pass "$what: no link left" \
                               || fail "$what: no link left" "$(nlinks $1)"
    after $1 $2
done

# What cannot be linked is copied: a file with an envelope line (it is
# not stored whole), a link refused as across filesystems (the shim's
# EXDEV on the second link).
maildir b 3
{ echo "From k@example.com Mon Jan  1 00:00:00 2024"; cat "$T/b/cur/3:2,S"; } > "$T/env"
mv "$T/env" "$T/b/cur/3:2,S"
LD_PRELOAD="$SHIM" XAPIARY_IOERR=link:2:EXDEV XAPIARY_IOERR_COUNT="$T/cnt" \
    "$MBCTL" import -v --link user.b "$T/b" 2> "$T/err"
expect_grep "1 of the 3 messages stored as links" "$T/err" "one linked, two copied"
expect_grep "^link 2$" "$T/cnt" "two links tried (none for the envelope line's)"
[ "$(stat -c %h "$T/b/cur/1:2,S") $(stat -c %h "$T/b/cur/2:2,S") $(stat -c %h "$T/b/cur/3:2,S")" = "2 1 1" ] \
    && pass "the refused and the envelope line's files are copies" \
    || fail "the refused and the envelope line's files are copies" "$(nlinks b)"
expect_exit 0 "mbctl verify user.b" "$MBCTL" verify user.b
# The link made but its name not opened (the check that it still leads to
# the file read): the link goes, the message is copied, not written
# through the link into the Maildir's file.
maildir l 2
sums l > "$T/l.sums"
LD_PRELOAD="$SHIM" XAPIARY_IOERR=open:1:EACCES XAPIARY_IOERR_PATH='1.$' \
    XAPIARY_IOERR_COUNT="$T/cnt" "$MBCTL" import --link user.l "$T/l" 2> "$T/err"
expect_grep "^fired open 1 1\.$" "$T/cnt" "the open of UID 1's link failed"
[ "$(stat -c %h "$T/l/cur/1:2,S") $(stat -c %h "$T/l/cur/2:2,S")" = "1 2" ] \
    && pass "that message is a copy, its link gone" \
    || fail "that message is a copy, its link gone" "$(nlinks l)"
sums l | cmp -s - "$T/l.sums" && pass "the Maildir is untouched" \
                              || fail "the Maildir is untouched"
expect_exit 0 "mbctl verify user.l" "$MBCTL" verify user.l
"$MBCTL" cat user.b 3 | head -1 | grep -q '^From: ' && pass "the envelope line is not stored" \
                                                   || fail "the envelope line is not stored"

done_testing
