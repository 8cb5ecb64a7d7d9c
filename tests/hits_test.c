/* hits_test - what a hit says beyond the search document (search.h "Hit
 * details"): addresses and ids from the cache, size, internal date, the
 * live flags from the index, the message file; xap_search_hit_open(); and a
 * location expunged between the search and the read of its details. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>

#include "tests/testutil.h"
#include "xapiary/xapiary.h"
#include "xapiary/mailbox.h"
#include "xapiary/search.h"
#include "xapianlock/index.h"
#include "common/util.h"

static struct testenv *env;

static void setup(void)
{
    env = testenv_new("defaultsearchtier: t1\n");
    ck_assert_int_eq(xap_init(env->config), 0);
}

static void teardown(void)
{
    xap_done();
    testenv_free(env);
}

static const char reply[] =
    "From: Bob <bob@example.com>\n"
    "To: Alice <alice@example.com>, carol@example.com\n"
    "Cc: =?UTF-8?Q?Ren=C3=A9?= <rene@example.com>\n"
    "Subject: Re: razor blades\n"
    "Date: Tue, 01 Mar 2022 12:00:00 +0000\n"
    "Message-ID: <reply-1@example.com>\n"
    "In-Reply-To: <orig-1@example.com>\n"
    "\n"
    "Bob's razor arrived sharp.\n";

static const char plain[] =
    "From: dave@example.com\n"
    "Subject: no razor here\n"
    "Date: Wed, 02 Mar 2022 12:00:00 +0000\n"
    "\n"
    "Nothing about razors at all.\n";

/* Appends MSG to NAME (created if needed) with FLAGS and INTERNALDATE. */
static uint32_t append(const char *name, const char *msg, uint32_t flags, int64_t idate)
{
    struct xap_mailbox *mb = NULL;
    uint32_t uid = 0;
    int r = xap_mailbox_open_iwl(name, &mb);

    if (r == XAP_IMAP_MAILBOX_NONEXISTENT)
        r = xap_mailbox_create(name, NULL, NULL, 0, &mb);
    ck_assert_int_eq(r, 0);
    ck_assert_int_eq(xap_mailbox_append_message(mb, msg, strlen(msg), idate, flags, &uid), 0);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_close(&mb);
    return uid;
}

static void index_mailbox(const char *name)
{
    struct indexer *ix = NULL;

    ck_assert_int_eq(indexer_begin(NULL, "h", 0, &ix), 0);
    ck_assert_int_eq(indexer_mailbox(ix, name), 0);
    ck_assert_int_eq(indexer_flush(ix), 0);
    ck_assert_int_eq(indexer_end(&ix), 0);
}

static struct xap_search_result *run(struct xap_search_session *ss, const char *q)
{
    struct xap_search_result *res = NULL;
    char *err = NULL;

    ck_assert_msg(xap_search_run(ss, q, NULL, &res, &err) == 0, "%s: %s", q, err ? err : "");
    return res;
}

/* Sets UID's system flags to FLAGS. */
static void set_flags(const char *name, uint32_t uid, uint32_t flags)
{
    struct xap_mailbox *mb = NULL;
    struct xap_index_record rec;

    ck_assert_int_eq(xap_mailbox_open_iwl(name, &mb), 0);
    ck_assert_int_eq(xap_mailbox_find_uid(mb, uid, &rec), 0);
    rec.system_flags = flags;
    ck_assert_int_eq(xap_mailbox_rewrite_index_record(mb, &rec), 0);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_close(&mb);
}

START_TEST(details_from_the_mailbox)
{
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res;
    const struct xap_search_hit *h;
    uint32_t uid = append("user.h", reply, XAP_FLAG_SEEN | XAP_FLAG_ANSWERED, 1600000000);
    char *buf = NULL;
    size_t len = 0;

    append("user.h", plain, 0, 0);
    index_mailbox("user.h");
    ck_assert_int_eq(xap_search_open(NULL, "h", &ss), 0);

    res = run(ss, "from:bob razor");
    ck_assert_uint_eq(res->nhits, 1);
    h = &res->hits[0];
    ck_assert_uint_eq(h->uid, uid);
    ck_assert_str_eq(h->to, "Alice <alice@example.com>, carol@example.com");
    ck_assert_str_eq(h->cc, "René <rene@example.com>");
    ck_assert_str_eq(h->message_id, "<reply-1@example.com>");
    ck_assert_str_eq(h->in_reply_to, "<orig-1@example.com>");
    ck_assert_uint_eq(h->size, strlen(reply));
    ck_assert_int_eq(h->internaldate, 1600000000);
    ck_assert_uint_eq(h->flags, XAP_FLAG_SEEN | XAP_FLAG_ANSWERED);
    ck_assert_ptr_nonnull(h->keywords);
    ck_assert_ptr_null(h->keywords[0]);
    /* the path is the message's file */
    ck_assert_int_eq(read_file(NULL, h->path, &buf, &len), 0);
    ck_assert_uint_eq(len, strlen(reply));
    ck_assert_mem_eq(buf, reply, len);
    talloc_free(buf);

    /* a message without them: "" rather than NULL */
    res = run(ss, "from:dave");
    ck_assert_uint_eq(res->nhits, 1);
    ck_assert_str_eq(res->hits[0].cc, "");
    ck_assert_str_eq(res->hits[0].in_reply_to, "");
    ck_assert_str_eq(res->hits[0].message_id, "");

    /* XAP_SEARCH_LOCATIONS_ONLY: the same locations, no details */
    {
        struct xap_search_options o = { XAP_SEARCH_SORT_DATE_DESC, 0, 0,
                                        XAP_SEARCH_LOCATIONS_ONLY };
        struct xap_search_result *lo = NULL;
        char *err = NULL;

        ck_assert_int_eq(xap_search_run(ss, "from:bob razor", &o, &lo, &err), 0);
        ck_assert_uint_eq(lo->nhits, 1);
        ck_assert_uint_eq(lo->hits[0].uid, uid);
        ck_assert_str_eq(lo->hits[0].mailbox, "user.h");
        ck_assert_str_eq(lo->hits[0].to, "");
        ck_assert_str_eq(lo->hits[0].path, "");
        ck_assert_uint_eq(lo->hits[0].size, 0);
        ck_assert_ptr_null(lo->hits[0].keywords[0]);
    }

    /* flags are the live ones, read at each search, with no reindex */
    set_flags("user.h", uid, XAP_FLAG_FLAGGED);
    res = run(ss, "from:bob");
    ck_assert_uint_eq(res->hits[0].flags, XAP_FLAG_FLAGGED);
    xap_search_close(&ss);
}
END_TEST

START_TEST(hit_open_and_expunge)
{
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res;
    struct xap_mailbox *mb = NULL;
    uint32_t uid = append("user.h", reply, 0, 0);
    char buf[4096];
    ssize_t n;
    int fd = -1;

    append("user.h.Other", reply, 0, 0);   /* a second copy */
    index_mailbox("user.h");
    index_mailbox("user.h.Other");
    ck_assert_int_eq(xap_search_open(NULL, "h", &ss), 0);
    res = run(ss, "razor");
    ck_assert_uint_eq(res->total, 2);
    ck_assert_int_eq(xap_search_hit_open(ss, &res->hits[0], &fd), 0);
    n = read(fd, buf, sizeof buf);
    ck_assert_int_eq(n, (ssize_t)strlen(reply));
    ck_assert_mem_eq(buf, reply, (size_t)n);
    close(fd);

    /* expunged after the search: xap_search_hit_open says so */
    for (size_t i = 0; i < res->nhits; i++) {
        if (strcmp(res->hits[i].mailbox, "user.h"))
            continue;
        ck_assert_int_eq(xap_mailbox_open_iwl("user.h", &mb), 0);
        ck_assert_int_eq(xap_mailbox_expunge_uid(mb, uid), 0);
        ck_assert_int_eq(xap_mailbox_commit(mb), 0);
        xap_mailbox_close(&mb);
        ck_assert_int_eq(xap_search_hit_open(ss, &res->hits[i], &fd), XAP_IMAP_NOTFOUND);
        ck_assert_int_eq(fd, -1);
    }
    /* and a search shows the other copy only */
    res = run(ss, "razor");
    ck_assert_uint_eq(res->total, 1);
    ck_assert_str_eq(res->hits[0].mailbox, "user.h.Other");
    xap_search_close(&ss);
}
END_TEST

static const char japanese[] =
    "From: tanaka@example.jp\n"
    "Subject: =?UTF-8?B?5Lya6K2w?=\n"
    "Date: Thu, 03 Mar 2022 12:00:00 +0000\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "来週は東京オフィスで会議があります。\n";

START_TEST(snippets_mark_the_matches)
{
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res;
    struct xap_search_snippet_options brackets = { "[", "]", "...", 0 };
    struct xap_mailbox *mb = NULL;
    char **snips = NULL;
    size_t which[2] = { 1, 0 };
    uint32_t uid;

    uid = append("user.h", reply, 0, 0);
    append("user.h", plain, 0, 0);
    append("user.h", japanese, 0, 0);
    index_mailbox("user.h");
    ck_assert_int_eq(xap_search_open(NULL, "h", &ss), 0);

    /* stemmed: razor marks razors; the defaults are <mark> */
    res = run(ss, "razor");
    ck_assert_uint_eq(res->nhits, 2);
    ck_assert_int_eq(xap_search_snippets(ss, res, NULL, 2, NULL, &snips), 0);
    ck_assert_str_eq(res->hits[0].from, "dave@example.com");
    ck_assert_str_eq(snips[0], "Nothing about <mark>razors</mark> at all.");
    ck_assert_str_eq(snips[1], "Bob's <mark>razor</mark> arrived sharp.");

    /* chosen hits, in the order asked, with the caller's markers; words
     * of other fields (from:bob) are not marked in the body */
    res = run(ss, "from:bob OR razor");
    ck_assert_int_eq(xap_search_snippets(ss, res, which, 2, &brackets, &snips), 0);
    ck_assert_str_eq(snips[0], "Bob's [razor] arrived sharp.");
    ck_assert_str_eq(snips[1], "Nothing about [razors] at all.");
    ck_assert_int_eq(xap_search_snippets(ss, res, (size_t[]){ 2 }, 1, NULL, &snips),
                     XAP_IMAP_INVALID_ARGUMENT);

    /* CJK: the word as one mark */
    res = run(ss, "東京");
    ck_assert_uint_eq(res->nhits, 1);
    ck_assert_int_eq(xap_search_snippets(ss, res, NULL, 1, NULL, &snips), 0);
    ck_assert_msg(strstr(snips[0], "来週は<mark>東京</mark>オフィスで会議"), "%s", snips[0]);

    /* a hit expunged since the search: NULL */
    res = run(ss, "sharp");
    ck_assert_uint_eq(res->nhits, 1);
    ck_assert_int_eq(xap_mailbox_open_iwl("user.h", &mb), 0);
    ck_assert_int_eq(xap_mailbox_expunge_uid(mb, uid), 0);
    ck_assert_int_eq(xap_mailbox_commit(mb), 0);
    xap_mailbox_close(&mb);
    ck_assert_int_eq(xap_search_snippets(ss, res, NULL, 1, NULL, &snips), 0);
    ck_assert_ptr_null(snips[0]);
    xap_search_close(&ss);
}
END_TEST

START_TEST(damaged_cache_fails_the_search)
{
    struct xap_search_session *ss = NULL;
    struct xap_search_result *res = NULL;
    char *dir, *path, *err = NULL, *buf = NULL, *at;
    size_t len = 0;
    FILE *f;

    append("user.h", reply, 0, 0);
    index_mailbox("user.h");
    ck_assert_int_eq(xap_search_open(NULL, "h", &ss), 0);
    res = run(ss, "razor");
    /* the cache file beside the message: its subject text changed, the
     * CRC no longer matches */
    dir = talloc_strndup(NULL, res->hits[0].path, strrchr(res->hits[0].path, '/') -
                                                   res->hits[0].path);
    path = talloc_asprintf(dir, "%s/xapiary.cache.1", dir);
    ck_assert_int_eq(read_file(dir, path, &buf, &len), 0);
    ck_assert_ptr_nonnull(at = memmem(buf, len, "razor blades", 12));
    at[0] = 'R';
    ck_assert_ptr_nonnull(f = fopen(path, "r+"));
    ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
    fclose(f);
    /* an error, never a hit without its details */
    ck_assert_int_eq(xap_search_run(ss, "razor", NULL, &res, &err), XAP_IMAP_MAILBOX_CHECKSUM);
    ck_assert_ptr_null(res);
    talloc_free(dir);
    xap_search_close(&ss);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("hits");
    TCase *tc = tcase_create("hits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, details_from_the_mailbox);
    tcase_add_test(tc, hit_open_and_expunge);
    tcase_add_test(tc, snippets_mark_the_matches);
    tcase_add_test(tc, damaged_cache_fails_the_search);
    suite_add_tcase(s, tc);
    return s;
}
