/* fuzz_index - libFuzzer harness for reading a mailbox's index and cache
 * files (mailbox/mailbox-index.c, through the public mailbox API).
 *
 * Once per process: a private server tree in $TMPDIR with one mailbox,
 * user.fuzz, holding a few real messages (one expunged), made with the
 * library itself.  Per input: the index and cache files of that mailbox
 * are replaced by bytes of the input, the mailbox is opened, every record
 * iterated, each cache record loaded and all of its bytes read, then it is
 * closed.  Nothing may crash, leak or read out of bounds, whatever the
 * files say; an open or read may fail only with a mailbox error code.
 *
 * Input layout:
 *   byte 0     flags, below
 *   bytes 1-2  N, big-endian: the first N bytes of the rest are the index
 *              file, the remainder the cache file
 * CRCs stop random bytes at the first check, so flags ask the harness to
 * make them right after the fuzzer's changes, letting it reach the code
 * behind them:
 *   FIX_HEADER   recompute the index header CRC
 *   FIX_RECORDS  recompute every whole index record's CRC
 *   FIX_CACHE    recompute the cache header CRC
 *   FIX_CRECS    set each record's cache_crc to the CRC of the cache
 *                record its cache_offset points to (when that is inside
 *                the cache file), before FIX_RECORDS
 *   EXCLUSIVE    open with the exclusive index lock (xap_mailbox_open_iwl):
 *                a header with OPT_MAILBOX_DIRTY is then recounted
 *   VERIFY       also run xap_mailbox_verify, which reads every record, cache
 *                record and message file
 *
 * Run with XAPIARY_FUZZ_SEEDS=DIR, the harness first writes seed inputs
 * made from the fixture's real files to DIR (scripts/fuzz does). */
#include <config.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>
#include <zlib.h>

#include "tests/fuzz/fuzz.h"
#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "common/util.h"
#include "common/xlog.h"
#include "mailbox/mailbox-private.h"

#define FIX_HEADER  0x01
#define FIX_RECORDS 0x02
#define FIX_CACHE   0x04
#define FIX_CRECS   0x08
#define EXCLUSIVE   0x10
#define VERIFY      0x20

#define NAME "user.fuzz"

static char *tree;              /* the private temporary directory */
static char *mbdir;             /* the mailbox's directory */
static char *index_path;
static char *header_path;
static unsigned char *header_file; /* xapiary.header as created */
static size_t header_len;

static void die(const char *what)
{
    fprintf(stderr, "fuzz_index: %s\n", what);
    abort();
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    xap_done();
    if (tree)
        nftw(tree, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Overwrites in place rather than with O_TRUNC: on ext4 a truncation to
 * zero makes close() flush the file, which costs more than the test. */
static void put_file(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0 || (len && pwrite(fd, buf, len, 0) != (ssize_t)len) ||
        ftruncate(fd, (off_t)len) < 0 || close(fd) < 0)
        die(path);
}

static unsigned char *get_file(void *ctx, const char *path, size_t *len)
{
    char *buf;

    if (read_file(ctx, path, &buf, len))
        die(path);
    return (unsigned char *)buf;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t crc(const unsigned char *p, size_t len)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)len);
}

/* A seed: FLAGS, then the index and cache files. */
static void write_seed(const char *dir, const char *name, unsigned flags,
                       const unsigned char *idx, size_t ilen,
                       const unsigned char *cache, size_t clen)
{
    char *path = talloc_asprintf(NULL, "%s/%s", dir, name);
    unsigned char *buf = talloc_array(path, unsigned char, 3 + ilen + clen);

    buf[0] = (unsigned char)flags;
    buf[1] = (unsigned char)(ilen >> 8);
    buf[2] = (unsigned char)ilen;
    memcpy(buf + 3, idx, ilen);
    memcpy(buf + 3 + ilen, cache, clen);
    put_file(path, buf, 3 + ilen + clen);
    talloc_free(path);
}

static void make_fixture(void)
{
    static const char *const msgs[] = {
        "From: Bob <bob@example.com>\r\nTo: alice@example.com\r\n"
        "Subject: lunch on friday\r\nDate: Fri, 6 Mar 2020 12:00:00 +0100\r\n\r\nnoon?\r\n",
        "From: carol@example.org\nSubject: =?utf-8?q?caf=C3=A9?=\n"
        "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
        "hello\n--b\nContent-Type: application/pdf\nContent-Disposition: attachment; "
        "filename=r.pdf\n\nxx\n--b--\n",
        "Subject: gone\n\nexpunged\n",
    };
    const char *tmp = getenv("TMPDIR");
    char *conf;
    struct xap_mailbox *mb = NULL;
    uint32_t uid;

    tree = talloc_asprintf(NULL, "%s/xapiary-fuzz-index-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tree))
        die("mkdtemp");
    atexit(cleanup);
    conf = talloc_asprintf(tree, "configdirectory: %s/conf\npartition-default: %s/spool\n",
                           tree, tree);
    if (mkdir(talloc_asprintf(tree, "%s/conf", tree), 0700) < 0)
        die("mkdir conf");
    char *confpath = talloc_asprintf(tree, "%s/xapiary.conf", tree);
    put_file(confpath, conf, strlen(conf));
    if (xap_init(confpath))
        die("xap_init");
    if (xap_mailbox_create(NAME, NULL, NULL, 0, &mb))
        die("xap_mailbox_create");
    for (size_t i = 0; i < sizeof msgs / sizeof *msgs; i++)
        if (xap_mailbox_append_message(mb, msgs[i], strlen(msgs[i]), 0,
                                   i ? XAP_FLAG_SEEN : XAP_FLAG_FLAGGED, &uid))
            die("append");
    if (xap_mailbox_commit(mb) || xap_mailbox_expunge_uid(mb, uid) || xap_mailbox_commit(mb))
        die("commit");
    xap_mailbox_close(&mb);

    mbdir = mailbox_dir(tree, "default", NAME);
    index_path = talloc_asprintf(tree, "%s/" FNAME_INDEX, mbdir);
    header_path = talloc_asprintf(tree, "%s/" FNAME_HEADER, mbdir);
    header_file = get_file(tree, header_path, &header_len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *seeds = getenv("XAPIARY_FUZZ_SEEDS");

    (void)argc;
    (void)argv;
    fuzz_quiet();
    make_fixture();
    if (seeds) {
        void *ctx = talloc_new(NULL);
        size_t ilen, clen;
        unsigned char *idx = get_file(ctx, index_path, &ilen);
        uint32_t gen = get32(idx + 20);
        unsigned char *cache = get_file(ctx, talloc_asprintf(ctx, "%s/" FNAME_CACHE_PREFIX "%u",
                                                             mbdir, gen), &clen);
        write_seed(seeds, "index-valid", 0, idx, ilen, cache, clen);
        write_seed(seeds, "index-valid-fix", 0x3f, idx, ilen, cache, clen);
        write_seed(seeds, "index-valid-verify", EXCLUSIVE | VERIFY, idx, ilen, cache, clen);
        /* A commit that died half way: DIRTY set, counts wrong. */
        idx[56 + 3] |= OPT_MAILBOX_DIRTY;
        put32(idx + 28, 77);
        put32(idx + 124, crc(idx, 124));
        write_seed(seeds, "index-dirty", EXCLUSIVE, idx, ilen, cache, clen);
        write_seed(seeds, "index-truncated", FIX_HEADER, idx, ilen - 50, cache, clen / 2);
        talloc_free(ctx);
    }
    return 0;
}

/* Reads every byte of every cache item of RECORD. */
static unsigned touch_cache(struct xap_mailbox *mb, struct xap_index_record *record)
{
    unsigned sum = 0;

    if (xap_mailbox_cacherecord(mb, record))
        return 0;
    for (int f = 0; f < XAP_NUM_CACHE_FIELDS; f++) {
        const char *base = xap_cacheitem_base(record, f);
        unsigned n = xap_cacheitem_size(record, f);
        for (unsigned i = 0; i < n; i++)
            sum += (unsigned char)base[i];
    }
    return sum;
}

static void problem(void *rock, const char *name, const char *what)
{
    (void)name;
    if (!what)
        abort();
    ++*(int *)rock;
}

static void read_mailbox(int exclusive, int verify)
{
    struct xap_mailbox *mb = NULL;
    struct xap_mailbox_iter *iter;
    const struct xap_index_record *rec;
    struct xap_index_record copy;
    volatile unsigned sum = 0;
    int r;

    r = exclusive ? xap_mailbox_open_iwl(NAME, &mb) : xap_mailbox_open_irl(NAME, &mb);
    if (r) {
        if (mb || r < XAP_IMAP_INTERNAL || r >= XAP_IMAP_ERROR_LAST || r == XAP_IMAP_INTERNAL)
            abort();
        return;
    }
    iter = xap_mailbox_iter_init(mb, 0, 0);
    while ((rec = xap_mailbox_iter_step(iter))) {
        copy = *rec;
        sum += touch_cache(mb, &copy);
    }
    r = xap_mailbox_iter_error(iter);
    if (r == XAP_IMAP_INTERNAL)
        abort();
    xap_mailbox_iter_done(&iter);
    /* Random access: the first and the last record, and one past. */
    uint32_t n = xap_mailbox_num_records(mb);
    if (n && !xap_mailbox_read_index_record(mb, 1, &copy))
        sum += touch_cache(mb, &copy);
    if (n && !xap_mailbox_read_index_record(mb, n, &copy))
        sum += touch_cache(mb, &copy);
    if (xap_mailbox_read_index_record(mb, n + 1, &copy) != XAP_IMAP_NOTFOUND)
        abort();
    xap_mailbox_close(&mb);
    (void)sum;

    if (verify) {
        int problems = 0, seen = 0;
        if (!xap_mailbox_verify(NAME, problem, &seen, &problems) && problems != seen)
            abort();
    }
}

/* Clears the header options whose delayed actions at close (repack,
 * delete cleanup) rebuild or remove the mailbox: those are other files'
 * concerns and would destroy the fixture.  Kept only if the CRC matched. */
static void mask_options(unsigned char *idx, size_t ilen)
{
    if (ilen < INDEX_HEADER_SIZE || get32(idx + 124) != crc(idx, 124))
        return;
    idx[59] &= (unsigned char)~(OPT_MAILBOX_DELETED | OPT_MAILBOX_NEEDS_REPACK |
                                OPT_MAILBOX_NEEDS_CLEANUP);
    put32(idx + 124, crc(idx, 124));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *ctx = talloc_new(NULL);
    unsigned flags = size > 0 ? data[0] : 0;
    size_t want = size > 3 ? (size_t)data[1] << 8 | data[2] : 0;
    const unsigned char *rest = size > 3 ? data + 3 : data;
    size_t restlen = size > 3 ? size - 3 : 0;
    size_t ilen = want < restlen ? want : restlen, clen = restlen - ilen;
    /* Copies to patch; one spare byte so that an empty file is no NULL. */
    unsigned char *idx = talloc_zero_size(ctx, ilen + 1);
    unsigned char *cache = talloc_zero_size(ctx, clen + 1);
    uint32_t gen = 0;

    memcpy(idx, rest, ilen);
    memcpy(cache, rest + ilen, clen);
    if (clen >= CACHE_HEADER_SIZE && (flags & FIX_CACHE))
        put32(cache + 12, crc(cache, 12));
    if (ilen >= INDEX_HEADER_SIZE) {
        gen = get32(idx + 20);
        for (size_t off = INDEX_HEADER_SIZE; off + INDEX_RECORD_SIZE <= ilen;
             off += INDEX_RECORD_SIZE) {
            unsigned char *r = idx + off;
            uint64_t coff = (uint64_t)get32(r + 52) << 32 | get32(r + 56);
            if ((flags & FIX_CRECS) && coff < clen && clen - coff >= 4) {
                uint32_t total = get32(cache + coff);
                if (total <= clen - coff)
                    put32(r + 96, crc(cache + coff, total));
            }
            if (flags & FIX_RECORDS)
                put32(r + 100, crc(r, 100));
        }
        if (flags & FIX_HEADER)
            put32(idx + 124, crc(idx, 124));
        mask_options(idx, ilen);
    }

    /* The mailbox's files as the input says; the header file and the
     * directory as made, in case a run removed them. */
    struct stat st;
    if (stat(header_path, &st) < 0 || (size_t)st.st_size != header_len) {
        mkdir(mbdir, 0700);
        put_file(header_path, header_file, header_len);
    }
    put_file(index_path, idx, ilen);
    char *cpath = talloc_asprintf(ctx, "%s/" FNAME_CACHE_PREFIX "%u", mbdir, gen);
    put_file(cpath, cache, clen);

    /* xap_mailbox_verify once allocated a byte per UID up to last_uid and read
     * every record up to num_records past the end of the file: both fixed
     * (the verify-huge-* seeds), so every header is audited. */
    int verify = (flags & VERIFY) != 0;
    read_mailbox(flags & EXCLUSIVE, verify);

    unlink(cpath);
    talloc_free(ctx);
    return 0;
}
