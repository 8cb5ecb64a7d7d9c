/* imap_err.c - the sentences behind the XAP_IMAP_* codes. */
#include <config.h>

#include <stdio.h>

#include "xapiary/xapiary.h"

static const char *const messages[XAP_IMAP_ERROR_LAST - XAP_IMAP_INTERNAL] = {
    [XAP_IMAP_INTERNAL - XAP_IMAP_INTERNAL] = "Internal error",
    [XAP_IMAP_IOERROR - XAP_IMAP_INTERNAL] = "System I/O error",
    [XAP_IMAP_CONFIG - XAP_IMAP_INTERNAL] = "Configuration error",
    [XAP_IMAP_INVALID_ARGUMENT - XAP_IMAP_INTERNAL] = "Invalid argument",
    [XAP_IMAP_PERMISSION_DENIED - XAP_IMAP_INTERNAL] = "Permission denied",
    [XAP_IMAP_MAILBOX_LOCKED - XAP_IMAP_INTERNAL] = "Mailbox is locked",
    [XAP_IMAP_MAILBOX_NONEXISTENT - XAP_IMAP_INTERNAL] = "Mailbox does not exist",
    [XAP_IMAP_MAILBOX_EXISTS - XAP_IMAP_INTERNAL] = "Mailbox already exists",
    [XAP_IMAP_MAILBOX_BADNAME - XAP_IMAP_INTERNAL] = "Invalid mailbox name",
    [XAP_IMAP_MAILBOX_CHECKSUM - XAP_IMAP_INTERNAL] = "Mailbox file checksum mismatch",
    [XAP_IMAP_MAILBOX_BADFORMAT - XAP_IMAP_INTERNAL] = "Mailbox file has a bad format",
    [XAP_IMAP_MAILBOX_NOTSUPPORTED - XAP_IMAP_INTERNAL] = "Mailbox format not supported",
    [XAP_IMAP_PARTITION_UNKNOWN - XAP_IMAP_INTERNAL] = "Unknown partition",
    [XAP_IMAP_SEARCH_TIER_UNKNOWN - XAP_IMAP_INTERNAL] = "Unknown search tier",
    [XAP_IMAP_SEARCH_SYNTAX - XAP_IMAP_INTERNAL] = "Search query syntax error",
    [XAP_IMAP_SEARCH_CORRUPT - XAP_IMAP_INTERNAL] = "Search index cannot be read",
    [XAP_IMAP_MESSAGE_BADHEADER - XAP_IMAP_INTERNAL] = "Message cannot be stored",
    [XAP_IMAP_NOTFOUND - XAP_IMAP_INTERNAL] = "Not found",
    [XAP_IMAP_AGAIN - XAP_IMAP_INTERNAL] = "State changed, try again",
    [XAP_IMAP_SEARCH_NOTSUPPORTED - XAP_IMAP_INTERNAL] = "Search index of a newer schema",
    [XAP_IMAP_MESSAGE_TOOLARGE - XAP_IMAP_INTERNAL] = "Message exceeds the size limits",
    [XAP_IMAP_MAILBOX_REMOTE - XAP_IMAP_INTERNAL] = "Mailbox lives on another server",
    [XAP_IMAP_REGISTRY_DOWN - XAP_IMAP_INTERNAL] = "Cluster registry unreachable, try again later",
};

const char *xap_error_message(int r)
{
    /* Unknown codes get a buffer per thread: callers only print it, and
     * two threads of an embedding program may fail at once. */
    static _Thread_local char unknown[48];

    if (r == 0)
        return "OK";
    if (r >= XAP_IMAP_INTERNAL && r < XAP_IMAP_ERROR_LAST && messages[r - XAP_IMAP_INTERNAL])
        return messages[r - XAP_IMAP_INTERNAL];
    snprintf(unknown, sizeof unknown, "Unknown error %d", r);
    return unknown;
}
