#!/bin/sh
# I/O errors injected at every system call of `mbctl receive` (the
# restore of one user, the destination's half of a move; see
# tests/ioerr.sh for what is checked after each): a receive that fails
# leaves nothing of the user (the state before) and says why, one that
# succeeds leaves the whole user.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
INDEX_ALL=1
. "${top_srcdir:-$(dirname "$0")/..}/tests/ioerr.sh"

# The stream of a user b with a's mail (a renamed to b, exported, renamed
# back), and a starting state without b.
restore
"$MBCTL" rename user.a user.b && "$MBCTL" export -o "$T/b.export" b &&
    "$MBCTL" rename user.b user.a && "$MBCTL" expire > /dev/null ||
    fail "the stream of user b"
(cd "$T" && tar cf base.tar $DIRS)

sweep receive "user b\|b:\|user\.b\|standard input\|export" before - "$MBCTL" receive -i "$T/b.export"

done_testing
