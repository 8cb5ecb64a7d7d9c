/* imap_err.c - the sentences behind the IMAP_* codes. */
#include <config.h>

#include <stdio.h>

#include "xapiary/xapiary.h"

static const char *const messages[IMAP_ERROR_LAST - IMAP_INTERNAL] = {
    [IMAP_INTERNAL - IMAP_INTERNAL] = "Internal error",
    [IMAP_IOERROR - IMAP_INTERNAL] = "System I/O error",
    [IMAP_CONFIG - IMAP_INTERNAL] = "Configuration error",
    [IMAP_INVALID_ARGUMENT - IMAP_INTERNAL] = "Invalid argument",
    [IMAP_PERMISSION_DENIED - IMAP_INTERNAL] = "Permission denied",
    [IMAP_MAILBOX_LOCKED - IMAP_INTERNAL] = "Mailbox is locked",
    [IMAP_MAILBOX_NONEXISTENT - IMAP_INTERNAL] = "Mailbox does not exist",
    [IMAP_MAILBOX_EXISTS - IMAP_INTERNAL] = "Mailbox already exists",
    [IMAP_MAILBOX_BADNAME - IMAP_INTERNAL] = "Invalid mailbox name",
    [IMAP_MAILBOX_CHECKSUM - IMAP_INTERNAL] = "Mailbox file checksum mismatch",
    [IMAP_MAILBOX_BADFORMAT - IMAP_INTERNAL] = "Mailbox file has a bad format",
    [IMAP_MAILBOX_NOTSUPPORTED - IMAP_INTERNAL] = "Mailbox format not supported",
    [IMAP_PARTITION_UNKNOWN - IMAP_INTERNAL] = "Unknown partition",
    [IMAP_SEARCH_TIER_UNKNOWN - IMAP_INTERNAL] = "Unknown search tier",
    [IMAP_SEARCH_SYNTAX - IMAP_INTERNAL] = "Search query syntax error",
    [IMAP_SEARCH_CORRUPT - IMAP_INTERNAL] = "Search index cannot be read",
    [IMAP_MESSAGE_BADHEADER - IMAP_INTERNAL] = "Message cannot be stored",
    [IMAP_NOTFOUND - IMAP_INTERNAL] = "Not found",
    [IMAP_AGAIN - IMAP_INTERNAL] = "State changed, try again",
    [IMAP_SEARCH_NOTSUPPORTED - IMAP_INTERNAL] = "Search index of a newer schema",
    [IMAP_MESSAGE_TOOLARGE - IMAP_INTERNAL] = "Message exceeds the size limits",
    [IMAP_MAILBOX_REMOTE - IMAP_INTERNAL] = "Mailbox lives on another server",
    [IMAP_REGISTRY_DOWN - IMAP_INTERNAL] = "Cluster registry unreachable, try again later",
};

const char *error_message(int r)
{
    /* Unknown codes get a per-call buffer; callers only print it. */
    static char unknown[48];

    if (r == 0)
        return "OK";
    if (r >= IMAP_INTERNAL && r < IMAP_ERROR_LAST && messages[r - IMAP_INTERNAL])
        return messages[r - IMAP_INTERNAL];
    snprintf(unknown, sizeof unknown, "Unknown error %d", r);
    return unknown;
}
