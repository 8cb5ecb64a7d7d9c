# maildir.sh - sourced after tap.sh by the import tests.
# maildir NAME N: a Maildir $T/NAME of N small messages in cur/, message I
# from kI@example.com with the subject "NAME I" and its own Message-ID.
maildir() {
    mkdir -p "$T/$1/cur" "$T/$1/new" "$T/$1/tmp"
    local i=1
    while [ $i -le "$2" ]; do
        printf 'From: k%d@example.com\nSubject: %s %d\nMessage-ID: <%s%d@example.com>\n\nbody %s%d\n' \
            $i "$1" $i "$1" $i "$1" $i > "$T/$1/cur/$i:2,S"
        i=$((i + 1))
    done
}
