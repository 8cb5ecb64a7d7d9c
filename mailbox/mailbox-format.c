/* mailbox-format.c - the byte layout of the index and cache files
 * (docs/FORMAT.md).  Big-endian integers; every header and record ends in
 * a CRC32 (zlib) of the bytes before it.  Pure functions: no I/O. */
#include <config.h>

#include <string.h>

#include <talloc.h>
#include <zlib.h>

#include "xapiary/xapiary.h"
#include "mailbox/mailbox-private.h"

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static uint32_t crc(const void *buf, size_t len)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)len);
}

void index_header_encode(const struct index_header *h, unsigned char *b)
{
    memset(b, 0, INDEX_HEADER_SIZE);
    memcpy(b, INDEX_MAGIC, 8);
    put32(b + 8, INDEX_VERSION);
    put32(b + 12, INDEX_HEADER_SIZE);
    put32(b + 16, INDEX_RECORD_SIZE);
    put32(b + 20, h->generation);
    put32(b + 24, h->num_records);
    put32(b + 28, h->exists);
    put32(b + 32, h->uidvalidity);
    put32(b + 36, h->last_uid);
    put64(b + 40, h->highestmodseq);
    put64(b + 48, (uint64_t)h->last_appenddate);
    put32(b + 56, h->options);
    put32(b + 60, h->deleted);
    put32(b + 64, h->answered);
    put32(b + 68, h->flagged);
    put32(b + 72, h->unseen);
    put64(b + 80, h->quota_used);
    put32(b + 124, crc(b, 124));
}

int index_header_decode(const unsigned char *b, size_t len, struct index_header *h)
{
    if (len < INDEX_HEADER_SIZE || memcmp(b, INDEX_MAGIC, 8))
        return XAP_IMAP_MAILBOX_BADFORMAT;
    if (get32(b + 124) != crc(b, 124))
        return XAP_IMAP_MAILBOX_CHECKSUM;
    h->version = get32(b + 8);
    if (h->version != INDEX_VERSION)
        return XAP_IMAP_MAILBOX_NOTSUPPORTED;
    if (get32(b + 12) != INDEX_HEADER_SIZE || get32(b + 16) != INDEX_RECORD_SIZE)
        return XAP_IMAP_MAILBOX_BADFORMAT;
    h->generation = get32(b + 20);
    h->num_records = get32(b + 24);
    h->exists = get32(b + 28);
    h->uidvalidity = get32(b + 32);
    h->last_uid = get32(b + 36);
    h->highestmodseq = get64(b + 40);
    h->last_appenddate = (int64_t)get64(b + 48);
    h->options = get32(b + 56);
    h->deleted = get32(b + 60);
    h->answered = get32(b + 64);
    h->flagged = get32(b + 68);
    h->unseen = get32(b + 72);
    h->quota_used = get64(b + 80);
    return 0;
}

void index_record_encode(const struct xap_index_record *r, unsigned char *b)
{
    put32(b + 0, r->uid);
    put64(b + 4, (uint64_t)r->internaldate);
    put64(b + 12, (uint64_t)r->sentdate);
    put32(b + 20, r->size);
    put32(b + 24, r->header_size);
    put32(b + 28, r->system_flags);
    put32(b + 32, r->internal_flags);
    for (int i = 0; i < XAP_MAX_USER_FLAGS / 32; i++)
        put32(b + 36 + 4 * i, r->user_flags[i]);
    put64(b + 52, r->cache_offset);
    memcpy(b + 60, r->guid, XAP_MESSAGE_GUID_SIZE);
    put64(b + 80, r->modseq);
    put64(b + 88, (uint64_t)r->last_updated);
    put32(b + 96, r->cache_crc);
    put32(b + 100, crc(b, 100));
}

int index_record_decode(const unsigned char *b, struct xap_index_record *r)
{
    if (get32(b + 100) != crc(b, 100))
        return XAP_IMAP_MAILBOX_CHECKSUM;
    memset(r, 0, sizeof *r);
    r->uid = get32(b + 0);
    r->internaldate = (int64_t)get64(b + 4);
    r->sentdate = (int64_t)get64(b + 12);
    r->size = get32(b + 20);
    r->header_size = get32(b + 24);
    r->system_flags = get32(b + 28);
    r->internal_flags = get32(b + 32);
    for (int i = 0; i < XAP_MAX_USER_FLAGS / 32; i++)
        r->user_flags[i] = get32(b + 36 + 4 * i);
    r->cache_offset = get64(b + 52);
    memcpy(r->guid, b + 60, XAP_MESSAGE_GUID_SIZE);
    r->modseq = get64(b + 80);
    r->last_updated = (int64_t)get64(b + 88);
    r->cache_crc = get32(b + 96);
    return 0;
}

/* A cache record: u32 total length (including itself), then per field a
 * u32 length and the bytes, padded with NULs to a multiple of 4. */
size_t cache_record_build(char **buf, const char *const fields[XAP_NUM_CACHE_FIELDS],
                          uint32_t *crc_r)
{
    size_t start = talloc_array_length(*buf), total = 4, off;
    size_t lens[XAP_NUM_CACHE_FIELDS];

    for (int f = 0; f < XAP_NUM_CACHE_FIELDS; f++) {
        lens[f] = fields[f] ? strlen(fields[f]) : 0;
        total += 4 + ((lens[f] + 3) & ~(size_t)3);
    }
    char *grown = talloc_realloc(NULL, *buf, char, start + total);

    if (!grown)
        return CACHE_BUILD_FAILED;
    *buf = grown;
    unsigned char *p = (unsigned char *)*buf + start;
    memset(p, 0, total);
    put32(p, (uint32_t)total);
    off = 4;
    for (int f = 0; f < XAP_NUM_CACHE_FIELDS; f++) {
        put32(p + off, (uint32_t)lens[f]);
        if (lens[f])
            memcpy(p + off + 4, fields[f], lens[f]);
        off += 4 + ((lens[f] + 3) & ~(size_t)3);
    }
    *crc_r = crc(p, total);
    return start;
}

int cache_record_parse(const char *base, size_t avail, uint32_t want_crc,
                       struct xap_cacherecord *crec)
{
    const unsigned char *p = (const unsigned char *)base;
    size_t total, off = 4;

    if (avail < 4)
        return XAP_IMAP_MAILBOX_BADFORMAT;
    total = get32(p);
    if (total < 4 + 4 * XAP_NUM_CACHE_FIELDS || total > avail)
        return XAP_IMAP_MAILBOX_BADFORMAT;
    if (crc(p, total) != want_crc)
        return XAP_IMAP_MAILBOX_CHECKSUM;
    for (int f = 0; f < XAP_NUM_CACHE_FIELDS; f++) {
        size_t len;
        if (off + 4 > total)
            return XAP_IMAP_MAILBOX_BADFORMAT;
        len = get32(p + off);
        if (len > total - off - 4)
            return XAP_IMAP_MAILBOX_BADFORMAT;
        crec->item[f].offset = off + 4;
        crec->item[f].size = len;
        off += 4 + ((len + 3) & ~(size_t)3);
    }
    crec->base = base;
    crec->len = total;
    return 0;
}

void cache_header_encode(uint32_t generation, unsigned char *b)
{
    memcpy(b, CACHE_MAGIC, 8);
    put32(b + 8, generation);
    put32(b + 12, crc(b, 12));
}

int cache_header_decode(const unsigned char *b, size_t len, uint32_t *generation_r)
{
    if (len < CACHE_HEADER_SIZE || memcmp(b, CACHE_MAGIC, 8))
        return XAP_IMAP_MAILBOX_BADFORMAT;
    if (get32(b + 12) != crc(b, 12))
        return XAP_IMAP_MAILBOX_CHECKSUM;
    *generation_r = get32(b + 8);
    return 0;
}
