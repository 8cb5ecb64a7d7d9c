#!/bin/sh
# mbctl import's memory does not grow with the number of messages beyond
# the folder's list of names: nothing of one file (its path, its buffer)
# is kept until the folder is done, and the names are not one allocation
# each.  Kept per file, 28,000 more messages cost 9 MB more at the peak
# (14.0 MB for 2,000, 23.0 MB for 30,000, measured here), which also
# scattered the heap and slowed every later malloc; now they cost at most
# the GUID db's page cache (2 MiB) and the list of names (under 2 MB).
# Peak RSS of an import of 2,000 messages against one of 30,000, each into
# its own mailbox; the bound, 5 MB, is between the two.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"

if ! command -v python3 > /dev/null; then
    echo "1..0 # SKIP python3 is missing (scripts/deps installs it)"
    exit 0
fi
if nm -D "$MBCTL" 2> /dev/null | grep -q ' U __\(asan\|ubsan\)_'; then
    # ASan's allocator keeps freed memory in quarantine and pads every
    # block: its peak is the sanitizer's, not the import's.
    echo "1..0 # SKIP a sanitizer build's peak RSS is its allocator's"
    exit 0
fi

# many NAME N: a Maildir $T/NAME of N small messages in cur/ (python: a
# shell loop takes minutes for 30,000 files).
many() {
    python3 - "$T/$1" "$2" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for s in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(d, s), exist_ok=True)
for i in range(1, n + 1):
    with open(os.path.join(d, "cur", "%d.m%d.host:2,S" % (1600000000 + i, i)), "w") as f:
        f.write("From: k%d@example.com\nSubject: message %d\nMessage-ID: <m%d@example.com>\n\nbody %d\n"
                % (i, i, i, i))
PY
}
# peak MAILBOX DIR: imports DIR into MAILBOX; prints mbctl's peak RSS in KB.
peak() {
    python3 - "$MBCTL" "$1" "$2" <<'PY'
import resource, subprocess, sys
mbctl, mailbox, d = sys.argv[1:4]
r = subprocess.run([mbctl, "import", "--link", mailbox, d], stderr=subprocess.PIPE)
if r.returncode:
    sys.stderr.write(r.stderr.decode())
    sys.exit(1)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

many small 2000
many large 30000
small=$(peak user.s "$T/small") && pass "import of 2,000 messages" || fail "import of 2,000 messages"
large=$(peak user.l "$T/large") && pass "import of 30,000 messages" || fail "import of 30,000 messages"
[ "$("$MBCTL" status user.l | sed -n 's/^messages: //p')" = 30000 ] && pass "all 30,000 there" ||
    fail "all 30,000 there" "$("$MBCTL" status user.l)"
# RUSAGE_CHILDREN is the largest of the children so far: the second
# import's own peak when it is the larger.
grow=$((large - small))
[ "$grow" -lt 5120 ] && pass "28,000 more messages: peak RSS $small KB to $large KB" ||
    fail "peak RSS grows with the messages" "$small KB for 2,000, $large KB for 30,000"
done_testing
