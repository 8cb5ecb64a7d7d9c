#!/bin/sh
# mbctl import -j N: worker threads read and parse the files ahead while
# one thread appends them, so UIDs follow the sorted file names whatever
# N is: with large messages among small ones (whose parses finish out of
# order), refused ones, a link skipped and a second run that skips what
# is there, -j 4 stores the same messages under the same UIDs, with the
# same cache records, as -j 0 (no threads), with and without --link.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

{ cat "$XAPIARY_CONFIG"; echo "max_message_size: 200000"; } > "$T/small.conf"
export XAPIARY_CONFIG="$T/small.conf"
spooldir() { dirname "$(find "$T/spool" -path "*/user/$1/*" -name xapiary.index)"; }

# Message I of the Maildir M: every 9th has a body of about 150 KB (its
# read and parse take far longer than a small one's), every 31st is past
# max_message_size.
msg() {
    printf 'From: k%d@example.com\nSubject: jobs %d\nMessage-ID: <j%d@example.com>\n\n' $2 $2 $2
    if [ $(($2 % 31)) = 0 ]; then
        head -c 210000 "$T/filler"
    elif [ $(($2 % 9)) = 0 ]; then
        head -c 150000 "$T/filler"
    fi
    printf 'body %d\n' $2
}
head -c 160000 /dev/zero | tr '\0' 'a' | fold -w 70 > "$T/filler"
head -c 220000 /dev/zero | tr '\0' 'b' | fold -w 70 >> "$T/filler"
mkdir -p "$T/m/cur" "$T/m/new" "$T/m/tmp"
i=1
while [ $i -le 240 ]; do
    msg m $i > "$T/m/cur/$(printf %04d $i):2,S"
    i=$((i + 1))
done
ln -s "$T/m/cur/0001:2,S" "$T/m/cur/0100.link:2,S"

# What each UID must hold: the files in name order, less the refused
# ones and the link.
expected() { (cd "$T/m/cur" && for f in *; do
    [ -L "$f" ] || [ "$(stat -c %s "$f")" -gt 200000 ] || echo "$T/m/cur/$f"; done); }
expected > "$T/expected"
n=$(wc -l < "$T/expected")

# uids_match USER: spool file UID is line UID of $T/expected, byte for byte.
uids_match() {
    local d=$(spooldir "$1") uid=1 bad=""
    while read -r f; do
        cmp -s "$d/$uid." "$f" || bad="$bad $uid"
        uid=$((uid + 1))
    done < "$T/expected"
    [ -z "$bad" ] && [ ! -e "$d/$uid." ] && pass "$1: UID k holds the k-th file" \
                                        || fail "$1: UID k holds the k-th file" "wrong:$bad"
}

for j in 0 4; do
    expect_exit 65 "import -j $j (some refused)" "$MBCTL" import -j $j user.j$j "$T/m"
    grep -v "^mbctl: user.j$j: .*: Message exceeds the size limits" "$T/err" |
        grep -v "larger than max_message_size" | sort > "$T/err.j$j.rest"
    [ "$(grep -c "Message exceeds the size limits" "$T/err")" = 7 ] \
        && pass "-j $j: the 7 messages past the limit named" \
        || fail "-j $j: the 7 messages past the limit named" "$(cat "$T/err")"
    expect_grep "0100.link:2,S: a symbolic link: skipped" "$T/err" "-j $j: the link named"
    uids_match j$j
done
[ "$(ls "$(spooldir j0)" | grep -c '\.$')" = "$n" ] && pass "$n messages stored" \
    || fail "$n messages stored" "$(ls "$(spooldir j0)" | grep -c '\.$')"
cmp -s "$(spooldir j0)/xapiary.cache.1" "$(spooldir j4)/xapiary.cache.1" \
    && pass "-j 4 and -j 0 wrote the same cache records" \
    || fail "-j 4 and -j 0 wrote the same cache records"
expect_exit 0 "mbctl verify the -j 4 import" "$MBCTL" verify user.j4

# --link with threads: UID k is the k-th file itself.
expect_exit 65 "import --link -j 4" "$MBCTL" import --link -j 4 user.l "$T/m"
uids_match l
d=$(spooldir l)
[ "$(stat -c %i "$d/5.")" = "$(stat -c %i "$(sed -n 5p "$T/expected")")" ] \
    && pass "--link -j 4: UID 5 is the 5th file's inode" \
    || fail "--link -j 4: UID 5 is the 5th file's inode"

# Again with new files: only those are added, after the others, in order.
i=241
while [ $i -le 300 ]; do
    msg m $i > "$T/m/cur/$(printf %04d $i):2,S"
    i=$((i + 1))
done
expected > "$T/expected"
expect_exit 65 "import -j 4 again" "$MBCTL" import -v -j 4 user.j4 "$T/m"
expect_grep "$(($(wc -l < "$T/expected") - n)) messages from .*, $n already there" "$T/err" \
    "only the new files are added"
uids_match j4

expect_exit 64 "-j takes a number" "$MBCTL" import -j x user.j5 "$T/m"
done_testing
