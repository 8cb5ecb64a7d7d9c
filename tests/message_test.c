/* message_test - message parsing: GUID, sizes, date, the cache fields and
 * the indexer's text, on crafted messages (always) and on the notmuch test
 * corpus under $XAPIARY_CORPUS (skipped, visibly, when absent). */
#include <config.h>

#include <dirent.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <glib.h>
#include <talloc.h>

#include "xapiary/xapiary.h"
#include "mailbox/guidorder.h"
#include "mailbox/message.h"
#include "tests/testutil.h"

/* Everything message_foreach_text gave, in order. */
struct piece {
    enum message_text_kind kind;
    char *text;
};

struct pieces {
    struct piece *p;
    size_t n;
    size_t stop_after;      /* return 42 after this many (0: never) */
};

static int collect(void *rock, enum message_text_kind kind, const char *text, size_t len)
{
    struct pieces *ps = rock;

    ck_assert(len > 0);
    ck_assert_msg(g_utf8_validate(text, (gssize)len, NULL), "text not UTF-8 (or has NUL)");
    ps->p = talloc_realloc(ps, ps->p, struct piece, ps->n + 1);
    ps->p[ps->n].kind = kind;
    ps->p[ps->n].text = talloc_strndup(ps, text, len);
    ps->n++;
    return ps->stop_after && ps->n >= ps->stop_after ? 42 : 0;
}

static struct pieces *texts(void *ctx, const char *msg, size_t len, int64_t *date)
{
    struct pieces *ps = talloc_zero(ctx, struct pieces);
    ck_assert_int_eq(message_foreach_text(msg, len, date, collect, ps), 0);
    return ps;
}

/* The first piece of KIND at or after *FROM (NULL if none). */
static const char *find(struct pieces *ps, enum message_text_kind kind, size_t n)
{
    for (size_t i = 0; i < ps->n; i++)
        if (ps->p[i].kind == kind && n-- == 0)
            return ps->p[i].text;
    return NULL;
}

static size_t count(struct pieces *ps, enum message_text_kind kind)
{
    size_t c = 0;
    for (size_t i = 0; i < ps->n; i++)
        c += ps->p[i].kind == kind;
    return c;
}

static void check_fields(const struct message_parsed *p, size_t len)
{
    ck_assert_uint_le(p->header_size, len);
    for (int i = 0; i < XAP_NUM_CACHE_FIELDS; i++) {
        ck_assert_ptr_nonnull(p->cache[i]);
        ck_assert_msg(g_utf8_validate(p->cache[i], -1, NULL), "cache field %d not UTF-8", i);
    }
}

static struct message_parsed *parse_str(void *ctx, const char *msg)
{
    struct message_parsed *p;
    ck_assert_int_eq(message_parse(ctx, msg, strlen(msg), &p), 0);
    check_fields(p, strlen(msg));
    return p;
}

static size_t lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ------------------------------------------------------------ crafted */

/* The GUID of a search document's data back to bytes: both cases of hex,
 * and every other byte refused, in either digit of a pair, as is a
 * string too short or too long (the search reports such data as
 * corrupt). */
START_TEST(guid_from_hex)
{
    unsigned char g[XAP_MESSAGE_GUID_SIZE], back[XAP_MESSAGE_GUID_SIZE];
    char hex[41], bad[41];

    for (int i = 0; i < XAP_MESSAGE_GUID_SIZE; i++)
        g[i] = (unsigned char)(i * 13 + 7);
    message_guid_hex(g, hex);
    ck_assert_int_eq(message_guid_from_hex(hex, back), 0);
    ck_assert_mem_eq(back, g, XAP_MESSAGE_GUID_SIZE);
    ck_assert_int_eq(message_guid_from_hex("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", back), 0);
    message_guid("", 0, g);
    ck_assert_mem_eq(back, g, XAP_MESSAGE_GUID_SIZE);
    for (int c = 1; c < 256; c++) {
        int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        for (int pos = 6; pos <= 7; pos++) {
            strcpy(bad, hex);
            bad[pos] = (char)c;
            ck_assert_int_eq(message_guid_from_hex(bad, back), ok ? 0 : -1);
        }
    }
    strcpy(bad, hex);
    bad[39] = 0;
    ck_assert_int_eq(message_guid_from_hex(bad, back), -1);
    ck_assert_int_eq(message_guid_from_hex("da39a3ee5e6b4b0d3255bfef95601890afd807090", back), -1);
}
END_TEST

START_TEST(guid_is_sha1)
{
    unsigned char g[XAP_MESSAGE_GUID_SIZE];
    char hex[41];
    struct message_parsed *p;
    void *ctx = talloc_new(NULL);

    message_guid("abc", 3, g);
    message_guid_hex(g, hex);
    ck_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    p = parse_str(ctx, "abc");
    ck_assert_mem_eq(p->guid, g, XAP_MESSAGE_GUID_SIZE);
    message_guid("", 0, g);
    message_guid_hex(g, hex);
    ck_assert_str_eq(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    talloc_free(ctx);
}
END_TEST

/* An element with its GUID inside, as the callers' arrays have it. */
struct guid_elem {
    int before;
    uint8_t guid[XAP_MESSAGE_GUID_SIZE];
    int after;
};

static const struct guid_elem *ref_elems;

static int ref_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int cmp = memcmp(ref_elems[x].guid, ref_elems[y].guid, XAP_MESSAGE_GUID_SIZE);

    return cmp ? cmp : x < y ? -1 : x > y;
}

/* message_guid_order against a comparison sort, on N elements made with
 * SEED: SHA-1 GUIDs, some copies of an earlier one, some sharing an
 * earlier one's 8-byte prefix only (the tie the radix passes leave),
 * and with SAME_TOP, a first 4 bytes common to all (passes skipped). */
static void check_guid_order(size_t n, unsigned seed, int same_top)
{
    void *tmp = talloc_new(NULL);
    struct guid_elem *e = talloc_zero_array(tmp, struct guid_elem, n ? n : 1);
    size_t *want = talloc_array(tmp, size_t, n ? n : 1), *got;

    srandom(seed);
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        long kind = random() % 8;
        snprintf(buf, sizeof buf, "%u.%zu", seed, i);
        message_guid(buf, strlen(buf), e[i].guid);
        if (i && kind == 0) {
            memcpy(e[i].guid, e[random() % i].guid, XAP_MESSAGE_GUID_SIZE);
        } else if (i && kind == 1) {
            memcpy(e[i].guid, e[random() % i].guid, 8);
        }
        if (same_top)
            memset(e[i].guid, 0x5a, 4);
        e[i].before = e[i].after = -1;
        want[i] = i;
    }
    ref_elems = e;
    qsort(want, n, sizeof *want, ref_cmp);
    got = message_guid_order(tmp, n ? e[0].guid : NULL, sizeof *e, n);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(talloc_array_length(got), n);
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(got[k] == want[k], "n %zu seed %u: position %zu is %zu, not %zu",
                      n, seed, k, got[k], want[k]);
    talloc_free(tmp);
}

START_TEST(guid_order)
{
    static const size_t sizes[] = { 0, 1, 2, 3, 31, 32, 33, 100, 1000, 20000 };

    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (unsigned seed = 1; seed <= 3; seed++) {
            check_guid_order(sizes[s], seed, 0);
            check_guid_order(sizes[s], seed, 1);
        }
}
END_TEST

START_TEST(encoded_words_and_8bit_headers)
{
    void *ctx = talloc_new(NULL);
    const char *q = "From: =?utf-8?q?Ren=C3=A9e_M=C3=BCller?= <renee@example.com>\n"
                    "To: a@example.com, \"B, Jr.\" <b@example.com>\n"
                    "Subject: =?utf-8?q?caf=C3=A9_cr=C3=A8me?=\n\nbody\n";
    const char *b = "Subject: =?iso-8859-1?b?Y2Fm6Q==?= ok\n\nbody\n";
    const char *raw = "From: Jos\xe9 <jose@example.com>\nSubject: caf\xe9 na\xefve\n\nbody\n";
    struct message_parsed *p = parse_str(ctx, q);
    struct pieces *ps;

    ck_assert_str_eq(p->cache[XAP_CACHE_SUBJECT], "caf\xc3\xa9 cr\xc3\xa8me");
    ck_assert_str_eq(p->cache[XAP_CACHE_FROM], "Ren\xc3\xa9" "e M\xc3\xbcller <renee@example.com>");
    ck_assert_ptr_nonnull(strstr(p->cache[XAP_CACHE_TO], "b@example.com"));
    ck_assert_str_eq(p->cache[XAP_CACHE_CC], "");
    ck_assert_ptr_nonnull(strstr(p->cache[XAP_CACHE_ENVELOPE], "\"caf\xc3\xa9 cr\xc3\xa8me\""));
    ps = texts(ctx, q, strlen(q), NULL);
    ck_assert_str_eq(find(ps, MESSAGE_TEXT_SUBJECT, 0), "caf\xc3\xa9 cr\xc3\xa8me");
    ck_assert_ptr_nonnull(strstr(find(ps, MESSAGE_TEXT_FROM, 0), "M\xc3\xbcller"));
    ck_assert_ptr_null(find(ps, MESSAGE_TEXT_CC, 0));

    p = parse_str(ctx, b);
    ck_assert_str_eq(p->cache[XAP_CACHE_SUBJECT], "caf\xc3\xa9 ok");

    /* Raw latin1: decoded through the fallback charsets, never invalid. */
    p = parse_str(ctx, raw);
    ck_assert_str_eq(p->cache[XAP_CACHE_SUBJECT], "caf\xc3\xa9 na\xc3\xafve");
    ck_assert_ptr_nonnull(strstr(p->cache[XAP_CACHE_FROM], "Jos\xc3\xa9"));
    ck_assert_uint_eq(p->header_size, strlen(raw) - 5);
    talloc_free(ctx);
}
END_TEST

START_TEST(alternative_plain_and_html)
{
    void *ctx = talloc_new(NULL);
    const char *m =
        "From: a@example.com\r\n"
        "Message-ID: <abc.123@example.com>\r\n"
        "List-Id: Test list <test.example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/alternative; boundary=\"XX\"\r\n"
        "\r\n"
        "preamble\r\n"
        "--XX\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "plain caf=E9 body\r\n"
        "--XX\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "\r\n"
        "<html><head><style>p { color: red }</style><script>var x = 1 < 2;</script>"
        "</head><body><p>Hello&nbsp;<b>world</b> &amp; friends &#233;&#x263A; &bogus;</p>"
        "<!-- secret --></body></html>\r\n"
        "--XX--\r\n";
    struct message_parsed *p = parse_str(ctx, m);
    struct pieces *ps = texts(ctx, m, strlen(m), NULL);
    const char *html;

    ck_assert_str_eq(p->cache[XAP_CACHE_BODY], "multipart/alternative; boundary=XX");
    ck_assert_str_eq(p->cache[XAP_CACHE_SECTION],
                     "1 text/plain quoted-printable\n2 text/html 7bit\n");
    ck_assert_ptr_nonnull(strstr(p->cache[XAP_CACHE_BODYSTRUCTURE],
                                 "\"type\":\"multipart\",\"subtype\":\"alternative\""));
    ck_assert_ptr_nonnull(strstr(p->cache[XAP_CACHE_BODYSTRUCTURE], "\"charset\":\"iso-8859-1\""));
    ck_assert_uint_eq(p->header_size, (size_t)(strstr(m, "\r\n\r\n") + 4 - m));
    ck_assert_str_eq(find(ps, MESSAGE_TEXT_MSGID, 0), "abc.123@example.com");
    ck_assert_str_eq(find(ps, MESSAGE_TEXT_HEADER, 0), "List-Id: Test list <test.example.com>");
    ck_assert_uint_eq(count(ps, MESSAGE_TEXT_BODY), 2);
    ck_assert_ptr_nonnull(strstr(find(ps, MESSAGE_TEXT_BODY, 0), "plain caf\xc3\xa9 body"));
    html = find(ps, MESSAGE_TEXT_BODY, 1);
    ck_assert_ptr_nonnull(strstr(html, "Hello world "));
    ck_assert_ptr_nonnull(strstr(html, " & friends \xc3\xa9\xe2\x98\xba &bogus;"));
    ck_assert_ptr_null(strchr(html, '<'));
    ck_assert_ptr_null(strstr(html, "color"));
    ck_assert_ptr_null(strstr(html, "var"));
    ck_assert_ptr_null(strstr(html, "secret"));

    /* A non-zero return stops the walk and is passed back. */
    ps = talloc_zero(ctx, struct pieces);
    ps->stop_after = 2;
    ck_assert_int_eq(message_foreach_text(m, strlen(m), NULL, collect, ps), 42);
    ck_assert_uint_eq(ps->n, 2);
    talloc_free(ctx);
}
END_TEST

START_TEST(attachment_and_rfc822)
{
    void *ctx = talloc_new(NULL);
    const char *m =
        "Subject: with attachment\n"
        "Content-Type: multipart/mixed; boundary=b1\n"
        "\n"
        "--b1\n"
        "Content-Type: text/plain\n"
        "\n"
        "see attached\n"
        "--b1\n"
        "Content-Type: application/pdf; name=\"r.pdf\"\n"
        "Content-Disposition: attachment; filename=\"report 2024.pdf\"\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "JVBERi0xLjQKJeLjz9MK\n"
        "--b1\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "From: inner@example.com\n"
        "Subject: forwarded one\n"
        "Content-Type: multipart/mixed; boundary=b2\n"
        "\n"
        "--b2\n"
        "Content-Type: text/plain\n"
        "\n"
        "inner text\n"
        "--b2\n"
        "Content-Type: text/plain; name=notes.txt\n"
        "Content-Disposition: attachment; filename=notes.txt\n"
        "\n"
        "attached notes\n"
        "--b2--\n"
        "--b1--\n";
    struct message_parsed *p = parse_str(ctx, m);
    struct pieces *ps = texts(ctx, m, strlen(m), NULL);

    ck_assert_str_eq(p->cache[XAP_CACHE_SECTION],
                     "1 text/plain 7bit\n2 application/pdf base64\n"
                     "3.1 text/plain 7bit\n3.2 text/plain 7bit\n");
    ck_assert_ptr_nonnull(strstr(p->cache[XAP_CACHE_BODYSTRUCTURE],
                                 "\"disposition\":\"attachment\",\"filename\":\"report 2024.pdf\""));
    ck_assert_ptr_nonnull(strstr(p->cache[XAP_CACHE_BODYSTRUCTURE], "\"forwarded one\""));
    ck_assert_ptr_nonnull(strstr(p->cache[XAP_CACHE_BODYSTRUCTURE], "\"message\":{"));
    ck_assert_str_eq(find(ps, MESSAGE_TEXT_ATTACHMENT, 0), "report 2024.pdf");
    ck_assert_str_eq(find(ps, MESSAGE_TEXT_ATTACHMENT, 1), "notes.txt");
    ck_assert_uint_eq(count(ps, MESSAGE_TEXT_ATTACHMENT), 2);
    /* Nested headers are BODY text, not the outer message's. */
    ck_assert_uint_eq(count(ps, MESSAGE_TEXT_FROM), 0);
    ck_assert_str_eq(find(ps, MESSAGE_TEXT_SUBJECT, 0), "with attachment");
    ck_assert_ptr_null(find(ps, MESSAGE_TEXT_SUBJECT, 1));
    ck_assert_str_eq(find(ps, MESSAGE_TEXT_BODY, 0), "see attached");
    ck_assert_str_eq(find(ps, MESSAGE_TEXT_BODY, 1), "inner@example.com");
    ck_assert_str_eq(find(ps, MESSAGE_TEXT_BODY, 2), "forwarded one");
    ck_assert_str_eq(find(ps, MESSAGE_TEXT_BODY, 3), "inner text");
    ck_assert_str_eq(find(ps, MESSAGE_TEXT_BODY, 4), "attached notes");
    talloc_free(ctx);
}
END_TEST

START_TEST(header_size_and_date)
{
    void *ctx = talloc_new(NULL);
    const char *lf = "Date: Thu, 01 Jan 2004 00:00:00 +0000\nSubject: x\n\nbody\n";
    const char *crlf = "Date: Thu, 01 Jan 2004 01:00:00 +0100\r\nSubject: x\r\n\r\nbody\r\n";
    const char *only = "Subject: no body\nX-Other: y";
    const char *nohdr = "\nbody only\n";
    struct message_parsed *p;
    int64_t date = -1;

    p = parse_str(ctx, lf);
    ck_assert_uint_eq(p->header_size, (size_t)(strstr(lf, "\n\n") + 2 - lf));
    ck_assert_int_eq(p->sentdate, 1072915200);
    ck_assert_str_eq(p->cache[XAP_CACHE_HEADERS],
                     "Date: Thu, 01 Jan 2004 00:00:00 +0000\nSubject: x\n\n");
    ck_assert_str_eq(p->cache[XAP_CACHE_BODY], "text/plain");
    ck_assert_str_eq(p->cache[XAP_CACHE_SECTION], "1 text/plain 7bit\n");
    ck_assert_ptr_nonnull(strstr(p->cache[XAP_CACHE_ENVELOPE], "[\"Thu, 01 Jan 2004 00:00:00 +0000\",\"x\",null"));
    texts(ctx, lf, strlen(lf), &date);
    ck_assert_int_eq(date, 1072915200);

    p = parse_str(ctx, crlf);
    ck_assert_uint_eq(p->header_size, (size_t)(strstr(crlf, "\r\n\r\n") + 4 - crlf));
    ck_assert_int_eq(p->sentdate, 1072915200);

    p = parse_str(ctx, only);
    ck_assert_uint_eq(p->header_size, strlen(only));
    ck_assert_int_eq(p->sentdate, 0);
    ck_assert_str_eq(p->cache[XAP_CACHE_SUBJECT], "no body");

    p = parse_str(ctx, "Content-Type: TEXT/Plain; CharSet=\"utf-8\"; format=flowed;\n"
                       "  name=\"a \\\"b\\\".txt\"\n\nx\n");
    ck_assert_str_eq(p->cache[XAP_CACHE_BODY],
                     "text/plain; charset=utf-8; format=flowed; name=\"a \\\"b\\\".txt\"");
    ck_assert_str_eq(p->cache[XAP_CACHE_SECTION], "1 text/plain 7bit\n");

    p = parse_str(ctx, nohdr);
    ck_assert_uint_eq(p->header_size, 1);
    p = parse_str(ctx, "Date: not a date at all\n\n");
    ck_assert_int_eq(p->sentdate, 0);
    talloc_free(ctx);
}
END_TEST

START_TEST(empty_and_garbage)
{
    void *ctx = talloc_new(NULL);
    struct message_parsed *p;
    char *junk = talloc_array(ctx, char, 4096);
    GRand *rand = g_rand_new_with_seed(12345);

    ck_assert_int_eq(message_parse(ctx, "", 0, &p), 0);
    check_fields(p, 0);
    ck_assert_uint_eq(p->header_size, 0);
    ck_assert_int_eq(p->sentdate, 0);
    texts(ctx, "", 0, NULL);

    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 4096; i++)
            junk[i] = (char)g_rand_int_range(rand, 0, 256);
        if (round % 2)      /* also many NULs and header-like lines */
            for (int i = 0; i < 4096; i += 7)
                junk[i] = round % 4 == 1 ? '\0' : (i % 3 ? ':' : '\n');
        ck_assert_int_eq(message_parse(ctx, junk, 4096, &p), 0);
        check_fields(p, 4096);
        texts(ctx, junk, 4096, NULL);
    }
    /* NULs and invalid bytes in a header and a body. */
    static const char nul[] = "Subject: a\0b\xff\xfe c\nContent-Type: text/plain; charset=x-unknown\n\nbo\0dy \xe9\xff";
    ck_assert_int_eq(message_parse(ctx, nul, sizeof nul - 1, &p), 0);
    check_fields(p, sizeof nul - 1);
    ck_assert_ptr_null(strchr(p->cache[XAP_CACHE_HEADERS], '\xff'));
    struct pieces *ps = texts(ctx, nul, sizeof nul - 1, NULL);
    ck_assert_str_eq(find(ps, MESSAGE_TEXT_BODY, 0), "body \xc3\xa9\xc3\xbf");
    g_rand_free(rand);
    talloc_free(ctx);
}
END_TEST

START_TEST(deep_nesting_is_bounded)
{
    void *ctx = talloc_new(NULL);
    char *m = talloc_strdup(ctx, "From: top@example.com\n");
    struct message_parsed *p;
    struct pieces *ps;

    for (int i = 0; i < 200; i++)
        m = talloc_asprintf_append_buffer(m, "Content-Type: message/rfc822\n\n"
                                          "Subject: level %d\n", i);
    m = talloc_strdup_append_buffer(m, "\ninnermost\n");
    p = parse_str(ctx, m);
    ck_assert_uint_eq(lines(p->cache[XAP_CACHE_SECTION]), 1);
    ck_assert_ptr_nonnull(strstr(p->cache[XAP_CACHE_SECTION], " message/rfc822 "));
    ck_assert_ptr_nonnull(strstr(p->cache[XAP_CACHE_BODYSTRUCTURE], "\"truncated\":true"));
    ck_assert_ptr_null(strstr(p->cache[XAP_CACHE_BODYSTRUCTURE], "level 40"));
    ps = texts(ctx, m, strlen(m), NULL);
    ck_assert_uint_le(count(ps, MESSAGE_TEXT_BODY), MESSAGE_MAX_DEPTH + 1);
    ck_assert_ptr_nonnull(find(ps, MESSAGE_TEXT_BODY, 0));
    for (size_t i = 0; i < ps->n; i++)
        ck_assert_ptr_null(strstr(ps->p[i].text, "innermost"));

    /* Multiparts nested the same way. */
    m = talloc_strdup(ctx, "Subject: deep multipart\n");
    for (int i = 0; i < 200; i++)
        m = talloc_asprintf_append_buffer(m, "Content-Type: multipart/mixed; boundary=d%d\n\n--d%d\n", i, i);
    m = talloc_strdup_append_buffer(m, "Content-Type: text/plain\n\ndeepest\n");
    p = parse_str(ctx, m);
    ck_assert_uint_eq(lines(p->cache[XAP_CACHE_SECTION]), 1);
    texts(ctx, m, strlen(m), NULL);
    talloc_free(ctx);
}
END_TEST

START_TEST(many_parts_are_bounded)
{
    void *ctx = talloc_new(NULL);
    char *m = talloc_strdup(ctx, "Subject: many\nContent-Type: multipart/mixed; boundary=zz\n\n");
    struct message_parsed *p;
    struct pieces *ps;
    char *last;

    for (int i = 0; i < 5000; i++)
        m = talloc_asprintf_append_buffer(m, "--zz\nContent-Type: text/plain\n\npart %d\n", i);
    m = talloc_strdup_append_buffer(m, "--zz--\n");
    p = parse_str(ctx, m);
    ck_assert_uint_eq(lines(p->cache[XAP_CACHE_SECTION]), MESSAGE_MAX_PARTS);
    last = talloc_asprintf(ctx, "\n%d text/plain 7bit\n", MESSAGE_MAX_PARTS);
    ck_assert_ptr_nonnull(strstr(p->cache[XAP_CACHE_SECTION], last));
    ck_assert_ptr_nonnull(strstr(p->cache[XAP_CACHE_BODYSTRUCTURE], "\"truncated\":true"));
    ps = texts(ctx, m, strlen(m), NULL);
    ck_assert_uint_eq(count(ps, MESSAGE_TEXT_BODY), MESSAGE_MAX_PARTS);
    talloc_free(ctx);
}
END_TEST

/* ------------------------------------------------------------ corpus */

static void walk_corpus(void *ctx, const char *dir, int top, size_t *nfiles)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    ck_assert_msg(d != NULL, "opendir %s", dir);
    while ((de = readdir(d)) != NULL) {
        char *path;
        struct stat st;

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (top && !strncmp(de->d_name, "README", 6))
            continue;
        path = talloc_asprintf(ctx, "%s/%s", dir, de->d_name);
        ck_assert_int_eq(lstat(path, &st), 0);
        if (S_ISDIR(st.st_mode))
            walk_corpus(ctx, path, 0, nfiles);
        else if (S_ISREG(st.st_mode)) {
            void *tmp = talloc_new(ctx);
            struct message_parsed *p;
            gchar *buf;
            gsize len;

            ck_assert_msg(g_file_get_contents(path, &buf, &len, NULL), "read %s", path);
            ck_assert_msg(message_parse(tmp, buf, len, &p) == 0, "parse %s", path);
            check_fields(p, len);
            texts(tmp, buf, len, NULL);
            g_free(buf);
            talloc_free(tmp);
            (*nfiles)++;
        }
        talloc_free(path);
    }
    closedir(d);
}

START_TEST(corpus)
{
    const char *root = getenv("XAPIARY_CORPUS");
    void *ctx = talloc_new(NULL);
    char *dir = talloc_asprintf(ctx, "%s/notmuch", root ? root : "");
    struct stat st;
    size_t n = 0;

    if (!root || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "# SKIP corpus not found (set XAPIARY_CORPUS to a directory with notmuch/)\n");
        talloc_free(ctx);
        return;
    }
    walk_corpus(ctx, dir, 1, &n);
    fprintf(stderr, "# corpus: %zu files parsed\n", n);
    ck_assert_uint_gt(n, 0);
    talloc_free(ctx);
}
END_TEST

/* dl_iterate_phdr callback: whether a loaded object's name has *DATA. */
static int object_named(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    return info->dlpi_name && strstr(info->dlpi_name, data) != NULL;
}

static int module_loaded(const char *name)
{
    return dl_iterate_phdr(object_named, (void *)name);
}

/* One message whose subject and text are in CHARSET (bytes that are
 * letters in each). */
static void parse_in(const char *charset, const char *b64)
{
    char *m = talloc_asprintf(NULL, "From: a@example.com\nSubject: =?%s?B?%s?=\n"
                              "Content-Type: text/plain; charset=%s\n\nabc\n",
                              charset, b64, charset);
    struct message_parsed *p;

    ck_assert_int_eq(message_parse(m, m, strlen(m), &p), 0);
    ck_assert_str_ne(p->cache[XAP_CACHE_SUBJECT], "");
    talloc_free(m);
}

/* A process that parses many messages keeps the conversion modules of
 * the common charsets loaded (message-charsets.c): after a hundred
 * messages in KOI8-R, messages in three other charsets do not get its
 * module unloaded, as glibc does once a few other modules' descriptors
 * are closed after its last one.  Where iconv has no such module (a
 * libc with the charsets built in) there is nothing to keep. */
START_TEST(charset_modules_stay_loaded)
{
    parse_in("koi8-r", "8MLJ18XU");
    if (!module_loaded("KOI8-R")) {
        fprintf(stderr, "# SKIP no KOI8-R conversion module loaded by iconv here\n");
        return;
    }
    for (int i = 0; i < 100; i++)
        parse_in("koi8-r", "8MLJ18XU");
    for (int i = 0; i < 20; i++) {
        parse_in("iso-8859-15", "6Ojp");
        parse_in("iso-2022-jp", "GyRCJCIbKEI=");
        parse_in("gbk", "xOO6ww==");
        parse_in("windows-1251", "7/Do4uXy");
    }
    ck_assert_msg(module_loaded("KOI8-R"), "the KOI8-R module was unloaded");
}
END_TEST

START_TEST(header_fields_are_counted)
{
    static const char m[] =
        "From: a@example.com\n"
        "Subject: folded\n"
        "  continued\n"                     /* not a field of its own */
        "Content-Type: multipart/mixed; boundary=b\n"
        "\n"
        "preamble: not a header\n"
        "--b\n"                             /* 4: a part */
        "Content-Type: text/plain\n"        /* 5 */
        "\n"
        "body: not a header\n"
        "--b--\n"                           /* 6 */
        "epilogue\n";                       /* 7: counted, a superset */
    size_t cut;

    ck_assert_uint_eq(message_header_fields(m, strlen(m), 100, &cut), 7);
    ck_assert_uint_eq(cut, strlen(m));
    ck_assert_uint_eq(message_header_fields(m, strlen(m), 3, &cut), 4);
    ck_assert_str_eq(m + cut, strstr(m, "--b\n"));
    ck_assert_uint_eq(message_header_fields(m, strlen(m), 1, &cut), 2);
    ck_assert_str_eq(m + cut, strstr(m, "Subject"));
}
END_TEST

static long maxrss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* 2,000,000 short header fields (24 MB) cost GMime about 1 GB when all
 * are parsed; past max_header_fields (100,000 by default) they are not.
 * A bound with a wide margin: the peak grows by less than 300 MB. */
START_TEST(many_header_fields_cost_bounded_memory)
{
    static const char field[] = "X-Field: v\n";
    const size_t n = 2000000, fl = sizeof field - 1;
    const char *head = "From: f@example.com\nSubject: fields\n";
    size_t hl = strlen(head), len = hl + n * fl + 6;
    char *m = talloc_size(NULL, len + 1);
    struct message_parsed *p;
    long before;

    memcpy(m, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(m + hl + i * fl, field, fl);
    memcpy(m + hl + n * fl, "\nbody\n", 7);
    before = maxrss_kb();
    ck_assert_int_eq(message_parse(m, m, len, &p), 0);
    ck_assert_str_eq(p->cache[XAP_CACHE_SUBJECT], "fields");
    ck_assert_uint_eq(p->header_size, len - 5);
    ck_assert_str_eq(find(texts(m, m, len, NULL), MESSAGE_TEXT_SUBJECT, 0), "fields");
    ck_assert_int_lt(maxrss_kb() - before, 300 * 1024);
    talloc_free(m);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("message");
    TCase *tc;

    message_init();
    tc = tcase_create("crafted");
    tcase_add_test(tc, guid_is_sha1);
    tcase_add_test(tc, guid_from_hex);
    tcase_add_test(tc, guid_order);
    tcase_add_test(tc, encoded_words_and_8bit_headers);
    tcase_add_test(tc, alternative_plain_and_html);
    tcase_add_test(tc, attachment_and_rfc822);
    tcase_add_test(tc, header_size_and_date);
    tcase_add_test(tc, empty_and_garbage);
    tcase_add_test(tc, deep_nesting_is_bounded);
    tcase_add_test(tc, many_parts_are_bounded);
    tcase_add_test(tc, header_fields_are_counted);
    tcase_add_test(tc, charset_modules_stay_loaded);
    suite_add_tcase(s, tc);

    /* Its own case and time: without the bound it takes seconds and
     * should fail on its memory, not on the default timeout. */
    tc = tcase_create("bounds");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, many_header_fields_cost_bounded_memory);
    suite_add_tcase(s, tc);

    tc = tcase_create("corpus");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, corpus);
    suite_add_tcase(s, tc);
    return s;
}
