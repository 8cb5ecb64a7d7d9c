/* fuzz_mime - libFuzzer harness for message parsing and the cache record
 * built from it (mailbox/message.c, mailbox/mailbox-format.c).
 *
 * The input is a message.  message_parse must succeed on anything
 * (message.h: nothing fails on malformed mail) with every cache field
 * valid UTF-8 and the header size within the message; the cache record
 * built from the fields must parse back to the same fields under its CRC;
 * message_foreach_text must hand out only non-empty valid UTF-8 and must
 * stop when the callback says so, returning what the callback returned. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <talloc.h>

#include "tests/fuzz/fuzz.h"
#include "xapiary/xapiary.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"
#include "mailbox/message.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet();
    message_init();
    return 0;
}

struct count {
    size_t n;
    size_t stop_after;          /* 0: never stop */
};

static int piece(void *rock, enum message_text_kind kind, const char *text, size_t len)
{
    struct count *c = rock;

    if ((unsigned)kind > MESSAGE_TEXT_LAST || len == 0 ||
        !g_utf8_validate(text, (gssize)len, NULL))
        abort();
    c->n++;
    return c->stop_after && c->n >= c->stop_after ? 42 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *ctx = talloc_new(NULL);
    /* An exact-size copy, so that reading one byte too far is caught. */
    char *buf = talloc_memdup(ctx, data, size ? size : 1);
    struct message_parsed *p = NULL;
    struct xap_cacherecord crec;
    char *cache = talloc_array(ctx, char, 0);
    uint32_t crc;
    unsigned char guid[XAP_MESSAGE_GUID_SIZE];

    if (message_parse(ctx, buf, size, &p) || !p)
        abort();
    if (p->header_size > size)
        abort();
    message_guid(buf, size, guid);
    if (memcmp(guid, p->guid, sizeof guid))
        abort();
    for (int f = 0; f < XAP_NUM_CACHE_FIELDS; f++)
        if (!p->cache[f] || !g_utf8_validate(p->cache[f], -1, NULL))
            abort();

    /* The cache build and its reading back. */
    size_t off = cache_record_build(&cache, p->cache, &crc);
    size_t total = talloc_array_length(cache) - off;
    if (off != 0 || cache_record_parse(cache, total, crc, &crec) || crec.len != total)
        abort();
    for (int f = 0; f < XAP_NUM_CACHE_FIELDS; f++)
        if (crec.item[f].size != strlen(p->cache[f]) ||
            memcmp(crec.base + crec.item[f].offset, p->cache[f], crec.item[f].size))
            abort();
    if (total >= 4 + 4 * XAP_NUM_CACHE_FIELDS + 1 &&
        cache_record_parse(cache, total - 1, crc, &crec) != XAP_IMAP_MAILBOX_BADFORMAT)
        abort();

    /* The indexer's text, all of it, then stopped after the first piece. */
    struct count all = { 0, 0 }, one = { 0, 1 };
    int64_t date = -1;
    if (message_foreach_text(buf, size, &date, piece, &all))
        abort();
    if (date != p->sentdate)
        abort();
    int r = message_foreach_text(buf, size, NULL, piece, &one);
    if (all.n ? (r != 42 || one.n != 1) : (r != 0 || one.n != 0))
        abort();

    talloc_free(ctx);
    return 0;
}
