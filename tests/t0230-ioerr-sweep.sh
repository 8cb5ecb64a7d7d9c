#!/bin/sh
# I/O errors injected at every system call of indexing, compaction (plain
# and -F) and append (see tests/ioerr.sh for what is checked after each).
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/ioerr.sh"

sweep index "user\.a\| a:" always - "$SQUATTER" -u a
sweep compact "user\.a\| a:\|user a" always - "$SQUATTER" -z t2 -t t1,t2 -u a
sweep append "user\.a\|/m7:" before "$SQUATTER -u a" "$MBCTL" append user.a "$T/m7"
# -F with a document to drop (m2, compacted into t2, expunged): its
# deletions after Xapian's compaction are swept too
restore && "$MBCTL" expunge user.a 2 > /dev/null && (cd "$T" && tar cf base.tar $DIRS) ||
    fail "an expunged message in the starting state"
sweep compact-F "user\.a\| a:\|user a" always - "$SQUATTER" -F -z t2 -t t1,t2 -u a

done_testing
