/* message.h - parsing one RFC 5322 message with GMime 3: its GUID, the
 * sizes and date that go in its index record, the ten cache fields, and
 * (for the indexer) its text.
 *
 * Nothing here fails on malformed mail: whatever GMime can make of the
 * bytes is used, missing parts are empty strings, and text is always valid
 * UTF-8 (encoded words and charsets decoded, undecodable bytes replaced).
 * The only errors are XAP_IMAP_IOERROR-class ones (out of memory).
 *
 * Cache field contents: docs/FORMAT.md "Cache fields". */
#ifndef XAPIARY_MESSAGE_H
#define XAPIARY_MESSAGE_H

#include <stddef.h>
#include <stdint.h>
#include <xapiary/mailbox.h>

/* Nesting deeper than this (multiparts within message/rfc822 within ...)
 * is not descended into; the rest of the message still counts. */
#define MESSAGE_MAX_DEPTH 32
/* Of each text part, only the first this many decoded bytes yield text. */
#define MESSAGE_MAX_TEXT (4u << 20)
/* No more than this many leaf parts are described or yield text. */
#define MESSAGE_MAX_PARTS 1000

struct message_parsed {
    unsigned char guid[XAP_MESSAGE_GUID_SIZE]; /* SHA-1 of the bytes */
    size_t header_size;                    /* bytes up to and including the blank line */
    int64_t sentdate;                      /* Date: as seconds since the epoch, 0 if none/bad */
    const char *cache[XAP_NUM_CACHE_FIELDS];   /* NUL-terminated UTF-8, never NULL */
};

/* Must be called once before any other function (g_mime_init); idempotent.
 * xap_init() does not call it so that tools that never parse mail do
 * not pay for it; message_parse() calls it. */
void message_init(void);

/* Counts one message parsed; after a few dozen in the process, keeps
 * the common charsets' conversion modules loaded (message-charsets.c).
 * Called by every parse of this file. */
void message_charsets_count(void);

/* Parses BUF (LEN bytes).  *PARSED_R is allocated under CTX. */
int message_parse(void *ctx, const char *buf, size_t len,
                  struct message_parsed **parsed_r);

/* The header fields of BUF, as counted against max_header_fields: the
 * fields of the message's header, and for each line that starts with "--"
 * after it (a MIME boundary, or what could be one) one more and the
 * fields of the part header that follows, up to its empty line.  A folded
 * line continues its field.  Found in one pass without parsing MIME, a
 * superset of the header fields (and parts) GMime makes objects of, a few
 * hundred bytes each.  Counting stops past MAX: the result is then MAX + 1
 * and *CUT_R (may be NULL) the offset of the line that went past, else
 * *CUT_R is LEN.  message_parse() and message_foreach_text() parse only
 * the bytes before the cut of the configured max_header_fields, so that a
 * message stored before the limit (or with a higher one) costs bounded
 * memory too. */
size_t message_header_fields(const char *buf, size_t len, size_t max, size_t *cut_r);

/* SHA-1 of BUF: the message GUID. */
void message_guid(const char *buf, size_t len, unsigned char guid[XAP_MESSAGE_GUID_SIZE]);
/* 40 lowercase hex digits and a NUL. */
void message_guid_hex(const unsigned char guid[XAP_MESSAGE_GUID_SIZE], char hex[41]);
/* The reverse: 0, or -1 unless HEX is exactly 40 hex digits. */
int message_guid_from_hex(const char *hex, unsigned char guid[XAP_MESSAGE_GUID_SIZE]);

/* The first 8 bytes of GUID as a number, most significant first: GUIDs
 * are SHA-1 digests, spread evenly, so two GUIDs' prefixes order them as
 * their bytes do (up to a tie) and their difference over 2^64 is about
 * the share of a sorted list that lies between them. */
static inline uint64_t message_guid_prefix(const unsigned char *guid)
{
    uint64_t v = 0;

    for (int k = 0; k < 8; k++)
        v = v << 8 | guid[k];
    return v;
}

/* What a piece of indexable text is. */
enum message_text_kind {
    MESSAGE_TEXT_FROM,
    MESSAGE_TEXT_TO,
    MESSAGE_TEXT_CC,
    MESSAGE_TEXT_BCC,
    MESSAGE_TEXT_SUBJECT,
    MESSAGE_TEXT_MSGID,      /* Message-ID without the angle brackets */
    MESSAGE_TEXT_HEADER,     /* other headers worth searching: "Name: value" */
    MESSAGE_TEXT_BODY,       /* a text part, decoded to UTF-8; HTML without markup */
    MESSAGE_TEXT_ATTACHMENT, /* an attachment's file name */
    /* Each address (addr-spec, "local@domain") of From, To, Cc, Bcc of the
     * message itself, one call per address, after the field's text. */
    MESSAGE_TEXT_FROM_ADDR,
    MESSAGE_TEXT_TO_ADDR,
    MESSAGE_TEXT_CC_ADDR,
    MESSAGE_TEXT_BCC_ADDR,
    MESSAGE_TEXT_LAST = MESSAGE_TEXT_BCC_ADDR   /* for checks of a kind's range */
};

/* TEXT is UTF-8, LEN bytes, not NUL-terminated; valid only during the call.
 * A non-zero return stops the walk and is returned by message_foreach_text. */
typedef int message_text_fn(void *rock, enum message_text_kind kind,
                            const char *text, size_t len);

/* Calls FN for every piece of searchable text of BUF, headers first, then
 * the leaf parts in order (into attached messages too, up to
 * MESSAGE_MAX_DEPTH).  Also sets *SENTDATE_R (may be NULL). */
int message_foreach_text(const char *buf, size_t len, int64_t *sentdate_r,
                         message_text_fn *fn, void *rock);

#endif
