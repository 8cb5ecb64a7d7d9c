#!/bin/sh
# I/O errors injected at every system call of expunge, a folder rename
# and a user rename (see tests/ioerr.sh for what is checked after each).
# Each case is settled before the state is compared: an expunge whose
# GUID db update failed is caught up by the next squatter run, and a
# rename that failed after its switch is finished by `mbctl expire`
# (docs/FAULTS.md).
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
INDEX_ALL=1
. "${top_srcdir:-$(dirname "$0")/..}/tests/ioerr.sh"

sweep expunge user.a before "$SQUATTER -u a" "$MBCTL" expunge user.a 2
sweep rename user.a.sub before "$MBCTL expire" "$MBCTL" rename user.a.sub user.a.sub2
sweep "user rename" "user\.a\|user\.b" before "$MBCTL expire" "$MBCTL" rename user.a user.b

done_testing
